//! Alpine's version ordering (apk-tools' `apk version -t`), a Gentoo-style
//! grammar: `{digit}{.digit}…{letter}{_suffix{number}}…{-r{number}}`.
//!
//! A version is read as a sequence of typed tokens. Two versions compare
//! token by token while both tokens have the same type and value. Numbers
//! after a `.` with leading zeros compare as fractions (`1.02 < 1.2`). Pre-
//! release suffixes (`_alpha`, `_beta`, `_pre`, `_rc`) sort before the bare
//! version and post-release ones (`_cvs`, `_svn`, `_git`, `_hg`, `_p`)
//! after. When one version runs out first, the longer one is newer unless
//! what it has left is a pre-release suffix. Text that breaks the grammar
//! ends the comparison there, as apk does.

use std::cmp::Ordering;

/// Token kinds, in apk's order: a version may only move to a later kind,
/// with the few exceptions in [`Cursor::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    Revision,
    End,
}

const PRE_RELEASE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_RELEASE: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// A position in a version string and the kind of the next token.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a> {
    rest: &'a [u8],
    kind: Kind,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.as_bytes(),
            kind: Kind::Digit,
        }
    }

    fn skip(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// Reads the next token's value and moves past it.
    fn value(&mut self) -> i64 {
        if self.rest.is_empty() {
            self.kind = Kind::End;
            return 0;
        }
        let mut forced = None;
        let mut taken = 0;
        let value = match self.kind {
            Kind::DigitOrZero if self.rest.first() == Some(&b'0') => {
                // Leading zeros after a dot: the more zeros, the smaller.
                taken = self.rest.iter().take_while(|&&c| c == b'0').count();
                forced = Some(Kind::Digit);
                -i64::try_from(taken).unwrap_or(i64::MAX)
            }
            Kind::DigitOrZero | Kind::Digit | Kind::SuffixNumber | Kind::Revision => {
                let mut v: i64 = 0;
                for c in self.rest.iter().take_while(|c| c.is_ascii_digit()) {
                    v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
                    taken += 1;
                }
                v
            }
            Kind::Letter => {
                taken = 1;
                self.rest.first().copied().map_or(0, i64::from)
            }
            Kind::Suffix => {
                let starts = |s: &str| self.rest.starts_with(s.as_bytes());
                if let Some((i, s)) = PRE_RELEASE.iter().enumerate().find(|(_, s)| starts(s)) {
                    taken = s.len();
                    i64::try_from(i).unwrap_or(0) - 4
                } else if let Some((i, s)) = POST_RELEASE.iter().enumerate().find(|(_, s)| starts(s)) {
                    taken = s.len();
                    i64::try_from(i).unwrap_or(0)
                } else {
                    self.kind = Kind::Invalid;
                    return -1;
                }
            }
            Kind::Invalid | Kind::End => {
                self.kind = Kind::Invalid;
                return -1;
            }
        };
        self.skip(taken);
        if self.rest.is_empty() {
            self.kind = Kind::End;
        } else if let Some(kind) = forced {
            self.kind = kind;
        } else {
            self.advance();
        }
        value
    }

    /// Decides the kind of the next token from the separator that follows.
    fn advance(&mut self) {
        let first = self.rest.first().copied();
        let next = match (self.kind, first) {
            (_, None) => Kind::End,
            (Kind::Digit | Kind::DigitOrZero, Some(c)) if c.is_ascii_lowercase() => Kind::Letter,
            (Kind::Letter, Some(c)) if c.is_ascii_digit() => Kind::Digit,
            (Kind::Suffix, Some(c)) if c.is_ascii_digit() => Kind::SuffixNumber,
            (_, Some(c)) => {
                let kind = match c {
                    b'.' => Kind::DigitOrZero,
                    b'_' => Kind::Suffix,
                    b'-' if self.rest.get(1) == Some(&b'r') => {
                        self.skip(1);
                        Kind::Revision
                    }
                    _ => Kind::Invalid,
                };
                self.skip(1);
                kind
            }
        };
        let allowed_back = matches!(
            (next, self.kind),
            (Kind::DigitOrZero, Kind::Digit)
                | (Kind::Suffix, Kind::SuffixNumber)
                | (Kind::Digit, Kind::Letter)
        );
        self.kind = if next < self.kind && !allowed_back {
            Kind::Invalid
        } else {
            next
        };
    }
}

/// Orders two apk version strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (mut ca, mut cb) = (Cursor::new(a.trim()), Cursor::new(b.trim()));
    let (mut va, mut vb) = (0, 0);
    while ca.kind == cb.kind && !matches!(ca.kind, Kind::End | Kind::Invalid) && va == vb {
        va = ca.value();
        vb = cb.value();
    }
    match va.cmp(&vb) {
        Ordering::Equal => {}
        other => return other,
    }
    if ca.kind == cb.kind {
        return Ordering::Equal;
    }
    // One version goes on: it is newer, unless what follows is a
    // pre-release suffix.
    let pre_release = |cursor: Cursor<'_>| {
        let mut peek = cursor;
        cursor.kind == Kind::Suffix && peek.value() < 0
    };
    if pre_release(ca) {
        return Ordering::Less;
    }
    if pre_release(cb) {
        return Ordering::Greater;
    }
    // A later kind means the version ended sooner.
    ca.kind.cmp(&cb.kind).reverse()
}
