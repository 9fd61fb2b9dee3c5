//! A scan with the default credentials: collect an account into a new
//! snapshot, evaluate it and store it complete; and the steps every scan
//! shares (regions, the stored end, an interruption).

use std::collections::BTreeMap;
use std::future::Future;

use rampart_aws::collectors::{COLLECTORS, Scope};
use rampart_aws::{AwsAccess, Progress, ScanPlan, collect_account, resolve_regions};
use rampart_catalog::Inventory;
use rampart_catalog::evaluate::assess_accounts;
use rampart_catalog::exemptions::Exemptions;
use rampart_catalog::score::{SecureScore, secure_score_of};
use rampart_catalog::standards::SecurityControl;
use rampart_catalog::tally::{StatusCounts, Tally, slot};
use rampart_model::{
    Assessment, AssessmentStatus, Asset, CoverageGap, GapKind, ScanRecord, ScanStatus, Snapshot,
};
use rampart_store::{AssetFilter, ScanCoverage, Store, posture_kind};
use time::OffsetDateTime;

use crate::{EngineError, posture};

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The new scan's id.
    pub scan_id: String,
    /// Only these regions (default: every enabled region).
    pub regions: Option<Vec<String>>,
    /// Only these services.
    pub services: Option<Vec<String>>,
    /// API calls in flight at once per service and region.
    pub concurrency: usize,
}

/// Checks that every requested service has a collector.
pub fn check_services(services: Option<&[String]>) -> Result<(), EngineError> {
    for service in services.unwrap_or_default() {
        if rampart_aws::collectors::by_service(service).is_none() {
            let known: Vec<&str> = COLLECTORS.iter().map(|c| c.meta().service).collect();
            let hint = rampart_model::suggest::did_you_mean(service, &known, 0)
                .unwrap_or_else(|| format!("known services: {}", known.join(", ")));
            return Err(EngineError::UnknownService {
                service: service.clone(),
                known: hint,
            });
        }
    }
    Ok(())
}

/// A scan stored complete, with its posture.
#[derive(Debug)]
pub struct StoredScan {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// What its assessments (exemptions applied) add up to; the
    /// assessments themselves went into the store as they were made.
    pub posture: ScanPosture,
    /// The catalog it was evaluated with.
    pub catalog: rampart_catalog::Catalog,
    /// What a narrowed scan covered (`None`: a full scan).
    pub coverage: Option<ScanCoverage>,
    /// Assets of the snapshot kept from older scans for slices a narrowed
    /// scan did not cover (not counting [`other_accounts`](Self::other_accounts)).
    pub kept: usize,
    /// The accounts the scan did not scan whose latest slices the
    /// snapshot keeps (the rest of the estate's current posture).
    pub other_accounts: Vec<String>,
}

/// What a scan was narrowed to: a scan given services, or regions of its
/// own choosing, covers only those slices of its accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowed {
    /// Only these services (`None`: every service).
    pub services: Option<Vec<String>>,
    /// Only these regions (`None`: the scan's usual regions).
    pub regions: Option<Vec<String>>,
}

impl Narrowed {
    /// The narrowing of a scan given `services` and `regions`; `None` for a
    /// full scan (neither given).
    pub fn of(services: Option<&[String]>, regions: Option<&[String]>) -> Option<Self> {
        (services.is_some() || regions.is_some()).then(|| Self {
            services: services.map(<[String]>::to_vec),
            regions: regions.map(<[String]>::to_vec),
        })
    }

    /// Whether the scan covered `service` (`None`: a resource type no
    /// collector declares) in `region`. Global services are covered in
    /// every region.
    pub fn covers(&self, service: Option<&str>, region: &str) -> bool {
        let service_covered = match (&self.services, service) {
            (None, _) => true,
            (Some(list), Some(service)) => list.iter().any(|s| s == service),
            (Some(_), None) => false,
        };
        let global = service
            .and_then(rampart_aws::collectors::by_service)
            .is_some_and(|c| c.meta().scope == Scope::Global);
        service_covered
            && (global
                || self
                    .regions
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|r| r == region)))
    }
}

