//! Alerts: the list (filters, keyset pages), an alert's page (entities,
//! MITRE ATT&CK, evidence events, remediation, status history) and the
//! status form (admins).

use axum::Extension;
use axum::extract::{Form, OriginalUri, Path, Query, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use rampart_model::{AlertPlan, AlertSource, AlertStatus, Severity};
use rampart_store::{EVIDENCE_CAP, Store};
use serde::Deserialize;

use super::{
    Nav, PageError, PageResult, badge, csrf_field, is_admin, link, page, pager, resource_link,
    see_other, segment, severity_badge, when,
};
use crate::AppState;
use crate::api::alerts::{AlertQuery, alert_with_history, change_status};
use crate::auth::Principal;
use crate::page::{Page, PageQuery};

/// Alerts per page.
const PER_PAGE: u64 = 50;

/// `/alerts` filters and paging.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(flatten)]
    filter: AlertQuery,
    cursor: Option<String>,
}

fn selected(value: Option<&String>, option: &str) -> bool {
    value.is_some_and(|v| v == option)
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let filter = q.filter.filter()?;
    let paging = PageQuery {
        limit: Some(PER_PAGE),
        cursor: q.cursor.clone(),
    };
    let key = paging.key()?;
    let (rows, types) = state
        .store
        .run(move |s| {
            Ok((
                s.alerts_page(&filter, key.as_ref(), PER_PAGE + 1, 0)?,
                s.alert_types()?,
            ))
        })
        .await?;
    let alerts = Page::from_keyset(rows, PER_PAGE, &uri, Store::alert_key);
    let f = &q.filter;
    let first = q.cursor.as_ref().map(|_| {
        link(
            "/alerts",
            &[
                ("severity", f.severity.as_deref().unwrap_or_default()),
                ("status", f.status.as_deref().unwrap_or_default()),
                ("type", f.alert_type.as_deref().unwrap_or_default()),
                ("plan", f.plan.as_deref().unwrap_or_default()),
                ("source", f.source.as_deref().unwrap_or_default()),
            ],
        )
    });
    let content = html! {
        h1 { "Alerts" }
        form.filters method="get" action="/alerts" {
            label { "Severity (at least)"
                select name="severity" {
                    option value="" { "Any" }
                    @for s in Severity::ALL.iter().rev().skip(1) {
                        option value=(s.as_str()) selected[selected(f.severity.as_ref(), s.as_str())] { (s.as_str()) }
                    }
                }
            }
            label { "Status"
                select name="status" {
                    option value="" { "Any" }
                    @for s in AlertStatus::ALL {
                        option value=(s.as_str()) selected[selected(f.status.as_ref(), s.as_str())] { (s.as_str()) }
                    }
                }
            }
            label { "Type"
                select name="type" {
                    option value="" { "Any" }
                    @for t in &types {
                        option value=(t) selected[selected(f.alert_type.as_ref(), t)] { (t) }
                    }
                }
            }
            label { "Plan"
                select name="plan" {
                    option value="" { "Any" }
                    @for p in AlertPlan::ALL {
                        option value=(p.as_str()) selected[selected(f.plan.as_ref(), p.as_str())] { (p.as_str()) }
                    }
                }
            }
            label { "Source"
                select name="source" {
                    option value="" { "Any" }
                    @for s in AlertSource::ALL {
                        option value=(s.as_str()) selected[selected(f.source.as_ref(), s.as_str())] { (s.as_str()) }
                    }
                }
            }
            button type="submit" { "Filter" }
            a.button.secondary href="/alerts" { "Clear" }
        }
        table #alerts {
            thead { tr {
                th { "Severity" } th { "Alert" } th { "Status" } th { "Resource" } th { "Account" }
                th { "Last seen" } th.num { "Events" }
            } }
            tbody {
                @if alerts.items.is_empty() {
                    tr { td colspan="7" { "No alerts." } }
                }
                @for a in &alerts.items {
                    tr {
                        td { (severity_badge(a.severity)) }
                        td { a href=(format!("/alerts/{}", segment(&a.id))) { (a.title) }
                             br; span.muted.small { (a.alert_type) } }
                        td { (badge(a.status.as_str())) }
                        td { (a.resource.name) }
                        td { (a.account) }
                        td { (when(a.last_seen)) }
                        td.num { (a.count) }
                    }
                }
            }
        }
        (pager(alerts.next.as_deref(), first.as_deref()))
        p.muted.small { "Alerts come from threat-detection rules over CloudTrail, EKS audit logs and SQL Server logs. Statuses and webhooks: docs/alerts.md." }
    };
    Ok(page("Alerts", Nav::Alerts, &who, content))
}

