//! EventBridge: event buses (`AWS::Events::EventBus`) with their
//! resource-based policy.
//!
//! Per region: `ListEventBuses` (paged by `NextToken`) once; its answer
//! carries each bus's policy, so no per-bus call is made. The account's
//! `default` bus and partner event buses (`aws.partner/…`) are emitted too,
//! marked by `kind`.

use aws_sdk_eventbridge::types::EventBus;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, policy_document};
use crate::op;
use crate::scan::CollectContext;

/// Collects EventBridge event buses.
#[derive(Debug)]
pub struct EventBridge;

static META: CollectorMeta = CollectorMeta {
    service: "events",
    scope: Scope::Regional,
    operations: &[op!("events", "ListEventBuses")],
    resource_types: &["AWS::Events::EventBus"],
};

impl Collector for EventBridge {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().eventbridge(ctx.region());
            let mut token: Option<String> = None;
            let mut buses: Vec<EventBus> = Vec::new();
            loop {
                let Ok(page) = ctx
                    .call(
                        "ListEventBuses",
                        client
                            .list_event_buses()
                            .limit(100)
                            .set_next_token(token.take())
                            .send(),
                    )
                    .await
                else {
                    return;
                };
                buses.extend(page.event_buses.unwrap_or_default());
                match page.next_token {
                    Some(next) if !next.is_empty() => token = Some(next),
                    _ => break,
                }
            }
            for bus in &buses {
                ctx.emit(event_bus_asset(ctx.account(), ctx.region(), bus));
            }
        })
    }
}

/// What kind of bus a name denotes: `default` (the account's default bus),
/// `partner` (a SaaS partner's bus, `aws.partner/…`) or `custom`.
pub fn bus_kind(name: &str) -> &'static str {
    if name == "default" {
        "default"
    } else if name.starts_with("aws.partner/") {
        "partner"
    } else {
        "custom"
    }
}

/// The `AWS::Events::EventBus` asset of one listed bus. `policy` is the
/// resource-based policy document, `null` when the bus has none.
pub fn event_bus_asset(account: &str, region: &str, bus: &EventBus) -> Asset {
    let name = bus.name.as_deref().unwrap_or_default();
    let arn = bus.arn.clone().unwrap_or_else(|| {
        format!(
            "arn:{}:events:{region}:{account}:event-bus/{name}",
            partition(region)
        )
    });
    let properties = json!({
        "name": name,
        "arn": arn,
        "kind": bus_kind(name),
        "description": opt_str(bus.description.as_deref()),
        "policy": bus.policy.as_deref().filter(|p| !p.is_empty()).map_or(Value::Null, policy_document),
        "createdAt": opt_timestamp(bus.creation_time.as_ref()),
    });
    Asset::new(
        arn.clone(),
        "AWS::Events::EventBus",
        account,
        region,
        name,
        properties,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_buses_and_their_kind() {
        let bus = EventBus::builder()
            .name("orders")
            .arn("arn:aws:events:us-east-1:123456789012:event-bus/orders")
            .policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
            .build();
        let asset = event_bus_asset("123456789012", "us-east-1", &bus);
        assert_eq!(asset.properties["kind"], "custom");
        assert_eq!(asset.properties["policy"]["Version"], "2012-10-17");
        let bare = EventBus::builder().name("default").build();
        let asset = event_bus_asset("123456789012", "us-east-1", &bare);
        assert_eq!(
            asset.arn,
            "arn:aws:events:us-east-1:123456789012:event-bus/default"
        );
        assert_eq!(asset.properties["kind"], "default");
        assert_eq!(asset.properties["policy"], Value::Null);
        assert_eq!(bus_kind("aws.partner/saas.com/1/events"), "partner");
    }
}
