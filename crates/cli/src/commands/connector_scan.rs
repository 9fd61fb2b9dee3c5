//! Scanning through connectors: `rampart scan --connector`, the member
//! connectors of an organization (`rampart connector sync`), web identity
//! tokens (`rampart connector token`) and classic (legacy) connectors
//! (`rampart connector create --classic`).
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
//! [`scan_connector`] is the scan itself, free of flags and terminal: `rampart
//! scan --connector` ([`run`]) and the server's scans (`rampart serve`: API
//! triggers and the scheduler) both call it.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt;
use rampart_aws::{
    AccessError, AwsAccess, AwsSettings, CredentialSource, Progress, ScanPlan, collect_account,
};
use rampart_catalog::exemptions::Exemptions;
use rampart_connector::{ClassicAuthentication, Connector, OrganizationalData, Plan, RoleArn};
use rampart_health::role_credentials;
use rampart_identity::Issuer;
use rampart_model::{CoverageGap, GapKind, ScanRecord, ScanStatus};
use rampart_store::Store;
use time::OffsetDateTime;

use crate::args::{
    ConnectorCreateArgs, ConnectorSyncArgs, ConnectorTokenArgs, ListFormat, ScanArgs, StoreArgs,
};
use crate::classic::SecretKey;
use crate::commands::connector_status::classic_source;
use crate::commands::scan::{
    BarProgress, StoredScan, aws_settings, gate, interrupted, posture_summary, scan_regions,
    store_complete, summary,
};
use crate::commands::{keys_dir, open_store, store_path};
use crate::exit::{CliError, Exit};
use crate::posture;

/// Accounts of an organization scanned at once.
pub const ACCOUNTS_AT_ONCE: usize = 4;

/// The warning `connector create --classic` prints.
pub const CLASSIC_WARNING: &str = "warning: classic connectors are legacy; prefer OIDC federation (rampart issuer init, rampart connector create, rampart connector template)";

/// The environment variable a classic connector's secret access key may
/// come from (instead of standard input).
pub const SECRET_ENV: &str = "RAMPART_CLASSIC_SECRET_ACCESS_KEY";

fn warn(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// The existing store and the connector named (or with the id) `name`;
/// exit 3 when there is none.
fn find(args: &StoreArgs, name: &str) -> Result<(Store, Connector), CliError> {
    if !store_path(args)?.exists() {
        return Err(CliError::nothing(format!("no connector `{name}`")));
    }
    let store = open_store(args)?;
    match store.connector(name)? {
        Some(connector) => Ok((store, connector)),
        None => Err(CliError::nothing(format!("no connector `{name}`"))),
    }
}

/// The issuer, or a usage error saying how to create it.
fn open_issuer(keys_dir: &Path) -> Result<Arc<Issuer>, CliError> {
    Issuer::open(keys_dir).map(Arc::new).map_err(|e| {
        CliError::usage(format!(
            "cannot mint tokens: {e}; create the issuer with `rampart issuer init --issuer-url https://HOST/PATH`"
        ))
    })
}

/// How one connector's account is reached.
struct Target {
    connector: Connector,
    source: CredentialSource,
    /// The STS call that turns the source into credentials, for gaps.
    exchange: &'static str,
}

/// Opens the issuer and the classic secret key at most once.
struct Credentials<'a> {
    keys_dir: &'a Path,
    store: &'a Store,
    profile: Option<String>,
    issuer: Option<Arc<Issuer>>,
    secret_key: Option<SecretKey>,
}

impl<'a> Credentials<'a> {
    fn new(keys_dir: &'a Path, store: &'a Store, base: &AwsSettings) -> Self {
        Self {
            keys_dir,
            store,
            profile: base.profile.clone(),
            issuer: None,
            secret_key: None,
        }
    }

