//! Connector health checks run by the server, on demand.
//!
//! A check reaches AWS and the issuer's public URL, so it never runs on a
//! page view: `POST /connectors/{name}/health` (the dashboard's *Check
//! health* button, or the API) runs the injected [`HealthFn`] with a
//! timeout and keeps the latest result per connector in the store, so every
//! replica sharing it shows it; pages and
//! `GET /api/v1/connectors/{name}/health` show it. A check that fails or
//! times out is kept as an "unknown" result with the reason, never as
//! healthy.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use rampart_connector::Connector;
use rampart_connector::Plan;
use rampart_health::{Check, ConnectorHealth, State};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::pool::StorePool;

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

/// The server's health checks; their latest results are in the store, by
/// connector id.
#[derive(Clone)]
pub struct HealthChecks {
    check: Option<HealthFn>,
    timeout: Duration,
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

    /// The latest result for the connector in `store`, if it was checked
    /// (by any server sharing the store).
    pub async fn latest(
        &self,
        store: &StorePool,
        connector: &Connector,
    ) -> Result<Option<ConnectorHealth>, ApiError> {
        let id = connector.id.to_string();
        let stored = store.run(move |s| Ok(s.connector_health(&id)?)).await?;
        Ok(
            stored.and_then(|body| match serde_json::from_value::<StoredHealth>(body) {
                Ok(health) => Some(health.into()),
                Err(err) => {
                    tracing::warn!(error = %err, "a stored health result is unreadable");
                    None
                }
            }),
        )
    }

    /// Checks the connector now and keeps the result. A check that fails
    /// or outlives the timeout is kept as one "unknown" requirement with
    /// the reason. 503 when the server has no health function.
    pub async fn run(
        &self,
        store: &StorePool,
        connector: Connector,
    ) -> Result<ConnectorHealth, ApiError> {
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
        let body = serde_json::to_value(&health)
            .map_err(|e| ApiError::internal(format!("health result: {e}")))?;
        let checked_at = health.checked_at;
        store
            .run(move |s| Ok(s.set_connector_health(&id, &body, checked_at)?))
            .await?;
        Ok(health)
    }
}

/// A stored [`ConnectorHealth`], read back (requirement names become the
/// [`rampart_health::requirement`] constants again; a name this build does
/// not know, from a newer one, is dropped).
#[derive(Debug, Deserialize)]
struct StoredHealth {
    connector: String,
    account: String,
    #[serde(with = "time::serde::rfc3339")]
    checked_at: OffsetDateTime,
    checks: Vec<StoredCheck>,
}

#[derive(Debug, Deserialize)]
struct StoredCheck {
    plan: Option<Plan>,
    requirement: String,
    state: String,
    #[serde(default)]
    fix: String,
    #[serde(default)]
    why: String,
    detail: String,
}

impl From<StoredHealth> for ConnectorHealth {
    fn from(stored: StoredHealth) -> Self {
        let checks = stored
            .checks
            .into_iter()
            .filter_map(|c| {
                let requirement = rampart_health::requirement::ALL
                    .iter()
                    .copied()
                    .chain([CHECK_RAN])
                    .find(|r| *r == c.requirement)?;
                let state = match c.state.as_str() {
                    "met" => State::Met,
                    "not_met" => State::not_met(c.fix),
                    _ => State::unknown(c.why),
                };
                Some(Check::new(c.plan, requirement, state, c.detail))
            })
            .collect();
        ConnectorHealth {
            connector: stored.connector,
            account: stored.account,
            checked_at: stored.checked_at,
            checks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_result_reads_back_as_it_was() {
        let health = ConnectorHealth {
            connector: "prod".into(),
            account: "111111111111".into(),
            checked_at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            checks: vec![
                Check::new(
                    None,
                    rampart_health::requirement::ISSUER_REACHABLE,
                    State::Met,
                    "ok",
                ),
                Check::new(
                    Some(Plan::Cspm),
                    rampart_health::requirement::ROLE_ASSUMABLE,
                    State::not_met("deploy the role"),
                    "denied",
                ),
                Check::new(None, CHECK_RAN, State::unknown("timed out"), ""),
            ],
        };
        let body = serde_json::to_value(&health).unwrap();
        let back: StoredHealth = serde_json::from_value(body).unwrap();
        assert_eq!(ConnectorHealth::from(back), health);
    }
}
