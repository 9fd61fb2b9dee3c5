//! Log pipelines, one per source, in the source's region (design.md
//! sections 8 and 9):
//!
//! * the Containers plan's audit log, one per EKS cluster: EKS
//!   control-plane logs (`audit`, `authenticator`) → CloudWatch Logs group
//!   `/aws/eks/<cluster>/cluster` → subscription filter → Firehose delivery
//!   stream → S3 bucket (`eks-audit/` prefix) → S3 event notification →
//!   SQS queue (with a dead-letter queue);
//! * the SQL plan's SQL Server logs, one per log group
//!   ([`PipelineSource::LogGroup`]): an existing group (RDS's exported
//!   `error` log, or the one the CloudWatch agent writes on an EC2 or RDS
//!   Custom host) → the same stream, bucket (`sql-logs/` prefix) and
//!   queue. The group itself is never created or changed.
//!
//! Every call runs as the plan's provisioning role (`kubernetesService`,
//! or the SQL plan's `threatDetection`: the [`AwsAccess`] the caller built
//! for it); the `cloudWatchToKinesis` and `kinesisToS3` roles are passed to
//! CloudWatch Logs and Firehose by ARN.
//!
//! [`plan`] reads the current state and returns the steps (resource,
//! action, reason) without changing anything; [`apply`] carries out the
//! steps that are not `none`; [`plan_removal`] / [`remove`] tear down the
//! `rampart-*` resources tagged with the connector; [`check`] reports each
//! part as met, not met (with the fix) or unknown (a read failed).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use aws_sdk_eks::types::{LogSetup, LogType, Logging};
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamStatus, DeliveryStreamType,
    ExtendedS3DestinationConfiguration, ExtendedS3DestinationUpdate,
};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration, Delete,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NotificationConfiguration, ObjectIdentifier, PublicAccessBlockConfiguration,
    QueueConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tagging,
};
use serde::Serialize;

pub use super::{
    Action, CheckStatus, MAX_RECEIVE_COUNT, Outcome, Resource, Step, StepReport,
    VISIBILITY_TIMEOUT_SECS,
};
use super::{
    CLUSTER_TAG, CONNECTOR_TAG, LOG_GROUP_TAG, NAME_PREFIX, PipelineError, QueuePair, QueueState,
    Read, call, code_is, failed, merged_notification, not_owned, notifies_queue, observe_queue,
    owned_by, partition, precondition, put_notification, short_hash, slug, step, switch_step,
};
use crate::access::AwsAccess;
use crate::collectors::Operation;
use crate::op;

/// The EKS control-plane log types the pipeline needs.
pub const LOG_TYPES: [&str; 2] = ["audit", "authenticator"];

/// Key prefix of an EKS audit-log pipeline's objects; the bucket notifies
/// the queue of objects under it only.
pub const OBJECT_PREFIX: &str = "eks-audit/";

/// Key prefix of a SQL Server log pipeline's objects.
pub const SQL_OBJECT_PREFIX: &str = "sql-logs/";

/// Id of the bucket's lifecycle rule.
const LIFECYCLE_RULE_ID: &str = "rampart-expiry";

/// What a pipeline subscribes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "logGroup", rename_all = "kebab-case")]
pub enum PipelineSource {
    /// An EKS cluster's control-plane log group: its `audit` and
    /// `authenticator` logs are turned on, the group is created when
    /// missing and its retention set.
    EksCluster,
    /// An existing log group of SQL Server logs, subscribed as it is.
    LogGroup(String),
}

/// Retention periods CloudWatch Logs accepts, in days.
const LOG_RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Every API operation provisioning, removal and checks may call, with its
/// IAM action: the onboarding templates grant the `kubernetesService` role
/// exactly these, and the moto test checks no other call is made.
/// `TagQueue` and `TagDeliveryStream` are not called on their own: AWS
/// checks them when a queue or stream is created with tags.
pub const OPERATIONS: &[Operation] = &[
    op!("eks", "DescribeCluster"),
    op!("eks", "UpdateClusterConfig"),
    op!("logs", "DescribeLogGroups"),
    op!("logs", "CreateLogGroup"),
    op!("logs", "PutRetentionPolicy"),
    op!("logs", "DescribeSubscriptionFilters"),
    op!("logs", "PutSubscriptionFilter"),
    op!("logs", "DeleteSubscriptionFilter"),
    op!("s3", "HeadBucket" => "s3:ListBucket"),
    op!("s3", "CreateBucket"),
    op!("s3", "DeleteBucket"),
    op!("s3", "GetBucketTagging"),
    op!("s3", "PutBucketTagging"),
    op!("s3", "GetBucketEncryption" => "s3:GetEncryptionConfiguration"),
    op!("s3", "PutBucketEncryption" => "s3:PutEncryptionConfiguration"),
    op!("s3", "GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock"),
    op!("s3", "PutPublicAccessBlock" => "s3:PutBucketPublicAccessBlock"),
    op!("s3", "GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration"),
    op!("s3", "PutBucketLifecycleConfiguration" => "s3:PutLifecycleConfiguration"),
    op!("s3", "GetBucketNotificationConfiguration" => "s3:GetBucketNotification"),
    op!("s3", "PutBucketNotificationConfiguration" => "s3:PutBucketNotification"),
    op!("s3", "ListObjectsV2" => "s3:ListBucket"),
    op!("s3", "DeleteObjects" => "s3:DeleteObject"),
    op!("sqs", "GetQueueUrl"),
    op!("sqs", "GetQueueAttributes"),
    op!("sqs", "ListQueueTags"),
    op!("sqs", "CreateQueue"),
    op!("sqs", "SetQueueAttributes"),
    op!("sqs", "TagQueue"),
    op!("sqs", "DeleteQueue"),
    op!("firehose", "DescribeDeliveryStream"),
    op!("firehose", "ListTagsForDeliveryStream"),
    op!("firehose", "CreateDeliveryStream"),
    op!("firehose", "TagDeliveryStream"),
    op!("firehose", "UpdateDestination"),
    op!("firehose", "DeleteDeliveryStream"),
];

/// The operations of a [`PipelineSource::LogGroup`] pipeline: those of
/// [`OPERATIONS`] without EKS and without creating or changing the log
/// group (the SQL plan's `threatDetection` role gets exactly these).
pub fn log_group_operations() -> impl Iterator<Item = &'static Operation> {
    OPERATIONS.iter().filter(|op| {
        !op.action.starts_with("eks:")
            && op.action != "logs:CreateLogGroup"
            && op.action != "logs:PutRetentionPolicy"
    })
}

/// What to provision for one EKS cluster or SQL Server log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterPipeline {
    /// The account id (12 digits).
    pub account: String,
    /// The cluster's (or log group's) region.
    pub region: String,
    /// What the pipeline serves: the cluster's name, or the log group's.
    pub cluster: String,
    /// What the pipeline subscribes.
    pub source: PipelineSource,
    /// The connector's id: the value of the `RampartSecurityConnector` tag.
    pub connector_id: String,
    /// The connector's name (shown in reasons).
    pub connector_name: String,
    /// `kubeAuditRetentionTime`: days the log group keeps the audit log
    /// (rounded up to a period CloudWatch Logs accepts) and days the
    /// bucket keeps the delivered objects.
    pub retention_days: u32,
    /// The `cloudWatchToKinesis` role: CloudWatch Logs assumes it to write
    /// to the delivery stream.
    pub cloudwatch_to_kinesis_role_arn: String,
    /// The `kinesisToS3` role: Firehose assumes it to write to the bucket.
    pub kinesis_to_s3_role_arn: String,
}

