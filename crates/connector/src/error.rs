//! What can be wrong with a connector.

use crate::plan::Plan;

/// Why a connector (or a request to change one) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The name can't be used in the role session name `Rampart_<name>`.
    #[error(
        "connector name `{0}` is not 1 to {max} letters, digits or `+=,.@-_`",
        max = crate::connector::MAX_NAME_LEN
    )]
    InvalidName(String),
    /// The name is a UUID, and so could be mistaken for another connector's id.
    #[error("connector name `{0}` looks like a connector id; choose another name")]
    NameLooksLikeId(String),
    /// `hierarchyIdentifier` is not an AWS account id.
    #[error("account id `{0}` is not 12 digits")]
    InvalidAccount(String),
    /// An excluded account id is not an AWS account id.
    #[error("excluded account id `{0}` is not 12 digits")]
    InvalidExcludedAccount(String),
    /// An excluded account id appears twice.
    #[error("excluded account id `{0}` is listed twice")]
    DuplicateExcludedAccount(String),
    /// A member's `parentHierarchyId` is not an AWS account id.
    #[error("parent account id `{0}` is not 12 digits")]
    InvalidParent(String),
    /// A member names itself as its management account.
    #[error("parent account id `{0}` is the member's own account")]
    ParentIsSelf(String),
    /// The StackSet name is not one CloudFormation accepts.
    #[error("stack set name `{0}` is not a letter followed by up to 127 letters, digits or `-`")]
    InvalidStacksetName(String),
    /// Excluded accounts were given for a connector that is not an organization's.
    #[error("excluded accounts need an organization connector (`{0}` is not one)")]
    NotAnOrganization(String),
    /// A region code Rampart does not know.
    #[error("unknown region `{0}`")]
    UnknownRegion(String),
    /// A region appears twice.
    #[error("region `{0}` is listed twice")]
    DuplicateRegion(String),
    /// The scan interval is outside 1–24 hours.
    #[error("scan interval `{0}` is not 1 to 24 hours")]
    ScanInterval(String),
    /// No plan is enabled.
    #[error("a connector needs at least one plan")]
    NoPlans,
    /// A plan appears twice in `offerings`.
    #[error("plan `{0}` is enabled twice")]
    DuplicatePlan(Plan),
    /// A plan name Rampart does not know.
    #[error("unknown plan `{0}` (known: cspm, servers, containers, sql)")]
    UnknownPlan(String),
    /// An `offeringType` Rampart does not know.
    #[error("unknown offering type `{0}` (known: {known})", known = crate::offering::known_offering_types())]
    UnknownOfferingType(String),
    /// A role ARN was given for a plan the connector does not enable.
    #[error("plan `{0}` is not enabled on this connector")]
    PlanNotEnabled(Plan),
    /// A role field the plan does not have.
    #[error("plan `{plan}` has no role `{field}` (its roles: {known})")]
    UnknownRoleField {
        /// The plan.
        plan: Plan,
        /// The field asked for.
        field: String,
        /// The plan's role fields, comma-separated.
        known: String,
    },
    /// A role ARN that is not `arn:<partition>:iam::<account>:role/<name>`.
    #[error(
        "malformed role ARN `{arn}` for plan `{plan}` `{field}` (expected `arn:<partition>:iam::<12 digits>:role/<name>`)"
    )]
    MalformedRoleArn {
        /// The plan.
        plan: Plan,
        /// The offering field holding the ARN.
        field: &'static str,
        /// The ARN.
        arn: String,
    },
    /// A role ARN in another account than the connector's.
    #[error("role ARN `{arn}` is in account `{found}`, not the connector's account `{account}`")]
    RoleInOtherAccount {
        /// The ARN.
        arn: String,
        /// The account the ARN names.
        found: String,
        /// The connector's account.
        account: String,
    },
    /// Role ARNs in different partitions.
    #[error(
        "role ARN `{arn}` is in partition `{found}`, the connector's other roles in `{expected}`"
    )]
    PartitionMismatch {
        /// The ARN.
        arn: String,
        /// Its partition.
        found: String,
        /// The partition of the connector's first role.
        expected: String,
    },
    /// A region outside the roles' partition (e.g. GovCloud with `aws` roles).
    #[error("region `{region}` is not in the partition `{partition}` of the connector's roles")]
    RegionOutsidePartition {
        /// The region.
        region: String,
        /// The roles' partition.
        partition: String,
    },
    /// The audit-log retention is zero days.
    #[error("audit-log retention `{0}` is not 1 or more days")]
    AuditRetention(u32),
    /// A scope or exclusion tag AWS would not accept.
    #[error("tag `{tag}` in `{field}`: {why}")]
    InvalidTag {
        /// The setting (`DefenderForServersAws.scopeByTags`, …).
        field: &'static str,
        /// The tag as given.
        tag: String,
        /// What is wrong with it.
        why: String,
    },
    /// A plan setting AWS would not accept.
    #[error("`{field}`: {why}")]
    InvalidSetting {
        /// The setting (`DefenderForDatabasesAws.threatDetection.logGroups`, …).
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The connector JSON could not be read.
    #[error("invalid connector JSON: {0}")]
    Json(String),
    /// A classic connector's authentication is malformed.
    #[error("invalid classic connector: {0}")]
    InvalidClassic(String),
}

impl ConnectorError {
    /// The connector field the error is about, as a dotted path in the
    /// connector resource (`name`, `hierarchyIdentifier`,
    /// `environmentData.regions`, `DefenderForServersAws.scopeByTags`, …),
    /// so a form can show the error next to its field; `None` when it is
    /// about the whole resource.
    pub fn field(&self) -> Option<&'static str> {
        use ConnectorError as E;
        Some(match self {
            E::InvalidName(_) | E::NameLooksLikeId(_) => "name",
            E::InvalidAccount(_) | E::InvalidParent(_) | E::ParentIsSelf(_) => {
                "hierarchyIdentifier"
            }
            E::InvalidExcludedAccount(_)
            | E::DuplicateExcludedAccount(_)
            | E::NotAnOrganization(_) => "environmentData.organizationalData.excludedAccountIds",
            E::InvalidStacksetName(_) => "environmentData.organizationalData.stacksetName",
            E::UnknownRegion(_) | E::DuplicateRegion(_) | E::RegionOutsidePartition { .. } => {
                "environmentData.regions"
            }
            E::ScanInterval(_) => "environmentData.scanInterval",
            E::NoPlans | E::DuplicatePlan(_) | E::UnknownPlan(_) | E::UnknownOfferingType(_) => {
                "offerings"
            }
            E::AuditRetention(_) => "DefenderForContainersAws.kubeAuditRetentionTime",
            E::InvalidTag { field, .. } | E::InvalidSetting { field, .. } => field,
            E::PlanNotEnabled(_)
            | E::UnknownRoleField { .. }
            | E::MalformedRoleArn { .. }
            | E::RoleInOtherAccount { .. }
            | E::PartitionMismatch { .. } => "roles",
            E::Json(_) | E::InvalidClassic(_) => return None,
        })
    }
}
