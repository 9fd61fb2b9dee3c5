//! Amazon Athena: workgroups (`AWS::Athena::WorkGroup`) with their query
//! result encryption and CloudWatch metrics publishing.
//!
//! Per region `ListWorkGroups` (50 a page), then `GetWorkGroup` per
//! workgroup. A workgroup deleted since it was listed (`GetWorkGroup` says
//! it is not found) gets `"deleted": true`; another failed `GetWorkGroup`
//! keeps the name and marks the configuration unavailable.

use aws_sdk_athena::operation::get_work_group::GetWorkGroupOutput;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Athena workgroups.
#[derive(Debug)]
pub struct Athena;

/// An Athena workgroup.
pub const WORK_GROUP: &str = "AWS::Athena::WorkGroup";

static META: CollectorMeta = CollectorMeta {
    service: "athena",
    scope: Scope::Regional,
    operations: &[
        op!("athena", "ListWorkGroups"),
        op!("athena", "GetWorkGroup"),
    ],
    resource_types: &[WORK_GROUP],
};

impl Collector for Athena {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().athena(ctx.region());
            let client = &client;
            let Ok(pages) = ctx
                .pages(
                    "ListWorkGroups",
                    client
                        .list_work_groups()
                        .into_paginator()
                        .page_size(50)
                        .send(),
                )
                .await
            else {
                return;
            };
            let names: Vec<String> = pages
                .iter()
                .flat_map(|p| p.work_groups())
                .filter_map(|w| w.name().map(str::to_owned))
                .collect();
            let assets: Vec<Asset> = futures::stream::iter(names)
                .map(|name| async move {
                    let detail = ctx
                        .call(
                            "GetWorkGroup",
                            client.get_work_group().work_group(&name).send(),
                        )
                        .await;
                    work_group_asset(ctx.account(), ctx.region(), &name, detail.as_ref())
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            for asset in assets {
                ctx.emit(asset);
            }
        })
    }
}

/// Whether a failed `GetWorkGroup` says the workgroup no longer exists.
pub fn is_not_found(failure: &CallFailure) -> bool {
    failure.code.as_deref() == Some("InvalidRequestException")
        && failure.message.to_lowercase().contains("not found")
}

const KEYS: &[&str] = &[
    "state",
    "resultEncryption",
    "managedQueryResultsEnabled",
    "publishCloudWatchMetricsEnabled",
    "enforceWorkGroupConfiguration",
];

/// The `AWS::Athena::WorkGroup` asset: its state, the encryption of query
/// results in S3 (`resultEncryption`: `{encryptionOption, kmsKey}` or
/// `null` when not configured), whether Athena manages the results
/// (`managedQueryResultsEnabled`) and whether it publishes CloudWatch
/// metrics.
pub fn work_group_asset(
    account: &str,
    region: &str,
    name: &str,
    detail: Result<&GetWorkGroupOutput, &CallFailure>,
) -> Asset {
    let arn = format!(
        "arn:{}:athena:{region}:{account}:workgroup/{name}",
        partition(region)
    );
    let mut asset = Asset::new(
        arn,
        WORK_GROUP,
        account,
        region,
        name,
        json!({ "name": name, "deleted": false }),
    );
    match detail {
        Err(failure) if is_not_found(failure) => {
            asset.set_property("deleted", Value::Bool(true));
        }
        Ok(out) => {
            let group = out.work_group();
            let config = group.and_then(|g| g.configuration());
            let encryption = config
                .and_then(|c| c.result_configuration())
                .and_then(|r| r.encryption_configuration())
                .map_or(Value::Null, |e| {
                    json!({
                        "encryptionOption": e.encryption_option().as_str(),
                        "kmsKey": opt_str(e.kms_key()),
                    })
                });
            asset.set_property(
                "state",
                opt_str(group.and_then(|g| g.state()).map(|s| s.as_str())),
            );
            asset.set_property("resultEncryption", encryption);
            asset.set_property(
                "managedQueryResultsEnabled",
                Value::Bool(
                    config
                        .and_then(|c| c.managed_query_results_configuration())
                        .is_some_and(|m| m.enabled()),
                ),
            );
            asset.set_property(
                "publishCloudWatchMetricsEnabled",
                config
                    .and_then(|c| c.publish_cloud_watch_metrics_enabled())
                    .map_or(Value::Null, Value::Bool),
            );
            asset.set_property(
                "enforceWorkGroupConfiguration",
                config
                    .and_then(|c| c.enforce_work_group_configuration())
                    .map_or(Value::Null, Value::Bool),
            );
        }
        Err(failure) => {
            for key in KEYS {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_athena::types::{
        EncryptionConfiguration, EncryptionOption, ResultConfiguration, WorkGroup,
        WorkGroupConfiguration, WorkGroupState,
    };
    use rampart_model::GapKind;

    #[test]
    fn maps_a_work_group() {
        let out = GetWorkGroupOutput::builder()
            .work_group(
                WorkGroup::builder()
                    .name("analytics")
                    .state(WorkGroupState::Enabled)
                    .configuration(
                        WorkGroupConfiguration::builder()
                            .publish_cloud_watch_metrics_enabled(true)
                            .result_configuration(
                                ResultConfiguration::builder()
                                    .encryption_configuration(
                                        EncryptionConfiguration::builder()
                                            .encryption_option(EncryptionOption::SseKms)
                                            .kms_key("arn:key")
                                            .build()
                                            .unwrap(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build();
        let asset = work_group_asset("123456789012", "eu-west-1", "analytics", Ok(&out));
        assert_eq!(
            asset.arn,
            "arn:aws:athena:eu-west-1:123456789012:workgroup/analytics"
        );
        let p = &asset.properties;
        assert_eq!(p["state"], "ENABLED");
        assert_eq!(p["resultEncryption"]["encryptionOption"], "SSE_KMS");
        assert_eq!(p["publishCloudWatchMetricsEnabled"], true);
        assert_eq!(p["managedQueryResultsEnabled"], false);

        let bare = GetWorkGroupOutput::builder()
            .work_group(WorkGroup::builder().name("primary").build().unwrap())
            .build();
        let asset = work_group_asset("123456789012", "eu-west-1", "primary", Ok(&bare));
        assert_eq!(asset.properties["resultEncryption"], Value::Null);
        assert_eq!(
            asset.properties["publishCloudWatchMetricsEnabled"],
            Value::Null
        );

        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        };
        let asset = work_group_asset("123456789012", "eu-west-1", "primary", Err(&failure));
        assert!(asset.unavailable.contains_key("resultEncryption"));

        let gone = CallFailure {
            kind: GapKind::Other,
            code: Some("InvalidRequestException".into()),
            message: "InvalidRequestException: WorkGroup primary is not found.".into(),
        };
        let asset = work_group_asset("123456789012", "eu-west-1", "primary", Err(&gone));
        assert_eq!(asset.properties["deleted"], true);
        assert!(asset.unavailable.is_empty());
    }
}
