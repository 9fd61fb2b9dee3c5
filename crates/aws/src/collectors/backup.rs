//! AWS Backup: recovery points (`AWS::Backup::RecoveryPoint`) with their
//! encryption, backup vaults (`AWS::Backup::BackupVault`) with their key,
//! lock and access policy, backup plans (`AWS::Backup::BackupPlan`) with
//! their rules, one [`PLANS`] asset per region listing its plans, and one
//! [`types::BACKUP_PROTECTED_RESOURCES`] asset per region listing the
//! resources AWS Backup has backed up.
//!
//! Per region `ListBackupVaults` (its answer carries each vault's KMS key,
//! key type, state and Vault Lock settings), per vault
//! `GetBackupVaultAccessPolicy` (`ResourceNotFoundException`: the vault has
//! no access policy) and `ListRecoveryPointsByBackupVault`;
//! `ListBackupPlans` and per plan `GetBackupPlan` (its rules: schedule,
//! lifecycle, continuous backup); and `ListProtectedResources` (every
//! resource with at least one recovery point in the region). List calls
//! are paginated. The "in a backup plan" recommendations of EC2, RDS,
//! DynamoDB and EFS read the protected resources; when that list cannot be
//! read, the region asset marks `resourceArns` unavailable.

use aws_sdk_backup::operation::get_backup_plan::GetBackupPlanOutput;
use aws_sdk_backup::types::{
    BackupPlansListMember, BackupRule, BackupVaultListMember, ProtectedResource,
    RecoveryPointByBackupVault,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{
    Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp, partition, policy_document,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects AWS Backup vaults, plans, recovery points and protected
/// resources.
#[derive(Debug)]
pub struct Backup;

/// An AWS Backup recovery point.
pub const RECOVERY_POINT: &str = "AWS::Backup::RecoveryPoint";
/// An AWS Backup vault.
pub const VAULT: &str = "AWS::Backup::BackupVault";
/// An AWS Backup plan.
pub const PLAN: &str = "AWS::Backup::BackupPlan";
/// The backup plans of a region, one per region (whether a region has any).
pub const PLANS: &str = "Rampart::Backup::Plans";

static META: CollectorMeta = CollectorMeta {
    service: "backup",
    scope: Scope::Regional,
    operations: &[
        op!("backup", "ListBackupVaults"),
        op!("backup", "GetBackupVaultAccessPolicy"),
        op!("backup", "ListRecoveryPointsByBackupVault"),
        op!("backup", "ListBackupPlans"),
        op!("backup", "GetBackupPlan"),
        op!("backup", "ListProtectedResources"),
    ],
    resource_types: &[
        RECOVERY_POINT,
        VAULT,
        PLAN,
        PLANS,
        types::BACKUP_PROTECTED_RESOURCES,
    ],
};

type Client = aws_sdk_backup::Client;

impl Collector for Backup {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().backup(ctx.region());
            let client = &client;
            futures::join!(
                collect_vaults(ctx, client),
                collect_plans(ctx, client),
                collect_protected(ctx, client)
            );
        })
    }
}

async fn collect_protected(ctx: &CollectContext<'_>, client: &Client) {
    let pages = ctx
        .pages(
            "ListProtectedResources",
            client.list_protected_resources().into_paginator().send(),
        )
        .await;
    let resources: Result<Vec<ProtectedResource>, CallFailure> = pages.map(|pages| {
        pages
            .into_iter()
            .flat_map(|p| p.results.unwrap_or_default())
            .collect()
    });
    ctx.emit(protected_resources_asset(
        ctx.account(),
        ctx.region(),
        resources.as_deref(),
    ));
}

