//! Connectors (plans, regions, per-plan health from the latest on-demand
//! check, last scan and its gaps, trigger a scan or a health check,
//! download the onboarding template) and alerts.

use std::time::Duration;

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use maud::{Markup, html};
use rampart_connector::{Connector, Plan};
use rampart_health::{Check, ConnectorHealth, State as HealthState};
use rampart_model::ScanRecord;
use rampart_onboarding::{Access, ConnectorRoles, TemplateError};
use serde::Deserialize;

use super::{
    Nav, PageError, PageResult, badge, csrf_field, is_admin, link, page, see_other, segment, when,
};
use crate::AppState;
use crate::api::connectors::find;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::health::CHECK_RAN;
use crate::scans::ScanRequest;

/// How long the template download waits for the issuer host's TLS
/// certificate when no thumbprint is given.
const THUMBPRINT_TIMEOUT: Duration = Duration::from_secs(5);

/// Scans looked through for each connector's last scan.
const SCAN_HISTORY: u64 = 50;

/// A plan's health as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanHealth {
    /// `healthy`, `unhealthy` or `unknown` (the badge's class).
    pub state: &'static str,
    /// Why.
    pub detail: String,
}

/// A plan's health from the connector's latest check: unhealthy when one
/// of the plan's requirements is not met (with its fix), unknown when one
/// could not be told (with the reason) or no check ran, healthy only when
/// every requirement checked is met.
pub(crate) fn plan_health(health: Option<&ConnectorHealth>, plan: Plan) -> PlanHealth {
    let Some(health) = health else {
        return PlanHealth {
            state: "unknown",
            detail: "not checked yet".to_owned(),
        };
    };
    let checks: Vec<&Check> = health
        .checks
        .iter()
        .filter(|c| c.plan == Some(plan))
        .collect();
    let failed = checks.iter().find_map(|c| match &c.state {
        HealthState::NotMet { fix } => Some(format!("{}: {fix}", c.requirement)),
        _ => None,
    });
    let unknown = checks.iter().find_map(|c| match &c.state {
        HealthState::Unknown { why } => Some(format!("{}: {why}", c.requirement)),
        _ => None,
    });
    // A check that could not run at all is connector-wide.
    let not_run = health.checks.iter().find_map(|c| match &c.state {
        HealthState::Unknown { why } if c.requirement == CHECK_RAN => Some(why.clone()),
        _ => None,
    });
    match (failed, unknown, not_run) {
        (Some(fix), _, _) => PlanHealth {
            state: "unhealthy",
            detail: fix,
        },
        (None, Some(why), _) => PlanHealth {
            state: "unknown",
            detail: why,
        },
        (None, None, Some(why)) => PlanHealth {
            state: "unknown",
            detail: why,
        },
        (None, None, None) if checks.is_empty() => PlanHealth {
            state: "unknown",
            detail: "no requirement of this plan was checked".to_owned(),
        },
        (None, None, None) => PlanHealth {
            state: "healthy",
            detail: format!("{} requirements met", checks.len()),
        },
    }
}