impl ClusterPipeline {
    fn validate(&self) -> Result<(), PipelineError> {
        let invalid = |m: String| Err(PipelineError::Invalid(m));
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return invalid(format!("account `{}` is not 12 digits", self.account));
        }
        crate::access::validate_region_syntax(&self.region)
            .map_err(|e| PipelineError::Invalid(e.to_string()))?;
        match &self.source {
            PipelineSource::EksCluster => {
                if self.cluster.is_empty() || self.cluster.len() > 100 {
                    return invalid(format!(
                        "cluster name `{}` is empty or too long",
                        self.cluster
                    ));
                }
            }
            PipelineSource::LogGroup(group) => {
                if group.is_empty()
                    || group.len() > 512
                    || !group
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b))
                {
                    return invalid(format!("`{group}` is not a log group name"));
                }
            }
        }
        if self.connector_id.trim().is_empty() {
            return invalid("the connector id is empty".to_owned());
        }
        if self.retention_days == 0 {
            return invalid(format!(
                "`{}` must be at least 1 day",
                self.retention_field()
            ));
        }
        for (field, arn) in [
            ("cloudWatchToKinesis", &self.cloudwatch_to_kinesis_role_arn),
            ("kinesisToS3", &self.kinesis_to_s3_role_arn),
        ] {
            if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
                return invalid(format!("`{field}` role ARN `{arn}` is not an IAM role ARN"));
            }
        }
        Ok(())
    }

    /// The retention the log group gets: `retention_days` rounded up to a
    /// period CloudWatch Logs accepts (at most 3653 days).
    pub fn log_retention_days(&self) -> i32 {
        let wanted = i32::try_from(self.retention_days).unwrap_or(i32::MAX);
        LOG_RETENTION_DAYS
            .iter()
            .copied()
            .find(|d| *d >= wanted)
            .unwrap_or(3653)
    }

    /// The pipeline's resource names.
    pub fn names(&self) -> PipelineNames {
        match &self.source {
            PipelineSource::EksCluster => {
                PipelineNames::new(&self.account, &self.region, &self.cluster)
            }
            PipelineSource::LogGroup(group) => {
                PipelineNames::for_log_group(&self.account, &self.region, group)
            }
        }
    }

    fn retention_field(&self) -> &'static str {
        match self.source {
            PipelineSource::EksCluster => "kubeAuditRetentionTime",
            PipelineSource::LogGroup(_) => "threatDetection.retentionDays",
        }
    }

    /// The tag naming what the resources serve: `RampartEksCluster` or
    /// `RampartLogGroup`, with its value.
    fn subject_tag(&self) -> (&'static str, &str) {
        match &self.source {
            PipelineSource::EksCluster => (CLUSTER_TAG, &self.cluster),
            PipelineSource::LogGroup(group) => (LOG_GROUP_TAG, group),
        }
    }
}

/// The names of one pipeline: deterministic from account, region and
/// cluster (or log group), `rampart-*`, within AWS's limits (bucket 63,
/// queue 80, delivery stream 64 characters). A hash of all three keeps
/// truncated names distinct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineNames {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// What the pipeline subscribes.
    pub source: PipelineSource,
    /// The log group: the cluster's control-plane log group
    /// (`/aws/eks/<cluster>/cluster`), or the SQL Server log group.
    pub log_group: String,
    /// Key prefix of the delivered objects (`eks-audit/`, `sql-logs/`).
    pub object_prefix: String,
    /// S3 bucket (global namespace: carries the account id).
    pub bucket: String,
    /// SQS queue the bucket notifies.
    pub queue: String,
    /// The queue's dead-letter queue.
    pub dead_letter_queue: String,
    /// Firehose delivery stream.
    pub delivery_stream: String,
    /// CloudWatch Logs subscription filter on the log group.
    pub subscription_filter: String,
}

impl PipelineNames {
    /// Names for a cluster.
    pub fn new(account: &str, region: &str, cluster: &str) -> Self {
        let hash = short_hash(&[account, region, cluster]);
        let base = format!("{NAME_PREFIX}eks-{}-{hash}", slug(cluster, 40));
        let bucket = format!("{NAME_PREFIX}eks-{}-{account}-{hash}", slug(cluster, 29));
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            source: PipelineSource::EksCluster,
            log_group: format!("/aws/eks/{cluster}/cluster"),
            object_prefix: OBJECT_PREFIX.to_owned(),
            bucket,
            queue: base.clone(),
            dead_letter_queue: format!("{base}-dlq"),
            delivery_stream: base.clone(),
            subscription_filter: base,
        }
    }

    /// Names for a SQL Server log group (`rampart-sql-…`).
    pub fn for_log_group(account: &str, region: &str, log_group: &str) -> Self {
        let hash = short_hash(&[account, region, log_group]);
        // The part after RDS's fixed prefix says most.
        let tail = log_group
            .strip_prefix("/aws/rds/instance/")
            .unwrap_or(log_group);
        let base = format!("{NAME_PREFIX}sql-{}-{hash}", slug(tail, 40));
        let bucket = format!("{NAME_PREFIX}sql-{}-{account}-{hash}", slug(tail, 29));
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            source: PipelineSource::LogGroup(log_group.to_owned()),
            log_group: log_group.to_owned(),
            object_prefix: SQL_OBJECT_PREFIX.to_owned(),
            bucket,
            queue: base.clone(),
            dead_letter_queue: format!("{base}-dlq"),
            delivery_stream: base.clone(),
            subscription_filter: base,
        }
    }

    /// Id of the bucket's notification configuration (`rampart-eks-audit`,
    /// `rampart-sql-logs`).
    pub fn notification_id(&self) -> String {
        format!("{NAME_PREFIX}{}", self.object_prefix.trim_end_matches('/'))
    }

    /// What the pipeline serves, for messages: `cluster `x`` or `log
    /// group `y``.
    pub fn subject(&self) -> String {
        match &self.source {
            PipelineSource::EksCluster => format!(
                "cluster `{}`",
                super::decode::cluster_of_log_group(&self.log_group).unwrap_or(&self.log_group)
            ),
            PipelineSource::LogGroup(group) => format!("log group `{group}`"),
        }
    }

    /// The bucket's ARN.
    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", partition(&self.region), self.bucket)
    }

    /// The queue's ARN.
    pub fn queue_arn(&self) -> String {
        self.sqs_arn(&self.queue)
    }

    /// The dead-letter queue's ARN.
    pub fn dead_letter_queue_arn(&self) -> String {
        self.sqs_arn(&self.dead_letter_queue)
    }

    /// The queue and dead-letter queue, with the settings they must have.
    pub(crate) fn queue_pair(&self) -> QueuePair {
        QueuePair {
            account: self.account.clone(),
            region: self.region.clone(),
            queue: self.queue.clone(),
            dead_letter_queue: self.dead_letter_queue.clone(),
            bucket_arn: self.bucket_arn(),
            bucket_account: self.account.clone(),
            policy_id: match self.source {
                PipelineSource::EksCluster => "rampart-audit-log-notifications",
                PipelineSource::LogGroup(_) => "rampart-sql-log-notifications",
            },
            statement_id: match self.source {
                PipelineSource::EksCluster => "AllowAuditLogBucketNotifications",
                PipelineSource::LogGroup(_) => "AllowSqlLogBucketNotifications",
            },
        }
    }

    fn sqs_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:sqs:{}:{}:{name}",
            partition(&self.region),
            self.region,
            self.account
        )
    }

    /// The delivery stream's ARN.
    pub fn delivery_stream_arn(&self) -> String {
        format!(
            "arn:{}:firehose:{}:{}:deliverystream/{}",
            partition(&self.region),
            self.region,
            self.account,
            self.delivery_stream
        )
    }
}

/// The steps for one cluster's pipeline, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The cluster.
    pub cluster: String,
    /// Its region.
    pub region: String,
    /// The pipeline's names.
    pub names: PipelineNames,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether nothing needs to change and every read succeeded.
    pub fn is_converged(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.action == Action::None && s.error.is_none())
    }

    /// The step for a resource.
    pub fn step(&self, resource: Resource) -> Option<&Step> {
        self.steps.iter().find(|s| s.resource == resource)
    }
}

