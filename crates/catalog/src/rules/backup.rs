//! Rules for AWS Backup: recovery points encrypted at rest; vaults
//! encrypted with a customer managed key, locked, and without a public
//! access policy; plans' frequency and retention and a plan in every region
//! with resources to protect (Rampart's judgement, after AWS Backup Audit
//! Manager's controls and CIS/Prowler: Security Hub has no control for
//! them); and the "covered by a backup plan" controls of EC2 (EBS volumes),
//! RDS (DB instances), DynamoDB (tables) and EFS (file systems).
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

use super::cloudtrail::arn_account;
use super::{Outcome, Rule, policy};
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
    Rule {
        id: "backup-vault-encrypted-with-cmk",
        check: vault_encrypted_with_cmk,
    },
    Rule {
        id: "backup-vault-access-policy-not-public",
        check: vault_access_policy_not_public,
    },
    Rule {
        id: "backup-vault-lock-enabled",
        check: vault_lock_enabled,
    },
    Rule {
        id: "backup-plan-min-frequency-and-retention",
        check: plan_min_frequency_and_retention,
    },
    Rule {
        id: "backup-plan-exists-in-region",
        check: plan_exists_in_region,
    },
];

/// The retention AWS Backup Audit Manager's "minimum frequency and
/// minimum retention" control (Config rule
/// `backup-plan-min-frequency-and-min-retention-check`) requires by default.
pub const MIN_RETENTION_DAYS: i64 = 35;

/// Resource types whose presence in a region calls for a backup plan there:
/// the ones the "in a backup plan" recommendations assess.
pub const PROTECTABLE_TYPES: &[&str] = &[
    "AWS::EC2::Volume",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::DynamoDB::Table",
    "AWS::EFS::FileSystem",
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

/// Not applicable to a vault still being created or whose creation failed
/// (`vaultState` other than `AVAILABLE`; absent is assessed).
fn vault_unavailable(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("vaultState")? {
        Some(state @ ("CREATING" | "FAILED")) => Some(
            Outcome::not_applicable(format!("The vault is `{state}`."))
                .with(p.evidence("vaultState")),
        ),
        _ => None,
    })
}

/// The vault encrypts recovery points with a customer managed KMS key:
/// `encryptionKeyType` when AWS Backup reports it, else the key's
/// `keyManager` from the KMS scan; a key of another account is customer
/// managed (AWS managed keys are never shared). A key of the vault's
/// account that the scan does not hold is an error.
fn vault_encrypted_with_cmk(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = vault_unavailable(p)? {
        return Ok(na);
    }
    let unhealthy = "The vault encrypts recovery points with an AWS managed or AWS owned key; create a vault encrypted with a customer managed KMS key and point the backup plans' rules at it.";
    match p.str("encryptionKeyType")? {
        Some("CUSTOMER_MANAGED_KMS_KEY") => {
            return Ok(Outcome::healthy(
                "The vault encrypts recovery points with a customer managed KMS key.",
            )
            .with(p.evidence("encryptionKeyType"))
            .with(p.evidence("encryptionKeyArn")));
        }
        Some("AWS_OWNED_KMS_KEY") => {
            return Ok(Outcome::unhealthy(unhealthy)
                .with(p.evidence("encryptionKeyType"))
                .with(p.evidence("encryptionKeyArn")));
        }
        _ => {}
    }
    let Some(key) = p.str("encryptionKeyArn")? else {
        return Err(Unreadable {
            path: "encryptionKeyArn".to_owned(),
            error: "AWS Backup did not report the vault's KMS key".to_owned(),
        });
    };
    let asset = p.asset();
    if let Some(found) = inv.by_arn(key) {
        let manager = Props::of(found).str("keyManager")?;
        let evidence = Evidence {
            path: "kms.keyManager".to_owned(),
            value: manager.map_or(Value::Null, Value::from),
        };
        return match manager {
            Some("CUSTOMER") => Ok(Outcome::healthy(format!(
                "The vault encrypts recovery points with customer managed KMS key `{key}`."
            ))
            .with(p.evidence("encryptionKeyArn"))
            .with(evidence)),
            Some("AWS") => Ok(Outcome::unhealthy(unhealthy)
                .with(p.evidence("encryptionKeyArn"))
                .with(evidence)),
            _ => Err(Unreadable {
                path: "kms.keyManager".to_owned(),
                error: format!("the KMS scan did not report who manages key `{key}`"),
            }),
        };
    }
    match arn_account(key) {
        Some(owner) if owner != asset.account => Ok(Outcome::healthy(format!(
            "The vault encrypts recovery points with KMS key `{key}` of account {owner}, a customer managed key (AWS managed keys cannot be shared)."
        ))
        .with(p.evidence("encryptionKeyArn"))),
        _ => Err(Unreadable {
            path: "encryptionKeyArn".to_owned(),
            error: format!("KMS key `{key}` is not in the scan, so who manages it is unknown"),
        }),
    }
}

