//! CloudTrail: trails (`AWS::CloudTrail::Trail`) with their logging status
//! and event selectors, and one region asset
//! ([`types::CLOUDTRAIL_REGION`]) listing the trails that log the region.
//!
//! One `DescribeTrails` call per region, with `includeShadowTrails=true`:
//! it returns the trails whose home region is this one *and* the shadows of
//! multi-region (and organization) trails homed elsewhere, which is exactly
//! the set of trails logging this region. The region asset lists them all;
//! a `Trail` asset is emitted once per scan, by the trail's home region
//! (its `region` is the home region). A multi-region trail whose home
//! region is not scanned is emitted by the alphabetically first scanned
//! region instead, its details (`GetTrailStatus`, `GetEventSelectors`,
//! `ListTags`) fetched from its home region's endpoint, so that every trail
//! logging a scanned region has a `Trail` asset to join on `trailArn`.
//!
//! `LookupEvents` is not called (and not implemented by moto).

use std::collections::BTreeMap;

use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, Trail};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp, str_list, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects CloudTrail trails and per-region trail coverage.
#[derive(Debug)]
pub struct CloudTrail;

static META: CollectorMeta = CollectorMeta {
    service: "cloudtrail",
    scope: Scope::Regional,
    operations: &[
        op!("cloudtrail", "DescribeTrails"),
        op!("cloudtrail", "GetTrailStatus"),
        op!("cloudtrail", "GetEventSelectors"),
        op!("cloudtrail", "ListTags"),
    ],
    resource_types: &["AWS::CloudTrail::Trail", types::CLOUDTRAIL_REGION],
};

impl Collector for CloudTrail {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let region = ctx.region();
            let client = ctx.access().cloudtrail(region);
            let described = ctx
                .call(
                    "DescribeTrails",
                    client.describe_trails().include_shadow_trails(true).send(),
                )
                .await;
            let trails = match described {
                Ok(out) => out.trail_list().to_vec(),
                Err(failure) => {
                    ctx.emit(region_unavailable_asset(ctx.account(), region, &failure));
                    return;
                }
            };
            ctx.emit(region_asset(ctx.account(), region, &trails));

            let first_scanned = ctx.scan_regions().iter().min().map(String::as_str);
            let owned: Vec<(Trail, String)> = trails
                .into_iter()
                .filter_map(|trail| {
                    let home = trail.home_region().unwrap_or(region).to_owned();
                    let home_scanned = ctx.scan_regions().contains(&home);
                    let emit_here =
                        home == region || (!home_scanned && first_scanned == Some(region));
                    emit_here.then_some((trail, home))
                })
                .collect();

