//! EFS: file systems (`AWS::EFS::FileSystem`) and access points
//! (`AWS::EFS::AccessPoint`).
//!
//! Per region `DescribeFileSystems` (100 a page, tags included). Per file
//! system two calls: `DescribeBackupPolicy` (`PolicyNotFound`: no policy,
//! `backupPolicy: null`) and `DescribeAccessPoints` for that file system
//! (100 a page). Mount targets are not collected.

use aws_sdk_efs::operation::describe_backup_policy::DescribeBackupPolicyOutput;
use aws_sdk_efs::types::{AccessPointDescription, FileSystemDescription};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition, tag_map, timestamp};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects EFS file systems and access points.
#[derive(Debug)]
pub struct Efs;

static META: CollectorMeta = CollectorMeta {
    service: "efs",
    scope: Scope::Regional,
    operations: &[
        op!("efs", "DescribeFileSystems" => "elasticfilesystem:DescribeFileSystems"),
        op!("efs", "DescribeBackupPolicy" => "elasticfilesystem:DescribeBackupPolicy"),
        op!("efs", "DescribeAccessPoints" => "elasticfilesystem:DescribeAccessPoints"),
    ],
    resource_types: &["AWS::EFS::FileSystem", "AWS::EFS::AccessPoint"],
};

impl Collector for Efs {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().efs(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "DescribeFileSystems",
                    client
                        .describe_file_systems()
                        .into_paginator()
                        .page_size(100)
                        .send(),
                )
                .await
            else {
                return;
            };
            let client = &client;
            let file_systems: Vec<FileSystemDescription> = pages
                .iter()
                .flat_map(|p| p.file_systems())
                .cloned()
                .collect();
            let assets: Vec<Vec<Asset>> =
                futures::stream::iter(file_systems)
                    .map(|fs| async move {
                        let id = fs.file_system_id();
                        let (backup, access_points) = futures::join!(
                            ctx.call_optional(
                                "DescribeBackupPolicy",
                                &["PolicyNotFound"],
                                client.describe_backup_policy().file_system_id(id).send(),
                            ),
                            ctx.pages(
                                "DescribeAccessPoints",
                                client
                                    .describe_access_points()
                                    .file_system_id(id)
                                    .into_paginator()
                                    .page_size(100)
                                    .send(),
                            ),
                        );
                        let mut out = vec![file_system_asset(
                            ctx.account(),
                            ctx.region(),
                            &fs,
                            backup.as_ref().map(Option::as_ref),
                        )];
                        if let Ok(pages) = access_points {
                            out.extend(pages.iter().flat_map(|p| p.access_points()).filter_map(
                                |ap| access_point_asset(ctx.account(), ctx.region(), ap),
                            ));
                        }
                        out
                    })
                    .buffer_unordered(ctx.concurrency())
                    .collect()
                    .await;
            for asset in assets.into_iter().flatten() {
                ctx.emit(asset);
            }
        })
    }
}

/// The `AWS::EFS::FileSystem` asset. `backupPolicy` is `{"status": …}`,
/// `null` when the file system has no backup policy (automatic backups
/// off), and unavailable when `DescribeBackupPolicy` failed.
pub fn file_system_asset(
    account: &str,
    region: &str,
    fs: &FileSystemDescription,
    backup: Result<Option<&DescribeBackupPolicyOutput>, &CallFailure>,
) -> Asset {
    let id = fs.file_system_id();
    let arn = fs.file_system_arn().map_or_else(
        || {
            format!(
                "arn:{}:elasticfilesystem:{region}:{account}:file-system/{id}",
                partition(region)
            )
        },
        str::to_owned,
    );
    let protection = fs.file_system_protection().map_or(Value::Null, |p| {
        json!({
            "replicationOverwriteProtection":
                opt_str(p.replication_overwrite_protection().map(|r| r.as_str())),
        })
    });
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::EFS::FileSystem",
        account,
        region,
        fs.name().filter(|n| !n.is_empty()).unwrap_or(id),
        json!({
            "fileSystemId": id,
            "fileSystemArn": arn,
            "name": opt_str(fs.name()),
            "creationToken": fs.creation_token(),
            "creationTime": timestamp(fs.creation_time()),
            "lifeCycleState": fs.life_cycle_state().as_str(),
            "encrypted": fs.encrypted(),
            "kmsKeyId": opt_str(fs.kms_key_id()),
            "performanceMode": fs.performance_mode().as_str(),
            "throughputMode": opt_str(fs.throughput_mode().map(|t| t.as_str())),
            "numberOfMountTargets": fs.number_of_mount_targets(),
            "availabilityZoneName": opt_str(fs.availability_zone_name()),
            "fileSystemProtection": protection,
        }),
    )
    .with_tags(tag_map(
        fs.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
    ));
    match backup {
        Ok(out) => asset.set_property(
            "backupPolicy",
            out.and_then(|o| o.backup_policy())
                .map_or(Value::Null, |b| json!({ "status": b.status().as_str() })),
        ),
        Err(failure) => {
            asset.set_property("backupPolicy", Value::Null);
            asset.mark_unavailable("backupPolicy", failure.to_string());
        }
    }
    asset
}

