//! Kinesis Data Streams: streams (`AWS::Kinesis::Stream`) with their
//! server-side encryption and retention period.
//!
//! Per region: `ListStreams` (paginated) once; per stream
//! `DescribeStreamSummary`. A stream deleted between the two calls
//! (`ResourceNotFoundException`) is emitted with `"deleted": true`; a
//! failed summary read marks its properties unavailable.

use aws_sdk_kinesis::types::StreamDescriptionSummary;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, partition, timestamp};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Kinesis data streams.
#[derive(Debug)]
pub struct Kinesis;

static META: CollectorMeta = CollectorMeta {
    service: "kinesis",
    scope: Scope::Regional,
    operations: &[
        op!("kinesis", "ListStreams"),
        op!("kinesis", "DescribeStreamSummary"),
    ],
    resource_types: &["AWS::Kinesis::Stream"],
};

/// Error code of a stream deleted since `ListStreams` listed it.
const GONE: &[&str] = &["ResourceNotFoundException"];

/// Properties read by `DescribeStreamSummary`.
const SUMMARY_PROPERTIES: &[&str] = &[
    "streamStatus",
    "encryptionType",
    "keyId",
    "retentionPeriodHours",
    "streamMode",
];

impl Collector for Kinesis {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().kinesis(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListStreams",
                    client.list_streams().limit(100).into_paginator().send(),
                )
                .await
            else {
                return;
            };
            let streams: Vec<(String, Option<String>)> = pages
                .into_iter()
                .flat_map(|p| {
                    let summaries = p.stream_summaries.unwrap_or_default();
                    if summaries.is_empty() {
                        p.stream_names.into_iter().map(|n| (n, None)).collect()
                    } else {
                        summaries
                            .into_iter()
                            .map(|s| (s.stream_name, Some(s.stream_arn)))
                            .collect::<Vec<_>>()
                    }
                })
                .collect();
            let client = &client;
            futures::stream::iter(streams)
                .map(|(name, arn)| async move {
                    let summary = ctx
                        .call_optional(
                            "DescribeStreamSummary",
                            GONE,
                            client.describe_stream_summary().stream_name(&name).send(),
                        )
                        .await
                        .map(|o| o.and_then(|o| o.stream_description_summary));
                    ctx.emit(stream_asset(
                        ctx.account(),
                        ctx.region(),
                        &name,
                        arn.as_deref(),
                        summary.as_ref().map(Option::as_ref),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The `AWS::Kinesis::Stream` asset from its listed name (and ARN when the
/// list gave it) and its `DescribeStreamSummary` answer: `Ok(None)` when
/// the stream no longer exists (`"deleted": true`). `encryptionType` is
/// `NONE` or `KMS`; `retentionPeriodHours` is the hours records are kept.
pub fn stream_asset(
    account: &str,
    region: &str,
    name: &str,
    listed_arn: Option<&str>,
    summary: Result<Option<&StreamDescriptionSummary>, &CallFailure>,
) -> Asset {
    let arn = summary
        .ok()
        .flatten()
        .map(|s| s.stream_arn.clone())
        .or_else(|| listed_arn.map(str::to_owned))
        .unwrap_or_else(|| {
            format!(
                "arn:{}:kinesis:{region}:{account}:stream/{name}",
                partition(region)
            )
        });
    let mut properties = json!({
        "streamName": name,
        "streamArn": arn,
        "deleted": matches!(summary, Ok(None)),
    });
    if let (Ok(Some(s)), Some(map)) = (summary, properties.as_object_mut()) {
        map.insert("streamStatus".into(), json!(s.stream_status.as_str()));
        map.insert(
            "encryptionType".into(),
            opt_str(s.encryption_type.as_ref().map(|e| e.as_str())),
        );
        map.insert("keyId".into(), opt_str(s.key_id.as_deref()));
        map.insert(
            "retentionPeriodHours".into(),
            Value::from(s.retention_period_hours),
        );
        map.insert(
            "streamMode".into(),
            opt_str(
                s.stream_mode_details
                    .as_ref()
                    .map(|m| m.stream_mode.as_str()),
            ),
        );
        map.insert("createdAt".into(), timestamp(&s.stream_creation_timestamp));
    }
    let display = arn_name(&arn).to_owned();
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::Kinesis::Stream",
        account,
        region,
        display,
        properties,
    );
    if let Err(failure) = summary {
        for key in SUMMARY_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kinesis::types::{EncryptionType, StreamStatus};
    use aws_smithy_types::DateTime;
    use rampart_model::GapKind;

    fn summary(encryption: Option<EncryptionType>, hours: i32) -> StreamDescriptionSummary {
        StreamDescriptionSummary::builder()
            .stream_name("clicks")
            .stream_arn("arn:aws:kinesis:us-east-1:123456789012:stream/clicks")
            .stream_status(StreamStatus::Active)
            .set_encryption_type(encryption)
            .key_id("alias/aws/kinesis")
            .retention_period_hours(hours)
            .stream_creation_timestamp(DateTime::from_secs(0))
            .set_enhanced_monitoring(Some(vec![]))
            .open_shard_count(1)
            .build()
            .unwrap()
    }

    #[test]
    fn maps_an_encrypted_stream() {
        let s = summary(Some(EncryptionType::Kms), 24);
        let asset = stream_asset("123456789012", "us-east-1", "clicks", None, Ok(Some(&s)));
        assert_eq!(
            asset.arn,
            "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
        );
        assert_eq!(asset.name, "clicks");
        let p = &asset.properties;
        assert_eq!(p["encryptionType"], "KMS");
        assert_eq!(p["keyId"], "alias/aws/kinesis");
        assert_eq!(p["retentionPeriodHours"], 24);
        assert_eq!(p["streamStatus"], "ACTIVE");
        assert_eq!(p["deleted"], false);
    }

    #[test]
    fn deleted_and_unreadable_streams() {
        let gone = stream_asset("123456789012", "us-east-1", "old", None, Ok(None));
        assert_eq!(gone.properties["deleted"], true);
        assert_eq!(
            gone.arn,
            "arn:aws:kinesis:us-east-1:123456789012:stream/old"
        );
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: no".into(),
        };
        let asset = stream_asset("123456789012", "us-east-1", "x", None, Err(&failure));
        assert!(asset.unavailable["encryptionType"].contains("AccessDenied"));
        assert!(asset.unavailable.contains_key("retentionPeriodHours"));
    }
}
