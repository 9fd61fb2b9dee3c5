//! Rampart's connector resource (design.md section 8): one AWS account, or an
//! AWS Organization's management account, with the plans (offerings) enabled
//! on it and the IAM role each plan's work runs as.
//!
//! [`Connector`] serializes exactly in Defender's security-connector shape
//! (camelCase JSON); [`Connector::validate`] checks every rule before a
//! connector is stored.

mod classic;
mod connector;
mod error;
mod offering;
mod plan;
mod regions;

pub use classic::ClassicAuthentication;
pub use connector::{
    Connector, DEFAULT_SCAN_INTERVAL_HOURS, DEFAULT_STACKSET_NAME, EnvironmentData,
    EnvironmentName, EnvironmentType, MAX_NAME_LEN, OrganizationalData, RoleArn,
    SCAN_INTERVAL_HOURS, is_account_id,
};
pub use error::ConnectorError;
pub use offering::{
    CloudRole, CloudTrailMode, CloudTrailSettings, ContainersOffering, CspmOffering,
    DEFAULT_KUBE_AUDIT_RETENTION_DAYS, DEFAULT_SQL_LOG_RETENTION_DAYS, DatabasesOffering,
    EXCLUSION_TAGS, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN, Offering, SCOPE_BY_TAGS, SQL_LOG_GROUPS,
    ServersAutoProvisioning, ServersOffering, SqlThreatDetection, SwitchableRole, VmScanners,
    check_log_group, check_tag, format_tags, parse_log_groups, parse_tags,
};
pub use plan::{Plan, PlanRole};
pub use regions::{KNOWN_PARTITIONS, KNOWN_REGIONS, is_known_region, partition_of};
