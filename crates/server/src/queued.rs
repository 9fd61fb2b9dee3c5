//! Scans queued for `rampart worker` processes instead of run in this
//! server: with [`ServerConfig::queue_scans`](crate::ServerConfig), a scan
//! triggered through the API or the dashboard becomes a job in the store's
//! queue, the way the [`scheduler`](crate::scheduler) queues due scans.
//!
//! Nothing about such a scan is kept in the server's memory: its status is
//! read from the store (the scan's row, once a worker began it, and its
//! job), and cancelling it changes the job in the store
//! ([`rampart_store::Store::cancel_job`]), so every replica sharing the
//! store answers the same. One scan per connector is queued or running at
//! a time, checked and queued in one write transaction (replicas queue
//! one between them). Workers report no task counts: a queued scan's
//! progress is its state (queued, running, complete…) and its attempts.

use rampart_connector::Connector;
use rampart_engine::worker::{QueueScan, SCAN_JOB, ScanJobPayload, queue_scan};
use rampart_store::{JOB_CANCELLED, Job, JobStatus as QueueStatus, Store};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::pool::StorePool;
use crate::scans::{JobState, JobStatus, ScanRequest};

/// Most active jobs looked at for the one-scan-per-connector rule and the
/// running-scans list.
const ACTIVE_LIMIT: u64 = 1000;

/// The scan request a queued job carries, as the API shows it.
fn request_of(job: &Job, connector_name: Option<String>) -> Option<ScanRequest> {
    let payload: ScanJobPayload = serde_json::from_value(job.payload.clone()).ok()?;
    Some(ScanRequest {
        id: payload.scan_id,
        regions: payload.regions,
        services: payload.services,
        connector: Some(connector_name.unwrap_or(payload.connector)),
    })
}

/// A queued scan's job as the API shows it.
pub fn job_status(job: &Job, connector_name: Option<String>) -> Option<JobStatus> {
    if job.kind != SCAN_JOB {
        return None;
    }
    let request = request_of(job, connector_name)?;
    let state = match job.status {
        QueueStatus::Queued => JobState::Queued,
        QueueStatus::Running => JobState::Running,
        QueueStatus::Done => JobState::Complete,
        QueueStatus::Failed if job.error.as_deref() == Some(JOB_CANCELLED) => JobState::Cancelled,
        QueueStatus::Failed => JobState::Failed,
    };
    Some(JobStatus {
        id: request.id.clone(),
        state,
        done: 0,
        planned: 0,
        percent: if state == JobState::Complete {
            100.0
        } else {
            0.0
        },
        error: job.error.clone(),
        request,
        job: Some(job.id.clone()),
        attempts: Some(job.attempts),
        worker: job.lease_owner.clone(),
    })
}

/// The name of the connector a job scans (its payload names it by id).
fn connector_name(store: &Store, job: &Job) -> Result<Option<String>, ApiError> {
    let Some(id) = job.payload.get("connector").and_then(|c| c.as_str()) else {
        return Ok(None);
    };
    Ok(store.connector(id)?.map(|c| c.name))
}

/// The oldest queued or running scan job of connector `id` (however it
/// was queued: the API, the dashboard or a scheduler), if any.
pub(crate) fn active_job_of(store: &Store, id: &str) -> Result<Option<Job>, ApiError> {
    Ok(active_jobs(store)?
        .into_iter()
        .find(|job| job.payload.get("connector").and_then(|c| c.as_str()) == Some(id)))
}

/// Queued and running scan jobs, oldest first.
fn active_jobs(store: &Store) -> Result<Vec<Job>, ApiError> {
    let mut jobs = store.jobs(Some(QueueStatus::Running), ACTIVE_LIMIT)?;
    jobs.extend(store.jobs(Some(QueueStatus::Queued), ACTIVE_LIMIT)?);
    jobs.retain(|j| j.kind == SCAN_JOB);
    jobs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(jobs)
}

/// Queues a scan of `connector` with `request`'s regions and services;
/// 409 while another scan of the connector is queued or running (in the
/// queue, whoever queued it).
pub async fn enqueue(
    store: &StorePool,
    request: ScanRequest,
    connector: Connector,
) -> Result<JobStatus, ApiError> {
    store
        .run(move |s| {
            s.write(|s| {
                let id = connector.id.to_string();
                if let Some(job) = active_job_of(s, &id)? {
                    let scan = job.scan_id.unwrap_or_default();
                    return Err(ApiError::conflict(format!(
                        "scan `{scan}` of connector `{}` is still queued or running (job `{}`)",
                        connector.name, job.id
                    )));
                }
                let now = OffsetDateTime::now_utc();
                // One job per account (an organization's members each get
                // theirs); the answer follows the connector's own account.
                let queued = queue_scan(
                    s,
                    &QueueScan {
                        connector: id,
                        regions: request.regions,
                        services: request.services,
                        ..QueueScan::default()
                    },
                    now,
                )
                .map_err(|e| ApiError::internal(e.to_string()))?;
                let Some(first) = queued.jobs.first() else {
                    return Err(ApiError::internal(format!(
                        "no job queued for connector `{}`",
                        connector.name
                    )));
                };
                let stored = s.job(&first.job)?.ok_or_else(|| {
                    ApiError::internal(format!("queued job `{}` is not in the store", first.job))
                })?;
                tracing::info!(connector = %connector.name, scan = %first.scan_id, job = %first.job, jobs = queued.jobs.len(), "scan queued");
                job_status(&stored, Some(connector.name.clone())).ok_or_else(|| {
                    ApiError::internal(format!("queued job `{}` is unreadable", stored.id))
                })
            })
        })
        .await
}

/// The queued job of scan `id`, as the API shows it; `None` when the scan
/// was not queued.
pub async fn status(store: &StorePool, id: &str) -> Result<Option<JobStatus>, ApiError> {
    let id = id.to_owned();
    store
        .run(move |s| {
            let Some(job) = s.job_of_scan(&id)? else {
                return Ok(None);
            };
            let name = connector_name(s, &job)?;
            Ok(job_status(&job, name))
        })
        .await
}

/// Every queued or running scan job, as the API shows them.
pub async fn active(store: &StorePool) -> Result<Vec<JobStatus>, ApiError> {
    store
        .run(|s| {
            let mut out = Vec::new();
            for job in active_jobs(s)? {
                let name = connector_name(s, &job)?;
                out.extend(job_status(&job, name));
            }
            Ok(out)
        })
        .await
}

/// Cancels queued scan `id`: its job is never claimed (queued) or its
/// worker drops the run at its next lease renewal (running); 404 when the
/// scan was not queued, 409 when its job is over.
pub async fn cancel(store: &StorePool, id: &str) -> Result<JobStatus, ApiError> {
    let id = id.to_owned();
    store
        .run(move |s| {
            let job = s
                .job_of_scan(&id)?
                .ok_or_else(|| ApiError::not_found(format!("no running scan `{id}`")))?;
            if !s.cancel_job(&job.id, OffsetDateTime::now_utc())? {
                return Err(ApiError::conflict(format!("scan `{id}` is not running")));
            }
            let job = s.job(&job.id)?.unwrap_or(job);
            tracing::info!(scan = %id, job = %job.id, "queued scan cancelled");
            let name = connector_name(s, &job)?;
            job_status(&job, name)
                .ok_or_else(|| ApiError::internal(format!("job `{}` is unreadable", job.id)))
        })
        .await
}
