//! What agentless scanning found inside machines' disks
//! ([`Findings::machines`], `rampart.vulnerabilities/v1` machines) in the
//! HTML report and the OCSF export. With no machine, neither output
//! changes.
//!
//! OCSF: one Vulnerability Finding (class 2002) per vulnerable package, with
//! `vulnerabilities[].cve` (the first `CVE-` alias, else the advisory id),
//! `affected_packages` (installed and fixed version), `is_fix_available` and
//! `related_vulnerabilities` (the advisory id and its other aliases); one
//! Detection Finding (class 2004) per secret on disk, with the path and the
//! fingerprint as observables (the secret itself is never in the results).
//! A machine that could not be read has no events here: its error is the
//! agentless recommendations' `error` assessment, a Compliance Finding.

use std::collections::BTreeMap;

use rampart_model::machine::{MachineScan, VulnerabilityFinding, VulnerabilitySeverity};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::html::escape_html as e;
use crate::ocsf::{OCSF_VERSION, partition};
use crate::{Findings, ReportError, rfc3339};

/// Severities, worst first.
const SEVERITIES: [VulnerabilitySeverity; 5] = [
    VulnerabilitySeverity::Critical,
    VulnerabilitySeverity::High,
    VulnerabilitySeverity::Medium,
    VulnerabilitySeverity::Low,
    VulnerabilitySeverity::Unknown,
];

/// Title-case severity name.
fn caption(s: VulnerabilitySeverity) -> &'static str {
    match s {
        VulnerabilitySeverity::Unknown => "Unknown",
        VulnerabilitySeverity::Low => "Low",
        VulnerabilitySeverity::Medium => "Medium",
        VulnerabilitySeverity::High => "High",
        VulnerabilitySeverity::Critical => "Critical",
    }
}

/// The HTML report's badge class (`unknown` shares the grey of
/// `informational`, so the stylesheet stays as it is).
fn badge(s: VulnerabilitySeverity) -> String {
    let class = match s {
        VulnerabilitySeverity::Unknown => "informational",
        other => other.as_str(),
    };
    format!(r#"<span class="badge sev-{class}">{}</span>"#, caption(s))
}

/// `(account, region)` of an ARN; empty parts when it has none.
fn arn_account_region(arn: &str) -> (&str, &str) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    (account, region)
}

/// `debian 12` from the machine's os-release, `-` when unknown.
fn os_name(m: &MachineScan) -> String {
    match &m.os {
        Some(os) => os
            .pretty_name
            .clone()
            .unwrap_or_else(|| match &os.version_id {
                Some(v) => format!("{} {v}", os.id),
                None => os.id.clone(),
            }),
        None => "-".to_owned(),
    }
}

/// Findings by severity.
fn counts(m: &MachineScan) -> BTreeMap<VulnerabilitySeverity, usize> {
    let mut out = BTreeMap::new();
    for f in &m.findings {
        *out.entry(f.severity).or_default() += 1;
    }
    out
}

