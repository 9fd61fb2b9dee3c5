//! `/changes`: the posture's history — assessment counts per day (the
//! daily aggregates) and the log of changes to the current assessments,
//! newest first, filtered like the overview (account, connector, region)
//! and by kind of change.

use axum::Extension;
use axum::extract::{Query, State};
use maud::html;
use rampart_store::{ChangeFilter, ChangeKind};
use serde::Deserialize;

use super::{Nav, PageResult, badge, link, page, pager, resolve_scope, scope_filter, when};
use crate::AppState;
use crate::api::history::change_kind;
use crate::auth::Principal;
use crate::posture::ScopeQuery;

/// Changes per page.
const PER_PAGE: u64 = 100;
/// Days of counts shown.
const DAYS: usize = 30;

/// `/changes` filters and paging.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChangesQuery {
    #[serde(flatten)]
    scope: ScopeQuery,
    change: Option<String>,
    /// Changes older than this position (the last one of the previous page).
    before: Option<i64>,
}

pub(super) async fn changes(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ChangesQuery>,
) -> PageResult {
    let scope = resolve_scope(&state, &q.scope).await?;
    let kind = change_kind(q.change.as_deref())?;
    let filter = ChangeFilter {
        change: kind,
        scope: scope.clone(),
        ..ChangeFilter::default()
    };
    let before = q.before;
    let (days, rows) = state
        .store
        .run(move |s| {
            let days = s.daily_posture(&scope, None, None, None)?;
            Ok((days, s.changes(&filter, before, PER_PAGE + 1)?))
        })
        .await?;
    let recent = days
        .get(days.len().saturating_sub(DAYS)..)
        .unwrap_or_default();
    let more = rows.len() as u64 > PER_PAGE;
    let shown = rows
        .get(
            ..rows
                .len()
                .min(usize::try_from(PER_PAGE).unwrap_or(usize::MAX)),
        )
        .unwrap_or_default();
    let mut params = q.scope.pairs();
    if let Some(k) = kind {
        params.push(("change", k.as_str()));
    }
    let next = more.then(|| shown.last()).flatten().map(|last| {
        let seq = last.seq.to_string();
        let mut with = params.clone();
        with.push(("before", seq.as_str()));
        link("/changes", &with)
    });
    let first = before.map(|_| link("/changes", &params));
    let selected = |k: ChangeKind| kind == Some(k);
    let content = html! {
        h1 { "Changes" }
        (scope_filter("/changes", &q.scope))
        h2 { "Secure score and assessments by day" }
        p.muted.small { "Each day's last state: the current assessments when its last scan finished (UTC days). Kept as daily counts, not copies of every scan; the score of a filtered view is that part's own." }
        @if recent.is_empty() {
            p.empty { "No day recorded yet: the first scan records one." }
        } @else {
            table #trend {
                thead { tr {
                    th { "Day" } th.num { "Score" } th.num { "Unhealthy" } th.num { "Healthy" } th.num { "Not applicable" } th.num { "Error" } th.num { "Exempt" }
                } }
                tbody {
                    @for d in recent.iter().rev() {
                        tr {
                            td { (d.day) }
                            td.num { @if let Some(s) = d.score { (format!("{s:.1}%")) } @else { "–" } }
                            td.num { (d.unhealthy) } td.num { (d.healthy) }
                            td.num { (d.not_applicable) } td.num { (d.error) } td.num { (d.exempt) }
                        }
                    }
                }
            }
        }
        h2 { "What changed" }
        form.filters #change-filter method="get" action="/changes" {
            @for (name, value) in q.scope.pairs() {
                input type="hidden" name=(name) value=(value);
            }
            label { "Change"
                select name="change" {
                    option value="" selected[kind.is_none()] { "any" }
                    @for k in ChangeKind::ALL {
                        option value=(k.as_str()) selected[selected(k)] { (k.as_str()) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @if shown.is_empty() {
            p.empty { "No changes match." }
        } @else {
            table #changes {
                thead { tr {
                    th { "When" } th { "Change" } th { "Status" } th { "Recommendation" } th { "Account" } th { "Resource" }
                } }
                tbody {
                    @for c in shown {
                        tr {
                            td { (when(c.at)) }
                            td { (c.change.as_str()) }
                            td {
                                @match c.old_status { Some(s) => (badge(s.as_str())), None => "—" }
                                " → "
                                @match c.new_status { Some(s) => (badge(s.as_str())), None => "—" }
                            }
                            td { a href=(format!("/recommendations/{}", super::segment(&c.recommendation))) { (c.recommendation) } }
                            td { (c.account) }
                            td { code { (c.resource) } }
                        }
                    }
                }
            }
        }
        (pager(next.as_deref(), first.as_deref()))
    };
    Ok(page("Changes", Nav::Changes, &who, content))
}
