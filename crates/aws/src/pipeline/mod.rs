//! Log pipelines Rampart provisions in a customer's account and consumes
//! (design.md section 9): CloudWatch Logs → Firehose → S3 → SQS.
//!
//! * [`containers`] — the Containers plan's audit-log pipeline per EKS
//!   cluster: [`containers::plan`] (dry run), [`containers::apply`],
//!   [`containers::plan_removal`], [`containers::remove`],
//!   [`containers::check`].
//! * [`servers`] — the Servers plan's SSM provisioning per account: an
//!   instance profile for instances without one, State Manager
//!   associations for software inventory and patch scans
//!   ([`servers::plan`], [`servers::apply`], [`servers::plan_removal`],
//!   [`servers::remove`]).
//! * [`consumer`] — long-polls a pipeline queue, reads the objects its S3
//!   notifications name, and hands the log events to a sink; a message is
//!   deleted only after the sink stored all of its events.
//! * [`cloudtrail`] — CloudTrail threat detection's source: the account's
//!   trails ([`cloudtrail::discover`]), their log objects read by listing
//!   after a cursor ([`cloudtrail::list_new_objects`]) or announced by an
//!   S3 notification to a `rampart-cloudtrail-*` queue
//!   ([`cloudtrail::plan`], [`cloudtrail::apply`], [`cloudtrail::remove`]).
//! * [`sql`] — which log groups carry SQL Server logs; the SQL plan
//!   provisions a [`containers`] pipeline per group
//!   ([`containers::PipelineSource::LogGroup`]).
//! * [`decode`] — pure decoding of notifications, Firehose objects and
//!   CloudTrail log objects.
//!
//! Both pipelines share the step machinery ([`Resource`], [`Action`],
//! [`Step`], [`Outcome`], [`StepReport`]), the queue pair (queue plus
//! dead-letter queue) and the merge of Rampart's notification into a
//! bucket's notification configuration defined here.
//!
//! Every failed AWS call is data ([`PipelineError`] on its step or object),
//! never a panic.
//!
//! ```no_run
//! use rampart_aws::AwsAccess;
//! use rampart_aws::pipeline::consumer::{Consumer, ConsumerOptions, EventSink, LogRecord, QueueSource};
//! use rampart_aws::pipeline::containers::{self, ApplyOptions, Action, Clients, ClusterPipeline};
//!
//! struct Store;
//! impl EventSink for Store {
//!     async fn store(&self, records: Vec<LogRecord>) -> Result<(), String> {
//!         // Store the events (idempotently) and their alerts; then Ok.
//!         Ok(())
//!     }
//! }
//!
//! # async fn example(k8s: AwsAccess, data_collection: AwsAccess) -> Result<(), Box<dyn std::error::Error>> {
//! // `k8s`: the kubernetesService role's access; `data_collection`: the
//! // kubernetesDataCollection role's.
//! let pipeline = ClusterPipeline {
//!     account: "123456789012".into(),
//!     region: "eu-west-1".into(),
//!     cluster: "prod".into(),
//!     source: containers::PipelineSource::EksCluster,
//!     connector_id: "c0ffee00-0000-4000-8000-000000000001".into(),
//!     connector_name: "prod".into(),
//!     retention_days: 30,
//!     cloudwatch_to_kinesis_role_arn: "arn:aws:iam::123456789012:role/RampartContainersCloudWatchToKinesis".into(),
//!     kinesis_to_s3_role_arn: "arn:aws:iam::123456789012:role/RampartContainersKinesisToS3".into(),
//! };
//! let clients = Clients::new(&k8s, &pipeline.region);
//! let plan = containers::plan(&clients, &pipeline).await?; // dry run
//! if plan.steps.iter().any(|s| s.action != Action::None) {
//!     let report = containers::apply(&clients, &pipeline, ApplyOptions::default()).await?;
//!     for failed in report.failures() {
//!         eprintln!("{}: {:?}", failed.step.resource, failed.outcome);
//!     }
//! }
//! let sqs = data_collection.sqs(&pipeline.region);
//! let source = QueueSource::resolve(&sqs, &pipeline.names(), &pipeline.cluster).await?;
//! let mut consumer = Consumer::new(&data_collection, source, ConsumerOptions::default());
//! let report = consumer.poll(&Store).await;
//! println!("{} events, {} errors", report.events, report.errors.len());
//! # Ok(())
//! # }
//! ```

