//! The Containers plan's audit-log pipeline and the SQL plan's SQL Server
//! log pipeline against one private moto server: provisioning from empty,
//! idempotence, ownership, removal, and the data path CloudWatch Logs →
//! Firehose → S3 → SQS → consumer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_sqs::types::QueueAttributeName;
use rampart_aws::pipeline::consumer::{
    self, Consumer, ConsumerOptions, EventSink, LogRecord, QueueSource,
};
use rampart_aws::pipeline::containers::{
    self, Action, ApplyOptions, CheckStatus, Clients, ClusterPipeline, Outcome, Resource,
};
use rampart_aws::pipeline::{CONNECTOR_TAG, PipelineError};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_testkit::Moto;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";
const CLUSTER: &str = "prod-cluster";

fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        home_region: Some("us-east-1".to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        max_attempts: 2,
        ..AwsSettings::default()
    }
}

fn input(cluster: &str) -> ClusterPipeline {
    ClusterPipeline {
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        cluster: cluster.to_owned(),
        source: containers::PipelineSource::EksCluster,
        connector_id: "c0ffee00-0000-4000-8000-000000000001".to_owned(),
        connector_name: "prod".to_owned(),
        retention_days: 30,
        cloudwatch_to_kinesis_role_arn: format!(
            "arn:aws:iam::{ACCOUNT}:role/RampartContainersCloudWatchToKinesis"
        ),
        kinesis_to_s3_role_arn: format!("arn:aws:iam::{ACCOUNT}:role/RampartContainersKinesisToS3"),
    }
}

fn fast() -> ApplyOptions {
    ApplyOptions {
        stream_timeout: Duration::from_secs(10),
        stream_poll: Duration::from_millis(200),
    }
}

async fn create_cluster(access: &AwsAccess, name: &str, logging: &[&str]) {
    use aws_sdk_eks::types::{LogSetup, LogType, Logging, VpcConfigRequest};
    let eks = access.eks(REGION);
    let mut create = eks
        .create_cluster()
        .name(name)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/eks"))
        .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-1").build());
    if !logging.is_empty() {
        create = create.logging(
            Logging::builder()
                .cluster_logging(
                    LogSetup::builder()
                        .set_types(Some(logging.iter().map(|t| LogType::from(*t)).collect()))
                        .enabled(true)
                        .build(),
                )
                .build(),
        );
    }
    create.send().await.unwrap();
}

/// Calls made by `access` since `before`, as `service:Operation`.
fn calls_since(
    access: &AwsAccess,
    before: &std::collections::BTreeMap<(String, String), u64>,
) -> BTreeSet<String> {
    access
        .stats()
        .snapshot()
        .into_iter()
        .filter(|(k, v)| before.get(k).is_none_or(|b| v > b))
        .map(|((s, o), _)| format!("{s}:{o}"))
        .collect()
}

#[derive(Default)]
struct MemorySink {
    records: Mutex<Vec<LogRecord>>,
    fail: bool,
}

