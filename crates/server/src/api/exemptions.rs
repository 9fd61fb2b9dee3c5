//! Exemptions CRUD. Creating, changing or deleting one re-evaluates the
//! latest complete scan, so the score and assessments follow at once; the
//! change and the re-evaluation are one store transaction. Creating an
//! exemption whose content is stored already answers 200 with that one
//! (a retried request never duplicates).

use axum::http::StatusCode;
use axum::{Extension, Json};
use rampart_catalog::exemptions::Exemption;
use rampart_store::StoredExemption;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{RouteTable, St, Uri};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/exemptions", list)
        .add("post", "/exemptions", create)
        .add("get", "/exemptions/{id}", show)
        .add("put", "/exemptions/{id}", replace)
        .add("delete", "/exemptions/{id}", delete)
}

#[derive(Debug, serde::Deserialize)]
struct ExemptionFilter {
    recommendation: Option<String>,
    account: Option<String>,
    region: Option<String>,
    /// `true`: only exemptions in force; `false`: only expired ones.
    active: Option<bool>,
}

/// Checks the exemption; a recommendation id not in the catalog is a 400
/// naming the closest ids.
fn validate(state: &St, e: &Exemption) -> Result<Option<OffsetDateTime>, ApiError> {
    let expires = e
        .validate()
        .map_err(|why| ApiError::bad_request(format!("exemption {why}")))?;
    e.check_recommendation(&state.posture.catalog)
        .map_err(|why| ApiError::bad_request(format!("exemption {why}")))?;
    Ok(expires)
}

async fn list(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(f): ApiQuery<ExemptionFilter>,
) -> Result<Json<Page<StoredExemption>>, ApiError> {
    let (offset, limit) = (page.offset()?, page.limit()?);
    let filtered = f.recommendation.is_some()
        || f.account.is_some()
        || f.region.is_some()
        || f.active.is_some();
    if !filtered {
        let rows = state
            .store
            .run(move |s| Ok(s.exemptions(offset, limit + 1)?))
            .await?;
        return Ok(Json(Page::from_offset(rows, offset, limit, &uri.0)));
    }
    // Exemptions are few: filter in memory.
    let all = state
        .store
        .run(|s| Ok(s.exemptions(0, u64::MAX / 2)?))
        .await?;
    let now = OffsetDateTime::now_utc();
    let matching: Vec<StoredExemption> = all
        .into_iter()
        .filter(|e| {
            let x = &e.exemption;
            f.recommendation
                .as_ref()
                .is_none_or(|r| x.recommendation.as_ref() == Some(r))
                && f.account
                    .as_ref()
                    .is_none_or(|a| x.account.as_ref() == Some(a))
                && f.region
                    .as_ref()
                    .is_none_or(|r| x.region.as_ref() == Some(r))
                && f.active.is_none_or(|want| {
                    let active = x.validate().ok().flatten().is_none_or(|t| t > now);
                    active == want
                })
        })
        .collect();
    Ok(Json(Page::from_vec(matching, &page, &uri.0)?))
}

/// Stores `e` and re-evaluates the latest complete scan, in one store
/// transaction ([`Posture::save_exemption`](crate::posture::Posture::save_exemption)).
async fn save_and_reevaluate(
    state: &St,
    e: StoredExemption,
    new: bool,
) -> Result<(bool, Value), ApiError> {
    let posture = state.posture.clone();
    state
        .store
        .run(move |s| {
            let saved = posture.save_exemption(s, e, new)?;
            Ok((
                saved.created,
                json!({"exemption": saved.exemption, "reevaluated_scan": saved.reevaluated_scan}),
            ))
        })
        .await
}

async fn create(
    state: St,
    Extension(principal): Extension<Principal>,
    ApiJson(exemption): ApiJson<Exemption>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    validate(&state, &exemption)?;
    let stored = StoredExemption {
        id: uuid::Uuid::now_v7().to_string(),
        exemption,
        created_by: principal.name,
        created_at: OffsetDateTime::now_utc(),
    };
    let (created, body) = save_and_reevaluate(&state, stored, true).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)))
}

async fn show(state: St, ApiPath(id): ApiPath<String>) -> Result<Json<StoredExemption>, ApiError> {
    let lookup = id.clone();
    state
        .store
        .run(move |s| Ok(s.exemption(&lookup)?))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no exemption `{id}`")))
}

async fn replace(
    state: St,
    ApiPath(id): ApiPath<String>,
    ApiJson(exemption): ApiJson<Exemption>,
) -> Result<Json<Value>, ApiError> {
    validate(&state, &exemption)?;
    let lookup = id.clone();
    let existing = state
        .store
        .run(move |s| Ok(s.exemption(&lookup)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no exemption `{id}`")))?;
    let stored = StoredExemption {
        exemption,
        ..existing
    };
    Ok(Json(save_and_reevaluate(&state, stored, false).await?.1))
}

async fn delete(state: St, ApiPath(id): ApiPath<String>) -> Result<StatusCode, ApiError> {
    let posture = state.posture.clone();
    let lookup = id.clone();
    let deleted = state
        .store
        .run(move |s| posture.delete_exemption(s, &lookup))
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no exemption `{id}`")))
    }
}