/// What [`apply`] or [`remove`] did for one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The cluster.
    pub cluster: String,
    /// Its region.
    pub region: String,
    /// The pipeline's names.
    pub names: PipelineNames,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
}

impl ApplyReport {
    /// Whether every step succeeded (or had nothing to do).
    pub fn succeeded(&self) -> bool {
        self.steps
            .iter()
            .all(|s| !matches!(s.outcome, Outcome::Failed { .. }))
    }

    /// The failed steps.
    pub fn failures(&self) -> impl Iterator<Item = &StepReport> {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
    }
}

/// One part of a pipeline check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    /// The part.
    pub resource: Resource,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do when not met or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A cluster's pipeline, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineCheck {
    /// The cluster.
    pub cluster: String,
    /// Its region.
    pub region: String,
    /// Met only when every item is.
    pub status: CheckStatus,
    /// Each part.
    pub items: Vec<CheckItem>,
}

/// The SDK clients a pipeline needs in one region, all from the same
/// access (the `kubernetesService` role for provisioning).
#[derive(Debug, Clone)]
pub struct Clients {
    /// EKS.
    pub eks: aws_sdk_eks::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// S3.
    pub s3: aws_sdk_s3::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// Firehose.
    pub firehose: aws_sdk_firehose::Client,
}

impl Clients {
    /// The clients of `access` in `region`.
    pub fn new(access: &AwsAccess, region: &str) -> Self {
        Self {
            eks: access.eks(region),
            logs: access.logs(region),
            s3: access.s3(region),
            sqs: access.sqs(region),
            firehose: access.firehose(region),
        }
    }
}

/// How [`apply`] waits for a new delivery stream to become active.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// How long to wait at most.
    pub stream_timeout: Duration,
    /// Pause between checks.
    pub stream_poll: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            stream_timeout: Duration::from_secs(300),
            stream_poll: Duration::from_secs(5),
        }
    }
}

// ---------------------------------------------------------------- state

#[derive(Debug, Clone)]
struct BucketState {
    owner: Option<String>,
    encrypted: Read<bool>,
    public_access_blocked: Read<bool>,
    expiry_days: Read<Option<i32>>,
    notification: Read<NotificationConfiguration>,
}

#[derive(Debug, Clone)]
struct StreamState {
    owner: Option<String>,
    status: DeliveryStreamStatus,
    version_id: String,
    destination_id: String,
    role_arn: String,
    bucket_arn: String,
    prefix: Option<String>,
    compression: CompressionFormat,
}

#[derive(Debug, Clone)]
struct Observed {
    enabled_log_types: Read<BTreeSet<String>>,
    log_group: Read<Option<i32>>,
    bucket: Read<BucketState>,
    dead_letter_queue: Read<QueueState>,
    queue: Read<QueueState>,
    stream: Read<StreamState>,
    filters: Read<Vec<SubscriptionFilter>>,
}

async fn observe(clients: &Clients, names: &PipelineNames, cluster: &str) -> Observed {
    let (log_group, filters) = observe_log_group(clients, names).await;
    let common = |enabled_log_types| Observed {
        enabled_log_types,
        log_group,
        bucket: Read::Missing,
        dead_letter_queue: Read::Missing,
        queue: Read::Missing,
        stream: Read::Missing,
        filters,
    };
    let mut observed = match names.source {
        // A log group pipeline has no cluster logging to read.
        PipelineSource::LogGroup(_) => common(Read::Found(BTreeSet::new())),
        PipelineSource::EksCluster => common(observe_cluster_logging(clients, cluster).await),
    };
    observed.bucket = observe_bucket(clients, names).await;
    observed.dead_letter_queue = observe_queue(&clients.sqs, &names.dead_letter_queue).await;
    observed.queue = observe_queue(&clients.sqs, &names.queue).await;
    observed.stream = observe_stream(clients, names).await;
    observed
}

async fn observe_cluster_logging(clients: &Clients, cluster: &str) -> Read<BTreeSet<String>> {
    match clients.eks.describe_cluster().name(cluster).send().await {
        Ok(out) => Read::Found(
            out.cluster()
                .and_then(|c| c.logging())
                .map(|l| {
                    l.cluster_logging()
                        .iter()
                        .filter(|s| s.enabled() == Some(true))
                        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Err(err) if code_is(&err, &["ResourceNotFoundException"]) => Read::Missing,
        Err(err) => Read::Failed(PipelineError::call("DescribeCluster", &err)),
    }
}

async fn observe_log_group(
    clients: &Clients,
    names: &PipelineNames,
) -> (Read<Option<i32>>, Read<Vec<SubscriptionFilter>>) {
    let groups = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await;
    let group = match groups {
        Ok(out) => match out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(names.log_group.as_str()))
        {
            Some(g) => Read::Found(g.retention_in_days()),
            None => Read::Missing,
        },
        Err(err) => {
            return (
                Read::Failed(PipelineError::call("DescribeLogGroups", &err)),
                Read::Failed(PipelineError::Blocked("DescribeLogGroups".to_owned())),
            );
        }
    };
    if !matches!(group, Read::Found(_)) {
        return (group, Read::Missing);
    }
    let filters = match clients
        .logs
        .describe_subscription_filters()
        .log_group_name(&names.log_group)
        .send()
        .await
    {
        Ok(out) => Read::Found(out.subscription_filters().to_vec()),
        Err(err) => Read::Failed(PipelineError::call("DescribeSubscriptionFilters", &err)),
    };
    (group, filters)
}

async fn observe_bucket(clients: &Clients, names: &PipelineNames) -> Read<BucketState> {
    let s3 = &clients.s3;
    let bucket = names.bucket.as_str();
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
            return Read::Missing;
        }
        Err(err) => return Read::Failed(PipelineError::call("HeadBucket", &err)),
    }
    let owner = match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => out
            .tag_set()
            .iter()
            .find(|t| t.key() == CONNECTOR_TAG)
            .map(|t| t.value().to_owned()),
        Err(err) if code_is(&err, &["NoSuchTagSet", "NoSuchTagSetError"]) => None,
        Err(err) => return Read::Failed(PipelineError::call("GetBucketTagging", &err)),
    };
    let encrypted = match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => Read::Found(out.server_side_encryption_configuration().is_some_and(|c| {
            c.rules()
                .iter()
                .any(|r| r.apply_server_side_encryption_by_default().is_some())
        })),
        Err(err) if code_is(&err, &["ServerSideEncryptionConfigurationNotFoundError"]) => {
            Read::Found(false)
        }
        Err(err) => Read::Failed(PipelineError::call("GetBucketEncryption", &err)),
    };
    let public_access_blocked = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => Read::Found(out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        })),
        Err(err) if code_is(&err, &["NoSuchPublicAccessBlockConfiguration"]) => Read::Found(false),
        Err(err) => Read::Failed(PipelineError::call("GetPublicAccessBlock", &err)),
    };
    let expiry_days = match s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => Read::Found(
            out.rules()
                .iter()
                .find(|r| {
                    r.id() == Some(LIFECYCLE_RULE_ID) && r.status() == &ExpirationStatus::Enabled
                })
                .and_then(|r| r.expiration())
                .and_then(|e| e.days()),
        ),
        Err(err) if code_is(&err, &["NoSuchLifecycleConfiguration"]) => Read::Found(None),
        Err(err) => Read::Failed(PipelineError::call("GetBucketLifecycleConfiguration", &err)),
    };
    let notification = super::observe_notification(s3, bucket).await;
    Read::Found(BucketState {
        owner,
        encrypted,
        public_access_blocked,
        expiry_days,
        notification,
    })
}

/// Messages waiting in a cluster pipeline's dead-letter queue (health);
/// `None` when the queue does not exist.
pub async fn dead_letter_depth(
    clients: &Clients,
    names: &PipelineNames,
) -> Result<Option<u64>, PipelineError> {
    super::queue_depth(&clients.sqs, &names.dead_letter_queue).await
}

