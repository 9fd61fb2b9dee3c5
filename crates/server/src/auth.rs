//! Authentication: bearer API tokens and login sessions.
//!
//! * API tokens (`rampart_<base64url>`, 32 random bytes) are shown once and
//!   stored as SHA-256 hashes with a role: `reader` reads, `admin` changes.
//! * `Authorization: Bearer <token>` works on every API route and page.
//! * The login page takes a token and sets a session cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Secure` behind an `https` public URL). Requests
//!   that change something with a session must carry the session's CSRF
//!   token: the `X-CSRF-Token` header or a `csrf_token` form field.
//! * Failures are 401 (no or bad credentials; pages redirect to `/login`)
//!   or 403 (a reader changing something, a bad CSRF token), with the JSON
//!   error body.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_store::{Store, StoreError, StoredSession, TokenRecord, TokenRole};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::AppState;
use crate::error::ApiError;
use crate::pool::StorePool;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rampart_session";
/// The login form's pre-session CSRF cookie.
const LOGIN_CSRF_COOKIE: &str = "rampart_login_csrf";
/// The CSRF header for session requests that change something.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The CSRF form field.
pub const CSRF_FIELD: &str = "csrf_token";
/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Largest form body read for its CSRF field.
const MAX_FORM_BYTES: usize = 1 << 20;
/// Paths a reader may `POST` to (with a session, CSRF still applies).
pub const READER_POSTS: &[&str] = &["/logout"];

/// Who is making a request; handlers get it with `Extension<Principal>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's id.
    pub token_id: String,
    /// The token's name (recorded as `created_by`).
    pub name: String,
    /// What it may do.
    pub role: TokenRole,
    /// The session's CSRF token (for forms); `None` with a bearer token.
    pub csrf: Option<String>,
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("randomness: {e}")))?;
    Ok(bytes)
}

fn random_text() -> Result<String, ApiError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// Hex SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A freshly created token: its secret (shown once) and its record.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// `rampart_<base64url>`: show it once, it is not stored.
    pub secret: String,
    /// What is stored.
    pub record: TokenRecord,
}

/// Errors creating a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness.
    #[error("{0}")]
    Random(String),
}

/// Creates and stores a token.
pub fn create_token(store: &Store, name: &str, role: TokenRole) -> Result<NewToken, TokenError> {
    let bytes = random_bytes::<32>().map_err(|e| TokenError::Random(e.message))?;
    let secret = format!("rampart_{}", URL_SAFE_NO_PAD.encode(bytes));
    let record = TokenRecord {
        id: uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .chars()
            .take(12)
            .collect(),
        hash: hash_secret(&secret),
        name: name.to_owned(),
        role,
        created_at: OffsetDateTime::now_utc(),
        last_used: None,
    };
    store.create_token(&record)?;
    Ok(NewToken { secret, record })
}

/// Login sessions, kept in the store (by the hash of their id), so a
/// restart does not log anyone out.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: StorePool,
}

impl Sessions {
    /// Sessions kept in `store`.
    pub fn new(store: StorePool) -> Self {
        Self { store }
    }

    /// Starts a session for a token; returns the cookie value.
    pub(crate) async fn start(&self, token_hash: String) -> Result<String, ApiError> {
        let id = random_text()?;
        let now = OffsetDateTime::now_utc();
        let session = StoredSession {
            token_hash,
            csrf: random_text()?,
            expires_at: now + SESSION_LIFETIME,
        };
        let id_hash = hash_secret(&id);
        self.store
            .run(move |s| Ok(s.start_session(&id_hash, &session, now)?))
            .await?;
        Ok(id)
    }

    /// The live session with this id, if any.
    async fn get(&self, id: &str) -> Result<Option<StoredSession>, ApiError> {
        let id_hash = hash_secret(id);
        self.store
            .run(move |s| Ok(s.session(&id_hash, OffsetDateTime::now_utc())?))
            .await
    }

    async fn end(&self, id: &str) -> Result<(), ApiError> {
        let id_hash = hash_secret(id);
        self.store.run(move |s| Ok(s.end_session(&id_hash)?)).await
    }
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Looks a token hash up; records its use at most once a minute.
async fn principal_for(
    state: &AppState,
    token_hash: String,
    csrf: Option<String>,
) -> Result<Option<Principal>, ApiError> {
    let record = state
        .store
        .run(move |store| {
            let record = store.token_by_hash(&token_hash)?;
            if let Some(r) = &record {
                let now = OffsetDateTime::now_utc();
                if r.last_used
                    .is_none_or(|t| now - t > time::Duration::minutes(1))
                {
                    store.touch_token(&r.id, now)?;
                }
            }
            Ok(record)
        })
        .await?;
    Ok(record.map(|r| Principal {
        token_id: r.id,
        name: r.name,
        role: r.role,
        csrf,
    }))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn unauthenticated(request: &Request) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/") && request.method() == Method::GET {
        let next = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let target = format!(
            "/login?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &next)
                .finish()
        );
        return Redirect::to(&target).into_response();
    }
    let mut response =
        ApiError::unauthorized("an API token (`Authorization: Bearer …`) or a session is required")
            .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Middleware: every protected route needs a token or a session; changes
/// need an admin token (and, with a session, its CSRF token).
pub async fn require_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authenticate(&state, request).await {
        Ok(Ok(request)) => next.run(request).await,
        Ok(Err(response)) => response,
        Err(err) => err.into_response(),
    }
}