    /// The credential source of `connector`'s CSPM reads.
    fn target(&mut self, connector: &Connector) -> Result<Target, CliError> {
        if let Some(classic) = &connector.classic {
            let source = classic_source(
                self.keys_dir,
                &mut self.secret_key,
                self.profile.as_ref(),
                self.store,
                connector,
                classic,
            )?;
            let exchange = match classic {
                ClassicAuthentication::AwsCreds { .. } => "GetCallerIdentity",
                ClassicAuthentication::AwsAssumeRole { .. } => "AssumeRole",
            };
            return Ok(Target {
                connector: connector.clone(),
                source,
                exchange,
            });
        }
        let role_arn = connector
            .role_arn(Plan::Cspm)
            .ok_or_else(|| no_cspm(connector))?;
        if self.issuer.is_none() {
            self.issuer = Some(open_issuer(self.keys_dir)?);
        }
        let issuer = self
            .issuer
            .clone()
            .ok_or_else(|| CliError::failure("no issuer"))?;
        Ok(Target {
            connector: connector.clone(),
            source: role_credentials(connector, Plan::Cspm, role_arn, issuer),
            exchange: "AssumeRoleWithWebIdentity",
        })
    }
}

fn no_cspm(connector: &Connector) -> CliError {
    CliError::usage(format!(
        "connector `{}` does not enable the cspm plan; enable it with `rampart connector update {} --plans cspm,...`",
        connector.name, connector.name
    ))
}

/// Settings reaching AWS as `target`.
async fn access_for(base: &AwsSettings, target: &Target) -> Result<AwsAccess, AccessError> {
    let settings = base.clone().with_credentials(target.source.clone()).await?;
    AwsAccess::load(&settings).await
}

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
    /// API calls in flight at once per service and region.
    pub concurrency: usize,
    /// Exemptions applied to the scan's assessments.
    pub exemptions: &'a Exemptions,
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
) -> Result<ConnectorScanOutcome, CliError> {
    let ConnectorScanRequest {
        store,
        keys_dir,
        aws: base,
        connector: name,
        scan_id,
        regions: requested_regions,
        services,
        concurrency,
        exemptions,
    } = request;
    let requested = store
        .connector(&name)?
        .ok_or_else(|| CliError::nothing(format!("no connector `{name}`")))?;
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
    if connector.role_arn(Plan::Cspm).is_none() {
        return Err(no_cspm(&connector));
    }

    let mut creds = Credentials::new(&keys_dir, store, &base);
    let primary_target = creds.target(&connector)?;
    let primary = access_for(&base, &primary_target)
        .await
        .map_err(CliError::usage)?;
    let identity = primary
        .caller_identity()
        .await
        .map_err(|e| CliError::usage(format!("connector `{}`: {e}", connector.name)))?;
    if identity.account != connector.account() {
        return Err(CliError::failure(format!(
            "connector `{}` is for account {}, but its credentials are for account {} (`{}`); nothing was stored",
            connector.name,
            connector.account(),
            identity.account,
            identity.arn
        )));
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
            if excluded(&connector, member.account()) {
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
                    &err.message,
                )),
            }
        }
    }

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
    let scans = async {
        let management = async {
            let scan = collect_account(&primary, &primary_plan, &progress).await;
            (scan.assets, scan.gaps, primary.stats().snapshot())
        };
        let others = futures::stream::iter(members.iter())
            .map(|member| scan_member(&base, member, &plan_for, &progress))
            .buffer_unordered(ACCOUNTS_AT_ONCE)
            .collect::<Vec<_>>();
        futures::join!(management, others)
    };
    let ((mut assets, primary_gaps, mut calls), others) = tokio::select! {
        result = scans => result,
        () = cancel => return Err(interrupted(store, &scan_id)),
    };

    gaps.extend(primary_gaps);
    for (member_assets, member_gaps, member_calls) in others {
        assets.extend(member_assets);
        gaps.extend(member_gaps);
        for (key, n) in member_calls {
            *calls.entry(key).or_default() += n;
        }
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
    let scan = store_complete(store, record, assets, gaps, api_calls, exemptions)?;
    Ok(ConnectorScanOutcome {
        connector,
        scan,
        calls,
    })
}

