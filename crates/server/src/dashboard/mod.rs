//! Server-rendered dashboard pages.
//!
//! Every page is HTML built with `maud`, which escapes every interpolated
//! value: names, tags and policies come from AWS and an attacker may control
//! them. Pages need no JavaScript: filters and pagination are `GET` query
//! parameters, changes (exempt, trigger a scan, log out) are `POST` forms
//! carrying the session's CSRF token. The stylesheet is compiled into the
//! binary and served from `/static/dashboard.css`; the Content Security
//! Policy allows nothing else (no scripts at all, no inline styles).
//!
//! Pages read the latest complete scan and the per-scan posture cache
//! ([`Posture::cached`](crate::posture::Posture::cached)); every list is
//! paginated in SQL.

mod alerts;
mod compliance;
mod connectors;
mod history;
mod inventory;
mod onboarding;
mod overview;
mod recommendations;
mod servers;
mod settings;
mod sql;
mod vulnerabilities;

use std::collections::BTreeMap;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use rampart_model::ScanRecord;
use rampart_store::{Scope, TokenRole};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{CSRF_FIELD, Principal};
use crate::error::ApiError;
use crate::posture::ScopeQuery;

/// The stylesheet, compiled in.
const STYLESHEET: &str = include_str!("style.css");
/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/static/dashboard.css";
/// The pages' Content Security Policy: our stylesheet, our forms, nothing else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's routes (pages behind authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::overview))
        .route("/scans/{id}", get(overview::scan))
        .route("/recommendations", get(recommendations::list))
        .route("/recommendations/{id}", get(recommendations::detail))
        .route(
            "/recommendations/{id}/exempt",
            get(recommendations::exempt_form).post(recommendations::exempt),
        )
        .route("/inventory", get(inventory::list))
        .route("/inventory/resource", get(inventory::resource))
        .route("/compliance", get(compliance::standards))
        .route("/compliance/{standard}", get(compliance::standard))
        .route("/compliance/{standard}/{control}", get(compliance::control))
        .route("/changes", get(history::changes))
        .route("/connectors", get(connectors::list))
        .route(
            "/connectors/new",
            get(onboarding::new_form).post(onboarding::create),
        )
        .route(
            "/connectors/{name}/edit",
            get(onboarding::edit_form).post(onboarding::edit),
        )
        .route("/connectors/{name}/deploy", get(onboarding::deploy))
        .route(
            "/connectors/{name}/verify",
            get(onboarding::verify_page).post(onboarding::verify),
        )
        .route("/connectors/{name}/pause", post(onboarding::pause))
        .route("/connectors/{name}/resume", post(onboarding::resume))
        .route(
            "/connectors/{name}/delete",
            get(onboarding::delete_form).post(onboarding::delete),
        )
        .route("/connectors/scan", post(connectors::trigger_scan))
        .route("/connectors/{name}/health", post(connectors::check_health))
        .route("/connectors/{name}/template", get(connectors::template))
        .route("/servers", get(servers::list))
        .route("/servers/{instance}", get(servers::detail))
        .route("/sql", get(sql::list))
        .route("/sql/servers/{server}", get(sql::detail))
        .route(
            "/sql/servers/{server}/baselines",
            post(sql::accept_baseline),
        )
        .route(
            "/sql/servers/{server}/baselines/remove",
            post(sql::remove_baseline),
        )
        .route("/vulnerabilities", get(vulnerabilities::list))
        .route(
            "/vulnerabilities/machines/{instance}",
            get(vulnerabilities::detail),
        )
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::detail))
        .route("/alerts/{id}/status", post(alerts::set_status))
        .route(
            "/settings/tokens",
            get(settings::tokens).post(settings::create),
        )
        .route("/settings/tokens/{id}/revoke", post(settings::revoke))
        .route("/settings/issuer", get(settings::issuer))
        .route("/settings/issuer/stage", post(settings::stage))
        .route("/settings/issuer/activate", post(settings::activate))
        .route("/settings/issuer/rotate", post(settings::rotate))
        .route(STYLESHEET_PATH, get(stylesheet))
        .layer(map_response(page_headers))
}

async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response
}

/// The pages' security headers (the stylesheet keeps its cache header).
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A page that failed: the error as an HTML page with its status.
#[derive(Debug)]
pub(crate) struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        Self(err)
    }
}

