//! DynamoDB: tables (`AWS::DynamoDB::Table`).
//!
//! Per region `ListTables` (100 a page). Per table three calls:
//! `DescribeTable` (status, billing, table class, encryption, deletion
//! protection), `DescribeContinuousBackups` (point-in-time recovery) and
//! `ListTagsOfResource`. Auto scaling (Application Auto Scaling) and DAX
//! are not collected.

use aws_sdk_dynamodb::types::{ContinuousBackupsDescription, TableDescription, Tag};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects DynamoDB tables.
#[derive(Debug)]
pub struct DynamoDb;

static META: CollectorMeta = CollectorMeta {
    service: "dynamodb",
    scope: Scope::Regional,
    operations: &[
        op!("dynamodb", "ListTables"),
        op!("dynamodb", "DescribeTable"),
        op!("dynamodb", "DescribeContinuousBackups"),
        op!("dynamodb", "ListTagsOfResource"),
    ],
    resource_types: &["AWS::DynamoDB::Table"],
};

/// Pages of tags `ListTagsOfResource` is asked for at most per table.
const MAX_TAG_PAGES: usize = 20;

/// What the per-table calls returned.
#[derive(Debug)]
pub struct TableDetail {
    /// `DescribeTable`'s table.
    pub table: Result<TableDescription, CallFailure>,
    /// `DescribeContinuousBackups`.
    pub backups: Result<Option<ContinuousBackupsDescription>, CallFailure>,
    /// `ListTagsOfResource`, every page.
    pub tags: Result<Vec<Tag>, CallFailure>,
}

