//! Vulnerabilities: what agentless scanning found inside machines' disks.
//! `/vulnerabilities` lists machines (findings by severity, secrets, and
//! machines that could not be read shown as such, never as clean) with
//! filters by CVE, package, severity, account and result, and answers
//! "which machines have CVE-X"; `/vulnerabilities/machines/{instance}` shows
//! one machine: OS, packages scanned, findings, secrets, errors.

use axum::Extension;
use axum::extract::{OriginalUri, Path, Query, State};
use maud::{Markup, html};
use rampart_model::machine::{MachineScan, VulnerabilitySeverity};
use serde::Deserialize;

use super::{Nav, PageResult, link, page, pager, segment, when};
use crate::AppState;
use crate::api::vulnerabilities::{
    MachineResult, MachineSummary, MachinesQuery, affected_machines, finding_rows, machine_detail,
    machine_scan_to_read, machine_summaries, short_id,
};
use crate::auth::Principal;
use crate::page::{Page, PageQuery};

/// Machines per page.
const PER_PAGE: u64 = 50;
/// Matching findings listed on the machines page.
const FINDINGS_SHOWN: usize = 200;

/// Severities, worst first.
const SEVERITIES: [VulnerabilitySeverity; 5] = [
    VulnerabilitySeverity::Critical,
    VulnerabilitySeverity::High,
    VulnerabilitySeverity::Medium,
    VulnerabilitySeverity::Low,
    VulnerabilitySeverity::Unknown,
];

/// A vulnerability severity badge.
fn severity(s: VulnerabilitySeverity) -> Markup {
    let class = format!("badge sev-{}", s.as_str());
    html! { span class=(class) { (s.as_str()) } }
}

/// A machine's result badge; a machine not read says so.
fn result_badge(r: MachineResult) -> Markup {
    let text = match r {
        MachineResult::NotRead => "not read",
        MachineResult::Findings => "findings",
        MachineResult::Clean => "no finding",
    };
    let class = format!("badge st-{}", r.as_str());
    html! { span class=(class) { (text) } }
}

/// A machine page's URL.
fn machine_link(arn: &str) -> String {
    format!("/vulnerabilities/machines/{}", segment(short_id(arn)))
}

fn os_name(os: Option<&rampart_model::machine::OsRelease>) -> String {
    match os {
        Some(os) => os
            .pretty_name
            .clone()
            .unwrap_or_else(|| match &os.version_id {
                Some(v) => format!("{} {v}", os.id),
                None => os.id.clone(),
            }),
        None => "unknown".to_owned(),
    }
}

/// `/vulnerabilities` filters and paging.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(flatten)]
    machines: MachinesQuery,
    cursor: Option<String>,
}

