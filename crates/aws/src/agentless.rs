//! Agentless scanning of EC2 instances (the Servers plan's `vmScanners`):
//! the AWS side of reading a machine's disks without an agent.
//!
//! Per running instance in scope: each attached EBS volume gets a snapshot
//! tagged `CreatedBy=Rampart` (plus `RampartSecurityConnector`,
//! `InstanceId`, `VolumeId`) — or a Rampart snapshot of that volume younger
//! than the re-use window is used again — Rampart waits (bounded) for it to
//! complete, hands the snapshots to a [`SnapshotReader`], and deletes every
//! snapshot (and retires every KMS grant) it made or re-used, whether the
//! read succeeded, failed or ran out of time. [`sweep`] deletes Rampart
//! snapshots older than an hour that an interrupted run left behind.
//!
//! Encrypted volumes: a volume encrypted with the AWS-managed key
//! (`aws/ebs`) cannot be granted to another principal, so its snapshot is
//! copied re-encrypted to Rampart's own key (`alias/rampart-agentless`,
//! created once, tagged `CreatedBy=Rampart`) and the copy is read; a volume
//! encrypted with a customer key gets a grant (`Decrypt`, `DescribeKey`)
//! for the scanning role, retired after the read. This is Defender's
//! pattern restricted to one account (Defender also shares the copy with
//! its own account; Rampart reads in place).
//!
//! Every failed call is data: the machine's [`MachineScan`] carries the
//! error, never "clean".

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::machine::MachineScan;
use time::OffsetDateTime;

use crate::AwsAccess;
use crate::collectors::Operation;
use crate::error::{CallFailure, classify};
use crate::op;

/// The tag key every resource Rampart creates for agentless scanning
/// carries; its value is [`CREATED_BY_VALUE`]. The scanning role may
/// delete only snapshots carrying it.
pub const CREATED_BY_KEY: &str = "CreatedBy";
/// The value of [`CREATED_BY_KEY`].
pub const CREATED_BY_VALUE: &str = "Rampart";
/// Tag naming the connector a snapshot was made for.
pub const CONNECTOR_TAG: &str = "RampartSecurityConnector";
/// Tag naming the instance a snapshot was made for.
pub const INSTANCE_TAG: &str = "InstanceId";
/// Tag naming the volume a snapshot was made of.
pub const VOLUME_TAG: &str = "VolumeId";
/// The alias of Rampart's KMS key for re-encrypted snapshot copies.
pub const KEY_ALIAS: &str = "alias/rampart-agentless";
/// Snapshots Rampart made that are older than this are leftovers of an
/// interrupted run; [`sweep`] deletes them.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(3600);
/// How often each machine is scanned at most, by default.
pub const DEFAULT_RESCAN_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Machines scanned at once per account, by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Every API operation the agentless run may make, with its IAM action:
/// the onboarding templates grant the Servers plan's role exactly these
/// (deletion scoped to snapshots tagged `CreatedBy=Rampart`, tagging to
/// creation). `CreateTags` is not called on its own: AWS checks it when a
/// snapshot is created or copied with tags. `ebs:*` are the disk reader's
/// (EBS direct APIs); the KMS `Decrypt`, `ReEncrypt*` and
/// `GenerateDataKeyWithoutPlaintext` are checked by EC2 and EBS on the
/// caller's behalf for encrypted snapshots and copies.
pub const OPERATIONS: &[Operation] = &[
    op!("ec2", "DescribeInstances"),
    op!("ec2", "DescribeVolumes"),
    op!("ec2", "DescribeSnapshots"),
    op!("ec2", "CreateSnapshot"),
    op!("ec2", "CopySnapshot"),
    op!("ec2", "CreateTags"),
    op!("ec2", "DeleteSnapshot"),
    op!("ebs", "ListSnapshotBlocks"),
    op!("ebs", "GetSnapshotBlock"),
    op!("kms", "DescribeKey"),
    op!("kms", "CreateKey"),
    op!("kms", "CreateAlias"),
    op!("kms", "TagResource"),
    op!("kms", "CreateGrant"),
    op!("kms", "RetireGrant"),
    op!("kms", "Decrypt"),
    op!("kms", "ReEncryptFrom"),
    op!("kms", "ReEncryptTo"),
    op!("kms", "GenerateDataKeyWithoutPlaintext"),
];

