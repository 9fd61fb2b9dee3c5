//! Agentless scanning in a connector's scan (the Servers plan's
//! `vmScanners`, on unless disabled): machines' disks read from snapshots
//! ([`rampart_aws::agentless`] makes, hands over and deletes them), their
//! packages matched against the vulnerability database, the results stored
//! per scan and turned into one [`types::MACHINE_SCAN`] asset per machine
//! that the recommendations "Machines should have vulnerability findings
//! resolved" and "Machines should have secrets removed from disk" read.
//!
//! The same code reads one existing snapshot ([`scan_snapshot`],
//! `rampart disk-scan`) and matches package lists that SSM inventory
//! reported ([`match_inventory_packages`]).
//!
//! Two interfaces keep this module independent of how a disk is opened
//! and how advisories are matched: a [`DiskInspector`] opens a snapshot's
//! root filesystem and inspects it, a [`PackageMatcher`] matches installed
//! packages.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use rampart_aws::agentless::{
    self, AgentlessSettings, Machine, MachineOutcome, SnapshotReader, VolumeSnapshot,
};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_connector::{Connector, Offering, Plan, ServersOffering};
use rampart_disk::{EbsOptions, EbsSnapshot, FileTree};
use rampart_machine::InspectOptions;
use rampart_model::machine::{
    InstalledPackage, MachineScan, MachineSource, OsRelease, SecretFinding,
    VulnerabilitiesDocument, VulnerabilityDbSummary, VulnerabilityFinding, VulnerabilitySeverity,
};
use rampart_model::{Asset, CoverageGap, GapKind, types};
use rampart_store::Store;
use rampart_vuln::{EcosystemSelection, VulnIndex, ecosystems_for};
use serde_json::json;
use time::OffsetDateTime;

use crate::EngineError;
use crate::provisioning::{ProvisionTarget, gap, role_access};

/// What inspecting a machine's root filesystem found (before matching).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspection {
    /// The operating system, when `/etc/os-release` (or an equivalent)
    /// was read.
    pub os: Option<OsRelease>,
    /// Installed packages.
    pub packages: Vec<InstalledPackage>,
    /// Secrets on the disk.
    pub secrets: Vec<SecretFinding>,
    /// What could not be read.
    pub errors: Vec<String>,
}

/// Opens a snapshot's root filesystem and inspects it (operating system,
/// packages, secrets). A disk that cannot be read is an [`Inspection`]
/// with errors.
pub trait DiskInspector: Send + Sync {
    /// Inspects snapshot `snapshot` of `region`, read with `access`.
    fn inspect<'a>(
        &'a self,
        access: &'a AwsAccess,
        region: &'a str,
        snapshot: &'a str,
    ) -> BoxFuture<'a, Inspection>;
}

/// Matches installed packages against the vulnerability database.
pub trait PackageMatcher: Send + Sync {
    /// The findings for `packages` of a machine running `os`; an error
    /// when the database cannot say (no advisories for that OS).
    fn match_packages(
        &self,
        os: &OsRelease,
        packages: &[InstalledPackage],
    ) -> Result<Vec<VulnerabilityFinding>, String>;

    /// The database the findings come from.
    fn summary(&self) -> VulnerabilityDbSummary;
}

/// The machine's result from an inspection: its packages matched, errors
/// kept. A disk with no operating system found is an error, never clean;
/// packages that could not be matched (no advisories for the OS, no
/// database) are `match_errors`: the disk was read, its vulnerabilities
/// are not known.
pub fn machine_scan(
    resource: &str,
    snapshot: Option<String>,
    inspection: Inspection,
    matcher: &dyn PackageMatcher,
) -> MachineScan {
    let Inspection {
        os,
        packages,
        secrets,
        mut errors,
    } = inspection;
    let mut findings = Vec::new();
    let mut match_errors = Vec::new();
    match &os {
        Some(os) => match matcher.match_packages(os, &packages) {
            Ok(found) => findings = found,
            Err(e) => match_errors.push(e),
        },
        None if errors.is_empty() => {
            errors.push("no operating system found on the disk (no `/etc/os-release`)".to_owned());
        }
        None => {}
    }
    MachineScan {
        match_errors,
        source: MachineSource::Disk,
        resource: resource.to_owned(),
        snapshot,
        scanned_at: OffsetDateTime::now_utc(),
        os,
        packages_scanned: packages.len() as u64,
        findings,
        secrets,
        errors,
    }
}

