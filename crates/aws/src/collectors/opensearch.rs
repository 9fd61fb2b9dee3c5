//! Amazon OpenSearch Service domains (`AWS::OpenSearch::Domain`), both
//! engines: OpenSearch (`engineVersion` `OpenSearch_*`) and the legacy
//! Elasticsearch (`Elasticsearch_*`), which the same API returns. One asset
//! per domain; the rules of Security Hub's `ES.*` controls assess the
//! Elasticsearch ones (docs/recommendations.md).
//!
//! Per region: `ListDomainNames`, then `DescribeDomains` for at most five
//! domains a call (the API's limit). A failed batch is a coverage gap and
//! its domains are not emitted. `DescribeDomains` returns every setting the
//! recommendations read, including `serviceSoftwareOptions`, so no other
//! call is needed. `vpcOptions` is `null` for a domain with a public
//! endpoint; `logPublishingOptions` is keyed by log type (`ES_APPLICATION_LOGS`,
//! `AUDIT_LOGS`, `INDEX_SLOW_LOGS`, `SEARCH_SLOW_LOGS`).

use aws_sdk_opensearch::types::DomainStatus;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Map, Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, policy_document, str_list};
use crate::op;
use crate::scan::CollectContext;

/// The resource type of a domain (either engine).
pub const DOMAIN: &str = "AWS::OpenSearch::Domain";

/// Domains `DescribeDomains` accepts per call.
pub const DESCRIBE_BATCH: usize = 5;

/// Collects OpenSearch Service domains.
#[derive(Debug)]
pub struct OpenSearch;

static META: CollectorMeta = CollectorMeta {
    service: "es",
    scope: Scope::Regional,
    operations: &[op!("es", "ListDomainNames"), op!("es", "DescribeDomains")],
    resource_types: &[DOMAIN],
};

impl Collector for OpenSearch {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(collect(ctx))
    }
}