/// The report's "Machine vulnerabilities" section (called only with
/// machines).
pub(crate) fn html_section(out: &mut String, f: &Findings<'_>) -> Result<(), ReportError> {
    let machines = f.machines;
    let findings: usize = machines.iter().map(|m| m.findings.len()).sum();
    let secrets: usize = machines.iter().map(|m| m.secrets.len()).sum();
    let unread = machines.iter().filter(|m| !m.problems().is_empty()).count();
    out.push_str(&format!(
        "<h2 id=\"machines\">Machine vulnerabilities</h2>\n<p class=\"muted\">What agentless scanning read \
         inside the disks of {} machine{}: {} vulnerable package{}, {} secret{} on disk, {} machine{} not read.</p>\n",
        machines.len(),
        if machines.len() == 1 { "" } else { "s" },
        findings,
        if findings == 1 { "" } else { "s" },
        secrets,
        if secrets == 1 { "" } else { "s" },
        unread,
        if unread == 1 { "" } else { "s" },
    ));
    out.push_str("<table>\n<thead><tr><th>Machine</th><th>Operating system</th><th class=\"num\">Packages</th>");
    for s in SEVERITIES {
        out.push_str(&format!("<th class=\"num\">{}</th>", caption(s)));
    }
    out.push_str(
        "<th class=\"num\">Secrets</th><th>Scanned</th><th>Result</th></tr></thead>\n<tbody>\n",
    );
    for m in machines {
        let by = counts(m);
        out.push_str(&format!(
            "<tr><td><code class=\"wrap\">{}</code></td><td>{}</td><td class=\"num\">{}</td>",
            e(&m.resource),
            e(&os_name(m)),
            m.packages_scanned
        ));
        for s in SEVERITIES {
            out.push_str(&format!(
                "<td class=\"num\">{}</td>",
                by.get(&s).copied().unwrap_or(0)
            ));
        }
        // A machine whose disk could not be read is never shown as clean.
        let result = if !m.problems().is_empty() {
            r#"<span class="badge st-error">not read</span>"#.to_owned()
        } else if m.findings.is_empty() && m.secrets.is_empty() {
            r#"<span class="badge st-healthy">no finding</span>"#.to_owned()
        } else {
            r#"<span class="badge st-unhealthy">findings</span>"#.to_owned()
        };
        out.push_str(&format!(
            "<td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
            m.secrets.len(),
            e(&rfc3339(m.scanned_at)?),
            result
        ));
    }
    out.push_str("</tbody>\n</table>\n");

    out.push_str("<h3 id=\"machine-findings\">Vulnerable packages</h3>\n");
    let mut rows: Vec<(&MachineScan, &VulnerabilityFinding)> = machines
        .iter()
        .flat_map(|m| m.findings.iter().map(move |f| (m, f)))
        .collect();
    if rows.is_empty() {
        out.push_str("<p class=\"muted\">No vulnerable package was found.</p>\n");
    } else {
        // Worst first, then by machine, keeping the scan's order.
        rows.sort_by(|(ma, fa), (mb, fb)| {
            fb.severity
                .cmp(&fa.severity)
                .then_with(|| ma.resource.cmp(&mb.resource))
        });
        out.push_str(
            "<table>\n<thead><tr><th>Severity</th><th>Package</th><th>Installed</th><th>Fixed in</th>\
             <th>Advisory</th><th>Aliases</th><th>Machine</th></tr></thead>\n<tbody>\n",
        );
        for (m, f) in rows {
            let package = match &f.source_package {
                Some(src) if src != &f.package => {
                    format!(
                        "{} <span class=\"muted\">({})</span>",
                        e(&f.package),
                        e(src)
                    )
                }
                _ => e(&f.package),
            };
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{} <span class=\"muted\">{}</span></td>\
                 <td>{}</td><td><code class=\"wrap\">{}</code></td></tr>\n",
                badge(f.severity),
                package,
                e(&f.installed_version),
                match &f.fixed_version {
                    Some(v) => format!("<code>{}</code>", e(v)),
                    None => "<span class=\"muted\">no fix yet</span>".to_owned(),
                },
                e(&f.vulnerability),
                e(&f.ecosystem),
                e(&f.aliases.join(", ")),
                e(&m.resource),
            ));
        }
        out.push_str("</tbody>\n</table>\n");
    }

    out.push_str("<h3 id=\"machine-secrets\">Secrets on disk</h3>\n");
    if secrets == 0 {
        out.push_str("<p class=\"muted\">No secret was found on the disks read.</p>\n");
    } else {
        out.push_str(
            "<p class=\"muted\">By location, kind and fingerprint; the secret itself never leaves the scanner.</p>\n\
             <table>\n<thead><tr><th>Kind</th><th>Path</th><th>Fingerprint</th><th>Machine</th></tr></thead>\n<tbody>\n",
        );
        for m in machines {
            for s in &m.secrets {
                out.push_str(&format!(
                    "<tr><td>{}</td><td><code class=\"wrap\">{}</code></td><td><code class=\"wrap\">{}</code></td>\
                     <td><code class=\"wrap\">{}</code></td></tr>\n",
                    e(&s.kind),
                    e(&s.path),
                    e(&s.fingerprint),
                    e(&m.resource),
                ));
            }
        }
        out.push_str("</tbody>\n</table>\n");
    }

    if unread > 0 {
        out.push_str(
            "<h3 id=\"machine-errors\">Machines not read</h3>\n<p class=\"muted\">Their disks could not be read \
             (fully or in part): they are not clean, their findings are unknown or incomplete.</p>\n\
             <table>\n<thead><tr><th>Machine</th><th>Snapshot</th><th>Error</th></tr></thead>\n<tbody>\n",
        );
        for m in machines.iter().filter(|m| !m.problems().is_empty()) {
            for err in &m.problems() {
                out.push_str(&format!(
                    "<tr><td><code class=\"wrap\">{}</code></td><td>{}</td><td class=\"wrap\">{}</td></tr>\n",
                    e(&m.resource),
                    e(m.snapshot.as_deref().unwrap_or("-")),
                    e(err),
                ));
            }
        }
        out.push_str("</tbody>\n</table>\n");
    }
    Ok(())
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// OCSF `severity_id` of a vulnerability severity.
fn severity_id(s: VulnerabilitySeverity) -> u8 {
    match s {
        VulnerabilitySeverity::Unknown => 0,
        VulnerabilitySeverity::Low => 2,
        VulnerabilitySeverity::Medium => 3,
        VulnerabilitySeverity::High => 4,
        VulnerabilitySeverity::Critical => 5,
    }
}

fn metadata() -> Value {
    json!({
        "version": OCSF_VERSION,
        "product": {"name": "Rampart", "vendor_name": "Rampart", "version": env!("CARGO_PKG_VERSION")},
        "profiles": ["cloud"],
    })
}

fn resource(m: &MachineScan) -> Value {
    let (_, region) = arn_account_region(&m.resource);
    let name = m.resource.rsplit('/').next().unwrap_or(&m.resource);
    json!({
        "uid": m.resource,
        "type": "AWS::EC2::Instance",
        "name": name,
        "region": region,
        "cloud_partition": partition(&m.resource),
    })
}

