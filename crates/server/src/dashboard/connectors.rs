//! Connectors (plans, regions, per-plan health, last scan and its gaps,
//! trigger a scan) and alerts.

use axum::Extension;
use axum::extract::{Form, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use rampart_connector::{Connector, Plan};
use rampart_model::ScanRecord;
use serde::Deserialize;

use super::{Nav, PageResult, badge, csrf_field, is_admin, page, see_other, segment, when};
use crate::AppState;
use crate::auth::Principal;
use crate::scans::ScanRequest;

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

/// A plan's health. No connector status check exists yet, so it is
/// `unknown` — never guessed healthy. A status check (can each of the
/// plan's roles be assumed, can its reads run) plugs in here.
pub(crate) fn plan_health(_connector: &Connector, _plan: Plan) -> PlanHealth {
    PlanHealth {
        state: "unknown",
        detail: "no status check has run".to_owned(),
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
            Some(scan) => {
                let (id, account) = (scan.id.clone(), c.account().to_owned());
                let n = state
                    .store
                    .run(move |s| Ok(s.gaps(&id)?.iter().filter(|g| g.account == account).count()))
                    .await?;
                Some(n)
            }
            None => None,
        };
        gap_counts.push(gaps);
    }
    let running = state.scans.running();
    let admin = is_admin(&who);
    let content = html! {
        h1 { "Connectors" }
        @if !running.is_empty() {
            section.panel #running {
                h2 { "Running scans" }
                @for job in &running {
                    p { a href=(format!("/scans/{}", segment(&job.id))) { (job.id) } " — " (format!("{:.1}%", job.percent))
                        @if let Some(c) = &job.request.connector { " (" (c) ")" } }
                }
            }
        }
        @if connectors.is_empty() {
            p.panel { "No connector yet. Create one with " code { "rampart connector create" } "." }
        }
        @for (c, gaps) in connectors.iter().zip(&gap_counts) {
            (connector_panel(c, last_scan(c, &scans), *gaps, &who, admin))
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
    who: &Principal,
    admin: bool,
) -> Markup {
    let regions = if c.environment_data.regions.is_empty() {
        "every enabled region".to_owned()
    } else {
        c.environment_data.regions.join(", ")
    };
    html! {
        section.panel.connector {
            h2 { (c.name) }
            dl.props {
                dt { "Account" } dd { (c.account()) }
                @if c.is_organization() { dt { "Organization" } dd { "management account" } }
                @if let Some(parent) = c.parent() { dt { "Organization" } dd { "member of " (parent) } }
                dt { "Regions" } dd { (regions) }
                dt { "Scan interval" } dd { (c.environment_data.scan_interval) " h" }
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
                thead { tr { th { "Plan" } th { "Offering" } th { "Role" } th { "Health" } } }
                tbody {
                    @for plan in c.plans() {
                        @let health = plan_health(c, plan);
                        tr {
                            td { (plan.name()) }
                            td { (plan.offering_type()) }
                            td.wrap { code { (c.role_arn(plan).unwrap_or("—")) } }
                            td { (badge(health.state)) " " span.muted.small { (health.detail) } }
                        }
                    }
                }
            }
            @if admin {
                form.inline method="post" action="/connectors/scan" {
                    (csrf_field(who))
                    input type="hidden" name="connector" value=(c.name);
                    p { button type="submit" { "Scan now" } }
                }
            }
        }
    }
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
    let job = state
        .scans
        .trigger(request, state.store.clone(), state.posture.clone())?;
    Ok(see_other(&format!("/scans/{}", segment(&job.id))).into_response())
}

/// Alerts: detection rules raise them; none exist until detection runs.
pub(super) async fn alerts(Extension(who): Extension<Principal>) -> PageResult {
    let content = html! {
        h1 { "Alerts" }
        table #alerts {
            thead { tr { th { "Severity" } th { "Alert" } th { "Resource" } th { "Time" } } }
            tbody { tr { td colspan="4" { "No alerts." } } }
        }
        p.muted.small { "Alerts come from threat-detection rules over CloudTrail and EKS audit logs; this server has not raised any." }
    };
    Ok(page("Alerts", Nav::Alerts, &who, content))
}