/// A connector's last scan: the newest that covered its account.
fn last_scan<'a>(connector: &Connector, scans: &'a [ScanRecord]) -> Option<&'a ScanRecord> {
    scans
        .iter()
        .find(|s| s.accounts.iter().any(|a| a == connector.account()))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    let (connectors, scans) = state
        .store
        .run(|s| Ok((s.connectors()?, s.scans_page(None, 0, SCAN_HISTORY)?)))
        .await?;
    // Gaps of each connector's last scan, in its account.
    let mut gap_counts = Vec::with_capacity(connectors.len());
    for c in &connectors {
        let gaps = match last_scan(c, &scans) {
            Some(_) => {
                let account = c.account().to_owned();
                let n = state
                    .store
                    .run(move |s| Ok(s.gaps()?.iter().filter(|g| g.account == account).count()))
                    .await?;
                Some(n)
            }
            None => None,
        };
        gap_counts.push(gaps);
    }
    let mut healths = Vec::with_capacity(connectors.len());
    for c in &connectors {
        healths.push(state.health.latest(&state.store, c).await?);
    }
    let mut running = state.scans.running();
    // Scans queued for workers, by whichever replica.
    running.extend(crate::queued::active(&state.store).await?);
    let admin = is_admin(&who);
    let content = html! {
        h1 { "Connectors" }
        @if !running.is_empty() {
            section.panel #running {
                h2 { "Running scans" }
                @for job in &running {
                    p { a href=(format!("/scans/{}", segment(&job.id))) { (job.id) } " — "
                        @if job.job.is_some() { (state_name(job.state)) } @else { (format!("{:.1}%", job.percent)) }
                        @if let Some(c) = &job.request.connector { " (" (c) ")" } }
                }
            }
        }
        p #add-account { a.button href="/connectors/new" { "Add an AWS account or organization" }
            @if admin { " · " a href="/settings/tokens" { "API tokens" } " · " a href="/settings/issuer" { "Issuer keys" } }
            @else { span.muted.small { " (admins only)" } } }
        @if connectors.is_empty() {
            p.panel { "No connector yet. " a href="/connectors/new" { "Add an AWS account" } " to start: a form, a template to deploy, then a check that it works." }
        }
        @for ((c, gaps), health) in connectors.iter().zip(&gap_counts).zip(&healths) {
            (connector_panel(c, last_scan(c, &scans), *gaps, health.as_ref(), &who, admin))
        }
        @if admin {
            h2 { "Scan" }
            form.inline method="post" action="/connectors/scan" {
                (csrf_field(&who))
                input type="hidden" name="connector" value="";
                button type="submit" { "Start a scan" }
            }
        }
    };
    Ok(page("Connectors", Nav::Connectors, &who, content))
}

fn connector_panel(
    c: &Connector,
    scan: Option<&ScanRecord>,
    gaps: Option<usize>,
    health: Option<&ConnectorHealth>,
    who: &Principal,
    admin: bool,
) -> Markup {
    let base = format!("/connectors/{}", segment(&c.name));
    let regions = if c.environment_data.regions.is_empty() {
        "every enabled region".to_owned()
    } else {
        c.environment_data.regions.join(", ")
    };
    html! {
        section.panel.connector id=(format!("connector-{}", c.id)) {
            h2 { (c.name) @if c.paused { " " (badge("paused")) } }
            dl.props {
                dt { "Account" } dd { (c.account()) }
                @if c.is_organization() { dt { "Organization" } dd { "management account" } }
                @if let Some(parent) = c.parent() { dt { "Organization" } dd { "member of " (parent) } }
                dt { "Regions" } dd { (regions) }
                dt { "Scan interval" } dd { (c.environment_data.scan_interval) " h"
                    @if c.paused { " — paused: scheduled scans skip it" } }
                dt { "Last scan" } dd {
                    @match scan {
                        Some(s) => {
                            a href=(format!("/scans/{}", segment(&s.id))) { (when(s.started_at)) } " " (badge(s.status.as_str()))
                            @match gaps {
                                Some(0) => { " · no coverage gaps" }
                                Some(n) => { " · " a href=(format!("/scans/{}", segment(&s.id))) { (n) " coverage gaps" } }
                                None => {}
                            }
                        }
                        None => { "never" }
                    }
                }
            }
            table.plans {
                thead { tr { th { "Plan" } th { "Offering" } th { "Role" } th { "Settings" } th { "Health" } } }
                tbody {
                    @for plan in c.plans() {
                        @let health = plan_health(health, plan);
                        tr {
                            td { (plan.name()) }
                            td { (plan.offering_type()) }
                            td.wrap { code { (c.role_arn(plan).unwrap_or("—")) } }
                            td.small { (c.offering(plan).map(super::onboarding::plan_settings).unwrap_or_default()) }
                            td { (badge(health.state)) " " span.muted.small { (health.detail) } }
                        }
                    }
                }
            }
            (health_details(health))
            @if admin {
                form.inline method="post" action=(format!("{base}/health")) {
                    (csrf_field(who))
                    button type="submit" { "Check health" }
                }
                " "
                form.inline method="post" action="/connectors/scan" {
                    (csrf_field(who))
                    input type="hidden" name="connector" value=(c.name);
                    button type="submit" { "Scan now" }
                }
                (super::onboarding::manage_links(c, who))
            }
            (template_links(c, &base))
        }
    }
}