async fn observe_stream(clients: &Clients, names: &PipelineNames) -> Read<StreamState> {
    let firehose = &clients.firehose;
    let described = match firehose
        .describe_delivery_stream()
        .delivery_stream_name(&names.delivery_stream)
        .send()
        .await
    {
        Ok(out) => out,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Read::Missing;
        }
        Err(err) => return Read::Failed(PipelineError::call("DescribeDeliveryStream", &err)),
    };
    let Some(description) = described.delivery_stream_description() else {
        return Read::Missing;
    };
    let owner = match firehose
        .list_tags_for_delivery_stream()
        .delivery_stream_name(&names.delivery_stream)
        .send()
        .await
    {
        Ok(out) => out
            .tags()
            .iter()
            .find(|t| t.key() == CONNECTOR_TAG)
            .and_then(|t| t.value())
            .map(str::to_owned),
        Err(err) => return Read::Failed(PipelineError::call("ListTagsForDeliveryStream", &err)),
    };
    let destination = description.destinations().first();
    let s3 = destination.and_then(|d| d.extended_s3_destination_description());
    Read::Found(StreamState {
        owner,
        status: description.delivery_stream_status().clone(),
        version_id: description.version_id().to_owned(),
        destination_id: destination
            .map(|d| d.destination_id().to_owned())
            .unwrap_or_default(),
        role_arn: s3.map(|d| d.role_arn().to_owned()).unwrap_or_default(),
        bucket_arn: s3.map(|d| d.bucket_arn().to_owned()).unwrap_or_default(),
        prefix: s3.and_then(|d| d.prefix()).map(str::to_owned),
        compression: s3
            .map(|d| d.compression_format().clone())
            .unwrap_or(CompressionFormat::Uncompressed),
    })
}

// ---------------------------------------------------------------- desired

fn our_notification(names: &PipelineNames) -> Result<QueueConfiguration, PipelineError> {
    super::queue_notification(
        &names.notification_id(),
        &names.queue_arn(),
        &names.object_prefix,
    )
}

fn stream_differences(
    input: &ClusterPipeline,
    names: &PipelineNames,
    s: &StreamState,
) -> Vec<&'static str> {
    let mut diffs = Vec::new();
    if s.role_arn != input.kinesis_to_s3_role_arn {
        diffs.push("role");
    }
    if s.bucket_arn != names.bucket_arn() {
        diffs.push("bucket");
    }
    if s.prefix.as_deref() != Some(names.object_prefix.as_str()) {
        diffs.push("prefix");
    }
    if s.compression != CompressionFormat::Uncompressed {
        diffs.push("compression");
    }
    diffs
}

fn filter_matches(input: &ClusterPipeline, names: &PipelineNames, f: &SubscriptionFilter) -> bool {
    f.destination_arn() == Some(names.delivery_stream_arn().as_str())
        && f.role_arn() == Some(input.cloudwatch_to_kinesis_role_arn.as_str())
        && f.filter_pattern().unwrap_or_default().is_empty()
}

// ---------------------------------------------------------------- planning

fn plan_steps(input: &ClusterPipeline, names: &PipelineNames, obs: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    let cluster = input.cluster.as_str();
    let wanted: BTreeSet<String> = LOG_TYPES.iter().map(|t| (*t).to_owned()).collect();
    if let PipelineSource::LogGroup(group) = &input.source {
        steps.push(match &obs.log_group {
            Read::Found(_) => step(
                Resource::LogGroup,
                group,
                Action::None,
                "exists; left as it is",
            ),
            Read::Missing => failed(
                Resource::LogGroup,
                group,
                PipelineError::Invalid(format!(
                    "log group `{group}` not found in `{}`: export the error log (RDS) or point the CloudWatch agent at it",
                    input.region
                )),
            ),
            Read::Failed(e) => failed(Resource::LogGroup, group, e.clone()),
        });
        steps.extend(delivery_steps(input, names, obs));
        return steps;
    }
    steps.push(match &obs.enabled_log_types {
        Read::Found(enabled) => {
            let missing: Vec<&str> = wanted.difference(enabled).map(String::as_str).collect();
            if missing.is_empty() {
                step(
                    Resource::ClusterLogging,
                    cluster,
                    Action::None,
                    "audit and authenticator logs are on",
                )
            } else {
                step(
                    Resource::ClusterLogging,
                    cluster,
                    Action::Update,
                    format!("turn on {} logs", missing.join(" and ")),
                )
            }
        }
        Read::Missing => failed(
            Resource::ClusterLogging,
            cluster,
            PipelineError::Invalid(format!(
                "EKS cluster `{cluster}` not found in `{}`",
                input.region
            )),
        ),
        Read::Failed(e) => failed(Resource::ClusterLogging, cluster, e.clone()),
    });
    let retention = input.log_retention_days();
    steps.push(match &obs.log_group {
        Read::Missing => step(
            Resource::LogGroup,
            &names.log_group,
            Action::Create,
            format!("create with {retention}-day retention"),
        ),
        Read::Found(Some(days)) if *days == retention => step(
            Resource::LogGroup,
            &names.log_group,
            Action::None,
            format!("retention is {retention} days"),
        ),
        Read::Found(days) => step(
            Resource::LogGroup,
            &names.log_group,
            Action::Update,
            format!(
                "retention {} → {retention} days",
                days.map_or_else(|| "never expires".to_owned(), |d| format!("{d}"))
            ),
        ),
        Read::Failed(e) => failed(Resource::LogGroup, &names.log_group, e.clone()),
    });
    steps.extend(delivery_steps(input, names, obs));
    steps
}

