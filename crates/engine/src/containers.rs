//! The Containers plan's audit-log pipelines (design.md section 9):
//! provisioning them per EKS cluster ([`provision_connector`], the scan's
//! [`ContainersProvisioner`], `rampart containers provision`) and draining
//! them into detection ([`detect_once`], `rampart detect`, `rampart
//! serve`).
//!
//! Provisioning runs as the offering's `kubernetesService` role and passes
//! the `cloudWatchToKinesis` and `kinesisToS3` roles to CloudWatch Logs and
//! Firehose; consuming runs as the `kubernetesDataCollection` role. Each
//! SQS message's audit events are parsed, run through the detection
//! engine, and their alerts, evidence, processed event ids and the
//! engine's state are stored in one transaction before the message is
//! deleted: at least once, idempotent by the events' `auditID`.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use futures::future::BoxFuture;
use rampart_aws::pipeline::PipelineError;
use rampart_aws::pipeline::consumer::{
    Consumer, ConsumerOptions, EventSink, LogRecord, QueueSource, lag,
};
use rampart_aws::pipeline::containers::{
    self, ApplyOptions, ApplyReport, Clients, Plan as PipelinePlan,
};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_connector::{Connector, ContainersOffering, Offering, Plan};
use rampart_detect::{
    Engine as Detector, EngineConfig, EngineState, EventContext, Ruleset, parse_audit_message,
};
use rampart_health::pipeline_input;
use rampart_model::{AlertSource, CoverageGap, GapKind};
use rampart_store::{AlertUpsert, ProcessedEvent, Store};
use serde::Serialize;

use crate::EngineError;
use crate::provisioning::{
    ProvisionTarget, Provisioner, connector_regions, find_connector, role_access,
};

/// The detection state's source name in the store.
pub const STATE_SOURCE: &str = "eks-audit";

pub use crate::provisioning::ProvisionMode;

/// One cluster's provisioning.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterProvisioning {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The EKS cluster.
    pub cluster: String,
    /// The plan (dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PipelinePlan>,
    /// What applying or removing did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ApplyReport>,
    /// Why nothing could be done for the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<PipelineError>,
}

impl ClusterProvisioning {
    /// Whether every step succeeded (or had nothing to do) and every read
    /// worked.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
            && self.report.as_ref().is_none_or(ApplyReport::succeeded)
            && self
                .plan
                .as_ref()
                .is_none_or(|p| p.steps.iter().all(|s| s.error.is_none()))
    }
}

/// A region whose clusters could not be listed.
#[derive(Debug, Clone, Serialize)]
pub struct RegionError {
    /// The region.
    pub region: String,
    /// Why.
    pub error: PipelineError,
}

/// What provisioning did for one connector's account.
#[derive(Debug, Clone, Serialize)]
pub struct ProvisionReport {
    /// The connector's name.
    pub connector: String,
    /// Its account.
    pub account: String,
    /// What was asked.
    pub mode: ProvisionMode,
    /// Each cluster found.
    pub clusters: Vec<ClusterProvisioning>,
    /// Regions whose clusters could not be listed.
    pub region_errors: Vec<RegionError>,
}

impl ProvisionReport {
    /// Whether everything worked.
    pub fn succeeded(&self) -> bool {
        self.region_errors.is_empty() && self.clusters.iter().all(ClusterProvisioning::succeeded)
    }

    /// What failed, as coverage gaps of the account (for scans).
    pub fn gaps(&self) -> Vec<CoverageGap> {
        let gap = |region: &str, error: &PipelineError| {
            let (operation, kind) = match error {
                PipelineError::Call {
                    operation, kind, ..
                } => (operation.clone(), *kind),
                _ => ("ProvisionPipeline".to_owned(), GapKind::Other),
            };
            CoverageGap {
                account: self.account.clone(),
                region: region.to_owned(),
                service: "eks".to_owned(),
                operation,
                kind,
                error: error.to_string(),
                occurrences: 1,
            }
        };
        let mut gaps: Vec<CoverageGap> = self
            .region_errors
            .iter()
            .map(|e| gap(&e.region, &e.error))
            .collect();
        for cluster in &self.clusters {
            if let Some(error) = &cluster.error {
                gaps.push(gap(&cluster.region, error));
            }
            for failed in cluster.report.iter().flat_map(ApplyReport::failures) {
                if let containers::Outcome::Failed { error } = &failed.outcome {
                    let mut g = gap(&cluster.region, error);
                    g.error = format!(
                        "cluster `{}`: {}: {}",
                        cluster.cluster, failed.step.name, g.error
                    );
                    gaps.push(g);
                }
            }
        }
        gaps
    }
}

