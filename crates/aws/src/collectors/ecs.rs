//! ECS: clusters (`AWS::ECS::Cluster`), services (`AWS::ECS::Service`) and
//! task definitions (`AWS::ECS::TaskDefinition`).
//!
//! Per region `ListClusters` (100 a page), then `DescribeClusters` (100 at a
//! time, with settings and tags). Per cluster `ListServices` (100 a page) and
//! `DescribeServices` (10 at a time, with tags). Task definitions as Security
//! Hub evaluates them: the latest ACTIVE revision of every family,
//! `ListTaskDefinitionFamilies` (status `ACTIVE`) then one
//! `DescribeTaskDefinition` per family (a family name resolves to its
//! latest ACTIVE revision). Environment variable values are never kept,
//! only their names.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    Cluster, ClusterField, ContainerDefinition, Service, ServiceField, Tag, TaskDefinition,
    TaskDefinitionFamilyStatus, TaskDefinitionField,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp, str_list, tag_map};
use crate::op;
use crate::scan::CollectContext;

/// `AWS::ECS::Cluster`.
pub const CLUSTER: &str = "AWS::ECS::Cluster";
/// `AWS::ECS::Service`.
pub const SERVICE: &str = "AWS::ECS::Service";
/// `AWS::ECS::TaskDefinition`.
pub const TASK_DEFINITION: &str = "AWS::ECS::TaskDefinition";

/// Collects ECS clusters, services and task definitions.
#[derive(Debug)]
pub struct Ecs;

static META: CollectorMeta = CollectorMeta {
    service: "ecs",
    scope: Scope::Regional,
    operations: &[
        op!("ecs", "ListClusters"),
        op!("ecs", "DescribeClusters"),
        op!("ecs", "ListServices"),
        op!("ecs", "DescribeServices"),
        op!("ecs", "ListTaskDefinitionFamilies"),
        op!("ecs", "DescribeTaskDefinition"),
    ],
    resource_types: &[CLUSTER, SERVICE, TASK_DEFINITION],
};

impl Collector for Ecs {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().ecs(ctx.region());
            futures::join!(
                collect_clusters(ctx, &client),
                collect_task_definitions(ctx, &client)
            );
        })
    }
}

async fn collect_clusters(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListClusters",
            client
                .list_clusters()
                .into_paginator()
                .page_size(100)
                .send(),
        )
        .await
    else {
        return;
    };
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.cluster_arns())
        .cloned()
        .collect();
    let mut clusters = Vec::new();
    for chunk in arns.chunks(100) {
        if let Ok(out) = ctx
            .call(
                "DescribeClusters",
                client
                    .describe_clusters()
                    .set_clusters(Some(chunk.to_vec()))
                    .include(ClusterField::Settings)
                    .include(ClusterField::Tags)
                    .send(),
            )
            .await
        {
            clusters.extend(out.clusters().iter().cloned());
        }
    }
    for cluster in &clusters {
        if let Some(asset) = cluster_asset(ctx.account(), ctx.region(), cluster) {
            ctx.emit(asset);
        }
    }
    let services: Vec<Vec<Asset>> = futures::stream::iter(clusters)
        .filter_map(|c| async move { c.cluster_arn().map(str::to_owned) })
        .map(|cluster| async move { collect_services(ctx, client, &cluster).await })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in services.into_iter().flatten() {
        ctx.emit(asset);
    }
}

async fn collect_services(ctx: &CollectContext<'_>, client: &Client, cluster: &str) -> Vec<Asset> {
    let Ok(pages) = ctx
        .pages(
            "ListServices",
            client
                .list_services()
                .cluster(cluster)
                .into_paginator()
                .page_size(100)
                .send(),
        )
        .await
    else {
        return Vec::new();
    };
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.service_arns())
        .cloned()
        .collect();
    let mut out = Vec::new();
    for chunk in arns.chunks(10) {
        if let Ok(page) = ctx
            .call(
                "DescribeServices",
                client
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(chunk.to_vec()))
                    .include(ServiceField::Tags)
                    .send(),
            )
            .await
        {
            out.extend(
                page.services()
                    .iter()
                    .filter_map(|s| service_asset(ctx.account(), ctx.region(), s)),
            );
        }
    }
    out
}

async fn collect_task_definitions(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListTaskDefinitionFamilies",
            client
                .list_task_definition_families()
                .status(TaskDefinitionFamilyStatus::Active)
                .into_paginator()
                .page_size(100)
                .send(),
        )
        .await
    else {
        return;
    };
    let families: Vec<String> = pages.iter().flat_map(|p| p.families()).cloned().collect();
    let assets: Vec<Option<Asset>> = futures::stream::iter(families)
        .map(|family| async move {
            let out = ctx
                .call(
                    "DescribeTaskDefinition",
                    client
                        .describe_task_definition()
                        .task_definition(&family)
                        .include(TaskDefinitionField::Tags)
                        .send(),
                )
                .await
                .ok()?;
            task_definition_asset(
                ctx.account(),
                ctx.region(),
                out.task_definition()?,
                out.tags(),
            )
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets.into_iter().flatten() {
        ctx.emit(asset);
    }
}

fn tags(tags: &[Tag]) -> std::collections::BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (t.key(), t.value())))
}

