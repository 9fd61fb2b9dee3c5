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
//!
//! A queued scan is one job per account ([`queue_scan`]): an organization's
//! connector gives a job for its management account and one for each of
//! its member connectors, each with its own scan id and a scan record of
//! that one account, queued under `<batch key>:<account>` so schedulers on
//! several servers queue each once. The management account's job syncs the
//! members first (as a full scan does) and queues a job for each member it
//! finds that the batch lacks. An account whose current posture holds more
//! than [`WorkerOptions::region_jobs_above`] assets is split further: its
//! job lists the account's enabled regions, queues one job per region
//! (regional services only, key `<batch key>:<account>:<region>`) and scans
//! the first region itself with the global services, so the slices of a
//! large account run on several workers at once (one running job per
//! (account, region) key, [`rampart_store::Store::claim_jobs`]).

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rampart_aws::collectors::{COLLECTORS, Scope};
use rampart_aws::scan::NoProgress;
use rampart_connector::Connector;
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
    /// Only these accounts of the connector
    /// ([`crate::ConnectorScanRequest::accounts`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<String>>,
    /// The key of the batch the job belongs to (one queued scan of a
    /// connector): the jobs it queues itself (new members, regions of a
    /// large account) are keyed from it, so every run queues them once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

impl ScanJobPayload {
    /// The queue entry for this scan of an `account`'s connector: at most
    /// one scan per `dedupe_key` is ever queued. A scan of one region of
    /// one account is a job of that (account, region).
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
            region: match (&self.accounts, &self.regions) {
                (Some(accounts), Some(regions)) if accounts.len() == 1 && regions.len() == 1 => {
                    regions.first().cloned()
                }
                _ => None,
            },
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

/// Accounts whose current posture holds more assets than this are scanned
/// one job per region, by default.
pub const DEFAULT_REGION_JOBS_ABOVE: u64 = 2_000;

/// A scan of a connector to queue ([`queue_scan`]).
#[derive(Debug, Clone, Default)]
pub struct QueueScan {
    /// The connector (name or id).
    pub connector: String,
    /// Only these regions.
    pub regions: Option<Vec<String>>,
    /// Only these services.
    pub services: Option<Vec<String>>,
    /// The batch's key: every job is queued under `<key>:<account>`, so a
    /// scan queued again under the same key (by another server) adds
    /// nothing. `None`: a fresh key, `scan:<connector id>:<uuid>`.
    pub key: Option<String>,
    /// Not before this time.
    pub run_after: Option<OffsetDateTime>,
}

/// One job of a queued scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedJob {
    /// The job's id.
    pub job: String,
    /// The scan it writes.
    pub scan_id: String,
    /// The account it scans.
    pub account: String,
    /// Whether it was queued now (`false`: its key was already queued).
    pub queued: bool,
}

/// What [`queue_scan`] queued.
#[derive(Debug, Clone)]
pub struct QueuedScan {
    /// The connector.
    pub connector: Connector,
    /// Its jobs, one per account (the connector's own first).
    pub jobs: Vec<QueuedJob>,
}

/// Queues a scan of a connector for the workers, one job per account: the
/// connector's own account, and for an organization each member connector
/// (excluded accounts aside; the management account's job queues the
/// members a sync adds). Each job has its own scan id and is keyed
/// `<key>:<account>`. Reads the store only (no AWS call).
pub fn queue_scan(
    store: &Store,
    request: &QueueScan,
    now: OffsetDateTime,
) -> Result<QueuedScan, EngineError> {
    let connector = store
        .connector(&request.connector)?
        .ok_or_else(|| EngineError::NoConnector(request.connector.clone()))?;
    let key = request
        .key
        .clone()
        .unwrap_or_else(|| format!("scan:{}:{}", connector.id, uuid_v7()));
    let run_after = request.run_after.unwrap_or(now);
    let mut accounts = vec![connector.account().to_owned()];
    if connector.is_organization() {
        for member in store.members_of(connector.account())? {
            if !crate::organization::excluded(&connector, member.account())
                && !accounts.iter().any(|a| a == member.account())
            {
                accounts.push(member.account().to_owned());
            }
        }
    }
    let mut jobs = Vec::new();
    for account in accounts {
        let payload = ScanJobPayload {
            scan_id: uuid_v7(),
            connector: connector.id.to_string(),
            regions: request.regions.clone(),
            services: request.services.clone(),
            // A connector of one account scans as a whole, as before.
            accounts: connector.is_organization().then(|| vec![account.clone()]),
            batch: Some(key.clone()),
        };
        jobs.push(enqueue(store, &payload, &account, &key, run_after, now)?);
    }
    Ok(QueuedScan { connector, jobs })
}

