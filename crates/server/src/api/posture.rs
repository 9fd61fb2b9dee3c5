//! Secure score (now and over time), recommendations with their
//! assessments, and compliance per standard and control.

use axum::Json;
use rampart_model::Assessment;
use rampart_store::{AssessmentFilter, ScorePoint};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{RouteTable, ScanQuery, St, Uri, no_scan, scan_to_read};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};
use crate::posture::{STATUSES, ScopeQuery, kind, parse_status};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/score", score)
        .add("get", "/score/history", history)
        .add("get", "/recommendations", recommendations)
        .add("get", "/recommendations/{id}", recommendation)
        .add(
            "get",
            "/recommendations/{id}/assessments",
            recommendation_assessments,
        )
        .add("get", "/assessments", assessments)
        .add("get", "/compliance", standards)
        .add("get", "/compliance/{standard}", standard)
        .add("get", "/compliance/{standard}/controls", controls)
        .add("get", "/compliance/{standard}/controls/{control}", control)
}

async fn score(
    state: St,
    ApiQuery(q): ApiQuery<ScanQuery>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    let posture = state.posture.clone();
    state
        .store
        .run(move |s| {
            let part = scope.resolve(s)?;
            let scan = scan_to_read(s, q.scan.as_deref())?.ok_or_else(no_scan)?;
            let score = posture.scoped(s, &scan.id, kind::SCORE, &part)?;
            Ok(Json(json!({
                "scan_id": scan.id,
                "finished_at": scan.finished_at.and_then(|t| t.format(&Rfc3339).ok()),
                "account": scope.account,
                "connector": scope.connector,
                "region": scope.region,
                "percent": score.get("percent"),
                "controls": score.get("controls"),
            })))
        })
        .await
}

#[derive(Debug, serde::Deserialize)]
struct HistoryQuery {
    from: Option<String>,
    to: Option<String>,
}

fn parse_time(name: &str, text: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    text.map(|t| {
        OffsetDateTime::parse(t, &Rfc3339)
            .map_err(|_| ApiError::bad_request(format!("`{name}` value `{t}` is not RFC 3339")))
    })
    .transpose()
}