impl From<rampart_store::StoreError> for PageError {
    fn from(err: rampart_store::StoreError) -> Self {
        Self(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let message = match self.0.log_internal() {
            Some(id) => {
                format!("Internal error (request id {id}); the details are in the server's log.")
            }
            None => self.0.message,
        };
        let status = self.0.status;
        let title = status.canonical_reason().unwrap_or("Error");
        let body = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { (title) " · Rampart" }
                    link rel="stylesheet" href=(STYLESHEET_PATH);
                }
                body {
                    main {
                        h1 { (status.as_u16()) " " (title) }
                        p.error-box { (message) }
                        p { a href="/" { "Back to the overview" } }
                    }
                }
            }
        };
        (status, html_response(body)).into_response()
    }
}

/// A page's result.
pub(crate) type PageResult = Result<Response, PageError>;

fn html_response(markup: Markup) -> Response {
    let mut response = markup.into_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The navigation's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Recommendations,
    Inventory,
    Compliance,
    Changes,
    Connectors,
    Servers,
    Alerts,
    Vulnerabilities,
    Sql,
}

const NAV: [(Nav, &str, &str); 10] = [
    (Nav::Overview, "/", "Overview"),
    (Nav::Recommendations, "/recommendations", "Recommendations"),
    (Nav::Inventory, "/inventory", "Inventory"),
    (Nav::Compliance, "/compliance", "Compliance"),
    (Nav::Changes, "/changes", "Changes"),
    (Nav::Connectors, "/connectors", "Connectors"),
    (Nav::Servers, "/servers", "Servers"),
    (Nav::Alerts, "/alerts", "Alerts"),
    (Nav::Vulnerabilities, "/vulnerabilities", "Vulnerabilities"),
    (Nav::Sql, "/sql", "SQL"),
];

/// A whole page: the layout around `content`.
pub(crate) fn page(title: &str, active: Nav, who: &Principal, content: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Rampart" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                header.top {
                    a.brand href="/" { "Rampart" }
                    nav aria-label="Sections" {
                        @for (nav, href, label) in NAV {
                            a href=(href) aria-current=[(nav == active).then_some("page")] { (label) }
                        }
                    }
                    span.who { (who.name) " (" (who.role.as_str()) ")" }
                    @if let Some(csrf) = &who.csrf {
                        form method="post" action="/logout" {
                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main { (content) }
            }
        }
    };
    html_response(markup)
}

/// The hidden CSRF field of a form (empty with a bearer token, which needs none).
pub(crate) fn csrf_field(who: &Principal) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(who.csrf.as_deref().unwrap_or_default()); }
}

/// Whether the caller may change things.
pub(crate) fn is_admin(who: &Principal) -> bool {
    who.role == TokenRole::Admin
}

/// The message shown when there is no complete scan yet.
pub(crate) fn no_scan_yet() -> Markup {
    html! {
        section.panel #get-started {
            p { "No complete scan yet." }
            ul {
                li { a href="/connectors/new" { "Add an AWS account" } ": a form, a template to deploy in the account, a check that Rampart can read it, then the first scan." }
                li { "Or try Rampart first on the demo account: " code { "scripts/demo" } " seeds an AWS emulator and scans it (see " code { "docs/demo-account.md" } ")." }
                li { "Or trigger a scan with this server's own AWS credentials on the " a href="/connectors" { "Connectors" } " page, or run " code { "rampart scan" } "." }
            }
        }
    }
}

/// `2026-01-31 13:05 UTC`.
pub(crate) fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

/// `path?k=v&…` with the non-empty parameters, form-encoded.
pub(crate) fn link(path: &str, params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in params {
        if !v.is_empty() {
            query.append_pair(k, v);
            any = true;
        }
    }
    if any {
        format!("{path}?{}", query.finish())
    } else {
        path.to_owned()
    }
}

/// One path segment, percent-encoded.
pub(crate) fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A resource page's URL.
pub(crate) fn resource_link(resource_type: &str, arn: &str) -> String {
    link(
        "/inventory/resource",
        &[("type", resource_type), ("arn", arn)],
    )
}

/// A status or state badge.
pub(crate) fn badge(kind: &str) -> Markup {
    let class = format!("badge st-{}", css_word(kind));
    html! { span class=(class) { (kind.replace('_', " ")) } }
}

/// A severity badge.
pub(crate) fn severity_badge(severity: rampart_model::Severity) -> Markup {
    let class = format!("badge sev-{}", severity.as_str());
    html! { span class=(class) { (severity.as_str()) } }
}

/// Keeps a class name to `[a-z_]` (the value is ours, but be strict).
fn css_word(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .collect()
}

/// The latest complete scan.
pub(crate) async fn latest_scan(state: &AppState) -> Result<Option<ScanRecord>, PageError> {
    Ok(state.store.run(|s| Ok(s.latest_complete_scan()?)).await?)
}

