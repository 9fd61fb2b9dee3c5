//! Database Migration Service: replication instances
//! (`AWS::DMS::ReplicationInstance`), replication tasks
//! (`AWS::DMS::ReplicationTask`) and endpoints (`AWS::DMS::Endpoint`).
//!
//! Per region `DescribeReplicationInstances`, `DescribeReplicationTasks`
//! (without table mappings or statistics) and `DescribeEndpoints`, 100 a
//! page each. A task's settings document is read for its logging section
//! only (`logging`); the rest of it is not kept. Tags are not collected.

use aws_sdk_databasemigration::types::{Endpoint, ReplicationInstance, ReplicationTask};
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Map, Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp};
use crate::op;
use crate::scan::CollectContext;

/// CloudFormation type of replication instances.
pub const REPLICATION_INSTANCE: &str = "AWS::DMS::ReplicationInstance";
/// CloudFormation type of replication tasks.
pub const REPLICATION_TASK: &str = "AWS::DMS::ReplicationTask";
/// CloudFormation type of endpoints.
pub const ENDPOINT: &str = "AWS::DMS::Endpoint";

/// Collects DMS replication instances, tasks and endpoints.
#[derive(Debug)]
pub struct Dms;

static META: CollectorMeta = CollectorMeta {
    service: "dms",
    scope: Scope::Regional,
    operations: &[
        op!("dms", "DescribeReplicationInstances"),
        op!("dms", "DescribeReplicationTasks"),
        op!("dms", "DescribeEndpoints"),
    ],
    resource_types: &[REPLICATION_INSTANCE, REPLICATION_TASK, ENDPOINT],
};

impl Collector for Dms {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().dms(ctx.region());
            let (instances, tasks, endpoints) = futures::join!(
                ctx.pages(
                    "DescribeReplicationInstances",
                    client
                        .describe_replication_instances()
                        .max_records(100)
                        .into_paginator()
                        .send(),
                ),
                ctx.pages(
                    "DescribeReplicationTasks",
                    client
                        .describe_replication_tasks()
                        .without_settings(false)
                        .max_records(100)
                        .into_paginator()
                        .send(),
                ),
                ctx.pages(
                    "DescribeEndpoints",
                    client
                        .describe_endpoints()
                        .max_records(100)
                        .into_paginator()
                        .send(),
                ),
            );
            let (account, region) = (ctx.account(), ctx.region());
            if let Ok(pages) = instances {
                for i in pages.iter().flat_map(|p| p.replication_instances()) {
                    if let Some(asset) = replication_instance_asset(account, region, i) {
                        ctx.emit(asset);
                    }
                }
            }
            if let Ok(pages) = tasks {
                for t in pages.iter().flat_map(|p| p.replication_tasks()) {
                    if let Some(asset) = replication_task_asset(account, region, t) {
                        ctx.emit(asset);
                    }
                }
            }
            if let Ok(pages) = endpoints {
                for e in pages.iter().flat_map(|p| p.endpoints()) {
                    if let Some(asset) = endpoint_asset(account, region, e) {
                        ctx.emit(asset);
                    }
                }
            }
        })
    }
}

/// The `AWS::DMS::ReplicationInstance` asset (`None` without an ARN).
pub fn replication_instance_asset(
    account: &str,
    region: &str,
    i: &ReplicationInstance,
) -> Option<Asset> {
    let arn = i.replication_instance_arn()?;
    let id = i.replication_instance_identifier().unwrap_or(arn);
    Some(Asset::new(
        arn,
        REPLICATION_INSTANCE,
        account,
        region,
        id,
        json!({
            "replicationInstanceIdentifier": id,
            "replicationInstanceArn": arn,
            "replicationInstanceClass": opt_str(i.replication_instance_class()),
            "status": opt_str(i.replication_instance_status()),
            "engineVersion": opt_str(i.engine_version()),
            "publiclyAccessible": i.publicly_accessible(),
            "publicIpAddresses": i.replication_instance_public_ip_addresses(),
            "autoMinorVersionUpgrade": i.auto_minor_version_upgrade(),
            "multiAz": i.multi_az(),
            "availabilityZone": opt_str(i.availability_zone()),
            "secondaryAvailabilityZone": opt_str(i.secondary_availability_zone()),
            "kmsKeyId": opt_str(i.kms_key_id()),
            "replicationSubnetGroupIdentifier": opt_str(
                i.replication_subnet_group()
                    .and_then(|g| g.replication_subnet_group_identifier())
            ),
            "createTime": opt_timestamp(i.instance_create_time()),
        }),
    ))
}

