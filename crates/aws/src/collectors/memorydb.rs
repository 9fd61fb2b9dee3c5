//! Amazon MemoryDB clusters (`AWS::MemoryDB::Cluster`).
//!
//! Per region one paginated `DescribeClusters` (without shard details): a
//! cluster's description carries every setting the recommendations read
//! (TLS, the KMS key, snapshot retention, automatic minor version upgrades
//! and the access control list), so no per-cluster call is made.
//!
//! `kmsKeyId` is present only when the cluster encrypts at rest with a
//! customer managed KMS key; MemoryDB always encrypts at rest, with an AWS
//! owned key otherwise.

use aws_sdk_memorydb::types::Cluster;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::op;
use crate::scan::CollectContext;

/// The resource type of a MemoryDB cluster.
pub const CLUSTER: &str = "AWS::MemoryDB::Cluster";

/// Collects MemoryDB clusters.
#[derive(Debug)]
pub struct MemoryDb;

static META: CollectorMeta = CollectorMeta {
    service: "memorydb",
    scope: Scope::Regional,
    operations: &[op!("memorydb", "DescribeClusters")],
    resource_types: &[CLUSTER],
};

impl Collector for MemoryDb {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().memorydb(ctx.region());
            let pages = ctx
                .pages(
                    "DescribeClusters",
                    client.describe_clusters().into_paginator().send(),
                )
                .await;
            for cluster in pages.iter().flatten().flat_map(|p| p.clusters()) {
                ctx.emit(cluster_asset(ctx.account(), ctx.region(), cluster));
            }
        })
    }
}

/// The `AWS::MemoryDB::Cluster` asset of a cluster: status, engine,
/// `tlsEnabled`, `kmsKeyId` (customer managed key, `null` for the AWS owned
/// one), `snapshotRetentionLimit`, `autoMinorVersionUpgrade` and `aclName`.
pub fn cluster_asset(account: &str, region: &str, cluster: &Cluster) -> Asset {
    let name = cluster.name().unwrap_or_default();
    let arn = cluster.arn().map_or_else(
        || {
            format!(
                "arn:{}:memorydb:{region}:{account}:cluster/{name}",
                partition(region)
            )
        },
        str::to_owned,
    );
    let properties = json!({
        "name": name,
        "arn": arn,
        "status": opt_str(cluster.status()),
        "engine": opt_str(cluster.engine()),
        "engineVersion": opt_str(cluster.engine_version()),
        "nodeType": opt_str(cluster.node_type()),
        "numberOfShards": cluster.number_of_shards(),
        "tlsEnabled": cluster.tls_enabled(),
        "kmsKeyId": opt_str(cluster.kms_key_id()),
        "snapshotRetentionLimit": cluster.snapshot_retention_limit(),
        "snapshotWindow": opt_str(cluster.snapshot_window()),
        "autoMinorVersionUpgrade": cluster.auto_minor_version_upgrade(),
        "aclName": opt_str(cluster.acl_name()),
        "subnetGroupName": opt_str(cluster.subnet_group_name()),
        "securityGroupIds": cluster
            .security_groups()
            .iter()
            .filter_map(|g| g.security_group_id())
            .collect::<Vec<_>>(),
        "snsTopicArn": opt_str(cluster.sns_topic_arn()),
        "multiRegionClusterName": opt_str(cluster.multi_region_cluster_name()),
        "endpoint": cluster.cluster_endpoint().map_or(Value::Null, |e| json!({
            "address": opt_str(e.address()),
            "port": e.port(),
        })),
    });
    Asset::new(arn, CLUSTER, account, region, name, properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_cluster() {
        let cluster = Cluster::builder()
            .name("sessions")
            .arn("arn:aws:memorydb:us-east-1:123456789012:cluster/sessions")
            .status("available")
            .engine("valkey")
            .tls_enabled(true)
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/1234")
            .snapshot_retention_limit(7)
            .auto_minor_version_upgrade(true)
            .acl_name("app-users")
            .build();
        let asset = cluster_asset("123456789012", "us-east-1", &cluster);
        assert_eq!(asset.resource_type, CLUSTER);
        assert_eq!(asset.name, "sessions");
        assert_eq!(asset.properties["tlsEnabled"], true);
        assert_eq!(asset.properties["snapshotRetentionLimit"], 7);
        assert_eq!(asset.properties["aclName"], "app-users");
        assert_eq!(
            asset.properties["kmsKeyId"],
            "arn:aws:kms:us-east-1:123456789012:key/1234"
        );
    }

    #[test]
    fn builds_the_arn_when_missing() {
        let cluster = Cluster::builder().name("cache").build();
        let asset = cluster_asset("123456789012", "us-east-1", &cluster);
        assert_eq!(
            asset.arn,
            "arn:aws:memorydb:us-east-1:123456789012:cluster/cache"
        );
        assert!(asset.properties["kmsKeyId"].is_null());
        assert!(asset.properties["tlsEnabled"].is_null());
    }
}
