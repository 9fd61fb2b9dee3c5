//! Vulnerabilities: what agentless scanning found inside machines' disks,
//! from the latest complete scan that read machines (or `?scan=`).
//!
//! * `GET /vulnerabilities` — the whole `rampart.vulnerabilities/v1`
//!   document (the contract `rampart vulnerabilities --format json`
//!   prints), optionally narrowed by `cve`, `package`, `severity` and
//!   `account`: each machine keeps only the matching findings and machines
//!   without one are left out. Not paged: it is the export.
//! * `GET /vulnerabilities/machines` — one summary per machine (counts by
//!   severity, secrets, errors, a `result` that is `not_read` for a machine
//!   whose disk could not be read — never `clean`), paged.
//! * `GET /vulnerabilities/machines/{instance}` — one machine (instance id
//!   or ARN) as in the document.
//! * `GET /vulnerabilities/findings` — findings with their machine, paged.
//! * `GET /vulnerabilities/cves/{id}/machines` — which machines have a CVE
//!   (or an advisory id), with the matching findings, paged.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use rampart_model::machine::{
    MachineScan, OsRelease, VulnerabilitiesDocument, VulnerabilityFinding, VulnerabilitySeverity,
};
use rampart_store::{MachineFindingFilter, Store};
use serde::Serialize;
use time::OffsetDateTime;

use super::{RouteTable, St, Uri};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/vulnerabilities", document)
        .add("get", "/vulnerabilities/machines", machines)
        .add("get", "/vulnerabilities/machines/{instance}", machine)
        .add("get", "/vulnerabilities/findings", findings)
        .add("get", "/vulnerabilities/cves/{id}/machines", cve_machines)
}

/// Every severity name, worst first.
const SEVERITIES: [VulnerabilitySeverity; 5] = [
    VulnerabilitySeverity::Critical,
    VulnerabilitySeverity::High,
    VulnerabilitySeverity::Medium,
    VulnerabilitySeverity::Low,
    VulnerabilitySeverity::Unknown,
];

/// `?scan=&cve=&package=&severity=&account=` (empty values mean "any").
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct VulnerabilityQuery {
    /// Read this scan instead of the latest one that read machines.
    pub scan: Option<String>,
    /// An advisory id or one of its aliases (`CVE-2024-0727`).
    pub cve: Option<String>,
    /// A binary or source package name.
    pub package: Option<String>,
    /// At least this severity.
    pub severity: Option<String>,
    /// Only machines of this account.
    pub account: Option<String>,
}

fn nonempty(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// A validated [`VulnerabilityQuery`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub scan: Option<String>,
    pub findings: MachineFindingFilter,
    pub account: Option<String>,
}

impl Filter {
    /// Whether a finding filter narrows the findings.
    fn narrows_findings(&self) -> bool {
        let f = &self.findings;
        f.vulnerability.is_some() || f.package.is_some() || f.min_severity.is_some()
    }

    /// Whether `f` passes the finding filters.
    fn keeps(&self, f: &VulnerabilityFinding) -> bool {
        let q = &self.findings;
        q.vulnerability
            .as_ref()
            .is_none_or(|v| &f.vulnerability == v || f.aliases.contains(v))
            && q.package.as_ref().is_none_or(|p| {
                &f.package == p || f.source_package.as_ref().is_some_and(|s| s == p)
            })
            && q.min_severity.is_none_or(|s| f.severity >= s)
    }

    /// Whether machine `arn` passes the account filter.
    fn keeps_machine(&self, arn: &str) -> bool {
        self.account
            .as_ref()
            .is_none_or(|a| arn_account_region(arn).0 == a)
    }
}

impl VulnerabilityQuery {
    /// The filter, validated.
    pub(crate) fn filter(&self) -> Result<Filter, ApiError> {
        let min_severity = match nonempty(self.severity.as_ref()) {
            None => None,
            Some(text) => Some(VulnerabilitySeverity::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown `severity` `{text}` (expected one of `critical`, `high`, `medium`, `low`, `unknown`)"
                ))
            })?),
        };
        Ok(Filter {
            scan: nonempty(self.scan.as_ref()).map(str::to_owned),
            findings: MachineFindingFilter {
                vulnerability: nonempty(self.cve.as_ref()).map(str::to_owned),
                package: nonempty(self.package.as_ref()).map(str::to_owned),
                min_severity,
                resource: None,
            },
            account: nonempty(self.account.as_ref()).map(str::to_owned),
        })
    }
}

