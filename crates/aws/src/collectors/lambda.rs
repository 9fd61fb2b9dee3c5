//! Lambda: functions (`AWS::Lambda::Function`) with runtime, execution role,
//! VPC placement (joined with the Availability Zones of its subnets),
//! tracing, dead-letter target, the *names* of environment variables (never
//! their values: they often hold secrets), the resource-based policy and
//! tags.
//!
//! Per region: `ListFunctions` (50 a page) once, one `ec2:DescribeSubnets`
//! (filtered by the subnets the functions use, 200 ids a call) when any
//! function is in a VPC; per function `GetPolicy` and `ListTags`.
//! `GetPolicy` answers `ResourceNotFoundException` when a function has no
//! resource policy: `policy` is then `null` (no policy), not unavailable.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_lambda::types::FunctionConfiguration;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, partition, policy_document};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Lambda functions.
#[derive(Debug)]
pub struct Lambda;

static META: CollectorMeta = CollectorMeta {
    service: "lambda",
    scope: Scope::Regional,
    operations: &[
        op!("lambda", "ListFunctions"),
        op!("lambda", "GetPolicy"),
        op!("lambda", "ListTags"),
        op!("ec2", "DescribeSubnets"),
    ],
    resource_types: &["AWS::Lambda::Function"],
};

/// Subnet ids per `DescribeSubnets` filter.
const SUBNET_BATCH: usize = 200;

