//! Rampart's HTTP server: `rampart serve`.
//!
//! [`router`] builds the whole application from an [`AppState`]: the REST API
//! under `/api/v1` ([`api`]), the dashboard pages ([`dashboard`]), the login
//! page ([`auth`]) and `/healthz`. Everything but `/healthz`, the login page
//! and the OIDC issuer documents needs an API token or a session.
//!
//! To add routes: API routes go in [`api::table`] (and the OpenAPI document
//! in [`api::openapi`]); pages go in [`dashboard::routes`]. Both sit behind
//! [`auth::require_auth`], which puts the caller's [`auth::Principal`] in the
//! request extensions.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod engine;
pub mod error;
pub mod first_run;
pub mod health;
pub mod oidc;
pub mod page;
pub mod pool;
pub mod posture;
pub mod queued;
pub mod scans;
pub mod scheduler;
pub mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

use crate::auth::Sessions;
use crate::error::ApiError;
use crate::health::{HealthChecks, HealthFn};
use crate::pool::StorePool;
use crate::posture::Posture;
use crate::scans::{JobStatus, ScanFn, ScanJobs, ScanRequest};
use crate::scheduler::Scheduler;

/// Server errors (startup).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] rampart_store::StoreError),
    /// The built-in catalog is broken.
    #[error("catalog: {0}")]
    Catalog(#[from] rampart_catalog::CatalogError),
    /// Scans left running by a stopped server could not be marked failed.
    #[error("cannot mark interrupted scans failed: {0}")]
    Recovery(String),
    /// Listening or serving failed.
    #[error("cannot serve on `{addr}`: {reason}")]
    Io {
        /// The address.
        addr: String,
        /// The error.
        reason: String,
    },
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The store file.
    pub db: PathBuf,
    /// The secret-key directory (the OIDC issuer's keys live here, or the
    /// key that seals them in the store).
    pub keys_dir: Option<PathBuf>,
    /// How long the issuer's discovery document and JWKS are served before
    /// being re-read (a rotation on another replica shows after at most
    /// this long).
    pub issuer_refresh: Duration,
    /// The URL users reach the server at (behind a reverse proxy); an
    /// `https` URL makes cookies `Secure`.
    pub public_url: Option<String>,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// How long a connection may take to send a request's headers, and how
    /// long an idle connection (before its first request or between
    /// keep-alive requests) stays open; then the server closes it.
    pub header_read_timeout: Duration,
    /// Most connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// An exemptions file applied together with stored exemptions.
    pub exemptions_file: Option<PathBuf>,
    /// Whether [`serve`] scans each connector every `scanInterval` hours
    /// ([`scheduler`]).
    pub scheduled_scans: bool,
    /// Whether scans are queued for `rampart worker` processes instead of
    /// run in this process (scale-out): the [`scheduler`]'s due scans and
    /// the scans triggered through the API or the dashboard ([`queued`]).
    pub queue_scans: bool,
    /// Whether [`serve`] drains the audit-log pipelines of connectors with
    /// the Containers plan into alerts (needs an engine:
    /// [`AppState::with_engine`]).
    pub detection: bool,
    /// Where [`serve`] sends signed notifications of new alerts ([`webhook`]).
    pub alert_webhook: Option<webhook::WebhookConfig>,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For`
    /// names the client a sign-in is counted against. A loopback peer is
    /// one too when [`ServerConfig::public_url`] is set.
    pub trusted_proxies: Vec<IpNet>,
}

pub use ipnet::IpNet;

/// A `--trusted-proxy` value: a network (`10.0.0.0/8`) or one address.
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is neither an IP address nor a network like `10.0.0.0/8`"))
}

impl ServerConfig {
    /// Defaults for a store file.
    pub fn new(db: PathBuf) -> Self {
        Self {
            db,
            keys_dir: None,
            issuer_refresh: Duration::from_secs(60),
            public_url: None,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(15),
            max_connections: 512,
            exemptions_file: None,
            scheduled_scans: true,
            queue_scans: false,
            detection: true,
            alert_webhook: None,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Everything a request handler can reach; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Server settings.
    pub config: Arc<ServerConfig>,
    /// Store connections.
    pub store: StorePool,
    /// Catalog, standards and evaluation.
    pub posture: Arc<Posture>,
    /// Scans run by this server.
    pub scans: ScanJobs,
    /// Login sessions.
    pub sessions: Sessions,
    /// Scheduled scans (started by [`serve`]).
    pub scheduler: Scheduler,
    /// Connector health checks and their latest results.
    pub health: HealthChecks,
    /// The engine that drains detection pipelines, if any.
    pub detection: Option<rampart_engine::Engine>,
}

impl AppState {
    /// The keys directory and the store, where the issuer in use is
    /// looked for (the store first); `None` without a keys directory.
    pub fn issuer_keys(&self) -> Option<rampart_engine::Keys> {
        self.config
            .keys_dir
            .as_ref()
            .map(|dir| rampart_engine::Keys::new(dir, Some(&self.config.db)))
    }

    /// Opens the store and loads the catalog; `scan` runs triggered scans
    /// (`None`: the API answers 503 to a scan trigger).
    pub fn new(config: ServerConfig, scan: Option<ScanFn>) -> Result<Self, ServerError> {
        let store = StorePool::open(&config.db)?;
        let posture = Arc::new(Posture::builtin(config.exemptions_file.clone())?);
        let scans = ScanJobs::new(scan);
        let scheduler = Scheduler::new(store.clone(), scans.clone(), posture.clone())
            .with_queue(config.queue_scans);
        let sessions = Sessions::new(store.clone());
        Ok(Self {
            config: Arc::new(config),
            store,
            posture,
            scans,
            sessions,
            scheduler,
            health: HealthChecks::default(),
            detection: None,
        })
    }

    /// The state of a server whose scans (API triggers and the scheduler)
    /// and connector health checks `engine` runs (with the config's
    /// exemptions file).
    pub fn with_engine(
        config: ServerConfig,
        mut engine: rampart_engine::Engine,
    ) -> Result<Self, ServerError> {
        engine.exemptions_file.clone_from(&config.exemptions_file);
        let health = engine::health_fn(engine.clone());
        let mut state =
            Self::new(config, Some(engine::scan_fn(engine.clone())))?.with_health(health);
        state.detection = Some(engine);
        Ok(state)
    }

    /// The same state with connector health checks run by `check`
    /// (without one, running a check answers 503).
    #[must_use]
    pub fn with_health(mut self, check: HealthFn) -> Self {
        self.health = HealthChecks::new(Some(check));
        self
    }

    /// Starts a scan the API or the dashboard asked for: queued for the
    /// workers with [`ServerConfig::queue_scans`], run in this server
    /// otherwise. A connector named by name or id must exist and enable the
    /// cspm plan; the job names it by its name (as the scheduler does), so
    /// "one scan per connector" holds whichever way it was named.
    pub async fn start_scan(&self, mut request: ScanRequest) -> Result<JobStatus, ApiError> {
        let connector = match request.connector.clone() {
            Some(name) => {
                let connector = api::connectors::find(self, name).await?;
                if connector.role_arn(rampart_connector::Plan::Cspm).is_none() {
                    return Err(ApiError::bad_request(format!(
                        "connector `{}` does not enable the cspm plan, which scans run with",
                        connector.name
                    )));
                }
                request.connector = Some(connector.name.clone());
                Some(connector)
            }
            None => None,
        };
        if !self.config.queue_scans {
            return self
                .scans
                .trigger(request, self.store.clone(), self.posture.clone());
        }
        // Workers scan through connectors, not with the server's own
        // credentials.
        let Some(connector) = connector else {
            return Err(ApiError::bad_request(
                "this server queues scans for workers (`--queue-scans`), which scan through a connector: name one",
            ));
        };
        queued::enqueue(&self.store, request, connector).await
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .nest("/api/v1", api::routes())
        .merge(dashboard::routes())
        .merge(auth::protected_routes())
        .route_layer(from_fn_with_state(state.clone(), auth::require_auth));
    let timeout = state.config.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .merge(auth::routes())
        .merge(first_run::routes())
        .merge(oidc::routes(
            state.issuer_keys(),
            state.config.issuer_refresh,
        ))
        .merge(protected)
        .fallback(not_found)
        .with_state(state)
        .layer(map_response(json_errors))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        // One line per request at info level (`rampart -v serve`).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// Gives bodiless error responses from the framework (405, 408, 413…) the
/// JSON error body.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    let mut json = ApiError::new(status, code, message).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
///
/// First marks the scans a stopped server left `running` failed; runs the
/// [`scheduler`] meanwhile (unless `scheduled_scans` is off); on the way
/// out stops it and interrupts the scans still running.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "?".to_owned(), |a: SocketAddr| a.to_string());
    let scheduler = state.scheduler.clone();
    scheduler
        .recover()
        .await
        .map_err(|e| ServerError::Recovery(e.message))?;
    let stop = tokio_util::sync::CancellationToken::new();
    let schedule = state
        .config
        .scheduled_scans
        .then(|| tokio::spawn(scheduler.clone().run(stop.clone())));
    let detection = state
        .detection
        .clone()
        .filter(|_| state.config.detection)
        .map(|engine| {
            tokio::spawn(rampart_engine::containers::run_detection(
                engine,
                rampart_engine::containers::DetectionLoop::default(),
                stop.clone().cancelled_owned(),
            ))
        });
    let notifier = state
        .config
        .alert_webhook
        .clone()
        .map(|config| tokio::spawn(webhook::run(state.store.clone(), config, stop.clone())));
    let limits = ConnectionLimits::of(&state.config);
    let served = serve_connections(listener, router(state), limits, shutdown)
        .await
        .map_err(|e| ServerError::Io {
            addr,
            reason: e.to_string(),
        });
    stop.cancel();
    if let Some(task) = schedule {
        let _ = task.await;
    }
    if let Some(task) = detection {
        let _ = task.await;
    }
    if let Some(task) = notifier {
        let _ = task.await;
    }
    scheduler.interrupt_running().await;
    served
}

/// What one connection may do.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    header_read_timeout: Duration,
    max_connections: usize,
}

impl ConnectionLimits {
    fn of(config: &ServerConfig) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections.max(1),
        }
    }
}

/// Accepts HTTP/1.1 connections until `shutdown` completes, then waits for
/// the open ones to finish their requests.
///
/// A connection that has not sent a whole request head within
/// `header_read_timeout` (a slow client, or an idle one, before its first
/// request or between keep-alive requests) is closed; at most
/// `max_connections` are served at once. Each request carries the peer's
/// address as [`ConnectInfo`](axum::extract::ConnectInfo).
async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: pause, go on.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(app.clone(), request)
            },
        );
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