/// What the agentless run does and how long it may take.
#[derive(Debug, Clone)]
pub struct AgentlessSettings {
    /// The connector's id (the [`CONNECTOR_TAG`] value).
    pub connector: String,
    /// Only instances with one of these tags; empty: every instance.
    pub scope_tags: BTreeMap<String, String>,
    /// Instances with one of these tags are not scanned.
    pub exclusion_tags: BTreeMap<String, String>,
    /// A Rampart snapshot of a volume younger than this is read again
    /// instead of making a new one.
    pub reuse_within: Duration,
    /// Longest wait for a snapshot to complete.
    pub snapshot_wait: Duration,
    /// Pause between two checks of a pending snapshot.
    pub poll_every: Duration,
    /// Machines scanned at once in the account.
    pub concurrency: usize,
    /// The whole run's time budget: machines not started before it runs
    /// out are reported with an error; a machine running when it runs out
    /// is stopped and its snapshots deleted.
    pub budget: Duration,
    /// The scanning role's ARN (IAM role form), the grantee of KMS grants
    /// on customer keys; `None`: customer-key volumes are reported as not
    /// readable.
    pub grantee: Option<String>,
}

impl Default for AgentlessSettings {
    fn default() -> Self {
        Self {
            connector: String::new(),
            scope_tags: BTreeMap::new(),
            exclusion_tags: BTreeMap::new(),
            reuse_within: LEFTOVER_AGE,
            snapshot_wait: Duration::from_secs(30 * 60),
            poll_every: Duration::from_secs(10),
            concurrency: DEFAULT_CONCURRENCY,
            budget: Duration::from_secs(3 * 3600),
            grantee: None,
        }
    }
}

/// One attached EBS volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineVolume {
    /// The volume id.
    pub volume_id: String,
    /// The device it is attached as (`/dev/xvda`).
    pub device: String,
    /// Whether it is the instance's root device.
    pub root: bool,
    /// Whether it is encrypted (filled by [`list_machines`] from
    /// `DescribeVolumes`).
    pub encrypted: bool,
    /// Its KMS key (ARN or id), when encrypted.
    pub kms_key_id: Option<String>,
}

/// A running instance to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// The instance's ARN.
    pub arn: String,
    /// The instance id.
    pub instance_id: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// `Platform` (`windows`) when EC2 reports one.
    pub platform: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Its EBS volumes.
    pub volumes: Vec<MachineVolume>,
}

/// A snapshot ready to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSnapshot {
    /// The volume it was made of.
    pub volume_id: String,
    /// The snapshot's id.
    pub snapshot_id: String,
    /// Whether the volume is the root device.
    pub root: bool,
}

/// Reads a machine's snapshots into a [`MachineScan`] (the engine's
/// implementation opens the root filesystem through the EBS direct APIs
/// and inspects it). A read that fails returns the scan with `errors`.
pub trait SnapshotReader: Send + Sync {
    /// Reads `snapshots` of `machine`.
    fn read<'a>(
        &'a self,
        machine: &'a Machine,
        snapshots: &'a [VolumeSnapshot],
    ) -> BoxFuture<'a, MachineScan>;
}

/// Why listing machines failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFailure {
    /// The operation.
    pub operation: &'static str,
    /// The failure.
    pub failure: CallFailure,
}