pub mod cloudtrail;
pub mod consumer;
pub mod containers;
pub mod decode;
pub mod servers;
pub mod sql;

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_sqs::types::QueueAttributeName;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rampart_model::GapKind;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::classify;

/// Tag key naming the connector a pipeline resource belongs to (its id).
pub const CONNECTOR_TAG: &str = "RampartSecurityConnector";

/// Tag key naming the EKS cluster a pipeline resource serves.
pub const CLUSTER_TAG: &str = "RampartEksCluster";

/// Tag naming the SQL Server log group a pipeline's resources serve.
pub const LOG_GROUP_TAG: &str = "RampartLogGroup";

/// Prefix of every resource name the pipelines create.
pub const NAME_PREFIX: &str = "rampart-";

/// What went wrong with one step of a pipeline, or one object or message
/// of a consumer. Messages are lower case with values in backticks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PipelineError {
    /// An AWS call failed.
    #[error("`{operation}` failed: {message}")]
    Call {
        /// The API operation (`CreateBucket`).
        operation: String,
        /// Why, classified as a coverage gap.
        kind: GapKind,
        /// The error code AWS returned, if any.
        code: Option<String>,
        /// One line.
        message: String,
    },
    /// A resource with Rampart's name exists but is not tagged with this
    /// connector: it is left alone.
    #[error("`{name}` exists but is not tagged `{CONNECTOR_TAG}={connector}`; it is left alone")]
    NotOwned {
        /// The resource's name.
        name: String,
        /// The connector id expected in the tag.
        connector: String,
    },
    /// The step was not attempted because a step it needs failed.
    #[error("skipped because `{0}` failed")]
    Blocked(String),
    /// The input is unusable.
    #[error("invalid pipeline input: {0}")]
    Invalid(String),
    /// A resource did not become ready in time.
    #[error("`{name}` is still `{status}` after {waited_secs}s")]
    NotReady {
        /// The resource's name.
        name: String,
        /// Its last status.
        status: String,
        /// Seconds waited.
        waited_secs: u64,
    },
    /// An object or message could not be decoded.
    #[error("{0}")]
    Decode(#[from] decode::DecodeError),
    /// The caller's sink did not store the events.
    #[error("the sink did not store the events: {0}")]
    Sink(String),
    /// An instance's own instance profile lacks the SSM core policy and
    /// the offering does not allow attaching it (`isPolicyAttachAllowed`).
    #[error(
        "instance `{instance}` has profile `{profile}` without SSM; policy attach not allowed (`arcAutoProvisioning.isPolicyAttachAllowed` is off)"
    )]
    PolicyAttachNotAllowed {
        /// The instance.
        instance: String,
        /// Its instance profile's name.
        profile: String,
    },
}

impl PipelineError {
    /// A failed call of `operation`, classified.
    pub fn call<E>(operation: &str, err: &SdkError<E, Response>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let failure = classify(err);
        Self::Call {
            operation: operation.to_owned(),
            kind: failure.kind,
            code: failure.code,
            message: failure.message,
        }
    }
}

impl Serialize for decode::DecodeError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

// ---------------------------------------------------------------- shared by the provisioning pipelines

/// Whether a part of the pipeline is as it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// As it should be.
    Met,
    /// Missing or different.
    NotMet,
    /// Could not be read: neither met nor not met.
    Unknown,
}

