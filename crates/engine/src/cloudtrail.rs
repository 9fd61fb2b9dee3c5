//! CloudTrail threat detection (Servers plan): the account's trail logs
//! drained into detection ([`detect_connector`], run by
//! [`crate::detection::detect_once`] for `rampart detect` and `rampart
//! serve`), and the notification pipeline provisioned per trail bucket
//! ([`provision_connector`], the scan's [`CloudTrailProvisioner`],
//! `rampart cloudtrail provision`).
//!
//! Everything runs as the Servers plan's `defenderForServers` role. The
//! offering's `cloudTrail.mode` chooses how new log objects are found:
//! `listing` (the default; a cursor per account and region prefix in the
//! store, nothing changes in the account) or `notification` (an S3 event
//! notification on the trail bucket to a `rampart-cloudtrail-*` queue).
//! Connectors with only the CSPM plan are not read: the CSPM role's
//! permissions are posture reads, and CloudTrail's alerts belong to the
//! Servers plan.
//!
//! The engine knows the account's EC2 instance addresses from the latest
//! complete scan ([`instance_addresses`]), for the rule on instance
//! credentials used from elsewhere.
//!
//! Records are parsed and stored through the shared
//! [`crate::detection::DetectionSink`]: idempotent by `eventID`, the
//! engine's state kept per account. A listed object that cannot be read is
//! an error on that object, read again on the next drain (the cursor stays
//! before it) and given up on — counted as dead-lettered — after
//! [`rampart_store::MAX_OBJECT_ATTEMPTS`] attempts, as a queue's message
//! moves to its dead-letter queue.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use rampart_aws::pipeline::cloudtrail::{
    self, LogLocation, Trail, TrailDestination, TrailLogs, TrailPipeline, TrailPlan, TrailRecord,
    TrailReport,
};
use rampart_aws::pipeline::consumer::{Consumer, ConsumerOptions, EventSink};
use rampart_aws::pipeline::{Outcome, PipelineError};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_connector::{CloudTrailMode, CloudTrailSettings, Connector, Offering, Plan};
use rampart_detect::{EngineConfig, Event, EventContext, InstanceAddresses, Ruleset, Suppression};
use rampart_model::{AlertSource, CoverageGap, GapKind};
use rampart_store::{AssetFilter, MAX_OBJECT_ATTEMPTS, ObjectFailure, Store};
use serde::Serialize;
use time::OffsetDateTime;

use crate::EngineError;
use crate::Keys;
use crate::detection::{DetectOptions, DetectionSink, SinkCounts, drain, rfc3339_ms};
use crate::provisioning::{ProvisionMode, role_access as plan_role_access};
use crate::provisioning::{ProvisionTarget, Provisioner};

/// The detection state's (and the listing cursors') source name in the
/// store.
pub const STATE_SOURCE: &str = "cloudtrail";

/// The connector's CloudTrail settings when its Servers plan is on with
/// CloudTrail threat detection (native connectors only).
pub fn cloudtrail_settings(connector: &Connector) -> Option<CloudTrailSettings> {
    if connector.is_classic() {
        return None;
    }
    match connector.offering(Plan::Servers) {
        Some(Offering::DefenderForServersAws(o)) => {
            Some(o.cloud_trail()).filter(|settings| settings.enabled)
        }
        _ => None,
    }
}

/// The private and public addresses of `account`'s EC2 instances in the
/// latest complete scan (for the instance-credential rules); empty when
/// nothing was scanned.
pub fn instance_addresses(store: &Store, account: &str) -> Result<InstanceAddresses, EngineError> {
    let mut known = InstanceAddresses::new();
    let filter = AssetFilter {
        resource_type: Some("AWS::EC2::Instance".to_owned()),
        account: Some(account.to_owned()),
        ..AssetFilter::default()
    };
    for asset in store.assets(&filter)? {
        let p = &asset.properties;
        let Some(id) = p.get("instanceId").and_then(serde_json::Value::as_str) else {
            continue;
        };
        let mut texts: Vec<&str> = ["privateIpAddress", "publicIpAddress"]
            .iter()
            .filter_map(|k| p.get(*k).and_then(serde_json::Value::as_str))
            .collect();
        for eni in p
            .get("networkInterfaces")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            texts.extend(
                eni.get("privateIpAddress")
                    .and_then(serde_json::Value::as_str),
            );
            texts.extend(
                eni.get("association")
                    .and_then(|a| a.get("publicIp"))
                    .and_then(serde_json::Value::as_str),
            );
        }
        known.insert(id, texts.iter().filter_map(|t| t.parse().ok()));
    }
    Ok(known)
}