/// `?changed=1` after a status change.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DetailQuery {
    changed: Option<String>,
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let (alert, history) = state.store.run(move |s| alert_with_history(s, &id)).await?;
    let content = html! {
        p.small { a href="/alerts" { "« Alerts" } }
        h1 { (alert.title) }
        @if q.changed.is_some() { p.panel role="status" { "Status changed." } }
        p { (severity_badge(alert.severity)) " " (badge(alert.status.as_str())) " "
            span.muted { code { (alert.alert_type) } " · " (alert.plan.as_str()) " plan · " (alert.source.as_str()) } }
        p.wrap #description { (alert.description) }
        section.panel {
            dl.props {
                dt { "Resource" } dd { a href=(resource_link(&alert.resource.resource_type, &alert.resource.arn)) { (alert.resource.name) } " " span.muted.small { (alert.resource.arn) } }
                dt { "Account" } dd { (alert.account) }
                dt { "Region" } dd { (alert.region) }
                dt { "First seen" } dd { (when(alert.first_seen)) }
                dt { "Last seen" } dd { (when(alert.last_seen)) }
                dt { "Events" } dd { (alert.count) }
                dt { "Rule" } dd { code { (alert.rule.id) } " (" (alert.rule.source) ")"
                    @if let Some(author) = &alert.rule.author { " by " (author) }
                    @if let Some(url) = &alert.rule.url { " · " span.wrap { (url) } } }
                dt { "Id" } dd { code { (alert.id) } }
            }
        }
        h2 { "Remediation" }
        p.wrap #remediation { (alert.remediation) }
        h2 { "Entities" }
        table #entities {
            thead { tr { th { "Kind" } th { "Value" } } }
            tbody { @for e in &alert.entities { tr { td { (e.kind) } td.wrap { (e.value) } } } }
        }
        h2 { "MITRE ATT&CK" }
        dl.props #mitre {
            dt { "Tactics" } dd { (alert.mitre.tactics.join(", ")) }
            dt { "Techniques" } dd { @for (i, t) in alert.mitre.techniques.iter().enumerate() { @if i > 0 { ", " } code { (t) } } }
        }
        h2 { "Evidence (" (alert.evidence.len()) " of " (alert.count) " events)" }
        @if alert.evidence_truncated > 0 {
            p.muted.small { (alert.evidence_truncated) " more events are not listed (at most " (EVIDENCE_CAP) " are)." }
        }
        table #evidence {
            thead { tr { th { "Time" } th { "Source" } th { "Event id" } th { "What happened" } } }
            tbody {
                @for e in &alert.evidence {
                    tr { td { (when(e.time)) } td { (e.source.as_str()) } td { code { (e.event_id) } } td.wrap { (e.summary) } }
                }
            }
        }
        h2 { "Status" }
        @if history.is_empty() {
            p.muted { "Never changed." }
        } @else {
            table #history {
                thead { tr { th { "When" } th { "Who" } th { "From" } th { "To" } th { "Comment" } } }
                tbody {
                    @for h in &history {
                        tr { td { (when(h.at)) } td { (h.actor) } td { (badge(h.from.as_str())) } td { (badge(h.to.as_str())) }
                             td.wrap { (h.comment.as_deref().unwrap_or_default()) } }
                    }
                }
            }
        }
        (status_form(&who, &alert.id, alert.status))
    };
    Ok(page("Alert", Nav::Alerts, &who, content))
}

fn status_form(who: &Principal, id: &str, current: AlertStatus) -> Markup {
    html! {
        @if is_admin(who) {
            form.stack #status-form method="post" action=(format!("/alerts/{}/status", segment(id))) {
                (csrf_field(who))
                label { "New status"
                    select name="status" {
                        @for s in AlertStatus::ALL {
                            option value=(s.as_str()) selected[s == current] { (s.as_str()) }
                        }
                    }
                }
                label { "Comment (optional)"
                    textarea name="comment" rows="2" {}
                }
                div { button type="submit" { "Change status" } }
            }
        } @else {
            p.muted.small { "Changing the status needs an admin token." }
        }
    }
}

/// The status form's fields (the CSRF field is checked by the middleware).
#[derive(Debug, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    comment: String,
}

pub(super) async fn set_status(
    state: State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> PageResult {
    let comment = Some(form.comment.trim().to_owned()).filter(|c| !c.is_empty());
    change_status(&state, id.clone(), &form.status, who.name.clone(), comment)
        .await
        .map_err(PageError)?;
    Ok(see_other(&link(
        &format!("/alerts/{}", segment(&id)),
        &[("changed", "1")],
    ))
    .into_response())
}

/// Active alerts by severity, highest first, linked to the filtered list.
pub(super) fn counts_panel(counts: &std::collections::BTreeMap<Severity, u64>) -> Markup {
    html! {
        table #alert-counts {
            thead { tr { th { "Severity" } th.num { "Active alerts" } } }
            tbody {
                @for s in Severity::ALL.iter().rev().skip(1) {
                    tr {
                        td { a href=(link("/alerts", &[("severity", s.as_str()), ("status", "active")])) { (severity_badge(*s)) } }
                        td.num { (counts.get(s).copied().unwrap_or(0)) }
                    }
                }
            }
        }
    }
}
