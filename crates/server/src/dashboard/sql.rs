//! SQL: the SQL Servers of the scan (what found them, the SQL plan's
//! prerequisites, the vulnerability assessment), and a page per server
//! with its assessment results, findings first, where an admin accepts a
//! finding as the server's baseline or removes a baseline.

use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::IntoResponse;
use axum::{Extension, Form};
use maud::{Markup, html};
use rampart_catalog::sql::PrerequisiteState;
use rampart_engine::sql::{SqlServerView, stored_sql_server, stored_sql_servers};
use serde_json::Value;

use super::{
    Nav, PageError, PageResult, badge, csrf_field, is_admin, link, no_scan_yet, page, pager,
    see_other, segment,
};
use crate::AppState;
use crate::api::sql::SqlServersQuery;
use crate::api::{scan_to_read, scan_view};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::page::{Page, PageQuery};

/// Servers per page.
const PER_PAGE: u64 = 100;

/// `/sql` filters and paging.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct ListQuery {
    #[serde(flatten)]
    filter: SqlServersQuery,
    cursor: Option<String>,
}

fn server_href(s: &SqlServerView) -> String {
    format!("/sql/servers/{}", segment(&s.host_id))
}

fn count(a: &Value, key: &str) -> u64 {
    a.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The assessment cell: findings, rules not assessed, or why it did not run.
fn assessment_cell(s: &SqlServerView) -> Markup {
    html! {
        @match &s.assessment {
            None => span.muted { "not assessed" },
            Some(a) => {
                @if let Some(error) = a.get("error").and_then(Value::as_str) {
                    @if count(a, "findings") + count(a, "nonFindings") == 0 {
                        (badge("error")) " " span.small { (error) }
                    } @else {
                        (count(a, "findings")) " findings"
                    }
                } @else if count(a, "findings") > 0 {
                    (badge("unhealthy")) " " (count(a, "findings")) " findings"
                } @else {
                    (badge("healthy")) " no finding"
                }
                @if count(a, "errors") > 0 { " · " (count(a, "errors")) " not assessed" }
            }
        }
    }
}

fn state_badge(state: &PrerequisiteState) -> Markup {
    match state {
        PrerequisiteState::Met => badge("met"),
        PrerequisiteState::NotMet { .. } => badge("not_met"),
        PrerequisiteState::Unknown { .. } => badge("unknown"),
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let keep = q.filter.matcher()?;
    let loaded = scan_view(&state, q.filter.scan.clone(), |s, _| {
        Ok(stored_sql_servers(s)?)
    })
    .await?;
    let Some((scan, all)) = loaded else {
        return Ok(page("SQL", Nav::Sql, &who, no_scan_yet()));
    };
    let total = all.len();
    let met = all.iter().filter(|s| s.prerequisites_met).count();
    let shown: Vec<SqlServerView> = all.into_iter().filter(|s| keep(s)).collect();
    let paging = PageQuery {
        limit: Some(PER_PAGE),
        cursor: q.cursor.clone(),
    };
    let rows = Page::from_vec(shown, &paging, &uri)?;
    let f = &q.filter;
    let filtered = |prerequisites: &str| {
        link(
            "/sql",
            &[
                ("prerequisites", prerequisites),
                ("host_type", f.host_type.as_deref().unwrap_or_default()),
                ("account", f.account.as_deref().unwrap_or_default()),
                ("region", f.region.as_deref().unwrap_or_default()),
            ],
        )
    };
    let first = q
        .cursor
        .as_ref()
        .map(|_| filtered(f.prerequisites.as_deref().unwrap_or_default()));
    let content = html! {
        h1 { "SQL" }
        p.muted { "SQL Servers of scan " a href=(format!("/scans/{}", segment(&scan.id))) { code { (scan.id) } }
            ": on EC2 (found by SSM inventory, a license-included platform or the image name), RDS Custom and RDS for SQL Server." }
        section.panel #sql-counts {
            dl.props {
                dt { "SQL Servers" } dd { a href="/sql" { (total) } }
                dt { "Prerequisites met" } dd { a href=(filtered("met")) { (met) } }
                dt { "Prerequisites not met" } dd { a href=(filtered("not_met")) { (total - met) } }
            }
        }
        form.filters method="get" action="/sql" {
            label { "Prerequisites"
                select name="prerequisites" {
                    option value="" { "Any" }
                    option value="met" selected[f.prerequisites.as_deref() == Some("met")] { "met" }
                    option value="not_met" selected[f.prerequisites.as_deref() == Some("not_met")] { "not met" }
                }
            }
            label { "Host"
                select name="host_type" {
                    option value="" { "Any" }
                    @for t in ["ec2", "rds-custom", "rds"] {
                        option value=(t) selected[f.host_type.as_deref() == Some(t)] { (t) }
                    }
                }
            }
            label { "Account" input type="text" name="account" value=(f.account.as_deref().unwrap_or_default()); }
            label { "Region" input type="text" name="region" value=(f.region.as_deref().unwrap_or_default()); }
            button type="submit" { "Filter" }
            a.button.secondary href="/sql" { "Clear" }
        }
        @if rows.items.is_empty() {
            p.muted #no-sql-servers { "No SQL Server matches." }
        } @else {
            table #sql-servers {
                thead { tr {
                    th { "Server" } th { "Host" } th { "Account" } th { "Region" } th { "Version" }
                    th { "Edition" } th { "Found by" } th { "Prerequisites" } th { "Vulnerability assessment" }
                } }
                tbody {
                    @for s in &rows.items {
                        tr {
                            td { a href=(server_href(s)) { (s.name) } }
                            td { (s.host_type) " " span.muted.small { (s.host_id) } }
                            td { (s.account) }
                            td { (s.region) }
                            td { (s.version.as_deref().unwrap_or("—")) }
                            td { (s.edition.as_deref().unwrap_or("—")) }
                            td.small {
                                @for sig in s.signals.as_array().into_iter().flatten() {
                                    code { (sig.get("source").and_then(Value::as_str).unwrap_or_default()) } " "
                                }
                            }
                            td {
                                @if s.prerequisites_met { (badge("met")) } @else {
                                    @for p in s.prerequisites.iter().filter(|p| p.state != PrerequisiteState::Met) {
                                        (state_badge(&p.state)) " " span.small { code { (p.requirement) } } " "
                                    }
                                }
                            }
                            td { (assessment_cell(s)) }
                        }
                    }
                }
            }
        }
        (pager(rows.next.as_deref(), first.as_deref()))
    };
    Ok(page("SQL", Nav::Sql, &who, content))
}

