//! The native JSON export, `rampart.assessments/v1`
//! (described in `docs/formats.md`).
//!
//! Every contract field is written, with the contract's names. Fields added
//! beyond the contract: `scan.status`, `scan.api_calls`, `scan.asset_count`,
//! `scan.gap_count`; per assessment `evidence` (always) and `exemption` (on
//! exempt assessments); per gap `operation`, `kind` and `occurrences`.

use rampart_catalog::score::SecureScore;
use rampart_model::{Evidence, ExemptionNote};
use serde::Serialize;

use crate::{Findings, Format, ReportError, recommendation, rfc3339, to_json};

/// The schema name written in `schema`.
pub(crate) const SCHEMA: &str = "rampart.assessments/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    generated_at: String,
    scan: Scan<'a>,
    secure_score: &'a SecureScore,
    assessments: Vec<Entry<'a>>,
    gaps: Vec<Gap<'a>>,
}

#[derive(Serialize)]
struct Scan<'a> {
    id: &'a str,
    started_at: String,
    finished_at: Option<String>,
    accounts: &'a [String],
    regions: &'a [String],
    status: &'static str,
    api_calls: u64,
    asset_count: u64,
    gap_count: u64,
}

#[derive(Serialize)]
struct Entry<'a> {
    recommendation: &'a str,
    title: &'a str,
    severity: &'static str,
    status: &'static str,
    resource: &'a str,
    resource_type: &'a str,
    resource_name: &'a str,
    account: &'a str,
    region: &'a str,
    reason: &'a str,
    security_control: &'a str,
    standards: &'a [String],
    evidence: &'a [Evidence],
    #[serde(skip_serializing_if = "Option::is_none")]
    exemption: Option<&'a ExemptionNote>,
}

#[derive(Serialize)]
struct Gap<'a> {
    account: &'a str,
    region: &'a str,
    service: &'a str,
    error: &'a str,
    operation: &'a str,
    kind: &'static str,
    occurrences: u64,
}

pub(crate) fn render(findings: &Findings<'_>) -> Result<String, ReportError> {
    let scan = findings.scan;
    let mut assessments = Vec::with_capacity(findings.assessments.len());
    for a in findings.assessments {
        let rec = recommendation(findings.catalog, a)?;
        assessments.push(Entry {
            recommendation: &a.recommendation,
            title: &rec.title,
            severity: rec.severity.as_str(),
            status: a.status.as_str(),
            resource: &a.resource,
            resource_type: &a.resource_type,
            resource_name: &a.resource_name,
            account: &a.account,
            region: &a.region,
            reason: &a.reason,
            security_control: &rec.security_control,
            standards: &rec.standards,
            evidence: &a.evidence,
            exemption: a.exemption.as_ref(),
        });
    }
    let gaps = findings
        .gaps
        .iter()
        .map(|g| Gap {
            account: &g.account,
            region: &g.region,
            service: &g.service,
            error: &g.error,
            operation: &g.operation,
            kind: g.kind.as_str(),
            occurrences: g.occurrences,
        })
        .collect();
    let document = Document {
        schema: SCHEMA,
        generated_at: rfc3339(findings.generated_at)?,
        scan: Scan {
            id: &scan.id,
            started_at: rfc3339(scan.started_at)?,
            finished_at: scan.finished_at.map(rfc3339).transpose()?,
            accounts: &scan.accounts,
            regions: &scan.regions,
            status: scan.status.as_str(),
            api_calls: scan.api_calls,
            asset_count: scan.asset_count,
            gap_count: scan.gap_count,
        },
        secure_score: findings.score,
        assessments,
        gaps,
    };
    to_json(Format::Json, &document)
}
