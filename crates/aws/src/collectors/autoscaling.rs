//! EC2 Auto Scaling: groups (`AWS::AutoScaling::AutoScalingGroup`) and
//! launch configurations (`AWS::AutoScaling::LaunchConfiguration`).
//!
//! Per region `DescribeAutoScalingGroups` and `DescribeLaunchConfigurations`
//! (100 a page each). A group's launch template is a reference
//! (`launchTemplate`, or `mixedInstancesPolicy.launchTemplate`); the
//! templates themselves are the EC2 collector's `AWS::EC2::LaunchTemplate`
//! assets. User data is never kept.

use aws_sdk_autoscaling::types::{
    AutoScalingGroup, LaunchConfiguration, LaunchTemplateSpecification,
};
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp, str_list, tag_map};
use crate::op;
use crate::scan::CollectContext;

/// `AWS::AutoScaling::AutoScalingGroup`.
pub const GROUP: &str = "AWS::AutoScaling::AutoScalingGroup";
/// `AWS::AutoScaling::LaunchConfiguration`.
pub const LAUNCH_CONFIGURATION: &str = "AWS::AutoScaling::LaunchConfiguration";

/// Collects Auto Scaling groups and launch configurations.
#[derive(Debug)]
pub struct AutoScaling;

static META: CollectorMeta = CollectorMeta {
    service: "autoscaling",
    scope: Scope::Regional,
    operations: &[
        op!("autoscaling", "DescribeAutoScalingGroups"),
        op!("autoscaling", "DescribeLaunchConfigurations"),
    ],
    resource_types: &[GROUP, LAUNCH_CONFIGURATION],
};

impl Collector for AutoScaling {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().autoscaling(ctx.region());
            let (groups, configs) = futures::join!(
                ctx.pages(
                    "DescribeAutoScalingGroups",
                    client
                        .describe_auto_scaling_groups()
                        .into_paginator()
                        .page_size(100)
                        .send(),
                ),
                ctx.pages(
                    "DescribeLaunchConfigurations",
                    client
                        .describe_launch_configurations()
                        .into_paginator()
                        .page_size(100)
                        .send(),
                ),
            );
            if let Ok(pages) = groups {
                for group in pages.iter().flat_map(|p| p.auto_scaling_groups()) {
                    if let Some(asset) = group_asset(ctx.account(), ctx.region(), group) {
                        ctx.emit(asset);
                    }
                }
            }
            if let Ok(pages) = configs {
                for config in pages.iter().flat_map(|p| p.launch_configurations()) {
                    if let Some(asset) =
                        launch_configuration_asset(ctx.account(), ctx.region(), config)
                    {
                        ctx.emit(asset);
                    }
                }
            }
        })
    }
}

fn template_json(spec: Option<&LaunchTemplateSpecification>) -> Value {
    spec.map_or(Value::Null, |s| {
        json!({
            "launchTemplateId": opt_str(s.launch_template_id()),
            "launchTemplateName": opt_str(s.launch_template_name()),
            "version": opt_str(s.version()),
        })
    })
}

