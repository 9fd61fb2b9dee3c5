//! AWS Backup: recovery points (`AWS::Backup::RecoveryPoint`) with their
//! encryption, and one [`types::BACKUP_PROTECTED_RESOURCES`] asset per
//! region listing the resources AWS Backup has backed up.
//!
//! Per region `ListBackupVaults`, per vault `ListRecoveryPointsByBackupVault`
//! (both paginated), and `ListProtectedResources` (every resource with at
//! least one recovery point in the region; paginated). The "in a backup
//! plan" recommendations of EC2, RDS, DynamoDB and EFS read the protected
//! resources; when that list cannot be read, the region asset marks
//! `resourceArns` unavailable.

use aws_sdk_backup::types::{ProtectedResource, RecoveryPointByBackupVault};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects AWS Backup recovery points and protected resources.
#[derive(Debug)]
pub struct Backup;

/// An AWS Backup recovery point.
pub const RECOVERY_POINT: &str = "AWS::Backup::RecoveryPoint";

static META: CollectorMeta = CollectorMeta {
    service: "backup",
    scope: Scope::Regional,
    operations: &[
        op!("backup", "ListBackupVaults"),
        op!("backup", "ListRecoveryPointsByBackupVault"),
        op!("backup", "ListProtectedResources"),
    ],
    resource_types: &[RECOVERY_POINT, types::BACKUP_PROTECTED_RESOURCES],
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
                collect_recovery_points(ctx, client),
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

async fn collect_recovery_points(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListBackupVaults",
            client.list_backup_vaults().into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let vaults: Vec<String> = pages
        .iter()
        .flat_map(|p| p.backup_vault_list())
        .filter_map(|v| v.backup_vault_name().map(str::to_owned))
        .collect();
    let points: Vec<Vec<Asset>> = futures::stream::iter(vaults)
        .map(|vault| async move {
            let pages = ctx
                .pages(
                    "ListRecoveryPointsByBackupVault",
                    client
                        .list_recovery_points_by_backup_vault()
                        .backup_vault_name(&vault)
                        .into_paginator()
                        .send(),
                )
                .await;
            pages
                .iter()
                .flatten()
                .flat_map(|p| p.recovery_points())
                .map(|rp| recovery_point_asset(ctx.account(), ctx.region(), rp))
                .collect()
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in points.into_iter().flatten() {
        ctx.emit(asset);
    }
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
}