/// The verb of an action, as reports show it.
pub fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::None => "none",
    }
}

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A stable 32-bit FNV-1a hash, as 8 hex digits: keeps truncated names
/// unique and deterministic across builds and platforms.
pub(crate) fn short_hash(parts: &[&str]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash ^= 0x1f;
            hash = hash.wrapping_mul(0x0100_0193);
        }
        for byte in part.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    format!("{hash:08x}")
}

/// A name part made of lower-case letters, digits and single hyphens, at
/// most `max` characters, without leading or trailing hyphens.
pub(crate) fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.len() == max {
            break;
        }
        out.push(c);
    }
    out.trim_end_matches('-').to_owned()
}

// ---------------------------------------------------------------- steps

/// One part of a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// The cluster's `audit` and `authenticator` control-plane logs.
    ClusterLogging,
    /// The cluster's log group and its retention.
    LogGroup,
    /// The S3 bucket (tagged).
    Bucket,
    /// The bucket's default encryption.
    BucketEncryption,
    /// The bucket's Block Public Access.
    BucketPublicAccessBlock,
    /// The bucket's expiry rule.
    BucketLifecycle,
    /// The dead-letter queue.
    DeadLetterQueue,
    /// The queue: redrive policy, policy letting the bucket send, settings.
    Queue,
    /// The bucket's notification to the queue.
    BucketNotification,
    /// The Firehose delivery stream to the bucket.
    DeliveryStream,
    /// The log group's subscription filter to the delivery stream.
    SubscriptionFilter,
    /// A CloudTrail trail (read, never changed).
    Trail,
}

impl Resource {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClusterLogging => "cluster-logging",
            Self::LogGroup => "log-group",
            Self::Bucket => "bucket",
            Self::BucketEncryption => "bucket-encryption",
            Self::BucketPublicAccessBlock => "bucket-public-access-block",
            Self::BucketLifecycle => "bucket-lifecycle",
            Self::DeadLetterQueue => "dead-letter-queue",
            Self::Queue => "queue",
            Self::BucketNotification => "bucket-notification",
            Self::DeliveryStream => "delivery-stream",
            Self::SubscriptionFilter => "subscription-filter",
            Self::Trail => "trail",
        }
    }

    /// The parts this one needs to exist first.
    pub(crate) fn needs(self) -> &'static [Resource] {
        match self {
            Self::BucketEncryption | Self::BucketPublicAccessBlock | Self::BucketLifecycle => {
                &[Self::Bucket]
            }
            Self::Queue => &[Self::DeadLetterQueue],
            Self::BucketNotification => &[Self::Bucket, Self::Queue, Self::Trail],
            Self::DeliveryStream => &[Self::Bucket],
            Self::SubscriptionFilter => &[Self::LogGroup, Self::DeliveryStream],
            _ => &[],
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create the resource.
    Create,
    /// Change the resource's settings.
    Update,
    /// Delete the resource.
    Delete,
    /// Nothing to do.
    None,
}

impl Action {
    /// The word used in reports (`create`, `update`, `delete`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::None => "none",
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The part of the pipeline.
    pub resource: Resource,
    /// The resource's name.
    pub name: String,
    /// What to do.
    pub action: Action,
    /// Why, in a few words.
    pub reason: String,
    /// Reading the current state failed, or the resource is not ours: the
    /// step cannot be carried out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<PipelineError>,
}

/// How a step went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing needed doing.
    Unchanged,
    /// Carried out.
    Done,
    /// Failed or skipped; the error says which.
    Failed {
        /// Why.
        error: PipelineError,
    },
}

/// A step and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// The planned step.
    #[serde(flatten)]
    pub step: Step,
    /// How it went.
    pub outcome: Outcome,
}

/// A resource as read: missing, found, or unreadable.
#[derive(Debug, Clone)]
pub(crate) enum Read<T> {
    Missing,
    Found(T),
    Failed(PipelineError),
}

