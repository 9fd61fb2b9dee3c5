//! Alerts: the list (filters, keyset pages), one alert with its status
//! history, and status changes (admins; a session also needs its CSRF
//! token, as every change does).

use axum::{Extension, Json};
use rampart_model::{Alert, AlertPlan, AlertSource, AlertStatus, Severity};
use rampart_store::{AlertFilter, AlertStatusChange, Store, StoreError};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{RouteTable, St, Uri, nonempty};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};

/// Evidence events per alert in a list (the alert itself has up to 100).
const LIST_EVIDENCE: usize = 10;

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/alerts", list)
        .add("get", "/alerts/{id}", show)
        .add("post", "/alerts/{id}/status", set_status)
}

/// `?severity=&status=&type=&plan=&source=&account=&resource=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AlertQuery {
    pub severity: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub alert_type: Option<String>,
    pub plan: Option<String>,
    pub source: Option<String>,
    pub account: Option<String>,
    pub resource: Option<String>,
}

fn parse<T>(
    name: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<T, ApiError> {
    parse(value).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown `{name}` `{value}` (expected one of {})",
            all.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

impl AlertQuery {
    /// The store filter, validated (empty values mean "any").
    pub(crate) fn filter(&self) -> Result<AlertFilter, ApiError> {
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let statuses: Vec<&str> = AlertStatus::ALL.iter().map(|s| s.as_str()).collect();
        let plans: Vec<&str> = AlertPlan::ALL.iter().map(|s| s.as_str()).collect();
        let sources: Vec<&str> = AlertSource::ALL.iter().map(|s| s.as_str()).collect();
        Ok(AlertFilter {
            min_severity: nonempty(self.severity.as_ref())
                .map(|v| parse("severity", v, Severity::parse, &severities))
                .transpose()?,
            status: nonempty(self.status.as_ref())
                .map(|v| parse("status", v, AlertStatus::parse, &statuses))
                .transpose()?,
            alert_type: nonempty(self.alert_type.as_ref()).map(str::to_owned),
            plan: nonempty(self.plan.as_ref())
                .map(|v| parse("plan", v, AlertPlan::parse, &plans))
                .transpose()?,
            source: nonempty(self.source.as_ref())
                .map(|v| parse("source", v, AlertSource::parse, &sources))
                .transpose()?,
            account: nonempty(self.account.as_ref()).map(str::to_owned),
            resource: nonempty(self.resource.as_ref()).map(str::to_owned),
        })
    }
}

async fn list(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<Page<Alert>>, ApiError> {
    let (limit, key) = (page.limit()?, page.key()?);
    let filter = q.filter()?;
    let rows = state
        .store
        .run(move |s| Ok(s.alerts_page(&filter, key.as_ref(), limit + 1, LIST_EVIDENCE)?))
        .await?;
    Ok(Json(Page::from_keyset(
        rows,
        limit,
        &uri.0,
        Store::alert_key,
    )))
}

/// An alert and its status history, or 404.
pub(crate) fn alert_with_history(
    s: &Store,
    id: &str,
) -> Result<(Alert, Vec<AlertStatusChange>), ApiError> {
    let alert = s
        .alert(id)?
        .ok_or_else(|| ApiError::not_found(format!("no alert `{id}`")))?;
    let history = s.alert_history(id)?;
    Ok((alert, history))
}

async fn show(state: St, ApiPath(id): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    let (alert, history) = state.store.run(move |s| alert_with_history(s, &id)).await?;
    Ok(Json(json!({"alert": alert, "history": history})))
}

/// `{"status": "dismissed", "comment": "…"}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: String,
    #[serde(default)]
    comment: Option<String>,
}

/// Changes an alert's status as `actor`; 404 when there is no such alert.
pub(crate) async fn change_status(
    state: &St,
    id: String,
    status: &str,
    actor: String,
    comment: Option<String>,
) -> Result<AlertStatusChange, ApiError> {
    let statuses: Vec<&str> = AlertStatus::ALL.iter().map(|s| s.as_str()).collect();
    let to = parse("status", status, AlertStatus::parse, &statuses)?;
    state
        .store
        .run(move |s| {
            match s.set_alert_status(
                &id,
                to,
                &actor,
                comment.as_deref(),
                OffsetDateTime::now_utc(),
            ) {
                Ok(change) => Ok(change),
                Err(StoreError::NoSuchAlert(id)) => {
                    Err(ApiError::not_found(format!("no alert `{id}`")))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
}

async fn set_status(
    state: St,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Json<Value>, ApiError> {
    let change = change_status(
        &state,
        id.clone(),
        &body.status,
        principal.name,
        body.comment,
    )
    .await?;
    Ok(Json(json!({"id": id, "change": change})))
}