/// The Servers plan's `defenderForServers` role.
async fn servers_access(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
) -> Result<AwsAccess, EngineError> {
    let role = match connector.offering(Plan::Servers) {
        Some(Offering::DefenderForServersAws(o)) => o.defender_for_servers.cloud_role_arn.clone(),
        _ => return Err(EngineError::NoServers(connector.name.clone())),
    };
    plan_role_access(connector, Plan::Servers, &role, keys_dir, base).await
}

/// The account's trails seen from each of `regions`, each once; what
/// could not be read, one line per region.
async fn discover(access: &AwsAccess, regions: &[String]) -> (Vec<Trail>, Vec<String>) {
    let mut trails: Vec<Trail> = Vec::new();
    let mut errors = Vec::new();
    for region in regions {
        match cloudtrail::discover(access, region).await {
            Ok(found) => {
                for t in found {
                    if trails.iter().all(|known| known.arn != t.arn) {
                        trails.push(t);
                    }
                }
            }
            Err(e) => errors.push(format!("region {region}: cannot list trails: {e}")),
        }
    }
    (trails, errors)
}

/// One log location's (listing) or one trail bucket queue's
/// (notification) drain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrailSourceDetection {
    /// The account.
    pub account: String,
    /// The trail bucket.
    pub bucket: String,
    /// Listing: the region whose log files were listed; notification: the
    /// bucket's region (the queue's).
    pub region: String,
    /// `s3://<bucket>/<prefix>` (listing) or the queue's name.
    pub location: String,
    /// SQS messages received (notification).
    pub messages: usize,
    /// Log objects read.
    pub objects: usize,
    /// CloudTrail records stored (processed).
    pub events_processed: u64,
    /// Records new to detection (not processed before).
    pub events_new: u64,
    /// Records that are not CloudTrail events (no `eventID`, …).
    pub unparsable: u64,
    /// Alerts raised.
    pub alerts_new: usize,
    /// Alerts that gained events.
    pub alerts_updated: usize,
    /// The newest record stored, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<String>,
    /// How old the newest record was when it was stored, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_secs: Option<f64>,
    /// Listing: the last key read (the cursor after this drain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Objects given up on (listing) or messages in the dead-letter queue
    /// (notification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_depth: Option<u64>,
    /// What went wrong (objects, messages, the listing), one line each.
    pub errors: Vec<String>,
}

impl TrailSourceDetection {
    fn set_counts(&mut self, counts: SinkCounts) {
        self.events_new = counts.events_new;
        self.unparsable = counts.unparsable;
        self.alerts_new = counts.alerts_new;
        self.alerts_updated = counts.alerts_updated;
    }
}

/// What one drain of an account's CloudTrail logs did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CloudTrailDetection {
    /// The account.
    pub account: String,
    /// `listing` or `notification`.
    pub mode: &'static str,
    /// The trails found.
    pub trails: Vec<Trail>,
    /// Each location or queue drained.
    pub sources: Vec<TrailSourceDetection>,
    /// What failed before any source could be drained (trails, buckets).
    pub errors: Vec<String>,
}

impl CloudTrailDetection {
    /// Whether nothing failed.
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty() && self.sources.iter().all(|s| s.errors.is_empty())
    }

    /// Messages and objects received.
    pub fn received(&self) -> usize {
        self.sources.iter().map(|s| s.messages + s.objects).sum()
    }
}

/// The consumer's sink: parse each record, then detect and store.
struct TrailSink {
    contexts: Mutex<BTreeMap<(String, String), Arc<EventContext>>>,
    sink: DetectionSink,
}