/// The logging section of a task's settings document:
/// `{"enableLogging": bool|null, "logComponents": {"<Id>": "<Severity>"}}`,
/// `null` without settings; `Err` when the document is not JSON.
pub fn task_logging(settings: Option<&str>) -> Result<Value, String> {
    let Some(text) = settings.filter(|s| !s.trim().is_empty()) else {
        return Ok(Value::Null);
    };
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("the task settings are not JSON: {e}"))?;
    let logging = doc.get("Logging").unwrap_or(&Value::Null);
    let components: Map<String, Value> = logging
        .get("LogComponents")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|c| {
                    let id = c.get("Id")?.as_str()?;
                    Some((
                        id.to_owned(),
                        c.get("Severity").cloned().unwrap_or_default(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "enableLogging": logging.get("EnableLogging").and_then(Value::as_bool),
        "logComponents": components,
    }))
}

/// The `AWS::DMS::ReplicationTask` asset (`None` without an ARN).
/// `logging` is [`task_logging`] of its settings, unavailable when the
/// settings could not be parsed.
pub fn replication_task_asset(account: &str, region: &str, t: &ReplicationTask) -> Option<Asset> {
    let arn = t.replication_task_arn()?;
    let id = t.replication_task_identifier().unwrap_or(arn);
    let mut asset = Asset::new(
        arn,
        REPLICATION_TASK,
        account,
        region,
        id,
        json!({
            "replicationTaskIdentifier": id,
            "replicationTaskArn": arn,
            "status": opt_str(t.status()),
            "migrationType": opt_str(t.migration_type().map(|m| m.as_str())),
            "sourceEndpointArn": opt_str(t.source_endpoint_arn()),
            "targetEndpointArn": opt_str(t.target_endpoint_arn()),
            "replicationInstanceArn": opt_str(t.replication_instance_arn()),
            "createTime": opt_timestamp(t.replication_task_creation_date()),
        }),
    );
    match task_logging(t.replication_task_settings()) {
        Ok(logging) => asset.set_property("logging", logging),
        Err(error) => {
            asset.set_property("logging", Value::Null);
            asset.mark_unavailable("logging", error);
        }
    }
    Some(asset)
}

