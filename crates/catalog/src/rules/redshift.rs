//! Rules for Amazon Redshift provisioned clusters (`AWS::Redshift::Cluster`).
//!
//! Every cluster is assessed (Security Hub's controls exclude none), except
//! one being deleted. A setting the API did not report is unknown (`error`),
//! never taken as a default.

use super::ec2::security_group_world_tcp_port;
use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "redshift-cluster-not-publicly-accessible",
        check: cluster_not_publicly_accessible,
    },
    Rule {
        id: "redshift-cluster-encrypted-in-transit",
        check: cluster_encrypted_in_transit,
    },
    Rule {
        id: "redshift-cluster-automatic-snapshots",
        check: cluster_automatic_snapshots,
    },
    Rule {
        id: "redshift-cluster-audit-logging",
        check: cluster_audit_logging,
    },
    Rule {
        id: "redshift-cluster-automatic-major-version-upgrade",
        check: cluster_automatic_major_version_upgrade,
    },
    Rule {
        id: "redshift-cluster-enhanced-vpc-routing",
        check: cluster_enhanced_vpc_routing,
    },
    Rule {
        id: "redshift-cluster-custom-admin-username",
        check: cluster_custom_admin_username,
    },
    Rule {
        id: "redshift-cluster-custom-database-name",
        check: cluster_custom_database_name,
    },
    Rule {
        id: "redshift-cluster-encrypted-at-rest",
        check: cluster_encrypted_at_rest,
    },
    Rule {
        id: "redshift-cluster-port-restricted",
        check: cluster_port_restricted,
    },
    Rule {
        id: "redshift-cluster-multi-az",
        check: cluster_multi_az,
    },
];

/// Security Hub's default `MinRetentionPeriod` for Redshift.3, in days.
pub const MIN_SNAPSHOT_RETENTION_DAYS: i64 = 7;

/// The admin user name Redshift suggests by default (Redshift.8).
pub const DEFAULT_ADMIN_USERNAME: &str = "awsuser";

/// The database name Redshift uses by default (Redshift.9, RedshiftServerless.7).
pub const DEFAULT_DATABASE_NAME: &str = "dev";

/// The error for a setting the API did not report.
pub(super) fn not_reported(path: &str) -> Unreadable {
    Unreadable {
        path: path.to_owned(),
        error: "the Redshift API did not report this setting".to_owned(),
    }
}

/// A boolean the API must report.
pub(super) fn reported_bool(p: &Props<'_>, path: &str) -> Result<bool, Unreadable> {
    p.bool(path)?.ok_or_else(|| not_reported(path))
}

/// A string the API must report.
pub(super) fn reported_str<'a>(p: &Props<'a>, path: &str) -> Result<&'a str, Unreadable> {
    p.str(path)?.ok_or_else(|| not_reported(path))
}

/// Not applicable to a cluster being deleted.
fn gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("clusterStatus")? {
        Some(status @ ("deleting" | "final-snapshot")) => Some(
            Outcome::not_applicable(format!("The cluster is `{status}`."))
                .with(p.evidence("clusterStatus")),
        ),
        _ => None,
    })
}

/// A check of one boolean setting that must be `true`.
fn flag(
    p: &Props<'_>,
    path: &str,
    healthy: &'static str,
    unhealthy: &'static str,
) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    Ok(Outcome::either(reported_bool(p, path)?, healthy, unhealthy).with(p.evidence(path)))
}

/// FSBP Redshift.1: `publiclyAccessible` is false.
fn cluster_not_publicly_accessible(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let public = reported_bool(p, "publiclyAccessible")?;
    Ok(Outcome::either(
        !public,
        "The cluster is not publicly accessible.",
        "The cluster is publicly accessible: its endpoint resolves to a public IP address.",
    )
    .with(p.evidence("publiclyAccessible")))
}