impl EventSink for MemorySink {
    async fn store(&self, records: Vec<LogRecord>) -> Result<(), String> {
        if self.fail {
            return Err("store is down".to_owned());
        }
        self.records.lock().unwrap().extend(records);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_pipeline_end_to_end() {
    let moto = Moto::start();
    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let clients = Clients::new(&access, REGION);
    let pipeline = input(CLUSTER);
    let names = pipeline.names();
    create_cluster(&access, CLUSTER, &["api"]).await;

    // Dry run from empty: everything to create, nothing changed.
    let plan = containers::plan(&clients, &pipeline).await.unwrap();
    let actions: Vec<(Resource, Action)> =
        plan.steps.iter().map(|s| (s.resource, s.action)).collect();
    assert_eq!(
        actions,
        [
            (Resource::ClusterLogging, Action::Update),
            (Resource::LogGroup, Action::Create),
            (Resource::Bucket, Action::Create),
            (Resource::BucketEncryption, Action::Create),
            (Resource::BucketPublicAccessBlock, Action::Create),
            (Resource::BucketLifecycle, Action::Create),
            (Resource::DeadLetterQueue, Action::Create),
            (Resource::Queue, Action::Create),
            (Resource::BucketNotification, Action::Create),
            (Resource::DeliveryStream, Action::Create),
            (Resource::SubscriptionFilter, Action::Create),
        ]
    );
    assert!(plan.steps.iter().all(|s| s.error.is_none()), "{plan:#?}");
    insta::assert_json_snapshot!("plan_from_empty", plan);
    let check = containers::check(&clients, &pipeline).await.unwrap();
    assert_eq!(check.status, CheckStatus::NotMet);
    assert!(
        check
            .items
            .iter()
            .all(|i| i.status == CheckStatus::NotMet && i.fix.is_some())
    );
    let dry = containers::plan(&clients, &pipeline).await.unwrap();
    assert_eq!(dry.steps, plan.steps, "the dry run changed something");

    // Apply from empty.
    let before = access.stats().snapshot();
    let report = containers::apply(&clients, &pipeline, fast())
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    assert!(report.steps.iter().all(|s| s.outcome == Outcome::Done));
    let declared: BTreeSet<&str> = containers::OPERATIONS.iter().map(|o| o.name).collect();
    for call in calls_since(&access, &before) {
        let (_, op) = call.split_once(':').unwrap();
        assert!(declared.contains(op), "undeclared call {call}");
    }
    read_back(&access, &pipeline).await;

    // Second run: nothing to do, and only reads.
    let again = containers::plan(&clients, &pipeline).await.unwrap();
    assert!(again.is_converged(), "{again:#?}");
    assert!(again.steps.iter().all(|s| s.action == Action::None));
    let before = access.stats().snapshot();
    let report = containers::apply(&clients, &pipeline, fast())
        .await
        .unwrap();
    assert!(report.steps.iter().all(|s| s.outcome == Outcome::Unchanged));
    let writes: Vec<String> = calls_since(&access, &before)
        .into_iter()
        .filter(|c| {
            let op = c.split_once(':').unwrap().1;
            !["Describe", "Get", "List", "Head"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .collect();
    assert!(writes.is_empty(), "second apply wrote: {writes:?}");
    let check = containers::check(&clients, &pipeline).await.unwrap();
    assert_eq!(check.status, CheckStatus::Met, "{check:#?}");

    // A setting changed behind Rampart's back is repaired, alone.
    access
        .logs(REGION)
        .put_retention_policy()
        .log_group_name(&names.log_group)
        .retention_in_days(7)
        .send()
        .await
        .unwrap();
    let drift = containers::plan(&clients, &pipeline).await.unwrap();
    let changed: Vec<Resource> = drift
        .steps
        .iter()
        .filter(|s| s.action != Action::None)
        .map(|s| s.resource)
        .collect();
    assert_eq!(changed, [Resource::LogGroup]);
    assert_eq!(
        drift.step(Resource::LogGroup).unwrap().reason,
        "retention 7 → 30 days"
    );
    assert!(
        containers::apply(&clients, &pipeline, fast())
            .await
            .unwrap()
            .succeeded()
    );
    assert!(
        containers::plan(&clients, &pipeline)
            .await
            .unwrap()
            .is_converged()
    );

    data_path(&access, &pipeline).await;
    not_owned_resources_are_left_alone(&access, &clients).await;

    // Remove: the dry run lists the deletions, then they happen.
    let removal = containers::plan_removal(&clients, &pipeline).await.unwrap();
    let deletes: Vec<Resource> = removal
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| s.resource)
        .collect();
    assert_eq!(
        deletes,
        [
            Resource::SubscriptionFilter,
            Resource::DeliveryStream,
            Resource::Queue,
            Resource::DeadLetterQueue,
            Resource::Bucket
        ]
    );
    let report = containers::remove(&clients, &pipeline).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    assert!(
        access
            .s3(REGION)
            .head_bucket()
            .bucket(&names.bucket)
            .send()
            .await
            .is_err()
    );
    assert!(
        access
            .sqs(REGION)
            .get_queue_url()
            .queue_name(&names.queue)
            .send()
            .await
            .is_err()
    );
    assert!(
        access
            .sqs(REGION)
            .get_queue_url()
            .queue_name(&names.dead_letter_queue)
            .send()
            .await
            .is_err()
    );
    assert!(
        access
            .firehose(REGION)
            .describe_delivery_stream()
            .delivery_stream_name(&names.delivery_stream)
            .send()
            .await
            .is_err()
    );
    let logs = access.logs(REGION);
    let filters = logs
        .describe_subscription_filters()
        .log_group_name(&names.log_group)
        .send()
        .await
        .unwrap();
    assert!(filters.subscription_filters().is_empty());
    // The cluster's own log group stays.
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    let twice = containers::remove(&clients, &pipeline).await.unwrap();
    assert!(
        twice.steps.iter().all(|s| s.outcome == Outcome::Unchanged),
        "{twice:#?}"
    );
    // A check after removal says what is missing.
    let check = containers::check(&clients, &pipeline).await.unwrap();
    assert_eq!(check.status, CheckStatus::NotMet);
}

/// The SQL plan's pipeline on an existing log group: found from RDS's
/// log exports and the connector's list, never creating or changing the
/// group, delivering under `sql-logs/`. Its own moto: the futures of both
/// tests in one would overflow a test thread's stack in debug builds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_log_group_pipeline_end_to_end() {
    use rampart_aws::pipeline::sql;

    let moto = Moto::start();
    let access = &AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let clients = &Clients::new(access, REGION);

    let rds = access.rds(REGION);
    for (id, engine, exports) in [
        ("sql-prod", "sqlserver-se", vec!["error".to_owned()]),
        ("sql-quiet", "sqlserver-ex", vec![]),
        ("pg-prod", "postgres", vec!["postgresql".to_owned()]),
    ] {
        rds.create_db_instance()
            .db_instance_identifier(id)
            .engine(engine)
            .db_instance_class("db.m5.large")
            .allocated_storage(20)
            .master_username("admin")
            .master_user_password("not-a-real-password-1")
            .set_enable_cloudwatch_logs_exports(Some(exports))
            .send()
            .await
            .unwrap();
    }
    let agent_group = "/sql/errorlog";
    access
        .logs(REGION)
        .create_log_group()
        .log_group_name(agent_group)
        .send()
        .await
        .unwrap();
    let named = vec![agent_group.to_owned(), "/sql/absent".to_owned()];
    let before = access.stats().snapshot();
    let found = sql::find_log_groups(access, REGION, &named).await.unwrap();
    let declared: BTreeSet<&str> = sql::FIND_OPERATIONS.iter().map(|o| o.name).collect();
    for call in calls_since(access, &before) {
        let (_, op) = call.split_once(':').unwrap();
        assert!(declared.contains(op), "undeclared call {call}");
    }
    let rds_group = "/aws/rds/instance/sql-prod/error";
    assert_eq!(
        found,
        [
            sql::SqlLogGroup {
                region: REGION.to_owned(),
                log_group: rds_group.to_owned(),
                db_instance: Some("sql-prod".to_owned()),
            },
            sql::SqlLogGroup {
                region: REGION.to_owned(),
                log_group: agent_group.to_owned(),
                db_instance: None,
            },
        ],
        "the PostgreSQL export, the quiet SQL Server and the absent group are not SQL Server log groups here"
    );

    let pipeline = |group: &str| ClusterPipeline {
        cluster: group.to_owned(),
        source: containers::PipelineSource::LogGroup(group.to_owned()),
        ..input(CLUSTER)
    };
    // RDS creates the group with the first line: until then nothing is made.
    let waiting = pipeline(rds_group);
    let plan = containers::plan(clients, &waiting).await.unwrap();
    let first = &plan.steps[0];
    assert_eq!(first.resource, Resource::LogGroup);
    assert!(
        first
            .error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("not found")),
        "{first:?}"
    );
    let report = containers::apply(clients, &waiting, fast()).await.unwrap();
    assert!(!report.succeeded());
    assert!(
        report
            .steps
            .iter()
            .all(|s| matches!(s.outcome, Outcome::Failed { .. })),
        "{report:#?}"
    );
    assert!(
        access
            .s3(REGION)
            .head_bucket()
            .bucket(&waiting.names().bucket)
            .send()
            .await
            .is_err(),
        "nothing is created for a missing group"
    );
    let check = containers::check(clients, &waiting).await.unwrap();
    let fix = check.items[0].fix.clone().unwrap();
    assert!(fix.contains("threatDetection.logGroups"), "{fix}");

    // The agent's group: subscribed as it is.
    let agent = pipeline(agent_group);
    let names = agent.names();
    assert!(names.bucket.starts_with("rampart-sql-") && names.bucket.len() <= 63);
    assert_eq!(names.object_prefix, containers::SQL_OBJECT_PREFIX);
    let plan = containers::plan(clients, &agent).await.unwrap();
    let actions: Vec<(Resource, Action)> =
        plan.steps.iter().map(|s| (s.resource, s.action)).collect();
    assert_eq!(
        actions,
        [
            (Resource::LogGroup, Action::None),
            (Resource::Bucket, Action::Create),
            (Resource::BucketEncryption, Action::Create),
            (Resource::BucketPublicAccessBlock, Action::Create),
            (Resource::BucketLifecycle, Action::Create),
            (Resource::DeadLetterQueue, Action::Create),
            (Resource::Queue, Action::Create),
            (Resource::BucketNotification, Action::Create),
            (Resource::DeliveryStream, Action::Create),
            (Resource::SubscriptionFilter, Action::Create),
        ]
    );
    let before = access.stats().snapshot();
    let report = containers::apply(clients, &agent, fast()).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let allowed: BTreeSet<&str> = containers::log_group_operations().map(|o| o.name).collect();
    for call in calls_since(access, &before) {
        let (_, op) = call.split_once(':').unwrap();
        assert!(
            allowed.contains(op),
            "call {call} is not a log group pipeline's"
        );
    }
    assert!(
        containers::plan(clients, &agent)
            .await
            .unwrap()
            .is_converged()
    );
    let groups = access
        .logs(REGION)
        .describe_log_groups()
        .log_group_name_prefix(agent_group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups.log_groups()[0].retention_in_days(),
        None,
        "the group's retention is the customer's"
    );
    let bucket_tags = access
        .s3(REGION)
        .get_bucket_tagging()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    assert!(
        bucket_tags
            .tag_set()
            .iter()
            .any(|t| t.key() == rampart_aws::pipeline::LOG_GROUP_TAG && t.value() == agent_group)
    );
    let stream = access
        .firehose(REGION)
        .describe_delivery_stream()
        .delivery_stream_name(&names.delivery_stream)
        .send()
        .await
        .unwrap();
    let destination = stream.delivery_stream_description().unwrap().destinations()[0]
        .extended_s3_destination_description()
        .unwrap()
        .clone();
    assert_eq!(destination.prefix(), Some(containers::SQL_OBJECT_PREFIX));

    // The data path: the host's ERRORLOG lines reach the consumer.
    access
        .logs(REGION)
        .create_log_stream()
        .log_group_name(agent_group)
        .log_stream_name("i-0abc1234def567890")
        .send()
        .await
        .unwrap();
    let source = QueueSource::resolve(&access.sqs(REGION), &names, agent_group)
        .await
        .unwrap();
    let mut consumer = Consumer::new(
        access,
        source,
        ConsumerOptions {
            wait_time_secs: 1,
            visibility_timeout_secs: Some(2),
            max_messages: 10,
        },
    );
    let lines = vec![
        "2026-12-06 10:15:32.51 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 203.0.113.9]".to_owned(),
        "2026-12-06 10:15:33.02 spid52      Configuration option 'xp_cmdshell' changed from 0 to 1. Run the RECONFIGURE statement to install.".to_owned(),
    ];
    put_events(access, agent_group, "i-0abc1234def567890", &lines).await;
    let sink = MemorySink::default();
    drain(&mut consumer, &sink).await;
    let stored = sink.records.lock().unwrap().clone();
    let messages: Vec<&str> = stored.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        messages,
        lines.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for record in &stored {
        assert_eq!(record.log_group, agent_group);
        assert_eq!(record.log_stream, "i-0abc1234def567890");
        assert!(
            record.key.starts_with(containers::SQL_OBJECT_PREFIX),
            "{}",
            record.key
        );
    }

    // Removal leaves the group.
    let report = containers::remove(clients, &agent).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let filters = access
        .logs(REGION)
        .describe_subscription_filters()
        .log_group_name(agent_group)
        .send()
        .await
        .unwrap();
    assert!(filters.subscription_filters().is_empty());
    let groups = access
        .logs(REGION)
        .describe_log_groups()
        .log_group_name_prefix(agent_group)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
}

/// Every resource, read back through the SDK.
async fn read_back(access: &AwsAccess, pipeline: &ClusterPipeline) {
    let names = pipeline.names();
    let cluster = access
        .eks(REGION)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    let enabled: BTreeSet<String> = cluster
        .cluster()
        .unwrap()
        .logging()
        .unwrap()
        .cluster_logging()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_owned()))
        .collect();
    assert!(
        ["api", "audit", "authenticator"]
            .iter()
            .all(|t| enabled.contains(*t)),
        "the type already on stays on: {enabled:?}"
    );

