//! The REST API under `/api/v1`.
//!
//! Every route is registered through [`table`], which also lists them, so a
//! test can check that the OpenAPI document ([`openapi`]) covers exactly
//! the routes that exist. Every list takes `?limit=&cursor=` and answers a
//! [`Page`](crate::page::Page); every error is an
//! [`ApiError`](crate::error::ApiError) body.

pub(crate) mod alerts;
pub(crate) mod connectors;
mod exemptions;
pub(crate) mod history;
mod inventory;
pub mod openapi;
mod posture;
pub(crate) mod scans;
pub(crate) mod servers;
pub(crate) mod sql;
pub(crate) mod vulnerabilities;

use std::collections::BTreeMap;

use axum::extract::{OriginalUri, State};
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use axum::{Extension, Json, Router};
use rampart_model::ScanRecord;
use rampart_store::Store;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// The API's routes and the list of `(method, path)` they answer.
pub struct RouteTable {
    routes: BTreeMap<&'static str, MethodRouter<AppState>>,
    /// `(method, path)` pairs, method in lower case, path relative to `/api/v1`.
    pub documented: Vec<(&'static str, &'static str)>,
}

impl RouteTable {
    fn new() -> Self {
        Self {
            routes: BTreeMap::new(),
            documented: Vec::new(),
        }
    }

    /// Adds a handler for `method` (`get`, `post`, `put`, `delete`) at `path`.
    pub fn add<H, T>(mut self, method: &'static str, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            "post" => MethodFilter::POST,
            "put" => MethodFilter::PUT,
            "patch" => MethodFilter::PATCH,
            "delete" => MethodFilter::DELETE,
            _ => MethodFilter::GET,
        };
        let entry = self.routes.remove(path).unwrap_or_default();
        self.routes.insert(path, entry.on(filter, handler));
        self.documented.push((method, path));
        self
    }

    /// The router.
    pub fn into_router(self) -> Router<AppState> {
        self.routes
            .into_iter()
            .fold(Router::new(), |router, (path, route)| {
                router.route(path, route)
            })
    }
}

/// Every API route.
pub fn table() -> RouteTable {
    let t = RouteTable::new()
        .add("get", "/openapi.json", openapi_document)
        .add("get", "/me", me);
    let t = alerts::register(t);
    let t = scans::register(t);
    let t = posture::register(t);
    let t = history::register(t);
    let t = inventory::register(t);
    let t = connectors::register(t);
    let t = servers::register(t);
    let t = sql::register(t);
    let t = vulnerabilities::register(t);
    exemptions::register(t)
}

/// The API's routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    table().into_router()
}

async fn openapi_document() -> Json<Value> {
    Json(openapi::document())
}

async fn me(Extension(principal): Extension<Principal>) -> Json<Value> {
    Json(json!({
        "token_id": principal.token_id,
        "name": principal.name,
        "role": principal.role,
        "csrf_token": principal.csrf,
    }))
}

/// `?scan=ID`: read this scan instead of the latest complete one.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ScanQuery {
    pub scan: Option<String>,
}

/// The scan to read: `?scan=` or the latest complete one (`None`: no scan
/// yet). Assets, gaps and assessments are current state (the latest scan
/// of each account), read as of the latest complete scan: an older
/// `?scan=` is `410 Gone`, never today's rows under an old scan's name.
pub(crate) fn scan_to_read(
    store: &Store,
    id: Option<&str>,
) -> Result<Option<ScanRecord>, ApiError> {
    let Some(id) = id else {
        return Ok(store.latest_complete_scan()?);
    };
    let scan = store.scan(id)?;
    if !store.assessments_kept(&scan.id)? {
        return Err(ApiError::new(
            axum::http::StatusCode::GONE,
            "scan_history",
            format!(
                "the assessments of scan `{}` are history: only the current state is kept, as of the latest scan; `GET /api/v1/changes` lists what changed, `GET /api/v1/trend` the daily counts",
                scan.id
            ),
        ));
    }
    Ok(Some(scan))
}

/// A view of a stored scan (the latest complete one, or `scan`): its record
/// and `load`'s rows; `None` while there is no scan.
pub(crate) async fn scan_view<T, F>(
    state: &AppState,
    scan: Option<String>,
    load: F,
) -> Result<Option<(ScanRecord, Vec<T>)>, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Store, &ScanRecord) -> Result<Vec<T>, ApiError> + Send + 'static,
{
    state
        .store
        .run(move |s| {
            Ok(match scan_to_read(s, scan.as_deref())? {
                Some(record) => {
                    let rows = load(s, &record)?;
                    Some((record, rows))
                }
                None => None,
            })
        })
        .await
}

/// A query parameter that was given and is not empty.
pub(crate) fn nonempty(v: Option<&String>) -> Option<&str> {
    v.map(String::as_str).filter(|s| !s.is_empty())
}

/// 404 for reads that need a scan when there is none.
pub(crate) fn no_scan() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_scan",
        "no complete scan yet; trigger one with `POST /api/v1/scans` or `rampart scan`",
    )
}

/// Shared extractor set for list handlers.
pub(crate) type Uri = OriginalUri;
pub(crate) type St = State<AppState>;
