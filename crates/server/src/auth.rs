//! Authentication: bearer API tokens and login sessions.
//!
//! * API tokens (`rampart_<base64url>`, 32 random bytes) are shown once and
//!   stored as SHA-256 hashes with a role: `reader` reads, `admin` changes.
//! * `Authorization: Bearer <token>` works on every API route and page.
//! * The login page takes a token and sets a session cookie (`HttpOnly`,
//!   `SameSite=Strict`; `Secure` and named `__Host-…` behind an `https`
//!   public URL). The login form's CSRF value is issued by the server
//!   (kept, hashed, in the store for an hour, so any replica sharing the
//!   store accepts it) and must come back both as the pre-session cookie
//!   and as the form field. Requests that change
//!   something with a session must carry the session's CSRF token: the
//!   `X-CSRF-Token` header or a `csrf_token` form field.
//! * Failed sign-ins are limited per client address ([`LOGIN_FAILURES`]
//!   in [`LOGIN_WINDOW`]; then 429 with `Retry-After`), counted in the
//!   store across replicas.
//! * After login only a same-site path is followed ([`safe_next`]).
//! * Failures are 401 (no or bad credentials; pages redirect to `/login`)
//!   or 403 (a reader changing something, a bad CSRF token), with the JSON
//!   error body.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
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

/// The session cookie's name (served over plain HTTP; behind an `https`
/// public URL it is [`SECURE_SESSION_COOKIE`]).
pub const SESSION_COOKIE: &str = "rampart_session";
/// The session cookie's name behind an `https` public URL: the `__Host-`
/// prefix makes browsers refuse it unless it is `Secure`, host-only and
/// for `Path=/`.
pub const SECURE_SESSION_COOKIE: &str = "__Host-rampart_session";
/// The login form's pre-session CSRF cookie.
const LOGIN_CSRF_COOKIE: &str = "rampart_login_csrf";
/// [`LOGIN_CSRF_COOKIE`] behind an `https` public URL.
const SECURE_LOGIN_CSRF_COOKIE: &str = "__Host-rampart_login_csrf";
/// How long a login form's CSRF value stays valid.
const LOGIN_CSRF_LIFETIME: Duration = Duration::from_secs(3600);
/// Most login CSRF values kept at once (the soonest to expire go first).
const MAX_LOGIN_CSRF: u64 = 10_000;
/// Failed sign-ins a client may make within [`LOGIN_WINDOW`].
pub const LOGIN_FAILURES: usize = 10;
/// The window [`LOGIN_FAILURES`] are counted in.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);
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
/// restart does not log anyone out. The login form's CSRF values and the
/// failed sign-ins per client are in the store too, so replicas sharing it
/// behave as one server: a form served by one replica signs in on another,
/// and failures count across replicas.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: StorePool,
}

/// A [`Duration`] as a [`time::Duration`].
fn span(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::HOUR)
}

impl Sessions {
    /// Sessions kept in `store`.
    pub fn new(store: StorePool) -> Self {
        Self { store }
    }

    /// Issues a login form's CSRF value.
    async fn issue_login_csrf(&self) -> Result<String, ApiError> {
        let value = random_text()?;
        let hash = hash_secret(&value);
        let now = OffsetDateTime::now_utc();
        let until = now + span(LOGIN_CSRF_LIFETIME);
        self.store
            .run(move |s| Ok(s.issue_login_csrf(&hash, until, now, MAX_LOGIN_CSRF)?))
            .await?;
        Ok(value)
    }

    /// Whether a server sharing the store issued `value` and it has not
    /// expired.
    async fn login_csrf_is_live(&self, value: &str) -> Result<bool, ApiError> {
        let hash = hash_secret(value);
        self.store
            .run(move |s| Ok(s.login_csrf_is_live(&hash, OffsetDateTime::now_utc())?))
            .await
    }

    /// A login CSRF value is used up by a successful sign-in.
    async fn consume_login_csrf(&self, value: &str) -> Result<(), ApiError> {
        let hash = hash_secret(value);
        self.store
            .run(move |s| Ok(s.consume_login_csrf(&hash)?))
            .await
    }

    /// How long `client` must wait before signing in again (`None`: it may
    /// try now).
    async fn login_blocked_for(&self, client: &str) -> Result<Option<Duration>, ApiError> {
        let client = client.to_owned();
        let now = OffsetDateTime::now_utc();
        let since = now - span(LOGIN_WINDOW);
        let (count, oldest) = self
            .store
            .run(move |s| Ok(s.login_failures(&client, since)?))
            .await?;
        if count < LOGIN_FAILURES as u64 {
            return Ok(None);
        }
        let oldest = oldest.unwrap_or_else(|| rampart_store::epoch_ms(now));
        let elapsed =
            u64::try_from(rampart_store::epoch_ms(now).saturating_sub(oldest)).unwrap_or(0);
        Ok(Some(
            LOGIN_WINDOW.saturating_sub(Duration::from_millis(elapsed)),
        ))
    }

    /// Records a failed sign-in by `client`.
    async fn login_failed(&self, client: &str) -> Result<(), ApiError> {
        let client = client.to_owned();
        let now = OffsetDateTime::now_utc();
        let since = now - span(LOGIN_WINDOW);
        self.store
            .run(move |s| Ok(s.record_login_failure(&client, now, since, LOGIN_FAILURES as u64)?))
            .await
    }

