//! Scanning through connectors: `rampart scan --connector` and the
//! server's scans (API triggers and the scheduler).
//!
//! A native connector's scan runs as its CSPM role, assumed with a token the
//! issuer mints for the connector (`sub`) and the CSPM audience (`aud`), as
//! session `Rampart_<name>`. An organization's connector first refreshes its
//! member connectors from `ListAccounts`, then scans the management account
//! and every member concurrently (at most [`ACCOUNTS_AT_ONCE`]), each with
//! its own credentials, into one snapshot; a member whose credentials or
//! identity fail is a coverage gap, not a failed scan.
//!
//! An account connected both natively and through a classic connector is
//! scanned once, through the native connector, with a warning.
//!
//! Each account reached goes through the connector's plans' provisioning
//! steps ([`crate::provisioning`]) before it is collected.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use rampart_aws::{AccessError, AwsSettings, Progress, ScanPlan, collect_account};
use rampart_catalog::exemptions::Exemptions;
use rampart_connector::{Connector, Plan};
use rampart_model::{CoverageGap, GapKind, ScanRecord, ScanStatus};
use rampart_store::Store;
use time::OffsetDateTime;

use crate::EngineError;
use crate::agentless::{AgentlessOutcome, MachineScanner};
use crate::credentials::{Credentials, Target};
use crate::organization::{excluded, sync_members};
use crate::provisioning::{ProvisionTarget, Provisioner, provision_account};
use crate::scan::{Narrowed, StoredScan, interrupted, scan_regions, store_complete};

/// Accounts of an organization scanned at once.
pub const ACCOUNTS_AT_ONCE: usize = 4;

/// The native connector to scan instead of a classic one for the same
/// account, and the classic connectors an account's native scan skips.
fn native_for(all: &[Connector], classic: &Connector) -> Option<Connector> {
    all.iter()
        .find(|c| {
            !c.is_classic() && c.account() == classic.account() && c.role_arn(Plan::Cspm).is_some()
        })
        .cloned()
}

fn classic_twins<'a>(all: &'a [Connector], account: &str) -> Vec<&'a Connector> {
    all.iter()
        .filter(|c| c.is_classic() && c.account() == account)
        .collect()
}

/// A scan through a connector, as `rampart scan --connector` and the
/// server's scans (API triggers and the scheduler) run it.
pub struct ConnectorScanRequest<'a> {
    /// The store: the connector and its secrets are read from it, the scan
    /// is written to it.
    pub store: &'a mut Store,
    /// The keys directory (the issuer's keys, the classic secret key).
    pub keys_dir: PathBuf,
    /// The AWS settings to start from (profile, endpoint, retries,
    /// timeouts); each account's credentials replace the default ones.
    pub aws: AwsSettings,
    /// The connector's name or id.
    pub connector: String,
    /// The new scan's id.
    pub scan_id: String,
    /// Only these regions (default: the connector's, else every enabled one).
    pub regions: Option<Vec<String>>,
    /// Only these services (already checked to exist).
    pub services: Option<Vec<String>>,
    /// Only these accounts (default: every account the connector reaches).
    /// Either the connector's own account, with any of its members (an
    /// organization's members are synced first, as in a full scan), or one
    /// member account alone, which is then scanned through its member
    /// connector and recorded as that connector's scan: what a queued scan
    /// of an organization runs, one job per account
    /// ([`crate::worker::queue_scan`]).
    pub accounts: Option<Vec<String>>,
    /// API calls in flight at once per service and region.
    pub concurrency: usize,
    /// Exemptions applied to the scan's assessments.
    pub exemptions: &'a Exemptions,
    /// The plans' provisioning steps, run in each account reached before
    /// it is collected ([`crate::provisioning`]; the Containers plan's
    /// [`crate::containers::ContainersProvisioner`]).
    pub provisioners: &'a [Arc<dyn Provisioner>],
    /// The Servers plan's agentless step ([`crate::agentless`]), run in
    /// each account reached alongside collection (not in scans narrowed
    /// to services); its machine results are stored with the scan.
    pub machine_scanners: &'a [Arc<dyn MachineScanner>],
    /// The SQL plan's vulnerability assessment ([`crate::sql`]), run in
    /// each account reached after collection (not in scans narrowed to
    /// services); its assessments are assets of the scan.
    pub sql_assessors: &'a [Arc<dyn crate::sql::SqlAssessor>],
}