/// Whether a failed call returned one of `codes`.
pub(crate) fn code_is<E>(err: &SdkError<E, Response>, codes: &[&str]) -> bool
where
    E: ProvideErrorMetadata,
{
    err.code().is_some_and(|c| codes.contains(&c))
}

/// Maps a failed call of `operation` to its error.
pub(crate) fn call<E>(
    operation: &'static str,
) -> impl FnOnce(SdkError<E, Response>) -> PipelineError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |err| PipelineError::call(operation, &err)
}

/// A step without error.
pub(crate) fn step(
    resource: Resource,
    name: &str,
    action: Action,
    reason: impl Into<String>,
) -> Step {
    Step {
        resource,
        name: name.to_owned(),
        action,
        reason: reason.into(),
        error: None,
    }
}

/// The step for an on/off setting: nothing when it is on, an update when
/// it is off or absent, the error when it could not be read.
pub(crate) fn switch_step(
    read: &Read<bool>,
    resource: Resource,
    name: &str,
    on: &str,
    turn_on: &str,
) -> Step {
    match read {
        Read::Found(true) => step(resource, name, Action::None, on),
        Read::Failed(e) => failed(resource, name, e.clone()),
        _ => step(resource, name, Action::Update, turn_on),
    }
}

/// A step whose state could not be read.
pub(crate) fn failed(resource: Resource, name: &str, error: PipelineError) -> Step {
    Step {
        resource,
        name: name.to_owned(),
        action: Action::None,
        reason: "cannot read the current state".to_owned(),
        error: Some(error),
    }
}

/// A step on a resource with Rampart's name that is not the connector's.
pub(crate) fn not_owned(resource: Resource, name: &str, connector_id: &str) -> Step {
    Step {
        resource,
        name: name.to_owned(),
        action: Action::None,
        reason: "exists without this connector's tag".to_owned(),
        error: Some(PipelineError::NotOwned {
            name: name.to_owned(),
            connector: connector_id.to_owned(),
        }),
    }
}

/// Whether the connector tag's value is this connector's id.
pub(crate) fn owned_by(owner: Option<&String>, connector_id: &str) -> bool {
    owner.is_some_and(|o| o == connector_id)
}

/// Why a planned step cannot run before anything is called: its own
/// error, or a step it needs that failed already.
pub(crate) fn precondition(step: &Step, done: &[StepReport]) -> Option<Outcome> {
    if let Some(error) = &step.error {
        return Some(Outcome::Failed {
            error: error.clone(),
        });
    }
    let failed_need = step.resource.needs().iter().find(|need| {
        done.iter()
            .any(|r| r.step.resource == **need && matches!(r.outcome, Outcome::Failed { .. }))
    })?;
    Some(Outcome::Failed {
        error: PipelineError::Blocked(failed_need.as_str().to_owned()),
    })
}

// ---------------------------------------------------------------- queues

/// Receives before a message moves to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;

/// The queue's default visibility timeout, seconds.
pub const VISIBILITY_TIMEOUT_SECS: u32 = 300;

/// The queue keeps messages 4 days, the dead-letter queue 14 (SQS's maximum).
const QUEUE_RETENTION_SECS: u32 = 345_600;
const DEAD_LETTER_RETENTION_SECS: u32 = 1_209_600;
/// Long polling by default on the queue.
const RECEIVE_WAIT_SECS: u32 = 20;

/// A queue as read.
#[derive(Debug, Clone)]
pub(crate) struct QueueState {
    pub(crate) url: String,
    pub(crate) owner: Option<String>,
    pub(crate) attributes: BTreeMap<String, String>,
}

/// A queue's URL; `None` when it does not exist.
pub(crate) async fn queue_url(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<Option<String>, PipelineError> {
    match sqs.get_queue_url().queue_name(name).send().await {
        Ok(out) => Ok(Some(out.queue_url().unwrap_or_default().to_owned())),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_queue_does_not_exist())
                || code_is(
                    &err,
                    &[
                        "AWS.SimpleQueueService.NonExistentQueue",
                        "QueueDoesNotExist",
                    ],
                ) =>
        {
            Ok(None)
        }
        Err(err) => Err(PipelineError::call("GetQueueUrl", &err)),
    }
}

