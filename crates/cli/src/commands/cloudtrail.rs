//! `rampart cloudtrail provision`: a thin wrapper of the engine's
//! [`rampart_engine::cloudtrail`] (the notification pipeline per trail
//! bucket of the Servers plan's CloudTrail threat detection).

use std::io::Write;

use rampart_aws::pipeline::Outcome;
use rampart_engine::cloudtrail::{CloudTrailProvisionReport, provision};

use crate::args::{CloudTrailArgs, CloudTrailCommand, ListFormat};
use crate::commands::containers::{engine, provision_mode};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Runs `rampart cloudtrail …`.
pub async fn run(args: &CloudTrailArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let CloudTrailCommand::Provision(args) = &args.command;
    let engine = engine(&args.target.store, &args.target.aws, &args.target.connector)?;
    let report = provision(
        &engine,
        &args.target.connector,
        args.target.regions.as_deref(),
        provision_mode(args),
    )
    .await?;
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&report).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => render(&report),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(if report.succeeded() {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

fn render(report: &CloudTrailProvisionReport) -> String {
    let mut rows = Vec::new();
    for d in &report.destinations {
        let region = d.region.clone().unwrap_or_else(|| "-".to_owned());
        if let Some(error) = &d.error {
            rows.push(vec![
                region.clone(),
                d.bucket.clone(),
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                format!("failed: {error}"),
            ]);
        }
        for s in d.plan.iter().flat_map(|p| &p.steps) {
            rows.push(vec![
                region.clone(),
                d.bucket.clone(),
                s.resource.to_string(),
                s.name.clone(),
                s.action.as_str().to_owned(),
                s.error
                    .as_ref()
                    .map_or_else(|| s.reason.clone(), |e| format!("unknown: {e}")),
            ]);
        }
        for s in d.report.iter().flat_map(|r| &r.steps) {
            let result = match &s.outcome {
                Outcome::Unchanged => "unchanged".to_owned(),
                Outcome::Done => "done".to_owned(),
                Outcome::Failed { error } => format!("failed: {error}"),
            };
            rows.push(vec![
                region.clone(),
                d.bucket.clone(),
                s.step.resource.to_string(),
                s.step.name.clone(),
                s.step.action.as_str().to_owned(),
                result,
            ]);
        }
    }
    let mut text = format!(
        "Connector `{}` (account {}), CloudTrail {} mode: {} trail{}, {} bucket{}\n",
        report.connector,
        report.account,
        report.delivery,
        report.trails.len(),
        if report.trails.len() == 1 { "" } else { "s" },
        report.destinations.len(),
        if report.destinations.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    if report.destinations.is_empty() && report.delivery == "listing" {
        text.push_str("listing mode reads the trail buckets as they are: nothing to provision\n");
    }
    if !rows.is_empty() {
        text.push_str(&table(
            &["REGION", "BUCKET", "RESOURCE", "NAME", "ACTION", "RESULT"],
            &rows,
        ));
    }
    for e in &report.errors {
        text.push_str(&format!("error: {e}\n"));
    }
    text
}