/// The service whose collector declares `resource_type`.
fn service_of(resource_type: &str) -> Option<&'static str> {
    COLLECTORS
        .iter()
        .map(|c| c.meta())
        .find(|m| m.resource_types.contains(&resource_type))
        .map(|m| m.service)
}

/// What a narrowed scan keeps of its accounts' previous snapshots.
#[derive(Debug, Default)]
struct Merged {
    /// The previous snapshots merged in.
    from: Vec<String>,
    /// `(resource type, ARN, scan that collected it)` of the kept assets.
    origins: Vec<(String, String, String)>,
}

impl Merged {
    /// Keeps `asset` (its `key`: type and ARN) of snapshot `base_id`,
    /// recording the scan that collected it: its own origin there, else
    /// `base_id`.
    fn keep(
        &mut self,
        asset: Asset,
        key: (String, String),
        origins: &std::collections::HashMap<(String, String), String>,
        base_id: &str,
        assets: &mut Vec<Asset>,
    ) {
        let origin = origins
            .get(&key)
            .cloned()
            .unwrap_or_else(|| base_id.to_owned());
        self.origins.push((key.0, key.1, origin));
        assets.push(asset);
    }
}

/// Adds to a narrowed scan's `assets` and `gaps`, per account, those of the
/// account's current (latest complete) snapshot for every slice the scan
/// did not cover; each kept asset keeps the scan that collected it.
fn merge_previous(
    store: &Store,
    accounts: &[String],
    narrowed: &Narrowed,
    assets: &mut Vec<Asset>,
    gaps: &mut Vec<CoverageGap>,
) -> Result<Merged, EngineError> {
    let mut merged = Merged::default();
    let collected: std::collections::HashSet<(String, String)> = assets
        .iter()
        .map(|a| (a.resource_type.clone(), a.arn.clone()))
        .collect();
    for account in accounts {
        let Some(base) = store.latest_complete_scan_of(account)? else {
            continue;
        };
        let origins = store.asset_origins(&base.id)?;
        let filter = AssetFilter {
            account: Some(account.clone()),
            ..Default::default()
        };
        for asset in store.assets(&filter)? {
            let key = (asset.resource_type.clone(), asset.arn.clone());
            if &asset.account != account
                || collected.contains(&key)
                || narrowed.covers(service_of(&asset.resource_type), &asset.region)
            {
                continue;
            }
            merged.keep(asset, key, &origins, &base.id, assets);
        }
        let scope = rampart_store::Scope {
            accounts: Some(vec![account.clone()]),
            region: None,
        };
        for gap in store.gaps_in(&scope)? {
            if &gap.account == account && !narrowed.covers(Some(&gap.service), &gap.region) {
                gaps.push(gap);
            }
        }
        if !merged.from.contains(&base.id) {
            merged.from.push(base.id);
        }
    }
    if !merged.origins.is_empty() {
        sort_assets(assets);
    }
    Ok(merged)
}

/// The order of a merged snapshot's assets: type, account, region, ARN.
fn sort_assets(assets: &mut [Asset]) {
    assets.sort_by(|a, b| {
        (&a.resource_type, &a.account, &a.region, &a.arn).cmp(&(
            &b.resource_type,
            &b.account,
            &b.region,
            &b.arn,
        ))
    });
}

