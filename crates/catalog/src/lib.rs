//! Rampart's catalog and everything computed from it.
//!
//! * [`metadata`] — recommendations as data (`data/recommendations/*.toml`):
//!   id, title, severity, description, remediation, resource type, security
//!   control, standard mappings.
//! * [`standards`] — the standards and their controls (`data/standards/*.tsv`)
//!   and Defender's security controls with their maximum points.
//! * [`doc`] and [`inventory`] — assets as evaluation keeps them: compact
//!   JSON documents, indexed.
//! * [`rules`] — the logic: one plain function per recommendation over
//!   [`view`]s of assets, registered in one list.
//! * [`evaluate`] — pure: assets in, assessments out (collected, or handed
//!   one at a time to a sink).
//! * [`tally`] — counters of assessments; [`score`] and [`compliance`] —
//!   posture from them.
//! * [`exemptions`] — accepted risks, from YAML.

pub mod compliance;
pub mod doc;
pub mod evaluate;
pub mod exemptions;
pub mod inventory;
pub mod metadata;
pub mod rules;
pub mod score;
pub mod servers;
pub mod sql;
pub mod standards;
pub mod tally;
pub mod view;

pub use doc::{Doc, Node};
pub use evaluate::evaluate;
pub use inventory::{AssetRef, Inventory};
pub use metadata::{Catalog, Recommendation};

/// Catalog errors.
///
/// Messages: lower case, values in backticks, no trailing period.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A recommendations data file does not parse.
    #[error("recommendations file `{file}`: {reason}")]
    Recommendations {
        /// The file.
        file: String,
        /// The parse error.
        reason: String,
    },
    /// A standards data file does not parse.
    #[error("standard file `{file}` line {line}: {reason}")]
    Standard {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An exemptions file does not parse or is invalid.
    #[error("exemptions: {0}")]
    Exemptions(String),
}