/// The `AWS::ECS::Cluster` asset (`None` without an ARN). `settings` is
/// the cluster's settings as `{name: value}`; `containerInsights` is the
/// `containerInsights` setting's value (`enabled`, `enhanced`, `disabled`),
/// `null` when the cluster does not report it.
pub fn cluster_asset(account: &str, region: &str, cluster: &Cluster) -> Option<Asset> {
    let arn = cluster.cluster_arn()?;
    let settings: serde_json::Map<String, Value> = cluster
        .settings()
        .iter()
        .filter_map(|s| Some((s.name()?.as_str().to_owned(), opt_str(s.value()))))
        .collect();
    let insights = settings
        .get("containerInsights")
        .cloned()
        .unwrap_or(Value::Null);
    Some(
        Asset::new(
            arn,
            CLUSTER,
            account,
            region,
            cluster.cluster_name().unwrap_or_else(|| arn_name(arn)),
            json!({
                "clusterArn": arn,
                "clusterName": opt_str(cluster.cluster_name()),
                "status": opt_str(cluster.status()),
                "settings": settings,
                "containerInsights": insights,
                "capacityProviders": str_list(cluster.capacity_providers()),
            }),
        )
        .with_tags(tags(cluster.tags())),
    )
}

/// The `AWS::ECS::Service` asset (`None` without an ARN). `launchType` is
/// `null` when the service uses a capacity provider strategy
/// (`capacityProviders`, the providers' names); `assignPublicIp` and
/// `subnets` come from its `awsvpc` network configuration (`null` without
/// one).
pub fn service_asset(account: &str, region: &str, service: &Service) -> Option<Asset> {
    let arn = service.service_arn()?;
    let vpc = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    Some(
        Asset::new(
            arn,
            SERVICE,
            account,
            region,
            service.service_name().unwrap_or_else(|| arn_name(arn)),
            json!({
                "serviceArn": arn,
                "serviceName": opt_str(service.service_name()),
                "clusterArn": opt_str(service.cluster_arn()),
                "status": opt_str(service.status()),
                "launchType": opt_str(service.launch_type().map(|l| l.as_str())),
                "capacityProviders": service
                    .capacity_provider_strategy()
                    .iter()
                    .map(|c| c.capacity_provider())
                    .collect::<Vec<_>>(),
                "platformVersion": opt_str(service.platform_version()),
                "platformFamily": opt_str(service.platform_family()),
                "taskDefinition": opt_str(service.task_definition()),
                "assignPublicIp": opt_str(vpc.and_then(|v| v.assign_public_ip()).map(|a| a.as_str())),
                "subnets": vpc.map_or(Value::Null, |v| str_list(v.subnets())),
            }),
        )
        .with_tags(tags(service.tags())),
    )
}

/// One container definition: flags as the API returns them (`null` when
/// unset: ECS then uses its defaults, not privileged and a writable root
/// file system), the names of its plain environment variables (values are
/// never kept) and its log driver (`null` without a log configuration).
fn container_json(c: &ContainerDefinition) -> Value {
    json!({
        "name": opt_str(c.name()),
        "image": opt_str(c.image()),
        "privileged": c.privileged(),
        "user": opt_str(c.user()),
        "readonlyRootFilesystem": c.readonly_root_filesystem(),
        "environmentNames": c.environment().iter().filter_map(|e| e.name()).collect::<Vec<_>>(),
        "secretNames": c.secrets().iter().map(|s| s.name()).collect::<Vec<_>>(),
        "logDriver": opt_str(c.log_configuration().map(|l| l.log_driver().as_str())),
    })
}

