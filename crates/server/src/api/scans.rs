//! Scans: trigger, status with progress, cancel, history.

use axum::Json;
use axum::http::StatusCode;
use rampart_model::{ScanRecord, ScanStatus};
use rampart_store::ScanCoverage;
use serde::Serialize;
use serde_json::{Value, json};

use super::{RouteTable, St, Uri};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};
use crate::scans::{JobState, JobStatus, ScanRequest};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/scans", list)
        .add("post", "/scans", trigger)
        .add("get", "/scans/{id}", show)
        .add("post", "/scans/{id}/cancel", cancel)
}

#[derive(Debug, serde::Deserialize)]
struct ScanFilter {
    status: Option<String>,
}

/// A scan as the API shows it: the stored record and, while this server
/// runs it, the job's progress.
#[derive(Debug, Serialize)]
struct ScanView {
    id: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<ScanRecord>,
    /// The id of the connector the scan went through (stored scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    connector: Option<String>,
    /// What the scan covered (stored scans only): `{"full": true}` or a
    /// narrowed scan's services, regions and the snapshots it was merged
    /// with.
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<JobStatus>,
}

fn view(
    record: Option<ScanRecord>,
    connector: Option<String>,
    coverage: Option<Value>,
    job: Option<JobStatus>,
) -> Option<ScanView> {
    let id = record
        .as_ref()
        .map(|r| r.id.clone())
        .or_else(|| job.as_ref().map(|j| j.id.clone()))?;
    // A cancelled job's scan is stored `failed`; say what happened.
    // A queued job's state says more than its scan's row: a scan whose
    // run failed is queued again while attempts remain.
    let status = match (&job, &record) {
        (Some(j), _) if matches!(j.state, JobState::Cancelled | JobState::Queued) => {
            serde_json::to_value(j.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
        (_, Some(r)) => r.status.as_str().to_owned(),
        (Some(j), None) => serde_json::to_value(j.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        (None, None) => String::new(),
    };
    Some(ScanView {
        id,
        status,
        record,
        connector,
        coverage,
        job,
    })
}

async fn list(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<ScanFilter>,
) -> Result<Json<Page<Value>>, ApiError> {
    let status = filter
        .status
        .as_deref()
        .map(|s| {
            ScanStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown scan status `{s}` (one of running, complete, failed)"
                ))
            })
        })
        .transpose()?;
    let (offset, limit) = (page.offset()?, page.limit()?);
    let rows = state
        .store
        .run(move |s| {
            let mut rows = Vec::new();
            for record in s.scans_page(status, offset, limit + 1)? {
                let connector = s.scan_connector(&record.id)?;
                let coverage = ScanCoverage::view(s.scan_coverage(&record.id)?.as_ref());
                rows.push((record, connector, coverage));
            }
            Ok(rows)
        })
        .await?;
    let mut items: Vec<Value> = Vec::with_capacity(rows.len());
    for (r, connector, coverage) in rows {
        let job = job_of(&state, &r.id).await?;
        items.extend(view(Some(r), connector, Some(coverage), job).map(|v| json!(v)));
    }
    Ok(Json(Page::from_offset(items, offset, limit, &uri.0)))
}

async fn trigger(
    state: St,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // The body is optional: no body scans everything.
    let request: ScanRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ScanRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid scan request: {e}")))?
    };
    let job = state.start_scan(request).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!(view(None, None, None, Some(job)))),
    ))
}

/// A scan's job: this server's own run of it, or its job in the store's
/// queue (whichever replica queued it).
pub(crate) async fn job_of(
    state: &crate::AppState,
    id: &str,
) -> Result<Option<JobStatus>, ApiError> {
    match state.scans.status(id) {
        Some(job) => Ok(Some(job)),
        None => crate::queued::status(&state.store, id).await,
    }
}

async fn show(state: St, ApiPath(id): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    let job = job_of(&state, &id).await?;
    let lookup = id.clone();
    let (record, connector, coverage) = state
        .store
        .run(move |s| match s.scan(&lookup) {
            Ok(r) => {
                let connector = s.scan_connector(&r.id)?;
                let coverage = ScanCoverage::view(s.scan_coverage(&r.id)?.as_ref());
                Ok((Some(r), connector, Some(coverage)))
            }
            Err(rampart_store::StoreError::NoSuchScan(_)) => Ok((None, None, None)),
            Err(e) => Err(e.into()),
        })
        .await?;
    view(record, connector, coverage, job)
        .map(|v| Json(json!(v)))
        .ok_or_else(|| ApiError::not_found(format!("no scan `{id}`")))
}

async fn cancel(
    state: St,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let job = if state.scans.status(&id).is_some() {
        state.scans.cancel(&id)?
    } else {
        crate::queued::cancel(&state.store, &id).await?
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!(view(None, None, None, Some(job)))),
    ))
}