/// `rampart scan --connector NAME`: [`scan_connector`] with the flags, a
/// progress bar, warnings on stderr and the summary on `out`.
pub async fn run(args: &ScanArgs, name: &str, out: &mut dyn Write) -> Result<Exit, CliError> {
    let started = Instant::now();
    let (mut store, _) = find(&args.store, name)?;
    let mut exemptions = posture::exemptions(args.evaluation.exemptions.as_deref())?;
    posture::add_stored_exemptions(&store, &mut exemptions)?;
    let request = ConnectorScanRequest {
        store: &mut store,
        keys_dir: keys_dir(&args.store)?,
        aws: aws_settings(&args.aws),
        connector: name.to_owned(),
        scan_id: uuid::Uuid::now_v7().to_string(),
        regions: args.regions.clone(),
        services: args.services.clone(),
        concurrency: usize::try_from(args.concurrency).unwrap_or(8),
        exemptions: &exemptions,
    };
    let bar = BarProgress::new(args.no_progress);
    let warn_above_bar = |text: &str| bar.bar.suspend(|| warn(text));
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let scanned = scan_connector(request, &bar, &warn_above_bar, interrupt).await;
    bar.bar.finish_and_clear();
    let ConnectorScanOutcome {
        connector,
        scan: StoredScan {
            snapshot,
            posture,
            catalog,
        },
        calls,
    } = scanned?;

    let mut text = format!(
        "Scanned through connector `{}` ({} account{})\n",
        connector.name,
        snapshot.scan.accounts.len(),
        if snapshot.scan.accounts.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    text.push_str(&summary(&snapshot, &calls, started.elapsed()));
    if snapshot.scan.accounts.len() > 1 {
        text.push_str("\nAccounts\n");
        let rows: Vec<Vec<String>> = snapshot
            .scan
            .accounts
            .iter()
            .map(|account| {
                let assets = snapshot
                    .assets
                    .iter()
                    .filter(|a| &a.account == account)
                    .count();
                let gaps: Vec<&CoverageGap> = snapshot
                    .gaps
                    .iter()
                    .filter(|g| &g.account == account)
                    .collect();
                let reached = !gaps.iter().any(|g| {
                    g.service == "sts"
                        && (g.operation.starts_with("AssumeRole")
                            || g.operation == "GetCallerIdentity")
                });
                vec![
                    account.clone(),
                    assets.to_string(),
                    gaps.len().to_string(),
                    if reached {
                        "scanned"
                    } else {
                        "not reached (see gaps)"
                    }
                    .to_owned(),
                ]
            })
            .collect();
        text.push_str(&crate::output::table(
            &["ACCOUNT", "ASSETS", "GAPS", "STATUS"],
            &rows,
        ));
    }
    text.push_str(&posture_summary(&catalog, &posture));
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    gate(&snapshot, &catalog, &posture, args.evaluation.fail_on)
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
    let access = match access_for(base, member).await {
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
            (scan.assets, scan.gaps, access.stats().snapshot())
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

fn excluded(org: &Connector, account: &str) -> bool {
    matches!(
        &org.environment_data.organizational_data,
        Some(OrganizationalData::Organization { excluded_account_ids, .. })
            if excluded_account_ids.iter().any(|a| a == account)
    )
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

/// What a member sync changed.
#[derive(Debug, Default)]
struct SyncReport {
    created: Vec<String>,
    updated: Vec<String>,
    removed: Vec<String>,
    unchanged: Vec<String>,
    problems: Vec<String>,
}

/// Lists the organization's accounts (through its management account's
/// access) and makes the member connectors match: one per active account
/// that is neither the management account nor excluded; others removed.
async fn sync_members(
    store: &Store,
    org: &Connector,
    access: &AwsAccess,
) -> Result<SyncReport, AccessError> {
    let client = access.organizations(access.home_region());
    let mut listed: Vec<String> = Vec::new();
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let failure = rampart_aws::error::classify(&e);
            match failure.kind {
                GapKind::AccessDenied => AccessError::Credentials(failure.message),
                _ => AccessError::Unreachable {
                    endpoint: "organizations".to_owned(),
                    reason: failure.message,
                },
            }
        })?;
        for account in page.accounts() {
            let active = account
                .status()
                .is_none_or(|s| s.as_str().eq_ignore_ascii_case("ACTIVE"));
            if let Some(id) = account.id()
                && active
            {
                listed.push(id.to_owned());
            }
        }
    }
    let mut report = SyncReport::default();
    let wanted: Vec<&String> = listed
        .iter()
        .filter(|id| id.as_str() != org.account() && !excluded(org, id))
        .collect();
    let existing = store
        .members_of(org.account())
        .map_err(|e| AccessError::CredentialSource(e.to_string()))?;
    for old in &existing {
        if !wanted.iter().any(|id| id.as_str() == old.account()) {
            match store.delete_connector(&old.id.to_string()) {
                Ok(_) => report.removed.push(old.name.clone()),
                Err(e) => report
                    .problems
                    .push(format!("cannot remove `{}`: {e}", old.name)),
            }
        }
    }
    for account in wanted {
        let current = existing.iter().find(|c| c.account() == account.as_str());
        let member = match member_connector(org, account, current) {
            Ok(member) => member,
            Err(e) => {
                report
                    .problems
                    .push(format!("no member connector for account {account}: {e}"));
                continue;
            }
        };
        let result = match current {
            Some(old) if *old == member => {
                report.unchanged.push(member.name.clone());
                Ok(())
            }
            Some(_) => store
                .update_connector(&member)
                .map(|()| report.updated.push(member.name.clone())),
            None => store
                .create_connector(&member)
                .map(|()| report.created.push(member.name.clone())),
        };
        if let Err(e) = result {
            report.problems.push(format!(
                "cannot store member connector `{}`: {e}",
                member.name
            ));
        }
    }
    Ok(report)
}

/// The member connector of `account`: named `<org name>-<account>`, the
/// organization's plans, settings, regions and interval, its role ARNs moved
/// into the member account (same paths and names). An existing member keeps
/// its id (the `sub` of its tokens) and creation time.
fn member_connector(
    org: &Connector,
    account: &str,
    current: Option<&Connector>,
) -> Result<Connector, String> {
    let prefix_len = rampart_connector::MAX_NAME_LEN.saturating_sub(account.len() + 1);
    let prefix: String = org.name.chars().take(prefix_len).collect();
    let name = format!("{prefix}-{account}");
    let data = &org.environment_data;
    let mut member = Connector::new(
        &name,
        account,
        &org.plans(),
        data.regions.clone(),
        data.scan_interval,
        Some(OrganizationalData::Member {
            parent_hierarchy_id: org.account().to_owned(),
        }),
    );
    member.offerings = org.offerings.clone();
    for offering in &org.offerings {
        let plan = offering.plan();
        for (field, arn) in offering.role_arns() {
            let parsed =
                RoleArn::parse(arn).ok_or_else(|| format!("malformed role ARN `{arn}`"))?;
            let moved = format!(
                "arn:{}:iam::{account}:role{}{}",
                parsed.partition, parsed.path, parsed.name
            );
            member
                .set_role_arn(plan, Some(field), &moved)
                .map_err(|e| e.to_string())?;
        }
    }
    if let Some(current) = current {
        member.id = current.id;
        member.created_at = current.created_at;
        member.updated_at = current.updated_at;
        if member != *current {
            member.touch();
        }
    }
    member.validate().map_err(|e| e.to_string())?;
    Ok(member)
}

/// `rampart connector sync NAME`.
pub async fn sync(args: &ConnectorSyncArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (store, connector) = find(&args.store, &args.name)?;
    if !connector.is_organization() {
        return Err(CliError::usage(format!(
            "connector `{}` is not an organization's (create it with `--organization`)",
            connector.name
        )));
    }
    let base = aws_settings(&args.aws);
    let keys = keys_dir(&args.store)?;
    let mut creds = Credentials::new(&keys, &store, &base);
    let target = creds.target(&connector)?;
    let access = access_for(&base, &target).await.map_err(CliError::usage)?;
    let report = sync_members(&store, &connector, &access)
        .await
        .map_err(|e| CliError::failure(format!("cannot list the organization's accounts: {e}")))?;
    let mut text = String::new();
    for (verb, names) in [
        ("created", &report.created),
        ("updated", &report.updated),
        ("removed", &report.removed),
        ("unchanged", &report.unchanged),
    ] {
        for name in names {
            text.push_str(&format!("{verb} member connector `{name}`\n"));
        }
    }
    text.push_str(&format!(
        "{} for organization `{}`\n",
        crate::output::plural(
            store.members_of(connector.account())?.len() as u64,
            "member connector",
            "member connectors"
        ),
        connector.name
    ));
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    for problem in &report.problems {
        warn(&format!("warning: {problem}"));
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "{} member account(s) could not be synced (see the warnings above)",
            report.problems.len()
        )))
    }
}

