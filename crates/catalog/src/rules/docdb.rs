//! Rules for Amazon DocumentDB clusters and their manual cluster snapshots.
//!
//! The RDS API returns DocumentDB clusters and snapshots with the RDS ones
//! (engine `docdb`), as `AWS::RDS::DBCluster` and
//! `AWS::RDS::DBClusterSnapshot` assets; following Security Hub's scoping,
//! these rules assess those types and are not applicable to other engines.

use super::rds::{
    backup_retention, cluster_gone, engine, missing_log_exports, parameter, reported_bool,
    snapshot_public,
};
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "docdb-cluster-encrypted",
        check: cluster_encrypted,
    },
    Rule {
        id: "docdb-cluster-backup-retention",
        check: cluster_backup_retention,
    },
    Rule {
        id: "docdb-cluster-snapshot-not-public",
        check: cluster_snapshot_not_public,
    },
    Rule {
        id: "docdb-cluster-audit-logs",
        check: cluster_audit_logs,
    },
    Rule {
        id: "docdb-cluster-deletion-protection",
        check: cluster_deletion_protection,
    },
    Rule {
        id: "docdb-cluster-encrypted-in-transit",
        check: cluster_encrypted_in_transit,
    },
];

/// Not applicable unless the asset's engine is `docdb`; clusters being
/// deleted are not applicable either.
fn docdb_gate(p: &Props<'_>, noun: &str) -> Result<Option<Outcome>, Unreadable> {
    let engine = engine(p)?;
    if engine != "docdb" {
        return Ok(Some(
            Outcome::not_applicable(format!(
                "The {noun} runs `{engine}`, not Amazon DocumentDB."
            ))
            .with(p.evidence("engine")),
        ));
    }
    if noun == "cluster" {
        return cluster_gone(p);
    }
    Ok(None)
}

/// FSBP DocumentDB.1: `storageEncrypted`.
fn cluster_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = docdb_gate(p, "cluster")? {
        return Ok(na);
    }
    let encrypted = reported_bool(p, "storageEncrypted")?;
    Ok(Outcome::either(
        encrypted,
        "The DocumentDB cluster's storage is encrypted at rest.",
        "The DocumentDB cluster's storage is not encrypted; encryption is chosen at creation, so restore a snapshot into a new encrypted cluster and move clients to it.",
    )
    .with(p.evidence("storageEncrypted")))
}

/// FSBP DocumentDB.2: `backupRetentionPeriod` of at least 7 days.
fn cluster_backup_retention(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = docdb_gate(p, "cluster")? {
        return Ok(na);
    }
    backup_retention(p)
}

/// FSBP DocumentDB.3: a DocumentDB cluster snapshot is not public
/// (automated and AWS Backup snapshots cannot be shared and pass). Not
/// applicable: other engines' snapshots.
fn cluster_snapshot_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = docdb_gate(p, "snapshot")? {
        return Ok(na);
    }
    snapshot_public(p)
}

/// FSBP DocumentDB.4: the cluster exports `audit` logs to CloudWatch Logs.
fn cluster_audit_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = docdb_gate(p, "cluster")? {
        return Ok(na);
    }
    let missing = missing_log_exports(p, &["audit"])?;
    Ok(Outcome::either(
        missing.is_empty(),
        "The DocumentDB cluster exports its audit log to CloudWatch Logs.",
        "The DocumentDB cluster does not export its audit log to CloudWatch Logs; add `audit` to its CloudWatch Logs exports and turn on `audit_logs` in its cluster parameter group.",
    )
    .with(p.evidence("enabledCloudwatchLogsExports")))
}

/// FSBP DocumentDB.5: `deletionProtection`.
fn cluster_deletion_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = docdb_gate(p, "cluster")? {
        return Ok(na);
    }
    let protected = reported_bool(p, "deletionProtection")?;
    Ok(Outcome::either(
        protected,
        "Deletion protection is on.",
        "Deletion protection is off, so one API call can delete the DocumentDB cluster; turn on `DeletionProtection`.",
    )
    .with(p.evidence("deletionProtection")))
}

/// FSBP DocumentDB.6 (AWS Config's `docdb-cluster-encrypted-in-transit`):
/// the cluster parameter group's `tls` is set and not `disabled`, and every
/// member instance has applied the group (`in-sync`).
fn cluster_encrypted_in_transit(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = docdb_gate(p, "cluster")? {
        return Ok(na);
    }
    let tls = parameter(p, "tls")?;
    let Some(tls) = tls.filter(|v| !v.trim().eq_ignore_ascii_case("disabled")) else {
        let shown = tls.map_or_else(|| "not set".to_owned(), |v| format!("`{v}`"));
        return Ok(Outcome::unhealthy(format!(
            "The cluster parameter group does not require TLS (`tls` is {shown}), so clients may connect in plain text; set `tls` to `enabled` (or a minimum version) in a custom cluster parameter group."
        ))
        .with(p.evidence("parameters"))
        .with(p.evidence("dbClusterParameterGroup")));
    };
    let pending: Vec<String> = p
        .array("dbClusterMembers")?
        .iter()
        .filter_map(|m| {
            let status = m
                .get("dbClusterParameterGroupStatus")
                .and_then(|s| s.as_str());
            (status != Some("in-sync")).then(|| {
                format!(
                    "`{}` ({})",
                    m.get("dbInstanceIdentifier")
                        .and_then(|n| n.as_str())
                        .unwrap_or("?"),
                    status.unwrap_or("status not reported")
                )
            })
        })
        .collect();
    Ok(Outcome::either(
        pending.is_empty(),
        format!("The cluster requires TLS (`tls` is `{tls}`) and every instance has applied it."),
        format!(
            "`tls` is `{tls}` in the cluster parameter group but not applied on: {}; reboot those instances.",
            pending.join(", ")
        ),
    )
    .with(p.evidence("parameters"))
    .with(p.evidence("dbClusterMembers")))
}
