//! Recommendations: the list (with counts from the latest scan), a
//! recommendation's page (description, remediation, affected resources
//! with reasons) and the exempt form.

use axum::Extension;
use axum::extract::{Form, OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use rampart_catalog::Recommendation;
use rampart_catalog::exemptions::Exemption;
use rampart_model::{AssessmentStatus, Severity};
use rampart_store::{AssessmentFilter, StoredExemption};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    Counts, Nav, PageError, PageResult, badge, count, csrf_field, is_admin, latest_scan, link,
    no_scan_yet, page, pager, resolve_scope, resource_link, scope_filter, scoped, see_other,
    segment, severity_badge,
};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::page::{Page, PageQuery};
use crate::posture::{ScopeQuery, kind};

/// `/recommendations` filters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    severity: Option<String>,
    /// `unhealthy` (some resource unhealthy), `healthy` (assessed, none
    /// unhealthy) or empty (all).
    status: Option<String>,
    control: Option<String>,
    /// The part of the estate the counts cover.
    #[serde(flatten)]
    scope: ScopeQuery,
}

fn non_empty(v: Option<&String>) -> Option<&str> {
    v.map(String::as_str).filter(|s| !s.is_empty())
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let scope = resolve_scope(&state, &q.scope).await?;
    let Some(scan) = latest_scan(&state).await? else {
        let content = html! { h1 { "Recommendations" } (no_scan_yet()) };
        return Ok(page("Recommendations", Nav::Recommendations, &who, content));
    };
    let counts: Counts = scoped(&state, &scan.id, kind::RECOMMENDATIONS, &scope).await?;
    let scope_pairs = q.scope.pairs();
    let catalog = &state.posture.catalog;
    let severity = non_empty(q.severity.as_ref());
    let status = non_empty(q.status.as_ref());
    let control = non_empty(q.control.as_ref());
    let mut rows: Vec<&Recommendation> = catalog
        .iter()
        .filter(|r| severity.is_none_or(|s| r.severity.as_str() == s))
        .filter(|r| control.is_none_or(|c| r.security_control == c))
        .filter(|r| {
            let unhealthy = count(&counts, &r.id, "unhealthy");
            match status {
                Some("unhealthy") => unhealthy > 0,
                Some("healthy") => unhealthy == 0 && count(&counts, &r.id, "healthy") > 0,
                _ => true,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| {
                count(&counts, &b.id, "unhealthy").cmp(&count(&counts, &a.id, "unhealthy"))
            })
            .then_with(|| a.title.cmp(&b.title))
    });
    let mut controls: Vec<&str> = catalog
        .iter()
        .map(|r| r.security_control.as_str())
        .collect();
    controls.sort_unstable();
    controls.dedup();
    let content = html! {
        h1 { "Recommendations" }
        (scope_filter("/recommendations", &q.scope))
        form.filters method="get" action="/recommendations" {
            @for (name, value) in &scope_pairs {
                input type="hidden" name=(name) value=(value);
            }
            label { "Severity"
                select name="severity" {
                    option value="" { "Any" }
                    @for s in Severity::ALL.iter().rev() {
                        option value=(s.as_str()) selected[severity == Some(s.as_str())] { (s.as_str()) }
                    }
                }
            }
            label { "Status"
                select name="status" {
                    option value="" { "Any" }
                    option value="unhealthy" selected[status == Some("unhealthy")] { "Has unhealthy resources" }
                    option value="healthy" selected[status == Some("healthy")] { "All healthy" }
                }
            }
            label { "Security control"
                select name="control" {
                    option value="" { "Any" }
                    @for c in &controls {
                        option value=(c) selected[control == Some(*c)] { (c) }
                    }
                }
            }
            button type="submit" { "Filter" }
            a.button.secondary href=(link("/recommendations", &scope_pairs)) { "Clear" }
        }
        p.muted.small { (rows.len()) " recommendations, scan " (scan.id) "." }
        table #recommendations {
            thead { tr {
                th { "Severity" } th { "Recommendation" } th { "Security control" }
                th.num { "Unhealthy" } th.num { "Healthy" } th.num { "Error" } th.num { "Exempt" }
            } }
            tbody {
                @for r in &rows {
                    tr {
                        td { (severity_badge(r.severity)) }
                        td { a href=(link(&format!("/recommendations/{}", segment(&r.id)), &scope_pairs)) { (r.title) }
                             @if r.preview { " " span.badge { "preview" } } }
                        td { (r.security_control) }
                        td.num { (count(&counts, &r.id, "unhealthy")) }
                        td.num { (count(&counts, &r.id, "healthy")) }
                        td.num { (count(&counts, &r.id, "error")) }
                        td.num { (count(&counts, &r.id, "exempt")) }
                    }
                }
            }
        }
    };
    Ok(page("Recommendations", Nav::Recommendations, &who, content))
}