/// `rampart connector token NAME --plan PLAN`: a fresh token on stdout.
pub fn token(args: &ConnectorTokenArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let plan: Plan = args.plan.trim().parse().map_err(CliError::usage)?;
    let (_, connector) = find(&args.store, &args.name)?;
    if connector.is_classic() {
        return Err(CliError::usage(format!(
            "connector `{}` is classic: it uses stored keys or a role with an external id, not tokens",
            connector.name
        )));
    }
    let Some(role_arn) = connector.role_arn(plan) else {
        return Err(CliError::usage(format!(
            "connector `{}` does not enable the `{plan}` plan",
            connector.name
        )));
    };
    let issuer = open_issuer(&keys_dir(&args.store)?)?;
    let minted = issuer
        .mint(
            &connector.id.to_string(),
            plan.audience(),
            OffsetDateTime::now_utc(),
        )
        .map_err(CliError::failure)?;
    out.write_all(format!("{}\n", minted.token).as_bytes())
        .map_err(CliError::failure)?;
    warn(&format!(
        "token for connector `{}` (sub {}), audience `{}`, expires {}; try it with:\n  aws sts assume-role-with-web-identity --role-arn {role_arn} --role-session-name {} --web-identity-token \"$TOKEN\"",
        connector.name,
        connector.id,
        plan.audience(),
        minted
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        Plan::session_name(&connector.name)
    ));
    Ok(())
}

