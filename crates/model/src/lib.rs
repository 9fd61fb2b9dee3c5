//! Rampart's data model: what a scan produces and every later stage reads.
//!
//! * [`Asset`] — one normalized resource or setting found in an AWS account.
//! * [`CoverageGap`] — something a scan could not read, and why.
//! * [`ScanRecord`] — one scan: when, where, how many calls, how it ended.
//! * [`Alert`] — what threat detection raises (`rampart.alerts/v1`).
//! * [`suggest`] — "did you mean …" for names a user mistyped.
//!
//! The types are plain serializable data; no AWS SDK types leak in here.

use std::collections::BTreeMap;

pub mod alert;
pub mod machine;
pub mod ssm_inventory;
pub mod suggest;

pub use alert::{
    ALERTS_SCHEMA, Alert, AlertEntity, AlertEvidence, AlertPlan, AlertResource, AlertRule,
    AlertSource, AlertStatus, AlertsDocument, Mitre,
};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One resource (or account/region-level setting) found in an AWS account.
///
/// `resource_type` uses CloudFormation's type names (`AWS::S3::Bucket`);
/// settings that CloudFormation has no type for use Rampart's own names in the
/// `Rampart::` namespace (for example `Rampart::IAM::PasswordPolicy`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// The ARN, or a stable ARN-like identifier naming account and region for
    /// settings that have no ARN of their own.
    pub arn: String,
    /// Resource type, as CloudFormation names it.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// 12-digit AWS account id.
    pub account: String,
    /// AWS region code; global resources carry the scan's home region.
    pub region: String,
    /// Human-readable name (resource name, id, or the setting's name).
    pub name: String,
    /// Resource tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Service-specific properties as JSON, in the API's own field names
    /// (camelCase), plus any detail the collector joined in.
    pub properties: serde_json::Value,
    /// Properties the scan could not read, by property name, with the error.
    /// Evaluation treats a check that needs one of these as an error, never
    /// as healthy.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unavailable: BTreeMap<String, String>,
}

impl Asset {
    /// A new asset with empty tags and no unavailable properties.
    pub fn new(
        arn: impl Into<String>,
        resource_type: impl Into<String>,
        account: impl Into<String>,
        region: impl Into<String>,
        name: impl Into<String>,
        properties: serde_json::Value,
    ) -> Self {
        Self {
            arn: arn.into(),
            resource_type: resource_type.into(),
            account: account.into(),
            region: region.into(),
            name: name.into(),
            tags: BTreeMap::new(),
            properties,
            unavailable: BTreeMap::new(),
        }
    }

    /// Replaces the asset's tags.
    #[must_use]
    pub fn with_tags(mut self, tags: BTreeMap<String, String>) -> Self {
        self.tags = tags;
        self
    }

    /// Uses the `Name` tag as the asset's name when there is one (the EC2
    /// convention); keeps the current name otherwise.
    #[must_use]
    pub fn with_name_tag(mut self) -> Self {
        if let Some(name) = self.tags.get("Name").filter(|n| !n.is_empty()) {
            self.name = name.clone();
        }
        self
    }

    /// Sets one property (the properties must be a JSON object; anything else
    /// is replaced by an object).
    pub fn set_property(&mut self, key: &str, value: serde_json::Value) {
        if !self.properties.is_object() {
            self.properties = serde_json::Value::Object(serde_json::Map::new());
        }
        if let Some(map) = self.properties.as_object_mut() {
            map.insert(key.to_owned(), value);
        }
    }

    /// Whether the scan read anything about this asset: some non-null
    /// property, other than the `arn` it is named by, that is not listed
    /// as unavailable.
    pub fn has_data(&self) -> bool {
        match &self.properties {
            serde_json::Value::Object(map) => map
                .iter()
                .any(|(k, v)| k != "arn" && !self.unavailable.contains_key(k) && !v.is_null()),
            serde_json::Value::Null => false,
            _ => true,
        }
    }

    /// Records that a property could not be read.
    pub fn mark_unavailable(&mut self, key: &str, error: impl Into<String>) {
        self.unavailable.insert(key.to_owned(), error.into());
    }
}