/// FSBP Redshift.2: `require_ssl` is `true` in every parameter group the
/// cluster uses (`requireSsl`).
fn cluster_encrypted_in_transit(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let groups = p.array("requireSsl")?;
    if groups.is_empty() {
        return Err(Unreadable {
            path: "requireSsl".to_owned(),
            error: "no parameter group of the cluster was read".to_owned(),
        });
    }
    let off: Vec<&str> = groups
        .iter()
        .filter(|g| {
            !g.get("value")
                .and_then(Node::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        })
        .filter_map(|g| g.get("group").and_then(Node::as_str))
        .collect();
    Ok(match off.first() {
        None => Outcome::healthy("The cluster's parameter group sets `require_ssl` to true."),
        Some(group) => Outcome::unhealthy(format!(
            "Parameter group `{group}` does not set `require_ssl` to true, so clients may connect without TLS."
        )),
    }
    .with(p.evidence("requireSsl")))
}

/// FSBP Redshift.3: automated snapshots kept at least
/// [`MIN_SNAPSHOT_RETENTION_DAYS`] days.
fn cluster_automatic_snapshots(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let path = "automatedSnapshotRetentionPeriod";
    let days = p.i64(path)?.ok_or_else(|| not_reported(path))?;
    Ok(if days <= 0 {
        Outcome::unhealthy("Automated snapshots are turned off (retention period 0).")
    } else {
        Outcome::either(
            days >= MIN_SNAPSHOT_RETENTION_DAYS,
            format!("Automated snapshots are kept for {days} days."),
            format!(
                "Automated snapshots are kept for only {days} day(s); keep them at least {MIN_SNAPSHOT_RETENTION_DAYS}."
            ),
        )
    }
    .with(p.evidence(path)))
}

/// FSBP Redshift.4: audit logging is on (`logging.loggingEnabled`).
fn cluster_audit_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    flag(
        p,
        "logging.loggingEnabled",
        "Audit logging is on.",
        "Audit logging is off: connections and user activity are not recorded.",
    )
}

/// FSBP Redshift.6: `allowVersionUpgrade` is true.
fn cluster_automatic_major_version_upgrade(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    flag(
        p,
        "allowVersionUpgrade",
        "Major version upgrades are applied automatically in the maintenance window.",
        "Automatic major version upgrades are off.",
    )
}

/// FSBP Redshift.7: `enhancedVpcRouting` is true.
fn cluster_enhanced_vpc_routing(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    flag(
        p,
        "enhancedVpcRouting",
        "Enhanced VPC routing is on.",
        "Enhanced VPC routing is off: COPY and UNLOAD traffic leaves the VPC.",
    )
}

/// FSBP Redshift.8: the admin user is not [`DEFAULT_ADMIN_USERNAME`].
fn cluster_custom_admin_username(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let user = reported_str(p, "masterUsername")?;
    Ok(Outcome::either(
        user != DEFAULT_ADMIN_USERNAME,
        "The admin user name is not the default.",
        format!("The admin user is the default `{DEFAULT_ADMIN_USERNAME}`."),
    )
    .with(p.evidence("masterUsername")))
}

/// FSBP Redshift.9: the database is not named [`DEFAULT_DATABASE_NAME`].
fn cluster_custom_database_name(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let name = reported_str(p, "dbName")?;
    Ok(Outcome::either(
        name != DEFAULT_DATABASE_NAME,
        "The database name is not the default.",
        format!("The database has the default name `{DEFAULT_DATABASE_NAME}`."),
    )
    .with(p.evidence("dbName")))
}

/// FSBP Redshift.10: `encrypted` is true.
fn cluster_encrypted_at_rest(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    flag(
        p,
        "encrypted",
        "The cluster is encrypted at rest.",
        "The cluster is not encrypted at rest.",
    )
}

/// FSBP Redshift.15: no VPC security group of the cluster (looked up in
/// the snapshot) admits TCP on the cluster port from `0.0.0.0/0` or `::/0`.
fn cluster_port_restricted(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let port = p
        .i64("endpoint.port")?
        .ok_or_else(|| not_reported("endpoint.port"))?;
    let asset = p.asset();
    for group in p.array("vpcSecurityGroups")? {
        let Some(id) = group.get("vpcSecurityGroupId").and_then(Node::as_str) else {
            continue;
        };
        if let Some((world, rule)) =
            security_group_world_tcp_port(inv, asset.account, asset.region, id, port)?
        {
            return Ok(Outcome::unhealthy(format!(
                "Security group `{id}` allows the cluster port {port} from `{world}`; restrict the rule to known address ranges."
            ))
            .with(p.evidence("endpoint.port"))
            .with(rule));
        }
    }
    Ok(Outcome::healthy(format!(
        "No security group of the cluster opens port {port} to the internet."
    ))
    .with(p.evidence("endpoint.port"))
    .with(p.evidence("vpcSecurityGroups")))
}

/// FSBP Redshift.18: `multiAZ` is `Enabled`.
fn cluster_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let multi_az = reported_str(p, "multiAZ")?;
    Ok(Outcome::either(
        multi_az.eq_ignore_ascii_case("enabled"),
        "The cluster is deployed in two Availability Zones.",
        "The cluster runs in a single Availability Zone (Multi-AZ is not enabled).",
    )
    .with(p.evidence("multiAZ")))
}
