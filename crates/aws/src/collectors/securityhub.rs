//! Security Hub: one region asset ([`types::SECURITYHUB_REGION`]) per
//! region, `{"enabled": bool, "hubArn", "subscribedAt", "standards": [...],
//! "regionDisabled": bool}`, present also when Security Hub is off.
//!
//! Per region `DescribeHub` (`InvalidAccessException`: the account is not
//! subscribed in the region, `enabled: false`, not a gap) and, when
//! enabled, `GetEnabledStandards` (100 a page). What could not be read is
//! `null` and marked unavailable; an answer that the region is not enabled
//! for the account gives `regionDisabled: true`.

use aws_sdk_securityhub::operation::describe_hub::DescribeHubOutput;
use aws_sdk_securityhub::types::StandardsSubscription;
use futures::future::BoxFuture;
use rampart_model::{Asset, GapKind, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Security Hub's state per region.
#[derive(Debug)]
pub struct SecurityHub;

static META: CollectorMeta = CollectorMeta {
    service: "securityhub",
    scope: Scope::Regional,
    operations: &[
        op!("securityhub", "DescribeHub"),
        op!("securityhub", "GetEnabledStandards"),
    ],
    resource_types: &[types::SECURITYHUB_REGION],
};

impl Collector for SecurityHub {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().securityhub(ctx.region());
            let hub = ctx
                .call_optional(
                    "DescribeHub",
                    &["InvalidAccessException"],
                    client.describe_hub().send(),
                )
                .await;
            let standards = match &hub {
                Ok(Some(_)) => ctx
                    .pages(
                        "GetEnabledStandards",
                        client
                            .get_enabled_standards()
                            .into_paginator()
                            .page_size(100)
                            .send(),
                    )
                    .await
                    .map(|pages| {
                        pages
                            .iter()
                            .flat_map(|p| p.standards_subscriptions())
                            .cloned()
                            .collect()
                    }),
                _ => Ok(Vec::new()),
            };
            ctx.emit(region_asset(
                ctx.account(),
                ctx.region(),
                hub.as_ref().map(Option::as_ref),
                standards.as_deref(),
            ));
        })
    }
}

fn standard_json(s: &StandardsSubscription) -> Value {
    json!({
        "standardsArn": opt_str(s.standards_arn()),
        "standardsSubscriptionArn": opt_str(s.standards_subscription_arn()),
        "standardsStatus": opt_str(s.standards_status().map(|x| x.as_str())),
        "statusReasonCode": opt_str(
            s.standards_status_reason()
                .and_then(|r| r.status_reason_code())
                .map(|c| c.as_str())
        ),
    })
}

/// The [`types::SECURITYHUB_REGION`] asset. `hub`: `Ok(None)` when the
/// account is not subscribed in the region. `standards` is only asked
/// for when the hub is enabled (`Ok(&[])` otherwise).
pub fn region_asset(
    account: &str,
    region: &str,
    hub: Result<Option<&DescribeHubOutput>, &CallFailure>,
    standards: Result<&[StandardsSubscription], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("securityhub", region, account, "hub"),
        types::SECURITYHUB_REGION,
        account,
        region,
        "hub",
        json!({ "regionDisabled": false }),
    );
    match hub {
        Ok(Some(h)) => {
            asset.set_property("enabled", Value::Bool(true));
            asset.set_property("hubArn", opt_str(h.hub_arn()));
            asset.set_property("subscribedAt", opt_str(h.subscribed_at()));
            asset.set_property("autoEnableControls", json!(h.auto_enable_controls()));
            asset.set_property(
                "controlFindingGenerator",
                opt_str(h.control_finding_generator().map(|g| g.as_str())),
            );
            match standards {
                Ok(list) => asset.set_property(
                    "standards",
                    Value::Array(list.iter().map(standard_json).collect()),
                ),
                Err(failure) => {
                    asset.set_property("standards", Value::Null);
                    asset.mark_unavailable("standards", failure.to_string());
                }
            }
        }
        Ok(None) => {
            asset.set_property("enabled", Value::Bool(false));
            asset.set_property("hubArn", Value::Null);
            asset.set_property("subscribedAt", Value::Null);
            asset.set_property("standards", json!([]));
        }
        Err(failure) if failure.kind == GapKind::RegionDisabled => {
            asset.set_property("regionDisabled", Value::Bool(true));
            asset.set_property("enabled", Value::Bool(false));
            asset.set_property("standards", json!([]));
        }
        Err(failure) => {
            // Nothing is known, not even whether the region is enabled.
            for key in [
                "regionDisabled",
                "enabled",
                "hubArn",
                "subscribedAt",
                "standards",
            ] {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_securityhub::types::StandardsStatus;

    const FSBP: &str =
        "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0";

    fn hub() -> DescribeHubOutput {
        DescribeHubOutput::builder()
            .hub_arn("arn:aws:securityhub:us-east-1:123456789012:hub/default")
            .subscribed_at("2024-01-01T00:00:00.000Z")
            .auto_enable_controls(true)
            .build()
    }

    #[test]
    fn enabled_hub_with_standards() {
        let standards = vec![
            StandardsSubscription::builder()
                .standards_arn(FSBP)
                .standards_subscription_arn("arn:sub")
                .standards_status(StandardsStatus::Ready)
                .build(),
        ];
        let h = hub();
        let asset = region_asset("123456789012", "us-east-1", Ok(Some(&h)), Ok(&standards));
        assert_eq!(
            asset.arn,
            "arn:rampart:securityhub:us-east-1:123456789012:hub"
        );
        assert_eq!(asset.resource_type, "Rampart::SecurityHub::RegionStatus");
        let p = &asset.properties;
        assert_eq!(p["enabled"], true);
        assert_eq!(
            p["hubArn"],
            "arn:aws:securityhub:us-east-1:123456789012:hub/default"
        );
        assert_eq!(p["standards"][0]["standardsArn"], FSBP);
        assert_eq!(p["standards"][0]["standardsStatus"], "READY");
        assert_eq!(p["regionDisabled"], false);
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn not_subscribed_is_disabled_not_a_gap() {
        let asset = region_asset("123456789012", "eu-west-1", Ok(None), Ok(&[]));
        assert_eq!(asset.properties["enabled"], false);
        assert_eq!(asset.properties["standards"], json!([]));
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn failures_are_unavailable() {
        let failure = CallFailure {
            kind: GapKind::NotImplemented,
            code: None,
            message: "HTTP 404 with an HTML body".into(),
        };
        let h = hub();
        let asset = region_asset("123456789012", "us-east-1", Ok(Some(&h)), Err(&failure));
        assert_eq!(asset.properties["enabled"], true);
        assert_eq!(asset.properties["standards"], Value::Null);
        assert!(asset.unavailable.contains_key("standards"));

        let denied = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = region_asset("123456789012", "us-east-1", Err(&denied), Ok(&[]));
        assert_eq!(asset.properties["enabled"], Value::Null);
        assert_eq!(asset.unavailable["enabled"], "AccessDeniedException: nope");

        let disabled = CallFailure {
            kind: GapKind::RegionDisabled,
            code: Some("OptInRequired".into()),
            message: "OptInRequired".into(),
        };
        let asset = region_asset("123456789012", "me-south-1", Err(&disabled), Ok(&[]));
        assert_eq!(asset.properties["regionDisabled"], true);
        assert!(asset.unavailable.is_empty());
    }
}