impl Collector for Lambda {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().lambda(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListFunctions",
                    client
                        .list_functions()
                        .max_items(50)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let functions: Vec<FunctionConfiguration> = pages
                .into_iter()
                .flat_map(|p| p.functions.unwrap_or_default())
                .collect();
            let subnet_ids: BTreeSet<String> = functions
                .iter()
                .filter_map(FunctionConfiguration::vpc_config)
                .flat_map(|v| v.subnet_ids().iter().cloned())
                .collect();
            let zones = subnet_zones(ctx, subnet_ids).await;
            let client = &client;
            let zones = &zones;
            futures::stream::iter(functions)
                .map(|function| async move {
                    let asset = collect_function(ctx, client, &function, zones).await;
                    ctx.emit(asset);
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The Availability Zone of each subnet the functions use (subnets that no
/// longer exist are missing from the map).
async fn subnet_zones(
    ctx: &CollectContext<'_>,
    subnet_ids: BTreeSet<String>,
) -> Result<BTreeMap<String, String>, CallFailure> {
    let mut zones = BTreeMap::new();
    if subnet_ids.is_empty() {
        return Ok(zones);
    }
    let ec2 = ctx.access().ec2(ctx.region());
    let ids: Vec<String> = subnet_ids.into_iter().collect();
    for chunk in ids.chunks(SUBNET_BATCH) {
        let filter = aws_sdk_ec2::types::Filter::builder()
            .name("subnet-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let pages = ctx
            .pages(
                "DescribeSubnets",
                ec2.describe_subnets()
                    .filters(filter)
                    .into_paginator()
                    .page_size(1000)
                    .send(),
            )
            .await?;
        for subnet in pages.iter().flat_map(|p| p.subnets()) {
            if let (Some(id), Some(zone)) = (subnet.subnet_id(), subnet.availability_zone()) {
                zones.insert(id.to_owned(), zone.to_owned());
            }
        }
    }
    Ok(zones)
}

/// Reads one function's policy and tags.
async fn collect_function(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_lambda::Client,
    function: &FunctionConfiguration,
    zones: &Result<BTreeMap<String, String>, CallFailure>,
) -> Asset {
    let name = function.function_name().unwrap_or_default();
    let arn = function.function_arn().map_or_else(
        || {
            format!(
                "arn:{}:lambda:{}:{}:function:{name}",
                partition(ctx.region()),
                ctx.region(),
                ctx.account()
            )
        },
        str::to_owned,
    );
    let (policy, tags) = futures::join!(
        ctx.call_optional(
            "GetPolicy",
            &["ResourceNotFoundException"],
            client.get_policy().function_name(name).send()
        ),
        ctx.call("ListTags", client.list_tags().resource(&arn).send()),
    );
    let policy = policy.map(|out| out.and_then(|o| o.policy.map(|p| policy_document(&p))));
    let tags = tags.map(|out| {
        out.tags
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>()
    });
    function_asset(
        ctx.account(),
        ctx.region(),
        function,
        policy.as_ref().map(Option::as_ref),
        tags.as_ref(),
        zones.as_ref(),
    )
}

/// The `AWS::Lambda::Function` asset. `policy` is `Ok(None)` when the
/// function has no resource policy; `zones` maps subnet ids to their
/// Availability Zone (`vpcConfig.availabilityZones`, `null` for a subnet
/// it does not know).
pub fn function_asset(
    account: &str,
    region: &str,
    function: &FunctionConfiguration,
    policy: Result<Option<&Value>, &CallFailure>,
    tags: Result<&BTreeMap<String, String>, &CallFailure>,
    zones: Result<&BTreeMap<String, String>, &CallFailure>,
) -> Asset {
    let arn = function.function_arn().unwrap_or_default();
    let name = function.function_name().unwrap_or_else(|| arn_name(arn));
    let vpc = function.vpc_config().filter(|v| !v.subnet_ids().is_empty());
    let vpc_config = vpc.map_or(Value::Null, |v| {
        let subnets: Vec<Value> = v
            .subnet_ids()
            .iter()
            .map(|id| {
                let zone = zones.ok().and_then(|z| z.get(id)).cloned();
                json!({ "subnetId": id, "availabilityZone": zone })
            })
            .collect();
        json!({
            "vpcId": opt_str(v.vpc_id().filter(|id| !id.is_empty())),
            "subnetIds": v.subnet_ids(),
            "securityGroupIds": v.security_group_ids(),
            "subnets": subnets,
        })
    });
    // Names only: environment values may be secrets and never leave the account.
    let environment = function.environment().map_or(Value::Null, |env| {
        let mut names: Vec<&String> = env
            .variables()
            .map(|v| v.keys().collect())
            .unwrap_or_default();
        names.sort();
        json!({ "variableNames": names })
    });
    let properties = json!({
        "functionName": name,
        "functionArn": arn,
        "runtime": opt_str(function.runtime().map(|r| r.as_str())),
        "packageType": opt_str(function.package_type().map(|p| p.as_str())),
        "handler": opt_str(function.handler()),
        "role": opt_str(function.role()),
        "lastModified": opt_str(function.last_modified()),
        "state": opt_str(function.state().map(|s| s.as_str())),
        "architectures": function.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "kmsKeyArn": opt_str(function.kms_key_arn()),
        "vpcConfig": vpc_config,
        "environment": environment,
        "tracingConfig": function.tracing_config().map_or(Value::Null, |t| {
            json!({ "mode": opt_str(t.mode().map(|m| m.as_str())) })
        }),
        "deadLetterConfig": function.dead_letter_config().map_or(Value::Null, |d| {
            json!({ "targetArn": opt_str(d.target_arn()) })
        }),
        "layers": function.layers().iter().filter_map(|l| l.arn()).collect::<Vec<_>>(),
        "loggingConfig": function.logging_config().map_or(Value::Null, |l| {
            json!({
                "logFormat": opt_str(l.log_format().map(|f| f.as_str())),
                "logGroup": opt_str(l.log_group()),
            })
        }),
        "policy": policy.ok().flatten().cloned().unwrap_or(Value::Null),
    });
    let mut asset = Asset::new(
        arn,
        "AWS::Lambda::Function",
        account,
        region,
        name,
        properties,
    );
    if let Err(failure) = policy {
        asset.mark_unavailable("policy", failure.to_string());
    }
    match tags {
        Ok(tags) => asset = asset.with_tags(tags.clone()),
        Err(failure) => asset.mark_unavailable("tags", failure.to_string()),
    }
    if let (Some(_), Err(failure)) = (vpc, zones) {
        asset.mark_unavailable("vpcConfig.subnets", failure.to_string());
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::types::{
        DeadLetterConfig, EnvironmentResponse, Runtime, TracingConfigResponse, TracingMode,
        VpcConfigResponse,
    };
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: not authorized".into(),
        }
    }

    fn function(vpc: bool) -> FunctionConfiguration {
        let mut f = FunctionConfiguration::builder()
            .function_name("fn1")
            .function_arn("arn:aws:lambda:us-east-1:123456789012:function:fn1")
            .runtime(Runtime::Python37)
            .role("arn:aws:iam::123456789012:role/r")
            .environment(
                EnvironmentResponse::builder()
                    .variables("DB_PASSWORD", "hunter2")
                    .variables("A_FLAG", "1")
                    .build(),
            )
            .tracing_config(
                TracingConfigResponse::builder()
                    .mode(TracingMode::Active)
                    .build(),
            )
            .dead_letter_config(
                DeadLetterConfig::builder()
                    .target_arn("arn:aws:sqs:us-east-1:123456789012:dlq")
                    .build(),
            );
        if vpc {
            f = f.vpc_config(
                VpcConfigResponse::builder()
                    .vpc_id("vpc-1")
                    .subnet_ids("subnet-a")
                    .subnet_ids("subnet-b")
                    .security_group_ids("sg-1")
                    .build(),
            );
        } else {
            f = f.vpc_config(VpcConfigResponse::builder().vpc_id("").build());
        }
        f.build()
    }

    #[test]
    fn maps_a_public_function_outside_a_vpc_without_env_values() {
        let policy = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}]});
        let tags = BTreeMap::from([("team".to_owned(), "x".to_owned())]);
        let zones = BTreeMap::new();
        let asset = function_asset(
            "123456789012",
            "us-east-1",
            &function(false),
            Ok(Some(&policy)),
            Ok(&tags),
            Ok(&zones),
        );
        assert_eq!(asset.resource_type, "AWS::Lambda::Function");
        assert_eq!(asset.name, "fn1");
        let p = &asset.properties;
        assert_eq!(p["runtime"], "python3.7");
        assert_eq!(p["vpcConfig"], Value::Null);
        assert_eq!(p["policy"]["Statement"][0]["Principal"], "*");
        assert_eq!(
            p["environment"]["variableNames"],
            json!(["A_FLAG", "DB_PASSWORD"])
        );
        assert!(!p.to_string().contains("hunter2"), "secret value leaked");
        assert_eq!(p["tracingConfig"]["mode"], "Active");
        assert_eq!(
            p["deadLetterConfig"]["targetArn"],
            "arn:aws:sqs:us-east-1:123456789012:dlq"
        );
        assert_eq!(asset.tags["team"], "x");
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn joins_subnet_zones_and_reports_no_policy_as_null() {
        let zones = BTreeMap::from([("subnet-a".to_owned(), "us-east-1a".to_owned())]);
        let tags = BTreeMap::new();
        let asset = function_asset(
            "123456789012",
            "us-east-1",
            &function(true),
            Ok(None),
            Ok(&tags),
            Ok(&zones),
        );
        let p = &asset.properties;
        assert_eq!(p["policy"], Value::Null);
        assert_eq!(p["vpcConfig"]["vpcId"], "vpc-1");
        assert_eq!(
            p["vpcConfig"]["subnets"][0]["availabilityZone"],
            "us-east-1a"
        );
        assert_eq!(p["vpcConfig"]["subnets"][1]["subnetId"], "subnet-b");
        assert_eq!(
            p["vpcConfig"]["subnets"][1]["availabilityZone"],
            Value::Null
        );
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn failed_calls_mark_properties_unavailable() {
        let failure = denied();
        let asset = function_asset(
            "123456789012",
            "us-east-1",
            &function(true),
            Err(&failure),
            Err(&failure),
            Err(&failure),
        );
        assert!(asset.unavailable["policy"].contains("AccessDenied"));
        assert!(asset.unavailable.contains_key("tags"));
        assert!(asset.unavailable.contains_key("vpcConfig.subnets"));
        // Outside a VPC the subnet lookup does not matter.
        let tags = BTreeMap::new();
        let outside = function_asset(
            "123456789012",
            "us-east-1",
            &function(false),
            Ok(None),
            Ok(&tags),
            Err(&failure),
        );
        assert!(outside.unavailable.is_empty());
    }
}
