//! Rules for Amazon Neptune DB clusters and their cluster snapshots.
//!
//! The RDS API returns Neptune clusters and snapshots with the RDS ones
//! (engine `neptune`), as `AWS::RDS::DBCluster` and
//! `AWS::RDS::DBClusterSnapshot` assets; following Security Hub's scoping,
//! these rules assess those types and are not applicable to other engines.

use super::rds::{
    backup_retention, cluster_gone, engine, missing_log_exports, reported_bool,
    snapshot_encryption, snapshot_public,
};
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "neptune-cluster-encrypted",
        check: cluster_encrypted,
    },
    Rule {
        id: "neptune-cluster-audit-logs",
        check: cluster_audit_logs,
    },
    Rule {
        id: "neptune-cluster-snapshot-not-public",
        check: cluster_snapshot_not_public,
    },
    Rule {
        id: "neptune-cluster-deletion-protection",
        check: cluster_deletion_protection,
    },
    Rule {
        id: "neptune-cluster-automated-backups",
        check: cluster_automated_backups,
    },
    Rule {
        id: "neptune-cluster-snapshot-encrypted",
        check: cluster_snapshot_encrypted,
    },
    Rule {
        id: "neptune-cluster-iam-authentication",
        check: cluster_iam_authentication,
    },
    Rule {
        id: "neptune-cluster-copy-tags-to-snapshots",
        check: cluster_copy_tags_to_snapshots,
    },
    Rule {
        id: "neptune-cluster-multi-az",
        check: cluster_multi_az,
    },
];

/// Not applicable unless the asset's engine is `neptune`; clusters being
/// deleted are not applicable either.
fn neptune_gate(p: &Props<'_>, noun: &str) -> Result<Option<Outcome>, Unreadable> {
    let engine = engine(p)?;
    if engine != "neptune" {
        return Ok(Some(
            Outcome::not_applicable(format!("The {noun} runs `{engine}`, not Amazon Neptune."))
                .with(p.evidence("engine")),
        ));
    }
    if noun == "cluster" {
        return cluster_gone(p);
    }
    Ok(None)
}

/// A boolean setting of a Neptune cluster that must be `true`.
fn cluster_flag(
    p: &Props<'_>,
    path: &str,
    healthy: &'static str,
    unhealthy: &'static str,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = neptune_gate(p, "cluster")? {
        return Ok(na);
    }
    let on = reported_bool(p, path)?;
    Ok(Outcome::either(on, healthy, unhealthy).with(p.evidence(path)))
}

/// FSBP Neptune.1: `storageEncrypted`.
fn cluster_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    cluster_flag(
        p,
        "storageEncrypted",
        "The Neptune cluster's storage is encrypted at rest.",
        "The Neptune cluster's storage is not encrypted; encryption is chosen at creation, so restore a snapshot into a new encrypted cluster and move clients to it.",
    )
}

/// FSBP Neptune.2: the cluster exports `audit` logs to CloudWatch Logs.
fn cluster_audit_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = neptune_gate(p, "cluster")? {
        return Ok(na);
    }
    let missing = missing_log_exports(p, &["audit"])?;
    Ok(Outcome::either(
        missing.is_empty(),
        "The Neptune cluster exports its audit log to CloudWatch Logs.",
        "The Neptune cluster does not export its audit log to CloudWatch Logs; turn on `neptune_enable_audit_log` and add `audit` to its CloudWatch Logs exports.",
    )
    .with(p.evidence("enabledCloudwatchLogsExports")))
}

/// FSBP Neptune.3: a Neptune cluster snapshot is not public (automated and
/// AWS Backup snapshots cannot be shared and pass). Not applicable: other
/// engines' snapshots.
fn cluster_snapshot_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = neptune_gate(p, "snapshot")? {
        return Ok(na);
    }
    snapshot_public(p)
}

/// FSBP Neptune.4: `deletionProtection`.
fn cluster_deletion_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    cluster_flag(
        p,
        "deletionProtection",
        "Deletion protection is on.",
        "Deletion protection is off, so one API call can delete the Neptune cluster; turn on `DeletionProtection`.",
    )
}

/// FSBP Neptune.5: automated backups kept at least 7 days.
fn cluster_automated_backups(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = neptune_gate(p, "cluster")? {
        return Ok(na);
    }
    backup_retention(p)
}

/// FSBP Neptune.6: a Neptune cluster snapshot is encrypted, automated and
/// AWS Backup snapshots included. Not applicable: other engines' snapshots.
fn cluster_snapshot_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = neptune_gate(p, "snapshot")? {
        return Ok(na);
    }
    snapshot_encryption(p, "storageEncrypted")
}

/// FSBP Neptune.7: `iamDatabaseAuthenticationEnabled`.
fn cluster_iam_authentication(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    cluster_flag(
        p,
        "iamDatabaseAuthenticationEnabled",
        "IAM database authentication is enabled.",
        "IAM database authentication is off, so anyone who reaches the endpoint can query the graph without AWS credentials; enable it and grant `neptune-db:*` actions to the roles that need them.",
    )
}

/// FSBP Neptune.8: `copyTagsToSnapshot`.
fn cluster_copy_tags_to_snapshots(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    cluster_flag(
        p,
        "copyTagsToSnapshot",
        "The cluster copies its tags to its snapshots.",
        "The cluster does not copy its tags to its snapshots, so snapshots lose their owner and classification; turn on `CopyTagsToSnapshot`.",
    )
}

/// FSBP Neptune.9: `multiAZ` (instances in more than one Availability Zone).
fn cluster_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    cluster_flag(
        p,
        "multiAZ",
        "The Neptune cluster has instances in more than one Availability Zone.",
        "All of the Neptune cluster's instances are in one Availability Zone; add a read replica in another zone so the cluster can fail over.",
    )
}
