//! Servers: EC2 instances by Servers-plan coverage (counts by state and
//! by reason, filters, a page per instance with its SSM status, software
//! inventory, assessments and alerts).

use axum::Extension;
use axum::extract::{OriginalUri, Path, Query, State};
use maud::html;
use rampart_catalog::servers::{InstanceCoverage, Managed};
use rampart_engine::server_coverage::{stored_coverage, stored_server, tally};

use super::{
    Nav, PageError, PageResult, badge, link, no_scan_yet, page, pager, resource_link, segment,
    severity_badge, when,
};
use crate::AppState;
use crate::api::servers::ServersQuery;
use crate::api::{scan_to_read, scan_view};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::page::{Page, PageQuery};

/// Instances per page.
const PER_PAGE: u64 = 100;

/// `/servers` filters and paging.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct ListQuery {
    #[serde(flatten)]
    filter: ServersQuery,
    cursor: Option<String>,
}

fn managed_label(m: Managed) -> &'static str {
    match m {
        Managed::Yes => "managed",
        Managed::No => "not managed",
        Managed::Unknown => "unknown",
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn instance_href(c: &InstanceCoverage) -> String {
    format!("/servers/{}", segment(&c.instance_id))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let keep = q.filter.matcher()?;
    let loaded = scan_view(&state, q.filter.scan.clone(), |s, _| {
        Ok(stored_coverage(s)?)
    })
    .await?;
    let Some((scan, all)) = loaded else {
        return Ok(page("Servers", Nav::Servers, &who, no_scan_yet()));
    };
    let totals = tally(&all);
    let shown: Vec<InstanceCoverage> = all.into_iter().filter(|c| keep(c)).collect();
    let paging = PageQuery {
        limit: Some(PER_PAGE),
        cursor: q.cursor.clone(),
    };
    let rows = Page::from_vec(shown, &paging, &uri)?;
    let f = &q.filter;
    let filtered = |covered: &str, reason: &str| {
        link(
            "/servers",
            &[
                ("covered", covered),
                ("reason", reason),
                ("account", f.account.as_deref().unwrap_or_default()),
                ("region", f.region.as_deref().unwrap_or_default()),
            ],
        )
    };
    let first = q.cursor.as_ref().map(|_| {
        filtered(
            f.covered.as_deref().unwrap_or_default(),
            f.reason.as_deref().unwrap_or_default(),
        )
    });
    let content = html! {
        h1 { "Servers" }
        p.muted { "EC2 instances of scan " a href=(format!("/scans/{}", segment(&scan.id))) { code { (scan.id) } }
            " and their Servers-plan coverage: managed by Systems Manager, agent online and software inventory reported." }
        section.panel #coverage {
            dl.props {
                dt { "Instances" } dd { a href="/servers" { (totals.instances) } }
                dt { "Covered" } dd { a href=(filtered("true", "")) { (totals.covered) } }
                dt { "Not covered" } dd { a href=(filtered("false", "")) { (totals.instances - totals.covered) } }
            }
            @if !totals.reasons.is_empty() {
                h2 { "Why instances are not covered" }
                table #reasons {
                    thead { tr { th { "Reason" } th { "Instances" } } }
                    tbody {
                        @for (code, n) in &totals.reasons {
                            tr { td { a href=(filtered("", code)) { code { (code) } } } td { (n) } }
                        }
                    }
                }
            }
        }
        form.filters method="get" action="/servers" {
            label { "Coverage"
                select name="covered" {
                    option value="" { "Any" }
                    option value="true" selected[f.covered.as_deref() == Some("true")] { "covered" }
                    option value="false" selected[f.covered.as_deref() == Some("false")] { "not covered" }
                }
            }
            label { "Reason" input type="text" name="reason" value=(f.reason.as_deref().unwrap_or_default()); }
            label { "Account" input type="text" name="account" value=(f.account.as_deref().unwrap_or_default()); }
            label { "Region" input type="text" name="region" value=(f.region.as_deref().unwrap_or_default()); }
            button type="submit" { "Filter" }
            a.button.secondary href="/servers" { "Clear" }
        }
        @if rows.items.is_empty() {
            p.muted #no-servers { "No EC2 instance matches." }
        } @else {
            table #servers {
                thead { tr {
                    th { "Instance" } th { "Account" } th { "Region" } th { "State" } th { "SSM" }
                    th { "Agent" } th { "Patches" } th { "Associations" } th { "Inventory" } th { "Coverage" }
                } }
                tbody {
                    @for c in &rows.items {
                        tr {
                            td { a href=(instance_href(c)) { (c.name) } " " span.muted.small { (c.instance_id) } }
                            td { (c.account) }
                            td { (c.region) }
                            td { (c.state.as_deref().unwrap_or("unknown")) }
                            td { (managed_label(c.managed)) @if let Some(p) = &c.ping_status { " · " (p) } }
                            td { (c.agent_version.as_deref().unwrap_or("—")) }
                            td { (c.patch_compliance.as_deref().unwrap_or("—")) }
                            td { (c.association_compliance.as_deref().unwrap_or("—")) }
                            td { (yes_no(c.inventory_present)) }
                            td {
                                @if c.covered { (badge("covered")) } @else {
                                    (badge("not_covered"))
                                    @for r in &c.reasons { " " span.small { code { (r.code) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager(rows.next.as_deref(), first.as_deref()))
    };
    Ok(page("Servers", Nav::Servers, &who, content))
}

/// `/servers/{instance}?scan=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct DetailQuery {
    scan: Option<String>,
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(instance): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let shown = instance.clone();
    let detail = state
        .store
        .run(move |s| {
            let Some(scan) = scan_to_read(s, q.scan.as_deref())? else {
                return Ok(None);
            };
            Ok(stored_server(s, &scan, &instance)?)
        })
        .await?
        .ok_or_else(|| {
            PageError(ApiError::not_found(format!(
                "no EC2 instance `{shown}` in the scan"
            )))
        })?;
    let c = &detail.coverage;
    let applications = detail
        .inventory
        .as_ref()
        .and_then(|a| a.properties.get("applications"))
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let field = |app: &serde_json::Value, key: &str| -> String {
        app.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let content = html! {
        p.small { a href="/servers" { "« Servers" } }
        h1 { (c.name) }
        p { @if c.covered { (badge("covered")) } @else { (badge("not_covered")) } " "
            span.muted { (c.instance_id) " · " (c.account) " · " (c.region) } }
        @if !c.reasons.is_empty() {
            section.panel #reasons {
                h2 { "Why it is not covered" }
                ul { @for r in &c.reasons { li { code { (r.code) } " — " (r.message) } } }
            }
        }
        section.panel #ssm {
            dl.props {
                dt { "EC2 state" } dd { (c.state.as_deref().unwrap_or("unknown")) }
                dt { "Systems Manager" } dd { (managed_label(c.managed)) }
                dt { "Ping status" } dd { (c.ping_status.as_deref().unwrap_or("—")) }
                dt { "Agent version" } dd { (c.agent_version.as_deref().unwrap_or("—"))
                    @if c.agent_latest == Some(false) { " " span.small { "(not the latest)" } } }
                dt { "Platform" } dd { (c.platform.as_deref().or(c.platform_type.as_deref()).unwrap_or("—")) }
                dt { "Instance profile" } dd.wrap { (c.instance_profile.as_deref().unwrap_or("none")) }
                dt { "Role" } dd.wrap { (c.role.as_deref().unwrap_or("—")) }
                dt { "Role allows SSM" } dd { (yes_no(c.profile_allows_ssm)) }
                dt { "Patch compliance" } dd { (c.patch_compliance.as_deref().unwrap_or("—"))
                    @if let Some(n) = c.missing_patches { " (" (n) " missing)" } }
                dt { "Association compliance" } dd { (c.association_compliance.as_deref().unwrap_or("—")) }
                dt { "Resource" } dd { a href=(resource_link("AWS::EC2::Instance", &c.arn)) { (c.arn) } }
            }
        }
        h2 { "Software inventory (" (applications.len()) ")" }
        @if applications.is_empty() {
            p.muted #no-inventory { "Systems Manager holds no software inventory for this instance." }
        } @else {
            table #inventory {
                thead { tr { th { "Name" } th { "Version" } th { "Architecture" } th { "Publisher" } } }
                tbody { @for app in &applications {
                    tr { td { (field(app, "name")) } td { (field(app, "version")) } td { (field(app, "architecture")) } td { (field(app, "publisher")) } }
                } }
            }
        }
        h2 { "Assessments (" (detail.assessments.len()) ")" }
        table #assessments {
            thead { tr { th { "Recommendation" } th { "Status" } th { "Reason" } } }
            tbody { @for a in &detail.assessments {
                tr { td { a href=(format!("/recommendations/{}", segment(&a.recommendation))) { code { (a.recommendation) } } }
                     td { (badge(a.status.as_str())) } td.wrap { (a.reason) } }
            } }
        }
        h2 { "Alerts (" (detail.alerts.len()) ")" }
        @if detail.alerts.is_empty() {
            p.muted #no-alerts { "No alert about this instance." }
        } @else {
            table #alerts {
                thead { tr { th { "Severity" } th { "Alert" } th { "Status" } th { "Last seen" } } }
                tbody { @for a in &detail.alerts {
                    tr { td { (severity_badge(a.severity)) } td { a href=(format!("/alerts/{}", segment(&a.id))) { (a.title) } }
                         td { (badge(a.status.as_str())) } td { (when(a.last_seen)) } }
                } }
            }
        }
        p.muted.small { "Scan " code { (detail.scan.id) } }
    };
    Ok(page(&c.name, Nav::Servers, &who, content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(managed_label(Managed::No), "not managed");
        assert_eq!(yes_no(None), "unknown");
    }
}
