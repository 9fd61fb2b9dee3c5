//! Agentless scanning's snapshot lifecycle against one private moto
//! server: machines in scope, snapshots created tagged, handed to the
//! reader, and deleted whatever the read did (failed, timed out); re-use
//! of a fresh Rampart snapshot; the sweep of leftovers; customer-key
//! grants retired; the time budget.
//!
//! The readers here are test readers (the disk reader is the engine's):
//! they record what they were handed and fail or hang, which is what the
//! clean-up must survive.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, ResourceType, Tag, TagSpecification,
};
use futures::future::BoxFuture;
use rampart_aws::agentless::{
    self, AgentlessSettings, CREATED_BY_KEY, CREATED_BY_VALUE, Machine, SnapshotReader,
    VolumeSnapshot,
};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_model::machine::MachineScan;
use rampart_testkit::Moto;
use time::OffsetDateTime;

const ACCOUNT: &str = "123456789012";
const AMI: &str = "ami-0a3c14e1ddbe7f23c";

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// Tests share one moto; each uses its own region, so none sees another's
/// instances or snapshots.
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

fn settings() -> AgentlessSettings {
    AgentlessSettings {
        connector: "c0ffee00-0000-4000-8000-000000000001".to_owned(),
        poll_every: Duration::from_millis(50),
        snapshot_wait: Duration::from_secs(5),
        ..AgentlessSettings::default()
    }
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

async fn run_instance(access: &AwsAccess, region: &str, tags: &[(&str, &str)]) -> String {
    let mut run = access
        .ec2(region)
        .run_instances()
        .image_id(AMI)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1);
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (k, v) in tags {
            spec = spec.tags(tag(k, v));
        }
        run = run.tag_specifications(spec.build());
    }
    let out = run.send().await.unwrap();
    out.instances()[0].instance_id().unwrap().to_owned()
}

async fn rampart_snapshots(access: &AwsAccess, region: &str) -> Vec<String> {
    let out = access
        .ec2(region)
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            Filter::builder()
                .name(format!("tag:{CREATED_BY_KEY}"))
                .values(CREATED_BY_VALUE)
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.snapshots()
        .iter()
        .map(|s| s.snapshot_id().unwrap().to_owned())
        .collect()
}

async fn snapshot_tags(access: &AwsAccess, region: &str, id: &str) -> BTreeMap<String, String> {
    let out = access
        .ec2(region)
        .describe_snapshots()
        .snapshot_ids(id)
        .send()
        .await
        .unwrap();
    out.snapshots()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect()
}

/// Fails every read, after recording the snapshots and their tags as they
/// were at read time.
#[derive(Default)]
struct FailingReader {
    seen: Mutex<Vec<(VolumeSnapshot, BTreeMap<String, String>)>>,
    access: OnceLock<AwsAccess>,
    hang: bool,
}

impl SnapshotReader for FailingReader {
    fn read<'a>(
        &'a self,
        machine: &'a Machine,
        snapshots: &'a [VolumeSnapshot],
    ) -> BoxFuture<'a, MachineScan> {
        Box::pin(async move {
            let access = self.access.get().unwrap();
            for s in snapshots {
                let tags = snapshot_tags(access, &machine.region, &s.snapshot_id).await;
                self.seen.lock().unwrap().push((s.clone(), tags));
            }
            if self.hang {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            MachineScan {
                match_errors: Vec::new(),
                source: rampart_model::machine::MachineSource::Disk,
                resource: machine.arn.clone(),
                snapshot: None,
                scanned_at: OffsetDateTime::now_utc(),
                os: None,
                packages_scanned: 0,
                findings: vec![],
                secrets: vec![],
                errors: vec!["cannot read the snapshot's blocks".to_owned()],
            }
        })
    }
}

async fn reader(hang: bool) -> FailingReader {
    let reader = FailingReader {
        hang,
        ..FailingReader::default()
    };
    reader.access.set(access().await).ok().unwrap();
    reader
}

