//! Amazon MSK: clusters (`AWS::MSK::Cluster`, provisioned and serverless)
//! and MSK Connect connectors (`AWS::KafkaConnect::Connector`).
//!
//! Per region `ListClustersV2` (100 a page; its entries are the full
//! cluster descriptions `DescribeClusterV2` would return, so no call per
//! cluster) and MSK Connect's `ListConnectors` (100 a page; its summaries
//! carry the encryption and log delivery settings).

use aws_sdk_kafka::types::Cluster;
use aws_sdk_kafkaconnect::types::ConnectorSummary;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp, tag_map};
use crate::op;
use crate::scan::CollectContext;

/// CloudFormation type of MSK clusters.
pub const CLUSTER: &str = "AWS::MSK::Cluster";
/// CloudFormation type of MSK Connect connectors.
pub const CONNECTOR: &str = "AWS::KafkaConnect::Connector";

/// Collects MSK clusters and MSK Connect connectors.
#[derive(Debug)]
pub struct Msk;

static META: CollectorMeta = CollectorMeta {
    service: "kafka",
    scope: Scope::Regional,
    operations: &[
        op!("kafka", "ListClustersV2"),
        op!("kafkaconnect", "ListConnectors"),
    ],
    resource_types: &[CLUSTER, CONNECTOR],
};

impl Collector for Msk {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let kafka = ctx.access().kafka(ctx.region());
            let connect = ctx.access().kafkaconnect(ctx.region());
            let (clusters, connectors) = futures::join!(
                ctx.pages(
                    "ListClustersV2",
                    kafka
                        .list_clusters_v2()
                        .max_results(100)
                        .into_paginator()
                        .send(),
                ),
                ctx.pages(
                    "ListConnectors",
                    connect
                        .list_connectors()
                        .max_results(100)
                        .into_paginator()
                        .send(),
                ),
            );
            if let Ok(pages) = clusters {
                for c in pages.iter().flat_map(|p| p.cluster_info_list()) {
                    if let Some(asset) = cluster_asset(ctx.account(), ctx.region(), c) {
                        ctx.emit(asset);
                    }
                }
            }
            if let Ok(pages) = connectors {
                for c in pages.iter().flat_map(|p| p.connectors()) {
                    if let Some(asset) = connector_asset(ctx.account(), ctx.region(), c) {
                        ctx.emit(asset);
                    }
                }
            }
        })
    }
}

/// The `AWS::MSK::Cluster` asset (`None` without an ARN). `clusterType` is
/// `PROVISIONED` or `SERVERLESS`; the provisioned settings are flattened:
/// `encryptionInTransit` (`inCluster`, `clientBroker`; `null` when the API
/// omits it), `enhancedMonitoring`, `publicAccessType`, and
/// `clientAuthentication` (`unauthenticated`, `iam`, `scram`, `tls`: each
/// `enabled` flag, `null` when not reported; the whole object `null` when
/// the cluster reports no client authentication). Serverless clusters get
/// `clientAuthentication.iam` from their SASL/IAM setting.
pub fn cluster_asset(account: &str, region: &str, c: &Cluster) -> Option<Asset> {
    let arn = c.cluster_arn()?;
    let name = c.cluster_name().unwrap_or_else(|| arn_name(arn));
    let provisioned = c.provisioned();
    let serverless_auth = c.serverless().map(|s| {
        s.client_authentication().map_or(Value::Null, |a| {
            json!({
                "unauthenticated": false,
                "iam": a.sasl().and_then(|s| s.iam()).and_then(|i| i.enabled()),
                "scram": Value::Null,
                "tls": Value::Null,
            })
        })
    });
    let client_authentication = serverless_auth.unwrap_or_else(|| {
        provisioned
            .and_then(|p| p.client_authentication())
            .map_or(Value::Null, |a| {
                json!({
                    "unauthenticated": a.unauthenticated().and_then(|u| u.enabled()),
                    "iam": a.sasl().and_then(|s| s.iam()).and_then(|i| i.enabled()),
                    "scram": a.sasl().and_then(|s| s.scram()).and_then(|s| s.enabled()),
                    "tls": a.tls().and_then(|t| t.enabled()),
                })
            })
    });
    let props = json!({
        "clusterName": name,
        "clusterArn": arn,
        "clusterType": opt_str(c.cluster_type().map(|t| t.as_str())),
        "state": opt_str(c.state().map(|s| s.as_str())),
        "currentVersion": opt_str(c.current_version()),
        "creationTime": opt_timestamp(c.creation_time()),
        "encryptionInTransit": provisioned
            .and_then(|p| p.encryption_info())
            .and_then(|e| e.encryption_in_transit())
            .map_or(Value::Null, |t| {
                json!({
                    "inCluster": t.in_cluster(),
                    "clientBroker": opt_str(t.client_broker().map(|b| b.as_str())),
                })
            }),
        "enhancedMonitoring": opt_str(
            provisioned
                .and_then(|p| p.enhanced_monitoring())
                .map(|m| m.as_str())
        ),
        "publicAccessType": opt_str(
            provisioned
                .and_then(|p| p.broker_node_group_info())
                .and_then(|b| b.connectivity_info())
                .and_then(|i| i.public_access())
                .and_then(|a| a.r#type())
        ),
        "clientAuthentication": client_authentication,
        "numberOfBrokerNodes": provisioned.and_then(|p| p.number_of_broker_nodes()),
    });
    let mut asset = Asset::new(arn, CLUSTER, account, region, name, props);
    if let Some(tags) = c.tags() {
        asset = asset.with_tags(tag_map(
            tags.iter()
                .map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))),
        ));
    }
    Some(asset)
}

