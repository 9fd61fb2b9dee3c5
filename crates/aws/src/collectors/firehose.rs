//! Amazon Data Firehose: delivery streams (`AWS::KinesisFirehose::DeliveryStream`)
//! with their server-side encryption.
//!
//! Per region: `ListDeliveryStreams` (paged by the last name seen) once;
//! per stream `DescribeDeliveryStream`. A stream deleted between the two
//! calls (`ResourceNotFoundException`) is emitted with `"deleted": true`; a
//! failed describe marks its properties unavailable.

use aws_sdk_firehose::types::DeliveryStreamDescription;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::json;

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Firehose delivery streams.
#[derive(Debug)]
pub struct Firehose;

static META: CollectorMeta = CollectorMeta {
    service: "firehose",
    scope: Scope::Regional,
    operations: &[
        op!("firehose", "ListDeliveryStreams"),
        op!("firehose", "DescribeDeliveryStream"),
    ],
    resource_types: &["AWS::KinesisFirehose::DeliveryStream"],
};

/// Error code of a stream deleted since it was listed.
const GONE: &[&str] = &["ResourceNotFoundException"];

/// Properties read by `DescribeDeliveryStream`.
const DESCRIBE_PROPERTIES: &[&str] = &[
    "deliveryStreamStatus",
    "deliveryStreamType",
    "encryptionStatus",
    "encryptionKeyType",
    "encryptionKeyArn",
];

impl Collector for Firehose {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().firehose(ctx.region());
            let mut names: Vec<String> = Vec::new();
            loop {
                let Ok(page) = ctx
                    .call(
                        "ListDeliveryStreams",
                        client
                            .list_delivery_streams()
                            .limit(100)
                            .set_exclusive_start_delivery_stream_name(names.last().cloned())
                            .send(),
                    )
                    .await
                else {
                    return;
                };
                let more = page.has_more_delivery_streams && !page.delivery_stream_names.is_empty();
                names.extend(page.delivery_stream_names);
                if !more {
                    break;
                }
            }
            let client = &client;
            futures::stream::iter(names)
                .map(|name| async move {
                    let description = ctx
                        .call_optional(
                            "DescribeDeliveryStream",
                            GONE,
                            client
                                .describe_delivery_stream()
                                .delivery_stream_name(&name)
                                .send(),
                        )
                        .await
                        .map(|o| o.and_then(|o| o.delivery_stream_description));
                    ctx.emit(delivery_stream_asset(
                        ctx.account(),
                        ctx.region(),
                        &name,
                        description.as_ref().map(Option::as_ref),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The `AWS::KinesisFirehose::DeliveryStream` asset from its name and
/// `DescribeDeliveryStream` answer (`Ok(None)`: deleted since listed).
/// `deliveryStreamType` is `DirectPut`, `KinesisStreamAsSource`,
/// `MSKAsSource` or `DatabaseAsSource`; `encryptionStatus` is the
/// server-side encryption status (`ENABLED`, `DISABLED`, …; `null` when the
/// API gives no encryption configuration).
pub fn delivery_stream_asset(
    account: &str,
    region: &str,
    name: &str,
    description: Result<Option<&DeliveryStreamDescription>, &CallFailure>,
) -> Asset {
    let arn = description
        .ok()
        .flatten()
        .map(|d| d.delivery_stream_arn.clone())
        .unwrap_or_else(|| {
            format!(
                "arn:{}:firehose:{region}:{account}:deliverystream/{name}",
                partition(region)
            )
        });
    let mut properties = json!({
        "deliveryStreamName": name,
        "deliveryStreamArn": arn,
        "deleted": matches!(description, Ok(None)),
    });
    if let (Ok(Some(d)), Some(map)) = (description, properties.as_object_mut()) {
        let encryption = d.delivery_stream_encryption_configuration.as_ref();
        map.insert(
            "deliveryStreamStatus".into(),
            json!(d.delivery_stream_status.as_str()),
        );
        map.insert(
            "deliveryStreamType".into(),
            json!(d.delivery_stream_type.as_str()),
        );
        map.insert(
            "encryptionStatus".into(),
            opt_str(
                encryption
                    .and_then(|e| e.status.as_ref())
                    .map(|s| s.as_str()),
            ),
        );
        map.insert(
            "encryptionKeyType".into(),
            opt_str(
                encryption
                    .and_then(|e| e.key_type.as_ref())
                    .map(|s| s.as_str()),
            ),
        );
        map.insert(
            "encryptionKeyArn".into(),
            opt_str(encryption.and_then(|e| e.key_arn.as_deref())),
        );
    }
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::KinesisFirehose::DeliveryStream",
        account,
        region,
        name,
        properties,
    );
    if let Err(failure) = description {
        for key in DESCRIBE_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_firehose::types::{
        DeliveryStreamEncryptionConfiguration, DeliveryStreamEncryptionStatus,
        DeliveryStreamStatus, DeliveryStreamType, KeyType,
    };

    fn description(
        encryption: Option<DeliveryStreamEncryptionConfiguration>,
    ) -> DeliveryStreamDescription {
        DeliveryStreamDescription::builder()
            .delivery_stream_name("logs")
            .delivery_stream_arn("arn:aws:firehose:us-east-1:123456789012:deliverystream/logs")
            .delivery_stream_status(DeliveryStreamStatus::Active)
            .delivery_stream_type(DeliveryStreamType::DirectPut)
            .set_delivery_stream_encryption_configuration(encryption)
            .version_id("1")
            .set_destinations(Some(vec![]))
            .has_more_destinations(false)
            .build()
            .unwrap()
    }

    #[test]
    fn maps_encryption() {
        let enc = DeliveryStreamEncryptionConfiguration::builder()
            .status(DeliveryStreamEncryptionStatus::Enabled)
            .key_type(KeyType::AwsOwnedCmk)
            .build();
        let d = description(Some(enc));
        let asset = delivery_stream_asset("123456789012", "us-east-1", "logs", Ok(Some(&d)));
        assert_eq!(
            asset.arn,
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/logs"
        );
        assert_eq!(asset.properties["encryptionStatus"], "ENABLED");
        assert_eq!(asset.properties["encryptionKeyType"], "AWS_OWNED_CMK");
        assert_eq!(asset.properties["deliveryStreamType"], "DirectPut");
        let plain = description(None);
        let asset = delivery_stream_asset("123456789012", "us-east-1", "logs", Ok(Some(&plain)));
        assert_eq!(
            asset.properties["encryptionStatus"],
            serde_json::Value::Null
        );
        let gone = delivery_stream_asset("123456789012", "us-east-1", "logs", Ok(None));
        assert_eq!(gone.properties["deleted"], true);
    }
}
