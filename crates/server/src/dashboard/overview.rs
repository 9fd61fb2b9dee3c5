//! The overview (secure score and its trend, score by control, counts by
//! severity, recent scans) and a scan's page (its coverage gaps).

use axum::Extension;
use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use rampart_model::{ScanRecord, Severity};
use rampart_store::{Scope, ScorePoint};

use super::{
    Counts, Nav, PageError, PageResult, ScoreView, count, link, no_scan_yet, page, resolve_scope,
    scope_filter, scoped, when,
};
use crate::AppState;
use crate::auth::Principal;
use crate::posture::{ScopeQuery, kind};

/// How many scores the trend line shows.
const TREND_POINTS: u64 = 30;
/// How many recent scans the overview lists.
const RECENT_SCANS: u64 = 8;
/// Scans without a cached score filled per overview request (older scans,
/// or scans written by the CLI), so the trend fills in without one slow page.
const FILL_PER_REQUEST: u64 = 3;

/// Accounts the overview lists (lowest score first); an Organization of
/// thousands is narrowed with the filter.
const ACCOUNTS_SHOWN: usize = 100;

/// One account of the current snapshot on the overview.
struct AccountRow {
    account: String,
    percent: f64,
    assets: u64,
    /// The latest complete scan that scanned it, and when it finished.
    scanned_by: Option<(String, String)>,
}

/// Posture cache kind: the whole snapshot's assets per account.
const ACCOUNT_ASSETS: &str = "account_assets";

/// Assets per account of snapshot `scan_id` in `scope`; the whole
/// snapshot's are cached with the scan (a count over every asset, about a
/// second at 2 million).
fn account_asset_counts(
    store: &rampart_store::Store,
    scan_id: &str,
    scope: &Scope,
) -> Result<Vec<(String, u64)>, crate::error::ApiError> {
    if !scope.is_everything() {
        return Ok(store.asset_account_counts_in(scope)?);
    }
    if let Some(cached) = store.posture(scan_id, ACCOUNT_ASSETS)?
        && let Ok(counts) = serde_json::from_value::<Vec<(String, u64)>>(cached)
    {
        return Ok(counts);
    }
    let counts = store.asset_account_counts_in(scope)?;
    store.put_posture(scan_id, ACCOUNT_ASSETS, &serde_json::json!(counts))?;
    Ok(counts)
}

