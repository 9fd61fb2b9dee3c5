//! The SQL plan's threat detection (design.md section 9): a log pipeline
//! per SQL Server log group (CloudWatch Logs → Firehose → S3 → SQS, the
//! same pipeline as the Containers plan's, [`PipelineSource::LogGroup`]),
//! provisioned by [`provision_connector`] (the scan's
//! [`SqlLogProvisioner`], `rampart sql provision`) and drained into the
//! `SQL.*` detection rules by [`detect_connector`] (run by
//! [`crate::detection::detect_once`] for `rampart detect` and `rampart
//! serve`).
//!
//! Everything runs as the offering's `threatDetection` role; the
//! `cloudWatchToKinesis` and `kinesisToS3` roles are passed to CloudWatch
//! Logs and Firehose. The groups are RDS's exported `error` logs and the
//! groups the connector names
//! ([`rampart_aws::pipeline::sql::find_log_groups`]); a group is read,
//! never changed. Each SQS message's log events are parsed
//! ([`rampart_detect::Event::from_sqlserver_message`]), detected and
//! stored in one transaction before the message is deleted: at least once,
//! idempotent by the CloudWatch Logs event id.
//!
//! [`PipelineSource::LogGroup`]: rampart_aws::pipeline::containers::PipelineSource::LogGroup

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use rampart_aws::pipeline::PipelineError;
use rampart_aws::pipeline::consumer::{EventSink, LogRecord, QueueSource};
use rampart_aws::pipeline::containers::{ApplyOptions, Clients};
use rampart_aws::pipeline::sql::{SqlLogGroup, find_log_groups_in, rds_instance_of_log_group};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_connector::{Connector, Offering, Plan, SqlThreatDetection};
use rampart_detect::{EngineConfig, Event, EventContext, Ruleset};
use rampart_health::sql_pipeline_input;
use rampart_model::{AlertSource, CoverageGap};

use crate::EngineError;
use crate::Keys;
use crate::containers::{
    ClusterDetection, ClusterProvisioning, ProvisionReport, RegionError, drain_into, run_pipeline,
};
use crate::detection::{DetectOptions, DetectionSink};
use crate::provisioning::{
    ProvisionMode, ProvisionTarget, Provisioner, not_provisioned, role_access,
};

/// The detection state's source name in the store.
pub const STATE_SOURCE: &str = "sql-log";

/// The connector's SQL plan threat-detection settings, if it has them.
pub fn threat_detection(connector: &Connector) -> Option<&SqlThreatDetection> {
    match connector.offering(Plan::Sql) {
        Some(Offering::DefenderForDatabasesAws(o)) => o.threat_detection.as_ref(),
        _ => None,
    }
}

/// Access as the offering's `threatDetection` role.
async fn detection_access<'c>(
    connector: &'c Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
) -> Result<(AwsAccess, &'c SqlThreatDetection), EngineError> {
    let detection = threat_detection(connector)
        .ok_or_else(|| EngineError::NoSqlThreatDetection(connector.name.clone()))?;
    let access = role_access(
        connector,
        Plan::Sql,
        &detection.cloud_role_arn,
        keys_dir,
        base,
    )
    .await?;
    Ok((access, detection))
}

/// The SQL Server log groups of `regions`; regions that could not be
/// listed, and named groups found in none of them.
async fn log_groups(
    access: &AwsAccess,
    detection: &SqlThreatDetection,
    regions: &[String],
) -> (Vec<SqlLogGroup>, Vec<RegionError>, Vec<String>) {
    let found = find_log_groups_in(access, regions, &detection.log_groups).await;
    let errors = found
        .region_errors
        .into_iter()
        .map(|(region, error)| RegionError { region, error })
        .collect();
    (found.groups, errors, found.not_found)
}

/// Provisions (or plans, or removes) the log pipeline of every SQL Server
/// log group of `connector`'s account in `regions`, as the offering's
/// `threatDetection` role. Fails only when the connector has no SQL plan
/// threat detection or its role cannot be reached; what fails per region
/// or group is in the report.
pub async fn provision_connector(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
    regions: &[String],
    mode: ProvisionMode,
    options: ApplyOptions,
) -> Result<ProvisionReport, EngineError> {
    let (access, detection) = detection_access(connector, base, keys_dir).await?;
    let mut report = ProvisionReport::new(connector, Plan::Sql, mode);
    let (groups, errors, missing) = log_groups(&access, detection, regions).await;
    report.region_errors = errors;
    report.log_groups_not_found = missing;
    for group in groups {
        let clients = Clients::new(&access, &group.region);
        let input = sql_pipeline_input(connector, detection, &group.region, &group.log_group);
        let mut done = ClusterProvisioning {
            account: input.account.clone(),
            region: group.region.clone(),
            cluster: group.log_group.clone(),
            plan: None,
            report: None,
            error: None,
        };
        run_pipeline(&clients, &input, mode, options, &mut done).await;
        report.clusters.push(done);
    }
    Ok(report)
}