/// A recommendation's page: `?status=` (default `unhealthy`; `all`), `?limit=&cursor=`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DetailQuery {
    status: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
    exempted: Option<String>,
    /// The part of the estate the counts and the affected resources cover.
    #[serde(flatten)]
    scope: ScopeQuery,
}

fn recommendation(state: &AppState, id: &str) -> Result<Recommendation, PageError> {
    state
        .posture
        .catalog
        .get(id)
        .cloned()
        .ok_or_else(|| PageError(ApiError::not_found(format!("no recommendation `{id}`"))))
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
    OriginalUri(uri): OriginalUri,
) -> PageResult {
    let rec = recommendation(&state, &id)?;
    let status_name = q.status.clone().unwrap_or_else(|| "unhealthy".to_owned());
    let status = match status_name.as_str() {
        "all" | "" => None,
        other => Some(crate::posture::parse_status(other)?),
    };
    let paging = PageQuery {
        limit: Some(q.limit.unwrap_or(50)),
        cursor: q.cursor.clone(),
    };
    let limit = paging.limit()?;
    let after = paging.key()?;
    let scope = resolve_scope(&state, &q.scope).await?;
    let scan = latest_scan(&state).await?;
    let (counts, affected) = match &scan {
        Some(scan) => {
            let counts: Counts = scoped(&state, &scan.id, kind::RECOMMENDATIONS, &scope).await?;
            let filter = AssessmentFilter {
                recommendation: Some(rec.id.clone()),
                status,
                accounts: scope.accounts.clone(),
                region: scope.region.clone(),
                ..AssessmentFilter::default()
            };
            let rows = state
                .store
                .run(move |s| Ok(s.assessments_page(&filter, after.as_ref(), limit + 1)?))
                .await?;
            let page = Page::from_keyset(rows, limit, &uri, |a| {
                (a.recommendation.clone(), a.resource.clone())
            });
            (counts, Some(page))
        }
        None => (Counts::new(), None),
    };
    let admin = is_admin(&who);
    let self_path = format!("/recommendations/{}", segment(&rec.id));
    let scope_pairs = q.scope.pairs();
    // The status links keep the scope.
    let with_status = |name: &str| {
        let mut pairs: Vec<(&str, &str)> = scope_pairs.clone();
        pairs.push(("status", name));
        link(&self_path, &pairs)
    };
    let content = html! {
        p.small { a href=(link("/recommendations", &scope_pairs)) { "« Recommendations" } }
        h1 { (rec.title) }
        @if q.exempted.is_some() {
            p.notice #exempted { "Exemption created; the latest scan was re-evaluated." }
        }
        p { (severity_badge(rec.severity)) " " span.muted { "Security control: " (rec.security_control) " · resource type " code { (rec.resource_type) } } }
        section.panel {
            h2 { "Description" }
            p { (rec.description) }
            h2 { "Remediation" }
            p { (rec.remediation.text) }
            @if !rec.remediation.cli.is_empty() {
                h3.small { "AWS CLI" }
                pre { code { (rec.remediation.cli) } }
            }
            @if !rec.remediation.cloudformation.is_empty() {
                h3.small { "CloudFormation" }
                pre { code { (rec.remediation.cloudformation) } }
            }
            @if !rec.standards.is_empty() {
                h2 { "Standards" }
                p { @for s in &rec.standards { span.tag { (s) } } }
            }
        }
        h2 { "Affected resources" }
        (scope_filter(&self_path, &q.scope))
        @match (&scan, &affected) {
            (Some(_), Some(page)) => {
                nav.filters aria-label="Status" {
                    @for (name, label) in [("unhealthy", "Unhealthy"), ("healthy", "Healthy"), ("error", "Error"), ("exempt", "Exempt"), ("not_applicable", "Not applicable"), ("all", "All")] {
                        @let n = if name == "all" { counts.get(&rec.id).map_or(0, |c| c.values().sum()) } else { count(&counts, &rec.id, name) };
                        a href=(with_status(name)) aria-current=[(name == status_name).then_some("true")] {
                            (label) " (" (n) ")"
                        } " "
                    }
                }
                (assessments_table(&rec, page, admin))
                (pager(page.next.as_deref(), q.cursor.as_ref().map(|_| with_status(&status_name)).as_deref()))
                @if admin {
                    p { a.button.secondary href=(format!("{self_path}/exempt")) { "Exempt every resource…" } }
                }
            }
            _ => { (no_scan_yet()) }
        }
    };
    Ok(page(&rec.title, Nav::Recommendations, &who, content))
}

