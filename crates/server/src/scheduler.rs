//! Scheduled scans: every connector is scanned every `scanInterval` hours.
//!
//! The [`Scheduler`] looks at the schedule when the server starts, then
//! every minute (or at the next due time, when sooner, or at once when a
//! connector is created or changed through the API) and starts, through the server's job registry
//! ([`ScanJobs::trigger`], the same path as `POST /api/v1/scans`), a scan of
//! each connector that is due. The schedule is derived from the store, not
//! from memory: a connector is due `scanInterval` hours after its latest
//! scan *started* (complete or failed), and at once when it was never
//! scanned, so a restarted server picks up where the last one stopped.
//!
//! Not scheduled on their own: member connectors (an organization's scan
//! covers them), connectors without the CSPM plan (nothing to scan with),
//! and classic connectors of an account that also has a native connector
//! (the account is scanned once, through the native one). One scan per
//! connector runs at a time, and at most [`DEFAULT_MAX_RUNNING`] scans run at
//! once (others wait for the next wake-up).
//!
//! At startup ([`Scheduler::recover`]) scans a stopped process left
//! `running` are marked failed ([`INTERRUPTED`]); the latest complete
//! snapshot stays the one readers see.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use rampart_connector::{Connector, Plan};
use rampart_store::ConnectorScans;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::pool::StorePool;
use crate::posture::Posture;
use crate::scans::{JobStatus, ScanJobs, ScanRequest};

/// Why a scan found `running` at startup failed.
pub const INTERRUPTED: &str = "interrupted: the server stopped during the scan";

/// The longest the scheduler sleeps between two looks at the schedule.
pub const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// Scans the scheduler lets run at once (its own and the API's).
pub const DEFAULT_MAX_RUNNING: usize = 2;

/// The current time; injectable so tests need not wait for hours.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// One connector's place in the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorSchedule {
    /// The connector's name.
    pub connector: String,
    /// The connector's id.
    pub id: String,
    /// Hours between scans.
    pub scan_interval: u32,
    /// When its latest scan started, if it was ever scanned.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_scan_at: Option<OffsetDateTime>,
    /// When it is due next (now or earlier: at the next wake-up).
    #[serde(with = "time::serde::rfc3339")]
    pub next_scan_at: OffsetDateTime,
    /// Whether a scan of it is running.
    pub running: bool,
}

impl ConnectorSchedule {
    /// Whether a scan should start at `now`.
    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        !self.running && self.next_scan_at <= now
    }
}

/// What one look at the schedule did.
#[derive(Debug, Clone)]
pub struct Tick {
    /// The scans it started.
    pub started: Vec<JobStatus>,
    /// When it should look again.
    pub wake_at: OffsetDateTime,
}

/// Whether the scheduler scans `connector` itself (see the module docs);
/// `all` is every stored connector.
pub fn scheduled(connector: &Connector, all: &[Connector]) -> bool {
    if connector.parent().is_some() || connector.role_arn(Plan::Cspm).is_none() {
        return false;
    }
    let scanned_natively = connector.is_classic()
        && all.iter().any(|c| {
            !c.is_classic()
                && c.parent().is_none()
                && c.account() == connector.account()
                && c.role_arn(Plan::Cspm).is_some()
        });
    !scanned_natively
}

/// The schedule at `now`, most overdue first. `scans` is the store's view
/// ([`rampart_store::Store::scans_by_connector`]); `attempts` holds when
/// this process last triggered each connector (by id), so a scan that fails
/// before it is stored is not retried before its interval is up;
/// `running_here` says whether this process runs a scan of a connector;
/// `hour` is the length of one `scanInterval` hour (an hour, but for tests
/// on the real clock).
pub fn schedule(
    connectors: &[Connector],
    scans: &BTreeMap<String, ConnectorScans>,
    attempts: &HashMap<String, OffsetDateTime>,
    running_here: &dyn Fn(&Connector) -> bool,
    now: OffsetDateTime,
    hour: Duration,
) -> Vec<ConnectorSchedule> {
    let mut entries: Vec<ConnectorSchedule> = connectors
        .iter()
        .filter(|c| scheduled(c, connectors))
        .filter(|c| !c.paused)
        .map(|c| {
            let id = c.id.to_string();
            let stored = scans.get(&id);
            let last_scan_at = stored.and_then(|s| s.last_started);
            let interval = c.environment_data.scan_interval.clamp(1, 24);
            let since = match (last_scan_at, attempts.get(&id).copied()) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            ConnectorSchedule {
                connector: c.name.clone(),
                scan_interval: interval,
                last_scan_at,
                next_scan_at: since.map_or(now, |t| t + hour * interval),
                running: running_here(c) || stored.is_some_and(|s| !s.running.is_empty()),
                id,
            }
        })
        .collect();
    entries.sort_by(|a, b| (a.next_scan_at, &a.connector).cmp(&(b.next_scan_at, &b.connector)));
    entries
}

