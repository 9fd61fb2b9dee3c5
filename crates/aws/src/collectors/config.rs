//! AWS Config: one region asset ([`types::CONFIG_REGION`]) per region —
//! present also when there is no recorder (`{"recorders": []}`) — with the
//! recorders, their recording status and the delivery channels, plus an
//! `AWS::Config::ConfigurationRecorder` asset per recorder.
//!
//! Per region: `DescribeConfigurationRecorders`,
//! `DescribeConfigurationRecorderStatus` and `DescribeDeliveryChannels`,
//! one call each (none is paginated). When a call fails the region asset is
//! still emitted, with the affected property `null` and marked unavailable,
//! so a check reports an error instead of "Config is off".
//!
//! Recorders carry their ARN when the API returns one; otherwise their id
//! is Rampart's `arn:rampart:config:<region>:<account>:configuration-recorder/<name>`.

use aws_sdk_config::types::{ConfigurationRecorder, ConfigurationRecorderStatus, DeliveryChannel};
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects AWS Config recorders and delivery channels.
#[derive(Debug)]
pub struct Config;

static META: CollectorMeta = CollectorMeta {
    service: "config",
    scope: Scope::Regional,
    operations: &[
        op!("config", "DescribeConfigurationRecorders"),
        op!("config", "DescribeConfigurationRecorderStatus"),
        op!("config", "DescribeDeliveryChannels"),
    ],
    resource_types: &["AWS::Config::ConfigurationRecorder", types::CONFIG_REGION],
};

impl Collector for Config {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().config(ctx.region());
            let (recorders, statuses, channels) = futures::join!(
                ctx.call(
                    "DescribeConfigurationRecorders",
                    client.describe_configuration_recorders().send()
                ),
                ctx.call(
                    "DescribeConfigurationRecorderStatus",
                    client.describe_configuration_recorder_status().send()
                ),
                ctx.call(
                    "DescribeDeliveryChannels",
                    client.describe_delivery_channels().send()
                ),
            );
            let recorders = recorders.as_ref().map(|o| o.configuration_recorders());
            let statuses = statuses
                .as_ref()
                .map(|o| o.configuration_recorders_status());
            let channels = channels.as_ref().map(|o| o.delivery_channels());
            ctx.emit(region_asset(
                ctx.account(),
                ctx.region(),
                recorders,
                statuses,
                channels,
            ));
            for recorder in recorders.unwrap_or_default() {
                ctx.emit(recorder_asset(
                    ctx.account(),
                    ctx.region(),
                    recorder,
                    statuses,
                ));
            }
        })
    }
}

/// The status entry of a recorder (matched by ARN, else by name).
fn status_of<'s>(
    recorder: &ConfigurationRecorder,
    statuses: &'s [ConfigurationRecorderStatus],
) -> Option<&'s ConfigurationRecorderStatus> {
    statuses.iter().find(|s| match (recorder.arn(), s.arn()) {
        (Some(a), Some(b)) => a == b,
        _ => recorder.name().is_some() && s.name() == recorder.name(),
    })
}

fn status_json(status: &ConfigurationRecorderStatus) -> Value {
    json!({
        "recording": status.recording(),
        "lastStatus": opt_str(status.last_status().map(|s| s.as_str())),
        "lastErrorCode": opt_str(status.last_error_code()),
        "lastErrorMessage": opt_str(status.last_error_message()),
        "lastStartTime": opt_timestamp(status.last_start_time()),
        "lastStopTime": opt_timestamp(status.last_stop_time()),
        "lastStatusChangeTime": opt_timestamp(status.last_status_change_time()),
    })
}

/// A recorder as JSON; `status` is `null` when the status call failed or
/// has no entry for it.
fn recorder_json(
    recorder: &ConfigurationRecorder,
    statuses: Result<&[ConfigurationRecorderStatus], &CallFailure>,
) -> Value {
    let group = recorder.recording_group().map_or(Value::Null, |g| {
        json!({
            "allSupported": g.all_supported(),
            "includeGlobalResourceTypes": g.include_global_resource_types(),
            "resourceTypes": g.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            "exclusionByResourceTypes": g.exclusion_by_resource_types().map_or(Value::Null, |e| json!({
                "resourceTypes": e.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            })),
            "recordingStrategy": g.recording_strategy().map_or(Value::Null, |s| json!({
                "useOnly": opt_str(s.use_only().map(|u| u.as_str())),
            })),
        })
    });
    let mode = recorder.recording_mode().map_or(Value::Null, |m| {
        json!({
            "recordingFrequency": m.recording_frequency().as_str(),
            "recordingModeOverrides": m
                .recording_mode_overrides()
                .iter()
                .map(|o| json!({
                    "resourceTypes": o.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                    "recordingFrequency": o.recording_frequency().as_str(),
                }))
                .collect::<Vec<_>>(),
        })
    });
    let status = statuses
        .ok()
        .and_then(|s| status_of(recorder, s))
        .map_or(Value::Null, status_json);
    json!({
        "name": opt_str(recorder.name()),
        "arn": opt_str(recorder.arn()),
        "roleArn": opt_str(recorder.role_arn()),
        "recordingGroup": group,
        "recordingMode": mode,
        "recordingScope": opt_str(recorder.recording_scope().map(|s| s.as_str())),
        "servicePrincipal": opt_str(recorder.service_principal()),
        "status": status,
    })
}

