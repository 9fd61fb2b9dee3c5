//! Route 53: hosted zones (`AWS::Route53::HostedZone`) with their DNS
//! query logging and DNSSEC signing, and registered domains
//! (`Rampart::Route53Domains::Domain`); a global service collected once
//! per account.
//!
//! `ListHostedZones` (100 a page) and `ListQueryLoggingConfigs` (every
//! configuration of the account, 100 a page) once; `GetDNSSEC` per public
//! hosted zone (private zones cannot be signed; their `dnssec` is `null`).
//! A failed query-logging list marks every zone's `queryLogging`
//! unavailable, a failed `GetDNSSEC` that zone's `dnssec`; `NoSuchHostedZone`
//! there means the zone was deleted after the list (`deleted: true`).
//!
//! Registered domains live in the Route 53 Domains API, which exists only
//! in us-east-1: `ListDomains` (100 a page) there, whose summaries carry the
//! transfer lock and auto-renew settings, and `GetDomainDetail` per domain
//! for its EPP status codes (`statusList`: an expired domain in its
//! redemption period or pending deletion); a failed detail read marks
//! `statusList` unavailable.

use std::collections::BTreeMap;

use aws_sdk_route53::types::HostedZone;
use aws_sdk_route53domains::types::DomainSummary;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Route 53 hosted zones and registered domains.
#[derive(Debug)]
pub struct Route53;

/// Resource type of hosted zones.
pub const HOSTED_ZONE_TYPE: &str = "AWS::Route53::HostedZone";

/// Resource type of registered domains (CloudFormation has none).
pub const DOMAIN_TYPE: &str = rampart_model::types::ROUTE53_DOMAIN;

/// The only region of the Route 53 Domains API.
const DOMAINS_REGION: &str = "us-east-1";

static META: CollectorMeta = CollectorMeta {
    service: "route53",
    scope: Scope::Global,
    operations: &[
        op!("route53", "ListHostedZones"),
        op!("route53", "ListQueryLoggingConfigs"),
        op!("route53", "GetDNSSEC"),
        op!("route53domains", "ListDomains"),
        op!("route53domains", "GetDomainDetail"),
    ],
    resource_types: &[HOSTED_ZONE_TYPE, DOMAIN_TYPE],
};

impl Collector for Route53 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            futures::join!(collect_zones(ctx), collect_domains(ctx));
        })
    }
}

