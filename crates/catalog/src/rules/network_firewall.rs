//! Rules for AWS Network Firewall: firewalls (multi-AZ, logging, deletion
//! and subnet change protection), firewall policies (rule groups, stateless
//! default actions) and stateless rule groups.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "network-firewall-multi-az",
        check: multi_az,
    },
    Rule {
        id: "network-firewall-logging",
        check: logging,
    },
    Rule {
        id: "network-firewall-policy-rule-group",
        check: policy_rule_group,
    },
    Rule {
        id: "network-firewall-policy-default-action-full-packets",
        check: default_action_full,
    },
    Rule {
        id: "network-firewall-policy-default-action-fragmented-packets",
        check: default_action_fragmented,
    },
    Rule {
        id: "network-firewall-stateless-rule-group-not-empty",
        check: stateless_rule_group_not_empty,
    },
    Rule {
        id: "network-firewall-deletion-protection",
        check: deletion_protection,
    },
    Rule {
        id: "network-firewall-subnet-change-protection",
        check: subnet_change_protection,
    },
];

/// Not applicable: a firewall, policy or rule group being deleted.
fn deleting(p: &Props<'_>, what: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.str("status")? == Some("DELETING")).then(|| {
        Outcome::not_applicable(format!("The {what} is being deleted.")).with(p.evidence("status"))
    }))
}

/// A boolean the collector always sets unless the read failed.
fn required_bool(p: &Props<'_>, path: &str) -> Result<bool, Unreadable> {
    p.bool(path)?.ok_or_else(|| Unreadable {
        path: path.to_owned(),
        error: format!("the firewall does not report `{path}`"),
    })
}

/// FSBP NetworkFirewall.1 (all firewall, policy and rule group rules are
/// not applicable while the resource is being deleted): the firewall has endpoints in at least two
/// Availability Zones (Security Hub's default; the zones are those of the
/// firewall's sync states).
fn multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p, "firewall")? {
        return Ok(na);
    }
    let zones = p.array("availabilityZones")?.len();
    Ok(Outcome::either(
        zones >= 2,
        format!("The firewall has endpoints in {zones} Availability Zones."),
        match zones {
            0 => "The firewall has no endpoint in any Availability Zone; map it to subnets in at least two zones.".to_owned(),
            _ => "The firewall has endpoints in one Availability Zone only; map a subnet of a second zone so an outage of one zone does not stop filtering.".to_owned(),
        },
    )
    .with(p.evidence("availabilityZones")))
}

/// FSBP NetworkFirewall.2: the firewall sends at least one log type (flow,
/// alert or TLS) to a destination.
fn logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p, "firewall")? {
        return Ok(na);
    }
    let destinations = p.array("logDestinations")?;
    let types: Vec<&str> = destinations
        .iter()
        .filter_map(|d| d.get("logType").and_then(Node::as_str))
        .collect();
    Ok(Outcome::either(
        !types.is_empty(),
        format!("The firewall logs {} traffic.", types.join(" and ")),
        "The firewall has no logging configuration; send its flow and alert logs to S3, CloudWatch Logs or Firehose.",
    )
    .with(p.evidence("logDestinations")))
}

/// FSBP NetworkFirewall.3: the policy references at least one stateless or
/// stateful rule group.
fn policy_rule_group(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p, "policy")? {
        return Ok(na);
    }
    let stateless = p.array("statelessRuleGroupArns")?.len();
    let stateful = p.array("statefulRuleGroupArns")?.len();
    if p.get("statelessRuleGroupArns")?.is_none() && p.get("statefulRuleGroupArns")?.is_none() {
        return Err(Unreadable {
            path: "statefulRuleGroupArns".to_owned(),
            error: "the policy's rule groups were not reported".to_owned(),
        });
    }
    Ok(Outcome::either(
        stateless + stateful > 0,
        format!("The policy uses {stateless} stateless and {stateful} stateful rule groups."),
        "The policy has no rule group, so the firewall inspects nothing beyond its default actions; associate a stateless or stateful rule group.",
    )
    .with(p.evidence("statelessRuleGroupArns"))
    .with(p.evidence("statefulRuleGroupArns")))
}

/// The stateless default actions at `path` include `aws:drop` or
/// `aws:forward_to_sfe` (what Security Hub accepts).
fn default_action(p: &Props<'_>, path: &str, what: &str) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p, "policy")? {
        return Ok(na);
    }
    let Some(actions) = p.get(path)?.and_then(Node::as_array) else {
        return Err(Unreadable {
            path: path.to_owned(),
            error: "the policy's stateless default actions were not reported".to_owned(),
        });
    };
    let ok = actions
        .iter()
        .filter_map(Node::as_str)
        .any(|a| a == "aws:drop" || a == "aws:forward_to_sfe");
    Ok(Outcome::either(
        ok,
        format!("{what} that match no stateless rule are dropped or forwarded to the stateful engine."),
        format!("{what} that match no stateless rule are passed without inspection; set the stateless default action to `aws:drop` or `aws:forward_to_sfe`."),
    )
    .with(p.evidence(path)))
}

/// FSBP NetworkFirewall.4: default stateless action for full packets.
fn default_action_full(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    default_action(p, "statelessDefaultActions", "Full packets")
}

/// FSBP NetworkFirewall.5: default stateless action for fragmented packets.
fn default_action_fragmented(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    default_action(p, "statelessFragmentDefaultActions", "Fragmented packets")
}

/// FSBP NetworkFirewall.6: a stateless rule group holds at least one rule.
/// Not applicable: stateful rule groups.
fn stateless_rule_group_not_empty(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p, "rule group")? {
        return Ok(na);
    }
    match p.str("type")? {
        Some("STATELESS") => {}
        Some(other) => {
            return Ok(Outcome::not_applicable(format!(
                "The rule group is {other}; the control covers stateless rule groups."
            ))
            .with(p.evidence("type")));
        }
        None => {
            return Err(Unreadable {
                path: "type".to_owned(),
                error: "the rule group's type was not reported".to_owned(),
            });
        }
    }
    let count = p.i64("statelessRuleCount")?.unwrap_or(0);
    Ok(Outcome::either(
        count > 0,
        format!("The stateless rule group holds {count} rules."),
        "The stateless rule group holds no rule; add rules or remove it from the policies that use it.",
    )
    .with(p.evidence("statelessRuleCount")))
}

/// FSBP NetworkFirewall.9: deletion protection is on.
fn deletion_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p, "firewall")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        required_bool(p, "deleteProtection")?,
        "The firewall has deletion protection.",
        "The firewall can be deleted in one call; turn on deletion protection.",
    )
    .with(p.evidence("deleteProtection")))
}

/// FSBP NetworkFirewall.10: subnet change protection is on.
fn subnet_change_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p, "firewall")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        required_bool(p, "subnetChangeProtection")?,
        "The firewall has subnet change protection.",
        "The firewall's subnet associations can be changed without first lifting a protection; turn on subnet change protection.",
    )
    .with(p.evidence("subnetChangeProtection")))
}
