//! Offerings: one enabled plan on a connector, with its role ARNs and
//! settings, serialized as Defender's offerings (tagged by `offeringType`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ConnectorError;
use crate::plan::Plan;

/// Default retention of EKS audit logs in the audit-log bucket, in days.
pub const DEFAULT_KUBE_AUDIT_RETENTION_DAYS: u32 = 30;

/// A role the offering runs as: `{cloudRoleArn}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudRole {
    /// The role's ARN in the connector's account.
    pub cloud_role_arn: String,
}

/// A role behind a feature that can be switched off: `{enabled, cloudRoleArn}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchableRole {
    /// Whether the feature is on.
    pub enabled: bool,
    /// The role's ARN in the connector's account.
    pub cloud_role_arn: String,
}

/// `CspmMonitorAws`: posture management.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CspmOffering {
    /// The role inventory and assessment reads run as.
    pub native_cloud_connection: CloudRole,
}

/// `DefenderForServersAws`: workload protection for EC2 instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServersOffering {
    /// The role that discovers instances.
    pub defender_for_servers: CloudRole,
    /// SSM auto-provisioning of the instances in scope.
    pub arc_auto_provisioning: ServersAutoProvisioning,
    /// Only instances carrying one of these tags (`key` → `value`) are
    /// protected; empty: every instance.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scope_by_tags: BTreeMap<String, String>,
    /// Agentless scanning of instance disks; absent: on (with no
    /// exclusion tags), as the plan turns it on by default. Switch it off
    /// with `{"enabled": false}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_scanners: Option<VmScanners>,
    /// CloudTrail threat detection; absent: on, in [`CloudTrailMode::Listing`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_trail: Option<CloudTrailSettings>,
}

impl ServersOffering {
    /// CloudTrail threat detection's settings, defaults filled in.
    pub fn cloud_trail(&self) -> CloudTrailSettings {
        self.cloud_trail.clone().unwrap_or_default()
    }
}

/// `cloudTrail`: threat detection on the account's CloudTrail logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailSettings {
    /// Whether the trail logs are read.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// How new log objects are found.
    #[serde(default)]
    pub mode: CloudTrailMode,
}

impl Default for CloudTrailSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            mode: CloudTrailMode::default(),
        }
    }
}

/// How CloudTrail threat detection finds new log objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudTrailMode {
    /// List the objects after a stored cursor, per account and region
    /// prefix. The default: nothing in the account changes (the trail
    /// bucket's notification configuration is often shared or owned by
    /// another team), at the cost of one listing per prefix and poll.
    #[default]
    Listing,
    /// An S3 event notification on the trail bucket to a
    /// `rampart-cloudtrail-*` queue with a dead-letter queue, provisioned
    /// by Rampart (merged into the bucket's notification configuration).
    Notification,
}

impl CloudTrailMode {
    /// `listing` or `notification`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listing => "listing",
            Self::Notification => "notification",
        }
    }
}

/// `arcAutoProvisioning` of the Servers plan: `{enabled, cloudRoleArn,
/// isPolicyAttachAllowed}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServersAutoProvisioning {
    /// Whether Rampart provisions SSM on the instances in scope.
    pub enabled: bool,
    /// The role provisioning runs as.
    pub cloud_role_arn: String,
    /// Whether the SSM core policy may be attached to the role of an
    /// instance's own instance profile when it lacks it (Defender's
    /// `IsPolicyAttachAllowed`); off: such instances are reported, not
    /// changed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_policy_attach_allowed: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl ServersOffering {
    /// Whether agentless scanning is on: unless `vmScanners.enabled` is
    /// `false`.
    pub fn agentless_enabled(&self) -> bool {
        self.vm_scanners.as_ref().is_none_or(|s| s.enabled)
    }

    /// The agentless exclusion tags (none when `vmScanners` is absent).
    pub fn exclusion_tags(&self) -> BTreeMap<String, String> {
        self.vm_scanners
            .as_ref()
            .map(|s| s.exclusion_tags.clone())
            .unwrap_or_default()
    }
}