/// `(account, region)` of an ARN; empty parts when it has none.
pub(crate) fn arn_account_region(arn: &str) -> (&str, &str) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    (account, region)
}

/// The instance (or snapshot) id at the end of an ARN.
pub(crate) fn short_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// 404 when no scan read machines.
fn no_machine_scan() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_scan",
        "no complete scan read machines yet; agentless scanning runs in scans of connectors with the servers plan",
    )
}

/// The scan to read: `scan` (404 when there is no such scan) or the latest
/// complete scan that read machines (`None`: none did).
pub(crate) fn machine_scan_to_read(
    s: &Store,
    scan: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match scan {
        Some(id) => Ok(Some(s.scan(id)?.id)),
        None => Ok(s.latest_machine_scan_id()?),
    }
}

/// How one machine came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MachineResult {
    /// Its disk could not be read (fully or in part): never clean.
    NotRead,
    /// Vulnerable packages or secrets.
    Findings,
    /// Read, and nothing found.
    Clean,
}

impl MachineResult {
    /// Of a machine.
    pub(crate) fn of(m: &MachineScan) -> Self {
        if !m.problems().is_empty() {
            Self::NotRead
        } else if m.findings.is_empty() && m.secrets.is_empty() {
            Self::Clean
        } else {
            Self::Findings
        }
    }

    /// The name in output.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::NotRead => "not_read",
            Self::Findings => "findings",
            Self::Clean => "clean",
        }
    }
}

/// One machine, summarized.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MachineSummary {
    pub resource: String,
    pub instance: String,
    pub account: String,
    pub region: String,
    /// Where the packages came from (`disk` or `ssm-inventory`).
    pub source: rampart_model::machine::MachineSource,
    pub snapshot: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
    pub os: Option<OsRelease>,
    pub packages_scanned: u64,
    /// Findings by severity name (every severity present, 0 when none).
    pub findings: BTreeMap<&'static str, u64>,
    pub secrets: u64,
    pub errors: Vec<String>,
    pub result: MachineResult,
}

impl MachineSummary {
    pub(crate) fn of(m: &MachineScan) -> Self {
        let (account, region) = arn_account_region(&m.resource);
        let mut findings: BTreeMap<&'static str, u64> =
            SEVERITIES.iter().map(|s| (s.as_str(), 0)).collect();
        for f in &m.findings {
            *findings.entry(f.severity.as_str()).or_default() += 1;
        }
        Self {
            resource: m.resource.clone(),
            instance: short_id(&m.resource).to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            source: m.source,
            snapshot: m.snapshot.clone(),
            scanned_at: m.scanned_at,
            os: m.os.clone(),
            packages_scanned: m.packages_scanned,
            findings,
            secrets: m.secrets.len() as u64,
            errors: m.problems(),
            result: MachineResult::of(m),
        }
    }

    /// A count from [`MachineSummary::findings`].
    pub(crate) fn count(&self, s: VulnerabilitySeverity) -> u64 {
        self.findings.get(s.as_str()).copied().unwrap_or(0)
    }
}

/// The machines of the scan to read, filtered as the document is: with a
/// finding filter, each keeps only its matching findings and machines
/// without one are left out (`None`: no scan read machines).
pub(crate) fn filtered_machines(
    s: &Store,
    filter: &Filter,
) -> Result<Option<(String, Vec<MachineScan>)>, ApiError> {
    let Some(scan) = machine_scan_to_read(s, filter.scan.as_deref())? else {
        return Ok(None);
    };
    let mut machines = s.machine_scans(&scan)?;
    machines.retain(|m| filter.keeps_machine(&m.resource));
    if filter.narrows_findings() {
        machines.retain_mut(|m| {
            m.findings.retain(|f| filter.keeps(f));
            !m.findings.is_empty()
        });
    }
    Ok(Some((scan, machines)))
}

