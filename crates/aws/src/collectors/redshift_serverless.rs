//! Amazon Redshift Serverless workgroups
//! (`AWS::RedshiftServerless::Workgroup`) and namespaces
//! (`AWS::RedshiftServerless::Namespace`).
//!
//! Per region: `ListWorkgroups` and `ListNamespaces` (paginated); both
//! return every setting the recommendations read, so no per-resource call
//! is made. A workgroup's `configParameters` (`[{parameterKey,
//! parameterValue}]`) hold `require_ssl`; a namespace's `logExports` list the
//! logs it exports to CloudWatch Logs (`connectionlog`, `userlog`,
//! `useractivitylog`).

use aws_sdk_redshiftserverless::types::{Namespace, Workgroup};
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, str_list};
use crate::op;
use crate::scan::CollectContext;

/// The resource type of a workgroup.
pub const WORKGROUP: &str = "AWS::RedshiftServerless::Workgroup";
/// The resource type of a namespace.
pub const NAMESPACE: &str = "AWS::RedshiftServerless::Namespace";

/// Collects Redshift Serverless workgroups and namespaces.
#[derive(Debug)]
pub struct RedshiftServerless;

static META: CollectorMeta = CollectorMeta {
    service: "redshift-serverless",
    scope: Scope::Regional,
    operations: &[
        op!("redshift-serverless", "ListWorkgroups"),
        op!("redshift-serverless", "ListNamespaces"),
    ],
    resource_types: &[WORKGROUP, NAMESPACE],
};

impl Collector for RedshiftServerless {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().redshift_serverless(ctx.region());
            let client = &client;
            futures::join!(
                async {
                    let pages = ctx
                        .pages(
                            "ListWorkgroups",
                            client.list_workgroups().into_paginator().send(),
                        )
                        .await;
                    for workgroup in pages.iter().flatten().flat_map(|p| p.workgroups()) {
                        ctx.emit(workgroup_asset(ctx.account(), ctx.region(), workgroup));
                    }
                },
                async {
                    let pages = ctx
                        .pages(
                            "ListNamespaces",
                            client.list_namespaces().into_paginator().send(),
                        )
                        .await;
                    for namespace in pages.iter().flatten().flat_map(|p| p.namespaces()) {
                        ctx.emit(namespace_asset(ctx.account(), ctx.region(), namespace));
                    }
                },
            );
        })
    }
}

/// The `AWS::RedshiftServerless::Workgroup` asset of a workgroup.
pub fn workgroup_asset(account: &str, region: &str, workgroup: &Workgroup) -> Asset {
    let name = workgroup.workgroup_name().unwrap_or_default();
    let arn = workgroup.workgroup_arn().map_or_else(
        || {
            format!(
                "arn:{}:redshift-serverless:{region}:{account}:workgroup/{}",
                partition(region),
                workgroup.workgroup_id().unwrap_or(name)
            )
        },
        str::to_owned,
    );
    let properties = json!({
        "workgroupName": name,
        "workgroupArn": arn,
        "workgroupId": opt_str(workgroup.workgroup_id()),
        "namespaceName": opt_str(workgroup.namespace_name()),
        "status": workgroup.status().map(|s| s.as_str()),
        "enhancedVpcRouting": workgroup.enhanced_vpc_routing(),
        "publiclyAccessible": workgroup.publicly_accessible(),
        "configParameters": workgroup
            .config_parameters()
            .iter()
            .map(|c| json!({
                "parameterKey": opt_str(c.parameter_key()),
                "parameterValue": opt_str(c.parameter_value()),
            }))
            .collect::<Vec<_>>(),
        "securityGroupIds": str_list(workgroup.security_group_ids()),
        "subnetIds": str_list(workgroup.subnet_ids()),
        "port": workgroup.port(),
        "endpoint": workgroup.endpoint().map_or(Value::Null, |e| json!({
            "address": opt_str(e.address()),
            "port": e.port(),
        })),
        "creationDate": opt_timestamp(workgroup.creation_date()),
    });
    Asset::new(arn, WORKGROUP, account, region, name, properties)
}