/// The connector's Containers offering, if it has one.
pub fn containers_offering(connector: &Connector) -> Option<&ContainersOffering> {
    match connector.offering(Plan::Containers) {
        Some(Offering::DefenderForContainersAws(o)) => Some(o),
        _ => None,
    }
}

/// The EKS clusters of one region.
async fn list_clusters(eks: &aws_sdk_eks::Client) -> Result<Vec<String>, PipelineError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = eks
            .list_clusters()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| PipelineError::call("ListClusters", &e))?;
        names.extend(out.clusters.unwrap_or_default());
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(names),
        }
    }
}

/// Provisions (or plans, or removes) the audit-log pipeline of every EKS
/// cluster of `connector`'s account in `regions`, as the offering's
/// `kubernetesService` role. Fails only when the connector has no
/// Containers plan or its role cannot be reached; what fails per region or
/// cluster is in the report.
pub async fn provision_connector(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Path,
    regions: &[String],
    mode: ProvisionMode,
    options: ApplyOptions,
) -> Result<ProvisionReport, EngineError> {
    let offering = containers_offering(connector)
        .ok_or_else(|| EngineError::NoContainers(connector.name.clone()))?;
    let access = role_access(
        connector,
        Plan::Containers,
        &offering.kubernetes_service.cloud_role_arn,
        keys_dir,
        base,
    )
    .await?;
    let mut report = ProvisionReport {
        connector: connector.name.clone(),
        account: connector.account().to_owned(),
        mode,
        clusters: Vec::new(),
        region_errors: Vec::new(),
    };
    for region in regions {
        let clients = Clients::new(&access, region);
        let clusters = match list_clusters(&clients.eks).await {
            Ok(clusters) => clusters,
            Err(error) => {
                report.region_errors.push(RegionError {
                    region: region.clone(),
                    error,
                });
                continue;
            }
        };
        for cluster in clusters {
            let input = pipeline_input(connector, offering, region, &cluster);
            let mut done = ClusterProvisioning {
                account: input.account.clone(),
                region: region.clone(),
                cluster: cluster.clone(),
                plan: None,
                report: None,
                error: None,
            };
            match mode {
                ProvisionMode::DryRun => match containers::plan(&clients, &input).await {
                    Ok(plan) => done.plan = Some(plan),
                    Err(e) => done.error = Some(e),
                },
                ProvisionMode::Apply => match containers::apply(&clients, &input, options).await {
                    Ok(r) => done.report = Some(r),
                    Err(e) => done.error = Some(e),
                },
                ProvisionMode::Remove => match containers::remove(&clients, &input).await {
                    Ok(r) => done.report = Some(r),
                    Err(e) => done.error = Some(e),
                },
            }
            report.clusters.push(done);
        }
    }
    Ok(report)
}

/// `rampart containers provision`: [`provision_connector`] for the stored
/// connector `name` in `regions` (else the connector's, else the home
/// region).
pub async fn provision(
    engine: &crate::Engine,
    name: &str,
    regions: Option<&[String]>,
    mode: ProvisionMode,
) -> Result<ProvisionReport, EngineError> {
    let connector = find_connector(&engine.db, name)?;
    let regions = connector_regions(&connector, regions, &engine.aws).await?;
    provision_connector(
        &connector,
        &engine.aws,
        &engine.keys_dir,
        &regions,
        mode,
        ApplyOptions::default(),
    )
    .await
}

/// The scan's Containers step: provisions every cluster's pipeline when
/// the offering enables audit-log auto-provisioning; failures are gaps.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContainersProvisioner {
    /// How long to wait for delivery streams.
    pub options: Option<ApplyOptions>,
}

impl Provisioner for ContainersProvisioner {
    fn plan(&self) -> Plan {
        Plan::Containers
    }

