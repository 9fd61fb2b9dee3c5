//! SQL: the SQL Servers of the latest complete scan (or `?scan=`), with
//! what found them, the SQL plan's prerequisites and the vulnerability
//! assessment; one server by its host's id or ARN; its accepted
//! vulnerability assessment baselines (list, accept a rule's result,
//! remove).

use axum::http::StatusCode;
use axum::{Extension, Json};
use rampart_engine::sql::{SqlServerView, accept_baseline, stored_sql_server, stored_sql_servers};
use rampart_engine::{EngineError, ErrorKind};
use rampart_sqlva::Baseline;
use serde_json::{Value, json};

use super::{RouteTable, St, Uri, no_scan, nonempty, scan_to_read, scan_view};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/sql/servers", list)
        .add("get", "/sql/servers/{server}", show)
        .add("get", "/sql/servers/{server}/baselines", baselines)
        .add("post", "/sql/servers/{server}/baselines", accept)
        .add("delete", "/sql/servers/{server}/baselines/{rule}", remove)
}

/// An engine error as the API answers it.
pub(crate) fn engine_error(e: EngineError) -> ApiError {
    match e.kind() {
        ErrorKind::NotFound => ApiError::not_found(e.to_string()),
        ErrorKind::Usage => ApiError::bad_request(e.to_string()),
        _ => ApiError::internal(e.to_string()),
    }
}

/// The ARN of `server` (its ARN or host id) in the latest complete scan.
fn server_arn(s: &rampart_store::Store, server: &str) -> Result<String, ApiError> {
    let scan = scan_to_read(s, None)?.ok_or_else(no_scan)?;
    stored_sql_server(s, server)?
        .map(|v| v.server)
        .ok_or_else(|| {
            ApiError::not_found(format!("no SQL Server `{server}` in scan `{}`", scan.id))
        })
}

async fn baselines(
    state: St,
    ApiPath(server): ApiPath<String>,
) -> Result<Json<Vec<Baseline>>, ApiError> {
    let rows = state
        .store
        .run(move |s| {
            let arn = server_arn(s, &server)?;
            Ok(s.sql_va_baselines(&arn)?)
        })
        .await?;
    Ok(Json(rows))
}

/// `{"rule": "RVA1001", "database": "sales", "scan": "…"}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    rule: String,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    scan: Option<String>,
}

/// Accepts a rule's result in a scan as `actor`'s baseline of `server`.
pub(crate) async fn accept_result(
    state: &St,
    server: String,
    rule: String,
    database: Option<String>,
    scan: Option<String>,
    actor: String,
) -> Result<(String, Baseline), ApiError> {
    state
        .store
        .run(move |s| {
            let scan = scan_to_read(s, scan.as_deref())?.ok_or_else(no_scan)?;
            accept_baseline(s, &scan.id, &server, &rule, database.as_deref(), &actor)
                .map_err(engine_error)
        })
        .await
}

async fn accept(
    state: St,
    Extension(principal): Extension<Principal>,
    ApiPath(server): ApiPath<String>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (arn, baseline) = accept_result(
        &state,
        server,
        body.rule,
        body.database,
        body.scan,
        principal.name,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"server": arn, "baseline": baseline})),
    ))
}

#[derive(Debug, serde::Deserialize)]
struct RemoveQuery {
    database: Option<String>,
}

/// Removes `server`'s baseline of `rule` (on `database`); 404 when none.
pub(crate) async fn remove_baseline(
    state: &St,
    server: String,
    rule: String,
    database: Option<String>,
) -> Result<(), ApiError> {
    state
        .store
        .run(move |s| {
            let arn = server_arn(s, &server)?;
            if s.delete_sql_va_baseline(&arn, &rule, database.as_deref())? {
                Ok(())
            } else {
                Err(ApiError::not_found(format!(
                    "no baseline of `{rule}` for `{server}`"
                )))
            }
        })
        .await
}

async fn remove(
    state: St,
    ApiPath((server, rule)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<RemoveQuery>,
) -> Result<StatusCode, ApiError> {
    remove_baseline(
        &state,
        server,
        rule,
        nonempty(q.database.as_ref()).map(str::to_owned),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?scan=&account=&region=&prerequisites=&host_type=`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct SqlServersQuery {
    pub scan: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `met` or `not_met`.
    pub prerequisites: Option<String>,
    /// `ec2`, `rds-custom` or `rds`.
    pub host_type: Option<String>,
}

impl SqlServersQuery {
    /// Whether a server passes the filters (an unknown `prerequisites` or
    /// `host_type` is a bad request).
    pub(crate) fn matcher(&self) -> Result<impl Fn(&SqlServerView) -> bool + use<>, ApiError> {
        let met = match nonempty(self.prerequisites.as_ref()) {
            None => None,
            Some("met") => Some(true),
            Some("not_met") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unknown `prerequisites` `{other}` (expected `met` or `not_met`)"
                )));
            }
        };
        let host_type = match nonempty(self.host_type.as_ref()) {
            None => None,
            Some(t @ ("ec2" | "rds-custom" | "rds")) => Some(t.to_owned()),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unknown `host_type` `{other}` (expected `ec2`, `rds-custom` or `rds`)"
                )));
            }
        };
        let account = nonempty(self.account.as_ref()).map(str::to_owned);
        let region = nonempty(self.region.as_ref()).map(str::to_owned);
        Ok(move |s: &SqlServerView| {
            met.is_none_or(|m| s.prerequisites_met == m)
                && host_type.as_ref().is_none_or(|t| &s.host_type == t)
                && account.as_ref().is_none_or(|a| &s.account == a)
                && region.as_ref().is_none_or(|r| &s.region == r)
        })
    }
}

async fn list(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<SqlServersQuery>,
) -> Result<Json<Page<SqlServerView>>, ApiError> {
    let keep = q.matcher()?;
    let rows = scan_view(&state, q.scan.clone(), |s, _| Ok(stored_sql_servers(s)?))
        .await?
        .map(|(_, rows)| rows)
        .unwrap_or_default();
    let rows: Vec<SqlServerView> = rows.into_iter().filter(|c| keep(c)).collect();
    Ok(Json(Page::from_vec(rows, &page, &uri.0)?))
}

#[derive(Debug, serde::Deserialize)]
struct ShowQuery {
    scan: Option<String>,
}

async fn show(
    state: St,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> Result<Json<SqlServerView>, ApiError> {
    let found = state
        .store
        .run(move |s| {
            let scan = scan_to_read(s, q.scan.as_deref())?.ok_or_else(no_scan)?;
            stored_sql_server(s, &server)?.ok_or_else(|| {
                ApiError::not_found(format!("no SQL Server `{server}` in scan `{}`", scan.id))
            })
        })
        .await?;
    Ok(Json(found))
}