async fn authenticate(
    state: &AppState,
    mut request: Request,
) -> Result<Result<Request, Response>, ApiError> {
    let (principal, via_session) = if let Some(token) = bearer(request.headers()) {
        match principal_for(state, hash_secret(token), None).await? {
            Some(p) => (p, false),
            None => return Err(ApiError::unauthorized("unknown or revoked API token")),
        }
    } else if let Some(session) = match cookie(request.headers(), SESSION_COOKIE) {
        Some(id) => state.sessions.get(id).await?,
        None => None,
    } {
        match principal_for(state, session.token_hash, Some(session.csrf)).await? {
            Some(p) => (p, true),
            None => return Ok(Err(unauthenticated(&request))),
        }
    } else {
        return Ok(Err(unauthenticated(&request)));
    };
    if !is_safe(request.method()) {
        let path = request.uri().path();
        if principal.role != TokenRole::Admin && !READER_POSTS.contains(&path) {
            return Err(ApiError::forbidden(format!(
                "token `{}` is a reader; changes need an admin token",
                principal.name
            )));
        }
        if via_session {
            request = check_csrf(request, principal.csrf.as_deref().unwrap_or_default()).await?;
        }
    }
    request.extensions_mut().insert(principal);
    Ok(Ok(request))
}

/// Checks the CSRF header, or the form field of a form body (which is read
/// and put back).
async fn check_csrf(request: Request, expected: &str) -> Result<Request, ApiError> {
    let denied = || ApiError::forbidden("missing or wrong CSRF token");
    if let Some(given) = request.headers().get(CSRF_HEADER) {
        return if !expected.is_empty() && given.as_bytes() == expected.as_bytes() {
            Ok(request)
        } else {
            Err(denied())
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(denied());
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| ApiError::bad_request("form body too large"))?;
    let ok = url::form_urlencoded::parse(&bytes)
        .any(|(k, v)| k == CSRF_FIELD && !expected.is_empty() && v == expected);
    if !ok {
        return Err(denied());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Public authentication routes: the login page and logout.
pub fn routes() -> Router<AppState> {
    Router::new().route("/login", get(login_page).post(login))
}

/// Routes that need a session or token (logout).
pub fn protected_routes() -> Router<AppState> {
    Router::new().route("/logout", post(logout))
}

fn secure_cookies(state: &AppState) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

pub(crate) fn set_cookie(state: &AppState, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = if secure_cookies(state) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Only local paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn login_html(csrf: &str, next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p role=\"alert\" class=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Sign in · Rampart</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\n<body>\n<main>\n<h1>Rampart</h1>\n{error}\
<form method=\"post\" action=\"/login\">\n<label for=\"token\">API token</label>\n\
<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required autofocus>\n\
<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{}\">\n<input type=\"hidden\" name=\"next\" value=\"{}\">\n\
<button type=\"submit\">Sign in</button>\n</form>\n<p>Create a token with <code>rampart token create --role reader</code>.</p>\n</main>\n</body>\n</html>\n",
        escape(csrf),
        escape(next),
    )
}

#[derive(Debug, serde::Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> Result<Response, ApiError> {
    let csrf = random_text()?;
    let next = safe_next(query.next.as_deref());
    let mut response = Html(login_html(&csrf, &next, None)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    token: String,
    csrf_token: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<LoginForm>,
) -> Result<Response, ApiError> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || expected != form.csrf_token {
        return Err(ApiError::forbidden(
            "missing or wrong CSRF token; reload the login page",
        ));
    }
    let next = safe_next(form.next.as_deref());
    let hash = hash_secret(form.token.trim());
    if principal_for(&state, hash.clone(), None).await?.is_none() {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Html(login_html(
                expected,
                &next,
                Some("Unknown or revoked API token."),
            )),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    }
    let id = state.sessions.start(hash).await?;
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &id, SESSION_LIFETIME.as_secs()),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0),
    );
    Ok(response)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let Err(err) = state.sessions.end(id).await
    {
        tracing::warn!(error = %err, "ending a session failed");
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_stored_hashed() {
        let store = Store::open_in_memory().unwrap();
        let a = create_token(&store, "ci", TokenRole::Reader).unwrap();
        let b = create_token(&store, "ci", TokenRole::Admin).unwrap();
        assert!(a.secret.starts_with("rampart_"));
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), "rampart_".len() + 43);
        let stored = store
            .token_by_hash(&hash_secret(&a.secret))
            .unwrap()
            .unwrap();
        assert_eq!(stored.role, TokenRole::Reader);
        assert_ne!(stored.hash, a.secret);
        assert!(!stored.hash.contains(&a.secret));
    }

    #[test]
    fn only_local_next_paths_are_followed() {
        assert_eq!(safe_next(Some("/inventory?x=1")), "/inventory?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; rampart_session=xyz; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