    fn provision<'a>(&'a self, target: ProvisionTarget<'a>) -> BoxFuture<'a, Vec<CoverageGap>> {
        Box::pin(async move {
            let connector = target.connector;
            let Some(offering) = containers_offering(connector) else {
                return Vec::new();
            };
            if !offering.enable_audit_logs_auto_provisioning || connector.is_classic() {
                return Vec::new();
            }
            let result = provision_connector(
                connector,
                target.aws,
                target.keys_dir,
                target.regions,
                ProvisionMode::Apply,
                self.options.unwrap_or_default(),
            )
            .await;
            match result {
                Ok(report) => {
                    tracing::info!(
                        connector = %connector.name,
                        clusters = report.clusters.len(),
                        succeeded = report.succeeded(),
                        "containers audit-log pipelines provisioned"
                    );
                    report.gaps()
                }
                Err(err) => vec![CoverageGap {
                    account: connector.account().to_owned(),
                    region: target
                        .regions
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "global".to_owned()),
                    service: "sts".to_owned(),
                    operation: "AssumeRoleWithWebIdentity".to_owned(),
                    kind: GapKind::Other,
                    error: format!("containers pipelines not provisioned: {err}"),
                    occurrences: 1,
                }],
            }
        })
    }
}

// ---------------------------------------------------------------- detection

/// How [`detect_once`] polls.
#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// Long-poll wait per receive, seconds (0–20).
    pub wait_time_secs: i32,
    /// Most polls per cluster in one drain.
    pub max_polls: usize,
    /// Visibility timeout asked on receive, seconds: how long a message
    /// this run received but did not delete (it failed, or the run died)
    /// stays hidden; `None` keeps the queue's (five minutes).
    pub visibility_timeout_secs: Option<i32>,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            wait_time_secs: 2,
            max_polls: 1000,
            visibility_timeout_secs: None,
        }
    }
}

/// One cluster's drain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClusterDetection {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The EKS cluster.
    pub cluster: String,
    /// SQS messages received.
    pub messages: usize,
    /// Log events stored (processed).
    pub events_processed: u64,
    /// Audit events new to detection (not processed before).
    pub events_new: u64,
    /// Log lines that are not audit events.
    pub unparsable: u64,
    /// Alerts raised.
    pub alerts_new: usize,
    /// Alerts that gained events.
    pub alerts_updated: usize,
    /// The newest event stored, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<String>,
    /// How old the newest event was when it was stored, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_secs: Option<f64>,
    /// Messages waiting in the dead-letter queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_depth: Option<u64>,
    /// What went wrong (objects, messages, the queue), one line each.
    pub errors: Vec<String>,
}

/// What one drain of a connector's pipelines did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DetectReport {
    /// The connector's name.
    pub connector: String,
    /// Each cluster's pipeline.
    pub clusters: Vec<ClusterDetection>,
    /// Regions whose clusters could not be listed.
    pub region_errors: Vec<RegionError>,
}

impl DetectReport {
    /// Whether nothing failed.
    pub fn succeeded(&self) -> bool {
        self.region_errors.is_empty() && self.clusters.iter().all(|c| c.errors.is_empty())
    }
}

#[derive(Debug, Default)]
struct SinkCounts {
    events_new: u64,
    unparsable: u64,
    alerts_new: usize,
    alerts_updated: usize,
}

struct SinkState {
    store: Store,
    detector: Detector,
    counts: SinkCounts,
}

/// The consumer's sink: parse, detect, store in one transaction.
struct DetectionSink {
    rules: Arc<Ruleset>,
    config: EngineConfig,
    context: Arc<EventContext>,
    scope: String,
    state: Mutex<SinkState>,
}

impl DetectionSink {
    fn open(
        db: &Path,
        rules: Arc<Ruleset>,
        source: &QueueSource,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let store = Store::open(db)?;
        let scope = format!("{}/{}/{}", source.account, source.region, source.cluster);
        let saved = store
            .detection_state(STATE_SOURCE, &scope)?
            .and_then(|bytes| serde_json::from_slice::<EngineState>(&bytes).ok())
            .unwrap_or_default();
        Ok(Self {
            rules: Arc::clone(&rules),
            config: config.clone(),
            context: Arc::new(EventContext::eks_cluster(
                &source.account,
                &source.region,
                &source.cluster,
            )),
            scope,
            state: Mutex::new(SinkState {
                store,
                detector: Detector::with_state(rules, config, saved),
                counts: SinkCounts::default(),
            }),
        })
    }

