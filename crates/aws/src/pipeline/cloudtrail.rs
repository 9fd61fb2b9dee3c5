//! CloudTrail threat detection's source: the account's trails and their
//! log objects in S3 (`[prefix/]AWSLogs/<account>/CloudTrail/<region>/
//! YYYY/MM/DD/*.json.gz`, organization trails
//! `[prefix/]AWSLogs/<org-id>/<account>/CloudTrail/…`), each a gzipped
//! `{"Records": […]}`.
//!
//! [`discover`] finds the trails (DescribeTrails, GetTrailStatus) and
//! [`destinations`] the distinct bucket and prefix they deliver to. New
//! objects are found one of two ways:
//!
//! * listing: [`log_locations`] names each account and region prefix,
//!   [`list_new_objects`] lists the keys after a stored cursor, and
//!   [`read_log_object`] reads one. Nothing in the account changes.
//! * notification: [`plan`] / [`apply`] add an S3 event notification of
//!   new objects under `[prefix/]AWSLogs/` on the trail bucket to a
//!   `rampart-cloudtrail-*` queue (with a dead-letter queue), merged into
//!   the bucket's notification configuration (every other configuration is
//!   kept); [`plan_removal`] / [`remove`] take Rampart's part out again. The
//!   queue is consumed by [`super::consumer::Consumer`] with [`TrailLogs`].
//!
//! Every call runs as the Servers plan's `defenderForServers` role.

use std::collections::BTreeSet;

use aws_sdk_s3::types::NotificationConfiguration;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::consumer::{ObjectDecoder, QueueSource};
use super::decode::{ObjectRef, decode_cloudtrail_object};
use super::{
    Action, CONNECTOR_TAG, NAME_PREFIX, Outcome, PipelineError, QueuePair, QueueState, Read,
    Resource, Step, StepReport, failed, get_object, merged_notification, notifies_queue,
    observe_notification, observe_queue, owned_by, partition, precondition, put_notification,
    queue_notification, queue_url, short_hash, slug, step,
};
use crate::access::AwsAccess;
use crate::collectors::Operation;
use crate::op;

/// Every API operation discovery, listing, consuming and the notification
/// pipeline may call, with its IAM action: the onboarding templates grant
/// the Servers plan's `defenderForServers` role these.
pub const OPERATIONS: &[Operation] = &[
    op!("cloudtrail", "DescribeTrails"),
    op!("cloudtrail", "GetTrailStatus"),
    op!("s3", "HeadBucket" => "s3:ListBucket"),
    op!("s3", "ListObjectsV2" => "s3:ListBucket"),
    op!("s3", "GetObject"),
    op!("s3", "GetBucketNotificationConfiguration" => "s3:GetBucketNotification"),
    op!("s3", "PutBucketNotificationConfiguration" => "s3:PutBucketNotification"),
    op!("sqs", "GetQueueUrl"),
    op!("sqs", "GetQueueAttributes"),
    op!("sqs", "ListQueueTags"),
    op!("sqs", "CreateQueue"),
    op!("sqs", "SetQueueAttributes"),
    op!("sqs", "TagQueue"),
    op!("sqs", "DeleteQueue"),
    op!("sqs", "ReceiveMessage"),
    op!("sqs", "DeleteMessage"),
];

/// Id of Rampart's queue configuration in the trail bucket's notification
/// configuration.
pub const NOTIFICATION_ID: &str = "rampart-cloudtrail";

/// Tag key naming the trail bucket a queue serves.
pub const BUCKET_TAG: &str = "RampartCloudTrailBucket";

/// One trail, as DescribeTrails and GetTrailStatus report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trail {
    /// The trail's name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The region it was created in.
    pub home_region: String,
    /// The bucket it delivers log files to.
    pub bucket: String,
    /// The key prefix it delivers under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Whether it logs the whole organization.
    pub organization: bool,
    /// Whether it logs every region.
    pub multi_region: bool,
    /// Whether it is logging; `None` when its status could not be read.
    pub logging: Option<bool>,
    /// Why its status could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_error: Option<PipelineError>,
}

