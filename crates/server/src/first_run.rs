//! First run: a server whose store has no API token prints, once, a
//! one-time sign-in link for the first admin, so nobody needs the CLI to
//! get in.
//!
//! The link carries a random secret; only its SHA-256 is kept, in the
//! store, for [`SIGN_IN_LIFETIME`], so the link works on any replica
//! sharing the store (each replica starting on an empty store prints a
//! link of its own; any one of them works). Opening the link shows a
//! button; pressing it (a `POST` carrying the secret) creates an admin
//! token, starts a session and shows the token once. Every pending link
//! then stops working, and a link is refused as soon as any token exists
//! (a token created with the CLI meanwhile, say).

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, html};
use rampart_store::TokenRole;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, SESSION_LIFETIME, create_token, hash_secret, random_bytes};
use crate::dashboard::{CONTENT_SECURITY_POLICY, STYLESHEET_PATH};
use crate::error::ApiError;

/// How long a first-run sign-in link works.
pub const SIGN_IN_LIFETIME: time::Duration = time::Duration::minutes(30);
/// Where the link points.
pub const SETUP_PATH: &str = "/setup";
/// The name of the admin token the link creates.
pub const FIRST_ADMIN: &str = "first-admin";

/// When the store holds no API token: a fresh one-time sign-in link below
/// `base_url` (e.g. `http://127.0.0.1:8080`), kept beside any other
/// pending one. `None` when a token exists.
pub async fn sign_in_link(state: &AppState, base_url: &str) -> Result<Option<String>, ApiError> {
    let secret = base64_secret()?;
    let hash = hash_secret(&secret);
    let expires_at = OffsetDateTime::now_utc() + SIGN_IN_LIFETIME;
    let added = state
        .store
        .run(move |s| {
            if !s.tokens()?.is_empty() {
                return Ok(false);
            }
            s.add_first_run_link(&hash, expires_at)?;
            Ok(true)
        })
        .await?;
    if !added {
        return Ok(None);
    }
    Ok(Some(format!(
        "{}{SETUP_PATH}?token={secret}",
        base_url.trim_end_matches('/')
    )))
}

fn base64_secret() -> Result<String, ApiError> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// The first-run routes (public: the secret is the credential).
pub fn routes() -> Router<AppState> {
    Router::new().route(SETUP_PATH, get(setup_page).post(setup))
}

#[derive(Debug, Deserialize)]
struct SetupQuery {
    #[serde(default)]
    token: String,
}

fn html_page(status: StatusCode, title: &str, body: maud::Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Rampart" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body { main { (body) } }
        }
    };
    let mut response = (status, Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn refused() -> Response {
    html_page(
        StatusCode::FORBIDDEN,
        "Sign-in link",
        html! {
            h1 { "This sign-in link does not work" }
            p.error-box role="alert" { "It was used already, it expired, or an API token exists. Restart " code { "rampart serve" } " on a store without tokens for a new link, or create a token with " code { "rampart token create --role admin" } " and " a href="/login" { "sign in" } "." }
        },
    )
}

async fn setup_page(State(state): State<AppState>, Query(query): Query<SetupQuery>) -> Response {
    let hash = hash_secret(&query.token);
    let pending = state
        .store
        .run(move |s| Ok(s.first_run_link_is_live(&hash, OffsetDateTime::now_utc())?))
        .await;
    match pending {
        Ok(true) => {}
        Ok(false) => return refused(),
        Err(err) => return err.into_response(),
    }
    html_page(
        StatusCode::OK,
        "Welcome",
        html! {
            h1 { "Welcome to Rampart" }
            p { "This one-time link makes you the first administrator: it creates an admin API token, signs you in and shows the token once." }
            form.stack method="post" action=(SETUP_PATH) {
                input type="hidden" name="token" value=(query.token);
                div { button #become-admin type="submit" { "Create the first admin and sign in" } }
            }
        },
    )
}

async fn setup(State(state): State<AppState>, Form(form): Form<SetupQuery>) -> Response {
    match create_first_admin(&state, &form.token).await {
        Ok(Some(response)) => response,
        Ok(None) => refused(),
        Err(err) => err.into_response(),
    }
}

async fn create_first_admin(state: &AppState, secret: &str) -> Result<Option<Response>, ApiError> {
    let hash = hash_secret(secret);
    let created = state
        .store
        .run(move |s| {
            // Used once, whichever replica it is posted to.
            if !s.take_first_run_link(&hash, OffsetDateTime::now_utc())? {
                return Ok(None);
            }
            if !s.tokens()?.is_empty() {
                return Ok(None);
            }
            create_token(s, FIRST_ADMIN, TokenRole::Admin)
                .map(Some)
                .map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    let Some(token) = created else {
        return Ok(None);
    };
    let session = state.sessions.start(token.record.hash.clone()).await?;
    let mut response = html_page(
        StatusCode::OK,
        "Welcome",
        html! {
            h1 { "You are signed in as the first admin" }
            p { "Your admin API token, shown only now (it is stored hashed). Keep it in a password manager: it signs you in again and works as " code { "Authorization: Bearer …" } " on the API." }
            pre #admin-token { code { (token.secret) } }
            p { "Create more tokens, for readers too, under " a href="/settings/tokens" { "API tokens" } "." }
            h2 { "Next" }
            p { a.button #add-account href="/connectors/new" { "Add an AWS account" } " or " a href="/" { "go to the overview" } "." }
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        crate::auth::set_cookie(state, SESSION_COOKIE, &session, SESSION_LIFETIME.as_secs()),
    );
    Ok(Some(response))
}