/// Removes from the current state the accounts that left the estate, after
/// scan `record` (issue 14's rule; see docs/architecture.md, "The current
/// posture across accounts"); returns the other accounts the current state
/// still holds.
///
/// An account goes when the scan that holds it went through a connector
/// that no longer exists, or through the same connector as this scan
/// (which scanned again and no longer lists it: a member that left the
/// organization) — unless this scan is one job of an organization
/// connector's accounts (it did not scan every current member) and the
/// account is still a member. Every other account's current state stays
/// as it is: a scan writes its own accounts only.
fn sweep_departed(store: &mut Store, record: &ScanRecord) -> Result<Vec<String>, EngineError> {
    // No row yet when `begin_scan` was not called: not through a connector.
    let connector = match store.scan_connector(&record.id) {
        Ok(id) => id,
        Err(rampart_store::StoreError::NoSuchScan(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let scanned: std::collections::HashSet<&str> =
        record.accounts.iter().map(String::as_str).collect();
    let mut departed = store.accounts_of_deleted_connectors()?;
    if let Some(id) = &connector {
        // A job of some accounts of an organization connector (one job per
        // account) does not speak for the members it did not scan: those
        // stay while they are still members. A scan of the whole
        // organization does, and drops a member it no longer lists.
        let still_members: Option<std::collections::HashSet<String>> = match store.connector(id)? {
            Some(c) if c.is_organization() => {
                let members: std::collections::HashSet<String> = store
                    .members_of(c.account())?
                    .iter()
                    .map(|m| m.account().to_owned())
                    .filter(|a| !crate::organization::excluded(&c, a))
                    .collect();
                members
                    .iter()
                    .any(|m| !scanned.contains(m.as_str()))
                    .then_some(members)
            }
            _ => None,
        };
        for account in store.accounts_held_by_connector(id)? {
            let member = still_members
                .as_ref()
                .is_some_and(|members| members.contains(&account));
            if !scanned.contains(account.as_str()) && !member && !departed.contains(&account) {
                departed.push(account);
            }
        }
    }
    departed.retain(|a| !scanned.contains(a.as_str()));
    store.remove_accounts(&departed, &record.id)?;
    Ok(store
        .current_accounts()?
        .into_iter()
        .map(|(account, _)| account)
        .filter(|a| !scanned.contains(a.as_str()))
        .collect())
}

/// What the end-of-scan report and `--fail-on` need of a scan's
/// assessments, counted while they were written.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPosture {
    /// The secure score.
    pub score: SecureScore,
    /// Assessments by status ([`StatusCounts`] order).
    pub statuses: StatusCounts,
    /// Unhealthy assessments by recommendation id (only those with some).
    pub unhealthy: BTreeMap<String, u64>,
}

impl ScanPosture {
    /// The posture a tally of the scan's assessments gives.
    pub fn of(controls: &[SecurityControl], tally: &Tally<'_>) -> Self {
        let unhealthy_slot = slot(AssessmentStatus::Unhealthy);
        let unhealthy = tally
            .catalog()
            .iter()
            .filter_map(|r| {
                let n = tally.statuses(&r.id).get(unhealthy_slot).copied()?;
                (n > 0).then(|| (r.id.clone(), n))
            })
            .collect();
        Self {
            score: secure_score_of(controls, tally),
            statuses: tally.status_totals(),
            unhealthy,
        }
    }
}

/// Collects an account into a new snapshot, evaluates it and stores it
/// complete. When `interrupt` completes first, the scan is stored `failed`
/// (the last complete snapshot stays current) and the error is
/// [`EngineError::Interrupted`]. Used by `rampart scan` and by scans
/// triggered through `rampart serve` without a connector.
pub async fn collect_and_store(
    access: &AwsAccess,
    store: &mut Store,
    options: &ScanOptions,
    exemptions: &Exemptions,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> Result<StoredScan, EngineError> {
    let identity = access.caller_identity().await?;
    let regions = scan_regions(
        access,
        &identity.account,
        options.regions.as_deref(),
        "pass `--regions` to scan without region discovery",
    )
    .await?;

    let scan_id = options.scan_id.clone();
    let record = ScanRecord {
        id: scan_id.clone(),
        started_at: OffsetDateTime::now_utc(),
        finished_at: None,
        status: ScanStatus::Running,
        accounts: vec![identity.account.clone()],
        regions: regions.all(),
        api_calls: 0,
        asset_count: 0,
        gap_count: 0,
    };
    store.begin_scan(&record)?;

    let plan = ScanPlan {
        account: identity.account.clone(),
        home_region: access.home_region().to_owned(),
        regions: regions.enabled,
        disabled_regions: regions.disabled,
        services: options.services.clone(),
        concurrency: options.concurrency,
    };
    let collected = tokio::select! {
        result = collect_account(access, &plan, progress) => result,
        () = interrupt => return Err(interrupted(store, &scan_id)),
    };
    let mut gaps = collected.gaps;
    gaps.extend(regions.gap);
    store_complete(
        store,
        record,
        collected.assets,
        gaps,
        access.stats().total(),
        exemptions,
        Narrowed::of(options.services.as_deref(), options.regions.as_deref()).as_ref(),
    )
}

/// The regions a scan covers.
#[derive(Debug, Clone)]
pub struct ScanRegions {
    /// Regions to collect.
    pub enabled: Vec<String>,
    /// Requested regions that are not enabled (recorded, not collected).
    pub disabled: Vec<String>,
    /// Region discovery's failure, when the requested regions were scanned
    /// unchecked.
    pub gap: Option<CoverageGap>,
}

impl ScanRegions {
    /// Enabled then disabled regions, as the scan record lists them.
    pub fn all(&self) -> Vec<String> {
        let mut all = self.enabled.clone();
        all.extend(self.disabled.iter().cloned());
        all
    }
}

/// The regions to scan: `requested` checked against the enabled regions,
/// else every enabled region. Region discovery needs ec2:DescribeRegions;
/// without it, requested regions are scanned as given (the failure is a
/// gap of `account`), and without both there is nothing to scan (the error
/// ends with `hint`).
pub async fn scan_regions(
    access: &AwsAccess,
    account: &str,
    requested: Option<&[String]>,
    hint: &'static str,
) -> Result<ScanRegions, EngineError> {
    match (access.regions().await, requested) {
        (Ok(list), requested) => {
            let (enabled, disabled) = resolve_regions(requested, &list)?;
            Ok(ScanRegions {
                enabled,
                disabled,
                gap: None,
            })
        }
        (Err(err), Some(requested)) => {
            let mut unique: Vec<String> = Vec::new();
            for region in requested {
                rampart_aws::access::validate_region_syntax(region)?;
                if !unique.contains(region) {
                    unique.push(region.clone());
                }
            }
            Ok(ScanRegions {
                enabled: unique,
                disabled: Vec::new(),
                gap: Some(CoverageGap {
                    account: account.to_owned(),
                    region: access.home_region().to_owned(),
                    service: "ec2".to_owned(),
                    operation: "DescribeRegions".to_owned(),
                    kind: GapKind::Other,
                    error: format!("{err}; scanned the requested regions without checking them"),
                    occurrences: 1,
                }),
            })
        }
        (Err(error), None) => Err(EngineError::NoRegions { error, hint }),
    }
}

/// Marks an interrupted scan failed (the last complete snapshot stays
/// current) and returns [`EngineError::Interrupted`].
pub fn interrupted(store: &Store, scan_id: &str) -> EngineError {
    let _ = store.fail_scan(scan_id, "interrupted");
    EngineError::Interrupted
}

/// The ARNs the properties of `assets` name that are not among them
/// (strings that look like ARNs, and S3 bucket names under a key naming a
/// bucket), so evaluation can look up the assets of other accounts they
/// refer to.
fn referenced_arns(assets: &[Asset]) -> Vec<String> {
    fn walk(value: &serde_json::Value, key: &str, out: &mut std::collections::BTreeSet<String>) {
        match value {
            serde_json::Value::String(s) if s.starts_with("arn:") => {
                out.insert(s.clone());
            }
            serde_json::Value::String(s)
                if !s.is_empty() && key.to_ascii_lowercase().ends_with("bucketname") =>
            {
                out.insert(format!("arn:aws:s3:::{s}"));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, key, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, k, out)),
            _ => {}
        }
    }
    let mut found = std::collections::BTreeSet::new();
    for asset in assets {
        walk(&asset.properties, "", &mut found);
    }
    for asset in assets {
        found.remove(&asset.arn);
    }
    found.into_iter().collect()
}

/// The current state's counts over a scope, from the stored daily
/// aggregates: the assessment counts per recommendation and the resource
/// counts per security control. Each posture value is computed from them
/// when asked for, so a read of the score does not also assess every
/// standard.
#[derive(Debug, Clone)]
pub struct CountedPosture {
    recommendations: Vec<(String, StatusCounts)>,
    controls: Vec<rampart_catalog::score::ControlResourceCounts>,
}

impl CountedPosture {
    /// The secure score ([`posture_kind::SCORE`]).
    pub fn score(&self) -> serde_json::Value {
        let score = rampart_catalog::score::secure_score_of_counts(self.controls.iter().cloned());
        serde_json::to_value(&score).unwrap_or_default()
    }

    /// Compliance with each of `standards` ([`posture_kind::COMPLIANCE`]).
    pub fn compliance(
        &self,
        catalog: &rampart_catalog::Catalog,
        standards: &[rampart_catalog::standards::Standard],
    ) -> serde_json::Value {
        let tally = self.tally(catalog);
        let compliance: Vec<_> = standards
            .iter()
            .map(|s| rampart_catalog::compliance::assess_standard_of(s, &tally))
            .collect();
        serde_json::to_value(&compliance).unwrap_or_default()
    }

    /// The counts per recommendation ([`posture_kind::RECOMMENDATIONS`]).
    pub fn recommendation_counts(&self, catalog: &rampart_catalog::Catalog) -> serde_json::Value {
        serde_json::to_value(self.tally(catalog).recommendation_counts()).unwrap_or_default()
    }

    /// The value of one [`posture_kind`]; `None` for an unknown kind.
    pub fn of_kind(
        &self,
        kind: &str,
        catalog: &rampart_catalog::Catalog,
        standards: &[rampart_catalog::standards::Standard],
    ) -> Option<serde_json::Value> {
        match kind {
            posture_kind::SCORE => Some(self.score()),
            posture_kind::COMPLIANCE => Some(self.compliance(catalog, standards)),
            posture_kind::RECOMMENDATIONS => Some(self.recommendation_counts(catalog)),
            _ => None,
        }
    }

    fn tally<'c>(&self, catalog: &'c rampart_catalog::Catalog) -> Tally<'c> {
        let mut tally = Tally::new(catalog);
        for (id, statuses) in &self.recommendations {
            tally.add_counts(id, *statuses);
        }
        tally
    }
}