            futures::stream::iter(owned)
                .map(|(trail, home)| async move {
                    let asset = collect_trail(ctx, trail, &home).await;
                    ctx.emit(asset);
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// Fetches one trail's status, event selectors and tags from its home
/// region and maps it.
async fn collect_trail(ctx: &CollectContext<'_>, trail: Trail, home: &str) -> Asset {
    let client = ctx.access().cloudtrail(home);
    let id = trail
        .trail_arn()
        .or(trail.name())
        .unwrap_or_default()
        .to_owned();
    let (status, selectors, tags) = futures::join!(
        ctx.call_optional_in(
            home,
            "GetTrailStatus",
            &[],
            client.get_trail_status().name(&id).send()
        ),
        ctx.call_optional_in(
            home,
            "GetEventSelectors",
            &[],
            client.get_event_selectors().trail_name(&id).send()
        ),
        ctx.call_optional_in(
            home,
            "ListTags",
            &[],
            client.list_tags().resource_id_list(&id).send()
        ),
    );
    let status = required(status);
    let selectors = required(selectors);
    let tags = required(tags).map(|out| {
        tag_map(
            out.resource_tag_list()
                .iter()
                .flat_map(|r| r.tags_list())
                .map(|t| (Some(t.key()), t.value())),
        )
    });
    trail_asset(
        ctx.account(),
        home,
        &trail,
        status.as_ref(),
        selectors.as_ref(),
        tags.as_ref(),
    )
}

/// A call without "absent" codes either succeeds or fails.
fn required<T>(result: Result<Option<T>, CallFailure>) -> Result<T, CallFailure> {
    result.and_then(|value| {
        value.ok_or_else(|| CallFailure {
            kind: rampart_model::GapKind::Other,
            code: None,
            message: "no response".to_owned(),
        })
    })
}

/// The `AWS::CloudTrail::Trail` asset of a trail, with its status, event
/// selectors and tags (each either read or the failure that prevented it).
pub fn trail_asset(
    account: &str,
    home_region: &str,
    trail: &Trail,
    status: Result<&GetTrailStatusOutput, &CallFailure>,
    selectors: Result<&GetEventSelectorsOutput, &CallFailure>,
    tags: Result<&BTreeMap<String, String>, &CallFailure>,
) -> Asset {
    let arn = trail.trail_arn().unwrap_or_default();
    let name = trail.name().unwrap_or_else(|| arn_name(arn));
    let mut asset = Asset::new(
        arn,
        "AWS::CloudTrail::Trail",
        account,
        home_region,
        name,
        json!({
            "name": name,
            "trailArn": arn,
            "homeRegion": opt_str(trail.home_region()),
            "isMultiRegionTrail": trail.is_multi_region_trail(),
            "isOrganizationTrail": trail.is_organization_trail(),
            "includeGlobalServiceEvents": trail.include_global_service_events(),
            "logFileValidationEnabled": trail.log_file_validation_enabled(),
            "kmsKeyId": opt_str(trail.kms_key_id()),
            "s3BucketName": opt_str(trail.s3_bucket_name()),
            "s3KeyPrefix": opt_str(trail.s3_key_prefix()),
            "snsTopicArn": opt_str(trail.sns_topic_arn()),
            "cloudWatchLogsLogGroupArn": opt_str(trail.cloud_watch_logs_log_group_arn()),
            "cloudWatchLogsRoleArn": opt_str(trail.cloud_watch_logs_role_arn()),
            "hasCustomEventSelectors": trail.has_custom_event_selectors(),
            "hasInsightSelectors": trail.has_insight_selectors(),
        }),
    );
    match status {
        Ok(status) => asset.set_property("status", status_json(status)),
        Err(failure) => {
            asset.set_property("status", Value::Null);
            asset.mark_unavailable("status", failure.to_string());
        }
    }
    match selectors {
        Ok(out) => {
            asset.set_property(
                "eventSelectors",
                Value::Array(
                    out.event_selectors()
                        .iter()
                        .map(event_selector_json)
                        .collect(),
                ),
            );
            asset.set_property(
                "advancedEventSelectors",
                Value::Array(
                    out.advanced_event_selectors()
                        .iter()
                        .map(advanced_selector_json)
                        .collect(),
                ),
            );
        }
        Err(failure) => {
            for key in ["eventSelectors", "advancedEventSelectors"] {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    match tags {
        Ok(tags) => asset.with_tags(tags.clone()),
        Err(failure) => {
            asset.mark_unavailable("tags", failure.to_string());
            asset
        }
    }
}

fn status_json(status: &GetTrailStatusOutput) -> Value {
    json!({
        "isLogging": status.is_logging(),
        "latestDeliveryError": opt_str(status.latest_delivery_error()),
        "latestDeliveryTime": opt_timestamp(status.latest_delivery_time()),
        "latestNotificationError": opt_str(status.latest_notification_error()),
        "latestCloudWatchLogsDeliveryError": opt_str(status.latest_cloud_watch_logs_delivery_error()),
        "latestCloudWatchLogsDeliveryTime": opt_timestamp(status.latest_cloud_watch_logs_delivery_time()),
        "latestDigestDeliveryError": opt_str(status.latest_digest_delivery_error()),
        "latestDigestDeliveryTime": opt_timestamp(status.latest_digest_delivery_time()),
        "startLoggingTime": opt_timestamp(status.start_logging_time()),
        "stopLoggingTime": opt_timestamp(status.stop_logging_time()),
    })
}

fn event_selector_json(selector: &EventSelector) -> Value {
    json!({
        "readWriteType": opt_str(selector.read_write_type().map(|t| t.as_str())),
        "includeManagementEvents": selector.include_management_events(),
        "dataResources": selector
            .data_resources()
            .iter()
            .map(|r| json!({ "type": opt_str(r.r#type()), "values": str_list(r.values()) }))
            .collect::<Vec<_>>(),
        "excludeManagementEventSources": str_list(selector.exclude_management_event_sources()),
    })
}

fn advanced_selector_json(selector: &AdvancedEventSelector) -> Value {
    json!({
        "name": opt_str(selector.name()),
        "fieldSelectors": selector
            .field_selectors()
            .iter()
            .map(|f| json!({
                "field": f.field(),
                "equals": str_list(f.equals()),
                "startsWith": str_list(f.starts_with()),
                "endsWith": str_list(f.ends_with()),
                "notEquals": str_list(f.not_equals()),
                "notStartsWith": str_list(f.not_starts_with()),
                "notEndsWith": str_list(f.not_ends_with()),
            }))
            .collect::<Vec<_>>(),
    })
}

/// The region asset's id.
fn region_id(account: &str, region: &str) -> String {
    setting_id("cloudtrail", region, account, "trails")
}

/// The [`types::CLOUDTRAIL_REGION`] asset: every trail that logs `region`
/// (trails homed here and shadows of multi-region trails homed elsewhere).
/// Join with `AWS::CloudTrail::Trail` assets on `trailArn` for their status
/// and event selectors.
pub fn region_asset(account: &str, region: &str, trails: &[Trail]) -> Asset {
    let listed: Vec<Value> = trails
        .iter()
        .map(|t| {
            json!({
                "trailArn": opt_str(t.trail_arn()),
                "name": opt_str(t.name()),
                "homeRegion": opt_str(t.home_region()),
                "isMultiRegionTrail": t.is_multi_region_trail(),
                "isOrganizationTrail": t.is_organization_trail(),
            })
        })
        .collect();
    Asset::new(
        region_id(account, region),
        types::CLOUDTRAIL_REGION,
        account,
        region,
        "trails",
        json!({ "trails": listed }),
    )
}

/// The region asset when `DescribeTrails` failed: the trail list is
/// unavailable, so the region's coverage is unknown (never "no trail").
pub fn region_unavailable_asset(account: &str, region: &str, failure: &CallFailure) -> Asset {
    let mut asset = Asset::new(
        region_id(account, region),
        types::CLOUDTRAIL_REGION,
        account,
        region,
        "trails",
        json!({ "trails": null }),
    );
    asset.mark_unavailable("trails", failure.to_string());
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::{AdvancedFieldSelector, DataResource, ReadWriteType};
    use rampart_model::GapKind;

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main";

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        }
    }

    fn good_trail() -> Trail {
        Trail::builder()
            .name("main")
            .trail_arn(ARN)
            .home_region("us-east-1")
            .is_multi_region_trail(true)
            .is_organization_trail(false)
            .log_file_validation_enabled(true)
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/k")
            .s3_bucket_name("logs")
            .cloud_watch_logs_log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:ct:*")
            .include_global_service_events(true)
            .build()
    }

    #[test]
    fn maps_a_well_configured_trail() {
        let status = GetTrailStatusOutput::builder()
            .is_logging(true)
            .latest_delivery_time(aws_smithy_types::DateTime::from_secs(0))
            .build();
        let selectors = GetEventSelectorsOutput::builder()
            .trail_arn(ARN)
            .event_selectors(
                EventSelector::builder()
                    .read_write_type(ReadWriteType::All)
                    .include_management_events(true)
                    .data_resources(
                        DataResource::builder()
                            .r#type("AWS::S3::Object")
                            .values("arn:aws:s3")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let tags = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let asset = trail_asset(
            "123456789012",
            "us-east-1",
            &good_trail(),
            Ok(&status),
            Ok(&selectors),
            Ok(&tags),
        );
        assert_eq!(asset.arn, ARN);
        assert_eq!(asset.resource_type, "AWS::CloudTrail::Trail");
        assert_eq!(asset.name, "main");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["isMultiRegionTrail"], true);
        assert_eq!(p["logFileValidationEnabled"], true);
        assert_eq!(p["kmsKeyId"], "arn:aws:kms:us-east-1:123456789012:key/k");
        assert_eq!(p["s3BucketName"], "logs");
        assert_eq!(p["homeRegion"], "us-east-1");
        assert_eq!(p["status"]["isLogging"], true);
        assert_eq!(p["status"]["latestDeliveryError"], Value::Null);
        assert_eq!(p["status"]["latestDeliveryTime"], "1970-01-01T00:00:00Z");
        assert_eq!(p["eventSelectors"][0]["readWriteType"], "All");
        assert_eq!(p["eventSelectors"][0]["includeManagementEvents"], true);
        assert_eq!(
            p["eventSelectors"][0]["dataResources"][0]["type"],
            "AWS::S3::Object"
        );
        assert_eq!(p["advancedEventSelectors"], json!([]));
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn maps_a_misconfigured_trail_with_advanced_selectors() {
        let trail = Trail::builder()
            .name("weak")
            .trail_arn("arn:aws:cloudtrail:eu-west-1:123456789012:trail/weak")
            .home_region("eu-west-1")
            .is_multi_region_trail(false)
            .log_file_validation_enabled(false)
            .s3_bucket_name("b")
            .build();
        let status = GetTrailStatusOutput::builder()
            .is_logging(false)
            .latest_delivery_error("AccessDenied")
            .build();
        let selectors = GetEventSelectorsOutput::builder()
            .advanced_event_selectors(
                AdvancedEventSelector::builder()
                    .name("mgmt-read")
                    .field_selectors(
                        AdvancedFieldSelector::builder()
                            .field("eventCategory")
                            .equals("Management")
                            .build()
                            .unwrap_or_else(|_| unreachable!()),
                    )
                    .field_selectors(
                        AdvancedFieldSelector::builder()
                            .field("readOnly")
                            .equals("true")
                            .build()
                            .unwrap_or_else(|_| unreachable!()),
                    )
                    .build()
                    .unwrap_or_else(|_| unreachable!()),
            )
            .build();
        let asset = trail_asset(
            "123456789012",
            "eu-west-1",
            &trail,
            Ok(&status),
            Ok(&selectors),
            Ok(&BTreeMap::new()),
        );
        let p = &asset.properties;
        assert_eq!(asset.region, "eu-west-1");
        assert_eq!(p["isMultiRegionTrail"], false);
        assert_eq!(p["logFileValidationEnabled"], false);
        assert_eq!(p["kmsKeyId"], Value::Null);
        assert_eq!(p["cloudWatchLogsLogGroupArn"], Value::Null);
        assert_eq!(p["isOrganizationTrail"], Value::Null);
        assert_eq!(p["status"]["isLogging"], false);
        assert_eq!(p["status"]["latestDeliveryError"], "AccessDenied");
        assert_eq!(p["eventSelectors"], json!([]));
        let adv = &p["advancedEventSelectors"][0];
        assert_eq!(adv["name"], "mgmt-read");
        assert_eq!(adv["fieldSelectors"][0]["field"], "eventCategory");
        assert_eq!(adv["fieldSelectors"][0]["equals"], json!(["Management"]));
        assert_eq!(adv["fieldSelectors"][1]["equals"], json!(["true"]));
        assert_eq!(adv["fieldSelectors"][1]["notEquals"], json!([]));
    }

    #[test]
    fn failed_detail_calls_mark_properties_unavailable() {
        let failure = denied();
        let asset = trail_asset(
            "123456789012",
            "us-east-1",
            &good_trail(),
            Err(&failure),
            Err(&failure),
            Err(&failure),
        );
        assert_eq!(asset.properties["status"], Value::Null);
        assert_eq!(asset.properties["eventSelectors"], Value::Null);
        for key in ["status", "eventSelectors", "advancedEventSelectors", "tags"] {
            assert_eq!(
                asset.unavailable[key], "AccessDeniedException: nope",
                "{key}"
            );
        }
        // What DescribeTrails returned is still there.
        assert_eq!(asset.properties["logFileValidationEnabled"], true);
    }

    #[test]
    fn region_asset_lists_home_and_shadow_trails() {
        let shadow = Trail::builder()
            .name("org")
            .trail_arn("arn:aws:cloudtrail:us-east-1:999999999999:trail/org")
            .home_region("us-east-1")
            .is_multi_region_trail(true)
            .is_organization_trail(true)
            .build();
        let asset = region_asset("123456789012", "eu-west-1", &[good_trail(), shadow]);
        assert_eq!(
            asset.arn,
            "arn:rampart:cloudtrail:eu-west-1:123456789012:trails"
        );
        assert_eq!(asset.resource_type, types::CLOUDTRAIL_REGION);
        assert_eq!(asset.region, "eu-west-1");
        let trails = asset.properties["trails"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(trails.len(), 2);
        assert_eq!(trails[0]["trailArn"], ARN);
        assert_eq!(trails[1]["isOrganizationTrail"], true);
        assert_eq!(trails[1]["homeRegion"], "us-east-1");

        let empty = region_asset("123456789012", "eu-west-1", &[]);
        assert_eq!(empty.properties["trails"], json!([]));
        assert!(empty.unavailable.is_empty());
    }

    #[test]
    fn unreadable_region_is_unavailable_not_empty() {
        let asset = region_unavailable_asset("123456789012", "eu-west-1", &denied());
        assert_eq!(asset.properties["trails"], Value::Null);
        assert!(asset.unavailable.contains_key("trails"));
    }
}
