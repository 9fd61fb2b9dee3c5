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
    CloudRole, ContainersOffering, CspmOffering, DEFAULT_KUBE_AUDIT_RETENTION_DAYS,
    DatabasesOffering, Offering, ServersOffering, SwitchableRole,
};
pub use plan::{Plan, PlanRole};
pub use regions::{KNOWN_PARTITIONS, KNOWN_REGIONS, is_known_region, partition_of};