/// The trails of the account, as seen from `region` (shadow trails of
/// multi-region and organization trails included), each with its logging
/// status read in its home region.
pub async fn discover(access: &AwsAccess, region: &str) -> Result<Vec<Trail>, PipelineError> {
    let out = access
        .cloudtrail(region)
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| PipelineError::call("DescribeTrails", &e))?;
    let mut trails = Vec::new();
    let mut seen = BTreeSet::new();
    for t in out.trail_list() {
        let (Some(arn), Some(bucket)) = (t.trail_arn(), t.s3_bucket_name()) else {
            continue;
        };
        if !seen.insert(arn.to_owned()) {
            continue;
        }
        let home_region = t.home_region().unwrap_or(region).to_owned();
        let (logging, status_error) = match access
            .cloudtrail(&home_region)
            .get_trail_status()
            .name(arn)
            .send()
            .await
        {
            Ok(status) => (status.is_logging(), None),
            Err(e) => (None, Some(PipelineError::call("GetTrailStatus", &e))),
        };
        trails.push(Trail {
            name: t.name().unwrap_or_default().to_owned(),
            arn: arn.to_owned(),
            home_region,
            bucket: bucket.to_owned(),
            prefix: t
                .s3_key_prefix()
                .map(|p| p.trim_end_matches('/').to_owned())
                .filter(|p| !p.is_empty()),
            organization: t.is_organization_trail().unwrap_or(false),
            multi_region: t.is_multi_region_trail().unwrap_or(false),
            logging,
            status_error,
        });
    }
    Ok(trails)
}

/// Where trails deliver: one bucket and prefix, read once however many
/// trails share it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailDestination {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The trails delivering there.
    pub trails: Vec<String>,
    /// Whether one of them is an organization trail.
    pub organization: bool,
    /// The home region of the first of them (where the bucket is looked
    /// up first).
    pub home_region: String,
}

/// The distinct destinations of the trails that log (or whose status is
/// unknown); stopped trails deliver nothing new.
pub fn destinations(trails: &[Trail]) -> Vec<TrailDestination> {
    let mut out: Vec<TrailDestination> = Vec::new();
    for t in trails.iter().filter(|t| t.logging != Some(false)) {
        match out
            .iter_mut()
            .find(|d| d.bucket == t.bucket && d.prefix == t.prefix)
        {
            Some(d) => {
                d.trails.push(t.name.clone());
                d.organization |= t.organization;
            }
            None => out.push(TrailDestination {
                bucket: t.bucket.clone(),
                prefix: t.prefix.clone(),
                trails: vec![t.name.clone()],
                organization: t.organization,
                home_region: t.home_region.clone(),
            }),
        }
    }
    out
}

/// The region of `bucket`: HeadBucket's `x-amz-bucket-region`, asked in
/// `region` (AWS answers it even when the bucket lives elsewhere).
pub async fn bucket_region(
    access: &AwsAccess,
    bucket: &str,
    region: &str,
) -> Result<String, PipelineError> {
    match access.s3(region).head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(out.bucket_region().unwrap_or(region).to_owned()),
        Err(err) => {
            let redirected = err
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            redirected.ok_or_else(|| PipelineError::call("HeadBucket", &err))
        }
    }
}

/// `[prefix/]AWSLogs/`: where every log file of a destination lies.
pub fn logs_root(prefix: Option<&str>) -> String {
    match prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{p}/AWSLogs/"),
        None => "AWSLogs/".to_owned(),
    }
}

/// Where one account's log files of one region lie in a trail bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLocation {
    /// The bucket.
    pub bucket: String,
    /// The bucket's region.
    pub bucket_region: String,
    /// `[prefix/]AWSLogs/`.
    pub root: String,
    /// The organization id of an organization trail's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The account.
    pub account: String,
    /// The region whose events the files hold.
    pub region: String,
}

