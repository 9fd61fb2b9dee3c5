//! Detection polling shared by every log source (design.md section 9):
//! `rampart detect` ([`detect_once`]) and `rampart serve`
//! ([`run_detection`]) drain a connector's Containers audit-log pipelines
//! ([`crate::containers`]), its CloudTrail logs ([`crate::cloudtrail`])
//! and its SQL Server log pipelines ([`crate::sql_logs`]).
//!
//! Every source stores through one [`DetectionSink`]: events already
//! processed (by their own id) are skipped, the rest run through the
//! detection engine, and their alerts, evidence, processed ids and the
//! engine's state are stored in one transaction before the source
//! acknowledges them (deletes the SQS message, moves the listing cursor):
//! at least once, idempotent.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use rampart_aws::pipeline::consumer::{Consumer, EventSink, ObjectDecoder, lag};
use rampart_connector::Connector;
use rampart_detect::{
    Engine as Detector, EngineConfig, EngineState, Event, InstanceAddresses, Ruleset,
};
use rampart_model::AlertSource;
use rampart_store::{AlertUpsert, ProcessedEvent, Store};
use serde::Serialize;

use crate::EngineError;
use crate::cloudtrail::{self, CloudTrailDetection};
use crate::containers::{self, ClusterDetection, RegionError};
use crate::sql_logs;

/// How [`detect_once`] polls.
#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// Long-poll wait per receive, seconds (0–20).
    pub wait_time_secs: i32,
    /// Most polls per queue in one drain.
    pub max_polls: usize,
    /// Visibility timeout asked on receive, seconds: how long a message
    /// this run received but did not delete (it failed, or the run died)
    /// stays hidden; `None` keeps the queue's (five minutes).
    pub visibility_timeout_secs: Option<i32>,
    /// CloudTrail listing: most objects read per location in one drain.
    pub max_objects: usize,
    /// CloudTrail listing: where a location without a cursor starts, in
    /// days before today (UTC).
    pub lookback_days: u16,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            wait_time_secs: 2,
            max_polls: 1000,
            visibility_timeout_secs: None,
            max_objects: 10_000,
            lookback_days: 1,
        }
    }
}

/// What one drain of a connector's log sources did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DetectReport {
    /// The connector's name.
    pub connector: String,
    /// Each cluster's audit-log pipeline (Containers plan).
    pub clusters: Vec<ClusterDetection>,
    /// Regions whose clusters could not be listed.
    pub region_errors: Vec<RegionError>,
    /// The account's CloudTrail logs (Servers plan), when read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudtrail: Option<CloudTrailDetection>,
    /// Each SQL Server log group's pipeline (SQL plan).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sql_log_groups: Vec<ClusterDetection>,
    /// Regions whose SQL Server log groups could not be listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sql_region_errors: Vec<RegionError>,
}

impl DetectReport {
    /// Whether nothing failed.
    pub fn succeeded(&self) -> bool {
        self.region_errors.is_empty()
            && self.sql_region_errors.is_empty()
            && self
                .clusters
                .iter()
                .chain(&self.sql_log_groups)
                .all(|c| c.errors.is_empty())
            && self
                .cloudtrail
                .as_ref()
                .is_none_or(CloudTrailDetection::succeeded)
    }

    /// SQS messages and listed objects received in this drain.
    pub fn received(&self) -> usize {
        self.clusters
            .iter()
            .chain(&self.sql_log_groups)
            .map(|c| c.messages)
            .sum::<usize>()
            + self
                .cloudtrail
                .as_ref()
                .map_or(0, CloudTrailDetection::received)
    }
}

/// Counts of what a sink stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SinkCounts {
    pub(crate) events_new: u64,
    pub(crate) unparsable: u64,
    pub(crate) alerts_new: usize,
    pub(crate) alerts_updated: usize,
}