/// `rampart disk-scan`: reads one existing snapshot (never deleted) and
/// matches its packages. The result's resource is the snapshot's ARN
/// (`arn:aws:ec2:REGION::snapshot/ID`, as EC2 writes snapshot ARNs).
pub async fn scan_snapshot(
    access: &AwsAccess,
    region: &str,
    snapshot: &str,
    inspector: &dyn DiskInspector,
    matcher: &dyn PackageMatcher,
) -> MachineScan {
    let inspection = inspector.inspect(access, region, snapshot).await;
    machine_scan(
        &format!("arn:aws:ec2:{region}::snapshot/{snapshot}"),
        Some(snapshot.to_owned()),
        inspection,
        matcher,
    )
}

/// `rampart disk-scan` with the given inspector and matcher: the document
/// of one snapshot.
pub async fn disk_scan_with(
    access: &AwsAccess,
    region: &str,
    snapshot: &str,
    inspector: &dyn DiskInspector,
    matcher: &dyn PackageMatcher,
) -> VulnerabilitiesDocument {
    let machine = scan_snapshot(access, region, snapshot, inspector, matcher).await;
    VulnerabilitiesDocument::new(OffsetDateTime::now_utc(), matcher.summary(), vec![machine])
}

/// `rampart disk-scan`: reads snapshot `snapshot` of `region` with
/// `aws` through the EBS direct APIs, matching with the vulnerability
/// database in the store `db`. The snapshot is only read.
pub async fn disk_scan(
    aws: &AwsSettings,
    db: &Path,
    region: &str,
    snapshot: &str,
) -> Result<VulnerabilitiesDocument, EngineError> {
    if !db.exists() {
        return Err(EngineError::VulnDb(format!(
            "no store at `{}`; import OSV records with `rampart vulndb import` first",
            db.display()
        )));
    }
    let matcher = StoreMatcher::open(db)?;
    let access = AwsAccess::load(aws).await?;
    Ok(disk_scan_with(
        &access,
        region,
        snapshot,
        &EbsInspector::default(),
        &matcher,
    )
    .await)
}

/// Reads snapshots through the EBS direct APIs ([`EbsSnapshot`]), finds
/// the root filesystem ([`rampart_disk::open_root`]) and inspects it
/// ([`inspect_tree`]). What cannot be read is the inspection's error.
#[derive(Debug, Clone, Default)]
pub struct EbsInspector {
    /// How blocks are read (cache, read-ahead, checksums).
    pub ebs: EbsOptions,
    /// What inspection reads.
    pub inspect: InspectOptions,
}

impl DiskInspector for EbsInspector {
    fn inspect<'a>(
        &'a self,
        access: &'a AwsAccess,
        region: &'a str,
        snapshot: &'a str,
    ) -> BoxFuture<'a, Inspection> {
        Box::pin(async move {
            let failed = |error: String| Inspection {
                errors: vec![error],
                ..Inspection::default()
            };
            let source =
                match EbsSnapshot::open(access.ebs(region), snapshot, self.ebs.clone()).await {
                    Ok(source) => source,
                    Err(e) => return failed(format!("cannot read snapshot `{snapshot}`: {e}")),
                };
            let options = self.inspect.clone();
            let id = snapshot.to_owned();
            let read = tokio::task::spawn_blocking(move || {
                match rampart_disk::open_root(Arc::new(source)) {
                    Ok(root) => inspect_tree(&root, &options),
                    Err(e) => Inspection {
                        errors: vec![format!(
                            "no readable root filesystem in snapshot `{id}`: {e}"
                        )],
                        ..Inspection::default()
                    },
                }
            })
            .await;
            read.unwrap_or_else(|e| failed(format!("reading snapshot `{snapshot}` stopped: {e}")))
        })
    }
}

/// The vulnerability database held in the store.
pub fn vulnerability_db_summary(store: &Store) -> Result<VulnerabilityDbSummary, EngineError> {
    Ok(store.vulndb_summary()?)
}

