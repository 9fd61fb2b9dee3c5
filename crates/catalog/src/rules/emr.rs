//! Rules for EMR clusters, security configurations and the region's block
//! public access setting (EMR.1 to .4).

use super::cloudtrail::{region_disabled_outcome, region_not_enabled};
use super::elasticache::unreported;
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

const SUBNET: &str = "AWS::EC2::Subnet";

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "emr-cluster-primary-node-no-public-ip",
        check: cluster_primary_node_no_public_ip,
    },
    Rule {
        id: "emr-block-public-access",
        check: block_public_access,
    },
    Rule {
        id: "emr-security-configuration-encrypted-at-rest",
        check: security_configuration_at_rest,
    },
    Rule {
        id: "emr-security-configuration-encrypted-in-transit",
        check: security_configuration_in_transit,
    },
];

/// EMR.1: the primary node gets no public IP address. EMR assigns one
/// exactly when the cluster's subnet maps public IPs on launch, so the
/// cluster's subnet (from the EC2 collector) decides. Only `RUNNING` and
/// `WAITING` clusters are assessed, as Security Hub does.
fn cluster_primary_node_no_public_ip(
    p: &Props<'_>,
    inv: &Inventory,
) -> Result<Outcome, Unreadable> {
    let state = p.str("state")?.ok_or_else(|| unreported("state"))?;
    if !matches!(state, "RUNNING" | "WAITING") {
        return Ok(Outcome::not_applicable(format!(
            "The cluster is `{state}`; only running or waiting clusters are assessed."
        ))
        .with(p.evidence("state")));
    }
    let Some(subnet_id) = p.str("subnetId")? else {
        return Err(Unreadable {
            path: "subnetId".to_owned(),
            error: "EMR did not report the cluster's subnet".to_owned(),
        });
    };
    let asset = p.asset();
    let subnet = inv
        .of_type_in_region(SUBNET, asset.account, asset.region)
        .find(|s| s.properties.get("subnetId").and_then(|v| v.as_str()) == Some(subnet_id))
        .ok_or_else(|| Unreadable {
            path: "subnetId".to_owned(),
            error: format!("the subnet `{subnet_id}` is not in the scan (shared or unreadable)"),
        })?;
    let sp = Props::of(subnet);
    let public = sp
        .bool("mapPublicIpOnLaunch")?
        .ok_or_else(|| unreported("mapPublicIpOnLaunch"))?;
    let evidence = sp.evidence("mapPublicIpOnLaunch");
    Ok(Outcome::either(
        !public,
        format!("The primary node runs in `{subnet_id}`, which assigns no public IP addresses."),
        format!(
            "The primary node runs in `{subnet_id}`, which assigns public IP addresses on launch; launch the cluster in a private subnet."
        ),
    )
    .with(p.evidence("subnetId"))
    .with(p.evidence("masterPublicDnsName"))
    .with(rampart_model::Evidence {
        path: format!("{subnet_id}.mapPublicIpOnLaunch"),
        ..evidence
    }))
}

/// EMR.2: block public access is on, with no permitted public port other
/// than 22 (as AWS Config's `emr-block-public-access` rule). Not
/// applicable in a region that is not enabled for the account.
fn block_public_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let on = match p.bool("blockPublicSecurityGroupRules") {
        Ok(on) => on.ok_or_else(|| unreported("blockPublicSecurityGroupRules"))?,
        Err(err) if region_not_enabled(&err) => {
            return Ok(
                region_disabled_outcome(&err).with(p.evidence("blockPublicSecurityGroupRules"))
            );
        }
        Err(err) => return Err(err),
    };
    if !on {
        return Ok(Outcome::unhealthy(
            "EMR block public access is off in this region; turn it on so clusters cannot open ports to the internet.",
        )
        .with(p.evidence("blockPublicSecurityGroupRules")));
    }
    let mut extra = Vec::new();
    for range in p.array("permittedPublicSecurityGroupRuleRanges")? {
        let min = range.get("minRange").and_then(|v| v.as_i64());
        let max = range.get("maxRange").and_then(|v| v.as_i64()).or(min);
        if !(min == Some(22) && max == Some(22)) {
            extra.push(match (min, max) {
                (Some(a), Some(b)) if a == b => a.to_string(),
                (Some(a), Some(b)) => format!("{a}-{b}"),
                _ => "?".to_owned(),
            });
        }
    }
    Ok(Outcome::either(
        extra.is_empty(),
        "EMR block public access is on, with at most port 22 permitted.",
        format!(
            "EMR block public access permits public ports other than 22 ({}); remove those exceptions.",
            extra.join(", ")
        ),
    )
    .with(p.evidence("blockPublicSecurityGroupRules"))
    .with(p.evidence("permittedPublicSecurityGroupRuleRanges")))
}

/// Not applicable when the configuration was deleted after it was listed.
fn deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The security configuration was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

/// EMR.3: the security configuration encrypts data at rest.
fn security_configuration_at_rest(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let path = "encryptionConfiguration.EnableAtRestEncryption";
    let on = p.bool(path)?.unwrap_or(false);
    Ok(Outcome::either(
        on,
        "The security configuration encrypts data at rest.",
        "The security configuration does not encrypt data at rest; enable at-rest encryption (S3 and local disks).",
    )
    .with(p.evidence(path)))
}

/// EMR.4: the security configuration encrypts data in transit.
fn security_configuration_in_transit(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let path = "encryptionConfiguration.EnableInTransitEncryption";
    let on = p.bool(path)?.unwrap_or(false);
    Ok(Outcome::either(
        on,
        "The security configuration encrypts data in transit.",
        "The security configuration does not encrypt data in transit; enable in-transit encryption with a TLS certificate provider.",
    )
    .with(p.evidence(path)))
}