impl LogLocation {
    /// `[prefix/]AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/`.
    pub fn key_prefix(&self) -> String {
        let org = self
            .organization
            .as_deref()
            .map(|o| format!("{o}/"))
            .unwrap_or_default();
        format!(
            "{}{org}{}/CloudTrail/{}/",
            self.root, self.account, self.region
        )
    }

    /// A stable name for cursors: `s3://<bucket>/<key prefix>`.
    pub fn scope(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key_prefix())
    }
}

/// What a log object's key says: whose log it is and which region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    /// The organization id (organization trails).
    pub organization: Option<String>,
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_organization(s: &str) -> bool {
    s.strip_prefix("o-")
        .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Parses `[prefix/]AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`;
/// `None` for any other key (digest files, CloudTrail Insights, other
/// objects of the bucket).
pub fn parse_log_key(key: &str) -> Option<LogKey> {
    let (_, rest) = key.rsplit_once("AWSLogs/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (organization, parts) = match parts.first() {
        Some(o) if is_organization(o) => (Some((*o).to_owned()), parts.get(1..)?),
        _ => (None, parts.as_slice()),
    };
    let [account, "CloudTrail", region, year, month, day, file] = parts else {
        return None;
    };
    let date_ok = [(year, 4), (month, 2), (day, 2)]
        .iter()
        .all(|(p, n)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()));
    if !is_account(account) || !date_ok || region.is_empty() || file.is_empty() {
        return None;
    }
    Some(LogKey {
        organization,
        account: (*account).to_owned(),
        region: (*region).to_owned(),
    })
}

/// The organization ids with a folder under the destination's
/// `AWSLogs/` (organization trails deliver under them).
async fn organization_ids(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    root: &str,
) -> Result<Vec<String>, PipelineError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(root)
            .delimiter("/")
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| PipelineError::call("ListObjectsV2", &e))?;
        ids.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .filter_map(|p| p.strip_prefix(root))
                .map(|p| p.trim_end_matches('/'))
                .filter(|p| is_organization(p))
                .map(str::to_owned),
        );
        match out.next_continuation_token {
            Some(next) if out.is_truncated == Some(true) => token = Some(next),
            _ => return Ok(ids),
        }
    }
}

/// The account's log locations in a destination for `regions`: its own
/// path and, for each organization folder in the bucket, the organization
/// path.
pub async fn log_locations(
    access: &AwsAccess,
    destination: &TrailDestination,
    bucket_region: &str,
    account: &str,
    regions: &[String],
) -> Result<Vec<LogLocation>, PipelineError> {
    let root = logs_root(destination.prefix.as_deref());
    let s3 = access.s3(bucket_region);
    let mut organizations: Vec<Option<String>> = vec![None];
    organizations.extend(
        organization_ids(&s3, &destination.bucket, &root)
            .await?
            .into_iter()
            .map(Some),
    );
    Ok(organizations
        .into_iter()
        .flat_map(|organization| {
            regions
                .iter()
                .map(move |region| (organization.clone(), region))
        })
        .map(|(organization, region)| LogLocation {
            bucket: destination.bucket.clone(),
            bucket_region: bucket_region.to_owned(),
            root: root.clone(),
            organization,
            account: account.to_owned(),
            region: region.clone(),
        })
        .collect())
}