async fn collect_zones(ctx: &CollectContext<'_>) {
    let client = ctx.access().route53(ctx.region());
    let Ok(pages) = ctx
        .pages(
            "ListHostedZones",
            client
                .list_hosted_zones()
                .max_items(100)
                .into_paginator()
                .send(),
        )
        .await
    else {
        return;
    };
    let logging: Result<BTreeMap<String, Vec<String>>, CallFailure> = ctx
        .pages(
            "ListQueryLoggingConfigs",
            client
                .list_query_logging_configs()
                .max_results(100)
                .into_paginator()
                .send(),
        )
        .await
        .map(|pages| {
            let mut by_zone: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for config in pages.iter().flat_map(|p| p.query_logging_configs()) {
                by_zone
                    .entry(zone_id(config.hosted_zone_id()).to_owned())
                    .or_default()
                    .push(config.cloud_watch_logs_log_group_arn().to_owned());
            }
            by_zone
        });
    let client = &client;
    let logging = &logging;
    let zones: Vec<HostedZone> = pages
        .iter()
        .flat_map(|p| p.hosted_zones().iter().cloned())
        .collect();
    futures::stream::iter(zones)
        .map(|zone| async move {
            let zone = &zone;
            let private = zone.config().is_some_and(|c| c.private_zone());
            let mut asset = hosted_zone_asset(ctx.account(), ctx.region(), zone);
            match logging {
                Ok(by_zone) => {
                    let groups = by_zone.get(zone_id(zone.id())).cloned().unwrap_or_default();
                    asset.set_property(
                        "queryLogging",
                        json!({"enabled": !groups.is_empty(), "logGroupArns": groups}),
                    );
                }
                Err(failure) => asset.mark_unavailable("queryLogging", failure.to_string()),
            }
            if !private {
                match ctx
                    .call_optional(
                        "GetDNSSEC",
                        &["NoSuchHostedZone"],
                        client.get_dnssec().hosted_zone_id(zone_id(zone.id())).send(),
                    )
                    .await
                {
                    Ok(None) => asset.set_property("deleted", Value::Bool(true)),
                    Ok(Some(out)) => asset.set_property(
                        "dnssec",
                        json!({
                            "serveSignature": opt_str(out.status().and_then(|s| s.serve_signature())),
                            "keySigningKeys": out.key_signing_keys().len(),
                        }),
                    ),
                    Err(failure) => asset.mark_unavailable("dnssec", failure.to_string()),
                }
            }
            ctx.emit(asset);
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

async fn collect_domains(ctx: &CollectContext<'_>) {
    let client = ctx.access().route53domains(DOMAINS_REGION);
    let Ok(pages) = ctx
        .pages(
            "ListDomains",
            client.list_domains().max_items(100).into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let client = &client;
    let domains: Vec<DomainSummary> = pages
        .iter()
        .flat_map(|p| p.domains().iter().cloned())
        .collect();
    futures::stream::iter(domains)
        .map(|domain| async move {
            let domain = &domain;
            let Some(mut asset) = domain_asset(ctx.account(), ctx.region(), domain) else {
                return;
            };
            let name = domain.domain_name().unwrap_or_default();
            match ctx
                .call(
                    "GetDomainDetail",
                    client.get_domain_detail().domain_name(name).send(),
                )
                .await
            {
                Ok(detail) => asset.set_property("statusList", json!(detail.status_list())),
                Err(failure) => asset.mark_unavailable("statusList", failure.to_string()),
            }
            ctx.emit(asset);
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// A hosted zone id without its `/hostedzone/` prefix.
pub fn zone_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// The `AWS::Route53::HostedZone` asset (in the scan's home region, as
/// global resources are). `queryLogging` and `dnssec` are set by the
/// caller; `dnssec` stays `null` for private zones.
pub fn hosted_zone_asset(account: &str, region: &str, zone: &HostedZone) -> Asset {
    let id = zone_id(zone.id());
    let private = zone.config().is_some_and(|c| c.private_zone());
    let properties = json!({
        "id": id,
        "name": zone.name(),
        "privateZone": private,
        "comment": opt_str(zone.config().and_then(|c| c.comment())),
        "resourceRecordSetCount": zone.resource_record_set_count(),
        "linkedService": opt_str(zone.linked_service().and_then(|l| l.service_principal())),
        "queryLogging": Value::Null,
        "dnssec": Value::Null,
        "deleted": false,
    });
    Asset::new(
        format!("arn:{}:route53:::hostedzone/{id}", partition(region)),
        HOSTED_ZONE_TYPE,
        account,
        region,
        zone.name().trim_end_matches('.'),
        properties,
    )
}

/// The `Rampart::Route53Domains::Domain` asset of a registered domain
/// (`None` without a name). `transferLock` and `autoRenew` are `null` when
/// the API leaves them out; `statusList` is set by the caller.
pub fn domain_asset(account: &str, region: &str, domain: &DomainSummary) -> Option<Asset> {
    let name = domain.domain_name()?;
    let properties = json!({
        "domainName": name,
        "transferLock": domain.transfer_lock(),
        "autoRenew": domain.auto_renew(),
        "expiry": opt_timestamp(domain.expiry()),
        "statusList": Value::Null,
    });
    Some(Asset::new(
        format!("arn:{}:route53domains:::domain/{name}", partition(region)),
        DOMAIN_TYPE,
        account,
        region,
        name,
        properties,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::HostedZoneConfig;

    #[test]
    fn maps_a_public_zone() {
        let zone = HostedZone::builder()
            .id("/hostedzone/Z0123ABC")
            .name("example.com.")
            .caller_reference("r")
            .config(HostedZoneConfig::builder().private_zone(false).build())
            .resource_record_set_count(4)
            .build()
            .unwrap();
        let asset = hosted_zone_asset("123456789012", "us-east-1", &zone);
        assert_eq!(asset.arn, "arn:aws:route53:::hostedzone/Z0123ABC");
        assert_eq!(asset.name, "example.com");
        assert_eq!(asset.properties["privateZone"], false);
        assert_eq!(asset.properties["id"], "Z0123ABC");
        assert_eq!(zone_id("Z0123ABC"), "Z0123ABC");
    }

    #[test]
    fn maps_a_domain() {
        let domain = DomainSummary::builder()
            .domain_name("example.com")
            .transfer_lock(false)
            .auto_renew(true)
            .build();
        let asset = domain_asset("123456789012", "us-east-1", &domain).unwrap();
        assert_eq!(asset.resource_type, DOMAIN_TYPE);
        assert_eq!(asset.properties["transferLock"], false);
        assert_eq!(asset.properties["autoRenew"], true);
        assert!(domain_asset("1", "us-east-1", &DomainSummary::builder().build()).is_none());
    }
}