/// The current state's counts over `scope` (the whole estate with
/// [`rampart_store::Scope::default`]), from the latest day's aggregates
/// (`Store::current_counts`): one grouped read of a few rows per account
/// and region, never of the assessments. `None` before the first recorded
/// day.
pub fn current_posture(
    store: &Store,
    scope: &rampart_store::Scope,
) -> Result<Option<CountedPosture>, EngineError> {
    Ok(store
        .current_counts(scope)?
        .map(|(recommendations, controls)| CountedPosture {
            recommendations,
            controls,
        }))
}

/// Caches the current state's posture as scan `scan_id`'s (the score, the
/// score history's point for this scan; compliance; the counts per
/// recommendation), from the stored daily aggregates of the whole estate
/// ([`current_posture`]): a read of the aggregates, so no reader computes
/// them from millions of stored assessments first, and a scan of one
/// account never reads every other account's assessments. The three values
/// are written in one statement, so a reader never sees a score of one
/// state beside compliance of another.
///
/// Returns whether it did: `false` before the first recorded day.
pub fn cache_current_posture(
    store: &Store,
    scan_id: &str,
    catalog: &rampart_catalog::Catalog,
) -> Result<bool, EngineError> {
    let Some(counted) = current_posture(store, &rampart_store::Scope::default())? else {
        return Ok(false);
    };
    store.put_postures(
        scan_id,
        &[
            (posture_kind::SCORE, &counted.score()),
            (
                posture_kind::COMPLIANCE,
                &counted.compliance(catalog, &posture::standards()?),
            ),
            (
                posture_kind::RECOMMENDATIONS,
                &counted.recommendation_counts(catalog),
            ),
        ],
    )?;
    Ok(true)
}

