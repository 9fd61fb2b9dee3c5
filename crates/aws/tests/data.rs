//! The data-service collectors (ElastiCache, MemoryDB, DMS, MSK, FSx, EMR)
//! against moto; the collected assets are assessed by the catalog end to end.
//!
//! moto (5.2.5) gaps, covered by the collectors' unit tests and the
//! catalog fixtures instead: MSK Connect (`kafkaconnect`) is not modelled,
//! and EMR has no `ListSecurityConfigurations`, so security configurations
//! are never described. DMS replication instance and task responses carry
//! ISO timestamps where the SDK expects epoch seconds, so they are a gap
//! here (asserted); so are MSK clusters, whose `creationTime` moto writes
//! without a UTC offset. Replication group members are not listed as cache
//! clusters by moto; the test creates the member cluster itself, as AWS
//! lists it. DMS, MSK clusters and EMR security configurations are covered
//! end to end from recorded responses in `recorded_compute_data.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{REGION, settings, status};

use std::collections::BTreeSet;

use aws_sdk_databasemigration::types::{
    AuthTypeValue, DmsSslModeValue, MongoDbSettings, NeptuneSettings, RedisSettings,
    ReplicationEndpointTypeValue, SslSecurityProtocolValue,
};
use aws_sdk_emr::types::{BlockPublicAccessConfiguration, JobFlowInstancesConfig, PortRange};
use aws_sdk_fsx::types::{
    CreateFileSystemLustreConfiguration, CreateFileSystemOntapConfiguration,
    CreateFileSystemOpenZfsConfiguration, CreateFileSystemWindowsConfiguration, FileSystemType,
    LustreDeploymentType, OntapDeploymentType, OpenZfsDeploymentType, WindowsDeploymentType,
};
use aws_sdk_kafka::types::{
    BrokerNodeGroupInfo, ClientAuthentication, ConnectivityInfo, EncryptionInTransit,
    EncryptionInfo, EnhancedMonitoring, Iam, ProvisionedRequest, PublicAccess, Sasl,
    ServerlessClientAuthentication, ServerlessRequest, ServerlessSasl, Unauthenticated, VpcConfig,
};
use rampart_aws::{AwsAccess, NoProgress, ScanPlan, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::AssessmentStatus;
use rampart_testkit::Moto;

const SERVICES: &[&str] = &[
    "elasticache",
    "memorydb",
    "dms",
    "kafka",
    "fsx",
    "elasticmapreduce",
];

fn plan() -> ScanPlan {
    // The EC2 collector supplies the subnets EMR.1 reads.
    common::plan(&[REGION], &[SERVICES, &["ec2"]].concat())
}

async fn subnets(ec2: &aws_sdk_ec2::Client) -> (String, String) {
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.77.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let mut ids = Vec::new();
    for (cidr, zone, public) in [
        ("10.77.1.0/24", "us-east-1a", false),
        ("10.77.2.0/24", "us-east-1b", true),
    ] {
        let id = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .unwrap()
            .subnet
            .unwrap()
            .subnet_id
            .unwrap();
        ec2.modify_subnet_attribute()
            .subnet_id(&id)
            .map_public_ip_on_launch(
                aws_sdk_ec2::types::AttributeBooleanValue::builder()
                    .value(public)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ids.push(id);
    }
    (ids.remove(0), ids.remove(0))
}

async fn elasticache(setup: &AwsAccess, private: &str) {
    let ec = setup.elasticache(REGION);
    ec.create_cache_subnet_group()
        .cache_subnet_group_name("app-private")
        .cache_subnet_group_description("rampart test")
        .subnet_ids(private)
        .send()
        .await
        .unwrap();
    for (id, engine, retention, minor, group) in [
        ("sessions", "redis", 3, true, "app-private"),
        ("legacy", "redis", 0, false, "default"),
        ("memo", "memcached", 0, false, "app-private"),
    ] {
        ec.create_cache_cluster()
            .cache_cluster_id(id)
            .engine(engine)
            .cache_node_type("cache.t3.micro")
            .num_cache_nodes(1)
            .snapshot_retention_limit(retention)
            .auto_minor_version_upgrade(minor)
            .cache_subnet_group_name(group)
            .send()
            .await
            .unwrap();
    }
    ec.create_replication_group()
        .replication_group_id("orders")
        .replication_group_description("rampart test")
        .engine("redis")
        .engine_version("5.0.6")
        .automatic_failover_enabled(true)
        .at_rest_encryption_enabled(true)
        .transit_encryption_enabled(true)
        .auth_token("a-long-enough-auth-token-0123456789")
        .snapshot_retention_limit(5)
        .send()
        .await
        .unwrap();
    ec.create_replication_group()
        .replication_group_id("plain")
        .replication_group_description("rampart test")
        .engine("redis")
        .engine_version("5.0.6")
        .automatic_failover_enabled(false)
        .send()
        .await
        .unwrap();
    // The member clusters, as AWS lists them (moto does not).
    for (id, group) in [("orders-001", "orders"), ("plain-001", "plain")] {
        ec.create_cache_cluster()
            .cache_cluster_id(id)
            .replication_group_id(group)
            .engine("redis")
            .engine_version("5.0.6")
            .cache_node_type("cache.t3.micro")
            .num_cache_nodes(1)
            .snapshot_retention_limit(0)
            .cache_subnet_group_name("app-private")
            .send()
            .await
            .unwrap();
    }
}

/// Three MemoryDB clusters: `mdb-strict` (TLS, customer managed key, 7
/// days of snapshots, automatic minor upgrades, an ACL of users),
/// `mdb-open` (no TLS, so moto — as AWS requires — gives it the
/// `open-access` ACL; no snapshots, no automatic upgrades, AWS owned key)
/// and `mdb-look-alike`, whose ACL only starts with `open-access`.
async fn memorydb(setup: &AwsAccess) {
    let mdb = setup.memorydb(REGION);
    mdb.create_cluster()
        .cluster_name("mdb-strict")
        .node_type("db.t4g.small")
        .acl_name("app-users")
        .tls_enabled(true)
        .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        .snapshot_retention_limit(7)
        .auto_minor_version_upgrade(true)
        .send()
        .await
        .unwrap();
    mdb.create_cluster()
        .cluster_name("mdb-open")
        .node_type("db.t4g.small")
        .acl_name("open-access")
        .tls_enabled(false)
        .snapshot_retention_limit(0)
        .auto_minor_version_upgrade(false)
        .send()
        .await
        .unwrap();
    mdb.create_cluster()
        .cluster_name("mdb-look-alike")
        .node_type("db.t4g.small")
        .acl_name("open-access-admins")
        .tls_enabled(true)
        .snapshot_retention_limit(1)
        .send()
        .await
        .unwrap();
}

async fn dms(setup: &AwsAccess) {
    let dms = setup.dms(REGION);
    // moto writes `InstanceCreateTime` as ISO text where the JSON protocol
    // has epoch seconds, so no replication instance (nor task) response
    // parses: the instance is created, its response is not read, and the
    // scan must record DescribeReplicationInstances as a gap.
    let created = dms
        .create_replication_instance()
        .replication_instance_identifier("public-ri")
        .replication_instance_class("dms.t3.medium")
        .publicly_accessible(true)
        .send()
        .await;
    assert!(
        created.is_err(),
        "moto now answers in the SDK's format: assess the instances"
    );
    let endpoint = |id: &str, kind: ReplicationEndpointTypeValue, engine: &str| {
        dms.create_endpoint()
            .endpoint_identifier(id)
            .endpoint_type(kind)
            .engine_name(engine)
            .server_name("db.example.internal")
            .port(5432)
            .username("migrator")
            .password("password123")
            .database_name("orders")
    };
    endpoint(
        "pg-source",
        ReplicationEndpointTypeValue::Source,
        "postgres",
    )
    .ssl_mode(DmsSslModeValue::None)
    .send()
    .await
    .unwrap();
    endpoint(
        "pg-target",
        ReplicationEndpointTypeValue::Target,
        "postgres",
    )
    .ssl_mode(DmsSslModeValue::Require)
    .send()
    .await
    .unwrap();
    endpoint(
        "mongo-open",
        ReplicationEndpointTypeValue::Source,
        "mongodb",
    )
    .mongo_db_settings(
        MongoDbSettings::builder()
            .auth_type(AuthTypeValue::No)
            .build(),
    )
    .send()
    .await
    .unwrap();
    endpoint("redis-plain", ReplicationEndpointTypeValue::Target, "redis")
        .redis_settings(
            RedisSettings::builder()
                .server_name("cache.example.internal")
                .port(6379)
                .ssl_security_protocol(SslSecurityProtocolValue::Plaintext)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    endpoint("graph", ReplicationEndpointTypeValue::Target, "neptune")
        .neptune_settings(
            NeptuneSettings::builder()
                .s3_bucket_name("staging")
                .s3_bucket_folder("neptune")
                .iam_auth_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn msk(setup: &AwsAccess, private: &str, public: &str) {
    let kafka = setup.kafka(REGION);
    let provisioned = |in_cluster: bool, monitoring, access: &str, unauth: bool| {
        ProvisionedRequest::builder()
            .kafka_version("3.6.0")
            .number_of_broker_nodes(2)
            .broker_node_group_info(
                BrokerNodeGroupInfo::builder()
                    .instance_type("kafka.m5.large")
                    .client_subnets(private)
                    .client_subnets(public)
                    .connectivity_info(
                        ConnectivityInfo::builder()
                            .public_access(PublicAccess::builder().r#type(access).build())
                            .build(),
                    )
                    .build(),
            )
            .encryption_info(
                EncryptionInfo::builder()
                    .encryption_in_transit(
                        EncryptionInTransit::builder()
                            .in_cluster(in_cluster)
                            .build(),
                    )
                    .build(),
            )
            .enhanced_monitoring(monitoring)
            .client_authentication(
                ClientAuthentication::builder()
                    .sasl(
                        Sasl::builder()
                            .iam(Iam::builder().enabled(!unauth).build())
                            .build(),
                    )
                    .unauthenticated(Unauthenticated::builder().enabled(unauth).build())
                    .build(),
            )
            .build()
    };
    kafka
        .create_cluster_v2()
        .cluster_name("events")
        .provisioned(provisioned(
            true,
            EnhancedMonitoring::PerBroker,
            "DISABLED",
            false,
        ))
        .send()
        .await
        .unwrap();
    kafka
        .create_cluster_v2()
        .cluster_name("open-events")
        .provisioned(provisioned(
            false,
            EnhancedMonitoring::Default,
            "SERVICE_PROVIDED_EIPS",
            true,
        ))
        .send()
        .await
        .unwrap();
    kafka
        .create_cluster_v2()
        .cluster_name("stream")
        .serverless(
            ServerlessRequest::builder()
                .vpc_configs(VpcConfig::builder().subnet_ids(private).build())
                .client_authentication(
                    ServerlessClientAuthentication::builder()
                        .sasl(
                            ServerlessSasl::builder()
                                .iam(Iam::builder().enabled(true).build())
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn fsx(setup: &AwsAccess, private: &str, public: &str) {
    let fsx = setup.fsx(REGION);
    let create = |kind: FileSystemType, name: &str| {
        fsx.create_file_system()
            .file_system_type(kind)
            .storage_capacity(1200)
            .subnet_ids(private)
            .subnet_ids(public)
            .tags(
                aws_sdk_fsx::types::Tag::builder()
                    .key("Name")
                    .value(name)
                    .build(),
            )
    };
    create(FileSystemType::Openzfs, "zfs-single")
        .open_zfs_configuration(
            CreateFileSystemOpenZfsConfiguration::builder()
                .deployment_type(OpenZfsDeploymentType::SingleAz2)
                .throughput_capacity(160)
                .copy_tags_to_backups(true)
                .copy_tags_to_volumes(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    create(FileSystemType::Lustre, "lustre-tags")
        .lustre_configuration(
            CreateFileSystemLustreConfiguration::builder()
                .deployment_type(LustreDeploymentType::Persistent2)
                .per_unit_storage_throughput(125)
                .copy_tags_to_backups(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    create(FileSystemType::Ontap, "ontap-ha")
        .ontap_configuration(
            CreateFileSystemOntapConfiguration::builder()
                .deployment_type(OntapDeploymentType::MultiAz1)
                .throughput_capacity(512)
                .preferred_subnet_id(private)
                .build(),
        )
        .send()
        .await
        .unwrap();
    create(FileSystemType::Windows, "windows-single")
        .windows_configuration(
            CreateFileSystemWindowsConfiguration::builder()
                .deployment_type(WindowsDeploymentType::SingleAz2)
                .throughput_capacity(32)
                .active_directory_id("d-1234567890")
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn emr(setup: &AwsAccess, private: &str, public: &str) {
    let emr = setup.emr(REGION);
    emr.put_block_public_access_configuration()
        .block_public_access_configuration(
            BlockPublicAccessConfiguration::builder()
                .block_public_security_group_rules(true)
                .permitted_public_security_group_rule_ranges(
                    PortRange::builder().min_range(22).max_range(22).build(),
                )
                .permitted_public_security_group_rule_ranges(
                    PortRange::builder().min_range(8443).max_range(8443).build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (name, subnet) in [("etl-private", private), ("etl-public", public)] {
        emr.run_job_flow()
            .name(name)
            .release_label("emr-7.1.0")
            .job_flow_role("EMR_EC2_DefaultRole")
            .service_role("EMR_DefaultRole")
            .instances(
                JobFlowInstancesConfig::builder()
                    .ec2_subnet_id(subnet)
                    .instance_count(1)
                    .master_instance_type("m5.xlarge")
                    .keep_job_flow_alive_when_no_steps(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_services_are_collected_and_assessed() {
    let moto = Moto::start();
    // Set-up calls go through their own access, so the scan's call counts
    // hold only the collectors' calls.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let (private, public) = subnets(&setup.ec2(REGION)).await;
    elasticache(&setup, &private).await;
    memorydb(&setup).await;
    dms(&setup).await;
    msk(&setup, &private, &public).await;
    fsx(&setup, &private, &public).await;
    emr(&setup, &private, &public).await;

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(&access, &plan(), &NoProgress).await;

    // The only gaps of these collectors are the APIs moto lacks.
    let gaps: BTreeSet<(&str, &str)> = result
        .gaps
        .iter()
        .filter(|g| SERVICES.contains(&g.service.as_str()))
        .map(|g| (g.service.as_str(), g.operation.as_str()))
        .collect();
    assert_eq!(
        gaps,
        BTreeSet::from([
            ("kafka", "ListConnectors"),
            ("elasticmapreduce", "ListSecurityConfigurations"),
            ("dms", "DescribeReplicationInstances"),
            ("kafka", "ListClustersV2"),
        ]),
        "{:#?}",
        result.gaps
    );

    // Only declared calls.
    common::assert_only_declared_calls(&access);

    let find = |name: &str| {
        result
            .assets
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no asset `{name}`"))
    };
    assert_eq!(find("orders").properties["engineVersion"], "5.0.6");
    assert_eq!(find("mdb-open").properties["aclName"], "open-access");
    assert_eq!(find("mdb-strict").properties["snapshotRetentionLimit"], 7);
    assert_eq!(find("zfs-single").properties["copyTagsToVolumes"], false);
    assert_eq!(find("etl-public").properties["subnetId"], public.as_str());

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    use AssessmentStatus::{Healthy, NotApplicable, Unhealthy};
    let bpa = format!("EMR block public access ({REGION})");
    let expected = [
        // ElastiCache
        (
            "elasticache-redis-cluster-automatic-backups",
            "sessions",
            Healthy,
        ),
        (
            "elasticache-redis-cluster-automatic-backups",
            "legacy",
            Unhealthy,
        ),
        (
            "elasticache-redis-cluster-automatic-backups",
            "memo",
            NotApplicable,
        ),
        // A member with no retention of its own, backed up by its group.
        (
            "elasticache-redis-cluster-automatic-backups",
            "orders-001",
            Healthy,
        ),
        (
            "elasticache-redis-cluster-automatic-backups",
            "plain-001",
            Unhealthy,
        ),
        (
            "elasticache-redis-cluster-auto-minor-version-upgrade",
            "sessions",
            Healthy,
        ),
        (
            "elasticache-redis-cluster-auto-minor-version-upgrade",
            "legacy",
            Unhealthy,
        ),
        (
            "elasticache-replication-group-automatic-failover",
            "orders",
            Healthy,
        ),
        (
            "elasticache-replication-group-automatic-failover",
            "plain",
            Unhealthy,
        ),
        (
            "elasticache-replication-group-encrypted-at-rest",
            "orders",
            Healthy,
        ),
        (
            "elasticache-replication-group-encrypted-at-rest",
            "plain",
            Unhealthy,
        ),
        (
            "elasticache-replication-group-encrypted-in-transit",
            "orders",
            Healthy,
        ),
        (
            "elasticache-replication-group-encrypted-in-transit",
            "plain",
            Unhealthy,
        ),
        (
            "elasticache-replication-group-redis-auth",
            "orders",
            Healthy,
        ),
        (
            "elasticache-replication-group-redis-auth",
            "plain",
            Unhealthy,
        ),
        (
            "elasticache-cluster-no-default-subnet-group",
            "sessions",
            Healthy,
        ),
        (
            "elasticache-cluster-no-default-subnet-group",
            "legacy",
            Unhealthy,
        ),
        // MemoryDB
        ("memorydb-cluster-tls-enabled", "mdb-strict", Healthy),
        ("memorydb-cluster-tls-enabled", "mdb-open", Unhealthy),
        ("memorydb-cluster-encrypted-with-cmk", "mdb-strict", Healthy),
        ("memorydb-cluster-encrypted-with-cmk", "mdb-open", Unhealthy),
        (
            "memorydb-cluster-automatic-snapshots",
            "mdb-strict",
            Healthy,
        ),
        (
            "memorydb-cluster-automatic-snapshots",
            "mdb-look-alike",
            Healthy,
        ),
        (
            "memorydb-cluster-automatic-snapshots",
            "mdb-open",
            Unhealthy,
        ),
        (
            "memorydb-cluster-auto-minor-version-upgrade",
            "mdb-strict",
            Healthy,
        ),
        (
            "memorydb-cluster-auto-minor-version-upgrade",
            "mdb-open",
            Unhealthy,
        ),
        ("memorydb-cluster-no-open-access-acl", "mdb-strict", Healthy),
        (
            "memorydb-cluster-no-open-access-acl",
            "mdb-look-alike",
            Healthy,
        ),
        ("memorydb-cluster-no-open-access-acl", "mdb-open", Unhealthy),
        // DMS
        ("dms-endpoint-ssl", "pg-target", Healthy),
        ("dms-endpoint-ssl", "pg-source", Unhealthy),
        ("dms-endpoint-ssl", "graph", NotApplicable),
        ("dms-neptune-endpoint-iam-authorization", "graph", Healthy),
        (
            "dms-neptune-endpoint-iam-authorization",
            "pg-source",
            NotApplicable,
        ),
        (
            "dms-mongodb-endpoint-authentication",
            "mongo-open",
            Unhealthy,
        ),
        (
            "dms-mongodb-endpoint-authentication",
            "pg-source",
            NotApplicable,
        ),
        ("dms-redis-endpoint-tls", "redis-plain", Unhealthy),
        ("dms-redis-endpoint-tls", "pg-source", NotApplicable),
        // FSx
        ("fsx-openzfs-copy-tags", "zfs-single", Unhealthy),
        ("fsx-openzfs-copy-tags", "lustre-tags", NotApplicable),
        ("fsx-lustre-copy-tags-to-backups", "lustre-tags", Healthy),
        ("fsx-openzfs-multi-az", "zfs-single", Unhealthy),
        ("fsx-ontap-multi-az", "ontap-ha", Healthy),
        ("fsx-windows-multi-az", "windows-single", Unhealthy),
        ("fsx-windows-multi-az", "ontap-ha", NotApplicable),
        // EMR
        (
            "emr-cluster-primary-node-no-public-ip",
            "etl-private",
            Healthy,
        ),
        (
            "emr-cluster-primary-node-no-public-ip",
            "etl-public",
            Unhealthy,
        ),
        ("emr-block-public-access", bpa.as_str(), Unhealthy),
    ];
    let mut failures = Vec::new();
    for (recommendation, name, want) in expected {
        let got = status(&assessments, recommendation, name);
        if got != want {
            let reason = assessments
                .iter()
                .find(|a| a.recommendation == recommendation && a.resource_name == name)
                .map(|a| a.reason.clone())
                .unwrap_or_default();
            failures.push(format!(
                "{recommendation} on {name}: {got:?}, want {want:?} ({reason})"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
