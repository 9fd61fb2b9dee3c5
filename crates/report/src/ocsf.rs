//! OCSF export: one Compliance Finding event (class 2003, category 2
//! Findings, OCSF 1.3.0, cloud profile) per assessment, as a JSON array.
//!
//! Status mapping (`compliance.status_id` / finding `status_id`):
//!
//! | Rampart          | compliance            | finding status |
//! |------------------|-----------------------|----------------|
//! | `healthy`        | 1 Pass                | 4 Resolved     |
//! | `unhealthy`      | 3 Fail                | 1 New          |
//! | `error`          | 2 Warning             | 1 New          |
//! | `not_applicable` | 99 Other (`Not Applicable`) | 4 Resolved |
//! | `exempt`         | the original status's | 3 Suppressed   |
//!
//! Passed and not-applicable checks are `Resolved`, as Security Hub sets the
//! workflow of passed control findings. An exempt assessment keeps the
//! compliance result it would have had (a suppressed failure is still a
//! failure), is `Suppressed`, and carries the exemption's reason in
//! `status_detail` and in `unmapped.rampart.exemption`. Rampart's own status
//! name, the evidence and the remediation CLI are under `unmapped.rampart`.
//!
//! After the assessments' events come the machines' (agentless scanning):
//! Vulnerability Findings (2002) and Detection Findings (2004) for secrets,
//! described in `machines.rs`.

use rampart_model::{Assessment, AssessmentStatus, Evidence, ExemptionNote, Severity};
use serde::Serialize;

use crate::{
    Findings, Format, ReportError, recommendation, severity_caption, standard_of, to_json,
};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.3.0";

const CLASS_UID: u32 = 2003;
const CATEGORY_UID: u32 = 2;
const ACTIVITY_CREATE: u32 = 1;

#[derive(Serialize)]
struct Event<'a> {
    metadata: Metadata,
    time: i64,
    class_uid: u32,
    class_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    activity_id: u32,
    activity_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<String>,
    message: &'a str,
    finding_info: FindingInfo<'a>,
    compliance: Compliance<'a>,
    resources: [Resource<'a>; 1],
    cloud: Cloud<'a>,
    remediation: Remediation<'a>,
    unmapped: Unmapped<'a>,
}

#[derive(Serialize)]
struct Metadata {
    version: &'static str,
    product: Product,
    profiles: [&'static str; 1],
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: String,
    title: &'a str,
    desc: &'a str,
    analytic: Analytic<'a>,
}

#[derive(Serialize)]
struct Analytic<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Compliance<'a> {
    standards: Vec<&'a str>,
    requirements: &'a [String],
    control: &'a str,
    status_id: u8,
    status: &'static str,
}

#[derive(Serialize)]
struct Resource<'a> {
    uid: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    name: &'a str,
    region: &'a str,
    cloud_partition: &'a str,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    account: Account<'a>,
    region: &'a str,
}

#[derive(Serialize)]
struct Account<'a> {
    uid: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Remediation<'a> {
    desc: &'a str,
}

#[derive(Serialize)]
struct Unmapped<'a> {
    rampart: RampartDetail<'a>,
}

#[derive(Serialize)]
struct RampartDetail<'a> {
    status: &'static str,
    scan_id: &'a str,
    security_control: &'a str,
    remediation_cli: &'a str,
    evidence: &'a [Evidence],
    #[serde(skip_serializing_if = "Option::is_none")]
    exemption: Option<&'a ExemptionNote>,
}

/// One event of the export: an assessment's, or a machine finding's (see
/// `machines.rs`). Untagged, so each serializes as itself.
#[derive(Serialize)]
#[serde(untagged)]
enum AnyEvent<'a> {
    Compliance(Box<Event<'a>>),
    Machine(serde_json::Value),
}

/// OCSF `severity_id` and caption.
pub(crate) fn severity_id(severity: Severity) -> (u8, &'static str) {
    let id = match severity {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    };
    (id, severity_caption(severity))
}

/// `compliance.status_id` and caption of a check result.
fn compliance_status(status: AssessmentStatus) -> (u8, &'static str) {
    match status {
        AssessmentStatus::Healthy => (1, "Pass"),
        AssessmentStatus::Error => (2, "Warning"),
        AssessmentStatus::Unhealthy => (3, "Fail"),
        AssessmentStatus::NotApplicable => (99, "Not Applicable"),
        // An exemption without its original status: nothing is known.
        AssessmentStatus::Exempt => (0, "Unknown"),
    }
}

/// The finding's `status_id` and caption.
fn finding_status(status: AssessmentStatus) -> (u8, &'static str) {
    match status {
        AssessmentStatus::Healthy | AssessmentStatus::NotApplicable => (4, "Resolved"),
        AssessmentStatus::Unhealthy | AssessmentStatus::Error => (1, "New"),
        AssessmentStatus::Exempt => (3, "Suppressed"),
    }
}

