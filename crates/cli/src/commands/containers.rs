//! `rampart containers provision` and `rampart detect`: thin wrappers of
//! the engine's [`rampart_engine::containers`] (pipelines per EKS cluster)
//! and [`rampart_engine::detection`] (draining a connector's audit-log
//! pipelines and CloudTrail logs into detection).

use std::io::Write;

use rampart_aws::pipeline::containers::Outcome;
use rampart_connector::Plan;
use rampart_engine::Engine;
use rampart_engine::cloudtrail::CloudTrailDetection;
use rampart_engine::containers::{ClusterDetection, ProvisionMode, ProvisionReport, provision};
use rampart_engine::detection::{DetectOptions, DetectReport, detect_once};

use crate::args::{
    ContainersArgs, ContainersCommand, ContainersProvisionArgs, DetectArgs, ListFormat, StoreArgs,
};
use crate::commands::scan::aws_settings;
use crate::commands::{keys_dir, store_path};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// The engine for the store and keys of `store`; exit 3 when the store
/// does not exist (there is no connector then).
pub(crate) fn engine(
    store: &StoreArgs,
    aws: &crate::args::AwsArgs,
    name: &str,
) -> Result<Engine, CliError> {
    let db = store_path(store)?;
    if !super::store_location(&db).exists() {
        return Err(CliError::nothing(format!("no connector `{name}`")));
    }
    Ok(Engine::new(aws_settings(aws), db, keys_dir(store)?))
}

/// Runs `rampart containers …`.
pub async fn run(args: &ContainersArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let ContainersCommand::Provision(args) = &args.command;
    let engine = engine(&args.target.store, &args.target.aws, &args.target.connector)?;
    let report = provision(
        &engine,
        &args.target.connector,
        args.target.regions.as_deref(),
        provision_mode(args),
    )
    .await?;
    print_provision(&report, args.format, out)
}