/// Whether `tags` has one of `wanted` (key and value both match).
fn has_any(tags: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> bool {
    wanted.iter().any(|(k, v)| tags.get(k) == Some(v))
}

/// Whether an instance with `tags` is in the run's scope: it has one of
/// the scope tags (or there are none) and none of the exclusion tags.
pub fn in_scope(tags: &BTreeMap<String, String>, settings: &AgentlessSettings) -> bool {
    (settings.scope_tags.is_empty() || has_any(tags, &settings.scope_tags))
        && !has_any(tags, &settings.exclusion_tags)
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// The running instances of `region` in scope, with their EBS volumes and
/// the volumes' encryption.
pub async fn list_machines(
    access: &AwsAccess,
    account: &str,
    region: &str,
    settings: &AgentlessSettings,
) -> Result<Vec<Machine>, ListFailure> {
    let ec2 = access.ec2(region);
    let mut machines = Vec::new();
    let mut pages = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("running")
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ListFailure {
            operation: "DescribeInstances",
            failure: classify(&e),
        })?;
        for instance in page.reservations().iter().flat_map(|r| r.instances()) {
            let Some(id) = instance.instance_id() else {
                continue;
            };
            let tags = tag_map(instance.tags());
            if !in_scope(&tags, settings) {
                continue;
            }
            let root_device = instance.root_device_name().unwrap_or_default();
            let volumes = instance
                .block_device_mappings()
                .iter()
                .filter_map(|m| {
                    Some(MachineVolume {
                        volume_id: m.ebs()?.volume_id()?.to_owned(),
                        device: m.device_name().unwrap_or_default().to_owned(),
                        root: m.device_name().is_some_and(|d| same_device(d, root_device)),
                        encrypted: false,
                        kms_key_id: None,
                    })
                })
                .collect();
            machines.push(Machine {
                arn: format!("arn:aws:ec2:{region}:{account}:instance/{id}"),
                instance_id: id.to_owned(),
                account: account.to_owned(),
                region: region.to_owned(),
                platform: instance.platform().map(|p| p.as_str().to_owned()),
                tags,
                volumes,
            });
        }
    }
    let ids: Vec<String> = machines
        .iter()
        .flat_map(|m| m.volumes.iter().map(|v| v.volume_id.clone()))
        .collect();
    let mut encryption = BTreeMap::new();
    for chunk in ids.chunks(200) {
        let out = ec2
            .describe_volumes()
            .set_volume_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| ListFailure {
                operation: "DescribeVolumes",
                failure: classify(&e),
            })?;
        for v in out.volumes() {
            if let Some(id) = v.volume_id() {
                encryption.insert(
                    id.to_owned(),
                    (
                        v.encrypted().unwrap_or(false),
                        v.kms_key_id().map(str::to_owned),
                    ),
                );
            }
        }
    }
    for volume in machines.iter_mut().flat_map(|m| m.volumes.iter_mut()) {
        if let Some((encrypted, key)) = encryption.get(&volume.volume_id) {
            volume.encrypted = *encrypted;
            volume.kms_key_id.clone_from(key);
        }
    }
    Ok(machines)
}

/// Whether two device names name the same disk. EC2 reports the names as
/// they were given: the root device may be `/dev/xvda` while its mapping says
/// `/dev/sda1` (Xen's `xvd` and `sd` names are the same disk, and the root
/// device is often named by its first partition).
fn same_device(a: &str, b: &str) -> bool {
    fn disk(name: &str) -> String {
        let name = name.strip_prefix("/dev/").unwrap_or(name);
        let name = name
            .strip_prefix("xvd")
            .map_or_else(|| name.to_owned(), |rest| format!("sd{rest}"));
        if name.starts_with("sd") {
            name.trim_end_matches(|c: char| c.is_ascii_digit())
                .to_owned()
        } else {
            name
        }
    }
    !a.is_empty() && !b.is_empty() && disk(a) == disk(b)
}

/// What [`sweep`] did in one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Leftover snapshots deleted.
    pub deleted: Vec<String>,
    /// Leftovers that could not be deleted, with the error.
    pub failed: Vec<(String, String)>,
}

fn rampart_filter() -> Filter {
    Filter::builder()
        .name(format!("tag:{CREATED_BY_KEY}"))
        .values(CREATED_BY_VALUE)
        .build()
}

fn start_time(snapshot: &aws_sdk_ec2::types::Snapshot) -> Option<OffsetDateTime> {
    let t = snapshot.start_time()?;
    OffsetDateTime::from_unix_timestamp(t.secs()).ok()
}

/// Deletes the snapshots tagged `CreatedBy=Rampart` in `region` that
/// started more than `older_than` ago (leftovers of an interrupted run).
pub async fn sweep(
    access: &AwsAccess,
    region: &str,
    older_than: Duration,
) -> Result<SweepReport, CallFailure> {
    let ec2 = access.ec2(region);
    let now = OffsetDateTime::now_utc();
    let mut report = SweepReport::default();
    let out = ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(rampart_filter())
        .send()
        .await
        .map_err(|e| classify(&e))?;
    for snapshot in out.snapshots() {
        let (Some(id), Some(started)) = (snapshot.snapshot_id(), start_time(snapshot)) else {
            continue;
        };
        let tags = tag_map(snapshot.tags());
        if tags.get(CREATED_BY_KEY).map(String::as_str) != Some(CREATED_BY_VALUE) {
            continue;
        }
        if now - started < older_than {
            continue;
        }
        match ec2.delete_snapshot().snapshot_id(id).send().await {
            Ok(_) => report.deleted.push(id.to_owned()),
            Err(e) => report.failed.push((id.to_owned(), classify(&e).message)),
        }
    }
    Ok(report)
}

