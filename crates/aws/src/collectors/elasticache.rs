//! ElastiCache: cache clusters (`AWS::ElastiCache::CacheCluster`) and
//! replication groups (`AWS::ElastiCache::ReplicationGroup`).
//!
//! Per region `DescribeCacheClusters` and `DescribeReplicationGroups` (100 a
//! page each). A replication group's engine version is not in its own
//! description: it is taken from its member clusters (`engineVersion`,
//! `null` when no member cluster was listed). Tags are not collected.

use aws_sdk_elasticache::types::{CacheCluster, ReplicationGroup};
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::json;

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition};
use crate::op;
use crate::scan::CollectContext;

/// CloudFormation type of cache clusters.
pub const CACHE_CLUSTER: &str = "AWS::ElastiCache::CacheCluster";
/// CloudFormation type of replication groups.
pub const REPLICATION_GROUP: &str = "AWS::ElastiCache::ReplicationGroup";

/// Collects ElastiCache cache clusters and replication groups.
#[derive(Debug)]
pub struct ElastiCache;

static META: CollectorMeta = CollectorMeta {
    service: "elasticache",
    scope: Scope::Regional,
    operations: &[
        op!("elasticache", "DescribeCacheClusters"),
        op!("elasticache", "DescribeReplicationGroups"),
    ],
    resource_types: &[CACHE_CLUSTER, REPLICATION_GROUP],
};

impl Collector for ElastiCache {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().elasticache(ctx.region());
            let (clusters, groups) = futures::join!(
                ctx.pages(
                    "DescribeCacheClusters",
                    client
                        .describe_cache_clusters()
                        .max_records(100)
                        .into_paginator()
                        .send(),
                ),
                ctx.pages(
                    "DescribeReplicationGroups",
                    client
                        .describe_replication_groups()
                        .max_records(100)
                        .into_paginator()
                        .send(),
                ),
            );
            let clusters: Vec<CacheCluster> = clusters
                .map(|pages| {
                    pages
                        .iter()
                        .flat_map(|p| p.cache_clusters())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            for cluster in &clusters {
                if let Some(asset) = cache_cluster_asset(ctx.account(), ctx.region(), cluster) {
                    ctx.emit(asset);
                }
            }
            if let Ok(pages) = groups {
                for group in pages.iter().flat_map(|p| p.replication_groups()) {
                    if let Some(asset) =
                        replication_group_asset(ctx.account(), ctx.region(), group, &clusters)
                    {
                        ctx.emit(asset);
                    }
                }
            }
        })
    }
}

fn elasticache_arn(region: &str, account: &str, kind: &str, id: &str) -> String {
    format!(
        "arn:{}:elasticache:{region}:{account}:{kind}:{id}",
        partition(region)
    )
}

/// The `AWS::ElastiCache::CacheCluster` asset (`None` without an id).
/// `snapshotRetentionLimit` is the cluster's own (0: no automatic backups);
/// `replicationGroupId` names the group a member cluster belongs to.
pub fn cache_cluster_asset(account: &str, region: &str, c: &CacheCluster) -> Option<Asset> {
    let id = c.cache_cluster_id()?;
    let arn = c.arn().map_or_else(
        || elasticache_arn(region, account, "cluster", id),
        str::to_owned,
    );
    Some(Asset::new(
        arn.clone(),
        CACHE_CLUSTER,
        account,
        region,
        id,
        json!({
            "cacheClusterId": id,
            "arn": arn,
            "engine": opt_str(c.engine()),
            "engineVersion": opt_str(c.engine_version()),
            "cacheClusterStatus": opt_str(c.cache_cluster_status()),
            "cacheNodeType": opt_str(c.cache_node_type()),
            "numCacheNodes": c.num_cache_nodes(),
            "createTime": opt_timestamp(c.cache_cluster_create_time()),
            "cacheSubnetGroupName": opt_str(c.cache_subnet_group_name()),
            "replicationGroupId": opt_str(c.replication_group_id()),
            "snapshotRetentionLimit": c.snapshot_retention_limit(),
            "autoMinorVersionUpgrade": c.auto_minor_version_upgrade(),
            "authTokenEnabled": c.auth_token_enabled(),
            "transitEncryptionEnabled": c.transit_encryption_enabled(),
            "atRestEncryptionEnabled": c.at_rest_encryption_enabled(),
            "securityGroupIds": c
                .security_groups()
                .iter()
                .filter_map(|g| g.security_group_id())
                .collect::<Vec<_>>(),
        }),
    ))
}