/// Messages waiting in the queue `name` (a dead-letter queue, for health);
/// `None` when the queue does not exist.
pub async fn queue_depth(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<Option<u64>, PipelineError> {
    let Some(url) = queue_url(sqs, name).await? else {
        return Ok(None);
    };
    url_depth(sqs, &url).await.map(Some)
}

/// Messages waiting in the queue at `url`.
pub(crate) async fn url_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<u64, PipelineError> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| PipelineError::call("GetQueueAttributes", &e))?;
    Ok(out
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Reads a queue: its URL, connector tag and attributes.
pub(crate) async fn observe_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Read<QueueState> {
    let url = match queue_url(sqs, name).await {
        Ok(Some(url)) => url,
        Ok(None) => return Read::Missing,
        Err(e) => return Read::Failed(e),
    };
    let owner = match sqs.list_queue_tags().queue_url(&url).send().await {
        Ok(out) => out.tags().and_then(|t| t.get(CONNECTOR_TAG)).cloned(),
        Err(err) => return Read::Failed(PipelineError::call("ListQueueTags", &err)),
    };
    let attributes = match sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
    {
        Ok(out) => out
            .attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        Err(err) => return Read::Failed(PipelineError::call("GetQueueAttributes", &err)),
    };
    Read::Found(QueueState {
        url,
        owner,
        attributes,
    })
}

/// A pipeline's queue and its dead-letter queue: names, the bucket that
/// may send to the queue, and the settings both must have.
#[derive(Debug, Clone)]
pub(crate) struct QueuePair {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) queue: String,
    pub(crate) dead_letter_queue: String,
    /// The bucket whose notifications the queue accepts.
    pub(crate) bucket_arn: String,
    /// The account owning that bucket (`aws:SourceAccount`).
    pub(crate) bucket_account: String,
    /// The queue policy's `Id` and its statement's `Sid`.
    pub(crate) policy_id: &'static str,
    pub(crate) statement_id: &'static str,
}

