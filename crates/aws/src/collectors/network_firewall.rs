//! AWS Network Firewall: firewalls (`AWS::NetworkFirewall::Firewall`) with
//! their logging, firewall policies (`AWS::NetworkFirewall::FirewallPolicy`)
//! and rule groups (`AWS::NetworkFirewall::RuleGroup`).
//!
//! Per region `ListFirewalls`, then per firewall `DescribeFirewall` (its
//! protections, subnets and the Availability Zones its endpoints are in,
//! from the status's sync states) and `DescribeLoggingConfiguration`.
//! `ListFirewallPolicies` / `DescribeFirewallPolicy` and `ListRuleGroups` /
//! `DescribeRuleGroup` likewise. A failed describe keeps the listed name
//! and ARN and marks the rest unavailable.

use aws_sdk_networkfirewall::operation::describe_firewall::DescribeFirewallOutput;
use aws_sdk_networkfirewall::operation::describe_firewall_policy::DescribeFirewallPolicyOutput;
use aws_sdk_networkfirewall::operation::describe_logging_configuration::DescribeLoggingConfigurationOutput;
use aws_sdk_networkfirewall::operation::describe_rule_group::DescribeRuleGroupOutput;
use aws_sdk_networkfirewall::types::Tag;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, str_list, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Network Firewall firewalls, policies and rule groups.
#[derive(Debug)]
pub struct NetworkFirewall;

static META: CollectorMeta = CollectorMeta {
    service: "network-firewall",
    scope: Scope::Regional,
    operations: &[
        op!("network-firewall", "ListFirewalls"),
        op!("network-firewall", "DescribeFirewall"),
        op!("network-firewall", "DescribeLoggingConfiguration"),
        op!("network-firewall", "ListFirewallPolicies"),
        op!("network-firewall", "DescribeFirewallPolicy"),
        op!("network-firewall", "ListRuleGroups"),
        op!("network-firewall", "DescribeRuleGroup"),
    ],
    resource_types: &[FIREWALL, FIREWALL_POLICY, RULE_GROUP],
};

/// A firewall.
pub const FIREWALL: &str = "AWS::NetworkFirewall::Firewall";
/// A firewall policy.
pub const FIREWALL_POLICY: &str = "AWS::NetworkFirewall::FirewallPolicy";
/// A rule group.
pub const RULE_GROUP: &str = "AWS::NetworkFirewall::RuleGroup";

type Client = aws_sdk_networkfirewall::Client;

impl Collector for NetworkFirewall {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().network_firewall(ctx.region());
            let client = &client;
            futures::join!(
                collect_firewalls(ctx, client),
                collect_policies(ctx, client),
                collect_rule_groups(ctx, client),
            );
        })
    }
}

