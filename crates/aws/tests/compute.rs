//! The compute collectors (ECS, EC2 Auto Scaling, Elastic Beanstalk,
//! CodeBuild, WorkSpaces, SageMaker) against one moto, with the collected
//! assets assessed by the catalog end to end.
//!
//! moto (5.2.5) gaps this test relies on, all covered by fixtures and the
//! collectors' unit tests instead: Elastic Beanstalk has no
//! `DescribeConfigurationSettings` (the environment's options are then
//! unavailable and its assessments are errors, never healthy); CodeBuild has
//! no report groups (`ListReportGroups` is a gap); SageMaker notebook
//! instances have no platform identifier (SageMaker.8 is an error) and
//! CreateModel ignores `EnableNetworkIsolation` (every model reads as not
//! isolated, so only the unhealthy case of SageMaker.5 is checked here);
//! WorkSpaces need a Directory Service directory, which Rampart has no SDK
//! client for, so only the empty listing is exercised. Report groups and
//! option settings are covered end to end from recorded responses in
//! `recorded_compute_data.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{REGION, settings, status};

use std::collections::BTreeSet;

use rampart_aws::{AwsAccess, NoProgress, ScanPlan, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::AssessmentStatus;
use rampart_testkit::Moto;
use serde_json::json;

const AMI: &str = "ami-0a3c14e1ddbe7f23c";
const ROLE: &str = "arn:aws:iam::123456789012:role/compute-test";

fn plan() -> ScanPlan {
    common::plan(
        &[REGION],
        &[
            "ecs",
            "autoscaling",
            "elasticbeanstalk",
            "codebuild",
            "workspaces",
            "sagemaker",
        ],
    )
}

async fn setup_ecs(setup: &AwsAccess, subnet: &str, group: &str) {
    use aws_sdk_ecs::types::{
        AssignPublicIp, AwsVpcConfiguration, ClusterSetting, ClusterSettingName,
        ContainerDefinition, KeyValuePair, LaunchType, LogConfiguration, LogDriver,
        NetworkConfiguration, NetworkMode, PidMode,
    };
    let ecs = setup.ecs(REGION);
    ecs.create_cluster()
        .cluster_name("prod")
        .settings(
            ClusterSetting::builder()
                .name(ClusterSettingName::ContainerInsights)
                .value("enabled")
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.create_cluster()
        .cluster_name("dev")
        .send()
        .await
        .unwrap();

    // Host network, root, a credential in the environment, no logging.
    ecs.register_task_definition()
        .family("host-root")
        .network_mode(NetworkMode::Host)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("nginx")
                .memory(128)
                .environment(
                    KeyValuePair::builder()
                        .name("AWS_SECRET_ACCESS_KEY")
                        .value("wJalrXUtnFEMIK7MDENG")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Locked down.
    ecs.register_task_definition()
        .family("hardened")
        .network_mode(NetworkMode::Awsvpc)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("nginx")
                .memory(128)
                .user("1000")
                .readonly_root_filesystem(true)
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Awslogs)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Privileged, sharing the host's PID namespace, in bridge mode.
    ecs.register_task_definition()
        .family("privileged-pid")
        .network_mode(NetworkMode::Bridge)
        .pid_mode(PidMode::Host)
        .container_definitions(
            ContainerDefinition::builder()
                .name("agent")
                .image("busybox")
                .memory(64)
                .privileged(true)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let network = |assign: AssignPublicIp| {
        NetworkConfiguration::builder()
            .awsvpc_configuration(
                AwsVpcConfiguration::builder()
                    .subnets(subnet)
                    .security_groups(group)
                    .assign_public_ip(assign)
                    .build()
                    .unwrap(),
            )
            .build()
    };
    for (name, assign, version) in [
        ("public-web", AssignPublicIp::Enabled, "1.3.0"),
        ("private-web", AssignPublicIp::Disabled, "LATEST"),
    ] {
        ecs.create_service()
            .cluster("prod")
            .service_name(name)
            .task_definition("hardened")
            .desired_count(0)
            .launch_type(LaunchType::Fargate)
            .platform_version(version)
            .network_configuration(network(assign))
            .send()
            .await
            .unwrap();
    }
    ecs.create_service()
        .cluster("prod")
        .service_name("ec2-worker")
        .task_definition("privileged-pid")
        .desired_count(0)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .unwrap();
}

async fn setup_autoscaling(setup: &AwsAccess) {
    use aws_sdk_autoscaling::types::{
        InstanceMetadataEndpointState, InstanceMetadataHttpTokensState, InstanceMetadataOptions,
        LaunchTemplate, LaunchTemplateOverrides, LaunchTemplateSpecification, MixedInstancesPolicy,
    };
    let asg = setup.autoscaling(REGION);
    let ec2 = setup.ec2(REGION);
    for (name, public, tokens, hops) in [
        (
            "lc-open",
            true,
            InstanceMetadataHttpTokensState::Optional,
            3,
        ),
        (
            "lc-locked",
            false,
            InstanceMetadataHttpTokensState::Required,
            1,
        ),
    ] {
        asg.create_launch_configuration()
            .launch_configuration_name(name)
            .image_id(AMI)
            .instance_type("t3.micro")
            .associate_public_ip_address(public)
            .metadata_options(
                InstanceMetadataOptions::builder()
                    .http_tokens(tokens)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .http_put_response_hop_limit(hops)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("lc-single-az")
        .launch_configuration_name("lc-open")
        .min_size(0)
        .max_size(1)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();

    let template = ec2
        .create_launch_template()
        .launch_template_name("web")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(AMI)
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .launch_template
        .unwrap()
        .launch_template_id
        .unwrap();
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("lt-mixed")
        .mixed_instances_policy(
            MixedInstancesPolicy::builder()
                .launch_template(
                    LaunchTemplate::builder()
                        .launch_template_specification(
                            LaunchTemplateSpecification::builder()
                                .launch_template_id(&template)
                                .version("$Latest")
                                .build(),
                        )
                        .overrides(
                            LaunchTemplateOverrides::builder()
                                .instance_type("t3.micro")
                                .build(),
                        )
                        .overrides(
                            LaunchTemplateOverrides::builder()
                                .instance_type("t3a.micro")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .min_size(0)
        .max_size(2)
        .availability_zones("us-east-1a")
        .availability_zones("us-east-1b")
        .send()
        .await
        .unwrap();
}

async fn setup_beanstalk(setup: &AwsAccess) {
    let eb = setup.elasticbeanstalk(REGION);
    eb.create_application()
        .application_name("web")
        .send()
        .await
        .unwrap();
    eb.create_environment()
        .application_name("web")
        .environment_name("web-prod")
        .solution_stack_name("64bit Amazon Linux 2023 v6.1.0 running Node.js 20")
        .send()
        .await
        .unwrap();
}

async fn setup_codebuild(setup: &AwsAccess) {
    use aws_sdk_codebuild::types::{
        ArtifactsType, CloudWatchLogsConfig, ComputeType, EnvironmentType, EnvironmentVariable,
        EnvironmentVariableType, LogsConfig, LogsConfigStatusType, ProjectArtifacts,
        ProjectEnvironment, ProjectSource, S3LogsConfig, SourceType,
    };
    let cb = setup.codebuild(REGION);
    let environment = |privileged: bool, var: &str| {
        ProjectEnvironment::builder()
            .r#type(EnvironmentType::LinuxContainer)
            .image("aws/codebuild/standard:7.0")
            .compute_type(ComputeType::BuildGeneral1Small)
            .privileged_mode(privileged)
            .environment_variables(
                EnvironmentVariable::builder()
                    .name(var)
                    .value("value-kept-out-of-assets")
                    .r#type(EnvironmentVariableType::Plaintext)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let source = |kind: SourceType, location: &str| {
        ProjectSource::builder()
            .r#type(kind)
            .location(location)
            .build()
            .unwrap()
    };
    let artifacts = || {
        ProjectArtifacts::builder()
            .r#type(ArtifactsType::NoArtifacts)
            .build()
            .unwrap()
    };
    cb.create_project()
        .name("api-leaky")
        .source(source(
            SourceType::Bitbucket,
            "https://dev:hunter2@bitbucket.org/example/api.git",
        ))
        .artifacts(artifacts())
        .environment(environment(true, "AWS_SECRET_ACCESS_KEY"))
        .service_role(ROLE)
        .logs_config(
            LogsConfig::builder()
                .cloud_watch_logs(
                    CloudWatchLogsConfig::builder()
                        .status(LogsConfigStatusType::Disabled)
                        .build()
                        .unwrap(),
                )
                .s3_logs(
                    S3LogsConfig::builder()
                        .status(LogsConfigStatusType::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    cb.create_project()
        .name("api-clean")
        .source(source(
            SourceType::Bitbucket,
            "https://bitbucket.org/example/api.git",
        ))
        .artifacts(artifacts())
        .environment(environment(false, "STAGE"))
        .service_role(ROLE)
        .logs_config(
            LogsConfig::builder()
                .s3_logs(
                    S3LogsConfig::builder()
                        .status(LogsConfigStatusType::Enabled)
                        .location("build-logs/api")
                        .encryption_disabled(true)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    cb.create_project()
        .name("site")
        .source(source(
            SourceType::Github,
            "https://github.com/example/site.git",
        ))
        .artifacts(artifacts())
        .environment(environment(false, "STAGE"))
        .service_role(ROLE)
        .send()
        .await
        .unwrap();
}

async fn setup_sagemaker(setup: &AwsAccess, subnet: &str, group: &str) {
    use aws_sdk_sagemaker::types::{
        ContainerDefinition, DirectInternetAccess, InstanceType, ProductionVariant,
        ProductionVariantInstanceType, RootAccess,
    };
    let sm = setup.sagemaker(REGION);
    sm.create_notebook_instance()
        .notebook_instance_name("open-notebook")
        .instance_type(InstanceType::MlT3Medium)
        .role_arn(ROLE)
        .direct_internet_access(DirectInternetAccess::Enabled)
        .root_access(RootAccess::Enabled)
        .send()
        .await
        .unwrap();
    sm.create_notebook_instance()
        .notebook_instance_name("private-notebook")
        .instance_type(InstanceType::MlT3Medium)
        .role_arn(ROLE)
        .subnet_id(subnet)
        .security_group_ids(group)
        .direct_internet_access(DirectInternetAccess::Disabled)
        .root_access(RootAccess::Disabled)
        .send()
        .await
        .unwrap();
    for (name, isolated) in [("isolated-model", true), ("open-model", false)] {
        sm.create_model()
            .model_name(name)
            .execution_role_arn(ROLE)
            .primary_container(
                ContainerDefinition::builder()
                    .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
                    .build(),
            )
            .enable_network_isolation(isolated)
            .send()
            .await
            .unwrap();
    }
    for (name, count) in [("single", 1), ("pair", 2)] {
        sm.create_endpoint_config()
            .endpoint_config_name(name)
            .production_variants(
                ProductionVariant::builder()
                    .variant_name("primary")
                    .model_name("isolated-model")
                    .instance_type(ProductionVariantInstanceType::MlM5Large)
                    .initial_instance_count(count)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_services_are_collected_and_assessed() {
    let moto = Moto::start();
    // Set-up calls go through their own access, so the scan's call counts
    // hold only the collectors' calls.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let ec2 = setup.ec2(REGION);
    let subnet = ec2
        .describe_subnets()
        .send()
        .await
        .unwrap()
        .subnets
        .unwrap()[0]
        .subnet_id
        .clone()
        .unwrap();
    let group = ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups
        .unwrap()[0]
        .group_id
        .clone()
        .unwrap();
    setup_ecs(&setup, &subnet, &group).await;
    setup_autoscaling(&setup).await;
    setup_beanstalk(&setup).await;
    setup_codebuild(&setup).await;
    setup_sagemaker(&setup, &subnet, &group).await;

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(&access, &plan(), &NoProgress).await;

    // The gaps are exactly moto's missing operations, never silence.
    let gaps: BTreeSet<(&str, &str)> = result
        .gaps
        .iter()
        .map(|g| (g.service.as_str(), g.operation.as_str()))
        .collect();
    assert_eq!(
        gaps,
        BTreeSet::from([
            ("codebuild", "ListReportGroups"),
            ("elasticbeanstalk", "DescribeConfigurationSettings"),
        ]),
        "{:#?}",
        result.gaps
    );

    // Only declared calls.
    common::assert_only_declared_calls(&access);

    let find = |kind: &str, name: &str| {
        result
            .assets
            .iter()
            .find(|a| a.resource_type == kind && a.name == name)
            .unwrap_or_else(|| panic!("no {kind} `{name}`"))
    };
    assert_eq!(
        find("AWS::ECS::Cluster", "prod").properties["containerInsights"],
        "enabled"
    );
    let public = find("AWS::ECS::Service", "public-web");
    assert_eq!(public.properties["assignPublicIp"], "ENABLED");
    assert_eq!(public.properties["platformVersion"], "1.3.0");
    let host = find("AWS::ECS::TaskDefinition", "host-root:1");
    assert_eq!(host.properties["networkMode"], "host");
    assert_eq!(
        host.properties["containerDefinitions"][0]["environmentNames"],
        json!(["AWS_SECRET_ACCESS_KEY"])
    );
    let open = find("AWS::AutoScaling::LaunchConfiguration", "lc-open");
    assert_eq!(
        open.properties["metadataOptions"]["httpPutResponseHopLimit"],
        3
    );
    let mixed = find("AWS::AutoScaling::AutoScalingGroup", "lt-mixed");
    assert_eq!(
        mixed.properties["mixedInstancesPolicy"]["overrides"][1]["instanceType"],
        "t3a.micro"
    );
    let env = find("AWS::ElasticBeanstalk::Environment", "web-prod");
    assert!(env.unavailable.contains_key("options"));
    let leaky = find("AWS::CodeBuild::Project", "api-leaky");
    assert_eq!(leaky.properties["sources"][0]["credentialsInUrl"], true);
    let everything = serde_json::to_string(&result.assets).unwrap();
    for secret in [
        "hunter2",
        "wJalrXUtnFEMIK7MDENG",
        "value-kept-out-of-assets",
    ] {
        assert!(
            !everything.contains(secret),
            "`{secret}` leaked into an asset"
        );
    }
    assert!(
        result
            .assets
            .iter()
            .all(|a| a.resource_type != "AWS::WorkSpaces::Workspace")
    );

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    use AssessmentStatus::{Error, Healthy, NotApplicable, Unhealthy};
    let expected = [
        ("ecs-cluster-container-insights", "prod", Healthy),
        ("ecs-cluster-container-insights", "dev", Unhealthy),
        ("ecs-service-no-public-ip", "public-web", Unhealthy),
        ("ecs-service-no-public-ip", "private-web", Healthy),
        ("ecs-service-no-public-ip", "ec2-worker", Healthy),
        (
            "ecs-fargate-service-latest-platform",
            "public-web",
            Unhealthy,
        ),
        (
            "ecs-fargate-service-latest-platform",
            "private-web",
            Healthy,
        ),
        (
            "ecs-fargate-service-latest-platform",
            "ec2-worker",
            NotApplicable,
        ),
        (
            "ecs-task-definition-host-network-user",
            "host-root:1",
            Unhealthy,
        ),
        (
            "ecs-task-definition-host-network-user",
            "hardened:1",
            Healthy,
        ),
        (
            "ecs-task-definition-host-network-user",
            "privileged-pid:1",
            Healthy,
        ),
        (
            "ecs-task-definition-no-host-pid",
            "privileged-pid:1",
            Unhealthy,
        ),
        ("ecs-task-definition-no-host-pid", "hardened:1", Healthy),
        (
            "ecs-task-definition-nonprivileged",
            "privileged-pid:1",
            Unhealthy,
        ),
        ("ecs-task-definition-nonprivileged", "host-root:1", Healthy),
        (
            "ecs-task-definition-readonly-root",
            "host-root:1",
            Unhealthy,
        ),
        ("ecs-task-definition-readonly-root", "hardened:1", Healthy),
        (
            "ecs-task-definition-no-environment-secrets",
            "host-root:1",
            Unhealthy,
        ),
        (
            "ecs-task-definition-no-environment-secrets",
            "hardened:1",
            Healthy,
        ),
        ("ecs-task-definition-logging", "host-root:1", Unhealthy),
        ("ecs-task-definition-logging", "hardened:1", Healthy),
        (
            "autoscaling-launch-configuration-imdsv2",
            "lc-open",
            Unhealthy,
        ),
        (
            "autoscaling-launch-configuration-imdsv2",
            "lc-locked",
            Healthy,
        ),
        (
            "autoscaling-launch-configuration-hop-limit",
            "lc-open",
            Unhealthy,
        ),
        (
            "autoscaling-launch-configuration-hop-limit",
            "lc-locked",
            Healthy,
        ),
        (
            "autoscaling-launch-configuration-no-public-ip",
            "lc-open",
            Unhealthy,
        ),
        (
            "autoscaling-launch-configuration-no-public-ip",
            "lc-locked",
            Healthy,
        ),
        ("autoscaling-group-multiple-azs", "lc-single-az", Unhealthy),
        ("autoscaling-group-multiple-azs", "lt-mixed", Healthy),
        (
            "autoscaling-group-multiple-instance-types",
            "lc-single-az",
            Unhealthy,
        ),
        (
            "autoscaling-group-multiple-instance-types",
            "lt-mixed",
            Healthy,
        ),
        (
            "autoscaling-group-launch-template",
            "lc-single-az",
            Unhealthy,
        ),
        ("autoscaling-group-launch-template", "lt-mixed", Healthy),
        (
            "autoscaling-group-elb-health-check",
            "lt-mixed",
            NotApplicable,
        ),
        (
            "elasticbeanstalk-environment-enhanced-health",
            "web-prod",
            Error,
        ),
        (
            "elasticbeanstalk-environment-cloudwatch-logs",
            "web-prod",
            Error,
        ),
        (
            "codebuild-project-source-url-no-credentials",
            "api-leaky",
            Unhealthy,
        ),
        (
            "codebuild-project-source-url-no-credentials",
            "api-clean",
            Healthy,
        ),
        (
            "codebuild-project-source-url-no-credentials",
            "site",
            NotApplicable,
        ),
        (
            "codebuild-project-no-plaintext-aws-credentials",
            "api-leaky",
            Unhealthy,
        ),
        (
            "codebuild-project-no-plaintext-aws-credentials",
            "api-clean",
            Healthy,
        ),
        ("codebuild-project-logging", "api-leaky", Unhealthy),
        ("codebuild-project-logging", "api-clean", Healthy),
        ("codebuild-project-logging", "site", Healthy),
        (
            "codebuild-project-no-privileged-mode",
            "api-leaky",
            Unhealthy,
        ),
        ("codebuild-project-no-privileged-mode", "api-clean", Healthy),
        (
            "codebuild-project-s3-logs-encrypted",
            "api-clean",
            Unhealthy,
        ),
        (
            "codebuild-project-s3-logs-encrypted",
            "api-leaky",
            NotApplicable,
        ),
        (
            "sagemaker-notebook-no-direct-internet",
            "open-notebook",
            Unhealthy,
        ),
        (
            "sagemaker-notebook-no-direct-internet",
            "private-notebook",
            Healthy,
        ),
        ("sagemaker-notebook-in-vpc", "open-notebook", Unhealthy),
        ("sagemaker-notebook-in-vpc", "private-notebook", Healthy),
        (
            "sagemaker-notebook-no-root-access",
            "open-notebook",
            Unhealthy,
        ),
        (
            "sagemaker-notebook-no-root-access",
            "private-notebook",
            Healthy,
        ),
        (
            "sagemaker-notebook-supported-platform",
            "private-notebook",
            Error,
        ),
        ("sagemaker-model-network-isolation", "open-model", Unhealthy),
        (
            "sagemaker-endpoint-config-multiple-instances",
            "single",
            Unhealthy,
        ),
        (
            "sagemaker-endpoint-config-multiple-instances",
            "pair",
            Healthy,
        ),
    ];
    let mut wrong = Vec::new();
    for (recommendation, name, want) in expected {
        let got = status(&assessments, recommendation, name);
        if got != want {
            wrong.push(format!(
                "{recommendation} {name}: got {got:?}, want {want:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
