//! The agentless step against one private moto server: machines in scope
//! scanned, findings matched with an imported vulnerability database,
//! results turned into assets the recommendations assess, machines scanned
//! within 24 h skipped (their last result kept), exclusion tags honoured,
//! and no Rampart snapshot left behind.
//!
//! moto's `CreateSnapshot` snapshots have no blocks, so the disk layer is
//! replaced here by an inspector that checks the snapshot exists and is
//! Rampart's, then inspects a fixture root filesystem with the real
//! machine inspection; matching and everything after it are the real code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use futures::future::BoxFuture;
use rampart_aws::agentless::{AgentlessSettings, CREATED_BY_KEY, CREATED_BY_VALUE};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_catalog::Inventory;
use rampart_disk::HostDir;
use rampart_engine::agentless::{
    AgentlessOptions, DiskInspector, Inspection, StoreMatcher, inspect_tree, scan_account,
};
use rampart_machine::InspectOptions;
use rampart_model::machine::{MachineScan, VulnerabilitySeverity};
use rampart_model::{AssessmentStatus, Asset};
use rampart_store::Store;
use rampart_testkit::Moto;

const ACCOUNT: &str = "123456789012";
const AMI: &str = "ami-0a3c14e1ddbe7f23c";

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

async fn access() -> AwsAccess {
    AwsAccess::load(&AwsSettings {
        endpoint_url: Some(moto().url()),
        home_region: Some("us-east-1".to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        max_attempts: 2,
        ..AwsSettings::default()
    })
    .await
    .unwrap()
}

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../machine/fixtures/debian")
}

/// A store with the OSV test records imported.
fn vulndb(dir: &Path) -> PathBuf {
    let db = dir.join("rampart.db");
    let zip = dir.join("all.zip");
    rampart_testkit::osv::write_fixtures_zip(&zip, false);
    let mut store = Store::open(&db).unwrap();
    store
        .import_vulndb(&zip, time::OffsetDateTime::now_utc(), &mut |_| {})
        .unwrap();
    db
}

/// Checks the snapshot exists and carries `CreatedBy=Rampart`, then
/// inspects the fixture tree (moto's snapshots have no blocks to read).
#[derive(Default)]
struct FixtureInspector {
    read: Mutex<Vec<String>>,
}

impl DiskInspector for FixtureInspector {
    fn inspect<'a>(
        &'a self,
        access: &'a AwsAccess,
        region: &'a str,
        snapshot: &'a str,
    ) -> BoxFuture<'a, Inspection> {
        Box::pin(async move {
            let out = access
                .ec2(region)
                .describe_snapshots()
                .snapshot_ids(snapshot)
                .send()
                .await
                .unwrap();
            let tagged = out.snapshots()[0]
                .tags()
                .iter()
                .any(|t| t.key() == Some(CREATED_BY_KEY) && t.value() == Some(CREATED_BY_VALUE));
            assert!(tagged, "snapshot `{snapshot}` is not Rampart's");
            self.read.lock().unwrap().push(snapshot.to_owned());
            inspect_tree(&HostDir::new(fixture_root()), &InspectOptions::default())
        })
    }
}

async fn run_instance(access: &AwsAccess, region: &str, tags: &[(&str, &str)]) -> String {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let mut run = access
        .ec2(region)
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1);
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (k, v) in tags {
            spec = spec.tags(Tag::builder().key(*k).value(*v).build());
        }
        run = run.tag_specifications(spec.build());
    }
    run.send().await.unwrap().instances()[0]
        .instance_id()
        .unwrap()
        .to_owned()
}

fn options() -> AgentlessOptions {
    AgentlessOptions {
        settings: AgentlessSettings {
            connector: "c0ffee00-0000-4000-8000-000000000001".to_owned(),
            poll_every: Duration::from_millis(50),
            exclusion_tags: BTreeMap::from([("rampart:skip".to_owned(), "true".to_owned())]),
            ..AgentlessSettings::default()
        },
        ..AgentlessOptions::default()
    }
}

fn assess(assets: &[Asset], id: &str, instance_arn: &str) -> AssessmentStatus {
    let inventory: Inventory = assets.iter().cloned().collect();
    let rule = rampart_catalog::rules::get(id).unwrap();
    let subject = inventory.by_arn(instance_arn).unwrap();
    rampart_catalog::evaluate::assess(id, rule.check, subject, &inventory).status
}

fn instance_asset(region: &str, id: &str) -> Asset {
    Asset::new(
        format!("arn:aws:ec2:{region}:{ACCOUNT}:instance/{id}"),
        "AWS::EC2::Instance",
        ACCOUNT,
        region,
        id,
        serde_json::json!({"instanceId": id, "state": "running"}),
    )
}

