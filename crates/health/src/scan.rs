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
pub fn scan_evidence(
    store: &Store,
    connector: &Connector,
) -> Result<Option<ScanEvidence>, StoreError> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_connector::{Connector, Plan};
    use rampart_model::{CoverageGap, GapKind, ScanRecord, ScanStatus, Snapshot};
    use rampart_store::Store;
    use time::{Duration, OffsetDateTime};

    use super::scan_evidence;

    fn record(id: &str, minutes: i64, accounts: &[&str]) -> ScanRecord {
        let at = OffsetDateTime::UNIX_EPOCH + Duration::minutes(minutes);
        ScanRecord {
            id: id.into(),
            started_at: at,
            finished_at: Some(at),
            status: ScanStatus::Complete,
            accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
            regions: vec!["us-east-1".into()],
            api_calls: 1,
            asset_count: 0,
            gap_count: 0,
        }
    }

    fn gap(account: &str) -> CoverageGap {
        CoverageGap {
            account: account.into(),
            region: "us-east-1".into(),
            service: "s3".into(),
            operation: "GetBucketPolicy".into(),
            kind: GapKind::AccessDenied,
            error: "denied".into(),
            occurrences: 1,
        }
    }

    fn complete(store: &mut Store, scan: ScanRecord, gaps: Vec<CoverageGap>) {
        let snapshot = Snapshot {
            scan,
            assets: vec![],
            gaps,
        };
        store.complete_scan(&snapshot, &[]).unwrap();
    }

    #[test]
    fn the_newest_scan_through_the_connector_or_of_its_account() {
        let mut store = Store::open_in_memory().unwrap();
        let connector = Connector::new("prod", "123456789012", &[Plan::Cspm], vec![], 12, None);
        assert_eq!(scan_evidence(&store, &connector).unwrap(), None);

        // Another account's scan does not count.
        complete(&mut store, record("other", 1, &["210987654321"]), vec![]);
        assert_eq!(scan_evidence(&store, &connector).unwrap(), None);

        // A scan covering the account counts, with its account's gaps only.
        complete(
            &mut store,
            record("covered", 2, &["123456789012", "210987654321"]),
            vec![gap("123456789012"), gap("210987654321")],
        );
        let found = scan_evidence(&store, &connector).unwrap().unwrap();
        assert_eq!(found.record.id, "covered");
        assert_eq!(found.gaps, vec![gap("123456789012")]);

        // A newer failed scan through the connector is the last scan.
        let mut failed = record("failed", 3, &["123456789012"]);
        failed.status = ScanStatus::Running;
        failed.finished_at = None;
        store.begin_scan(&failed).unwrap();
        store
            .set_scan_connector("failed", &connector.id.to_string())
            .unwrap();
        // Still running: skipped.
        assert_eq!(
            scan_evidence(&store, &connector)
                .unwrap()
                .unwrap()
                .record
                .id,
            "covered"
        );
        store.fail_scan("failed", "boom").unwrap();
        let found = scan_evidence(&store, &connector).unwrap().unwrap();
        assert_eq!(found.record.id, "failed");
        assert_eq!(found.record.status, ScanStatus::Failed);
        assert!(found.gaps.is_empty());
    }
}