/// The `AWS::RedshiftServerless::Namespace` asset of a namespace.
pub fn namespace_asset(account: &str, region: &str, namespace: &Namespace) -> Asset {
    let name = namespace.namespace_name().unwrap_or_default();
    let arn = namespace.namespace_arn().map_or_else(
        || {
            format!(
                "arn:{}:redshift-serverless:{region}:{account}:namespace/{}",
                partition(region),
                namespace.namespace_id().unwrap_or(name)
            )
        },
        str::to_owned,
    );
    let properties = json!({
        "namespaceName": name,
        "namespaceArn": arn,
        "namespaceId": opt_str(namespace.namespace_id()),
        "status": namespace.status().map(|s| s.as_str()),
        "adminUsername": opt_str(namespace.admin_username()),
        "dbName": opt_str(namespace.db_name()),
        "kmsKeyId": opt_str(namespace.kms_key_id()),
        "logExports": namespace
            .log_exports()
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>(),
        "creationDate": opt_timestamp(namespace.creation_date()),
    });
    Asset::new(arn, NAMESPACE, account, region, name, properties)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_redshiftserverless::types::{
        ConfigParameter, LogExport, NamespaceStatus, WorkgroupStatus,
    };

    #[test]
    fn maps_a_workgroup() {
        let workgroup = Workgroup::builder()
            .workgroup_name("analytics")
            .workgroup_arn("arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/wg-1")
            .workgroup_id("wg-1")
            .namespace_name("main")
            .status(WorkgroupStatus::Available)
            .enhanced_vpc_routing(false)
            .publicly_accessible(true)
            .config_parameters(
                ConfigParameter::builder()
                    .parameter_key("require_ssl")
                    .parameter_value("false")
                    .build(),
            )
            .security_group_ids("sg-1")
            .port(5439)
            .build();
        let asset = workgroup_asset("123456789012", "us-east-1", &workgroup);
        assert_eq!(asset.resource_type, WORKGROUP);
        assert_eq!(
            asset.arn,
            "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/wg-1"
        );
        assert_eq!(asset.name, "analytics");
        let p = &asset.properties;
        assert_eq!(p["status"], "AVAILABLE");
        assert_eq!(p["enhancedVpcRouting"], false);
        assert_eq!(p["publiclyAccessible"], true);
        assert_eq!(
            p["configParameters"],
            json!([{"parameterKey": "require_ssl", "parameterValue": "false"}])
        );
        assert_eq!(p["securityGroupIds"], json!(["sg-1"]));

        let bare = Workgroup::builder().workgroup_name("x").build();
        let asset = workgroup_asset("123456789012", "us-east-1", &bare);
        assert_eq!(
            asset.arn,
            "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/x"
        );
        assert_eq!(asset.properties["publiclyAccessible"], Value::Null);
        assert_eq!(asset.properties["configParameters"], json!([]));
    }

    #[test]
    fn maps_a_namespace() {
        let namespace = Namespace::builder()
            .namespace_name("main")
            .namespace_arn("arn:aws:redshift-serverless:us-east-1:123456789012:namespace/ns-1")
            .namespace_id("ns-1")
            .admin_username("admin")
            .db_name("dev")
            .log_exports(LogExport::UserLog)
            .log_exports(LogExport::ConnectionLog)
            .status(NamespaceStatus::Available)
            .build();
        let asset = namespace_asset("123456789012", "us-east-1", &namespace);
        assert_eq!(asset.resource_type, NAMESPACE);
        assert_eq!(
            asset.arn,
            "arn:aws:redshift-serverless:us-east-1:123456789012:namespace/ns-1"
        );
        let p = &asset.properties;
        assert_eq!(p["adminUsername"], "admin");
        assert_eq!(p["dbName"], "dev");
        assert_eq!(p["logExports"], json!(["userlog", "connectionlog"]));
        assert_eq!(p["status"], "AVAILABLE");
    }
}