/// Inspects a machine's root filesystem with [`rampart_machine::inspect`]:
/// operating system, installed packages, secrets and what could not be
/// read.
pub fn inspect_tree(tree: &dyn FileTree, options: &InspectOptions) -> Inspection {
    let inventory = rampart_machine::inspect(tree, options);
    let errors = inventory.error_messages();
    Inspection {
        os: inventory.os,
        packages: inventory.packages,
        secrets: inventory.secrets,
        errors,
    }
}

/// Matches packages with the vulnerability database in the store: one
/// [`VulnIndex`] per operating-system release, loaded the first time a
/// machine of that release is matched and kept for the run.
pub struct StoreMatcher {
    store: Mutex<Store>,
    indexes: Mutex<HashMap<String, Arc<VulnIndex>>>,
    summary: VulnerabilityDbSummary,
}

impl StoreMatcher {
    /// A matcher over the store `db`; an error when no advisory was
    /// imported (every machine would otherwise look clean).
    pub fn open(db: &Path) -> Result<Self, EngineError> {
        let store = Store::open(db)?;
        let summary = store.vulndb_summary()?;
        if summary.records == 0 {
            return Err(EngineError::VulnDb(format!(
                "no advisory in `{}`; import OSV records with `rampart vulndb import`",
                db.display()
            )));
        }
        Ok(Self {
            store: Mutex::new(store),
            indexes: Mutex::new(HashMap::new()),
            summary,
        })
    }

    fn index(&self, selection: &EcosystemSelection) -> Result<Arc<VulnIndex>, String> {
        let key = format!("{:?}|{:?}", selection.exact, selection.prefixes);
        if let Some(index) = self.indexes.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(index);
        }
        let index = self
            .store
            .lock()
            .map_err(|_| "the vulnerability database's store is poisoned".to_owned())?
            .vuln_index(selection)
            .map_err(|e| format!("cannot load advisories: {e}"))?;
        let index = Arc::new(index);
        if let Ok(mut m) = self.indexes.lock() {
            m.insert(key, index.clone());
        }
        Ok(index)
    }
}

impl PackageMatcher for StoreMatcher {
    fn match_packages(
        &self,
        os: &OsRelease,
        packages: &[InstalledPackage],
    ) -> Result<Vec<VulnerabilityFinding>, String> {
        let selection = ecosystems_for(os).ok_or_else(|| {
            format!(
                "no vulnerability database ecosystem for `{}` `{}`",
                os.id,
                os.version_id.as_deref().unwrap_or("")
            )
        })?;
        let index = self.index(&selection)?;
        if index.is_empty() {
            return Err(format!(
                "no advisory imported for `{}`; import its OSV records with `rampart vulndb import`",
                selection
                    .exact
                    .iter()
                    .chain(&selection.prefixes)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("`, `")
            ));
        }
        Ok(index.match_in(&selection, packages))
    }

    fn summary(&self) -> VulnerabilityDbSummary {
        self.summary.clone()
    }
}

/// The matcher used when the store holds no vulnerability database: every
/// match fails with why, so no machine looks free of vulnerabilities.
struct NoDatabase(String);

impl PackageMatcher for NoDatabase {
    fn match_packages(
        &self,
        _os: &OsRelease,
        _packages: &[InstalledPackage],
    ) -> Result<Vec<VulnerabilityFinding>, String> {
        Err(self.0.clone())
    }

    fn summary(&self) -> VulnerabilityDbSummary {
        VulnerabilityDbSummary::default()
    }
}

/// Matches a package list SSM inventory reported for `resource` (the
/// Servers plan's software inventory) with the same matcher as disks.
pub fn match_inventory_packages(
    resource: &str,
    os: Option<OsRelease>,
    packages: &[InstalledPackage],
    matcher: &dyn PackageMatcher,
) -> MachineScan {
    let mut scan = machine_scan(
        resource,
        None,
        Inspection {
            os,
            packages: packages.to_vec(),
            ..Inspection::default()
        },
        matcher,
    );
    scan.source = MachineSource::SsmInventory;
    scan
}