impl TrailSink {
    fn context(&self, account: &str, region: &str) -> Arc<EventContext> {
        let mut contexts = self.contexts.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            contexts
                .entry((account.to_owned(), region.to_owned()))
                .or_insert_with(|| Arc::new(EventContext::cloudtrail(account, region))),
        )
    }

    fn store_now(&self, records: Vec<TrailRecord>) -> Result<(), String> {
        let mut events = Vec::new();
        let mut unparsable = 0;
        for record in records {
            let context = self.context(&record.account, &record.region);
            match Event::from_cloudtrail_record(record.body, context) {
                Ok(event) => events.push(event),
                Err(e) => {
                    unparsable += 1;
                    tracing::warn!(key = %record.key, error = %e, "not a CloudTrail event");
                }
            }
        }
        self.sink.commit(events, unparsable)
    }
}

impl EventSink<TrailRecord> for TrailSink {
    fn store(&self, records: Vec<TrailRecord>) -> impl Future<Output = Result<(), String>> + Send {
        let result = self.store_now(records);
        async move { result }
    }
}

/// Lists and reads one location's new objects after its cursor; moves the
/// cursor past every object read (or given up on) with nothing unread
/// before it.
async fn drain_location(
    access: &AwsAccess,
    sink: &TrailSink,
    location: &LogLocation,
    options: DetectOptions,
) -> TrailSourceDetection {
    let scope = location.scope();
    let mut stats = TrailSourceDetection {
        account: location.account.clone(),
        bucket: location.bucket.clone(),
        region: location.region.clone(),
        location: scope.clone(),
        ..TrailSourceDetection::default()
    };
    let before = sink.sink.counts();
    let stored = sink.sink.with_store(|store| {
        Ok::<_, rampart_store::StoreError>((
            store.log_cursor(STATE_SOURCE, &scope)?,
            store.log_object_failures(STATE_SOURCE, &scope)?,
        ))
    });
    let (cursor, failures) = match stored {
        Ok(found) => found,
        Err(e) => {
            stats.errors.push(e.to_string());
            return stats;
        }
    };
    let failures: BTreeMap<String, ObjectFailure> =
        failures.into_iter().map(|f| (f.key.clone(), f)).collect();
    let after = cloudtrail::start_after(
        location,
        cursor.as_deref(),
        OffsetDateTime::now_utc(),
        options.lookback_days,
    );
    let keys =
        match cloudtrail::list_new_objects(access, location, &after, options.max_objects).await {
            Ok(keys) => keys,
            Err(e) => {
                stats.errors.push(e.to_string());
                return stats;
            }
        };
    let mut advance: Option<String> = None;
    let mut blocked = false;
    let mut newest: Option<i64> = None;
    for key in keys {
        if failures.get(&key).is_some_and(ObjectFailure::dead) {
            if !blocked {
                advance = Some(key);
            }
            continue;
        }
        let object = format!("object `s3://{}/{key}`", location.bucket);
        let read = match cloudtrail::read_log_object(access, location, &key).await {
            Ok(records) => {
                let count = records.len() as u64;
                let latest = records.iter().map(|r| r.time_ms).max();
                sink.store_now(records)
                    .map(|()| (count, latest))
                    .map_err(|e| format!("{object}: the sink did not store the events: {e}"))
            }
            Err(e) => {
                let recorded = sink.sink.with_store(|store| {
                    store.record_log_object_failure(STATE_SOURCE, &scope, &key, &e.to_string())
                });
                match recorded {
                    Ok(failure) if failure.dead() => {
                        stats.errors.push(format!(
                            "{object}: {e} (attempt {} of {MAX_OBJECT_ATTEMPTS}: given up on)",
                            failure.attempts
                        ));
                        if !blocked {
                            advance = Some(key);
                        }
                        continue;
                    }
                    Ok(failure) => Err(format!(
                        "{object}: {e} (attempt {} of {MAX_OBJECT_ATTEMPTS}: read again next time)",
                        failure.attempts
                    )),
                    Err(store) => Err(format!("{object}: {e} (not recorded: {store})")),
                }
            }
        };
        match read {
            Ok((count, latest)) => {
                stats.objects += 1;
                stats.events_processed += count;
                newest = newest.max(latest);
                if failures.contains_key(&key)
                    && let Err(e) = sink.sink.with_store(|store| {
                        store.clear_log_object_failure(STATE_SOURCE, &scope, &key)
                    })
                {
                    stats.errors.push(e.to_string());
                }
                if !blocked {
                    advance = Some(key);
                }
            }
            Err(line) => {
                stats.errors.push(line);
                blocked = true;
            }
        }
    }
    if let Some(position) = advance.filter(|a| cursor.as_ref().is_none_or(|c| a > c))
        && let Err(e) = sink
            .sink
            .with_store(|store| store.set_log_cursor(STATE_SOURCE, &scope, &position))
    {
        stats.errors.push(e.to_string());
    }
    stats.cursor = sink
        .sink
        .with_store(|store| store.log_cursor(STATE_SOURCE, &scope))
        .ok()
        .flatten();
    stats.dead_letter_depth = sink
        .sink
        .with_store(|store| store.log_object_failures(STATE_SOURCE, &scope))
        .ok()
        .map(|f| f.iter().filter(|f| f.dead()).count() as u64);
    stats.last_event = newest.filter(|ms| *ms > 0).and_then(rfc3339_ms);
    stats.lag_secs = newest.filter(|ms| *ms > 0).map(|ms| {
        rampart_aws::pipeline::consumer::lag(std::time::SystemTime::now(), ms).as_secs_f64()
    });
    stats.set_counts(sink.sink.counts().since(before));
    stats
}

