//! RDS: DB instances (`AWS::RDS::DBInstance`), DB clusters
//! (`AWS::RDS::DBCluster`, Aurora, Multi-AZ clusters, and the DocumentDB and
//! Neptune clusters the same API returns), DB snapshots
//! (`AWS::RDS::DBSnapshot`) and DB cluster snapshots
//! (`AWS::RDS::DBClusterSnapshot`) with who may restore them.
//!
//! Per region: `DescribeDBInstances`, `DescribeDBClusters`,
//! `DescribeDBSnapshots` and `DescribeDBClusterSnapshots` (100 a page; tags
//! come in their `TagList`). The snapshot lists are not filtered by type, so
//! they return the account's manual, automated and AWS Backup snapshots in
//! one pass. Per *manual* snapshot one `DescribeDBSnapshotAttributes` /
//! `DescribeDBClusterSnapshotAttributes` call reads the `restore` attribute
//! (`"all"` = public). Only manual snapshots can be shared, so other types
//! are not asked: their `attributes`, `public` and `sharedAccounts` are
//! `null` (not collected), and checks should consider `snapshotType`.
//!
//! `publiclyAccessible` is `null` when the API omits it (moto does unless it
//! was set at creation); it is never turned into `false`.
//!
//! Parameter groups: the TLS and audit settings the recommendations need
//! live in parameter groups, so each DB parameter group used by a standalone
//! RDS for PostgreSQL, MySQL, MariaDB or SQL Server instance is read once
//! with `DescribeDBParameters`, and each DB cluster parameter group used by
//! an Aurora MySQL or DocumentDB cluster once with
//! `DescribeDBClusterParameters`. Only the [`TRACKED_PARAMETERS`] are kept,
//! on the instance or cluster as `parameters` (`[{name, value}]`); other
//! instances and clusters get `null` (not collected), and a failed read
//! marks `parameters` unavailable.
//!
//! Per region also `DescribeEventSubscriptions` (RDS event notification
//! subscriptions, `AWS::RDS::EventSubscription`) and `DescribeDBProxies`
//! (`AWS::RDS::DBProxy`).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_rds::types::{
    DbCluster, DbClusterSnapshot, DbClusterSnapshotAttributesResult, DbInstance, DbProxy,
    DbSnapshot, DbSnapshotAttributesResult, EventSubscription, Parameter, Tag,
    VpcSecurityGroupMembership,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{
    Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, str_list, tag_map,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects RDS instances, clusters and snapshots.
#[derive(Debug)]
pub struct Rds;

static META: CollectorMeta = CollectorMeta {
    service: "rds",
    scope: Scope::Regional,
    operations: &[
        op!("rds", "DescribeDBInstances"),
        op!("rds", "DescribeDBClusters"),
        op!("rds", "DescribeDBSnapshots"),
        op!("rds", "DescribeDBSnapshotAttributes"),
        op!("rds", "DescribeDBClusterSnapshots"),
        op!("rds", "DescribeDBClusterSnapshotAttributes"),
        op!("rds", "DescribeDBParameters"),
        op!("rds", "DescribeDBClusterParameters"),
        op!("rds", "DescribeEventSubscriptions"),
        op!("rds", "DescribeDBProxies"),
    ],
    resource_types: &[
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBSnapshot",
        "AWS::RDS::DBClusterSnapshot",
        "AWS::RDS::EventSubscription",
        "AWS::RDS::DBProxy",
    ],
};

/// Largest page the RDS describe calls accept.
const PAGE_SIZE: i32 = 100;

impl Collector for Rds {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().rds(ctx.region());
            let client = &client;
            futures::join!(
                collect_instances(ctx, client),
                collect_clusters(ctx, client),
                collect_snapshots(ctx, client),
                collect_cluster_snapshots(ctx, client),
                collect_event_subscriptions(ctx, client),
                collect_proxies(ctx, client),
            );
        })
    }
}

async fn collect_instances(ctx: &CollectContext<'_>, client: &aws_sdk_rds::Client) {
    let Ok(pages) = ctx
        .pages(
            "DescribeDBInstances",
            client
                .describe_db_instances()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .send(),
        )
        .await
    else {
        return;
    };
    let instances: Vec<DbInstance> = pages
        .into_iter()
        .flat_map(|p| p.db_instances.unwrap_or_default())
        .collect();
    let groups: BTreeSet<String> = instances
        .iter()
        .filter_map(instance_parameter_group)
        .map(str::to_owned)
        .collect();
    let reads = groups.into_iter().map(|group| -> ParameterRead<'_> {
        let pages = client
            .describe_db_parameters()
            .db_parameter_group_name(&group)
            .into_paginator()
            .page_size(PAGE_SIZE)
            .send();
        Box::pin(async move {
            let read = ctx
                .pages("DescribeDBParameters", pages)
                .await
                .map(|pages| tracked_parameters(pages.iter().flat_map(|p| p.parameters())));
            (group, read)
        })
    });
    let parameters = read_parameter_groups(ctx, reads.collect()).await;
    for instance in &instances {
        let read = instance_parameter_group(instance)
            .and_then(|g| parameters.get(g))
            .map(Result::as_ref);
        let mut asset = db_instance_asset(ctx.account(), ctx.region(), instance);
        apply_parameters(&mut asset, read);
        ctx.emit(asset);
    }
}

/// One parameter group's read: its name and its tracked parameters.
type ParameterRead<'a> = BoxFuture<'a, (String, Result<TrackedParameters, CallFailure>)>;

/// Runs the parameter groups' reads (one per group), at most the context's
/// concurrency at a time; their results by group name.
async fn read_parameter_groups(
    ctx: &CollectContext<'_>,
    reads: Vec<ParameterRead<'_>>,
) -> BTreeMap<String, Result<TrackedParameters, CallFailure>> {
    futures::stream::iter(reads)
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await
}

