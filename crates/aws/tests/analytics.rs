//! The Redshift, Redshift Serverless and OpenSearch Service collectors
//! against moto, with the collected assets assessed by the catalog end to
//! end. One moto for the file.
//!
//! moto (5.2.5) has no Redshift Serverless API: the scan records the failed
//! `ListWorkgroups`/`ListNamespaces` calls as coverage gaps (the
//! workgroup/namespace mapping is unit-tested with SDK types). Its
//! `DescribeClusterParameters` returns the engine defaults for every group
//! (`require_ssl` false), its clusters omit `MultiAZ`, and its domains omit
//! `ServiceSoftwareOptions`: those assessments are `error` here, as they
//! would be against AWS if the API omitted the settings.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{REGION, settings, status};

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{IpPermission, IpRange};
use aws_sdk_opensearch::types::{
    AdvancedSecurityOptionsInput, ClusterConfig, DomainEndpointOptions, EncryptionAtRestOptions,
    LogPublishingOption, LogType, MasterUserOptions, NodeToNodeEncryptionOptions,
    TlsSecurityPolicy, VpcOptions,
};
use rampart_aws::{AwsAccess, NoProgress, ScanPlan, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::AssessmentStatus;
use rampart_testkit::Moto;
use serde_json::json;

fn plan(services: &[&str]) -> ScanPlan {
    common::plan(&[REGION], services)
}

/// A security group in `vpc` admitting TCP 5439 from `cidr`.
async fn warehouse_group(ec2: &aws_sdk_ec2::Client, vpc: &str, name: &str, cidr: &str) -> String {
    let id = ec2
        .create_security_group()
        .group_name(name)
        .description("redshift clients")
        .vpc_id(vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    ec2.authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5439)
                .to_port(5439)
                .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_services_are_collected_and_assessed() {
    let moto = Moto::start();
    // Set-up calls go through their own access, so the scan's call counts
    // hold only the collectors' calls.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let ec2 = setup.ec2(REGION);
    let redshift = setup.redshift(REGION);
    let opensearch = setup.opensearch(REGION);

    // Redshift: an exposed cluster with every default, and a locked-down one.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.52.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let open_sg = warehouse_group(&ec2, &vpc, "warehouse-open", "0.0.0.0/0").await;
    let private_sg = warehouse_group(&ec2, &vpc, "warehouse-private", "10.52.0.0/16").await;
    redshift
        .create_cluster()
        .cluster_identifier("open-warehouse")
        .node_type("ra3.xlplus")
        .master_username("awsuser")
        .master_user_password("Password123")
        .publicly_accessible(true)
        .encrypted(false)
        .automated_snapshot_retention_period(1)
        .allow_version_upgrade(false)
        .enhanced_vpc_routing(false)
        .vpc_security_group_ids(&open_sg)
        .send()
        .await
        .unwrap();
    redshift
        .create_cluster_parameter_group()
        .parameter_group_name("warehouse-tls")
        .parameter_group_family("redshift-1.0")
        .description("rampart test")
        .send()
        .await
        .unwrap();
    redshift
        .create_cluster()
        .cluster_identifier("private-warehouse")
        .node_type("ra3.xlplus")
        .master_username("bi_owner")
        .master_user_password("Password123")
        .db_name("sales")
        .publicly_accessible(false)
        .encrypted(true)
        .automated_snapshot_retention_period(7)
        .allow_version_upgrade(true)
        .enhanced_vpc_routing(true)
        .vpc_security_group_ids(&private_sg)
        .cluster_parameter_group_name("warehouse-tls")
        .send()
        .await
        .unwrap();
    redshift
        .enable_logging()
        .cluster_identifier("private-warehouse")
        .log_destination_type(aws_sdk_redshift::types::LogDestinationType::Cloudwatch)
        .log_exports("connectionlog")
        .log_exports("userlog")
        .send()
        .await
        .unwrap();

    // OpenSearch: six domains, so DescribeDomains takes two batches.
    opensearch
        .create_domain()
        .domain_name("secure-search")
        .engine_version("OpenSearch_2.11")
        .cluster_config(
            ClusterConfig::builder()
                .instance_count(3)
                .zone_awareness_enabled(true)
                .dedicated_master_enabled(true)
                .dedicated_master_count(3)
                .build(),
        )
        .vpc_options(
            VpcOptions::builder()
                .subnet_ids("subnet-0aa11bb22cc33dd44")
                .security_group_ids(&private_sg)
                .build(),
        )
        .encryption_at_rest_options(EncryptionAtRestOptions::builder().enabled(true).build())
        .node_to_node_encryption_options(
            NodeToNodeEncryptionOptions::builder().enabled(true).build(),
        )
        .domain_endpoint_options(
            DomainEndpointOptions::builder()
                .enforce_https(true)
                .tls_security_policy(TlsSecurityPolicy::PolicyMinTls12Pfs202310)
                .build(),
        )
        .advanced_security_options(
            AdvancedSecurityOptionsInput::builder()
                .enabled(true)
                .master_user_options(
                    MasterUserOptions::builder()
                        .master_user_arn("arn:aws:iam::123456789012:role/search-admin")
                        .build(),
                )
                .build(),
        )
        .log_publishing_options(
            LogType::EsApplicationLogs,
            LogPublishingOption::builder()
                .enabled(true)
                .cloud_watch_logs_log_group_arn(
                    "arn:aws:logs:us-east-1:123456789012:log-group:search-errors",
                )
                .build(),
        )
        .log_publishing_options(
            LogType::AuditLogs,
            LogPublishingOption::builder()
                .enabled(true)
                .cloud_watch_logs_log_group_arn(
                    "arn:aws:logs:us-east-1:123456789012:log-group:search-audit",
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (name, engine) in [
        ("open-search", "OpenSearch_2.11"),
        ("legacy-logs", "Elasticsearch_7.10"),
        ("filler-1", "OpenSearch_2.11"),
        ("filler-2", "OpenSearch_2.11"),
        ("filler-3", "Elasticsearch_7.10"),
    ] {
        opensearch
            .create_domain()
            .domain_name(name)
            .engine_version(engine)
            .send()
            .await
            .unwrap();
    }

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(
        &access,
        &plan(&["ec2", "redshift", "redshift-serverless", "es"]),
        &NoProgress,
    )
    .await;

    // Besides the EC2 region settings moto lacks (the EC2 collector only
    // supplies the security groups here), only moto's missing Redshift
    // Serverless API is a gap.
    let gap_services: BTreeSet<(&str, &str)> = result
        .gaps
        .iter()
        .filter(|g| g.service != "ec2")
        .map(|g| (g.service.as_str(), g.operation.as_str()))
        .collect();
    assert_eq!(
        gap_services,
        BTreeSet::from([
            ("redshift-serverless", "ListNamespaces"),
            ("redshift-serverless", "ListWorkgroups"),
        ]),
        "{:#?}",
        result.gaps
    );

    // Only declared calls; each parameter group read once; six domains in
    // two DescribeDomains batches; one logging status per cluster.
    let made = common::assert_only_declared_calls(&access);
    let calls = |service: &str, operation: &str| {
        made.iter()
            .filter(|((s, o), _)| s == service && o == operation)
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    assert_eq!(
        calls("redshift", "DescribeClusterParameters"),
        2,
        "{made:?}"
    );
    assert_eq!(calls("redshift", "DescribeLoggingStatus"), 2, "{made:?}");
    assert_eq!(calls("es", "DescribeDomains"), 2, "{made:?}");

    let find = |name: &str, kind: &str| {
        result
            .assets
            .iter()
            .find(|a| a.name == name && a.resource_type == kind)
            .unwrap_or_else(|| panic!("no {kind} `{name}`"))
    };
    let cluster = find("private-warehouse", "AWS::Redshift::Cluster");
    assert_eq!(
        cluster.arn,
        "arn:aws:redshift:us-east-1:123456789012:cluster:private-warehouse"
    );
    assert_eq!(cluster.properties["logging"]["loggingEnabled"], true);
    assert_eq!(
        cluster.properties["requireSsl"],
        json!([{"group": "warehouse-tls", "value": "false"}])
    );
    assert_eq!(cluster.properties["endpoint"]["port"], 5439);
    assert_eq!(
        find("open-warehouse", "AWS::Redshift::Cluster").properties["dbName"],
        "dev"
    );
    let domains = result
        .assets
        .iter()
        .filter(|a| a.resource_type == "AWS::OpenSearch::Domain")
        .count();
    assert_eq!(domains, 6);
    let secure = find("secure-search", "AWS::OpenSearch::Domain");
    assert_eq!(
        secure.arn,
        "arn:aws:es:us-east-1:123456789012:domain/secure-search"
    );
    assert_eq!(
        secure.properties["logPublishingOptions"]["AUDIT_LOGS"]["enabled"],
        true
    );

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    use AssessmentStatus::{Error, Healthy, NotApplicable, Unhealthy};
    let expected = [
        // Redshift.
        (
            "redshift-cluster-not-publicly-accessible",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-not-publicly-accessible",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-encrypted-at-rest",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-encrypted-at-rest",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-automatic-snapshots",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-automatic-snapshots",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-audit-logging",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-audit-logging",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-automatic-major-version-upgrade",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-automatic-major-version-upgrade",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-enhanced-vpc-routing",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-enhanced-vpc-routing",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-custom-admin-username",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-custom-admin-username",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-custom-database-name",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-custom-database-name",
            "private-warehouse",
            Healthy,
        ),
        (
            "redshift-cluster-port-restricted",
            "open-warehouse",
            Unhealthy,
        ),
        (
            "redshift-cluster-port-restricted",
            "private-warehouse",
            Healthy,
        ),
        // moto's parameter groups all say `require_ssl` false.
        (
            "redshift-cluster-encrypted-in-transit",
            "private-warehouse",
            Unhealthy,
        ),
        // moto omits MultiAZ.
        ("redshift-cluster-multi-az", "private-warehouse", Error),
        // OpenSearch, every domain.
        (
            "opensearch-domain-encrypted-at-rest",
            "secure-search",
            Healthy,
        ),
        (
            "opensearch-domain-encrypted-at-rest",
            "open-search",
            Unhealthy,
        ),
        (
            "opensearch-domain-encrypted-at-rest",
            "legacy-logs",
            Unhealthy,
        ),
        ("opensearch-domain-in-vpc", "secure-search", Healthy),
        ("opensearch-domain-in-vpc", "open-search", Unhealthy),
        (
            "opensearch-domain-node-to-node-encryption",
            "secure-search",
            Healthy,
        ),
        (
            "opensearch-domain-node-to-node-encryption",
            "open-search",
            Unhealthy,
        ),
        ("opensearch-domain-error-logging", "secure-search", Healthy),
        ("opensearch-domain-error-logging", "open-search", Unhealthy),
        ("opensearch-domain-audit-logging", "secure-search", Healthy),
        ("opensearch-domain-audit-logging", "open-search", Unhealthy),
        (
            "opensearch-domain-three-data-nodes",
            "secure-search",
            Healthy,
        ),
        (
            "opensearch-domain-three-data-nodes",
            "open-search",
            Unhealthy,
        ),
        (
            "opensearch-domain-fine-grained-access-control",
            "secure-search",
            Healthy,
        ),
        (
            "opensearch-domain-fine-grained-access-control",
            "open-search",
            Unhealthy,
        ),
        (
            "opensearch-domain-latest-tls-policy",
            "secure-search",
            Healthy,
        ),
        (
            "opensearch-domain-latest-tls-policy",
            "open-search",
            Unhealthy,
        ),
        // moto omits ServiceSoftwareOptions.
        (
            "opensearch-domain-software-up-to-date",
            "secure-search",
            Error,
        ),
        // ES: Elasticsearch-engine domains only.
        ("es-domain-encrypted-at-rest", "legacy-logs", Unhealthy),
        (
            "es-domain-encrypted-at-rest",
            "secure-search",
            NotApplicable,
        ),
        ("es-domain-in-vpc", "legacy-logs", Unhealthy),
        (
            "es-domain-three-dedicated-master-nodes",
            "legacy-logs",
            Unhealthy,
        ),
        (
            "es-domain-three-dedicated-master-nodes",
            "open-search",
            NotApplicable,
        ),
        ("es-domain-latest-tls-policy", "filler-3", Unhealthy),
    ];
    for (recommendation, name, want) in expected {
        assert_eq!(
            status(&assessments, recommendation, name),
            want,
            "{recommendation} on {name}"
        );
    }
}

/// moto has no Redshift Serverless: the emulator answers `ListWorkgroups`
/// and `ListNamespaces` from recorded responses in the service's awsJson1.1
/// wire format (fields as the API reference documents them), so the real
/// SDK, collector and rules run end to end.
#[tokio::test]
async fn redshift_serverless_from_recorded_responses() {
    let moto = Moto::start_with_ssm_emulator();
    let json = "application/x-amz-json-1.1";
    let workgroups = json!({"workgroups": [
        {
            "workgroupName": "wg-locked", "workgroupId": "11111111-aaaa",
            "workgroupArn": "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/11111111-aaaa",
            "namespaceName": "ns-custom", "status": "AVAILABLE", "enhancedVpcRouting": true,
            "publiclyAccessible": false, "baseCapacity": 8,
            "configParameters": [{"parameterKey": "require_ssl", "parameterValue": "true"}]
        },
        {
            "workgroupName": "wg-open", "workgroupId": "22222222-bbbb",
            "workgroupArn": "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/22222222-bbbb",
            "namespaceName": "ns-default", "status": "AVAILABLE", "enhancedVpcRouting": false,
            "publiclyAccessible": true, "baseCapacity": 8,
            "configParameters": [{"parameterKey": "require_ssl", "parameterValue": "false"}]
        }
    ]});
    let namespaces = json!({"namespaces": [
        {
            "namespaceName": "ns-custom", "namespaceId": "33333333-cccc",
            "namespaceArn": "arn:aws:redshift-serverless:us-east-1:123456789012:namespace/33333333-cccc",
            "status": "AVAILABLE", "adminUsername": "warehouse_owner", "dbName": "sales",
            "logExports": ["userlog", "connectionlog", "useractivitylog"]
        },
        {
            "namespaceName": "ns-default", "namespaceId": "44444444-dddd",
            "namespaceArn": "arn:aws:redshift-serverless:us-east-1:123456789012:namespace/44444444-dddd",
            "status": "AVAILABLE", "adminUsername": "admin", "dbName": "dev", "logExports": []
        }
    ]});
    moto.record_response(
        "redshift-serverless",
        "ListWorkgroups",
        json,
        &workgroups.to_string(),
    );
    moto.record_response(
        "redshift-serverless",
        "ListNamespaces",
        json,
        &namespaces.to_string(),
    );

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(&access, &plan(&["redshift-serverless"]), &NoProgress).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    for (recommendation, name, expected) in [
        (
            "redshift-serverless-workgroup-enhanced-vpc-routing",
            "wg-locked",
            AssessmentStatus::Healthy,
        ),
        (
            "redshift-serverless-workgroup-enhanced-vpc-routing",
            "wg-open",
            AssessmentStatus::Unhealthy,
        ),
        (
            "redshift-serverless-workgroup-ssl-required",
            "wg-locked",
            AssessmentStatus::Healthy,
        ),
        (
            "redshift-serverless-workgroup-ssl-required",
            "wg-open",
            AssessmentStatus::Unhealthy,
        ),
        (
            "redshift-serverless-workgroup-not-publicly-accessible",
            "wg-locked",
            AssessmentStatus::Healthy,
        ),
        (
            "redshift-serverless-workgroup-not-publicly-accessible",
            "wg-open",
            AssessmentStatus::Unhealthy,
        ),
        (
            "redshift-serverless-namespace-custom-admin-username",
            "ns-custom",
            AssessmentStatus::Healthy,
        ),
        (
            "redshift-serverless-namespace-custom-admin-username",
            "ns-default",
            AssessmentStatus::Unhealthy,
        ),
        (
            "redshift-serverless-namespace-logs-exported",
            "ns-custom",
            AssessmentStatus::Healthy,
        ),
        (
            "redshift-serverless-namespace-logs-exported",
            "ns-default",
            AssessmentStatus::Unhealthy,
        ),
        (
            "redshift-serverless-namespace-custom-database-name",
            "ns-custom",
            AssessmentStatus::Healthy,
        ),
        (
            "redshift-serverless-namespace-custom-database-name",
            "ns-default",
            AssessmentStatus::Unhealthy,
        ),
    ] {
        assert_eq!(
            status(&assessments, recommendation, name),
            expected,
            "{recommendation} on {name}"
        );
    }
}