/// `vmScanners`: agentless scanning of instance disk snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmScanners {
    /// Whether agentless scanning is on.
    pub enabled: bool,
    /// Instances carrying one of these tags (`key` → `value`) are not
    /// scanned.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exclusion_tags: BTreeMap<String, String>,
}

/// Longest tag key AWS accepts.
pub const MAX_TAG_KEY_LEN: usize = 128;
/// Longest tag value AWS accepts.
pub const MAX_TAG_VALUE_LEN: usize = 256;

/// Reads tags written `key=value, key2=value2` (comma or newline
/// separated; a value may be empty, `key` alone means an empty value), as
/// the CLI flags and the dashboard's fields take them. `field` names the
/// setting in the error. Each tag is checked by [`check_tag`].
pub fn parse_tags(
    field: &'static str,
    text: &str,
) -> Result<BTreeMap<String, String>, ConnectorError> {
    let mut tags = BTreeMap::new();
    for item in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let (key, value) = item.split_once('=').unwrap_or((item, ""));
        let (key, value) = (key.trim(), value.trim());
        check_tag(field, key, value)?;
        if tags.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(ConnectorError::InvalidTag {
                field,
                tag: item.to_owned(),
                why: "the key is listed twice".to_owned(),
            });
        }
    }
    Ok(tags)
}