/// Machine results from the Servers plan's SSM software inventory: one per
/// [`types::SSM_INSTANCE_INVENTORY`] asset of an EC2 instance that has no
/// disk result in `read` (agentless scanning off, excluded by tag, or not
/// due), an operating system Rampart knows, and at least one package. The
/// packages are matched by the same matcher as disks; the result's source
/// is [`MachineSource::SsmInventory`] (no secrets: the disk was not read).
pub fn inventory_machine_scans(
    inventory: &[&Asset],
    read: &BTreeSet<String>,
    matcher: &dyn PackageMatcher,
    threshold: VulnerabilitySeverity,
) -> AgentlessOutcome {
    let mut out = AgentlessOutcome::default();
    for asset in inventory {
        if asset.resource_type != types::SSM_INSTANCE_INVENTORY {
            continue;
        }
        let props = &asset.properties;
        let Some(id) = props
            .get("instanceId")
            .and_then(serde_json::Value::as_str)
            .filter(|id| id.starts_with("i-"))
        else {
            continue;
        };
        let arn = format!(
            "arn:aws:ec2:{}:{}:instance/{id}",
            asset.region, asset.account
        );
        if read.contains(&arn) {
            continue;
        }
        let Some(os) = rampart_model::ssm_inventory::os_release(props) else {
            continue;
        };
        let packages = rampart_model::ssm_inventory::installed_packages(props);
        if packages.is_empty() {
            continue;
        }
        let mut scan = match_inventory_packages(&arn, Some(os), &packages, matcher);
        if let Some(captured) = props
            .get("applicationsCaptureTime")
            .and_then(serde_json::Value::as_str)
            .and_then(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
        {
            scan.scanned_at = captured;
        }
        out.machines.push(scan);
    }
    out.machines.sort_by(|a, b| a.resource.cmp(&b.resource));
    out.assets = out
        .machines
        .iter()
        .map(|m| machine_asset(m, threshold))
        .collect();
    out
}

/// Reads a machine's root snapshot with an inspector and a matcher: the
/// [`SnapshotReader`] of the fleet flow.
pub struct InspectingReader<'a> {
    /// How the snapshots are read.
    pub access: &'a AwsAccess,
    /// Opens and inspects a snapshot.
    pub inspector: &'a dyn DiskInspector,
    /// Matches packages.
    pub matcher: &'a dyn PackageMatcher,
}

impl SnapshotReader for InspectingReader<'_> {
    fn read<'a>(
        &'a self,
        machine: &'a Machine,
        snapshots: &'a [VolumeSnapshot],
    ) -> BoxFuture<'a, MachineScan> {
        Box::pin(async move {
            let Some(root) = snapshots
                .iter()
                .find(|s| s.root)
                .or_else(|| snapshots.first())
            else {
                return machine_scan(
                    &machine.arn,
                    None,
                    Inspection {
                        errors: vec!["no snapshot to read".to_owned()],
                        ..Inspection::default()
                    },
                    self.matcher,
                );
            };
            let inspection = self
                .inspector
                .inspect(self.access, &machine.region, &root.snapshot_id)
                .await;
            machine_scan(
                &machine.arn,
                Some(root.snapshot_id.clone()),
                inspection,
                self.matcher,
            )
        })
    }
}

/// What the agentless step did in one account.
#[derive(Debug, Default)]
pub struct AgentlessOutcome {
    /// One result per machine in scope (new, or carried over from the
    /// last scan when the machine is not due yet).
    pub machines: Vec<MachineScan>,
    /// One [`types::MACHINE_SCAN`] asset per machine.
    pub assets: Vec<Asset>,
    /// What could not be done (listing, sweeping, clean-up).
    pub gaps: Vec<CoverageGap>,
    /// What happened per machine scanned now (snapshots made, re-used,
    /// deleted).
    pub outcomes: Vec<MachineOutcome>,
}

/// One account's agentless run, as a connector's scan reaches it.
pub trait MachineScanner: Send + Sync {
    /// Scans the machines of `target`'s account; `previous` holds each
    /// machine's last stored result by ARN (machines scanned recently are
    /// not scanned again: their result is carried over).
    fn scan<'a>(
        &'a self,
        target: ProvisionTarget<'a>,
        previous: &'a BTreeMap<String, MachineScan>,
    ) -> BoxFuture<'a, AgentlessOutcome>;

    /// Matches the package lists SSM inventory reported (`inventory`, the
    /// scan's [`types::SSM_INSTANCE_INVENTORY`] assets of accounts with the
    /// Servers plan) for the instances without a disk result in `read`
    /// ([`inventory_machine_scans`]). None by default.
    fn match_inventory(&self, inventory: &[&Asset], read: &BTreeSet<String>) -> AgentlessOutcome {
        let _ = (inventory, read);
        AgentlessOutcome::default()
    }
}

