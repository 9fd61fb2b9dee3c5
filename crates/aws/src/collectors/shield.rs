//! Shield Advanced: the account's subscription, protections, Shield
//! Response Team (SRT) access and proactive engagement, as one
//! `Rampart::Shield::Subscription` asset per account (present whether or
//! not the account subscribes). The Shield API is global and served from
//! us-east-1.
//!
//! `GetSubscriptionState` first; only for an `ACTIVE` subscription
//! `ListProtections` (100 a page, the protected resources' ARNs),
//! `DescribeDRTAccess` (the SRT role and log buckets) and
//! `DescribeSubscription` (proactive engagement). A failed call marks its
//! properties unavailable (`subscribed` for the state, `protectedResources`,
//! `drtAccess`, `proactiveEngagementStatus`).

use aws_sdk_shield::types::{ProactiveEngagementStatus, SubscriptionState};
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::op;
use crate::scan::CollectContext;

/// Collects the Shield Advanced subscription.
#[derive(Debug)]
pub struct Shield;

/// Resource type of the account's Shield Advanced subscription.
pub const SUBSCRIPTION_TYPE: &str = rampart_model::types::SHIELD_SUBSCRIPTION;

/// The region that serves the Shield API.
const SHIELD_REGION: &str = "us-east-1";

static META: CollectorMeta = CollectorMeta {
    service: "shield",
    scope: Scope::Global,
    operations: &[
        op!("shield", "GetSubscriptionState"),
        op!("shield", "ListProtections"),
        op!("shield", "DescribeDRTAccess"),
        op!("shield", "DescribeSubscription"),
    ],
    resource_types: &[SUBSCRIPTION_TYPE],
};

impl Collector for Shield {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().shield(SHIELD_REGION);
            let mut asset = subscription_asset(ctx.account(), ctx.region(), None);
            let state = ctx
                .call(
                    "GetSubscriptionState",
                    client.get_subscription_state().send(),
                )
                .await;
            let active = match state {
                Ok(out) => {
                    let active = *out.subscription_state() == SubscriptionState::Active;
                    asset.set_property("subscribed", Value::Bool(active));
                    active
                }
                Err(failure) => {
                    for key in [
                        "subscribed",
                        "protectedResources",
                        "drtAccess",
                        "proactiveEngagementStatus",
                    ] {
                        asset.mark_unavailable(key, failure.to_string());
                    }
                    false
                }
            };
            if active {
                let (protections, drt, subscription) = futures::join!(
                    ctx.pages(
                        "ListProtections",
                        client
                            .list_protections()
                            .max_results(100)
                            .into_paginator()
                            .send(),
                    ),
                    ctx.call("DescribeDRTAccess", client.describe_drt_access().send()),
                    ctx.call(
                        "DescribeSubscription",
                        client.describe_subscription().send()
                    ),
                );
                match protections {
                    Ok(pages) => {
                        let arns: Vec<&str> = pages
                            .iter()
                            .flat_map(|p| p.protections())
                            .filter_map(|p| p.resource_arn())
                            .collect();
                        asset.set_property("protectedResources", json!(arns));
                    }
                    Err(f) => asset.mark_unavailable("protectedResources", f.to_string()),
                }
                match drt {
                    Ok(out) => asset.set_property(
                        "drtAccess",
                        json!({
                            "roleArn": opt_str(out.role_arn()),
                            "logBuckets": out.log_bucket_list(),
                        }),
                    ),
                    Err(f) => asset.mark_unavailable("drtAccess", f.to_string()),
                }
                match subscription {
                    Ok(out) => asset.set_property(
                        "proactiveEngagementStatus",
                        opt_str(
                            out.subscription()
                                .and_then(|s| s.proactive_engagement_status())
                                .map(ProactiveEngagementStatus::as_str),
                        ),
                    ),
                    Err(f) => asset.mark_unavailable("proactiveEngagementStatus", f.to_string()),
                }
            }
            ctx.emit(asset);
        })
    }
}

/// The account's `Rampart::Shield::Subscription` asset; `subscribed` is
/// `subscribed` (or `null` until known), the other properties `null` until
/// set.
pub fn subscription_asset(account: &str, region: &str, subscribed: Option<bool>) -> Asset {
    Asset::new(
        setting_id("shield", region, account, "subscription"),
        SUBSCRIPTION_TYPE,
        account,
        region,
        "Shield Advanced subscription",
        json!({
            "subscribed": subscribed,
            "protectedResources": Value::Null,
            "drtAccess": Value::Null,
            "proactiveEngagementStatus": Value::Null,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_asset_per_account() {
        let asset = subscription_asset("123456789012", "us-east-1", Some(false));
        assert_eq!(asset.resource_type, SUBSCRIPTION_TYPE);
        assert_eq!(
            asset.arn,
            "arn:rampart:shield:us-east-1:123456789012:subscription"
        );
        assert_eq!(asset.properties["subscribed"], false);
        assert_eq!(asset.properties["drtAccess"], Value::Null);
    }
}
