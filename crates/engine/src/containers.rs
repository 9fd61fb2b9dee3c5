//! The Containers plan's audit-log pipelines (design.md section 9):
//! provisioning them per EKS cluster ([`provision_connector`], the scan's
//! [`ContainersProvisioner`], `rampart containers provision`) and draining
//! them into detection ([`detect_connector`], run by
//! [`crate::detection::detect_once`] for `rampart detect` and `rampart
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
use std::sync::Arc;

use futures::future::BoxFuture;
use rampart_aws::pipeline::PipelineError;
use rampart_aws::pipeline::consumer::{
    Consumer, ConsumerOptions, EventSink, LogRecord, QueueSource,
};
use rampart_aws::pipeline::containers::{
    self, ApplyOptions, ApplyReport, Clients, Plan as PipelinePlan,
};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_connector::{Connector, ContainersOffering, Offering, Plan};
use rampart_detect::{EngineConfig, EventContext, Ruleset, parse_audit_message};
use rampart_health::pipeline_input;
use rampart_model::{AlertSource, CoverageGap, GapKind};
use serde::Serialize;

use crate::EngineError;
use crate::Keys;
pub use crate::detection::{
    DetectOptions, DetectReport, DetectionLoop, detect_once, run_detection,
};
use crate::detection::{DetectionSink, drain};
use crate::provisioning::{ProvisionTarget, Provisioner, not_provisioned, role_access};

/// The detection state's source name in the store.
pub const STATE_SOURCE: &str = "eks-audit";

pub use crate::provisioning::ProvisionMode;

/// One pipeline's provisioning: an EKS cluster's (Containers plan) or a
/// SQL Server log group's (SQL plan, [`crate::sql_logs`]).
#[derive(Debug, Clone, Serialize)]
pub struct ClusterProvisioning {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The EKS cluster, or the SQL Server log group.
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

/// What provisioning a plan's log pipelines did for one connector's
/// account.
#[derive(Debug, Clone, Serialize)]
pub struct ProvisionReport {
    /// The connector's name.
    pub connector: String,
    /// Its account.
    pub account: String,
    /// The plan whose pipelines these are (`containers`, `sql`).
    pub plan: Plan,
    /// What was asked.
    pub mode: ProvisionMode,
    /// Each cluster (or SQL Server log group) found.
    pub clusters: Vec<ClusterProvisioning>,
    /// Regions whose clusters (or log groups) could not be listed.
    pub region_errors: Vec<RegionError>,
    /// Log groups the connector names that exist in none of the regions
    /// (SQL plan).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_groups_not_found: Vec<String>,
}

impl ProvisionReport {
    /// An empty report.
    pub(crate) fn new(connector: &Connector, plan: Plan, mode: ProvisionMode) -> Self {
        Self {
            connector: connector.name.clone(),
            account: connector.account().to_owned(),
            plan,
            mode,
            clusters: Vec::new(),
            region_errors: Vec::new(),
            log_groups_not_found: Vec::new(),
        }
    }

    /// Whether everything worked.
    pub fn succeeded(&self) -> bool {
        self.region_errors.is_empty()
            && self.log_groups_not_found.is_empty()
            && self.clusters.iter().all(ClusterProvisioning::succeeded)
    }

    /// What failed, as coverage gaps of the account (for scans).
    pub fn gaps(&self) -> Vec<CoverageGap> {
        let service = match self.plan {
            Plan::Sql => "logs",
            _ => "eks",
        };
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
                service: service.to_owned(),
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
        for group in &self.log_groups_not_found {
            gaps.push(gap(
                "global",
                &PipelineError::Invalid(format!(
                    "log group `{group}` exists in none of the connector's regions"
                )),
            ));
        }
        for cluster in &self.clusters {
            if let Some(error) = &cluster.error {
                gaps.push(gap(&cluster.region, error));
            }
            for failed in cluster.report.iter().flat_map(ApplyReport::failures) {
                if let containers::Outcome::Failed { error } = &failed.outcome {
                    let mut g = gap(&cluster.region, error);
                    let what = if self.plan == Plan::Sql {
                        "log group"
                    } else {
                        "cluster"
                    };
                    g.error = format!(
                        "{what} `{}`: {}: {}",
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
    keys_dir: &Keys,
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
    let mut report = ProvisionReport::new(connector, Plan::Containers, mode);
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
            run_pipeline(&clients, &input, mode, options, &mut done).await;
            report.clusters.push(done);
        }
    }
    Ok(report)
}

/// Plans, applies or removes one pipeline, into `done`.
pub(crate) async fn run_pipeline(
    clients: &Clients,
    input: &containers::ClusterPipeline,
    mode: ProvisionMode,
    options: ApplyOptions,
    done: &mut ClusterProvisioning,
) {
    match mode {
        ProvisionMode::DryRun => match containers::plan(clients, input).await {
            Ok(plan) => done.plan = Some(plan),
            Err(e) => done.error = Some(e),
        },
        ProvisionMode::Apply => match containers::apply(clients, input, options).await {
            Ok(r) => done.report = Some(r),
            Err(e) => done.error = Some(e),
        },
        ProvisionMode::Remove => match containers::remove(clients, input).await {
            Ok(r) => done.report = Some(r),
            Err(e) => done.error = Some(e),
        },
    }
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
    let (connector, regions) = crate::provisioning::stored_target(engine, name, regions).await?;
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
                Err(err) => vec![not_provisioned(
                    &target,
                    "containers pipelines not provisioned",
                    &err,
                )],
            }
        })
    }
}