/// How the agentless step runs.
#[derive(Debug, Clone)]
pub struct AgentlessOptions {
    /// Findings at or above this severity make a machine unhealthy.
    pub severity_threshold: VulnerabilitySeverity,
    /// A machine is scanned at most once in this long.
    pub rescan_after: Duration,
    /// Snapshot waits, concurrency, time budget (the connector, tags and
    /// grantee are filled per account).
    pub settings: AgentlessSettings,
}

impl Default for AgentlessOptions {
    fn default() -> Self {
        Self {
            severity_threshold: VulnerabilitySeverity::High,
            rescan_after: agentless::DEFAULT_RESCAN_AFTER,
            settings: AgentlessSettings::default(),
        }
    }
}

/// The agentless step of the Servers plan: [`scan_account`] with the
/// plan's role, matching with the vulnerability database of the store
/// file `vulndb`. One matcher (and its per-OS indexes) serves every
/// account of a scan and later scans; it is loaded again when an import
/// changed the database.
pub struct AgentlessScanner {
    /// Opens and inspects snapshots.
    pub inspector: Arc<dyn DiskInspector>,
    /// The store file holding the vulnerability database.
    pub vulndb: PathBuf,
    /// Options.
    pub options: AgentlessOptions,
    /// The matcher of the database as last loaded.
    matcher: Mutex<Option<Arc<StoreMatcher>>>,
}

impl AgentlessScanner {
    /// The step as scans run it: snapshots read through the EBS direct
    /// APIs, the vulnerability database of the store `db`, default options.
    pub fn new(db: &Path) -> Self {
        Self {
            inspector: Arc::new(EbsInspector::default()),
            vulndb: db.to_owned(),
            options: AgentlessOptions::default(),
            matcher: Mutex::new(None),
        }
    }

    /// The matcher of the database as it is now: the one loaded before
    /// while the database's summary (sources, import time, records) is
    /// unchanged, else a new one.
    fn matcher(&self) -> Result<Arc<StoreMatcher>, EngineError> {
        let now = Store::open(&self.vulndb)?.vulndb_summary()?;
        let mut cached = self
            .matcher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(matcher) = cached.as_ref().filter(|m| m.summary == now) {
            return Ok(matcher.clone());
        }
        let matcher = Arc::new(StoreMatcher::open(&self.vulndb)?);
        *cached = Some(matcher.clone());
        Ok(matcher)
    }
}

/// The connector's Servers offering, if it has one.
pub fn servers_offering(connector: &Connector) -> Option<&ServersOffering> {
    match connector.offering(Plan::Servers) {
        Some(Offering::DefenderForServersAws(o)) => Some(o),
        _ => None,
    }
}