/// `rampart connector create --classic …`.
pub fn create_classic(args: &ConnectorCreateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.organization || args.stackset_name.is_some() || args.exclude_accounts.is_some() {
        return Err(CliError::usage(
            "a classic connector is for one account: it takes no `--organization`",
        ));
    }
    let role = match args.role_arns.as_slice() {
        [] => None,
        [arn] if !arn.contains('=') => Some(arn.trim().to_owned()),
        _ => {
            return Err(CliError::usage(
                "with `--classic`, give one `--role-arn ARN` (the role to assume with `--external-id`)",
            ));
        }
    };
    let classic = match (&args.access_key_id, role) {
        (Some(key), None) => {
            if args.external_id.is_some() {
                return Err(CliError::usage(
                    "`--external-id` goes with `--role-arn`, not `--access-key-id`",
                ));
            }
            ClassicAuthentication::AwsCreds {
                access_key_id: key.trim().to_owned(),
            }
        }
        (None, Some(role_arn)) => ClassicAuthentication::AwsAssumeRole {
            role_arn,
            external_id: args.external_id.clone(),
        },
        _ => {
            return Err(CliError::usage(
                "a classic connector needs either `--access-key-id KEY --secret-access-key-stdin` or `--role-arn ARN [--external-id ID]`",
            ));
        }
    };
    let plans = args
        .plans
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<Plan>().map_err(CliError::usage))
        .collect::<Result<Vec<_>, _>>()?;
    if plans != [Plan::Cspm] {
        return Err(CliError::usage(
            "a classic connector supports the cspm plan only",
        ));
    }
    let regions: Vec<String> = args
        .regions
        .iter()
        .flatten()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let interval = args.scan_interval.trim().parse::<u32>().map_err(|_| {
        CliError::usage(format!(
            "scan interval `{}` is not 1 to 24 hours",
            args.scan_interval
        ))
    })?;
    let mut connector = Connector::new(&args.name, &args.account, &plans, regions, interval, None);
    connector.classic = Some(classic.clone());
    connector.validate().map_err(CliError::usage)?;

    let secret = match &classic {
        ClassicAuthentication::AwsCreds { .. } => Some(read_secret(args.secret_access_key_stdin)?),
        ClassicAuthentication::AwsAssumeRole { .. } => None,
    };
    let store = open_store(&args.store)?;
    let sealed = match &secret {
        Some(secret) => {
            let key = SecretKey::load_or_create(&keys_dir(&args.store)?)?;
            Some(key.seal(&connector.id.to_string(), secret)?)
        }
        None => None,
    };
    store.create_connector(&connector).map_err(|e| match e {
        rampart_store::StoreError::ConnectorExists(_) => CliError::usage(e),
        other => other.into(),
    })?;
    if let Some(sealed) = &sealed
        && let Err(err) = store.put_classic_secret(&connector.id.to_string(), sealed)
    {
        let _ = store.delete_connector(&connector.id.to_string());
        return Err(err.into());
    }
    warn(CLASSIC_WARNING);
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&connector).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            let how = match &classic {
                ClassicAuthentication::AwsCreds { access_key_id } => format!(
                    "access keys {access_key_id} (secret stored encrypted, key in the keys directory)"
                ),
                ClassicAuthentication::AwsAssumeRole {
                    role_arn,
                    external_id,
                } => format!(
                    "role {role_arn}{}",
                    external_id
                        .as_ref()
                        .map(|id| format!(" with external id {id}"))
                        .unwrap_or_default()
                ),
            };
            format!(
                "created classic connector `{}` for account {} (id {}): {how}\n",
                connector.name,
                connector.account(),
                connector.id
            )
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// How a connector authenticates, one line for `connector show` (never a
/// secret).
pub fn authentication(connector: &Connector) -> String {
    match &connector.classic {
        None => "OIDC federation (web identity token per plan)".to_owned(),
        Some(ClassicAuthentication::AwsCreds { access_key_id }) => {
            format!("classic (legacy): access key {access_key_id}, secret stored encrypted")
        }
        Some(ClassicAuthentication::AwsAssumeRole {
            role_arn,
            external_id,
        }) => format!(
            "classic (legacy): role {role_arn}{}",
            external_id
                .as_ref()
                .map(|id| format!(" with external id {id}"))
                .unwrap_or_default()
        ),
    }
}