/// Queues `payload` for `account` under `<key>:<account>` (and
/// `:<region>` for a job of one region).
fn enqueue(
    store: &Store,
    payload: &ScanJobPayload,
    account: &str,
    key: &str,
    run_after: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<QueuedJob, EngineError> {
    let mut job = payload.to_job(Some(account.to_owned()), None, run_after);
    job.dedupe_key = Some(match &job.region {
        Some(region) => format!("{key}:{account}:{region}"),
        None => format!("{key}:{account}"),
    });
    let queued = store.enqueue_job(&job, now)?;
    Ok(QueuedJob {
        job: job.id,
        scan_id: payload.scan_id.clone(),
        account: account.to_owned(),
        queued,
    })
}

/// The services collected once per region (not the global ones), of
/// `services` when given.
fn regional_services(services: Option<&[String]>) -> Vec<String> {
    let mut list: Vec<String> = Vec::new();
    for collector in COLLECTORS {
        let meta = collector.meta();
        let wanted = services.is_none_or(|s| s.iter().any(|s| s == meta.service));
        if meta.scope == Scope::Regional && wanted && !list.iter().any(|s| s == meta.service) {
            list.push(meta.service.to_owned());
        }
    }
    list
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
    /// Scan an account one job per region when its current posture holds
    /// more assets than this (`None`: never).
    pub region_jobs_above: Option<u64>,
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
            region_jobs_above: Some(DEFAULT_REGION_JOBS_ABOVE),
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
        let work = self.job_work(&job, options);
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

    async fn job_work(&self, job: &Job, options: &WorkerOptions) -> Outcome {
        if job.kind != SCAN_JOB {
            return Outcome::Failed(format!("unknown job kind `{}`", job.kind));
        }
        let mut payload: ScanJobPayload = match serde_json::from_value(job.payload.clone()) {
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
        let requested_regions = payload.regions.clone();
        // A large account: one job per region.
        if let (Some(batch), Some(account), None, Some(limit)) = (
            payload.batch.clone(),
            job.account.as_deref(),
            &payload.regions,
            options.region_jobs_above,
        ) {
            match self.split_regions(&payload, account, &batch, limit).await {
                Ok(Some(first)) => payload.regions = Some(vec![first]),
                Ok(None) => {}
                Err(e) => return Outcome::Failed(e.to_string()),
            }
        }
        let scan = ScanJob {
            scan_id: payload.scan_id.clone(),
            connector: Some(payload.connector.clone()),
            regions: payload.regions.clone(),
            services: payload.services.clone(),
            accounts: payload.accounts.clone(),
        };
        let warn = |text: &str| tracing::warn!(job = %job.id, "{text}");
        let outcome = match self
            .scan(scan, &NoProgress, &warn, std::future::pending())
            .await
        {
            Ok(outcome) => outcome,
            Err(EngineError::Store(StoreError::AlreadyComplete(id))) => {
                return Outcome::Done(Some(id));
            }
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        // An organization's members a sync added: queued in the batch.
        if let (Some(batch), Some(connector)) = (&payload.batch, &outcome.connector)
            && connector.is_organization()
        {
            let request = QueueScan {
                connector: connector.id.to_string(),
                regions: requested_regions,
                services: payload.services.clone(),
                key: Some(batch.clone()),
                run_after: None,
            };
            let queued = Store::open(&self.db)
                .map_err(EngineError::from)
                .and_then(|store| queue_scan(&store, &request, OffsetDateTime::now_utc()));
            match queued {
                Ok(queued) => {
                    for added in queued.jobs.iter().filter(|j| j.queued) {
                        tracing::info!(job = %added.job, account = %added.account, "queued the scan of a new member");
                    }
                }
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e, "queueing the organization's new members failed")
                }
            }
        }
        Outcome::Done(Some(outcome.scan.snapshot.scan.id))
    }

    /// When `account`'s current posture holds more than `limit` assets:
    /// lists its enabled regions (with its own credentials), queues a job
    /// for each region but the first (regional services only) and returns
    /// the first, which this job scans with the global services. `None`:
    /// a small account, scanned whole.
    async fn split_regions(
        &self,
        payload: &ScanJobPayload,
        account: &str,
        batch: &str,
        limit: u64,
    ) -> Result<Option<String>, EngineError> {
        let store = Store::open(&self.db)?;
        if account_assets(&store, account)? <= limit {
            return Ok(None);
        }
        let regional = regional_services(payload.services.as_deref());
        if regional.is_empty() {
            return Ok(None);
        }
        let connector = store
            .connector(&payload.connector)?
            .ok_or_else(|| EngineError::NoConnector(payload.connector.clone()))?;
        let connector = crate::connector_scan::connector_of_account(&store, connector, account)?;
        let mut credentials =
            crate::credentials::Credentials::new(&self.keys_dir, &store, &self.aws);
        let access = credentials.target(&connector)?.access(&self.aws).await?;
        let wanted = &connector.environment_data.regions;
        let regions = crate::scan::scan_regions(
            &access,
            account,
            (!wanted.is_empty()).then_some(wanted.as_slice()),
            "set the connector's regions to scan a large account without region discovery",
        )
        .await?
        .enabled;
        let home = access.home_region();
        let Some(first) = regions
            .iter()
            .find(|r| *r == home)
            .or_else(|| regions.first())
            .cloned()
        else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        for region in regions.iter().filter(|r| **r != first) {
            let job = ScanJobPayload {
                scan_id: uuid_v7(),
                connector: payload.connector.clone(),
                regions: Some(vec![region.clone()]),
                services: Some(regional.clone()),
                accounts: Some(vec![account.to_owned()]),
                batch: None,
            };
            enqueue(&store, &job, account, batch, now, now)?;
        }
        Ok(Some(first))
    }
}

/// Assets of `account` in the current posture (the latest complete
/// snapshot).
fn account_assets(store: &Store, account: &str) -> Result<u64, EngineError> {
    let scope = store.scope(Some(account), None, None)?;
    Ok(store
        .asset_account_counts_in(&scope)?
        .into_iter()
        .map(|(_, n)| n)
        .sum())
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

    #[test]
    fn region_jobs_collect_regional_services_only() {
        let all = regional_services(None);
        assert!(all.iter().any(|s| s == "ec2"), "{all:?}");
        for global in ["iam", "s3", "organizations", "sts"] {
            assert!(!all.iter().any(|s| s == global), "{global} in {all:?}");
        }
        let asked = ["iam".to_owned(), "sqs".to_owned()];
        assert_eq!(regional_services(Some(&asked)), ["sqs"]);
        assert!(regional_services(Some(&asked[..1])).is_empty());
    }

    #[test]
    fn a_scan_of_one_region_of_one_account_is_a_job_of_that_region() {
        let payload = ScanJobPayload {
            scan_id: "s".to_owned(),
            connector: "org".to_owned(),
            regions: Some(vec!["eu-west-1".to_owned()]),
            services: None,
            accounts: Some(vec!["111111111111".to_owned()]),
            batch: None,
        };
        let at = OffsetDateTime::UNIX_EPOCH;
        let job = payload.to_job(Some("111111111111".to_owned()), None, at);
        assert_eq!(job.region.as_deref(), Some("eu-west-1"));
        let whole = ScanJobPayload {
            accounts: None,
            ..payload.clone()
        };
        assert_eq!(whole.to_job(None, None, at).region, None);
        // Older payloads (no accounts, no batch) still read.
        let old: ScanJobPayload =
            serde_json::from_value(serde_json::json!({"scan_id": "s", "connector": "c"})).unwrap();
        assert_eq!((old.accounts, old.batch), (None, None));
    }
}
