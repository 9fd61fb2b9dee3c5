//! What the server's scan scheduler reads and repairs: when each connector
//! was last scanned (from `scans.connector`), and scans a stopped process
//! left `running`.

use std::collections::BTreeMap;

use crate::db::params;
use time::OffsetDateTime;

use crate::{Result, Store, parse_time, rfc3339};

/// A connector's scans, as the scheduler sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorScans {
    /// When its latest scan started, whatever became of it (complete,
    /// failed or still running).
    pub last_started: Option<OffsetDateTime>,
    /// The ids of its scans still `running`.
    pub running: Vec<String>,
}

impl Store {
    /// Every connector that has scans, by connector id: when its latest
    /// scan started and which of its scans are still running.
    pub fn scans_by_connector(&self) -> Result<BTreeMap<String, ConnectorScans>> {
        let mut stmt = self.conn.prepare(
            "SELECT connector, id, started_at, status FROM scans WHERE connector IS NOT NULL",
        )?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<String>(0)?,
                    row.get::<String>(1)?,
                    row.get::<String>(2)?,
                    row.get::<String>(3)?,
                ))
            })?
            .collect::<crate::db::DbResult<Vec<_>>>()?;
        let mut by_connector: BTreeMap<String, ConnectorScans> = BTreeMap::new();
        for (connector, id, started, status) in rows {
            // Compared as times: RFC 3339 texts with and without fractional
            // seconds do not sort as text.
            let started = parse_time("started_at", &started)?;
            let entry = by_connector.entry(connector).or_default();
            if entry.last_started.is_none_or(|last| started > last) {
                entry.last_started = Some(started);
            }
            if status == "running" {
                entry.running.push(id);
            }
        }
        Ok(by_connector)
    }

    /// Marks every scan still `running` failed with `reason` and returns
    /// their ids, oldest first. For a server starting up: a scan it finds
    /// running was left by a process that stopped mid-scan. The latest
    /// complete snapshot is untouched and stays the one readers see.
    pub fn fail_running_scans(&self, reason: &str) -> Result<Vec<String>> {
        let ids = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT id FROM scans WHERE status = 'running'
                       AND id NOT IN (SELECT scan_id FROM jobs
                                      WHERE status = 'running' AND lease_until >= ?1 AND scan_id IS NOT NULL)
                     ORDER BY started_at",
                )?;
            stmt.query_map(params![crate::epoch_ms(OffsetDateTime::now_utc())], |row| {
                row.get::<String>(0)
            })?
            .collect::<crate::db::DbResult<Vec<_>>>()?
        };
        let now = rfc3339(OffsetDateTime::now_utc());
        for id in &ids {
            self.conn.execute(
                "UPDATE scans SET status = 'failed', finished_at = ?2, failure = ?3
                 WHERE id = ?1 AND status = 'running'",
                params![id, now, reason],
            )?;
        }
        Ok(ids)
    }

    /// Why a scan failed (`None` unless it is stored `failed` with a reason).
    pub fn scan_failure(&self, scan_id: &str) -> Result<Option<String>> {
        use crate::db::OptionalExtension;
        let row: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT failure FROM scans WHERE id = ?1",
                params![scan_id],
                |row| row.get(0),
            )
            .optional()?;
        row.ok_or_else(|| crate::StoreError::NoSuchScan(scan_id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_model::{ScanRecord, ScanStatus, Snapshot};
    use time::{Duration, OffsetDateTime};

    use crate::Store;

    fn record(id: &str, started_at: OffsetDateTime) -> ScanRecord {
        ScanRecord {
            id: id.into(),
            started_at,
            finished_at: None,
            status: ScanStatus::Running,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 0,
            asset_count: 0,
            gap_count: 0,
        }
    }

    fn complete(store: &mut Store, id: &str, started_at: OffsetDateTime) {
        let mut scan = record(id, started_at);
        store.begin_scan(&scan).unwrap();
        scan.status = ScanStatus::Complete;
        scan.finished_at = Some(started_at + Duration::minutes(5));
        let snapshot = Snapshot {
            scan,
            assets: vec![],
            gaps: vec![],
        };
        store.complete_scan(&snapshot, &[]).unwrap();
    }

    #[test]
    fn the_latest_start_per_connector_counts_whatever_the_outcome() {
        let mut store = crate::test_store();
        let t0 = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        complete(&mut store, "a-old", t0);
        store.set_scan_connector("a-old", "a").unwrap();
        // Later, with fractional seconds: must win over a whole-second text.
        store
            .begin_scan(&record("a-new", t0 + Duration::milliseconds(1500)))
            .unwrap();
        store.set_scan_connector("a-new", "a").unwrap();
        store.fail_scan("a-new", "boom").unwrap();
        store
            .begin_scan(&record("b-run", t0 - Duration::hours(1)))
            .unwrap();
        store.set_scan_connector("b-run", "b").unwrap();
        // A scan with the default credentials belongs to no connector.
        store
            .begin_scan(&record("plain", t0 + Duration::hours(5)))
            .unwrap();

        let by = store.scans_by_connector().unwrap();
        assert_eq!(by.len(), 2);
        assert_eq!(
            by["a"].last_started,
            Some(t0 + Duration::milliseconds(1500))
        );
        assert!(by["a"].running.is_empty());
        assert_eq!(by["b"].last_started, Some(t0 - Duration::hours(1)));
        assert_eq!(by["b"].running, ["b-run"]);
    }

    #[test]
    fn running_scans_fail_and_the_complete_snapshot_stays_current() {
        let mut store = crate::test_store();
        let t0 = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        complete(&mut store, "done", t0);
        store
            .begin_scan(&record("left-1", t0 + Duration::hours(1)))
            .unwrap();
        store
            .begin_scan(&record("left-2", t0 + Duration::hours(2)))
            .unwrap();

        let failed = store.fail_running_scans("interrupted").unwrap();
        assert_eq!(failed, ["left-1", "left-2"]);
        for id in failed {
            assert_eq!(store.scan(&id).unwrap().status, ScanStatus::Failed);
            assert_eq!(
                store.scan_failure(&id).unwrap().as_deref(),
                Some("interrupted")
            );
        }
        assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "done");
        assert_eq!(store.scan_failure("done").unwrap(), None);
        assert!(store.fail_running_scans("again").unwrap().is_empty());
    }
}