/// Checks one tag as AWS would accept it: a key of 1 to 128 characters not
/// starting with `aws:`, a value of at most 256.
pub fn check_tag(field: &'static str, key: &str, value: &str) -> Result<(), ConnectorError> {
    let why = if key.is_empty() {
        Some("the key is empty")
    } else if key.chars().count() > MAX_TAG_KEY_LEN {
        Some("the key is longer than 128 characters")
    } else if value.chars().count() > MAX_TAG_VALUE_LEN {
        Some("the value is longer than 256 characters")
    } else if key.to_ascii_lowercase().starts_with("aws:") {
        Some("keys starting with `aws:` are reserved by AWS")
    } else if key.chars().chain(value.chars()).any(char::is_control) {
        Some("tags cannot hold control characters")
    } else {
        None
    };
    match why {
        Some(why) => Err(ConnectorError::InvalidTag {
            field,
            tag: format!("{key}={value}"),
            why: why.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Tags as [`parse_tags`] reads them: `key=value, key2=value2`.
pub fn format_tags(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `DefenderForContainersAws`: workload protection for EKS clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainersOffering {
    /// The role that reads EKS clusters.
    pub kubernetes_service: CloudRole,
    /// The role that reads the audit-log bucket and queue.
    pub kubernetes_data_collection: CloudRole,
    /// The role CloudWatch Logs uses to write to the delivery stream.
    pub cloud_watch_to_kinesis: CloudRole,
    /// The role the delivery stream uses to write to the bucket.
    pub kinesis_to_s3: CloudRole,
    /// Days audit logs are kept in the bucket.
    #[serde(default = "default_retention")]
    pub kube_audit_retention_time: u32,
    /// Whether audit-log collection is set up on clusters automatically.
    #[serde(default = "default_true")]
    pub enable_audit_logs_auto_provisioning: bool,
}

/// `DefenderForDatabasesAws`: protection for SQL Server on EC2 and RDS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabasesOffering {
    /// SQL Server discovery on EC2 and agent auto-provisioning through SSM.
    pub arc_auto_provisioning: SwitchableRole,
    /// RDS discovery.
    pub rds: SwitchableRole,
    /// SQL Server threat detection: a CloudWatch Logs → Firehose → S3 →
    /// SQS pipeline per SQL Server log group (Rampart's own setting, not
    /// Defender's). Absent on connectors created before it existed: no
    /// pipelines are provisioned or drained for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat_detection: Option<SqlThreatDetection>,
}

/// Default days the SQL log pipelines' buckets keep delivered objects.
pub const DEFAULT_SQL_LOG_RETENTION_DAYS: u32 = 30;

/// The SQL plan's threat detection: which log groups reach Rampart, and
/// the roles that provision and read their pipelines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlThreatDetection {
    /// Whether scans provision the pipelines automatically (a manual
    /// `rampart sql provision` works either way).
    pub enabled: bool,
    /// The role that provisions the pipelines and reads their buckets and
    /// queues.
    pub cloud_role_arn: String,
    /// The role CloudWatch Logs uses to write to the delivery streams.
    pub cloud_watch_to_kinesis: CloudRole,
    /// The role the delivery streams use to write to the buckets.
    pub kinesis_to_s3: CloudRole,
    /// Log groups the CloudWatch agent writes SQL Server logs to on EC2 and
    /// RDS Custom hosts (error log, audit, Windows events). RDS for SQL
    /// Server's exported `error` log groups are found without listing.
    #[serde(default)]
    pub log_groups: Vec<String>,
    /// Days the buckets keep delivered objects.
    #[serde(default = "default_sql_log_retention")]
    pub retention_days: u32,
}

impl DatabasesOffering {
    /// The threat-detection settings, set to the default roles (in
    /// `account` of `partition`) and settings first when absent.
    pub fn threat_detection_or_default(
        &mut self,
        partition: &str,
        account: &str,
    ) -> &mut SqlThreatDetection {
        self.threat_detection.get_or_insert_with(|| {
            let arn = |index: usize| {
                let name = Plan::Sql
                    .roles()
                    .get(index)
                    .map_or("", |role| role.default_name);
                format!("arn:{partition}:iam::{account}:role/{name}")
            };
            SqlThreatDetection {
                enabled: true,
                cloud_role_arn: arn(2),
                cloud_watch_to_kinesis: CloudRole {
                    cloud_role_arn: arn(3),
                },
                kinesis_to_s3: CloudRole {
                    cloud_role_arn: arn(4),
                },
                log_groups: Vec::new(),
                retention_days: DEFAULT_SQL_LOG_RETENTION_DAYS,
            }
        })
    }

    /// Checks the log group names and the retention.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let Some(t) = &self.threat_detection else {
            return Ok(());
        };
        for group in &t.log_groups {
            check_log_group(group)?;
        }
        if t.retention_days == 0 {
            return Err(ConnectorError::InvalidSetting {
                field: SQL_LOG_GROUPS,
                why: "`retentionDays` must be at least 1".to_owned(),
            });
        }
        Ok(())
    }
}

/// The field of the SQL plan's log groups, as errors name it.
pub const SQL_LOG_GROUPS: &str = "DefenderForDatabasesAws.threatDetection.logGroups";

/// Checks a CloudWatch Logs group name as AWS accepts it: 1 to 512 of
/// `A-Za-z0-9`, `.`, `-`, `_`, `/`, `#`.
pub fn check_log_group(name: &str) -> Result<(), ConnectorError> {
    let valid = !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(ConnectorError::InvalidSetting {
            field: SQL_LOG_GROUPS,
            why: format!(
                "`{name}` is not a log group name (1 to 512 of letters, digits, `.`, `-`, `_`, `/`, `#`)"
            ),
        })
    }
}

/// The log group names of a comma-separated list (`''`: none), each checked.
pub fn parse_log_groups(text: &str) -> Result<Vec<String>, ConnectorError> {
    let mut groups: Vec<String> = Vec::new();
    for name in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        check_log_group(name)?;
        if !groups.iter().any(|g| g == name) {
            groups.push(name.to_owned());
        }
    }
    Ok(groups)
}

fn default_sql_log_retention() -> u32 {
    DEFAULT_SQL_LOG_RETENTION_DAYS
}

fn default_retention() -> u32 {
    DEFAULT_KUBE_AUDIT_RETENTION_DAYS
}

fn default_true() -> bool {
    true
}

