//! AWS CloudFormation: stacks (`AWS::CloudFormation::Stack`) with their
//! status and SNS notification topics.
//!
//! Per region `DescribeStacks` (paginated; deleted stacks are not listed).

use aws_sdk_cloudformation::types::Stack;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, str_list, tag_map};
use crate::op;
use crate::scan::CollectContext;

/// Collects CloudFormation stacks.
#[derive(Debug)]
pub struct CloudFormation;

/// A CloudFormation stack.
pub const STACK: &str = "AWS::CloudFormation::Stack";

static META: CollectorMeta = CollectorMeta {
    service: "cloudformation",
    scope: Scope::Regional,
    operations: &[op!("cloudformation", "DescribeStacks")],
    resource_types: &[STACK],
};

impl Collector for CloudFormation {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().cloudformation(ctx.region());
            let pages = ctx
                .pages(
                    "DescribeStacks",
                    client.describe_stacks().into_paginator().send(),
                )
                .await;
            for stack in pages.iter().flatten().flat_map(|p| p.stacks()) {
                ctx.emit(stack_asset(ctx.account(), ctx.region(), stack));
            }
        })
    }
}

/// The `AWS::CloudFormation::Stack` asset: name, status, SNS topics
/// (`notificationArns`), termination protection, parent (nested stacks).
pub fn stack_asset(account: &str, region: &str, stack: &Stack) -> Asset {
    let id = stack.stack_id().unwrap_or_default();
    let name = stack.stack_name().unwrap_or(id);
    Asset::new(
        id,
        STACK,
        account,
        region,
        name,
        json!({
            "stackId": id,
            "stackName": name,
            "stackStatus": opt_str(stack.stack_status().map(|s| s.as_str())),
            "notificationArns": str_list(stack.notification_arns()),
            "enableTerminationProtection": stack
                .enable_termination_protection()
                .map_or(Value::Null, Value::Bool),
            "parentId": opt_str(stack.parent_id()),
            "roleArn": opt_str(stack.role_arn()),
            "creationTime": opt_timestamp(stack.creation_time()),
        }),
    )
    .with_tags(tag_map(stack.tags().iter().map(|t| (t.key(), t.value()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::{StackStatus, Tag};

    #[test]
    fn maps_a_stack() {
        let stack = Stack::builder()
            .stack_id("arn:aws:cloudformation:us-east-1:123456789012:stack/web/1")
            .stack_name("web")
            .stack_status(StackStatus::CreateComplete)
            .notification_arns("arn:aws:sns:us-east-1:123456789012:ops")
            .tags(Tag::builder().key("env").value("prod").build())
            .build();
        let asset = stack_asset("123456789012", "us-east-1", &stack);
        assert_eq!(asset.resource_type, STACK);
        assert_eq!(asset.name, "web");
        assert_eq!(asset.tags["env"], "prod");
        assert_eq!(
            asset.properties["notificationArns"],
            json!(["arn:aws:sns:us-east-1:123456789012:ops"])
        );
        assert_eq!(asset.properties["stackStatus"], "CREATE_COMPLETE");
        let bare = stack_asset(
            "123456789012",
            "us-east-1",
            &Stack::builder().stack_id("arn:s").stack_name("s").build(),
        );
        assert_eq!(bare.properties["notificationArns"], json!([]));
    }
}