async fn collect_clusters(ctx: &CollectContext<'_>, client: &aws_sdk_rds::Client) {
    let Ok(pages) = ctx
        .pages(
            "DescribeDBClusters",
            client
                .describe_db_clusters()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .send(),
        )
        .await
    else {
        return;
    };
    let clusters: Vec<DbCluster> = pages
        .into_iter()
        .flat_map(|p| p.db_clusters.unwrap_or_default())
        .collect();
    let groups: BTreeSet<String> = clusters
        .iter()
        .filter_map(cluster_parameter_group)
        .map(str::to_owned)
        .collect();
    let reads = groups.into_iter().map(|group| -> ParameterRead<'_> {
        let pages = client
            .describe_db_cluster_parameters()
            .db_cluster_parameter_group_name(&group)
            .into_paginator()
            .page_size(PAGE_SIZE)
            .send();
        Box::pin(async move {
            let read = ctx
                .pages("DescribeDBClusterParameters", pages)
                .await
                .map(|pages| tracked_parameters(pages.iter().flat_map(|p| p.parameters())));
            (group, read)
        })
    });
    let parameters = read_parameter_groups(ctx, reads.collect()).await;
    for cluster in &clusters {
        let read = cluster_parameter_group(cluster)
            .and_then(|g| parameters.get(g))
            .map(Result::as_ref);
        let mut asset = db_cluster_asset(ctx.account(), ctx.region(), cluster);
        apply_parameters(&mut asset, read);
        ctx.emit(asset);
    }
}

async fn collect_event_subscriptions(ctx: &CollectContext<'_>, client: &aws_sdk_rds::Client) {
    let pages = ctx
        .pages(
            "DescribeEventSubscriptions",
            client
                .describe_event_subscriptions()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .send(),
        )
        .await;
    for subscription in pages
        .iter()
        .flatten()
        .flat_map(|p| p.event_subscriptions_list())
    {
        ctx.emit(event_subscription_asset(
            ctx.account(),
            ctx.region(),
            subscription,
        ));
    }
}

async fn collect_proxies(ctx: &CollectContext<'_>, client: &aws_sdk_rds::Client) {
    let pages = ctx
        .pages(
            "DescribeDBProxies",
            client
                .describe_db_proxies()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .send(),
        )
        .await;
    for proxy in pages.iter().flatten().flat_map(|p| p.db_proxies()) {
        ctx.emit(db_proxy_asset(ctx.account(), ctx.region(), proxy));
    }
}

