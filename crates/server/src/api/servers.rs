//! Servers: per EC2 instance of the latest complete scan (or `?scan=`),
//! its Servers-plan coverage (SSM managed, agent, instance profile, patch
//! and association compliance, software inventory) and why it is not
//! covered; one instance with its inventory, assessments and alerts.

use axum::Json;
use rampart_catalog::servers::InstanceCoverage;
use rampart_engine::server_coverage::{ServerDetail, stored_coverage, stored_server};

use super::{RouteTable, St, Uri, no_scan, nonempty, scan_to_read, scan_view};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/servers", list)
        .add("get", "/servers/{instance}", show)
}

/// `?scan=&account=&region=&covered=&reason=`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct ServersQuery {
    pub scan: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `true` or `false`.
    pub covered: Option<String>,
    /// A reason code (`not-managed`, `no-instance-profile`, …).
    pub reason: Option<String>,
}

impl ServersQuery {
    /// Whether `c` passes the filters (validated: a `covered` other than
    /// `true`/`false` is a bad request).
    pub(crate) fn matcher(&self) -> Result<impl Fn(&InstanceCoverage) -> bool + use<>, ApiError> {
        let covered = match nonempty(self.covered.as_ref()) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unknown `covered` `{other}` (expected `true` or `false`)"
                )));
            }
        };
        let account = nonempty(self.account.as_ref()).map(str::to_owned);
        let region = nonempty(self.region.as_ref()).map(str::to_owned);
        let reason = nonempty(self.reason.as_ref()).map(str::to_owned);
        Ok(move |c: &InstanceCoverage| {
            covered.is_none_or(|v| c.covered == v)
                && account.as_ref().is_none_or(|a| &c.account == a)
                && region.as_ref().is_none_or(|r| &c.region == r)
                && reason
                    .as_ref()
                    .is_none_or(|code| c.reasons.iter().any(|r| &r.code == code))
        })
    }
}

async fn list(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<ServersQuery>,
) -> Result<Json<Page<InstanceCoverage>>, ApiError> {
    let keep = q.matcher()?;
    let rows = scan_view(&state, q.scan.clone(), |s, _| Ok(stored_coverage(s)?))
        .await?
        .map(|(_, rows)| rows)
        .unwrap_or_default();
    let rows: Vec<InstanceCoverage> = rows.into_iter().filter(|c| keep(c)).collect();
    Ok(Json(Page::from_vec(rows, &page, &uri.0)?))
}

#[derive(Debug, serde::Deserialize)]
struct ShowQuery {
    scan: Option<String>,
}

async fn show(
    state: St,
    ApiPath(instance): ApiPath<String>,
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> Result<Json<ServerDetail>, ApiError> {
    let detail = state
        .store
        .run(move |s| {
            let scan = scan_to_read(s, q.scan.as_deref())?.ok_or_else(no_scan)?;
            stored_server(s, &scan, &instance)?.ok_or_else(|| {
                ApiError::not_found(format!(
                    "no EC2 instance `{instance}` in scan `{}`",
                    scan.id
                ))
            })
        })
        .await?;
    Ok(Json(detail))
}
