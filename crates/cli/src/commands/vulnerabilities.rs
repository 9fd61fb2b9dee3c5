//! `rampart vulnerabilities` (the last scan's machines) and `rampart
//! disk-scan` (one existing snapshot): the `rampart.vulnerabilities/v1`
//! document as JSON or tables.

use std::io::Write;

use rampart_engine::vulnerabilities::{VulnerabilityQuery, vulnerabilities_document};
use rampart_model::machine::VulnerabilitiesDocument;
use time::OffsetDateTime;

use crate::args::{DiskScanArgs, ListFormat, VulnerabilitiesArgs};
use crate::commands::scan::aws_settings;
use crate::commands::{open_existing_store, store_path};
use crate::exit::{CliError, Exit};
use crate::output::{plural, rfc3339, table};

fn print(
    doc: &VulnerabilitiesDocument,
    format: ListFormat,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let text = match format {
        ListFormat::Json => serde_json::to_string_pretty(doc).map_err(CliError::failure)? + "\n",
        ListFormat::Table => render(doc),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// `rampart vulnerabilities`.
pub fn run(args: &VulnerabilitiesArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let store = open_existing_store(&args.store)?;
    let query = VulnerabilityQuery {
        scan: args.scan.clone(),
        vulnerability: args.cve.clone(),
        min_severity: args.severity.map(Into::into),
    };
    let db = rampart_engine::agentless::vulnerability_db_summary(&store)
        .map_err(|e| CliError::failure(e.to_string()))?;
    let doc = vulnerabilities_document(&store, &query, db, OffsetDateTime::now_utc())
        .map_err(|e| CliError::usage(e.to_string()))?
        .ok_or_else(|| {
            CliError::nothing(
                "no scan read machines yet; agentless scanning runs in `rampart scan --connector NAME` for connectors with the servers plan",
            )
        })?;
    print(&doc, args.format, out)?;
    Ok(Exit::Ok)
}

/// `rampart disk-scan`.
pub async fn disk_scan(args: &DiskScanArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let db = store_path(&args.store)?;
    let settings = aws_settings(&args.aws);
    let doc = rampart_engine::agentless::disk_scan(&settings, &db, &args.region, &args.snapshot)
        .await
        .map_err(|e| CliError::usage(e.to_string()))?;
    print(&doc, args.format, out)?;
    // A snapshot that could not be read is not clean.
    if doc.machines.iter().any(|m| !m.problems().is_empty()) {
        return Ok(Exit::Failure);
    }
    Ok(Exit::Ok)
}

fn os_name(m: &rampart_model::machine::MachineScan) -> String {
    m.os.as_ref().map_or_else(
        || "-".to_owned(),
        |os| match &os.version_id {
            Some(v) => format!("{} {v}", os.id),
            None => os.id.clone(),
        },
    )
}

/// The document as tables: findings, then secrets, then errors, then a
/// summary line.
pub fn render(doc: &VulnerabilitiesDocument) -> String {
    let mut text = String::new();
    if doc.machines.is_empty() {
        return "no machine matches\n".to_owned();
    }
    let mut rows = Vec::new();
    for m in &doc.machines {
        for f in &m.findings {
            rows.push(vec![
                m.resource.clone(),
                f.severity.as_str().to_owned(),
                f.package.clone(),
                f.installed_version.clone(),
                f.fixed_version.clone().unwrap_or_else(|| "-".to_owned()),
                f.vulnerability.clone(),
                f.aliases.join(","),
            ]);
        }
    }
    if !rows.is_empty() {
        text.push_str(&table(
            &[
                "MACHINE",
                "SEVERITY",
                "PACKAGE",
                "INSTALLED",
                "FIXED",
                "VULNERABILITY",
                "ALIASES",
            ],
            &rows,
        ));
        text.push('\n');
    }
    let secrets: Vec<Vec<String>> = doc
        .machines
        .iter()
        .flat_map(|m| {
            m.secrets.iter().map(|s| {
                vec![
                    m.resource.clone(),
                    s.kind.clone(),
                    s.path.clone(),
                    s.fingerprint.clone(),
                ]
            })
        })
        .collect();
    if !secrets.is_empty() {
        text.push_str(&table(
            &["MACHINE", "SECRET", "PATH", "FINGERPRINT"],
            &secrets,
        ));
        text.push('\n');
    }
    let machines: Vec<Vec<String>> = doc
        .machines
        .iter()
        .map(|m| {
            let status = if !m.problems().is_empty() {
                format!("not read: {}", m.problems().join("; "))
            } else if m.findings.is_empty() && m.secrets.is_empty() {
                "no finding".to_owned()
            } else {
                format!(
                    "{}, {}",
                    plural(m.findings.len() as u64, "finding", "findings"),
                    plural(m.secrets.len() as u64, "secret", "secrets")
                )
            };
            vec![
                m.resource.clone(),
                match (&m.snapshot, m.source) {
                    (Some(snapshot), _) => snapshot.clone(),
                    (None, rampart_model::machine::MachineSource::SsmInventory) => {
                        "ssm-inventory".to_owned()
                    }
                    (None, rampart_model::machine::MachineSource::Disk) => "-".to_owned(),
                },
                os_name(m),
                m.packages_scanned.to_string(),
                rfc3339(m.scanned_at),
                status,
            ]
        })
        .collect();
    text.push_str(&table(
        &["MACHINE", "SOURCE", "OS", "PACKAGES", "SCANNED", "RESULT"],
        &machines,
    ));
    let findings: usize = doc.machines.iter().map(|m| m.findings.len()).sum();
    let unread = doc
        .machines
        .iter()
        .filter(|m| !m.problems().is_empty())
        .count();
    text.push_str(&format!(
        "{} on {} ({} not read); vulnerability database: {} ({} records)\n",
        plural(findings as u64, "finding", "findings"),
        plural(doc.machines.len() as u64, "machine", "machines"),
        unread,
        if doc.vulnerability_db.sources.is_empty() {
            "none imported".to_owned()
        } else {
            doc.vulnerability_db.sources.join(", ")
        },
        doc.vulnerability_db.records
    ));
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_model::machine::{
        MachineScan, OsRelease, SecretFinding, VulnerabilityDbSummary, VulnerabilityFinding,
        VulnerabilitySeverity,
    };
    use time::macros::datetime;

    use super::*;

    fn doc() -> VulnerabilitiesDocument {
        let at = datetime!(2026-01-01 00:00:00 UTC);
        VulnerabilitiesDocument::new(
            at,
            VulnerabilityDbSummary {
                sources: vec!["Debian".into()],
                imported_at: Some("2026-01-01T00:00:00Z".into()),
                records: 2,
            },
            vec![
                MachineScan {
                    match_errors: Vec::new(),
                    source: rampart_model::machine::MachineSource::Disk,
                    resource: "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc".into(),
                    snapshot: Some("snap-0123".into()),
                    scanned_at: at,
                    os: Some(OsRelease {
                        id: "debian".into(),
                        version_id: Some("12".into()),
                        pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
                        ..OsRelease::default()
                    }),
                    packages_scanned: 412,
                    findings: vec![VulnerabilityFinding {
                        package: "libssl3".into(),
                        source_package: Some("openssl".into()),
                        installed_version: "3.0.11-1~deb12u1".into(),
                        fixed_version: Some("3.0.13-1~deb12u1".into()),
                        vulnerability: "DSA-5678-1".into(),
                        aliases: vec!["CVE-2024-0727".into()],
                        severity: VulnerabilitySeverity::Critical,
                        ecosystem: "Debian:12".into(),
                    }],
                    secrets: vec![SecretFinding {
                        path: "/home/admin/.aws/credentials".into(),
                        kind: "aws-access-key".into(),
                        fingerprint: "sha256:00ff".into(),
                    }],
                    errors: vec![],
                },
                MachineScan {
                    match_errors: Vec::new(),
                    source: rampart_model::machine::MachineSource::Disk,
                    resource: "arn:aws:ec2:us-east-1:123456789012:instance/i-0def".into(),
                    snapshot: None,
                    scanned_at: at,
                    os: None,
                    packages_scanned: 0,
                    findings: vec![],
                    secrets: vec![],
                    errors: vec![
                        "ebs:ListSnapshotBlocks `snap-0456`: snapshot has no blocks".into(),
                    ],
                },
            ],
        )
    }

    #[test]
    fn table_of_machines() {
        insta::assert_snapshot!(render(&doc()));
    }

    #[test]
    fn json_document() {
        let mut out = Vec::new();
        print(&doc(), ListFormat::Json, &mut out).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }
}