/// Why a part of the account could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// The credentials lack permission for the call.
    AccessDenied,
    /// The region is not enabled for the account (opt-in region).
    RegionDisabled,
    /// Throttled beyond the retry budget.
    Throttled,
    /// The call or the connection timed out.
    Timeout,
    /// The endpoint does not implement the operation (emulators) or the
    /// service is not available in the region.
    NotImplemented,
    /// The endpoint could not be reached.
    Unreachable,
    /// Any other failure.
    Other,
}

impl GapKind {
    /// The snake-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::RegionDisabled => "region_disabled",
            Self::Throttled => "throttled",
            Self::Timeout => "timeout",
            Self::NotImplemented => "not_implemented",
            Self::Unreachable => "unreachable",
            Self::Other => "other",
        }
    }
}

/// A part of the account a scan could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageGap {
    /// Account id.
    pub account: String,
    /// Region code.
    pub region: String,
    /// Service, as in IAM action prefixes (`s3`, `ec2`, …).
    pub service: String,
    /// The API operation that failed (`GetBucketPolicy`).
    pub operation: String,
    /// Classification of the failure.
    pub kind: GapKind,
    /// The error, as one line (the first one seen, when it repeated).
    pub error: String,
    /// How many calls failed this way (same account, region, service,
    /// operation and kind).
    #[serde(default = "one")]
    pub occurrences: u64,
}

fn one() -> u64 {
    1
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Still running, or interrupted before it finished (never read as current).
    Running,
    /// Finished; its snapshot is complete.
    Complete,
    /// Ended without a snapshot.
    Failed,
}

impl ScanStatus {
    /// The snake-case name used in output and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Failed => "failed",
        }
    }

    /// Parses [`ScanStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(Self::Running),
            "complete" => Some(Self::Complete),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One scan and its metadata (the snapshot's assets and gaps are stored beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRecord {
    /// Unique scan id.
    pub id: String,
    /// When the scan started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When the scan finished, if it did.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub finished_at: Option<OffsetDateTime>,
    /// How it ended.
    pub status: ScanStatus,
    /// Accounts scanned.
    pub accounts: Vec<String>,
    /// Regions scanned.
    pub regions: Vec<String>,
    /// AWS API calls made (attempts, retries included).
    pub api_calls: u64,
    /// Number of assets in the snapshot.
    pub asset_count: u64,
    /// Number of coverage gaps.
    pub gap_count: u64,
}

/// A complete scan result, as a collector run hands it to the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The scan's metadata.
    pub scan: ScanRecord,
    /// Everything found.
    pub assets: Vec<Asset>,
    /// Everything that could not be read.
    pub gaps: Vec<CoverageGap>,
}

/// Severity of a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Self::Informational,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses [`Severity::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The result of assessing one resource against one recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentStatus {
    /// The resource meets the recommendation.
    Healthy,
    /// The resource does not meet it.
    Unhealthy,
    /// The recommendation does not apply to this resource.
    NotApplicable,
    /// The data needed could not be read (a coverage gap); never counted as healthy.
    Error,
    /// Unhealthy or not, an exemption covers it.
    Exempt,
}

impl AssessmentStatus {
    /// The snake-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::NotApplicable => "not_applicable",
            Self::Error => "error",
            Self::Exempt => "exempt",
        }
    }

    /// Parses [`AssessmentStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Healthy,
            Self::Unhealthy,
            Self::NotApplicable,
            Self::Error,
            Self::Exempt,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One piece of evidence: where in the asset a value was read, and the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Property path, dot-separated (`metadataOptions.httpTokens`).
    pub path: String,
    /// The value found there (`null` when absent).
    pub value: serde_json::Value,
}

/// One recommendation assessed on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Stable recommendation id.
    pub recommendation: String,
    /// The resource's ARN (or setting identifier).
    pub resource: String,
    /// The resource's type.
    pub resource_type: String,
    /// The resource's name.
    pub resource_name: String,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Outcome.
    pub status: AssessmentStatus,
    /// One sentence a person can act on.
    pub reason: String,
    /// What the outcome rests on.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// For exempt assessments: the status it would have had, and why it is exempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<ExemptionNote>,
}

/// Why an assessment is exempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExemptionNote {
    /// The status before the exemption.
    pub original_status: AssessmentStatus,
    /// The exemption's reason.
    pub reason: String,
    /// When the exemption ends, if it does (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Resource type names for settings that CloudFormation has no type for.
