//! Amazon Redshift provisioned clusters (`AWS::Redshift::Cluster`).
//!
//! Per region: `DescribeClusters` (100 a page; tags come with each
//! cluster). Per cluster one `DescribeLoggingStatus` reads audit logging
//! (`logging`: `loggingEnabled`, destination, exported logs); a failed read
//! marks `logging` unavailable. Each cluster parameter group the clusters
//! use is read once with `DescribeClusterParameters`, keeping `require_ssl`:
//! the cluster's `requireSsl` is `[{group, value}]`, one entry per group it
//! uses (`value` `null` when the group does not list the parameter); a
//! failed read marks `requireSsl` unavailable.
//!
//! Settings the API omits stay `null` (unknown), never `false`.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_redshift::operation::describe_logging_status::DescribeLoggingStatusOutput;
use aws_sdk_redshift::types::{Cluster, Parameter};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// The resource type of a provisioned cluster.
pub const CLUSTER: &str = "AWS::Redshift::Cluster";

/// Collects Redshift provisioned clusters.
#[derive(Debug)]
pub struct Redshift;

static META: CollectorMeta = CollectorMeta {
    service: "redshift",
    scope: Scope::Regional,
    operations: &[
        op!("redshift", "DescribeClusters"),
        op!("redshift", "DescribeLoggingStatus"),
        op!("redshift", "DescribeClusterParameters"),
    ],
    resource_types: &[CLUSTER],
};

/// Largest page `DescribeClusters` and `DescribeClusterParameters` accept.
const PAGE_SIZE: i32 = 100;

impl Collector for Redshift {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(collect(ctx))
    }
}