/// The scan scheduler; cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    store: StorePool,
    scans: ScanJobs,
    posture: Arc<Posture>,
    clock: Clock,
    attempts: Arc<Mutex<HashMap<String, OffsetDateTime>>>,
    max_running: usize,
    hour: Duration,
    wake: Arc<tokio::sync::Notify>,
    queue: bool,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("max_running", &self.max_running)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler starting scans through `scans`, on the real clock.
    pub fn new(store: StorePool, scans: ScanJobs, posture: Arc<Posture>) -> Self {
        Self {
            store,
            scans,
            posture,
            clock: Arc::new(OffsetDateTime::now_utc),
            attempts: Arc::default(),
            max_running: DEFAULT_MAX_RUNNING,
            hour: Duration::HOUR,
            wake: Arc::default(),
            queue: false,
        }
    }

    /// The same scheduler queueing due scans for `rampart worker` instead
    /// of running them in this process. Each due scan is queued one job
    /// per account ([`rampart_engine::worker::queue_scan`]) under the keys
    /// `scan:<connector id>:<start of its latest scan>:<account>`, so
    /// servers sharing a store queue each once between them.
    #[must_use]
    pub fn with_queue(mut self, queue: bool) -> Self {
        self.queue = queue;
        self
    }

    /// The same scheduler reading the time from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same scheduler letting at most `n` (at least 1) scans run at once.
    #[must_use]
    pub fn with_max_running(mut self, n: usize) -> Self {
        self.max_running = n.max(1);
        self
    }

    /// The same scheduler counting `scanInterval` in units of `hour` instead
    /// of hours (at least a second): for tests that run the schedule on
    /// the real clock.
    #[must_use]
    pub fn with_hour(mut self, hour: std::time::Duration) -> Self {
        self.hour = Duration::try_from(hour)
            .unwrap_or(Duration::HOUR)
            .max(Duration::SECOND);
        self
    }

    /// Makes the running schedule look again now (a connector was created
    /// or changed), instead of at its next wake-up.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The scheduler's current time.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    fn attempts(&self) -> std::sync::MutexGuard<'_, HashMap<String, OffsetDateTime>> {
        self.attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the scans a stopped process left `running` failed
    /// ([`INTERRUPTED`]) and returns their ids. Call it once at startup,
    /// before any scan starts.
    pub async fn recover(&self) -> Result<Vec<String>, ApiError> {
        let failed = self
            .store
            .run(|s| Ok(s.fail_running_scans(INTERRUPTED)?))
            .await?;
        for id in &failed {
            tracing::warn!(scan = %id, "a scan left running by a stopped server is marked failed");
        }
        Ok(failed)
    }

    /// Every scheduled connector's place in the schedule, most overdue
    /// first: what the dashboard and the API show as the next scan.
    pub async fn next_due(&self) -> Result<Vec<ConnectorSchedule>, ApiError> {
        self.schedule_at(self.now()).await
    }

    /// The schedule at `now`. A look at the schedule reads it at the same
    /// instant it compares due times with: a never-scanned connector is
    /// due at exactly that `now`, so reading the clock twice would put it
    /// forever just out of reach.
    async fn schedule_at(&self, now: OffsetDateTime) -> Result<Vec<ConnectorSchedule>, ApiError> {
        let (connectors, scans) = self
            .store
            .run(|s| Ok((s.connectors()?, s.scans_by_connector()?)))
            .await?;
        let attempts = self.attempts().clone();
        let jobs = self.scans.clone();
        let running_here = move |c: &Connector| {
            jobs.running_for(&c.name).is_some() || jobs.running_for(&c.id.to_string()).is_some()
        };
        Ok(schedule(
            &connectors,
            &scans,
            &attempts,
            &running_here,
            now,
            self.hour,
        ))
    }

    /// One look at the schedule: starts the scans that are due (while
    /// fewer than the maximum run) and says when to look again.
    pub async fn tick(&self) -> Result<Tick, ApiError> {
        let now = self.now();
        let entries = self.schedule_at(now).await?;
        let mut started = Vec::new();
        let mut wake_at = now + Duration::try_from(MAX_SLEEP).unwrap_or(Duration::MINUTE);
        for entry in &entries {
            if entry.next_scan_at > now {
                wake_at = wake_at.min(entry.next_scan_at);
                continue;
            }
            if self.queue {
                if entry.is_due(now) && self.enqueue(entry, now).await? {
                    tracing::info!(connector = %entry.connector, "scheduled scan queued");
                }
                continue;
            }
            if !entry.is_due(now) || self.scans.running().len() >= self.max_running {
                continue;
            }
            let request = ScanRequest {
                connector: Some(entry.connector.clone()),
                ..ScanRequest::default()
            };
            self.attempts().insert(entry.id.clone(), now);
            match self
                .scans
                .trigger(request, self.store.clone(), self.posture.clone())
            {
                Ok(job) => {
                    tracing::info!(connector = %entry.connector, scan = %job.id, "scheduled scan started");
                    wake_at = wake_at.min(now + self.hour * entry.scan_interval);
                    started.push(job);
                }
                Err(err) => {
                    tracing::warn!(connector = %entry.connector, error = %err, "scheduled scan not started");
                }
            }
        }
        Ok(Tick { started, wake_at })
    }

    /// Queues a due scan of `entry`'s connector; `false` when it was
    /// already queued (by this server or another).
    async fn enqueue(
        &self,
        entry: &ConnectorSchedule,
        now: OffsetDateTime,
    ) -> Result<bool, ApiError> {
        let id = entry.id.clone();
        let key = format!(
            "scan:{id}:{}",
            entry.last_scan_at.map_or_else(
                || "first".to_owned(),
                |t| rampart_store::epoch_ms(t).to_string()
            )
        );
        self.store
            .run(move |s| {
                s.write(|s| {
                    // A scan of the connector queued through the API or the
                    // dashboard (another key) and not finished yet is this
                    // one: its completion moves the schedule on.
                    if crate::queued::active_job_of(s, &id)?.is_some() {
                        return Ok(false);
                    }
                    let request = rampart_engine::worker::QueueScan {
                        connector: id,
                        key: Some(key),
                        ..Default::default()
                    };
                    match rampart_engine::worker::queue_scan(s, &request, now) {
                        Ok(queued) => Ok(queued.jobs.iter().any(|j| j.queued)),
                        Err(rampart_engine::EngineError::Store(e)) => Err(e.into()),
                        // Deleted since the schedule was read: nothing to queue.
                        Err(_) => Ok(false),
                    }
                })
            })
            .await
    }

    /// Runs the schedule until `stop` is cancelled. Does nothing when the
    /// server has no scanner (and does not queue its scans).
    pub async fn run(self, stop: CancellationToken) {
        if !self.queue && !self.scans.enabled() {
            tracing::info!("scheduled scans are off: this server has no scanner");
            return;
        }
        loop {
            let sleep = match self.tick().await {
                Ok(tick) => {
                    let wait = tick.wake_at - self.now();
                    std::time::Duration::try_from(wait)
                        .unwrap_or(std::time::Duration::ZERO)
                        .clamp(std::time::Duration::from_secs(1), MAX_SLEEP)
                }
                Err(err) => {
                    tracing::error!(error = %err, "reading the scan schedule failed");
                    MAX_SLEEP
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(sleep) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Cancels the scans this server still runs, marks them failed
    /// ([`INTERRUPTED`]) and waits for them to stop (a scan still running
    /// when the runtime shuts down would panic on its way out): for a
    /// graceful stop. Returns their ids.
    pub async fn interrupt_running(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for job in self.scans.running() {
            let id = job.id.clone();
            // Marked failed first, so the registry's own `cancelled` does
            // not win; the scan may not have been stored yet.
            let _ = self
                .store
                .run(move |s| {
                    let _ = s.fail_scan(&id, INTERRUPTED);
                    Ok(())
                })
                .await;
            let _ = self.scans.cancel(&job.id);
            tracing::warn!(scan = %job.id, "scan interrupted by the server stopping");
            ids.push(job.id);
        }
        let limit = crate::scans::CANCEL_GRACE + std::time::Duration::from_secs(1);
        if !ids.is_empty() && !self.scans.wait_idle(limit).await {
            tracing::error!("interrupted scans did not stop in time");
        }
        ids
    }
}