/// Where listing starts: after the cursor's delivery minute (the files of
/// the cursor's minute are listed again, since one delivered later in the
/// same minute may sort before it; reading them again stores nothing
/// twice), else at the start of the day `lookback_days` before `now`.
pub fn start_after(
    location: &LogLocation,
    cursor: Option<&str>,
    now: OffsetDateTime,
    lookback_days: u16,
) -> String {
    if let Some(cursor) = cursor {
        let file_start = cursor.rfind('/').map_or(0, |i| i + 1);
        return match cursor.rfind('_') {
            Some(i) if i > file_start => cursor.get(..i).unwrap_or(cursor).to_owned(),
            _ => cursor.to_owned(),
        };
    }
    let day = now - time::Duration::days(i64::from(lookback_days));
    format!(
        "{}{:04}/{:02}/{:02}",
        location.key_prefix(),
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The keys under the location after `after`, in key order (the order of
/// delivery), at most `max`.
pub async fn list_new_objects(
    access: &AwsAccess,
    location: &LogLocation,
    after: &str,
    max: usize,
) -> Result<Vec<String>, PipelineError> {
    let s3 = access.s3(&location.bucket_region);
    let prefix = location.key_prefix();
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut list = s3
            .list_objects_v2()
            .bucket(&location.bucket)
            .prefix(&prefix)
            .set_continuation_token(token.take());
        if !after.is_empty() {
            list = list.start_after(after);
        }
        let out = list
            .send()
            .await
            .map_err(|e| PipelineError::call("ListObjectsV2", &e))?;
        keys.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key())
                .filter(|k| parse_log_key(k).is_some())
                .map(str::to_owned),
        );
        if keys.len() >= max {
            keys.truncate(max);
            return Ok(keys);
        }
        match out.next_continuation_token {
            Some(next) if out.is_truncated == Some(true) => token = Some(next),
            _ => return Ok(keys),
        }
    }
}

/// One CloudTrail record with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrailRecord {
    /// The account whose log file held it (from the key).
    pub account: String,
    /// The region of the log file (from the key).
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// The object's key.
    pub key: String,
    /// The record, as CloudTrail wrote it.
    pub body: Value,
    /// Its `eventTime`, milliseconds since the Unix epoch (0 when absent
    /// or unreadable; detection reports such a record).
    pub time_ms: i64,
}

fn event_time_ms(body: &Value) -> i64 {
    body.get("eventTime")
        .and_then(Value::as_str)
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .unwrap_or(0)
}

/// The records of one log object's bytes.
pub fn records_of(
    bucket: &str,
    key: &str,
    log: &LogKey,
    bytes: &[u8],
) -> Result<Vec<TrailRecord>, PipelineError> {
    Ok(decode_cloudtrail_object(bytes)?
        .into_iter()
        .map(|body| TrailRecord {
            account: log.account.clone(),
            region: log.region.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            time_ms: event_time_ms(&body),
            body,
        })
        .collect())
}

/// Reads one log object of a location.
pub async fn read_log_object(
    access: &AwsAccess,
    location: &LogLocation,
    key: &str,
) -> Result<Vec<TrailRecord>, PipelineError> {
    let log = parse_log_key(key).ok_or_else(|| {
        PipelineError::Invalid(format!("`{key}` is not a CloudTrail log file key"))
    })?;
    let bytes = get_object(&access.s3(&location.bucket_region), &location.bucket, key).await?;
    records_of(&location.bucket, key, &log, &bytes)
}

/// The consumer's decoder for a trail bucket's notifications: reads the
/// log files of `account` in `regions` (every region when empty); digest
/// files, other accounts' files and other objects are skipped.
#[derive(Debug, Clone, Default)]
pub struct TrailLogs {
    /// The connector's account.
    pub account: String,
    /// The regions read; empty: all.
    pub regions: Vec<String>,
}

impl ObjectDecoder for TrailLogs {
    type Record = TrailRecord;

    fn wants(&self, _source: &QueueSource, object: &ObjectRef) -> bool {
        parse_log_key(&object.key).is_some_and(|k| {
            k.account == self.account
                && (self.regions.is_empty() || self.regions.contains(&k.region))
        })
    }

    fn decode(
        &self,
        _source: &QueueSource,
        object: &ObjectRef,
        bytes: &[u8],
    ) -> Result<Vec<TrailRecord>, PipelineError> {
        let log = parse_log_key(&object.key).ok_or_else(|| {
            PipelineError::Invalid(format!("`{}` is not a CloudTrail log file key", object.key))
        })?;
        records_of(&object.bucket, &object.key, &log, bytes)
    }

    fn timestamp_ms(record: &TrailRecord) -> i64 {
        record.time_ms
    }
}

// ---------------------------------------------------------------- notification pipeline