    fn store_now(&self, records: &[LogRecord]) -> Result<(), String> {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        let mut events = Vec::new();
        let mut unparsable = 0;
        for record in records {
            if !record.log_stream.starts_with("kube-apiserver-audit") {
                continue;
            }
            match parse_audit_message(&record.message, &self.context) {
                Ok(event) => events.push(event),
                Err(e) => {
                    unparsable += 1;
                    tracing::warn!(event = %record.id, error = %e, "not an audit event");
                }
            }
        }
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let seen = state
            .store
            .processed_events(AlertSource::EksAudit, &ids)
            .map_err(|e| e.to_string())?;
        let processed: Vec<ProcessedEvent<'_>> = ids
            .iter()
            .map(|id| ProcessedEvent {
                source: AlertSource::EksAudit,
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
            Some((STATE_SOURCE, &self.scope, &saved)),
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
                // the message's next delivery is detected afresh.
                state.detector =
                    Detector::with_state(Arc::clone(&self.rules), self.config.clone(), before);
                Err(format!("storing detections failed: {e}"))
            }
        }
    }
}

impl EventSink for DetectionSink {
    fn store(&self, records: Vec<LogRecord>) -> impl Future<Output = Result<(), String>> + Send {
        let result = self.store_now(&records);
        async move { result }
    }
}