/// A scan through a connector, stored complete.
#[derive(Debug)]
pub struct ConnectorScanOutcome {
    /// The connector scanned (the native one when a classic connector of
    /// the same account was requested).
    pub connector: Connector,
    /// The stored snapshot, its assessments and catalog.
    pub scan: StoredScan,
    /// API calls by service and operation, every account together.
    pub calls: BTreeMap<(String, String), u64>,
}

/// The connector that reaches `account` of `connector`: the connector
/// itself for its own account, else the member connector of that account
/// (an organization's member).
pub(crate) fn connector_of_account(
    store: &Store,
    connector: Connector,
    account: &str,
) -> Result<Connector, EngineError> {
    if connector.account() == account {
        return Ok(connector);
    }
    store
        .members_of(connector.account())?
        .into_iter()
        .find(|m| m.account() == account)
        .ok_or_else(|| EngineError::NotItsAccounts {
            connector: connector.name.clone(),
            accounts: account.to_owned(),
        })
}

/// Scans through a connector into one new snapshot and stores it complete,
/// recording the connector on the scan.
///
/// A native connector's accounts are reached with web identity tokens per
/// plan role; an organization's members are refreshed and scanned
/// concurrently; a classic connector of an account also connected natively
/// is scanned through the native one. Warnings (twins, member sync
/// problems) go to `warn` as they happen. When `cancel` completes first the
/// scan is stored `failed` and the error is exit 130.
pub async fn scan_connector(
    request: ConnectorScanRequest<'_>,
    progress: &dyn Progress,
    warn: &dyn Fn(&str),
    cancel: impl Future<Output = ()>,
) -> Result<ConnectorScanOutcome, EngineError> {
    let ConnectorScanRequest {
        store,
        keys_dir,
        aws: base,
        connector: name,
        scan_id,
        regions: requested_regions,
        services,
        accounts: only,
        concurrency,
        exemptions,
        provisioners,
        machine_scanners,
        sql_assessors,
    } = request;
    let requested = store
        .connector(&name)?
        .ok_or_else(|| EngineError::NoConnector(name.clone()))?;
    let all = store.connectors()?;

    // One account, one scan: a classic connector whose account is also
    // connected natively is scanned through the native connector.
    let connector = if requested.is_classic() {
        match native_for(&all, &requested) {
            Some(native) => {
                warn(&format!(
                    "warning: account {} is connected both natively (connector `{}`) and through classic connector `{}`; scanning it once, through `{}`",
                    requested.account(),
                    native.name,
                    requested.name,
                    native.name
                ));
                native
            }
            None => requested,
        }
    } else {
        for twin in classic_twins(&all, requested.account()) {
            warn(&format!(
                "warning: account {} is also connected through classic connector `{}`; scanning it once, through `{}`",
                requested.account(),
                twin.name,
                requested.name
            ));
        }
        requested
    };
    // One member alone: through its member connector.
    let connector = match only.as_deref() {
        Some([account]) => connector_of_account(store, connector, account)?,
        Some(list) if !list.iter().any(|a| a == connector.account()) => {
            return Err(EngineError::NotItsAccounts {
                connector: connector.name.clone(),
                accounts: list.join(", "),
            });
        }
        _ => connector,
    };
    if connector.role_arn(Plan::Cspm).is_none() {
        return Err(EngineError::NoCspm(connector.name.clone()));
    }

    let keys_dir = crate::Keys::new(keys_dir, store.location());
    let mut creds = Credentials::new(&keys_dir, store, &base);
    let primary_target = creds.target(&connector)?;
    let primary = primary_target.access(&base).await?;
    let identity = primary
        .caller_identity()
        .await
        .map_err(|error| EngineError::Identity {
            connector: connector.name.clone(),
            error,
        })?;
    if identity.account != connector.account() {
        return Err(EngineError::WrongAccount {
            connector: connector.name.clone(),
            expected: connector.account().to_owned(),
            actual: identity.account,
            arn: identity.arn,
        });
    }

    // An organization: refresh the member connectors, then reach each.
    let mut gaps: Vec<CoverageGap> = Vec::new();
    let mut members: Vec<Target> = Vec::new();
    if connector.is_organization() {
        match sync_members(store, &connector, &primary).await {
            Ok(report) => {
                for line in &report.problems {
                    warn(&format!("warning: {line}"));
                }
            }
            Err(err) => {
                warn(&format!(
                    "warning: cannot list the organization's accounts ({err}); scanning the member connectors already stored"
                ));
                gaps.push(CoverageGap {
                    account: connector.account().to_owned(),
                    region: primary.home_region().to_owned(),
                    service: "organizations".to_owned(),
                    operation: "ListAccounts".to_owned(),
                    kind: gap_kind(&err),
                    error: err.to_string(),
                    occurrences: 1,
                });
            }
        }
        let all = store.connectors()?;
        for member in store.members_of(connector.account())? {
            if excluded(&connector, member.account())
                || only
                    .as_ref()
                    .is_some_and(|list| !list.iter().any(|a| a == member.account()))
            {
                continue;
            }
            for twin in classic_twins(&all, member.account()) {
                warn(&format!(
                    "warning: account {} is also connected through classic connector `{}`; scanning it once, through member connector `{}`",
                    member.account(),
                    twin.name,
                    member.name
                ));
            }
            match creds.target(&member) {
                Ok(target) => members.push(target),
                Err(err) => gaps.push(account_gap(
                    member.account(),
                    primary.home_region(),
                    "AssumeRoleWithWebIdentity",
                    GapKind::Other,
                    &err.to_string(),
                )),
            }
        }
    }

    // A scan given services or regions covers only those slices.
    let narrowed = Narrowed::of(services.as_deref(), requested_regions.as_deref());
    // Regions: requested, else the connector's, else every enabled one.
    let requested_regions = requested_regions.or_else(|| {
        let regions = &connector.environment_data.regions;
        (!regions.is_empty()).then(|| regions.clone())
    });
    let regions = scan_regions(
        &primary,
        &identity.account,
        requested_regions.as_deref(),
        "pass `--regions` (or set the connector's regions) to scan without region discovery",
    )
    .await?;
    gaps.extend(regions.gap.clone());

    let mut accounts = vec![identity.account.clone()];
    accounts.extend(members.iter().map(|m| m.connector.account().to_owned()));
    for gap in &gaps {
        if !accounts.contains(&gap.account) {
            accounts.push(gap.account.clone());
        }
    }
    let record = ScanRecord {
        id: scan_id.clone(),
        started_at: OffsetDateTime::now_utc(),
        finished_at: None,
        status: ScanStatus::Running,
        accounts,
        regions: regions.all(),
        api_calls: 0,
        asset_count: 0,
        gap_count: 0,
    };
    store.begin_scan(&record)?;
    store.set_scan_connector(&scan_id, &connector.id.to_string())?;

    let plan_for = |account: &str| ScanPlan {
        account: account.to_owned(),
        home_region: primary.home_region().to_owned(),
        regions: regions.enabled.clone(),
        disabled_regions: regions.disabled.clone(),
        services: services.clone(),
        concurrency,
    };
    let progress = Accounts {
        inner: progress,
        planned: AtomicUsize::new(0),
    };
    let primary_plan = plan_for(&identity.account);
    // Each machine's last result: machines scanned recently keep it.
    let machine_scanners = if services.is_some() {
        &[][..]
    } else {
        machine_scanners
    };
    let previous: BTreeMap<String, rampart_model::machine::MachineScan> =
        if machine_scanners.is_empty() {
            BTreeMap::new()
        } else {
            store
                .latest_machine_results()?
                .into_iter()
                .map(|(arn, (_, scan))| (arn, scan))
                .collect()
        };
    let reached: Vec<&Connector> = std::iter::once(&connector)
        .chain(members.iter().map(|m| &m.connector))
        .collect();
    let scans = async {
        let mut provisioned = Vec::new();
        for reached in std::iter::once(&connector).chain(members.iter().map(|m| &m.connector)) {
            let target = ProvisionTarget {
                connector: reached,
                aws: &base,
                keys_dir: &keys_dir,
                regions: &regions.enabled,
            };
            provisioned.extend(provision_account(provisioners, target).await);
        }
        let management = async {
            let scan = collect_account(&primary, &primary_plan, &progress).await;
            let mut assets = scan.assets;
            // The Servers plan's settings, as an asset the catalog can assess.
            assets.push(crate::servers::plan_settings_asset(
                &connector,
                primary.home_region(),
            ));
            (assets, scan.gaps, primary.stats().snapshot())
        };
        let others = futures::stream::iter(members.iter())
            .map(|member| scan_member(&base, member, &plan_for, &progress))
            .buffer_unordered(ACCOUNTS_AT_ONCE)
            .collect::<Vec<_>>();
        let machines = async {
            let mut all = AgentlessOutcome::default();
            for &connector in &reached {
                if !connector.plans().contains(&Plan::Servers) {
                    continue;
                }
                let target = ProvisionTarget {
                    connector,
                    aws: &base,
                    keys_dir: &keys_dir,
                    regions: &regions.enabled,
                };
                for scanner in machine_scanners {
                    let outcome = scanner.scan(target, &previous).await;
                    all.machines.extend(outcome.machines);
                    all.assets.extend(outcome.assets);
                    all.gaps.extend(outcome.gaps);
                }
            }
            all
        };
        let (management, others, machines) = futures::join!(management, others, machines);
        (management, others, provisioned, machines)
    };
    let ((mut assets, primary_gaps, mut calls), others, provisioned, machines) = tokio::select! {
        result = scans => result,
        () = cancel => return Err(interrupted(store, &scan_id)),
    };

    gaps.extend(provisioned);
    gaps.extend(primary_gaps);
    gaps.extend(machines.gaps);
    assets.extend(machines.assets);
    for (member_assets, member_gaps, member_calls) in others {
        assets.extend(member_assets);
        gaps.extend(member_gaps);
        for (key, n) in member_calls {
            *calls.entry(key).or_default() += n;
        }
    }
    // The Servers plan's SSM inventory, matched like a disk's packages for
    // the instances agentless scanning did not read.
    let mut machine_results = machines.machines;
    if !machine_scanners.is_empty() {
        let servers_accounts: BTreeSet<&str> = reached
            .iter()
            .filter(|c| c.plans().contains(&Plan::Servers))
            .map(|c| c.account())
            .collect();
        let read: BTreeSet<String> = machine_results.iter().map(|m| m.resource.clone()).collect();
        let inventory: Vec<&rampart_model::Asset> = assets
            .iter()
            .filter(|a| {
                a.resource_type == rampart_model::types::SSM_INSTANCE_INVENTORY
                    && servers_accounts.contains(a.account.as_str())
            })
            .collect();
        let matched: Vec<AgentlessOutcome> = machine_scanners
            .iter()
            .map(|scanner| scanner.match_inventory(&inventory, &read))
            .collect();
        for outcome in matched {
            machine_results.extend(outcome.machines);
            assets.extend(outcome.assets);
            gaps.extend(outcome.gaps);
        }
    }
    store.put_machine_scans(&scan_id, &machine_results)?;
    // The SQL plan's vulnerability assessment, over the SQL Servers the
    // collection found.
    if services.is_none() {
        let mut va_assets = Vec::new();
        for &reached in &reached {
            if !reached.plans().contains(&Plan::Sql) {
                continue;
            }
            for assessor in sql_assessors {
                let (found, found_gaps) = assessor.assess(reached, &base, &keys_dir, &assets).await;
                va_assets.extend(found);
                gaps.extend(found_gaps);
            }
        }
        assets.extend(va_assets);
    }
    assets.sort_by(|a, b| {
        (&a.resource_type, &a.account, &a.region, &a.arn).cmp(&(
            &b.resource_type,
            &b.account,
            &b.region,
            &b.arn,
        ))
    });
    let api_calls = calls.values().sum();
    // One write transaction from reading the current posture to storing
    // the snapshot: scans completing at once (the jobs of one queued
    // organization scan) each merge the other's slice, not its previous one.
    let scan = store.write(|store| {
        store_complete(
            store,
            record,
            assets,
            gaps,
            api_calls,
            exemptions,
            narrowed.as_ref(),
        )
    })?;
    Ok(ConnectorScanOutcome {
        connector,
        scan,
        calls,
    })
}

