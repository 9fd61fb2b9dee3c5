//! Alerts: what threat detection raises (contract `rampart.alerts/v1`).
//!
//! An [`Alert`] groups every event of one alert type on the same entities
//! within one window; its `id` is stable, so the same incident keeps it
//! across runs. The field names are the contract's: add fields freely,
//! never rename or remove one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Severity;

/// The schema name of the alerts export.
pub const ALERTS_SCHEMA: &str = "rampart.alerts/v1";

/// The plan an alert belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertPlan {
    /// Containers (EKS).
    Containers,
    /// Servers (EC2).
    Servers,
    /// SQL Server on EC2 and RDS Custom.
    Sql,
    /// Foundational CSPM.
    Cspm,
}

impl AlertPlan {
    /// Every plan.
    pub const ALL: [AlertPlan; 4] = [Self::Containers, Self::Servers, Self::Sql, Self::Cspm];

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Containers => "containers",
            Self::Servers => "servers",
            Self::Sql => "sql",
            Self::Cspm => "cspm",
        }
    }

    /// Parses [`AlertPlan::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// Where the events behind an alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AlertSource {
    /// Kubernetes control-plane audit log (EKS).
    #[serde(rename = "eks-audit")]
    EksAudit,
    /// CloudTrail records.
    #[serde(rename = "cloudtrail")]
    CloudTrail,
    /// SQL Server error log and audit events.
    #[serde(rename = "sql-log")]
    SqlLog,
    /// Host logs.
    #[serde(rename = "host")]
    Host,
    /// Agentless disk scans.
    #[serde(rename = "disk-scan")]
    DiskScan,
}

impl AlertSource {
    /// Every source.
    pub const ALL: [AlertSource; 5] = [
        Self::EksAudit,
        Self::CloudTrail,
        Self::SqlLog,
        Self::Host,
        Self::DiskScan,
    ];

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EksAudit => "eks-audit",
            Self::CloudTrail => "cloudtrail",
            Self::SqlLog => "sql-log",
            Self::Host => "host",
            Self::DiskScan => "disk-scan",
        }
    }

    /// Parses [`AlertSource::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An alert's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised and not yet handled.
    Active,
    /// Handled: the threat was dealt with.
    Resolved,
    /// Judged benign or accepted.
    Dismissed,
}

impl AlertStatus {
    /// Every status.
    pub const ALL: [AlertStatus; 3] = [Self::Active, Self::Resolved, Self::Dismissed];

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Resolved => "resolved",
            Self::Dismissed => "dismissed",
        }
    }

    /// Parses [`AlertStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The resource an alert is about (a cluster, an instance, a database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertResource {
    /// Its ARN.
    pub arn: String,
    /// Its CloudFormation type (`AWS::EKS::Cluster`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Its name.
    pub name: String,
}

/// One entity an alert involves: a namespace, a pod, a user, an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertEntity {
    /// What it is (`k8s-namespace`, `k8s-pod`, `k8s-user`, `ip`, `aws-principal`, …).
    pub kind: String,
    /// Its value.
    pub value: String,
}

impl AlertEntity {
    /// An entity of `kind` with `value`.
    pub fn new(kind: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            value: value.into(),
        }
    }
}

/// MITRE ATT&CK mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mitre {
    /// Tactic names without spaces (`PrivilegeEscalation`).
    pub tactics: Vec<String>,
    /// Technique ids (`T1611`, `T1078.004`).
    pub techniques: Vec<String>,
}

/// The rule that raised an alert, with the attribution its rule set requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRule {
    /// The rule's stable id.
    pub id: String,
    /// `rampart` for Rampart's own rules, `sigma` for rules adapted from SigmaHQ.
    pub source: String,
    /// Author, where the rule set requires attribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Link to the original rule, where adapted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The licence of an adapted rule (`DRL 1.1`), whose notice it keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// One event that contributed to an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvidence {
    /// The event's source.
    pub source: AlertSource,
    /// The id the event carries at its source (`auditID`, `eventID`, …), unchanged.
    pub event_id: String,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// One line: what the event did, by whom, to what.
    pub summary: String,
}

/// One alert (contract `rampart.alerts/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable: the same incident keeps its id across runs.
    pub id: String,
    /// The alert type's stable id (`K8S.PrivilegedContainer`).
    pub alert_type: String,
    /// Title.
    pub title: String,
    /// Severity (alerts use informational, low, medium and high).
    pub severity: Severity,
    /// Lifecycle state.
    pub status: AlertStatus,
    /// The plan that raised it.
    pub plan: AlertPlan,
    /// The events' source.
    pub source: AlertSource,
    /// The first contributing event's time.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// The last contributing event's time.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// How many events contributed.
    pub count: u64,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The resource it is about.
    pub resource: AlertResource,
    /// The entities involved.
    pub entities: Vec<AlertEntity>,
    /// MITRE ATT&CK mapping.
    pub mitre: Mitre,
    /// What happened, in a sentence or two a SOC analyst can act on.
    pub description: String,
    /// What to do now.
    pub remediation: String,
    /// The rule that raised it.
    pub rule: AlertRule,
    /// The contributing events (possibly capped; see `evidence_truncated`).
    pub evidence: Vec<AlertEvidence>,
    /// How many contributing events were left out of `evidence`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evidence_truncated: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The `rampart.alerts/v1` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsDocument {
    /// Always [`ALERTS_SCHEMA`].
    pub schema: String,
    /// When the document was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The alerts.
    pub alerts: Vec<Alert>,
}

impl AlertsDocument {
    /// A document holding `alerts`, made at `generated_at`.
    pub fn new(generated_at: OffsetDateTime, alerts: Vec<Alert>) -> Self {
        Self {
            schema: ALERTS_SCHEMA.to_owned(),
            generated_at,
            alerts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for plan in AlertPlan::ALL {
            assert_eq!(AlertPlan::parse(plan.as_str()), Some(plan));
        }
        for source in AlertSource::ALL {
            assert_eq!(AlertSource::parse(source.as_str()), Some(source));
            let json = serde_json::to_value(source).ok();
            assert_eq!(json, Some(serde_json::Value::from(source.as_str())));
        }
        for status in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AlertStatus::parse("Active"), None);
    }

    #[test]
    fn evidence_uses_the_contract_names() {
        let evidence = AlertEvidence {
            source: AlertSource::EksAudit,
            event_id: "a1".into(),
            time: OffsetDateTime::UNIX_EPOCH,
            summary: "create pods".into(),
        };
        let text = serde_json::to_string(&evidence).unwrap_or_default();
        assert!(text.contains(r#""source":"eks-audit""#), "{text}");
        assert!(text.contains(r#""time":"1970-01-01T00:00:00Z""#), "{text}");
    }
}
