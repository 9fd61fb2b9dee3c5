//! Rules for ElastiCache cache clusters and replication groups
//! (ElastiCache.1 to .7).
//!
//! Every rule is not applicable to a cluster or group being deleted.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

const REPLICATION_GROUP: &str = "AWS::ElastiCache::ReplicationGroup";

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "elasticache-redis-cluster-automatic-backups",
        check: redis_cluster_automatic_backups,
    },
    Rule {
        id: "elasticache-redis-cluster-auto-minor-version-upgrade",
        check: redis_cluster_auto_minor_version_upgrade,
    },
    Rule {
        id: "elasticache-replication-group-automatic-failover",
        check: replication_group_automatic_failover,
    },
    Rule {
        id: "elasticache-replication-group-encrypted-at-rest",
        check: replication_group_encrypted_at_rest,
    },
    Rule {
        id: "elasticache-replication-group-encrypted-in-transit",
        check: replication_group_encrypted_in_transit,
    },
    Rule {
        id: "elasticache-replication-group-redis-auth",
        check: replication_group_redis_auth,
    },
    Rule {
        id: "elasticache-cluster-no-default-subnet-group",
        check: cluster_no_default_subnet_group,
    },
];

/// The error for a setting the API did not report (JSON `null`): unknown,
/// never taken as a default.
pub(super) fn unreported(path: &str) -> Unreadable {
    Unreadable {
        path: path.to_owned(),
        error: "the API did not report this setting".to_owned(),
    }
}

/// Not applicable while the cluster or group is being deleted.
fn going_away(p: &Props<'_>, path: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str(path)? {
        Some(state @ ("deleting" | "deleted")) => Some(
            Outcome::not_applicable(format!("The resource is {state}.")).with(p.evidence(path)),
        ),
        _ => None,
    })
}

/// Not applicable unless the cluster runs the Redis OSS engine (the
/// controls name Redis OSS clusters; Memcached and Valkey are out of scope).
fn redis_only(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if let Some(na) = going_away(p, "cacheClusterStatus")? {
        return Ok(Some(na));
    }
    let engine = p.str("engine")?.ok_or_else(|| unreported("engine"))?;
    Ok((engine != "redis").then(|| {
        Outcome::not_applicable(format!(
            "The cluster runs `{engine}`; the control covers Redis OSS clusters only."
        ))
        .with(p.evidence("engine"))
    }))
}

/// ElastiCache.1: automatic backups kept at least one day (Security Hub's
/// default `snapshotRetentionPeriod` of 1). A member of a replication
/// group is backed up by its group, so the group's retention counts.
fn redis_cluster_automatic_backups(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = redis_only(p)? {
        return Ok(na);
    }
    let asset = p.asset();
    let group = match p.str("replicationGroupId")? {
        Some(id) => inv
            .of_type_in_region(REPLICATION_GROUP, asset.account, asset.region)
            .find(|g| {
                g.properties
                    .get("replicationGroupId")
                    .and_then(|v| v.as_str())
                    == Some(id)
            }),
        None => None,
    };
    let (days, from_group) = match group {
        Some(g) => {
            let gp = Props::of(g);
            (
                gp.i64("snapshotRetentionLimit")?
                    .ok_or_else(|| unreported("snapshotRetentionLimit"))?,
                true,
            )
        }
        None => (
            p.i64("snapshotRetentionLimit")?
                .ok_or_else(|| unreported("snapshotRetentionLimit"))?,
            false,
        ),
    };
    let whose = if from_group {
        "its replication group"
    } else {
        "the cluster"
    };
    Ok(Outcome::either(
        days >= 1,
        format!("Automatic backups of {whose} are kept for {days} day(s)."),
        format!(
            "Automatic backups are off for {whose} (retention {days} days); set `SnapshotRetentionLimit` to at least 1."
        ),
    )
    .with(p.evidence("replicationGroupId"))
    .with(p.evidence("snapshotRetentionLimit")))
}

/// ElastiCache.2: minor engine upgrades are applied automatically.
fn redis_cluster_auto_minor_version_upgrade(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = redis_only(p)? {
        return Ok(na);
    }
    let on = p
        .bool("autoMinorVersionUpgrade")?
        .ok_or_else(|| unreported("autoMinorVersionUpgrade"))?;
    Ok(Outcome::either(
        on,
        "Minor engine version upgrades are applied automatically.",
        "Automatic minor version upgrades are off; turn on `AutoMinorVersionUpgrade` so security patches are applied.",
    )
    .with(p.evidence("autoMinorVersionUpgrade")))
}

