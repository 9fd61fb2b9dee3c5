//! Scans: trigger, status with progress, cancel, history.

use axum::Json;
use axum::http::StatusCode;
use rampart_model::{ScanRecord, ScanStatus};
use serde::Serialize;
use serde_json::{Value, json};

use super::{RouteTable, St, Uri};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};
use crate::scans::{JobStatus, ScanRequest};

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
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<JobStatus>,
}

fn view(record: Option<ScanRecord>, job: Option<JobStatus>) -> Option<ScanView> {
    let id = record
        .as_ref()
        .map(|r| r.id.clone())
        .or_else(|| job.as_ref().map(|j| j.id.clone()))?;
    // A cancelled job's scan is stored `failed`; say what happened.
    let status = match (&job, &record) {
        (Some(j), _) if j.state == crate::scans::JobState::Cancelled => "cancelled".to_owned(),
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
        .run(move |s| Ok(s.scans_page(status, offset, limit + 1)?))
        .await?;
    let jobs = state.scans.clone();
    let items: Vec<Value> = rows
        .into_iter()
        .filter_map(|r| {
            let job = jobs.status(&r.id);
            view(Some(r), job)
        })
        .map(|v| json!(v))
        .collect();
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
    let job = state
        .scans
        .trigger(request, state.store.clone(), state.posture.clone())?;
    Ok((StatusCode::ACCEPTED, Json(json!(view(None, Some(job))))))
}

async fn show(state: St, ApiPath(id): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    let job = state.scans.status(&id);
    let lookup = id.clone();
    let record = state
        .store
        .run(move |s| match s.scan(&lookup) {
            Ok(r) => Ok(Some(r)),
            Err(rampart_store::StoreError::NoSuchScan(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    view(record, job)
        .map(|v| Json(json!(v)))
        .ok_or_else(|| ApiError::not_found(format!("no scan `{id}`")))
}

async fn cancel(
    state: St,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let job = state.scans.cancel(&id)?;
    Ok((StatusCode::ACCEPTED, Json(json!(view(None, Some(job))))))
}