fn pipeline_of(
    connector: &Connector,
    destination: &TrailDestination,
    region: &str,
) -> TrailPipeline {
    TrailPipeline {
        account: connector.account().to_owned(),
        connector_id: connector.id.to_string(),
        bucket: destination.bucket.clone(),
        bucket_region: region.to_owned(),
        prefix: destination.prefix.clone(),
    }
}

/// Drains one trail bucket's queue (notification mode).
async fn drain_queue(
    access: &AwsAccess,
    sink: &TrailSink,
    input: &TrailPipeline,
    regions: &[String],
    options: DetectOptions,
    connector: &str,
) -> TrailSourceDetection {
    let names = input.names();
    let mut stats = TrailSourceDetection {
        account: input.account.clone(),
        bucket: input.bucket.clone(),
        region: input.bucket_region.clone(),
        location: names.queue.clone(),
        ..TrailSourceDetection::default()
    };
    let source = match names.source(&access.sqs(&input.bucket_region)).await {
        Ok(Some(source)) => source,
        Ok(None) => {
            stats.errors.push(format!(
                "no queue `{}` for trail bucket `{}`: provision it with `rampart cloudtrail provision --connector {connector}`",
                names.queue, input.bucket
            ));
            return stats;
        }
        Err(e) => {
            stats.errors.push(e.to_string());
            return stats;
        }
    };
    let before = sink.sink.counts();
    let mut consumer = Consumer::with_access(
        access,
        source,
        ConsumerOptions {
            wait_time_secs: options.wait_time_secs,
            visibility_timeout_secs: options.visibility_timeout_secs,
            max_messages: 10,
        },
        TrailLogs {
            account: input.account.clone(),
            regions: regions.to_vec(),
        },
    );
    let drained = drain(&mut consumer, sink, options.max_polls).await;
    stats.messages = drained.messages;
    stats.objects = drained.objects;
    stats.events_processed = drained.events_processed;
    stats.last_event = drained.last_event;
    stats.lag_secs = drained.lag_secs;
    stats.dead_letter_depth = drained.dead_letter_depth;
    stats.errors = drained.errors;
    stats.set_counts(sink.sink.counts().since(before));
    stats
}