async fn document(
    state: St,
    ApiQuery(q): ApiQuery<VulnerabilityQuery>,
) -> Result<Json<VulnerabilitiesDocument>, ApiError> {
    let filter = q.filter()?;
    let doc = state
        .store
        .run(move |s| {
            let (_, machines) = filtered_machines(s, &filter)?.ok_or_else(no_machine_scan)?;
            Ok(VulnerabilitiesDocument::new(
                OffsetDateTime::now_utc(),
                s.vulndb_summary()?,
                machines,
            ))
        })
        .await?;
    Ok(Json(doc))
}

/// `?result=` besides the document's filters.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct MachinesQuery {
    #[serde(flatten)]
    pub filter: VulnerabilityQuery,
    /// `not_read`, `findings` or `clean`.
    pub result: Option<String>,
}

impl MachinesQuery {
    /// The result filter, validated.
    pub(crate) fn result(&self) -> Result<Option<MachineResult>, ApiError> {
        match nonempty(self.result.as_ref()) {
            None => Ok(None),
            Some("not_read") => Ok(Some(MachineResult::NotRead)),
            Some("findings") => Ok(Some(MachineResult::Findings)),
            Some("clean") => Ok(Some(MachineResult::Clean)),
            Some(other) => Err(ApiError::bad_request(format!(
                "unknown `result` `{other}` (expected one of `not_read`, `findings`, `clean`)"
            ))),
        }
    }
}

/// The machine summaries of the scan to read, filtered; worst first
/// (not read, then by critical, high, … counts), then by ARN.
pub(crate) fn machine_summaries(
    s: &Store,
    q: &MachinesQuery,
) -> Result<Vec<MachineSummary>, ApiError> {
    let filter = q.filter.filter()?;
    let result = q.result()?;
    let Some((_, machines)) = filtered_machines(s, &filter)? else {
        return Ok(Vec::new());
    };
    let mut rows: Vec<MachineSummary> = machines
        .iter()
        .map(MachineSummary::of)
        .filter(|m| result.is_none_or(|r| m.result == r))
        .collect();
    rows.sort_by(|a, b| {
        let key = |m: &MachineSummary| {
            (
                m.result == MachineResult::NotRead,
                SEVERITIES.map(|s| m.count(s)),
                m.secrets,
            )
        };
        key(b)
            .cmp(&key(a))
            .then_with(|| a.resource.cmp(&b.resource))
    });
    Ok(rows)
}

async fn machines(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<MachinesQuery>,
) -> Result<Json<Page<MachineSummary>>, ApiError> {
    q.filter.filter()?;
    q.result()?;
    let rows = state.store.run(move |s| machine_summaries(s, &q)).await?;
    Ok(Json(Page::from_vec(rows, &page, &uri.0)?))
}

/// One machine with the scan it comes from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MachineDetail {
    pub scan_id: String,
    pub machine: MachineScan,
    pub result: MachineResult,
}

/// Machine `instance` (its id, e.g. `i-0abc`, or its ARN) in the scan to
/// read, or 404.
pub(crate) fn machine_detail(
    s: &Store,
    scan: Option<&str>,
    instance: &str,
) -> Result<MachineDetail, ApiError> {
    let scan_id = machine_scan_to_read(s, scan)?.ok_or_else(no_machine_scan)?;
    let machine = s
        .machine_scans(&scan_id)?
        .into_iter()
        .find(|m| m.resource == instance || short_id(&m.resource) == instance)
        .ok_or_else(|| {
            ApiError::not_found(format!("no machine `{instance}` in scan `{scan_id}`"))
        })?;
    Ok(MachineDetail {
        scan_id,
        result: MachineResult::of(&machine),
        machine,
    })
}

#[derive(Debug, serde::Deserialize)]
struct ShowQuery {
    scan: Option<String>,
}

async fn machine(
    state: St,
    ApiPath(instance): ApiPath<String>,
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> Result<Json<MachineDetail>, ApiError> {
    let detail = state
        .store
        .run(move |s| machine_detail(s, q.scan.as_deref(), &instance))
        .await?;
    Ok(Json(detail))
}

/// One finding with its machine.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MachineFinding {
    pub resource: String,
    pub instance: String,
    pub account: String,
    pub region: String,
    #[serde(flatten)]
    pub finding: VulnerabilityFinding,
}

