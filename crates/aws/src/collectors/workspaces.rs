//! WorkSpaces: virtual desktops (`AWS::WorkSpaces::Workspace`).
//!
//! Per region `DescribeWorkspaces` (25 a page, the API's maximum). The
//! WorkSpaces API returns no ARN; it is built from the id.

use aws_sdk_workspaces::types::Workspace;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::json;

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::op;
use crate::scan::CollectContext;

/// `AWS::WorkSpaces::Workspace`.
pub const WORKSPACE: &str = "AWS::WorkSpaces::Workspace";

/// Collects WorkSpaces.
#[derive(Debug)]
pub struct WorkSpaces;

static META: CollectorMeta = CollectorMeta {
    service: "workspaces",
    scope: Scope::Regional,
    operations: &[op!("workspaces", "DescribeWorkspaces")],
    resource_types: &[WORKSPACE],
};

impl Collector for WorkSpaces {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().workspaces(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "DescribeWorkspaces",
                    client
                        .describe_workspaces()
                        .into_paginator()
                        .page_size(25)
                        .send(),
                )
                .await
            else {
                return;
            };
            for ws in pages.iter().flat_map(|p| p.workspaces()) {
                if let Some(asset) = workspace_asset(ctx.account(), ctx.region(), ws) {
                    ctx.emit(asset);
                }
            }
        })
    }
}

/// The `AWS::WorkSpaces::Workspace` asset (`None` without an id). The
/// encryption flags are `null` when the API leaves them out (the volume
/// is then not encrypted: WorkSpaces reports `true` for encrypted volumes).
pub fn workspace_asset(account: &str, region: &str, ws: &Workspace) -> Option<Asset> {
    let id = ws.workspace_id()?;
    let arn = format!(
        "arn:{}:workspaces:{region}:{account}:workspace/{id}",
        partition(region)
    );
    Some(Asset::new(
        arn.clone(),
        WORKSPACE,
        account,
        region,
        id,
        json!({
            "workspaceId": id,
            "workspaceArn": arn,
            "directoryId": opt_str(ws.directory_id()),
            "userName": opt_str(ws.user_name()),
            "bundleId": opt_str(ws.bundle_id()),
            "state": opt_str(ws.state().map(|s| s.as_str())),
            "userVolumeEncryptionEnabled": ws.user_volume_encryption_enabled(),
            "rootVolumeEncryptionEnabled": ws.root_volume_encryption_enabled(),
            "volumeEncryptionKey": opt_str(ws.volume_encryption_key()),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_workspaces::types::WorkspaceState;
    use serde_json::Value;

    #[test]
    fn maps_workspaces() {
        let ws = Workspace::builder()
            .workspace_id("ws-abc")
            .directory_id("d-1")
            .user_name("alice")
            .state(WorkspaceState::Available)
            .user_volume_encryption_enabled(true)
            .root_volume_encryption_enabled(false)
            .volume_encryption_key("arn:aws:kms:us-east-1:123456789012:key/k")
            .build();
        let asset = workspace_asset("123456789012", "us-east-1", &ws).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:workspaces:us-east-1:123456789012:workspace/ws-abc"
        );
        assert_eq!(asset.resource_type, WORKSPACE);
        let p = &asset.properties;
        assert_eq!(p["state"], "AVAILABLE");
        assert_eq!(p["userVolumeEncryptionEnabled"], true);
        assert_eq!(p["rootVolumeEncryptionEnabled"], false);

        let bare = Workspace::builder().workspace_id("ws-def").build();
        let asset = workspace_asset("1", "us-east-1", &bare).unwrap();
        assert_eq!(asset.properties["userVolumeEncryptionEnabled"], Value::Null);
        assert!(workspace_asset("1", "r", &Workspace::builder().build()).is_none());
    }
}