impl SinkCounts {
    /// What was stored since `before`.
    pub(crate) fn since(self, before: SinkCounts) -> SinkCounts {
        SinkCounts {
            events_new: self.events_new - before.events_new,
            unparsable: self.unparsable - before.unparsable,
            alerts_new: self.alerts_new - before.alerts_new,
            alerts_updated: self.alerts_updated - before.alerts_updated,
        }
    }
}

struct SinkState {
    store: Store,
    detector: Detector,
    counts: SinkCounts,
}

/// Detect and store, in one transaction per batch, for one source and
/// state scope (a cluster, an account's CloudTrail).
pub(crate) struct DetectionSink {
    rules: Arc<Ruleset>,
    config: EngineConfig,
    source: AlertSource,
    state_source: &'static str,
    scope: String,
    instances: InstanceAddresses,
    state: Mutex<SinkState>,
}

impl DetectionSink {
    /// The same sink, its engine knowing these EC2 instance addresses
    /// (for the instance-credential rules).
    pub(crate) fn with_instances(mut self, instances: InstanceAddresses) -> Self {
        self.state
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .detector
            .set_instance_addresses(instances.clone());
        self.instances = instances;
        self
    }

    /// A sink whose engine starts from the state stored for
    /// `(state_source, scope)`.
    pub(crate) fn open(
        db: &Path,
        rules: Arc<Ruleset>,
        source: AlertSource,
        state_source: &'static str,
        scope: String,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let store = Store::open(db)?;
        let saved = store
            .detection_state(state_source, &scope)?
            .and_then(|bytes| serde_json::from_slice::<EngineState>(&bytes).ok())
            .unwrap_or_default();
        Ok(Self {
            rules: Arc::clone(&rules),
            config: config.clone(),
            source,
            state_source,
            scope,
            instances: InstanceAddresses::default(),
            state: Mutex::new(SinkState {
                store,
                detector: Detector::with_state(rules, config, saved),
                counts: SinkCounts::default(),
            }),
        })
    }

    /// What was stored so far.
    pub(crate) fn counts(&self) -> SinkCounts {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counts
    }

    /// Runs `f` on the sink's store (cursors, failures).
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        f(&self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .store)
    }

    /// Detects on the events not processed before and stores their alerts,
    /// the events' ids and the engine's state in one transaction;
    /// `unparsable` lines are only counted. `Err` with a one-line reason
    /// when nothing was stored (the engine then forgets the batch too).
    pub(crate) fn commit(&self, events: Vec<Event>, unparsable: u64) -> Result<(), String> {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let seen = state
            .store
            .processed_events(self.source, &ids)
            .map_err(|e| e.to_string())?;
        let processed: Vec<ProcessedEvent<'_>> = ids
            .iter()
            .map(|id| ProcessedEvent {
                source: self.source,
                event_id: id,
            })
            .collect();
        let fresh: Vec<_> = events
            .iter()
            .filter(|e| !seen.contains(&e.id))
            .cloned()
            .collect();
        let new_events = fresh.len() as u64;
        let before = state.detector.state().clone();
        let outcome = state.detector.process(fresh);
        let saved = serde_json::to_vec(state.detector.state()).map_err(|e| e.to_string())?;
        let stored = state.store.commit_detections_with_state(
            &processed,
            &outcome.alerts,
            Some((self.state_source, &self.scope, &saved)),
        );
        match stored {
            Ok(upserts) => {
                state.counts.events_new += new_events;
                state.counts.unparsable += unparsable;
                state.counts.alerts_new +=
                    upserts.iter().filter(|u| **u == AlertUpsert::New).count();
                state.counts.alerts_updated += upserts
                    .iter()
                    .filter(|u| **u == AlertUpsert::Updated)
                    .count();
                Ok(())
            }
            Err(e) => {
                // Nothing was stored: the engine forgets the batch too, so
                // the next delivery is detected afresh.
                state.detector =
                    Detector::with_state(Arc::clone(&self.rules), self.config.clone(), before);
                state
                    .detector
                    .set_instance_addresses(self.instances.clone());
                Err(format!("storing detections failed: {e}"))
            }
        }
    }
}