async fn collect(ctx: &CollectContext<'_>) {
    let client = ctx.access().opensearch(ctx.region());
    let client = &client;
    let Ok(listing) = ctx
        .call("ListDomainNames", client.list_domain_names().send())
        .await
    else {
        return;
    };
    let names: Vec<String> = listing
        .domain_names()
        .iter()
        .filter_map(|d| d.domain_name().map(str::to_owned))
        .collect();
    futures::stream::iter(names.chunks(DESCRIBE_BATCH).map(<[String]>::to_vec))
        .map(|batch| async move {
            let out = ctx
                .call(
                    "DescribeDomains",
                    client
                        .describe_domains()
                        .set_domain_names(Some(batch))
                        .send(),
                )
                .await;
            if let Ok(out) = out {
                for domain in out.domain_status_list() {
                    ctx.emit(domain_asset(ctx.account(), ctx.region(), domain));
                }
            }
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// The `AWS::OpenSearch::Domain` asset of a domain.
pub fn domain_asset(account: &str, region: &str, domain: &DomainStatus) -> Asset {
    let name = domain.domain_name();
    let cluster = domain.cluster_config().map_or(Value::Null, |c| {
        json!({
            "instanceType": c.instance_type().map(|t| t.as_str()),
            "instanceCount": c.instance_count(),
            "zoneAwarenessEnabled": c.zone_awareness_enabled(),
            "availabilityZoneCount": c.zone_awareness_config().and_then(|z| z.availability_zone_count()),
            "dedicatedMasterEnabled": c.dedicated_master_enabled(),
            "dedicatedMasterType": c.dedicated_master_type().map(|t| t.as_str()),
            "dedicatedMasterCount": c.dedicated_master_count(),
            "warmEnabled": c.warm_enabled(),
            "multiAZWithStandbyEnabled": c.multi_az_with_standby_enabled(),
        })
    });
    let mut logs = Map::new();
    if let Some(options) = domain.log_publishing_options() {
        for (kind, option) in options {
            logs.insert(
                kind.as_str().to_owned(),
                json!({
                    "enabled": option.enabled(),
                    "cloudWatchLogsLogGroupArn": opt_str(option.cloud_watch_logs_log_group_arn()),
                }),
            );
        }
    }
    let properties = json!({
        "domainName": name,
        "domainId": domain.domain_id(),
        "arn": domain.arn(),
        "engineVersion": opt_str(domain.engine_version()),
        "created": domain.created(),
        "deleted": domain.deleted(),
        "processing": domain.processing(),
        "endpoint": opt_str(domain.endpoint()),
        "endpoints": domain.endpoints().map_or(Value::Null, |e| json!(e)),
        "vpcOptions": domain.vpc_options().map_or(Value::Null, |v| json!({
            "vpcId": opt_str(v.vpc_id()),
            "subnetIds": str_list(v.subnet_ids()),
            "securityGroupIds": str_list(v.security_group_ids()),
            "availabilityZones": str_list(v.availability_zones()),
        })),
        "clusterConfig": cluster,
        "encryptionAtRestOptions": domain.encryption_at_rest_options().map_or(Value::Null, |e| json!({
            "enabled": e.enabled(),
            "kmsKeyId": opt_str(e.kms_key_id()),
        })),
        "nodeToNodeEncryptionOptions": domain.node_to_node_encryption_options().map_or(Value::Null, |n| json!({
            "enabled": n.enabled(),
        })),
        "domainEndpointOptions": domain.domain_endpoint_options().map_or(Value::Null, |d| json!({
            "enforceHTTPS": d.enforce_https(),
            "tlsSecurityPolicy": d.tls_security_policy().map(|t| t.as_str()),
            "customEndpointEnabled": d.custom_endpoint_enabled(),
        })),
        "advancedSecurityOptions": domain.advanced_security_options().map_or(Value::Null, |a| json!({
            "enabled": a.enabled(),
            "internalUserDatabaseEnabled": a.internal_user_database_enabled(),
            "anonymousAuthEnabled": a.anonymous_auth_enabled(),
        })),
        "serviceSoftwareOptions": domain.service_software_options().map_or(Value::Null, |s| json!({
            "currentVersion": opt_str(s.current_version()),
            "newVersion": opt_str(s.new_version()),
            "updateAvailable": s.update_available(),
            "updateStatus": s.update_status().map(|u| u.as_str()),
            "optionalDeployment": s.optional_deployment(),
        })),
        "logPublishingOptions": Value::Object(logs),
        "accessPolicies": domain.access_policies().map_or(Value::Null, policy_document),
    });
    Asset::new(domain.arn(), DOMAIN, account, region, name, properties)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_opensearch::types::{
        AdvancedSecurityOptions, ClusterConfig, DeploymentStatus, DomainEndpointOptions,
        EncryptionAtRestOptions, LogPublishingOption, LogType, NodeToNodeEncryptionOptions,
        ServiceSoftwareOptions, TlsSecurityPolicy, VpcDerivedInfo,
    };

    fn domain() -> DomainStatus {
        DomainStatus::builder()
            .domain_id("123456789012/logs")
            .domain_name("logs")
            .arn("arn:aws:es:us-east-1:123456789012:domain/logs")
            .engine_version("Elasticsearch_7.10")
            .cluster_config(
                ClusterConfig::builder()
                    .instance_count(3)
                    .zone_awareness_enabled(true)
                    .dedicated_master_enabled(true)
                    .dedicated_master_count(3)
                    .build(),
            )
            .vpc_options(
                VpcDerivedInfo::builder()
                    .vpc_id("vpc-1")
                    .subnet_ids("subnet-1")
                    .security_group_ids("sg-1")
                    .build(),
            )
            .encryption_at_rest_options(EncryptionAtRestOptions::builder().enabled(true).build())
            .node_to_node_encryption_options(
                NodeToNodeEncryptionOptions::builder()
                    .enabled(false)
                    .build(),
            )
            .domain_endpoint_options(
                DomainEndpointOptions::builder()
                    .enforce_https(true)
                    .tls_security_policy(TlsSecurityPolicy::PolicyMinTls12Pfs202310)
                    .build(),
            )
            .advanced_security_options(AdvancedSecurityOptions::builder().enabled(false).build())
            .service_software_options(
                ServiceSoftwareOptions::builder()
                    .update_available(true)
                    .update_status(DeploymentStatus::Eligible)
                    .build(),
            )
            .log_publishing_options(
                LogType::EsApplicationLogs,
                LogPublishingOption::builder()
                    .enabled(true)
                    .cloud_watch_logs_log_group_arn(
                        "arn:aws:logs:us-east-1:123456789012:log-group:es-errors",
                    )
                    .build(),
            )
            .access_policies(r#"{"Version":"2012-10-17","Statement":[]}"#)
            .build()
            .unwrap()
    }

    #[test]
    fn maps_a_domain() {
        let asset = domain_asset("123456789012", "us-east-1", &domain());
        assert_eq!(asset.resource_type, DOMAIN);
        assert_eq!(asset.arn, "arn:aws:es:us-east-1:123456789012:domain/logs");
        assert_eq!(asset.name, "logs");
        let p = &asset.properties;
        assert_eq!(p["engineVersion"], "Elasticsearch_7.10");
        assert_eq!(p["clusterConfig"]["instanceCount"], 3);
        assert_eq!(p["clusterConfig"]["dedicatedMasterCount"], 3);
        assert_eq!(p["vpcOptions"]["vpcId"], "vpc-1");
        assert_eq!(p["encryptionAtRestOptions"]["enabled"], true);
        assert_eq!(p["nodeToNodeEncryptionOptions"]["enabled"], false);
        assert_eq!(
            p["domainEndpointOptions"]["tlsSecurityPolicy"],
            "Policy-Min-TLS-1-2-PFS-2023-10"
        );
        assert_eq!(p["advancedSecurityOptions"]["enabled"], false);
        assert_eq!(p["serviceSoftwareOptions"]["updateAvailable"], true);
        assert_eq!(p["serviceSoftwareOptions"]["updateStatus"], "ELIGIBLE");
        assert_eq!(
            p["logPublishingOptions"]["ES_APPLICATION_LOGS"]["enabled"],
            true
        );
        assert_eq!(p["logPublishingOptions"]["AUDIT_LOGS"], Value::Null);
        assert_eq!(p["accessPolicies"]["Version"], "2012-10-17");
    }

    #[test]
    fn a_public_domain_has_no_vpc_options() {
        let public = DomainStatus::builder()
            .domain_id("1/open")
            .domain_name("open")
            .arn("arn:aws:es:us-east-1:123456789012:domain/open")
            .engine_version("OpenSearch_2.11")
            .endpoint("search-open-abc.us-east-1.es.amazonaws.com")
            .build()
            .unwrap();
        let asset = domain_asset("123456789012", "us-east-1", &public);
        let p = &asset.properties;
        assert_eq!(p["vpcOptions"], Value::Null);
        assert_eq!(p["endpoint"], "search-open-abc.us-east-1.es.amazonaws.com");
        assert_eq!(p["clusterConfig"], Value::Null);
        assert_eq!(p["logPublishingOptions"], json!({}));
        assert_eq!(p["serviceSoftwareOptions"], Value::Null);
    }
}
