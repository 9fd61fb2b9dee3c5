//! Systems Manager against moto plus the SSM emulator
//! (`scripts/moto-ssm.py`, `Moto::start_with_ssm_emulator`): the emulator's
//! replies parse in the Rust SDK (its wire shapes, errors and paging), and
//! the SSM collector reads managed instances, patch states, compliance and
//! software inventory from it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::sync::OnceLock;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ssm::types::{
    AssociationFilter, AssociationFilterKey, ComplianceQueryOperatorType, ComplianceStringFilter,
    InstanceInformationStringFilter, PingStatus, Target,
};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_testkit::Moto;
use rampart_testkit::ssm::online_instance;
use serde_json::json;
use tokio::sync::Mutex;

fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        home_region: Some("us-east-1".to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        ..AwsSettings::default()
    }
}

/// One moto + emulator for the whole binary; tests take the lock and reset.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start_with_ssm_emulator)
}

static SERIAL: Mutex<()> = Mutex::const_new(());

async fn ssm(region: &str) -> aws_sdk_ssm::Client {
    let access = AwsAccess::load(&settings(&moto().url())).await.unwrap();
    access.ssm(region)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_speaks_the_sdk_wire_shapes() {
    let _serial = SERIAL.lock().await;
    let moto = moto();
    moto.reset();
    let ids: Vec<String> = (0..7).map(|n| format!("i-0000000000000000{n}")).collect();
    let instances: Vec<_> = ids
        .iter()
        .map(|id| online_instance(id, "3.3.0.0"))
        .collect();
    moto.ssm_register("eu-west-1", &instances);
    moto.ssm_patch_states(
        "eu-west-1",
        &[json!({
            "InstanceId": ids[0], "PatchGroup": "web", "BaselineId": "pb-0123456789abcdef0",
            "OperationStartTime": 1_767_225_600.0, "OperationEndTime": 1_767_225_700.0,
            "Operation": "Scan", "InstalledCount": 12, "MissingCount": 3,
            "CriticalNonCompliantCount": 1,
        })],
    );
    moto.ssm_compliance(
        "eu-west-1",
        &[
            json!({"ComplianceType": "Patch", "ResourceType": "ManagedInstance",
                   "ResourceId": ids[0], "Status": "NON_COMPLIANT", "OverallSeverity": "CRITICAL",
                   "NonCompliantSummary": {"NonCompliantCount": 3,
                       "SeveritySummary": {"CriticalCount": 1, "HighCount": 2}}}),
            json!({"ComplianceType": "Association", "ResourceType": "ManagedInstance",
                   "ResourceId": ids[0], "Status": "COMPLIANT", "OverallSeverity": "UNSPECIFIED",
                   "ExecutionSummary": {"ExecutionTime": 1_767_225_600.0}}),
        ],
    );
    moto.ssm_inventory(
        "eu-west-1",
        &ids[0],
        "AWS:Application",
        &[
            json!({"Name": "openssl", "Version": "3.0.8", "Publisher": "Amazon Linux", "Architecture": "x86_64"}),
            json!({"Name": "bash", "Version": "5.2.15", "Architecture": "x86_64"}),
        ],
    );

    let client = ssm("eu-west-1").await;
    // Paging: 7 instances at 5 a page.
    let pages: Vec<_> = client
        .describe_instance_information()
        .into_paginator()
        .page_size(5)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    let all: Vec<_> = pages
        .iter()
        .flat_map(|p| p.instance_information_list())
        .collect();
    assert_eq!(all.len(), 7);
    assert_eq!(all[0].ping_status(), Some(&PingStatus::Online));
    assert_eq!(all[0].agent_version(), Some("3.3.0.0"));
    assert!(all[0].last_ping_date_time().is_some());
    let filtered = client
        .describe_instance_information()
        .filters(
            InstanceInformationStringFilter::builder()
                .key("InstanceIds")
                .values(&ids[3])
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.instance_information_list().len(), 1);
    // Another region has its own (empty) state.
    let other = ssm("us-east-1")
        .await
        .describe_instance_information()
        .send()
        .await
        .unwrap();
    assert!(other.instance_information_list().is_empty());

    let states = client
        .describe_instance_patch_states()
        .instance_ids(&ids[0])
        .instance_ids(&ids[1])
        .send()
        .await
        .unwrap();
    let states = states.instance_patch_states();
    assert_eq!(states.len(), 1, "only instances with a patch state");
    assert_eq!(states[0].missing_count(), 3);
    assert_eq!(states[0].critical_non_compliant_count(), Some(1));

    let summaries = client
        .list_resource_compliance_summaries()
        .filters(
            ComplianceStringFilter::builder()
                .key("ComplianceType")
                .values("Patch")
                .r#type(ComplianceQueryOperatorType::Equal)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let items = summaries.resource_compliance_summary_items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].status().map(|s| s.as_str()), Some("NON_COMPLIANT"));
    assert_eq!(
        items[0]
            .non_compliant_summary()
            .and_then(|s| s.severity_summary())
            .map(|s| s.high_count()),
        Some(2)
    );

    let entries = client
        .list_inventory_entries()
        .instance_id(&ids[0])
        .type_name("AWS:Application")
        .send()
        .await
        .unwrap();
    assert_eq!(entries.entries().len(), 2);
    assert_eq!(entries.entries()[0]["Name"], "openssl");
    assert_eq!(entries.capture_time(), Some("2026-01-01T00:00:00Z"));
    // A managed instance without inventory: no entries, no error.
    let none = client
        .list_inventory_entries()
        .instance_id(&ids[1])
        .type_name("AWS:Application")
        .send()
        .await
        .unwrap();
    assert!(none.entries().is_empty());
    // Not a managed instance: the real error code.
    let err = client
        .list_inventory_entries()
        .instance_id("i-0fffffffffffffff0")
        .type_name("AWS:Application")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_instance_id());

    let inventory = client
        .get_inventory()
        .result_attributes(
            aws_sdk_ssm::types::ResultAttribute::builder()
                .type_name("AWS:Application")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let entities = inventory.entities();
    assert_eq!(entities.len(), 1);
    assert_eq!(entities[0].id(), Some(ids[0].as_str()));
    let data = entities[0].data().unwrap();
    assert_eq!(data["AWS:Application"].content().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_keeps_associations() {
    let _serial = SERIAL.lock().await;
    let moto = moto();
    moto.reset();
    let client = ssm("us-east-1").await;
    let created = client
        .create_association()
        .name("AWS-GatherSoftwareInventory")
        .association_name("rampart-inventory")
        .targets(Target::builder().key("InstanceIds").values("*").build())
        .schedule_expression("rate(30 minutes)")
        .send()
        .await
        .unwrap();
    let desc = created.association_description().unwrap();
    let id = desc.association_id().unwrap().to_owned();
    assert_eq!(desc.association_version(), Some("1"));
    assert_eq!(desc.name(), Some("AWS-GatherSoftwareInventory"));

    let listed = client
        .list_associations()
        .association_filter_list(
            AssociationFilter::builder()
                .key(AssociationFilterKey::AssociationName)
                .value("rampart-inventory")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(listed.associations().len(), 1);
    assert_eq!(listed.associations()[0].association_id(), Some(id.as_str()));

    let updated = client
        .update_association()
        .association_id(&id)
        .schedule_expression("rate(1 day)")
        .send()
        .await
        .unwrap();
    let updated = updated.association_description().unwrap();
    assert_eq!(updated.association_version(), Some("2"));
    assert_eq!(updated.schedule_expression(), Some("rate(1 day)"));

    let bad = client
        .create_association()
        .name("no-such-document")
        .instance_id("i-00000000000000001")
        .send()
        .await
        .unwrap_err();
    assert!(bad.into_service_error().is_invalid_document());

    let state = moto.ssm_state();
    assert_eq!(state[0]["associations"][0]["AssociationId"], id.as_str());

    client
        .delete_association()
        .association_id(&id)
        .send()
        .await
        .unwrap();
    let gone = client
        .describe_association()
        .association_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(gone.into_service_error().is_association_does_not_exist());

    // Everything else is still moto's.
    client
        .put_parameter()
        .name("/rampart/test")
        .value("x")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
}

fn plan(regions: &[&str]) -> rampart_aws::ScanPlan {
    rampart_aws::ScanPlan {
        account: "123456789012".to_owned(),
        home_region: "us-east-1".to_owned(),
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        disabled_regions: vec![],
        services: Some(vec!["ec2".to_owned(), "iam".to_owned(), "ssm".to_owned()]),
        concurrency: 8,
    }
}

/// Launches one instance, with `profile` (an instance profile name) if given.
async fn launch(access: &AwsAccess, profile: Option<&str>) -> String {
    let ec2 = access.ec2("us-east-1");
    let mut run = ec2
        .run_instances()
        .image_id("ami-0a3c14e1ddbe7f23c")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1);
    if let Some(name) = profile {
        run = run.iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name(name)
                .build(),
        );
    }
    let out = run.send().await.unwrap();
    out.instances()[0].instance_id().unwrap().to_owned()
}

/// A role with `policy_arn` attached, in an instance profile of the same name.
async fn profile(access: &AwsAccess, name: &str, policy_arn: &str) {
    let iam = access.iam("us-east-1");
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(policy_arn)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name(name)
        .role_name(name)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collector_reads_patch_compliance_inventory_and_region_status() {
    let _serial = SERIAL.lock().await;
    let moto = moto();
    moto.reset();
    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    profile(
        &access,
        "ssm-core",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    )
    .await;
    profile(
        &access,
        "read-only",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    .await;
    let managed = launch(&access, Some("ssm-core")).await;
    let lost = launch(&access, Some("ssm-core")).await;
    let bare = launch(&access, None).await;
    let wrong_role = launch(&access, Some("read-only")).await;

    let mut lost_info = online_instance(&lost, "3.2.582.0");
    lost_info["PingStatus"] = json!("ConnectionLost");
    moto.ssm_register(
        "us-east-1",
        &[online_instance(&managed, "3.3.1611.0"), lost_info],
    );
    moto.ssm_patch_states(
        "us-east-1",
        &[json!({
            "InstanceId": managed, "PatchGroup": "", "BaselineId": "pb-0123456789abcdef0",
            "OperationStartTime": 1_767_225_600.0, "OperationEndTime": 1_767_225_700.0,
            "Operation": "Scan", "InstalledCount": 400, "MissingCount": 12, "FailedCount": 0,
            "NotApplicableCount": 1000, "CriticalNonCompliantCount": 2,
        })],
    );
    moto.ssm_compliance(
        "us-east-1",
        &[
            json!({"ComplianceType": "Patch", "ResourceType": "ManagedInstance", "ResourceId": managed,
                   "Status": "NON_COMPLIANT", "OverallSeverity": "CRITICAL",
                   "NonCompliantSummary": {"NonCompliantCount": 12, "SeveritySummary": {"CriticalCount": 2}}}),
            json!({"ComplianceType": "Association", "ResourceType": "ManagedInstance", "ResourceId": managed,
                   "Status": "COMPLIANT", "OverallSeverity": "UNSPECIFIED",
                   "CompliantSummary": {"CompliantCount": 1}}),
            json!({"ComplianceType": "Custom:Other", "ResourceType": "ManagedInstance", "ResourceId": managed,
                   "Status": "NON_COMPLIANT", "OverallSeverity": "LOW"}),
        ],
    );
    moto.ssm_inventory(
        "us-east-1",
        &managed,
        "AWS:InstanceInformation",
        &[
            json!({"AgentType": "amazon-ssm-agent", "AgentVersion": "3.3.1611.0",
                 "PlatformName": "Amazon Linux", "PlatformVersion": "2023", "PlatformType": "Linux",
                 "InstanceId": managed}),
        ],
    );
    // 60 packages: two pages of ListInventoryEntries.
    let packages: Vec<_> = (0..60)
        .map(|n| {
            json!({"Name": format!("pkg{n:02}"), "Version": "1.0", "Release": "1.amzn2023",
                   "Epoch": "0", "Architecture": "x86_64", "Publisher": "Amazon Linux",
                   "PackageId": format!("pkg{n:02}-1.0-1.amzn2023.x86_64.rpm")})
        })
        .collect();
    moto.ssm_inventory("us-east-1", &managed, "AWS:Application", &packages);
    // An association, as auto-provisioning would create one.
    access
        .ssm("us-east-1")
        .create_association()
        .name("AWS-GatherSoftwareInventory")
        .association_name("rampart-inventory")
        .targets(Target::builder().key("InstanceIds").values("*").build())
        .send()
        .await
        .unwrap();

    let scan = rampart_aws::collect_account(
        &access,
        &plan(&["us-east-1", "eu-west-1"]),
        &rampart_aws::NoProgress,
    )
    .await;
    let ssm_gaps: Vec<_> = scan.gaps.iter().filter(|g| g.service == "ssm").collect();
    assert!(ssm_gaps.is_empty(), "{ssm_gaps:#?}");
    let of_type = |t: &str| -> Vec<&rampart_model::Asset> {
        scan.assets
            .iter()
            .filter(|a| a.resource_type == t)
            .collect()
    };

    // Region status: present in both regions, also with nothing managed.
    let regions = of_type(rampart_model::types::SSM_REGION);
    assert_eq!(regions.len(), 2);
    let east = regions.iter().find(|a| a.region == "us-east-1").unwrap();
    assert_eq!(east.properties["instanceInformationRead"], true);
    assert_eq!(east.properties["managedInstanceCount"], 2);
    assert_eq!(east.properties["onlineCount"], 1);
    assert_eq!(east.properties["newestAgentVersion"]["Linux"], "3.3.1611.0");
    assert_eq!(
        east.properties["associations"][0]["documentName"],
        "AWS-GatherSoftwareInventory"
    );
    let west = regions.iter().find(|a| a.region == "eu-west-1").unwrap();
    assert_eq!(west.properties["managedInstanceCount"], 0);

    let instances = of_type(rampart_model::types::SSM_MANAGED_INSTANCE);
    assert_eq!(instances.len(), 2);
    let m = instances
        .iter()
        .find(|a| a.name == managed)
        .unwrap()
        .properties
        .clone();
    assert_eq!(m["patchState"]["missingCount"], 12);
    assert_eq!(m["patchState"]["criticalNonCompliantCount"], 2);
    assert_eq!(m["compliance"]["patch"]["status"], "NON_COMPLIANT");
    assert_eq!(
        m["compliance"]["patch"]["nonCompliantSeverity"]["critical"],
        2
    );
    assert_eq!(m["compliance"]["association"]["status"], "COMPLIANT");
    assert_eq!(m["inventory"]["present"], true);
    assert_eq!(m["inventory"]["applicationCount"], 60);
    let l = instances
        .iter()
        .find(|a| a.name == lost)
        .unwrap()
        .properties
        .clone();
    assert_eq!(l["patchState"], serde_json::Value::Null);
    assert_eq!(l["compliance"]["patch"], serde_json::Value::Null);
    assert_eq!(l["inventory"]["present"], false);

    let inventories = of_type(rampart_model::types::SSM_INSTANCE_INVENTORY);
    assert_eq!(
        inventories.len(),
        1,
        "only the instance that reported inventory"
    );
    let inv = &inventories[0].properties;
    assert_eq!(inv["os"]["name"], "Amazon Linux");
    assert_eq!(inv["applications"].as_array().unwrap().len(), 60);
    let packages = rampart_model::ssm_inventory::installed_packages(inv);
    assert_eq!(packages.len(), 60);
    assert_eq!(packages[0].name, "pkg00");
    assert_eq!(packages[0].version, "1.0-1.amzn2023");
    assert_eq!(
        rampart_model::ssm_inventory::os_release(inv).unwrap().id,
        "amzn"
    );

    // The coverage summary over the collected snapshot.
    let coverage = rampart_catalog::servers::instance_coverage_of_assets(&scan.assets);
    let by_id = |id: &str| coverage.iter().find(|c| c.instance_id == id).unwrap();
    let c = by_id(&managed);
    assert!(c.covered, "{:?}", c.reasons);
    assert_eq!(c.profile_allows_ssm, Some(true));
    assert_eq!(c.patch_compliance.as_deref(), Some("NON_COMPLIANT"));
    assert_eq!(c.missing_patches, Some(12));
    assert_eq!(c.application_count, Some(60));
    let codes =
        |id: &str| -> Vec<String> { by_id(id).reasons.iter().map(|r| r.code.clone()).collect() };
    assert_eq!(codes(&lost), ["agent-not-online", "no-inventory"]);
    assert_eq!(codes(&bare), ["no-instance-profile", "not-managed"]);
    assert_eq!(codes(&wrong_role), ["profile-lacks-ssm", "not-managed"]);
}

/// SQL Server discovery over a scan of moto behind the SSM emulator: one
/// server found by its SSM inventory (with the version), one by the name of
/// the account's own image it runs, one RDS for SQL Server DB instance; a
/// plain instance and a PostgreSQL DB instance are not servers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_servers_are_discovered_from_inventory_images_and_rds() {
    let _serial = SERIAL.lock().await;
    let moto = moto();
    moto.reset();
    let region = "us-east-1";
    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let ec2 = access.ec2(region);
    let run = |image: &str| {
        ec2.run_instances()
            .image_id(image)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .send()
    };
    let first = run("ami-0a3c14e1ddbe7f23c").await.unwrap();
    let with_inventory = first.instances()[0].instance_id().unwrap().to_owned();
    let image = ec2
        .create_image()
        .instance_id(&with_inventory)
        .name("Windows_Server-2019-English-Full-SQL_2019_Standard-golden")
        .send()
        .await
        .unwrap();
    let image_id = image.image_id().unwrap().to_owned();
    let from_image = run(&image_id).await.unwrap().instances()[0]
        .instance_id()
        .unwrap()
        .to_owned();
    let plain = run("ami-0a3c14e1ddbe7f23c").await.unwrap().instances()[0]
        .instance_id()
        .unwrap()
        .to_owned();
    moto.ssm_register(region, &[online_instance(&with_inventory, "3.3.1611.0")]);
    moto.ssm_inventory(
        region,
        &with_inventory,
        "AWS:InstanceInformation",
        &[json!({"AgentType": "amazon-ssm-agent", "AgentVersion": "3.3.1611.0",
                 "PlatformName": "Microsoft Windows Server 2019 Datacenter", "PlatformVersion": "10.0.17763",
                 "PlatformType": "Windows", "InstanceId": with_inventory})],
    );
    moto.ssm_inventory(
        region,
        &with_inventory,
        "AWS:Application",
        &[
            json!({"Name": "SQL Server 2019 Database Engine Services", "Version": "15.0.4355.3",
                   "Publisher": "Microsoft Corporation"}),
            json!({"Name": "Microsoft SQL Server Management Studio - 19.1", "Version": "19.1.56.0",
                   "Publisher": "Microsoft Corporation"}),
        ],
    );
    let rds = access.rds(region);
    for (id, engine) in [("ledger", "sqlserver-se"), ("orders", "postgres")] {
        rds.create_db_instance()
            .db_instance_identifier(id)
            .engine(engine)
            .db_instance_class("db.m5.large")
            .allocated_storage(20)
            .master_username("admin")
            .master_user_password("not-a-real-password-1")
            .send()
            .await
            .unwrap();
    }

    let mut plan = plan(&[region]);
    plan.services = Some(vec!["ec2".to_owned(), "ssm".to_owned(), "rds".to_owned()]);
    let scan = rampart_aws::collect_account(&access, &plan, &rampart_aws::NoProgress).await;
    let servers: Vec<&rampart_model::Asset> = scan
        .assets
        .iter()
        .filter(|a| a.resource_type == rampart_model::types::SQL_SERVER_INSTANCE)
        .collect();
    let host = |s: &&rampart_model::Asset| s.properties["hostId"].as_str().unwrap().to_owned();
    let mut hosts: Vec<String> = servers.iter().map(host).collect();
    hosts.sort();
    let mut expected = vec![
        with_inventory.clone(),
        from_image.clone(),
        "ledger".to_owned(),
    ];
    expected.sort();
    assert_eq!(hosts, expected, "{servers:#?}");
    assert!(!hosts.contains(&plain));
    let by = |id: &str| servers.iter().find(|s| host(s) == id).unwrap();
    let inventoried = &by(&with_inventory).properties;
    assert_eq!(inventoried["signals"][0]["source"], "ssm-inventory");
    assert_eq!(inventoried["version"], "15.0.4355.3");
    assert_eq!(inventoried["product"], "SQL Server 2019");
    let imaged = &by(&from_image).properties;
    assert_eq!(imaged["signals"][0]["source"], "ami-name");
    assert_eq!(imaged["edition"], "Standard");
    assert_eq!(imaged["product"], "SQL Server 2019");
    let ledger = &by("ledger").properties;
    assert_eq!(ledger["hostType"], "rds");
    assert_eq!(ledger["edition"], "Standard");
    assert_eq!(
        ledger["hostArn"],
        format!("arn:aws:rds:{region}:123456789012:db:ledger")
    );

    // A scan narrowed to fewer than EC2, SSM and RDS derives nothing.
    plan.services = Some(vec!["ec2".to_owned(), "ssm".to_owned()]);
    let narrowed = rampart_aws::collect_account(&access, &plan, &rampart_aws::NoProgress).await;
    assert!(
        narrowed
            .assets
            .iter()
            .all(|a| a.resource_type != rampart_model::types::SQL_SERVER_INSTANCE)
    );
}

/// The service settings through the emulator: an unchanged setting answers
/// its AWS default (public sharing allowed, no Automation logging), which
/// the catalog finds unhealthy; after `UpdateServiceSetting` both are
/// healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_settings_are_read_and_assessed() {
    use rampart_model::AssessmentStatus::{Healthy, Unhealthy};

    let _serial = SERIAL.lock().await;
    let moto = moto();
    moto.reset();
    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let catalog = rampart_catalog::Catalog::builtin().unwrap();
    let scan_plan = rampart_aws::ScanPlan {
        services: Some(vec!["ssm".to_owned()]),
        ..plan(&["eu-west-1"])
    };
    let assess = |assets: &[rampart_model::Asset]| {
        let settings = assets
            .iter()
            .find(|a| a.resource_type == "Rampart::SSM::ServiceSettings")
            .expect("a service settings asset")
            .clone();
        let assessed =
            rampart_catalog::evaluate::evaluate(&catalog, std::slice::from_ref(&settings));
        let status = |rec: &str| {
            assessed
                .iter()
                .find(|a| a.recommendation == rec)
                .map(|a| a.status)
                .unwrap()
        };
        (
            settings,
            status("ssm-document-public-sharing-blocked"),
            status("ssm-automation-logging-enabled"),
        )
    };

    let scan = rampart_aws::collect_account(&access, &scan_plan, &rampart_aws::NoProgress).await;
    assert!(
        !scan.gaps.iter().any(|g| g.operation == "GetServiceSetting"),
        "{:#?}",
        scan.gaps
    );
    let (asset, sharing, logging) = assess(&scan.assets);
    assert_eq!(
        asset.properties["documentPublicSharingPermission"]["settingValue"],
        "Enable"
    );
    assert_eq!(
        asset.properties["documentPublicSharingPermission"]["status"],
        "Default"
    );
    assert_eq!(
        asset.properties["automationLogDestination"]["settingValue"],
        ""
    );
    assert_eq!((sharing, logging), (Unhealthy, Unhealthy));

    let client = access.ssm("eu-west-1");
    for (id, value) in [
        (
            "/ssm/documents/console/public-sharing-permission",
            "Disable",
        ),
        (
            "/ssm/automation/customer-script-log-destination",
            "CloudWatch",
        ),
    ] {
        client
            .update_service_setting()
            .setting_id(id)
            .setting_value(value)
            .send()
            .await
            .unwrap();
    }
    let unknown = client
        .get_service_setting()
        .setting_id("/ssm/no/such/setting")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        unknown.as_service_error().and_then(|e| e.meta().code()),
        Some("ServiceSettingNotFound")
    );

    let scan = rampart_aws::collect_account(&access, &scan_plan, &rampart_aws::NoProgress).await;
    let (asset, sharing, logging) = assess(&scan.assets);
    assert_eq!(
        asset.properties["documentPublicSharingPermission"]["status"],
        "Customized"
    );
    assert_eq!((sharing, logging), (Healthy, Healthy));
}
