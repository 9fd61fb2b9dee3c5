//! Rampart's AWS access layer and collectors.
//!
//! * [`access`] — the one place SDK clients are configured.
//! * [`scan`] — runs collectors across regions with bounded concurrency.
//! * [`collectors`] — one collector per service, producing assets.
//! * [`error`] — typed errors and the classification of failed calls.

pub mod access;
pub mod collectors;
pub mod error;
pub mod scan;

pub use access::{AwsAccess, AwsSettings, CallStats, CallerIdentity, RegionList, resolve_regions};
pub use error::{AccessError, CallFailure};
pub use scan::{AccountScan, CollectContext, NoProgress, Progress, ScanPlan, collect_account};