/// The latest check's requirements, or "not checked yet".
pub(super) fn health_details(health: Option<&ConnectorHealth>) -> Markup {
    html! {
        @match health {
            None => { p.muted.small.health { "Health: not checked yet." } }
            Some(h) => {
                details.health open[!h.healthy()] {
                    summary { "Health checked " (when(h.checked_at)) ": "
                        @if h.healthy() { "no requirement unmet" } @else { (h.not_met().count()) " requirements not met" } }
                    table.health {
                        thead { tr { th { "Plan" } th { "Requirement" } th { "State" } th { "Detail" } } }
                        tbody {
                            @for check in &h.checks {
                                tr {
                                    td { (check.plan.map_or("—", |p| p.name())) }
                                    td { (check.requirement) }
                                    td { (badge(check.state.name())) }
                                    td.wrap {
                                        (check.detail)
                                        @match &check.state {
                                            HealthState::NotMet { fix } => { br; strong { "Fix: " } (fix) }
                                            HealthState::Unknown { why } => { br; span.muted.small { "Why: " (why) } }
                                            HealthState::Met => {}
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
}

/// Download links for the onboarding template, both formats and access
/// modes, and a form taking the issuer host's thumbprint.
pub(super) fn template_links(c: &Connector, base: &str) -> Markup {
    let path = format!("{base}/template");
    let formats: &[(&str, &str)] = if c.is_organization() {
        &[("cloudformation", "CloudFormation (StackSet)")]
    } else {
        &[
            ("cloudformation", "CloudFormation"),
            ("terraform", "Terraform"),
        ]
    };
    html! {
        h3.small { "Onboarding template" }
        @if let Some(parent) = c.parent() {
            p.muted.small { "Its roles come from the StackSet of the management account " (parent) "'s connector: download that connector's template." }
        } @else if c.is_classic() {
            p.muted.small { "A classic connector uses stored keys or a role with an external id; it has no template." }
        } @else {
            ul.templates {
                @for (format, label) in formats {
                    @for (access, access_label) in [("default", "read-only access"), ("least-privilege", "least privilege")] {
                        li { a download href=(link(&path, &[("format", format), ("access", access)])) { (label) ", " (access_label) } }
                    }
                }
            }
            form.filters method="get" action=(path) {
                label { "Format"
                    select name="format" {
                        @for (format, label) in formats { option value=(format) { (label) } }
                    }
                }
                label { "Access"
                    select name="access" {
                        option value="default" { "Read-only access" }
                        option value="least-privilege" { "Least privilege" }
                    }
                }
                label { "Issuer thumbprint (optional; 40 hex digits, from `rampart issuer thumbprint`)"
                    input name="thumbprint" type="text" pattern="[0-9A-Fa-f:]{40,59}";
                }
                button type="submit" { "Download" }
            }
        }
    }
}

/// Checks the connector's health now (admins; the middleware checks the
/// role and the CSRF token), keeps the result and goes back to the page.
pub(super) async fn check_health(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> PageResult {
    let connector = find(&state, name).await?;
    let anchor = format!("/connectors#connector-{}", connector.id);
    state.health.run(&state.store, connector).await?;
    Ok(see_other(&anchor))
}

/// `?format=cloudformation|terraform&access=default|least-privilege&thumbprint=HEX`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct TemplateQuery {
    format: Option<String>,
    access: Option<String>,
    thumbprint: Option<String>,
}

/// A template that cannot be generated: 422 with the reason, and the
/// thumbprint field when a thumbprint would help.
fn template_problem(
    c: &Connector,
    who: &Principal,
    query: &TemplateQuery,
    message: &str,
    ask_thumbprint: bool,
) -> PageResult {
    let path = format!("/connectors/{}/template", segment(&c.name));
    let content = html! {
        p.small { a href=(format!("/connectors#connector-{}", c.id)) { "« Connectors" } }
        h1 { "Template for " (c.name) }
        p.error-box role="alert" { (message) }
        @if ask_thumbprint {
            form.stack #thumbprint-form method="get" action=(path) {
                input type="hidden" name="format" value=(query.format.as_deref().unwrap_or("cloudformation"));
                input type="hidden" name="access" value=(query.access.as_deref().unwrap_or("default"));
                label { "Issuer thumbprint (40 hex digits; " code { "rampart issuer thumbprint" } " on a host that reaches the issuer prints it)"
                    input name="thumbprint" type="text" required value=(query.thumbprint.as_deref().unwrap_or_default());
                }
                div { button type="submit" { "Download" } }
            }
        }
    };
    let mut response = page("Template", Nav::Connectors, who, content);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The connector's onboarding template as a download.
pub(super) async fn template(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Query(query): Query<TemplateQuery>,
) -> PageResult {
    let connector = find(&state, name).await?;
    let terraform = match query.format.as_deref().unwrap_or("cloudformation") {
        "cloudformation" => false,
        "terraform" => true,
        other => {
            return Err(PageError(ApiError::bad_request(format!(
                "unknown format `{other}` (cloudformation or terraform)"
            ))));
        }
    };
    let access = match query.access.as_deref().unwrap_or("default") {
        "default" => Access::Default,
        "least-privilege" => Access::LeastPrivilege,
        other => {
            return Err(PageError(ApiError::bad_request(format!(
                "unknown access `{other}` (default or least-privilege)"
            ))));
        }
    };
    let roles = match ConnectorRoles::from_connector(&connector) {
        Ok(roles) => roles,
        Err(e) => return template_problem(&connector, &who, &query, &e.to_string(), false),
    };
    let Some(keys) = state.issuer_keys() else {
        return template_problem(
            &connector,
            &who,
            &query,
            "this server has no keys directory, so no issuer",
            false,
        );
    };
    let given = query
        .thumbprint
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    // Opening the issuer reads files or the store; the thumbprint is a
    // blocking TLS handshake with the issuer's host.
    let looked_up = tokio::task::spawn_blocking(move || {
        let issuer = keys.issuer().map_err(|e| {
            (
                format!("{e}; {}", rampart_engine::issuer::CREATE_HINT),
                false,
            )
        })?;
        let url = issuer.url().to_owned();
        let thumbprint = match given {
            Some(t) => t,
            None => rampart_identity::thumbprint_with_timeout(&url, THUMBPRINT_TIMEOUT).map_err(
                |e| {
                    (
                        format!(
                            "cannot compute the TLS thumbprint of the issuer `{url}` from this server ({e}); enter it below"
                        ),
                        true,
                    )
                },
            )?,
        };
        Ok::<_, (String, bool)>((url, thumbprint))
    })
    .await
    .map_err(|e| PageError(ApiError::internal(format!("template task: {e}"))))?;
    let (url, thumbprint) = match looked_up {
        Ok(found) => found,
        Err((message, ask)) => return template_problem(&connector, &who, &query, &message, ask),
    };
    let input = roles.input(&url, vec![thumbprint], access);
    let generated = if terraform {
        rampart_onboarding::terraform(&input)
    } else {
        rampart_onboarding::cloudformation(&input)
    };
    let text = match generated {
        Ok(text) => text,
        Err(e) => {
            let ask = matches!(e, TemplateError::Thumbprint(_));
            return template_problem(&connector, &who, &query, &e.to_string(), ask);
        }
    };
    let (extension, content_type) = if terraform {
        ("tf", "text/plain; charset=utf-8")
    } else {
        ("json", "application/json")
    };
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!(
        "attachment; filename=\"rampart-{}.{extension}\"",
        file_name_part(&connector.name)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// A connector name kept to `[A-Za-z0-9._-]` for a file name (names are
/// validated already; be strict anyway).
fn file_name_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The scan trigger form.
#[derive(Debug, Deserialize)]
pub(super) struct ScanForm {
    #[serde(default)]
    connector: String,
}

pub(super) async fn trigger_scan(
    State(state): State<AppState>,
    Form(form): Form<ScanForm>,
) -> PageResult {
    let request = ScanRequest {
        connector: Some(form.connector.trim().to_owned()).filter(|c| !c.is_empty()),
        ..ScanRequest::default()
    };
    let job = state.start_scan(request).await?;
    Ok(see_other(&format!("/scans/{}", segment(&job.id))).into_response())
}

/// A job state as pages show it.
pub(super) fn state_name(state: crate::scans::JobState) -> String {
    format!("{state:?}").to_lowercase()
}
