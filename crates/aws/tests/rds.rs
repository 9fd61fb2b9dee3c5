//! The RDS collector's parameter groups, event subscriptions and proxies,
//! and the Neptune and Aurora clusters the RDS API returns, against moto;
//! the collected assets are assessed by the catalog end to end.
//!
//! moto (5.2.5) rejects `docdb` in CreateDBCluster, so DocumentDB clusters
//! are covered by fixtures only; its DescribeDBParameters returns only the
//! parameters set on a group (no engine defaults).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeSet;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_rds::types::{ApplyMethod, Parameter, UserAuthConfig};
use rampart_aws::{AwsAccess, AwsSettings, NoProgress, ScanPlan, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::{Assessment, AssessmentStatus};
use rampart_testkit::Moto;
use serde_json::json;

const REGION: &str = "us-east-1";

fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        home_region: Some(REGION.to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        ..AwsSettings::default()
    }
}

fn plan() -> ScanPlan {
    ScanPlan {
        account: "123456789012".to_owned(),
        home_region: REGION.to_owned(),
        regions: vec![REGION.to_owned()],
        disabled_regions: vec![],
        services: Some(vec!["rds".to_owned()]),
        concurrency: 4,
    }
}

fn parameter(name: &str, value: &str) -> Parameter {
    Parameter::builder()
        .parameter_name(name)
        .parameter_value(value)
        .apply_method(ApplyMethod::Immediate)
        .build()
}

/// Creates DB parameter group `group` (`family`) with `name` = `value`.
async fn parameter_group(
    rds: &aws_sdk_rds::Client,
    group: &str,
    family: &str,
    name: &str,
    value: &str,
) {
    rds.create_db_parameter_group()
        .db_parameter_group_name(group)
        .db_parameter_group_family(family)
        .description("rampart test")
        .send()
        .await
        .unwrap();
    rds.modify_db_parameter_group()
        .db_parameter_group_name(group)
        .parameters(parameter(name, value))
        .send()
        .await
        .unwrap();
}

async fn instance(rds: &aws_sdk_rds::Client, id: &str, engine: &str, group: &str) {
    rds.create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .db_instance_class("db.t3.micro")
        .master_username("app_owner")
        .master_user_password("password123")
        .allocated_storage(20)
        .db_parameter_group_name(group)
        .send()
        .await
        .unwrap();
}

async fn subscription(rds: &aws_sdk_rds::Client, name: &str, source: &str, categories: &[&str]) {
    let mut request = rds
        .create_event_subscription()
        .subscription_name(name)
        .sns_topic_arn("arn:aws:sns:us-east-1:123456789012:db-ops")
        .source_type(source)
        .enabled(true);
    for category in categories {
        request = request.event_categories(*category);
    }
    request.send().await.unwrap();
}

