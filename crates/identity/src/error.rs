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
    /// `init` found an issuer in the keys directory already.
    #[error("an issuer already exists in `{}`", .0.display())]
    AlreadyInitialized(PathBuf),
    /// There is no issuer in the keys directory.
    #[error("no issuer in `{}`", .0.display())]
    NotInitialized(PathBuf),
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
    /// The issuer's state or one of its key files cannot be understood.
    #[error("corrupt issuer state in `{}`: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
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

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