/// An instant as RFC 3339, from milliseconds since the Unix epoch.
pub(crate) fn rfc3339_ms(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// What draining one queue did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drained {
    pub(crate) messages: usize,
    pub(crate) objects: usize,
    pub(crate) events_processed: u64,
    pub(crate) last_event: Option<String>,
    pub(crate) lag_secs: Option<f64>,
    pub(crate) dead_letter_depth: Option<u64>,
    pub(crate) errors: Vec<String>,
}

/// Polls `consumer` into `sink` until a poll receives nothing (at most
/// `max_polls`), then reads the dead-letter queue's depth.
pub(crate) async fn drain<D, S>(consumer: &mut Consumer<D>, sink: &S, max_polls: usize) -> Drained
where
    D: ObjectDecoder,
    S: EventSink<D::Record>,
{
    let mut drained = Drained::default();
    for _ in 0..max_polls.max(1) {
        let report = consumer.poll(sink).await;
        drained.messages += report.received;
        drained.objects += report.objects;
        for error in &report.errors {
            let object = match (&error.bucket, &error.key) {
                (Some(b), Some(k)) => format!("object `s3://{b}/{k}`: "),
                _ => format!("message `{}`: ", error.message_id),
            };
            drained.errors.push(format!("{object}{}", error.error));
        }
        if let Some(error) = report.receive_error {
            drained.errors.push(error.to_string());
            break;
        }
        if report.received == 0 {
            break;
        }
    }
    let totals = consumer.stats();
    drained.events_processed = totals.events_processed;
    drained.last_event = totals.last_event_ms.and_then(rfc3339_ms);
    drained.lag_secs = totals
        .last_event_ms
        .map(|ms| lag(SystemTime::now(), ms).as_secs_f64());
    match consumer.dead_letter_depth().await {
        Ok(depth) => drained.dead_letter_depth = depth,
        Err(e) => drained.errors.push(e.to_string()),
    }
    drained
}

/// Drains every log source of `connector` once: the Containers plan's
/// audit-log pipelines, the CloudTrail logs when the Servers plan is on
/// with CloudTrail threat detection, and the SQL Server log pipelines when
/// the SQL plan has threat detection. Fails when the connector has none of
/// them, or a plan's role cannot be reached.
pub async fn detect_connector(
    engine: &crate::Engine,
    connector: &Connector,
    regions: &[String],
    options: DetectOptions,
) -> Result<DetectReport, EngineError> {
    let has_containers = containers::containers_offering(connector).is_some();
    let has_cloudtrail = cloudtrail::cloudtrail_settings(connector).is_some();
    let has_sql = sql_logs::threat_detection(connector).is_some();
    if !has_containers && !has_cloudtrail && !has_sql {
        return Err(EngineError::NoDetection(connector.name.clone()));
    }
    let mut report = if has_containers {
        containers::detect_connector(
            connector,
            &engine.aws,
            &engine.keys_dir,
            &engine.db,
            regions,
            options,
        )
        .await?
    } else {
        DetectReport {
            connector: connector.name.clone(),
            ..DetectReport::default()
        }
    };
    if has_cloudtrail {
        report.cloudtrail = Some(
            cloudtrail::detect_connector(
                connector,
                &engine.aws,
                &engine.keys_dir,
                &engine.db,
                regions,
                options,
            )
            .await?,
        );
    }
    if has_sql {
        let sql = sql_logs::detect_connector(
            connector,
            &engine.aws,
            &engine.keys_dir,
            &engine.db,
            regions,
            options,
        )
        .await?;
        report.sql_log_groups = sql.log_groups;
        report.sql_region_errors = sql.region_errors;
    }
    Ok(report)
}

