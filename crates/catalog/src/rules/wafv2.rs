//! Rules for AWS WAF web ACLs (FSBP WAF.10-12) and the association of
//! Application Load Balancers with them (ELB.16), read from the
//! `AWS::WAFv2::WebACL` assets and the per-region
//! `Rampart::WAFv2::RegionStatus` (its `albAssociations`).

use rampart_model::types::WAFV2_REGION;

use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

use super::{Outcome, Rule};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "wafv2-web-acl-not-empty",
        check: web_acl_not_empty,
    },
    Rule {
        id: "wafv2-web-acl-logging",
        check: web_acl_logging,
    },
    Rule {
        id: "wafv2-web-acl-rule-metrics",
        check: web_acl_rule_metrics,
    },
    Rule {
        id: "elb-alb-waf-associated",
        check: alb_waf_associated,
    },
];

/// Not applicable to a web ACL deleted while the scan ran.
fn deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The web ACL was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

/// WAF.10: at least one rule or rule group.
fn web_acl_not_empty(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let rules = p.array("rules")?.len();
    let managed = p.i64("firewallManagerRuleGroups")?.unwrap_or(0);
    Ok(Outcome::either(
        rules > 0 || managed > 0,
        format!(
            "The web ACL has {rules} rule(s) and {managed} Firewall Manager rule group(s)."
        ),
        format!(
            "The web ACL has no rules or rule groups, so it applies only its default action ({}); add rules.",
            p.str("defaultAction")?.unwrap_or("unknown")
        ),
    )
    .with(p.evidence("rules"))
    .with(p.evidence("firewallManagerRuleGroups")))
}

/// WAF.11: logging is enabled.
fn web_acl_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let Some(enabled) = p.bool("logging.enabled")? else {
        return Err(Unreadable {
            path: "logging".to_owned(),
            error: "the web ACL's logging configuration was not read".to_owned(),
        });
    };
    Ok(Outcome::either(
        enabled,
        "The web ACL sends its logs to a logging destination.",
        "The web ACL has no logging configuration; enable logging to CloudWatch Logs, S3 or Firehose.",
    )
    .with(p.evidence("logging")))
}

/// WAF.12: every rule publishes CloudWatch metrics.
fn web_acl_rule_metrics(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let rules = p.array("rules")?;
    if rules.is_empty() {
        return Ok(
            Outcome::not_applicable("The web ACL has no rules of its own.")
                .with(p.evidence("rules")),
        );
    }
    let silent: Vec<String> = rules
        .iter()
        .filter(|r| {
            r.get("visibilityConfig")
                .and_then(|v| v.get("cloudWatchMetricsEnabled"))
                .and_then(Node::as_bool)
                != Some(true)
        })
        .map(|r| format!("`{}`", r.get("name").and_then(Node::as_str).unwrap_or("?")))
        .collect();
    Ok(if silent.is_empty() {
        Outcome::healthy("Every rule of the web ACL publishes CloudWatch metrics.")
    } else {
        Outcome::unhealthy(format!(
            "Rules {} publish no CloudWatch metrics; enable CloudWatch metrics in their visibility configuration.",
            silent.join(", ")
        ))
    }
    .with(p.evidence("rules")))
}

/// ELB.16: an Application Load Balancer is associated with a web ACL.
fn alb_waf_associated(p: &Props<'_>, inventory: &Inventory) -> Result<Outcome, Unreadable> {
    let asset = p.asset();
    match p.str("type")? {
        Some("application") => {}
        Some(kind) => {
            return Ok(Outcome::not_applicable(format!(
                "The load balancer is a {kind} load balancer; only Application Load Balancers can be associated with AWS WAF."
            ))
            .with(p.evidence("type")));
        }
        None => {
            return Err(Unreadable {
                path: "type".to_owned(),
                error: "the API did not return the load balancer type".to_owned(),
            });
        }
    }
    let Some(status) = inventory
        .of_type_in_region(WAFV2_REGION, asset.account, asset.region)
        .next()
    else {
        return Err(Unreadable {
            path: "type".to_owned(),
            error: format!(
                "AWS WAF was not collected in `{}`, so the load balancer's web ACL is unknown",
                asset.region
            ),
        });
    };
    let status = Props::of(status);
    let associated = status
        .array("albAssociations")?
        .iter()
        .find(|a| a.get("resourceArn").and_then(Node::as_str) == Some(asset.arn));
    Ok(match associated {
        Some(a) => Outcome::healthy(format!(
            "The load balancer is associated with web ACL `{}`.",
            a.get("webAclArn").and_then(Node::as_str).unwrap_or("?")
        )),
        None => Outcome::unhealthy(
            "No AWS WAF web ACL of the region is associated with the load balancer; associate one.",
        ),
    }
    .with(p.evidence("type"))
    .with(status.evidence("albAssociations")))
}
