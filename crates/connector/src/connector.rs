//! The connector resource, in Defender's security-connector shape.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ConnectorError;
use crate::offering::{Offering, SqlThreatDetection};
use crate::plan::Plan;
use crate::regions::{KNOWN_PARTITIONS, is_known_region, partition_of};

/// Longest connector name: `Rampart_<name>` must fit a role session name.
pub const MAX_NAME_LEN: usize = 40;
/// Hours between scans when none is given.
pub const DEFAULT_SCAN_INTERVAL_HOURS: u32 = 12;
/// Shortest and longest scan interval, in hours.
pub const SCAN_INTERVAL_HOURS: std::ops::RangeInclusive<u32> = 1..=24;
/// The StackSet name of an organization connector when none is given.
pub const DEFAULT_STACKSET_NAME: &str = "Rampart";

/// A connector: one AWS account (or an Organization's management account),
/// the plans enabled on it and the roles their work runs as.
///
/// Serialized exactly as design.md section 8 describes (camelCase, like
/// Defender's security connectors). Build one with [`Connector::new`]; the
/// type may gain fields (such as classic authentication), so it cannot be
/// built field by field outside this crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Connector {
    /// Rampart's id for the connector (a random UUID).
    pub id: Uuid,
    /// Unique, user-chosen name.
    pub name: String,
    /// The AWS account id (12 digits).
    pub hierarchy_identifier: String,
    /// Always `AWS`.
    pub environment_name: EnvironmentName,
    /// Account kind, organization membership, regions and scan interval.
    pub environment_data: EnvironmentData,
    /// The enabled plans with their roles and settings.
    pub offerings: Vec<Offering>,
    /// When the connector was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the connector was last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// A classic (legacy) connector's authentication; absent for federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classic: Option<crate::classic::ClassicAuthentication>,
    /// Scheduled scans skip a paused connector (scans on demand still run);
    /// absent: not paused.
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(value: &bool) -> bool {
    !*value
}

/// The cloud a connector is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnvironmentName {
    /// Amazon Web Services.
    #[serde(rename = "AWS")]
    Aws,
}

/// The kind of AWS environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnvironmentType {
    /// An AWS account.
    AwsAccount,
}

/// `environmentData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentData {
    /// Always `AwsAccount`.
    pub environment_type: EnvironmentType,
    /// Absent for a single account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_data: Option<OrganizationalData>,
    /// Regions to scan; empty means every enabled region.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Hours between scans, 1–24.
    #[serde(default = "default_scan_interval")]
    pub scan_interval: u32,
}

fn default_scan_interval() -> u32 {
    DEFAULT_SCAN_INTERVAL_HOURS
}

/// `environmentData.organizationalData`, tagged by `organizationMembershipType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "organizationMembershipType", rename_all_fields = "camelCase")]
pub enum OrganizationalData {
    /// A management account: its members get connectors automatically,
    /// their roles deployed by a StackSet.
    Organization {
        /// The StackSet that deploys Rampart's roles to the members.
        stackset_name: String,
        /// Member accounts that get no connector.
        #[serde(default)]
        excluded_account_ids: Vec<String>,
    },
    /// A member account, connected through its management account.
    Member {
        /// The management account's id.
        parent_hierarchy_id: String,
    },
}

/// A role ARN taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleArn<'a> {
    /// `aws`, `aws-us-gov` or `aws-cn`.
    pub partition: &'a str,
    /// The account the role is in.
    pub account: &'a str,
    /// The role's path (`/` when none).
    pub path: &'a str,
    /// The role's name.
    pub name: &'a str,
}

impl<'a> RoleArn<'a> {
    /// Parses `arn:<partition>:iam::<account>:role/<path/><name>`; `None`
    /// when malformed (unknown partition, account not 12 digits, name not
    /// 1–64 of `[A-Za-z0-9+=,.@_-]`, path characters outside `!`…`~`).
    pub fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        if !KNOWN_PARTITIONS.contains(&partition) || !is_account_id(account) {
            return None;
        }
        let rest = resource.strip_prefix("role/")?;
        let (path, name) = match rest.rfind('/') {
            // The path with its leading and trailing slash.
            Some(slash) => (resource.get(4..=slash + 5)?, rest.get(slash + 1..)?),
            None => ("/", rest),
        };
        let name_ok = (1..=64).contains(&name.len()) && name.chars().all(is_role_name_char);
        let path_ok = path.len() <= 512 && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
        (name_ok && path_ok).then_some(RoleArn {
            partition,
            account,
            path,
            name,
        })
    }
}

