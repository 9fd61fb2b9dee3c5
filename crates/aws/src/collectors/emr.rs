//! Amazon EMR: active clusters (`AWS::EMR::Cluster`), security
//! configurations (`AWS::EMR::SecurityConfiguration`) and the region's
//! block public access setting (`Rampart::EMR::BlockPublicAccess`).
//!
//! Per region `ListClusters` (states `STARTING`, `BOOTSTRAPPING`, `RUNNING`,
//! `WAITING`: terminated clusters are not assessed) then `DescribeCluster`
//! per cluster; `ListSecurityConfigurations` then
//! `DescribeSecurityConfiguration` per configuration; and
//! `GetBlockPublicAccessConfiguration` once.

use aws_sdk_emr::operation::describe_security_configuration::DescribeSecurityConfigurationOutput;
use aws_sdk_emr::operation::get_block_public_access_configuration::GetBlockPublicAccessConfigurationOutput;
use aws_sdk_emr::types::{Cluster, ClusterState};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// CloudFormation type of EMR clusters.
pub const CLUSTER: &str = "AWS::EMR::Cluster";
/// CloudFormation type of EMR security configurations.
pub const SECURITY_CONFIGURATION: &str = "AWS::EMR::SecurityConfiguration";

/// Collects EMR clusters, security configurations and block public access.
#[derive(Debug)]
pub struct Emr;

static META: CollectorMeta = CollectorMeta {
    service: "elasticmapreduce",
    scope: Scope::Regional,
    operations: &[
        op!("elasticmapreduce", "ListClusters"),
        op!("elasticmapreduce", "DescribeCluster"),
        op!("elasticmapreduce", "ListSecurityConfigurations"),
        op!("elasticmapreduce", "DescribeSecurityConfiguration"),
        op!("elasticmapreduce", "GetBlockPublicAccessConfiguration"),
    ],
    resource_types: &[
        CLUSTER,
        SECURITY_CONFIGURATION,
        types::EMR_BLOCK_PUBLIC_ACCESS,
    ],
};

