//! Connector health checks run by the server, on demand.
//!
//! A check reaches AWS and the issuer's public URL, so it never runs on a
//! page view: `POST /connectors/{name}/health` (the dashboard's *Check
//! health* button, or the API) runs the injected [`HealthFn`] with a
//! timeout and keeps the latest result per connector in memory; pages and
//! `GET /api/v1/connectors/{name}/health` show it. A check that fails or
//! times out is kept as an "unknown" result with the reason, never as
//! healthy.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use rampart_connector::Connector;
use rampart_health::{Check, ConnectorHealth, State};
use time::OffsetDateTime;

use crate::error::ApiError;

/// How long a check may take before it is recorded as unknown.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(20);

/// The requirement name of a check that could not run at all.
pub const CHECK_RAN: &str = "health check ran";

/// A boxed health check: the connector's health, or why it could not be
/// checked.
pub type HealthFuture = Pin<Box<dyn Future<Output = Result<ConnectorHealth, String>> + Send>>;

/// The function that checks one connector's health (set by `rampart
/// serve`: `rampart_health::connector_health` with the server's AWS
/// settings and issuer).
pub type HealthFn = Arc<dyn Fn(Connector) -> HealthFuture + Send + Sync>;

/// The server's health checks and their latest results, by connector id.
#[derive(Clone)]
pub struct HealthChecks {
    check: Option<HealthFn>,
    timeout: Duration,
    latest: Arc<Mutex<HashMap<String, ConnectorHealth>>>,
}

impl std::fmt::Debug for HealthChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthChecks")
            .field("enabled", &self.check.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for HealthChecks {
    fn default() -> Self {
        Self::new(None)
    }
}

impl HealthChecks {
    /// Checks run by `check` (none: running one answers 503).
    pub fn new(check: Option<HealthFn>) -> Self {
        Self {
            check,
            timeout: HEALTH_TIMEOUT,
            latest: Arc::default(),
        }
    }

    /// The same registry with another timeout per check.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether checks can run.
    pub fn enabled(&self) -> bool {
        self.check.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ConnectorHealth>> {
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The latest result for the connector, if it was checked.
    pub fn latest(&self, connector: &Connector) -> Option<ConnectorHealth> {
        self.lock().get(&connector.id.to_string()).cloned()
    }

    /// Checks the connector now and keeps the result. A check that fails
    /// or outlives the timeout is kept as one "unknown" requirement with
    /// the reason. 503 when the server has no health function.
    pub async fn run(&self, connector: Connector) -> Result<ConnectorHealth, ApiError> {
        let Some(check) = self.check.clone() else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "health_disabled",
                "this server was started without connector health checks",
            ));
        };
        let id = connector.id.to_string();
        let unknown = |why: String| ConnectorHealth {
            connector: connector.name.clone(),
            account: connector.account().to_owned(),
            checked_at: OffsetDateTime::now_utc(),
            checks: vec![Check::new(None, CHECK_RAN, State::unknown(why), "")],
        };
        let health = match tokio::time::timeout(self.timeout, check(connector.clone())).await {
            Ok(Ok(health)) => health,
            Ok(Err(why)) => unknown(format!("the health check failed: {why}")),
            Err(_) => unknown(format!(
                "the health check did not finish within {:?}",
                self.timeout
            )),
        };
        self.lock().insert(id, health.clone());
        Ok(health)
    }
}
