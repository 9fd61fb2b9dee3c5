//! SNS: topics (`AWS::SNS::Topic`) with their KMS key, access policy,
//! subscription counts, delivery-status logging settings and tags.
//!
//! Per region: `ListTopics` (100 a page, the API's fixed size) once; per
//! topic `GetTopicAttributes` and `ListTagsForResource`. When the attributes
//! cannot be read, every attribute-derived property is unavailable.

use std::collections::BTreeMap;

use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Map, Value, json};

use super::{
    Collector, CollectorMeta, Scope, arn_name, attribute_number, attribute_text, opt_str,
    policy_document, tag_map, with_tags_or_unavailable,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects SNS topics.
#[derive(Debug)]
pub struct Sns;

static META: CollectorMeta = CollectorMeta {
    service: "sns",
    scope: Scope::Regional,
    operations: &[
        op!("sns", "ListTopics"),
        op!("sns", "GetTopicAttributes"),
        op!("sns", "ListTagsForResource"),
    ],
    resource_types: &["AWS::SNS::Topic"],
};

/// Error codes of a topic deleted since `ListTopics` listed it.
const GONE: &[&str] = &["NotFound"];

/// Properties that come from `GetTopicAttributes`: all unavailable when it
/// fails.
const ATTRIBUTE_PROPERTIES: &[&str] = &[
    "owner",
    "displayName",
    "kmsMasterKeyId",
    "policy",
    "fifoTopic",
    "subscriptionsConfirmed",
    "subscriptionsPending",
    "signatureVersion",
    "tracingConfig",
    "deliveryStatusLogging",
];

/// Delivery-status logging protocols: the attribute prefix and the key used
/// in `deliveryStatusLogging`.
const PROTOCOLS: &[(&str, &str)] = &[
    ("Application", "application"),
    ("HTTP", "http"),
    ("Firehose", "firehose"),
    ("Lambda", "lambda"),
    ("SQS", "sqs"),
];

impl Collector for Sns {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().sns(ctx.region());
            let Ok(pages) = ctx
                .pages("ListTopics", client.list_topics().into_paginator().send())
                .await
            else {
                return;
            };
            let arns: Vec<String> = pages
                .iter()
                .flat_map(|p| p.topics())
                .filter_map(|t| t.topic_arn().map(str::to_owned))
                .collect();
            let client = &client;
            futures::stream::iter(arns)
                .map(|arn| async move {
                    let (attributes, tags) = futures::join!(
                        ctx.call_optional(
                            "GetTopicAttributes",
                            GONE,
                            client.get_topic_attributes().topic_arn(&arn).send()
                        ),
                        ctx.call_optional(
                            "ListTagsForResource",
                            GONE,
                            client.list_tags_for_resource().resource_arn(&arn).send()
                        ),
                    );
                    let attributes = attributes.map(|o| {
                        o.map(|o| {
                            o.attributes
                                .unwrap_or_default()
                                .into_iter()
                                .collect::<BTreeMap<_, _>>()
                        })
                    });
                    let tags = tags.map(|o| {
                        o.map(|o| {
                            tag_map(o.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
                        })
                        .unwrap_or_default()
                    });
                    ctx.emit(topic_asset(
                        ctx.account(),
                        ctx.region(),
                        &arn,
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

/// Delivery-status logging per protocol that has any of it configured:
/// `{"sqs": {"successFeedbackRoleArn", "failureFeedbackRoleArn",
/// "successFeedbackSampleRate"}}`; an empty object when none is.
fn delivery_status_logging(attributes: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for (prefix, key) in PROTOCOLS {
        let success = attribute_text(attributes, &format!("{prefix}SuccessFeedbackRoleArn"));
        let failure = attribute_text(attributes, &format!("{prefix}FailureFeedbackRoleArn"));
        let rate = attribute_number(attributes, &format!("{prefix}SuccessFeedbackSampleRate"));
        if success.is_some() || failure.is_some() {
            out.insert(
                (*key).to_owned(),
                json!({
                    "successFeedbackRoleArn": opt_str(success),
                    "failureFeedbackRoleArn": opt_str(failure),
                    "successFeedbackSampleRate": rate,
                }),
            );
        }
    }
    Value::Object(out)
}

/// The `AWS::SNS::Topic` asset from its ARN, attributes (names as the API
/// spells them: `KmsMasterKeyId`, `Policy`, …) and tags. `kmsMasterKeyId` is
/// `null` when the topic is not encrypted. `attributes` is `Ok(None)` when
/// the topic no longer exists: the asset then says `"deleted": true`.
pub fn topic_asset(
    account: &str,
    region: &str,
    arn: &str,
    attributes: Result<Option<&BTreeMap<String, String>>, &CallFailure>,
    tags: Result<&BTreeMap<String, String>, &CallFailure>,
) -> Asset {
    let name = arn_name(arn);
    let mut properties = json!({
        "topicArn": arn,
        "topicName": name,
        "deleted": matches!(attributes, Ok(None)),
    });
    if let Ok(Some(a)) = attributes {
        let extra = json!({
            "owner": opt_str(attribute_text(a, "Owner")),
            "displayName": opt_str(attribute_text(a, "DisplayName")),
            "kmsMasterKeyId": opt_str(attribute_text(a, "KmsMasterKeyId")),
            "policy": attribute_text(a, "Policy").map_or(Value::Null, policy_document),
            "fifoTopic": attribute_text(a, "FifoTopic").map_or(Value::Bool(false), |v| Value::Bool(v.eq_ignore_ascii_case("true"))),
            "subscriptionsConfirmed": attribute_number(a, "SubscriptionsConfirmed"),
            "subscriptionsPending": attribute_number(a, "SubscriptionsPending"),
            "signatureVersion": opt_str(attribute_text(a, "SignatureVersion")),
            "tracingConfig": opt_str(attribute_text(a, "TracingConfig")),
            "deliveryStatusLogging": delivery_status_logging(a),
        });
        if let (Some(map), Value::Object(extra)) = (properties.as_object_mut(), extra) {
            map.extend(extra);
        }
    }
    let mut asset = Asset::new(arn, "AWS::SNS::Topic", account, region, name, properties);
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

    const ARN: &str = "arn:aws:sns:us-east-1:123456789012:alerts";

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn maps_an_unencrypted_public_topic_without_logging() {
        let a = attrs(&[
            ("Owner", "123456789012"),
            (
                "Policy",
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"SNS:Publish"}]}"#,
            ),
            ("SubscriptionsConfirmed", "2"),
            ("DisplayName", ""),
        ]);
        let tags = BTreeMap::new();
        let asset = topic_asset("123456789012", "us-east-1", ARN, Ok(Some(&a)), Ok(&tags));
        assert_eq!(asset.name, "alerts");
        assert_eq!(asset.resource_type, "AWS::SNS::Topic");
        let p = &asset.properties;
        assert_eq!(p["kmsMasterKeyId"], Value::Null);
        assert_eq!(p["displayName"], Value::Null);
        assert_eq!(p["policy"]["Statement"][0]["Principal"]["AWS"], "*");
        assert_eq!(p["subscriptionsConfirmed"], 2);
        assert_eq!(p["fifoTopic"], false);
        assert_eq!(p["deliveryStatusLogging"], json!({}));
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn maps_kms_and_delivery_status_logging() {
        let a = attrs(&[
            ("KmsMasterKeyId", "alias/aws/sns"),
            (
                "SQSSuccessFeedbackRoleArn",
                "arn:aws:iam::123456789012:role/feedback",
            ),
            (
                "SQSFailureFeedbackRoleArn",
                "arn:aws:iam::123456789012:role/feedback",
            ),
            ("SQSSuccessFeedbackSampleRate", "100"),
            ("HTTPFailureFeedbackRoleArn", ""),
        ]);
        let tags = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let asset = topic_asset("123456789012", "us-east-1", ARN, Ok(Some(&a)), Ok(&tags));
        let p = &asset.properties;
        assert_eq!(p["kmsMasterKeyId"], "alias/aws/sns");
        assert_eq!(
            p["deliveryStatusLogging"]["sqs"]["failureFeedbackRoleArn"],
            "arn:aws:iam::123456789012:role/feedback"
        );
        assert_eq!(
            p["deliveryStatusLogging"]["sqs"]["successFeedbackSampleRate"],
            100
        );
        assert!(p["deliveryStatusLogging"].get("http").is_none());
        assert_eq!(asset.tags["env"], "prod");
    }

    #[test]
    fn unreadable_attributes_are_unavailable() {
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AuthorizationError".into()),
            message: "AuthorizationError: no".into(),
        };
        let asset = topic_asset(
            "123456789012",
            "us-east-1",
            ARN,
            Err(&failure),
            Err(&failure),
        );
        assert!(asset.unavailable["kmsMasterKeyId"].contains("AuthorizationError"));
        assert!(asset.unavailable.contains_key("policy"));
        assert!(asset.unavailable.contains_key("deliveryStatusLogging"));
        assert!(asset.unavailable.contains_key("tags"));
        assert_eq!(asset.properties["deleted"], false);
        let tags = BTreeMap::new();
        let gone = topic_asset("123456789012", "us-east-1", ARN, Ok(None), Ok(&tags));
        assert_eq!(gone.properties["deleted"], true);
        assert!(gone.unavailable.is_empty());
    }
}