fn channel_json(channel: &DeliveryChannel) -> Value {
    json!({
        "name": opt_str(channel.name()),
        "s3BucketName": opt_str(channel.s3_bucket_name()),
        "s3KeyPrefix": opt_str(channel.s3_key_prefix()),
        "s3KmsKeyArn": opt_str(channel.s3_kms_key_arn()),
        "snsTopicARN": opt_str(channel.sns_topic_arn()),
        "configSnapshotDeliveryProperties": channel
            .config_snapshot_delivery_properties()
            .map_or(Value::Null, |p| json!({
                "deliveryFrequency": opt_str(p.delivery_frequency().map(|f| f.as_str())),
            })),
    })
}

/// The [`types::CONFIG_REGION`] asset: recorders (with status) and
/// delivery channels of a region; each list either read or the failure
/// that prevented it.
pub fn region_asset(
    account: &str,
    region: &str,
    recorders: Result<&[ConfigurationRecorder], &CallFailure>,
    statuses: Result<&[ConfigurationRecorderStatus], &CallFailure>,
    channels: Result<&[DeliveryChannel], &CallFailure>,
) -> Asset {
    let recorders_json = recorders.map_or(Value::Null, |list| {
        Value::Array(list.iter().map(|r| recorder_json(r, statuses)).collect())
    });
    let channels_json = channels.map_or(Value::Null, |list| {
        Value::Array(list.iter().map(channel_json).collect())
    });
    let mut asset = Asset::new(
        setting_id("config", region, account, "recording"),
        types::CONFIG_REGION,
        account,
        region,
        "recording",
        json!({ "recorders": recorders_json, "deliveryChannels": channels_json }),
    );
    // Recorders without their status cannot tell whether Config records.
    match (recorders, statuses) {
        (Err(failure), _) => asset.mark_unavailable("recorders", failure.to_string()),
        (Ok(list), Err(failure)) if !list.is_empty() => {
            asset.mark_unavailable("recorders", failure.to_string());
        }
        _ => {}
    }
    if let Err(failure) = channels {
        asset.mark_unavailable("deliveryChannels", failure.to_string());
    }
    asset
}