    let logs = access.logs(REGION);
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
    let filters = logs
        .describe_subscription_filters()
        .log_group_name(&names.log_group)
        .send()
        .await
        .unwrap();
    let filter = &filters.subscription_filters()[0];
    assert_eq!(
        filter.filter_name(),
        Some(names.subscription_filter.as_str())
    );
    assert_eq!(
        filter.destination_arn(),
        Some(names.delivery_stream_arn().as_str())
    );
    assert_eq!(
        filter.role_arn(),
        Some(pipeline.cloudwatch_to_kinesis_role_arn.as_str())
    );

    let s3 = access.s3(REGION);
    let location = s3
        .get_bucket_location()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location.location_constraint().map(|l| l.as_str()),
        Some(REGION)
    );
    let tags = s3
        .get_bucket_tagging()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == CONNECTOR_TAG && t.value() == pipeline.connector_id)
    );
    let encryption = s3
        .get_bucket_encryption()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let pab = s3
        .get_public_access_block()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(lifecycle.rules()[0].expiration().unwrap().days(), Some(30));
    let notification = s3
        .get_bucket_notification_configuration()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    let queue_config = &notification.queue_configurations()[0];
    assert_eq!(queue_config.queue_arn(), names.queue_arn());
    assert_eq!(queue_config.events()[0].as_str(), "s3:ObjectCreated:*");

    let sqs = access.sqs(REGION);
    let url = sqs
        .get_queue_url()
        .queue_name(&names.queue)
        .send()
        .await
        .unwrap();
    let url = url.queue_url().unwrap();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attributes = attributes.attributes().unwrap();
    let redrive: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"],
        names.dead_letter_queue_arn()
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
    let policy: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::Policy]).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(statement["Action"], "sqs:SendMessage");
    assert_eq!(
        statement["Condition"]["ArnEquals"]["aws:SourceArn"],
        names.bucket_arn()
    );
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "300");
    let tags = sqs.list_queue_tags().queue_url(url).send().await.unwrap();
    assert_eq!(tags.tags().unwrap()[CONNECTOR_TAG], pipeline.connector_id);
    assert!(
        sqs.get_queue_url()
            .queue_name(&names.dead_letter_queue)
            .send()
            .await
            .is_ok()
    );

    let firehose = access.firehose(REGION);
    let stream = firehose
        .describe_delivery_stream()
        .delivery_stream_name(&names.delivery_stream)
        .send()
        .await
        .unwrap();
    let description = stream.delivery_stream_description().unwrap();
    let destination = description.destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(destination.role_arn(), pipeline.kinesis_to_s3_role_arn);
    assert_eq!(destination.bucket_arn(), names.bucket_arn());
    assert_eq!(destination.prefix(), Some(containers::OBJECT_PREFIX));
    let tags = firehose
        .list_tags_for_delivery_stream()
        .delivery_stream_name(&names.delivery_stream)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == CONNECTOR_TAG && t.value() == Some(pipeline.connector_id.as_str()))
    );
}