fn cloud(m: &MachineScan) -> Value {
    let (account, region) = arn_account_region(&m.resource);
    json!({
        "provider": "AWS",
        "account": {"uid": account, "type_id": 10, "type": "AWS Account"},
        "region": region,
    })
}

/// The distribution an OSV ecosystem names (`Debian` of `Debian:12`).
fn vendor(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

fn vulnerability_event(m: &MachineScan, f: &VulnerabilityFinding) -> Value {
    let cve = f
        .aliases
        .iter()
        .find(|a| a.starts_with("CVE-"))
        .cloned()
        .unwrap_or_else(|| f.vulnerability.clone());
    let related: Vec<&String> = std::iter::once(&f.vulnerability)
        .chain(f.aliases.iter())
        .filter(|id| **id != cve)
        .collect();
    let package = match &f.fixed_version {
        Some(fixed) => json!({
            "name": f.package,
            "version": f.installed_version,
            "fixed_in_version": fixed,
        }),
        None => json!({"name": f.package, "version": f.installed_version}),
    };
    let title = format!(
        "{} in {} {}",
        f.vulnerability, f.package, f.installed_version
    );
    let remediation = match &f.fixed_version {
        Some(v) => format!("Update `{}` to `{v}` or later.", f.package),
        None => format!(
            "No fixed version of `{}` yet; follow the advisory `{}`.",
            f.package, f.vulnerability
        ),
    };
    json!({
        "metadata": metadata(),
        "time": millis(m.scanned_at),
        "class_uid": 2002,
        "class_name": "Vulnerability Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200_201,
        "type_name": "Vulnerability Finding: Create",
        "severity_id": severity_id(f.severity),
        "severity": caption(f.severity),
        "status_id": 1,
        "status": "New",
        "message": title,
        "finding_info": {
            "uid": format!("rampart:vulnerability:{}:{}:{}", m.resource, f.package, f.vulnerability),
            "title": title,
            "types": ["Vulnerability"],
            "analytic": {"uid": "agentless-scanning", "name": "Agentless machine scanning", "type_id": 1, "type": "Rule"},
        },
        "vulnerabilities": [{
            "cve": {"uid": cve},
            "title": f.vulnerability,
            "severity": caption(f.severity),
            "vendor_name": vendor(&f.ecosystem),
            "affected_packages": [package],
            "is_fix_available": f.fixed_version.is_some(),
            "related_vulnerabilities": related,
            "remediation": {"desc": remediation},
        }],
        "resources": [resource(m)],
        "cloud": cloud(m),
        "unmapped": {"rampart": {
            "vulnerability": f.vulnerability,
            "aliases": f.aliases,
            "source_package": f.source_package,
            "ecosystem": f.ecosystem,
            "snapshot": m.snapshot,
            "severity": f.severity.as_str(),
        }},
    })
}

fn secret_event(m: &MachineScan, s: &rampart_model::machine::SecretFinding) -> Value {
    let title = format!("Secret on disk: {}", s.kind);
    json!({
        "metadata": metadata(),
        "time": millis(m.scanned_at),
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200_401,
        "type_name": "Detection Finding: Create",
        "severity_id": 4,
        "severity": "High",
        "status_id": 1,
        "status": "New",
        "message": format!("{title} at {}", s.path),
        "finding_info": {
            "uid": format!("rampart:secret:{}:{}:{}", m.resource, s.path, s.fingerprint),
            "title": title,
            "types": ["Secret"],
            "analytic": {"uid": "agentless-secret-scanning", "name": "Agentless secret scanning", "type_id": 1, "type": "Rule"},
        },
        "observables": [
            {"name": "path", "type_id": 7, "type": "File Name", "value": s.path},
            {"name": "fingerprint", "type_id": 8, "type": "Hash", "value": s.fingerprint},
        ],
        "resources": [resource(m)],
        "cloud": cloud(m),
        "remediation": {"desc": "Remove the secret from the disk, rotate it, and give the workload its access through a role instead."},
        "unmapped": {"rampart": {
            "kind": s.kind,
            "path": s.path,
            "fingerprint": s.fingerprint,
            "snapshot": m.snapshot,
        }},
    })
}

/// The OCSF events of the machines: vulnerability findings, then secrets,
/// machine by machine.
pub(crate) fn ocsf_events(machines: &[MachineScan]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in machines {
        out.extend(m.findings.iter().map(|f| vulnerability_event(m, f)));
        out.extend(m.secrets.iter().map(|s| secret_event(m, s)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_give_account_and_region() {
        assert_eq!(
            arn_account_region("arn:aws:ec2:us-east-1:123456789012:instance/i-1"),
            ("123456789012", "us-east-1")
        );
        assert_eq!(arn_account_region("i-1"), ("", ""));
        assert_eq!(vendor("Debian:12"), "Debian");
        assert_eq!(vendor("Alpine:v3.19"), "Alpine");
    }

    #[test]
    fn severities_map_to_ocsf_ids() {
        assert_eq!(severity_id(VulnerabilitySeverity::Critical), 5);
        assert_eq!(severity_id(VulnerabilitySeverity::Unknown), 0);
        assert!(badge(VulnerabilitySeverity::Unknown).contains("sev-informational"));
    }
}