/// `/sql/servers/{server}?scan=&baseline=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct DetailQuery {
    scan: Option<String>,
    /// What the last baseline action did (`accepted`, `removed`).
    baseline: Option<String>,
}

/// The baseline forms' fields.
#[derive(Debug, serde::Deserialize)]
pub(super) struct BaselineForm {
    rule: String,
    #[serde(default)]
    database: String,
    #[serde(default)]
    scan: String,
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `POST /sql/servers/{server}/baselines`: accept a rule's result as the
/// server's baseline (admins).
pub(super) async fn accept_baseline(
    state: State<AppState>,
    Extension(who): Extension<Principal>,
    Path(server): Path<String>,
    Form(form): Form<BaselineForm>,
) -> PageResult {
    crate::api::sql::accept_result(
        &state,
        server.clone(),
        form.rule,
        some(&form.database),
        some(&form.scan),
        who.name.clone(),
    )
    .await
    .map_err(PageError)?;
    Ok(see_other(&link(
        &format!("/sql/servers/{}", segment(&server)),
        &[("baseline", "accepted")],
    ))
    .into_response())
}

/// `POST /sql/servers/{server}/baselines/remove`: remove a baseline
/// (admins).
pub(super) async fn remove_baseline(
    state: State<AppState>,
    Path(server): Path<String>,
    Form(form): Form<BaselineForm>,
) -> PageResult {
    crate::api::sql::remove_baseline(&state, server.clone(), form.rule, some(&form.database))
        .await
        .map_err(PageError)?;
    Ok(see_other(&link(
        &format!("/sql/servers/{}", segment(&server)),
        &[("baseline", "removed")],
    ))
    .into_response())
}

/// The action cell of one result: accept a finding, or remove the
/// baseline that applies (or will apply from the next assessment).
fn baseline_action(
    who: &Principal,
    server: &str,
    scan: Option<&str>,
    result: &Value,
    stored: &[rampart_sqlva::Baseline],
) -> Markup {
    let text = |k: &str| result.get(k).and_then(Value::as_str).unwrap_or_default();
    let rule = text("rule");
    let database = result.get("database").and_then(Value::as_str);
    let applied = result.get("baseline").is_some_and(|b| !b.is_null());
    let accepted = stored
        .iter()
        .find(|b| b.rule == rule && b.database.as_deref() == database);
    let action = |path: &str, label: &str| {
        html! {
            form.inline method="post" action=(format!("/sql/servers/{}/baselines{path}", segment(server))) {
                (csrf_field(who))
                input type="hidden" name="rule" value=(rule);
                input type="hidden" name="database" value=(database.unwrap_or_default());
                input type="hidden" name="scan" value=(scan.unwrap_or_default());
                button type="submit" { (label) }
            }
        }
    };
    html! {
        @if let Some(b) = accepted {
            span.small { "accepted by " (b.accepted_by) @if !applied { ", applies from the next assessment" } }
            @if is_admin(who) { " " (action("/remove", "Remove baseline")) }
        } @else if text("status") == "finding" && is_admin(who) {
            (action("", "Accept as baseline"))
        }
    }
}

fn rank(status: &str) -> u8 {
    match status {
        "finding" => 0,
        "error" => 1,
        _ => 2,
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(server): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let shown = server.clone();
    let scan_asked = q.scan.clone();
    let (found, stored) = state
        .store
        .run(move |s| {
            if scan_to_read(s, scan_asked.as_deref())?.is_none() {
                return Ok(None);
            }
            let Some(view) = stored_sql_server(s, &server)? else {
                return Ok(None);
            };
            let baselines = s.sql_va_baselines(&view.server)?;
            Ok(Some((view, baselines)))
        })
        .await?
        .ok_or_else(|| {
            PageError(ApiError::not_found(format!(
                "no SQL Server `{shown}` in the scan"
            )))
        })?;
    let s = &found;
    let mut results: Vec<Value> = s
        .assessment
        .as_ref()
        .and_then(|a| a.get("results"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    results.sort_by_key(|r| (rank(&text(r, "status")), text(r, "rule")));
    let content = html! {
        p.small { a href="/sql" { "« SQL" } }
        h1 { (s.name) }
        p { @if s.prerequisites_met { (badge("met")) } @else { (badge("not_met")) } " "
            span.muted { (s.host_type) " " (s.host_id) " · " (s.account) " · " (s.region) } }
        section.panel #server {
            dl.props {
                dt { "Product" } dd { (s.product.as_deref().unwrap_or("unknown")) }
                dt { "Version" } dd { (s.version.as_deref().unwrap_or("unknown")) }
                dt { "Edition" } dd { (s.edition.as_deref().unwrap_or("unknown")) }
                dt { "Server" } dd.wrap { (s.server) }
            }
        }
        h2 { "Found by" }
        ul #signals { @for sig in s.signals.as_array().into_iter().flatten() {
            li { code { (text(sig, "source")) } " — " (text(sig, "detail")) }
        } }
        h2 { "Prerequisites" }
        table #prerequisites {
            thead { tr { th { "Requirement" } th { "State" } th { "Found" } th { "Fix or why" } } }
            tbody { @for p in &s.prerequisites {
                tr {
                    td { code { (p.requirement) } }
                    td { (state_badge(&p.state)) }
                    td.wrap { (p.detail) }
                    td.wrap { @match &p.state {
                        PrerequisiteState::NotMet { fix } => (fix),
                        PrerequisiteState::Unknown { why } => (why),
                        PrerequisiteState::Met => "",
                    } }
                }
            } }
        }
        h2 { "Vulnerability assessment" }
        @match &s.assessment {
            None => p.muted #no-assessment { "The vulnerability assessment did not run on this server: it runs on SQL Servers on EC2 Windows hosts whose SSM Agent is online, for connectors with the SQL plan." },
            Some(a) => {
                p.muted { "Assessed " (text(a, "assessedAt")) " · command " code { (text(a, "commandId")) }
                    " · " (count(a, "findings")) " findings, " (count(a, "nonFindings")) " non-findings, " (count(a, "errors")) " not assessed" }
                @if let Some(error) = a.get("error").and_then(Value::as_str) {
                    p #assessment-error { (badge("error")) " " (error) }
                }
                @match q.baseline.as_deref() {
                    Some("accepted") => p #baseline-notice { "Accepted: the next assessment reports the rule as a non-finding while it returns the same rows." },
                    Some("removed") => p #baseline-notice { "Removed: the next assessment reports the rule's result as it is." },
                    _ => {},
                }
                table #va-results {
                    thead { tr { th { "Rule" } th { "Status" } th { "Severity" } th { "Title" } th { "Database" } th { "Evidence" } th { "Baseline" } } }
                    tbody { @for r in &results {
                        tr {
                            td { code { (text(r, "rule")) } }
                            td {
                                (badge(&text(r, "status")))
                                @if r.get("baseline").is_some_and(|b| !b.is_null()) { " " span.small { "baseline" } }
                            }
                            td { (text(r, "severity")) }
                            td.wrap { (text(r, "title")) }
                            td { (r.get("database").and_then(Value::as_str).unwrap_or("—")) }
                            td.wrap.small {
                                @for row in r.get("evidence").and_then(Value::as_array).into_iter().flatten().take(10) {
                                    code { (row.as_array().into_iter().flatten().map(cell).collect::<Vec<_>>().join(" · ")) } br;
                                }
                                @if text(r, "status") != "finding" { (text(r, "message")) }
                            }
                            td { (baseline_action(&who, &s.host_id, q.scan.as_deref(), r, &stored)) }
                        }
                    } }
                }
            }
        }
    };
    Ok(page(&s.name, Nav::Sql, &who, content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_sort_first_and_cells_show_nulls() {
        assert!(rank("finding") < rank("error") && rank("error") < rank("non_finding"));
        assert_eq!(cell(&Value::Null), "NULL");
        assert_eq!(cell(&serde_json::json!(1)), "1");
    }
}
