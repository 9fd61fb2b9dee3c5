//! GuardDuty: detectors (`AWS::GuardDuty::Detector`) and one region asset
//! ([`types::GUARDDUTY_REGION`]) per region, `{"detectorIds": [...],
//! "enabled": bool}`, present also when the region has no detector.
//!
//! Per region `ListDetectors` (50 a page), per detector `GetDetector`.
//! `enabled` is true when some detector's status is `ENABLED`, false when
//! every detector was read and none is, and `null` (marked unavailable)
//! when it cannot be told. `ListFindings` is not called (and not
//! implemented by moto).

use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
use aws_sdk_guardduty::types::{DataSourceConfigurationsResult, DataSourceStatus, DetectorStatus};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, str_list};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects GuardDuty detectors.
#[derive(Debug)]
pub struct GuardDuty;

static META: CollectorMeta = CollectorMeta {
    service: "guardduty",
    scope: Scope::Regional,
    operations: &[
        op!("guardduty", "ListDetectors"),
        op!("guardduty", "GetDetector"),
    ],
    resource_types: &["AWS::GuardDuty::Detector", types::GUARDDUTY_REGION],
};

/// A detector id and what `GetDetector` said about it.
pub type DetectorRead = (String, Result<GetDetectorOutput, CallFailure>);

impl Collector for GuardDuty {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().guardduty(ctx.region());
            let listed = ctx
                .pages(
                    "ListDetectors",
                    client
                        .list_detectors()
                        .into_paginator()
                        .page_size(50)
                        .send(),
                )
                .await;
            let ids: Vec<String> = match &listed {
                Ok(pages) => pages
                    .iter()
                    .flat_map(|p| p.detector_ids())
                    .cloned()
                    .collect(),
                Err(failure) => {
                    ctx.emit(region_asset(ctx.account(), ctx.region(), Err(failure)));
                    return;
                }
            };
            let client = &client;
            let mut detectors: Vec<DetectorRead> = futures::stream::iter(ids)
                .map(|id| async move {
                    let detail = ctx
                        .call("GetDetector", client.get_detector().detector_id(&id).send())
                        .await;
                    (id, detail)
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            detectors.sort_by(|a, b| a.0.cmp(&b.0));
            for (id, detail) in &detectors {
                ctx.emit(detector_asset(
                    ctx.account(),
                    ctx.region(),
                    id,
                    detail.as_ref(),
                ));
            }
            ctx.emit(region_asset(ctx.account(), ctx.region(), Ok(&detectors)));
        })
    }
}

fn status_str(status: Option<&DataSourceStatus>) -> Value {
    opt_str(status.map(DataSourceStatus::as_str))
}

#[expect(
    deprecated,
    reason = "dataSources is deprecated in favour of features, but older detectors and emulators report only it"
)]
fn data_sources(detail: &GetDetectorOutput) -> Option<&DataSourceConfigurationsResult> {
    detail.data_sources()
}

/// `{"status": …}` of a data source, or `null` when it is not reported.
fn source_status(status: Option<Option<&DataSourceStatus>>) -> Value {
    status.map_or(Value::Null, |s| json!({ "status": status_str(s) }))
}

fn data_sources_json(sources: &DataSourceConfigurationsResult) -> Value {
    let audit_logs = sources
        .kubernetes()
        .map(|k| json!({ "auditLogs": source_status(k.audit_logs().map(|a| a.status())) }));
    let malware = sources.malware_protection().map(|m| {
        json!({
            "scanEc2InstanceWithFindings": m.scan_ec2_instance_with_findings().map(|s| json!({
                "ebsVolumes": source_status(s.ebs_volumes().map(|e| e.status())),
            })),
            "serviceRole": opt_str(m.service_role()),
        })
    });
    json!({
        "cloudTrail": source_status(sources.cloud_trail().map(|s| s.status())),
        "dnsLogs": source_status(sources.dns_logs().map(|s| s.status())),
        "flowLogs": source_status(sources.flow_logs().map(|s| s.status())),
        "s3Logs": source_status(sources.s3_logs().map(|s| s.status())),
        "kubernetes": audit_logs,
        "malwareProtection": malware,
    })
}

