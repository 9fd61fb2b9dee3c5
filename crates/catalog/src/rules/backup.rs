//! Rules for AWS Backup: recovery points encrypted at rest, and the
//! "covered by a backup plan" controls of EC2 (EBS volumes), RDS (DB
//! instances), DynamoDB (tables) and EFS (file systems).
//!
//! "Covered" is read from AWS Backup's protected resources in the
//! resource's region (`Rampart::Backup::ProtectedResources`, from
//! `ListProtectedResources`): a resource AWS Backup holds at least one
//! recovery point of. A resource in a plan that has not run yet is not
//! listed there, and a resource backed up once on demand is; when the list
//! was not read (AWS Backup not scanned, or the call failed) the assessment
//! is an error, never healthy.

use rampart_model::{Evidence, types};
use serde_json::Value;

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "backup-recovery-point-encrypted",
        check: recovery_point_encrypted,
    },
    Rule {
        id: "ec2-volume-in-backup-plan",
        check: volume_in_backup_plan,
    },
    Rule {
        id: "rds-instance-in-backup-plan",
        check: db_instance_in_backup_plan,
    },
    Rule {
        id: "dynamodb-table-in-backup-plan",
        check: table_in_backup_plan,
    },
    Rule {
        id: "efs-file-system-in-backup-plan",
        check: file_system_in_backup_plan,
    },
];

/// FSBP Backup.1: the recovery point is encrypted at rest. Not applicable:
/// a recovery point being deleted or expired.
fn recovery_point_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(status @ ("DELETING" | "EXPIRED")) = p.str("status")? {
        return Ok(
            Outcome::not_applicable(format!("The recovery point is {status}."))
                .with(p.evidence("status")),
        );
    }
    let Some(encrypted) = p.bool("isEncrypted")? else {
        return Err(Unreadable {
            path: "isEncrypted".to_owned(),
            error: "the recovery point does not report its encryption".to_owned(),
        });
    };
    Ok(Outcome::either(
        encrypted,
        "The recovery point is encrypted at rest.",
        "The recovery point is not encrypted; back the resource up again into a vault that encrypts with a KMS key (or copy it with encryption) and delete the unencrypted point.",
    )
    .with(p.evidence("isEncrypted"))
    .with(p.evidence("encryptionKeyArn")))
}

/// Whether AWS Backup protects one of `arns` in the subject's region: the
/// protected resource found, or `None`; `Err` when the region's list was
/// not read.
fn protected<'a>(
    p: &Props<'_>,
    inv: &'a Inventory,
    arns: &[&str],
) -> Result<(Option<&'a str>, Evidence), Unreadable> {
    let asset = p.asset();
    let Some(list) = inv
        .of_type_in_region(
            types::BACKUP_PROTECTED_RESOURCES,
            asset.account,
            asset.region,
        )
        .next()
    else {
        return Err(Unreadable {
            path: "protectedResources".to_owned(),
            error: "AWS Backup's protected resources were not collected in this region".to_owned(),
        });
    };
    let view = Props::of(list);
    let Some(protected) = view.get("resourceArns")?.and_then(Node::as_array) else {
        return Err(Unreadable {
            path: "protectedResources".to_owned(),
            error: "AWS Backup's protected resources were not reported".to_owned(),
        });
    };
    let found = protected
        .iter()
        .filter_map(Node::as_str)
        .find(|r| arns.contains(r));
    let evidence = Evidence {
        path: "backup.protectedResource".to_owned(),
        value: found.map_or(Value::Null, Value::from),
    };
    Ok((found, evidence))
}

fn covered_outcome(found: Option<&str>, evidence: Evidence, what: &str) -> Outcome {
    Outcome::either(
        found.is_some(),
        format!("AWS Backup holds recovery points of the {what}."),
        format!("AWS Backup holds no recovery point of the {what}; add it to a backup plan (by tag or ARN) so it is backed up on a schedule."),
    )
    .with(evidence)
}

/// FSBP EC2.28: the EBS volume is covered by AWS Backup. Not applicable: a
/// volume being deleted or in error.
fn volume_in_backup_plan(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state @ ("deleting" | "deleted" | "error")) = p.str("state")? {
        return Ok(
            Outcome::not_applicable(format!("The volume is {state}.")).with(p.evidence("state"))
        );
    }
    let (found, evidence) = protected(p, inv, &[p.asset().arn])?;
    Ok(covered_outcome(found, evidence, "volume"))
}

/// FSBP RDS.26: the DB instance is covered by AWS Backup; an instance of a
/// cluster (Aurora, DocumentDB, Neptune) is covered through its cluster,
/// which is what AWS Backup backs up. Not applicable: an instance being
/// deleted.
fn db_instance_in_backup_plan(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(status @ ("deleting" | "deleted")) = p.str("dbInstanceStatus")? {
        return Ok(
            Outcome::not_applicable(format!("The DB instance is {status}."))
                .with(p.evidence("dbInstanceStatus")),
        );
    }
    let arn = p.asset().arn;
    let cluster_arn = p.str("dbClusterIdentifier")?.map(|cluster| {
        let partition = arn.split(':').nth(1).unwrap_or("aws");
        let asset = p.asset();
        format!(
            "arn:{partition}:rds:{}:{}:cluster:{cluster}",
            asset.region, asset.account
        )
    });
    let mut arns = vec![arn];
    if let Some(cluster) = cluster_arn.as_deref() {
        arns.push(cluster);
    }
    let (found, evidence) = protected(p, inv, &arns)?;
    Ok(covered_outcome(found, evidence, "DB instance").with(p.evidence("dbClusterIdentifier")))
}

/// FSBP DynamoDB.4: the table is covered by AWS Backup. Not applicable: a
/// table being deleted.
fn table_in_backup_plan(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("tableStatus")? == Some("DELETING") {
        return Ok(
            Outcome::not_applicable("The table is being deleted.").with(p.evidence("tableStatus"))
        );
    }
    let (found, evidence) = protected(p, inv, &[p.asset().arn])?;
    Ok(covered_outcome(found, evidence, "table"))
}

/// FSBP EFS.2: the file system is covered by AWS Backup (automatic backups
/// through the file system's backup policy count: they are AWS Backup
/// recovery points). Not applicable: a file system being deleted.
fn file_system_in_backup_plan(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state @ ("deleting" | "deleted")) = p.str("lifeCycleState")? {
        return Ok(
            Outcome::not_applicable(format!("The file system is {state}."))
                .with(p.evidence("lifeCycleState")),
        );
    }
    let (found, evidence) = protected(p, inv, &[p.asset().arn])?;
    Ok(covered_outcome(found, evidence, "file system"))
}