/// What to provision for one trail destination in notification mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailPipeline {
    /// The connector's account (owns the queues and, normally, the bucket).
    pub account: String,
    /// The connector's id: the value of the `RampartSecurityConnector` tag.
    pub connector_id: String,
    /// The trail bucket.
    pub bucket: String,
    /// The bucket's region: the queues are created there.
    pub bucket_region: String,
    /// The trails' key prefix, if any.
    pub prefix: Option<String>,
}

impl TrailPipeline {
    /// The pipeline's names.
    pub fn names(&self) -> TrailNames {
        let hash = short_hash(&[
            &self.account,
            &self.bucket,
            self.prefix.as_deref().unwrap_or_default(),
        ]);
        let base = format!("{NAME_PREFIX}cloudtrail-{}-{hash}", slug(&self.bucket, 40));
        TrailNames {
            account: self.account.clone(),
            region: self.bucket_region.clone(),
            bucket: self.bucket.clone(),
            queue: base.clone(),
            dead_letter_queue: format!("{base}-dlq"),
            object_prefix: logs_root(self.prefix.as_deref()),
        }
    }
}

/// The names of a trail destination's notification pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailNames {
    /// Account id.
    pub account: String,
    /// The bucket's region (the queues').
    pub region: String,
    /// The trail bucket.
    pub bucket: String,
    /// The queue the bucket notifies.
    pub queue: String,
    /// Its dead-letter queue.
    pub dead_letter_queue: String,
    /// The key prefix the notification covers (`[prefix/]AWSLogs/`).
    pub object_prefix: String,
}

impl TrailNames {
    fn queue_pair(&self) -> QueuePair {
        QueuePair {
            account: self.account.clone(),
            region: self.region.clone(),
            queue: self.queue.clone(),
            dead_letter_queue: self.dead_letter_queue.clone(),
            bucket_arn: format!("arn:{}:s3:::{}", partition(&self.region), self.bucket),
            bucket_account: self.account.clone(),
            policy_id: "rampart-cloudtrail-notifications",
            statement_id: "AllowTrailBucketNotifications",
        }
    }

    /// The queue's ARN.
    pub fn queue_arn(&self) -> String {
        self.queue_pair().queue_arn()
    }

    /// The queue as the consumer reads it; `None` when it does not exist.
    pub async fn source(
        &self,
        sqs: &aws_sdk_sqs::Client,
    ) -> Result<Option<QueueSource>, PipelineError> {
        let Some(url) = queue_url(sqs, &self.queue).await? else {
            return Ok(None);
        };
        Ok(Some(QueueSource {
            account: self.account.clone(),
            region: self.region.clone(),
            cluster: self.bucket.clone(),
            bucket: self.bucket.clone(),
            queue_url: url,
            dead_letter_queue_url: queue_url(sqs, &self.dead_letter_queue).await?,
        }))
    }
}

/// The steps for one trail destination, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailPlan {
    /// The pipeline's names.
    pub names: TrailNames,
    /// The steps.
    pub steps: Vec<Step>,
}

impl TrailPlan {
    /// Whether nothing needs to change and every read succeeded.
    pub fn is_converged(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.action == Action::None && s.error.is_none())
    }
}

/// What [`apply`] or [`remove`] did for one trail destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailReport {
    /// The pipeline's names.
    pub names: TrailNames,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
}

