//! Connector health: for one connector, whether each requirement is met,
//! not met (with the fix) or unknown (with the reason).
//!
//! * The issuer: its discovery document answers at the public URL and names
//!   the configured issuer; the JWKS it points to has the signing key.
//! * Per enabled plan, each role Rampart assumes: the web identity exchange
//!   works and the caller identity is the connector's account.
//! * Per plan, its own requirements (CSPM: reads work; Servers: EC2
//!   instances and their SSM status; Containers: EKS clusters, endpoint
//!   access, room for the audit-log bucket, queue and delivery stream; SQL:
//!   SQL Server on EC2 or RDS Custom for SQL Server).
//! * The last scan and its coverage gaps, from the store.
//!
//! [`connector_health`] gathers the AWS and HTTP evidence; the decisions
//! are pure functions in [`decide`]. A failed call is never "met": it is
//! "unknown" with the reason, or "not met" when it was access denied.

mod aws;
mod credentials;
pub mod decide;
mod issuer;
mod scan;

use std::sync::Arc;
use std::time::Duration;

use rampart_aws::{AwsSettings, CredentialSource};
use rampart_connector::{Connector, Plan};
use rampart_identity::Issuer;
use serde::Serialize;
use time::OffsetDateTime;

pub use aws::{pipeline_input, servers_input, sql_pipeline_input};
pub use credentials::{assumed_by_rampart, role_credentials};
pub use scan::{ScanEvidence, scan_evidence};

/// Requirement names, as shown in the table and the JSON.
pub mod requirement {
    /// The issuer's discovery document answers at its public URL.
    pub const ISSUER_REACHABLE: &str = "issuer reachable";
    /// The published JWKS has the current signing key.
    pub const SIGNING_KEY_PUBLISHED: &str = "signing key published";
    /// The role's web identity exchange works.
    pub const ROLE_ASSUMABLE: &str = "role assumable";
    /// The role's caller identity is in the connector's account.
    pub const ACCOUNT_MATCHES: &str = "caller identity matches account";
    /// CSPM: cheap reads succeed.
    pub const READ_ACCESS: &str = "read access works";
    /// Servers: EC2 instances exist in the connector's regions.
    pub const EC2_INSTANCES: &str = "EC2 instances found";
    /// Servers: the instances report to Systems Manager.
    pub const SSM_STATUS: &str = "SSM status";
    /// Servers: every instance in scope has what SSM provisioning gives it
    /// (an instance profile with the SSM policy, Rampart's tags) and the
    /// inventory and patch-scan associations exist.
    pub const SSM_PROVISIONING: &str = "SSM provisioning";
    /// Containers: EKS clusters exist in the connector's regions.
    pub const EKS_CLUSTERS: &str = "EKS clusters found";
    /// Containers: the clusters' API endpoints are reachable from outside.
    pub const ENDPOINT_ACCESS: &str = "API endpoint access";
    /// Containers: the account can create the audit-log bucket.
    pub const ROOM_FOR_BUCKET: &str = "room for a bucket";
    /// Containers: the cluster's region can hold the audit-log queue.
    pub const ROOM_FOR_QUEUE: &str = "room for a queue";
    /// Containers: the cluster's region can hold the delivery stream.
    pub const ROOM_FOR_STREAM: &str = "room for a delivery stream";
    /// Containers: each cluster's audit-log pipeline (log types, log group,
    /// bucket, queue and dead-letter queue, delivery stream, notification,
    /// subscription) is provisioned as Rampart provisions it, and nothing
    /// waits in its dead-letter queue.
    pub const AUDIT_PIPELINE: &str = "audit-log pipeline";
    /// SQL: SQL Server on EC2 or RDS Custom for SQL Server exists.
    pub const SQL_SERVER: &str = "SQL Server found";
    /// SQL: one SQL Server (from the last scan) meets the plan's
    /// prerequisites (`rampart_catalog::sql`); one check per server.
    pub const SQL_PREREQUISITES: &str = "SQL Server prerequisites";
    /// SQL: each SQL Server log group's pipeline (bucket, queues, delivery
    /// stream, notification, subscription) is provisioned as Rampart
    /// provisions it, and nothing waits in its dead-letter queue.
    pub const SQL_LOG_PIPELINE: &str = "SQL Server log pipeline";
    /// The connector's last scan finished.
    pub const LAST_SCAN: &str = "last scan";
    /// The last scan has no coverage gap that needs fixing.
    pub const SCAN_GAPS: &str = "last scan gaps";

