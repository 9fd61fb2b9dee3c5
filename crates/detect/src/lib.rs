//! Rampart's threat detection, pure: events in, alerts out (no I/O, no
//! clock, no AWS).
//!
//! * [`cloudtrail`] — the AWS service noise filter, known instance
//!   addresses ([`InstanceAddresses`], for instance credentials used
//!   elsewhere) and the named checks CloudTrail rules use.
//! * [`event`] — normalized [`Event`]s from their sources: Kubernetes audit
//!   events ([`Event::from_k8s_audit_json`], the form a CloudWatch Logs
//!   message of an EKS cluster's audit stream has), CloudTrail records;
//!   SQL Server error-log lines, audit records and the host's process
//!   creation events ([`Event::from_sqlserver_message`]); host logs have a
//!   place in [`AlertSource`].
//! * [`sqlserver`] — SQL Server messages (ERRORLOG, SQL Server Audit,
//!   Windows process creation) normalized into one body; a batch parser
//!   that counts what does not parse ([`sqlserver::parse_log_events`]).
//! * [`path`] — field paths into an event, entering arrays (any-member
//!   matching).
//! * [`sigma`] — the Sigma evaluator for the subset the rules use.
//! * [`rules`] — rules as data (`rules/**/*.yml`, Sigma plus a `rampart:`
//!   block with the alert type's metadata), the built-in [`Ruleset`].
//! * [`engine`] — the [`Engine`]: batches of events in, new and updated
//!   [`Alert`]s out, grouped per type, entities and window, idempotent by
//!   event id, with serializable state (thresholds, first-seen baselines).
//!
//! ```
//! use std::sync::Arc;
//! use rampart_detect::{Engine, EngineConfig, EngineState, EventContext, Ruleset, parse_audit_message};
//!
//! let rules = Arc::new(Ruleset::builtin()?);
//! let cluster = Arc::new(EventContext::eks_cluster("111122223333", "us-east-1", "prod"));
//! let saved: EngineState = serde_json::from_str("{}")?; // what the caller persisted
//! let mut engine = Engine::with_state(rules, EngineConfig::default(), saved);
//! let messages = [r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"4d2c…","stage":"ResponseComplete",
//!   "verb":"create","user":{"username":"mallory"},"sourceIPs":["203.0.113.7"],
//!   "objectRef":{"resource":"pods","subresource":"exec","namespace":"prod","name":"api-0"},
//!   "responseStatus":{"code":101},"requestReceivedTimestamp":"2026-03-10T10:00:00.000000Z"}"#];
//! let events = messages.iter().filter_map(|m| parse_audit_message(m, &cluster).ok());
//! let outcome = engine.process(events); // raised or changed alerts, whole: store by id
//! assert_eq!(outcome.alerts[0].alert_type, "K8S.ExecIntoContainer");
//! let state = serde_json::to_string(engine.state())?; // persist after storing the alerts
//! # assert!(state.contains("4d2c"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`AlertSource`]: rampart_model::AlertSource
//! [`Alert`]: rampart_model::Alert

pub mod cloudtrail;
pub mod engine;
pub mod event;
pub mod path;
pub mod rules;
pub mod sigma;
pub mod sqlserver;

pub use cloudtrail::{InstanceAddresses, InstanceCall};
pub use engine::{BatchOutcome, BatchStats, Engine, EngineConfig, EngineState, Suppression};
pub use event::{EntityKey, Event, EventContext};
pub use path::FieldPath;
pub use rules::{Rule, Ruleset};
pub use sqlserver::{LogEvent, ParseStats, ParsedBatch, parse_log_events};

use std::sync::Arc;

/// Parses one CloudWatch Logs message of an EKS cluster's
/// `kube-apiserver-audit-*` stream (a JSON `audit.k8s.io/v1` event) into an
/// [`Event`] of the cluster `context` describes.
pub fn parse_audit_message(
    message: &str,
    context: &Arc<EventContext>,
) -> Result<Event, DetectError> {
    Event::from_k8s_audit_json(message, Arc::clone(context))
}

/// Detection errors.
///
/// Messages: lower case, values in backticks, no trailing period.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// An event does not parse or lacks what every event has.
    #[error("{source_name} event: {reason}")]
    Event {
        /// The source (`eks-audit`, `cloudtrail`).
        source_name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A rule file is invalid.
    #[error("rule `{rule}`: {reason}")]
    Rule {
        /// The rule's id (or file).
        rule: String,
        /// What is wrong.
        reason: String,
    },
    /// A field path does not parse.
    #[error("field path `{path}`: {reason}")]
    Path {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
}