/// The vault's access policy grants nothing to everyone (`"*"`) without a
/// condition pinning the caller (see `policy::Statement::is_public`). No
/// policy is healthy: access then comes only from IAM policies of the
/// account.
fn vault_access_policy_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = vault_unavailable(p)? {
        return Ok(na);
    }
    let Some(doc) = policy::read(p, "accessPolicy")? else {
        return Ok(Outcome::healthy(
            "The vault has no access policy; only the account's IAM policies grant access to it.",
        )
        .with(p.evidence("accessPolicy")));
    };
    let public = policy::public_statements(doc);
    if public.is_empty() {
        return Ok(
            Outcome::healthy("The vault's access policy grants nothing to everyone.")
                .with(p.evidence("accessPolicy")),
        );
    }
    let deletes = public
        .iter()
        .any(|s| s.matches_action("backup:DeleteRecoveryPoint"));
    let mut outcome = Outcome::unhealthy(if deletes {
        "The vault's access policy lets anyone delete its recovery points; remove the statement or restrict it to your principals."
    } else {
        "The vault's access policy grants access to everyone; remove the statement or restrict it to your principals."
    });
    for statement in public {
        outcome = outcome.with(p.evidence(&format!("accessPolicy.Statement.{}", statement.index)));
    }
    Ok(outcome)
}

/// AWS Backup Vault Lock is applied (`locked`): recovery points cannot be
/// deleted early or their retention shortened, by anyone (root included,
/// in compliance mode). Absent in a successful answer means no lock.
fn vault_lock_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = vault_unavailable(p)? {
        return Ok(na);
    }
    let locked = p.bool("locked")?.unwrap_or(false);
    Ok(Outcome::either(
        locked,
        "AWS Backup Vault Lock protects the vault's recovery points.",
        "The vault has no Vault Lock: anyone with the permissions can delete its recovery points or shorten their retention; put a Vault Lock configuration on it.",
    )
    .with(p.evidence("locked"))
    .with(p.evidence("minRetentionDays")))
}

/// Whether a backup rule's cron schedule runs at least daily: day of
/// month, month and day of week all wildcards (`cron(0 5 ? * * *)`,
/// `cron(0 */12 * * ? *)`). `None` when it is not a cron expression.
fn cron_at_least_daily(expression: &str) -> Option<bool> {
    let inner = expression.trim().strip_prefix("cron(")?.strip_suffix(')')?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [_minutes, _hours, day_of_month, month, day_of_week, ..] = fields.as_slice() else {
        return None;
    };
    let any = |f: &str| f == "*" || f == "?";
    Some(any(day_of_month) && any(month) && any(day_of_week))
}