async fn collect_vaults(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListBackupVaults",
            client.list_backup_vaults().into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let vaults: Vec<BackupVaultListMember> = pages
        .into_iter()
        .flat_map(|p| p.backup_vault_list.unwrap_or_default())
        .collect();
    let assets: Vec<Vec<Asset>> = futures::stream::iter(vaults)
        .map(|vault| async move {
            let name = vault.backup_vault_name().unwrap_or_default().to_owned();
            let (policy, points) = futures::join!(
                ctx.call_optional(
                    "GetBackupVaultAccessPolicy",
                    &["ResourceNotFoundException"],
                    client
                        .get_backup_vault_access_policy()
                        .backup_vault_name(&name)
                        .send(),
                ),
                ctx.pages(
                    "ListRecoveryPointsByBackupVault",
                    client
                        .list_recovery_points_by_backup_vault()
                        .backup_vault_name(&name)
                        .into_paginator()
                        .send(),
                )
            );
            let policy = policy
                .as_ref()
                .map(|out| out.as_ref().and_then(|o| o.policy()));
            let mut assets = vec![vault_asset(ctx.account(), ctx.region(), &vault, policy)];
            assets.extend(
                points
                    .iter()
                    .flatten()
                    .flat_map(|p| p.recovery_points())
                    .map(|rp| recovery_point_asset(ctx.account(), ctx.region(), rp)),
            );
            assets
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets.into_iter().flatten() {
        ctx.emit(asset);
    }
}

async fn collect_plans(ctx: &CollectContext<'_>, client: &Client) {
    let pages = ctx
        .pages(
            "ListBackupPlans",
            client.list_backup_plans().into_paginator().send(),
        )
        .await;
    let plans: Result<Vec<BackupPlansListMember>, CallFailure> = pages.map(|pages| {
        pages
            .into_iter()
            .flat_map(|p| p.backup_plans_list.unwrap_or_default())
            .collect()
    });
    ctx.emit(plans_asset(ctx.account(), ctx.region(), plans.as_deref()));
    let Ok(plans) = plans else {
        return;
    };
    let assets: Vec<Option<Asset>> = futures::stream::iter(plans)
        .map(|plan| async move {
            let id = plan.backup_plan_id()?;
            let out = ctx
                .call(
                    "GetBackupPlan",
                    client.get_backup_plan().backup_plan_id(id).send(),
                )
                .await;
            Some(plan_asset(ctx.account(), ctx.region(), &plan, out.as_ref()))
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets.into_iter().flatten() {
        ctx.emit(asset);
    }
}

/// The `AWS::Backup::BackupVault` asset: type, state, `encryptionKeyArn`
/// and `encryptionKeyType`, Vault Lock (`locked`, `minRetentionDays`,
/// `maxRetentionDays`, `lockDate`) and `accessPolicy` (the parsed document,
/// `null` when the vault has none; unavailable when it was not read).
pub fn vault_asset(
    account: &str,
    region: &str,
    vault: &BackupVaultListMember,
    policy: Result<Option<&str>, &CallFailure>,
) -> Asset {
    let name = vault.backup_vault_name().unwrap_or_default();
    let arn = vault.backup_vault_arn().map_or_else(
        || {
            format!(
                "arn:{}:backup:{region}:{account}:backup-vault:{name}",
                partition(region)
            )
        },
        str::to_owned,
    );
    let mut asset = Asset::new(
        &arn,
        VAULT,
        account,
        region,
        name,
        json!({
            "backupVaultName": name,
            "backupVaultArn": arn,
            "vaultType": opt_str(vault.vault_type().map(|t| t.as_str())),
            "vaultState": opt_str(vault.vault_state().map(|s| s.as_str())),
            "encryptionKeyArn": opt_str(vault.encryption_key_arn()),
            "encryptionKeyType": opt_str(vault.encryption_key_type().map(|t| t.as_str())),
            "numberOfRecoveryPoints": vault.number_of_recovery_points(),
            "locked": vault.locked(),
            "minRetentionDays": vault.min_retention_days(),
            "maxRetentionDays": vault.max_retention_days(),
            "lockDate": opt_timestamp(vault.lock_date()),
            "creationDate": opt_timestamp(vault.creation_date()),
        }),
    );
    match policy {
        Ok(text) => asset.set_property("accessPolicy", text.map_or(Value::Null, policy_document)),
        Err(failure) => {
            asset.set_property("accessPolicy", Value::Null);
            asset.mark_unavailable("accessPolicy", failure.to_string());
        }
    }
    asset
}

/// The [`PLANS`] asset of a region: `backupPlans`, the id and name of each
/// plan (sorted by id); unavailable when `ListBackupPlans` failed.
pub fn plans_asset(
    account: &str,
    region: &str,
    plans: Result<&[BackupPlansListMember], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("backup", region, account, "backup-plans"),
        PLANS,
        account,
        region,
        "backup-plans",
        json!({}),
    );
    match plans {
        Ok(list) => {
            let mut plans: Vec<(&str, &str)> = list
                .iter()
                .filter_map(|p| {
                    Some((
                        p.backup_plan_id()?,
                        p.backup_plan_name().unwrap_or_default(),
                    ))
                })
                .collect();
            plans.sort_unstable();
            asset.set_property(
                "backupPlans",
                plans
                    .iter()
                    .map(|(id, name)| json!({"backupPlanId": id, "backupPlanName": name}))
                    .collect(),
            );
        }
        Err(failure) => {
            asset.set_property("backupPlans", Value::Null);
            asset.mark_unavailable("backupPlans", failure.to_string());
        }
    }
    asset
}

fn rule_json(rule: &BackupRule) -> Value {
    json!({
        "ruleName": rule.rule_name(),
        "targetBackupVaultName": rule.target_backup_vault_name(),
        "scheduleExpression": opt_str(rule.schedule_expression()),
        "scheduleExpressionTimezone": opt_str(rule.schedule_expression_timezone()),
        "enableContinuousBackup": rule.enable_continuous_backup(),
        "lifecycle": rule.lifecycle().map_or(Value::Null, |l| json!({
            "deleteAfterDays": l.delete_after_days(),
            "moveToColdStorageAfterDays": l.move_to_cold_storage_after_days(),
        })),
        "copyActions": rule
            .copy_actions()
            .iter()
            .map(|c| json!({
                "destinationBackupVaultArn": c.destination_backup_vault_arn(),
                "deleteAfterDays": c.lifecycle().and_then(|l| l.delete_after_days()),
            }))
            .collect::<Vec<_>>(),
    })
}

/// The `AWS::Backup::BackupPlan` asset: `backupPlanName`, `versionId` and
/// `rules` (name, target vault, `scheduleExpression`,
/// `enableContinuousBackup`, `lifecycle.deleteAfterDays`, copy actions);
/// `rules` is unavailable when `GetBackupPlan` failed.
pub fn plan_asset(
    account: &str,
    region: &str,
    plan: &BackupPlansListMember,
    detail: Result<&GetBackupPlanOutput, &CallFailure>,
) -> Asset {
    let id = plan.backup_plan_id().unwrap_or_default();
    let arn = plan.backup_plan_arn().map_or_else(
        || {
            format!(
                "arn:{}:backup:{region}:{account}:backup-plan:{id}",
                partition(region)
            )
        },
        str::to_owned,
    );
    let name = plan.backup_plan_name().unwrap_or(id);
    let mut asset = Asset::new(
        &arn,
        PLAN,
        account,
        region,
        name,
        json!({
            "backupPlanId": id,
            "backupPlanArn": arn,
            "backupPlanName": name,
            "versionId": opt_str(plan.version_id()),
            "creationDate": opt_timestamp(plan.creation_date()),
            "lastExecutionDate": opt_timestamp(plan.last_execution_date()),
        }),
    );
    match detail {
        Ok(out) => asset.set_property(
            "rules",
            out.backup_plan().map_or(Value::Null, |p| {
                p.rules().iter().map(rule_json).collect::<Vec<_>>().into()
            }),
        ),
        Err(failure) => {
            asset.set_property("rules", Value::Null);
            asset.mark_unavailable("rules", failure.to_string());
        }
    }
    asset
}

/// The `AWS::Backup::RecoveryPoint` asset: vault, source resource, status
/// and encryption (`isEncrypted`, `encryptionKeyArn`).
pub fn recovery_point_asset(account: &str, region: &str, rp: &RecoveryPointByBackupVault) -> Asset {
    let arn = rp.recovery_point_arn().unwrap_or_default();
    Asset::new(
        arn,
        RECOVERY_POINT,
        account,
        region,
        arn_name(arn),
        json!({
            "recoveryPointArn": arn,
            "backupVaultName": opt_str(rp.backup_vault_name()),
            "resourceArn": opt_str(rp.resource_arn()),
            "resourceType": opt_str(rp.resource_type()),
            "status": opt_str(rp.status().map(|s| s.as_str())),
            "isEncrypted": rp.is_encrypted(),
            "encryptionKeyArn": opt_str(rp.encryption_key_arn()),
            "creationDate": opt_timestamp(rp.creation_date()),
        }),
    )
}

/// The [`types::BACKUP_PROTECTED_RESOURCES`] asset of a region:
/// `resourceArns`, the ARNs of the resources AWS Backup holds a recovery
/// point of, sorted.
pub fn protected_resources_asset(
    account: &str,
    region: &str,
    resources: Result<&[ProtectedResource], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("backup", region, account, "protected-resources"),
        types::BACKUP_PROTECTED_RESOURCES,
        account,
        region,
        "protected-resources",
        json!({}),
    );
    match resources {
        Ok(list) => {
            let mut arns: Vec<&str> = list.iter().filter_map(|r| r.resource_arn()).collect();
            arns.sort_unstable();
            arns.dedup();
            asset.set_property("resourceArns", json!(arns));
        }
        Err(failure) => {
            asset.set_property("resourceArns", Value::Null);
            asset.mark_unavailable("resourceArns", failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_backup::types::RecoveryPointStatus;
    use rampart_model::GapKind;

    #[test]
    fn maps_recovery_points() {
        let rp = RecoveryPointByBackupVault::builder()
            .recovery_point_arn("arn:aws:backup:us-east-1:123456789012:recovery-point:rp-1")
            .backup_vault_name("Default")
            .resource_arn("arn:aws:dynamodb:us-east-1:123456789012:table/orders")
            .status(RecoveryPointStatus::Completed)
            .is_encrypted(false)
            .build();
        let asset = recovery_point_asset("123456789012", "us-east-1", &rp);
        assert_eq!(asset.resource_type, RECOVERY_POINT);
        assert_eq!(asset.name, "rp-1");
        assert_eq!(asset.properties["isEncrypted"], false);
        assert_eq!(asset.properties["status"], "COMPLETED");
    }

    #[test]
    fn maps_protected_resources() {
        let list = [
            ProtectedResource::builder().resource_arn("arn:b").build(),
            ProtectedResource::builder().resource_arn("arn:a").build(),
        ];
        let asset = protected_resources_asset("123456789012", "us-east-1", Ok(&list));
        assert_eq!(asset.properties["resourceArns"], json!(["arn:a", "arn:b"]));
        assert_eq!(
            asset.arn,
            "arn:rampart:backup:us-east-1:123456789012:protected-resources"
        );
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        };
        let asset = protected_resources_asset("123456789012", "us-east-1", Err(&failure));
        assert!(asset.unavailable.contains_key("resourceArns"));
    }
    #[test]
    fn maps_vaults_with_and_without_policy() {
        let vault = BackupVaultListMember::builder()
            .backup_vault_name("main")
            .backup_vault_arn("arn:aws:backup:us-east-1:123456789012:backup-vault:main")
            .encryption_key_arn("arn:aws:kms:us-east-1:123456789012:key/k1")
            .locked(true)
            .min_retention_days(7)
            .build();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"backup:DeleteRecoveryPoint","Resource":"*"}]}"#;
        let asset = vault_asset("123456789012", "us-east-1", &vault, Ok(Some(policy)));
        assert_eq!(asset.resource_type, VAULT);
        assert_eq!(asset.name, "main");
        assert_eq!(asset.properties["locked"], true);
        assert_eq!(
            asset.properties["accessPolicy"]["Statement"][0]["Effect"],
            "Deny"
        );
        let none = vault_asset("123456789012", "us-east-1", &vault, Ok(None));
        assert!(none.properties["accessPolicy"].is_null());
        assert!(none.unavailable.is_empty());
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        };
        let denied = vault_asset("123456789012", "us-east-1", &vault, Err(&failure));
        assert!(denied.unavailable.contains_key("accessPolicy"));
    }

    #[test]
    fn maps_plans() {
        use aws_sdk_backup::types::{BackupPlan, Lifecycle};
        let member = BackupPlansListMember::builder()
            .backup_plan_id("p-1")
            .backup_plan_name("daily")
            .backup_plan_arn("arn:aws:backup:us-east-1:123456789012:backup-plan:p-1")
            .build();
        let out = GetBackupPlanOutput::builder()
            .backup_plan(
                BackupPlan::builder()
                    .backup_plan_name("daily")
                    .rules(
                        BackupRule::builder()
                            .rule_name("daily")
                            .target_backup_vault_name("main")
                            .schedule_expression("cron(0 5 ? * * *)")
                            .lifecycle(Lifecycle::builder().delete_after_days(35).build())
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build();
        let asset = plan_asset("123456789012", "us-east-1", &member, Ok(&out));
        assert_eq!(asset.resource_type, PLAN);
        assert_eq!(
            asset.properties["rules"][0]["lifecycle"]["deleteAfterDays"],
            35
        );
        assert_eq!(
            asset.properties["rules"][0]["scheduleExpression"],
            "cron(0 5 ? * * *)"
        );
        let list = plans_asset("123456789012", "us-east-1", Ok(&[member]));
        assert_eq!(list.properties["backupPlans"][0]["backupPlanId"], "p-1");
        let failure = CallFailure {
            kind: GapKind::Throttled,
            code: None,
            message: "slow down".into(),
        };
        let list = plans_asset("123456789012", "us-east-1", Err(&failure));
        assert!(list.unavailable.contains_key("backupPlans"));
    }
}