#[tokio::test]
async fn a_failed_read_leaves_no_rampart_snapshot_and_is_an_error() {
    let region = "eu-west-1";
    let access = access().await;
    let id = run_instance(&access, region, &[("Name", "web")]).await;
    let machines = agentless::list_machines(&access, ACCOUNT, region, &settings())
        .await
        .unwrap();
    assert_eq!(machines.len(), 1);
    let machine = &machines[0];
    assert_eq!(machine.instance_id, id);
    assert_eq!(
        machine.arn,
        format!("arn:aws:ec2:{region}:{ACCOUNT}:instance/{id}")
    );
    assert_eq!(machine.volumes.len(), 1);
    assert!(machine.volumes[0].root, "{machine:?}");

    let reader = reader(false).await;
    let outcome = agentless::scan_machine(
        &access,
        &settings(),
        machine,
        &reader,
        Duration::from_secs(60),
    )
    .await;
    // The reader was handed a snapshot of the root volume, tagged.
    let seen = reader.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (snapshot, tags) = &seen[0];
    assert!(snapshot.root);
    assert_eq!(snapshot.volume_id, machine.volumes[0].volume_id);
    assert_eq!(tags[CREATED_BY_KEY], CREATED_BY_VALUE);
    assert_eq!(tags["InstanceId"], id);
    assert_eq!(tags["VolumeId"], machine.volumes[0].volume_id);
    assert_eq!(
        tags["RampartSecurityConnector"],
        "c0ffee00-0000-4000-8000-000000000001"
    );
    assert_eq!(outcome.created, vec![snapshot.snapshot_id.clone()]);
    assert!(outcome.reused.is_empty());
    // Read failed: an error, not clean; and the snapshot is gone.
    assert_eq!(outcome.scan.errors, ["cannot read the snapshot's blocks"]);
    assert!(outcome.scan.findings.is_empty());
    assert_eq!(outcome.deleted, outcome.created);
    assert!(outcome.cleanup_failures.is_empty(), "{outcome:?}");
    assert!(rampart_snapshots(&access, region).await.is_empty());
}

#[tokio::test]
async fn a_read_that_runs_out_of_time_is_stopped_and_cleaned_up() {
    let region = "eu-west-2";
    let access = access().await;
    run_instance(&access, region, &[]).await;
    let machines = agentless::list_machines(&access, ACCOUNT, region, &settings())
        .await
        .unwrap();
    let reader = reader(true).await;
    let outcome = agentless::scan_machine(
        &access,
        &settings(),
        &machines[0],
        &reader,
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(reader.seen.lock().unwrap().len(), 1);
    assert_eq!(outcome.scan.errors.len(), 1);
    assert!(
        outcome.scan.errors[0].contains("did not finish within 2 s"),
        "{:?}",
        outcome.scan.errors
    );
    assert_eq!(outcome.created.len(), 1);
    assert_eq!(outcome.deleted, outcome.created);
    assert!(rampart_snapshots(&access, region).await.is_empty());
}

#[tokio::test]
async fn a_fresh_rampart_snapshot_of_the_volume_is_reused_then_deleted() {
    let region = "eu-west-3";
    let access = access().await;
    let id = run_instance(&access, region, &[]).await;
    let machines = agentless::list_machines(&access, ACCOUNT, region, &settings())
        .await
        .unwrap();
    let volume = machines[0].volumes[0].volume_id.clone();
    let ec2 = access.ec2(region);
    let earlier = ec2
        .create_snapshot()
        .volume_id(&volume)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Snapshot)
                .tags(tag(CREATED_BY_KEY, CREATED_BY_VALUE))
                .tags(tag("VolumeId", &volume))
                .tags(tag("InstanceId", &id))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_owned();
    // Someone else's snapshot of the same volume is never touched.
    let theirs = ec2
        .create_snapshot()
        .volume_id(&volume)
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_owned();
    let reader = reader(false).await;
    let outcome = agentless::scan_machine(
        &access,
        &settings(),
        &machines[0],
        &reader,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(outcome.reused, vec![earlier.clone()]);
    assert!(outcome.created.is_empty(), "{outcome:?}");
    assert_eq!(reader.seen.lock().unwrap()[0].0.snapshot_id, earlier);
    assert_eq!(outcome.deleted, vec![earlier]);
    assert!(rampart_snapshots(&access, region).await.is_empty());
    let left = ec2
        .describe_snapshots()
        .snapshot_ids(&theirs)
        .send()
        .await
        .unwrap();
    assert_eq!(left.snapshots().len(), 1);

    // A re-use window of zero makes a new snapshot instead.
    let reader = FailingReader::default();
    reader.access.set(self::access().await).ok().unwrap();
    let fresh = ec2
        .create_snapshot()
        .volume_id(&volume)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Snapshot)
                .tags(tag(CREATED_BY_KEY, CREATED_BY_VALUE))
                .tags(tag("VolumeId", &volume))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_owned();
    let no_reuse = AgentlessSettings {
        reuse_within: Duration::ZERO,
        ..settings()
    };
    let outcome = agentless::scan_machine(
        &access,
        &no_reuse,
        &machines[0],
        &reader,
        Duration::from_secs(60),
    )
    .await;
    assert!(outcome.reused.is_empty());
    assert_eq!(outcome.created.len(), 1);
    assert_ne!(outcome.created[0], fresh);
    // The fresh one stays for the sweep (it was not this run's).
    assert_eq!(rampart_snapshots(&access, region).await, vec![fresh]);
}