/// Drains the CloudTrail logs of `connector`'s account for `regions` once,
/// as the Servers plan's role, by the offering's delivery mode. Fails only
/// when the connector has no Servers plan with CloudTrail threat detection
/// or its role cannot be reached; what fails per trail, bucket, object or
/// message is in the report.
pub async fn detect_connector(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
    db: &Path,
    regions: &[String],
    options: DetectOptions,
) -> Result<CloudTrailDetection, EngineError> {
    let settings = cloudtrail_settings(connector)
        .ok_or_else(|| EngineError::NoServers(connector.name.clone()))?;
    let rules = Arc::new(Ruleset::builtin().map_err(|e| EngineError::Rules(e.to_string()))?);
    let access = servers_access(connector, base, keys_dir).await?;
    let account = connector.account().to_owned();
    let sink = TrailSink {
        contexts: Mutex::new(BTreeMap::new()),
        sink: DetectionSink::open(
            db,
            rules,
            AlertSource::CloudTrail,
            STATE_SOURCE,
            account.clone(),
            EngineConfig {
                suppressions: own_role_suppressions(connector),
                ..EngineConfig::default()
            },
        )?
        .with_instances(instance_addresses(&Store::open(db)?, &account)?),
    };
    let (trails, mut errors) = discover(&access, regions).await;
    let mut report = CloudTrailDetection {
        account: account.clone(),
        mode: settings.mode.as_str(),
        ..CloudTrailDetection::default()
    };
    for trail in &trails {
        if let Some(e) = &trail.status_error {
            errors.push(format!(
                "trail `{}`: cannot read its status: {e}",
                trail.name
            ));
        }
    }
    for destination in cloudtrail::destinations(&trails) {
        let region =
            match cloudtrail::bucket_region(&access, &destination.bucket, &destination.home_region)
                .await
            {
                Ok(region) => region,
                Err(e) => {
                    errors.push(format!("trail bucket `{}`: {e}", destination.bucket));
                    continue;
                }
            };
        match settings.mode {
            CloudTrailMode::Listing => {
                match cloudtrail::log_locations(&access, &destination, &region, &account, regions)
                    .await
                {
                    Ok(locations) => {
                        for location in &locations {
                            report
                                .sources
                                .push(drain_location(&access, &sink, location, options).await);
                        }
                    }
                    Err(e) => errors.push(format!("trail bucket `{}`: {e}", destination.bucket)),
                }
            }
            CloudTrailMode::Notification => {
                let input = pipeline_of(connector, &destination, &region);
                report.sources.push(
                    drain_queue(&access, &sink, &input, regions, options, &connector.name).await,
                );
            }
        }
    }
    if trails.is_empty() && errors.is_empty() {
        tracing::info!(connector = %connector.name, "no CloudTrail trail; nothing to read");
    }
    report.trails = trails;
    report.errors = errors;
    Ok(report)
}

// ---------------------------------------------------------------- provisioning

/// One trail bucket's notification pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationProvisioning {
    /// The trail bucket.
    pub bucket: String,
    /// Its region, when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The trails delivering there.
    pub trails: Vec<String>,
    /// The plan (dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<TrailPlan>,
    /// What applying or removing did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<TrailReport>,
    /// Why nothing could be done for the bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DestinationProvisioning {
    /// Whether every step succeeded and every read worked.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
            && self.report.as_ref().is_none_or(TrailReport::succeeded)
            && self
                .plan
                .as_ref()
                .is_none_or(|p| p.steps.iter().all(|s| s.error.is_none()))
    }
}

/// What provisioning CloudTrail's notification pipeline did for one
/// connector's account.
#[derive(Debug, Clone, Serialize)]
pub struct CloudTrailProvisionReport {
    /// The connector's name.
    pub connector: String,
    /// Its account.
    pub account: String,
    /// What was asked.
    pub mode: ProvisionMode,
    /// The offering's delivery mode (`listing` provisions nothing).
    pub delivery: &'static str,
    /// The trails found.
    pub trails: Vec<Trail>,
    /// Each trail bucket.
    pub destinations: Vec<DestinationProvisioning>,
    /// What failed before a bucket could be reached.
    pub errors: Vec<String>,
}

