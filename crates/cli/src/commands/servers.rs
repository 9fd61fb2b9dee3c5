//! `rampart servers provision`: a thin wrapper of the engine's
//! [`rampart_engine::servers`] (SSM on the instances in the Servers plan's
//! scope).

use std::io::Write;

use rampart_aws::pipeline::action_word;
use rampart_aws::pipeline::servers::Outcome;
use rampart_engine::servers::{ProvisionMode, ProvisionReport, provision};

use crate::args::{ListFormat, ServersArgs, ServersCommand, ServersListArgs};
use crate::commands::containers::engine;
use crate::commands::open_existing_store;
use crate::exit::{CliError, Exit};
use crate::output::{plural, table};
use crate::posture::scan_to_read;

/// Runs `rampart servers …`.
pub async fn run(args: &ServersArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let args = match &args.command {
        ServersCommand::Provision(args) => args,
        ServersCommand::List(args) => return list(args, out),
    };
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

/// `rampart servers list`: the stored scan's EC2 instances and their
/// Servers coverage.
fn list(args: &ServersListArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let store = open_existing_store(&args.store)?;
    let scan = scan_to_read(&store, args.scan.as_deref())?;
    let all = rampart_engine::server_coverage::stored_coverage(&store)?;
    let totals = rampart_engine::server_coverage::tally(&all);
    let shown: Vec<_> = all
        .into_iter()
        .filter(|c| args.account.as_ref().is_none_or(|a| &c.account == a))
        .filter(|c| args.region.as_ref().is_none_or(|r| &c.region == r))
        .filter(|c| !args.uncovered || !c.covered)
        .collect();
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&shown).map_err(CliError::failure)? + "\n",
        ListFormat::Table => {
            let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
            let rows: Vec<Vec<String>> = shown
                .iter()
                .map(|c| {
                    vec![
                        c.instance_id.clone(),
                        c.account.clone(),
                        c.region.clone(),
                        dash(&c.state),
                        match c.managed {
                            rampart_catalog::servers::Managed::Yes => {
                                format!("yes ({})", dash(&c.ping_status))
                            }
                            rampart_catalog::servers::Managed::No => "no".to_owned(),
                            rampart_catalog::servers::Managed::Unknown => "unknown".to_owned(),
                        },
                        dash(&c.agent_version),
                        dash(&c.patch_compliance),
                        dash(&c.association_compliance),
                        match c.inventory_present {
                            Some(true) => "yes".to_owned(),
                            Some(false) => "no".to_owned(),
                            None => "-".to_owned(),
                        },
                        if c.covered {
                            "covered".to_owned()
                        } else {
                            c.reasons
                                .iter()
                                .map(|r| r.code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    ]
                })
                .collect();
            let mut text = table(
                &[
                    "INSTANCE",
                    "ACCOUNT",
                    "REGION",
                    "STATE",
                    "SSM",
                    "AGENT",
                    "PATCHES",
                    "ASSOCIATIONS",
                    "INVENTORY",
                    "COVERAGE",
                ],
                &rows,
            );
            text.push_str(&format!(
                "{} of {} covered (scan {})\n",
                totals.covered,
                plural(totals.instances as u64, "instance", "instances"),
                scan.id
            ));
            for (code, n) in &totals.reasons {
                text.push_str(&format!("  {code}: {n}\n"));
            }
            text
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(Exit::Ok)
}