/// The steps every source shares: bucket, queues, notification, stream
/// and subscription filter.
fn delivery_steps(input: &ClusterPipeline, names: &PipelineNames, obs: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    let bucket = names.bucket.as_str();
    let expiry = i32::try_from(input.retention_days).unwrap_or(i32::MAX);
    match &obs.bucket {
        Read::Missing => {
            steps.push(step(
                Resource::Bucket,
                bucket,
                Action::Create,
                "create, tagged with the connector",
            ));
            steps.push(step(
                Resource::BucketEncryption,
                bucket,
                Action::Create,
                "default encryption (SSE-S3)",
            ));
            steps.push(step(
                Resource::BucketPublicAccessBlock,
                bucket,
                Action::Create,
                "block all public access",
            ));
            steps.push(step(
                Resource::BucketLifecycle,
                bucket,
                Action::Create,
                format!("expire objects after {expiry} days"),
            ));
        }
        Read::Failed(e) => {
            steps.push(failed(Resource::Bucket, bucket, e.clone()));
        }
        Read::Found(state) if !owned_by(state.owner.as_ref(), &input.connector_id) => {
            steps.push(not_owned(Resource::Bucket, bucket, &input.connector_id));
        }
        Read::Found(state) => {
            steps.push(step(
                Resource::Bucket,
                bucket,
                Action::None,
                "exists, tagged with the connector",
            ));
            steps.push(switch_step(
                &state.encrypted,
                Resource::BucketEncryption,
                bucket,
                "default encryption is on",
                "turn on default encryption (SSE-S3)",
            ));
            steps.push(switch_step(
                &state.public_access_blocked,
                Resource::BucketPublicAccessBlock,
                bucket,
                "public access is blocked",
                "block all public access",
            ));
            steps.push(match &state.expiry_days {
                Read::Found(Some(days)) if *days == expiry => step(
                    Resource::BucketLifecycle,
                    bucket,
                    Action::None,
                    format!("objects expire after {expiry} days"),
                ),
                Read::Failed(e) => failed(Resource::BucketLifecycle, bucket, e.clone()),
                _ => step(
                    Resource::BucketLifecycle,
                    bucket,
                    Action::Update,
                    format!("expire objects after {expiry} days"),
                ),
            });
        }
    }
    let queues = names.queue_pair();
    steps.push(queues.plan_step(&obs.dead_letter_queue, true, &input.connector_id));
    steps.push(queues.plan_step(&obs.queue, false, &input.connector_id));
    steps.push(match &obs.bucket {
        Read::Found(state) if owned_by(state.owner.as_ref(), &input.connector_id) => {
            match &state.notification {
                Read::Found(config) if notifies_queue(config, &names.queue_arn()) => step(
                    Resource::BucketNotification,
                    bucket,
                    Action::None,
                    "notifies the queue of new objects",
                ),
                Read::Failed(e) => failed(Resource::BucketNotification, bucket, e.clone()),
                _ => step(
                    Resource::BucketNotification,
                    bucket,
                    Action::Update,
                    "notify the queue of new objects",
                ),
            }
        }
        Read::Missing => step(
            Resource::BucketNotification,
            bucket,
            Action::Create,
            "notify the queue of new objects",
        ),
        _ => Step {
            reason: "needs the bucket".to_owned(),
            ..failed(
                Resource::BucketNotification,
                bucket,
                PipelineError::Blocked(Resource::Bucket.as_str().to_owned()),
            )
        },
    });
    let stream = names.delivery_stream.as_str();
    steps.push(match &obs.stream {
        Read::Missing => step(
            Resource::DeliveryStream,
            stream,
            Action::Create,
            "create, delivering to the bucket",
        ),
        Read::Failed(e) => failed(Resource::DeliveryStream, stream, e.clone()),
        Read::Found(state) if !owned_by(state.owner.as_ref(), &input.connector_id) => {
            not_owned(Resource::DeliveryStream, stream, &input.connector_id)
        }
        Read::Found(state) => {
            let diffs = stream_differences(input, names, state);
            if diffs.is_empty() {
                step(
                    Resource::DeliveryStream,
                    stream,
                    Action::None,
                    "delivers to the bucket",
                )
            } else {
                step(
                    Resource::DeliveryStream,
                    stream,
                    Action::Update,
                    format!("change {}", diffs.join(", ")),
                )
            }
        }
    });
    let filter = names.subscription_filter.as_str();
    steps.push(match &obs.filters {
        Read::Found(filters) => match filters.iter().find(|f| f.filter_name() == Some(filter)) {
            Some(f) if filter_matches(input, names, f) => step(
                Resource::SubscriptionFilter,
                filter,
                Action::None,
                "forwards the log group to the delivery stream",
            ),
            Some(_) => step(
                Resource::SubscriptionFilter,
                filter,
                Action::Update,
                "point at the delivery stream with the cloudWatchToKinesis role",
            ),
            None => step(
                Resource::SubscriptionFilter,
                filter,
                Action::Create,
                "forward the log group to the delivery stream",
            ),
        },
        Read::Missing => step(
            Resource::SubscriptionFilter,
            filter,
            Action::Create,
            "forward the log group to the delivery stream",
        ),
        Read::Failed(e) => failed(Resource::SubscriptionFilter, filter, e.clone()),
    });
    steps
}

/// Reads the cluster's pipeline and returns what [`apply`] would do.
/// Changes nothing. `Err` only for unusable input; failed reads are
/// errors on their steps.
pub async fn plan(clients: &Clients, input: &ClusterPipeline) -> Result<Plan, PipelineError> {
    input.validate()?;
    let names = input.names();
    let observed = observe(clients, &names, &input.cluster).await;
    Ok(Plan {
        cluster: input.cluster.clone(),
        region: input.region.clone(),
        steps: plan_steps(input, &names, &observed),
        names,
    })
}

// ---------------------------------------------------------------- applying

/// Provisions (or repairs) the cluster's pipeline: reads the current state
/// and changes only what differs. Each step's outcome is reported; a
/// failed step blocks the steps that need it, never the others.
pub async fn apply(
    clients: &Clients,
    input: &ClusterPipeline,
    options: ApplyOptions,
) -> Result<ApplyReport, PipelineError> {
    input.validate()?;
    let names = input.names();
    let observed = observe(clients, &names, &input.cluster).await;
    let steps = plan_steps(input, &names, &observed);
    // Without the cluster (or the log group) nothing is created.
    let (source_missing, source_resource) = match input.source {
        PipelineSource::EksCluster => (
            matches!(observed.enabled_log_types, Read::Missing),
            Resource::ClusterLogging,
        ),
        PipelineSource::LogGroup(_) => (
            matches!(observed.log_group, Read::Missing),
            Resource::LogGroup,
        ),
    };
    let mut reports: Vec<StepReport> = Vec::new();
    let mut queue_url = match &observed.queue {
        Read::Found(q) => Some(q.url.clone()),
        _ => None,
    };
    for step in steps {
        let outcome = if let Some(blocked) = precondition(&step, &reports) {
            blocked
        } else if source_missing {
            Outcome::Failed {
                error: PipelineError::Blocked(source_resource.as_str().to_owned()),
            }
        } else if step.action == Action::None {
            Outcome::Unchanged
        } else {
            match run_step(
                clients,
                input,
                &names,
                &observed,
                &step,
                &mut queue_url,
                options,
            )
            .await
            {
                Ok(()) => Outcome::Done,
                Err(error) => Outcome::Failed { error },
            }
        };
        reports.push(StepReport { step, outcome });
    }
    Ok(ApplyReport {
        cluster: input.cluster.clone(),
        region: input.region.clone(),
        names,
        steps: reports,
    })
}

