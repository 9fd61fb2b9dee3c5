//! SageMaker: notebook instances (`AWS::SageMaker::NotebookInstance`),
//! endpoint configurations (`AWS::SageMaker::EndpointConfig`) and models
//! (`AWS::SageMaker::Model`).
//!
//! Per region `ListNotebookInstances`, `ListEndpointConfigs` and
//! `ListModels` (100 a page each), then one `Describe…` call per item. An
//! item whose describe call answers `ValidationException` (SageMaker's
//! "could not find") was deleted after the listing: it becomes an asset
//! with `deleted: true`. Model container environments (often secrets) are
//! never kept.

use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput;
use aws_sdk_sagemaker::operation::describe_model::DescribeModelOutput;
use aws_sdk_sagemaker::operation::describe_notebook_instance::DescribeNotebookInstanceOutput;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, str_list};
use crate::op;
use crate::scan::CollectContext;

/// `AWS::SageMaker::NotebookInstance`.
pub const NOTEBOOK_INSTANCE: &str = "AWS::SageMaker::NotebookInstance";
/// `AWS::SageMaker::EndpointConfig`.
pub const ENDPOINT_CONFIG: &str = "AWS::SageMaker::EndpointConfig";
/// `AWS::SageMaker::Model`.
pub const MODEL: &str = "AWS::SageMaker::Model";

/// The error code SageMaker answers for an item that does not exist.
const NOT_FOUND: &[&str] = &["ValidationException"];

/// Collects SageMaker notebook instances, endpoint configurations and models.
#[derive(Debug)]
pub struct SageMaker;

static META: CollectorMeta = CollectorMeta {
    service: "sagemaker",
    scope: Scope::Regional,
    operations: &[
        op!("sagemaker", "ListNotebookInstances"),
        op!("sagemaker", "DescribeNotebookInstance"),
        op!("sagemaker", "ListEndpointConfigs"),
        op!("sagemaker", "DescribeEndpointConfig"),
        op!("sagemaker", "ListModels"),
        op!("sagemaker", "DescribeModel"),
    ],
    resource_types: &[NOTEBOOK_INSTANCE, ENDPOINT_CONFIG, MODEL],
};

impl Collector for SageMaker {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().sagemaker(ctx.region());
            let (notebooks, configs, models) = futures::join!(
                collect_notebooks(ctx, &client),
                collect_endpoint_configs(ctx, &client),
                collect_models(ctx, &client),
            );
            for asset in notebooks.into_iter().chain(configs).chain(models) {
                ctx.emit(asset);
            }
        })
    }
}

fn arn(region: &str, account: &str, kind: &str, name: &str) -> String {
    format!(
        "arn:{}:sagemaker:{region}:{account}:{kind}/{}",
        partition(region),
        name.to_lowercase()
    )
}

/// An item listed and then not found: `deleted: true`.
pub fn deleted_asset(account: &str, region: &str, resource_type: &str, name: &str) -> Asset {
    let kind = match resource_type {
        NOTEBOOK_INSTANCE => "notebook-instance",
        ENDPOINT_CONFIG => "endpoint-config",
        _ => "model",
    };
    let arn = arn(region, account, kind, name);
    Asset::new(
        arn,
        resource_type,
        account,
        region,
        name,
        json!({ "name": name, "deleted": true }),
    )
}

async fn collect_notebooks(ctx: &CollectContext<'_>, client: &Client) -> Vec<Asset> {
    let Ok(pages) = ctx
        .pages(
            "ListNotebookInstances",
            client
                .list_notebook_instances()
                .into_paginator()
                .page_size(100)
                .send(),
        )
        .await
    else {
        return Vec::new();
    };
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.notebook_instances())
        .filter_map(|n| n.notebook_instance_name().map(str::to_owned))
        .collect();
    futures::stream::iter(names)
        .map(|name| async move {
            match ctx
                .call_optional(
                    "DescribeNotebookInstance",
                    NOT_FOUND,
                    client
                        .describe_notebook_instance()
                        .notebook_instance_name(&name)
                        .send(),
                )
                .await
            {
                Ok(Some(out)) => notebook_instance_asset(ctx.account(), ctx.region(), &out),
                Ok(None) => Some(deleted_asset(
                    ctx.account(),
                    ctx.region(),
                    NOTEBOOK_INSTANCE,
                    &name,
                )),
                Err(_) => None,
            }
        })
        .buffer_unordered(ctx.concurrency())
        .filter_map(|a| async move { a })
        .collect()
        .await
}