impl Collector for DynamoDb {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().dynamodb(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListTables",
                    client.list_tables().into_paginator().page_size(100).send(),
                )
                .await
            else {
                return;
            };
            let names: Vec<String> = pages
                .iter()
                .flat_map(|p| p.table_names())
                .cloned()
                .collect();
            let client = &client;
            let assets: Vec<Asset> = futures::stream::iter(names)
                .map(|name| async move {
                    let arn = table_arn(ctx.account(), ctx.region(), &name);
                    let (table, backups, tags) = futures::join!(
                        ctx.call(
                            "DescribeTable",
                            client.describe_table().table_name(&name).send()
                        ),
                        ctx.call(
                            "DescribeContinuousBackups",
                            client
                                .describe_continuous_backups()
                                .table_name(&name)
                                .send(),
                        ),
                        async {
                            let mut tags = Vec::new();
                            let mut token: Option<String> = None;
                            for _ in 0..MAX_TAG_PAGES {
                                let out = ctx
                                    .call(
                                        "ListTagsOfResource",
                                        client
                                            .list_tags_of_resource()
                                            .resource_arn(&arn)
                                            .set_next_token(token.take())
                                            .send(),
                                    )
                                    .await?;
                                tags.extend(out.tags().iter().cloned());
                                match out.next_token() {
                                    Some(next) => token = Some(next.to_owned()),
                                    None => break,
                                }
                            }
                            Ok::<_, CallFailure>(tags)
                        },
                    );
                    let table = table.and_then(|out| {
                        out.table().cloned().ok_or_else(|| CallFailure {
                            kind: rampart_model::GapKind::Other,
                            code: None,
                            message: "DescribeTable returned no table".to_owned(),
                        })
                    });
                    let detail = TableDetail {
                        table,
                        backups: backups.map(|out| out.continuous_backups_description().cloned()),
                        tags,
                    };
                    table_asset(ctx.account(), ctx.region(), &name, &detail)
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

/// A table's ARN from its name.
pub fn table_arn(account: &str, region: &str, name: &str) -> String {
    format!(
        "arn:{}:dynamodb:{region}:{account}:table/{name}",
        partition(region)
    )
}

/// Properties `DescribeTable` provides (all unavailable when it failed).
const DESCRIBE_KEYS: &[&str] = &[
    "tableStatus",
    "creationDateTime",
    "billingModeSummary",
    "tableClassSummary",
    "deletionProtectionEnabled",
    "sseDescription",
    "provisionedThroughput",
    "itemCount",
    "tableSizeBytes",
    "globalTableVersion",
    "replicas",
    "streamSpecification",
    "archivalSummary",
];

fn describe_json(t: &TableDescription) -> Value {
    json!({
        "tableStatus": opt_str(t.table_status().map(|s| s.as_str())),
        "creationDateTime": opt_timestamp(t.creation_date_time()),
        "billingModeSummary": t.billing_mode_summary().map_or(Value::Null, |b| json!({
            "billingMode": opt_str(b.billing_mode().map(|m| m.as_str())),
        })),
        "tableClassSummary": t.table_class_summary().map_or(Value::Null, |c| json!({
            "tableClass": opt_str(c.table_class().map(|m| m.as_str())),
        })),
        // The API leaves the flag out on tables that never had it set.
        "deletionProtectionEnabled": t.deletion_protection_enabled().unwrap_or(false),
        // `null`: encrypted with an AWS owned key (the default).
        "sseDescription": t.sse_description().map_or(Value::Null, |s| json!({
            "status": opt_str(s.status().map(|x| x.as_str())),
            "sseType": opt_str(s.sse_type().map(|x| x.as_str())),
            "kmsMasterKeyArn": opt_str(s.kms_master_key_arn()),
        })),
        "provisionedThroughput": t.provisioned_throughput().map_or(Value::Null, |p| json!({
            "readCapacityUnits": p.read_capacity_units(),
            "writeCapacityUnits": p.write_capacity_units(),
        })),
        "itemCount": t.item_count(),
        "tableSizeBytes": t.table_size_bytes(),
        "globalTableVersion": opt_str(t.global_table_version()),
        "replicas": t.replicas().iter().map(|r| json!({
            "regionName": opt_str(r.region_name()),
            "replicaStatus": opt_str(r.replica_status().map(|s| s.as_str())),
        })).collect::<Vec<_>>(),
        "streamSpecification": t.stream_specification().map_or(Value::Null, |s| json!({
            "streamEnabled": s.stream_enabled(),
            "streamViewType": opt_str(s.stream_view_type().map(|v| v.as_str())),
        })),
        "archivalSummary": t.archival_summary().map_or(Value::Null, |a| json!({
            "archivalDateTime": opt_timestamp(a.archival_date_time()),
            "archivalReason": opt_str(a.archival_reason()),
        })),
    })
}

fn backups_json(b: &ContinuousBackupsDescription) -> Value {
    json!({
        "continuousBackupsStatus": b.continuous_backups_status().as_str(),
        "pointInTimeRecoveryDescription": b.point_in_time_recovery_description().map_or(Value::Null, |p| json!({
            "pointInTimeRecoveryStatus": opt_str(p.point_in_time_recovery_status().map(|s| s.as_str())),
            "recoveryPeriodInDays": p.recovery_period_in_days(),
            "earliestRestorableDateTime": opt_timestamp(p.earliest_restorable_date_time()),
            "latestRestorableDateTime": opt_timestamp(p.latest_restorable_date_time()),
        })),
    })
}

/// The `AWS::DynamoDB::Table` asset of a listed table; what a per-table
/// call could not read is `null` and marked unavailable.
pub fn table_asset(account: &str, region: &str, name: &str, detail: &TableDetail) -> Asset {
    let arn = match &detail.table {
        Ok(t) => t
            .table_arn()
            .map_or_else(|| table_arn(account, region, name), str::to_owned),
        Err(_) => table_arn(account, region, name),
    };
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::DynamoDB::Table",
        account,
        region,
        name,
        json!({ "tableName": name, "tableArn": arn }),
    );
    match &detail.table {
        Ok(t) => {
            if let Value::Object(map) = describe_json(t) {
                for (key, value) in map {
                    asset.set_property(&key, value);
                }
            }
        }
        Err(failure) => {
            for key in DESCRIBE_KEYS {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    match &detail.backups {
        Ok(b) => asset.set_property(
            "continuousBackups",
            b.as_ref().map_or(Value::Null, backups_json),
        ),
        Err(failure) => {
            asset.set_property("continuousBackups", Value::Null);
            asset.mark_unavailable("continuousBackups", failure.to_string());
        }
    }
    match &detail.tags {
        Ok(tags) => asset.tags = tag_map(tags.iter().map(|t| (Some(t.key()), Some(t.value())))),
        Err(failure) => asset.mark_unavailable("tags", failure.to_string()),
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::{
        BillingMode, BillingModeSummary, ContinuousBackupsStatus, PointInTimeRecoveryDescription,
        PointInTimeRecoveryStatus, SseDescription, SseStatus, SseType, TableStatus,
    };
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        }
    }

    fn backups(status: PointInTimeRecoveryStatus) -> ContinuousBackupsDescription {
        ContinuousBackupsDescription::builder()
            .continuous_backups_status(ContinuousBackupsStatus::Enabled)
            .point_in_time_recovery_description(
                PointInTimeRecoveryDescription::builder()
                    .point_in_time_recovery_status(status)
                    .recovery_period_in_days(35)
                    .build(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn maps_a_protected_table() {
        let table = TableDescription::builder()
            .table_name("orders")
            .table_arn("arn:aws:dynamodb:us-east-1:123456789012:table/orders")
            .table_status(TableStatus::Active)
            .deletion_protection_enabled(true)
            .billing_mode_summary(
                BillingModeSummary::builder()
                    .billing_mode(BillingMode::PayPerRequest)
                    .build(),
            )
            .sse_description(
                SseDescription::builder()
                    .status(SseStatus::Enabled)
                    .sse_type(SseType::Kms)
                    .kms_master_key_arn("arn:aws:kms:us-east-1:123456789012:key/k")
                    .build(),
            )
            .build();
        let detail = TableDetail {
            table: Ok(table),
            backups: Ok(Some(backups(PointInTimeRecoveryStatus::Enabled))),
            tags: Ok(vec![
                Tag::builder().key("env").value("prod").build().unwrap(),
            ]),
        };
        let asset = table_asset("123456789012", "us-east-1", "orders", &detail);
        assert_eq!(
            asset.arn,
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
        );
        assert_eq!(asset.resource_type, "AWS::DynamoDB::Table");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["tableStatus"], "ACTIVE");
        assert_eq!(p["deletionProtectionEnabled"], true);
        assert_eq!(p["billingModeSummary"]["billingMode"], "PAY_PER_REQUEST");
        assert_eq!(p["sseDescription"]["sseType"], "KMS");
        assert_eq!(
            p["continuousBackups"]["pointInTimeRecoveryDescription"]["pointInTimeRecoveryStatus"],
            "ENABLED"
        );
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn defaults_and_failures() {
        let table = TableDescription::builder()
            .table_name("scratch")
            .table_status(TableStatus::Active)
            .build();
        let detail = TableDetail {
            table: Ok(table),
            backups: Ok(Some(backups(PointInTimeRecoveryStatus::Disabled))),
            tags: Err(denied()),
        };
        let asset = table_asset("123456789012", "eu-west-1", "scratch", &detail);
        assert_eq!(
            asset.arn,
            "arn:aws:dynamodb:eu-west-1:123456789012:table/scratch"
        );
        let p = &asset.properties;
        assert_eq!(p["deletionProtectionEnabled"], false);
        assert_eq!(p["sseDescription"], Value::Null);
        assert_eq!(
            p["continuousBackups"]["pointInTimeRecoveryDescription"]["pointInTimeRecoveryStatus"],
            "DISABLED"
        );
        assert!(asset.unavailable.contains_key("tags"));

        let detail = TableDetail {
            table: Err(denied()),
            backups: Err(denied()),
            tags: Ok(vec![]),
        };
        let asset = table_asset("123456789012", "eu-west-1", "scratch", &detail);
        assert_eq!(asset.properties["deletionProtectionEnabled"], Value::Null);
        assert!(asset.unavailable.contains_key("deletionProtectionEnabled"));
        assert!(asset.unavailable.contains_key("continuousBackups"));
        assert_eq!(asset.properties["tableName"], "scratch");
    }
}