async fn run_step(
    clients: &Clients,
    input: &ClusterPipeline,
    names: &PipelineNames,
    observed: &Observed,
    step: &Step,
    queue_url: &mut Option<String>,
    options: ApplyOptions,
) -> Result<(), PipelineError> {
    let bucket = names.bucket.as_str();
    let (subject_key, subject) = input.subject_tag();
    match step.resource {
        Resource::ClusterLogging => {
            let mut types: BTreeSet<String> = match &observed.enabled_log_types {
                Read::Found(enabled) => enabled.clone(),
                _ => BTreeSet::new(),
            };
            types.extend(LOG_TYPES.iter().map(|t| (*t).to_owned()));
            // moto (unlike AWS) replaces the logging setup wholesale: the
            // types already on are sent again.
            let setup = LogSetup::builder()
                .set_types(Some(
                    types.iter().map(|t| LogType::from(t.as_str())).collect(),
                ))
                .enabled(true)
                .build();
            clients
                .eks
                .update_cluster_config()
                .name(&input.cluster)
                .logging(Logging::builder().cluster_logging(setup).build())
                .send()
                .await
                .map_err(|e| PipelineError::call("UpdateClusterConfig", &e))?;
        }
        Resource::LogGroup => {
            if let PipelineSource::LogGroup(group) = &input.source {
                return Err(PipelineError::Invalid(format!(
                    "log group `{group}` is never changed by Rampart"
                )));
            }
            if step.action == Action::Create {
                let created = clients
                    .logs
                    .create_log_group()
                    .log_group_name(&names.log_group)
                    .tags(CONNECTOR_TAG, &input.connector_id)
                    .tags(CLUSTER_TAG, &input.cluster)
                    .send()
                    .await;
                match created {
                    Ok(_) => {}
                    // EKS created it meanwhile.
                    Err(err) if code_is(&err, &["ResourceAlreadyExistsException"]) => {}
                    Err(err) => return Err(PipelineError::call("CreateLogGroup", &err)),
                }
            }
            clients
                .logs
                .put_retention_policy()
                .log_group_name(&names.log_group)
                .retention_in_days(input.log_retention_days())
                .send()
                .await
                .map_err(call("PutRetentionPolicy"))?;
        }
        Resource::Bucket => {
            let mut create = clients.s3.create_bucket().bucket(bucket);
            if input.region != "us-east-1" {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(input.region.as_str()))
                        .build(),
                );
            }
            create.send().await.map_err(call("CreateBucket"))?;
            let tag = |k: &str, v: &str| {
                aws_sdk_s3::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| PipelineError::Invalid(e.to_string()))
            };
            let tagging = Tagging::builder()
                .tag_set(tag(CONNECTOR_TAG, &input.connector_id)?)
                .tag_set(tag(subject_key, subject)?)
                .build()
                .map_err(|e| PipelineError::Invalid(e.to_string()))?;
            clients
                .s3
                .put_bucket_tagging()
                .bucket(bucket)
                .tagging(tagging)
                .send()
                .await
                .map_err(call("PutBucketTagging"))?;
        }
        Resource::BucketEncryption => {
            let by_default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(|e| PipelineError::Invalid(e.to_string()))?;
            let config = ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()
                .map_err(|e| PipelineError::Invalid(e.to_string()))?;
            clients
                .s3
                .put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(config)
                .send()
                .await
                .map_err(call("PutBucketEncryption"))?;
        }
        Resource::BucketPublicAccessBlock => {
            clients
                .s3
                .put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .map_err(call("PutPublicAccessBlock"))?;
        }
        Resource::BucketLifecycle => {
            let rule = LifecycleRule::builder()
                .id(LIFECYCLE_RULE_ID)
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .expiration(
                    LifecycleExpiration::builder()
                        .days(i32::try_from(input.retention_days).unwrap_or(i32::MAX))
                        .build(),
                )
                .build()
                .map_err(|e| PipelineError::Invalid(e.to_string()))?;
            clients
                .s3
                .put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(
                    BucketLifecycleConfiguration::builder()
                        .rules(rule)
                        .build()
                        .map_err(|e| PipelineError::Invalid(e.to_string()))?,
                )
                .send()
                .await
                .map_err(call("PutBucketLifecycleConfiguration"))?;
        }
        Resource::DeadLetterQueue | Resource::Queue => {
            let dead_letter = step.resource == Resource::DeadLetterQueue;
            let read = if dead_letter {
                &observed.dead_letter_queue
            } else {
                &observed.queue
            };
            let tags = [
                (CONNECTOR_TAG, input.connector_id.as_str()),
                (subject_key, subject),
            ];
            let created = names
                .queue_pair()
                .put(&clients.sqs, read, dead_letter, &tags)
                .await?;
            if !dead_letter && created.is_some() {
                *queue_url = created;
            }
        }
        Resource::BucketNotification => {
            let existing = match &observed.bucket {
                Read::Found(BucketState {
                    notification: Read::Found(config),
                    ..
                }) => config.clone(),
                _ => NotificationConfiguration::builder().build(),
            };
            let config = merged_notification(
                &existing,
                &names.notification_id(),
                &names.queue_arn(),
                Some(our_notification(names)?),
            );
            put_notification(&clients.s3, bucket, config).await?;
        }
        Resource::DeliveryStream => {
            let hints = BufferingHints::builder()
                .size_in_mbs(5)
                .interval_in_seconds(60)
                .build();
            match &observed.stream {
                Read::Found(state) => {
                    clients
                        .firehose
                        .update_destination()
                        .delivery_stream_name(&names.delivery_stream)
                        .current_delivery_stream_version_id(&state.version_id)
                        .destination_id(&state.destination_id)
                        .extended_s3_destination_update(
                            ExtendedS3DestinationUpdate::builder()
                                .role_arn(&input.kinesis_to_s3_role_arn)
                                .bucket_arn(names.bucket_arn())
                                .prefix(&names.object_prefix)
                                .compression_format(CompressionFormat::Uncompressed)
                                .buffering_hints(hints)
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(call("UpdateDestination"))?;
                }
                _ => {
                    let tag = |k: &str, v: &str| {
                        aws_sdk_firehose::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .map_err(|e| PipelineError::Invalid(e.to_string()))
                    };
                    clients
                        .firehose
                        .create_delivery_stream()
                        .delivery_stream_name(&names.delivery_stream)
                        .delivery_stream_type(DeliveryStreamType::DirectPut)
                        .extended_s3_destination_configuration(
                            ExtendedS3DestinationConfiguration::builder()
                                .role_arn(&input.kinesis_to_s3_role_arn)
                                .bucket_arn(names.bucket_arn())
                                .prefix(&names.object_prefix)
                                // CloudWatch Logs records arrive gzipped already.
                                .compression_format(CompressionFormat::Uncompressed)
                                .buffering_hints(hints)
                                .build()
                                .map_err(|e| PipelineError::Invalid(e.to_string()))?,
                        )
                        .tags(tag(CONNECTOR_TAG, &input.connector_id)?)
                        .tags(tag(subject_key, subject)?)
                        .send()
                        .await
                        .map_err(call("CreateDeliveryStream"))?;
                }
            }
            wait_for_stream(clients, names, options).await?;
        }
        Resource::Trail => {}
        Resource::SubscriptionFilter => {
            clients
                .logs
                .put_subscription_filter()
                .log_group_name(&names.log_group)
                .filter_name(&names.subscription_filter)
                .filter_pattern("")
                .destination_arn(names.delivery_stream_arn())
                .role_arn(&input.cloudwatch_to_kinesis_role_arn)
                .send()
                .await
                .map_err(call("PutSubscriptionFilter"))?;
        }
    }
    Ok(())
}

async fn wait_for_stream(
    clients: &Clients,
    names: &PipelineNames,
    options: ApplyOptions,
) -> Result<(), PipelineError> {
    let started = std::time::Instant::now();
    loop {
        let status = match observe_stream(clients, names).await {
            Read::Found(state) => state.status,
            Read::Missing => DeliveryStreamStatus::Creating,
            Read::Failed(e) => return Err(e),
        };
        if status == DeliveryStreamStatus::Active {
            return Ok(());
        }
        if started.elapsed() >= options.stream_timeout {
            return Err(PipelineError::NotReady {
                name: names.delivery_stream.clone(),
                status: status.as_str().to_owned(),
                waited_secs: started.elapsed().as_secs(),
            });
        }
        tokio::time::sleep(options.stream_poll).await;
    }
}

// ---------------------------------------------------------------- removal

