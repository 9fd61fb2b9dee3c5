//! Workers: processes (`rampart worker`) that claim jobs from the store's
//! queue ([`rampart_store::Store::claim_jobs`]) and run them with the
//! engine, on any machine that reaches the store.
//!
//! A worker runs up to `concurrency` jobs at once. While a job runs, the
//! worker renews its lease every third of the lease; a worker that dies
//! stops renewing, and another worker claims the job again when the lease
//! runs out. A scan job carries its scan id, so the re-run writes the same
//! scan, and the store keeps the first complete snapshot of it
//! ([`rampart_store::StoreError::AlreadyComplete`]): a scan is stored
//! once, however many workers ran it. A worker whose lease was taken over
//! drops its run at the next renewal.
//!
//! When `stop` completes (SIGTERM, SIGINT) the worker drains: it claims
//! nothing more, finishes the jobs it runs, and returns.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rampart_aws::scan::NoProgress;
use rampart_model::ScanStatus;
use rampart_store::{Job, NewJob, Store, StoreError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Engine, EngineError, ScanJob};

/// The kind of a scan job.
pub const SCAN_JOB: &str = "scan";

/// What a scan job asks for (its payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanJobPayload {
    /// The scan's id, fixed when queued: every run of the job writes it.
    pub scan_id: String,
    /// The connector to scan (name or id).
    pub connector: String,
    /// Only these regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
    /// Only these services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
}

impl ScanJobPayload {
    /// The queue entry for this scan of an `account`'s connector: at most
    /// one scan per `dedupe_key` is ever queued.
    pub fn to_job(
        &self,
        account: Option<String>,
        dedupe_key: Option<String>,
        run_after: OffsetDateTime,
    ) -> NewJob {
        NewJob {
            id: uuid_v7(),
            kind: SCAN_JOB.to_owned(),
            payload: serde_json::to_value(self).unwrap_or_default(),
            account,
            scan_id: Some(self.scan_id.clone()),
            dedupe_key,
            run_after,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// How often a job is claimed before it is given up.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A worker's settings.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The worker's name in leases (host and process id, say).
    pub id: String,
    /// Jobs run at once.
    pub concurrency: usize,
    /// How long a claim holds a job without a renewal.
    pub lease: Duration,
    /// How often an idle worker looks for jobs.
    pub poll: Duration,
    /// How long a failed job waits before it is claimed again.
    pub retry_after: Duration,
    /// Return when nothing is left to claim and nothing runs, instead of
    /// waiting for `stop`.
    pub until_idle: bool,
}

impl WorkerOptions {
    /// Defaults: 2 jobs at once, 60 s leases, a look every 2 s, retries
    /// after 60 s.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            concurrency: 2,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(2),
            retry_after: Duration::from_secs(60),
            until_idle: false,
        }
    }
}

/// What a worker did, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerEvent {
    /// It claimed a job.
    Claimed {
        /// The job.
        job: String,
        /// Its claims so far, this one included.
        attempt: u32,
    },
    /// A job finished.
    Done {
        /// The job.
        job: String,
        /// The scan it stored (or found stored).
        scan: Option<String>,
    },
    /// A job failed (it is retried while attempts remain).
    Failed {
        /// The job.
        job: String,
        /// Why.
        error: String,
    },
    /// Another worker took the job over (this one's lease ran out).
    Lost {
        /// The job.
        job: String,
    },
    /// Draining: no new claims; the running jobs finish.
    Draining {
        /// Jobs still running.
        running: usize,
    },
}

/// What a worker did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WorkerReport {
    /// Jobs finished.
    pub done: u64,
    /// Job runs that failed.
    pub failed: u64,
    /// Job runs another worker took over.
    pub lost: u64,
}

enum Outcome {
    Done(Option<String>),
    Failed(String),
    Lost,
}

fn secs(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MINUTE)
}