/// Prints a pipeline provisioning report; exit 1 when something failed.
pub(crate) fn print_provision(
    report: &ProvisionReport,
    format: ListFormat,
    out: &mut dyn Write,
) -> Result<Exit, CliError> {
    let text = match format {
        ListFormat::Json => serde_json::to_string_pretty(report).map_err(CliError::failure)? + "\n",
        ListFormat::Table => render_provision(report),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(if report.succeeded() {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

/// What `--dry-run` and `--remove` ask.
pub(crate) fn provision_mode(args: &ContainersProvisionArgs) -> ProvisionMode {
    if args.dry_run {
        ProvisionMode::DryRun
    } else if args.remove {
        ProvisionMode::Remove
    } else {
        ProvisionMode::Apply
    }
}

fn render_provision(report: &ProvisionReport) -> String {
    let mut rows = Vec::new();
    for c in &report.clusters {
        if let Some(error) = &c.error {
            rows.push(vec![
                c.region.clone(),
                c.cluster.clone(),
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                format!("failed: {error}"),
            ]);
        }
        if let Some(plan) = &c.plan {
            for s in &plan.steps {
                rows.push(vec![
                    c.region.clone(),
                    c.cluster.clone(),
                    s.resource.to_string(),
                    s.name.clone(),
                    s.action.as_str().to_owned(),
                    s.error
                        .as_ref()
                        .map_or_else(|| s.reason.clone(), |e| format!("unknown: {e}")),
                ]);
            }
        }
        if let Some(done) = &c.report {
            for s in &done.steps {
                let result = match &s.outcome {
                    Outcome::Unchanged => "unchanged".to_owned(),
                    Outcome::Done => "done".to_owned(),
                    Outcome::Failed { error } => format!("failed: {error}"),
                };
                rows.push(vec![
                    c.region.clone(),
                    c.cluster.clone(),
                    s.step.resource.to_string(),
                    s.step.name.clone(),
                    s.step.action.as_str().to_owned(),
                    result,
                ]);
            }
        }
    }
    let (one, header, listing) = if report.plan == Plan::Sql {
        ("SQL Server log group", "LOG GROUP", "SQL Server log groups")
    } else {
        ("cluster", "CLUSTER", "clusters")
    };
    let mut text = format!(
        "Connector `{}` (account {}): {} {one}{}\n",
        report.connector,
        report.account,
        report.clusters.len(),
        if report.clusters.len() == 1 { "" } else { "s" }
    );
    if !rows.is_empty() {
        text.push_str(&table(
            &["REGION", header, "RESOURCE", "NAME", "ACTION", "RESULT"],
            &rows,
        ));
    }
    for e in &report.region_errors {
        text.push_str(&format!(
            "error: region {}: cannot list {listing}: {}\n",
            e.region, e.error
        ));
    }
    for group in &report.log_groups_not_found {
        text.push_str(&format!(
            "error: log group `{group}` exists in none of the connector's regions\n"
        ));
    }
    text
}

fn render_detect(report: &DetectReport) -> String {
    let mut text = String::new();
    let others = report.cloudtrail.is_some() || !report.sql_log_groups.is_empty();
    if !(report.clusters.is_empty() && others) {
        text = drains_table("CLUSTER", &report.clusters);
    }
    for e in &report.region_errors {
        text.push_str(&format!(
            "error: region {}: cannot list clusters: {}\n",
            e.region, e.error
        ));
    }
    if !report.sql_log_groups.is_empty() || !report.sql_region_errors.is_empty() {
        text.push_str("SQL Server log groups\n");
        text.push_str(&drains_table("LOG GROUP", &report.sql_log_groups));
        for e in &report.sql_region_errors {
            text.push_str(&format!(
                "error: region {}: cannot list SQL Server log groups: {}\n",
                e.region, e.error
            ));
        }
    }
    if let Some(trail) = &report.cloudtrail {
        text.push_str(&render_cloudtrail(trail));
    }
    text
}

/// One row per pipeline drained, then each one's errors.
fn drains_table(subject: &str, drains: &[ClusterDetection]) -> String {
    let rows: Vec<Vec<String>> = drains
        .iter()
        .map(|c| {
            vec![
                c.region.clone(),
                c.cluster.clone(),
                c.events_processed.to_string(),
                c.alerts_new.to_string(),
                c.alerts_updated.to_string(),
                c.last_event.clone().unwrap_or_else(|| "-".to_owned()),
                c.lag_secs
                    .map_or_else(|| "-".to_owned(), |l| format!("{l:.0}s")),
                c.dead_letter_depth
                    .map_or_else(|| "-".to_owned(), |d| d.to_string()),
                c.errors.len().to_string(),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "REGION",
            subject,
            "EVENTS",
            "NEW",
            "UPDATED",
            "LAST EVENT",
            "LAG",
            "DLQ",
            "ERRORS",
        ],
        &rows,
    );
    for c in drains {
        for e in &c.errors {
            text.push_str(&format!("error: {}/{}: {e}\n", c.region, c.cluster));
        }
    }
    text
}

fn render_cloudtrail(report: &CloudTrailDetection) -> String {
    let rows: Vec<Vec<String>> = report
        .sources
        .iter()
        .map(|s| {
            vec![
                s.location.clone(),
                s.objects.to_string(),
                s.events_processed.to_string(),
                s.alerts_new.to_string(),
                s.alerts_updated.to_string(),
                s.last_event.clone().unwrap_or_else(|| "-".to_owned()),
                s.dead_letter_depth
                    .map_or_else(|| "-".to_owned(), |d| d.to_string()),
                s.errors.len().to_string(),
            ]
        })
        .collect();
    let mut text = format!(
        "CloudTrail ({} mode): {} trail{}\n",
        report.mode,
        report.trails.len(),
        if report.trails.len() == 1 { "" } else { "s" }
    );
    if !rows.is_empty() {
        text.push_str(&table(
            &[
                "SOURCE",
                "OBJECTS",
                "EVENTS",
                "NEW",
                "UPDATED",
                "LAST EVENT",
                "DEAD",
                "ERRORS",
            ],
            &rows,
        ));
    }
    for s in &report.sources {
        for e in &s.errors {
            text.push_str(&format!("error: {}: {e}\n", s.location));
        }
    }
    for e in &report.errors {
        text.push_str(&format!("error: cloudtrail: {e}\n"));
    }
    text
}

/// Runs `rampart detect`: once, or until Ctrl-C.
pub async fn detect(args: &DetectArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let engine = engine(&args.target.store, &args.target.aws, &args.target.connector)?;
    let mut options = DetectOptions {
        visibility_timeout_secs: args.visibility_timeout,
        ..DetectOptions::default()
    };
    if let Some(wait) = args.wait {
        options.wait_time_secs = wait;
    } else if !args.once {
        options.wait_time_secs = 20;
    }
    loop {
        let drain = detect_once(
            &engine,
            &args.target.connector,
            args.target.regions.as_deref(),
            options,
        );
        let report = if args.once {
            drain.await?
        } else {
            tokio::select! {
                report = drain => report?,
                _ = tokio::signal::ctrl_c() => return Ok(Exit::Ok),
            }
        };
        let text = match args.format {
            ListFormat::Json => serde_json::to_string(&report).map_err(CliError::failure)? + "\n",
            ListFormat::Table => render_detect(&report),
        };
        out.write_all(text.as_bytes()).map_err(CliError::failure)?;
        out.flush().map_err(CliError::failure)?;
        if args.once {
            return Ok(if report.succeeded() {
                Exit::Ok
            } else {
                Exit::Failure
            });
        }
        if report.received() == 0 {
            // Nothing came (or no pipeline yet): don't spin.
            let pause = std::time::Duration::from_secs(
                u64::try_from(options.wait_time_secs.max(5)).unwrap_or(5),
            );
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = tokio::signal::ctrl_c() => return Ok(Exit::Ok),
            }
        }
    }
}
