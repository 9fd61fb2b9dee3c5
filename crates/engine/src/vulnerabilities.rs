//! The `rampart.vulnerabilities/v1` document of the last scan's machines,
//! filtered: what `rampart vulnerabilities` prints (and the API will serve).

use rampart_model::machine::{
    MachineScan, VulnerabilitiesDocument, VulnerabilityDbSummary, VulnerabilitySeverity,
};
use rampart_store::Store;
use time::OffsetDateTime;

use crate::EngineError;

/// Which findings a vulnerabilities document keeps.
#[derive(Debug, Clone, Default)]
pub struct VulnerabilityQuery {
    /// Only this scan (default: the latest complete scan that read
    /// machines).
    pub scan: Option<String>,
    /// Only findings of this advisory (its id or an alias such as
    /// `CVE-2024-0727`).
    pub vulnerability: Option<String>,
    /// Only findings at or above this severity.
    pub min_severity: Option<VulnerabilitySeverity>,
}

impl VulnerabilityQuery {
    fn filters(&self) -> bool {
        self.vulnerability.is_some() || self.min_severity.is_some()
    }

    fn keep(&self, machine: &mut MachineScan) -> bool {
        if !self.filters() {
            return true;
        }
        machine.findings.retain(|f| {
            self.vulnerability
                .as_ref()
                .is_none_or(|v| &f.vulnerability == v || f.aliases.contains(v))
                && self.min_severity.is_none_or(|s| f.severity >= s)
        });
        !machine.findings.is_empty()
    }
}

/// The document of `query`'s scan, or `None` when no scan read machines.
/// With a filter, each machine keeps only the matching findings and
/// machines without one are left out.
pub fn vulnerabilities_document(
    store: &Store,
    query: &VulnerabilityQuery,
    vulnerability_db: VulnerabilityDbSummary,
    now: OffsetDateTime,
) -> Result<Option<VulnerabilitiesDocument>, EngineError> {
    let scan = match &query.scan {
        Some(id) => Some(id.clone()),
        None => store.latest_machine_scan_id()?,
    };
    let Some(scan) = scan else {
        return Ok(None);
    };
    let mut machines = store.machine_scans(&scan)?;
    machines.retain_mut(|m| query.keep(m));
    Ok(Some(VulnerabilitiesDocument::new(
        now,
        vulnerability_db,
        machines,
    )))
}