    /// A successful sign-in clears the client's failures.
    async fn login_succeeded(&self, client: &str) -> Result<(), ApiError> {
        let client = client.to_owned();
        self.store
            .run(move |s| Ok(s.clear_login_failures(&client)?))
            .await
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
    } else if let Some(session) = match cookie(request.headers(), session_cookie(state)) {
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

/// The session cookie's name for this server: `__Host-` prefixed behind
/// an `https` public URL.
pub fn session_cookie(state: &AppState) -> &'static str {
    if secure_cookies(state) {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

fn login_csrf_cookie(state: &AppState) -> &'static str {
    if secure_cookies(state) {
        SECURE_LOGIN_CSRF_COOKIE
    } else {
        LOGIN_CSRF_COOKIE
    }
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

/// The longest `next` path followed after login.
const MAX_NEXT: usize = 2048;

/// Where to go after login: `next` when it is a path on this site, else
/// `/`.
///
/// A path starts with one `/` (not `//` or `/\`, which browsers take for
/// another host), holds only printable ASCII without spaces or
/// backslashes, and stays a path once percent-decoded (no control
/// characters such as `%09`, `%0d`, `%0a`, no `%5c`, no leading `%2f`);
/// it must also resolve to this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local_path(next: &str) -> bool {
    let path_like = |text: &str| {
        text.starts_with('/')
            && !text.starts_with("//")
            && !text.contains('\\')
            && !text.chars().any(char::is_control)
    };
    if next.len() > MAX_NEXT || !path_like(next) || !next.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    // Decoded (twice, for double encoding), it must still be a path: no
    // control characters, no backslash, no leading `//`.
    let once = percent_decode(next);
    if !(path_like(&once) && path_like(&percent_decode(&once))) {
        return false;
    }
    let Ok(base) = url::Url::parse("http://rampart.invalid/") else {
        return false;
    };
    base.join(next).is_ok_and(|u| {
        u.scheme() == "http" && u.host_str() == Some("rampart.invalid") && u.port().is_none()
    })
}

/// `%XX` decoded (a path's decoding: `+` stays), bytes that are not
/// UTF-8 replaced.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The client a sign-in is counted against: the peer address, or behind
/// trusted reverse proxies (`--trusted-proxy`, or a loopback peer when a
/// public URL is configured) the nearest `X-Forwarded-For` entry that is
/// not a trusted proxy itself. Entries are read from the right, each added
/// by the hop before; an entry that is not an address ends the walk there
/// (left of it, anything could be forged).
fn client_key(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    let trusted = |ip: IpAddr| {
        (state.config.public_url.is_some() && ip.is_loopback())
            || state.config.trusted_proxies.iter().any(|n| n.contains(&ip))
    };
    let mut client = peer.ip();
    if !trusted(client) {
        return client.to_string();
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !trusted(ip) {
            break;
        }
    }
    client.to_string()
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
    let csrf = state.sessions.issue_login_csrf().await?;
    let next = safe_next(query.next.as_deref());
    let mut response = Html(login_html(&csrf, &next, None)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            login_csrf_cookie(&state),
            &csrf,
            LOGIN_CSRF_LIFETIME.as_secs(),
        ),
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
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<LoginForm>,
) -> Result<Response, ApiError> {
    let expected = cookie(&headers, login_csrf_cookie(&state)).unwrap_or_default();
    if expected.is_empty()
        || expected.as_bytes() != form.csrf_token.as_bytes()
        || !state.sessions.login_csrf_is_live(expected).await?
    {
        return Err(ApiError::forbidden(
            "missing or wrong CSRF token; reload the login page",
        ));
    }
    let client = client_key(
        &state,
        &headers,
        peer.map(|axum::Extension(ConnectInfo(addr))| addr),
    );
    if let Some(wait) = state.sessions.login_blocked_for(&client).await? {
        tracing::warn!(%client, "sign-in refused: too many failed attempts");
        let seconds = wait.as_secs().max(1);
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many failed sign-ins; try again in {seconds} s"),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(response);
    }
    let next = safe_next(form.next.as_deref());
    let hash = hash_secret(form.token.trim());
    if principal_for(&state, hash.clone(), None).await?.is_none() {
        state.sessions.login_failed(&client).await?;
        tracing::info!(%client, "sign-in with an unknown or revoked token");
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
    state.sessions.login_succeeded(&client).await?;
    let location = HeaderValue::from_str(&next)
        .map_err(|_| ApiError::bad_request("`next` is not a path on this site"))?;
    let id = state.sessions.start(hash).await?;
    state.sessions.consume_login_csrf(expected).await?;
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            session_cookie(&state),
            &id,
            SESSION_LIFETIME.as_secs(),
        ),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(&state, login_csrf_cookie(&state), "", 0),
    );
    Ok(response)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, session_cookie(&state))
        && let Err(err) = state.sessions.end(id).await
    {
        tracing::warn!(error = %err, "ending a session failed");
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie(&state), "", 0),
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
        for hostile in [
            "/\t/evil.example",
            "/%09/evil.example",
            "/%0d%0aSet-Cookie:x=1",
            "/\r\nLocation: //evil.example",
            "/\\evil.example",
            "/%5cevil.example",
            "/%2f/evil.example",
            "/%252f/evil.example",
            "/%2509/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/ /x",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(
            safe_next(Some("/recommendations?severity=high&status=unhealthy")),
            "/recommendations?severity=high&status=unhealthy"
        );
        assert_eq!(
            safe_next(Some("/inventory/resource?arn=arn%3Aaws%3As3%3A%3A%3Ab")),
            "/inventory/resource?arn=arn%3Aaws%3As3%3A%3A%3Ab"
        );
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