/// `rampart sql provision`: [`provision_connector`] for the stored
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

/// The scan's SQL threat-detection step: provisions every SQL Server log
/// group's pipeline when the offering's threat detection is enabled;
/// failures are gaps.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqlLogProvisioner {
    /// How long to wait for delivery streams.
    pub options: Option<ApplyOptions>,
}

impl Provisioner for SqlLogProvisioner {
    fn plan(&self) -> Plan {
        Plan::Sql
    }

    fn provision<'a>(&'a self, target: ProvisionTarget<'a>) -> BoxFuture<'a, Vec<CoverageGap>> {
        Box::pin(async move {
            let connector = target.connector;
            let Some(detection) = threat_detection(connector) else {
                return Vec::new();
            };
            if !detection.enabled || connector.is_classic() {
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
                        log_groups = report.clusters.len(),
                        succeeded = report.succeeded(),
                        "SQL Server log pipelines provisioned"
                    );
                    report.gaps()
                }
                Err(err) => vec![not_provisioned(
                    &target,
                    "SQL Server log pipelines not provisioned",
                    &err,
                )],
            }
        })
    }
}

// ---------------------------------------------------------------- detection

/// The consumer's sink for one log group: parse the SQL Server messages,
/// then detect and store them in one transaction.
struct SqlLogSink {
    db_instance: Option<String>,
    sink: DetectionSink,
}

impl SqlLogSink {
    fn open(
        db: &Path,
        rules: Arc<Ruleset>,
        source: &QueueSource,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let scope = format!("{}/{}/{}", source.account, source.region, source.cluster);
        Ok(Self {
            db_instance: rds_instance_of_log_group(&source.cluster).map(str::to_owned),
            sink: DetectionSink::open(db, rules, AlertSource::SqlLog, STATE_SOURCE, scope, config)?,
        })
    }

    fn store_now(&self, records: &[LogRecord]) -> Result<(), String> {
        let mut events = Vec::new();
        let mut unparsable = 0;
        // One context per log stream (a batch is mostly one stream).
        let mut contexts: HashMap<(&str, &str), Arc<EventContext>> = HashMap::new();
        for record in records {
            let context = contexts
                .entry((&record.log_group, &record.log_stream))
                .or_insert_with(|| {
                    Arc::new(EventContext::sql_server_log(
                        &record.account,
                        &record.region,
                        &record.log_group,
                        self.db_instance.as_deref(),
                        &record.log_stream,
                    ))
                });
            match Event::from_sqlserver_message(
                &record.id,
                Some(record.timestamp_ms),
                &record.message,
                Arc::clone(context),
            ) {
                Ok(event) => events.push(event),
                Err(e) => {
                    unparsable += 1;
                    tracing::warn!(event = %record.id, error = %e, "not a SQL Server log event");
                }
            }
        }
        self.sink.commit(events, unparsable)
    }
}

impl EventSink for SqlLogSink {
    fn store(&self, records: Vec<LogRecord>) -> impl Future<Output = Result<(), String>> + Send {
        let result = self.store_now(&records);
        async move { result }
    }
}

/// What draining a connector's SQL Server log pipelines did.
#[derive(Debug, Clone, Default)]
pub struct SqlLogDetection {
    /// Each log group's drain.
    pub log_groups: Vec<ClusterDetection>,
    /// Regions whose log groups could not be listed.
    pub region_errors: Vec<RegionError>,
}