impl QueuePair {
    fn sqs_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:sqs:{}:{}:{name}",
            partition(&self.region),
            self.region,
            self.account
        )
    }

    /// The queue's ARN.
    pub(crate) fn queue_arn(&self) -> String {
        self.sqs_arn(&self.queue)
    }

    /// The dead-letter queue's ARN.
    pub(crate) fn dead_letter_queue_arn(&self) -> String {
        self.sqs_arn(&self.dead_letter_queue)
    }

    fn policy(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Id": self.policy_id,
            "Statement": [{
                "Sid": self.statement_id,
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": self.queue_arn(),
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": self.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": self.bucket_account},
                },
            }],
        })
    }

    pub(crate) fn redrive_policy(&self) -> Value {
        json!({
            "deadLetterTargetArn": self.dead_letter_queue_arn(),
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        })
    }

    /// The attributes the queue (or dead-letter queue) must have.
    pub(crate) fn attributes(&self, dead_letter: bool) -> Vec<(QueueAttributeName, String)> {
        if dead_letter {
            return vec![(
                QueueAttributeName::MessageRetentionPeriod,
                DEAD_LETTER_RETENTION_SECS.to_string(),
            )];
        }
        vec![
            (
                QueueAttributeName::MessageRetentionPeriod,
                QUEUE_RETENTION_SECS.to_string(),
            ),
            (
                QueueAttributeName::VisibilityTimeout,
                VISIBILITY_TIMEOUT_SECS.to_string(),
            ),
            (
                QueueAttributeName::ReceiveMessageWaitTimeSeconds,
                RECEIVE_WAIT_SECS.to_string(),
            ),
            (
                QueueAttributeName::RedrivePolicy,
                self.redrive_policy().to_string(),
            ),
            (QueueAttributeName::Policy, self.policy().to_string()),
        ]
    }

    /// The attributes that differ from what they must be.
    pub(crate) fn differences(
        &self,
        state: &QueueState,
        dead_letter: bool,
    ) -> Vec<(QueueAttributeName, String)> {
        self.attributes(dead_letter)
            .into_iter()
            .filter(|(name, want)| {
                !attribute_matches(name, want, state.attributes.get(name.as_str()))
            })
            .collect()
    }

    /// The step for the queue (or dead-letter queue) as read.
    pub(crate) fn plan_step(
        &self,
        read: &Read<QueueState>,
        dead_letter: bool,
        connector_id: &str,
    ) -> Step {
        let (resource, name) = if dead_letter {
            (Resource::DeadLetterQueue, &self.dead_letter_queue)
        } else {
            (Resource::Queue, &self.queue)
        };
        match read {
            Read::Missing => step(
                resource,
                name,
                Action::Create,
                if dead_letter {
                    "create, keeps messages 14 days".to_owned()
                } else {
                    format!(
                        "create with redrive to the dead-letter queue after {MAX_RECEIVE_COUNT} receives and a policy letting the bucket send"
                    )
                },
            ),
            Read::Failed(e) => failed(resource, name, e.clone()),
            Read::Found(state) if !owned_by(state.owner.as_ref(), connector_id) => {
                not_owned(resource, name, connector_id)
            }
            Read::Found(state) => {
                let diffs = self.differences(state, dead_letter);
                if diffs.is_empty() {
                    step(resource, name, Action::None, "settings as required")
                } else {
                    let list: Vec<&str> = diffs.iter().map(|(n, _)| n.as_str()).collect();
                    step(
                        resource,
                        name,
                        Action::Update,
                        format!("set {}", list.join(", ")),
                    )
                }
            }
        }
    }

    /// Creates the queue (tagged with `tags`) or sets the attributes that
    /// differ; the URL of a queue it created.
    pub(crate) async fn put(
        &self,
        sqs: &aws_sdk_sqs::Client,
        read: &Read<QueueState>,
        dead_letter: bool,
        tags: &[(&str, &str)],
    ) -> Result<Option<String>, PipelineError> {
        if let Read::Found(state) = read {
            let mut set = sqs.set_queue_attributes().queue_url(&state.url);
            for (k, v) in self.differences(state, dead_letter) {
                set = set.attributes(k, v);
            }
            set.send().await.map_err(call("SetQueueAttributes"))?;
            return Ok(None);
        }
        let name = if dead_letter {
            &self.dead_letter_queue
        } else {
            &self.queue
        };
        let mut create = sqs.create_queue().queue_name(name);
        for (k, v) in tags {
            create = create.tags(*k, *v);
        }
        for (k, v) in self.attributes(dead_letter) {
            create = create.attributes(k, v);
        }
        let out = create.send().await.map_err(call("CreateQueue"))?;
        Ok(out.queue_url().map(str::to_owned))
    }
}

/// JSON attributes compare as JSON (numbers and numeric strings alike).
pub(crate) fn attribute_matches(
    name: &QueueAttributeName,
    want: &str,
    have: Option<&String>,
) -> bool {
    let Some(have) = have else {
        return false;
    };
    match name {
        QueueAttributeName::Policy | QueueAttributeName::RedrivePolicy => {
            let (Ok(want), Ok(have)) = (
                serde_json::from_str::<Value>(want),
                serde_json::from_str::<Value>(have),
            ) else {
                return false;
            };
            normalize(&want) == normalize(&have)
        }
        _ => want == have,
    }
}