/// What Rampart made (or re-used) for one machine and must undo.
#[derive(Debug, Default)]
struct Created {
    snapshots: Vec<String>,
    grants: Vec<(String, String)>,
}

/// What happened to one machine, the resources Rampart made included.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineOutcome {
    /// The scan result (with errors when anything failed).
    pub scan: MachineScan,
    /// Snapshots made for it.
    pub created: Vec<String>,
    /// Snapshots re-used.
    pub reused: Vec<String>,
    /// Snapshots deleted afterwards.
    pub deleted: Vec<String>,
    /// Clean-up failures (snapshot or grant, with the error); a leftover
    /// snapshot is swept on a later run.
    pub cleanup_failures: Vec<String>,
}

fn failed_scan(machine: &Machine, errors: Vec<String>) -> MachineScan {
    MachineScan {
        match_errors: Vec::new(),
        source: rampart_model::machine::MachineSource::Disk,
        resource: machine.arn.clone(),
        snapshot: None,
        scanned_at: OffsetDateTime::now_utc(),
        os: None,
        packages_scanned: 0,
        findings: Vec::new(),
        secrets: Vec::new(),
        errors,
    }
}

struct Run<'a> {
    access: &'a AwsAccess,
    settings: &'a AgentlessSettings,
    machine: &'a Machine,
}

