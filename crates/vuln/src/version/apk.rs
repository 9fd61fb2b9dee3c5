//! Alpine's version ordering, as current apk-tools (`apk version -t`)
//! does it. The grammar is `digit{.digit}…{letter}{_suffix{number}}…{~hash}{-r{number}}`.
//!
//! A version is read as a sequence of typed tokens, compared pairwise
//! while both sides have a token of the same kind:
//! - numbers compare numerically, except that a dotted number where either
//!   side has a leading zero compares as text (`1.02 < 1.1`, the Gentoo
//!   rule for fractions);
//! - letters by their character, suffixes by rank (`_alpha < _beta < _pre
//!   < _rc <` no suffix `< _cvs < _svn < _git < _hg < _p`), commit hashes
//!   as text.
//!
//! When the kinds differ, the version that goes on with a pre-release
//! suffix is older (`1.0_rc1 < 1.0`); otherwise the one whose next token
//! is of an earlier kind is newer (`1.0 < 1.0.1`, `1.0 < 1.0-r1`, and a
//! version that breaks the grammar sorts above one that ended cleanly).

use std::cmp::Ordering;

/// Token kinds, in apk's order; the order decides differing shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
    Invalid,
}

/// Suffix ranks: pre-releases below [`NO_SUFFIX`], post-releases above.
const SUFFIXES: [(&str, u8); 9] = [
    ("alpha", 1),
    ("beta", 2),
    ("pre", 3),
    ("rc", 4),
    ("cvs", 6),
    ("svn", 7),
    ("git", 8),
    ("hg", 9),
    ("p", 10),
];
const NO_SUFFIX: u8 = 5;

/// One token: its kind, its text, its number (digits) or suffix rank.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a [u8],
    number: u64,
    suffix: u8,
}

/// Reads tokens off a version string.
struct Tokens<'a> {
    rest: &'a [u8],
    current: Token<'a>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        let mut tokens = Self {
            rest: text.as_bytes(),
            current: Token {
                kind: Kind::InitialDigit,
                text: &[],
                number: 0,
                suffix: 0,
            },
        };
        tokens.digits(Kind::InitialDigit);
        tokens
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let n = self.rest.iter().take_while(|&&c| keep(c)).count();
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        taken
    }

    fn digits(&mut self, kind: Kind) {
        let text = self.take_while(|c| c.is_ascii_digit());
        let number = text.iter().fold(0_u64, |n, &c| {
            n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
        });
        self.current = Token {
            kind: if text.is_empty() { Kind::Invalid } else { kind },
            text,
            number,
            suffix: 0,
        };
    }

    fn invalid(&mut self) {
        self.current.kind = Kind::Invalid;
    }

    /// Moves to the next token, checking that it may follow the current one.
    fn advance(&mut self) {
        let prev = self.current.kind;
        let Some(&first) = self.rest.first() else {
            self.current.kind = Kind::End;
            return;
        };
        match first {
            b'a'..=b'z' => {
                if prev > Kind::Digit {
                    return self.invalid();
                }
                let (text, rest) = self.rest.split_at(1);
                self.rest = rest;
                self.current = Token {
                    kind: Kind::Letter,
                    text,
                    number: 0,
                    suffix: 0,
                };
            }
            b'.' | b'0'..=b'9' => {
                if first == b'.' {
                    if prev > Kind::Digit {
                        return self.invalid();
                    }
                    self.rest = self.rest.get(1..).unwrap_or_default();
                }
                let kind = match prev {
                    Kind::InitialDigit | Kind::Digit => Kind::Digit,
                    Kind::Suffix => Kind::SuffixNumber,
                    _ => return self.invalid(),
                };
                self.digits(kind);
            }
            b'_' => {
                if prev > Kind::SuffixNumber {
                    return self.invalid();
                }
                self.rest = self.rest.get(1..).unwrap_or_default();
                let text = self.take_while(|c| c.is_ascii_lowercase());
                let Some(&(_, rank)) = SUFFIXES.iter().find(|(s, _)| s.as_bytes() == text) else {
                    return self.invalid();
                };
                self.current = Token {
                    kind: Kind::Suffix,
                    text,
                    number: 0,
                    suffix: rank,
                };
            }
            b'~' => {
                if prev >= Kind::CommitHash {
                    return self.invalid();
                }
                self.rest = self.rest.get(1..).unwrap_or_default();
                let text = self.take_while(|c| c.is_ascii_hexdigit());
                if text.is_empty() {
                    return self.invalid();
                }
                self.current = Token {
                    kind: Kind::CommitHash,
                    text,
                    number: 0,
                    suffix: 0,
                };
            }
            b'-' => {
                if prev >= Kind::Revision || self.rest.get(1) != Some(&b'r') {
                    return self.invalid();
                }
                self.rest = self.rest.get(2..).unwrap_or_default();
                self.digits(Kind::Revision);
            }
            _ => self.invalid(),
        }
    }
}

/// Compares two tokens of the same kind.
fn compare_tokens(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        Kind::Digit if a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0') => {
            a.text.cmp(b.text)
        }
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNumber | Kind::Revision => {
            a.number.cmp(&b.number)
        }
        Kind::Letter => a.text.cmp(b.text),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::CommitHash | Kind::End | Kind::Invalid => a.text.cmp(b.text),
    }
}

/// Orders two apk version strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(a.trim()), Tokens::new(b.trim()));
    while ta.current.kind == tb.current.kind && ta.current.kind < Kind::End {
        match compare_tokens(&ta.current, &tb.current) {
            Ordering::Equal => {}
            other => return other,
        }
        ta.advance();
        tb.advance();
    }
    let (ka, kb) = (ta.current.kind, tb.current.kind);
    if ka == kb {
        return Ordering::Equal;
    }
    if ka == Kind::Suffix && ta.current.suffix < NO_SUFFIX {
        return Ordering::Less;
    }
    if kb == Kind::Suffix && tb.current.suffix < NO_SUFFIX {
        return Ordering::Greater;
    }
    // The version whose next token is of a later kind ended sooner.
    kb.cmp(&ka)
}
