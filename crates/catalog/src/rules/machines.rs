//! Rules over what agentless scanning read on EC2 instances' disks.
//!
//! Property shapes are the engine's (`rampart_engine::agentless::machine_asset`):
//! one [`rampart_model::types::MACHINE_SCAN`] asset per instance scanned,
//! holding the `rampart.vulnerabilities/v1` machine fields plus
//! `resourceArn` (the instance's ARN) and `severityThreshold`.
//!
//! Sub-assessments: each finding (vulnerability or secret) the verdict
//! rests on is one evidence entry, `findings[i]` / `secrets[i]`, whose value
//! is the finding itself (at most [`MAX_LISTED`]; a `findings` entry gives
//! the counts). The full list stays queryable in the store.

use std::collections::HashMap;

use rampart_model::Evidence;
use rampart_model::machine::VulnerabilitySeverity;
use serde_json::json;

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::{AssetRef, Inventory};
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "machines-vulnerability-findings-resolved",
        check: vulnerabilities_resolved,
    },
    Rule {
        id: "machines-secrets-removed",
        check: secrets_removed,
    },
];

/// Findings listed one by one in an assessment's evidence, at most.
pub const MAX_LISTED: usize = 50;

const MACHINE_SCAN: &str = rampart_model::types::MACHINE_SCAN;

/// The machine-scan asset of the subject instance, if agentless scanning
/// covered it.
fn machine_scan<'i>(p: &Props<'_>, inv: &'i Inventory) -> Option<AssetRef<'i>> {
    let index = inv.memo("machines:by_instance", |inv| {
        let mut index: HashMap<String, String> = HashMap::new();
        for m in inv.of_type(MACHINE_SCAN) {
            if let Some(arn) = m.properties.get("resourceArn").and_then(Node::as_str) {
                index.insert(arn.to_owned(), m.arn.to_owned());
            }
        }
        index
    });
    index.get(p.asset().arn).and_then(|arn| inv.by_arn(arn))
}

fn not_covered() -> Outcome {
    Outcome::not_applicable(
        "Agentless scanning did not scan this instance (the Servers plan's agentless scanning is off, the instance is excluded by tag or out of scope, or it was not running).",
    )
}

/// The strings of the scan's `key` array (`errors`: the disk could not be
/// read; `match_errors`: its packages could not be matched).
fn texts(m: &Props<'_>, key: &str) -> Result<Vec<String>, Unreadable> {
    Ok(m.array(key)?
        .iter()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect())
}

/// The disk read errors.
fn errors(m: &Props<'_>) -> Result<Vec<String>, Unreadable> {
    texts(m, "errors")
}

fn unreadable(errors: &[String]) -> Unreadable {
    Unreadable {
        path: "machineScan.errors".to_owned(),
        error: format!(
            "agentless scanning could not assess the machine: {}",
            errors.join("; ")
        ),
    }
}

fn severity(node: Node<'_>) -> VulnerabilitySeverity {
    node.get("severity")
        .and_then(Node::as_str)
        .and_then(VulnerabilitySeverity::parse)
        .unwrap_or(VulnerabilitySeverity::Unknown)
}

/// Unhealthy when any finding is at or above the scan's threshold
/// (`severityThreshold`, default high). Error: the disk could not be read
/// (errors, and nothing at or above the threshold found in what was read).
/// Not applicable: agentless scanning did not cover the instance.
fn vulnerabilities_resolved(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let Some(scan) = machine_scan(p, inv) else {
        return Ok(not_covered());
    };
    let m = Props::of(scan);
    // Packages that could not be matched leave the vulnerabilities unknown
    // like a disk that could not be read.
    let mut errors = errors(&m)?;
    errors.extend(texts(&m, "match_errors")?);
    let threshold = m
        .str("severityThreshold")?
        .and_then(VulnerabilitySeverity::parse)
        .unwrap_or(VulnerabilitySeverity::High);
    let findings = m.array("findings")?;
    let over: Vec<Node<'_>> = findings
        .iter()
        .filter(|f| severity(*f) >= threshold)
        .collect();
    let counts = Evidence {
        path: "findings".to_owned(),
        value: json!({
            "total": findings.len(),
            "atOrAboveThreshold": over.len(),
            "threshold": threshold.as_str(),
            "packagesScanned": m.i64("packages_scanned")?,
            "source": m.str("source")?.unwrap_or("disk"),
            "snapshot": m.str("snapshot")?,
            "scannedAt": m.str("scanned_at")?,
        }),
    };
    if over.is_empty() {
        if !errors.is_empty() {
            return Err(unreadable(&errors));
        }
        return Ok(Outcome::healthy(format!(
            "No vulnerability at or above {} severity in the machine's packages.",
            threshold.as_str()
        ))
        .with(counts));
    }
    let mut outcome = Outcome::unhealthy(format!(
        "{} vulnerability finding(s) at or above {} severity in the machine's packages; update the packages to their fixed versions.",
        over.len(),
        threshold.as_str()
    ))
    .with(counts);
    for (i, f) in over.iter().take(MAX_LISTED).enumerate() {
        outcome = outcome.with(Evidence {
            path: format!("findings[{i}]"),
            value: f.to_value(),
        });
    }
    Ok(outcome)
}

/// Unhealthy when any secret was found on the disk. Error: the disk could
/// not be read and no secret was found in what was read. Not applicable:
/// agentless scanning did not cover the instance.
fn secrets_removed(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let Some(scan) = machine_scan(p, inv) else {
        return Ok(not_covered());
    };
    let m = Props::of(scan);
    if m.str("source")? == Some("ssm-inventory") {
        return Ok(Outcome::not_applicable(
            "The machine's packages came from SSM inventory: its disk was not read, so secrets on it are not assessed (agentless scanning is off or the instance is excluded).",
        ));
    }
    let errors = errors(&m)?;
    let secrets = m.array("secrets")?;
    let counts = Evidence {
        path: "secrets".to_owned(),
        value: json!({
            "total": secrets.len(),
            "snapshot": m.str("snapshot")?,
            "scannedAt": m.str("scanned_at")?,
        }),
    };
    if secrets.is_empty() {
        if !errors.is_empty() {
            return Err(unreadable(&errors));
        }
        return Ok(Outcome::healthy("No secret found on the machine's disk.").with(counts));
    }
    let mut outcome = Outcome::unhealthy(format!(
        "{} secret(s) found on the machine's disk; rotate them and remove the files.",
        secrets.len()
    ))
    .with(counts);
    for (i, s) in secrets.iter().take(MAX_LISTED).enumerate() {
        outcome = outcome.with(Evidence {
            path: format!("secrets[{i}]"),
            value: s.to_value(),
        });
    }
    Ok(outcome)
}