impl CloudTrailProvisionReport {
    /// Whether everything worked.
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty()
            && self
                .destinations
                .iter()
                .all(DestinationProvisioning::succeeded)
    }

    /// What failed, as coverage gaps of the account (for scans).
    pub fn gaps(&self, region: &str) -> Vec<CoverageGap> {
        let gap = |region: &str, operation: String, kind: GapKind, error: String| CoverageGap {
            account: self.account.clone(),
            region: region.to_owned(),
            service: "cloudtrail".to_owned(),
            operation,
            kind,
            error,
            occurrences: 1,
        };
        let mut gaps: Vec<CoverageGap> = self
            .errors
            .iter()
            .map(|e| {
                gap(
                    region,
                    "DescribeTrails".to_owned(),
                    GapKind::Other,
                    e.clone(),
                )
            })
            .collect();
        for d in &self.destinations {
            let region = d.region.as_deref().unwrap_or(region);
            if let Some(e) = &d.error {
                gaps.push(gap(
                    region,
                    "ProvisionPipeline".to_owned(),
                    GapKind::Other,
                    e.clone(),
                ));
            }
            for failed in d.report.iter().flat_map(TrailReport::failures) {
                if let Outcome::Failed { error } = &failed.outcome {
                    let (operation, kind) = match error {
                        PipelineError::Call {
                            operation, kind, ..
                        } => (operation.clone(), *kind),
                        _ => ("ProvisionPipeline".to_owned(), GapKind::Other),
                    };
                    gaps.push(gap(
                        region,
                        operation,
                        kind,
                        format!("trail bucket `{}`: {}: {error}", d.bucket, failed.step.name),
                    ));
                }
            }
        }
        gaps
    }
}

/// Provisions (or plans, or removes) the notification pipeline of every
/// trail bucket of `connector`'s account, as the Servers plan's role. In
/// listing mode only removal does anything (switching back from
/// notification mode). Fails only when the connector has no Servers plan
/// or its role cannot be reached.
pub async fn provision_connector(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
    regions: &[String],
    mode: ProvisionMode,
) -> Result<CloudTrailProvisionReport, EngineError> {
    let Some(Offering::DefenderForServersAws(offering)) = connector.offering(Plan::Servers) else {
        return Err(EngineError::NoServers(connector.name.clone()));
    };
    let delivery = offering.cloud_trail().mode;
    let access = servers_access(connector, base, keys_dir).await?;
    let (trails, mut errors) = discover(&access, regions).await;
    let mut report = CloudTrailProvisionReport {
        connector: connector.name.clone(),
        account: connector.account().to_owned(),
        mode,
        delivery: delivery.as_str(),
        trails: Vec::new(),
        destinations: Vec::new(),
        errors: Vec::new(),
    };
    let acts = mode == ProvisionMode::Remove || delivery == CloudTrailMode::Notification;
    for destination in cloudtrail::destinations(&trails)
        .into_iter()
        .filter(|_| acts)
    {
        let mut done = DestinationProvisioning {
            bucket: destination.bucket.clone(),
            region: None,
            trails: destination.trails.clone(),
            plan: None,
            report: None,
            error: None,
        };
        match cloudtrail::bucket_region(&access, &destination.bucket, &destination.home_region)
            .await
        {
            Ok(region) => {
                let input = pipeline_of(connector, &destination, &region);
                done.region = Some(region);
                let result = match mode {
                    ProvisionMode::DryRun => cloudtrail::plan(&access, &input)
                        .await
                        .map(|p| done.plan = Some(p)),
                    ProvisionMode::Apply => cloudtrail::apply(&access, &input)
                        .await
                        .map(|r| done.report = Some(r)),
                    ProvisionMode::Remove => cloudtrail::remove(&access, &input)
                        .await
                        .map(|r| done.report = Some(r)),
                };
                if let Err(e) = result {
                    done.error = Some(e.to_string());
                }
            }
            Err(e) => done.error = Some(e.to_string()),
        }
        report.destinations.push(done);
    }
    errors.extend(
        trails
            .iter()
            .filter_map(|t| t.status_error.as_ref().map(|e| (t, e)))
            .map(|(t, e)| format!("trail `{}`: cannot read its status: {e}", t.name)),
    );
    report.trails = trails;
    report.errors = errors;
    Ok(report)
}