pub mod types {
    /// IAM account summary (`GetAccountSummary`), one per account.
    pub const IAM_ACCOUNT_SUMMARY: &str = "Rampart::IAM::AccountSummary";
    /// IAM password policy, one per account (present even when unset).
    pub const IAM_PASSWORD_POLICY: &str = "Rampart::IAM::PasswordPolicy";
    /// IAM credential report row for the root account.
    pub const IAM_ROOT_ACCOUNT: &str = "Rampart::IAM::RootAccount";
    /// Account-level S3 Block Public Access, one per account.
    pub const S3_ACCOUNT_PUBLIC_ACCESS_BLOCK: &str = "Rampart::S3::AccountPublicAccessBlock";
    /// EBS encryption by default, one per region.
    pub const EC2_EBS_ENCRYPTION_BY_DEFAULT: &str = "Rampart::EC2::EbsEncryptionByDefault";
    /// Other EC2 region-level settings (snapshot and AMI block public
    /// access, instance metadata defaults), one per region.
    pub const EC2_REGION_SETTINGS: &str = "Rampart::EC2::RegionSettings";
    /// AWS Config recording state, one per region.
    pub const CONFIG_REGION: &str = "Rampart::Config::RegionStatus";
    /// GuardDuty state, one per region.
    pub const GUARDDUTY_REGION: &str = "Rampart::GuardDuty::RegionStatus";
    /// CloudTrail coverage, one per region.
    pub const CLOUDTRAIL_REGION: &str = "Rampart::CloudTrail::RegionStatus";
    /// An instance managed by Systems Manager (`DescribeInstanceInformation`):
    /// SSM's view of an EC2 instance or hybrid node, one per instance.
    pub const SSM_MANAGED_INSTANCE: &str = "Rampart::SSM::ManagedInstance";
    /// The software inventory SSM holds for one managed instance
    /// (`AWS:InstanceInformation` for the OS, `AWS:Application` for the
    /// packages), one per managed instance that reported inventory.
    pub const SSM_INSTANCE_INVENTORY: &str = "Rampart::SSM::InstanceInventory";
    /// Systems Manager in one region: whether its managed-instance list and
    /// associations could be read, how many instances it manages, the
    /// newest agent versions seen; one per region (present with zero
    /// managed instances).
    pub const SSM_REGION: &str = "Rampart::SSM::RegionStatus";
    /// The Servers plan's settings for the account, as the connector that
    /// scanned it has them (written by the engine, not read from AWS); one
    /// per account scanned through a connector.
    pub const SERVERS_PLAN: &str = "Rampart::Servers::PlanSettings";
    /// The account itself (caller identity, organization membership).
    pub const ACCOUNT: &str = "Rampart::Account";
    /// IAM Access Analyzer analyzers, one per region (present even when
    /// the region has none).
    pub const ACCESS_ANALYZER_REGION: &str = "Rampart::AccessAnalyzer::RegionStatus";
    /// CloudWatch Logs metric filters and CloudWatch metric alarms, one
    /// per region (the CIS monitoring recommendations read them).
    pub const CLOUDWATCH_MONITORING: &str = "Rampart::CloudWatch::Monitoring";
    /// Security Hub state and enabled standards, one per region.
    pub const SECURITYHUB_REGION: &str = "Rampart::SecurityHub::RegionStatus";
    /// What agentless scanning read on one EC2 instance's disks (the
    /// [`crate::machine::MachineScan`] plus `resourceArn`,
    /// `severityThreshold`), one per instance scanned.
    pub const MACHINE_SCAN: &str = "Rampart::EC2::MachineScan";
    /// A SQL Server found in the account (on an EC2 instance, or an RDS
    /// Custom / RDS for SQL Server DB instance), with its host, edition,
    /// version and the signals that found it; derived at scan time from the
    /// EC2, SSM and RDS assets.
    pub const SQL_SERVER_INSTANCE: &str = "Rampart::SQL::ServerInstance";
    /// The SQL plan's vulnerability assessment of one SQL Server on EC2
    /// (the read-only script's results per rule and database, run through
    /// SSM Run Command), one per server assessed.
    pub const SQL_VULNERABILITY_ASSESSMENT: &str = "Rampart::SQL::VulnerabilityAssessment";
    // --- wt-data ---
    /// Amazon EMR block public access (`GetBlockPublicAccessConfiguration`),
    /// one per region.
    pub const EMR_BLOCK_PUBLIC_ACCESS: &str = "Rampart::EMR::BlockPublicAccess";
    // --- wt-gov ---
    /// Amazon Inspector activation for the account (`BatchGetAccountStatus`),
    /// one per region.
    pub const INSPECTOR_REGION: &str = "Rampart::Inspector::RegionStatus";
    /// Amazon Macie session state (`GetMacieSession`), one per region.
    pub const MACIE_REGION: &str = "Rampart::Macie::RegionStatus";
    /// The account's alternate contacts (security, billing, operations),
    /// one per account.
    pub const ACCOUNT_CONTACTS: &str = "Rampart::Account::AlternateContacts";
    /// The resources AWS Backup has backed up (`ListProtectedResources`),
    /// one per region.
    pub const BACKUP_PROTECTED_RESOURCES: &str = "Rampart::Backup::ProtectedResources";
    /// Amazon Bedrock's model invocation logging and guardrails, one per
    /// region.
    pub const BEDROCK_REGION: &str = "Rampart::Bedrock::RegionStatus";
    /// IAM Identity Center instances of the account across the scanned
    /// regions (`ListInstances`), one per account.
    pub const IDENTITY_CENTER: &str = "Rampart::IdentityCenter::Instances";
    // --- wt-edge ---
    /// AWS WAF in one region: its `REGIONAL` web ACLs and the Application
    /// Load Balancers associated with them, one per region.
    pub const WAFV2_REGION: &str = "Rampart::WAFv2::RegionStatus";
    /// The account's Shield Advanced subscription, protections, SRT access
    /// and proactive engagement, one per account (present unsubscribed).
    pub const SHIELD_SUBSCRIPTION: &str = "Rampart::Shield::Subscription";
    /// A domain registered with Route 53 Domains, one per domain.
    pub const ROUTE53_DOMAIN: &str = "Rampart::Route53Domains::Domain";
}