impl Run<'_> {
    /// A Rampart snapshot of `volume` younger than the re-use window.
    async fn reusable(&self, volume: &str) -> Result<Option<String>, String> {
        let ec2 = self.access.ec2(&self.machine.region);
        let out = ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(rampart_filter())
            .filters(
                Filter::builder()
                    .name(format!("tag:{VOLUME_TAG}"))
                    .values(volume)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                format!(
                    "ec2:DescribeSnapshots for `{volume}`: {}",
                    classify(&e).message
                )
            })?;
        let now = OffsetDateTime::now_utc();
        let fresh = out
            .snapshots()
            .iter()
            .filter(|s| {
                s.volume_id() == Some(volume)
                    && !matches!(s.state(), Some(aws_sdk_ec2::types::SnapshotState::Error))
                    && start_time(s).is_some_and(|t| now - t < self.settings.reuse_within)
            })
            .max_by_key(|s| start_time(s))
            .and_then(|s| s.snapshot_id().map(str::to_owned));
        Ok(fresh)
    }

    fn tags(&self, volume: &str) -> TagSpecification {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        TagSpecification::builder()
            .resource_type(ResourceType::Snapshot)
            .tags(tag(CREATED_BY_KEY, CREATED_BY_VALUE))
            .tags(tag(CONNECTOR_TAG, &self.settings.connector))
            .tags(tag(INSTANCE_TAG, &self.machine.instance_id))
            .tags(tag(VOLUME_TAG, volume))
            .build()
    }

    async fn create(&self, volume: &str, created: &mut Created) -> Result<String, String> {
        let ec2 = self.access.ec2(&self.machine.region);
        let out = ec2
            .create_snapshot()
            .volume_id(volume)
            .description(format!(
                "Rampart agentless scan of {} ({volume})",
                self.machine.instance_id
            ))
            .tag_specifications(self.tags(volume))
            .send()
            .await
            .map_err(|e| format!("ec2:CreateSnapshot of `{volume}`: {}", classify(&e).message))?;
        let id = out
            .snapshot_id()
            .ok_or_else(|| format!("ec2:CreateSnapshot of `{volume}` returned no snapshot id"))?
            .to_owned();
        created.snapshots.push(id.clone());
        Ok(id)
    }

    /// Waits for `snapshot` to complete, at most the settings' wait.
    async fn wait(&self, snapshot: &str) -> Result<(), String> {
        let ec2 = self.access.ec2(&self.machine.region);
        let started = Instant::now();
        loop {
            let out = ec2
                .describe_snapshots()
                .snapshot_ids(snapshot)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ec2:DescribeSnapshots of `{snapshot}`: {}",
                        classify(&e).message
                    )
                })?;
            let state = out.snapshots().first().and_then(|s| s.state().cloned());
            match state {
                Some(aws_sdk_ec2::types::SnapshotState::Completed) => return Ok(()),
                Some(aws_sdk_ec2::types::SnapshotState::Error) => {
                    return Err(format!("snapshot `{snapshot}` failed (state `error`)"));
                }
                _ => {}
            }
            if started.elapsed() >= self.settings.snapshot_wait {
                return Err(format!(
                    "snapshot `{snapshot}` did not complete within {} s",
                    self.settings.snapshot_wait.as_secs()
                ));
            }
            tokio::time::sleep(self.settings.poll_every).await;
        }
    }

    /// Whether `key` is an AWS-managed key (`aws/ebs`), which cannot be
    /// granted to the reader.
    async fn aws_managed(&self, key: &str) -> Result<bool, String> {
        let kms = self.access.kms(&self.machine.region);
        let out = kms
            .describe_key()
            .key_id(key)
            .send()
            .await
            .map_err(|e| format!("kms:DescribeKey `{key}`: {}", classify(&e).message))?;
        let manager = out.key_metadata().and_then(|m| m.key_manager().cloned());
        Ok(matches!(
            manager,
            Some(aws_sdk_kms::types::KeyManagerType::Aws)
        ))
    }

    /// Makes the snapshot of an encrypted volume readable: a copy
    /// re-encrypted to Rampart's key for an AWS-managed key, a grant for
    /// a customer key. Returns the snapshot to read.
    async fn readable(
        &self,
        volume: &MachineVolume,
        snapshot: String,
        created: &mut Created,
    ) -> Result<String, String> {
        let Some(key) = volume.kms_key_id.as_deref().filter(|_| volume.encrypted) else {
            return Ok(snapshot);
        };
        if self.aws_managed(key).await? {
            let rampart_key = ensure_key(self.access, &self.machine.region).await?;
            let ec2 = self.access.ec2(&self.machine.region);
            let out = ec2
                .copy_snapshot()
                .source_snapshot_id(&snapshot)
                .source_region(&self.machine.region)
                .encrypted(true)
                .kms_key_id(&rampart_key)
                .description(format!(
                    "Rampart agentless scan of {} ({}), re-encrypted",
                    self.machine.instance_id, volume.volume_id
                ))
                .tag_specifications(self.tags(&volume.volume_id))
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ec2:CopySnapshot of `{snapshot}` to `{KEY_ALIAS}`: {}",
                        classify(&e).message
                    )
                })?;
            let copy = out
                .snapshot_id()
                .ok_or_else(|| format!("ec2:CopySnapshot of `{snapshot}` returned no id"))?
                .to_owned();
            created.snapshots.push(copy.clone());
            self.wait(&copy).await?;
            return Ok(copy);
        }
        let Some(grantee) = &self.settings.grantee else {
            return Err(format!(
                "volume `{}` is encrypted with customer key `{key}` and no scanning role is known to grant it to",
                volume.volume_id
            ));
        };
        let kms = self.access.kms(&self.machine.region);
        let out = kms
            .create_grant()
            .key_id(key)
            .grantee_principal(grantee)
            .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
            .operations(aws_sdk_kms::types::GrantOperation::DescribeKey)
            .name(format!("rampart-agentless-{}", self.machine.instance_id))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "kms:CreateGrant on customer key `{key}` of `{}`: {}",
                    volume.volume_id,
                    classify(&e).message
                )
            })?;
        if let Some(grant) = out.grant_id() {
            created.grants.push((key.to_owned(), grant.to_owned()));
        }
        Ok(snapshot)
    }

    /// Snapshots every volume; what to read.
    async fn prepare(
        &self,
        created: &mut Created,
        reused: &mut Vec<String>,
    ) -> Result<Vec<VolumeSnapshot>, String> {
        if self.machine.volumes.is_empty() {
            return Err("the instance has no EBS volume to read".to_owned());
        }
        let mut out = Vec::new();
        for volume in &self.machine.volumes {
            let snapshot = match self.reusable(&volume.volume_id).await? {
                Some(id) => {
                    reused.push(id.clone());
                    // A re-used snapshot is Rampart's too: deleted after the read.
                    created.snapshots.push(id.clone());
                    id
                }
                None => self.create(&volume.volume_id, created).await?,
            };
            self.wait(&snapshot).await?;
            let snapshot = self.readable(volume, snapshot, created).await?;
            out.push(VolumeSnapshot {
                volume_id: volume.volume_id.clone(),
                snapshot_id: snapshot,
                root: volume.root,
            });
        }
        Ok(out)
    }

    /// Deletes every snapshot and retires every grant in `created`.
    async fn clean_up(&self, created: Created) -> (Vec<String>, Vec<String>) {
        let ec2 = self.access.ec2(&self.machine.region);
        let kms = self.access.kms(&self.machine.region);
        let mut deleted = Vec::new();
        let mut failures = Vec::new();
        for (key, grant) in created.grants {
            if let Err(e) = kms
                .retire_grant()
                .key_id(&key)
                .grant_id(&grant)
                .send()
                .await
            {
                failures.push(format!(
                    "kms:RetireGrant `{grant}` on `{key}`: {}",
                    classify(&e).message
                ));
            }
        }
        let unique: BTreeSet<String> = created.snapshots.into_iter().collect();
        for id in unique {
            match ec2.delete_snapshot().snapshot_id(&id).send().await {
                Ok(_) => deleted.push(id),
                Err(e) => failures.push(format!(
                    "ec2:DeleteSnapshot `{id}`: {} (swept on a later run)",
                    classify(&e).message
                )),
            }
        }
        (deleted, failures)
    }
}

