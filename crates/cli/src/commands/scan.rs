//! `rampart scan`: collect an account into a new snapshot (the engine's
//! [`collect_and_store`]), with a progress bar, the summary and exit codes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rampart_aws::{AwsAccess, AwsSettings, Progress};
use rampart_engine::scan::check_services;
use rampart_engine::{ScanOptions, ScanPosture, StoredScan, collect_and_store};
use rampart_model::{AssessmentStatus, Snapshot, types};

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
        account_rate: (args.account_rate > 0)
            .then(|| rampart_aws::rate::AccountRates::process(args.account_rate)),
        ..AwsSettings::default()
    }
}

/// Runs a scan and prints its summary; returns the exit code.
pub async fn run(args: &ScanArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let started = Instant::now();
    check_services(args.services.as_deref())?;
    if let Some(connector) = &args.connector {
        if args.queue {
            return super::worker::queue_scan(args, connector, out).map(|()| Exit::Ok);
        }
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
        coverage,
        kept,
        other_accounts,
    } = stored?;

    let mut text = summary(&snapshot, &access.stats().snapshot(), started.elapsed());
    text.push_str(&merged_note(coverage.as_ref(), kept, &other_accounts));
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
    let collected_anything = snapshot.assets.iter().any(|a| {
        a.resource_type != types::ACCOUNT
            && a.has_data()
            && snapshot.scan.accounts.contains(&a.account)
    });
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

/// What a scan kept of earlier ones: for a narrowed scan, what it covered
/// and what it kept of the previous snapshot; for every scan, the other
/// accounts whose latest scans the current state holds.
pub(crate) fn merged_note(
    coverage: Option<&rampart_store::ScanCoverage>,
    kept: usize,
    other_accounts: &[String],
) -> String {
    let mut text = narrowed_note(coverage, kept);
    if !other_accounts.is_empty() {
        text.push_str(&format!(
            "\nThe current state also holds the latest scans of {} ({}), as they were: the secure score, the failing list and `--fail-on` below cover the scanned accounts only; `rampart score` gives the whole estate's.\n",
            plural(other_accounts.len() as u64, "other account", "other accounts"),
            other_accounts.join(", ")
        ));
    }
    text
}

/// For a narrowed scan: what it covered and what it kept of the previous
/// snapshot (nothing for a full scan).
fn narrowed_note(coverage: Option<&rampart_store::ScanCoverage>, kept: usize) -> String {
    let Some(coverage) = coverage else {
        return String::new();
    };
    let mut text = format!("\nNarrowed scan ({})", coverage_text(Some(coverage)));
    if coverage.merged_from.is_empty() {
        text.push_str(": no previous snapshot to keep the other slices from.\n");
    } else {
        text.push_str(&format!(
            ": {kept} assets of the other services and regions kept from scan {} (with their age); the posture is evaluated over them all.\n",
            coverage.merged_from.join(", ")
        ));
    }
    text
}

/// What a scan covered, in a few words: `full`, or its services and
/// regions.
pub(crate) fn coverage_text(coverage: Option<&rampart_store::ScanCoverage>) -> String {
    let Some(coverage) = coverage else {
        return "full".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(services) = &coverage.services {
        parts.push(format!("services {}", services.join(",")));
    }
    if let Some(regions) = &coverage.regions {
        parts.push(format!("regions {}", regions.join(",")));
    }
    parts.join("; ")
}

/// The end-of-scan summary: assets by type and region, calls (by service
/// and operation), gaps, time.
pub(crate) fn summary(
    snapshot: &Snapshot,
    calls: &BTreeMap<(String, String), u64>,
    elapsed: Duration,
) -> String {
    let scan = &snapshot.scan;
    // Only the scanned accounts: the snapshot also keeps other accounts'
    // latest slices (the estate's current posture).
    let assets: Vec<&rampart_model::Asset> = snapshot
        .assets
        .iter()
        .filter(|a| scan.accounts.contains(&a.account))
        .collect();
    let gaps = snapshot
        .gaps
        .iter()
        .filter(|g| scan.accounts.contains(&g.account))
        .count();
    let mut text = format!(
        "Scan {} complete in {}\naccount {} · regions {} · {} · {} · {}\n\n",
        scan.id,
        seconds(elapsed),
        scan.accounts.join(", "),
        scan.regions.join(", "),
        plural(scan.api_calls, "API call", "API calls"),
        plural(assets.len() as u64, "asset", "assets"),
        plural(gaps as u64, "coverage gap", "coverage gaps"),
    );
    let regions: BTreeSet<&str> = assets.iter().map(|a| a.region.as_str()).collect();
    let mut counts: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for asset in assets {
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
