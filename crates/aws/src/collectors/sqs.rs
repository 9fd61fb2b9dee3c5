//! SQS: queues (`AWS::SQS::Queue`) with their encryption settings, access
//! policy, redrive (dead-letter) policy and tags.
//!
//! Per region: `ListQueues` (1,000 a page) once; per queue
//! `GetQueueAttributes` (`All`) and `ListQueueTags`. When the attributes
//! cannot be read, every attribute-derived property is unavailable.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::QueueAttributeName;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{
    Collector, CollectorMeta, Scope, arn_name, attribute_number, opt_str, partition,
    policy_document, with_tags_or_unavailable,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects SQS queues.
#[derive(Debug)]
pub struct Sqs;

static META: CollectorMeta = CollectorMeta {
    service: "sqs",
    scope: Scope::Regional,
    operations: &[
        op!("sqs", "ListQueues"),
        op!("sqs", "GetQueueAttributes"),
        op!("sqs", "ListQueueTags"),
    ],
    resource_types: &["AWS::SQS::Queue"],
};

/// Error codes of a queue deleted since `ListQueues` listed it (the list
/// shows deleted queues for up to a minute).
const GONE: &[&str] = &[
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
];

/// Properties that come from `GetQueueAttributes`: all unavailable when it
/// fails.
const ATTRIBUTE_PROPERTIES: &[&str] = &[
    "kmsMasterKeyId",
    "kmsDataKeyReusePeriodSeconds",
    "sqsManagedSseEnabled",
    "policy",
    "redrivePolicy",
    "fifoQueue",
    "visibilityTimeout",
    "messageRetentionPeriod",
    "delaySeconds",
    "receiveMessageWaitTimeSeconds",
    "maximumMessageSize",
];