fn audit_event(verb: &str, n: usize) -> String {
    serde_json::json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": format!("0000000{n}-aaaa-bbbb-cccc-000000000000"),
        "stage": "ResponseComplete",
        "verb": verb,
        "user": {"username": "kubernetes-admin"},
        "objectRef": {"resource": "pods", "namespace": "default"},
    })
    .to_string()
}

async fn put_events(access: &AwsAccess, log_group: &str, stream: &str, messages: &[String]) {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let events: Vec<InputLogEvent> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            InputLogEvent::builder()
                .timestamp(now + i as i64)
                .message(m)
                .build()
                .unwrap()
        })
        .collect();
    access
        .logs(REGION)
        .put_log_events()
        .log_group_name(log_group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

/// Polls until a poll receives nothing; the reports of every poll.
async fn drain<S: EventSink>(consumer: &mut Consumer, sink: &S) -> Vec<consumer::PollReport> {
    let mut reports = Vec::new();
    loop {
        let report = consumer.poll(sink).await;
        assert!(report.receive_error.is_none(), "{report:?}");
        let empty = report.received == 0;
        reports.push(report);
        if empty {
            return reports;
        }
    }
}

async fn data_path(provisioning: &AwsAccess, pipeline: &ClusterPipeline) {
    let names = pipeline.names();
    // The consumer's own access (the data collection role's in production),
    // to check which calls it makes.
    let consumer_access = AwsAccess::load(&settings(provisioning.endpoint_url().unwrap()))
        .await
        .unwrap();
    let access = provisioning;
    let logs = access.logs(REGION);
    for stream in ["kube-apiserver-audit-1", "authenticator-1"] {
        logs.create_log_stream()
            .log_group_name(&names.log_group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
    }
    let source = QueueSource::resolve(&consumer_access.sqs(REGION), &names, CLUSTER)
        .await
        .unwrap();
    assert_eq!(source.bucket, names.bucket);
    let options = ConsumerOptions {
        wait_time_secs: 1,
        visibility_timeout_secs: Some(2),
        max_messages: 10,
    };
    let mut consumer = Consumer::new(&consumer_access, source.clone(), options);

    // S3 announced the notification with a test event: deleted, nothing stored.
    let sink = MemorySink::default();
    let reports = drain(&mut consumer, &sink).await;
    assert_eq!(reports.iter().map(|r| r.test_events).sum::<usize>(), 1);
    assert!(sink.records.lock().unwrap().is_empty());

    let first: Vec<String> = (0..3).map(|n| audit_event("create", n)).collect();
    let second = vec!["authenticator: access granted".to_owned()];
    put_events(access, &names.log_group, "kube-apiserver-audit-1", &first).await;
    // A malformed object among the good ones.
    access
        .s3(REGION)
        .put_object()
        .bucket(&names.bucket)
        .key(format!(
            "{}2026/12/06/05/broken object.gz",
            containers::OBJECT_PREFIX
        ))
        .body(b"this is not gzip".to_vec().into())
        .send()
        .await
        .unwrap();
    put_events(access, &names.log_group, "authenticator-1", &second).await;

    let reports = drain(&mut consumer, &sink).await;
    let received: usize = reports.iter().map(|r| r.received).sum();
    let deleted: usize = reports.iter().map(|r| r.deleted).sum();
    assert_eq!((received, deleted), (3, 2), "{reports:#?}");
    let errors: Vec<_> = reports.iter().flat_map(|r| r.errors.clone()).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0].key.as_deref(),
        Some("eks-audit/2026/12/06/05/broken object.gz"),
        "the key arrives URL-encoded and is decoded"
    );
    assert!(
        matches!(errors[0].error, PipelineError::Decode(_)),
        "{errors:?}"
    );

    let stored = sink.records.lock().unwrap().clone();
    let mut messages: Vec<&str> = stored.iter().map(|r| r.message.as_str()).collect();
    messages.sort_unstable();
    let mut expected: Vec<&str> = first.iter().chain(&second).map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(messages, expected, "exactly the events put, once each");
    for record in &stored {
        assert_eq!(record.account, ACCOUNT);
        assert_eq!(record.region, REGION);
        assert_eq!(record.cluster, CLUSTER);
        assert_eq!(record.log_group, names.log_group);
        assert_eq!(record.bucket, names.bucket);
        assert!(record.key.starts_with(containers::OBJECT_PREFIX));
        assert!(!record.id.is_empty() && record.id.chars().all(|c| c.is_ascii_digit()));
    }
    let streams: BTreeSet<&str> = stored.iter().map(|r| r.log_stream.as_str()).collect();
    assert_eq!(
        streams,
        BTreeSet::from(["authenticator-1", "kube-apiserver-audit-1"])
    );

    // Stats on the real clock: the events were logged just now.
    let stats = consumer.stats().clone();
    assert_eq!(stats.events_processed, 4);
    assert_eq!(
        stats.messages_deleted, 3,
        "two data messages and the test event"
    );
    assert!(stats.last_event_ms.is_some());
    assert!(stats.lag.unwrap() < Duration::from_secs(120), "{stats:?}");

    // The failed message is invisible for the 2 s asked on receive.
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    // A sink that fails: the message stays and comes back; stored once the sink works.
    let third = vec![audit_event("delete", 9)];
    put_events(access, &names.log_group, "kube-apiserver-audit-1", &third).await;
    let mut retrying = Consumer::new(
        &consumer_access,
        source.clone(),
        ConsumerOptions {
            visibility_timeout_secs: Some(0),
            ..options
        },
    );
    let failing = MemorySink {
        fail: true,
        ..MemorySink::default()
    };
    let report = retrying.poll(&failing).await;
    assert_eq!(report.deleted, 0, "{report:?}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| matches!(&e.error, PipelineError::Sink(r) if r == "store is down"))
    );
    let working = MemorySink::default();
    let mut stored_third = false;
    for _ in 0..4 {
        let report = retrying.poll(&working).await;
        if working
            .records
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.message == third[0])
        {
            assert!(report.deleted >= 1);
            stored_third = true;
            break;
        }
    }
    assert!(
        stored_third,
        "the event was stored after the sink recovered"
    );

    // The malformed object's message keeps failing and SQS moves it to the
    // dead-letter queue after the redrive policy's receive count.
    assert_eq!(retrying.dead_letter_depth().await.unwrap(), Some(0));
    for _ in 0..(containers::MAX_RECEIVE_COUNT + 2) {
        retrying.poll(&working).await;
    }
    assert_eq!(retrying.dead_letter_depth().await.unwrap(), Some(1));
    let leftover = drain(&mut retrying, &working).await;
    assert!(leftover.iter().all(|r| r.received == 0), "{leftover:?}");

    let declared: BTreeSet<String> = consumer::OPERATIONS
        .iter()
        .map(|o| format!("{}:{}", o.service, o.name))
        .collect();
    let made = calls_since(&consumer_access, &Default::default());
    assert!(made.contains("sqs:ReceiveMessage") && made.contains("s3:GetObject"));
    for call in made {
        assert!(declared.contains(&call), "undeclared consumer call {call}");
    }
}

