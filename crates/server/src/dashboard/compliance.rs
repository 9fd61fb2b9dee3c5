//! Regulatory compliance: standards → controls → assessments.

use axum::Extension;
use axum::extract::{Path, Query, State};
use maud::html;
use rampart_model::AssessmentStatus;
use rampart_store::AssessmentFilter;

use super::recommendations::display_name;
use super::{
    Counts, Nav, PageError, PageResult, StandardView, badge, count, latest_scan, link, no_scan_yet,
    page, resolve_scope, resource_link, scope_filter, scoped, segment, severity_badge,
};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::posture::{ScopeQuery, kind};

/// Control states in the order the summary shows them.
const STATES: [(&str, &str); 6] = [
    ("passed", "Passed"),
    ("failed", "Failed"),
    ("manual", "Manual"),
    ("error", "Error"),
    ("no_resources", "No resources"),
    ("not_covered", "Not covered"),
];
/// Failing assessments listed per recommendation on a control's page.
const FAILING_PER_RECOMMENDATION: u64 = 20;

fn state_count(standard: &StandardView, state: &str) -> usize {
    standard
        .controls
        .iter()
        .filter(|c| c.state == state)
        .count()
}

/// The latest scan's id and its compliance over the assessments in the
/// scope of `q`.
async fn load(
    state: &AppState,
    q: &ScopeQuery,
) -> Result<Option<(String, Vec<StandardView>)>, PageError> {
    let scope = resolve_scope(state, q).await?;
    let Some(scan) = latest_scan(state).await? else {
        return Ok(None);
    };
    let standards: Vec<StandardView> = scoped(state, &scan.id, kind::COMPLIANCE, &scope).await?;
    Ok(Some((scan.id, standards)))
}

pub(super) async fn standards(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ScopeQuery>,
) -> PageResult {
    let Some((scan_id, standards)) = load(&state, &q).await? else {
        let content = html! { h1 { "Regulatory compliance" } (no_scan_yet()) };
        return Ok(page("Compliance", Nav::Compliance, &who, content));
    };
    let content = html! {
        h1 { "Regulatory compliance" }
        (scope_filter("/compliance", &q))
        p.muted.small { "Scan " (scan_id) ". A control passes when every resource its recommendations assess is healthy (or exempt); manual controls need a person." }
        table #standards {
            thead { tr {
                th { "Standard" }
                @for (_, label) in STATES { th.num { (label) } }
            } }
            tbody {
                @for s in &standards {
                    tr {
                        td { a href=(link(&format!("/compliance/{}", segment(&s.id)), &q.pairs())) { (s.name) } }
                        @for (state_name, _) in STATES { td.num { (state_count(s, state_name)) } }
                    }
                }
            }
        }
    };
    Ok(page("Compliance", Nav::Compliance, &who, content))
}

fn find<'a>(standards: &'a [StandardView], id: &str) -> Result<&'a StandardView, PageError> {
    standards
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| PageError(ApiError::not_found(format!("no standard `{id}`"))))
}

pub(super) async fn standard(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> PageResult {
    let Some((_, standards)) = load(&state, &q).await? else {
        let content = html! { h1 { "Regulatory compliance" } (no_scan_yet()) };
        return Ok(page("Compliance", Nav::Compliance, &who, content));
    };
    let standard = find(&standards, &id)?;
    let catalog = &state.posture.catalog;
    let content = html! {
        p.small { a href=(link("/compliance", &q.pairs())) { "« Regulatory compliance" } }
        h1 { (standard.name) }
        (scope_filter(&format!("/compliance/{}", segment(&standard.id)), &q))
        p {
            @for (state_name, label) in STATES {
                (badge(state_name)) " " (label) ": " (state_count(standard, state_name)) " · "
            }
        }
        table #controls {
            thead { tr { th { "Control" } th { "Title" } th { "State" } th { "Recommendations" } th.num { "Unhealthy" } th.num { "Healthy" } th.num { "Error" } th.num { "Exempt" } } }
            tbody {
                @for c in &standard.controls {
                    tr {
                        td { a href=(link(&format!("/compliance/{}/{}", segment(&standard.id), segment(&c.id)), &q.pairs())) { (c.id) } }
                        td { (c.title) }
                        td { (badge(&c.state)) }
                        td.small {
                            @for r in &c.recommendations {
                                a href=(format!("/recommendations/{}", segment(r))) { (catalog.get(r).map_or(r.as_str(), |x| x.title.as_str())) } br;
                            }
                        }
                        td.num { (c.unhealthy) }
                        td.num { (c.healthy) }
                        td.num { (c.error) }
                        td.num { (c.exempt) }
                    }
                }
            }
        }
    };
    Ok(page(&standard.name, Nav::Compliance, &who, content))
}