async fn collect_endpoint_configs(ctx: &CollectContext<'_>, client: &Client) -> Vec<Asset> {
    let Ok(pages) = ctx
        .pages(
            "ListEndpointConfigs",
            client
                .list_endpoint_configs()
                .into_paginator()
                .page_size(100)
                .send(),
        )
        .await
    else {
        return Vec::new();
    };
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.endpoint_configs())
        .filter_map(|c| c.endpoint_config_name().map(str::to_owned))
        .collect();
    futures::stream::iter(names)
        .map(|name| async move {
            match ctx
                .call_optional(
                    "DescribeEndpointConfig",
                    NOT_FOUND,
                    client
                        .describe_endpoint_config()
                        .endpoint_config_name(&name)
                        .send(),
                )
                .await
            {
                Ok(Some(out)) => endpoint_config_asset(ctx.account(), ctx.region(), &out),
                Ok(None) => Some(deleted_asset(
                    ctx.account(),
                    ctx.region(),
                    ENDPOINT_CONFIG,
                    &name,
                )),
                Err(_) => None,
            }
        })
        .buffer_unordered(ctx.concurrency())
        .filter_map(|a| async move { a })
        .collect()
        .await
}

async fn collect_models(ctx: &CollectContext<'_>, client: &Client) -> Vec<Asset> {
    let Ok(pages) = ctx
        .pages(
            "ListModels",
            client.list_models().into_paginator().page_size(100).send(),
        )
        .await
    else {
        return Vec::new();
    };
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.models())
        .filter_map(|m| m.model_name().map(str::to_owned))
        .collect();
    futures::stream::iter(names)
        .map(|name| async move {
            match ctx
                .call_optional(
                    "DescribeModel",
                    NOT_FOUND,
                    client.describe_model().model_name(&name).send(),
                )
                .await
            {
                Ok(Some(out)) => model_asset(ctx.account(), ctx.region(), &out),
                Ok(None) => Some(deleted_asset(ctx.account(), ctx.region(), MODEL, &name)),
                Err(_) => None,
            }
        })
        .buffer_unordered(ctx.concurrency())
        .filter_map(|a| async move { a })
        .collect()
        .await
}

/// The `AWS::SageMaker::NotebookInstance` asset (`None` without a name).
/// `directInternetAccess` and `rootAccess` are `Enabled`/`Disabled` (both
/// default to `Enabled`); `subnetId` is `null` for an instance in the
/// SageMaker service VPC.
pub fn notebook_instance_asset(
    account: &str,
    region: &str,
    out: &DescribeNotebookInstanceOutput,
) -> Option<Asset> {
    let name = out.notebook_instance_name()?;
    let arn = out.notebook_instance_arn().map_or_else(
        || arn(region, account, "notebook-instance", name),
        str::to_owned,
    );
    Some(Asset::new(
        arn.clone(),
        NOTEBOOK_INSTANCE,
        account,
        region,
        name,
        json!({
            "name": name,
            "arn": arn,
            "deleted": false,
            "status": opt_str(out.notebook_instance_status().map(|s| s.as_str())),
            "instanceType": opt_str(out.instance_type().map(|t| t.as_str())),
            "subnetId": opt_str(out.subnet_id()),
            "securityGroups": str_list(out.security_groups()),
            "directInternetAccess": opt_str(out.direct_internet_access().map(|d| d.as_str())),
            "rootAccess": opt_str(out.root_access().map(|r| r.as_str())),
            "platformIdentifier": opt_str(out.platform_identifier()),
            "kmsKeyId": opt_str(out.kms_key_id()),
            "roleArn": opt_str(out.role_arn()),
            "creationTime": opt_timestamp(out.creation_time()),
        }),
    ))
}