/// `rampart cloudtrail provision`: [`provision_connector`] for the stored
/// connector `name` in `regions` (else the connector's, else the home
/// region).
pub async fn provision(
    engine: &crate::Engine,
    name: &str,
    regions: Option<&[String]>,
    mode: ProvisionMode,
) -> Result<CloudTrailProvisionReport, EngineError> {
    let (connector, regions) = crate::provisioning::stored_target(engine, name, regions).await?;
    provision_connector(&connector, &engine.aws, &engine.keys_dir, &regions, mode).await
}

/// The scan's CloudTrail step: provisions the notification pipeline of
/// every trail bucket when the offering's CloudTrail mode is
/// `notification`; failures are gaps.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudTrailProvisioner;

impl Provisioner for CloudTrailProvisioner {
    fn plan(&self) -> Plan {
        Plan::Servers
    }

    fn provision<'a>(&'a self, target: ProvisionTarget<'a>) -> BoxFuture<'a, Vec<CoverageGap>> {
        Box::pin(async move {
            let connector = target.connector;
            let Some(settings) = cloudtrail_settings(connector) else {
                return Vec::new();
            };
            if settings.mode != CloudTrailMode::Notification {
                return Vec::new();
            }
            let region = target
                .regions
                .first()
                .cloned()
                .unwrap_or_else(|| "global".to_owned());
            match provision_connector(
                connector,
                target.aws,
                target.keys_dir,
                target.regions,
                ProvisionMode::Apply,
            )
            .await
            {
                Ok(report) => {
                    tracing::info!(
                        connector = %connector.name,
                        buckets = report.destinations.len(),
                        succeeded = report.succeeded(),
                        "cloudtrail notification pipelines provisioned"
                    );
                    report.gaps(&region)
                }
                Err(err) => vec![CoverageGap {
                    account: connector.account().to_owned(),
                    region,
                    service: "sts".to_owned(),
                    operation: "AssumeRoleWithWebIdentity".to_owned(),
                    kind: GapKind::Other,
                    error: format!("cloudtrail notification pipelines not provisioned: {err}"),
                    occurrences: 1,
                }],
            }
        })
    }
}

/// Rampart's own roles enumerate the account by design (every scan makes
/// hundreds of Describe/List/Get calls): their sessions do not raise
/// `AWS.ApiEnumerationBurst`. Every other rule still sees them.
pub fn own_role_suppressions(connector: &Connector) -> Vec<Suppression> {
    const ENUMERATION: &str = "AWS.ApiEnumerationBurst";
    let mut out = Vec::new();
    for offering in &connector.offerings {
        for (_, arn) in offering.role_arns() {
            let Some((prefix, path_and_name)) = arn.split_once(":role/") else {
                continue;
            };
            let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
            if name.is_empty() {
                continue;
            }
            let sts = prefix.replacen(":iam::", ":sts::", 1);
            out.push(Suppression {
                alert_type: Some(ENUMERATION.to_owned()),
                entity: rampart_model::AlertEntity::new(
                    "aws-principal",
                    format!("{sts}:assumed-role/{name}/*"),
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod own_role_tests {
    use super::*;
    use rampart_connector::Plan;

    #[test]
    fn the_connectors_own_sessions_do_not_raise_enumeration_alerts() {
        let connector = Connector::new(
            "prod",
            "123456789012",
            &[Plan::Cspm, Plan::Servers],
            vec![],
            12,
            None,
        );
        let suppressions = own_role_suppressions(&connector);
        assert!(!suppressions.is_empty());
        assert!(suppressions.iter().all(|s| {
            s.alert_type.as_deref() == Some("AWS.ApiEnumerationBurst")
                && s.entity
                    .value
                    .starts_with("arn:aws:sts::123456789012:assumed-role/")
                && s.entity.value.ends_with("/*")
        }));
    }
}
