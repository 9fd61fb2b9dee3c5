//! Scans run by the server: an in-process job registry.
//!
//! [`ScanJobs::trigger`] starts the injected [`ScanFn`] on a task with a
//! [`ScanContext`] (progress counters and a cancellation token); one scan
//! per connector runs at a time. The scan function writes the scan to the store
//! (`begin_scan`, then `complete_scan`); when it fails or is cancelled the
//! registry marks the stored scan failed, so the last complete snapshot is
//! never replaced by a partial one.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::pool::StorePool;
use crate::posture::Posture;

/// How long a cancelled scan may take to stop before its job reads as
/// cancelled regardless.
pub(crate) const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// What to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// The scan's id (set by the registry).
    #[serde(skip_deserializing)]
    pub id: String,
    /// Only these regions (default: every enabled region).
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Only these services.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// The connector to scan, by name or id, as `rampart scan --connector`
    /// does (default: the server's own AWS credentials).
    #[serde(default)]
    pub connector: Option<String>,
}

/// Progress of a running scan: collection tasks planned and done.
#[derive(Debug, Default)]
pub struct ScanProgress {
    planned: AtomicU64,
    done: AtomicU64,
}

impl ScanProgress {
    /// Sets the number of planned tasks.
    pub fn set_planned(&self, n: u64) {
        self.planned.store(n, Ordering::Relaxed);
    }

    /// Counts one finished task.
    pub fn task_done(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// `(done, planned)`.
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.planned.load(Ordering::Relaxed),
        )
    }
}

/// What a scan function gets besides its request.
#[derive(Debug, Clone)]
pub struct ScanContext {
    /// Report progress here.
    pub progress: Arc<ScanProgress>,
    /// Cancelled when someone cancels the scan; the registry also drops the
    /// scan's future then.
    pub cancel: CancellationToken,
}

/// A boxed scan future: `Ok` once the scan is stored complete.
pub type ScanFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// The function that runs one scan.
pub type ScanFn = Arc<dyn Fn(ScanRequest, ScanContext) -> ScanFuture + Send + Sync>;

/// A scan job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Queued for a worker (`ServerConfig::queue_scans`), not claimed yet,
    /// or waiting to be tried again after a failed run.
    Queued,
    /// Still running.
    Running,
    /// Finished and stored.
    Complete,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    /// The scan id.
    pub id: String,
    /// State.
    pub state: JobState,
    /// Tasks done.
    pub done: u64,
    /// Tasks planned (0 until known).
    pub planned: u64,
    /// Percent done (0–100).
    pub percent: f64,
    /// Why it failed.
    pub error: Option<String>,
    /// What was requested.
    pub request: ScanRequest,
    /// The queue job running the scan, when it was queued for a worker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Worker runs of the queued job so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The worker running the queued job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
}

#[derive(Debug)]
struct Job {
    request: ScanRequest,
    state: JobState,
    error: Option<String>,
    progress: Arc<ScanProgress>,
    cancel: CancellationToken,
}

impl Job {
    fn status(&self) -> JobStatus {
        let (done, planned) = self.progress.get();
        let percent = match (self.state, planned) {
            (JobState::Complete, _) => 100.0,
            (_, 0) => 0.0,
            (_, p) => ((done.min(p) as f64 / p as f64) * 1000.0).round() / 10.0,
        };
        JobStatus {
            id: self.request.id.clone(),
            state: self.state,
            done,
            planned,
            percent,
            error: self.error.clone(),
            request: self.request.clone(),
            job: None,
            attempts: None,
            worker: None,
        }
    }
}

/// The server's scan jobs.
#[derive(Clone)]
pub struct ScanJobs {
    scan: Option<ScanFn>,
    jobs: Arc<Mutex<HashMap<String, Job>>>,
}

impl std::fmt::Debug for ScanJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanJobs")
            .field("enabled", &self.scan.is_some())
            .finish_non_exhaustive()
    }
}