/// Numbers as strings and one-element arrays as their element, the way
/// AWS may echo a policy back.
fn normalize(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Array(items) if items.len() == 1 => items.first().map(normalize).unwrap_or_default(),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

// ---------------------------------------------------------------- objects

/// An object's bytes, whole.
pub(crate) async fn get_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, PipelineError> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| PipelineError::call("GetObject", &e))?;
    let bytes = out.body.collect().await.map_err(|e| PipelineError::Call {
        operation: "GetObject".to_owned(),
        kind: GapKind::Other,
        code: None,
        message: format!("reading the body failed: {e}"),
    })?;
    Ok(bytes.into_bytes().to_vec())
}

// ---------------------------------------------------------------- notifications

/// Rampart's notification of new objects under `prefix` to the queue `queue_arn`.
pub(crate) fn queue_notification(
    id: &str,
    queue_arn: &str,
    prefix: &str,
) -> Result<QueueConfiguration, PipelineError> {
    let mut config = QueueConfiguration::builder()
        .id(id)
        .queue_arn(queue_arn)
        .events(Event::S3ObjectCreated);
    if !prefix.is_empty() {
        config = config.filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Prefix)
                                .value(prefix)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    }
    config
        .build()
        .map_err(|e| PipelineError::Invalid(e.to_string()))
}

/// Whether the configuration notifies `queue_arn` of created objects.
pub(crate) fn notifies_queue(config: &NotificationConfiguration, queue_arn: &str) -> bool {
    config.queue_configurations().iter().any(|q| {
        q.queue_arn() == queue_arn
            && q.events()
                .iter()
                .any(|e| matches!(e.as_str(), "s3:ObjectCreated:*" | "s3:ObjectCreated:Put"))
    })
}

/// Reads a bucket's notification configuration.
pub(crate) async fn observe_notification(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Read<NotificationConfiguration> {
    match s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => Read::Found(
            NotificationConfiguration::builder()
                .set_queue_configurations(out.queue_configurations.clone())
                .set_topic_configurations(out.topic_configurations.clone())
                .set_lambda_function_configurations(out.lambda_function_configurations.clone())
                .set_event_bridge_configuration(out.event_bridge_configuration.clone())
                .build(),
        ),
        Err(err) => Read::Failed(PipelineError::call(
            "GetBucketNotificationConfiguration",
            &err,
        )),
    }
}

/// `existing` without Rampart's queue configuration (by id or queue ARN),
/// plus `ours` when given: every other queue, topic, function and
/// EventBridge configuration is kept as it is.
pub(crate) fn merged_notification(
    existing: &NotificationConfiguration,
    id: &str,
    queue_arn: &str,
    ours: Option<QueueConfiguration>,
) -> NotificationConfiguration {
    let mut queues: Vec<QueueConfiguration> = existing
        .queue_configurations()
        .iter()
        .filter(|q| q.id() != Some(id) && q.queue_arn() != queue_arn)
        .cloned()
        .collect();
    queues.extend(ours);
    NotificationConfiguration::builder()
        .set_queue_configurations(Some(queues))
        .set_topic_configurations(existing.topic_configurations.clone())
        .set_lambda_function_configurations(existing.lambda_function_configurations.clone())
        .set_event_bridge_configuration(existing.event_bridge_configuration.clone())
        .build()
}

/// Writes a bucket's notification configuration.
pub(crate) async fn put_notification(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    config: NotificationConfiguration,
) -> Result<(), PipelineError> {
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(config)
        .send()
        .await
        .map_err(call("PutBucketNotificationConfiguration"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_hashes_are_stable() {
        assert_eq!(slug("Prod_Cluster--1", 40), "prod-cluster-1");
        assert_eq!(slug("abc-def", 4), "abc");
        assert_eq!(slug("__x", 10), "x");
        // FNV-1a reference values: "" and "a".
        assert_eq!(short_hash(&[""]), "811c9dc5");
        assert_eq!(short_hash(&["a"]), "e40c292c");
        assert_ne!(short_hash(&["ab", "c"]), short_hash(&["a", "bc"]));
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("eu-west-1"), "aws");
    }
}