fn assessments_table(
    rec: &Recommendation,
    page: &Page<rampart_model::Assessment>,
    admin: bool,
) -> Markup {
    html! {
        @if page.items.is_empty() {
            p.muted { "No resources with this status." }
        } @else {
            table #affected {
                thead { tr {
                    th { "Resource" } th { "Account" } th { "Region" } th { "Status" } th { "Reason" }
                    @if admin { th { "" } }
                } }
                tbody {
                    @for a in &page.items {
                        tr {
                            td.wrap {
                                a href=(resource_link(&a.resource_type, &a.resource)) { (display_name(&a.resource_name, &a.resource)) }
                                br; span.muted.small { (a.resource) }
                            }
                            td { (a.account) }
                            td { (a.region) }
                            td { (badge(a.status.as_str())) }
                            td {
                                (a.reason)
                                @if let Some(e) = &a.exemption {
                                    br; span.muted.small { "Exempt: " (e.reason) @if let Some(x) = &e.expires { " (until " (x) ")" } }
                                }
                            }
                            @if admin {
                                td {
                                    @if matches!(a.status, AssessmentStatus::Unhealthy | AssessmentStatus::Error) {
                                        a.button.secondary href=(link(&format!("/recommendations/{}/exempt", segment(&rec.id)), &[("resource", &a.resource)])) { "Exempt" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A resource's name, or its ARN when it has none.
pub(super) fn display_name<'a>(name: &'a str, arn: &'a str) -> &'a str {
    if name.trim().is_empty() { arn } else { name }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ExemptQuery {
    resource: Option<String>,
}

fn exempt_page(
    rec: &Recommendation,
    who: &Principal,
    resource: &str,
    reason: &str,
    expires: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        p.small { a href=(format!("/recommendations/{}", segment(&rec.id))) { "« " (rec.title) } }
        h1 { "Exempt from: " (rec.title) }
        @if let Some(error) = error { p.error-box role="alert" { (error) } }
        @if is_admin(who) {
            form.stack #exempt-form method="post" action=(format!("/recommendations/{}/exempt", segment(&rec.id))) {
                (csrf_field(who))
                label { "Resource (ARN; * and ? match; empty: every resource)"
                    input name="resource" type="text" value=(resource);
                }
                label { "Reason (required)"
                    textarea name="reason" rows="3" required { (reason) }
                }
                label { "Expires (optional, YYYY-MM-DD)"
                    input name="expires" type="date" value=(expires);
                }
                p.muted.small { "The exempt resources stop counting against the secure score; their assessments keep their original status beside the exemption." }
                div { button type="submit" { "Create exemption" } }
            }
        } @else {
            p.error-box { "Creating an exemption needs an admin token." }
        }
    }
}

pub(super) async fn exempt_form(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(q): Query<ExemptQuery>,
) -> PageResult {
    let rec = recommendation(&state, &id)?;
    let content = exempt_page(
        &rec,
        &who,
        q.resource.as_deref().unwrap_or_default(),
        "",
        "",
        None,
    );
    Ok(page("Exempt", Nav::Recommendations, &who, content))
}

/// The exempt form's fields (the CSRF field is checked by the middleware).
#[derive(Debug, Deserialize)]
pub(super) struct ExemptForm {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: String,
}

fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub(super) async fn exempt(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<ExemptForm>,
) -> PageResult {
    let rec = recommendation(&state, &id)?;
    let exemption = Exemption {
        recommendation: Some(rec.id.clone()),
        resource: optional(&form.resource),
        account: None,
        region: None,
        tag: None,
        reason: form.reason.trim().to_owned(),
        expires: optional(&form.expires),
    };
    if let Err(why) = exemption.validate() {
        let message = format!("This exemption {why}.");
        let content = exempt_page(
            &rec,
            &who,
            &form.resource,
            &form.reason,
            &form.expires,
            Some(&message),
        );
        let mut response = page("Exempt", Nav::Recommendations, &who, content);
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    let stored = StoredExemption {
        id: uuid::Uuid::now_v7().to_string(),
        exemption,
        created_by: who.name.clone(),
        created_at: OffsetDateTime::now_utc(),
    };
    let posture = state.posture.clone();
    state
        .store
        .run(move |s| posture.save_exemption(s, stored, true).map(drop))
        .await?;
    Ok(see_other(&link(
        &format!("/recommendations/{}", segment(&rec.id)),
        &[("status", "exempt"), ("exempted", "1")],
    ))
    .into_response())
}