/// Every rule of the plan backs up at least daily (a cron schedule whose
/// day fields are wildcards, no schedule — AWS Backup then uses
/// `cron(0 5 ? * * *)` — or continuous backup) and keeps recovery
/// points at least [`MIN_RETENTION_DAYS`] days (no `deleteAfterDays`:
/// kept until deleted) — the defaults of AWS Backup Audit Manager's control
/// and Config rule `backup-plan-min-frequency-and-min-retention-check`.
/// Every plan is assessed.
fn plan_min_frequency_and_retention(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let Some(rules) = p.get("rules")?.and_then(Node::as_array) else {
        return Err(Unreadable {
            path: "rules".to_owned(),
            error: "AWS Backup did not report the plan's rules".to_owned(),
        });
    };
    let mut failing = Vec::new();
    let mut reasons = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let name = rule.get("ruleName").and_then(Node::as_str).unwrap_or("?");
        let continuous = rule.get("enableContinuousBackup").and_then(Node::as_bool) == Some(true);
        // No expression: AWS Backup's default, `cron(0 5 ? * * *)` (daily).
        let schedule = rule.get("scheduleExpression").and_then(Node::as_str);
        let daily = continuous || schedule.is_none_or(|s| cron_at_least_daily(s) == Some(true));
        let retention = rule
            .get("lifecycle")
            .and_then(|l| l.get("deleteAfterDays"))
            .and_then(Node::as_i64);
        let kept = retention.is_none_or(|d| d >= MIN_RETENTION_DAYS);
        if !daily {
            reasons.push(format!(
                "rule `{name}` runs less often than daily ({})",
                schedule.unwrap_or_default()
            ));
        }
        if let Some(days) = retention.filter(|_| !kept) {
            reasons.push(format!("rule `{name}` keeps recovery points {days} days"));
        }
        if !daily || !kept {
            failing.push(i);
        }
    }
    if rules.is_empty() {
        return Ok(
            Outcome::unhealthy("The plan has no rules, so it backs nothing up.")
                .with(p.evidence("rules")),
        );
    }
    if failing.is_empty() {
        return Ok(Outcome::healthy(format!(
            "Every rule of the plan backs up at least daily and keeps recovery points at least {MIN_RETENTION_DAYS} days."
        ))
        .with(p.evidence("rules")));
    }
    let mut outcome = Outcome::unhealthy(format!(
        "{}; back up at least daily and keep recovery points at least {MIN_RETENTION_DAYS} days.",
        reasons.join("; ")
    ));
    for i in failing {
        outcome = outcome.with(p.evidence(&format!("rules.{i}")));
    }
    Ok(outcome)
}

/// The region has at least one backup plan. Not applicable: a region with
/// no plan and none of [`PROTECTABLE_TYPES`] in the scan (nothing to back
/// up there). Prowler's `backup_plans_exist` asks the same with vaults as
/// the signal; Rampart uses the resources themselves.
fn plan_exists_in_region(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let Some(plans) = p.get("backupPlans")?.and_then(Node::as_array) else {
        return Err(Unreadable {
            path: "backupPlans".to_owned(),
            error: "AWS Backup did not report the region's backup plans".to_owned(),
        });
    };
    if !plans.is_empty() {
        return Ok(
            Outcome::healthy(format!("The region has {} backup plan(s).", plans.len()))
                .with(p.evidence("backupPlans")),
        );
    }
    let asset = p.asset();
    let protectable: Vec<&str> = PROTECTABLE_TYPES
        .iter()
        .copied()
        .filter(|t| {
            inv.of_type_in_region(t, asset.account, asset.region)
                .next()
                .is_some()
        })
        .collect();
    if protectable.is_empty() {
        return Ok(Outcome::not_applicable(
            "The region has no backup plan and no EBS volume, RDS database, DynamoDB table or EFS file system to back up.",
        )
        .with(p.evidence("backupPlans")));
    }
    Ok(Outcome::unhealthy(format!(
        "The region has resources to back up ({}) but no backup plan; create one and assign the resources to it.",
        protectable.join(", ")
    ))
    .with(p.evidence("backupPlans"))
    .with(Evidence {
        path: "region.protectableResourceTypes".to_owned(),
        value: Value::from(protectable),
    }))
}

#[cfg(test)]
mod tests {
    use super::cron_at_least_daily;

    #[test]
    fn reads_cron_frequency() {
        assert_eq!(cron_at_least_daily("cron(0 5 ? * * *)"), Some(true));
        assert_eq!(cron_at_least_daily("cron(0 */12 * * ? *)"), Some(true));
        assert_eq!(cron_at_least_daily("cron(0 5 ? * 1 *)"), Some(false));
        assert_eq!(cron_at_least_daily("cron(0 5 1 * ? *)"), Some(false));
        assert_eq!(cron_at_least_daily("rate(1 day)"), None);
    }
}