/// One enabled plan with its settings, tagged by `offeringType` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "offeringType")]
pub enum Offering {
    /// Posture management.
    CspmMonitorAws(CspmOffering),
    /// Servers.
    DefenderForServersAws(ServersOffering),
    /// Containers.
    DefenderForContainersAws(ContainersOffering),
    /// Databases.
    DefenderForDatabasesAws(DatabasesOffering),
}

impl Offering {
    /// The plan's offering with every role at its default name in `account`
    /// (`arn:<partition>:iam::<account>:role/<default name>`) and default
    /// settings.
    pub fn with_default_roles(plan: Plan, partition: &str, account: &str) -> Self {
        let arn = |index: usize| {
            let name = plan.roles().get(index).map_or("", |role| role.default_name);
            format!("arn:{partition}:iam::{account}:role/{name}")
        };
        let role = |index: usize| CloudRole {
            cloud_role_arn: arn(index),
        };
        let switchable = |index: usize| SwitchableRole {
            enabled: true,
            cloud_role_arn: arn(index),
        };
        match plan {
            Plan::Cspm => Offering::CspmMonitorAws(CspmOffering {
                native_cloud_connection: role(0),
            }),
            Plan::Servers => Offering::DefenderForServersAws(ServersOffering {
                defender_for_servers: role(0),
                arc_auto_provisioning: ServersAutoProvisioning {
                    enabled: true,
                    cloud_role_arn: arn(1),
                    is_policy_attach_allowed: false,
                },
                scope_by_tags: BTreeMap::new(),
                vm_scanners: None,
                cloud_trail: None,
            }),
            Plan::Containers => Offering::DefenderForContainersAws(ContainersOffering {
                kubernetes_service: role(0),
                kubernetes_data_collection: role(1),
                cloud_watch_to_kinesis: role(2),
                kinesis_to_s3: role(3),
                kube_audit_retention_time: DEFAULT_KUBE_AUDIT_RETENTION_DAYS,
                enable_audit_logs_auto_provisioning: true,
            }),
            Plan::Sql => Offering::DefenderForDatabasesAws(DatabasesOffering {
                rds: switchable(0),
                arc_auto_provisioning: switchable(1),
                threat_detection: Some(SqlThreatDetection {
                    enabled: true,
                    cloud_role_arn: arn(2),
                    cloud_watch_to_kinesis: role(3),
                    kinesis_to_s3: role(4),
                    log_groups: Vec::new(),
                    retention_days: DEFAULT_SQL_LOG_RETENTION_DAYS,
                }),
            }),
        }
    }

    /// The plan this offering enables.
    pub fn plan(&self) -> Plan {
        match self {
            Offering::CspmMonitorAws(_) => Plan::Cspm,
            Offering::DefenderForServersAws(_) => Plan::Servers,
            Offering::DefenderForContainersAws(_) => Plan::Containers,
            Offering::DefenderForDatabasesAws(_) => Plan::Sql,
        }
    }

    /// The offering's role ARNs, in the order of [`Plan::roles`], each with
    /// its field (`nativeCloudConnection.cloudRoleArn`, …).
    pub fn role_arns(&self) -> Vec<(&'static str, &str)> {
        let arns: Vec<&str> = match self {
            Offering::CspmMonitorAws(o) => vec![&o.native_cloud_connection.cloud_role_arn],
            Offering::DefenderForServersAws(o) => vec![
                &o.defender_for_servers.cloud_role_arn,
                &o.arc_auto_provisioning.cloud_role_arn,
            ],
            Offering::DefenderForContainersAws(o) => vec![
                &o.kubernetes_service.cloud_role_arn,
                &o.kubernetes_data_collection.cloud_role_arn,
                &o.cloud_watch_to_kinesis.cloud_role_arn,
                &o.kinesis_to_s3.cloud_role_arn,
            ],
            Offering::DefenderForDatabasesAws(o) => {
                let mut arns = vec![
                    o.rds.cloud_role_arn.as_str(),
                    &o.arc_auto_provisioning.cloud_role_arn,
                ];
                if let Some(t) = &o.threat_detection {
                    arns.extend([
                        t.cloud_role_arn.as_str(),
                        &t.cloud_watch_to_kinesis.cloud_role_arn,
                        &t.kinesis_to_s3.cloud_role_arn,
                    ]);
                }
                arns
            }
        };
        self.plan()
            .roles()
            .iter()
            .map(|role| role.field)
            .zip(arns)
            .collect()
    }