/// The `AWS::ElastiCache::ReplicationGroup` asset (`None` without an id).
/// `automaticFailover` and `multiAz` are ElastiCache's status words
/// (`enabled`, `disabled`, `enabling`, `disabling`); `engineVersion` comes
/// from the first of `clusters` that is a member of the group.
pub fn replication_group_asset(
    account: &str,
    region: &str,
    g: &ReplicationGroup,
    clusters: &[CacheCluster],
) -> Option<Asset> {
    let id = g.replication_group_id()?;
    let arn = g.arn().map_or_else(
        || elasticache_arn(region, account, "replicationgroup", id),
        str::to_owned,
    );
    let member = clusters.iter().find(|c| {
        c.replication_group_id() == Some(id)
            || c.cache_cluster_id()
                .is_some_and(|cid| g.member_clusters().iter().any(|m| m == cid))
    });
    let engine = g.engine().or_else(|| member.and_then(CacheCluster::engine));
    Some(Asset::new(
        arn.clone(),
        REPLICATION_GROUP,
        account,
        region,
        id,
        json!({
            "replicationGroupId": id,
            "arn": arn,
            "description": opt_str(g.description()),
            "status": opt_str(g.status()),
            "engine": opt_str(engine),
            "engineVersion": opt_str(member.and_then(CacheCluster::engine_version)),
            "memberClusters": g.member_clusters(),
            "automaticFailover": opt_str(g.automatic_failover().map(|s| s.as_str())),
            "multiAz": opt_str(g.multi_az().map(|s| s.as_str())),
            "clusterEnabled": g.cluster_enabled(),
            "cacheNodeType": opt_str(g.cache_node_type()),
            "snapshotRetentionLimit": g.snapshot_retention_limit(),
            "authTokenEnabled": g.auth_token_enabled(),
            "userGroupIds": g.user_group_ids(),
            "transitEncryptionEnabled": g.transit_encryption_enabled(),
            "transitEncryptionMode": opt_str(g.transit_encryption_mode().map(|m| m.as_str())),
            "atRestEncryptionEnabled": g.at_rest_encryption_enabled(),
            "kmsKeyId": opt_str(g.kms_key_id()),
            "autoMinorVersionUpgrade": g.auto_minor_version_upgrade(),
            "createTime": opt_timestamp(g.replication_group_create_time()),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticache::types::AutomaticFailoverStatus;
    use serde_json::Value;

    fn cluster(id: &str, group: Option<&str>) -> CacheCluster {
        let mut b = CacheCluster::builder()
            .cache_cluster_id(id)
            .engine("redis")
            .engine_version("5.0.6")
            .cache_cluster_status("available")
            .cache_subnet_group_name("default")
            .snapshot_retention_limit(0)
            .auto_minor_version_upgrade(true);
        if let Some(g) = group {
            b = b.replication_group_id(g);
        }
        b.build()
    }

    #[test]
    fn maps_a_cache_cluster() {
        let asset = cache_cluster_asset("123456789012", "us-east-1", &cluster("c1", None)).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:elasticache:us-east-1:123456789012:cluster:c1"
        );
        assert_eq!(asset.resource_type, CACHE_CLUSTER);
        let p = &asset.properties;
        assert_eq!(p["engine"], "redis");
        assert_eq!(p["snapshotRetentionLimit"], 0);
        assert_eq!(p["cacheSubnetGroupName"], "default");
        assert_eq!(p["autoMinorVersionUpgrade"], true);
        assert_eq!(p["replicationGroupId"], Value::Null);
        assert!(cache_cluster_asset("1", "r", &CacheCluster::builder().build()).is_none());
    }

    #[test]
    fn replication_group_takes_its_engine_version_from_a_member() {
        let group = ReplicationGroup::builder()
            .replication_group_id("rg")
            .status("available")
            .member_clusters("rg-001")
            .automatic_failover(AutomaticFailoverStatus::Disabled)
            .at_rest_encryption_enabled(false)
            .transit_encryption_enabled(true)
            .auth_token_enabled(false)
            .build();
        let members = [cluster("other", None), cluster("rg-001", Some("rg"))];
        let asset = replication_group_asset("123456789012", "eu-west-1", &group, &members).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:rg"
        );
        let p = &asset.properties;
        assert_eq!(p["engine"], "redis");
        assert_eq!(p["engineVersion"], "5.0.6");
        assert_eq!(p["automaticFailover"], "disabled");
        assert_eq!(p["atRestEncryptionEnabled"], false);
        assert_eq!(p["transitEncryptionEnabled"], true);

        let alone = replication_group_asset("123456789012", "eu-west-1", &group, &[]).unwrap();
        assert_eq!(alone.properties["engineVersion"], Value::Null);
    }
}