/// The secret access key: standard input with `--secret-access-key-stdin`,
/// else the environment.
fn read_secret(from_stdin: bool) -> Result<String, CliError> {
    let secret = if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            CliError::usage(format!(
                "cannot read the secret access key from standard input: {e}"
            ))
        })?;
        text
    } else {
        std::env::var(SECRET_ENV).map_err(|_| {
            CliError::usage(format!(
                "give the secret access key on standard input with `--secret-access-key-stdin`, or in {SECRET_ENV}; it is never taken on the command line"
            ))
        })?
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Err(CliError::usage("the secret access key is empty"));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_connector::{Connector, OrganizationalData, Plan};

    use super::member_connector;

    fn org(name: &str) -> Connector {
        let mut org = Connector::new(
            name,
            "111111111111",
            &[Plan::Cspm, Plan::Servers],
            vec!["eu-west-1".into()],
            6,
            Some(OrganizationalData::Organization {
                stackset_name: "Rampart".into(),
                excluded_account_ids: vec![],
            }),
        );
        org.set_role_arn(
            Plan::Cspm,
            None,
            "arn:aws:iam::111111111111:role/security/Reader",
        )
        .unwrap();
        org
    }

    #[test]
    fn members_take_the_organizations_settings_in_their_own_account() {
        let org = org("acme");
        let member = member_connector(&org, "222222222222", None).unwrap();
        assert_eq!(member.name, "acme-222222222222");
        assert_eq!(member.parent(), Some("111111111111"));
        assert_eq!(member.plans(), [Plan::Cspm, Plan::Servers]);
        assert_eq!(member.environment_data.regions, ["eu-west-1"]);
        assert_eq!(member.environment_data.scan_interval, 6);
        assert_eq!(
            member.role_arn(Plan::Cspm),
            Some("arn:aws:iam::222222222222:role/security/Reader")
        );
        assert_eq!(
            member.role_arn(Plan::Servers),
            Some("arn:aws:iam::222222222222:role/RampartServers")
        );
        // Refreshing keeps the id (the tokens' subject); unchanged is equal.
        let again = member_connector(&org, "222222222222", Some(&member)).unwrap();
        assert_eq!(again, member);
    }

    #[test]
    fn long_organization_names_are_cut_to_fit() {
        let org = org(&"o".repeat(40));
        let member = member_connector(&org, "222222222222", None).unwrap();
        assert_eq!(member.name.len(), 40);
        assert!(member.name.ends_with("-222222222222"));
    }
}
