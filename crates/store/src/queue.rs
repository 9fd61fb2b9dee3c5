//! The job queue workers claim from (`rampart worker`): a table of jobs
//! with leases.
//!
//! A job is claimed by one worker at a time for a lease; the worker renews
//! the lease while it works ([`Store::renew_job_lease`]) and reports the end
//! ([`Store::finish_job`]). A worker that dies stops renewing, its lease
//! expires, and the next claim takes the job again (up to `max_attempts`
//! claims). On PostgreSQL, claims skip rows another claim holds (`FOR
//! UPDATE SKIP LOCKED`), so many workers claim side by side without waiting
//! on each other or on the store's write lock; on SQLite a claim is one
//! statement under the file's write lock.
//!
//! A job may carry a `dedupe_key`: enqueueing a key that is already queued
//! (in any status) does nothing, which is how schedulers on several servers
//! enqueue a connector's scan for an interval exactly once. A job may name
//! the account it works on, and a region of it: at most one job per
//! (account, region) key runs at a time — a job of a whole account (no
//! region) is a key of its own, so the region jobs of a large account run
//! side by side (checked at claim; two workers claiming in the same instant
//! may each start one).

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::db::{Backend, OptionalExtension, params};
use crate::{Result, Store, StoreError, parse_json, to_i64};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    account TEXT,
    region TEXT,
    scan_id TEXT,
    dedupe_key TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    enqueued_at INTEGER NOT NULL,
    finished_at INTEGER,
    error TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_dedupe ON jobs (dedupe_key);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (status, run_after);
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (status, lease_until);
";

/// Creates the queue's table, and adds `jobs.region` to a table that
/// predates it. Idempotent.
pub(crate) fn migrate(conn: &crate::db::Conn) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    if !conn.has_column("jobs", "region")? {
        conn.execute_batch("ALTER TABLE jobs ADD COLUMN region TEXT")?;
    }
    conn.execute_batch("CREATE INDEX IF NOT EXISTS jobs_key ON jobs (account, region, status)")?;
    Ok(())
}

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// Claimed; its lease says until when.
    Running,
    /// Finished.
    Done,
    /// Gave up: failed `max_attempts` times.
    Failed,
}

impl JobStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => {
                return Err(StoreError::Corrupt {
                    column: "status",
                    reason: format!("unknown job status `{other}`"),
                });
            }
        })
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Its id (a UUID v7, say).
    pub id: String,
    /// What to do (`scan`).
    pub kind: String,
    /// Its arguments.
    pub payload: Value,
    /// The account it works on, if one (one job per (account, region) runs
    /// at a time).
    pub account: Option<String>,
    /// The region of the account it works on, when it works on one region
    /// only.
    pub region: Option<String>,
    /// The scan it writes, if one.
    pub scan_id: Option<String>,
    /// Enqueue at most once per key.
    pub dedupe_key: Option<String>,
    /// Not before this time.
    pub run_after: OffsetDateTime,
    /// Claims before it is given up.
    pub max_attempts: u32,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// What to do.
    pub kind: String,
    /// Its arguments.
    pub payload: Value,
    /// The account it works on.
    pub account: Option<String>,
    /// The region of the account it works on.
    pub region: Option<String>,
    /// The scan it writes.
    pub scan_id: Option<String>,
    /// Its state.
    pub status: JobStatus,
    /// Claims so far.
    pub attempts: u32,
    /// Claims allowed.
    pub max_attempts: u32,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Until when (milliseconds since the epoch).
    pub lease_until: Option<i64>,
    /// The last failure.
    pub error: Option<String>,
}

/// Milliseconds since the Unix epoch: the queue's clock, compared as
/// integers on both engines.
pub fn epoch_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.whole_milliseconds()).unwrap_or(i64::MAX)
}

const JOB_COLUMNS: &str = "id, kind, payload, account, scan_id, status, attempts, max_attempts, lease_owner, lease_until, error, region";

fn job_from_row(row: &crate::db::Row<'_>) -> crate::RowResult<Job> {
    let payload: String = row.get(2)?;
    let status: String = row.get(5)?;
    let attempts: i64 = row.get(6)?;
    let max_attempts: i64 = row.get(7)?;
    let (id, kind, account, scan_id) = (row.get(0)?, row.get(1)?, row.get(3)?, row.get(4)?);
    let (lease_owner, lease_until, error) = (row.get(8)?, row.get(9)?, row.get(10)?);
    let region = row.get(11)?;
    Ok((|| {
        Ok(Job {
            id,
            kind,
            payload: parse_json("payload", &payload)?,
            account,
            region,
            scan_id,
            status: JobStatus::parse(&status)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
            lease_owner,
            lease_until,
            error,
        })
    })())
}

