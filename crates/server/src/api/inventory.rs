//! Inventory: the assets of the latest complete scan (or `?scan=`).

use axum::Json;
use rampart_model::Asset;
use rampart_store::AssetFilter;

use super::{RouteTable, St, Uri, scan_to_read};
use crate::error::{ApiError, ApiQuery};
use crate::page::{Page, PageQuery};

pub(super) fn register(t: RouteTable) -> RouteTable {
    t.add("get", "/inventory", list)
}

#[derive(Debug, serde::Deserialize)]
struct InventoryQuery {
    scan: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
    region: Option<String>,
    account: Option<String>,
    /// A connector's name or id: only its accounts.
    connector: Option<String>,
    /// `KEY` or `KEY=VALUE`.
    tag: Option<String>,
}

async fn list(
    state: St,
    uri: Uri,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(q): ApiQuery<InventoryQuery>,
) -> Result<Json<Page<Asset>>, ApiError> {
    let tag = match q.tag.as_deref() {
        Some("") => return Err(ApiError::bad_request("`tag` must be KEY or KEY=VALUE")),
        Some(t) => Some(match t.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (t.to_owned(), None),
        }),
        None => None,
    };
    let mut filter = AssetFilter {
        resource_type: q.resource_type,
        region: q.region,
        account: q.account,
        accounts: None,
        tag,
    };
    let (after, limit) = (page.key()?, page.limit()?);
    let rows = state
        .store
        .run(move |s| {
            if let Some(connector) = &q.connector {
                filter.accounts = Some(s.accounts_of_connector(connector)?);
            }
            Ok(match scan_to_read(s, q.scan.as_deref())? {
                Some(_) => s.assets_page(&filter, after.as_ref(), limit + 1)?,
                None => Vec::new(),
            })
        })
        .await?;
    Ok(Json(Page::from_keyset(rows, limit, &uri.0, |a| {
        (a.resource_type.clone(), a.arn.clone())
    })))
}