/// `rampart detect --once`: [`detect_connector`] for the stored connector
/// `name` in `regions` (else the connector's, else the home region).
pub async fn detect_once(
    engine: &crate::Engine,
    name: &str,
    regions: Option<&[String]>,
    options: DetectOptions,
) -> Result<DetectReport, EngineError> {
    let (connector, regions) = crate::provisioning::stored_target(engine, name, regions).await?;
    detect_connector(engine, &connector, &regions, options).await
}

/// The stored native connectors with a log source to drain (the
/// Containers plan, the Servers plan with CloudTrail threat detection on,
/// or the SQL plan with threat detection): what `rampart serve` polls.
pub fn detection_connectors(db: &Path) -> Result<Vec<Connector>, EngineError> {
    Ok(Store::open(db)?
        .connectors()?
        .into_iter()
        .filter(|c| {
            !c.is_classic()
                && (containers::containers_offering(c).is_some()
                    || cloudtrail::cloudtrail_settings(c).is_some()
                    || sql_logs::threat_detection(c).is_some())
        })
        .collect())
}

/// How [`run_detection`] polls.
#[derive(Debug, Clone, Copy)]
pub struct DetectionLoop {
    /// Each drain's options.
    pub options: DetectOptions,
    /// Pause after a round that received nothing.
    pub idle: std::time::Duration,
}

impl Default for DetectionLoop {
    fn default() -> Self {
        Self {
            options: DetectOptions {
                wait_time_secs: 20,
                max_polls: 100,
                ..DetectOptions::default()
            },
            idle: std::time::Duration::from_secs(10),
        }
    }
}

/// Drains the log sources of every stored connector that has one, over
/// and over (`rampart serve`), until `stop` completes. Failures are logged
/// and retried on the next round; a drain cut short by `stop` leaves what
/// it did not acknowledge to the next run (at least once).
pub async fn run_detection(
    engine: crate::Engine,
    settings: DetectionLoop,
    stop: impl Future<Output = ()>,
) {
    let rounds = async {
        loop {
            let connectors = detection_connectors(&engine.db).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "detection: cannot list connectors");
                Vec::new()
            });
            let mut received = 0;
            for connector in connectors {
                let regions = match crate::provisioning::connector_regions(
                    &connector,
                    None,
                    &engine.aws,
                )
                .await
                {
                    Ok(regions) => regions,
                    Err(e) => {
                        tracing::warn!(connector = %connector.name, error = %e, "detection: no regions");
                        continue;
                    }
                };
                match detect_connector(&engine, &connector, &regions, settings.options).await {
                    Ok(report) => {
                        received += report.received();
                        log_report(&connector.name, &report);
                    }
                    Err(e) => {
                        tracing::warn!(connector = %connector.name, error = %e, "detection failed");
                    }
                }
            }
            if received == 0 {
                tokio::time::sleep(settings.idle).await;
            }
        }
    };
    tokio::select! {
        () = rounds => {}
        () = stop => {}
    }
}

fn log_report(connector: &str, report: &DetectReport) {
    for c in report.clusters.iter().chain(&report.sql_log_groups) {
        tracing::info!(
            connector,
            cluster = %c.cluster,
            region = %c.region,
            events = c.events_processed,
            alerts_new = c.alerts_new,
            errors = c.errors.len(),
            "detection: drained"
        );
        for e in &c.errors {
            tracing::warn!(connector, cluster = %c.cluster, error = %e, "detection");
        }
    }
    if let Some(trail) = &report.cloudtrail {
        for s in &trail.sources {
            tracing::info!(
                connector,
                source = %s.location,
                events = s.events_processed,
                alerts_new = s.alerts_new,
                errors = s.errors.len(),
                "detection: cloudtrail drained"
            );
        }
        for e in trail
            .errors
            .iter()
            .chain(trail.sources.iter().flat_map(|s| &s.errors))
        {
            tracing::warn!(connector, error = %e, "detection: cloudtrail");
        }
    }
}