fn value(v: Option<&String>) -> &str {
    v.map(String::as_str).unwrap_or_default()
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let filter = q.machines.filter.filter()?;
    q.machines.result()?;
    let paging = PageQuery {
        limit: Some(PER_PAGE),
        cursor: q.cursor.clone(),
    };
    paging.offset()?;
    let cve = filter.findings.vulnerability.clone();
    let narrowed = filter.findings.package.is_some() || filter.findings.min_severity.is_some();
    let machines_q = q.machines.clone();
    let (scan, rows, affected, findings) = state
        .store
        .run(move |s| {
            let scan = machine_scan_to_read(s, filter.scan.as_deref())?;
            let rows = machine_summaries(s, &machines_q)?;
            let affected = match &cve {
                Some(id) => Some(affected_machines(
                    s,
                    filter.scan.as_deref(),
                    id,
                    filter.account.as_deref(),
                )?),
                None => None,
            };
            let findings = if narrowed {
                Some(finding_rows(s, &filter)?)
            } else {
                None
            };
            Ok((scan, rows, affected, findings))
        })
        .await?;
    let f = &q.machines.filter;
    let params = [
        ("cve", value(f.cve.as_ref())),
        ("package", value(f.package.as_ref())),
        ("severity", value(f.severity.as_ref())),
        ("account", value(f.account.as_ref())),
        ("result", value(q.machines.result.as_ref())),
    ];
    let first = q.cursor.as_ref().map(|_| link("/vulnerabilities", &params));
    let machines: Page<MachineSummary> = Page::from_vec(rows, &paging, &uri)?;
    let content = html! {
        h1 { "Vulnerabilities" }
        p.muted.small { "What agentless scanning read inside EC2 instances' disks: vulnerable packages, secrets left on disk, and machines whose disks could not be read." }
        @if scan.is_none() {
            section.panel #no-machine-scan {
                p { "No scan has read machines' disks yet." }
                p.small { "Agentless scanning runs in the scans of connectors with the servers plan (docs/vulnerabilities.md)." }
            }
        } @else {
            form.filters #cve-search method="get" action="/vulnerabilities" {
                label { "Which machines have"
                    input type="search" name="cve" placeholder="CVE-2024-0727" value=(value(f.cve.as_ref()));
                }
                button type="submit" { "Search" }
            }
            @if let (Some(id), Some(affected)) = (f.cve.as_deref().filter(|c| !c.trim().is_empty()), &affected) {
                section #cve-machines {
                    h2 { "Machines with " code { (id.trim()) } " (" (affected.len()) ")" }
                    @if affected.is_empty() {
                        p { "No machine read has " code { (id.trim()) } "." }
                    } @else {
                        table {
                            thead { tr { th { "Machine" } th { "Account" } th { "Region" } th { "Packages" } } }
                            tbody {
                                @for m in affected {
                                    tr {
                                        td { a href=(machine_link(&m.resource)) { (m.instance) } }
                                        td { (m.account) }
                                        td { (m.region) }
                                        td { @for (i, fi) in m.findings.iter().enumerate() {
                                            @if i > 0 { br; }
                                            (severity(fi.severity)) " " (fi.package) " " code { (fi.installed_version) }
                                            " (" (fi.vulnerability) ")"
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.filters method="get" action="/vulnerabilities" {
                label { "CVE or advisory"
                    input type="text" name="cve" value=(value(f.cve.as_ref()));
                }
                label { "Package"
                    input type="text" name="package" value=(value(f.package.as_ref()));
                }
                label { "Severity (at least)"
                    select name="severity" {
                        option value="" { "Any" }
                        @for s in SEVERITIES {
                            option value=(s.as_str()) selected[value(f.severity.as_ref()) == s.as_str()] { (s.as_str()) }
                        }
                    }
                }
                label { "Account"
                    input type="text" name="account" value=(value(f.account.as_ref()));
                }
                label { "Result"
                    select name="result" {
                        option value="" { "Any" }
                        @for (v, text) in [("not_read", "not read"), ("findings", "findings"), ("clean", "no finding")] {
                            option value=(v) selected[value(q.machines.result.as_ref()) == v] { (text) }
                        }
                    }
                }
                button type="submit" { "Filter" }
                a.button.secondary href="/vulnerabilities" { "Clear" }
            }
            h2 { "Machines" }
            table #machines {
                thead { tr {
                    th { "Machine" } th { "Account" } th { "Region" } th { "Operating system" } th.num { "Packages" }
                    @for s in SEVERITIES { th.num { (s.as_str()) } }
                    th.num { "Secrets" } th { "Scanned" } th { "Result" }
                } }
                tbody {
                    @if machines.items.is_empty() {
                        tr { td colspan="13" { "No machine matches." } }
                    }
                    @for m in &machines.items {
                        tr {
                            td { a href=(machine_link(&m.resource)) { (m.instance) } }
                            td { (m.account) }
                            td { (m.region) }
                            td { (os_name(m.os.as_ref())) }
                            td.num { (m.packages_scanned) }
                            @for s in SEVERITIES { td.num { (m.count(s)) } }
                            td.num { (m.secrets) }
                            td { (when(m.scanned_at)) }
                            td { (result_badge(m.result))
                                @if !m.errors.is_empty() { br; span.small.wrap { (m.errors.join("; ")) } } }
                        }
                    }
                }
            }
            (pager(machines.next.as_deref(), first.as_deref()))
            @if let Some(rows) = &findings {
                h2 { "Matching findings (" (rows.len()) ")" }
                table #findings {
                    thead { tr { th { "Severity" } th { "Package" } th { "Installed" } th { "Fixed in" } th { "Advisory" } th { "Aliases" } th { "Machine" } } }
                    tbody {
                        @if rows.is_empty() { tr { td colspan="7" { "No finding matches." } } }
                        @for r in rows.iter().take(FINDINGS_SHOWN) {
                            tr {
                                td { (severity(r.finding.severity)) }
                                td { (r.finding.package) }
                                td { code { (r.finding.installed_version) } }
                                td { @match &r.finding.fixed_version { Some(v) => { code { (v) } } None => { span.muted { "no fix yet" } } } }
                                td { a href=(link("/vulnerabilities", &[("cve", r.finding.vulnerability.as_str())])) { (r.finding.vulnerability) } }
                                td { (r.finding.aliases.join(", ")) }
                                td { a href=(machine_link(&r.resource)) { (r.instance) } }
                            }
                        }
                    }
                }
                @if rows.len() > FINDINGS_SHOWN {
                    p.muted.small { (rows.len() - FINDINGS_SHOWN) " more are not listed; " code { "GET /api/v1/vulnerabilities/findings" } " pages through all of them." }
                }
            }
        }
    };
    Ok(page("Vulnerabilities", Nav::Vulnerabilities, &who, content))
}

/// `?scan=`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DetailQuery {
    scan: Option<String>,
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(instance): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let d = state
        .store
        .run(move |s| machine_detail(s, q.scan.as_deref(), &instance))
        .await?;
    let m: &MachineScan = &d.machine;
    let content = html! {
        p.small { a href="/vulnerabilities" { "« Vulnerabilities" } }
        h1 { (short_id(&m.resource)) " " (result_badge(d.result)) }
        section.panel {
            dl.props {
                dt { "Machine" } dd { (m.resource) }
                dt { "Operating system" } dd { (os_name(m.os.as_ref())) }
                dt { "Packages scanned" } dd { (m.packages_scanned) }
                dt { "Packages from" } dd {
                    @match m.source {
                        rampart_model::machine::MachineSource::SsmInventory => "SSM software inventory (the disk was not read: secrets are not assessed)",
                        rampart_model::machine::MachineSource::Disk => "Disk (EBS snapshot)",
                    }
                }
                dt { "Snapshot" } dd { (m.snapshot.as_deref().unwrap_or("-")) }
                dt { "Scanned" } dd { (when(m.scanned_at)) }
                dt { "Scan" } dd { a href=(format!("/scans/{}", segment(&d.scan_id))) { code { (d.scan_id) } } }
            }
        }
        @if !m.problems().is_empty() {
            section #errors {
                h2 { "Errors" }
                p.error-box { "This machine's disk could not be read (fully or in part): it is not known to be clean, and its findings may be incomplete." }
                ul { @for e in &m.problems() { li.wrap { (e) } } }
            }
        }
        h2 { "Vulnerable packages (" (m.findings.len()) ")" }
        table #machine-findings {
            thead { tr { th { "Severity" } th { "Package" } th { "Source" } th { "Installed" } th { "Fixed in" } th { "Advisory" } th { "Aliases" } th { "Ecosystem" } } }
            tbody {
                @if m.findings.is_empty() {
                    tr { td colspan="8" {
                        @if m.problems().is_empty() { "No vulnerable package." } @else { "None found in what could be read." }
                    } }
                }
                @for f in &m.findings {
                    tr {
                        td { (severity(f.severity)) }
                        td { (f.package) }
                        td { (f.source_package.as_deref().unwrap_or("-")) }
                        td { code { (f.installed_version) } }
                        td { @match &f.fixed_version { Some(v) => { code { (v) } } None => { span.muted { "no fix yet" } } } }
                        td { a href=(link("/vulnerabilities", &[("cve", f.vulnerability.as_str())])) { (f.vulnerability) } }
                        td { @for (i, a) in f.aliases.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href=(link("/vulnerabilities", &[("cve", a.as_str())])) { (a) }
                        } }
                        td { (f.ecosystem) }
                    }
                }
            }
        }
        h2 { "Secrets on disk (" (m.secrets.len()) ")" }
        p.muted.small { "By location, kind and fingerprint; the secret itself never leaves the scanner." }
        table #machine-secrets {
            thead { tr { th { "Path" } th { "Kind" } th { "Fingerprint" } } }
            tbody {
                @if m.secrets.is_empty() { tr { td colspan="3" { "No secret found." } } }
                @for s in &m.secrets {
                    tr { td.wrap { code { (s.path) } } td { (s.kind) } td.wrap { code { (s.fingerprint) } } }
                }
            }
        }
        p.muted.small { "As JSON: " code { (format!("GET /api/v1/vulnerabilities/machines/{}", short_id(&m.resource))) } }
    };
    Ok(page("Machine", Nav::Vulnerabilities, &who, content))
}
