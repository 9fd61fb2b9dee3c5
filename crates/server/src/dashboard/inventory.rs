//! Inventory: the latest scan's assets with filters (keyset pages), and a
//! resource's page (properties, tags, its assessments).

use axum::Extension;
use axum::extract::{OriginalUri, Query, State};
use maud::html;
use rampart_model::Asset;
use rampart_store::{AssessmentFilter, AssetFilter};
use serde::Deserialize;

use super::recommendations::display_name;
use super::{
    Nav, PageError, PageResult, badge, latest_scan, link, no_scan_yet, page, pager, resource_link,
    segment, severity_badge,
};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::page::{Page, PageQuery};

/// Tags shown per row in the list.
const TAGS_PER_ROW: usize = 4;
/// Assessments shown on a resource's page.
const RESOURCE_ASSESSMENTS: u64 = 500;

/// `/inventory` filters and paging.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(rename = "type")]
    resource_type: Option<String>,
    region: Option<String>,
    account: Option<String>,
    /// A connector's name or id: only its accounts.
    connector: Option<String>,
    /// `KEY` or `KEY=VALUE`.
    tag: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn given(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> PageResult {
    let Some(scan) = latest_scan(&state).await? else {
        let content = html! { h1 { "Inventory" } (no_scan_yet()) };
        return Ok(page("Inventory", Nav::Inventory, &who, content));
    };
    let paging = PageQuery {
        limit: Some(q.limit.unwrap_or(50)),
        cursor: q.cursor.clone(),
    };
    let limit = paging.limit()?;
    let after = paging.key()?;
    let connector = given(q.connector.as_ref());
    let mut filter = AssetFilter {
        resource_type: given(q.resource_type.as_ref()),
        region: given(q.region.as_ref()),
        account: given(q.account.as_ref()),
        accounts: None,
        tag: given(q.tag.as_ref()).map(|t| match t.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (t, None),
        }),
    };
    let scan_id = scan.id.clone();
    let (rows, types, regions) = state
        .store
        .run(move |s| {
            if let Some(connector) = &connector {
                filter.accounts = Some(s.accounts_of_connector(connector)?);
            }
            let (types, regions) = facets(s, &scan_id)?;
            Ok((
                s.assets_page(&filter, after.as_ref(), limit + 1)?,
                types,
                regions,
            ))
        })
        .await?;
    let page_of = Page::from_keyset(rows, limit, &uri, |a: &Asset| {
        (a.resource_type.clone(), a.arn.clone())
    });
    let sel_type = given(q.resource_type.as_ref()).unwrap_or_default();
    let sel_region = given(q.region.as_ref()).unwrap_or_default();
    let first = q.cursor.as_ref().map(|_| {
        link(
            "/inventory",
            &[
                ("type", &sel_type),
                ("region", &sel_region),
                ("account", q.account.as_deref().unwrap_or_default()),
                ("connector", q.connector.as_deref().unwrap_or_default()),
                ("tag", q.tag.as_deref().unwrap_or_default()),
            ],
        )
    });
    let content = html! {
        h1 { "Inventory" }
        form.filters method="get" action="/inventory" {
            label { "Resource type"
                select name="type" {
                    option value="" { "Any (" (scan.asset_count) ")" }
                    @for (t, n) in &types {
                        option value=(t) selected[*t == sel_type] { (t) " (" (n) ")" }
                    }
                }
            }
            label { "Region"
                select name="region" {
                    option value="" { "Any" }
                    @for (r, n) in &regions {
                        option value=(r) selected[*r == sel_region] { (r) " (" (n) ")" }
                    }
                }
            }
            label { "Account"
                input name="account" type="text" size="14" value=(q.account.as_deref().unwrap_or_default());
            }
            label { "Connector"
                input name="connector" type="text" size="14" value=(q.connector.as_deref().unwrap_or_default());
            }
            label { "Tag (KEY or KEY=VALUE)"
                input name="tag" type="text" value=(q.tag.as_deref().unwrap_or_default());
            }
            button type="submit" { "Filter" }
            a.button.secondary href="/inventory" { "Clear" }
        }
        @if page_of.items.is_empty() {
            p.muted { "No asset matches." }
        } @else {
            table #assets {
                thead { tr { th { "Name" } th { "Type" } th { "Region" } th { "Account" } th { "Tags" } } }
                tbody {
                    @for a in &page_of.items {
                        tr {
                            td.wrap { a href=(resource_link(&a.resource_type, &a.arn)) { (display_name(&a.name, &a.arn)) } }
                            td { (a.resource_type) }
                            td { (a.region) }
                            td { (a.account) }
                            td {
                                @for (k, v) in a.tags.iter().take(TAGS_PER_ROW) { span.tag { (k) "=" (v) } }
                                @if a.tags.len() > TAGS_PER_ROW { span.muted.small { "+" (a.tags.len() - TAGS_PER_ROW) } }
                            }
                        }
                    }
                }
            }
        }
        (pager(page_of.next.as_deref(), first.as_deref()))
    };
    Ok(page("Inventory", Nav::Inventory, &who, content))
}