#[tokio::test]
async fn the_sweep_deletes_old_rampart_snapshots_only() {
    let region = "ap-south-1";
    let access = access().await;
    run_instance(&access, region, &[]).await;
    let machines = agentless::list_machines(&access, ACCOUNT, region, &settings())
        .await
        .unwrap();
    let volume = machines[0].volumes[0].volume_id.clone();
    let ec2 = access.ec2(region);
    let create = |tags: Vec<Tag>| {
        let ec2 = ec2.clone();
        let volume = volume.clone();
        async move {
            let mut spec = TagSpecification::builder().resource_type(ResourceType::Snapshot);
            for t in tags {
                spec = spec.tags(t);
            }
            ec2.create_snapshot()
                .volume_id(volume)
                .tag_specifications(spec.build())
                .send()
                .await
                .unwrap()
                .snapshot_id()
                .unwrap()
                .to_owned()
        }
    };
    let leftover = create(vec![tag(CREATED_BY_KEY, CREATED_BY_VALUE)]).await;
    let other = create(vec![tag(CREATED_BY_KEY, "SomeoneElse")]).await;
    let untagged = create(vec![tag("Name", "backup")]).await;
    // Just made: younger than an hour, kept.
    let report = agentless::sweep(&access, region, agentless::LEFTOVER_AGE)
        .await
        .unwrap();
    assert!(report.deleted.is_empty(), "{report:?}");
    // moto cannot backdate a snapshot: with an age of zero every Rampart
    // snapshot counts as a leftover, and only those go.
    let report = agentless::sweep(&access, region, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(report.deleted, vec![leftover]);
    assert!(report.failed.is_empty());
    let left: Vec<String> = ec2
        .describe_snapshots()
        .owner_ids("self")
        .send()
        .await
        .unwrap()
        .snapshots()
        .iter()
        .map(|s| s.snapshot_id().unwrap().to_owned())
        .collect();
    assert!(
        left.contains(&other) && left.contains(&untagged),
        "{left:?}"
    );
}

#[tokio::test]
async fn exclusion_and_scope_tags_pick_the_machines() {
    let region = "ca-central-1";
    let access = access().await;
    let plain = run_instance(&access, region, &[]).await;
    let skipped = run_instance(&access, region, &[("rampart:skip", "true")]).await;
    let prod = run_instance(&access, region, &[("env", "prod")]).await;
    let stopped = run_instance(&access, region, &[]).await;
    access
        .ec2(region)
        .stop_instances()
        .instance_ids(&stopped)
        .send()
        .await
        .unwrap();
    let ids = |machines: Vec<Machine>| {
        let mut ids: Vec<String> = machines.into_iter().map(|m| m.instance_id).collect();
        ids.sort();
        ids
    };
    let mut all = vec![plain.clone(), skipped.clone(), prod.clone()];
    all.sort();
    let found = agentless::list_machines(&access, ACCOUNT, region, &settings())
        .await
        .unwrap();
    assert_eq!(ids(found), all, "stopped instances are not scanned");
    let mut excluding = settings();
    excluding.exclusion_tags = BTreeMap::from([("rampart:skip".to_owned(), "true".to_owned())]);
    let mut expected = vec![plain, prod.clone()];
    expected.sort();
    let found = agentless::list_machines(&access, ACCOUNT, region, &excluding)
        .await
        .unwrap();
    assert_eq!(ids(found), expected);
    excluding.scope_tags = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
    let found = agentless::list_machines(&access, ACCOUNT, region, &excluding)
        .await
        .unwrap();
    assert_eq!(ids(found), vec![prod]);
}

#[tokio::test]
async fn customer_key_volumes_get_a_grant_that_is_retired() {
    let region = "sa-east-1";
    let access = access().await;
    let kms = access.kms(region);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    let out = access
        .ec2(region)
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(
                    EbsBlockDevice::builder()
                        .volume_size(8)
                        .encrypted(true)
                        .kms_key_id(&key)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = out.instances()[0].instance_id().unwrap().to_owned();
    let machines = agentless::list_machines(&access, ACCOUNT, region, &settings())
        .await
        .unwrap();
    let machine = machines.iter().find(|m| m.instance_id == id).unwrap();
    let volume = &machine.volumes[0];
    assert!(volume.encrypted, "{machine:?}");
    assert!(
        volume
            .kms_key_id
            .as_deref()
            .is_some_and(|k| k.contains(&key)),
        "{machine:?}"
    );

    // No scanning role known: the machine is an error, and nothing is left.
    let reader = reader(false).await;
    let outcome = agentless::scan_machine(
        &access,
        &settings(),
        machine,
        &reader,
        Duration::from_secs(60),
    )
    .await;
    assert!(reader.seen.lock().unwrap().is_empty());
    assert!(
        outcome.scan.errors[0].contains("customer key"),
        "{:?}",
        outcome.scan.errors
    );
    assert!(rampart_snapshots(&access, region).await.is_empty());

    // With the role: a grant for it while reading, retired afterwards.
    let grantee = format!("arn:aws:iam::{ACCOUNT}:role/RampartServers");
    let with_role = AgentlessSettings {
        grantee: Some(grantee.clone()),
        ..settings()
    };
    let outcome = agentless::scan_machine(
        &access,
        &with_role,
        machine,
        &reader,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(reader.seen.lock().unwrap().len(), 1);
    assert!(outcome.cleanup_failures.is_empty(), "{outcome:?}");
    let grants = kms.list_grants().key_id(&key).send().await.unwrap();
    assert!(
        grants
            .grants()
            .iter()
            .all(|g| g.grantee_principal() != Some(grantee.as_str())),
        "{:?}",
        grants.grants()
    );
    assert!(rampart_snapshots(&access, region).await.is_empty());
}

#[tokio::test]
async fn machines_past_the_time_budget_are_errors_without_snapshots() {
    let region = "ap-northeast-1";
    let access = access().await;
    run_instance(&access, region, &[]).await;
    run_instance(&access, region, &[]).await;
    let machines = agentless::list_machines(&access, ACCOUNT, region, &settings())
        .await
        .unwrap();
    let reader = reader(false).await;
    let none_left = AgentlessSettings {
        budget: Duration::ZERO,
        ..settings()
    };
    let outcomes = agentless::scan_machines(&access, &none_left, &machines, &reader).await;
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        assert!(o.scan.errors[0].contains("time budget"), "{o:?}");
        assert!(o.created.is_empty());
    }
    assert!(reader.seen.lock().unwrap().is_empty());
    // With time, both are read (two at once at most) and cleaned up.
    let outcomes = agentless::scan_machines(&access, &settings(), &machines, &reader).await;
    assert_eq!(outcomes.len(), 2);
    assert_eq!(reader.seen.lock().unwrap().len(), 2);
    assert!(rampart_snapshots(&access, region).await.is_empty());
}
