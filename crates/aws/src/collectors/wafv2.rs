//! AWS WAF (v2): web ACLs (`AWS::WAFv2::WebACL`) and, per region, which
//! Application Load Balancers they protect
//! (`Rampart::WAFv2::RegionStatus`).
//!
//! Per region, scope `REGIONAL`: `ListWebACLs` (100 a page), then per web
//! ACL `GetWebACL` (rules and their CloudWatch metrics settings),
//! `GetLoggingConfiguration` (`WAFNonexistentItemException` = logging off)
//! (a `GetWebACL` answering `WAFNonexistentItemException` means the web ACL
//! was deleted after the list: `deleted: true`)
//! and `ListResourcesForWebACL` (resource type `APPLICATION_LOAD_BALANCER`).
//! Scope `CLOUDFRONT` exists only in us-east-1: the task of the scan's home
//! region lists it there (web ACLs carry the home region, as global resources do; no association
//! list: a distribution names its web ACL itself).
//!
//! The region status lists the region's web ACLs and `albAssociations`
//! (`[{webAclArn, resourceArn}]`); `webAcls` is unavailable when the list
//! failed, `albAssociations` when any association list failed, so a rule
//! never reads "no web ACL" from a failed call. AWS WAF Classic (end of
//! support 30 September 2025) is not collected.

use aws_sdk_wafv2::types::{ResourceType, Rule, Scope as WafScope, VisibilityConfig, WebAcl};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects AWS WAF web ACLs.
#[derive(Debug)]
pub struct Wafv2;

/// Resource type of AWS WAF web ACLs.
pub const WEB_ACL_TYPE: &str = "AWS::WAFv2::WebACL";

/// Resource type of the per-region AWS WAF status.
pub const REGION_TYPE: &str = rampart_model::types::WAFV2_REGION;

/// The only region with the `CLOUDFRONT` scope.
const CLOUDFRONT_REGION: &str = "us-east-1";

static META: CollectorMeta = CollectorMeta {
    service: "wafv2",
    scope: Scope::Regional,
    operations: &[
        op!("wafv2", "ListWebACLs"),
        op!("wafv2", "GetWebACL"),
        op!("wafv2", "GetLoggingConfiguration"),
        op!("wafv2", "ListResourcesForWebACL"),
    ],
    resource_types: &[WEB_ACL_TYPE, REGION_TYPE],
};

impl Collector for Wafv2 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            collect_scope(ctx, ctx.region(), WafScope::Regional).await;
            if ctx.region() == ctx.home_region() {
                collect_scope(ctx, CLOUDFRONT_REGION, WafScope::Cloudfront).await;
            }
        })
    }
}

/// One web ACL as listed: name, id, ARN.
type Listed = (String, String, String);

async fn list_web_acls(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_wafv2::Client,
    region: &str,
    scope: &WafScope,
) -> Result<Vec<Listed>, CallFailure> {
    let mut listed = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .call_optional_in(
                region,
                "ListWebACLs",
                &[],
                client
                    .list_web_acls()
                    .scope(scope.clone())
                    .limit(100)
                    .set_next_marker(marker.clone())
                    .send(),
            )
            .await?;
        let Some(out) = out else { break };
        for acl in out.web_acls() {
            if let (Some(name), Some(id), Some(arn)) = (acl.name(), acl.id(), acl.arn()) {
                listed.push((name.to_owned(), id.to_owned(), arn.to_owned()));
            }
        }
        match out.next_marker() {
            Some(next) if !next.is_empty() && !out.web_acls().is_empty() => {
                marker = Some(next.to_owned());
            }
            _ => break,
        }
    }
    Ok(listed)
}