impl Engine {
    /// Claims and runs jobs until `stop` completes, then drains (see the
    /// module's comment). Each event goes to `events` as it happens.
    pub async fn run_worker(
        &self,
        options: &WorkerOptions,
        stop: impl Future<Output = ()>,
        events: &dyn Fn(WorkerEvent),
    ) -> Result<WorkerReport, EngineError> {
        let store = Store::open(&self.db)?;
        let mut running = FuturesUnordered::new();
        let mut report = WorkerReport::default();
        let mut stop = pin!(stop);
        let mut draining = false;
        loop {
            let free = options.concurrency.max(1).saturating_sub(running.len());
            if !draining && free > 0 {
                let now = OffsetDateTime::now_utc();
                let claimed = store.claim_jobs(&options.id, now, secs(options.lease), free)?;
                if claimed.is_empty() && running.is_empty() && options.until_idle {
                    return Ok(report);
                }
                for job in claimed {
                    events(WorkerEvent::Claimed {
                        job: job.id.clone(),
                        attempt: job.attempts,
                    });
                    running.push(self.run_job(job, options));
                }
            }
            if draining && running.is_empty() {
                return Ok(report);
            }
            tokio::select! {
                () = &mut stop, if !draining => {
                    draining = true;
                    events(WorkerEvent::Draining { running: running.len() });
                }
                Some((job, outcome)) = running.next(), if !running.is_empty() => {
                    let now = OffsetDateTime::now_utc();
                    match outcome {
                        Outcome::Done(scan) => {
                            store.finish_job(&job, &options.id, Ok(()), now, secs(options.retry_after))?;
                            report.done += 1;
                            events(WorkerEvent::Done { job, scan });
                        }
                        Outcome::Failed(error) => {
                            store.finish_job(&job, &options.id, Err(&error), now, secs(options.retry_after))?;
                            report.failed += 1;
                            events(WorkerEvent::Failed { job, error });
                        }
                        Outcome::Lost => {
                            report.lost += 1;
                            events(WorkerEvent::Lost { job });
                        }
                    }
                }
                () = tokio::time::sleep(options.poll), if running.len() < options.concurrency.max(1) => {}
            }
        }
    }

    /// Runs one claimed job while renewing its lease.
    async fn run_job(&self, job: Job, options: &WorkerOptions) -> (String, Outcome) {
        let id = job.id.clone();
        let work = self.job_work(&job);
        let renew = self.keep_lease(&job.id, options);
        tokio::select! {
            outcome = work => (id, outcome),
            () = renew => (id, Outcome::Lost),
        }
    }

    /// Renews the lease every third of it; returns when it was lost.
    async fn keep_lease(&self, job: &str, options: &WorkerOptions) {
        let Ok(store) = Store::open(&self.db) else {
            // Without a connection the lease cannot be kept: the job will
            // be taken over, so stop at once rather than run it twice.
            return;
        };
        loop {
            tokio::time::sleep(options.lease / 3).await;
            let until = OffsetDateTime::now_utc() + secs(options.lease);
            match store.renew_job_lease(job, &options.id, until) {
                Ok(true) => {}
                Ok(false) => return,
                // A failed renewal is retried at the next beat; the lease
                // has two more beats to go.
                Err(e) => tracing::warn!(job, error = %e, "renewing a job's lease failed"),
            }
        }
    }

    async fn job_work(&self, job: &Job) -> Outcome {
        if job.kind != SCAN_JOB {
            return Outcome::Failed(format!("unknown job kind `{}`", job.kind));
        }
        let payload: ScanJobPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(p) => p,
            Err(e) => return Outcome::Failed(format!("unreadable scan job: {e}")),
        };
        // A run before this one stored the scan: done, written once.
        match Store::open(&self.db).and_then(|s| s.scan(&payload.scan_id)) {
            Ok(scan) if scan.status == ScanStatus::Complete => {
                return Outcome::Done(Some(payload.scan_id));
            }
            Ok(_) | Err(StoreError::NoSuchScan(_)) => {}
            Err(e) => return Outcome::Failed(e.to_string()),
        }
        let scan = ScanJob {
            scan_id: payload.scan_id.clone(),
            connector: Some(payload.connector),
            regions: payload.regions,
            services: payload.services,
        };
        let warn = |text: &str| tracing::warn!(job = %job.id, "{text}");
        match self
            .scan(scan, &NoProgress, &warn, std::future::pending())
            .await
        {
            Ok(outcome) => Outcome::Done(Some(outcome.scan.snapshot.scan.id)),
            Err(EngineError::Store(StoreError::AlreadyComplete(id))) => Outcome::Done(Some(id)),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_uuid_v7_shaped_and_differ() {
        let a = uuid_v7();
        let b = uuid_v7();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{a}"
        );
        assert!(parts[2].starts_with('7'), "{a}");
    }
}
