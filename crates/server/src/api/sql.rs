//! SQL: the SQL Servers of the latest complete scan (or `?scan=`), with
//! what found them, the SQL plan's prerequisites and the vulnerability
//! assessment; one server by its host's id or ARN.

use axum::Json;
use rampart_engine::sql::{SqlServerView, stored_sql_servers};

use super::{RouteTable, St, Uri, no_scan, nonempty, scan_to_read, scan_view};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/sql/servers", list)
        .add("get", "/sql/servers/{server}", show)
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
    let rows = scan_view(&state, q.scan.clone(), |s, scan| {
        Ok(stored_sql_servers(s, &scan.id)?)
    })
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
            stored_sql_servers(s, &scan.id)?
                .into_iter()
                .find(|v| v.server == server || v.host_id == server)
                .ok_or_else(|| {
                    ApiError::not_found(format!("no SQL Server `{server}` in scan `{}`", scan.id))
                })
        })
        .await?;
    Ok(Json(found))
}
