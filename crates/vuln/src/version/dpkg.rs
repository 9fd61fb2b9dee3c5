//! dpkg's version ordering (`deb-version(7)`): the epoch numerically, then
//! the upstream version and the Debian revision, each compared in
//! alternating runs of non-digits (`~` before everything, even the end;
//! letters before other characters) and digits (numerically).

use std::cmp::Ordering;

/// A version split as dpkg splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebVersion<'a> {
    /// The epoch (`0` when absent or not a number).
    pub epoch: u64,
    /// The upstream version.
    pub upstream: &'a str,
    /// The Debian revision (after the last `-`), empty when absent.
    pub revision: &'a str,
}

impl<'a> DebVersion<'a> {
    /// Splits `text`: the epoch before the first `:`, the revision after
    /// the last `-`. Surrounding spaces are ignored, as dpkg does.
    pub fn parse(text: &'a str) -> Self {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((epoch, rest))
                if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (epoch.parse().unwrap_or(u64::MAX), rest)
            }
            _ => (0, text),
        };
        let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
        Self {
            epoch,
            upstream,
            revision,
        }
    }
}

impl Ord for DebVersion<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(self.upstream, other.upstream))
            .then_with(|| compare_part(self.revision, other.revision))
    }
}

impl PartialOrd for DebVersion<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders two dpkg version strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    DebVersion::parse(a).cmp(&DebVersion::parse(b))
}

/// The weight of one character in a non-digit run: the end of the string
/// and digits weigh 0, `~` less, letters their code, anything else more
/// than any letter.
fn weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares one part (upstream version or revision).
fn compare_part(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let is_digit = |s: &[u8]| s.first().is_some_and(u8::is_ascii_digit);
    while !a.is_empty() || !b.is_empty() {
        // A run of non-digits, character by character.
        while (!a.is_empty() && !is_digit(a)) || (!b.is_empty() && !is_digit(b)) {
            let (wa, wb) = (weight(a.first().copied()), weight(b.first().copied()));
            if wa != wb {
                return wa.cmp(&wb);
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
        }
        // A run of digits, numerically: leading zeros do not count, the
        // longer run is the larger, else the first differing digit decides.
        let skip_zeros = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
        a = a.get(skip_zeros(a)..).unwrap_or_default();
        b = b.get(skip_zeros(b)..).unwrap_or_default();
        let run = |s: &[u8]| -> usize { s.iter().take_while(|c| c.is_ascii_digit()).count() };
        let (ra, rb) = (run(a), run(b));
        if ra != rb {
            return ra.cmp(&rb);
        }
        let (da, db) = (
            a.get(..ra).unwrap_or_default(),
            b.get(..rb).unwrap_or_default(),
        );
        match da.cmp(db) {
            Ordering::Equal => {}
            other => return other,
        }
        a = a.get(ra..).unwrap_or_default();
        b = b.get(rb..).unwrap_or_default();
    }
    Ordering::Equal
}
