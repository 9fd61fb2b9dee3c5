//! Posture history: the log of changes to the current assessments and the
//! daily aggregates (the store's `history` module).

use axum::Json;
use rampart_store::{AssessmentChange, ChangeFilter, ChangeKind, DailyPosture};
use serde_json::{Value, json};

use super::{RouteTable, St, Uri};
use crate::error::{ApiError, ApiQuery};
use crate::page::{Page, PageQuery};
use crate::posture::ScopeQuery;

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/changes", changes)
        .add("get", "/trend", trend)
}

#[derive(Debug, serde::Deserialize)]
struct ChangeQuery {
    since: Option<String>,
    until: Option<String>,
    change: Option<String>,
    recommendation: Option<String>,
    resource: Option<String>,
}

/// `YYYY-MM-DD` or a 400 naming the parameter.
fn day(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if rampart_store::is_day(&value) {
        Ok(Some(value))
    } else {
        Err(ApiError::bad_request(format!(
            "`{name}` value `{value}` is not a day (YYYY-MM-DD)"
        )))
    }
}

/// The change kind named by `?change=`.
pub(crate) fn change_kind(value: Option<&str>) -> Result<Option<ChangeKind>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => ChangeKind::parse(v).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`change` value `{v}` is not one of new, changed, resolved, removed"
            ))
        }),
    }
}

async fn changes(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<ChangeQuery>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Page<AssessmentChange>>, ApiError> {
    let limit = page.limit()?;
    let before = match page.key()? {
        None => None,
        Some((seq, _)) => Some(
            seq.parse::<i64>()
                .map_err(|_| ApiError::bad_request("invalid `cursor`"))?,
        ),
    };
    let mut filter = ChangeFilter {
        since: day("since", q.since)?,
        until: day("until", q.until)?,
        change: change_kind(q.change.as_deref())?,
        recommendation: q.recommendation.filter(|v| !v.is_empty()),
        resource: q.resource.filter(|v| !v.is_empty()),
        ..ChangeFilter::default()
    };
    let rows = state
        .store
        .run(move |s| {
            filter.scope = scope.resolve(s)?;
            Ok(s.changes(&filter, before, limit + 1)?)
        })
        .await?;
    Ok(Json(Page::from_keyset(rows, limit, &uri.0, |c| {
        (c.seq.to_string(), String::new())
    })))
}

#[derive(Debug, serde::Deserialize)]
struct TrendQuery {
    since: Option<String>,
    until: Option<String>,
    recommendation: Option<String>,
}

async fn trend(
    state: St,
    ApiQuery(q): ApiQuery<TrendQuery>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    let since = day("since", q.since)?;
    let until = day("until", q.until)?;
    let recommendation = q.recommendation.filter(|v| !v.is_empty());
    let days: Vec<DailyPosture> = state
        .store
        .run(move |s| {
            let part = scope.resolve(s)?;
            Ok(s.daily_posture(
                &part,
                recommendation.as_deref(),
                since.as_deref(),
                until.as_deref(),
            )?)
        })
        .await?;
    Ok(Json(json!({ "days": days })))
}