/// The secure score as cached ([`SecureScore`](rampart_catalog::score::SecureScore) JSON).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ScoreView {
    pub percent: f64,
    #[serde(default)]
    pub controls: Vec<ControlScoreView>,
}

/// One security control's score.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ControlScoreView {
    pub name: String,
    pub max: f64,
    pub current: f64,
    pub healthy: u64,
    pub unhealthy: u64,
    pub potential_increase: f64,
}

/// A standard's compliance as cached ([`StandardResult`](rampart_catalog::compliance::StandardResult) JSON).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StandardView {
    pub id: String,
    pub name: String,
    pub controls: Vec<StandardControlView>,
}

/// One control of a standard.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StandardControlView {
    pub id: String,
    pub title: String,
    pub state: String,
    #[serde(default)]
    pub recommendations: Vec<String>,
    #[serde(default)]
    pub healthy: u64,
    #[serde(default)]
    pub unhealthy: u64,
    #[serde(default)]
    pub error: u64,
    #[serde(default)]
    pub exempt: u64,
}

/// Assessment counts by recommendation, then status name.
pub(crate) type Counts = BTreeMap<String, BTreeMap<String, u64>>;

/// A count from [`Counts`].
pub(crate) fn count(counts: &Counts, recommendation: &str, status: &str) -> u64 {
    counts
        .get(recommendation)
        .and_then(|c| c.get(status))
        .copied()
        .unwrap_or(0)
}

/// A scan's posture value of `kind` over the assessments in `scope`
/// ([`Posture::scoped`](crate::posture::Posture::scoped)), decoded.
pub(crate) async fn scoped<T>(
    state: &AppState,
    scan_id: &str,
    kind: &'static str,
    scope: &Scope,
) -> Result<T, PageError>
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    let posture = state.posture.clone();
    let id = scan_id.to_owned();
    let part = scope.clone();
    let value = state
        .store
        .run(move |s| posture.scoped(s, &id, kind, &part))
        .await?;
    T::deserialize(&*value)
        .map_err(|e| PageError(ApiError::internal(format!("posture cache `{kind}`: {e}"))))
}

/// The scope of a page's `?account=&connector=&region=` (a 404 page for
/// an unknown connector).
pub(crate) async fn resolve_scope(state: &AppState, q: &ScopeQuery) -> Result<Scope, PageError> {
    let q = q.clone();
    Ok(state.store.run(move |s| q.resolve(s)).await?)
}

/// The account, connector and region filter of the overview and the
/// compliance pages, submitting to `action`; with a filter set, a line
/// saying what the page covers.
pub(crate) fn scope_filter(action: &str, q: &ScopeQuery) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let given = q.pairs();
    html! {
        form.filters #scope method="get" action=(action) {
            label { "Account"
                input name="account" type="text" size="14" value=(value(&q.account));
            }
            label { "Connector"
                input name="connector" type="text" size="14" value=(value(&q.connector));
            }
            label { "Region"
                input name="region" type="text" size="12" value=(value(&q.region));
            }
            button type="submit" { "Filter" }
            a.button.secondary href=(action) { "Clear" }
        }
        @if !given.is_empty() {
            p.muted.small #scope-note {
                "Only "
                @for (i, (name, v)) in given.iter().enumerate() {
                    @if i > 0 { ", " }
                    (name) " " code { (v) }
                }
                ": computed from the matching assessments."
            }
        }
    }
}

/// A "next page" link, if there is one.
pub(crate) fn pager(next: Option<&str>, first: Option<&str>) -> Markup {
    html! {
        @if next.is_some() || first.is_some() {
            nav.pager aria-label="Pages" {
                @if let Some(first) = first { a href=(first) { "« First page" } }
                @if let Some(next) = next { a rel="next" href=(next) { "Next page »" } }
            }
        }
    }
}

/// `StatusCode` of a 303 redirect to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_values_and_drop_empty_ones() {
        assert_eq!(link("/inventory", &[]), "/inventory");
        assert_eq!(
            link(
                "/inventory",
                &[
                    ("type", "AWS::S3::Bucket"),
                    ("region", ""),
                    ("tag", "a=<b>&c")
                ]
            ),
            "/inventory?type=AWS%3A%3AS3%3A%3ABucket&tag=a%3D%3Cb%3E%26c"
        );
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn badges_keep_class_names_plain() {
        let html = badge("x\" onmouseover=\"y").into_string();
        assert!(
            html.starts_with("<span class=\"badge st-xonmouseovery\">"),
            "{html}"
        );
        assert!(!html.contains("\" onmouseover"));
    }
}