/// The `AWS::EFS::AccessPoint` asset (`None` without an ARN). `posixUser`
/// and `rootDirectory` are `null` when the access point does not set them.
pub fn access_point_asset(
    account: &str,
    region: &str,
    ap: &AccessPointDescription,
) -> Option<Asset> {
    let arn = ap.access_point_arn()?;
    let id = ap.access_point_id().unwrap_or(arn);
    let posix = ap.posix_user().map_or(
        Value::Null,
        |u| json!({ "uid": u.uid(), "gid": u.gid(), "secondaryGids": u.secondary_gids() }),
    );
    let root = ap.root_directory().map_or(Value::Null, |r| {
        json!({
            "path": opt_str(r.path()),
            "creationInfo": r.creation_info().map_or(Value::Null, |c| json!({
                "ownerUid": c.owner_uid(),
                "ownerGid": c.owner_gid(),
                "permissions": c.permissions(),
            })),
        })
    });
    Some(
        Asset::new(
            arn,
            "AWS::EFS::AccessPoint",
            account,
            region,
            ap.name().filter(|n| !n.is_empty()).unwrap_or(id),
            json!({
                "accessPointId": id,
                "accessPointArn": arn,
                "fileSystemId": opt_str(ap.file_system_id()),
                "name": opt_str(ap.name()),
                "lifeCycleState": opt_str(ap.life_cycle_state().map(|s| s.as_str())),
                "posixUser": posix,
                "rootDirectory": root,
            }),
        )
        .with_tags(tag_map(
            ap.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_efs::types::{
        BackupPolicy, CreationInfo, LifeCycleState, PerformanceMode, PosixUser, RootDirectory,
        Status, Tag,
    };
    use aws_smithy_types::DateTime;
    use rampart_model::GapKind;

    fn fs(encrypted: bool) -> FileSystemDescription {
        let mut b = FileSystemDescription::builder()
            .owner_id("123456789012")
            .creation_token("tok")
            .file_system_id("fs-1")
            .creation_time(DateTime::from_secs(0))
            .life_cycle_state(LifeCycleState::Available)
            .number_of_mount_targets(0)
            .performance_mode(PerformanceMode::GeneralPurpose)
            .encrypted(encrypted)
            .tags(Tag::builder().key("Name").value("shared").build().unwrap());
        if encrypted {
            b = b.kms_key_id("arn:aws:kms:us-east-1:123456789012:key/k");
        }
        b.build().unwrap()
    }

    #[test]
    fn maps_an_encrypted_file_system_with_backups() {
        let backup = DescribeBackupPolicyOutput::builder()
            .backup_policy(
                BackupPolicy::builder()
                    .status(Status::Enabled)
                    .build()
                    .unwrap(),
            )
            .build();
        let asset = file_system_asset("123456789012", "us-east-1", &fs(true), Ok(Some(&backup)));
        assert_eq!(
            asset.arn,
            "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1"
        );
        assert_eq!(asset.resource_type, "AWS::EFS::FileSystem");
        assert_eq!(asset.tags["Name"], "shared");
        let p = &asset.properties;
        assert_eq!(p["encrypted"], true);
        assert_eq!(p["kmsKeyId"], "arn:aws:kms:us-east-1:123456789012:key/k");
        assert_eq!(p["lifeCycleState"], "available");
        assert_eq!(p["backupPolicy"]["status"], "ENABLED");
    }

    #[test]
    fn unencrypted_without_policy_and_unreadable_policy() {
        let asset = file_system_asset("123456789012", "us-east-1", &fs(false), Ok(None));
        assert_eq!(asset.properties["encrypted"], false);
        assert_eq!(asset.properties["kmsKeyId"], Value::Null);
        assert_eq!(asset.properties["backupPolicy"], Value::Null);
        assert!(asset.unavailable.is_empty());

        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = file_system_asset("123456789012", "us-east-1", &fs(false), Err(&failure));
        assert_eq!(
            asset.unavailable["backupPolicy"],
            "AccessDeniedException: nope"
        );
    }

    #[test]
    fn maps_access_points() {
        let ap = AccessPointDescription::builder()
            .access_point_arn(
                "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1",
            )
            .access_point_id("fsap-1")
            .file_system_id("fs-1")
            .life_cycle_state(LifeCycleState::Available)
            .posix_user(PosixUser::builder().uid(1000).gid(1000).build().unwrap())
            .root_directory(
                RootDirectory::builder()
                    .path("/app")
                    .creation_info(
                        CreationInfo::builder()
                            .owner_uid(1000)
                            .owner_gid(1000)
                            .permissions("750")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build();
        let asset = access_point_asset("123456789012", "us-east-1", &ap).unwrap();
        assert_eq!(asset.resource_type, "AWS::EFS::AccessPoint");
        assert_eq!(asset.name, "fsap-1");
        let p = &asset.properties;
        assert_eq!(p["posixUser"]["uid"], 1000);
        assert_eq!(p["rootDirectory"]["path"], "/app");
        assert_eq!(p["rootDirectory"]["creationInfo"]["permissions"], "750");

        let bare = AccessPointDescription::builder()
            .access_point_arn(
                "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-2",
            )
            .build();
        let asset = access_point_asset("123456789012", "us-east-1", &bare).unwrap();
        assert_eq!(asset.properties["posixUser"], Value::Null);
        assert_eq!(asset.properties["rootDirectory"], Value::Null);
        assert!(access_point_asset("1", "r", &AccessPointDescription::builder().build()).is_none());
    }
}