/// The partition of an ARN (`aws`, `aws-cn`, …), `aws` when it has none.
pub(crate) fn partition(arn: &str) -> &str {
    let mut parts = arn.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(p)) if p.starts_with("aws") => p,
        _ => "aws",
    }
}

fn event<'a>(findings: &Findings<'a>, a: &'a Assessment) -> Result<Event<'a>, ReportError> {
    let rec = recommendation(findings.catalog, a)?;
    let (severity_id, severity) = severity_id(rec.severity);
    let checked = match (&a.exemption, a.status) {
        (Some(note), AssessmentStatus::Exempt) => note.original_status,
        _ => a.status,
    };
    let (compliance_id, compliance) = compliance_status(checked);
    let (status_id, status) = finding_status(a.status);
    let status_detail = match (a.status, &a.exemption) {
        (AssessmentStatus::Exempt, Some(note)) => Some(format!("exempt: {}", note.reason)),
        (AssessmentStatus::Exempt, None) => Some("exempt".to_owned()),
        _ => None,
    };
    let mut standards: Vec<&str> = Vec::new();
    for mapping in &rec.standards {
        let id = standard_of(mapping);
        let name = findings
            .standards
            .iter()
            .find(|s| s.id == id)
            .map_or(id, |s| s.name.as_str());
        if !standards.contains(&name) {
            standards.push(name);
        }
    }
    Ok(Event {
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "Rampart",
                vendor_name: "Rampart",
                version: env!("CARGO_PKG_VERSION"),
            },
            profiles: ["cloud"],
        },
        time: (findings
            .scan
            .finished_at
            .unwrap_or(findings.scan.started_at))
        .unix_timestamp()
            * 1000,
        class_uid: CLASS_UID,
        class_name: "Compliance Finding",
        category_uid: CATEGORY_UID,
        category_name: "Findings",
        activity_id: ACTIVITY_CREATE,
        activity_name: "Create",
        type_uid: CLASS_UID * 100 + ACTIVITY_CREATE,
        type_name: "Compliance Finding: Create",
        severity_id,
        severity,
        status_id,
        status,
        status_detail,
        message: &a.reason,
        finding_info: FindingInfo {
            uid: format!("rampart:{}:{}", a.recommendation, a.resource),
            title: &rec.title,
            desc: &rec.description,
            analytic: Analytic {
                uid: &rec.id,
                name: &rec.title,
                type_id: 1,
                kind: "Rule",
            },
        },
        compliance: Compliance {
            standards,
            requirements: &rec.standards,
            control: &rec.security_control,
            status_id: compliance_id,
            status: compliance,
        },
        resources: [Resource {
            uid: &a.resource,
            kind: &a.resource_type,
            name: &a.resource_name,
            region: &a.region,
            cloud_partition: partition(&a.resource),
        }],
        cloud: Cloud {
            provider: "AWS",
            account: Account {
                uid: &a.account,
                type_id: 10,
                kind: "AWS Account",
            },
            region: &a.region,
        },
        remediation: Remediation {
            desc: &rec.remediation.text,
        },
        unmapped: Unmapped {
            rampart: RampartDetail {
                status: a.status.as_str(),
                scan_id: &findings.scan.id,
                security_control: &rec.security_control,
                remediation_cli: &rec.remediation.cli,
                evidence: &a.evidence,
                exemption: a.exemption.as_ref(),
            },
        },
    })
}

pub(crate) fn render(findings: &Findings<'_>) -> Result<String, ReportError> {
    let events = findings
        .assessments
        .iter()
        .map(|a| event(findings, a).map(|e| AnyEvent::Compliance(Box::new(e))))
        .chain(
            crate::machines::ocsf_events(findings.machines)
                .into_iter()
                .map(|e| Ok(AnyEvent::Machine(e))),
        )
        .collect::<Result<Vec<_>, _>>()?;
    to_json(Format::Ocsf, &events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_comes_from_the_arn() {
        assert_eq!(partition("arn:aws:s3:::b"), "aws");
        assert_eq!(partition("arn:aws-cn:s3:::b"), "aws-cn");
        assert_eq!(partition("arn:rampart:iam:us-east-1:1:x"), "aws");
        assert_eq!(partition("i-123"), "aws");
    }

    #[test]
    fn every_status_maps_to_ocsf_ids() {
        assert_eq!(compliance_status(AssessmentStatus::Healthy).0, 1);
        assert_eq!(compliance_status(AssessmentStatus::Error).0, 2);
        assert_eq!(compliance_status(AssessmentStatus::Unhealthy).0, 3);
        assert_eq!(compliance_status(AssessmentStatus::NotApplicable).0, 99);
        assert_eq!(finding_status(AssessmentStatus::Exempt), (3, "Suppressed"));
    }
}
