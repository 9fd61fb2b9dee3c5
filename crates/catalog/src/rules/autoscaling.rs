//! Rules for EC2 Auto Scaling groups and launch configurations.
//!
//! A group being deleted (`status` `Delete in progress`) is not applicable.

use std::collections::BTreeSet;

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "autoscaling-group-elb-health-check",
        check: elb_health_check,
    },
    Rule {
        id: "autoscaling-group-multiple-azs",
        check: multiple_azs,
    },
    Rule {
        id: "autoscaling-launch-configuration-imdsv2",
        check: launch_configuration_imdsv2,
    },
    Rule {
        id: "autoscaling-launch-configuration-hop-limit",
        check: launch_configuration_hop_limit,
    },
    Rule {
        id: "autoscaling-launch-configuration-no-public-ip",
        check: launch_configuration_no_public_ip,
    },
    Rule {
        id: "autoscaling-group-multiple-instance-types",
        check: multiple_instance_types,
    },
    Rule {
        id: "autoscaling-group-launch-template",
        check: launch_template,
    },
];

/// Security Hub's AutoScaling.2 default `minAvailabilityZones`.
const MIN_AZS: usize = 2;

/// Not applicable while the group is being deleted.
fn deleting(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("status")? {
        Some(status) if status.to_ascii_lowercase().starts_with("delete") => Some(
            Outcome::not_applicable(format!("The group is being deleted (`{status}`)."))
                .with(p.evidence("status")),
        ),
        _ => None,
    })
}

/// AutoScaling.1: a group attached to a load balancer (Classic Load
/// Balancer names, target groups, or ELB traffic sources) uses `ELB` health
/// checks. Not applicable without a load balancer.
fn elb_health_check(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p)? {
        return Ok(na);
    }
    let elb_sources = p
        .array("trafficSources")?
        .iter()
        .filter(|t| {
            t.get("type")
                .and_then(Node::as_str)
                .is_some_and(|ty| ty.starts_with("elb") || ty.starts_with("elbv2"))
        })
        .count();
    let attached = !p.array("loadBalancerNames")?.is_empty()
        || !p.array("targetGroupArns")?.is_empty()
        || elb_sources > 0;
    if !attached {
        return Ok(
            Outcome::not_applicable("The group is not associated with a load balancer.")
                .with(p.evidence("loadBalancerNames"))
                .with(p.evidence("targetGroupArns")),
        );
    }
    let health = p.str("healthCheckType")?;
    Ok(Outcome::either(
        health == Some("ELB"),
        "The group uses the load balancer's health checks.",
        format!(
            "The group serves a load balancer but uses `{}` health checks only; set the health check type to `ELB`.",
            health.unwrap_or("EC2")
        ),
    )
    .with(p.evidence("healthCheckType"))
    .with(p.evidence("loadBalancerNames"))
    .with(p.evidence("targetGroupArns")))
}

/// AutoScaling.2: the group spans at least two Availability Zones.
fn multiple_azs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p)? {
        return Ok(na);
    }
    let zones: BTreeSet<&str> = p
        .array("availabilityZones")?
        .iter()
        .filter_map(Node::as_str)
        .collect();
    Ok(Outcome::either(
        zones.len() >= MIN_AZS,
        format!("The group spans {} Availability Zones.", zones.len()),
        format!(
            "The group spans {} Availability Zone(s); add subnets in at least {MIN_AZS} zones.",
            zones.len()
        ),
    )
    .with(p.evidence("availabilityZones")))
}

/// Not applicable when the launch configuration turns the instance
/// metadata endpoint off.
fn metadata_off(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(
        (p.str("metadataOptions.httpEndpoint")? == Some("disabled")).then(|| {
            Outcome::not_applicable(
                "The launch configuration turns the instance metadata endpoint off.",
            )
            .with(p.evidence("metadataOptions.httpEndpoint"))
        }),
    )
}

/// AutoScaling.3: `metadataOptions.httpTokens` is `required`; without it
/// (or without metadata options) instances accept IMDSv1.
fn launch_configuration_imdsv2(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = metadata_off(p)? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("metadataOptions.httpTokens")? == Some("required"),
        "Instances launched from this configuration require IMDSv2.",
        "Instances launched from this configuration accept IMDSv1; create a new configuration (or launch template) with `HttpTokens=required`.",
    )
    .with(p.evidence("metadataOptions.httpTokens")))
}

/// AutoScaling.4: the metadata response hop limit is at most 1 (unset is
/// the EC2 default, 1).
fn launch_configuration_hop_limit(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = metadata_off(p)? {
        return Ok(na);
    }
    let limit = p.i64("metadataOptions.httpPutResponseHopLimit")?;
    Ok(match limit {
        Some(n) if n > 1 => Outcome::unhealthy(format!(
            "The metadata response hop limit is {n}; tokens can leave the instance. Use a hop limit of 1."
        )),
        Some(n) => Outcome::healthy(format!("The metadata response hop limit is {n}.")),
        None => Outcome::healthy(
            "The launch configuration keeps the default metadata response hop limit of 1.",
        ),
    }
    .with(p.evidence("metadataOptions.httpPutResponseHopLimit")))
}

/// AutoScaling.5: the launch configuration does not assign public IP
/// addresses. Not applicable when it leaves the choice to the subnet.
fn launch_configuration_no_public_ip(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    Ok(match p.bool("associatePublicIpAddress")? {
        None => Outcome::not_applicable(
            "The launch configuration does not set `AssociatePublicIpAddress`; each subnet's setting decides.",
        ),
        Some(false) => {
            Outcome::healthy("Instances launched from this configuration get no public IP address.")
        }
        Some(true) => Outcome::unhealthy(
            "Instances launched from this configuration get a public IP address; create a new configuration with `AssociatePublicIpAddress=false`.",
        ),
    }
    .with(p.evidence("associatePublicIpAddress")))
}

/// AutoScaling.6: the group's mixed instances policy offers at least two
/// instance types (or attribute-based selection, which always can).
fn multiple_instance_types(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p)? {
        return Ok(na);
    }
    let overrides = p.array("mixedInstancesPolicy.overrides")?;
    let attribute_based = overrides
        .iter()
        .any(|o| o.get("instanceRequirements").and_then(Node::as_bool) == Some(true));
    let types: BTreeSet<&str> = overrides
        .iter()
        .filter_map(|o| o.get("instanceType").and_then(Node::as_str))
        .collect();
    Ok(if attribute_based {
        Outcome::healthy("The group selects instance types by attributes, so it can use several.")
    } else if types.len() >= 2 {
        Outcome::healthy(format!("The group can use {} instance types.", types.len()))
    } else {
        Outcome::unhealthy(
            "The group uses a single instance type; add a mixed instances policy with at least two instance types.",
        )
    }
    .with(p.evidence("mixedInstancesPolicy")))
}

/// AutoScaling.9: the group launches from a launch template, directly or
/// through its mixed instances policy.
fn launch_template(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleting(p)? {
        return Ok(na);
    }
    let direct = p.get("launchTemplate")?.is_some();
    let mixed = p.get("mixedInstancesPolicy.launchTemplate")?.is_some();
    Ok(Outcome::either(
        direct || mixed,
        "The group launches instances from a launch template.",
        format!(
            "The group launches from launch configuration `{}`; move it to a launch template.",
            p.str("launchConfigurationName")?.unwrap_or("(none)")
        ),
    )
    .with(p.evidence("launchTemplate"))
    .with(p.evidence("mixedInstancesPolicy"))
    .with(p.evidence("launchConfigurationName")))
}