/// The findings of the scan to read matching `filter`, worst first, then by
/// machine and as the scan found them.
pub(crate) fn finding_rows(s: &Store, filter: &Filter) -> Result<Vec<MachineFinding>, ApiError> {
    let Some(scan) = machine_scan_to_read(s, filter.scan.as_deref())? else {
        return Ok(Vec::new());
    };
    let mut rows: Vec<MachineFinding> = s
        .machine_findings(&scan, &filter.findings)?
        .into_iter()
        .filter(|(arn, _)| filter.keeps_machine(arn))
        .map(|(resource, finding)| {
            let (account, region) = arn_account_region(&resource);
            MachineFinding {
                instance: short_id(&resource).to_owned(),
                account: account.to_owned(),
                region: region.to_owned(),
                resource,
                finding,
            }
        })
        .collect();
    // Stable: keeps machine and scan order within a severity.
    rows.sort_by_key(|r| std::cmp::Reverse(r.finding.severity));
    Ok(rows)
}

async fn findings(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<VulnerabilityQuery>,
) -> Result<Json<Page<MachineFinding>>, ApiError> {
    let filter = q.filter()?;
    let rows = state.store.run(move |s| finding_rows(s, &filter)).await?;
    Ok(Json(Page::from_vec(rows, &page, &uri.0)?))
}

/// A machine that has a vulnerability, with the matching findings.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AffectedMachine {
    pub resource: String,
    pub instance: String,
    pub account: String,
    pub region: String,
    pub findings: Vec<VulnerabilityFinding>,
}

/// The machines of the scan to read with a finding of `id` (an advisory
/// id or an alias), by ARN.
pub(crate) fn affected_machines(
    s: &Store,
    scan: Option<&str>,
    id: &str,
    account: Option<&str>,
) -> Result<Vec<AffectedMachine>, ApiError> {
    let Some(scan) = machine_scan_to_read(s, scan)? else {
        return Ok(Vec::new());
    };
    let wanted = s.machines_with_vulnerability(&scan, id)?;
    let filter = MachineFindingFilter {
        vulnerability: Some(id.to_owned()),
        ..MachineFindingFilter::default()
    };
    let mut by_machine: BTreeMap<String, Vec<VulnerabilityFinding>> = BTreeMap::new();
    for (arn, f) in s.machine_findings(&scan, &filter)? {
        by_machine.entry(arn).or_default().push(f);
    }
    Ok(wanted
        .into_iter()
        .filter(|arn| account.is_none_or(|a| arn_account_region(arn).0 == a))
        .map(|resource| {
            let (account, region) = arn_account_region(&resource);
            AffectedMachine {
                instance: short_id(&resource).to_owned(),
                account: account.to_owned(),
                region: region.to_owned(),
                findings: by_machine.remove(&resource).unwrap_or_default(),
                resource,
            }
        })
        .collect())
}

#[derive(Debug, Default, serde::Deserialize)]
struct CveQuery {
    scan: Option<String>,
    account: Option<String>,
}

async fn cve_machines(
    state: St,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<CveQuery>,
) -> Result<Json<Page<AffectedMachine>>, ApiError> {
    let id = id.trim().to_owned();
    if id.is_empty() {
        return Err(ApiError::bad_request("the vulnerability id is empty"));
    }
    let rows = state
        .store
        .run(move |s| {
            affected_machines(
                s,
                nonempty(q.scan.as_ref()),
                &id,
                nonempty(q.account.as_ref()),
            )
        })
        .await?;
    Ok(Json(Page::from_vec(rows, &page, &uri.0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_validate_severity_and_ignore_empty_values() {
        let q = VulnerabilityQuery {
            severity: Some("high".into()),
            cve: Some(" ".into()),
            ..VulnerabilityQuery::default()
        };
        let f = q.filter().unwrap_or_default();
        assert_eq!(f.findings.min_severity, Some(VulnerabilitySeverity::High));
        assert_eq!(f.findings.vulnerability, None);
        let bad = VulnerabilityQuery {
            severity: Some("severe".into()),
            ..VulnerabilityQuery::default()
        };
        assert!(bad.filter().is_err());
    }

    #[test]
    fn arns_split_into_account_region_and_id() {
        let arn = "arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc";
        assert_eq!(arn_account_region(arn), ("210987654321", "eu-west-1"));
        assert_eq!(short_id(arn), "i-0abc");
        assert_eq!(short_id("i-0abc"), "i-0abc");
    }
}