/// Scans one machine: snapshots, read, clean-up. The clean-up runs
/// whatever happened before it (failed call, failed read, time out after
/// `limit`).
pub async fn scan_machine(
    access: &AwsAccess,
    settings: &AgentlessSettings,
    machine: &Machine,
    reader: &dyn SnapshotReader,
    limit: Duration,
) -> MachineOutcome {
    let run = Run {
        access,
        settings,
        machine,
    };
    let mut created = Created::default();
    let mut reused = Vec::new();
    let work = async {
        let snapshots = run.prepare(&mut created, &mut reused).await?;
        let mut scan = reader.read(machine, &snapshots).await;
        if scan.snapshot.is_none() {
            scan.snapshot = snapshots
                .iter()
                .find(|s| s.root)
                .or_else(|| snapshots.first())
                .map(|s| s.snapshot_id.clone());
        }
        Ok::<MachineScan, String>(scan)
    };
    let result = tokio::time::timeout(limit, work).await;
    let scan = match result {
        Ok(Ok(scan)) => scan,
        Ok(Err(error)) => failed_scan(machine, vec![error]),
        Err(_) => failed_scan(
            machine,
            vec![format!(
                "the machine's scan did not finish within {} s",
                limit.as_secs()
            )],
        ),
    };
    let made: Vec<String> = created
        .snapshots
        .iter()
        .filter(|s| !reused.contains(s))
        .cloned()
        .collect();
    let (deleted, cleanup_failures) = run.clean_up(created).await;
    MachineOutcome {
        scan,
        created: made,
        reused,
        deleted,
        cleanup_failures,
    }
}

/// Scans `machines` (one account), at most the settings' concurrency at
/// once, within the settings' budget: a machine not started before the
/// budget runs out gets an error.
pub async fn scan_machines(
    access: &AwsAccess,
    settings: &AgentlessSettings,
    machines: &[Machine],
    reader: &dyn SnapshotReader,
) -> Vec<MachineOutcome> {
    let deadline = Instant::now() + settings.budget;
    // The futures are made first (not in a stream closure), so the boxed
    // future the engine holds stays `Send` for every borrow.
    let scans: Vec<_> = machines
        .iter()
        .map(|machine| Box::pin(scan_within(access, settings, machine, reader, deadline)))
        .collect();
    futures::stream::iter(scans)
        .buffered(settings.concurrency.max(1))
        .collect()
        .await
}

