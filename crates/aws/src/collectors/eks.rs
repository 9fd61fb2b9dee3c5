//! EKS: clusters (`AWS::EKS::Cluster`) with their API endpoint exposure,
//! control-plane logging, secrets encryption and version.
//!
//! Per region `ListClusters` (100 a page), per cluster `DescribeCluster`.
//!
//! The SDK turns an absent `endpointPublicAccess` / `endpointPrivateAccess`
//! into `false`. AWS always sends both, but emulators (moto) omit them
//! unless they were set, and `false` would then be a guess. So the raw
//! `DescribeCluster` body is kept (an interceptor on that one call) and a
//! field the response did not contain is recorded as `null`. Values are
//! recorded as reported (moto reports version `1.19` for every cluster).

use std::sync::{Arc, Mutex};

use aws_sdk_eks::types::Cluster;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, str_list};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects EKS clusters.
#[derive(Debug)]
pub struct Eks;

static META: CollectorMeta = CollectorMeta {
    service: "eks",
    scope: Scope::Regional,
    operations: &[op!("eks", "ListClusters"), op!("eks", "DescribeCluster")],
    resource_types: &["AWS::EKS::Cluster"],
};

impl Collector for Eks {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().eks(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListClusters",
                    client
                        .list_clusters()
                        .into_paginator()
                        .page_size(100)
                        .send(),
                )
                .await
            else {
                return;
            };
            let names: Vec<String> = pages.iter().flat_map(|p| p.clusters()).cloned().collect();
            let client = &client;
            futures::stream::iter(names)
                .map(|name| async move {
                    let capture = BodyCapture::default();
                    let described = ctx
                        .call(
                            "DescribeCluster",
                            client
                                .describe_cluster()
                                .name(&name)
                                .customize()
                                .interceptor(capture.clone())
                                .send(),
                        )
                        .await;
                    let presence = capture
                        .body()
                        .map_or(EndpointPresence::ALL, |b| endpoint_presence(&b));
                    let cluster = described.as_ref().map_err(|f| f.clone()).and_then(|out| {
                        out.cluster().ok_or_else(|| CallFailure {
                            kind: rampart_model::GapKind::Other,
                            code: None,
                            message: "DescribeCluster returned no cluster".to_owned(),
                        })
                    });
                    ctx.emit(cluster_asset(
                        ctx.account(),
                        ctx.region(),
                        &name,
                        cluster.as_ref().copied(),
                        presence,
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// Keeps the body of the last response of one call.
#[derive(Debug, Clone, Default)]
struct BodyCapture(Arc<Mutex<Option<Vec<u8>>>>);

impl BodyCapture {
    fn body(&self) -> Option<Vec<u8>> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

impl Intercept for BodyCapture {
    fn name(&self) -> &'static str {
        "RampartBodyCapture"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// Which endpoint access fields a `DescribeCluster` response contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointPresence {
    /// `resourcesVpcConfig.endpointPublicAccess` was present.
    pub public: bool,
    /// `resourcesVpcConfig.endpointPrivateAccess` was present.
    pub private: bool,
}

impl EndpointPresence {
    /// Both fields present (what AWS always sends; assumed when the raw
    /// body could not be kept).
    pub const ALL: Self = Self {
        public: true,
        private: true,
    };
}

/// Which endpoint access fields a raw `DescribeCluster` JSON body contains.
pub fn endpoint_presence(body: &[u8]) -> EndpointPresence {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let config = parsed
        .get("cluster")
        .and_then(|c| c.get("resourcesVpcConfig"));
    let has = |field: &str| {
        config
            .and_then(|c| c.get(field))
            .is_some_and(|v| !v.is_null())
    };
    EndpointPresence {
        public: has("endpointPublicAccess"),
        private: has("endpointPrivateAccess"),
    }
}

/// The `AWS::EKS::Cluster` asset of a cluster; when `DescribeCluster`
/// failed only the name is known and the rest is unavailable.
pub fn cluster_asset(
    account: &str,
    region: &str,
    name: &str,
    cluster: Result<&Cluster, &CallFailure>,
    presence: EndpointPresence,
) -> Asset {
    let fallback_arn = || {
        format!(
            "arn:{}:eks:{region}:{account}:cluster/{name}",
            partition(region)
        )
    };
    let Ok(cluster) = cluster else {
        let mut asset = Asset::new(
            fallback_arn(),
            "AWS::EKS::Cluster",
            account,
            region,
            name,
            json!({ "name": name }),
        );
        if let Err(failure) = cluster {
            for key in [
                "version",
                "status",
                "endpoint",
                "resourcesVpcConfig",
                "logging",
                "encryptionConfig",
                "tags",
            ] {
                if key != "tags" {
                    asset.set_property(key, Value::Null);
                }
                asset.mark_unavailable(key, failure.to_string());
            }
        }
        return asset;
    };
    let arn = cluster.arn().map_or_else(fallback_arn, str::to_owned);
    let vpc = cluster.resources_vpc_config().map_or(Value::Null, |v| {
        json!({
            "endpointPublicAccess": presence.public.then_some(v.endpoint_public_access()),
            "endpointPrivateAccess": presence.private.then_some(v.endpoint_private_access()),
            "publicAccessCidrs": v.public_access_cidrs.as_deref().map_or(Value::Null, str_list),
            "securityGroupIds": str_list(v.security_group_ids()),
            "clusterSecurityGroupId": opt_str(v.cluster_security_group_id()),
            "subnetIds": str_list(v.subnet_ids()),
            "vpcId": opt_str(v.vpc_id()),
        })
    });
    let setups = cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default();
    let mut enabled_types: Vec<&str> = setups
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types())
        .map(|t| t.as_str())
        .collect();
    enabled_types.sort_unstable();
    enabled_types.dedup();
    let logging = cluster.logging().map_or(Value::Null, |_| {
        json!({
            "clusterLogging": setups
                .iter()
                .map(|s| json!({
                    "types": s.types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                    "enabled": s.enabled(),
                }))
                .collect::<Vec<_>>(),
        })
    });
    let properties = json!({
        "name": cluster.name().unwrap_or(name),
        "arn": arn,
        "version": opt_str(cluster.version()),
        "platformVersion": opt_str(cluster.platform_version()),
        "status": opt_str(cluster.status().map(|s| s.as_str())),
        "endpoint": opt_str(cluster.endpoint()),
        "roleArn": opt_str(cluster.role_arn()),
        "resourcesVpcConfig": vpc,
        "logging": logging,
        "enabledLogTypes": enabled_types,
        "encryptionConfig": cluster
            .encryption_config()
            .iter()
            .map(|e| json!({
                "resources": str_list(e.resources()),
                "provider": e.provider().map_or(Value::Null, |p| json!({ "keyArn": opt_str(p.key_arn()) })),
            }))
            .collect::<Vec<_>>(),
        "authenticationMode": opt_str(
            cluster.access_config().and_then(|a| a.authentication_mode()).map(|m| m.as_str())
        ),
        "oidcIssuer": opt_str(cluster.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer())),
        "deletionProtection": cluster.deletion_protection(),
        "createdAt": opt_timestamp(cluster.created_at()),
    });
    let tags = cluster
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Asset::new(arn, "AWS::EKS::Cluster", account, region, name, properties).with_tags(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::{
        ClusterStatus, EncryptionConfig, LogSetup, LogType, Logging, Provider, VpcConfigResponse,
    };
    use rampart_model::GapKind;

    fn private_cluster() -> Cluster {
        Cluster::builder()
            .name("prod")
            .arn("arn:aws:eks:us-east-1:123456789012:cluster/prod")
            .version("1.31")
            .platform_version("eks.5")
            .status(ClusterStatus::Active)
            .endpoint("https://x.eks.amazonaws.com")
            .role_arn("arn:aws:iam::123456789012:role/eks")
            .resources_vpc_config(
                VpcConfigResponse::builder()
                    .endpoint_public_access(false)
                    .endpoint_private_access(true)
                    .security_group_ids("sg-1")
                    .subnet_ids("subnet-1")
                    .build(),
            )
            .logging(
                Logging::builder()
                    .cluster_logging(
                        LogSetup::builder()
                            .types(LogType::Api)
                            .types(LogType::Audit)
                            .enabled(true)
                            .build(),
                    )
                    .cluster_logging(
                        LogSetup::builder()
                            .types(LogType::Scheduler)
                            .enabled(false)
                            .build(),
                    )
                    .build(),
            )
            .encryption_config(
                EncryptionConfig::builder()
                    .resources("secrets")
                    .provider(
                        Provider::builder()
                            .key_arn("arn:aws:kms:us-east-1:123456789012:key/k")
                            .build(),
                    )
                    .build(),
            )
            .tags("env", "prod")
            .build()
    }

    #[test]
    fn maps_a_private_encrypted_cluster() {
        let cluster = private_cluster();
        let asset = cluster_asset(
            "123456789012",
            "us-east-1",
            "prod",
            Ok(&cluster),
            EndpointPresence::ALL,
        );
        assert_eq!(asset.arn, "arn:aws:eks:us-east-1:123456789012:cluster/prod");
        assert_eq!(asset.resource_type, "AWS::EKS::Cluster");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["name"], "prod");
        assert_eq!(p["version"], "1.31");
        assert_eq!(p["status"], "ACTIVE");
        assert_eq!(p["resourcesVpcConfig"]["endpointPublicAccess"], false);
        assert_eq!(p["resourcesVpcConfig"]["endpointPrivateAccess"], true);
        assert_eq!(p["resourcesVpcConfig"]["publicAccessCidrs"], Value::Null);
        assert_eq!(p["resourcesVpcConfig"]["securityGroupIds"], json!(["sg-1"]));
        assert_eq!(p["enabledLogTypes"], json!(["api", "audit"]));
        assert_eq!(p["logging"]["clusterLogging"][1]["enabled"], false);
        assert_eq!(p["encryptionConfig"][0]["resources"], json!(["secrets"]));
        assert_eq!(
            p["encryptionConfig"][0]["provider"]["keyArn"],
            "arn:aws:kms:us-east-1:123456789012:key/k"
        );
    }

    #[test]
    fn public_unlogged_cluster() {
        let cluster = Cluster::builder()
            .name("open")
            .resources_vpc_config(
                VpcConfigResponse::builder()
                    .endpoint_public_access(true)
                    .endpoint_private_access(false)
                    .public_access_cidrs("0.0.0.0/0")
                    .build(),
            )
            .build();
        let asset = cluster_asset(
            "123456789012",
            "eu-west-1",
            "open",
            Ok(&cluster),
            EndpointPresence::ALL,
        );
        let p = &asset.properties;
        assert_eq!(asset.arn, "arn:aws:eks:eu-west-1:123456789012:cluster/open");
        assert_eq!(p["resourcesVpcConfig"]["endpointPublicAccess"], true);
        assert_eq!(
            p["resourcesVpcConfig"]["publicAccessCidrs"],
            json!(["0.0.0.0/0"])
        );
        assert_eq!(p["enabledLogTypes"], json!([]));
        assert_eq!(p["logging"], Value::Null);
        assert_eq!(p["encryptionConfig"], json!([]));
    }

    #[test]
    fn absent_endpoint_fields_are_null_not_false() {
        let body =
            br#"{"cluster":{"name":"m","version":"1.19","resourcesVpcConfig":{"subnetIds":[]}}}"#;
        let presence = endpoint_presence(body);
        assert_eq!(
            presence,
            EndpointPresence {
                public: false,
                private: false
            }
        );
        let cluster = Cluster::builder()
            .name("m")
            .version("1.19")
            .resources_vpc_config(VpcConfigResponse::builder().build())
            .build();
        let asset = cluster_asset("123456789012", "us-east-1", "m", Ok(&cluster), presence);
        let vpc = &asset.properties["resourcesVpcConfig"];
        assert_eq!(vpc["endpointPublicAccess"], Value::Null);
        assert_eq!(vpc["endpointPrivateAccess"], Value::Null);
        assert_eq!(asset.properties["version"], "1.19");

        let full = br#"{"cluster":{"resourcesVpcConfig":{"endpointPublicAccess":false,"endpointPrivateAccess":true}}}"#;
        assert_eq!(endpoint_presence(full), EndpointPresence::ALL);
        assert_eq!(
            endpoint_presence(b"not json"),
            EndpointPresence {
                public: false,
                private: false
            }
        );
    }

    #[test]
    fn undescribed_cluster_is_unavailable() {
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = cluster_asset(
            "123456789012",
            "us-east-1",
            "x",
            Err(&failure),
            EndpointPresence::ALL,
        );
        assert_eq!(asset.arn, "arn:aws:eks:us-east-1:123456789012:cluster/x");
        assert_eq!(asset.properties["resourcesVpcConfig"], Value::Null);
        assert_eq!(
            asset.unavailable["resourcesVpcConfig"],
            "AccessDeniedException: nope"
        );
        assert!(asset.unavailable.contains_key("logging"));
    }
}