type AccountResult = (
    Vec<rampart_model::Asset>,
    Vec<CoverageGap>,
    BTreeMap<(String, String), u64>,
);

/// Scans one member account with its own credentials; a failure to reach
/// it is a coverage gap for that account.
async fn scan_member(
    base: &AwsSettings,
    member: &Target,
    plan_for: &dyn Fn(&str) -> ScanPlan,
    progress: &dyn Progress,
) -> AccountResult {
    let account = member.connector.account();
    let home = base
        .home_region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let access = match member.access(base).await {
        Ok(access) => access,
        Err(err) => {
            let gap = account_gap(
                account,
                &home,
                member.exchange,
                gap_kind(&err),
                &err.to_string(),
            );
            return (Vec::new(), vec![gap], BTreeMap::new());
        }
    };
    let failed = |operation: &str, kind: GapKind, error: String| {
        (
            Vec::new(),
            vec![account_gap(
                account,
                access.home_region(),
                operation,
                kind,
                &error,
            )],
            access.stats().snapshot(),
        )
    };
    match access.caller_identity().await {
        Err(err) => {
            let operation = if matches!(err, AccessError::Credentials(_)) {
                member.exchange
            } else {
                "GetCallerIdentity"
            };
            failed(
                operation,
                gap_kind(&err),
                format!("member connector `{}`: {err}", member.connector.name),
            )
        }
        Ok(identity) if identity.account != account => failed(
            "GetCallerIdentity",
            GapKind::Other,
            format!(
                "member connector `{}` reached account {} (`{}`), not {account}; nothing of it was kept",
                member.connector.name, identity.account, identity.arn
            ),
        ),
        Ok(_) => {
            let scan = collect_account(&access, &plan_for(account), progress).await;
            let mut assets = scan.assets;
            assets.push(crate::servers::plan_settings_asset(
                &member.connector,
                access.home_region(),
            ));
            (assets, scan.gaps, access.stats().snapshot())
        }
    }
}

fn account_gap(
    account: &str,
    region: &str,
    operation: &str,
    kind: GapKind,
    error: &str,
) -> CoverageGap {
    CoverageGap {
        account: account.to_owned(),
        region: region.to_owned(),
        service: "sts".to_owned(),
        operation: operation.to_owned(),
        kind,
        error: error.to_owned(),
        occurrences: 1,
    }
}

fn gap_kind(err: &AccessError) -> GapKind {
    match err {
        AccessError::Credentials(_) => GapKind::AccessDenied,
        AccessError::Unreachable { .. } => GapKind::Unreachable,
        _ => GapKind::Other,
    }
}

/// Progress of several accounts on one bar: tasks add up, and each task is
/// named with its account.
struct Accounts<'a> {
    inner: &'a dyn Progress,
    planned: AtomicUsize,
}

impl Progress for Accounts<'_> {
    fn planned(&self, tasks: usize) {
        let total = self.planned.fetch_add(tasks, Ordering::SeqCst) + tasks;
        self.inner.planned(total);
    }

    fn started(&self, region: &str, service: &str) {
        self.inner.started(region, service);
    }

    fn finished(&self, region: &str, service: &str, assets: usize, gaps: usize) {
        self.inner.finished(region, service, assets, gaps);
    }
}
