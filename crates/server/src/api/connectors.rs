//! Connectors CRUD: the connector resource of design.md §8, validated as
//! the CLI validates it (`Connector::validate`). Readers see a classic
//! connector's access key id masked ([`for_role`]).

use axum::http::StatusCode;
use axum::{Extension, Json};
use rampart_connector::{ClassicAuthentication, Connector};
use rampart_health::ConnectorHealth;
use rampart_store::{StoreError, TokenRole};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{RouteTable, St, Uri};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/connectors", list)
        .add("post", "/connectors", create)
        .add("get", "/connectors/{name}", show)
        .add("put", "/connectors/{name}", replace)
        .add("delete", "/connectors/{name}", delete)
        .add("get", "/connectors/{name}/health", health)
        .add("post", "/connectors/{name}/health", check_health)
}

#[derive(Debug, serde::Deserialize)]
struct ConnectorFilter {
    account: Option<String>,
    /// A plan name: cspm, servers, containers or sql.
    plan: Option<String>,
    /// `organization`, `member` or `account`.
    kind: Option<String>,
}

fn kind(c: &Connector) -> &'static str {
    if c.is_organization() {
        "organization"
    } else if c.parent().is_some() {
        "member"
    } else {
        "account"
    }
}

fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::ConnectorExists(name) => {
            ApiError::conflict(format!("a connector named `{name}` already exists"))
        }
        StoreError::NoSuchConnector(name) => ApiError::not_found(format!("no connector `{name}`")),
        other => other.into(),
    }
}

/// How many trailing characters of an access key id a reader sees.
const KEY_ID_SHOWN: usize = 4;

/// An access key id with all but its last [`KEY_ID_SHOWN`] characters
/// replaced by `*`.
pub(crate) fn mask_key_id(key_id: &str) -> String {
    let count = key_id.chars().count();
    key_id
        .chars()
        .enumerate()
        .map(|(i, c)| if i + KEY_ID_SHOWN < count { '*' } else { c })
        .collect()
}

/// The connector as `role` may see it: for anyone but an admin, a classic
/// connector's access key id is masked.
pub(crate) fn for_role(mut connector: Connector, role: TokenRole) -> Connector {
    if role != TokenRole::Admin
        && let Some(ClassicAuthentication::AwsCreds { access_key_id }) = &mut connector.classic
    {
        *access_key_id = mask_key_id(access_key_id);
    }
    connector
}

/// Reads a connector resource, filling in what the server owns.
fn from_body(
    mut body: Value,
    id: String,
    created_at: OffsetDateTime,
) -> Result<Connector, ApiError> {
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::bad_request("a connector is a JSON object"));
    };
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let stamp = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    obj.insert("id".into(), json!(id));
    obj.insert("createdAt".into(), json!(stamp(created_at)));
    obj.insert("updatedAt".into(), json!(stamp(now)));
    let connector = Connector::from_json(&body.to_string())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    connector
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(connector)
}

async fn list(
    state: St,
    Extension(principal): Extension<Principal>,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(f): ApiQuery<ConnectorFilter>,
) -> Result<Json<Page<Connector>>, ApiError> {
    let plan = f
        .plan
        .as_deref()
        .map(|p| {
            rampart_connector::Plan::from_name(p)
                .ok_or_else(|| ApiError::bad_request(format!("unknown plan `{p}`")))
        })
        .transpose()?;
    if let Some(k) = &f.kind
        && !["organization", "member", "account"].contains(&k.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "unknown kind `{k}` (one of organization, member, account)"
        )));
    }
    let all = state.store.run(|s| Ok(s.connectors()?)).await?;
    let matching: Vec<Connector> = all
        .into_iter()
        .filter(|c| f.account.as_deref().is_none_or(|a| c.account() == a))
        .filter(|c| plan.is_none_or(|p| c.plans().contains(&p)))
        .filter(|c| f.kind.as_deref().is_none_or(|k| kind(c) == k))
        .map(|c| for_role(c, principal.role))
        .collect();
    Ok(Json(Page::from_vec(matching, &page, &uri.0)?))
}

async fn create(
    state: St,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Connector>), ApiError> {
    let connector = from_body(
        body,
        uuid::Uuid::new_v4().to_string(),
        OffsetDateTime::now_utc(),
    )?;
    let stored = connector.clone();
    state
        .store
        .run(move |s| s.create_connector(&stored).map_err(store_error))
        .await?;
    // A new connector is scanned at once, not at the next wake-up.
    state.scheduler.wake();
    Ok((StatusCode::CREATED, Json(connector)))
}

/// The connector named (or with the id) `name`; 404 when none.
pub(crate) async fn find(state: &AppState, name: String) -> Result<Connector, ApiError> {
    let lookup = name.clone();
    state
        .store
        .run(move |s| Ok(s.connector(&lookup)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no connector `{name}`")))
}

/// The connector, with `nextScanAt`: when the scheduler scans it next
/// (`null` when it does not scan it on its own, e.g. an organization's
/// member).
async fn show(
    state: St,
    Extension(principal): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let connector = for_role(find(&state, name).await?, principal.role);
    let id = connector.id.to_string();
    let next = state
        .scheduler
        .next_due()
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .and_then(|e| e.next_scan_at.format(&Rfc3339).ok());
    let mut body = json!(connector);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("nextScanAt".into(), json!(next));
    }
    Ok(Json(body))
}

async fn replace(
    state: St,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Connector>, ApiError> {
    let existing = find(&state, name).await?;
    let connector = from_body(body, existing.id.to_string(), existing.created_at)?;
    if connector.account() != existing.account() {
        return Err(ApiError::bad_request(format!(
            "a connector's account cannot change (`{}`); create another connector",
            existing.account()
        )));
    }
    let stored = connector.clone();
    state
        .store
        .run(move |s| s.update_connector(&stored).map_err(store_error))
        .await?;
    state.scheduler.wake();
    Ok(Json(connector))
}

async fn delete(state: St, ApiPath(name): ApiPath<String>) -> Result<StatusCode, ApiError> {
    let connector = find(&state, name.clone()).await?;
    state
        .store
        .run(move |s| {
            // An organization's member connectors go with it, as in the CLI.
            if connector.is_organization() {
                for member in s.members_of(connector.account())? {
                    s.delete_connector(&member.id.to_string())?;
                }
            }
            s.delete_connector(&connector.id.to_string())?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The connector's latest health check (by any server sharing the
/// store); 404 when none ran.
async fn health(
    state: St,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ConnectorHealth>, ApiError> {
    let connector = find(&state, name).await?;
    let latest = state.health.latest(&state.store, &connector).await?;
    latest.map(Json).ok_or_else(|| {
        ApiError::not_found(format!(
            "connector `{}` has not been checked yet; `POST` to this URL checks it",
            connector.name
        ))
    })
}

/// Checks the connector's health now (AWS and the issuer's public URL,
/// with a timeout) and keeps the result.
async fn check_health(
    state: St,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ConnectorHealth>, ApiError> {
    let connector = find(&state, name).await?;
    Ok(Json(state.health.run(&state.store, connector).await?))
}