    /// The role ARN in `field` (a [`PlanRole::field`](crate::PlanRole) such
    /// as `arcAutoProvisioning.cloudRoleArn`), for changing it.
    pub fn role_arn_mut(&mut self, field: &str) -> Option<&mut String> {
        let slot = match (self, field) {
            (Offering::CspmMonitorAws(o), "nativeCloudConnection.cloudRoleArn") => {
                &mut o.native_cloud_connection.cloud_role_arn
            }
            (Offering::DefenderForServersAws(o), "defenderForServers.cloudRoleArn") => {
                &mut o.defender_for_servers.cloud_role_arn
            }
            (Offering::DefenderForServersAws(o), "arcAutoProvisioning.cloudRoleArn") => {
                &mut o.arc_auto_provisioning.cloud_role_arn
            }
            (Offering::DefenderForContainersAws(o), "kubernetesService.cloudRoleArn") => {
                &mut o.kubernetes_service.cloud_role_arn
            }
            (Offering::DefenderForContainersAws(o), "kubernetesDataCollection.cloudRoleArn") => {
                &mut o.kubernetes_data_collection.cloud_role_arn
            }
            (Offering::DefenderForContainersAws(o), "cloudWatchToKinesis.cloudRoleArn") => {
                &mut o.cloud_watch_to_kinesis.cloud_role_arn
            }
            (Offering::DefenderForContainersAws(o), "kinesisToS3.cloudRoleArn") => {
                &mut o.kinesis_to_s3.cloud_role_arn
            }
            (Offering::DefenderForDatabasesAws(o), "rds.cloudRoleArn") => &mut o.rds.cloud_role_arn,
            (Offering::DefenderForDatabasesAws(o), "arcAutoProvisioning.cloudRoleArn") => {
                &mut o.arc_auto_provisioning.cloud_role_arn
            }
            (Offering::DefenderForDatabasesAws(o), "threatDetection.cloudRoleArn") => {
                &mut o.threat_detection.as_mut()?.cloud_role_arn
            }
            (
                Offering::DefenderForDatabasesAws(o),
                "threatDetection.cloudWatchToKinesis.cloudRoleArn",
            ) => {
                &mut o
                    .threat_detection
                    .as_mut()?
                    .cloud_watch_to_kinesis
                    .cloud_role_arn
            }
            (Offering::DefenderForDatabasesAws(o), "threatDetection.kinesisToS3.cloudRoleArn") => {
                &mut o.threat_detection.as_mut()?.kinesis_to_s3.cloud_role_arn
            }
            _ => return None,
        };
        Some(slot)
    }
}

impl ServersOffering {
    /// Checks the scope and exclusion tags.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        for (k, v) in &self.scope_by_tags {
            check_tag(SCOPE_BY_TAGS, k, v)?;
        }
        if let Some(scanners) = &self.vm_scanners {
            for (k, v) in &scanners.exclusion_tags {
                check_tag(EXCLUSION_TAGS, k, v)?;
            }
        }
        Ok(())
    }
}

/// The field of the Servers plan's scope tags, as errors name it.
pub const SCOPE_BY_TAGS: &str = "DefenderForServersAws.scopeByTags";
/// The field of agentless scanning's exclusion tags, as errors name it.
pub const EXCLUSION_TAGS: &str = "DefenderForServersAws.vmScanners.exclusionTags";