fn status(assessments: &[Assessment], recommendation: &str, name: &str) -> AssessmentStatus {
    assessments
        .iter()
        .find(|a| a.recommendation == recommendation && a.resource_name == name)
        .unwrap_or_else(|| panic!("no `{recommendation}` assessment of `{name}`"))
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_family_settings_are_collected_and_assessed() {
    let moto = Moto::start();
    // Set-up calls go through their own access, so the scan's call counts
    // hold only the collector's calls.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let rds = setup.rds(REGION);
    let ec2 = setup.ec2(REGION);

    // Instances: TLS required or not through their DB parameter groups.
    parameter_group(&rds, "pg-tls", "postgres16", "rds.force_ssl", "1").await;
    parameter_group(&rds, "pg-plain", "postgres16", "rds.force_ssl", "0").await;
    parameter_group(
        &rds,
        "mysql-tls",
        "mysql8.0",
        "require_secure_transport",
        "ON",
    )
    .await;
    instance(&rds, "pg-secure", "postgres", "pg-tls").await;
    instance(&rds, "pg-plain", "postgres", "pg-plain").await;
    instance(&rds, "pg-plain-2", "postgres", "pg-plain").await;
    instance(&rds, "mysql-secure", "mysql", "mysql-tls").await;

    // An Aurora MySQL cluster with Advanced Auditing, one without.
    for (group, value) in [("audit-on", "1"), ("audit-off", "0")] {
        rds.create_db_cluster_parameter_group()
            .db_cluster_parameter_group_name(group)
            .db_parameter_group_family("aurora-mysql8.0")
            .description("rampart test")
            .send()
            .await
            .unwrap();
        rds.modify_db_cluster_parameter_group()
            .db_cluster_parameter_group_name(group)
            .parameters(parameter("server_audit_logging", value))
            .send()
            .await
            .unwrap();
        rds.create_db_cluster()
            .db_cluster_identifier(format!("orders-{group}"))
            .engine("aurora-mysql")
            .master_username("orders_owner")
            .master_user_password("password123")
            .db_cluster_parameter_group_name(group)
            .send()
            .await
            .unwrap();
    }

    // A Neptune cluster (unencrypted, copies tags) and a public snapshot of it.
    rds.create_db_cluster()
        .db_cluster_identifier("social-graph")
        .engine("neptune")
        .storage_encrypted(false)
        .copy_tags_to_snapshot(true)
        .send()
        .await
        .unwrap();
    rds.create_db_cluster_snapshot()
        .db_cluster_snapshot_identifier("social-graph-export")
        .db_cluster_identifier("social-graph")
        .send()
        .await
        .unwrap();
    rds.modify_db_cluster_snapshot_attribute()
        .db_cluster_snapshot_identifier("social-graph-export")
        .attribute_name("restore")
        .values_to_add("all")
        .send()
        .await
        .unwrap();

    // Event subscriptions: complete, incomplete, and one for another source type.
    subscription(
        &rds,
        "instance-ops",
        "db-instance",
        &["maintenance", "configuration change", "failure"],
    )
    .await;
    subscription(&rds, "instance-failures", "db-instance", &["failure"]).await;
    subscription(&rds, "snapshot-ops", "db-snapshot", &["creation"]).await;

    // Proxies: TLS required and not.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.42.1.0/24", "us-east-1a"),
        ("10.42.2.0/24", "us-east-1b"),
    ] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet.unwrap().subnet_id.unwrap());
    }
    for (name, tls) in [("proxy-tls", true), ("proxy-plain", false)] {
        rds.create_db_proxy()
            .db_proxy_name(name)
            .engine_family(aws_sdk_rds::types::EngineFamily::Postgresql)
            .auth(
                UserAuthConfig::builder()
                    .auth_scheme(aws_sdk_rds::types::AuthScheme::Secrets)
                    .secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf")
                    .build(),
            )
            .role_arn("arn:aws:iam::123456789012:role/proxy-secrets")
            .set_vpc_subnet_ids(Some(subnets.clone()))
            .require_tls(tls)
            .send()
            .await
            .unwrap();
    }

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(&access, &plan(), &NoProgress).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);

    // Only declared calls; each parameter group read once, though two
    // instances share `pg-plain`.
    let declared: BTreeSet<(&str, &str)> = rampart_aws::collectors::all_operations()
        .map(|op| (op.service, op.name))
        .collect();
    let made = access.stats().snapshot();
    for (service, operation) in made.keys() {
        assert!(
            declared.contains(&(service.as_str(), operation.as_str())),
            "undeclared call {service}:{operation}"
        );
    }
    let calls = |operation: &str| {
        made.iter()
            .filter(|((s, o), _)| s == "rds" && o == operation)
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    assert_eq!(calls("DescribeDBParameters"), 3, "{made:?}");
    assert_eq!(calls("DescribeDBClusterParameters"), 2, "{made:?}");

    let find = |name: &str| {
        result
            .assets
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no asset `{name}`"))
    };
    assert_eq!(
        find("pg-secure").properties["parameters"],
        json!([{"name": "rds.force_ssl", "value": "1"}])
    );
    assert_eq!(
        find("pg-secure").properties["dbParameterGroupStatus"],
        json!([{"name": "pg-tls", "applyStatus": "in-sync"}])
    );
    assert_eq!(
        find("orders-audit-on").properties["dbClusterParameterGroup"],
        "audit-on"
    );
    assert_eq!(find("social-graph").properties["parameters"], json!(null));
    let sub = find("instance-failures");
    assert_eq!(sub.resource_type, "AWS::RDS::EventSubscription");
    assert_eq!(sub.properties["eventCategories"], json!(["failure"]));
    let proxy = find("proxy-plain");
    assert_eq!(proxy.resource_type, "AWS::RDS::DBProxy");
    assert_eq!(proxy.properties["requireTLS"], false);

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    use AssessmentStatus::{Healthy, NotApplicable, Unhealthy};
    let expected = [
        (
            "rds-postgresql-instance-encrypted-in-transit",
            "pg-secure",
            Healthy,
        ),
        (
            "rds-postgresql-instance-encrypted-in-transit",
            "pg-plain",
            Unhealthy,
        ),
        (
            "rds-postgresql-instance-encrypted-in-transit",
            "mysql-secure",
            NotApplicable,
        ),
        (
            "rds-mysql-instance-encrypted-in-transit",
            "mysql-secure",
            Healthy,
        ),
        (
            "rds-aurora-mysql-cluster-audit-logging",
            "orders-audit-on",
            Healthy,
        ),
        (
            "rds-aurora-mysql-cluster-audit-logging",
            "orders-audit-off",
            Unhealthy,
        ),
        (
            "rds-aurora-mysql-cluster-audit-logging",
            "social-graph",
            NotApplicable,
        ),
        ("neptune-cluster-encrypted", "social-graph", Unhealthy),
        (
            "neptune-cluster-encrypted",
            "orders-audit-on",
            NotApplicable,
        ),
        (
            "neptune-cluster-copy-tags-to-snapshots",
            "social-graph",
            Healthy,
        ),
        (
            "neptune-cluster-automated-backups",
            "social-graph",
            Unhealthy,
        ),
        (
            "neptune-cluster-snapshot-not-public",
            "social-graph-export",
            Unhealthy,
        ),
        (
            "neptune-cluster-snapshot-encrypted",
            "social-graph-export",
            Unhealthy,
        ),
        ("docdb-cluster-encrypted", "social-graph", NotApplicable),
        (
            "rds-event-subscription-instance-critical-events",
            "instance-ops",
            Healthy,
        ),
        (
            "rds-event-subscription-instance-critical-events",
            "instance-failures",
            Unhealthy,
        ),
        (
            "rds-event-subscription-instance-critical-events",
            "snapshot-ops",
            NotApplicable,
        ),
        (
            "rds-event-subscription-cluster-critical-events",
            "instance-ops",
            NotApplicable,
        ),
        ("rds-proxy-tls-required", "proxy-tls", Healthy),
        ("rds-proxy-tls-required", "proxy-plain", Unhealthy),
    ];
    for (recommendation, name, want) in expected {
        assert_eq!(
            status(&assessments, recommendation, name),
            want,
            "{recommendation} on {name}"
        );
    }
}
