//! Rules for Amazon MemoryDB clusters (`AWS::MemoryDB::Cluster`, from
//! `DescribeClusters`: crates/aws/src/collectors/memorydb.rs). Security Hub
//! has no MemoryDB control; these checks are Rampart's judgement, the
//! settings its ElastiCache controls check on the same engines. Every
//! cluster is assessed except one being deleted or whose creation failed.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "memorydb-cluster-tls-enabled",
        check: tls_enabled,
    },
    Rule {
        id: "memorydb-cluster-encrypted-with-cmk",
        check: encrypted_with_cmk,
    },
    Rule {
        id: "memorydb-cluster-automatic-snapshots",
        check: automatic_snapshots,
    },
    Rule {
        id: "memorydb-cluster-auto-minor-version-upgrade",
        check: auto_minor_version_upgrade,
    },
    Rule {
        id: "memorydb-cluster-no-open-access-acl",
        check: no_open_access_acl,
    },
];

/// The access control list MemoryDB provides for open access: its only
/// user is `default`, with no password and every permission.
pub const OPEN_ACCESS_ACL: &str = "open-access";

fn not_reported(path: &str) -> Unreadable {
    Unreadable {
        path: path.to_owned(),
        error: "the MemoryDB API did not report this setting".to_owned(),
    }
}

/// Not applicable to a cluster being deleted or that failed to create.
fn gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("status")? {
        Some(status @ ("deleting" | "create-failed")) => Some(
            Outcome::not_applicable(format!("The cluster is `{status}`."))
                .with(p.evidence("status")),
        ),
        _ => None,
    })
}

/// In-transit encryption (`tlsEnabled`) is on.
fn tls_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let tls = p
        .bool("tlsEnabled")?
        .ok_or_else(|| not_reported("tlsEnabled"))?;
    Ok(Outcome::either(
        tls,
        "The cluster encrypts connections with TLS.",
        "The cluster accepts unencrypted connections; TLS can only be chosen at creation, so create a cluster with TLS on from a snapshot and move clients to it.",
    )
    .with(p.evidence("tlsEnabled")))
}

/// At-rest encryption uses a customer managed KMS key: MemoryDB reports
/// `kmsKeyId` only then (otherwise it encrypts with an AWS owned key).
fn encrypted_with_cmk(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let key = p.str("kmsKeyId")?;
    Ok(match key {
        Some(key) => Outcome::healthy(format!(
            "The cluster encrypts data at rest with customer managed KMS key `{key}`."
        )),
        None => Outcome::unhealthy(
            "The cluster encrypts data at rest with an AWS owned key, outside your key policies and CloudTrail; create it from a snapshot with a customer managed KMS key.",
        ),
    }
    .with(p.evidence("kmsKeyId")))
}

/// Automatic snapshots are kept at least one day
/// (`snapshotRetentionLimit` ≥ 1; 0 turns them off).
fn automatic_snapshots(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let days = p
        .i64("snapshotRetentionLimit")?
        .ok_or_else(|| not_reported("snapshotRetentionLimit"))?;
    Ok(Outcome::either(
        days >= 1,
        format!("Automatic snapshots are kept {days} day(s)."),
        "Automatic snapshots are off (retention 0 days); set a snapshot retention limit of at least 1 day.",
    )
    .with(p.evidence("snapshotRetentionLimit")))
}

/// Minor engine versions are applied automatically.
fn auto_minor_version_upgrade(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let on = p
        .bool("autoMinorVersionUpgrade")?
        .ok_or_else(|| not_reported("autoMinorVersionUpgrade"))?;
    Ok(Outcome::either(
        on,
        "Minor engine versions are applied automatically in the maintenance window.",
        "Automatic minor version upgrades are off; the cluster keeps engine versions with known fixes pending.",
    )
    .with(p.evidence("autoMinorVersionUpgrade")))
}

/// The cluster does not use the `open-access` ACL (any client that
/// reaches it may run every command, without a password).
fn no_open_access_acl(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p)? {
        return Ok(outcome);
    }
    let acl = p.str("aclName")?.ok_or_else(|| not_reported("aclName"))?;
    Ok(Outcome::either(
        acl != OPEN_ACCESS_ACL,
        format!("The cluster authenticates users with access control list `{acl}`."),
        "The cluster uses the `open-access` ACL: any client that reaches it can run every command without a password; associate an ACL of users with passwords or IAM authentication.",
    )
    .with(p.evidence("aclName")))
}