/// The `AWS::GuardDuty::Detector` asset of a detector; when `GetDetector`
/// failed, only its id is known and the rest is unavailable.
pub fn detector_asset(
    account: &str,
    region: &str,
    detector_id: &str,
    detail: Result<&GetDetectorOutput, &CallFailure>,
) -> Asset {
    let arn = format!(
        "arn:{}:guardduty:{region}:{account}:detector/{detector_id}",
        partition(region)
    );
    let mut asset = Asset::new(
        arn,
        "AWS::GuardDuty::Detector",
        account,
        region,
        detector_id,
        json!({ "detectorId": detector_id }),
    );
    match detail {
        Ok(d) => {
            asset.set_property("status", opt_str(d.status().map(DetectorStatus::as_str)));
            asset.set_property(
                "findingPublishingFrequency",
                opt_str(d.finding_publishing_frequency().map(|f| f.as_str())),
            );
            asset.set_property("serviceRole", opt_str(d.service_role()));
            asset.set_property("createdAt", opt_str(d.created_at()));
            asset.set_property("updatedAt", opt_str(d.updated_at()));
            asset.set_property(
                "dataSources",
                data_sources(d).map_or(Value::Null, data_sources_json),
            );
            asset.set_property(
                "features",
                Value::Array(
                    d.features()
                        .iter()
                        .map(|f| {
                            json!({
                                "name": opt_str(f.name().map(|n| n.as_str())),
                                "status": opt_str(f.status().map(|s| s.as_str())),
                                "updatedAt": opt_timestamp(f.updated_at()),
                                "additionalConfiguration": f
                                    .additional_configuration()
                                    .iter()
                                    .map(|c| json!({
                                        "name": opt_str(c.name().map(|n| n.as_str())),
                                        "status": opt_str(c.status().map(|s| s.as_str())),
                                    }))
                                    .collect::<Vec<_>>(),
                            })
                        })
                        .collect(),
                ),
            );
            if let Some(tags) = d.tags() {
                asset.tags = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            }
        }
        Err(failure) => {
            for key in [
                "status",
                "findingPublishingFrequency",
                "dataSources",
                "features",
                "tags",
            ] {
                if key != "tags" {
                    asset.set_property(key, Value::Null);
                }
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    asset
}

/// The [`types::GUARDDUTY_REGION`] asset: the region's detector ids and
/// whether one of them is enabled.
pub fn region_asset(
    account: &str,
    region: &str,
    detectors: Result<&[DetectorRead], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("guardduty", region, account, "detectors"),
        types::GUARDDUTY_REGION,
        account,
        region,
        "detectors",
        Value::Null,
    );
    match detectors {
        Err(failure) => {
            asset.properties = json!({ "detectorIds": null, "enabled": null });
            asset.mark_unavailable("detectorIds", failure.to_string());
            asset.mark_unavailable("enabled", failure.to_string());
        }
        Ok(list) => {
            let ids: Vec<&str> = list.iter().map(|(id, _)| id.as_str()).collect();
            let any_enabled = list.iter().any(|(_, d)| {
                d.as_ref()
                    .is_ok_and(|d| d.status() == Some(&DetectorStatus::Enabled))
            });
            let unread = list.iter().find_map(|(_, d)| d.as_ref().err());
            let enabled = match (any_enabled, unread) {
                (true, _) => Value::Bool(true),
                (false, None) => Value::Bool(false),
                (false, Some(failure)) => {
                    asset.mark_unavailable("enabled", failure.to_string());
                    Value::Null
                }
            };
            asset.properties = json!({ "detectorIds": str_list(&ids), "enabled": enabled });
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_guardduty::types::{
        DetectorFeatureConfigurationResult, DetectorFeatureResult, FeatureStatus,
        FindingPublishingFrequency, S3LogsConfigurationResult,
    };
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        }
    }

    fn detector(status: DetectorStatus) -> GetDetectorOutput {
        GetDetectorOutput::builder()
            .status(status)
            .finding_publishing_frequency(FindingPublishingFrequency::SixHours)
            .service_role("arn:aws:iam::123456789012:role/gd")
            .features(
                DetectorFeatureConfigurationResult::builder()
                    .name(DetectorFeatureResult::S3DataEvents)
                    .status(FeatureStatus::Enabled)
                    .build(),
            )
            .tags("env", "prod")
            .build()
    }

    #[test]
    fn maps_an_enabled_detector() {
        let d = detector(DetectorStatus::Enabled);
        let asset = detector_asset("123456789012", "us-east-1", "abc", Ok(&d));
        assert_eq!(
            asset.arn,
            "arn:aws:guardduty:us-east-1:123456789012:detector/abc"
        );
        assert_eq!(asset.resource_type, "AWS::GuardDuty::Detector");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["status"], "ENABLED");
        assert_eq!(p["findingPublishingFrequency"], "SIX_HOURS");
        assert_eq!(p["features"][0]["name"], "S3_DATA_EVENTS");
        assert_eq!(p["features"][0]["status"], "ENABLED");
        assert_eq!(p["dataSources"], Value::Null);
    }

    #[test]
    #[expect(
        deprecated,
        reason = "building the deprecated dataSources field moto still returns"
    )]
    fn maps_deprecated_data_sources() {
        let d = GetDetectorOutput::builder()
            .status(DetectorStatus::Disabled)
            .data_sources(
                DataSourceConfigurationsResult::builder()
                    .s3_logs(
                        S3LogsConfigurationResult::builder()
                            .status(DataSourceStatus::Disabled)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let asset = detector_asset("123456789012", "eu-west-1", "def", Ok(&d));
        assert_eq!(asset.properties["status"], "DISABLED");
        assert_eq!(
            asset.properties["dataSources"]["s3Logs"]["status"],
            "DISABLED"
        );
        assert_eq!(
            asset.properties["dataSources"]["dnsLogs"]["status"],
            Value::Null
        );
    }

    #[test]
    fn unread_detector_is_unavailable() {
        let failure = denied();
        let asset = detector_asset("123456789012", "eu-west-1", "def", Err(&failure));
        assert_eq!(asset.properties["detectorId"], "def");
        assert_eq!(asset.properties["status"], Value::Null);
        assert_eq!(asset.unavailable["status"], "AccessDeniedException: nope");
    }

    #[test]
    fn region_status() {
        let enabled: Vec<DetectorRead> =
            vec![("abc".into(), Ok(detector(DetectorStatus::Enabled)))];
        let asset = region_asset("123456789012", "us-east-1", Ok(&enabled));
        assert_eq!(
            asset.arn,
            "arn:rampart:guardduty:us-east-1:123456789012:detectors"
        );
        assert_eq!(asset.resource_type, types::GUARDDUTY_REGION);
        assert_eq!(
            asset.properties,
            json!({ "detectorIds": ["abc"], "enabled": true })
        );

        let none = region_asset("123456789012", "us-east-1", Ok(&[]));
        assert_eq!(
            none.properties,
            json!({ "detectorIds": [], "enabled": false })
        );
        assert!(none.unavailable.is_empty());

        let disabled: Vec<DetectorRead> =
            vec![("abc".into(), Ok(detector(DetectorStatus::Disabled)))];
        let asset = region_asset("123456789012", "us-east-1", Ok(&disabled));
        assert_eq!(asset.properties["enabled"], false);

        let unread: Vec<DetectorRead> = vec![("abc".into(), Err(denied()))];
        let asset = region_asset("123456789012", "us-east-1", Ok(&unread));
        assert_eq!(asset.properties["enabled"], Value::Null);
        assert!(asset.unavailable.contains_key("enabled"));

        let failure = denied();
        let asset = region_asset("123456789012", "us-east-1", Err(&failure));
        assert_eq!(asset.properties["detectorIds"], Value::Null);
        assert!(asset.unavailable.contains_key("detectorIds"));
    }
}