async fn history(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<Page<ScorePoint>>, ApiError> {
    let from = parse_time("from", q.from.as_deref())?;
    let to = parse_time("to", q.to.as_deref())?;
    let (offset, limit) = (page.offset()?, page.limit()?);
    let posture = state.posture.clone();
    let rows = state
        .store
        .run(move |s| {
            posture.fill_history(s)?;
            Ok(s.score_history(from, to, offset, limit + 1)?)
        })
        .await?;
    Ok(Json(Page::from_offset(rows, offset, limit, &uri.0)))
}

#[derive(Debug, serde::Deserialize)]
struct RecommendationFilter {
    scan: Option<String>,
    severity: Option<String>,
    /// Only recommendations with at least one assessment in this status.
    status: Option<String>,
    resource_type: Option<String>,
    security_control: Option<String>,
    standard: Option<String>,
}

fn counts_of(all: &Value, id: &str) -> Value {
    let counts = all.get(id);
    let mut out = serde_json::Map::new();
    for status in STATUSES {
        let n = counts
            .and_then(|c| c.get(status))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        out.insert(status.to_owned(), json!(n));
    }
    Value::Object(out)
}

async fn recommendations(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(f): ApiQuery<RecommendationFilter>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Page<Value>>, ApiError> {
    if let Some(s) = &f.status {
        parse_status(s)?;
    }
    let severity = f
        .severity
        .as_deref()
        .map(|s| {
            serde_json::from_value::<rampart_model::Severity>(json!(s))
                .map_err(|_| ApiError::bad_request(format!("unknown severity `{s}`")))
        })
        .transpose()?;
    check_filters(&state.posture.catalog, &f)?;
    let posture = state.posture.clone();
    let scan = f.scan.clone();
    let counts = state
        .store
        .run(move |s| recommendation_counts(s, &posture, scan.as_deref(), &scope))
        .await?;
    let mut items: Vec<(&rampart_catalog::Recommendation, Value)> = state
        .posture
        .catalog
        .iter()
        .filter(|r| severity.is_none_or(|s| r.severity == s))
        .filter(|r| {
            f.resource_type
                .as_ref()
                .is_none_or(|t| &r.resource_type == t)
        })
        .filter(|r| {
            f.security_control
                .as_ref()
                .is_none_or(|c| &r.security_control == c)
        })
        .filter(|r| {
            f.standard.as_ref().is_none_or(|std| {
                r.standards
                    .iter()
                    .any(|m| m.split_once(':').is_some_and(|(s, _)| s == std))
            })
        })
        .map(|r| (r, counts_of(&counts, &r.id)))
        .filter(|(_, c)| {
            f.status
                .as_ref()
                .is_none_or(|s| c.get(s).and_then(Value::as_u64).unwrap_or(0) > 0)
        })
        .collect();
    // Most urgent first: severity, then unhealthy count, then id.
    items.sort_by(|(a, ca), (b, cb)| {
        let un = |c: &Value| c.get("unhealthy").and_then(Value::as_u64).unwrap_or(0);
        b.severity
            .cmp(&a.severity)
            .then(un(cb).cmp(&un(ca)))
            .then(a.id.cmp(&b.id))
    });
    let values: Vec<Value> = items
        .into_iter()
        .map(|(r, counts)| {
            json!({
                "id": r.id,
                "title": r.title,
                "severity": r.severity,
                "resource_type": r.resource_type,
                "security_control": r.security_control,
                "standards": r.standards,
                "preview": r.preview,
                "counts": counts,
            })
        })
        .collect();
    Ok(Json(Page::from_vec(values, &page, &uri.0)?))
}

/// Assessment counts per recommendation and status of the scan to read,
/// over the assessments in `scope` (none before the first scan).
fn recommendation_counts(
    s: &rampart_store::Store,
    posture: &crate::posture::Posture,
    scan: Option<&str>,
    scope: &ScopeQuery,
) -> Result<Value, ApiError> {
    let part = scope.resolve(s)?;
    Ok(match scan_to_read(s, scan)? {
        Some(scan) => Value::clone(&*posture.scoped(s, &scan.id, kind::RECOMMENDATIONS, &part)?),
        None => json!({}),
    })
}

async fn recommendation(
    state: St,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ScanQuery>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    let rec = state
        .posture
        .catalog
        .get(&id)
        .cloned()
        .ok_or_else(|| no_recommendation(&state, &id))?;
    let posture = state.posture.clone();
    let counts = state
        .store
        .run(move |s| recommendation_counts(s, &posture, q.scan.as_deref(), &scope))
        .await?;
    let mut value = json!(rec);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("counts".to_owned(), counts_of(&counts, &id));
    }
    Ok(Json(value))
}

#[derive(Debug, serde::Deserialize)]
struct AssessmentQuery {
    scan: Option<String>,
    recommendation: Option<String>,
    status: Option<String>,
    account: Option<String>,
    /// A connector's name or id: only its accounts.
    connector: Option<String>,
    region: Option<String>,
    resource_type: Option<String>,
    resource: Option<String>,
}

async fn list_assessments(
    state: St,
    uri: Uri,
    page: PageQuery,
    q: AssessmentQuery,
) -> Result<Json<Page<Assessment>>, ApiError> {
    let mut filter = AssessmentFilter {
        recommendation: q.recommendation,
        status: q.status.as_deref().map(parse_status).transpose()?,
        account: q.account,
        accounts: None,
        region: q.region,
        resource_type: q.resource_type,
        resource: q.resource,
    };
    let (after, limit) = (page.key()?, page.limit()?);
    // A resource type without a recommendation or resource: read the
    // type's recommendations one after another, each an ordered range of
    // the store's (recommendation, resource) key, instead of walking every
    // assessment of the scan (seconds at a million assets). Assessments of
    // recommendations no longer in the catalog are not found this way.
    let by_type = match (
        &filter.recommendation,
        &filter.resource,
        &filter.resource_type,
    ) {
        (None, None, Some(ty)) => Some(recommendations_of_type(&state.posture.catalog, ty)),
        _ => None,
    };
    let rows = state
        .store
        .run(move |s| {
            if let Some(connector) = &q.connector {
                filter.accounts = Some(s.accounts_of_connector(connector)?);
            }
            if scan_to_read(s, q.scan.as_deref())?.is_none() {
                return Ok(Vec::new());
            }
            let Some(recommendations) = by_type else {
                return Ok(s.assessments_page(&filter, after.as_ref(), limit + 1)?);
            };
            let mut rows = Vec::new();
            for recommendation in recommendations {
                let key = match &after {
                    Some((a, _)) if recommendation < *a => continue,
                    Some(key) if recommendation == key.0 => Some(key.clone()),
                    _ => None,
                };
                let one = AssessmentFilter {
                    recommendation: Some(recommendation),
                    ..filter.clone()
                };
                let want = (limit + 1).saturating_sub(rows.len() as u64);
                rows.extend(s.assessments_page(&one, key.as_ref(), want)?);
                if rows.len() as u64 > limit {
                    break;
                }
            }
            Ok(rows)
        })
        .await?;
    Ok(Json(Page::from_keyset(rows, limit, &uri.0, |a| {
        (a.recommendation.clone(), a.resource.clone())
    })))
}

/// The ids of the recommendations of a resource type, sorted.
fn recommendations_of_type(catalog: &rampart_catalog::Catalog, resource_type: &str) -> Vec<String> {
    let mut ids: Vec<String> = catalog
        .iter()
        .filter(|r| r.resource_type == resource_type)
        .map(|r| r.id.clone())
        .collect();
    ids.sort();
    ids
}

async fn assessments(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<AssessmentQuery>,
) -> Result<Json<Page<Assessment>>, ApiError> {
    list_assessments(state, uri, page, q).await
}

async fn recommendation_assessments(
    state: St,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(mut q): ApiQuery<AssessmentQuery>,
) -> Result<Json<Page<Assessment>>, ApiError> {
    if state.posture.catalog.get(&id).is_none() {
        return Err(no_recommendation(&state, &id));
    }
    q.recommendation = Some(id);
    list_assessments(state, uri, page, q).await
}

/// The compliance results of the scan to read (a JSON array of standards)
/// over the assessments in `scope`.
async fn compliance_results(
    state: &St,
    scan: Option<String>,
    scope: ScopeQuery,
) -> Result<std::sync::Arc<Value>, ApiError> {
    let posture = state.posture.clone();
    state
        .store
        .run(move |s| {
            let part = scope.resolve(s)?;
            let scan = scan_to_read(s, scan.as_deref())?.ok_or_else(no_scan)?;
            posture.scoped(s, &scan.id, kind::COMPLIANCE, &part)
        })
        .await
}

fn summary(standard: &Value) -> Value {
    let mut counts = serde_json::Map::new();
    for control in standard
        .get("controls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(state) = control.get("state").and_then(Value::as_str) {
            let n = counts.entry(state.to_owned()).or_insert(json!(0));
            *n = json!(n.as_u64().unwrap_or(0) + 1);
        }
    }
    json!({
        "id": standard.get("id"),
        "name": standard.get("name"),
        "controls": counts,
    })
}