pub(super) async fn control(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((standard_id, control_id)): Path<(String, String)>,
    Query(q): Query<ScopeQuery>,
) -> PageResult {
    let scope = resolve_scope(&state, &q).await?;
    let Some(scan) = latest_scan(&state).await? else {
        let content = html! { h1 { "Regulatory compliance" } (no_scan_yet()) };
        return Ok(page("Compliance", Nav::Compliance, &who, content));
    };
    let standards: Vec<StandardView> = scoped(&state, &scan.id, kind::COMPLIANCE, &scope).await?;
    let counts: Counts = scoped(&state, &scan.id, kind::RECOMMENDATIONS, &scope).await?;
    let standard = find(&standards, &standard_id)?;
    let control = standard
        .controls
        .iter()
        .find(|c| c.id == control_id)
        .ok_or_else(|| {
            PageError(ApiError::not_found(format!(
                "no control `{control_id}` in `{standard_id}`"
            )))
        })?;
    let recs = control.recommendations.clone();
    let failing = state
        .store
        .run(move |s| {
            let mut all = Vec::new();
            for rec in recs {
                let filter = AssessmentFilter {
                    recommendation: Some(rec.clone()),
                    status: Some(AssessmentStatus::Unhealthy),
                    accounts: scope.accounts.clone(),
                    region: scope.region.clone(),
                    ..AssessmentFilter::default()
                };
                all.push((
                    rec,
                    s.assessments_page(&filter, None, FAILING_PER_RECOMMENDATION)?,
                ));
            }
            Ok(all)
        })
        .await?;
    let catalog = &state.posture.catalog;
    let content = html! {
        p.small { a href=(link(&format!("/compliance/{}", segment(&standard.id)), &q.pairs())) { "« " (standard.name) } }
        h1 { (control.id) " " (control.title) }
        (scope_filter(&format!("/compliance/{}/{}", segment(&standard.id), segment(&control.id)), &q))
        p { "State: " (badge(&control.state)) }
        @if control.recommendations.is_empty() {
            p.muted { @if control.state == "manual" { "A manual control: no automated check covers it; attest to it yourself." } @else { "No Rampart recommendation covers this control yet." } }
        }
        @for (rec_id, assessments) in &failing {
            @let rec = catalog.get(rec_id);
            section.panel {
                h2 {
                    @if let Some(r) = rec { (severity_badge(r.severity)) " " }
                    a href=(format!("/recommendations/{}", segment(rec_id))) { (rec.map_or(rec_id.as_str(), |r| r.title.as_str())) }
                }
                p.small {
                    "Unhealthy " (count(&counts, rec_id, "unhealthy"))
                    " · healthy " (count(&counts, rec_id, "healthy"))
                    " · error " (count(&counts, rec_id, "error"))
                    " · exempt " (count(&counts, rec_id, "exempt"))
                }
                @if !assessments.is_empty() {
                    table {
                        thead { tr { th { "Failing resource" } th { "Region" } th { "Reason" } } }
                        tbody {
                            @for a in assessments {
                                tr {
                                    td.wrap { a href=(resource_link(&a.resource_type, &a.resource)) { (display_name(&a.resource_name, &a.resource)) } }
                                    td { (a.region) }
                                    td { (a.reason) }
                                }
                            }
                        }
                    }
                    @if count(&counts, rec_id, "unhealthy") > assessments.len() as u64 {
                        p.small { a href=(link(&format!("/recommendations/{}", segment(rec_id)), &[("status", "unhealthy")])) { "All unhealthy resources »" } }
                    }
                }
            }
        }
    };
    Ok(page(&control.id, Nav::Compliance, &who, content))
}