/// ElastiCache.3: automatic failover to a replica (`enabled`, or
/// `enabling` on its way there).
fn replication_group_automatic_failover(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "status")? {
        return Ok(na);
    }
    let status = p
        .str("automaticFailover")?
        .ok_or_else(|| unreported("automaticFailover"))?;
    Ok(Outcome::either(
        matches!(status, "enabled" | "enabling"),
        "Automatic failover is enabled for the replication group.",
        format!(
            "Automatic failover is `{status}`; enable it so a replica takes over when the primary fails."
        ),
    )
    .with(p.evidence("automaticFailover")))
}

/// ElastiCache.4: data at rest encrypted.
fn replication_group_encrypted_at_rest(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "status")? {
        return Ok(na);
    }
    let on = p
        .bool("atRestEncryptionEnabled")?
        .ok_or_else(|| unreported("atRestEncryptionEnabled"))?;
    Ok(Outcome::either(
        on,
        "The replication group is encrypted at rest.",
        "The replication group is not encrypted at rest; at-rest encryption can only be set at creation, so create an encrypted group and migrate.",
    )
    .with(p.evidence("atRestEncryptionEnabled"))
    .with(p.evidence("kmsKeyId")))
}

/// ElastiCache.5: in-transit encryption on (as AWS Config's rule reads
/// `TransitEncryptionEnabled`; the mode is kept as evidence).
fn replication_group_encrypted_in_transit(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "status")? {
        return Ok(na);
    }
    let on = p
        .bool("transitEncryptionEnabled")?
        .ok_or_else(|| unreported("transitEncryptionEnabled"))?;
    Ok(Outcome::either(
        on,
        "The replication group encrypts data in transit.",
        "The replication group does not encrypt data in transit; enable in-transit encryption (TLS).",
    )
    .with(p.evidence("transitEncryptionEnabled"))
    .with(p.evidence("transitEncryptionMode")))
}

/// The major and minor version of a `major.minor[.patch]` string.
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.trim().parse().ok())?;
    Some((major, minor))
}

/// ElastiCache.6: Redis OSS before 6.0 (no role-based access control)
/// requires an AUTH token. Groups on 6.0 or later, and other engines, are
/// not applicable.
fn replication_group_redis_auth(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "status")? {
        return Ok(na);
    }
    if let Some(engine) = p.str("engine")?
        && engine != "redis"
    {
        return Ok(Outcome::not_applicable(format!(
            "The replication group runs `{engine}`; the control covers Redis OSS only."
        ))
        .with(p.evidence("engine")));
    }
    let version = p
        .str("engineVersion")?
        .ok_or_else(|| unreported("engineVersion"))?;
    let Some((major, minor)) = major_minor(version) else {
        return Err(Unreadable {
            path: "engineVersion".to_owned(),
            error: format!("the engine version `{version}` is not a version number"),
        });
    };
    if (major, minor) >= (6, 0) {
        return Ok(Outcome::not_applicable(format!(
            "Redis OSS {version} supports role-based access control; the control covers versions before 6.0."
        ))
        .with(p.evidence("engineVersion")));
    }
    let auth = p
        .bool("authTokenEnabled")?
        .ok_or_else(|| unreported("authTokenEnabled"))?;
    Ok(Outcome::either(
        auth,
        format!("Redis OSS {version} requires an AUTH token from clients."),
        format!(
            "Redis OSS {version} accepts commands without a password; set an AUTH token (requires in-transit encryption) or upgrade to 6.0+ and use RBAC."
        ),
    )
    .with(p.evidence("engineVersion"))
    .with(p.evidence("authTokenEnabled")))
}

/// ElastiCache.7: the cluster is not in the `default` subnet group.
/// Clusters without a subnet group (EC2-Classic) are not applicable.
fn cluster_no_default_subnet_group(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "cacheClusterStatus")? {
        return Ok(na);
    }
    let Some(group) = p.str("cacheSubnetGroupName")? else {
        return Ok(Outcome::not_applicable(
            "The cluster is not in a VPC subnet group (EC2-Classic).",
        )
        .with(p.evidence("cacheSubnetGroupName")));
    };
    Ok(Outcome::either(
        group != "default",
        format!("The cluster uses the subnet group `{group}`."),
        "The cluster uses the `default` subnet group (the default VPC's subnets); move it to a subnet group of your own.",
    )
    .with(p.evidence("cacheSubnetGroupName")))
}