async fn collect_firewalls(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListFirewalls",
            client.list_firewalls().into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let listed: Vec<(String, String)> = pages
        .iter()
        .flat_map(|p| p.firewalls())
        .filter_map(|f| Some((f.firewall_arn()?.to_owned(), f.firewall_name()?.to_owned())))
        .collect();
    let assets: Vec<Asset> = futures::stream::iter(listed)
        .map(|(arn, name)| async move {
            let detail = ctx
                .call(
                    "DescribeFirewall",
                    client.describe_firewall().firewall_arn(&arn).send(),
                )
                .await;
            let logging = ctx
                .call(
                    "DescribeLoggingConfiguration",
                    client
                        .describe_logging_configuration()
                        .firewall_arn(&arn)
                        .send(),
                )
                .await;
            firewall_asset(
                ctx.account(),
                ctx.region(),
                &arn,
                &name,
                detail.as_ref(),
                logging.as_ref(),
            )
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets {
        ctx.emit(asset);
    }
}

async fn collect_policies(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListFirewallPolicies",
            client.list_firewall_policies().into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let listed: Vec<(String, String)> = pages
        .iter()
        .flat_map(|p| p.firewall_policies())
        .filter_map(|f| Some((f.arn()?.to_owned(), f.name()?.to_owned())))
        .collect();
    let assets: Vec<Asset> = futures::stream::iter(listed)
        .map(|(arn, name)| async move {
            let detail = ctx
                .call(
                    "DescribeFirewallPolicy",
                    client
                        .describe_firewall_policy()
                        .firewall_policy_arn(&arn)
                        .send(),
                )
                .await;
            policy_asset(ctx.account(), ctx.region(), &arn, &name, detail.as_ref())
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets {
        ctx.emit(asset);
    }
}

async fn collect_rule_groups(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListRuleGroups",
            client.list_rule_groups().into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let listed: Vec<(String, String)> = pages
        .iter()
        .flat_map(|p| p.rule_groups())
        .filter_map(|f| Some((f.arn()?.to_owned(), f.name()?.to_owned())))
        .collect();
    let assets: Vec<Asset> = futures::stream::iter(listed)
        .map(|(arn, name)| async move {
            let detail = ctx
                .call(
                    "DescribeRuleGroup",
                    client.describe_rule_group().rule_group_arn(&arn).send(),
                )
                .await;
            rule_group_asset(ctx.account(), ctx.region(), &arn, &name, detail.as_ref())
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets {
        ctx.emit(asset);
    }
}

fn tags(tags: &[Tag]) -> std::collections::BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (Some(t.key()), Some(t.value()))))
}

/// Marks `keys` unavailable (and `null`) on `asset` after a failed read.
fn unavailable(asset: &mut Asset, keys: &[&str], failure: &CallFailure) {
    for key in keys {
        asset.set_property(key, Value::Null);
        asset.mark_unavailable(key, failure.to_string());
    }
}

const FIREWALL_KEYS: &[&str] = &[
    "status",
    "vpcId",
    "firewallPolicyArn",
    "deleteProtection",
    "subnetChangeProtection",
    "firewallPolicyChangeProtection",
    "subnetIds",
    "availabilityZones",
];

/// The `AWS::NetworkFirewall::Firewall` asset: its status (`PROVISIONING`,
/// `READY`, `DELETING`), protections, subnets,
/// the Availability Zones of its endpoints (the keys of the status's sync
/// states, or its Availability Zone mappings for a transit gateway
/// firewall) and its logging destinations (`logDestinations`, empty when
/// logging is off).
pub fn firewall_asset(
    account: &str,
    region: &str,
    arn: &str,
    name: &str,
    detail: Result<&DescribeFirewallOutput, &CallFailure>,
    logging: Result<&DescribeLoggingConfigurationOutput, &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        arn,
        FIREWALL,
        account,
        region,
        name,
        json!({ "firewallName": name, "firewallArn": arn }),
    );
    match detail.map(|d| (d.firewall(), d.firewall_status())) {
        Ok((Some(f), status)) => {
            let mut zones: Vec<&str> = status
                .and_then(|s| s.sync_states())
                .map(|states| states.keys().map(String::as_str).collect())
                .unwrap_or_default();
            zones.extend(
                f.availability_zone_mappings()
                    .iter()
                    .map(|m| m.availability_zone()),
            );
            zones.sort_unstable();
            zones.dedup();
            let subnets: Vec<&str> = f.subnet_mappings().iter().map(|s| s.subnet_id()).collect();
            asset.set_property("vpcId", opt_str(Some(f.vpc_id()).filter(|v| !v.is_empty())));
            asset.set_property("firewallPolicyArn", Value::from(f.firewall_policy_arn()));
            asset.set_property("deleteProtection", Value::Bool(f.delete_protection()));
            asset.set_property(
                "subnetChangeProtection",
                Value::Bool(f.subnet_change_protection()),
            );
            asset.set_property(
                "firewallPolicyChangeProtection",
                Value::Bool(f.firewall_policy_change_protection()),
            );
            asset.set_property("subnetIds", str_list(&subnets));
            asset.set_property("availabilityZones", str_list(&zones));
            asset.set_property("status", opt_str(status.map(|s| s.status().as_str())));
            asset.tags = tags(f.tags());
        }
        Ok((None, _)) => {
            let failure = CallFailure {
                kind: rampart_model::GapKind::Other,
                code: None,
                message: "DescribeFirewall returned no firewall".to_owned(),
            };
            unavailable(&mut asset, FIREWALL_KEYS, &failure);
        }
        Err(failure) => unavailable(&mut asset, FIREWALL_KEYS, failure),
    }
    match logging {
        Ok(out) => {
            let destinations: Vec<Value> = out
                .logging_configuration()
                .map(|c| c.log_destination_configs())
                .unwrap_or_default()
                .iter()
                .map(|d| {
                    json!({
                        "logType": d.log_type().as_str(),
                        "logDestinationType": d.log_destination_type().as_str(),
                    })
                })
                .collect();
            asset.set_property("logDestinations", Value::Array(destinations));
        }
        Err(failure) => unavailable(&mut asset, &["logDestinations"], failure),
    }
    asset
}

const POLICY_KEYS: &[&str] = &[
    "statelessDefaultActions",
    "statelessFragmentDefaultActions",
    "statelessRuleGroupArns",
    "statefulRuleGroupArns",
];

/// The `AWS::NetworkFirewall::FirewallPolicy` asset: its stateless default
/// actions (full and fragmented packets) and the rule groups it references.
pub fn policy_asset(
    account: &str,
    region: &str,
    arn: &str,
    name: &str,
    detail: Result<&DescribeFirewallPolicyOutput, &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        arn,
        FIREWALL_POLICY,
        account,
        region,
        name,
        json!({ "firewallPolicyName": name, "firewallPolicyArn": arn }),
    );
    match detail {
        Ok(out) => {
            let Some(policy) = out.firewall_policy() else {
                let failure = CallFailure {
                    kind: rampart_model::GapKind::Other,
                    code: None,
                    message: "DescribeFirewallPolicy returned no policy".to_owned(),
                };
                unavailable(&mut asset, POLICY_KEYS, &failure);
                return asset;
            };
            asset.set_property(
                "statelessDefaultActions",
                str_list(policy.stateless_default_actions()),
            );
            asset.set_property(
                "statelessFragmentDefaultActions",
                str_list(policy.stateless_fragment_default_actions()),
            );
            let stateless: Vec<&str> = policy
                .stateless_rule_group_references()
                .iter()
                .map(|r| r.resource_arn())
                .collect();
            let stateful: Vec<&str> = policy
                .stateful_rule_group_references()
                .iter()
                .map(|r| r.resource_arn())
                .collect();
            asset.set_property("statelessRuleGroupArns", str_list(&stateless));
            asset.set_property("statefulRuleGroupArns", str_list(&stateful));
            if let Some(response) = out.firewall_policy_response() {
                asset.set_property(
                    "status",
                    opt_str(response.firewall_policy_status().map(|s| s.as_str())),
                );
                asset.tags = tags(response.tags());
            }
        }
        Err(failure) => unavailable(&mut asset, POLICY_KEYS, failure),
    }
    asset
}

/// The `AWS::NetworkFirewall::RuleGroup` asset: its type (`STATEFUL` /
/// `STATELESS`) and, for a stateless group, how many rules it holds
/// (`statelessRuleCount`; `null` for stateful groups).
pub fn rule_group_asset(
    account: &str,
    region: &str,
    arn: &str,
    name: &str,
    detail: Result<&DescribeRuleGroupOutput, &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        arn,
        RULE_GROUP,
        account,
        region,
        name,
        json!({ "ruleGroupName": name, "ruleGroupArn": arn }),
    );
    match detail {
        Ok(out) => {
            let kind = out
                .rule_group_response()
                .and_then(|r| r.r#type())
                .map(|t| t.as_str());
            asset.set_property("type", opt_str(kind));
            let count = (kind == Some("STATELESS")).then(|| {
                out.rule_group()
                    .and_then(|g| g.rules_source())
                    .and_then(|s| s.stateless_rules_and_custom_actions())
                    .map_or(0, |r| r.stateless_rules().len())
            });
            asset.set_property("statelessRuleCount", count.map_or(Value::Null, Value::from));
            if let Some(response) = out.rule_group_response() {
                asset.set_property(
                    "status",
                    opt_str(response.rule_group_status().map(|s| s.as_str())),
                );
                asset.tags = tags(response.tags());
            }
        }
        Err(failure) => unavailable(&mut asset, &["type", "statelessRuleCount"], failure),
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_networkfirewall::types::{
        ConfigurationSyncState, Firewall, FirewallPolicy, FirewallPolicyResponse, FirewallStatus,
        FirewallStatusValue, LogDestinationConfig, LogDestinationType, LogType,
        LoggingConfiguration, MatchAttributes, RuleDefinition, RuleGroup, RuleGroupResponse,
        RuleGroupType, RulesSource, StatefulRuleGroupReference, StatelessRule,
        StatelessRulesAndCustomActions, SubnetMapping, SyncState,
    };
    use rampart_model::GapKind;

    const ARN: &str = "arn:aws:network-firewall:us-east-1:123456789012:firewall/edge";

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        }
    }

    fn firewall(zones: &[&str]) -> DescribeFirewallOutput {
        let mut status = FirewallStatus::builder()
            .status(FirewallStatusValue::Ready)
            .configuration_sync_state_summary(ConfigurationSyncState::InSync);
        for zone in zones {
            status = status.sync_states(*zone, SyncState::builder().build());
        }
        DescribeFirewallOutput::builder()
            .firewall(
                Firewall::builder()
                    .firewall_name("edge")
                    .firewall_arn(ARN)
                    .firewall_policy_arn(
                        "arn:aws:network-firewall:us-east-1:123456789012:firewall-policy/p",
                    )
                    .vpc_id("vpc-1")
                    .subnet_mappings(
                        SubnetMapping::builder()
                            .subnet_id("subnet-a")
                            .build()
                            .unwrap(),
                    )
                    .delete_protection(true)
                    .subnet_change_protection(false)
                    .firewall_id("id-1")
                    .tags(Tag::builder().key("env").value("prod").build().unwrap())
                    .build()
                    .unwrap(),
            )
            .firewall_status(status.build().unwrap())
            .build()
    }

    #[test]
    fn maps_a_firewall_with_logging() {
        let logging = DescribeLoggingConfigurationOutput::builder()
            .logging_configuration(
                LoggingConfiguration::builder()
                    .log_destination_configs(
                        LogDestinationConfig::builder()
                            .log_type(LogType::Flow)
                            .log_destination_type(LogDestinationType::S3)
                            .log_destination("bucketName", "logs")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build();
        let detail = firewall(&["us-east-1b", "us-east-1a"]);
        let asset = firewall_asset(
            "123456789012",
            "us-east-1",
            ARN,
            "edge",
            Ok(&detail),
            Ok(&logging),
        );
        assert_eq!(asset.resource_type, FIREWALL);
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["deleteProtection"], true);
        assert_eq!(p["subnetChangeProtection"], false);
        assert_eq!(p["availabilityZones"], json!(["us-east-1a", "us-east-1b"]));
        assert_eq!(p["subnetIds"], json!(["subnet-a"]));
        assert_eq!(
            p["logDestinations"],
            json!([{ "logType": "FLOW", "logDestinationType": "S3" }])
        );
    }

    #[test]
    fn unread_parts_are_unavailable() {
        let failure = denied();
        let empty = DescribeLoggingConfigurationOutput::builder().build();
        let asset = firewall_asset(
            "123456789012",
            "us-east-1",
            ARN,
            "edge",
            Err(&failure),
            Ok(&empty),
        );
        assert_eq!(asset.properties["deleteProtection"], Value::Null);
        assert!(asset.unavailable.contains_key("deleteProtection"));
        assert_eq!(asset.properties["logDestinations"], json!([]));

        let detail = firewall(&["us-east-1a"]);
        let asset = firewall_asset(
            "123456789012",
            "us-east-1",
            ARN,
            "edge",
            Ok(&detail),
            Err(&failure),
        );
        assert!(asset.unavailable.contains_key("logDestinations"));
        assert!(!asset.unavailable.contains_key("deleteProtection"));
    }

    #[test]
    fn maps_a_policy() {
        let out = DescribeFirewallPolicyOutput::builder()
            .update_token("t")
            .firewall_policy(
                FirewallPolicy::builder()
                    .stateless_default_actions("aws:forward_to_sfe")
                    .stateless_fragment_default_actions("aws:pass")
                    .stateful_rule_group_references(
                        StatefulRuleGroupReference::builder()
                            .resource_arn("arn:rg")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .firewall_policy_response(
                FirewallPolicyResponse::builder()
                    .firewall_policy_name("p")
                    .firewall_policy_arn("arn:p")
                    .firewall_policy_id("id")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let asset = policy_asset("123456789012", "us-east-1", "arn:p", "p", Ok(&out));
        let p = &asset.properties;
        assert_eq!(p["statelessDefaultActions"], json!(["aws:forward_to_sfe"]));
        assert_eq!(p["statelessFragmentDefaultActions"], json!(["aws:pass"]));
        assert_eq!(p["statefulRuleGroupArns"], json!(["arn:rg"]));
        assert_eq!(p["statelessRuleGroupArns"], json!([]));
    }

    #[test]
    fn counts_stateless_rules() {
        let response = |kind| {
            RuleGroupResponse::builder()
                .rule_group_arn("arn:rg")
                .rule_group_name("rg")
                .rule_group_id("id")
                .r#type(kind)
                .build()
                .unwrap()
        };
        let rule = StatelessRule::builder()
            .priority(1)
            .rule_definition(
                RuleDefinition::builder()
                    .actions("aws:drop")
                    .match_attributes(MatchAttributes::builder().build())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let out = DescribeRuleGroupOutput::builder()
            .update_token("t")
            .rule_group_response(response(RuleGroupType::Stateless))
            .rule_group(
                RuleGroup::builder()
                    .rules_source(
                        RulesSource::builder()
                            .stateless_rules_and_custom_actions(
                                StatelessRulesAndCustomActions::builder()
                                    .stateless_rules(rule)
                                    .build()
                                    .unwrap(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
            .unwrap();
        let asset = rule_group_asset("1", "us-east-1", "arn:rg", "rg", Ok(&out));
        assert_eq!(asset.properties["type"], "STATELESS");
        assert_eq!(asset.properties["statelessRuleCount"], 1);

        let stateful = DescribeRuleGroupOutput::builder()
            .update_token("t")
            .rule_group_response(response(RuleGroupType::Stateful))
            .build()
            .unwrap();
        let asset = rule_group_asset("1", "us-east-1", "arn:rg", "rg", Ok(&stateful));
        assert_eq!(asset.properties["statelessRuleCount"], Value::Null);

        let failure = denied();
        let asset = rule_group_asset("1", "us-east-1", "arn:rg", "rg", Err(&failure));
        assert!(asset.unavailable.contains_key("type"));
    }
}
