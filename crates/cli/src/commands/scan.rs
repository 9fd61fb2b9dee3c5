//! `rampart scan`: collect an account into a new snapshot.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rampart_aws::collectors::COLLECTORS;
use rampart_aws::{AwsAccess, AwsSettings, Progress, ScanPlan, collect_account, resolve_regions};
use rampart_catalog::Inventory;
use rampart_catalog::evaluate::assess_each;
use rampart_catalog::score::{SecureScore, secure_score_of};
use rampart_catalog::standards::SecurityControl;
use rampart_catalog::tally::{StatusCounts, Tally, slot};
use rampart_model::{
    AssessmentStatus, CoverageGap, GapKind, ScanRecord, ScanStatus, Snapshot, types,
};
use time::OffsetDateTime;

use crate::args::{AwsArgs, ScanArgs};
use crate::commands::open_store;
use crate::exit::{CliError, Exit};
use crate::output::{plural, seconds, table};
use crate::posture;

/// Builds the access-layer settings from flags.
pub fn aws_settings(args: &AwsArgs) -> AwsSettings {
    AwsSettings {
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone().filter(|u| !u.is_empty()),
        home_region: args.home_region.clone(),
        max_attempts: args.max_attempts,
        attempt_timeout: Duration::from_secs(args.call_timeout),
        call_timeout: Duration::from_secs(
            args.call_timeout
                .saturating_mul(u64::from(args.max_attempts))
                .max(30),
        ),
        ..AwsSettings::default()
    }
}

/// Runs a scan and prints its summary; returns the exit code.
pub async fn run(args: &ScanArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let started = Instant::now();
    if let Some(services) = &args.services {
        for service in services {
            if rampart_aws::collectors::by_service(service).is_none() {
                let known: Vec<&str> = COLLECTORS.iter().map(|c| c.meta().service).collect();
                return Err(CliError::usage(format!(
                    "unknown service `{service}` (known services: {})",
                    known.join(", ")
                )));
            }
        }
    }
    if let Some(connector) = &args.connector {
        return super::connector_scan::run(args, connector, out).await;
    }
    let mut exemptions = posture::exemptions(args.evaluation.exemptions.as_deref())?;
    let access = AwsAccess::load(&aws_settings(&args.aws))
        .await
        .map_err(CliError::usage)?;
    let mut store = open_store(&args.store)?;
    posture::add_stored_exemptions(&store, &mut exemptions)?;
    let progress = BarProgress::new(args.no_progress);
    let options = ScanOptions {
        scan_id: uuid::Uuid::now_v7().to_string(),
        regions: args.regions.clone(),
        services: args.services.clone(),
        concurrency: usize::try_from(args.concurrency).unwrap_or(8),
    };
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let stored = collect_and_store(
        &access,
        &mut store,
        &options,
        &exemptions,
        &progress,
        interrupt,
    )
    .await;
    progress.bar.finish_and_clear();
    let StoredScan {
        snapshot,
        posture,
        catalog,
    } = stored?;

    let mut text = summary(&snapshot, &access.stats().snapshot(), started.elapsed());
    text.push_str(&posture_summary(&catalog, &posture));
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    gate(&snapshot, &catalog, &posture, args.evaluation.fail_on)
}

/// The exit code of a stored scan: the `--fail-on` gate, or exit 3 when
/// nothing but the account itself could be collected.
pub(crate) fn gate(
    snapshot: &Snapshot,
    catalog: &rampart_catalog::Catalog,
    posture: &ScanPosture,
    fail_on: Option<crate::args::SeverityArg>,
) -> Result<Exit, CliError> {
    let collected_anything = snapshot
        .assets
        .iter()
        .any(|a| a.resource_type != types::ACCOUNT && a.has_data());
    if collected_anything {
        let threshold = fail_on.map(Into::into);
        let failing = posture
            .unhealthy
            .keys()
            .any(|id| posture::fails_gate(catalog, id, AssessmentStatus::Unhealthy, threshold));
        Ok(if failing {
            Exit::FindingsAtOrAbove
        } else {
            Exit::Ok
        })
    } else {
        Err(CliError::nothing(format!(
            "nothing could be collected: {} coverage gaps (see above)",
            snapshot.gaps.len()
        )))
    }
}

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
/// (the last complete snapshot stays current) and the error is exit 130.
/// Used by `rampart scan` and by scans triggered through `rampart serve`.
pub async fn collect_and_store(
    access: &AwsAccess,
    store: &mut rampart_store::Store,
    options: &ScanOptions,
    exemptions: &rampart_catalog::exemptions::Exemptions,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> Result<StoredScan, CliError> {
    let identity = access.caller_identity().await.map_err(CliError::usage)?;
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
    )
}

