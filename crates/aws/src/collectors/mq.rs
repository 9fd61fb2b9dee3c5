//! Amazon MQ: brokers (`AWS::AmazonMQ::Broker`) with their engine, log
//! settings and minor-version upgrade setting.
//!
//! Per region: `ListBrokers` (paginated) once; per broker
//! `DescribeBroker`. A broker deleted between the two calls
//! (`NotFoundException`) is emitted with `"deleted": true`; a failed
//! describe marks its properties unavailable.

use aws_sdk_mq::operation::describe_broker::DescribeBrokerOutput;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Amazon MQ brokers.
#[derive(Debug)]
pub struct Mq;

static META: CollectorMeta = CollectorMeta {
    service: "mq",
    scope: Scope::Regional,
    operations: &[op!("mq", "ListBrokers"), op!("mq", "DescribeBroker")],
    resource_types: &["AWS::AmazonMQ::Broker"],
};

/// Error code of a broker deleted since it was listed.
const GONE: &[&str] = &["NotFoundException"];

/// Properties read by `DescribeBroker`.
const DESCRIBE_PROPERTIES: &[&str] = &[
    "brokerState",
    "engineType",
    "engineVersion",
    "autoMinorVersionUpgrade",
    "auditLogs",
    "generalLogs",
    "publiclyAccessible",
];

impl Collector for Mq {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().mq(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListBrokers",
                    client
                        .list_brokers()
                        .max_results(100)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let brokers: Vec<(String, Option<String>, Option<String>)> = pages
                .into_iter()
                .flat_map(|p| p.broker_summaries.unwrap_or_default())
                .filter_map(|b| b.broker_id.map(|id| (id, b.broker_arn, b.broker_name)))
                .collect();
            let client = &client;
            futures::stream::iter(brokers)
                .map(|(id, arn, name)| async move {
                    let described = ctx
                        .call_optional(
                            "DescribeBroker",
                            GONE,
                            client.describe_broker().broker_id(&id).send(),
                        )
                        .await;
                    ctx.emit(broker_asset(
                        ctx.account(),
                        ctx.region(),
                        &id,
                        arn.as_deref(),
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

/// The `AWS::AmazonMQ::Broker` asset from its listed id, ARN and name and
/// its `DescribeBroker` answer (`Ok(None)`: deleted since listed).
/// `engineType` is `ACTIVEMQ` or `RABBITMQ`; `auditLogs`/`generalLogs` say
/// whether those logs are published to CloudWatch Logs (`null` when the API
/// omits them).
pub fn broker_asset(
    account: &str,
    region: &str,
    id: &str,
    listed_arn: Option<&str>,
    listed_name: Option<&str>,
    described: Result<Option<&DescribeBrokerOutput>, &CallFailure>,
) -> Asset {
    let d = described.ok().flatten();
    let name = d
        .and_then(|d| d.broker_name.as_deref())
        .or(listed_name)
        .unwrap_or(id)
        .to_owned();
    let arn = d
        .and_then(|d| d.broker_arn.as_deref())
        .or(listed_arn)
        .map_or_else(
            || {
                format!(
                    "arn:{}:mq:{region}:{account}:broker:{name}:{id}",
                    partition(region)
                )
            },
            str::to_owned,
        );
    let mut properties = json!({
        "brokerId": id,
        "brokerName": name,
        "brokerArn": arn,
        "deleted": matches!(described, Ok(None)),
    });
    if let (Some(d), Some(map)) = (d, properties.as_object_mut()) {
        let logs = d.logs.as_ref();
        let flag = |v: Option<bool>| v.map_or(Value::Null, Value::Bool);
        map.insert(
            "brokerState".into(),
            opt_str(d.broker_state.as_ref().map(|s| s.as_str())),
        );
        map.insert(
            "engineType".into(),
            opt_str(d.engine_type.as_ref().map(|s| s.as_str())),
        );
        map.insert("engineVersion".into(), opt_str(d.engine_version.as_deref()));
        map.insert(
            "autoMinorVersionUpgrade".into(),
            flag(d.auto_minor_version_upgrade),
        );
        map.insert("auditLogs".into(), flag(logs.and_then(|l| l.audit)));
        map.insert("generalLogs".into(), flag(logs.and_then(|l| l.general)));
        map.insert("publiclyAccessible".into(), flag(d.publicly_accessible));
    }
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::AmazonMQ::Broker",
        account,
        region,
        name,
        properties,
    );
    if let Some(tags) = d.and_then(|d| d.tags.as_ref()) {
        asset = asset.with_tags(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
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
    use aws_sdk_mq::types::{BrokerState, EngineType, LogsSummary};

    #[test]
    fn maps_a_broker() {
        let d = DescribeBrokerOutput::builder()
            .broker_id("b-1")
            .broker_name("orders")
            .broker_arn("arn:aws:mq:us-east-1:123456789012:broker:orders:b-1")
            .broker_state(BrokerState::Running)
            .engine_type(EngineType::Activemq)
            .engine_version("5.18")
            .auto_minor_version_upgrade(true)
            .logs(LogsSummary::builder().audit(false).general(true).build())
            .build();
        let asset = broker_asset("123456789012", "us-east-1", "b-1", None, None, Ok(Some(&d)));
        assert_eq!(asset.name, "orders");
        assert_eq!(
            asset.arn,
            "arn:aws:mq:us-east-1:123456789012:broker:orders:b-1"
        );
        let p = &asset.properties;
        assert_eq!(p["engineType"], "ACTIVEMQ");
        assert_eq!(p["auditLogs"], false);
        assert_eq!(p["generalLogs"], true);
        assert_eq!(p["autoMinorVersionUpgrade"], true);
        assert_eq!(p["brokerState"], "RUNNING");
        let gone = broker_asset(
            "123456789012",
            "us-east-1",
            "b-2",
            None,
            Some("x"),
            Ok(None),
        );
        assert_eq!(gone.properties["deleted"], true);
        assert_eq!(gone.arn, "arn:aws:mq:us-east-1:123456789012:broker:x:b-2");
    }
}