/// The accounts of snapshot `scan_id` in `scope`, lowest score first (at
/// most [`ACCOUNTS_SHOWN`]): their score, assets and the scan their slice
/// comes from; and how many accounts there are in all.
fn account_rows(
    store: &rampart_store::Store,
    posture: &crate::posture::Posture,
    scan_id: &str,
    scope: &Scope,
) -> Result<(Vec<AccountRow>, usize), crate::error::ApiError> {
    let scores = posture.account_scores(store, scan_id, scope)?;
    let mut counts: Vec<(String, u64, f64)> = account_asset_counts(store, scan_id, scope)?
        .into_iter()
        .map(|(account, assets)| {
            let percent = scores.get(&account).copied().unwrap_or(0.0);
            (account, assets, percent)
        })
        .collect();
    let total = counts.len();
    counts.sort_by(|a, b| a.2.total_cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(ACCOUNTS_SHOWN);
    let listed: Vec<String> = counts.iter().map(|(a, _, _)| a.clone()).collect();
    let mut scans = store.latest_complete_scans_of(&listed)?;
    let rows = counts
        .into_iter()
        .map(|(account, assets, percent)| {
            let scanned_by = scans
                .remove(&account)
                .map(|s| (s.id, s.finished_at.map(when).unwrap_or_default()));
            AccountRow {
                percent,
                account,
                assets,
                scanned_by,
            }
        })
        .collect();
    Ok((rows, total))
}

/// The overview of the latest snapshot; `?account=`, `?connector=` and
/// `?region=` narrow the score, the counts, the scope and the accounts to
/// the matching part of the estate.
pub(super) async fn overview(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ScopeQuery>,
) -> PageResult {
    let scope = resolve_scope(&state, &q).await?;
    let posture = state.posture.clone();
    let (latest, trend, recent, alert_counts) = state
        .store
        .run(move |s| {
            for id in s.scans_without_score(FILL_PER_REQUEST)? {
                posture.refresh(s, &id)?;
            }
            Ok((
                s.latest_complete_scan()?,
                s.recent_scores(TREND_POINTS)?,
                s.scans_page(None, 0, RECENT_SCANS)?,
                s.alert_counts(Some(rampart_model::AlertStatus::Active))?,
            ))
        })
        .await?;
    let alerts_panel = html! {
        section.panel aria-labelledby="alerts-h" {
            h2 #alerts-h { a href="/alerts" { "Alerts" } }
            (super::alerts::counts_panel(&alert_counts))
        }
    };
    let Some(scan) = latest else {
        let content = html! {
            h1 { "Overview" }
            (no_scan_yet())
            div.panels { (alerts_panel) }
            (recent_scans(&recent))
        };
        return Ok(page("Overview", Nav::Overview, &who, content));
    };
    let score: ScoreView = scoped(&state, &scan.id, kind::SCORE, &scope).await?;
    let ((accounts, account_total), part) = {
        let posture = state.posture.clone();
        let (scan, scope) = (scan.clone(), scope.clone());
        state
            .store
            .run(move |s| {
                let rows = account_rows(s, &posture, &scan.id, &scope)?;
                Ok((rows, s.scan_in(&scan, &scope)?))
            })
            .await?
    };
    let counts: Counts = scoped(&state, &scan.id, kind::RECOMMENDATIONS, &scope).await?;
    let everything = scope.is_everything();
    let content = html! {
        h1 { "Overview" }
        (scope_filter("/", &q))
        div.panels {
            section.panel aria-labelledby="score-h" {
                h2 #score-h { "Secure score" }
                div.score #secure-score { (format!("{:.1}%", score.percent)) }
                p.muted.small { "Scan " a href=(format!("/scans/{}", super::segment(&scan.id))) { (scan.id) } ", " (scan.finished_at.map(when).unwrap_or_default()) }
                @if everything {
                    (sparkline(&trend))
                } @else {
                    p.muted.small {
                        "Compliance of this part: " a href=(link("/compliance", &q.pairs())) { "by standard" } ". "
                        "The trend covers the whole estate: " a href="/" { "show it" } "."
                    }
                }
            }
            section.panel aria-labelledby="sev-h" {
                h2 #sev-h { "Unhealthy by severity" }
                (severity_counts(&state, &counts))
            }
            (alerts_panel)
            section.panel aria-labelledby="scope-h" {
                h2 #scope-h { "Scope" }
                dl.props {
                    dt { "Assets" } dd { (part.asset_count) }
                    dt { "Accounts" } dd { (account_total) }
                    dt { "Regions" } dd { (part.regions.len()) }
                    dt { "Coverage gaps" } dd { (part.gap_count) }
                }
            }
        }
        h2 { "Accounts" }
        p.muted.small {
            "Each account's latest complete scan; "
            @if everything { "the score above covers them all." } @else { "the score above covers these." }
            " An account's link shows its own score."
            @if account_total > accounts.len() {
                " The " (accounts.len()) " with the lowest score of " (account_total) " are listed: filter by account, connector or region for the others."
            }
        }
        table #accounts {
            thead { tr {
                th { "Account" } th.num { "Secure score" } th.num { "Assets" } th { "Last scanned" }
            } }
            tbody {
                @for a in &accounts {
                    tr {
                        td { a href=(link("/", &[("account", &a.account), ("region", q.region.as_deref().unwrap_or_default())])) { (a.account) } }
                        td.num { (format!("{:.1}%", a.percent)) }
                        td.num { a href=(link("/inventory", &[("account", &a.account), ("region", q.region.as_deref().unwrap_or_default())])) { (a.assets) } }
                        td {
                            @match &a.scanned_by {
                                Some((id, at)) => {
                                    a href=(format!("/scans/{}", super::segment(id))) { (id) } ", " (at)
                                }
                                None => { "—" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Score by security control" }
        table #controls {
            thead { tr {
                th { "Security control" } th.num { "Score" } th { "" }
                th.num { "Unhealthy resources" } th.num { "Healthy resources" } th.num { "Potential increase" }
            } }
            tbody {
                @for c in &score.controls {
                    tr {
                        td { a href=(link("/recommendations", &[("control", &c.name)])) { (c.name) } }
                        td.num { (format!("{:.2} / {:.0}", c.current, c.max)) }
                        td { meter min="0" max=(c.max) value=(c.current) { (format!("{:.2}", c.current)) } }
                        td.num { (c.unhealthy) }
                        td.num { (c.healthy) }
                        td.num { (format!("+{:.2}", c.potential_increase)) }
                    }
                }
            }
        }
        (recent_scans(&recent))
    };
    Ok(page("Overview", Nav::Overview, &who, content))
}

/// Unhealthy recommendations and assessments per severity, highest first.
fn severity_counts(state: &AppState, counts: &Counts) -> Markup {
    let catalog = &state.posture.catalog;
    let mut rows = Vec::new();
    for severity in Severity::ALL.iter().rev() {
        let (mut recommendations, mut assessments) = (0u64, 0u64);
        for rec in catalog.iter().filter(|r| r.severity == *severity) {
            let n = count(counts, &rec.id, "unhealthy");
            if n > 0 {
                recommendations += 1;
                assessments += n;
            }
        }
        rows.push((*severity, recommendations, assessments));
    }
    html! {
        table #severity {
            thead { tr { th { "Severity" } th.num { "Recommendations" } th.num { "Resources" } } }
            tbody {
                @for (severity, recs, assessments) in rows {
                    tr {
                        td { a href=(link("/recommendations", &[("severity", severity.as_str()), ("status", "unhealthy")])) { (super::severity_badge(severity)) } }
                        td.num { (recs) }
                        td.num { (assessments) }
                    }
                }
            }
        }
    }
}

/// The score trend as an inline SVG line (no script, no external image).
pub(crate) fn sparkline(points: &[ScorePoint]) -> Markup {
    const W: f64 = 300.0;
    const H: f64 = 60.0;
    if points.is_empty() {
        return html! {};
    }
    let step = if points.len() > 1 {
        W / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = if points.len() > 1 {
                i as f64 * step
            } else {
                W / 2.0
            };
            let y = H - 4.0 - (p.percent.clamp(0.0, 100.0) / 100.0) * (H - 8.0);
            (x, y)
        })
        .collect();
    let line: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let first = points.first().map_or(0.0, |p| p.percent);
    let last = points.last().map_or(0.0, |p| p.percent);
    let label = format!(
        "Secure score over the last {} scans: from {first:.1}% to {last:.1}%",
        points.len()
    );
    html! {
        svg.spark #trend role="img" aria-label=(label) viewBox="0 0 300 60" preserveAspectRatio="none" {
            title { (label) }
            line x1="0" y1="56" x2="300" y2="56" stroke="#d9dde4" stroke-width="1" {}
            polyline points=(line.join(" ")) fill="none" stroke="#1f5fbf" stroke-width="2" {}
            @if let Some((x, y)) = xy.last() {
                circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="3" fill="#1f5fbf" {}
            }
        }
        p.muted.small { (label) }
    }
}

fn recent_scans(scans: &[ScanRecord]) -> Markup {
    html! {
        h2 { "Recent scans" }
        @if scans.is_empty() {
            p.muted { "No scans yet." }
        } @else {
            table #scans {
                thead { tr {
                    th { "Scan" } th { "Started" } th { "Status" } th.num { "Assets" }
                    th.num { "API calls" } th.num { "Coverage gaps" }
                } }
                tbody {
                    @for scan in scans {
                        tr {
                            td { a href=(format!("/scans/{}", super::segment(&scan.id))) { (scan.id) } }
                            td { (when(scan.started_at)) }
                            td { (super::badge(scan.status.as_str())) }
                            td.num { (scan.asset_count) }
                            td.num { (scan.api_calls) }
                            td.num { (scan.gap_count) }
                        }
                    }
                }
            }
        }
    }
}

/// A scan: its record, its job's progress (when this server runs it) and its
/// coverage gaps.
pub(super) async fn scan(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> PageResult {
    let job = crate::api::scans::job_of(&state, &id).await?;
    let lookup = id.clone();
    let stored = state
        .store
        .run(move |s| match s.scan(&lookup) {
            Ok(scan) => {
                let gaps = s.gaps()?;
                Ok(Some((scan, gaps)))
            }
            Err(rampart_store::StoreError::NoSuchScan(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    if stored.is_none() && job.is_none() {
        return Err(PageError(crate::error::ApiError::not_found(format!(
            "no scan `{id}`"
        ))));
    }
    let content = html! {
        h1 { "Scan " (id) }
        @if let Some(job) = &job {
            section.panel #job {
                h2 { "Job" }
                dl.props {
                    dt { "State" } dd { (format!("{:?}", job.state).to_lowercase()) }
                    @if let Some(queued) = &job.job {
                        dt { "Queue job" } dd { (queued) }
                        dt { "Worker runs" } dd { (job.attempts.unwrap_or_default()) }
                        @if let Some(worker) = &job.worker { dt { "Worker" } dd { (worker) } }
                    } @else {
                        dt { "Progress" } dd { (format!("{:.1}%", job.percent)) " (" (job.done) " of " (job.planned) " tasks)" }
                    }
                    @if let Some(error) = &job.error { dt { "Error" } dd { (error) } }
                    @if let Some(connector) = &job.request.connector { dt { "Connector" } dd { (connector) } }
                }
                p.muted.small { "Reload the page to follow its progress." }
            }
        }
        @if let Some((scan, gaps)) = &stored {
            section.panel {
                dl.props {
                    dt { "Status" } dd { (super::badge(scan.status.as_str())) }
                    dt { "Started" } dd { (when(scan.started_at)) }
                    dt { "Finished" } dd { (scan.finished_at.map(when).unwrap_or_else(|| "—".to_owned())) }
                    dt { "Accounts" } dd { (scan.accounts.join(", ")) }
                    dt { "Regions" } dd { (scan.regions.join(", ")) }
                    dt { "Assets" } dd { (scan.asset_count) }
                    dt { "API calls" } dd { (scan.api_calls) }
                }
            }
            h2 { "Coverage gaps (" (gaps.len()) ")" }
            @if gaps.is_empty() {
                p.muted { "None: every call the scan made was answered." }
            } @else {
                p.muted.small { "What the scan could not read. Assessments that needed it are errors, never healthy. In a terminal: " code { "rampart gaps --scan " (scan.id) } "." }
                table #gaps {
                    thead { tr { th { "Account" } th { "Region" } th { "Service" } th { "Operation" } th { "Kind" } th { "Error" } th.num { "Times" } } }
                    tbody {
                        @for gap in gaps {
                            tr {
                                td { (gap.account) } td { (gap.region) } td { (gap.service) } td { (gap.operation) }
                                td { (gap.kind.as_str()) } td.wrap { (gap.error) } td.num { (gap.occurrences) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Scan", Nav::Overview, &who, content))
}
