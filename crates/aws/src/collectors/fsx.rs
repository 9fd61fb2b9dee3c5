//! Amazon FSx: file systems (`AWS::FSx::FileSystem`) of every type
//! (Lustre, Windows File Server, NetApp ONTAP, OpenZFS).
//!
//! Per region `DescribeFileSystems` (100 a page, tags included). The
//! type-specific settings the recommendations read are flattened:
//! `deploymentType`, `copyTagsToBackups`, `copyTagsToVolumes` (`null` when
//! the file system's type has no such setting).

use aws_sdk_fsx::types::FileSystem;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, tag_map};
use crate::op;
use crate::scan::CollectContext;

/// CloudFormation type of FSx file systems.
pub const FILE_SYSTEM: &str = "AWS::FSx::FileSystem";

/// Collects FSx file systems.
#[derive(Debug)]
pub struct Fsx;

static META: CollectorMeta = CollectorMeta {
    service: "fsx",
    scope: Scope::Regional,
    operations: &[op!("fsx", "DescribeFileSystems")],
    resource_types: &[FILE_SYSTEM],
};

impl Collector for Fsx {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().fsx(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "DescribeFileSystems",
                    client
                        .describe_file_systems()
                        .max_results(100)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            for fs in pages.iter().flat_map(|p| p.file_systems()) {
                if let Some(asset) = file_system_asset(ctx.account(), ctx.region(), fs) {
                    ctx.emit(asset);
                }
            }
        })
    }
}

/// The `AWS::FSx::FileSystem` asset (`None` without an id).
pub fn file_system_asset(account: &str, region: &str, fs: &FileSystem) -> Option<Asset> {
    let id = fs.file_system_id()?;
    let arn = fs.resource_arn().map_or_else(
        || {
            format!(
                "arn:{}:fsx:{region}:{account}:file-system/{id}",
                partition(region)
            )
        },
        str::to_owned,
    );
    let (deployment, copy_backups, copy_volumes): (Option<&str>, Option<bool>, Option<bool>) =
        if let Some(c) = fs.lustre_configuration() {
            (
                c.deployment_type().map(|d| d.as_str()),
                c.copy_tags_to_backups(),
                None,
            )
        } else if let Some(c) = fs.windows_configuration() {
            (
                c.deployment_type().map(|d| d.as_str()),
                c.copy_tags_to_backups(),
                None,
            )
        } else if let Some(c) = fs.ontap_configuration() {
            (c.deployment_type().map(|d| d.as_str()), None, None)
        } else if let Some(c) = fs.open_zfs_configuration() {
            (
                c.deployment_type().map(|d| d.as_str()),
                c.copy_tags_to_backups(),
                c.copy_tags_to_volumes(),
            )
        } else {
            (None, None, None)
        };
    let name = fs
        .tags()
        .iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .filter(|n| !n.is_empty())
        .unwrap_or(id);
    Some(
        Asset::new(
            arn.clone(),
            FILE_SYSTEM,
            account,
            region,
            name,
            json!({
                "fileSystemId": id,
                "resourceArn": arn,
                "fileSystemType": opt_str(fs.file_system_type().map(|t| t.as_str())),
                "lifecycle": opt_str(fs.lifecycle().map(|l| l.as_str())),
                "storageType": opt_str(fs.storage_type().map(|t| t.as_str())),
                "vpcId": opt_str(fs.vpc_id()),
                "subnetIds": fs.subnet_ids(),
                "kmsKeyId": opt_str(fs.kms_key_id()),
                "creationTime": opt_timestamp(fs.creation_time()),
                "deploymentType": opt_str(deployment),
                "copyTagsToBackups": copy_backups.map_or(Value::Null, Value::Bool),
                "copyTagsToVolumes": copy_volumes.map_or(Value::Null, Value::Bool),
            }),
        )
        .with_tags(tag_map(fs.tags().iter().map(|t| (t.key(), t.value())))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_fsx::types::{
        FileSystemLifecycle, FileSystemType, LustreDeploymentType, LustreFileSystemConfiguration,
        OpenZfsDeploymentType, OpenZfsFileSystemConfiguration, Tag,
    };

    #[test]
    fn maps_open_zfs_and_lustre_file_systems() {
        let zfs = FileSystem::builder()
            .file_system_id("fs-1")
            .file_system_type(FileSystemType::Openzfs)
            .lifecycle(FileSystemLifecycle::Available)
            .open_zfs_configuration(
                OpenZfsFileSystemConfiguration::builder()
                    .deployment_type(OpenZfsDeploymentType::SingleAz1)
                    .copy_tags_to_backups(true)
                    .copy_tags_to_volumes(false)
                    .build(),
            )
            .tags(Tag::builder().key("Name").value("zfs").build())
            .build();
        let asset = file_system_asset("123456789012", "us-east-1", &zfs).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:fsx:us-east-1:123456789012:file-system/fs-1"
        );
        assert_eq!(asset.name, "zfs");
        let p = &asset.properties;
        assert_eq!(p["fileSystemType"], "OPENZFS");
        assert_eq!(p["deploymentType"], "SINGLE_AZ_1");
        assert_eq!(p["copyTagsToBackups"], true);
        assert_eq!(p["copyTagsToVolumes"], false);

        let lustre = FileSystem::builder()
            .file_system_id("fs-2")
            .file_system_type(FileSystemType::Lustre)
            .lustre_configuration(
                LustreFileSystemConfiguration::builder()
                    .deployment_type(LustreDeploymentType::Persistent2)
                    .build(),
            )
            .build();
        let asset = file_system_asset("123456789012", "us-east-1", &lustre).unwrap();
        let p = &asset.properties;
        assert_eq!(p["deploymentType"], "PERSISTENT_2");
        assert_eq!(p["copyTagsToBackups"], Value::Null);
        assert_eq!(p["copyTagsToVolumes"], Value::Null);
        assert!(file_system_asset("1", "r", &FileSystem::builder().build()).is_none());
    }
}
