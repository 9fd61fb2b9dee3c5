//! AWS DataSync: tasks (`AWS::DataSync::Task`) with their CloudWatch Logs
//! log group.
//!
//! Per region: `ListTasks` (paginated) once; per task `DescribeTask`.
//! DataSync answers a request for a task that no longer exists with its
//! generic `InvalidRequestException`; the request names a task `ListTasks`
//! just returned, so that answer is taken as "deleted since listed" and the
//! task is emitted with `"deleted": true`. Other failures mark the task's
//! properties unavailable.

use aws_sdk_datasync::operation::describe_task::DescribeTaskOutput;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::json;

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects DataSync tasks.
#[derive(Debug)]
pub struct DataSync;

static META: CollectorMeta = CollectorMeta {
    service: "datasync",
    scope: Scope::Regional,
    operations: &[
        op!("datasync", "ListTasks"),
        op!("datasync", "DescribeTask"),
    ],
    resource_types: &["AWS::DataSync::Task"],
};

/// Error code DataSync gives for a task that no longer exists.
const GONE: &[&str] = &["InvalidRequestException"];

/// Properties read by `DescribeTask`.
const DESCRIBE_PROPERTIES: &[&str] = &["status", "cloudWatchLogGroupArn", "taskMode"];

impl Collector for DataSync {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().datasync(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListTasks",
                    client.list_tasks().max_results(100).into_paginator().send(),
                )
                .await
            else {
                return;
            };
            let tasks: Vec<(String, Option<String>)> = pages
                .into_iter()
                .flat_map(|p| p.tasks.unwrap_or_default())
                .filter_map(|t| t.task_arn.map(|arn| (arn, t.name)))
                .collect();
            let client = &client;
            futures::stream::iter(tasks)
                .map(|(arn, name)| async move {
                    let described = ctx
                        .call_optional(
                            "DescribeTask",
                            GONE,
                            client.describe_task().task_arn(&arn).send(),
                        )
                        .await;
                    ctx.emit(task_asset(
                        ctx.account(),
                        ctx.region(),
                        &arn,
                        name.as_deref(),
                        described.as_ref().map(Option::as_ref),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The `AWS::DataSync::Task` asset from its listed ARN and name and its
/// `DescribeTask` answer (`Ok(None)`: deleted since listed). `cloudWatchLogGroupArn` is the log group the task
/// publishes to, `null` when it has none.
pub fn task_asset(
    account: &str,
    region: &str,
    arn: &str,
    listed_name: Option<&str>,
    described: Result<Option<&DescribeTaskOutput>, &CallFailure>,
) -> Asset {
    let name = described
        .ok()
        .flatten()
        .and_then(|d| d.name.as_deref())
        .or(listed_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| arn_name(arn))
        .to_owned();
    let mut properties = json!({
        "taskArn": arn,
        "name": name,
        "deleted": matches!(described, Ok(None)),
    });
    if let (Ok(Some(d)), Some(map)) = (described, properties.as_object_mut()) {
        map.insert(
            "status".into(),
            opt_str(d.status.as_ref().map(|s| s.as_str())),
        );
        map.insert(
            "cloudWatchLogGroupArn".into(),
            opt_str(
                d.cloud_watch_log_group_arn
                    .as_deref()
                    .filter(|a| !a.is_empty()),
            ),
        );
        map.insert(
            "taskMode".into(),
            opt_str(d.task_mode.as_ref().map(|s| s.as_str())),
        );
    }
    let mut asset = Asset::new(
        arn,
        "AWS::DataSync::Task",
        account,
        region,
        name,
        properties,
    );
    if let Err(failure) = described {
        for key in DESCRIBE_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_datasync::types::TaskStatus;
    use rampart_model::GapKind;

    const ARN: &str = "arn:aws:datasync:us-east-1:123456789012:task/task-0123";

    #[test]
    fn maps_a_task() {
        let d = DescribeTaskOutput::builder()
            .task_arn(ARN)
            .name("nightly")
            .status(TaskStatus::Available)
            .cloud_watch_log_group_arn(
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/datasync",
            )
            .build();
        let asset = task_asset("123456789012", "us-east-1", ARN, None, Ok(Some(&d)));
        assert_eq!(asset.name, "nightly");
        assert_eq!(
            asset.properties["cloudWatchLogGroupArn"],
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/datasync"
        );
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: no".into(),
        };
        let asset = task_asset("123456789012", "us-east-1", ARN, None, Err(&failure));
        assert_eq!(asset.name, "task-0123");
        assert!(asset.unavailable.contains_key("cloudWatchLogGroupArn"));
        let gone = task_asset("123456789012", "us-east-1", ARN, Some("old"), Ok(None));
        assert_eq!(gone.properties["deleted"], true);
        assert_eq!(gone.name, "old");
    }
}
