//! The connector's last scan and its gaps, from the store.

use rampart_connector::Connector;
use rampart_model::{CoverageGap, ScanRecord, ScanStatus};
use rampart_store::{Store, StoreError};

use crate::requirement::{LAST_SCAN, SCAN_GAPS};
use crate::{Check, decide};

/// How many recent scans are searched for the connector's.
const SCANS_SEARCHED: usize = 500;

/// The connector's last scan and the gaps it recorded in the connector's
/// account.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanEvidence {
    /// The scan.
    pub record: ScanRecord,
    /// Its coverage gaps in the connector's account.
    pub gaps: Vec<CoverageGap>,
}

/// The connector's last finished scan: the newest scan run through it
/// (complete or failed), or a complete scan that covered its account (a
/// `rampart scan` with other credentials, an organization's scan). Running
/// scans are skipped. `None` when there is none.
pub fn scan_evidence(store: &Store, connector: &Connector) -> Result<Option<ScanEvidence>, StoreError> {
    let id = connector.id.to_string();
    for record in store.scans(SCANS_SEARCHED)? {
        if record.status == ScanStatus::Running {
            continue;
        }
        let through = store.scan_connector(&record.id)?.as_deref() == Some(id.as_str());
        let covered = record.status == ScanStatus::Complete
            && record.accounts.iter().any(|a| a == connector.account());
        if through || covered {
            let gaps = if record.status == ScanStatus::Complete {
                store
                    .gaps(&record.id)?
                    .into_iter()
                    .filter(|g| g.account == connector.account())
                    .collect()
            } else {
                Vec::new()
            };
            return Ok(Some(ScanEvidence { record, gaps }));
        }
    }
    Ok(None)
}

/// The last-scan checks.
pub(crate) fn checks(connector: &Connector, evidence: Option<&ScanEvidence>) -> Vec<Check> {
    let record = evidence.map(|e| &e.record);
    let gaps = evidence.map(|e| e.gaps.as_slice()).unwrap_or_default();
    let (state, detail) = decide::last_scan(&connector.name, record);
    let last = Check::new(None, LAST_SCAN, state, detail);
    let (state, detail) = decide::scan_gaps(&connector.name, record, gaps);
    vec![last, Check::new(None, SCAN_GAPS, state, detail)]
}