/// A bucket with Rampart's name that is not tagged with the connector is
/// left alone; what needs it is skipped, the rest is provisioned.
async fn not_owned_resources_are_left_alone(access: &AwsAccess, clients: &Clients) {
    let other = input("other-cluster");
    let names = other.names();
    create_cluster(access, "other-cluster", &[]).await;
    access
        .s3(REGION)
        .create_bucket()
        .bucket(&names.bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = containers::plan(clients, &other).await.unwrap();
    let bucket = plan.step(Resource::Bucket).unwrap();
    assert!(
        matches!(bucket.error, Some(PipelineError::NotOwned { .. })),
        "{bucket:?}"
    );
    let report = containers::apply(clients, &other, fast()).await.unwrap();
    assert!(!report.succeeded());
    let outcome = |r: Resource| {
        report
            .steps
            .iter()
            .find(|s| s.step.resource == r)
            .map(|s| s.outcome.clone())
            .unwrap()
    };
    assert_eq!(outcome(Resource::ClusterLogging), Outcome::Done);
    assert_eq!(outcome(Resource::Queue), Outcome::Done);
    assert_eq!(
        outcome(Resource::DeliveryStream),
        Outcome::Failed {
            error: PipelineError::Blocked("bucket".to_owned())
        }
    );
    assert_eq!(
        outcome(Resource::SubscriptionFilter),
        Outcome::Failed {
            error: PipelineError::Blocked("delivery-stream".to_owned())
        }
    );
    let check = containers::check(clients, &other).await.unwrap();
    assert_eq!(check.status, CheckStatus::NotMet);
    insta::assert_json_snapshot!("check_with_foreign_bucket", check);
    // Removal leaves the foreign bucket and deletes only what is tagged.
    let removed = containers::remove(clients, &other).await.unwrap();
    assert!(removed.succeeded(), "{removed:#?}");
    assert!(
        access
            .s3(REGION)
            .head_bucket()
            .bucket(&names.bucket)
            .send()
            .await
            .is_ok()
    );
    // A cluster that does not exist: every step reports it, nothing is created.
    let missing = input("no-such-cluster");
    let report = containers::apply(clients, &missing, fast()).await.unwrap();
    assert!(
        report
            .steps
            .iter()
            .all(|s| matches!(s.outcome, Outcome::Failed { .. }))
    );
    assert!(
        access
            .sqs(REGION)
            .get_queue_url()
            .queue_name(&missing.names().queue)
            .send()
            .await
            .is_err()
    );
}
