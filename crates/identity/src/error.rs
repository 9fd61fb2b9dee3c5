//! The identity crate's one error type.

use std::path::PathBuf;

/// What can go wrong while keeping the issuer or minting its tokens.
///
/// No variant carries key material: messages name files and key ids only.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// `activate` with no staged key.
    #[error("no staged key to activate; stage one first (`stage`)")]
    NothingStaged,
    /// The issuer URL is not one IAM (or an OIDC client) accepts.
    #[error("invalid issuer URL `{url}`: {reason}")]
    InvalidIssuerUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// `init` found an issuer there already (a quoted keys directory, or
    /// "the store").
    #[error("an issuer already exists in {0}")]
    AlreadyInitialized(String),
    /// There is no issuer there (a quoted keys directory, or "the store").
    #[error("no issuer in {0}")]
    NotInitialized(String),
    /// Another process changed the kept issuer since this one read it
    /// (two rotations at once, say); nothing was written.
    #[error("the issuer in {0} changed while this change was made; nothing was written, try again")]
    Changed(String),
    /// The storage that keeps the issuer failed (the store, say).
    #[error("cannot keep the issuer in {location}: {reason}")]
    Storage {
        /// Where ("the store").
        location: String,
        /// Why.
        reason: String,
    },
    /// A file or directory operation failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "create", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The issuer's state or one of its keys cannot be understood.
    #[error("corrupt issuer state in {location}: {reason}")]
    Corrupt {
        /// Where: a quoted file or directory, or "the store".
        location: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A private key file (or the keys directory) is open to other users.
    #[error("`{}` is accessible to other users (mode {mode:o}); restrict it with `chmod {wanted:o}`", path.display())]
    LoosePermissions {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The mode it should have.
        wanted: u32,
    },
    /// The cryptographic library refused an operation.
    #[error("cryptography failure: {0}")]
    Crypto(&'static str),
    /// The issuer has no key to sign with.
    #[error("the issuer has no signing key")]
    NoSigningKey,
    /// A token claim is unusable (an empty subject or audience).
    #[error("invalid token claim: {0}")]
    InvalidClaim(&'static str),
    /// The TLS certificate chain of a host could not be read.
    #[error("cannot read the TLS certificate chain of `{url}`: {reason}")]
    Thumbprint {
        /// The URL whose host was contacted.
        url: String,
        /// Why it failed.
        reason: String,
    },
}

impl IdentityError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The state or a key in `location` cannot be understood.
    pub fn corrupt(location: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            location: location.into(),
            reason: reason.into(),
        }
    }
}