async fn collect_scope(ctx: &CollectContext<'_>, region: &str, scope: WafScope) {
    let client = ctx.access().wafv2(region);
    let client = &client;
    let regional = scope == WafScope::Regional;
    let listed = list_web_acls(ctx, client, region, &scope).await;
    let listed = match listed {
        Ok(listed) => listed,
        Err(failure) => {
            if regional {
                let mut status = region_status(ctx.account(), region, &[], &[]);
                status.mark_unavailable("webAcls", failure.to_string());
                status.mark_unavailable("albAssociations", failure.to_string());
                ctx.emit(status);
            }
            return;
        }
    };
    let scope = &scope;
    let results: Vec<(String, Result<Vec<String>, CallFailure>)> = futures::stream::iter(listed)
        .map(|(name, id, arn)| async move {
            let acl = ctx
                .call_optional_in(
                    region,
                    "GetWebACL",
                    &["WAFNonexistentItemException"],
                    client
                        .get_web_acl()
                        .name(&name)
                        .id(&id)
                        .scope(scope.clone())
                        .send(),
                )
                .await;
            let logging = ctx
                .call_optional_in(
                    region,
                    "GetLoggingConfiguration",
                    &["WAFNonexistentItemException"],
                    client.get_logging_configuration().resource_arn(&arn).send(),
                )
                .await;
            let associated = if regional {
                ctx.call_optional_in(
                    region,
                    "ListResourcesForWebACL",
                    &[],
                    client
                        .list_resources_for_web_acl()
                        .web_acl_arn(&arn)
                        .resource_type(ResourceType::ApplicationLoadBalancer)
                        .send(),
                )
                .await
                .map(|out| out.map(|o| o.resource_arns().to_vec()).unwrap_or_default())
            } else {
                Ok(Vec::new())
            };
            let asset_region = if regional { region } else { ctx.home_region() };
            let mut asset = match &acl {
                Ok(Some(out)) if out.web_acl().is_some() => {
                    web_acl_asset(ctx.account(), asset_region, scope, out.web_acl())
                }
                Ok(_) => {
                    // Deleted between the list and the read.
                    let mut asset = web_acl_asset(ctx.account(), asset_region, scope, None);
                    asset.arn.clone_from(&arn);
                    asset.name.clone_from(&name);
                    asset.set_property("arn", Value::String(arn.clone()));
                    asset.set_property("name", Value::String(name.clone()));
                    asset.set_property("id", Value::String(id.clone()));
                    asset.set_property("deleted", Value::Bool(true));
                    asset
                }
                Err(failure) => {
                    let mut asset = web_acl_asset(ctx.account(), asset_region, scope, None);
                    asset.set_property("arn", Value::String(arn.clone()));
                    asset.set_property("name", Value::String(name.clone()));
                    asset.set_property("id", Value::String(id.clone()));
                    for key in ["rules", "visibilityConfig", "firewallManagerRuleGroups"] {
                        asset.mark_unavailable(key, failure.to_string());
                    }
                    asset.arn.clone_from(&arn);
                    asset.name.clone_from(&name);
                    asset
                }
            };
            match &logging {
                Ok(config) => {
                    let destinations = config
                        .as_ref()
                        .and_then(|c| c.logging_configuration())
                        .map(|c| c.log_destination_configs().to_vec())
                        .unwrap_or_default();
                    asset.set_property(
                        "logging",
                        json!({
                            "enabled": !destinations.is_empty(),
                            "destinations": destinations,
                        }),
                    );
                }
                Err(failure) => asset.mark_unavailable("logging", failure.to_string()),
            }
            match &associated {
                Ok(arns) => asset.set_property("associatedResources", json!(arns)),
                Err(failure) => {
                    asset.mark_unavailable("associatedResources", failure.to_string());
                }
            }
            ctx.emit(asset);
            (arn, associated)
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    if !regional {
        return;
    }
    let acls: Vec<String> = results.iter().map(|(arn, _)| arn.clone()).collect();
    let mut associations = Vec::new();
    let mut failed = None;
    for (acl, resources) in &results {
        match resources {
            Ok(resources) => {
                associations.extend(resources.iter().map(|r| (acl.clone(), r.clone())));
            }
            Err(failure) => failed = Some(failure.to_string()),
        }
    }
    let mut status = region_status(ctx.account(), region, &acls, &associations);
    if let Some(error) = failed {
        status.mark_unavailable("albAssociations", error);
    }
    ctx.emit(status);
}

fn visibility_json(v: Option<&VisibilityConfig>) -> Value {
    v.map_or(Value::Null, |v| {
        json!({
            "cloudWatchMetricsEnabled": v.cloud_watch_metrics_enabled(),
            "sampledRequestsEnabled": v.sampled_requests_enabled(),
            "metricName": v.metric_name(),
        })
    })
}

fn rule_json(rule: &Rule) -> Value {
    let statement = rule.statement();
    let kind = match statement {
        Some(s) if s.managed_rule_group_statement().is_some() => "managedRuleGroup",
        Some(s) if s.rule_group_reference_statement().is_some() => "ruleGroupReference",
        Some(s) if s.rate_based_statement().is_some() => "rateBased",
        _ => "statement",
    };
    let rule_group = statement.and_then(|s| {
        s.managed_rule_group_statement()
            .map(|m| format!("{}:{}", m.vendor_name(), m.name()))
            .or_else(|| {
                s.rule_group_reference_statement()
                    .map(|r| r.arn().to_owned())
            })
    });
    json!({
        "name": rule.name(),
        "priority": rule.priority(),
        "kind": kind,
        "ruleGroup": rule_group,
        "visibilityConfig": visibility_json(rule.visibility_config()),
    })
}

/// The `AWS::WAFv2::WebACL` asset of a web ACL (`GetWebACL`); `logging`
/// and `associatedResources` are set by the caller. `firewallManagerRuleGroups`
/// counts the rule groups Firewall Manager adds before and after the web
/// ACL's own rules. With `None` the asset holds only its scope.
pub fn web_acl_asset(account: &str, region: &str, scope: &WafScope, acl: Option<&WebAcl>) -> Asset {
    let properties = json!({
        "arn": acl.map(WebAcl::arn),
        "id": acl.map(WebAcl::id),
        "name": acl.map(WebAcl::name),
        "scope": scope.as_str(),
        "description": opt_str(acl.and_then(WebAcl::description)),
        "defaultAction": acl.and_then(WebAcl::default_action).map(|a| {
            if a.block().is_some() { "block" } else { "allow" }
        }),
        "capacity": acl.map(WebAcl::capacity),
        "managedByFirewallManager": acl.map(WebAcl::managed_by_firewall_manager),
        "rules": acl.map_or_else(Vec::new, |a| a.rules().iter().map(rule_json).collect()),
        "firewallManagerRuleGroups": acl.map(|a| {
            a.pre_process_firewall_manager_rule_groups().len()
                + a.post_process_firewall_manager_rule_groups().len()
        }),
        "visibilityConfig": visibility_json(acl.and_then(WebAcl::visibility_config)),
        "logging": Value::Null,
        "associatedResources": Value::Null,
        "deleted": false,
    });
    let arn = acl.map(WebAcl::arn).unwrap_or_default();
    let name = acl.map(WebAcl::name).unwrap_or_default();
    Asset::new(arn, WEB_ACL_TYPE, account, region, name, properties)
}

/// The `Rampart::WAFv2::RegionStatus` asset: the region's `REGIONAL` web
/// ACLs and the Application Load Balancers associated with them.
pub fn region_status(
    account: &str,
    region: &str,
    acls: &[String],
    associations: &[(String, String)],
) -> Asset {
    let properties = json!({
        "webAcls": acls,
        "albAssociations": associations
            .iter()
            .map(|(acl, resource)| json!({"webAclArn": acl, "resourceArn": resource}))
            .collect::<Vec<_>>(),
    });
    Asset::new(
        setting_id("wafv2", region, account, "web-acls"),
        REGION_TYPE,
        account,
        region,
        "AWS WAF web ACLs",
        properties,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_wafv2::types::{
        AllowAction, DefaultAction, ManagedRuleGroupStatement, OverrideAction, Statement,
    };

    fn visibility(metrics: bool) -> VisibilityConfig {
        VisibilityConfig::builder()
            .cloud_watch_metrics_enabled(metrics)
            .sampled_requests_enabled(true)
            .metric_name("m")
            .build()
            .unwrap()
    }

    #[test]
    fn maps_a_web_acl_and_the_region_status() {
        let rule = Rule::builder()
            .name("common")
            .priority(0)
            .statement(
                Statement::builder()
                    .managed_rule_group_statement(
                        ManagedRuleGroupStatement::builder()
                            .vendor_name("AWS")
                            .name("AWSManagedRulesCommonRuleSet")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .override_action(OverrideAction::builder().build())
            .visibility_config(visibility(false))
            .build()
            .unwrap();
        let acl = WebAcl::builder()
            .name("web")
            .id("a1")
            .arn("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/web/a1")
            .default_action(
                DefaultAction::builder()
                    .allow(AllowAction::builder().build())
                    .build(),
            )
            .rules(rule)
            .visibility_config(visibility(true))
            .build()
            .unwrap();
        let asset = web_acl_asset("123456789012", "eu-west-1", &WafScope::Regional, Some(&acl));
        assert_eq!(asset.resource_type, WEB_ACL_TYPE);
        assert_eq!(asset.name, "web");
        let p = &asset.properties;
        assert_eq!(p["scope"], "REGIONAL");
        assert_eq!(p["defaultAction"], "allow");
        assert_eq!(p["rules"][0]["kind"], "managedRuleGroup");
        assert_eq!(
            p["rules"][0]["ruleGroup"],
            "AWS:AWSManagedRulesCommonRuleSet"
        );
        assert_eq!(
            p["rules"][0]["visibilityConfig"]["cloudWatchMetricsEnabled"],
            false
        );
        assert_eq!(p["visibilityConfig"]["cloudWatchMetricsEnabled"], true);
        assert_eq!(p["firewallManagerRuleGroups"], 0);

        let status = region_status(
            "123456789012",
            "eu-west-1",
            &["acl".to_owned()],
            &[("acl".to_owned(), "alb".to_owned())],
        );
        assert_eq!(status.resource_type, REGION_TYPE);
        assert_eq!(
            status.properties["albAssociations"],
            json!([{"webAclArn": "acl", "resourceArn": "alb"}])
        );
    }
}