#[tokio::test]
async fn machines_are_scanned_matched_assessed_and_cleaned_up() {
    let region = "eu-central-1";
    let access = access().await;
    let dir = tempfile::tempdir().unwrap();
    let matcher = StoreMatcher::open(&vulndb(dir.path())).unwrap();
    let web = run_instance(&access, region, &[("Name", "web")]).await;
    let skipped = run_instance(&access, region, &[("rampart:skip", "true")]).await;
    let inspector = FixtureInspector::default();
    let outcome = scan_account(
        &access,
        ACCOUNT,
        &[region.to_owned()],
        &options(),
        &BTreeMap::new(),
        &inspector,
        &matcher,
    )
    .await;
    assert!(outcome.gaps.is_empty(), "{:?}", outcome.gaps);
    assert_eq!(outcome.machines.len(), 1, "{:?}", outcome.machines);
    let machine = &outcome.machines[0];
    let web_arn = format!("arn:aws:ec2:{region}:{ACCOUNT}:instance/{web}");
    assert_eq!(machine.resource, web_arn);
    assert!(machine.errors.is_empty(), "{:?}", machine.errors);
    assert_eq!(machine.os.as_ref().unwrap().id, "debian");
    assert!(machine.packages_scanned > 0);
    let dsa = machine
        .findings
        .iter()
        .find(|f| f.vulnerability == "DSA-5678-1")
        .unwrap_or_else(|| panic!("{:?}", machine.findings));
    assert_eq!(dsa.package, "libssl3");
    assert_eq!(dsa.fixed_version.as_deref(), Some("3.0.13-1~deb12u1"));
    assert!(dsa.aliases.contains(&"CVE-2024-0727".to_owned()));
    // The snapshot read was Rampart's, and it is gone.
    let read = inspector.read.lock().unwrap().clone();
    assert_eq!(read.len(), 1);
    assert_eq!(machine.snapshot.as_deref(), Some(read[0].as_str()));
    assert_eq!(outcome.outcomes[0].deleted, read);
    let left = access
        .ec2(region)
        .describe_snapshots()
        .owner_ids("self")
        .send()
        .await
        .unwrap();
    assert!(
        left.snapshots()
            .iter()
            .all(|s| s.tags().iter().all(|t| t.key() != Some(CREATED_BY_KEY))),
        "{:?}",
        left.snapshots()
    );
    // The excluded instance has no result at all.
    assert!(
        outcome
            .machines
            .iter()
            .all(|m| !m.resource.ends_with(&skipped))
    );

    // The assets feed the recommendations.
    let mut assets = outcome.assets.clone();
    assets.push(instance_asset(region, &web));
    assets.push(instance_asset(region, &skipped));
    let unhealthy_or_healthy = assess(
        &assets,
        "machines-vulnerability-findings-resolved",
        &web_arn,
    );
    let worst = machine.findings.iter().map(|f| f.severity).max().unwrap();
    let expected = if worst >= VulnerabilitySeverity::High {
        AssessmentStatus::Unhealthy
    } else {
        AssessmentStatus::Healthy
    };
    assert_eq!(unhealthy_or_healthy, expected, "{:?}", machine.findings);
    let skipped_arn = format!("arn:aws:ec2:{region}:{ACCOUNT}:instance/{skipped}");
    assert_eq!(
        assess(
            &assets,
            "machines-vulnerability-findings-resolved",
            &skipped_arn
        ),
        AssessmentStatus::NotApplicable
    );

    // Scanned less than 24 h ago: not scanned again, its result kept.
    let previous: BTreeMap<String, MachineScan> = outcome
        .machines
        .iter()
        .map(|m| (m.resource.clone(), m.clone()))
        .collect();
    let again = scan_account(
        &access,
        ACCOUNT,
        &[region.to_owned()],
        &options(),
        &previous,
        &inspector,
        &matcher,
    )
    .await;
    assert_eq!(inspector.read.lock().unwrap().len(), 1, "scanned again");
    assert!(again.outcomes.is_empty());
    assert_eq!(again.machines, outcome.machines);
    // With a zero interval it is due again.
    let mut due = options();
    due.rescan_after = Duration::ZERO;
    let third = scan_account(
        &access,
        ACCOUNT,
        &[region.to_owned()],
        &due,
        &previous,
        &inspector,
        &matcher,
    )
    .await;
    assert_eq!(inspector.read.lock().unwrap().len(), 2);
    assert_eq!(third.outcomes.len(), 1);
}

#[tokio::test]
async fn a_machine_whose_os_has_no_imported_advisories_is_an_error_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let matcher = StoreMatcher::open(&vulndb(dir.path())).unwrap();
    let inspection = inspect_tree(
        &HostDir::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../machine/fixtures/amazon-linux-2"),
        ),
        &InspectOptions::default(),
    );
    let scan = rampart_engine::agentless::machine_scan(
        "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
        None,
        inspection,
        &matcher,
    );
    assert!(scan.os.is_some(), "{scan:?}");
    assert!(scan.findings.is_empty());
    // The disk was read; its packages could not be matched.
    assert!(scan.errors.is_empty(), "{scan:?}");
    assert!(
        scan.match_errors
            .iter()
            .any(|e| e.starts_with("no advisory imported for")),
        "{scan:?}"
    );
    assert!(!scan.problems().is_empty());

    // An empty vulnerability database is refused up front.
    let empty = dir.path().join("empty.db");
    Store::open(&empty).unwrap();
    assert!(StoreMatcher::open(&empty).is_err());
}