impl MachineScanner for AgentlessScanner {
    fn scan<'a>(
        &'a self,
        target: ProvisionTarget<'a>,
        previous: &'a BTreeMap<String, MachineScan>,
    ) -> BoxFuture<'a, AgentlessOutcome> {
        Box::pin(async move {
            let connector = target.connector;
            let Some(offering) = servers_offering(connector) else {
                return AgentlessOutcome::default();
            };
            if !offering.agentless_enabled() || connector.is_classic() {
                return AgentlessOutcome::default();
            }
            let account = connector.account();
            let role = &offering.defender_for_servers.cloud_role_arn;
            let access = match role_access(
                connector,
                Plan::Servers,
                role,
                target.keys_dir,
                target.aws,
            )
            .await
            {
                Ok(access) => access,
                Err(e) => {
                    return AgentlessOutcome {
                        gaps: vec![gap(
                            account,
                            target.regions.first().map_or("us-east-1", String::as_str),
                            "sts",
                            "AssumeRoleWithWebIdentity",
                            GapKind::AccessDenied,
                            format!("agentless scanning as `{role}`: {e}"),
                        )],
                        ..AgentlessOutcome::default()
                    };
                }
            };
            // Without a vulnerability database the disks are still read
            // (secrets, packages); each machine says why its packages
            // were not matched, and the account gets one gap.
            let (matcher, missing): (Arc<dyn PackageMatcher>, Option<CoverageGap>) =
                match self.matcher() {
                    Ok(matcher) => (matcher, None),
                    Err(e) => (
                        Arc::new(NoDatabase(e.to_string())),
                        Some(gap(
                            account,
                            target.regions.first().map_or("us-east-1", String::as_str),
                            "ec2",
                            "AgentlessScanning",
                            GapKind::Other,
                            format!("packages not matched: {e}"),
                        )),
                    ),
                };
            let mut options = self.options.clone();
            options.settings.connector = connector.id.to_string();
            options.settings.scope_tags = offering.scope_by_tags.clone();
            options.settings.exclusion_tags = offering.exclusion_tags();
            options.settings.grantee = Some(role.clone());
            let mut outcome = scan_account(
                &access,
                account,
                target.regions,
                &options,
                previous,
                self.inspector.as_ref(),
                matcher.as_ref(),
            )
            .await;
            outcome.gaps.extend(missing);
            outcome
        })
    }

    fn match_inventory(&self, inventory: &[&Asset], read: &BTreeSet<String>) -> AgentlessOutcome {
        if inventory.is_empty() {
            return AgentlessOutcome::default();
        }
        match self.matcher() {
            Ok(matcher) => inventory_machine_scans(
                inventory,
                read,
                matcher.as_ref(),
                self.options.severity_threshold,
            ),
            Err(e) => {
                let first = inventory.first();
                AgentlessOutcome {
                    gaps: vec![gap(
                        first.map_or("", |a| a.account.as_str()),
                        first.map_or("us-east-1", |a| a.region.as_str()),
                        "ssm",
                        "InventoryMatching",
                        GapKind::Other,
                        format!("SSM inventory packages not matched: {e}"),
                    )],
                    ..AgentlessOutcome::default()
                }
            }
        }
    }
}

/// The agentless run of one account with `access`: per region, sweep
/// leftovers, list the machines in scope, scan those due (at most once per
/// `rescan_after`; the others keep their last result), then one asset per
/// machine.
pub async fn scan_account(
    access: &AwsAccess,
    account: &str,
    regions: &[String],
    options: &AgentlessOptions,
    previous: &BTreeMap<String, MachineScan>,
    inspector: &dyn DiskInspector,
    matcher: &dyn PackageMatcher,
) -> AgentlessOutcome {
    let mut out = AgentlessOutcome::default();
    let mut due = Vec::new();
    let now = OffsetDateTime::now_utc();
    for region in regions {
        match agentless::sweep(access, region, agentless::LEFTOVER_AGE).await {
            Ok(report) => {
                for (id, error) in report.failed {
                    out.gaps.push(gap(
                        account,
                        region,
                        "ec2",
                        "DeleteSnapshot",
                        GapKind::Other,
                        format!("leftover Rampart snapshot `{id}`: {error}"),
                    ));
                }
            }
            Err(f) => out.gaps.push(gap(
                account,
                region,
                "ec2",
                "DescribeSnapshots",
                f.kind,
                f.message,
            )),
        }
        match agentless::list_machines(access, account, region, &options.settings).await {
            Ok(machines) => {
                for machine in machines {
                    // Only a disk result counts: a result from SSM
                    // inventory never stands in for reading the disk.
                    let recent = previous.get(&machine.arn).filter(|last| {
                        last.source == MachineSource::Disk
                            && now - last.scanned_at < options.rescan_after
                    });
                    match recent {
                        Some(last) => out.machines.push(last.clone()),
                        None => due.push(machine),
                    }
                }
            }
            Err(f) => out.gaps.push(gap(
                account,
                region,
                "ec2",
                f.operation,
                f.failure.kind,
                format!("agentless scanning: {}", f.failure.message),
            )),
        }
    }
    let reader = InspectingReader {
        access,
        inspector,
        matcher,
    };
    let outcomes = agentless::scan_machines(access, &options.settings, &due, &reader).await;
    for (machine, outcome) in due.iter().zip(&outcomes) {
        for failure in &outcome.cleanup_failures {
            out.gaps.push(gap(
                account,
                &machine.region,
                "ec2",
                "DeleteSnapshot",
                GapKind::Other,
                format!("`{}`: {failure}", machine.instance_id),
            ));
        }
        out.machines.push(outcome.scan.clone());
    }
    out.outcomes = outcomes;
    out.machines.sort_by(|a, b| a.resource.cmp(&b.resource));
    out.assets = out
        .machines
        .iter()
        .map(|m| machine_asset(m, options.severity_threshold))
        .collect();
    out
}