/// The `AWS::ECS::TaskDefinition` asset for one revision (`None` without
/// an ARN): network and PID modes (`null` when unset: the platform's
/// default, `bridge` on EC2 Linux, never `host`), compatibilities and the
/// container definitions.
pub fn task_definition_asset(
    account: &str,
    region: &str,
    td: &TaskDefinition,
    tag_list: &[Tag],
) -> Option<Asset> {
    let arn = td.task_definition_arn()?;
    let family = td.family().unwrap_or_else(|| arn_name(arn));
    Some(
        Asset::new(
            arn,
            TASK_DEFINITION,
            account,
            region,
            format!("{family}:{}", td.revision()),
            json!({
                "taskDefinitionArn": arn,
                "family": family,
                "revision": td.revision(),
                "status": opt_str(td.status().map(|s| s.as_str())),
                "networkMode": opt_str(td.network_mode().map(|m| m.as_str())),
                "pidMode": opt_str(td.pid_mode().map(|m| m.as_str())),
                "requiresCompatibilities": td
                    .requires_compatibilities()
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>(),
                "registeredAt": opt_timestamp(td.registered_at()),
                "containerDefinitions": td
                    .container_definitions()
                    .iter()
                    .map(container_json)
                    .collect::<Vec<_>>(),
            }),
        )
        .with_tags(tags(tag_list)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{
        AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, ClusterSetting,
        ClusterSettingName, KeyValuePair, LaunchType, LogConfiguration, LogDriver,
        NetworkConfiguration, NetworkMode, PidMode, TaskDefinitionStatus,
    };

    #[test]
    fn maps_a_cluster_with_its_settings() {
        let cluster = Cluster::builder()
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
            .cluster_name("prod")
            .status("ACTIVE")
            .settings(
                ClusterSetting::builder()
                    .name(ClusterSettingName::ContainerInsights)
                    .value("enhanced")
                    .build(),
            )
            .tags(Tag::builder().key("team").value("web").build())
            .build();
        let asset = cluster_asset("123456789012", "us-east-1", &cluster).unwrap();
        assert_eq!(asset.resource_type, CLUSTER);
        assert_eq!(asset.name, "prod");
        assert_eq!(asset.tags["team"], "web");
        assert_eq!(asset.properties["containerInsights"], "enhanced");
        assert_eq!(
            asset.properties["settings"]["containerInsights"],
            "enhanced"
        );

        let bare = Cluster::builder()
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/dev")
            .build();
        let asset = cluster_asset("123456789012", "us-east-1", &bare).unwrap();
        assert_eq!(asset.name, "dev");
        assert_eq!(asset.properties["containerInsights"], Value::Null);
        assert!(cluster_asset("1", "r", &Cluster::builder().build()).is_none());
    }

    #[test]
    fn maps_services_with_and_without_awsvpc() {
        let fargate = Service::builder()
            .service_arn("arn:aws:ecs:us-east-1:123456789012:service/prod/web")
            .service_name("web")
            .status("ACTIVE")
            .launch_type(LaunchType::Fargate)
            .platform_version("1.3.0")
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets("subnet-1")
                            .assign_public_ip(AssignPublicIp::Enabled)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build();
        let asset = service_asset("123456789012", "us-east-1", &fargate).unwrap();
        assert_eq!(asset.resource_type, SERVICE);
        let p = &asset.properties;
        assert_eq!(p["launchType"], "FARGATE");
        assert_eq!(p["platformVersion"], "1.3.0");
        assert_eq!(p["assignPublicIp"], "ENABLED");
        assert_eq!(p["subnets"], json!(["subnet-1"]));

        let spot = Service::builder()
            .service_arn("arn:aws:ecs:us-east-1:123456789012:service/prod/batch")
            .capacity_provider_strategy(
                CapacityProviderStrategyItem::builder()
                    .capacity_provider("FARGATE_SPOT")
                    .build()
                    .unwrap(),
            )
            .build();
        let asset = service_asset("123456789012", "us-east-1", &spot).unwrap();
        assert_eq!(asset.name, "batch");
        assert_eq!(asset.properties["launchType"], Value::Null);
        assert_eq!(
            asset.properties["capacityProviders"],
            json!(["FARGATE_SPOT"])
        );
        assert_eq!(asset.properties["assignPublicIp"], Value::Null);
        assert_eq!(asset.properties["subnets"], Value::Null);
    }

    #[test]
    fn maps_a_task_definition_without_environment_values() {
        let td = TaskDefinition::builder()
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7")
            .family("web")
            .revision(7)
            .status(TaskDefinitionStatus::Active)
            .network_mode(NetworkMode::Host)
            .pid_mode(PidMode::Host)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image("nginx")
                    .privileged(true)
                    .user("root")
                    .environment(
                        KeyValuePair::builder()
                            .name("AWS_SECRET_ACCESS_KEY")
                            .value("very-secret")
                            .build(),
                    )
                    .log_configuration(
                        LogConfiguration::builder()
                            .log_driver(LogDriver::Awslogs)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .container_definitions(ContainerDefinition::builder().name("sidecar").build())
            .build();
        let asset = task_definition_asset("123456789012", "us-east-1", &td, &[]).unwrap();
        assert_eq!(asset.resource_type, TASK_DEFINITION);
        assert_eq!(asset.name, "web:7");
        let p = &asset.properties;
        assert_eq!(p["status"], "ACTIVE");
        assert_eq!(p["networkMode"], "host");
        assert_eq!(p["pidMode"], "host");
        let app = &p["containerDefinitions"][0];
        assert_eq!(app["privileged"], true);
        assert_eq!(app["user"], "root");
        assert_eq!(app["environmentNames"], json!(["AWS_SECRET_ACCESS_KEY"]));
        assert_eq!(app["logDriver"], "awslogs");
        assert!(
            !serde_json::to_string(&asset)
                .unwrap()
                .contains("very-secret")
        );
        let sidecar = &p["containerDefinitions"][1];
        assert_eq!(sidecar["privileged"], Value::Null);
        assert_eq!(sidecar["readonlyRootFilesystem"], Value::Null);
        assert_eq!(sidecar["logDriver"], Value::Null);
    }
}