impl Store {
    /// Queues `job`; `false` when a job with its dedupe key is already
    /// there (whatever its status).
    pub fn enqueue_job(&self, job: &NewJob, now: OffsetDateTime) -> Result<bool> {
        let added = self.conn.execute(
            "INSERT INTO jobs (id, kind, payload, account, region, scan_id, dedupe_key, status, attempts, max_attempts, run_after, enqueued_at)
             VALUES (?1, ?2, ?3, ?4, ?10, ?5, ?6, 'queued', 0, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
            params![
                job.id,
                job.kind,
                job.payload.to_string(),
                job.account,
                job.scan_id,
                job.dedupe_key,
                i64::from(job.max_attempts.max(1)),
                epoch_ms(job.run_after),
                epoch_ms(now),
                job.region,
            ],
        )?;
        Ok(added == 1)
    }

    /// Claims up to `limit` jobs for `worker` until `now + lease`: queued
    /// jobs that are due, and running jobs whose lease expired (their
    /// worker stopped). Jobs whose lease expired after their last allowed
    /// attempt are marked failed instead.
    pub fn claim_jobs(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Job>> {
        let now_ms = epoch_ms(now);
        self.conn.execute(
            "UPDATE jobs SET status = 'failed', finished_at = ?1, lease_owner = NULL,
                 error = COALESCE(error, 'its worker stopped') || ' (lease expired after the last attempt)'
             WHERE status = 'running' AND lease_until < ?1 AND attempts >= max_attempts",
            params![now_ms],
        )?;
        let lock = match self.conn.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE ((status = 'queued' AND run_after <= ?3) OR (status = 'running' AND lease_until < ?3))
                   AND attempts < max_attempts
                   AND (account IS NULL OR (
                       -- one running job per (account, region) key
                       NOT EXISTS (
                           SELECT 1 FROM jobs r
                           WHERE r.account = jobs.account
                             AND COALESCE(r.region, '') = COALESCE(jobs.region, '')
                             AND r.status = 'running' AND r.lease_until >= ?3)
                       -- and only the key's first claimable job
                       AND id = (
                           SELECT c.id FROM jobs c
                           WHERE c.account = jobs.account
                             AND COALESCE(c.region, '') = COALESCE(jobs.region, '')
                             AND ((c.status = 'queued' AND c.run_after <= ?3)
                                  OR (c.status = 'running' AND c.lease_until < ?3))
                             AND c.attempts < c.max_attempts
                           ORDER BY c.run_after, c.id LIMIT 1)))
                 ORDER BY run_after, id
                 LIMIT ?4{lock})
             RETURNING {JOB_COLUMNS}"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                worker,
                now_ms.saturating_add(ms(lease)),
                now_ms,
                to_i64(limit as u64)
            ],
            job_from_row,
        )?;
        let mut jobs = crate::collect_rows(rows)?;
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(jobs)
    }

    /// Extends `worker`'s lease on job `id` to `until`; `false` when the
    /// worker no longer holds it (it expired and another worker took it).
    pub fn renew_job_lease(&self, id: &str, worker: &str, until: OffsetDateTime) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
            params![id, worker, epoch_ms(until)],
        )?;
        Ok(n == 1)
    }

    /// Records the end of `worker`'s run of job `id`: done, or failed with
    /// `error` — queued again `retry_after` later while attempts remain.
    /// `false` when the worker no longer held the job (nothing changed).
    pub fn finish_job(
        &self,
        id: &str,
        worker: &str,
        outcome: std::result::Result<(), &str>,
        now: OffsetDateTime,
        retry_after: Duration,
    ) -> Result<bool> {
        let now_ms = epoch_ms(now);
        let n = match outcome {
            Ok(()) => self.conn.execute(
                "UPDATE jobs SET status = 'done', finished_at = ?3, lease_owner = NULL, lease_until = NULL, error = NULL
                 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
                params![id, worker, now_ms],
            )?,
            Err(error) => self.conn.execute(
                "UPDATE jobs SET
                     status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                     run_after = ?4,
                     finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE CAST(?3 AS INTEGER) END,
                     lease_owner = NULL, lease_until = NULL, error = ?5
                 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
                params![id, worker, now_ms, now_ms.saturating_add(ms(retry_after)), error],
            )?,
        };
        Ok(n == 1)
    }

    /// One job.
    pub fn job(&self, id: &str) -> Result<Option<Job>> {
        self.conn
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                params![id],
                job_from_row,
            )
            .optional()?
            .transpose()
    }

    /// Jobs, optionally of one status, most recently enqueued first.
    pub fn jobs(&self, status: Option<JobStatus>, limit: u64) -> Result<Vec<Job>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE (status = ?1 OR ?1 IS NULL)
             ORDER BY enqueued_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![status.map(JobStatus::as_str), to_i64(limit)],
            job_from_row,
        )?;
        crate::collect_rows(rows)
    }

    /// Job counts by status.
    pub fn job_counts(&self) -> Result<Vec<(JobStatus, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")?;
        let rows = stmt.query_map(params![], |r| {
            let status: String = r.get(0)?;
            let n: i64 = r.get(1)?;
            Ok(JobStatus::parse(&status).map(|s| (s, u64::try_from(n).unwrap_or(0))))
        })?;
        crate::collect_rows(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store;

    fn job(id: &str, account: Option<&str>, key: Option<&str>, at: OffsetDateTime) -> NewJob {
        NewJob {
            id: id.to_owned(),
            kind: "scan".to_owned(),
            payload: serde_json::json!({ "connector": "prod" }),
            account: account.map(str::to_owned),
            region: None,
            scan_id: Some(format!("scan-{id}")),
            dedupe_key: key.map(str::to_owned),
            run_after: at,
            max_attempts: 2,
        }
    }

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_dedupe_key_enqueues_once() {
        let store = test_store();
        assert!(
            store
                .enqueue_job(&job("a", None, Some("scan:prod:1"), t(0)), t(0))
                .unwrap()
        );
        assert!(
            !store
                .enqueue_job(&job("b", None, Some("scan:prod:1"), t(0)), t(0))
                .unwrap()
        );
        assert!(
            store
                .enqueue_job(&job("c", None, Some("scan:prod:2"), t(0)), t(0))
                .unwrap()
        );
        // Jobs without a key never collide.
        assert!(
            store
                .enqueue_job(&job("d", None, None, t(0)), t(0))
                .unwrap()
        );
        assert!(
            store
                .enqueue_job(&job("e", None, None, t(0)), t(0))
                .unwrap()
        );
        assert_eq!(store.jobs(None, 10).unwrap().len(), 4);
    }

    #[test]
    fn claims_take_due_jobs_once_and_expired_leases_again() {
        let store = test_store();
        store
            .enqueue_job(&job("a", Some("111"), None, t(0)), t(0))
            .unwrap();
        store
            .enqueue_job(&job("b", Some("222"), None, t(0)), t(0))
            .unwrap();
        store
            .enqueue_job(&job("later", None, None, t(100)), t(0))
            .unwrap();
        let lease = Duration::seconds(30);
        let first = store.claim_jobs("w1", t(1), lease, 10).unwrap();
        assert_eq!(
            first.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(
            first
                .iter()
                .all(|j| j.attempts == 1 && j.status == JobStatus::Running)
        );
        // Held: nothing for another worker.
        assert!(store.claim_jobs("w2", t(2), lease, 10).unwrap().is_empty());
        // w1 keeps `a` alive and finishes it; `b`'s lease runs out.
        assert!(store.renew_job_lease("a", "w1", t(60)).unwrap());
        let again = store.claim_jobs("w2", t(40), lease, 10).unwrap();
        assert_eq!(
            again.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(again[0].attempts, 2);
        // w1 lost `b`: its late report changes nothing.
        assert!(
            !store
                .finish_job("b", "w1", Ok(()), t(41), Duration::ZERO)
                .unwrap()
        );
        assert!(
            store
                .finish_job("a", "w1", Ok(()), t(42), Duration::ZERO)
                .unwrap()
        );
        assert_eq!(store.job("a").unwrap().unwrap().status, JobStatus::Done);
        // `b` fails on its last attempt: given up.
        assert!(
            store
                .finish_job("b", "w2", Err("boom"), t(43), Duration::seconds(5))
                .unwrap()
        );
        let b = store.job("b").unwrap().unwrap();
        assert_eq!(
            (b.status, b.error.as_deref()),
            (JobStatus::Failed, Some("boom"))
        );
        // The later job comes due.
        assert!(store.claim_jobs("w2", t(50), lease, 10).unwrap().is_empty());
        assert_eq!(store.claim_jobs("w2", t(100), lease, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_failure_with_attempts_left_is_retried_later_and_one_job_per_account_runs() {
        let store = test_store();
        store
            .enqueue_job(&job("a1", Some("111"), None, t(0)), t(0))
            .unwrap();
        store
            .enqueue_job(&job("a2", Some("111"), None, t(0)), t(0))
            .unwrap();
        let lease = Duration::seconds(30);
        let claimed = store.claim_jobs("w1", t(1), lease, 10).unwrap();
        assert_eq!(claimed.len(), 1, "one job of account 111 at a time");
        let id = claimed[0].id.clone();
        assert!(
            store
                .finish_job(&id, "w1", Err("throttled"), t(2), Duration::seconds(20))
                .unwrap()
        );
        let retried = store.job(&id).unwrap().unwrap();
        assert_eq!(retried.status, JobStatus::Queued);
        // The other job of the account runs now; the failed one after its delay.
        let next = store.claim_jobs("w1", t(3), lease, 10).unwrap();
        assert_eq!(next.len(), 1);
        assert_ne!(next[0].id, id);
        store
            .finish_job(&next[0].id, "w1", Ok(()), t(4), Duration::ZERO)
            .unwrap();
        assert!(store.claim_jobs("w1", t(10), lease, 10).unwrap().is_empty());
        let last = store.claim_jobs("w1", t(22), lease, 10).unwrap();
        assert_eq!((last.len(), last[0].attempts), (1, 2));
        // A lease that expires after the last attempt gives the job up.
        assert!(store.claim_jobs("w2", t(60), lease, 10).unwrap().is_empty());
        let given_up = store.job(&id).unwrap().unwrap();
        assert_eq!(given_up.status, JobStatus::Failed);
        assert!(given_up.error.unwrap().contains("lease expired"));
    }

    fn in_region(id: &str, account: &str, region: Option<&str>, at: OffsetDateTime) -> NewJob {
        NewJob {
            region: region.map(str::to_owned),
            ..job(id, Some(account), Some(&format!("key-{id}")), at)
        }
    }

    fn ids(jobs: &[Job]) -> Vec<&str> {
        jobs.iter().map(|j| j.id.as_str()).collect()
    }

    #[test]
    fn the_region_jobs_of_an_account_run_side_by_side_one_per_region() {
        let store = test_store();
        for new in [
            in_region("a-east", "111", Some("us-east-1"), t(0)),
            in_region("a-west", "111", Some("eu-west-1"), t(0)),
            in_region("a-east-2", "111", Some("us-east-1"), t(1)),
            in_region("a-whole", "111", None, t(0)),
            in_region("b-east", "222", Some("us-east-1"), t(0)),
        ] {
            assert!(store.enqueue_job(&new, t(0)).unwrap());
        }
        let lease = Duration::seconds(30);
        let first = store.claim_jobs("w1", t(2), lease, 10).unwrap();
        // One job per (account, region) key: the second us-east-1 job of
        // 111 waits; the whole-account job is a key of its own.
        assert_eq!(ids(&first), ["a-east", "a-west", "a-whole", "b-east"]);
        assert_eq!(first[0].region.as_deref(), Some("us-east-1"));
        assert_eq!(first[2].region, None);
        assert!(store.claim_jobs("w2", t(3), lease, 10).unwrap().is_empty());
        // Another region of 111 finishing frees nothing for us-east-1.
        store
            .finish_job("a-west", "w1", Ok(()), t(4), Duration::ZERO)
            .unwrap();
        assert!(store.claim_jobs("w2", t(5), lease, 10).unwrap().is_empty());
        store
            .finish_job("a-east", "w1", Ok(()), t(6), Duration::ZERO)
            .unwrap();
        assert_eq!(
            ids(&store.claim_jobs("w2", t(7), lease, 10).unwrap()),
            ["a-east-2"]
        );
        // An expired lease frees its key: the job itself is claimed again.
        let again = store.claim_jobs("w3", t(40), lease, 10).unwrap();
        assert_eq!(ids(&again), ["a-east-2", "a-whole", "b-east"]);
    }

    #[test]
    fn a_queue_from_before_regions_gains_the_column() {
        let conn = crate::db::Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        let old = SCHEMA.replace("    region TEXT,\n", "");
        assert!(!old.contains("region"));
        conn.execute_batch(&old).unwrap();
        assert!(!conn.has_column("jobs", "region").unwrap());
        migrate(&conn).unwrap();
        migrate(&conn).unwrap();
        assert!(conn.has_column("jobs", "region").unwrap());
    }
}