/// The `AWS::DMS::Endpoint` asset (`None` without an ARN). Only the
/// security-relevant engine settings are kept (never passwords).
pub fn endpoint_asset(account: &str, region: &str, e: &Endpoint) -> Option<Asset> {
    let arn = e.endpoint_arn()?;
    let id = e.endpoint_identifier().unwrap_or_else(|| arn_name(arn));
    let neptune = e.neptune_settings().map_or(
        Value::Null,
        |n| json!({ "iamAuthEnabled": n.iam_auth_enabled() }),
    );
    let mongo = e.mongo_db_settings().map_or(Value::Null, |m| {
        json!({
            "authType": opt_str(m.auth_type().map(|a| a.as_str())),
            "authMechanism": opt_str(m.auth_mechanism().map(|a| a.as_str())),
        })
    });
    let redis = e.redis_settings().map_or(Value::Null, |r| {
        json!({
            "sslSecurityProtocol": opt_str(r.ssl_security_protocol().map(|s| s.as_str())),
            "authType": opt_str(r.auth_type().map(|a| a.as_str())),
        })
    });
    Some(Asset::new(
        arn,
        ENDPOINT,
        account,
        region,
        id,
        json!({
            "endpointIdentifier": id,
            "endpointArn": arn,
            "endpointType": opt_str(e.endpoint_type().map(|t| t.as_str())),
            "engineName": opt_str(e.engine_name()),
            "status": opt_str(e.status()),
            "serverName": opt_str(e.server_name()),
            "port": e.port(),
            "sslMode": opt_str(e.ssl_mode().map(|m| m.as_str())),
            "certificateArn": opt_str(e.certificate_arn()),
            "kmsKeyId": opt_str(e.kms_key_id()),
            "neptuneSettings": neptune,
            "mongoDbSettings": mongo,
            "redisSettings": redis,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_databasemigration::types::{
        AuthTypeValue, DmsSslModeValue, MongoDbSettings, ReplicationEndpointTypeValue,
    };

    #[test]
    fn maps_a_replication_instance() {
        let i = ReplicationInstance::builder()
            .replication_instance_identifier("ri")
            .replication_instance_arn("arn:aws:dms:us-east-1:123456789012:rep:ri")
            .publicly_accessible(true)
            .auto_minor_version_upgrade(false)
            .multi_az(false)
            .build();
        let asset = replication_instance_asset("123456789012", "us-east-1", &i).unwrap();
        assert_eq!(asset.resource_type, REPLICATION_INSTANCE);
        assert_eq!(asset.name, "ri");
        let p = &asset.properties;
        assert_eq!(p["publiclyAccessible"], true);
        assert_eq!(p["autoMinorVersionUpgrade"], false);
        assert_eq!(p["multiAz"], false);
        assert!(
            replication_instance_asset("1", "r", &ReplicationInstance::builder().build()).is_none()
        );
    }

    #[test]
    fn reads_the_logging_section_of_task_settings() {
        let settings = r#"{"Logging":{"EnableLogging":true,"LogComponents":[
            {"Id":"SOURCE_UNLOAD","Severity":"LOGGER_SEVERITY_DEFAULT"},
            {"Id":"TARGET_APPLY","Severity":"LOGGER_SEVERITY_WARNING"}]},"Other":{}}"#;
        let logging = task_logging(Some(settings)).unwrap();
        assert_eq!(logging["enableLogging"], true);
        assert_eq!(
            logging["logComponents"]["SOURCE_UNLOAD"],
            "LOGGER_SEVERITY_DEFAULT"
        );
        assert_eq!(
            logging["logComponents"]["TARGET_APPLY"],
            "LOGGER_SEVERITY_WARNING"
        );
        assert_eq!(task_logging(None).unwrap(), Value::Null);
        assert_eq!(
            task_logging(Some("{}")).unwrap(),
            json!({"enableLogging": null, "logComponents": {}})
        );
        assert!(task_logging(Some("not json")).is_err());

        let task = ReplicationTask::builder()
            .replication_task_identifier("t")
            .replication_task_arn("arn:aws:dms:us-east-1:123456789012:task:t")
            .replication_task_settings("not json")
            .build();
        let asset = replication_task_asset("123456789012", "us-east-1", &task).unwrap();
        assert!(asset.unavailable.contains_key("logging"));
        let task = ReplicationTask::builder()
            .replication_task_identifier("t")
            .replication_task_arn("arn:aws:dms:us-east-1:123456789012:task:t")
            .replication_task_settings(settings)
            .build();
        let asset = replication_task_asset("123456789012", "us-east-1", &task).unwrap();
        assert_eq!(asset.properties["logging"]["enableLogging"], true);
    }

    #[test]
    fn maps_endpoint_settings_without_secrets() {
        let e = Endpoint::builder()
            .endpoint_identifier("mongo")
            .endpoint_arn("arn:aws:dms:us-east-1:123456789012:endpoint:ABC")
            .endpoint_type(ReplicationEndpointTypeValue::Source)
            .engine_name("mongodb")
            .ssl_mode(DmsSslModeValue::None)
            .mongo_db_settings(
                MongoDbSettings::builder()
                    .auth_type(AuthTypeValue::No)
                    .password("secret")
                    .build(),
            )
            .build();
        let asset = endpoint_asset("123456789012", "us-east-1", &e).unwrap();
        let p = &asset.properties;
        assert_eq!(p["endpointType"], "source");
        assert_eq!(p["sslMode"], "none");
        assert_eq!(p["mongoDbSettings"]["authType"], "no");
        assert!(!p.to_string().contains("secret"));
        assert_eq!(p["neptuneSettings"], Value::Null);
    }
}