/// Posture cache kind of a scan's inventory facets (a scan's assets never
/// change, so they are counted once).
const FACETS: &str = "dashboard_inventory_facets";

type Facets = (Vec<(String, u64)>, Vec<(String, u64)>);

/// A scan's resource types and regions with their asset counts, cached.
fn facets(s: &rampart_store::Store, scan_id: &str) -> Result<Facets, ApiError> {
    if let Some(value) = s.posture(scan_id, FACETS)?
        && let Ok(facets) = serde_json::from_value::<Facets>(value)
    {
        return Ok(facets);
    }
    let facets = (s.asset_type_counts()?, s.asset_region_counts()?);
    s.put_posture(scan_id, FACETS, &serde_json::json!(facets))?;
    Ok(facets)
}

/// `/inventory/resource?type=&arn=`.
#[derive(Debug, Deserialize)]
pub(super) struct ResourceQuery {
    #[serde(rename = "type")]
    resource_type: String,
    arn: String,
}

pub(super) async fn resource(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ResourceQuery>,
) -> PageResult {
    let Some(scan) = latest_scan(&state).await? else {
        let content = html! { h1 { "Resource" } (no_scan_yet()) };
        return Ok(page("Resource", Nav::Inventory, &who, content));
    };
    let (ty, arn) = (q.resource_type.clone(), q.arn.clone());
    let (asset, assessments) = state
        .store
        .run(move |s| {
            let asset = s.asset(&ty, &arn)?;
            let filter = AssessmentFilter {
                resource: Some(arn.clone()),
                ..AssessmentFilter::default()
            };
            let assessments = s.assessments_page(&filter, None, RESOURCE_ASSESSMENTS)?;
            Ok((asset, assessments))
        })
        .await?;
    let Some(asset) = asset else {
        return Err(PageError(ApiError::not_found(format!(
            "no `{}` asset `{}` in the latest scan",
            q.resource_type, q.arn
        ))));
    };
    let catalog = &state.posture.catalog;
    let properties =
        serde_json::to_string_pretty(&asset.properties).unwrap_or_else(|_| "{}".to_owned());
    let name = display_name(&asset.name, &asset.arn);
    let content = html! {
        p.small { a href=(link("/inventory", &[("type", &asset.resource_type)])) { "« " (asset.resource_type) } }
        h1 #resource-name { (name) }
        section.panel {
            dl.props {
                dt { "ARN" } dd { code { (asset.arn) } }
                dt { "Type" } dd { (asset.resource_type) }
                dt { "Account" } dd { (asset.account) }
                dt { "Region" } dd { (asset.region) }
                dt { "Scan" } dd { a href=(format!("/scans/{}", segment(&scan.id))) { (scan.id) } }
            }
        }
        h2 { "Assessments (" (assessments.len()) ")" }
        @if assessments.is_empty() {
            p.muted { "No recommendation applies to this resource." }
        } @else {
            table #resource-assessments {
                thead { tr { th { "Severity" } th { "Recommendation" } th { "Status" } th { "Reason" } } }
                tbody {
                    @for a in &assessments {
                        @let rec = catalog.get(&a.recommendation);
                        tr {
                            td { @if let Some(r) = rec { (severity_badge(r.severity)) } }
                            td { a href=(format!("/recommendations/{}", segment(&a.recommendation))) { (rec.map_or(a.recommendation.as_str(), |r| r.title.as_str())) } }
                            td { (badge(a.status.as_str())) }
                            td { (a.reason) @if let Some(e) = &a.exemption { br; span.muted.small { "Exempt: " (e.reason) } } }
                        }
                    }
                }
            }
        }
        h2 { "Tags (" (asset.tags.len()) ")" }
        @if asset.tags.is_empty() {
            p.muted { "No tags." }
        } @else {
            table #tags {
                thead { tr { th { "Key" } th { "Value" } } }
                tbody { @for (k, v) in &asset.tags { tr { td.wrap { (k) } td.wrap { (v) } } } }
            }
        }
        @if !asset.unavailable.is_empty() {
            h2 { "Not read" }
            p.muted.small { "Properties the scan could not read; checks that need them are errors." }
            table {
                thead { tr { th { "Property" } th { "Error" } } }
                tbody { @for (k, v) in &asset.unavailable { tr { td { (k) } td.wrap { (v) } } } }
            }
        }
        h2 { "Properties" }
        pre #properties { code { (properties) } }
    };
    Ok(page(name, Nav::Inventory, &who, content))
}
