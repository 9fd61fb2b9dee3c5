//! Step Functions: state machines (`AWS::StepFunctions::StateMachine`)
//! with their logging configuration.
//!
//! Per region: `ListStateMachines` (paginated) once; per state machine
//! `DescribeStateMachine`. A state machine deleted between the two calls
//! (`StateMachineDoesNotExist`) is emitted with `"deleted": true`; a failed
//! describe marks its properties unavailable.

use aws_sdk_sfn::operation::describe_state_machine::DescribeStateMachineOutput;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Step Functions state machines.
#[derive(Debug)]
pub struct StepFunctions;

static META: CollectorMeta = CollectorMeta {
    service: "states",
    scope: Scope::Regional,
    operations: &[
        op!("states", "ListStateMachines"),
        op!("states", "DescribeStateMachine"),
    ],
    resource_types: &["AWS::StepFunctions::StateMachine"],
};

/// Error code of a state machine deleted since it was listed.
const GONE: &[&str] = &["StateMachineDoesNotExist"];

/// Properties read by `DescribeStateMachine`.
const DESCRIBE_PROPERTIES: &[&str] = &["status", "type", "loggingLevel", "logDestinations"];

impl Collector for StepFunctions {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().sfn(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListStateMachines",
                    client
                        .list_state_machines()
                        .max_results(1000)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let machines: Vec<(String, String)> = pages
                .into_iter()
                .flat_map(|p| p.state_machines)
                .map(|m| (m.state_machine_arn, m.name))
                .collect();
            let client = &client;
            futures::stream::iter(machines)
                .map(|(arn, name)| async move {
                    let described = ctx
                        .call_optional(
                            "DescribeStateMachine",
                            GONE,
                            client
                                .describe_state_machine()
                                .state_machine_arn(&arn)
                                .send(),
                        )
                        .await;
                    ctx.emit(state_machine_asset(
                        ctx.account(),
                        ctx.region(),
                        &arn,
                        &name,
                        described.as_ref().map(Option::as_ref),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The `AWS::StepFunctions::StateMachine` asset from its listed ARN and
/// name and its `DescribeStateMachine` answer (`Ok(None)`: deleted since
/// listed). `loggingLevel` is `ALL`, `ERROR`, `FATAL` or `OFF` (`OFF` when
/// the API gives no logging configuration, which is how Step Functions
/// reports logging off); `logDestinations` lists the CloudWatch Logs log
/// group ARNs.
pub fn state_machine_asset(
    account: &str,
    region: &str,
    arn: &str,
    name: &str,
    described: Result<Option<&DescribeStateMachineOutput>, &CallFailure>,
) -> Asset {
    let mut properties = json!({
        "stateMachineArn": arn,
        "name": name,
        "deleted": matches!(described, Ok(None)),
    });
    if let (Ok(Some(d)), Some(map)) = (described, properties.as_object_mut()) {
        let logging = d.logging_configuration.as_ref();
        map.insert(
            "status".into(),
            opt_str(d.status.as_ref().map(|s| s.as_str())),
        );
        map.insert("type".into(), json!(d.r#type.as_str()));
        map.insert(
            "loggingLevel".into(),
            json!(
                logging
                    .and_then(|l| l.level.as_ref())
                    .map_or("OFF", |l| l.as_str())
            ),
        );
        map.insert(
            "logDestinations".into(),
            Value::Array(
                logging
                    .and_then(|l| l.destinations.as_ref())
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.cloud_watch_logs_log_group.as_ref())
                    .filter_map(|g| g.log_group_arn.as_deref())
                    .map(|a| Value::String(a.to_owned()))
                    .collect(),
            ),
        );
    }
    let mut asset = Asset::new(
        arn,
        "AWS::StepFunctions::StateMachine",
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
    use aws_sdk_sfn::types::{
        CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration, StateMachineType,
    };
    use aws_smithy_types::DateTime;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";

    fn described(logging: Option<LoggingConfiguration>) -> DescribeStateMachineOutput {
        DescribeStateMachineOutput::builder()
            .state_machine_arn(ARN)
            .name("orders")
            .definition("{}")
            .role_arn("arn:aws:iam::123456789012:role/sfn")
            .r#type(StateMachineType::Standard)
            .creation_date(DateTime::from_secs(0))
            .set_logging_configuration(logging)
            .build()
            .unwrap()
    }

    #[test]
    fn maps_logging() {
        let logging = LoggingConfiguration::builder()
            .level(LogLevel::Error)
            .destinations(
                LogDestination::builder()
                    .cloud_watch_logs_log_group(
                        CloudWatchLogsLogGroup::builder()
                            .log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:sfn:*")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let d = described(Some(logging));
        let asset = state_machine_asset("123456789012", "us-east-1", ARN, "orders", Ok(Some(&d)));
        assert_eq!(asset.properties["loggingLevel"], "ERROR");
        assert_eq!(asset.properties["type"], "STANDARD");
        assert_eq!(
            asset.properties["logDestinations"][0],
            "arn:aws:logs:us-east-1:123456789012:log-group:sfn:*"
        );
        let off = described(None);
        let asset = state_machine_asset("123456789012", "us-east-1", ARN, "orders", Ok(Some(&off)));
        assert_eq!(asset.properties["loggingLevel"], "OFF");
        let gone = state_machine_asset("123456789012", "us-east-1", ARN, "orders", Ok(None));
        assert_eq!(gone.properties["deleted"], true);
    }
}