fn removal_steps(input: &ClusterPipeline, names: &PipelineNames, obs: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    let filter = names.subscription_filter.as_str();
    steps.push(match &obs.filters {
        Read::Found(filters) => match filters.iter().find(|f| f.filter_name() == Some(filter)) {
            Some(f) if f.destination_arn() == Some(names.delivery_stream_arn().as_str()) => step(
                Resource::SubscriptionFilter,
                filter,
                Action::Delete,
                "delete",
            ),
            Some(_) => step(
                Resource::SubscriptionFilter,
                filter,
                Action::None,
                "points elsewhere; left alone",
            ),
            None => step(Resource::SubscriptionFilter, filter, Action::None, "absent"),
        },
        Read::Missing => step(Resource::SubscriptionFilter, filter, Action::None, "absent"),
        Read::Failed(e) => failed(Resource::SubscriptionFilter, filter, e.clone()),
    });
    let owned = |owner: Option<&String>| owned_by(owner, &input.connector_id);
    let stream = names.delivery_stream.as_str();
    steps.push(match &obs.stream {
        Read::Found(s) if owned(s.owner.as_ref()) => {
            step(Resource::DeliveryStream, stream, Action::Delete, "delete")
        }
        Read::Found(_) => step(
            Resource::DeliveryStream,
            stream,
            Action::None,
            "not tagged with this connector; left alone",
        ),
        Read::Missing => step(Resource::DeliveryStream, stream, Action::None, "absent"),
        Read::Failed(e) => failed(Resource::DeliveryStream, stream, e.clone()),
    });
    let bucket = names.bucket.as_str();
    let bucket_owned = matches!(&obs.bucket, Read::Found(b) if owned(b.owner.as_ref()));
    for (resource, name, read) in [
        (Resource::Queue, &names.queue, &obs.queue),
        (
            Resource::DeadLetterQueue,
            &names.dead_letter_queue,
            &obs.dead_letter_queue,
        ),
    ] {
        steps.push(match read {
            Read::Found(q) if owned(q.owner.as_ref()) => {
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
    steps.push(match &obs.bucket {
        Read::Found(_) if bucket_owned => {
            step(Resource::Bucket, bucket, Action::Delete, "empty and delete")
        }
        Read::Found(_) => step(
            Resource::Bucket,
            bucket,
            Action::None,
            "not tagged with this connector; left alone",
        ),
        Read::Missing => step(Resource::Bucket, bucket, Action::None, "absent"),
        Read::Failed(e) => failed(Resource::Bucket, bucket, e.clone()),
    });
    steps.push(step(
        Resource::LogGroup,
        &names.log_group,
        Action::None,
        match names.source {
            PipelineSource::EksCluster => {
                "the cluster's own log group and logging settings are left as they are"
            }
            PipelineSource::LogGroup(_) => "the log group is left as it is",
        },
    ));
    steps
}

/// What [`remove`] would delete. Changes nothing.
pub async fn plan_removal(
    clients: &Clients,
    input: &ClusterPipeline,
) -> Result<Plan, PipelineError> {
    input.validate()?;
    let names = input.names();
    let observed = observe(clients, &names, &input.cluster).await;
    Ok(Plan {
        cluster: input.cluster.clone(),
        region: input.region.clone(),
        steps: removal_steps(input, &names, &observed),
        names,
    })
}

/// Tears down the cluster's pipeline: the subscription filter pointing at
/// Rampart's stream, and the `rampart-*` stream, queues and bucket tagged
/// with this connector (the bucket emptied first). The cluster's logging
/// settings and its log group stay.
pub async fn remove(
    clients: &Clients,
    input: &ClusterPipeline,
) -> Result<ApplyReport, PipelineError> {
    input.validate()?;
    let names = input.names();
    let observed = observe(clients, &names, &input.cluster).await;
    let mut reports = Vec::new();
    for step in removal_steps(input, &names, &observed) {
        let outcome = if let Some(error) = &step.error {
            Outcome::Failed {
                error: error.clone(),
            }
        } else if step.action == Action::None {
            Outcome::Unchanged
        } else {
            match delete_step(clients, &names, &observed, step.resource).await {
                Ok(()) => Outcome::Done,
                Err(error) => Outcome::Failed { error },
            }
        };
        reports.push(StepReport { step, outcome });
    }
    Ok(ApplyReport {
        cluster: input.cluster.clone(),
        region: input.region.clone(),
        names,
        steps: reports,
    })
}

async fn delete_step(
    clients: &Clients,
    names: &PipelineNames,
    observed: &Observed,
    resource: Resource,
) -> Result<(), PipelineError> {
    match resource {
        Resource::SubscriptionFilter => {
            clients
                .logs
                .delete_subscription_filter()
                .log_group_name(&names.log_group)
                .filter_name(&names.subscription_filter)
                .send()
                .await
                .map_err(|e| PipelineError::call("DeleteSubscriptionFilter", &e))?;
        }
        Resource::DeliveryStream => {
            clients
                .firehose
                .delete_delivery_stream()
                .delivery_stream_name(&names.delivery_stream)
                .send()
                .await
                .map_err(|e| PipelineError::call("DeleteDeliveryStream", &e))?;
        }
        Resource::Queue | Resource::DeadLetterQueue => {
            let read = if resource == Resource::Queue {
                &observed.queue
            } else {
                &observed.dead_letter_queue
            };
            if let Read::Found(q) = read {
                clients
                    .sqs
                    .delete_queue()
                    .queue_url(&q.url)
                    .send()
                    .await
                    .map_err(|e| PipelineError::call("DeleteQueue", &e))?;
            }
        }
        Resource::Bucket => {
            empty_bucket(clients, &names.bucket).await?;
            clients
                .s3
                .delete_bucket()
                .bucket(&names.bucket)
                .send()
                .await
                .map_err(|e| PipelineError::call("DeleteBucket", &e))?;
        }
        _ => {}
    }
    Ok(())
}

async fn empty_bucket(clients: &Clients, bucket: &str) -> Result<(), PipelineError> {
    loop {
        let listed = clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .map_err(|e| PipelineError::call("ListObjectsV2", &e))?;
        let keys: Vec<ObjectIdentifier> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder()
            .set_objects(Some(keys))
            .quiet(true)
            .build()
            .map_err(|e| PipelineError::Invalid(e.to_string()))?;
        clients
            .s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| PipelineError::call("DeleteObjects", &e))?;
    }
}

// ---------------------------------------------------------------- check

/// Checks the cluster's pipeline (for `connector status`): each part met,
/// not met (with the fix) or unknown (a read failed, or a resource with
/// Rampart's name belongs to something else).
pub async fn check(
    clients: &Clients,
    input: &ClusterPipeline,
) -> Result<PipelineCheck, PipelineError> {
    let plan = plan(clients, input).await?;
    Ok(check_from_plan(&plan))
}

/// A check from a plan already read.
pub fn check_from_plan(plan: &Plan) -> PipelineCheck {
    let items: Vec<CheckItem> = plan
        .steps
        .iter()
        .map(|s| {
            let (status, detail, fix) = match (&s.error, s.action) {
                (Some(e), _) => {
                    let (status, fix) = error_fix(e, &plan.names);
                    (status, e.to_string(), Some(fix))
                }
                (None, Action::None) => (CheckStatus::Met, s.reason.clone(), None),
                (None, action) => (
                    CheckStatus::NotMet,
                    format!("to {}: {}", action.as_str(), s.reason),
                    Some(format!(
                        "provision the {} pipeline for {}",
                        match plan.names.source {
                            PipelineSource::EksCluster => "audit-log",
                            PipelineSource::LogGroup(_) => "SQL Server log",
                        },
                        plan.names.subject()
                    )),
                ),
            };
            CheckItem {
                resource: s.resource,
                name: s.name.clone(),
                status,
                detail,
                fix,
            }
        })
        .collect();
    let status = if items.iter().any(|i| i.status == CheckStatus::NotMet) {
        CheckStatus::NotMet
    } else if items.iter().any(|i| i.status == CheckStatus::Unknown) {
        CheckStatus::Unknown
    } else {
        CheckStatus::Met
    };
    PipelineCheck {
        cluster: plan.cluster.clone(),
        region: plan.region.clone(),
        status,
        items,
    }
}

/// Whether a step's error means not met or unknown, and what to do.
fn error_fix(error: &PipelineError, names: &PipelineNames) -> (CheckStatus, String) {
    match error {
        PipelineError::NotOwned { name, connector } => (
            CheckStatus::NotMet,
            format!(
                "delete `{name}` or tag it `{CONNECTOR_TAG}={connector}`, then provision the pipeline again"
            ),
        ),
        PipelineError::Blocked(part) => (CheckStatus::NotMet, format!("fix `{part}` first")),
        PipelineError::Invalid(reason) => (
            CheckStatus::NotMet,
            match names.source {
                PipelineSource::EksCluster => {
                    format!("correct the input ({reason}), or disable the plan for this cluster")
                }
                PipelineSource::LogGroup(_) => format!(
                    "{reason}; or take the group out of the SQL plan's `threatDetection.logGroups`"
                ),
            },
        ),
        PipelineError::Call {
            kind: rampart_model::GapKind::AccessDenied,
            operation,
            ..
        } => (
            CheckStatus::Unknown,
            format!(
                "allow `{operation}` to the {} role (deploy the current onboarding template in account `{}`), then check again",
                match names.source {
                    PipelineSource::EksCluster => "kubernetesService",
                    PipelineSource::LogGroup(_) => "threatDetection",
                },
                names.account
            ),
        ),
        _ => (
            CheckStatus::Unknown,
            "check again; if the error persists, it says what failed".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use aws_sdk_sqs::types::QueueAttributeName;
    use serde_json::json;

    use super::super::attribute_matches;
    use super::*;

    fn input(cluster: &str) -> ClusterPipeline {
        ClusterPipeline {
            account: "123456789012".into(),
            region: "ap-southeast-5".into(),
            cluster: cluster.into(),
            source: PipelineSource::EksCluster,
            connector_id: "c1".into(),
            connector_name: "prod".into(),
            retention_days: 30,
            cloudwatch_to_kinesis_role_arn: "arn:aws:iam::123456789012:role/A".into(),
            kinesis_to_s3_role_arn: "arn:aws:iam::123456789012:role/B".into(),
        }
    }

    #[test]
    fn names_are_deterministic_prefixed_and_within_limits() {
        let long = "A_very-long_Cluster.name".repeat(4);
        for cluster in ["prod", long.as_str(), "x"] {
            let n = input(cluster).names();
            assert_eq!(n, input(cluster).names());
            assert!(
                n.bucket.len() <= 63 && n.bucket.starts_with("rampart-"),
                "{}",
                n.bucket
            );
            assert!(
                n.bucket
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
            assert!(n.queue.len() <= 80 && n.dead_letter_queue.len() <= 80);
            assert!(n.delivery_stream.len() <= 64 && n.delivery_stream.starts_with("rampart-"));
            assert_eq!(n.log_group, format!("/aws/eks/{cluster}/cluster"));
        }
        let a = PipelineNames::new("123456789012", "eu-west-1", "prod");
        let b = PipelineNames::new("123456789012", "eu-west-2", "prod");
        assert_ne!(a.bucket, b.bucket);
        assert_ne!(a.queue, b.queue);
        assert_eq!(
            a.delivery_stream_arn(),
            format!(
                "arn:aws:firehose:eu-west-1:123456789012:deliverystream/{}",
                a.delivery_stream
            )
        );
    }

    #[test]
    fn retention_rounds_up_to_an_accepted_period() {
        let mut i = input("p");
        for (days, want) in [(1, 1), (2, 3), (30, 30), (31, 60), (366, 400), (5000, 3653)] {
            i.retention_days = days;
            assert_eq!(i.log_retention_days(), want, "{days}");
        }
        i.retention_days = 0;
        assert!(i.validate().is_err());
    }

    #[test]
    fn policies_compare_as_json() {
        let i = input("p");
        let n = i.names();
        let want = n.queue_pair().redrive_policy().to_string();
        let echoed = format!(
            "{{\"maxReceiveCount\":\"{MAX_RECEIVE_COUNT}\",\"deadLetterTargetArn\":\"{}\"}}",
            n.dead_letter_queue_arn()
        );
        assert!(attribute_matches(
            &QueueAttributeName::RedrivePolicy,
            &want,
            Some(&echoed)
        ));
        let other = echoed.replace("dlq", "other");
        assert!(!attribute_matches(
            &QueueAttributeName::RedrivePolicy,
            &want,
            Some(&other)
        ));
        assert!(!attribute_matches(&QueueAttributeName::Policy, &want, None));
    }

    #[test]
    fn operations_have_well_formed_actions() {
        for op in OPERATIONS {
            let (service, name) = op.action.split_once(':').unwrap();
            assert!(
                ["eks", "logs", "s3", "sqs", "firehose"].contains(&service),
                "{}",
                op.action
            );
            assert!(name.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
        }
    }

    fn queue_state(input: &ClusterPipeline, dead_letter: bool) -> QueueState {
        let names = input.names();
        QueueState {
            url: "https://sqs/q".into(),
            owner: Some(input.connector_id.clone()),
            attributes: names
                .queue_pair()
                .attributes(dead_letter)
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect(),
        }
    }

    #[test]
    fn plans_updates_only_for_what_differs() {
        let i = input("prod");
        let names = i.names();
        let mut queue = queue_state(&i, false);
        queue
            .attributes
            .insert("VisibilityTimeout".into(), "30".into());
        queue.attributes.insert(
            "RedrivePolicy".into(),
            json!({"deadLetterTargetArn": "arn:aws:sqs:x:1:other", "maxReceiveCount": 5})
                .to_string(),
        );
        let mut dead_letter = queue_state(&i, true);
        dead_letter.owner = Some("another-connector".into());
        let filter = SubscriptionFilter::builder()
            .filter_name(&names.subscription_filter)
            .destination_arn("arn:aws:firehose:x:1:deliverystream/elsewhere")
            .role_arn(&i.cloudwatch_to_kinesis_role_arn)
            .build();
        let observed = Observed {
            enabled_log_types: Read::Found(BTreeSet::from(["audit".to_owned(), "api".to_owned()])),
            log_group: Read::Found(None),
            bucket: Read::Failed(PipelineError::Call {
                operation: "HeadBucket".into(),
                kind: rampart_model::GapKind::AccessDenied,
                code: Some("AccessDenied".into()),
                message: "AccessDenied: denied".into(),
            }),
            dead_letter_queue: Read::Found(dead_letter),
            queue: Read::Found(queue),
            stream: Read::Found(StreamState {
                owner: Some(i.connector_id.clone()),
                status: DeliveryStreamStatus::Active,
                version_id: "1".into(),
                destination_id: "d".into(),
                role_arn: "arn:aws:iam::123456789012:role/Other".into(),
                bucket_arn: names.bucket_arn(),
                prefix: Some(OBJECT_PREFIX.into()),
                compression: CompressionFormat::Uncompressed,
            }),
            filters: Read::Found(vec![filter]),
        };
        let steps = plan_steps(&i, &names, &observed);
        let get = |r: Resource| steps.iter().find(|s| s.resource == r).unwrap();
        assert_eq!(
            get(Resource::ClusterLogging).reason,
            "turn on authenticator logs"
        );
        assert_eq!(
            get(Resource::LogGroup).reason,
            "retention never expires → 30 days"
        );
        assert!(matches!(
            get(Resource::Bucket).error,
            Some(PipelineError::Call { ref operation, .. }) if operation == "HeadBucket"
        ));
        assert!(
            steps
                .iter()
                .all(|s| s.resource != Resource::BucketEncryption)
        );
        assert!(matches!(
            get(Resource::DeadLetterQueue).error,
            Some(PipelineError::NotOwned { .. })
        ));
        let queue = get(Resource::Queue);
        assert_eq!(
            (queue.action, queue.reason.as_str()),
            (Action::Update, "set VisibilityTimeout, RedrivePolicy")
        );
        assert_eq!(
            get(Resource::BucketNotification).error,
            Some(PipelineError::Blocked("bucket".into()))
        );
        let stream = get(Resource::DeliveryStream);
        assert_eq!(
            (stream.action, stream.reason.as_str()),
            (Action::Update, "change role")
        );
        assert_eq!(get(Resource::SubscriptionFilter).action, Action::Update);

        let check = check_from_plan(&Plan {
            cluster: "prod".into(),
            region: i.region.clone(),
            names: names.clone(),
            steps: steps.clone(),
        });
        assert_eq!(check.status, CheckStatus::NotMet);
        let bucket = check
            .items
            .iter()
            .find(|c| c.resource == Resource::Bucket)
            .unwrap();
        assert_eq!(bucket.status, CheckStatus::Unknown);
        assert!(
            bucket
                .fix
                .as_deref()
                .unwrap()
                .contains("allow `HeadBucket`")
        );

        // Removal deletes only what carries the connector's tag and points at Rampart's stream.
        let removal = removal_steps(&i, &names, &observed);
        let get = |r: Resource| removal.iter().find(|s| s.resource == r).unwrap();
        assert_eq!(get(Resource::SubscriptionFilter).action, Action::None);
        assert_eq!(get(Resource::DeliveryStream).action, Action::Delete);
        assert_eq!(get(Resource::Queue).action, Action::Delete);
        assert_eq!(get(Resource::DeadLetterQueue).action, Action::None);
        assert!(get(Resource::Bucket).error.is_some());
    }
}