/// The stable identifier of an account- or region-level setting:
/// `arn:rampart:<service>:<region>:<account>:<setting>`.
pub fn setting_id(service: &str, region: &str, account: &str, setting: &str) -> String {
    format!("arn:rampart:{service}:{region}:{account}:{setting}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_json_uses_contract_field_names() {
        let asset = Asset::new(
            "arn:aws:s3:::b",
            "AWS::S3::Bucket",
            "123456789012",
            "us-east-1",
            "b",
            serde_json::json!({}),
        );
        let json = serde_json::to_value(&asset).unwrap_or_default();
        for key in [
            "arn",
            "type",
            "account",
            "region",
            "name",
            "tags",
            "properties",
        ] {
            assert!(json.get(key).is_some(), "missing `{key}` in {json}");
        }
        assert!(json.get("unavailable").is_none());
    }

    #[test]
    fn name_tag_names_the_asset() {
        let tagged = Asset::new("a", "t", "1", "r", "i-1", serde_json::Value::Null)
            .with_tags([("Name".to_owned(), "web".to_owned())].into())
            .with_name_tag();
        assert_eq!(tagged.name, "web");
        let plain = Asset::new("a", "t", "1", "r", "i-1", serde_json::Value::Null).with_name_tag();
        assert_eq!(plain.name, "i-1");
    }

    #[test]
    fn set_property_and_unavailable() {
        let mut asset = Asset::new("a", "t", "1", "r", "n", serde_json::Value::Null);
        asset.set_property("x", serde_json::json!(1));
        asset.mark_unavailable("policy", "AccessDenied");
        assert_eq!(asset.properties["x"], 1);
        assert_eq!(asset.unavailable["policy"], "AccessDenied");
    }

    #[test]
    fn data_means_a_readable_non_null_property() {
        let mut asset = Asset::new(
            "a",
            "t",
            "1",
            "r",
            "n",
            serde_json::json!({"x": null, "y": 1}),
        );
        assert!(asset.has_data());
        asset.mark_unavailable("y", "AccessDenied");
        assert!(!asset.has_data());
    }

    #[test]
    fn status_round_trips() {
        for s in [
            ScanStatus::Running,
            ScanStatus::Complete,
            ScanStatus::Failed,
        ] {
            assert_eq!(ScanStatus::parse(s.as_str()), Some(s));
        }
    }
}