/// A job's evaluation: its inventory (its own assets, and the current
/// assets of other accounts they refer to), of which only the accounts in
/// `own` are assessed ([`assess_accounts`]).
struct Evaluation<'i> {
    catalog: &'i rampart_catalog::Catalog,
    inventory: &'i Inventory,
    exemptions: &'i Exemptions,
    now: OffsetDateTime,
    own: &'i std::collections::HashSet<&'i str>,
}

impl<'i> Evaluation<'i> {
    /// Assesses the own accounts' assets, counting each in `tally` and
    /// handing it to `sink`.
    fn run(
        &self,
        tally: &mut Tally<'i>,
        sink: impl FnMut(&Assessment) -> Result<(), rampart_store::StoreError>,
    ) -> Result<(), rampart_store::StoreError> {
        assess_accounts(
            self.catalog,
            self.inventory,
            self.exemptions,
            self.now,
            tally,
            |account| self.own.contains(account),
            sink,
        )
    }
}

/// Inventories of up to this many assets are evaluated before the store
/// is written (their assessments held in memory meanwhile), so the write
/// lock that every job shares is held for the writing alone; larger ones
/// are evaluated while written, one assessment at a time.
const EVALUATE_BEFORE_WRITING: usize = 100_000;

/// Completes `record` with what was collected, evaluates it and stores it
/// complete, as the current state of its accounts: every other account's
/// current state stays as it is (accounts that left the estate go: see
/// [`sweep_departed`]), so the write is the size of this scan's accounts,
/// not of the estate. The returned posture is this scan's accounts'; the
/// posture cached for the scan is the whole current state's.
///
/// A `narrowed` scan becomes its accounts' current snapshot too, so it is
/// stored merged: what it collected, plus each account's current assets
/// and gaps for the slices (service, region) it did not cover, each kept
/// asset recording the scan that collected it. The whole merged inventory
/// of its accounts is evaluated again (account-level and cross-service
/// recommendations see every asset), and the scan records what it
/// covered.
pub fn store_complete(
    store: &mut Store,
    mut record: ScanRecord,
    mut assets: Vec<Asset>,
    mut gaps: Vec<CoverageGap>,
    api_calls: u64,
    exemptions: &Exemptions,
    narrowed: Option<&Narrowed>,
) -> Result<StoredScan, EngineError> {
    let merged = match narrowed {
        Some(narrowed) => Some(merge_previous(
            store,
            &record.accounts,
            narrowed,
            &mut assets,
            &mut gaps,
        )?),
        None => None,
    };
    record.finished_at = Some(OffsetDateTime::now_utc());
    record.status = ScanStatus::Complete;
    record.api_calls = api_calls;
    record.asset_count = assets.len() as u64;
    record.gap_count = gaps.len() as u64;
    let snapshot = Snapshot {
        scan: record,
        assets,
        gaps,
    };
    let catalog = posture::catalog()?;
    let controls = posture::controls()?;
    // Assessments are counted as they are made. The inventory also holds the current assets of other accounts that
    // this scan's assets refer to (a trail's bucket in a log archive
    // account, a key of a security account), looked up, not assessed.
    let own: std::collections::HashSet<&str> =
        snapshot.assets.iter().map(|a| a.account.as_str()).collect();
    let referenced = store.assets_by_arn(&referenced_arns(&snapshot.assets))?;
    let inventory = if referenced.iter().any(|a| !own.contains(a.account.as_str())) {
        let mut all = snapshot.assets.clone();
        all.extend(
            referenced
                .into_iter()
                .filter(|a| !own.contains(a.account.as_str())),
        );
        Inventory::new(&all)
    } else {
        Inventory::new(&snapshot.assets)
    };
    let evaluation = Evaluation {
        catalog: &catalog,
        inventory: &inventory,
        exemptions,
        now: OffsetDateTime::now_utc(),
        own: &own,
    };
    let mut tally = Tally::new(&catalog);
    let started = std::time::Instant::now();
    if snapshot.assets.len() <= EVALUATE_BEFORE_WRITING {
        // Evaluated first, then written: the store's write lock, which
        // every other job waits for, is held for the writing only.
        let mut made = Vec::new();
        evaluation.run(&mut tally, |a| {
            made.push(a.clone());
            Ok(())
        })?;
        let evaluated = started.elapsed();
        store.complete_scan_with(&snapshot, |writer| {
            made.iter().try_for_each(|a| writer.write(a))
        })?;
        tracing::debug!(scan = %snapshot.scan.id, assessments = made.len(), ?evaluated, stored = ?started.elapsed() - evaluated, "evaluated, then stored");
    } else {
        // Too large to hold: each assessment is written as it is made.
        store.complete_scan_with(&snapshot, |writer| {
            evaluation.run(&mut tally, |a| writer.write(a))
        })?;
        tracing::debug!(scan = %snapshot.scan.id, elapsed = ?started.elapsed(), "evaluated and stored");
    }
    let posture = ScanPosture::of(&controls, &tally);
    drop(tally);
    let swept = std::time::Instant::now();
    let other_accounts = sweep_departed(store, &snapshot.scan)?;
    let cached = std::time::Instant::now();
    cache_current_posture(store, &snapshot.scan.id, &catalog)?;
    tracing::debug!(scan = %snapshot.scan.id, sweep = ?(cached - swept), posture_cache = ?cached.elapsed(), "current state updated");
    let mut origins = Vec::new();
    let mut kept = 0;
    let coverage = match (narrowed, merged) {
        (Some(narrowed), Some(merged)) => {
            let coverage = ScanCoverage {
                services: narrowed.services.clone(),
                regions: narrowed.regions.clone(),
                merged_from: merged.from,
            };
            store.set_scan_coverage(&snapshot.scan.id, &coverage)?;
            kept = merged.origins.len();
            origins.extend(merged.origins);
            Some(coverage)
        }
        _ => None,
    };
    if !origins.is_empty() {
        store.set_asset_origins(&snapshot.scan.id, &origins)?;
    }
    Ok(StoredScan {
        snapshot,
        posture,
        catalog,
        coverage,
        kept,
        other_accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::{Narrowed, service_of};

    #[test]
    fn a_narrowed_scan_covers_its_services_in_its_regions_and_global_services_everywhere() {
        let s3_only = Narrowed::of(Some(&["s3".to_owned()]), None).unwrap_or_default();
        assert!(s3_only.covers(Some("s3"), "eu-west-1"));
        assert!(!s3_only.covers(Some("iam"), "us-east-1"));
        assert!(!s3_only.covers(None, "us-east-1"), "unknown types are kept");

        let one_region = Narrowed::of(None, Some(&["us-east-1".to_owned()])).unwrap_or_default();
        assert!(one_region.covers(Some("ec2"), "us-east-1"));
        assert!(!one_region.covers(Some("ec2"), "eu-west-1"));
        assert!(
            one_region.covers(Some("iam"), "eu-west-1"),
            "global: collected once"
        );

        assert_eq!(Narrowed::of(None, None), None, "a full scan");
        assert_eq!(service_of("AWS::IAM::User"), Some("iam"));
        assert_eq!(service_of("AWS::S3::Bucket"), Some("s3"));
    }
}