impl Collector for Emr {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().emr(ctx.region());
            let client = &client;
            let (account, region) = (ctx.account(), ctx.region());
            let (clusters, configurations, bpa) = futures::join!(
                ctx.pages(
                    "ListClusters",
                    client
                        .list_clusters()
                        .cluster_states(ClusterState::Starting)
                        .cluster_states(ClusterState::Bootstrapping)
                        .cluster_states(ClusterState::Running)
                        .cluster_states(ClusterState::Waiting)
                        .into_paginator()
                        .send(),
                ),
                ctx.pages(
                    "ListSecurityConfigurations",
                    client
                        .list_security_configurations()
                        .into_paginator()
                        .send(),
                ),
                ctx.call(
                    "GetBlockPublicAccessConfiguration",
                    client.get_block_public_access_configuration().send(),
                ),
            );
            ctx.emit(block_public_access_asset(account, region, bpa.as_ref()));
            let ids: Vec<String> = clusters
                .map(|pages| {
                    pages
                        .iter()
                        .flat_map(|p| p.clusters())
                        .filter_map(|c| c.id().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let names: Vec<String> = configurations
                .map(|pages| {
                    pages
                        .iter()
                        .flat_map(|p| p.security_configurations())
                        .filter_map(|c| c.name().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let described: Vec<Option<Asset>> = futures::stream::iter(ids)
                .map(|id| async move {
                    let out = ctx
                        .call(
                            "DescribeCluster",
                            client.describe_cluster().cluster_id(&id).send(),
                        )
                        .await
                        .ok()?;
                    cluster_asset(account, region, out.cluster()?)
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            for asset in described.into_iter().flatten() {
                ctx.emit(asset);
            }
            let configs: Vec<Option<Asset>> = futures::stream::iter(names)
                .map(|name| async move {
                    let out = ctx
                        .call(
                            "DescribeSecurityConfiguration",
                            client.describe_security_configuration().name(&name).send(),
                        )
                        .await;
                    match out {
                        Ok(out) => security_configuration_asset(account, region, &out),
                        Err(failure) => Some(unread_security_configuration_asset(
                            account, region, &name, &failure,
                        )),
                    }
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            for asset in configs.into_iter().flatten() {
                ctx.emit(asset);
            }
        })
    }
}

/// The `AWS::EMR::Cluster` asset (`None` without an id). `subnetId` is the
/// subnet of its primary (master) node (`Ec2SubnetId`); `masterPublicDnsName`
/// is what EMR reports for the primary node.
pub fn cluster_asset(account: &str, region: &str, c: &Cluster) -> Option<Asset> {
    let id = c.id()?;
    let arn = c.cluster_arn().map_or_else(
        || {
            format!(
                "arn:{}:elasticmapreduce:{region}:{account}:cluster/{id}",
                partition(region)
            )
        },
        str::to_owned,
    );
    let ec2 = c.ec2_instance_attributes();
    Some(
        Asset::new(
            arn.clone(),
            CLUSTER,
            account,
            region,
            c.name().filter(|n| !n.is_empty()).unwrap_or(id),
            json!({
                "id": id,
                "clusterArn": arn,
                "name": opt_str(c.name()),
                "state": opt_str(c.status().and_then(|s| s.state()).map(|s| s.as_str())),
                "releaseLabel": opt_str(c.release_label()),
                "subnetId": opt_str(ec2.and_then(|e| e.ec2_subnet_id())),
                "requestedSubnetIds": ec2.map(|e| e.requested_ec2_subnet_ids()).unwrap_or_default(),
                "masterPublicDnsName": opt_str(c.master_public_dns_name()),
                "securityConfiguration": opt_str(c.security_configuration()),
                "createdAt": opt_timestamp(
                    c.status().and_then(|s| s.timeline()).and_then(|t| t.creation_date_time())
                ),
            }),
        )
        .with_tags(tag_map(c.tags().iter().map(|t| (t.key(), t.value())))),
    )
}

fn security_configuration_arn(account: &str, region: &str, name: &str) -> String {
    format!(
        "arn:{}:elasticmapreduce:{region}:{account}:security-configuration/{name}",
        partition(region)
    )
}

/// The `AWS::EMR::SecurityConfiguration` asset of a listed configuration
/// whose description failed: `deleted: true` when EMR says it no longer
/// exists (deleted after it was listed), otherwise its
/// `encryptionConfiguration` is unavailable.
pub fn unread_security_configuration_asset(
    account: &str,
    region: &str,
    name: &str,
    failure: &CallFailure,
) -> Asset {
    let mut asset = Asset::new(
        security_configuration_arn(account, region, name),
        SECURITY_CONFIGURATION,
        account,
        region,
        name,
        json!({ "name": name, "encryptionConfiguration": null }),
    );
    if failure.message.contains("does not exist") {
        asset.set_property("deleted", Value::Bool(true));
    } else {
        asset.mark_unavailable("encryptionConfiguration", failure.to_string());
    }
    asset
}

/// The `AWS::EMR::SecurityConfiguration` asset (`None` without a name).
/// `encryptionConfiguration` is the document's `EncryptionConfiguration`
/// section (`null` when it has none); a document that is not JSON makes it
/// unavailable.
pub fn security_configuration_asset(
    account: &str,
    region: &str,
    out: &DescribeSecurityConfigurationOutput,
) -> Option<Asset> {
    let name = out.name()?;
    let arn = security_configuration_arn(account, region, name);
    let mut asset = Asset::new(
        arn,
        SECURITY_CONFIGURATION,
        account,
        region,
        name,
        json!({
            "name": name,
            "creationDateTime": opt_timestamp(out.creation_date_time()),
        }),
    );
    match serde_json::from_str::<Value>(out.security_configuration().unwrap_or("{}")) {
        Ok(doc) => asset.set_property(
            "encryptionConfiguration",
            doc.get("EncryptionConfiguration")
                .cloned()
                .unwrap_or_default(),
        ),
        Err(e) => {
            asset.set_property("encryptionConfiguration", Value::Null);
            asset.mark_unavailable(
                "encryptionConfiguration",
                format!("the security configuration is not JSON: {e}"),
            );
        }
    }
    Some(asset)
}

/// The region's `Rampart::EMR::BlockPublicAccess` asset:
/// `blockPublicSecurityGroupRules` and the permitted port ranges
/// (`[{"minRange", "maxRange"}]`); both unavailable when the call failed.
pub fn block_public_access_asset(
    account: &str,
    region: &str,
    out: Result<&GetBlockPublicAccessConfigurationOutput, &CallFailure>,
) -> Asset {
    let config = out.ok().and_then(|o| o.block_public_access_configuration());
    let ranges: Vec<Value> = config
        .map(|c| c.permitted_public_security_group_rule_ranges())
        .unwrap_or_default()
        .iter()
        .map(|r| json!({ "minRange": r.min_range(), "maxRange": r.max_range() }))
        .collect();
    let mut asset = Asset::new(
        setting_id("elasticmapreduce", region, account, "block-public-access"),
        types::EMR_BLOCK_PUBLIC_ACCESS,
        account,
        region,
        format!("EMR block public access ({region})"),
        json!({
            "blockPublicSecurityGroupRules":
                config.and_then(|c| c.block_public_security_group_rules()),
            "permittedPublicSecurityGroupRuleRanges": ranges,
        }),
    );
    if let Err(failure) = out {
        for key in [
            "blockPublicSecurityGroupRules",
            "permittedPublicSecurityGroupRuleRanges",
        ] {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_emr::types::{
        BlockPublicAccessConfiguration, ClusterStatus, Ec2InstanceAttributes, PortRange,
    };
    use rampart_model::GapKind;

    #[test]
    fn maps_a_cluster_with_its_primary_subnet() {
        let c = Cluster::builder()
            .id("j-1")
            .name("etl")
            .status(
                ClusterStatus::builder()
                    .state(ClusterState::Waiting)
                    .build(),
            )
            .ec2_instance_attributes(
                Ec2InstanceAttributes::builder()
                    .ec2_subnet_id("subnet-1")
                    .build(),
            )
            .security_configuration("sc")
            .build();
        let asset = cluster_asset("123456789012", "us-east-1", &c).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/j-1"
        );
        let p = &asset.properties;
        assert_eq!(p["state"], "WAITING");
        assert_eq!(p["subnetId"], "subnet-1");
        assert_eq!(p["securityConfiguration"], "sc");
        assert!(cluster_asset("1", "r", &Cluster::builder().build()).is_none());
    }

    #[test]
    fn maps_security_configurations() {
        let out = DescribeSecurityConfigurationOutput::builder()
            .name("sc")
            .security_configuration(
                r#"{"EncryptionConfiguration":{"EnableAtRestEncryption":true,"EnableInTransitEncryption":false}}"#,
            )
            .build();
        let asset = security_configuration_asset("123456789012", "us-east-1", &out).unwrap();
        assert_eq!(asset.resource_type, SECURITY_CONFIGURATION);
        let enc = &asset.properties["encryptionConfiguration"];
        assert_eq!(enc["EnableAtRestEncryption"], true);
        assert_eq!(enc["EnableInTransitEncryption"], false);

        let bad = DescribeSecurityConfigurationOutput::builder()
            .name("bad")
            .security_configuration("nope")
            .build();
        let asset = security_configuration_asset("123456789012", "us-east-1", &bad).unwrap();
        assert!(asset.unavailable.contains_key("encryptionConfiguration"));
        let empty = DescribeSecurityConfigurationOutput::builder()
            .name("empty")
            .security_configuration("{}")
            .build();
        let asset = security_configuration_asset("123456789012", "us-east-1", &empty).unwrap();
        assert_eq!(asset.properties["encryptionConfiguration"], Value::Null);
    }

    #[test]
    fn maps_block_public_access() {
        let out = GetBlockPublicAccessConfigurationOutput::builder()
            .block_public_access_configuration(
                BlockPublicAccessConfiguration::builder()
                    .block_public_security_group_rules(true)
                    .permitted_public_security_group_rule_ranges(
                        PortRange::builder().min_range(22).max_range(22).build(),
                    )
                    .build(),
            )
            .build();
        let asset = block_public_access_asset("123456789012", "eu-west-1", Ok(&out));
        assert_eq!(asset.resource_type, types::EMR_BLOCK_PUBLIC_ACCESS);
        assert_eq!(
            asset.arn,
            "arn:rampart:elasticmapreduce:eu-west-1:123456789012:block-public-access"
        );
        let p = &asset.properties;
        assert_eq!(p["blockPublicSecurityGroupRules"], true);
        assert_eq!(
            p["permittedPublicSecurityGroupRuleRanges"][0]["minRange"],
            22
        );
        assert!(asset.unavailable.is_empty());

        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = block_public_access_asset("123456789012", "eu-west-1", Err(&failure));
        assert_eq!(
            asset.properties["blockPublicSecurityGroupRules"],
            Value::Null
        );
        assert!(
            asset
                .unavailable
                .contains_key("blockPublicSecurityGroupRules")
        );
    }

    #[test]
    fn security_configurations_that_could_not_be_read() {
        let gone = CallFailure {
            kind: GapKind::Other,
            code: Some("InvalidRequestException".into()),
            message:
                "InvalidRequestException: Security configuration with name 'sc' does not exist"
                    .into(),
        };
        let asset = unread_security_configuration_asset("123456789012", "us-east-1", "sc", &gone);
        assert_eq!(asset.properties["deleted"], true);
        assert!(asset.unavailable.is_empty());
        let denied = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = unread_security_configuration_asset("123456789012", "us-east-1", "sc", &denied);
        assert_eq!(asset.properties["deleted"], Value::Null);
        assert!(asset.unavailable.contains_key("encryptionConfiguration"));
    }
}