impl<'de> Deserialize<'de> for Offering {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(deserializer)?;
        let offering_type = match value.get("offeringType") {
            Some(serde_json::Value::String(t)) => t.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "offering type `{other}` is not a string"
                )));
            }
            None => return Err(D::Error::custom("offering without `offeringType`")),
        };
        let plan = Plan::from_offering_type(&offering_type).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown offering type `{offering_type}` (known: {})",
                known_offering_types()
            ))
        })?;
        let parsed = match plan {
            Plan::Cspm => serde_json::from_value(value).map(Offering::CspmMonitorAws),
            Plan::Servers => serde_json::from_value(value).map(Offering::DefenderForServersAws),
            Plan::Containers => {
                serde_json::from_value(value).map(Offering::DefenderForContainersAws)
            }
            Plan::Sql => serde_json::from_value(value).map(Offering::DefenderForDatabasesAws),
        };
        parsed.map_err(|e| D::Error::custom(format!("offering `{offering_type}`: {e}")))
    }
}

/// The known offering types, comma-separated, for error messages.
pub(crate) fn known_offering_types() -> String {
    Plan::ALL
        .iter()
        .map(|plan| plan.offering_type())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_fields_follow_the_plan_roles() {
        for plan in Plan::ALL {
            let mut offering = Offering::with_default_roles(plan, "aws", "123456789012");
            assert_eq!(offering.plan(), plan);
            let arns = offering.role_arns();
            assert_eq!(arns.len(), plan.roles().len(), "{plan}");
            for ((field, arn), role) in arns.iter().zip(plan.roles()) {
                assert_eq!(*field, role.field);
                assert_eq!(
                    *arn,
                    format!("arn:aws:iam::123456789012:role/{}", role.default_name)
                );
            }
            for role in plan.roles() {
                let slot = offering.role_arn_mut(role.field).unwrap();
                *slot = format!("arn:aws:iam::123456789012:role/x-{}", role.default_name);
            }
            for ((_, arn), role) in offering.role_arns().iter().zip(plan.roles()) {
                assert_eq!(
                    *arn,
                    format!("arn:aws:iam::123456789012:role/x-{}", role.default_name)
                );
            }
            assert!(offering.role_arn_mut("nope.cloudRoleArn").is_none());
        }
    }

    #[test]
    fn sql_offerings_without_threat_detection_still_read_and_get_defaults() {
        let json = serde_json::json!({
            "offeringType": "DefenderForDatabasesAws",
            "arcAutoProvisioning": {"enabled": true, "cloudRoleArn": "arn:aws:iam::123456789012:role/P"},
            "rds": {"enabled": true, "cloudRoleArn": "arn:aws:iam::123456789012:role/R"},
        });
        let Offering::DefenderForDatabasesAws(mut o) = serde_json::from_value(json).unwrap() else {
            panic!("sql offering");
        };
        assert!(o.threat_detection.is_none());
        assert_eq!(
            Offering::DefenderForDatabasesAws(o.clone())
                .role_arns()
                .len(),
            2,
            "no threat-detection roles to check"
        );
        let t = o.threat_detection_or_default("aws-cn", "123456789012");
        assert_eq!(
            t.cloud_role_arn,
            "arn:aws-cn:iam::123456789012:role/RampartDatabasesThreatDetection"
        );
        assert_eq!(t.retention_days, DEFAULT_SQL_LOG_RETENTION_DAYS);
        assert_eq!(Offering::DefenderForDatabasesAws(o).role_arns().len(), 5);
    }

    #[test]
    fn sql_log_groups_are_checked_as_aws_does() {
        assert_eq!(
            parse_log_groups(" /sql/errorlog, /aws/rds/instance/db-1/error,/sql/errorlog ,")
                .unwrap(),
            ["/sql/errorlog", "/aws/rds/instance/db-1/error"]
        );
        assert_eq!(
            parse_log_groups("''".trim_matches('\'')).unwrap(),
            Vec::<String>::new()
        );
        let err = parse_log_groups("/sql/error log").unwrap_err().to_string();
        assert!(
            err.contains("`/sql/error log` is not a log group name")
                && err.contains("threatDetection.logGroups"),
            "{err}"
        );
        assert!(check_log_group(&"a".repeat(513)).is_err());
        let mut o = DatabasesOffering {
            arc_auto_provisioning: SwitchableRole {
                enabled: true,
                cloud_role_arn: String::new(),
            },
            rds: SwitchableRole {
                enabled: true,
                cloud_role_arn: String::new(),
            },
            threat_detection: None,
        };
        assert!(o.validate().is_ok());
        o.threat_detection_or_default("aws", "123456789012")
            .retention_days = 0;
        assert!(o.validate().is_err());
    }

    #[test]
    fn unknown_offering_type_is_named() {
        let err = serde_json::from_str::<Offering>(r#"{"offeringType":"DefenderForStorageAws"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown offering type `DefenderForStorageAws`"),
            "{err}"
        );
        let err = serde_json::from_str::<Offering>(r#"{"nativeCloudConnection":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("offering without `offeringType`"), "{err}");
    }

    #[test]
    fn cloud_trail_defaults_to_listing_and_reads_notification_mode() {
        let json = serde_json::json!({
            "offeringType": "DefenderForServersAws",
            "defenderForServers": {"cloudRoleArn": "a"},
            "arcAutoProvisioning": {"enabled": true, "cloudRoleArn": "b"},
        });
        let Offering::DefenderForServersAws(o) = serde_json::from_value(json.clone()).unwrap()
        else {
            panic!("wrong offering");
        };
        assert_eq!(o.cloud_trail(), CloudTrailSettings::default());
        assert_eq!(o.cloud_trail().mode, CloudTrailMode::Listing);
        assert!(o.cloud_trail().enabled);
        let mut with = json;
        with["cloudTrail"] = serde_json::json!({"mode": "notification"});
        let Offering::DefenderForServersAws(o) = serde_json::from_value(with).unwrap() else {
            panic!("wrong offering");
        };
        assert_eq!(o.cloud_trail().mode, CloudTrailMode::Notification);
        assert_eq!(
            serde_json::to_value(&o).unwrap()["cloudTrail"],
            serde_json::json!({"enabled": true, "mode": "notification"})
        );
    }

    #[test]
    fn container_settings_default_when_absent() {
        let json = serde_json::json!({
            "offeringType": "DefenderForContainersAws",
            "kubernetesService": {"cloudRoleArn": "a"},
            "kubernetesDataCollection": {"cloudRoleArn": "b"},
            "cloudWatchToKinesis": {"cloudRoleArn": "c"},
            "kinesisToS3": {"cloudRoleArn": "d"},
        });
        let Offering::DefenderForContainersAws(o) = serde_json::from_value(json).unwrap() else {
            panic!("wrong offering");
        };
        assert_eq!(o.kube_audit_retention_time, 30);
        assert!(o.enable_audit_logs_auto_provisioning);
    }

    #[test]
    fn policy_attach_is_off_unless_allowed() {
        let json = serde_json::json!({
            "offeringType": "DefenderForServersAws",
            "defenderForServers": {"cloudRoleArn": "a"},
            "arcAutoProvisioning": {"enabled": true, "cloudRoleArn": "b"},
        });
        let Offering::DefenderForServersAws(mut o) = serde_json::from_value(json.clone()).unwrap()
        else {
            panic!("wrong offering");
        };
        assert!(!o.arc_auto_provisioning.is_policy_attach_allowed);
        // Off is not written: existing connector JSON stays as it was.
        let back = serde_json::to_value(Offering::DefenderForServersAws(o.clone())).unwrap();
        assert_eq!(back, json);
        o.arc_auto_provisioning.is_policy_attach_allowed = true;
        let back = serde_json::to_value(Offering::DefenderForServersAws(o)).unwrap();
        assert_eq!(back["arcAutoProvisioning"]["isPolicyAttachAllowed"], true);
    }
}