/// The `AWS::SageMaker::EndpointConfig` asset (`None` without a name).
/// Each production variant keeps its name, instance type, initial instance
/// count (`null` for a serverless variant) and whether it is serverless.
pub fn endpoint_config_asset(
    account: &str,
    region: &str,
    out: &DescribeEndpointConfigOutput,
) -> Option<Asset> {
    let name = out.endpoint_config_name()?;
    let arn = out.endpoint_config_arn().map_or_else(
        || arn(region, account, "endpoint-config", name),
        str::to_owned,
    );
    let variants: Vec<Value> = out
        .production_variants()
        .iter()
        .map(|v| {
            json!({
                "variantName": opt_str(v.variant_name()),
                "instanceType": opt_str(v.instance_type().map(|t| t.as_str())),
                "initialInstanceCount": v.initial_instance_count(),
                "serverless": v.serverless_config().is_some(),
            })
        })
        .collect();
    Some(Asset::new(
        arn.clone(),
        ENDPOINT_CONFIG,
        account,
        region,
        name,
        json!({
            "name": name,
            "arn": arn,
            "deleted": false,
            "kmsKeyId": opt_str(out.kms_key_id()),
            "creationTime": opt_timestamp(out.creation_time()),
            "productionVariants": variants,
        }),
    ))
}

/// The `AWS::SageMaker::Model` asset (`None` without a name).
/// `enableNetworkIsolation` is `null` when the API leaves it out (isolation
/// is then off).
pub fn model_asset(account: &str, region: &str, out: &DescribeModelOutput) -> Option<Asset> {
    let name = out.model_name()?;
    let arn = out
        .model_arn()
        .map_or_else(|| arn(region, account, "model", name), str::to_owned);
    Some(Asset::new(
        arn.clone(),
        MODEL,
        account,
        region,
        name,
        json!({
            "name": name,
            "arn": arn,
            "deleted": false,
            "enableNetworkIsolation": out.enable_network_isolation(),
            "executionRoleArn": opt_str(out.execution_role_arn()),
            "vpcSubnets": out.vpc_config().map_or(Value::Null, |v| str_list(v.subnets())),
            "creationTime": opt_timestamp(out.creation_time()),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sagemaker::types::{
        DirectInternetAccess, NotebookInstanceStatus, ProductionVariant,
        ProductionVariantServerlessConfig, RootAccess,
    };

    #[test]
    fn maps_a_notebook_instance() {
        let out = DescribeNotebookInstanceOutput::builder()
            .notebook_instance_name("research")
            .notebook_instance_arn(
                "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/research",
            )
            .notebook_instance_status(NotebookInstanceStatus::InService)
            .direct_internet_access(DirectInternetAccess::Enabled)
            .root_access(RootAccess::Disabled)
            .platform_identifier("notebook-al2-v1")
            .build();
        let asset = notebook_instance_asset("123456789012", "us-east-1", &out).unwrap();
        assert_eq!(asset.resource_type, NOTEBOOK_INSTANCE);
        let p = &asset.properties;
        assert_eq!(p["status"], "InService");
        assert_eq!(p["directInternetAccess"], "Enabled");
        assert_eq!(p["rootAccess"], "Disabled");
        assert_eq!(p["subnetId"], Value::Null);
        assert_eq!(p["platformIdentifier"], "notebook-al2-v1");
    }

    #[test]
    fn maps_endpoint_configs_and_models() {
        let out = DescribeEndpointConfigOutput::builder()
            .endpoint_config_name("Scoring")
            .production_variants(
                ProductionVariant::builder()
                    .variant_name("a")
                    .initial_instance_count(2)
                    .build(),
            )
            .production_variants(
                ProductionVariant::builder()
                    .variant_name("b")
                    .serverless_config(
                        ProductionVariantServerlessConfig::builder()
                            .memory_size_in_mb(2048)
                            .max_concurrency(5)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let asset = endpoint_config_asset("123456789012", "us-east-1", &out).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/scoring"
        );
        let variants = &asset.properties["productionVariants"];
        assert_eq!(variants[0]["initialInstanceCount"], 2);
        assert_eq!(variants[1]["serverless"], true);
        assert_eq!(variants[1]["initialInstanceCount"], Value::Null);

        let model = DescribeModelOutput::builder()
            .model_name("churn")
            .enable_network_isolation(true)
            .build();
        let asset = model_asset("123456789012", "us-east-1", &model).unwrap();
        assert_eq!(asset.resource_type, MODEL);
        assert_eq!(asset.properties["enableNetworkIsolation"], true);

        let gone = deleted_asset("123456789012", "us-east-1", MODEL, "old");
        assert_eq!(
            gone.arn,
            "arn:aws:sagemaker:us-east-1:123456789012:model/old"
        );
        assert_eq!(gone.properties["deleted"], true);
    }
}