// ---------------------------------------------------------------- detection

/// One pipeline's drain: an EKS cluster's, or a SQL Server log group's.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClusterDetection {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The EKS cluster, or the SQL Server log group.
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

/// The consumer's sink for one cluster: parse the audit events, then
/// detect and store them in one transaction.
struct AuditSink {
    context: Arc<EventContext>,
    sink: DetectionSink,
}

impl AuditSink {
    fn open(
        db: &Path,
        rules: Arc<Ruleset>,
        source: &QueueSource,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let scope = format!("{}/{}/{}", source.account, source.region, source.cluster);
        Ok(Self {
            context: Arc::new(EventContext::eks_cluster(
                &source.account,
                &source.region,
                &source.cluster,
            )),
            sink: DetectionSink::open(
                db,
                rules,
                AlertSource::EksAudit,
                STATE_SOURCE,
                scope,
                config,
            )?,
        })
    }

    fn store_now(&self, records: &[LogRecord]) -> Result<(), String> {
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
        self.sink.commit(events, unparsable)
    }
}

impl EventSink for AuditSink {
    fn store(&self, records: Vec<LogRecord>) -> impl Future<Output = Result<(), String>> + Send {
        let result = self.store_now(&records);
        async move { result }
    }
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
    let sink = match AuditSink::open(db, Arc::clone(rules), &source, EngineConfig::default()) {
        Ok(sink) => sink,
        Err(e) => {
            stats.errors.push(e.to_string());
            return stats;
        }
    };
    drain_into(access, source, &sink, &sink.sink, options, stats).await
}

/// Drains `source`'s queue into `sink` (which stores through `detection`)
/// and fills `stats` with what happened.
pub(crate) async fn drain_into<S: EventSink>(
    access: &AwsAccess,
    source: QueueSource,
    sink: &S,
    detection: &DetectionSink,
    options: DetectOptions,
    mut stats: ClusterDetection,
) -> ClusterDetection {
    let consumer_options = ConsumerOptions {
        wait_time_secs: options.wait_time_secs,
        visibility_timeout_secs: options.visibility_timeout_secs,
        max_messages: 10,
    };
    let mut consumer = Consumer::new(access, source, consumer_options);
    let drained = drain(&mut consumer, sink, options.max_polls).await;
    let counts = detection.counts();
    stats.messages = drained.messages;
    stats.events_processed = drained.events_processed;
    stats.last_event = drained.last_event;
    stats.lag_secs = drained.lag_secs;
    stats.dead_letter_depth = drained.dead_letter_depth;
    stats.errors = drained.errors;
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
    keys_dir: &Keys,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use rampart_store::Store;

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

    fn sink(db: &Path) -> AuditSink {
        let rules = Arc::new(Ruleset::builtin().unwrap());
        AuditSink::open(db, rules, &source(), EngineConfig::default()).unwrap()
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
            let counts = first.sink.counts();
            assert_eq!(counts.events_new, 1);
            assert_eq!(counts.unparsable, 1, "the authenticator line is skipped");
            assert_eq!(counts.alerts_new, 1);
        }
        // The same message again (its delete was lost), in the same run and
        // in a new one (state loaded from the store).
        first.store_now(&batch).unwrap();
        let second = sink(&db);
        second.store_now(&batch).unwrap();
        for s in [&first, &second] {
            assert_eq!(s.sink.counts().alerts_updated, 0);
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
            plan: Plan::Containers,
            log_groups_not_found: Vec::new(),
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