async fn standards(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<ScanQuery>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Page<Value>>, ApiError> {
    let all = compliance_results(&state, q.scan, scope).await?;
    let items: Vec<Value> = all.as_array().into_iter().flatten().map(summary).collect();
    Ok(Json(Page::from_vec(items, &page, &uri.0)?))
}

async fn find_standard(
    state: &St,
    id: &str,
    scan: Option<String>,
    scope: ScopeQuery,
) -> Result<Value, ApiError> {
    compliance_results(state, scan, scope)
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s.get("id").and_then(Value::as_str) == Some(id))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no standard `{id}`")))
}

async fn standard(
    state: St,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ScanQuery>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(summary(
        &find_standard(&state, &id, q.scan, scope).await?,
    )))
}

#[derive(Debug, serde::Deserialize)]
struct ControlFilter {
    scan: Option<String>,
    state: Option<String>,
}

const CONTROL_STATES: [&str; 6] = [
    "failed",
    "passed",
    "error",
    "no_resources",
    "manual",
    "not_covered",
];

async fn controls(
    state: St,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(f): ApiQuery<ControlFilter>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Page<Value>>, ApiError> {
    if let Some(s) = &f.state
        && !CONTROL_STATES.contains(&s.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "unknown control state `{s}` (one of {})",
            CONTROL_STATES.join(", ")
        )));
    }
    let standard = find_standard(&state, &id, f.scan, scope).await?;
    let items: Vec<Value> = standard
        .get("controls")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| {
            f.state
                .as_deref()
                .is_none_or(|s| c.get("state").and_then(Value::as_str) == Some(s))
        })
        .collect();
    Ok(Json(Page::from_vec(items, &page, &uri.0)?))
}

async fn control(
    state: St,
    ApiPath((id, control)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ScanQuery>,
    ApiQuery(scope): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    let standard = find_standard(&state, &id, q.scan, scope).await?;
    standard
        .get("controls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("id").and_then(Value::as_str) == Some(control.as_str()))
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no control `{control}` in standard `{id}`")))
}

/// 404 for a recommendation id not in the catalog, naming the closest ids.
fn no_recommendation(state: &St, id: &str) -> ApiError {
    ApiError::not_found(
        state
            .posture
            .catalog
            .check_id(id)
            .err()
            .unwrap_or_else(|| format!("no recommendation `{id}`")),
    )
}

/// A filter value that no recommendation has is a typo: 400 naming the
/// closest values, never an empty page.
fn check_filters(
    catalog: &rampart_catalog::Catalog,
    f: &RecommendationFilter,
) -> Result<(), ApiError> {
    let check = |kind: &str, value: &Option<String>, known: Vec<&str>| {
        let Some(value) = value else {
            return Ok(());
        };
        if known.contains(&value.as_str()) {
            return Ok(());
        }
        let mut known = known;
        known.sort_unstable();
        known.dedup();
        Err(ApiError::bad_request(rampart_model::suggest::unknown(
            kind, value, &known, 12, None,
        )))
    };
    check(
        "standard",
        &f.standard,
        catalog
            .iter()
            .flat_map(|r| r.standards.iter())
            .filter_map(|m| m.split_once(':').map(|(s, _)| s))
            .collect(),
    )?;
    check(
        "resource type",
        &f.resource_type,
        catalog.iter().map(|r| r.resource_type.as_str()).collect(),
    )?;
    check(
        "security control",
        &f.security_control,
        catalog
            .iter()
            .map(|r| r.security_control.as_str())
            .collect(),
    )
}
