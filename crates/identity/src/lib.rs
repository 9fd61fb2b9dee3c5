//! Rampart's OpenID Connect issuer (design §4).
//!
//! Rampart connects to AWS accounts without stored secrets: it is its own
//! OIDC identity provider. This crate owns the issuer: its RSA signing keys
//! in the keys directory (owner-only files, never logged) or in another
//! [`IssuerStorage`] (Rampart's store, for replicas), the discovery
//! document and JWKS it publishes, RS256 tokens for a connector and a plan's
//! audience, key rotation, and the TLS thumbprint IAM asks for.
//!
//! ```no_run
//! # fn main() -> Result<(), rampart_identity::IdentityError> {
//! use rampart_identity::Issuer;
//! let issuer = Issuer::open(std::path::Path::new("/var/lib/rampart/keys"))?;
//! let minted = issuer.mint("connector-id", "rampart-cspm", time::OffsetDateTime::now_utc())?;
//! # let _ = minted.token;
//! # Ok(()) }
//! ```

mod error;
mod files;
mod issuer;
mod issuer_url;
mod key;
mod storage;
mod thumbprint;

pub use error::IdentityError;
pub use issuer::{
    CLOCK_SKEW_MARGIN, DISCOVERY_PATH, Issuer, JWKS_PATH, KeyInfo, MintedToken, STATE_FILE,
    TOKEN_LIFETIME, key_path,
};
pub use issuer_url::normalize_issuer_url;
pub use key::KEY_BITS;
pub use storage::{IssuerStorage, KeysDir, StoredIssuer, StoredKey};
pub use thumbprint::{THUMBPRINT_TIMEOUT, thumbprint, thumbprint_with_timeout};