/// Whether `text` is an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_role_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

impl Connector {
    /// A new connector with a fresh id, each plan's roles at their default
    /// names (`arn:<partition>:iam::<account>:role/<default name>`) and
    /// default settings. The partition is the first region's (`aws` when no
    /// region is given). Call [`validate`](Self::validate) before storing it.
    pub fn new(
        name: &str,
        account: &str,
        plans: &[Plan],
        regions: Vec<String>,
        scan_interval: u32,
        organization: Option<OrganizationalData>,
    ) -> Self {
        let partition = regions.first().map_or("aws", |region| partition_of(region));
        let created = now();
        Connector {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            hierarchy_identifier: account.to_owned(),
            environment_name: EnvironmentName::Aws,
            environment_data: EnvironmentData {
                environment_type: EnvironmentType::AwsAccount,
                organizational_data: organization,
                regions,
                scan_interval,
            },
            offerings: plans
                .iter()
                .map(|plan| Offering::with_default_roles(*plan, partition, account))
                .collect(),
            created_at: created,
            updated_at: created,
            classic: None,
            paused: false,
        }
    }

    /// Reads a connector from JSON. An unknown `offeringType` is reported
    /// by name. The result is not validated.
    pub fn from_json(text: &str) -> Result<Self, ConnectorError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ConnectorError::Json(e.to_string()))?;
        if let Some(offerings) = value.get("offerings").and_then(serde_json::Value::as_array) {
            for offering in offerings {
                if let Some(t) = offering
                    .get("offeringType")
                    .and_then(serde_json::Value::as_str)
                    && Plan::from_offering_type(t).is_none()
                {
                    return Err(ConnectorError::UnknownOfferingType(t.to_owned()));
                }
            }
        }
        serde_json::from_value(value).map_err(|e| ConnectorError::Json(e.to_string()))
    }

    /// The connector as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The AWS account id.
    pub fn account(&self) -> &str {
        &self.hierarchy_identifier
    }

    /// The enabled plans, in `offerings` order.
    pub fn plans(&self) -> Vec<Plan> {
        self.offerings.iter().map(Offering::plan).collect()
    }

    /// The offering of `plan`, if enabled.
    pub fn offering(&self, plan: Plan) -> Option<&Offering> {
        self.offerings.iter().find(|o| o.plan() == plan)
    }

    /// The offering of `plan`, if enabled, for changing it.
    pub fn offering_mut(&mut self, plan: Plan) -> Option<&mut Offering> {
        self.offerings.iter_mut().find(|o| o.plan() == plan)
    }

    /// The ARN of the role `plan`'s reads run as (its first role).
    pub fn role_arn(&self, plan: Plan) -> Option<&str> {
        self.offering(plan)
            .and_then(|o| o.role_arns().first().map(|(_, arn)| *arn))
    }

    /// Whether this is an Organization's management-account connector.
    pub fn is_organization(&self) -> bool {
        matches!(
            self.environment_data.organizational_data,
            Some(OrganizationalData::Organization { .. })
        )
    }

    /// The management account of a member connector.
    pub fn parent(&self) -> Option<&str> {
        match &self.environment_data.organizational_data {
            Some(OrganizationalData::Member {
                parent_hierarchy_id,
            }) => Some(parent_hierarchy_id),
            _ => None,
        }
    }

    /// The partition of the connector's roles (`aws` when it has none).
    pub fn partition(&self) -> &str {
        self.offerings
            .iter()
            .flat_map(|o| o.role_arns())
            .find_map(|(_, arn)| RoleArn::parse(arn).map(|a| a.partition))
            .unwrap_or("aws")
    }

    /// Makes `plans` the enabled plans, in that order: offerings of plans
    /// already enabled are kept as they are, new ones get default roles.
    pub fn set_plans(&mut self, plans: &[Plan]) {
        let partition = self.partition().to_owned();
        let mut old = std::mem::take(&mut self.offerings);
        for plan in plans {
            let offering = match old.iter().position(|o| o.plan() == *plan) {
                Some(at) => old.remove(at),
                None => Offering::with_default_roles(*plan, &partition, &self.hierarchy_identifier),
            };
            self.offerings.push(offering);
        }
    }

    /// Sets one role ARN of an enabled plan. `field` names the role
    /// (`arcAutoProvisioning` or `arcAutoProvisioning.cloudRoleArn`); `None`
    /// means the plan's first role. The ARN is checked by
    /// [`validate`](Self::validate).
    pub fn set_role_arn(
        &mut self,
        plan: Plan,
        field: Option<&str>,
        arn: &str,
    ) -> Result<(), ConnectorError> {
        let partition = self.partition().to_owned();
        let account = self.hierarchy_identifier.clone();
        let offering = self
            .offering_mut(plan)
            .ok_or(ConnectorError::PlanNotEnabled(plan))?;
        let role = match field {
            None => plan.roles().first(),
            Some(field) => plan.roles().iter().find(|role| {
                role.field == field || role.field.strip_suffix(".cloudRoleArn") == Some(field)
            }),
        };
        let unknown = || ConnectorError::UnknownRoleField {
            plan,
            field: field.unwrap_or_default().to_owned(),
            known: plan
                .roles()
                .iter()
                .map(|r| r.field.trim_end_matches(".cloudRoleArn"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let role = role.ok_or_else(unknown)?;
        // A connector made before SQL threat detection existed gets its
        // default roles first, then the one asked for.
        if let Offering::DefenderForDatabasesAws(o) = &mut *offering
            && role.field.starts_with("threatDetection.")
        {
            o.threat_detection_or_default(&partition, &account);
        }
        let slot = offering.role_arn_mut(role.field).ok_or_else(unknown)?;
        arn.clone_into(slot);
        Ok(())
    }

    /// The SQL plan's threat-detection settings, with default roles and
    /// settings when the connector predates them; `None` without the SQL
    /// plan.
    pub fn sql_threat_detection_mut(&mut self) -> Option<&mut SqlThreatDetection> {
        let partition = self.partition().to_owned();
        let account = self.hierarchy_identifier.clone();
        match self.offering_mut(Plan::Sql)? {
            Offering::DefenderForDatabasesAws(o) => {
                Some(o.threat_detection_or_default(&partition, &account))
            }
            _ => None,
        }
    }

    /// Marks the connector changed now.
    pub fn touch(&mut self) {
        self.updated_at = now();
    }

    /// Checks every rule of design.md section 8: name, account, regions,
    /// scan interval, organization data, plans and role ARNs. Returns the
    /// first problem found.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        self.validate_name()?;
        let account = self.hierarchy_identifier.as_str();
        if !is_account_id(account) {
            return Err(ConnectorError::InvalidAccount(account.to_owned()));
        }
        self.validate_organization()?;
        let data = &self.environment_data;
        for (i, region) in data.regions.iter().enumerate() {
            if !is_known_region(region) {
                return Err(ConnectorError::UnknownRegion(region.clone()));
            }
            if data.regions.iter().take(i).any(|r| r == region) {
                return Err(ConnectorError::DuplicateRegion(region.clone()));
            }
        }
        if !SCAN_INTERVAL_HOURS.contains(&data.scan_interval) {
            return Err(ConnectorError::ScanInterval(data.scan_interval.to_string()));
        }
        self.validate_offerings()?;
        if let Some(classic) = &self.classic {
            classic.validate(account)?;
        }
        let partition = self.partition();
        if let Some(region) = data.regions.iter().find(|r| partition_of(r) != partition) {
            return Err(ConnectorError::RegionOutsidePartition {
                region: region.clone(),
                partition: partition.to_owned(),
            });
        }
        Ok(())
    }

    fn validate_name(&self) -> Result<(), ConnectorError> {
        let name = &self.name;
        let ok = (1..=MAX_NAME_LEN).contains(&name.len())
            && name.chars().all(is_role_name_char)
            && valid_session_name(&Plan::session_name(name));
        if !ok {
            return Err(ConnectorError::InvalidName(name.clone()));
        }
        if Uuid::parse_str(name).is_ok() {
            return Err(ConnectorError::NameLooksLikeId(name.clone()));
        }
        Ok(())
    }

    fn validate_organization(&self) -> Result<(), ConnectorError> {
        match &self.environment_data.organizational_data {
            None => Ok(()),
            Some(OrganizationalData::Organization {
                stackset_name,
                excluded_account_ids,
            }) => {
                let mut chars = stackset_name.chars();
                let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                    && stackset_name.len() <= 128
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
                if !ok {
                    return Err(ConnectorError::InvalidStacksetName(stackset_name.clone()));
                }
                for (i, id) in excluded_account_ids.iter().enumerate() {
                    if !is_account_id(id) {
                        return Err(ConnectorError::InvalidExcludedAccount(id.clone()));
                    }
                    if excluded_account_ids.iter().take(i).any(|other| other == id) {
                        return Err(ConnectorError::DuplicateExcludedAccount(id.clone()));
                    }
                }
                Ok(())
            }
            Some(OrganizationalData::Member {
                parent_hierarchy_id,
            }) => {
                if !is_account_id(parent_hierarchy_id) {
                    Err(ConnectorError::InvalidParent(parent_hierarchy_id.clone()))
                } else if *parent_hierarchy_id == self.hierarchy_identifier {
                    Err(ConnectorError::ParentIsSelf(parent_hierarchy_id.clone()))
                } else {
                    Ok(())
                }
            }
        }
    }

    fn validate_offerings(&self) -> Result<(), ConnectorError> {
        if self.offerings.is_empty() {
            return Err(ConnectorError::NoPlans);
        }
        let mut partition: Option<&str> = None;
        for (i, offering) in self.offerings.iter().enumerate() {
            let plan = offering.plan();
            if self.offerings.iter().take(i).any(|o| o.plan() == plan) {
                return Err(ConnectorError::DuplicatePlan(plan));
            }
            if let Offering::DefenderForContainersAws(o) = offering
                && o.kube_audit_retention_time == 0
            {
                return Err(ConnectorError::AuditRetention(o.kube_audit_retention_time));
            }
            if let Offering::DefenderForServersAws(o) = offering {
                o.validate()?;
            }
            if let Offering::DefenderForDatabasesAws(o) = offering {
                o.validate()?;
            }
            for (field, arn) in offering.role_arns() {
                let parsed =
                    RoleArn::parse(arn).ok_or_else(|| ConnectorError::MalformedRoleArn {
                        plan,
                        field,
                        arn: arn.to_owned(),
                    })?;
                if parsed.account != self.hierarchy_identifier {
                    return Err(ConnectorError::RoleInOtherAccount {
                        arn: arn.to_owned(),
                        found: parsed.account.to_owned(),
                        account: self.hierarchy_identifier.clone(),
                    });
                }
                match partition {
                    None => partition = Some(parsed.partition),
                    Some(expected) if expected != parsed.partition => {
                        return Err(ConnectorError::PartitionMismatch {
                            arn: arn.to_owned(),
                            found: parsed.partition.to_owned(),
                            expected: expected.to_owned(),
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

/// Whether `name` matches STS's role session name pattern `[\w+=,.@-]{2,64}`.
fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len()) && name.chars().all(is_role_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";

    fn single(plans: &[Plan]) -> Connector {
        Connector::new(
            "prod",
            ACCOUNT,
            plans,
            vec!["us-east-1".into(), "eu-west-1".into()],
            DEFAULT_SCAN_INTERVAL_HOURS,
            None,
        )
    }

    fn with(change: impl FnOnce(&mut Connector)) -> Result<(), ConnectorError> {
        let mut connector = single(&Plan::ALL);
        change(&mut connector);
        connector.validate()
    }

    #[test]
    fn a_new_connector_with_every_plan_is_valid() {
        let connector = single(&Plan::ALL);
        assert_eq!(connector.validate(), Ok(()));
        assert_eq!(connector.plans(), Plan::ALL.to_vec());
        assert_eq!(
            connector.role_arn(Plan::Cspm),
            Some("arn:aws:iam::123456789012:role/CspmMonitorAws")
        );
        assert_eq!(
            connector.role_arn(Plan::Sql),
            Some("arn:aws:iam::123456789012:role/RampartDatabasesRds")
        );
        assert_eq!(connector.id.get_version_num(), 4);
        assert!(!connector.is_organization());
        assert_eq!(connector.parent(), None);
        assert_eq!(connector.created_at, connector.updated_at);
    }

    #[test]
    fn json_has_defenders_field_names_and_round_trips() {
        let mut connector = single(&Plan::ALL);
        connector.environment_data.organizational_data = Some(OrganizationalData::Organization {
            stackset_name: "RampartRoles".into(),
            excluded_account_ids: vec!["210987654321".into()],
        });
        let json = serde_json::to_value(&connector).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(&json),
            [
                "createdAt",
                "environmentData",
                "environmentName",
                "hierarchyIdentifier",
                "id",
                "name",
                "offerings",
                "updatedAt"
            ]
        );
        assert_eq!(json["environmentName"], "AWS");
        assert_eq!(json["hierarchyIdentifier"], ACCOUNT);
        assert_eq!(json["id"], connector.id.to_string());
        let data = &json["environmentData"];
        assert_eq!(
            keys(data),
            [
                "environmentType",
                "organizationalData",
                "regions",
                "scanInterval"
            ]
        );
        assert_eq!(data["environmentType"], "AwsAccount");
        assert_eq!(data["scanInterval"], 12);
        assert_eq!(
            data["regions"],
            serde_json::json!(["us-east-1", "eu-west-1"])
        );
        assert_eq!(
            data["organizationalData"],
            serde_json::json!({
                "organizationMembershipType": "Organization",
                "stacksetName": "RampartRoles",
                "excludedAccountIds": ["210987654321"],
            })
        );
        let arn = |name: &str| format!("arn:aws:iam::{ACCOUNT}:role/{name}");
        assert_eq!(
            json["offerings"],
            serde_json::json!([
                {
                    "offeringType": "CspmMonitorAws",
                    "nativeCloudConnection": {"cloudRoleArn": arn("CspmMonitorAws")},
                },
                {
                    "offeringType": "DefenderForServersAws",
                    "defenderForServers": {"cloudRoleArn": arn("RampartServers")},
                    "arcAutoProvisioning": {"enabled": true, "cloudRoleArn": arn("RampartServersProvisioning")},
                },
                {
                    "offeringType": "DefenderForContainersAws",
                    "kubernetesService": {"cloudRoleArn": arn("RampartContainersK8s")},
                    "kubernetesDataCollection": {"cloudRoleArn": arn("RampartContainersDataCollection")},
                    "cloudWatchToKinesis": {"cloudRoleArn": arn("RampartContainersCloudWatchToKinesis")},
                    "kinesisToS3": {"cloudRoleArn": arn("RampartContainersKinesisToS3")},
                    "kubeAuditRetentionTime": 30,
                    "enableAuditLogsAutoProvisioning": true,
                },
                {
                    "offeringType": "DefenderForDatabasesAws",
                    "arcAutoProvisioning": {"enabled": true, "cloudRoleArn": arn("RampartDatabasesProvisioning")},
                    "rds": {"enabled": true, "cloudRoleArn": arn("RampartDatabasesRds")},
                    "threatDetection": {
                        "enabled": true,
                        "cloudRoleArn": arn("RampartDatabasesThreatDetection"),
                        "cloudWatchToKinesis": {"cloudRoleArn": arn("RampartDatabasesCloudWatchToKinesis")},
                        "kinesisToS3": {"cloudRoleArn": arn("RampartDatabasesKinesisToS3")},
                        "logGroups": [],
                        "retentionDays": 30,
                    },
                },
            ])
        );
        let created = json["createdAt"].as_str().unwrap();
        assert!(
            OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339).is_ok(),
            "{created}"
        );
        let back = Connector::from_json(&connector.to_json()).unwrap();
        assert_eq!(back, connector);
    }

    #[test]
    fn single_account_json_has_no_organizational_data_and_member_round_trips() {
        let json = serde_json::to_value(single(&[Plan::Cspm])).unwrap();
        assert!(json["environmentData"].get("organizationalData").is_none());

        let mut member = single(&[Plan::Cspm]);
        member.environment_data.organizational_data = Some(OrganizationalData::Member {
            parent_hierarchy_id: "999999999999".into(),
        });
        assert_eq!(member.validate(), Ok(()));
        assert_eq!(member.parent(), Some("999999999999"));
        let json = serde_json::to_value(&member).unwrap();
        assert_eq!(
            json["environmentData"]["organizationalData"],
            serde_json::json!({"organizationMembershipType": "Member", "parentHierarchyId": "999999999999"})
        );
        assert_eq!(Connector::from_json(&member.to_json()).unwrap(), member);
    }

    #[test]
    fn unknown_offering_type_in_json_is_named() {
        let mut json = serde_json::to_value(single(&[Plan::Cspm])).unwrap();
        json["offerings"][0]["offeringType"] = "DefenderForStorageAws".into();
        let err = Connector::from_json(&json.to_string()).unwrap_err();
        assert_eq!(
            err,
            ConnectorError::UnknownOfferingType("DefenderForStorageAws".into())
        );
        assert!(err.to_string().contains("`DefenderForStorageAws`"));
        // Through serde directly too.
        let err = serde_json::from_value::<Connector>(json)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown offering type `DefenderForStorageAws`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_are_ignored_so_the_resource_can_grow() {
        let mut json = serde_json::to_value(single(&[Plan::Cspm])).unwrap();
        json["futureField"] = serde_json::json!({"kind": "AccessKey"});
        assert!(Connector::from_json(&json.to_string()).is_ok());
    }

    #[test]
    fn name_must_fit_a_role_session_name() {
        for good in ["a", "prod-eu_1", "x+=,.@-_", &"n".repeat(40)] {
            assert_eq!(with(|c| c.name = good.into()), Ok(()), "{good}");
        }
        for bad in ["", "has space", "slash/name", "ünïcode", &"n".repeat(41)] {
            assert_eq!(
                with(|c| c.name = bad.into()),
                Err(ConnectorError::InvalidName(bad.into())),
                "{bad}"
            );
        }
        let id = Uuid::new_v4().to_string();
        assert_eq!(
            with(|c| c.name.clone_from(&id)),
            Err(ConnectorError::NameLooksLikeId(id))
        );
    }

    #[test]
    fn account_must_be_12_digits() {
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            let connector = Connector::new("n", bad, &[Plan::Cspm], vec![], 12, None);
            assert_eq!(
                connector.validate(),
                Err(ConnectorError::InvalidAccount(bad.into()))
            );
        }
    }

    #[test]
    fn regions_must_be_known_and_listed_once() {
        assert_eq!(
            with(|c| c.environment_data.regions.push("us-east-9".into())),
            Err(ConnectorError::UnknownRegion("us-east-9".into()))
        );
        assert_eq!(
            with(|c| c.environment_data.regions.push("us-east-1".into())),
            Err(ConnectorError::DuplicateRegion("us-east-1".into()))
        );
        assert_eq!(with(|c| c.environment_data.regions.clear()), Ok(()));
    }

    #[test]
    fn regions_must_be_in_the_roles_partition() {
        assert_eq!(
            with(|c| c.environment_data.regions.push("us-gov-west-1".into())),
            Err(ConnectorError::RegionOutsidePartition {
                region: "us-gov-west-1".into(),
                partition: "aws".into()
            })
        );
        let gov = Connector::new(
            "gov",
            ACCOUNT,
            &[Plan::Cspm, Plan::Servers],
            vec!["us-gov-west-1".into(), "us-gov-east-1".into()],
            12,
            None,
        );
        assert_eq!(gov.validate(), Ok(()));
        assert_eq!(
            gov.role_arn(Plan::Cspm),
            Some("arn:aws-us-gov:iam::123456789012:role/CspmMonitorAws")
        );
    }

    #[test]
    fn scan_interval_is_1_to_24_hours() {
        for good in [1, 24] {
            assert_eq!(with(|c| c.environment_data.scan_interval = good), Ok(()));
        }
        for bad in [0, 25] {
            assert_eq!(
                with(|c| c.environment_data.scan_interval = bad),
                Err(ConnectorError::ScanInterval(bad.to_string()))
            );
        }
    }

    #[test]
    fn plans_are_required_once_each() {
        assert_eq!(with(|c| c.offerings.clear()), Err(ConnectorError::NoPlans));
        assert_eq!(
            single(&[Plan::Cspm, Plan::Sql, Plan::Cspm]).validate(),
            Err(ConnectorError::DuplicatePlan(Plan::Cspm))
        );
    }

    #[test]
    fn role_arns_must_be_well_formed() {
        let bad_arns = [
            "not-an-arn",
            "arn:aws:iam::123456789012:user/CspmMonitorAws",
            "arn:aws:iam::12345678901:role/CspmMonitorAws",
            "arn:aws:s3::123456789012:role/CspmMonitorAws",
            "arn:aws:iam:us-east-1:123456789012:role/CspmMonitorAws",
            "arn:azure:iam::123456789012:role/CspmMonitorAws",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
            "arn:aws:iam::123456789012:role/path/",
        ];
        let long = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65));
        for bad in bad_arns.iter().copied().chain([long.as_str()]) {
            assert_eq!(
                with(|c| c
                    .set_role_arn(Plan::Servers, Some("arcAutoProvisioning"), bad)
                    .unwrap()),
                Err(ConnectorError::MalformedRoleArn {
                    plan: Plan::Servers,
                    field: "arcAutoProvisioning.cloudRoleArn",
                    arn: bad.into()
                }),
                "{bad}"
            );
        }
        let good = format!("arn:aws:iam::123456789012:role/team/sec/{}", "r".repeat(64));
        assert_eq!(
            with(|c| c.set_role_arn(Plan::Cspm, None, &good).unwrap()),
            Ok(())
        );
        let parsed = RoleArn::parse(&good).unwrap();
        assert_eq!(parsed.path, "/team/sec/");
        assert_eq!(parsed.name, "r".repeat(64));
        assert_eq!(
            RoleArn::parse("arn:aws-cn:iam::123456789012:role/R")
                .unwrap()
                .path,
            "/"
        );
    }

    #[test]
    fn role_arns_must_be_in_the_connectors_account_and_partition() {
        let other = "arn:aws:iam::210987654321:role/CspmMonitorAws";
        assert_eq!(
            with(|c| c.set_role_arn(Plan::Cspm, None, other).unwrap()),
            Err(ConnectorError::RoleInOtherAccount {
                arn: other.into(),
                found: "210987654321".into(),
                account: ACCOUNT.into()
            })
        );
        let china = "arn:aws-cn:iam::123456789012:role/RampartServers";
        assert_eq!(
            with(|c| c.set_role_arn(Plan::Servers, None, china).unwrap()),
            Err(ConnectorError::PartitionMismatch {
                arn: china.into(),
                found: "aws-cn".into(),
                expected: "aws".into()
            })
        );
    }

    #[test]
    fn set_role_arn_names_unknown_plans_and_fields() {
        let mut connector = single(&[Plan::Cspm, Plan::Sql]);
        let arn = "arn:aws:iam::123456789012:role/Custom";
        assert_eq!(
            connector.set_role_arn(Plan::Servers, None, arn),
            Err(ConnectorError::PlanNotEnabled(Plan::Servers))
        );
        let err = connector
            .set_role_arn(Plan::Sql, Some("kinesisToS3"), arn)
            .unwrap_err();
        assert!(matches!(err, ConnectorError::UnknownRoleField { .. }));
        assert!(
            err.to_string().contains("`kinesisToS3`") && err.to_string().contains("rds"),
            "{err}"
        );
        connector
            .set_role_arn(Plan::Sql, Some("arcAutoProvisioning.cloudRoleArn"), arn)
            .unwrap();
        let Some(Offering::DefenderForDatabasesAws(o)) = connector.offering(Plan::Sql) else {
            panic!("sql offering");
        };
        assert_eq!(o.arc_auto_provisioning.cloud_role_arn, arn);
        // The first role (the one reads run as) is unchanged.
        assert_eq!(
            connector.role_arn(Plan::Sql),
            Some("arn:aws:iam::123456789012:role/RampartDatabasesRds")
        );
    }

    #[test]
    fn set_plans_keeps_existing_offerings() {
        let mut connector = single(&[Plan::Cspm, Plan::Servers]);
        let arn = "arn:aws:iam::123456789012:role/Custom";
        connector.set_role_arn(Plan::Cspm, None, arn).unwrap();
        connector.set_plans(&[Plan::Containers, Plan::Cspm]);
        assert_eq!(connector.plans(), [Plan::Containers, Plan::Cspm]);
        assert_eq!(connector.role_arn(Plan::Cspm), Some(arn));
        assert_eq!(
            connector.role_arn(Plan::Containers),
            Some("arn:aws:iam::123456789012:role/RampartContainersK8s")
        );
        assert_eq!(connector.validate(), Ok(()));
    }

    #[test]
    fn organization_data_is_checked() {
        let org = |stackset: &str, excluded: &[&str]| {
            let data = OrganizationalData::Organization {
                stackset_name: stackset.into(),
                excluded_account_ids: excluded.iter().map(|s| (*s).to_owned()).collect(),
            };
            move |c: &mut Connector| c.environment_data.organizational_data = Some(data)
        };
        assert_eq!(with(org("Rampart", &["210987654321"])), Ok(()));
        assert!(with(org("Rampart", &[])).is_ok());
        assert_eq!(
            with(org("Rampart", &["21098765432x"])),
            Err(ConnectorError::InvalidExcludedAccount(
                "21098765432x".into()
            ))
        );
        assert_eq!(
            with(org("Rampart", &["210987654321", "210987654321"])),
            Err(ConnectorError::DuplicateExcludedAccount(
                "210987654321".into()
            ))
        );
        for bad in ["", "1abc", "has_underscore", &"s".repeat(129)] {
            assert_eq!(
                with(org(bad, &[])),
                Err(ConnectorError::InvalidStacksetName(bad.into()))
            );
        }
        let member = |parent: &str| {
            let parent = parent.to_owned();
            move |c: &mut Connector| {
                c.environment_data.organizational_data = Some(OrganizationalData::Member {
                    parent_hierarchy_id: parent,
                });
            }
        };
        assert_eq!(
            with(member("42")),
            Err(ConnectorError::InvalidParent("42".into()))
        );
        assert_eq!(
            with(member(ACCOUNT)),
            Err(ConnectorError::ParentIsSelf(ACCOUNT.into()))
        );
    }

    #[test]
    fn audit_retention_must_be_positive() {
        assert_eq!(
            with(|c| {
                if let Some(Offering::DefenderForContainersAws(o)) =
                    c.offering_mut(Plan::Containers)
                {
                    o.kube_audit_retention_time = 0;
                }
            }),
            Err(ConnectorError::AuditRetention(0))
        );
    }

    #[test]
    fn servers_tags_and_paused_round_trip_and_are_checked() {
        let mut connector = single(&[Plan::Cspm, Plan::Servers]);
        // Defaults serialize as before: no new keys.
        let json = serde_json::to_value(&connector).unwrap();
        assert!(json.get("paused").is_none());
        assert!(json["offerings"][1].get("scopeByTags").is_none());
        assert!(json["offerings"][1].get("vmScanners").is_none());
        connector.paused = true;
        let Some(Offering::DefenderForServersAws(o)) = connector.offering_mut(Plan::Servers) else {
            panic!("servers offering");
        };
        o.scope_by_tags = crate::parse_tags(crate::SCOPE_BY_TAGS, "env=prod, team = sec").unwrap();
        o.vm_scanners = Some(crate::VmScanners {
            enabled: true,
            exclusion_tags: crate::parse_tags(crate::EXCLUSION_TAGS, "noscan").unwrap(),
        });
        assert_eq!(connector.validate(), Ok(()));
        let json = serde_json::to_value(&connector).unwrap();
        assert_eq!(json["paused"], true);
        assert_eq!(
            json["offerings"][1]["scopeByTags"],
            serde_json::json!({"env": "prod", "team": "sec"})
        );
        assert_eq!(
            json["offerings"][1]["vmScanners"],
            serde_json::json!({"enabled": true, "exclusionTags": {"noscan": ""}})
        );
        assert_eq!(
            Connector::from_json(&connector.to_json()).unwrap(),
            connector
        );

        // A reserved key sent through the API (JSON) is refused by validate.
        let mut bad = json.clone();
        bad["offerings"][1]["scopeByTags"] =
            serde_json::json!({"aws:cloudformation:stack-name": "x"});
        let err = Connector::from_json(&bad.to_string())
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                ConnectorError::InvalidTag {
                    field: crate::SCOPE_BY_TAGS,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.field(), Some(crate::SCOPE_BY_TAGS));
        assert!(err.to_string().contains("reserved"), "{err}");
    }

    #[test]
    fn tags_parse_like_the_cli_and_the_form_take_them() {
        let tags = crate::parse_tags(crate::SCOPE_BY_TAGS, " a=1,\nb=, c ").unwrap();
        assert_eq!(crate::format_tags(&tags), "a=1, b=, c=");
        assert_eq!(
            crate::parse_tags(crate::SCOPE_BY_TAGS, " , ")
                .unwrap()
                .len(),
            0
        );
        for (bad, why) in [
            ("=v", "empty"),
            ("a=1,a=2", "twice"),
            ("AWS:x=1", "reserved"),
            (&format!("{}=v", "k".repeat(129)), "128"),
            (&format!("k={}", "v".repeat(257)), "256"),
        ] {
            let err = crate::parse_tags(crate::EXCLUSION_TAGS, bad).unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
            assert_eq!(err.field(), Some(crate::EXCLUSION_TAGS));
        }
    }

    #[test]
    fn errors_name_their_field() {
        assert_eq!(
            with(|c| c.name = "a b".into()).unwrap_err().field(),
            Some("name")
        );
        assert_eq!(
            with(|c| c.hierarchy_identifier = "1".into())
                .unwrap_err()
                .field(),
            Some("hierarchyIdentifier")
        );
        assert_eq!(
            with(|c| c.environment_data.regions.push("mars-1".into()))
                .unwrap_err()
                .field(),
            Some("environmentData.regions")
        );
        assert_eq!(
            with(|c| c.environment_data.scan_interval = 0)
                .unwrap_err()
                .field(),
            Some("environmentData.scanInterval")
        );
        assert_eq!(
            with(|c| c.offerings.clear()).unwrap_err().field(),
            Some("offerings")
        );
        assert_eq!(ConnectorError::Json("x".into()).field(), None);
    }

    #[test]
    fn plan_names_parse() {
        assert_eq!("servers".parse::<Plan>(), Ok(Plan::Servers));
        assert_eq!(
            "storage".parse::<Plan>(),
            Err(ConnectorError::UnknownPlan("storage".into()))
        );
    }
}