fn rfc3339_ms(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Drains one cluster's queue into detection.
async fn drain_cluster(
    db: &Path,
    rules: &Arc<Ruleset>,
    access: &AwsAccess,
    source: QueueSource,
    options: DetectOptions,
) -> ClusterDetection {
    let mut stats = ClusterDetection {
        account: source.account.clone(),
        region: source.region.clone(),
        cluster: source.cluster.clone(),
        ..ClusterDetection::default()
    };
    let sink = match DetectionSink::open(db, Arc::clone(rules), &source, EngineConfig::default()) {
        Ok(sink) => sink,
        Err(e) => {
            stats.errors.push(e.to_string());
            return stats;
        }
    };
    let consumer_options = ConsumerOptions {
        wait_time_secs: options.wait_time_secs,
        visibility_timeout_secs: options.visibility_timeout_secs,
        max_messages: 10,
    };
    let mut consumer = Consumer::new(access, source, consumer_options);
    for _ in 0..options.max_polls.max(1) {
        let report = consumer.poll(&sink).await;
        stats.messages += report.received;
        for error in &report.errors {
            let object = match (&error.bucket, &error.key) {
                (Some(b), Some(k)) => format!("object `s3://{b}/{k}`: "),
                _ => format!("message `{}`: ", error.message_id),
            };
            stats.errors.push(format!("{object}{}", error.error));
        }
        if let Some(error) = report.receive_error {
            stats.errors.push(error.to_string());
            break;
        }
        if report.received == 0 {
            break;
        }
    }
    let totals = consumer.stats();
    stats.events_processed = totals.events_processed;
    stats.last_event = totals.last_event_ms.and_then(rfc3339_ms);
    stats.lag_secs = totals
        .last_event_ms
        .map(|ms| lag(SystemTime::now(), ms).as_secs_f64());
    match consumer.dead_letter_depth().await {
        Ok(depth) => stats.dead_letter_depth = depth,
        Err(e) => stats.errors.push(e.to_string()),
    }
    let counts = sink
        .state
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .counts;
    stats.events_new = counts.events_new;
    stats.unparsable = counts.unparsable;
    stats.alerts_new = counts.alerts_new;
    stats.alerts_updated = counts.alerts_updated;
    stats
}

/// Drains every cluster pipeline of `connector` once (until a poll
/// receives nothing) into detection, as the `kubernetesDataCollection`
/// role; per-cluster stats. A cluster without a pipeline is skipped.
/// Fails only when the connector has no Containers plan or the role
/// cannot be reached.
pub async fn detect_connector(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Path,
    db: &Path,
    regions: &[String],
    options: DetectOptions,
) -> Result<DetectReport, EngineError> {
    let offering = containers_offering(connector)
        .ok_or_else(|| EngineError::NoContainers(connector.name.clone()))?;
    let rules = Arc::new(Ruleset::builtin().map_err(|e| EngineError::Rules(e.to_string()))?);
    let service = role_access(
        connector,
        Plan::Containers,
        &offering.kubernetes_service.cloud_role_arn,
        keys_dir,
        base,
    )
    .await?;
    let collection = role_access(
        connector,
        Plan::Containers,
        &offering.kubernetes_data_collection.cloud_role_arn,
        keys_dir,
        base,
    )
    .await?;
    let mut report = DetectReport {
        connector: connector.name.clone(),
        ..DetectReport::default()
    };
    for region in regions {
        let clusters = match list_clusters(&service.eks(region)).await {
            Ok(clusters) => clusters,
            Err(error) => {
                report.region_errors.push(RegionError {
                    region: region.clone(),
                    error,
                });
                continue;
            }
        };
        let sqs = collection.sqs(region);
        for cluster in clusters {
            let input = pipeline_input(connector, offering, region, &cluster);
            let source = match QueueSource::resolve(&sqs, &input.names(), &cluster).await {
                Ok(source) => source,
                Err(PipelineError::Call { code, .. })
                    if code
                        .as_deref()
                        .is_some_and(|c| c.contains("NonExistentQueue")) =>
                {
                    tracing::info!(%cluster, %region, "no audit-log pipeline; skipped");
                    continue;
                }
                Err(e) => {
                    report.clusters.push(ClusterDetection {
                        account: input.account.clone(),
                        region: region.clone(),
                        cluster: cluster.clone(),
                        errors: vec![e.to_string()],
                        ..ClusterDetection::default()
                    });
                    continue;
                }
            };
            report
                .clusters
                .push(drain_cluster(db, &rules, &collection, source, options).await);
        }
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
    let connector = find_connector(&engine.db, name)?;
    let regions = connector_regions(&connector, regions, &engine.aws).await?;
    detect_connector(
        &connector,
        &engine.aws,
        &engine.keys_dir,
        &engine.db,
        &regions,
        options,
    )
    .await
}

/// The stored connectors whose Containers plan is on (native ones): what
/// `rampart serve` polls.
pub fn containers_connectors(db: &Path) -> Result<Vec<Connector>, EngineError> {
    Ok(Store::open(db)?
        .connectors()?
        .into_iter()
        .filter(|c| !c.is_classic() && containers_offering(c).is_some())
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
                visibility_timeout_secs: None,
            },
            idle: std::time::Duration::from_secs(10),
        }
    }
}