    /// Every requirement name above, to read a stored result back.
    pub const ALL: &[&str] = &[
        ISSUER_REACHABLE,
        SIGNING_KEY_PUBLISHED,
        ROLE_ASSUMABLE,
        ACCOUNT_MATCHES,
        READ_ACCESS,
        EC2_INSTANCES,
        SSM_STATUS,
        SSM_PROVISIONING,
        EKS_CLUSTERS,
        ENDPOINT_ACCESS,
        ROOM_FOR_BUCKET,
        ROOM_FOR_QUEUE,
        ROOM_FOR_STREAM,
        AUDIT_PIPELINE,
        SQL_SERVER,
        SQL_PREREQUISITES,
        SQL_LOG_PIPELINE,
        LAST_SCAN,
        SCAN_GAPS,
    ];
}

/// Whether a requirement holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// It holds.
    Met,
    /// It does not hold; `fix` says what to do.
    NotMet {
        /// What to do about it.
        fix: String,
    },
    /// It could not be told; `why` says why.
    Unknown {
        /// Why it could not be told.
        why: String,
    },
}

impl State {
    /// `met`, `not_met` or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Met => "met",
            State::NotMet { .. } => "not_met",
            State::Unknown { .. } => "unknown",
        }
    }

    /// A not-met state with this fix.
    pub fn not_met(fix: impl Into<String>) -> Self {
        State::NotMet { fix: fix.into() }
    }

    /// An unknown state for this reason.
    pub fn unknown(why: impl Into<String>) -> Self {
        State::Unknown { why: why.into() }
    }
}

/// One requirement of a connector and whether it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The plan it belongs to; `None` for the connector as a whole (issuer,
    /// last scan).
    pub plan: Option<Plan>,
    /// What is required (one of [`requirement`]'s names).
    pub requirement: &'static str,
    /// Whether it holds.
    #[serde(flatten)]
    pub state: State,
    /// What was found, one line.
    pub detail: String,
}

impl Check {
    /// A check of `requirement` for `plan`.
    pub fn new(
        plan: Option<Plan>,
        requirement: &'static str,
        state: State,
        detail: impl Into<String>,
    ) -> Self {
        Check {
            plan,
            requirement,
            state,
            detail: detail.into(),
        }
    }
}

/// A connector's health: every requirement checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorHealth {
    /// The connector's name.
    pub connector: String,
    /// The connector's account.
    pub account: String,
    /// When the checks ran.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// The checks, connector-wide first, then per plan in the connector's
    /// plan order.
    pub checks: Vec<Check>,
}

impl ConnectorHealth {
    /// The checks that are not met.
    pub fn not_met(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.state, State::NotMet { .. }))
    }

    /// Whether no check is "not met" (unknown ones allowed).
    pub fn healthy(&self) -> bool {
        self.not_met().next().is_none()
    }
}

/// How to reach the connector's account and the issuer.
#[derive(Debug, Clone)]
pub struct HealthOptions {
    /// Endpoint, home region, retries and timeouts; credentials are
    /// replaced per role.
    pub settings: AwsSettings,
    /// The issuer minting the connector's tokens, or why there is none.
    pub issuer: Result<Arc<Issuer>, String>,
    /// A classic connector's credential source (keys or role with external
    /// id); unused for federation.
    pub classic: Option<CredentialSource>,
    /// Timeout of each fetch of an issuer document.
    pub http_timeout: Duration,
}

impl HealthOptions {
    /// Options with the default HTTP timeout (10 s).
    pub fn new(settings: AwsSettings, issuer: Result<Arc<Issuer>, String>) -> Self {
        HealthOptions {
            settings,
            issuer,
            classic: None,
            http_timeout: Duration::from_secs(10),
        }
    }
}

/// Checks the issuer's public documents only (the discovery document at
/// its URL, the signing key in its JWKS), as [`connector_health`] does
/// first: the onboarding deploy step shows them before any role exists.
pub async fn issuer_checks(issuer: &Result<Arc<Issuer>, String>, timeout: Duration) -> Vec<Check> {
    issuer::checks(issuer, timeout).await
}

/// Checks every requirement of `connector`: the issuer (federation only),
/// each enabled plan, and the last scan from `evidence` (read it with
/// [`scan_evidence`]).
pub async fn connector_health(
    connector: &Connector,
    options: &HealthOptions,
    evidence: Option<&ScanEvidence>,
) -> ConnectorHealth {
    let mut checks = Vec::new();
    if !connector.is_classic() {
        checks.extend(issuer::checks(&options.issuer, options.http_timeout).await);
    }
    checks.extend(scan::checks(connector, evidence));
    for plan in connector.plans() {
        checks.extend(aws::plan_checks(connector, plan, options, evidence).await);
        if plan == Plan::Sql {
            checks.extend(scan::sql_prerequisites(evidence));
        }
    }
    ConnectorHealth {
        connector: connector.name.clone(),
        account: connector.account().to_owned(),
        checked_at: OffsetDateTime::now_utc(),
        checks,
    }
}