/// [`scan_machine`] with what is left of the run's time budget.
async fn scan_within(
    access: &AwsAccess,
    settings: &AgentlessSettings,
    machine: &Machine,
    reader: &dyn SnapshotReader,
    deadline: Instant,
) -> MachineOutcome {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return MachineOutcome {
            scan: failed_scan(
                machine,
                vec![format!(
                    "not scanned: the run's time budget of {} s ran out",
                    settings.budget.as_secs()
                )],
            ),
            created: Vec::new(),
            reused: Vec::new(),
            deleted: Vec::new(),
            cleanup_failures: Vec::new(),
        };
    }
    scan_machine(access, settings, machine, reader, left).await
}

/// Rampart's KMS key in `region` (by [`KEY_ALIAS`]), created (tagged
/// `CreatedBy=Rampart`) with its alias when missing. Returns the key id.
pub async fn ensure_key(access: &AwsAccess, region: &str) -> Result<String, String> {
    let kms = access.kms(region);
    match kms.describe_key().key_id(KEY_ALIAS).send().await {
        Ok(out) => {
            if let Some(id) = out.key_metadata().map(|m| m.key_id()) {
                return Ok(id.to_owned());
            }
        }
        Err(e) => {
            let failure = classify(&e);
            if !failure.is_code("NotFoundException") {
                return Err(format!(
                    "kms:DescribeKey `{KEY_ALIAS}`: {}",
                    failure.message
                ));
            }
        }
    }
    let out = kms
        .create_key()
        .description("Rampart agentless scanning: re-encrypts snapshot copies of volumes encrypted with AWS-managed keys")
        .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(CREATED_BY_KEY)
                .tag_value(CREATED_BY_VALUE)
                .build()
                .map_err(|e| format!("kms tag: {e}"))?,
        )
        .send()
        .await
        .map_err(|e| format!("kms:CreateKey: {}", classify(&e).message))?;
    let id = out
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .ok_or_else(|| "kms:CreateKey returned no key".to_owned())?;
    kms.create_alias()
        .alias_name(KEY_ALIAS)
        .target_key_id(&id)
        .send()
        .await
        .map_err(|e| format!("kms:CreateAlias `{KEY_ALIAS}`: {}", classify(&e).message))?;
    Ok(id)
}

/// The IAM role ARN behind an assumed-role session ARN
/// (`arn:aws:sts::123456789012:assumed-role/Name/session` →
/// `arn:aws:iam::123456789012:role/Name`); other ARNs unchanged.
pub fn role_of_session(arn: &str) -> String {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("sts"), Some(_), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return arn.to_owned();
    };
    match resource
        .strip_prefix("assumed-role/")
        .and_then(|r| r.split('/').next())
    {
        Some(role) => format!("arn:{partition}:iam::{account}:role/{role}"),
        None => arn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn device_names_of_one_disk() {
        assert!(same_device("/dev/sda1", "/dev/sda1"));
        assert!(same_device("/dev/xvda", "/dev/sda1"));
        assert!(same_device("xvda", "/dev/sda"));
        assert!(same_device("/dev/nvme0n1", "/dev/nvme0n1"));
        assert!(!same_device("/dev/sdb", "/dev/sda1"));
        assert!(!same_device("/dev/xvdf", "/dev/xvda"));
        assert!(!same_device("/dev/nvme1n1", "/dev/nvme0n1"));
        assert!(!same_device("", ""));
    }

    #[test]
    fn scope_and_exclusion_tags() {
        let mut settings = AgentlessSettings::default();
        assert!(in_scope(&tags(&[]), &settings));
        settings.exclusion_tags = tags(&[("rampart:skip", "true")]);
        assert!(!in_scope(&tags(&[("rampart:skip", "true")]), &settings));
        assert!(in_scope(&tags(&[("rampart:skip", "false")]), &settings));
        settings.scope_tags = tags(&[("env", "prod")]);
        assert!(!in_scope(&tags(&[]), &settings));
        assert!(in_scope(&tags(&[("env", "prod")]), &settings));
        assert!(!in_scope(
            &tags(&[("env", "prod"), ("rampart:skip", "true")]),
            &settings
        ));
    }

    #[test]
    fn role_of_an_assumed_role_session() {
        assert_eq!(
            role_of_session("arn:aws:sts::123456789012:assumed-role/RampartServers/Rampart_x"),
            "arn:aws:iam::123456789012:role/RampartServers"
        );
        assert_eq!(
            role_of_session("arn:aws:iam::123456789012:user/u"),
            "arn:aws:iam::123456789012:user/u"
        );
    }
}