/// Drains the pipelines of every stored connector with the Containers plan
/// over and over (`rampart serve`) until `stop` completes. Failures are
/// logged and retried on the next round; a drain cut short by `stop`
/// leaves its undeleted messages to the next run (at least once).
pub async fn run_detection(
    engine: crate::Engine,
    settings: DetectionLoop,
    stop: impl Future<Output = ()>,
) {
    let rounds = async {
        loop {
            let connectors = containers_connectors(&engine.db).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "detection: cannot list connectors");
                Vec::new()
            });
            let mut received = 0;
            for connector in connectors {
                let regions = match connector_regions(&connector, None, &engine.aws).await {
                    Ok(regions) => regions,
                    Err(e) => {
                        tracing::warn!(connector = %connector.name, error = %e, "detection: no regions");
                        continue;
                    }
                };
                match detect_connector(
                    &connector,
                    &engine.aws,
                    &engine.keys_dir,
                    &engine.db,
                    &regions,
                    settings.options,
                )
                .await
                {
                    Ok(report) => {
                        for c in &report.clusters {
                            received += c.messages;
                            tracing::info!(
                                connector = %connector.name,
                                cluster = %c.cluster,
                                region = %c.region,
                                events = c.events_processed,
                                alerts_new = c.alerts_new,
                                errors = c.errors.len(),
                                "detection: drained"
                            );
                            for e in &c.errors {
                                tracing::warn!(connector = %connector.name, cluster = %c.cluster, error = %e, "detection");
                            }
                        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;

    fn source() -> QueueSource {
        QueueSource {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            cluster: "prod".into(),
            bucket: "b".into(),
            queue_url: "q".into(),
            dead_letter_queue_url: None,
        }
    }

    fn record(id: &str, stream: &str, message: &str) -> LogRecord {
        LogRecord {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            cluster: "prod".into(),
            log_group: "/aws/eks/prod/cluster".into(),
            log_stream: stream.into(),
            id: id.into(),
            timestamp_ms: 1_773_137_367_000,
            message: message.into(),
            bucket: "b".into(),
            key: "k".into(),
        }
    }

    fn exec(audit_id: &str) -> String {
        serde_json::json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": audit_id,
            "stage": "ResponseComplete", "verb": "create",
            "user": {"username": "mallory"}, "sourceIPs": ["203.0.113.7"],
            "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "prod", "name": "api-0"},
            "responseStatus": {"code": 101},
            "requestReceivedTimestamp": "2026-03-10T10:00:00.000000Z"
        })
        .to_string()
    }

    fn sink(db: &Path) -> DetectionSink {
        let rules = Arc::new(Ruleset::builtin().unwrap());
        DetectionSink::open(db, rules, &source(), EngineConfig::default()).unwrap()
    }

    #[test]
    fn a_message_seen_again_changes_nothing_even_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let batch = vec![
            record("1", "kube-apiserver-audit-1", &exec("a-1")),
            record("2", "kube-apiserver-audit-1", "not json"),
            record("3", "authenticator-1", "access granted"),
        ];
        let first = sink(&db);
        first.store_now(&batch).unwrap();
        {
            let state = first.state.lock().unwrap();
            assert_eq!(state.counts.events_new, 1);
            assert_eq!(
                state.counts.unparsable, 1,
                "the authenticator line is skipped"
            );
            assert_eq!(state.counts.alerts_new, 1);
        }
        // The same message again (its delete was lost), in the same run and
        // in a new one (state loaded from the store).
        first.store_now(&batch).unwrap();
        let second = sink(&db);
        second.store_now(&batch).unwrap();
        for s in [&first, &second] {
            let state = s.state.lock().unwrap();
            assert_eq!(state.counts.alerts_updated, 0);
        }
        let store = Store::open(&db).unwrap();
        let alerts = store
            .alerts(&rampart_store::AlertFilter::default())
            .unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].alert_type, "K8S.ExecIntoContainer");
        assert_eq!(alerts[0].count, 1);
        assert_eq!(alerts[0].evidence[0].event_id, "a-1");
        // A new event of the same group in a new run joins the stored alert.
        second
            .store_now(&[record("4", "kube-apiserver-audit-1", &exec("a-2"))])
            .unwrap();
        let alerts = store
            .alerts(&rampart_store::AlertFilter::default())
            .unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].count, 2);
    }

    #[test]
    fn failures_become_gaps_of_the_account() {
        let report = ProvisionReport {
            connector: "prod".into(),
            account: "111122223333".into(),
            mode: ProvisionMode::Apply,
            clusters: vec![ClusterProvisioning {
                account: "111122223333".into(),
                region: "eu-west-1".into(),
                cluster: "c".into(),
                plan: None,
                report: None,
                error: Some(PipelineError::Invalid("bad".into())),
            }],
            region_errors: vec![RegionError {
                region: "us-east-1".into(),
                error: PipelineError::Call {
                    operation: "ListClusters".into(),
                    kind: GapKind::AccessDenied,
                    code: Some("AccessDeniedException".into()),
                    message: "denied".into(),
                },
            }],
        };
        assert!(!report.succeeded());
        let gaps = report.gaps();
        assert_eq!(gaps.len(), 2);
        assert_eq!(
            (
                gaps[0].region.as_str(),
                gaps[0].operation.as_str(),
                gaps[0].kind
            ),
            ("us-east-1", "ListClusters", GapKind::AccessDenied)
        );
        assert_eq!(gaps[1].region, "eu-west-1");
        assert!(gaps[1].error.contains("bad"), "{gaps:?}");
    }
}