async fn collect(ctx: &CollectContext<'_>) {
    let client = ctx.access().redshift(ctx.region());
    let client = &client;
    let Ok(pages) = ctx
        .pages(
            "DescribeClusters",
            client
                .describe_clusters()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .send(),
        )
        .await
    else {
        return;
    };
    let clusters: Vec<Cluster> = pages
        .into_iter()
        .flat_map(|p| p.clusters.unwrap_or_default())
        .collect();
    let groups: BTreeSet<String> = clusters
        .iter()
        .flat_map(parameter_groups)
        .map(str::to_owned)
        .collect();
    let require_ssl: BTreeMap<String, RequireSslRead> = futures::stream::iter(groups)
        .map(|group| async move {
            let read = ctx
                .pages(
                    "DescribeClusterParameters",
                    client
                        .describe_cluster_parameters()
                        .parameter_group_name(&group)
                        .into_paginator()
                        .page_size(PAGE_SIZE)
                        .send(),
                )
                .await
                .map(|pages| require_ssl_value(pages.iter().flat_map(|p| p.parameters())));
            (group, read)
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    let require_ssl = &require_ssl;
    futures::stream::iter(clusters)
        .map(|cluster| async move {
            let logging = match cluster.cluster_identifier() {
                Some(id) => Some(
                    ctx.call(
                        "DescribeLoggingStatus",
                        client
                            .describe_logging_status()
                            .cluster_identifier(id)
                            .send(),
                    )
                    .await,
                ),
                None => None,
            };
            let mut asset = cluster_asset(ctx.account(), ctx.region(), &cluster);
            apply_logging(&mut asset, logging.as_ref().map(Result::as_ref));
            let reads: Vec<(&str, Option<&RequireSslRead>)> = parameter_groups(&cluster)
                .map(|g| (g, require_ssl.get(g)))
                .collect();
            apply_require_ssl(&mut asset, &reads);
            ctx.emit(asset);
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// One parameter group's `require_ssl` read: its value (`None` when the
/// group does not list it) or the failed call.
pub type RequireSslRead = Result<Option<String>, CallFailure>;

/// The names of the parameter groups a cluster uses.
fn parameter_groups(cluster: &Cluster) -> impl Iterator<Item = &str> {
    cluster
        .cluster_parameter_groups()
        .iter()
        .filter_map(|g| g.parameter_group_name())
}

/// The value of `require_ssl` in a parameter listing (`None` when absent).
pub fn require_ssl_value<'a>(
    parameters: impl IntoIterator<Item = &'a Parameter>,
) -> Option<String> {
    parameters
        .into_iter()
        .find(|p| p.parameter_name() == Some("require_ssl"))
        .and_then(|p| p.parameter_value().map(str::to_owned))
}

/// Sets `requireSsl` to `[{group, value}]` from the groups' reads; any
/// failed (or missing) read marks it unavailable.
pub fn apply_require_ssl(asset: &mut Asset, reads: &[(&str, Option<&RequireSslRead>)]) {
    let mut entries = Vec::new();
    for (group, read) in reads {
        match read {
            Some(Ok(value)) => entries.push(json!({"group": group, "value": value})),
            Some(Err(failure)) => {
                asset.set_property("requireSsl", Value::Null);
                asset.mark_unavailable("requireSsl", failure.to_string());
                return;
            }
            None => {
                asset.set_property("requireSsl", Value::Null);
                asset.mark_unavailable(
                    "requireSsl",
                    format!("parameter group `{group}` was not read"),
                );
                return;
            }
        }
    }
    asset.set_property("requireSsl", Value::Array(entries));
}

/// Sets `logging` from a `DescribeLoggingStatus` read (`None`: not read,
/// `null`).
pub fn apply_logging(
    asset: &mut Asset,
    read: Option<Result<&DescribeLoggingStatusOutput, &CallFailure>>,
) {
    match read {
        None => asset.set_property("logging", Value::Null),
        Some(Ok(out)) => asset.set_property(
            "logging",
            json!({
                "loggingEnabled": out.logging_enabled(),
                "logDestinationType": out.log_destination_type().map(|d| d.as_str()),
                "bucketName": opt_str(out.bucket_name()),
                "logExports": out.log_exports(),
            }),
        ),
        Some(Err(failure)) => {
            asset.set_property("logging", Value::Null);
            asset.mark_unavailable("logging", failure.to_string());
        }
    }
}

/// The `AWS::Redshift::Cluster` asset of a cluster (without `logging` and
/// `requireSsl`, which come from their own calls).
pub fn cluster_asset(account: &str, region: &str, cluster: &Cluster) -> Asset {
    let id = cluster.cluster_identifier().unwrap_or_default();
    let arn = format!(
        "arn:{}:redshift:{region}:{account}:cluster:{id}",
        partition(region)
    );
    let properties = json!({
        "clusterIdentifier": id,
        "clusterStatus": opt_str(cluster.cluster_status()),
        "nodeType": opt_str(cluster.node_type()),
        "numberOfNodes": cluster.number_of_nodes(),
        "masterUsername": opt_str(cluster.master_username()),
        "dbName": opt_str(cluster.db_name()),
        "endpoint": cluster.endpoint().map_or(Value::Null, |e| json!({
            "address": opt_str(e.address()),
            "port": e.port(),
        })),
        "automatedSnapshotRetentionPeriod": cluster.automated_snapshot_retention_period(),
        "manualSnapshotRetentionPeriod": cluster.manual_snapshot_retention_period(),
        "vpcId": opt_str(cluster.vpc_id()),
        "clusterSubnetGroupName": opt_str(cluster.cluster_subnet_group_name()),
        "vpcSecurityGroups": cluster
            .vpc_security_groups()
            .iter()
            .map(|g| json!({
                "vpcSecurityGroupId": opt_str(g.vpc_security_group_id()),
                "status": opt_str(g.status()),
            }))
            .collect::<Vec<_>>(),
        "clusterParameterGroups": cluster
            .cluster_parameter_groups()
            .iter()
            .map(|g| json!({
                "parameterGroupName": opt_str(g.parameter_group_name()),
                "parameterApplyStatus": opt_str(g.parameter_apply_status()),
            }))
            .collect::<Vec<_>>(),
        "clusterVersion": opt_str(cluster.cluster_version()),
        "allowVersionUpgrade": cluster.allow_version_upgrade(),
        "publiclyAccessible": cluster.publicly_accessible(),
        "encrypted": cluster.encrypted(),
        "kmsKeyId": opt_str(cluster.kms_key_id()),
        "enhancedVpcRouting": cluster.enhanced_vpc_routing(),
        "multiAZ": opt_str(cluster.multi_az()),
        "availabilityZone": opt_str(cluster.availability_zone()),
        "clusterNamespaceArn": opt_str(cluster.cluster_namespace_arn()),
        "clusterCreateTime": opt_timestamp(cluster.cluster_create_time()),
    });
    Asset::new(arn, CLUSTER, account, region, id, properties)
        .with_tags(tag_map(cluster.tags().iter().map(|t| (t.key(), t.value()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_redshift::types::{
        ClusterParameterGroupStatus, Endpoint, LogDestinationType, Tag, VpcSecurityGroupMembership,
    };
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDenied".to_owned()),
            message: "AccessDenied: nope".to_owned(),
        }
    }

    fn cluster() -> Cluster {
        Cluster::builder()
            .cluster_identifier("warehouse")
            .cluster_status("available")
            .node_type("ra3.xlplus")
            .number_of_nodes(2)
            .master_username("awsuser")
            .db_name("dev")
            .endpoint(
                Endpoint::builder()
                    .address("warehouse.abc.us-east-1.redshift.amazonaws.com")
                    .port(5439)
                    .build(),
            )
            .automated_snapshot_retention_period(1)
            .vpc_id("vpc-1")
            .vpc_security_groups(
                VpcSecurityGroupMembership::builder()
                    .vpc_security_group_id("sg-1")
                    .status("active")
                    .build(),
            )
            .cluster_parameter_groups(
                ClusterParameterGroupStatus::builder()
                    .parameter_group_name("tls")
                    .parameter_apply_status("in-sync")
                    .build(),
            )
            .allow_version_upgrade(true)
            .publicly_accessible(false)
            .encrypted(true)
            .enhanced_vpc_routing(false)
            .multi_az("Disabled")
            .tags(Tag::builder().key("team").value("bi").build())
            .build()
    }

    #[test]
    fn maps_a_cluster() {
        let asset = cluster_asset("123456789012", "us-east-1", &cluster());
        assert_eq!(
            asset.arn,
            "arn:aws:redshift:us-east-1:123456789012:cluster:warehouse"
        );
        assert_eq!(asset.resource_type, CLUSTER);
        assert_eq!(asset.tags["team"], "bi");
        let p = &asset.properties;
        assert_eq!(p["masterUsername"], "awsuser");
        assert_eq!(p["dbName"], "dev");
        assert_eq!(p["endpoint"]["port"], 5439);
        assert_eq!(p["automatedSnapshotRetentionPeriod"], 1);
        assert_eq!(p["vpcSecurityGroups"][0]["vpcSecurityGroupId"], "sg-1");
        assert_eq!(p["clusterParameterGroups"][0]["parameterGroupName"], "tls");
        assert_eq!(p["allowVersionUpgrade"], true);
        assert_eq!(p["publiclyAccessible"], false);
        assert_eq!(p["encrypted"], true);
        assert_eq!(p["enhancedVpcRouting"], false);
        assert_eq!(p["multiAZ"], "Disabled");
        assert_eq!(
            parameter_groups(&cluster()).collect::<Vec<_>>(),
            vec!["tls"]
        );
    }

    #[test]
    fn omitted_settings_stay_null() {
        let bare = Cluster::builder().cluster_identifier("x").build();
        let asset = cluster_asset("123456789012", "cn-north-1", &bare);
        assert_eq!(
            asset.arn,
            "arn:aws-cn:redshift:cn-north-1:123456789012:cluster:x"
        );
        let p = &asset.properties;
        for key in [
            "publiclyAccessible",
            "encrypted",
            "enhancedVpcRouting",
            "allowVersionUpgrade",
            "multiAZ",
            "endpoint",
        ] {
            assert_eq!(p[key], Value::Null, "{key}");
        }
    }

    #[test]
    fn logging_status_read_or_unavailable() {
        let mut asset = cluster_asset("123456789012", "us-east-1", &cluster());
        let out = DescribeLoggingStatusOutput::builder()
            .logging_enabled(true)
            .log_destination_type(LogDestinationType::Cloudwatch)
            .log_exports("connectionlog")
            .build();
        apply_logging(&mut asset, Some(Ok(&out)));
        assert_eq!(asset.properties["logging"]["loggingEnabled"], true);
        assert_eq!(
            asset.properties["logging"]["logDestinationType"],
            "cloudwatch"
        );
        assert_eq!(
            asset.properties["logging"]["logExports"],
            json!(["connectionlog"])
        );
        let failure = denied();
        apply_logging(&mut asset, Some(Err(&failure)));
        assert_eq!(asset.properties["logging"], Value::Null);
        assert_eq!(asset.unavailable["logging"], "AccessDenied: nope");
    }

    #[test]
    fn require_ssl_per_group() {
        let listing = [
            Parameter::builder()
                .parameter_name("enable_user_activity_logging")
                .parameter_value("true")
                .build(),
            Parameter::builder()
                .parameter_name("require_ssl")
                .parameter_value("true")
                .build(),
        ];
        assert_eq!(require_ssl_value(&listing).as_deref(), Some("true"));
        assert_eq!(require_ssl_value(&listing[..1]), None);

        let mut asset = cluster_asset("123456789012", "us-east-1", &cluster());
        let read: RequireSslRead = Ok(Some("true".to_owned()));
        apply_require_ssl(&mut asset, &[("tls", Some(&read))]);
        assert_eq!(
            asset.properties["requireSsl"],
            json!([{"group": "tls", "value": "true"}])
        );
        let failed: RequireSslRead = Err(denied());
        apply_require_ssl(
            &mut asset,
            &[("tls", Some(&read)), ("other", Some(&failed))],
        );
        assert_eq!(asset.properties["requireSsl"], Value::Null);
        assert_eq!(asset.unavailable["requireSsl"], "AccessDenied: nope");
    }
}