/// The `AWS::Config::ConfigurationRecorder` asset of a recorder.
pub fn recorder_asset(
    account: &str,
    region: &str,
    recorder: &ConfigurationRecorder,
    statuses: Result<&[ConfigurationRecorderStatus], &CallFailure>,
) -> Asset {
    let name = recorder.name().unwrap_or("default");
    let arn = recorder.arn().map_or_else(
        || {
            setting_id(
                "config",
                region,
                account,
                &format!("configuration-recorder/{name}"),
            )
        },
        str::to_owned,
    );
    let mut asset = Asset::new(
        arn,
        "AWS::Config::ConfigurationRecorder",
        account,
        region,
        name,
        recorder_json(recorder, statuses),
    );
    if let Err(failure) = statuses {
        asset.mark_unavailable("status", failure.to_string());
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_config::types::{
        ConfigSnapshotDeliveryProperties, MaximumExecutionFrequency, RecorderStatus, RecordingGroup,
    };
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        }
    }

    fn recorder(all: bool) -> ConfigurationRecorder {
        ConfigurationRecorder::builder()
            .name("default")
            .role_arn("arn:aws:iam::123456789012:role/config")
            .recording_group(
                RecordingGroup::builder()
                    .all_supported(all)
                    .include_global_resource_types(all)
                    .build(),
            )
            .build()
    }

    fn status(recording: bool) -> ConfigurationRecorderStatus {
        ConfigurationRecorderStatus::builder()
            .name("default")
            .recording(recording)
            .last_status(if recording {
                RecorderStatus::Success
            } else {
                RecorderStatus::Failure
            })
            .build()
    }

    fn channel() -> DeliveryChannel {
        DeliveryChannel::builder()
            .name("default")
            .s3_bucket_name("config-bucket")
            .config_snapshot_delivery_properties(
                ConfigSnapshotDeliveryProperties::builder()
                    .delivery_frequency(MaximumExecutionFrequency::TwentyFourHours)
                    .build(),
            )
            .build()
    }

    #[test]
    fn recording_region() {
        let asset = region_asset(
            "123456789012",
            "us-east-1",
            Ok(&[recorder(true)]),
            Ok(&[status(true)]),
            Ok(&[channel()]),
        );
        assert_eq!(
            asset.arn,
            "arn:rampart:config:us-east-1:123456789012:recording"
        );
        assert_eq!(asset.resource_type, types::CONFIG_REGION);
        let r = &asset.properties["recorders"][0];
        assert_eq!(r["name"], "default");
        assert_eq!(r["recordingGroup"]["allSupported"], true);
        assert_eq!(r["recordingGroup"]["includeGlobalResourceTypes"], true);
        assert_eq!(r["status"]["recording"], true);
        assert_eq!(r["status"]["lastStatus"], "Success");
        let c = &asset.properties["deliveryChannels"][0];
        assert_eq!(c["s3BucketName"], "config-bucket");
        assert_eq!(
            c["configSnapshotDeliveryProperties"]["deliveryFrequency"],
            "TwentyFour_Hours"
        );
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn region_without_recorder_is_present_and_empty() {
        let asset = region_asset("123456789012", "eu-west-1", Ok(&[]), Ok(&[]), Ok(&[]));
        assert_eq!(asset.properties["recorders"], json!([]));
        assert_eq!(asset.properties["deliveryChannels"], json!([]));
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn stopped_partial_recorder() {
        let asset = region_asset(
            "123456789012",
            "eu-west-1",
            Ok(&[recorder(false)]),
            Ok(&[status(false)]),
            Ok(&[]),
        );
        let r = &asset.properties["recorders"][0];
        assert_eq!(r["recordingGroup"]["allSupported"], false);
        assert_eq!(r["status"]["recording"], false);
        assert_eq!(r["status"]["lastStatus"], "Failure");
    }

    #[test]
    fn failed_calls_are_unavailable_not_empty() {
        let failure = denied();
        let asset = region_asset(
            "123456789012",
            "eu-west-1",
            Err(&failure),
            Err(&failure),
            Err(&failure),
        );
        assert_eq!(asset.properties["recorders"], Value::Null);
        assert_eq!(asset.properties["deliveryChannels"], Value::Null);
        assert_eq!(
            asset.unavailable["recorders"],
            "AccessDeniedException: nope"
        );
        assert!(asset.unavailable.contains_key("deliveryChannels"));

        let asset = region_asset(
            "123456789012",
            "eu-west-1",
            Ok(&[recorder(true)]),
            Err(&failure),
            Ok(&[]),
        );
        assert_eq!(asset.properties["recorders"][0]["status"], Value::Null);
        assert!(asset.unavailable.contains_key("recorders"));
    }

    #[test]
    fn recorder_asset_with_and_without_status() {
        let asset = recorder_asset(
            "123456789012",
            "us-east-1",
            &recorder(true),
            Ok(&[status(true)]),
        );
        assert_eq!(asset.resource_type, "AWS::Config::ConfigurationRecorder");
        assert_eq!(
            asset.arn,
            "arn:rampart:config:us-east-1:123456789012:configuration-recorder/default"
        );
        assert_eq!(asset.name, "default");
        assert_eq!(asset.properties["status"]["recording"], true);
        assert_eq!(
            asset.properties["roleArn"],
            "arn:aws:iam::123456789012:role/config"
        );

        let with_arn = ConfigurationRecorder::builder()
            .name("default")
            .arn("arn:aws:config:us-east-1:123456789012:configuration-recorder/default/abc")
            .build();
        let failure = denied();
        let asset = recorder_asset("123456789012", "us-east-1", &with_arn, Err(&failure));
        assert_eq!(
            asset.arn,
            "arn:aws:config:us-east-1:123456789012:configuration-recorder/default/abc"
        );
        assert_eq!(asset.properties["status"], Value::Null);
        assert_eq!(asset.properties["recordingGroup"], Value::Null);
        assert!(asset.unavailable.contains_key("status"));
    }
}