impl Collector for Sqs {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().sqs(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListQueues",
                    client
                        .list_queues()
                        .max_results(1000)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let urls: Vec<String> = pages
                .into_iter()
                .flat_map(|p| p.queue_urls.unwrap_or_default())
                .collect();
            let client = &client;
            futures::stream::iter(urls)
                .map(|url| async move {
                    let (attributes, tags) = futures::join!(
                        ctx.call_optional(
                            "GetQueueAttributes",
                            GONE,
                            client
                                .get_queue_attributes()
                                .queue_url(&url)
                                .attribute_names(QueueAttributeName::All)
                                .send()
                        ),
                        ctx.call_optional(
                            "ListQueueTags",
                            GONE,
                            client.list_queue_tags().queue_url(&url).send()
                        ),
                    );
                    let attributes = attributes.map(|o| {
                        o.map(|o| {
                            o.attributes
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(k, v)| (k.as_str().to_owned(), v))
                                .collect::<BTreeMap<_, _>>()
                        })
                    });
                    let tags = tags.map(|o| {
                        o.and_then(|o| o.tags)
                            .unwrap_or_default()
                            .into_iter()
                            .collect::<BTreeMap<_, _>>()
                    });
                    ctx.emit(queue_asset(
                        ctx.account(),
                        ctx.region(),
                        &url,
                        attributes.as_ref().map(Option::as_ref),
                        tags.as_ref(),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// A `"true"`/`"false"` attribute as a JSON boolean (`null` when absent).
fn boolean(attributes: &BTreeMap<String, String>, key: &str) -> Value {
    attributes
        .get(key)
        .map_or(Value::Null, |v| Value::Bool(v.eq_ignore_ascii_case("true")))
}

/// The `AWS::SQS::Queue` asset from the queue URL, its attributes (names as
/// the API spells them: `KmsMasterKeyId`, `Policy`, …) and tags.
/// `kmsMasterKeyId` is `null` and `sqsManagedSseEnabled` `false`/`null`
/// when the queue is not encrypted; `policy` is `null` when it has none.
/// `attributes` is `Ok(None)` when the queue no longer exists: the asset
/// then says `"deleted": true`.
pub fn queue_asset(
    account: &str,
    region: &str,
    url: &str,
    attributes: Result<Option<&BTreeMap<String, String>>, &CallFailure>,
    tags: Result<&BTreeMap<String, String>, &CallFailure>,
) -> Asset {
    let name = arn_name(url.trim_end_matches('/'));
    let arn = attributes
        .ok()
        .flatten()
        .and_then(|a| a.get("QueueArn"))
        .cloned()
        .unwrap_or_else(|| format!("arn:{}:sqs:{region}:{account}:{name}", partition(region)));
    let mut properties = json!({
        "queueUrl": url,
        "queueName": name,
        "queueArn": arn,
        "deleted": matches!(attributes, Ok(None)),
    });
    if let Ok(Some(a)) = attributes {
        let extra = json!({
            "kmsMasterKeyId": opt_str(a.get("KmsMasterKeyId").map(String::as_str).filter(|k| !k.is_empty())),
            "kmsDataKeyReusePeriodSeconds": attribute_number(a, "KmsDataKeyReusePeriodSeconds"),
            "sqsManagedSseEnabled": boolean(a, "SqsManagedSseEnabled"),
            "policy": a.get("Policy").filter(|p| !p.is_empty()).map_or(Value::Null, |p| policy_document(p)),
            "redrivePolicy": a.get("RedrivePolicy").filter(|p| !p.is_empty()).map_or(Value::Null, |p| policy_document(p)),
            "fifoQueue": boolean(a, "FifoQueue"),
            "visibilityTimeout": attribute_number(a, "VisibilityTimeout"),
            "messageRetentionPeriod": attribute_number(a, "MessageRetentionPeriod"),
            "delaySeconds": attribute_number(a, "DelaySeconds"),
            "receiveMessageWaitTimeSeconds": attribute_number(a, "ReceiveMessageWaitTimeSeconds"),
            "maximumMessageSize": attribute_number(a, "MaximumMessageSize"),
        });
        if let (Some(map), Value::Object(extra)) = (properties.as_object_mut(), extra) {
            map.extend(extra);
        }
    }
    let mut asset = Asset::new(arn, "AWS::SQS::Queue", account, region, name, properties);
    if let Err(failure) = attributes {
        for key in ATTRIBUTE_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    with_tags_or_unavailable(asset, tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_model::GapKind;

    const URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/orders";

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn maps_a_public_unencrypted_queue() {
        let a = attrs(&[
            ("QueueArn", "arn:aws:sqs:us-east-1:123456789012:orders"),
            ("SqsManagedSseEnabled", "false"),
            (
                "Policy",
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage"}]}"#,
            ),
            ("VisibilityTimeout", "30"),
        ]);
        let tags = BTreeMap::from([("team".to_owned(), "a".to_owned())]);
        let asset = queue_asset("123456789012", "us-east-1", URL, Ok(Some(&a)), Ok(&tags));
        assert_eq!(asset.arn, "arn:aws:sqs:us-east-1:123456789012:orders");
        assert_eq!(asset.name, "orders");
        let p = &asset.properties;
        assert_eq!(p["kmsMasterKeyId"], Value::Null);
        assert_eq!(p["sqsManagedSseEnabled"], false);
        assert_eq!(p["policy"]["Statement"][0]["Principal"], "*");
        assert_eq!(p["visibilityTimeout"], 30);
        assert_eq!(p["redrivePolicy"], Value::Null);
        assert_eq!(asset.tags["team"], "a");
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn maps_a_kms_encrypted_queue() {
        let a = attrs(&[
            ("KmsMasterKeyId", "alias/orders"),
            ("KmsDataKeyReusePeriodSeconds", "300"),
            (
                "RedrivePolicy",
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":5}"#,
            ),
        ]);
        let tags = BTreeMap::new();
        let asset = queue_asset("123456789012", "us-east-1", URL, Ok(Some(&a)), Ok(&tags));
        let p = &asset.properties;
        assert_eq!(asset.arn, "arn:aws:sqs:us-east-1:123456789012:orders");
        assert_eq!(p["kmsMasterKeyId"], "alias/orders");
        assert_eq!(p["kmsDataKeyReusePeriodSeconds"], 300);
        assert_eq!(p["sqsManagedSseEnabled"], Value::Null);
        assert_eq!(p["policy"], Value::Null);
        assert_eq!(p["redrivePolicy"]["maxReceiveCount"], 5);
    }

    #[test]
    fn unreadable_attributes_are_unavailable() {
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDenied".into()),
            message: "AccessDenied: no".into(),
        };
        let asset = queue_asset(
            "123456789012",
            "us-east-1",
            URL,
            Err(&failure),
            Err(&failure),
        );
        assert!(asset.unavailable["policy"].contains("AccessDenied"));
        assert!(asset.unavailable.contains_key("kmsMasterKeyId"));
        assert!(asset.unavailable.contains_key("sqsManagedSseEnabled"));
        assert!(asset.unavailable.contains_key("tags"));
        assert_eq!(asset.properties["kmsMasterKeyId"], Value::Null);
        assert_eq!(asset.properties["deleted"], false);
    }

    #[test]
    fn a_queue_deleted_since_listing_says_so() {
        let tags = BTreeMap::new();
        let asset = queue_asset("123456789012", "us-east-1", URL, Ok(None), Ok(&tags));
        assert_eq!(asset.properties["deleted"], true);
        assert_eq!(asset.properties["policy"], Value::Null);
        assert!(asset.unavailable.is_empty());
    }
}