/// The [`types::MACHINE_SCAN`] asset of a machine's result: the result's
/// fields, `resourceArn` (the instance) and `severityThreshold`.
pub fn machine_asset(scan: &MachineScan, threshold: VulnerabilitySeverity) -> Asset {
    let mut parts = scan.resource.split(':');
    let region = parts.nth(3).unwrap_or_default().to_owned();
    let account = parts.next().unwrap_or_default().to_owned();
    let id = scan
        .resource
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut properties = serde_json::to_value(scan).unwrap_or_else(|_| json!({}));
    if let Some(map) = properties.as_object_mut() {
        map.insert("resourceArn".into(), json!(scan.resource));
        map.insert("instanceId".into(), json!(id));
        map.insert("severityThreshold".into(), json!(threshold.as_str()));
    }
    Asset::new(
        format!("arn:rampart:ec2:{region}:{account}:machine-scan/{id}"),
        types::MACHINE_SCAN,
        account,
        region,
        id,
        properties,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use rampart_model::machine::PackageFormat;

    use super::*;

    /// Flags every package named `bad` as a critical finding.
    struct FlagBad;

    impl PackageMatcher for FlagBad {
        fn match_packages(
            &self,
            os: &OsRelease,
            packages: &[InstalledPackage],
        ) -> Result<Vec<VulnerabilityFinding>, String> {
            if os.id == "plan9" {
                return Err("no advisories for `plan9`".to_owned());
            }
            Ok(packages
                .iter()
                .filter(|p| p.name == "bad")
                .map(|p| VulnerabilityFinding {
                    package: p.name.clone(),
                    source_package: None,
                    installed_version: p.version.clone(),
                    fixed_version: None,
                    vulnerability: "TEST-1".into(),
                    aliases: vec![],
                    severity: VulnerabilitySeverity::Critical,
                    ecosystem: "Debian:12".into(),
                })
                .collect())
        }

        fn summary(&self) -> VulnerabilityDbSummary {
            VulnerabilityDbSummary::default()
        }
    }

    fn pkg(name: &str) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            version: "1".into(),
            format: PackageFormat::Deb,
            source_name: None,
            source_version: None,
            arch: None,
        }
    }

    #[test]
    fn a_disk_without_an_os_is_an_error_not_clean() {
        let scan = machine_scan(
            "arn:aws:ec2:us-east-1:1:instance/i-1",
            None,
            Inspection::default(),
            &FlagBad,
        );
        assert_eq!(scan.findings, vec![]);
        assert_eq!(scan.errors.len(), 1, "{scan:?}");
    }

    #[test]
    fn inventory_packages_are_matched_like_disks() {
        let os = OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..OsRelease::default()
        };
        let scan = match_inventory_packages(
            "arn:aws:ec2:us-east-1:1:instance/i-1",
            Some(os.clone()),
            &[pkg("bad"), pkg("good")],
            &FlagBad,
        );
        assert_eq!(scan.packages_scanned, 2);
        assert_eq!(scan.findings.len(), 1);
        assert!(scan.errors.is_empty());
        let unknown = match_inventory_packages(
            "arn:aws:ec2:us-east-1:1:instance/i-1",
            Some(OsRelease {
                id: "plan9".into(),
                ..os
            }),
            &[pkg("bad")],
            &FlagBad,
        );
        assert!(unknown.findings.is_empty());
        assert_eq!(unknown.match_errors, ["no advisories for `plan9`"]);
    }

    fn inventory_asset(id: &str, os: &str, apps: &[&str]) -> Asset {
        let applications: Vec<serde_json::Value> = apps
            .iter()
            .map(|name| json!({"name": name, "version": "1.0", "release": "1.amzn2023"}))
            .collect();
        Asset::new(
            format!("arn:rampart:ssm:us-east-1:123456789012:inventory/{id}"),
            types::SSM_INSTANCE_INVENTORY,
            "123456789012",
            "us-east-1",
            id,
            json!({
                "instanceId": id,
                "os": {"name": os, "version": "2023", "platformType": "Linux"},
                "applicationsCaptureTime": "2026-11-30T08:00:00Z",
                "applications": applications,
            }),
        )
    }

    #[test]
    fn ssm_inventory_stands_in_only_where_no_disk_was_read() {
        let assets = [
            inventory_asset("i-1", "Amazon Linux", &["bad", "good"]),
            inventory_asset("i-2", "Amazon Linux", &["bad"]),
            // Windows: no ecosystem to match against.
            inventory_asset("i-3", "Microsoft Windows Server 2022 Datacenter", &["bad"]),
            // Nothing reported yet.
            inventory_asset("i-4", "Amazon Linux", &[]),
            // A hybrid managed instance is not an EC2 machine.
            inventory_asset("mi-5", "Amazon Linux", &["bad"]),
        ];
        let inventory: Vec<&Asset> = assets.iter().collect();
        let read = BTreeSet::from(["arn:aws:ec2:us-east-1:123456789012:instance/i-2".to_owned()]);
        let out = inventory_machine_scans(&inventory, &read, &FlagBad, VulnerabilitySeverity::High);
        assert_eq!(out.machines.len(), 1, "{:?}", out.machines);
        let scan = &out.machines[0];
        assert_eq!(
            scan.resource,
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
        );
        assert_eq!(scan.source, MachineSource::SsmInventory);
        assert_eq!(scan.snapshot, None);
        assert_eq!(scan.packages_scanned, 2);
        assert_eq!(scan.findings.len(), 1);
        assert_eq!(scan.findings[0].package, "bad");
        assert_eq!(
            scan.scanned_at,
            OffsetDateTime::parse(
                "2026-11-30T08:00:00Z",
                &time::format_description::well_known::Rfc3339
            )
            .unwrap()
        );
        assert_eq!(out.assets.len(), 1);
        assert_eq!(out.assets[0].properties["source"], "ssm-inventory");
    }

    #[test]
    fn without_a_database_the_disk_is_read_and_the_packages_are_not_matched() {
        let os = OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..OsRelease::default()
        };
        let secret = SecretFinding {
            path: "/root/.aws/credentials".into(),
            kind: "aws-access-key".into(),
            fingerprint: "sha256:00".into(),
        };
        let scan = machine_scan(
            "arn:aws:ec2:us-east-1:1:instance/i-1",
            Some("snap-1".into()),
            Inspection {
                os: Some(os),
                packages: vec![pkg("bad")],
                secrets: vec![secret.clone()],
                errors: vec![],
            },
            &NoDatabase("no advisory in `rampart.db`".into()),
        );
        assert!(scan.errors.is_empty());
        assert_eq!(scan.match_errors, ["no advisory in `rampart.db`"]);
        assert_eq!(scan.secrets, [secret]);
        assert!(scan.findings.is_empty());
        assert_eq!(scan.problems(), ["no advisory in `rampart.db`"]);
    }

    #[test]
    fn one_matcher_serves_until_the_database_changes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rampart.db");
        let zip = dir.path().join("all.zip");
        rampart_testkit::osv::write_fixtures_zip(&zip, false);
        let mut store = Store::open(&db).unwrap();
        let import = |store: &mut Store, at: OffsetDateTime| {
            store.import_vulndb(&zip, at, &mut |_| {}).unwrap();
        };
        import(&mut store, time::macros::datetime!(2026-12-01 00:00 UTC));
        let scanner = AgentlessScanner::new(&db);
        let first = scanner.matcher().unwrap();
        assert!(Arc::ptr_eq(&first, &scanner.matcher().unwrap()));
        import(&mut store, time::macros::datetime!(2026-12-02 00:00 UTC));
        assert!(!Arc::ptr_eq(&first, &scanner.matcher().unwrap()));
    }

    #[test]
    fn the_machine_asset_names_the_instance() {
        let scan = match_inventory_packages(
            "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc",
            None,
            &[],
            &FlagBad,
        );
        let asset = machine_asset(&scan, VulnerabilitySeverity::High);
        assert_eq!(asset.resource_type, types::MACHINE_SCAN);
        assert_eq!(asset.account, "123456789012");
        assert_eq!(asset.region, "eu-west-1");
        assert_eq!(asset.properties["resourceArn"], scan.resource);
        assert_eq!(asset.properties["severityThreshold"], "high");
    }
}
