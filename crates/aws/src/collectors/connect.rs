//! Amazon Connect: instances (`AWS::Connect::Instance`) with whether their
//! flow logs go to CloudWatch Logs.
//!
//! Per region `ListInstances` (paginated), then per active instance
//! `DescribeInstanceAttribute` for `CONTACTFLOW_LOGS`. Instances that are
//! not active cannot be described: their `contactFlowLogs` is `null`.

use aws_sdk_connect::operation::describe_instance_attribute::DescribeInstanceAttributeOutput;
use aws_sdk_connect::types::{InstanceAttributeType, InstanceStatus, InstanceSummary};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Amazon Connect instances.
#[derive(Debug)]
pub struct Connect;

/// An Amazon Connect instance.
pub const INSTANCE: &str = "AWS::Connect::Instance";

static META: CollectorMeta = CollectorMeta {
    service: "connect",
    scope: Scope::Regional,
    operations: &[
        op!("connect", "ListInstances"),
        op!("connect", "DescribeInstanceAttribute"),
    ],
    resource_types: &[INSTANCE],
};

impl Collector for Connect {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().connect(ctx.region());
            let client = &client;
            let Ok(pages) = ctx
                .pages(
                    "ListInstances",
                    client.list_instances().into_paginator().send(),
                )
                .await
            else {
                return;
            };
            let instances: Vec<InstanceSummary> = pages
                .into_iter()
                .flat_map(|p| p.instance_summary_list.unwrap_or_default())
                .collect();
            let assets: Vec<Asset> = futures::stream::iter(instances)
                .map(|instance| async move {
                    let active = instance.instance_status() == Some(&InstanceStatus::Active);
                    let attribute = match (active, instance.id()) {
                        (true, Some(id)) => Some(
                            ctx.call(
                                "DescribeInstanceAttribute",
                                client
                                    .describe_instance_attribute()
                                    .instance_id(id)
                                    .attribute_type(InstanceAttributeType::ContactflowLogs)
                                    .send(),
                            )
                            .await,
                        ),
                        _ => None,
                    };
                    instance_asset(
                        ctx.account(),
                        ctx.region(),
                        &instance,
                        attribute.as_ref().map(Result::as_ref),
                    )
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            for asset in assets {
                ctx.emit(asset);
            }
        })
    }
}

/// The `AWS::Connect::Instance` asset: alias, status and
/// `contactFlowLogs` (the `CONTACTFLOW_LOGS` attribute as a boolean;
/// `null` when the instance was not described).
pub fn instance_asset(
    account: &str,
    region: &str,
    instance: &InstanceSummary,
    attribute: Option<Result<&DescribeInstanceAttributeOutput, &CallFailure>>,
) -> Asset {
    let id = instance.id().unwrap_or_default();
    let mut asset = Asset::new(
        instance.arn().unwrap_or(id),
        INSTANCE,
        account,
        region,
        instance.instance_alias().unwrap_or(id),
        json!({
            "id": id,
            "instanceAlias": opt_str(instance.instance_alias()),
            "instanceStatus": opt_str(instance.instance_status().map(|s| s.as_str())),
        }),
    );
    match attribute {
        None => asset.set_property("contactFlowLogs", Value::Null),
        Some(Ok(out)) => asset.set_property(
            "contactFlowLogs",
            out.attribute()
                .and_then(|a| a.value())
                .map_or(Value::Null, |v| Value::Bool(v.eq_ignore_ascii_case("true"))),
        ),
        Some(Err(failure)) => {
            asset.set_property("contactFlowLogs", Value::Null);
            asset.mark_unavailable("contactFlowLogs", failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_connect::types::Attribute;
    use rampart_model::GapKind;

    #[test]
    fn maps_an_instance() {
        let instance = InstanceSummary::builder()
            .id("i-1")
            .arn("arn:aws:connect:us-east-1:123456789012:instance/i-1")
            .instance_alias("support")
            .instance_status(InstanceStatus::Active)
            .build();
        let on = DescribeInstanceAttributeOutput::builder()
            .attribute(
                Attribute::builder()
                    .attribute_type(InstanceAttributeType::ContactflowLogs)
                    .value("true")
                    .build(),
            )
            .build();
        let asset = instance_asset("123456789012", "us-east-1", &instance, Some(Ok(&on)));
        assert_eq!(asset.name, "support");
        assert_eq!(asset.properties["contactFlowLogs"], true);
        assert_eq!(asset.properties["instanceStatus"], "ACTIVE");
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        };
        let asset = instance_asset("123456789012", "us-east-1", &instance, Some(Err(&failure)));
        assert!(asset.unavailable.contains_key("contactFlowLogs"));
        let asset = instance_asset("123456789012", "us-east-1", &instance, None);
        assert_eq!(asset.properties["contactFlowLogs"], Value::Null);
        assert!(asset.unavailable.is_empty());
    }
}
