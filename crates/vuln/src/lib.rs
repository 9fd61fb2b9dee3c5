//! Rampart's vulnerability database logic, pure (no network, no store):
//!
//! - [`osv`]: the OSV record format, and [`Advisory`], one record's entry
//!   for one package in one ecosystem (what the store keeps);
//! - [`read`]: reading records from OSV `all.zip` dumps and directories;
//! - [`version`]: version ordering as dpkg, rpm and apk do it;
//! - [`ecosystem`]: which OSV ecosystems describe an operating system;
//! - [`severity`]: an advisory's severity from its record;
//! - [`index`]: [`VulnIndex`], matching installed packages.
//!
//! See the crate README for the public API in one page.

pub mod ecosystem;
pub mod index;
pub mod osv;
pub mod read;
pub mod severity;
pub mod version;

pub use ecosystem::{EcosystemSelection, ecosystems_for, os_release_of_platform};
pub use index::VulnIndex;
pub use osv::{Advisory, OsvRecord, ecosystem_source};
pub use read::{OsvEntry, OsvReader};
pub use version::VersionScheme;

/// Vulnerability database errors.
#[derive(Debug, thiserror::Error)]
pub enum VulnError {
    /// A path could not be read (missing, unreadable, a corrupt archive).
    #[error("cannot read `{path}`: {reason}")]
    Read {
        /// The path (or `archive!entry`).
        path: String,
        /// Why.
        reason: String,
    },
    /// A stored advisory could not be parsed.
    #[error("corrupt stored advisory: {reason}")]
    Stored {
        /// Why.
        reason: String,
    },
    /// No OSV ecosystem describes the operating system.
    #[error("no vulnerability data describes operating system `{os}`")]
    UnsupportedOs {
        /// `id VERSION_ID`.
        os: String,
    },
}