impl ScanJobs {
    /// A registry running `scan` (none: triggering a scan answers 503).
    pub fn new(scan: Option<ScanFn>) -> Self {
        Self {
            scan,
            jobs: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a scan; 409 while another of the same connector runs.
    pub fn trigger(
        &self,
        mut request: ScanRequest,
        store: StorePool,
        posture: Arc<Posture>,
    ) -> Result<JobStatus, ApiError> {
        let Some(scan) = self.scan.clone() else {
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "scans_disabled",
                "this server was started without a scanner",
            ));
        };
        let mut jobs = self.lock();
        // One scan per connector at a time (the default credentials count
        // as one connector of their own).
        if let Some(running) = jobs
            .values()
            .find(|j| j.state == JobState::Running && j.request.connector == request.connector)
        {
            return Err(ApiError::conflict(match &request.connector {
                Some(connector) => format!(
                    "scan `{}` of connector `{connector}` is still running",
                    running.request.id
                ),
                None => format!("scan `{}` is still running", running.request.id),
            }));
        }
        request.id = uuid::Uuid::now_v7().to_string();
        let context = ScanContext {
            progress: Arc::default(),
            cancel: CancellationToken::new(),
        };
        let job = Job {
            request: request.clone(),
            state: JobState::Running,
            error: None,
            progress: context.progress.clone(),
            cancel: context.cancel.clone(),
        };
        let status = job.status();
        jobs.insert(request.id.clone(), job);
        drop(jobs);
        let registry = self.clone();
        let id = request.id.clone();
        let cancel = context.cancel.clone();
        tokio::spawn(async move {
            tracing::info!(scan = %id, "scan started");
            let work = scan(request, context);
            tokio::pin!(work);
            let result = tokio::select! {
                result = &mut work => result,
                () = cancel.cancelled() => {
                    // The scan sees the same token: give it time to stop
                    // (and record itself failed) before the job reads as
                    // over, so a new scan of the connector can't overlap it.
                    let _ = tokio::time::timeout(CANCEL_GRACE, &mut work).await;
                    Err("cancelled".to_owned())
                }
            };
            let (state, error) = match result {
                Ok(()) => (JobState::Complete, None),
                Err(_) if cancel.is_cancelled() => {
                    (JobState::Cancelled, Some("cancelled".to_owned()))
                }
                Err(e) => (JobState::Failed, Some(e)),
            };
            let scan_id = id.clone();
            let reason = error.clone();
            let stored = store
                .run(move |s| {
                    match reason {
                        // The scan may have failed before it was stored.
                        Some(reason) => {
                            let _ = s.fail_scan(&scan_id, &reason);
                        }
                        None => posture.refresh(s, &scan_id)?,
                    }
                    Ok(())
                })
                .await;
            if let Err(err) = stored {
                tracing::error!(scan = %id, error = %err, "recording the scan's end failed");
            }
            tracing::info!(scan = %id, state = ?state, error = ?error, "scan ended");
            if let Some(job) = registry.lock().get_mut(&id) {
                job.state = state;
                job.error = error;
            }
        });
        Ok(status)
    }

    /// Whether this registry has a scan function (else triggers answer 503).
    pub fn enabled(&self) -> bool {
        self.scan.is_some()
    }

    /// The running job of this connector (as named in its request), if any.
    pub fn running_for(&self, connector: &str) -> Option<JobStatus> {
        self.lock()
            .values()
            .find(|j| {
                j.state == JobState::Running && j.request.connector.as_deref() == Some(connector)
            })
            .map(Job::status)
    }

    /// A job's status, if this server ran it.
    pub fn status(&self, id: &str) -> Option<JobStatus> {
        self.lock().get(id).map(Job::status)
    }

    /// Every job this server ran, running first.
    pub fn running(&self) -> Vec<JobStatus> {
        self.lock()
            .values()
            .filter(|j| j.state == JobState::Running)
            .map(Job::status)
            .collect()
    }

    /// Waits until no job runs (a cancelled job ends once its scan has
    /// stopped, or after [`CANCEL_GRACE`]), at most `limit`; whether none
    /// runs.
    pub async fn wait_idle(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.running().is_empty() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Cancels a running job; 404 when unknown, 409 when already over.
    pub fn cancel(&self, id: &str) -> Result<JobStatus, ApiError> {
        let jobs = self.lock();
        let job = jobs
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("no running scan `{id}`")))?;
        if job.state != JobState::Running {
            return Err(ApiError::conflict(format!("scan `{id}` is not running")));
        }
        job.cancel.cancel();
        Ok(job.status())
    }
}