/// The `AWS::KafkaConnect::Connector` asset (`None` without an ARN).
/// `encryptionInTransit` is `TLS` or `PLAINTEXT`; `logDelivery` says which
/// worker log destinations are enabled (`null` when none is configured).
pub fn connector_asset(account: &str, region: &str, c: &ConnectorSummary) -> Option<Asset> {
    let arn = c.connector_arn()?;
    let name = c.connector_name().unwrap_or_else(|| arn_name(arn));
    let logs = c
        .log_delivery()
        .and_then(|l| l.worker_log_delivery())
        .map_or(Value::Null, |w| {
            json!({
                "cloudWatchLogs": w.cloud_watch_logs().map(|d| d.enabled()),
                "firehose": w.firehose().map(|d| d.enabled()),
                "s3": w.s3().map(|d| d.enabled()),
            })
        });
    Some(Asset::new(
        arn,
        CONNECTOR,
        account,
        region,
        name,
        json!({
            "connectorName": name,
            "connectorArn": arn,
            "connectorState": opt_str(c.connector_state().map(|s| s.as_str())),
            "kafkaConnectVersion": opt_str(c.kafka_connect_version()),
            "encryptionInTransit": opt_str(
                c.kafka_cluster_encryption_in_transit()
                    .and_then(|e| e.encryption_type())
                    .map(|t| t.as_str())
            ),
            "clientAuthentication": opt_str(
                c.kafka_cluster_client_authentication()
                    .and_then(|a| a.authentication_type())
                    .map(|t| t.as_str())
            ),
            "logDelivery": logs,
            "creationTime": opt_timestamp(c.creation_time()),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kafka::types::{
        BrokerNodeGroupInfo, ClientAuthentication, ClientBroker, ClusterType, ConnectivityInfo,
        EncryptionInTransit, EncryptionInfo, EnhancedMonitoring, Provisioned, PublicAccess,
        Serverless, ServerlessClientAuthentication, ServerlessSasl, Unauthenticated,
    };
    use aws_sdk_kafkaconnect::types::{
        CloudWatchLogsLogDeliveryDescription, KafkaClusterEncryptionInTransitDescription,
        KafkaClusterEncryptionInTransitType, LogDeliveryDescription, WorkerLogDeliveryDescription,
    };

    #[test]
    fn maps_a_provisioned_cluster() {
        let p = Provisioned::builder()
            .number_of_broker_nodes(3)
            .enhanced_monitoring(EnhancedMonitoring::Default)
            .encryption_info(
                EncryptionInfo::builder()
                    .encryption_in_transit(
                        EncryptionInTransit::builder()
                            .in_cluster(false)
                            .client_broker(ClientBroker::TlsPlaintext)
                            .build(),
                    )
                    .build(),
            )
            .broker_node_group_info(
                BrokerNodeGroupInfo::builder()
                    .connectivity_info(
                        ConnectivityInfo::builder()
                            .public_access(
                                PublicAccess::builder()
                                    .r#type("SERVICE_PROVIDED_EIPS")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .client_authentication(
                ClientAuthentication::builder()
                    .unauthenticated(Unauthenticated::builder().enabled(true).build())
                    .build(),
            )
            .build();
        let c = Cluster::builder()
            .cluster_arn("arn:aws:kafka:us-east-1:123456789012:cluster/c/uuid")
            .cluster_name("c")
            .cluster_type(ClusterType::Provisioned)
            .provisioned(p)
            .tags("team", "data")
            .build();
        let asset = cluster_asset("123456789012", "us-east-1", &c).unwrap();
        assert_eq!(asset.resource_type, CLUSTER);
        assert_eq!(asset.tags["team"], "data");
        let props = &asset.properties;
        assert_eq!(props["clusterType"], "PROVISIONED");
        assert_eq!(props["encryptionInTransit"]["inCluster"], false);
        assert_eq!(
            props["encryptionInTransit"]["clientBroker"],
            "TLS_PLAINTEXT"
        );
        assert_eq!(props["enhancedMonitoring"], "DEFAULT");
        assert_eq!(props["publicAccessType"], "SERVICE_PROVIDED_EIPS");
        assert_eq!(props["clientAuthentication"]["unauthenticated"], true);
        assert_eq!(props["clientAuthentication"]["iam"], Value::Null);
    }

    #[test]
    fn maps_a_serverless_cluster() {
        let c = Cluster::builder()
            .cluster_arn("arn:aws:kafka:us-east-1:123456789012:cluster/s/uuid")
            .cluster_type(ClusterType::Serverless)
            .serverless(
                Serverless::builder()
                    .client_authentication(
                        ServerlessClientAuthentication::builder()
                            .sasl(
                                ServerlessSasl::builder()
                                    .iam(aws_sdk_kafka::types::Iam::builder().enabled(true).build())
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build();
        let asset = cluster_asset("123456789012", "us-east-1", &c).unwrap();
        assert_eq!(asset.name, "uuid");
        let props = &asset.properties;
        assert_eq!(props["clusterType"], "SERVERLESS");
        assert_eq!(props["encryptionInTransit"], Value::Null);
        assert_eq!(props["clientAuthentication"]["iam"], true);
        assert!(cluster_asset("1", "r", &Cluster::builder().build()).is_none());
    }

    #[test]
    fn maps_a_connector() {
        let c = ConnectorSummary::builder()
            .connector_arn("arn:aws:kafkaconnect:us-east-1:123456789012:connector/k/uuid")
            .connector_name("k")
            .kafka_cluster_encryption_in_transit(
                KafkaClusterEncryptionInTransitDescription::builder()
                    .encryption_type(KafkaClusterEncryptionInTransitType::Plaintext)
                    .build(),
            )
            .log_delivery(
                LogDeliveryDescription::builder()
                    .worker_log_delivery(
                        WorkerLogDeliveryDescription::builder()
                            .cloud_watch_logs(
                                CloudWatchLogsLogDeliveryDescription::builder()
                                    .enabled(false)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build();
        let asset = connector_asset("123456789012", "us-east-1", &c).unwrap();
        assert_eq!(asset.resource_type, CONNECTOR);
        let p = &asset.properties;
        assert_eq!(p["encryptionInTransit"], "PLAINTEXT");
        assert_eq!(p["logDelivery"]["cloudWatchLogs"], false);
        assert_eq!(p["logDelivery"]["s3"], Value::Null);
        assert!(connector_asset("1", "r", &ConnectorSummary::builder().build()).is_none());
    }
}
