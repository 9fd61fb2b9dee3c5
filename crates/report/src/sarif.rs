//! SARIF 2.1.0 export: one run whose driver is Rampart.
//!
//! * One rule per recommendation that was assessed, ordered by id, with the
//!   title, description, remediation (text and CLI, plus CloudFormation in the
//!   Markdown help), `security-severity` (a CVSS-like score GitHub code
//!   scanning reads) and the standard controls as tags.
//! * Results only for what needs a look:
//!   * `unhealthy` → `kind: fail`, `level` from the severity
//!     (critical/high `error`, medium `warning`, low/informational `note`);
//!   * `error` → `kind: open` ("could not tell"), which SARIF requires to
//!     have `level: none` (§3.27.9);
//!   * `exempt` whose original status was unhealthy → as unhealthy, with an
//!     external, accepted `suppressions` entry carrying the exemption's
//!     reason (consumers show it as dismissed);
//!   * `healthy`, `not_applicable` and other exemptions → no result.
//! * Locations: SARIF results need one, and AWS resources are no files. The
//!   ARN is the `physicalLocation.artifactLocation.uri` (an absolute URI with
//!   scheme `arn`, so no `uriBaseId`; characters a URI cannot hold are
//!   percent-encoded), and a `logicalLocations` entry of kind `resource`
//!   carries the raw ARN and the resource's name.
//! * `partialFingerprints["rampartFinding/v1"]` is `<recommendation>|<ARN>`,
//!   stable across scans, so consumers track one finding over time.
//! * Coverage gaps are `toolExecutionNotifications` of the run's invocation.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use rampart_catalog::Recommendation;
use rampart_model::{Assessment, AssessmentStatus, ScanStatus, Severity};
use serde::Serialize;

use crate::{
    Findings, Format, ReportError, assessed_recommendations, recommendation, rfc3339, standard_of,
    to_json,
};

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";

/// The schema URI written in `$schema` (the OASIS errata 01 schema).
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Characters percent-encoded in an ARN used as a URI: controls, space,
/// those RFC 3986 allows nowhere, `%` itself, and `?`/`#` (which would start
/// a query or fragment).
const NOT_IN_URI: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'%')
    .add(b'?')
    .add(b'#');

/// The partial fingerprint's name.
const FINGERPRINT: &str = "rampartFinding/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation<'a>; 1],
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    severity: &'static str,
    #[serde(rename = "securityControl")]
    security_control: &'a str,
    tags: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    start_time_utc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time_utc: Option<String>,
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: OwnedText,
    properties: GapProperties<'a>,
}

#[derive(Serialize)]
struct GapProperties<'a> {
    account: &'a str,
    region: &'a str,
    service: &'a str,
    operation: &'a str,
    kind: &'static str,
    occurrences: u64,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text<'a>,
    locations: [Location<'a>; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: PhysicalLocation,
    logical_locations: [LogicalLocation<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: &'a str,
    kind: &'static str,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    status: &'static str,
    justification: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    status: &'static str,
    account: &'a str,
    region: &'a str,
    resource_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exemption_expires: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    scan_id: &'a str,
    accounts: &'a [String],
    regions: &'a [String],
    secure_score_percent: f64,
}

/// The CVSS-like score GitHub code scanning reads (`9.0`+ critical, `7.0`+
/// high, `4.0`+ medium, above `0` low).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Informational => "0.0",
    }
}

/// The SARIF `level` of a failed check.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "note",
    }
}

/// `s3-bucket-public` → `S3BucketPublic`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// An ARN (or Rampart setting id) as a URI.
pub(crate) fn arn_uri(arn: &str) -> String {
    utf8_percent_encode(arn, NOT_IN_URI).to_string()
}

