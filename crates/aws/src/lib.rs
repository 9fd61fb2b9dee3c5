//! Rampart's AWS access layer and collectors.
//!
//! * [`access`] — the one place SDK clients are configured.
//! * [`agentless`] — the Servers plan's agentless scanning: snapshots of
//!   instances' volumes made, read and deleted.
//! * [`credentials`] — credential sources: federation (web identity),
//!   classic keys and roles, the default chain.
//! * [`scan`] — runs collectors across regions with bounded concurrency.
//! * [`collectors`] — one collector per service, producing assets.
//! * [`error`] — typed errors and the classification of failed calls.
//! * [`pipeline`] — log pipelines Rampart provisions and consumes (the
//!   Containers plan's EKS audit-log pipeline).

pub mod access;
pub mod agentless;
pub mod collectors;
pub mod credentials;
pub mod error;
pub mod pipeline;
pub mod rate;
pub mod run_command;
pub mod scan;
pub mod sql_discovery;

pub use access::{AwsAccess, AwsSettings, CallStats, CallerIdentity, RegionList, resolve_regions};
pub use credentials::{
    AssumeRoleCredentials, CredentialSource, ExchangeError, RefreshOptions, TokenError,
    TokenSource, WebIdentityCredentials,
};
pub use error::{AccessError, CallFailure};
pub use scan::{AccountScan, CollectContext, NoProgress, Progress, ScanPlan, collect_account};
