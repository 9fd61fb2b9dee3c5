//! Scans queued for workers by a server (`rampart serve --queue-scans`):
//! the job that writes a scan, and cancelling one.
//!
//! Every replica answers a scan's status from its row in `scans` (once a
//! worker began it) and its job ([`Store::job_of_scan`]), so any replica
//! behind a load balancer says the same. A cancelled job is `failed` with
//! the error [`JOB_CANCELLED`]: one not yet claimed is never run; a worker
//! running one finds at its next lease renewal that it no longer holds it
//! and drops the run (the scan it began is marked failed here at once).

use time::OffsetDateTime;

use crate::db::{OptionalExtension, params};
use crate::{Job, Result, Store, epoch_ms};

/// The error of a cancelled job (and the failure of its scan).
pub const JOB_CANCELLED: &str = "cancelled";

impl Store {
    /// The latest job that writes scan `scan_id`, if one was queued.
    pub fn job_of_scan(&self, scan_id: &str) -> Result<Option<Job>> {
        let id: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM jobs WHERE scan_id = ?1 ORDER BY enqueued_at DESC, id DESC LIMIT 1",
                params![scan_id],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.job(&id),
            None => Ok(None),
        }
    }

    /// Cancels job `id` while it is queued or running (see the module's
    /// comment) and marks the scan it writes failed when a worker began
    /// it; `false` when the job is over (or unknown) and nothing changed.
    pub fn cancel_job(&mut self, id: &str, now: OffsetDateTime) -> Result<bool> {
        let id = id.to_owned();
        self.write(|s| {
            let changed = s.conn.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?2, lease_owner = NULL,
                     lease_until = NULL, error = ?3
                 WHERE id = ?1 AND status IN ('queued', 'running')",
                params![id, epoch_ms(now), JOB_CANCELLED],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            if let Some(scan) = s.job(&id)?.and_then(|j| j.scan_id) {
                // Only a scan a worker began is stored, and only a running
                // one changes.
                s.conn.execute(
                    "UPDATE scans SET status = 'failed', finished_at = ?2, failure = ?3
                     WHERE id = ?1 AND status = 'running'",
                    params![scan, crate::rfc3339(now), JOB_CANCELLED],
                )?;
            }
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobStatus, NewJob, test_store};
    use rampart_model::{ScanRecord, ScanStatus};

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap()
    }

    fn job(id: &str, scan: &str) -> NewJob {
        NewJob {
            id: id.to_owned(),
            kind: "scan".to_owned(),
            payload: serde_json::json!({ "scan_id": scan, "connector": "prod" }),
            account: Some("111111111111".to_owned()),
            region: None,
            scan_id: Some(scan.to_owned()),
            dedupe_key: None,
            run_after: t(0),
            max_attempts: 3,
        }
    }

    #[test]
    fn a_scan_finds_its_job_and_a_queued_job_is_cancelled_once_and_never_claimed() {
        let mut store = test_store();
        assert_eq!(store.job_of_scan("s1").unwrap(), None);
        store.enqueue_job(&job("j1", "s1"), t(0)).unwrap();
        store.enqueue_job(&job("j2", "s2"), t(0)).unwrap();
        assert_eq!(store.job_of_scan("s1").unwrap().unwrap().id, "j1");
        assert!(store.cancel_job("j1", t(1)).unwrap());
        assert!(!store.cancel_job("j1", t(2)).unwrap(), "already over");
        assert!(!store.cancel_job("nope", t(2)).unwrap());
        let cancelled = store.job_of_scan("s1").unwrap().unwrap();
        assert_eq!(
            (cancelled.status, cancelled.error.as_deref()),
            (JobStatus::Failed, Some(JOB_CANCELLED))
        );
        let claimed = store
            .claim_jobs("w", t(3), time::Duration::seconds(30), 10)
            .unwrap();
        assert_eq!(
            claimed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
            ["j2"]
        );
    }

    #[test]
    fn cancelling_a_running_job_takes_its_lease_and_fails_its_scan() {
        let mut store = test_store();
        store.enqueue_job(&job("j1", "s1"), t(0)).unwrap();
        let lease = time::Duration::seconds(30);
        assert_eq!(store.claim_jobs("w", t(1), lease, 1).unwrap().len(), 1);
        store
            .begin_scan(&ScanRecord {
                id: "s1".to_owned(),
                started_at: t(2),
                finished_at: None,
                status: ScanStatus::Running,
                accounts: vec!["111111111111".to_owned()],
                regions: vec![],
                asset_count: 0,
                api_calls: 0,
                gap_count: 0,
            })
            .unwrap();
        assert!(store.cancel_job("j1", t(3)).unwrap());
        // The worker's next renewal fails: it drops the run; its report of
        // the end changes nothing.
        assert!(!store.renew_job_lease("j1", "w", t(40)).unwrap());
        assert!(
            !store
                .finish_job("j1", "w", Ok(()), t(41), time::Duration::ZERO)
                .unwrap()
        );
        let scan = store.scan("s1").unwrap();
        assert_eq!(scan.status, ScanStatus::Failed);
        assert_eq!(store.job("j1").unwrap().unwrap().status, JobStatus::Failed);
        // Nobody claims it again, even after its old lease would have run out.
        assert!(
            store
                .claim_jobs("w2", t(100), lease, 10)
                .unwrap()
                .is_empty()
        );
    }
}