/// The `AWS::AutoScaling::AutoScalingGroup` asset (`None` without an ARN).
/// `mixedInstancesPolicy` is `null` without one; its `launchTemplate`
/// carries the template reference and `overrides` (instance type, or
/// `instanceRequirements: true` for attribute-based selection). `status`
/// is `Delete in progress` while the group is being deleted.
pub fn group_asset(account: &str, region: &str, group: &AutoScalingGroup) -> Option<Asset> {
    let arn = group.auto_scaling_group_arn()?;
    let mixed = group.mixed_instances_policy().map_or(Value::Null, |m| {
        let lt = m.launch_template();
        json!({
            "launchTemplate": template_json(lt.and_then(|t| t.launch_template_specification())),
            "overrides": lt.map(|t| t.overrides()).unwrap_or_default().iter().map(|o| json!({
                "instanceType": opt_str(o.instance_type()),
                "instanceRequirements": o.instance_requirements().is_some(),
            })).collect::<Vec<_>>(),
        })
    });
    Some(
        Asset::new(
            arn,
            GROUP,
            account,
            region,
            group
                .auto_scaling_group_name()
                .unwrap_or_else(|| arn_name(arn)),
            json!({
                "autoScalingGroupArn": arn,
                "autoScalingGroupName": opt_str(group.auto_scaling_group_name()),
                "status": opt_str(group.status()),
                "createdTime": opt_timestamp(group.created_time()),
                "minSize": group.min_size(),
                "maxSize": group.max_size(),
                "desiredCapacity": group.desired_capacity(),
                "availabilityZones": str_list(group.availability_zones()),
                "vpcZoneIdentifier": opt_str(group.vpc_zone_identifier()),
                "loadBalancerNames": str_list(group.load_balancer_names()),
                "targetGroupArns": str_list(group.target_group_arns()),
                "trafficSources": group.traffic_sources().iter().map(|t| json!({
                    "identifier": t.identifier(),
                    "type": opt_str(t.r#type()),
                })).collect::<Vec<_>>(),
                "healthCheckType": opt_str(group.health_check_type()),
                "launchConfigurationName": opt_str(group.launch_configuration_name()),
                "launchTemplate": template_json(group.launch_template()),
                "mixedInstancesPolicy": mixed,
            }),
        )
        .with_tags(tag_map(group.tags().iter().map(|t| (t.key(), t.value())))),
    )
}

/// The `AWS::AutoScaling::LaunchConfiguration` asset (`None` without an
/// ARN). `associatePublicIpAddress` is `null` when the configuration leaves
/// it to the subnet; `metadataOptions` is `null` when it sets no instance
/// metadata options (instances then get the EC2 defaults: IMDSv1 and
/// IMDSv2 both allowed, hop limit 1).
pub fn launch_configuration_asset(
    account: &str,
    region: &str,
    config: &LaunchConfiguration,
) -> Option<Asset> {
    let arn = config.launch_configuration_arn()?;
    let metadata = config.metadata_options().map_or(Value::Null, |m| {
        json!({
            "httpTokens": opt_str(m.http_tokens().map(|t| t.as_str())),
            "httpEndpoint": opt_str(m.http_endpoint().map(|e| e.as_str())),
            "httpPutResponseHopLimit": m.http_put_response_hop_limit(),
        })
    });
    Some(Asset::new(
        arn,
        LAUNCH_CONFIGURATION,
        account,
        region,
        config
            .launch_configuration_name()
            .unwrap_or_else(|| arn_name(arn)),
        json!({
            "launchConfigurationArn": arn,
            "launchConfigurationName": opt_str(config.launch_configuration_name()),
            "imageId": opt_str(config.image_id()),
            "instanceType": opt_str(config.instance_type()),
            "createdTime": opt_timestamp(config.created_time()),
            "securityGroups": str_list(config.security_groups()),
            "iamInstanceProfile": opt_str(config.iam_instance_profile()),
            "associatePublicIpAddress": config.associate_public_ip_address(),
            "metadataOptions": metadata,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_autoscaling::types::{
        InstanceMetadataEndpointState, InstanceMetadataHttpTokensState, InstanceMetadataOptions,
        LaunchTemplate, LaunchTemplateOverrides, MixedInstancesPolicy, TagDescription,
    };
    use aws_smithy_types::DateTime;

    fn group() -> aws_sdk_autoscaling::types::builders::AutoScalingGroupBuilder {
        AutoScalingGroup::builder()
            .auto_scaling_group_arn(
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/web",
            )
            .auto_scaling_group_name("web")
            .min_size(1)
            .max_size(4)
            .desired_capacity(2)
            .default_cooldown(300)
            .health_check_type("EC2")
            .created_time(DateTime::from_secs(0))
            .availability_zones("us-east-1a")
            .availability_zones("us-east-1b")
    }

    #[test]
    fn maps_a_group_with_a_mixed_instances_policy() {
        let g = group()
            .target_group_arns(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1",
            )
            .mixed_instances_policy(
                MixedInstancesPolicy::builder()
                    .launch_template(
                        LaunchTemplate::builder()
                            .launch_template_specification(
                                LaunchTemplateSpecification::builder()
                                    .launch_template_id("lt-1")
                                    .version("$Latest")
                                    .build(),
                            )
                            .overrides(
                                LaunchTemplateOverrides::builder()
                                    .instance_type("m5.large")
                                    .build(),
                            )
                            .overrides(
                                LaunchTemplateOverrides::builder()
                                    .instance_type("m6i.large")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .tags(TagDescription::builder().key("team").value("web").build())
            .build();
        let asset = group_asset("123456789012", "us-east-1", &g).unwrap();
        assert_eq!(asset.resource_type, GROUP);
        assert_eq!(asset.name, "web");
        assert_eq!(asset.tags["team"], "web");
        let p = &asset.properties;
        assert_eq!(p["availabilityZones"], json!(["us-east-1a", "us-east-1b"]));
        assert_eq!(p["healthCheckType"], "EC2");
        assert_eq!(p["launchTemplate"], Value::Null);
        assert_eq!(
            p["mixedInstancesPolicy"]["launchTemplate"]["launchTemplateId"],
            "lt-1"
        );
        assert_eq!(
            p["mixedInstancesPolicy"]["overrides"][1]["instanceType"],
            "m6i.large"
        );
        assert_eq!(p["targetGroupArns"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn maps_a_group_with_a_launch_configuration() {
        let g = group().launch_configuration_name("web-lc").build();
        let asset = group_asset("123456789012", "us-east-1", &g).unwrap();
        assert_eq!(asset.properties["launchConfigurationName"], "web-lc");
        assert_eq!(asset.properties["mixedInstancesPolicy"], Value::Null);
        assert!(group_asset("1", "r", &AutoScalingGroup::builder().build()).is_none());
    }

    #[test]
    fn maps_launch_configurations_without_user_data() {
        let lc = LaunchConfiguration::builder()
            .launch_configuration_arn(
                "arn:aws:autoscaling:us-east-1:123456789012:launchConfiguration:uuid:launchConfigurationName/web-lc",
            )
            .launch_configuration_name("web-lc")
            .image_id("ami-1")
            .instance_type("t3.micro")
            .user_data("c2VjcmV0")
            .associate_public_ip_address(true)
            .metadata_options(
                InstanceMetadataOptions::builder()
                    .http_tokens(InstanceMetadataHttpTokensState::Required)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .http_put_response_hop_limit(2)
                    .build(),
            )
            .build();
        let asset = launch_configuration_asset("123456789012", "us-east-1", &lc).unwrap();
        assert_eq!(asset.resource_type, LAUNCH_CONFIGURATION);
        let p = &asset.properties;
        assert_eq!(p["associatePublicIpAddress"], true);
        assert_eq!(p["metadataOptions"]["httpTokens"], "required");
        assert_eq!(p["metadataOptions"]["httpPutResponseHopLimit"], 2);
        assert!(!serde_json::to_string(&asset).unwrap().contains("c2VjcmV0"));

        let bare = LaunchConfiguration::builder()
            .launch_configuration_arn(
                "arn:aws:autoscaling:us-east-1:1:launchConfiguration:u:launchConfigurationName/x",
            )
            .build();
        let asset = launch_configuration_asset("1", "us-east-1", &bare).unwrap();
        assert_eq!(asset.name, "x");
        assert_eq!(asset.properties["metadataOptions"], Value::Null);
        assert_eq!(asset.properties["associatePublicIpAddress"], Value::Null);
    }
}