impl TrailReport {
    /// Whether every step succeeded (or had nothing to do).
    pub fn succeeded(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed steps.
    pub fn failures(&self) -> impl Iterator<Item = &StepReport> {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
    }
}

struct Observed {
    dead_letter_queue: Read<QueueState>,
    queue: Read<QueueState>,
    notification: Read<NotificationConfiguration>,
}

async fn observe(access: &AwsAccess, names: &TrailNames) -> Observed {
    let sqs = access.sqs(&names.region);
    Observed {
        dead_letter_queue: observe_queue(&sqs, &names.dead_letter_queue).await,
        queue: observe_queue(&sqs, &names.queue).await,
        notification: observe_notification(&access.s3(&names.region), &names.bucket).await,
    }
}

fn validate(input: &TrailPipeline) -> Result<(), PipelineError> {
    if !is_account(&input.account) {
        return Err(PipelineError::Invalid(format!(
            "account `{}` is not 12 digits",
            input.account
        )));
    }
    if input.connector_id.trim().is_empty() || input.bucket.is_empty() {
        return Err(PipelineError::Invalid(
            "the connector id or the bucket is empty".to_owned(),
        ));
    }
    crate::access::validate_region_syntax(&input.bucket_region)
        .map_err(|e| PipelineError::Invalid(e.to_string()))
}

fn plan_steps(input: &TrailPipeline, names: &TrailNames, obs: &Observed) -> Vec<Step> {
    let queues = names.queue_pair();
    let mut steps = vec![
        queues.plan_step(&obs.dead_letter_queue, true, &input.connector_id),
        queues.plan_step(&obs.queue, false, &input.connector_id),
    ];
    let bucket = names.bucket.as_str();
    steps.push(match &obs.notification {
        Read::Found(config) if notifies_queue(config, &names.queue_arn()) => step(
            Resource::BucketNotification,
            bucket,
            Action::None,
            format!("notifies the queue of new objects under `{}`", names.object_prefix),
        ),
        Read::Found(config) => {
            let others = config.queue_configurations().len()
                + config.topic_configurations().len()
                + config.lambda_function_configurations().len();
            step(
                Resource::BucketNotification,
                bucket,
                Action::Update,
                format!(
                    "add a notification of new objects under `{}` to the queue; the bucket's {others} other notification configuration{} stay as they are",
                    names.object_prefix,
                    if others == 1 { "" } else { "s" }
                ),
            )
        }
        Read::Failed(e) => failed(Resource::BucketNotification, bucket, e.clone()),
        Read::Missing => failed(
            Resource::BucketNotification,
            bucket,
            PipelineError::Invalid(format!("trail bucket `{bucket}` not found")),
        ),
    });
    steps
}

/// Reads the destination's notification pipeline and returns what
/// [`apply`] would do. Changes nothing.
pub async fn plan(access: &AwsAccess, input: &TrailPipeline) -> Result<TrailPlan, PipelineError> {
    validate(input)?;
    let names = input.names();
    let observed = observe(access, &names).await;
    Ok(TrailPlan {
        steps: plan_steps(input, &names, &observed),
        names,
    })
}

/// Creates (or repairs) the queues and adds Rampart's notification to the
/// trail bucket, merged into its configuration. A failed step blocks the
/// steps that need it.
pub async fn apply(
    access: &AwsAccess,
    input: &TrailPipeline,
) -> Result<TrailReport, PipelineError> {
    validate(input)?;
    let names = input.names();
    let observed = observe(access, &names).await;
    let sqs = access.sqs(&names.region);
    let queues = names.queue_pair();
    let tags = [
        (CONNECTOR_TAG, input.connector_id.as_str()),
        (BUCKET_TAG, input.bucket.as_str()),
    ];
    let mut reports: Vec<StepReport> = Vec::new();
    for step in plan_steps(input, &names, &observed) {
        let outcome = if let Some(blocked) = precondition(&step, &reports) {
            blocked
        } else if step.action == Action::None {
            Outcome::Unchanged
        } else {
            let done = match step.resource {
                Resource::DeadLetterQueue => queues
                    .put(&sqs, &observed.dead_letter_queue, true, &tags)
                    .await
                    .map(drop),
                Resource::Queue => queues
                    .put(&sqs, &observed.queue, false, &tags)
                    .await
                    .map(drop),
                _ => match &observed.notification {
                    Read::Found(existing) => match queue_notification(
                        NOTIFICATION_ID,
                        &names.queue_arn(),
                        &names.object_prefix,
                    ) {
                        Ok(ours) => {
                            let config = merged_notification(
                                existing,
                                NOTIFICATION_ID,
                                &names.queue_arn(),
                                Some(ours),
                            );
                            put_notification(&access.s3(&names.region), &names.bucket, config).await
                        }
                        Err(e) => Err(e),
                    },
                    _ => Err(PipelineError::Blocked(
                        Resource::BucketNotification.as_str().to_owned(),
                    )),
                },
            };
            match done {
                Ok(()) => Outcome::Done,
                Err(error) => Outcome::Failed { error },
            }
        };
        reports.push(StepReport { step, outcome });
    }
    Ok(TrailReport {
        names,
        steps: reports,
    })
}

fn removal_steps(input: &TrailPipeline, names: &TrailNames, obs: &Observed) -> Vec<Step> {
    let bucket = names.bucket.as_str();
    let arn = names.queue_arn();
    let mut steps = vec![match &obs.notification {
        Read::Found(config)
            if config
                .queue_configurations()
                .iter()
                .any(|q| q.id() == Some(NOTIFICATION_ID) || q.queue_arn() == arn) =>
        {
            step(
                Resource::BucketNotification,
                bucket,
                Action::Delete,
                "take Rampart's notification out; other configurations stay",
            )
        }
        Read::Found(_) | Read::Missing => step(
            Resource::BucketNotification,
            bucket,
            Action::None,
            "no Rampart notification",
        ),
        Read::Failed(e) => failed(Resource::BucketNotification, bucket, e.clone()),
    }];
    for (resource, name, read) in [
        (Resource::Queue, &names.queue, &obs.queue),
        (
            Resource::DeadLetterQueue,
            &names.dead_letter_queue,
            &obs.dead_letter_queue,
        ),
    ] {
        steps.push(match read {
            Read::Found(q) if owned_by(q.owner.as_ref(), &input.connector_id) => {
                step(resource, name, Action::Delete, "delete")
            }
            Read::Found(_) => step(
                resource,
                name,
                Action::None,
                "not tagged with this connector; left alone",
            ),
            Read::Missing => step(resource, name, Action::None, "absent"),
            Read::Failed(e) => failed(resource, name, e.clone()),
        });
    }
    steps
}

/// What [`remove`] would do. Changes nothing.
pub async fn plan_removal(
    access: &AwsAccess,
    input: &TrailPipeline,
) -> Result<TrailPlan, PipelineError> {
    validate(input)?;
    let names = input.names();
    let observed = observe(access, &names).await;
    Ok(TrailPlan {
        steps: removal_steps(input, &names, &observed),
        names,
    })
}

/// Takes Rampart's notification out of the trail bucket's configuration
/// (every other configuration stays) and deletes the queues tagged with
/// this connector. The trail and its bucket are never changed otherwise.
pub async fn remove(
    access: &AwsAccess,
    input: &TrailPipeline,
) -> Result<TrailReport, PipelineError> {
    validate(input)?;
    let names = input.names();
    let observed = observe(access, &names).await;
    let sqs = access.sqs(&names.region);
    let mut reports = Vec::new();
    for step in removal_steps(input, &names, &observed) {
        let outcome = if let Some(error) = &step.error {
            Outcome::Failed {
                error: error.clone(),
            }
        } else if step.action == Action::None {
            Outcome::Unchanged
        } else {
            let done = match (step.resource, &observed) {
                (
                    Resource::BucketNotification,
                    Observed {
                        notification: Read::Found(existing),
                        ..
                    },
                ) => {
                    let config =
                        merged_notification(existing, NOTIFICATION_ID, &names.queue_arn(), None);
                    put_notification(&access.s3(&names.region), &names.bucket, config).await
                }
                (
                    Resource::Queue,
                    Observed {
                        queue: Read::Found(q),
                        ..
                    },
                )
                | (
                    Resource::DeadLetterQueue,
                    Observed {
                        dead_letter_queue: Read::Found(q),
                        ..
                    },
                ) => sqs
                    .delete_queue()
                    .queue_url(&q.url)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| PipelineError::call("DeleteQueue", &e)),
                _ => Ok(()),
            };
            match done {
                Ok(()) => Outcome::Done,
                Err(error) => Outcome::Failed { error },
            }
        };
        reports.push(StepReport { step, outcome });
    }
    Ok(TrailReport {
        names,
        steps: reports,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use time::macros::datetime;

    use super::*;

    #[test]
    fn log_keys_parse_for_account_and_organization_trails_only() {
        let k = parse_log_key(
            "AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/06/123456789012_CloudTrail_eu-west-1_20261206T0805Z_abc.json.gz",
        )
        .unwrap();
        assert_eq!(
            (k.organization, k.account.as_str(), k.region.as_str()),
            (None, "123456789012", "eu-west-1")
        );
        let k = parse_log_key(
            "logs/AWSLogs/o-abc123def4/123456789012/CloudTrail/us-east-1/2026/12/06/f.json.gz",
        )
        .unwrap();
        assert_eq!(k.organization.as_deref(), Some("o-abc123def4"));
        for other in [
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/12/06/d.json.gz",
            "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/12/06/i.json.gz",
            "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/06/",
            "AWSLogs/1234/CloudTrail/us-east-1/2026/12/06/f.json.gz",
            "AWSLogs/123456789012/CloudTrail/us-east-1/26/12/06/f.json.gz",
            "other/key",
        ] {
            assert_eq!(parse_log_key(other), None, "{other}");
        }
    }

    #[test]
    fn listing_starts_at_the_cursors_minute_or_the_lookback_day() {
        let location = LogLocation {
            bucket: "trail".into(),
            bucket_region: "us-east-1".into(),
            root: logs_root(Some("/org/")),
            organization: Some("o-abc123def4".into()),
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        assert_eq!(
            location.key_prefix(),
            "org/AWSLogs/o-abc123def4/123456789012/CloudTrail/us-east-1/"
        );
        let now = datetime!(2026-12-06 08:00 UTC);
        assert_eq!(
            start_after(&location, None, now, 1),
            "org/AWSLogs/o-abc123def4/123456789012/CloudTrail/us-east-1/2026/12/05"
        );
        let cursor = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/06/123456789012_CloudTrail_us-east-1_20261206T0805Z_zzz.json.gz";
        let from = start_after(&location, Some(cursor), now, 1);
        assert!(from.ends_with("_20261206T0805Z"), "{from}");
        let same_minute = cursor.replace("_zzz", "_aaa");
        assert!(same_minute.as_str() > from.as_str() && cursor > from.as_str());
        assert_eq!(logs_root(None), "AWSLogs/");
    }

    fn trail(name: &str, bucket: &str, logging: Option<bool>) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:123456789012:trail/{name}"),
            home_region: "us-east-1".into(),
            bucket: bucket.into(),
            prefix: None,
            organization: false,
            multi_region: true,
            logging,
            status_error: None,
        }
    }

    #[test]
    fn destinations_are_distinct_and_skip_stopped_trails() {
        let mut org = trail("org", "b1", Some(true));
        org.organization = true;
        let dests = destinations(&[
            trail("a", "b1", Some(true)),
            org,
            trail("stopped", "b2", Some(false)),
            trail("unknown", "b3", None),
        ]);
        assert_eq!(dests.len(), 2);
        assert_eq!(dests[0].trails, ["a", "org"]);
        assert!(dests[0].organization);
        assert_eq!(dests[1].bucket, "b3");
    }

    #[test]
    fn names_are_prefixed_and_within_limits() {
        let input = TrailPipeline {
            account: "123456789012".into(),
            connector_id: "c1".into(),
            bucket: "A.very.long.bucket-name".repeat(4),
            bucket_region: "eu-west-1".into(),
            prefix: Some("p".into()),
        };
        let names = input.names();
        assert!(names.queue.starts_with("rampart-cloudtrail-") && names.queue.len() <= 80);
        assert!(names.dead_letter_queue.ends_with("-dlq") && names.dead_letter_queue.len() <= 80);
        assert_eq!(names.object_prefix, "p/AWSLogs/");
        assert!(validate(&input).is_ok());
    }

    #[test]
    fn operations_have_well_formed_actions() {
        for op in OPERATIONS {
            let (service, name) = op.action.split_once(':').unwrap();
            assert!(
                ["cloudtrail", "s3", "sqs"].contains(&service),
                "{}",
                op.action
            );
            assert!(name.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
        }
    }
}