/// The regions a scan covers.
#[derive(Debug, Clone)]
pub(crate) struct ScanRegions {
    /// Regions to collect.
    pub(crate) enabled: Vec<String>,
    /// Requested regions that are not enabled (recorded, not collected).
    pub(crate) disabled: Vec<String>,
    /// Region discovery's failure, when the requested regions were scanned
    /// unchecked.
    pub(crate) gap: Option<CoverageGap>,
}

impl ScanRegions {
    /// Enabled then disabled regions, as the scan record lists them.
    pub(crate) fn all(&self) -> Vec<String> {
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
pub(crate) async fn scan_regions(
    access: &AwsAccess,
    account: &str,
    requested: Option<&[String]>,
    hint: &str,
) -> Result<ScanRegions, CliError> {
    match (access.regions().await, requested) {
        (Ok(list), requested) => {
            let (enabled, disabled) = resolve_regions(requested, &list).map_err(CliError::usage)?;
            Ok(ScanRegions {
                enabled,
                disabled,
                gap: None,
            })
        }
        (Err(err), Some(requested)) => {
            let mut unique: Vec<String> = Vec::new();
            for region in requested {
                rampart_aws::access::validate_region_syntax(region).map_err(CliError::usage)?;
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
        (Err(err), None) => Err(CliError::usage(format!("{err}; {hint}"))),
    }
}

/// Marks an interrupted scan failed (the last complete snapshot stays
/// current) and returns the exit-130 error.
pub(crate) fn interrupted(store: &rampart_store::Store, scan_id: &str) -> CliError {
    let _ = store.fail_scan(scan_id, "interrupted");
    CliError {
        exit: Exit::Interrupted,
        message: "scan interrupted; the last complete snapshot is unchanged".to_owned(),
    }
}

/// Completes `record` with what was collected, evaluates it and stores it
/// complete.
pub(crate) fn store_complete(
    store: &mut rampart_store::Store,
    mut record: ScanRecord,
    assets: Vec<rampart_model::Asset>,
    gaps: Vec<CoverageGap>,
    api_calls: u64,
    exemptions: &rampart_catalog::exemptions::Exemptions,
) -> Result<StoredScan, CliError> {
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
    // Assessments go into the store as they are made, counted on the way.
    let inventory = Inventory::new(&snapshot.assets);
    let now = OffsetDateTime::now_utc();
    let mut tally = Tally::new(&catalog);
    store.complete_scan_with(&snapshot, |writer| {
        assess_each(&catalog, &inventory, exemptions, now, &mut tally, |a| {
            writer.write(a)
        })
    })?;
    let posture = ScanPosture::of(&controls, &tally);
    drop(tally);
    Ok(StoredScan {
        snapshot,
        posture,
        catalog,
    })
}

/// The end-of-scan summary: assets by type and region, calls (by service
/// and operation), gaps, time.
pub(crate) fn summary(
    snapshot: &Snapshot,
    calls: &BTreeMap<(String, String), u64>,
    elapsed: Duration,
) -> String {
    let scan = &snapshot.scan;
    let mut text = format!(
        "Scan {} complete in {}\naccount {} · regions {} · {} · {} · {}\n\n",
        scan.id,
        seconds(elapsed),
        scan.accounts.join(", "),
        scan.regions.join(", "),
        plural(scan.api_calls, "API call", "API calls"),
        plural(snapshot.assets.len() as u64, "asset", "assets"),
        plural(snapshot.gaps.len() as u64, "coverage gap", "coverage gaps"),
    );
    let regions: BTreeSet<&str> = snapshot.assets.iter().map(|a| a.region.as_str()).collect();
    let mut counts: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for asset in &snapshot.assets {
        *counts
            .entry(asset.resource_type.as_str())
            .or_default()
            .entry(asset.region.as_str())
            .or_default() += 1;
    }
    let mut header = vec!["TYPE"];
    header.extend(regions.iter().copied());
    header.push("TOTAL");
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(ty, by_region)| {
            let mut row = vec![(*ty).to_owned()];
            row.extend(
                regions
                    .iter()
                    .map(|r| by_region.get(r).copied().unwrap_or(0).to_string()),
            );
            row.push(by_region.values().sum::<u64>().to_string());
            row
        })
        .collect();
    text.push_str("Assets by type and region\n");
    text.push_str(&table(&header, &rows));

    let mut by_service: BTreeMap<&str, u64> = BTreeMap::new();
    for ((service, _), n) in calls {
        *by_service.entry(service.as_str()).or_default() += n;
    }
    text.push_str("\nAPI calls by service\n");
    let rows: Vec<Vec<String>> = by_service
        .iter()
        .map(|(s, n)| vec![(*s).to_owned(), n.to_string()])
        .collect();
    text.push_str(&table(&["SERVICE", "CALLS"], &rows));

    if snapshot.gaps.is_empty() {
        text.push_str("\nNo coverage gaps.\n");
    } else {
        text.push_str(
            "\nCoverage gaps (data these calls would have returned is missing, not healthy)\n",
        );
        let rows: Vec<Vec<String>> = snapshot
            .gaps
            .iter()
            .map(|g| {
                vec![
                    g.region.clone(),
                    g.service.clone(),
                    g.operation.clone(),
                    g.kind.as_str().to_owned(),
                    g.occurrences.to_string(),
                    crate::output::clip(&g.error, 100),
                ]
            })
            .collect();
        text.push_str(&table(
            &["REGION", "SERVICE", "OPERATION", "KIND", "TIMES", "ERROR"],
            &rows,
        ));
    }
    text
}

/// Secure score, unhealthy recommendations by severity, and the top ones.
pub(crate) fn posture_summary(catalog: &rampart_catalog::Catalog, posture: &ScanPosture) -> String {
    let mut text = format!("\nSecure score: {:.1}%\n", posture.score.percent);
    text.push_str(&super::score::status_counts_line_of(posture.statuses));
    let mut top: Vec<(&rampart_catalog::Recommendation, u64)> = posture
        .unhealthy
        .iter()
        .filter_map(|(id, n)| catalog.get(id).map(|r| (r, *n)))
        .collect();
    top.sort_by(|a, b| {
        b.0.severity
            .cmp(&a.0.severity)
            .then(b.1.cmp(&a.1))
            .then(a.0.id.cmp(&b.0.id))
    });
    if !top.is_empty() {
        text.push_str(&format!(
            "\nUnhealthy recommendations ({}; `rampart recommendations` lists all)\n",
            top.len()
        ));
        let rows: Vec<Vec<String>> = top
            .iter()
            .take(15)
            .map(|(r, n)| {
                vec![
                    r.severity.as_str().to_owned(),
                    n.to_string(),
                    r.id.clone(),
                    r.title.clone(),
                ]
            })
            .collect();
        text.push_str(&table(
            &["SEVERITY", "RESOURCES", "RECOMMENDATION", "TITLE"],
            &rows,
        ));
    }
    text
}

/// A progress bar on stderr: tasks done of planned, and what is running.
pub(crate) struct BarProgress {
    pub(crate) bar: ProgressBar,
    running: Mutex<BTreeSet<String>>,
}

impl BarProgress {
    pub(crate) fn new(hidden: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if hidden {
                ProgressDrawTarget::hidden()
            } else {
                ProgressDrawTarget::stderr()
            },
        );
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} {wide_msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Self {
            bar,
            running: Mutex::new(BTreeSet::new()),
        }
    }

    fn update(&self, change: impl FnOnce(&mut BTreeSet<String>)) {
        if let Ok(mut running) = self.running.lock() {
            change(&mut running);
            let shown: Vec<&str> = running.iter().take(4).map(String::as_str).collect();
            let more = running.len().saturating_sub(shown.len());
            let mut msg = shown.join(" ");
            if more > 0 {
                msg.push_str(&format!(" +{more}"));
            }
            self.bar.set_message(msg);
        }
    }
}

impl Progress for BarProgress {
    fn planned(&self, tasks: usize) {
        self.bar.set_length(tasks as u64);
    }

    fn started(&self, region: &str, service: &str) {
        self.update(|r| {
            r.insert(format!("{region}/{service}"));
        });
    }

    fn finished(&self, region: &str, service: &str, _assets: usize, _gaps: usize) {
        self.update(|r| {
            r.remove(&format!("{region}/{service}"));
        });
        self.bar.inc(1);
    }
}