fn rule(rec: &Recommendation) -> Rule<'_> {
    let r = &rec.remediation;
    let mut markdown = format!("{}\n\n{}\n", rec.description, r.text);
    if !r.cli.is_empty() {
        markdown.push_str(&format!(
            "\n**AWS CLI**\n\n```sh\n{}\n```\n",
            r.cli.trim_end()
        ));
    }
    if !r.cloudformation.is_empty() {
        markdown.push_str(&format!(
            "\n**CloudFormation**\n\n```yaml\n{}\n```\n",
            r.cloudformation.trim_end()
        ));
    }
    let mut text = r.text.clone();
    if !r.cli.is_empty() {
        text.push_str(&format!("\n\nAWS CLI:\n{}", r.cli.trim_end()));
    }
    let mut tags = vec!["security", "cloud", "aws"];
    for mapping in &rec.standards {
        let standard = standard_of(mapping);
        if !tags.contains(&standard) {
            tags.push(standard);
        }
    }
    tags.extend(rec.standards.iter().map(String::as_str));
    Rule {
        id: &rec.id,
        name: pascal_case(&rec.id),
        short_description: Text { text: &rec.title },
        full_description: Text {
            text: &rec.description,
        },
        help: Help { text, markdown },
        default_configuration: Configuration {
            level: level(rec.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(rec.severity),
            severity: rec.severity.as_str(),
            security_control: &rec.security_control,
            tags,
        },
    }
}

/// The result for an assessment, if it gets one.
fn result<'a>(
    a: &'a Assessment,
    rec: &Recommendation,
    rule_index: usize,
) -> Option<SarifResult<'a>> {
    let (kind, level, suppressions) = match (a.status, &a.exemption) {
        (AssessmentStatus::Unhealthy, _) => ("fail", level(rec.severity), Vec::new()),
        (AssessmentStatus::Error, _) => ("open", "none", Vec::new()),
        (AssessmentStatus::Exempt, Some(note))
            if note.original_status == AssessmentStatus::Unhealthy =>
        {
            (
                "fail",
                level(rec.severity),
                vec![Suppression {
                    kind: "external",
                    status: "accepted",
                    justification: &note.reason,
                }],
            )
        }
        _ => return None,
    };
    Some(SarifResult {
        rule_id: &a.recommendation,
        rule_index,
        kind,
        level,
        message: Text { text: &a.reason },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: arn_uri(&a.resource),
                },
            },
            logical_locations: [LogicalLocation {
                name: &a.resource_name,
                fully_qualified_name: &a.resource,
                kind: "resource",
            }],
        }],
        partial_fingerprints: BTreeMap::from([(
            FINGERPRINT,
            format!("{}|{}", a.recommendation, a.resource),
        )]),
        suppressions,
        properties: ResultProperties {
            status: a.status.as_str(),
            account: &a.account,
            region: &a.region,
            resource_type: &a.resource_type,
            exemption_expires: a.exemption.as_ref().and_then(|n| n.expires.as_deref()),
        },
    })
}

pub(crate) fn render(findings: &Findings<'_>) -> Result<String, ReportError> {
    let recs = assessed_recommendations(findings)?;
    let mut results = Vec::new();
    for a in findings.assessments {
        let rec = recommendation(findings.catalog, a)?;
        let index = recs.iter().position(|r| r.id == rec.id).unwrap_or_default();
        results.extend(result(a, rec, index));
    }
    let scan = findings.scan;
    let notifications = findings
        .gaps
        .iter()
        .map(|g| Notification {
            level: "warning",
            message: OwnedText {
                text: format!(
                    "could not read {} {} in {} / {}: {}",
                    g.service, g.operation, g.account, g.region, g.error
                ),
            },
            properties: GapProperties {
                account: &g.account,
                region: &g.region,
                service: &g.service,
                operation: &g.operation,
                kind: g.kind.as_str(),
                occurrences: g.occurrences,
            },
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: SARIF_VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "Rampart",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: recs.into_iter().map(rule).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: scan.status == ScanStatus::Complete,
                start_time_utc: rfc3339(scan.started_at)?,
                end_time_utc: scan.finished_at.map(rfc3339).transpose()?,
                tool_execution_notifications: notifications,
            }],
            results,
            properties: RunProperties {
                scan_id: &scan.id,
                accounts: &scan.accounts,
                regions: &scan.regions,
                secure_score_percent: findings.score.percent,
            },
        }],
    };
    to_json(Format::Sarif, &log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(
            pascal_case("s3-bucket-public-access"),
            "S3BucketPublicAccess"
        );
        assert_eq!(pascal_case("iam.root--mfa"), "IamRootMfa");
    }

    #[test]
    fn arns_become_uris() {
        assert_eq!(arn_uri("arn:aws:s3:::my-bucket"), "arn:aws:s3:::my-bucket");
        assert_eq!(
            arn_uri("arn:aws:iam::1:role/a b#c?d%"),
            "arn:aws:iam::1:role/a%20b%23c%3Fd%25"
        );
    }
}
