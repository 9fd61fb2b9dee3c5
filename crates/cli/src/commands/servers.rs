//! `rampart servers provision`: a thin wrapper of the engine's
//! [`rampart_engine::servers`] (SSM on the instances in the Servers plan's
//! scope).

use std::io::Write;

use rampart_aws::pipeline::action_word;
use rampart_aws::pipeline::servers::Outcome;
use rampart_engine::servers::{ProvisionMode, ProvisionReport, provision};

use crate::args::{ListFormat, ServersArgs, ServersCommand};
use crate::commands::containers::engine;
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Runs `rampart servers …`.
pub async fn run(args: &ServersArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let ServersCommand::Provision(args) = &args.command;
    let engine = engine(&args.target.store, &args.target.aws, &args.target.connector)?;
    let mode = if args.dry_run {
        ProvisionMode::DryRun
    } else if args.remove {
        ProvisionMode::Remove
    } else {
        ProvisionMode::Apply
    };
    let report = provision(
        &engine,
        &args.target.connector,
        args.target.regions.as_deref(),
        mode,
    )
    .await?;
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&report).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => render_provision(&report),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(if report.succeeded() {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

/// The report as a table: one row per step, with its action and result
/// (the reason in a dry run).
pub fn render_provision(report: &ProvisionReport) -> String {
    let mut rows = Vec::new();
    if let Some(plan) = &report.plan {
        for s in &plan.steps {
            rows.push(vec![
                s.region.clone(),
                s.resource.to_string(),
                s.name.clone(),
                action_word(s.action).to_owned(),
                s.error
                    .as_ref()
                    .map_or_else(|| s.reason.clone(), |e| format!("{}: {e}", s.reason)),
            ]);
        }
    }
    if let Some(done) = &report.report {
        for s in &done.steps {
            let result = match &s.outcome {
                Outcome::Unchanged => format!("unchanged: {}", s.step.reason),
                Outcome::Done => format!("done: {}", s.step.reason),
                Outcome::Failed { error } => format!("failed: {error}"),
            };
            rows.push(vec![
                s.step.region.clone(),
                s.step.resource.to_string(),
                s.step.name.clone(),
                action_word(s.step.action).to_owned(),
                result,
            ]);
        }
    }
    let mode = match report.mode {
        ProvisionMode::Apply => "provision",
        ProvisionMode::DryRun => "dry run",
        ProvisionMode::Remove => "remove",
    };
    let mut text = format!(
        "Connector `{}` (account {}): SSM provisioning, {mode}, regions {}\n",
        report.connector,
        report.account,
        report.regions.join(", ")
    );
    if !rows.is_empty() {
        text.push_str(&table(
            &["REGION", "RESOURCE", "NAME", "ACTION", "RESULT"],
            &rows,
        ));
    }
    if let Some(error) = &report.error {
        text.push_str(&format!("error: {error}\n"));
    }
    text
}