async fn collect_snapshots(ctx: &CollectContext<'_>, client: &aws_sdk_rds::Client) {
    let Ok(pages) = ctx
        .pages(
            "DescribeDBSnapshots",
            client
                .describe_db_snapshots()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .send(),
        )
        .await
    else {
        return;
    };
    let snapshots: Vec<DbSnapshot> = pages
        .into_iter()
        .flat_map(|p| p.db_snapshots.unwrap_or_default())
        .collect();
    futures::stream::iter(snapshots)
        .map(|snapshot| async move {
            let attributes = match (snapshot.snapshot_type(), snapshot.db_snapshot_identifier()) {
                (Some("manual"), Some(id)) => Some(
                    ctx.call(
                        "DescribeDBSnapshotAttributes",
                        client
                            .describe_db_snapshot_attributes()
                            .db_snapshot_identifier(id)
                            .send(),
                    )
                    .await
                    .map(|out| out.db_snapshot_attributes_result),
                ),
                _ => None,
            };
            let attributes =
                attributes.map(|r| r.map(|result| snapshot_attribute_map(result.as_ref())));
            ctx.emit(db_snapshot_asset(
                ctx.account(),
                ctx.region(),
                &snapshot,
                attributes.as_ref().map(Result::as_ref),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

async fn collect_cluster_snapshots(ctx: &CollectContext<'_>, client: &aws_sdk_rds::Client) {
    let Ok(pages) = ctx
        .pages(
            "DescribeDBClusterSnapshots",
            client
                .describe_db_cluster_snapshots()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .send(),
        )
        .await
    else {
        return;
    };
    let snapshots: Vec<DbClusterSnapshot> = pages
        .into_iter()
        .flat_map(|p| p.db_cluster_snapshots.unwrap_or_default())
        .collect();
    futures::stream::iter(snapshots)
        .map(|snapshot| async move {
            let attributes = match (
                snapshot.snapshot_type(),
                snapshot.db_cluster_snapshot_identifier(),
            ) {
                (Some("manual"), Some(id)) => Some(
                    ctx.call(
                        "DescribeDBClusterSnapshotAttributes",
                        client
                            .describe_db_cluster_snapshot_attributes()
                            .db_cluster_snapshot_identifier(id)
                            .send(),
                    )
                    .await
                    .map(|out| out.db_cluster_snapshot_attributes_result),
                ),
                _ => None,
            };
            let attributes =
                attributes.map(|r| r.map(|result| cluster_snapshot_attribute_map(result.as_ref())));
            ctx.emit(db_cluster_snapshot_asset(
                ctx.account(),
                ctx.region(),
                &snapshot,
                attributes.as_ref().map(Result::as_ref),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// The parameters the recommendations read from DB parameter groups and DB
/// cluster parameter groups: TLS enforcement (`rds.force_ssl` for
/// PostgreSQL and SQL Server, `require_secure_transport` for MySQL and
/// MariaDB, `tls` for DocumentDB) and Aurora MySQL Advanced Auditing
/// (`server_audit_logging`, `server_audit_events`).
pub const TRACKED_PARAMETERS: &[&str] = &[
    "rds.force_ssl",
    "require_secure_transport",
    "tls",
    "server_audit_logging",
    "server_audit_events",
];

/// The [`TRACKED_PARAMETERS`] a group holds, by name; the value is `None`
/// when the group lists the parameter without a value.
pub type TrackedParameters = BTreeMap<String, Option<String>>;

/// Keeps the [`TRACKED_PARAMETERS`] of a parameter listing.
pub fn tracked_parameters<'a>(
    parameters: impl IntoIterator<Item = &'a Parameter>,
) -> TrackedParameters {
    parameters
        .into_iter()
        .filter_map(|p| {
            let name = p.parameter_name()?;
            TRACKED_PARAMETERS
                .contains(&name)
                .then(|| (name.to_owned(), p.parameter_value().map(str::to_owned)))
        })
        .collect()
}

/// Engines whose instance-level TLS setting is assessed (RDS for
/// PostgreSQL, MySQL, MariaDB and SQL Server).
fn instance_tls_engine(engine: &str) -> bool {
    matches!(engine, "postgres" | "mysql" | "mariadb") || engine.starts_with("sqlserver-")
}

/// The DB parameter group whose parameters are read for an instance: only
/// standalone instances of the engines the TLS recommendations cover.
fn instance_parameter_group(db: &DbInstance) -> Option<&str> {
    if db.db_cluster_identifier().is_some() || !db.engine().is_some_and(instance_tls_engine) {
        return None;
    }
    db.db_parameter_groups()
        .first()
        .and_then(|g| g.db_parameter_group_name())
}

/// The DB cluster parameter group whose parameters are read for a cluster:
/// Aurora MySQL (audit logging) and DocumentDB (TLS) clusters.
fn cluster_parameter_group(cluster: &DbCluster) -> Option<&str> {
    if !cluster
        .engine()
        .is_some_and(|e| matches!(e, "aurora-mysql" | "aurora" | "docdb"))
    {
        return None;
    }
    cluster.db_cluster_parameter_group()
}

/// Sets `parameters` from a parameter group read: `None` when not read
/// (`null`), the tracked parameters as `[{name, value}]`, or unavailable.
pub fn apply_parameters(asset: &mut Asset, read: Option<Result<&TrackedParameters, &CallFailure>>) {
    match read {
        None => asset.set_property("parameters", Value::Null),
        Some(Ok(parameters)) => asset.set_property(
            "parameters",
            Value::Array(
                parameters
                    .iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect(),
            ),
        ),
        Some(Err(failure)) => {
            asset.set_property("parameters", Value::Null);
            asset.mark_unavailable("parameters", failure.to_string());
        }
    }
}

/// Snapshot attributes (`restore` → account ids or `all`) by name.
pub type SnapshotAttributes = BTreeMap<String, Vec<String>>;

/// The attributes of a DB snapshot by name.
pub fn snapshot_attribute_map(result: Option<&DbSnapshotAttributesResult>) -> SnapshotAttributes {
    result
        .map(|r| r.db_snapshot_attributes())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            a.attribute_name()
                .map(|n| (n.to_owned(), a.attribute_values().to_vec()))
        })
        .collect()
}

/// The attributes of a DB cluster snapshot by name.
pub fn cluster_snapshot_attribute_map(
    result: Option<&DbClusterSnapshotAttributesResult>,
) -> SnapshotAttributes {
    result
        .map(|r| r.db_cluster_snapshot_attributes())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            a.attribute_name()
                .map(|n| (n.to_owned(), a.attribute_values().to_vec()))
        })
        .collect()
}

fn tags(list: &[Tag]) -> BTreeMap<String, String> {
    tag_map(list.iter().map(|t| (t.key(), t.value())))
}

fn security_groups(groups: &[VpcSecurityGroupMembership]) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|g| {
                json!({
                    "vpcSecurityGroupId": opt_str(g.vpc_security_group_id()),
                    "status": opt_str(g.status()),
                })
            })
            .collect(),
    )
}

fn rds_arn(arn: Option<&str>, region: &str, account: &str, kind: &str, id: &str) -> String {
    arn.map_or_else(
        || {
            format!(
                "arn:{}:rds:{region}:{account}:{kind}:{id}",
                partition(region)
            )
        },
        str::to_owned,
    )
}

/// The `AWS::RDS::DBInstance` asset of a DB instance.
pub fn db_instance_asset(account: &str, region: &str, db: &DbInstance) -> Asset {
    let id = db.db_instance_identifier().unwrap_or_default();
    let arn = rds_arn(db.db_instance_arn(), region, account, "db", id);
    let subnet_group = db.db_subnet_group().map_or(Value::Null, |g| {
        json!({
            "dbSubnetGroupName": opt_str(g.db_subnet_group_name()),
            "vpcId": opt_str(g.vpc_id()),
            "subnets": g
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier())
                .collect::<Vec<_>>(),
        })
    });
    let properties = json!({
        "dbInstanceIdentifier": id,
        "dbInstanceArn": arn,
        "dbiResourceId": opt_str(db.dbi_resource_id()),
        "dbInstanceClass": opt_str(db.db_instance_class()),
        "dbInstanceStatus": opt_str(db.db_instance_status()),
        "engine": opt_str(db.engine()),
        "engineVersion": opt_str(db.engine_version()),
        "licenseModel": opt_str(db.license_model()),
        "automationMode": db.automation_mode().map(|m| m.as_str()),
        "resumeFullAutomationModeTime": opt_timestamp(db.resume_full_automation_mode_time()),
        "customIamInstanceProfile": opt_str(db.custom_iam_instance_profile()),
        "dbClusterIdentifier": opt_str(db.db_cluster_identifier()),
        "storageEncrypted": db.storage_encrypted(),
        "kmsKeyId": opt_str(db.kms_key_id()),
        "publiclyAccessible": db.publicly_accessible(),
        "multiAZ": db.multi_az(),
        "availabilityZone": opt_str(db.availability_zone()),
        "backupRetentionPeriod": db.backup_retention_period(),
        "deletionProtection": db.deletion_protection(),
        "autoMinorVersionUpgrade": db.auto_minor_version_upgrade(),
        "iamDatabaseAuthenticationEnabled": db.iam_database_authentication_enabled(),
        "enabledCloudwatchLogsExports": str_list(db.enabled_cloudwatch_logs_exports()),
        "copyTagsToSnapshot": db.copy_tags_to_snapshot(),
        "monitoringInterval": db.monitoring_interval(),
        "performanceInsightsEnabled": db.performance_insights_enabled(),
        "performanceInsightsKmsKeyId": opt_str(db.performance_insights_kms_key_id()),
        "storageType": opt_str(db.storage_type()),
        "masterUsername": opt_str(db.master_username()),
        "endpoint": db.endpoint().map_or(Value::Null, |e| json!({
            "address": opt_str(e.address()),
            "port": e.port(),
        })),
        "caCertificateIdentifier": opt_str(db.ca_certificate_identifier()),
        "certificateValidTill": opt_timestamp(db.certificate_details().and_then(|c| c.valid_till())),
        "dbSubnetGroup": subnet_group,
        "vpcSecurityGroups": security_groups(db.vpc_security_groups()),
        "dbParameterGroups": db
            .db_parameter_groups()
            .iter()
            .filter_map(|g| g.db_parameter_group_name())
            .collect::<Vec<_>>(),
        "dbParameterGroupStatus": db
            .db_parameter_groups()
            .iter()
            .map(|g| json!({
                "name": opt_str(g.db_parameter_group_name()),
                "applyStatus": opt_str(g.parameter_apply_status()),
            }))
            .collect::<Vec<_>>(),
        "readReplicaSourceDBInstanceIdentifier": opt_str(db.read_replica_source_db_instance_identifier()),
        "networkType": opt_str(db.network_type()),
        "instanceCreateTime": opt_timestamp(db.instance_create_time()),
    });
    Asset::new(arn, "AWS::RDS::DBInstance", account, region, id, properties)
        .with_tags(tags(db.tag_list()))
}

/// The `AWS::RDS::DBCluster` asset of a DB cluster.
pub fn db_cluster_asset(account: &str, region: &str, cluster: &DbCluster) -> Asset {
    let id = cluster.db_cluster_identifier().unwrap_or_default();
    let arn = rds_arn(cluster.db_cluster_arn(), region, account, "cluster", id);
    let properties = json!({
        "dbClusterIdentifier": id,
        "dbClusterArn": arn,
        "dbClusterResourceId": opt_str(cluster.db_cluster_resource_id()),
        "status": opt_str(cluster.status()),
        "engine": opt_str(cluster.engine()),
        "engineVersion": opt_str(cluster.engine_version()),
        "engineMode": opt_str(cluster.engine_mode()),
        "dbClusterInstanceClass": opt_str(cluster.db_cluster_instance_class()),
        "storageEncrypted": cluster.storage_encrypted(),
        "kmsKeyId": opt_str(cluster.kms_key_id()),
        "publiclyAccessible": cluster.publicly_accessible(),
        "multiAZ": cluster.multi_az(),
        "availabilityZones": str_list(cluster.availability_zones()),
        "backupRetentionPeriod": cluster.backup_retention_period(),
        "deletionProtection": cluster.deletion_protection(),
        "autoMinorVersionUpgrade": cluster.auto_minor_version_upgrade(),
        "iamDatabaseAuthenticationEnabled": cluster.iam_database_authentication_enabled(),
        "enabledCloudwatchLogsExports": str_list(cluster.enabled_cloudwatch_logs_exports()),
        "copyTagsToSnapshot": cluster.copy_tags_to_snapshot(),
        "httpEndpointEnabled": cluster.http_endpoint_enabled(),
        "backtrackWindow": cluster.backtrack_window(),
        "activityStreamStatus": opt_str(cluster.activity_stream_status().map(|s| s.as_str())),
        "masterUsername": opt_str(cluster.master_username()),
        "port": cluster.port(),
        "endpoint": opt_str(cluster.endpoint()),
        "readerEndpoint": opt_str(cluster.reader_endpoint()),
        "dbSubnetGroup": opt_str(cluster.db_subnet_group()),
        "dbClusterParameterGroup": opt_str(cluster.db_cluster_parameter_group()),
        "vpcSecurityGroups": security_groups(cluster.vpc_security_groups()),
        "dbClusterMembers": cluster
            .db_cluster_members()
            .iter()
            .map(|m| json!({
                "dbInstanceIdentifier": opt_str(m.db_instance_identifier()),
                "isClusterWriter": m.is_cluster_writer(),
                "dbClusterParameterGroupStatus": opt_str(m.db_cluster_parameter_group_status()),
            }))
            .collect::<Vec<_>>(),
        "clusterCreateTime": opt_timestamp(cluster.cluster_create_time()),
    });
    Asset::new(arn, "AWS::RDS::DBCluster", account, region, id, properties)
        .with_tags(tags(cluster.tag_list()))
}

/// Sets `attributes`, `public` and `sharedAccounts` from a snapshot's
/// attributes: read, not collected (`None`), or failed.
fn apply_attributes(
    asset: &mut Asset,
    attributes: Option<Result<&SnapshotAttributes, &CallFailure>>,
) {
    match attributes {
        Some(Ok(attributes)) => {
            let restore = attributes
                .get("restore")
                .map(Vec::as_slice)
                .unwrap_or_default();
            asset.set_property("attributes", json!(attributes));
            asset.set_property("public", Value::Bool(restore.iter().any(|v| v == "all")));
            asset.set_property(
                "sharedAccounts",
                Value::Array(
                    restore
                        .iter()
                        .filter(|v| *v != "all")
                        .map(|v| Value::String(v.clone()))
                        .collect(),
                ),
            );
        }
        None => {
            for key in ["attributes", "public", "sharedAccounts"] {
                asset.set_property(key, Value::Null);
            }
        }
        Some(Err(failure)) => {
            for key in ["attributes", "public", "sharedAccounts"] {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
}

/// The `AWS::RDS::DBSnapshot` asset of a DB snapshot; `attributes` is
/// `None` when not collected (snapshots other than manual).
pub fn db_snapshot_asset(
    account: &str,
    region: &str,
    snapshot: &DbSnapshot,
    attributes: Option<Result<&SnapshotAttributes, &CallFailure>>,
) -> Asset {
    let id = snapshot.db_snapshot_identifier().unwrap_or_default();
    let arn = rds_arn(snapshot.db_snapshot_arn(), region, account, "snapshot", id);
    let properties = json!({
        "dbSnapshotIdentifier": id,
        "dbSnapshotArn": arn,
        "dbInstanceIdentifier": opt_str(snapshot.db_instance_identifier()),
        "snapshotType": opt_str(snapshot.snapshot_type()),
        "status": opt_str(snapshot.status()),
        "engine": opt_str(snapshot.engine()),
        "engineVersion": opt_str(snapshot.engine_version()),
        "encrypted": snapshot.encrypted(),
        "kmsKeyId": opt_str(snapshot.kms_key_id()),
        "iamDatabaseAuthenticationEnabled": snapshot.iam_database_authentication_enabled(),
        "storageType": opt_str(snapshot.storage_type()),
        "vpcId": opt_str(snapshot.vpc_id()),
        "sourceRegion": opt_str(snapshot.source_region()),
        "sourceDBSnapshotIdentifier": opt_str(snapshot.source_db_snapshot_identifier()),
        "snapshotCreateTime": opt_timestamp(snapshot.snapshot_create_time()),
    });
    let mut asset = Asset::new(arn, "AWS::RDS::DBSnapshot", account, region, id, properties)
        .with_tags(tags(snapshot.tag_list()));
    apply_attributes(&mut asset, attributes);
    asset
}

/// The `AWS::RDS::DBClusterSnapshot` asset of a DB cluster snapshot;
/// `attributes` is `None` when not collected (snapshots other than manual).
pub fn db_cluster_snapshot_asset(
    account: &str,
    region: &str,
    snapshot: &DbClusterSnapshot,
    attributes: Option<Result<&SnapshotAttributes, &CallFailure>>,
) -> Asset {
    let id = snapshot
        .db_cluster_snapshot_identifier()
        .unwrap_or_default();
    let arn = rds_arn(
        snapshot.db_cluster_snapshot_arn(),
        region,
        account,
        "cluster-snapshot",
        id,
    );
    let properties = json!({
        "dbClusterSnapshotIdentifier": id,
        "dbClusterSnapshotArn": arn,
        "dbClusterIdentifier": opt_str(snapshot.db_cluster_identifier()),
        "snapshotType": opt_str(snapshot.snapshot_type()),
        "status": opt_str(snapshot.status()),
        "engine": opt_str(snapshot.engine()),
        "engineVersion": opt_str(snapshot.engine_version()),
        "storageEncrypted": snapshot.storage_encrypted(),
        "kmsKeyId": opt_str(snapshot.kms_key_id()),
        "iamDatabaseAuthenticationEnabled": snapshot.iam_database_authentication_enabled(),
        "vpcId": opt_str(snapshot.vpc_id()),
        "sourceDBClusterSnapshotArn": opt_str(snapshot.source_db_cluster_snapshot_arn()),
        "snapshotCreateTime": opt_timestamp(snapshot.snapshot_create_time()),
    });
    let mut asset = Asset::new(
        arn,
        "AWS::RDS::DBClusterSnapshot",
        account,
        region,
        id,
        properties,
    )
    .with_tags(tags(snapshot.tag_list()));
    apply_attributes(&mut asset, attributes);
    asset
}

/// The `AWS::RDS::EventSubscription` asset of an RDS event notification
/// subscription. An empty `eventCategories` means every category, a `null`
/// `sourceType` every source type.
pub fn event_subscription_asset(
    account: &str,
    region: &str,
    subscription: &EventSubscription,
) -> Asset {
    let id = subscription.cust_subscription_id().unwrap_or_default();
    let arn = rds_arn(
        subscription.event_subscription_arn(),
        region,
        account,
        "es",
        id,
    );
    let properties = json!({
        "custSubscriptionId": id,
        "eventSubscriptionArn": arn,
        "snsTopicArn": opt_str(subscription.sns_topic_arn()),
        "status": opt_str(subscription.status()),
        "sourceType": opt_str(subscription.source_type()),
        "sourceIds": str_list(subscription.source_ids_list()),
        "eventCategories": str_list(subscription.event_categories_list()),
        "enabled": subscription.enabled(),
        "subscriptionCreationTime": opt_str(subscription.subscription_creation_time()),
    });
    Asset::new(
        arn,
        "AWS::RDS::EventSubscription",
        account,
        region,
        id,
        properties,
    )
}

/// The `AWS::RDS::DBProxy` asset of an RDS Proxy.
pub fn db_proxy_asset(account: &str, region: &str, proxy: &DbProxy) -> Asset {
    let id = proxy.db_proxy_name().unwrap_or_default();
    let arn = rds_arn(proxy.db_proxy_arn(), region, account, "db-proxy", id);
    let properties = json!({
        "dbProxyName": id,
        "dbProxyArn": arn,
        "status": proxy.status().map(|s| s.as_str()),
        "engineFamily": opt_str(proxy.engine_family()),
        "requireTLS": proxy.require_tls(),
        "idleClientTimeout": proxy.idle_client_timeout(),
        "debugLogging": proxy.debug_logging(),
        "endpoint": opt_str(proxy.endpoint()),
        "roleArn": opt_str(proxy.role_arn()),
        "vpcId": opt_str(proxy.vpc_id()),
        "vpcSubnetIds": str_list(proxy.vpc_subnet_ids()),
        "vpcSecurityGroupIds": str_list(proxy.vpc_security_group_ids()),
        "auth": proxy
            .auth()
            .iter()
            .map(|a| json!({
                "authScheme": a.auth_scheme().map(|s| s.as_str()),
                "iamAuth": a.iam_auth().map(|s| s.as_str()),
                "clientPasswordAuthType": a.client_password_auth_type().map(|s| s.as_str()),
            }))
            .collect::<Vec<_>>(),
        "createdDate": opt_timestamp(proxy.created_date()),
    });
    Asset::new(arn, "AWS::RDS::DBProxy", account, region, id, properties)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::{
        DbClusterMember, DbClusterSnapshotAttribute, DbSnapshotAttribute, DbSubnetGroup, Endpoint,
        Subnet,
    };
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDenied".into()),
            message: "AccessDenied: nope".into(),
        }
    }

    #[test]
    fn maps_a_hardened_instance() {
        let db = DbInstance::builder()
            .db_instance_identifier("prod")
            .db_instance_arn("arn:aws:rds:us-east-1:123456789012:db:prod")
            .engine("postgres")
            .engine_version("16.3")
            .storage_encrypted(true)
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/k")
            .publicly_accessible(false)
            .multi_az(true)
            .backup_retention_period(14)
            .deletion_protection(true)
            .auto_minor_version_upgrade(true)
            .iam_database_authentication_enabled(true)
            .enabled_cloudwatch_logs_exports("postgresql")
            .endpoint(
                Endpoint::builder()
                    .address("prod.x.rds.amazonaws.com")
                    .port(5432)
                    .build(),
            )
            .db_subnet_group(
                DbSubnetGroup::builder()
                    .db_subnet_group_name("private")
                    .vpc_id("vpc-1")
                    .subnets(Subnet::builder().subnet_identifier("subnet-1").build())
                    .build(),
            )
            .vpc_security_groups(
                VpcSecurityGroupMembership::builder()
                    .vpc_security_group_id("sg-1")
                    .status("active")
                    .build(),
            )
            .tag_list(Tag::builder().key("env").value("prod").build())
            .build();
        let asset = db_instance_asset("123456789012", "us-east-1", &db);
        assert_eq!(asset.arn, "arn:aws:rds:us-east-1:123456789012:db:prod");
        assert_eq!(asset.resource_type, "AWS::RDS::DBInstance");
        assert_eq!(asset.name, "prod");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["storageEncrypted"], true);
        assert_eq!(p["publiclyAccessible"], false);
        assert_eq!(p["multiAZ"], true);
        assert_eq!(p["backupRetentionPeriod"], 14);
        assert_eq!(p["deletionProtection"], true);
        assert_eq!(p["autoMinorVersionUpgrade"], true);
        assert_eq!(p["iamDatabaseAuthenticationEnabled"], true);
        assert_eq!(p["engine"], "postgres");
        assert_eq!(p["engineVersion"], "16.3");
        assert_eq!(p["enabledCloudwatchLogsExports"], json!(["postgresql"]));
        assert_eq!(p["endpoint"]["port"], 5432);
        assert_eq!(p["dbSubnetGroup"]["dbSubnetGroupName"], "private");
        assert_eq!(p["dbSubnetGroup"]["subnets"], json!(["subnet-1"]));
        assert_eq!(p["vpcSecurityGroups"][0]["vpcSecurityGroupId"], "sg-1");
    }

    #[test]
    fn omitted_public_access_stays_null_and_weak_settings_show() {
        let db = DbInstance::builder()
            .db_instance_identifier("dev")
            .engine("mysql")
            .storage_encrypted(false)
            .backup_retention_period(0)
            .deletion_protection(false)
            .build();
        let asset = db_instance_asset("123456789012", "eu-west-1", &db);
        let p = &asset.properties;
        assert_eq!(asset.arn, "arn:aws:rds:eu-west-1:123456789012:db:dev");
        assert_eq!(p["publiclyAccessible"], Value::Null);
        assert_eq!(p["multiAZ"], Value::Null);
        assert_eq!(p["storageEncrypted"], false);
        assert_eq!(p["backupRetentionPeriod"], 0);
        assert_eq!(p["deletionProtection"], false);
        assert_eq!(p["dbSubnetGroup"], Value::Null);
        assert_eq!(p["enabledCloudwatchLogsExports"], json!([]));

        let public = DbInstance::builder()
            .db_instance_identifier("open")
            .publicly_accessible(true)
            .build();
        let asset = db_instance_asset("123456789012", "eu-west-1", &public);
        assert_eq!(asset.properties["publiclyAccessible"], true);
    }

    #[test]
    fn maps_a_cluster() {
        let cluster = DbCluster::builder()
            .db_cluster_identifier("aurora")
            .db_cluster_arn("arn:aws:rds:us-east-1:123456789012:cluster:aurora")
            .engine("aurora-postgresql")
            .storage_encrypted(false)
            .deletion_protection(false)
            .backup_retention_period(1)
            .iam_database_authentication_enabled(false)
            .enabled_cloudwatch_logs_exports("postgresql")
            .db_subnet_group("default")
            .db_cluster_members(
                DbClusterMember::builder()
                    .db_instance_identifier("aurora-1")
                    .is_cluster_writer(true)
                    .build(),
            )
            .tag_list(Tag::builder().key("team").value("data").build())
            .build();
        let asset = db_cluster_asset("123456789012", "us-east-1", &cluster);
        assert_eq!(
            asset.arn,
            "arn:aws:rds:us-east-1:123456789012:cluster:aurora"
        );
        assert_eq!(asset.resource_type, "AWS::RDS::DBCluster");
        assert_eq!(asset.tags["team"], "data");
        let p = &asset.properties;
        assert_eq!(p["storageEncrypted"], false);
        assert_eq!(p["deletionProtection"], false);
        assert_eq!(p["publiclyAccessible"], Value::Null);
        assert_eq!(p["dbSubnetGroup"], "default");
        assert_eq!(p["dbClusterMembers"][0]["isClusterWriter"], true);
        assert_eq!(p["enabledCloudwatchLogsExports"], json!(["postgresql"]));
    }

    fn manual_snapshot() -> DbSnapshot {
        DbSnapshot::builder()
            .db_snapshot_identifier("snap")
            .db_snapshot_arn("arn:aws:rds:us-east-1:123456789012:snapshot:snap")
            .db_instance_identifier("prod")
            .snapshot_type("manual")
            .encrypted(false)
            .tag_list(Tag::builder().key("k").value("v").build())
            .build()
    }

    #[test]
    fn public_manual_snapshot() {
        let result = DbSnapshotAttributesResult::builder()
            .db_snapshot_identifier("snap")
            .db_snapshot_attributes(
                DbSnapshotAttribute::builder()
                    .attribute_name("restore")
                    .attribute_values("all")
                    .attribute_values("111122223333")
                    .build(),
            )
            .build();
        let attributes = snapshot_attribute_map(Some(&result));
        let asset = db_snapshot_asset(
            "123456789012",
            "us-east-1",
            &manual_snapshot(),
            Some(Ok(&attributes)),
        );
        assert_eq!(
            asset.arn,
            "arn:aws:rds:us-east-1:123456789012:snapshot:snap"
        );
        assert_eq!(asset.resource_type, "AWS::RDS::DBSnapshot");
        assert_eq!(asset.tags["k"], "v");
        let p = &asset.properties;
        assert_eq!(p["public"], true);
        assert_eq!(p["sharedAccounts"], json!(["111122223333"]));
        assert_eq!(p["attributes"]["restore"], json!(["all", "111122223333"]));
        assert_eq!(p["encrypted"], false);
        assert_eq!(p["snapshotType"], "manual");
    }

    #[test]
    fn private_manual_snapshot_and_unread_paths() {
        let result = DbSnapshotAttributesResult::builder()
            .db_snapshot_attributes(
                DbSnapshotAttribute::builder()
                    .attribute_name("restore")
                    .build(),
            )
            .build();
        let attributes = snapshot_attribute_map(Some(&result));
        let asset = db_snapshot_asset(
            "123456789012",
            "us-east-1",
            &manual_snapshot(),
            Some(Ok(&attributes)),
        );
        assert_eq!(asset.properties["public"], false);
        assert_eq!(asset.properties["sharedAccounts"], json!([]));
        assert!(asset.unavailable.is_empty());

        let failure = denied();
        let asset = db_snapshot_asset(
            "123456789012",
            "us-east-1",
            &manual_snapshot(),
            Some(Err(&failure)),
        );
        assert_eq!(asset.properties["public"], Value::Null);
        assert_eq!(asset.unavailable["public"], "AccessDenied: nope");

        let automated = DbSnapshot::builder()
            .db_snapshot_identifier("rds:prod-2024")
            .snapshot_type("automated")
            .encrypted(true)
            .build();
        let asset = db_snapshot_asset("123456789012", "us-east-1", &automated, None);
        assert_eq!(
            asset.arn,
            "arn:aws:rds:us-east-1:123456789012:snapshot:rds:prod-2024"
        );
        assert_eq!(asset.properties["public"], Value::Null);
        assert_eq!(asset.properties["encrypted"], true);
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn cluster_snapshot_shared_with_an_account() {
        let snapshot = DbClusterSnapshot::builder()
            .db_cluster_snapshot_identifier("csnap")
            .db_cluster_snapshot_arn("arn:aws:rds:us-east-1:123456789012:cluster-snapshot:csnap")
            .db_cluster_identifier("aurora")
            .snapshot_type("manual")
            .storage_encrypted(true)
            .build();
        let result = DbClusterSnapshotAttributesResult::builder()
            .db_cluster_snapshot_attributes(
                DbClusterSnapshotAttribute::builder()
                    .attribute_name("restore")
                    .attribute_values("111122223333")
                    .build(),
            )
            .build();
        let attributes = cluster_snapshot_attribute_map(Some(&result));
        let asset = db_cluster_snapshot_asset(
            "123456789012",
            "us-east-1",
            &snapshot,
            Some(Ok(&attributes)),
        );
        assert_eq!(asset.resource_type, "AWS::RDS::DBClusterSnapshot");
        assert_eq!(
            asset.arn,
            "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:csnap"
        );
        assert_eq!(asset.properties["public"], false);
        assert_eq!(asset.properties["sharedAccounts"], json!(["111122223333"]));
        assert_eq!(asset.properties["storageEncrypted"], true);

        let public = DbClusterSnapshotAttributesResult::builder()
            .db_cluster_snapshot_attributes(
                DbClusterSnapshotAttribute::builder()
                    .attribute_name("restore")
                    .attribute_values("all")
                    .build(),
            )
            .build();
        let attributes = cluster_snapshot_attribute_map(Some(&public));
        let asset = db_cluster_snapshot_asset(
            "123456789012",
            "us-east-1",
            &snapshot,
            Some(Ok(&attributes)),
        );
        assert_eq!(asset.properties["public"], true);
    }

    #[test]
    fn tracked_parameters_keep_only_tls_and_audit_settings() {
        let listing = [
            Parameter::builder()
                .parameter_name("rds.force_ssl")
                .parameter_value("1")
                .build(),
            Parameter::builder()
                .parameter_name("require_secure_transport")
                .build(),
            Parameter::builder()
                .parameter_name("max_connections")
                .parameter_value("100")
                .build(),
        ];
        let tracked = tracked_parameters(&listing);
        assert_eq!(tracked.len(), 2);
        assert_eq!(tracked["rds.force_ssl"].as_deref(), Some("1"));
        assert_eq!(tracked["require_secure_transport"], None);

        let db = DbInstance::builder()
            .db_instance_identifier("pg")
            .engine("postgres")
            .db_parameter_groups(
                aws_sdk_rds::types::DbParameterGroupStatus::builder()
                    .db_parameter_group_name("pg-tls")
                    .parameter_apply_status("in-sync")
                    .build(),
            )
            .build();
        assert_eq!(instance_parameter_group(&db), Some("pg-tls"));
        let mut asset = db_instance_asset("123456789012", "us-east-1", &db);
        assert_eq!(
            asset.properties["dbParameterGroupStatus"],
            json!([{"name": "pg-tls", "applyStatus": "in-sync"}])
        );
        apply_parameters(&mut asset, Some(Ok(&tracked)));
        assert_eq!(
            asset.properties["parameters"],
            json!([
                {"name": "rds.force_ssl", "value": "1"},
                {"name": "require_secure_transport", "value": null},
            ])
        );
        let failure = denied();
        apply_parameters(&mut asset, Some(Err(&failure)));
        assert_eq!(asset.properties["parameters"], Value::Null);
        assert_eq!(asset.unavailable["parameters"], "AccessDenied: nope");

        // Cluster members and engines without a TLS recommendation are not read.
        let member = DbInstance::builder()
            .engine("postgres")
            .db_cluster_identifier("multi-az")
            .db_parameter_groups(
                aws_sdk_rds::types::DbParameterGroupStatus::builder()
                    .db_parameter_group_name("pg-tls")
                    .build(),
            )
            .build();
        assert_eq!(instance_parameter_group(&member), None);
        let oracle = DbInstance::builder()
            .engine("oracle-ee")
            .db_parameter_groups(
                aws_sdk_rds::types::DbParameterGroupStatus::builder()
                    .db_parameter_group_name("ora")
                    .build(),
            )
            .build();
        assert_eq!(instance_parameter_group(&oracle), None);
    }

    #[test]
    fn cluster_parameter_groups_are_read_for_aurora_mysql_and_docdb() {
        let docdb = DbCluster::builder()
            .db_cluster_identifier("docs")
            .engine("docdb")
            .db_cluster_parameter_group("docdb-tls")
            .db_cluster_members(
                DbClusterMember::builder()
                    .db_instance_identifier("docs-1")
                    .db_cluster_parameter_group_status("pending-reboot")
                    .build(),
            )
            .build();
        assert_eq!(cluster_parameter_group(&docdb), Some("docdb-tls"));
        let asset = db_cluster_asset("123456789012", "us-east-1", &docdb);
        assert_eq!(asset.properties["dbClusterParameterGroup"], "docdb-tls");
        assert_eq!(
            asset.properties["dbClusterMembers"][0]["dbClusterParameterGroupStatus"],
            "pending-reboot"
        );
        let neptune = DbCluster::builder()
            .engine("neptune")
            .db_cluster_parameter_group("default.neptune1.3")
            .build();
        assert_eq!(cluster_parameter_group(&neptune), None);
    }

    #[test]
    fn maps_an_event_subscription() {
        let subscription = EventSubscription::builder()
            .cust_subscription_id("db-events")
            .event_subscription_arn("arn:aws:rds:us-east-1:123456789012:es:db-events")
            .sns_topic_arn("arn:aws:sns:us-east-1:123456789012:ops")
            .status("active")
            .source_type("db-instance")
            .event_categories_list("failure")
            .event_categories_list("maintenance")
            .enabled(true)
            .build();
        let asset = event_subscription_asset("123456789012", "us-east-1", &subscription);
        assert_eq!(asset.resource_type, "AWS::RDS::EventSubscription");
        assert_eq!(asset.arn, "arn:aws:rds:us-east-1:123456789012:es:db-events");
        assert_eq!(asset.name, "db-events");
        let p = &asset.properties;
        assert_eq!(p["sourceType"], "db-instance");
        assert_eq!(p["eventCategories"], json!(["failure", "maintenance"]));
        assert_eq!(p["sourceIds"], json!([]));
        assert_eq!(p["enabled"], true);

        let bare = EventSubscription::builder()
            .cust_subscription_id("all")
            .build();
        let asset = event_subscription_asset("123456789012", "eu-west-1", &bare);
        assert_eq!(asset.arn, "arn:aws:rds:eu-west-1:123456789012:es:all");
        assert_eq!(asset.properties["sourceType"], Value::Null);
        assert_eq!(asset.properties["enabled"], Value::Null);
    }

    #[test]
    fn maps_a_proxy() {
        let proxy = DbProxy::builder()
            .db_proxy_name("app")
            .db_proxy_arn("arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0123")
            .engine_family("POSTGRESQL")
            .require_tls(false)
            .vpc_id("vpc-1")
            .vpc_subnet_ids("subnet-1")
            .status(aws_sdk_rds::types::DbProxyStatus::Available)
            .build();
        let asset = db_proxy_asset("123456789012", "us-east-1", &proxy);
        assert_eq!(asset.resource_type, "AWS::RDS::DBProxy");
        assert_eq!(
            asset.arn,
            "arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0123"
        );
        assert_eq!(asset.name, "app");
        let p = &asset.properties;
        assert_eq!(p["requireTLS"], false);
        assert_eq!(p["engineFamily"], "POSTGRESQL");
        assert_eq!(p["status"], "available");
        assert_eq!(p["vpcSubnetIds"], json!(["subnet-1"]));

        let unknown = DbProxy::builder().db_proxy_name("x").build();
        let asset = db_proxy_asset("123456789012", "us-east-1", &unknown);
        assert_eq!(asset.properties["requireTLS"], Value::Null);
    }
}