/// Drains every SQL Server log group's pipeline of `connector` once
/// (until a poll receives nothing) into detection, as the
/// `threatDetection` role. A group without a pipeline is skipped. Fails
/// only when the connector has no SQL plan threat detection or the role
/// cannot be reached.
pub async fn detect_connector(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
    db: &Path,
    regions: &[String],
    options: DetectOptions,
) -> Result<SqlLogDetection, EngineError> {
    let (access, detection) = detection_access(connector, base, keys_dir).await?;
    let rules = Arc::new(Ruleset::builtin().map_err(|e| EngineError::Rules(e.to_string()))?);
    let (groups, region_errors, _) = log_groups(&access, detection, regions).await;
    let mut report = SqlLogDetection {
        log_groups: Vec::new(),
        region_errors,
    };
    for group in groups {
        let input = sql_pipeline_input(connector, detection, &group.region, &group.log_group);
        let stats = ClusterDetection {
            account: input.account.clone(),
            region: group.region.clone(),
            cluster: group.log_group.clone(),
            ..ClusterDetection::default()
        };
        let sqs = access.sqs(&group.region);
        let source = match QueueSource::resolve(&sqs, &input.names(), &group.log_group).await {
            Ok(source) => source,
            Err(PipelineError::Call { code, .. })
                if code
                    .as_deref()
                    .is_some_and(|c| c.contains("NonExistentQueue")) =>
            {
                tracing::info!(log_group = %group.log_group, region = %group.region, "no SQL log pipeline; skipped");
                continue;
            }
            Err(e) => {
                report.log_groups.push(ClusterDetection {
                    errors: vec![e.to_string()],
                    ..stats
                });
                continue;
            }
        };
        let sink = match SqlLogSink::open(db, Arc::clone(&rules), &source, EngineConfig::default())
        {
            Ok(sink) => sink,
            Err(e) => {
                report.log_groups.push(ClusterDetection {
                    errors: vec![e.to_string()],
                    ..stats
                });
                continue;
            }
        };
        report
            .log_groups
            .push(drain_into(&access, source, &sink, &sink.sink, options, stats).await);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use rampart_store::{AlertFilter, Store};

    fn source(log_group: &str) -> QueueSource {
        QueueSource {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            cluster: log_group.into(),
            bucket: "b".into(),
            queue_url: "q".into(),
            dead_letter_queue_url: None,
        }
    }

    fn record(id: &str, log_group: &str, stream: &str, message: &str) -> LogRecord {
        LogRecord {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            cluster: log_group.into(),
            log_group: log_group.into(),
            log_stream: stream.into(),
            id: id.into(),
            timestamp_ms: 1_773_137_367_000,
            message: message.into(),
            bucket: "b".into(),
            key: "k".into(),
        }
    }

    fn failed_login(n: u32) -> String {
        format!(
            "2026-03-10 10:0{}:{:02}.51 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 203.0.113.9]",
            n / 60,
            n % 60
        )
    }

    #[test]
    fn rds_error_log_lines_become_alerts_on_the_db_instance_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let group = "/aws/rds/instance/sql-prod/error";
        let rules = Arc::new(Ruleset::builtin().unwrap());
        let sink = SqlLogSink::open(
            &db,
            Arc::clone(&rules),
            &source(group),
            EngineConfig::default(),
        )
        .unwrap();
        let mut batch: Vec<LogRecord> = (0..30)
            .map(|n| record(&format!("{n}"), group, "sql-prod.node1", &failed_login(n)))
            .collect();
        batch.push(record("x", group, "sql-prod.node1", ""));
        sink.store_now(&batch).unwrap();
        let counts = sink.sink.counts();
        assert_eq!(counts.events_new, 30);
        assert_eq!(
            counts.unparsable, 1,
            "the empty line is counted, not an event"
        );
        assert!(counts.alerts_new >= 1, "{counts:?}");
        // The same batch again (a lost delete) changes nothing.
        sink.store_now(&batch).unwrap();
        let again = SqlLogSink::open(
            &db,
            Arc::clone(&rules),
            &source(group),
            EngineConfig::default(),
        )
        .unwrap();
        again.store_now(&batch).unwrap();
        assert_eq!(again.sink.counts().alerts_updated, 0);
        let alerts = Store::open(&db)
            .unwrap()
            .alerts(&AlertFilter::default())
            .unwrap();
        let brute: Vec<_> = alerts
            .iter()
            .filter(|a| a.alert_type.starts_with("SQL.BruteForce"))
            .collect();
        assert_eq!(brute.len(), 1, "{alerts:#?}");
        assert_eq!(
            brute[0].resource.arn,
            "arn:aws:rds:eu-west-1:111122223333:db:sql-prod"
        );
        assert_eq!(brute[0].source, AlertSource::SqlLog);
    }

    #[test]
    fn the_gaps_name_log_groups_and_missing_named_groups() {
        let connector = Connector::new("prod", "111122223333", &[Plan::Sql], Vec::new(), 12, None);
        let mut report = ProvisionReport::new(&connector, Plan::Sql, ProvisionMode::Apply);
        report.log_groups_not_found = vec!["/sql/errorlog".into()];
        assert!(!report.succeeded());
        let gaps = report.gaps();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].service, "logs");
        assert!(
            gaps[0].error.contains("`/sql/errorlog` exists in none"),
            "{gaps:?}"
        );
    }
}
