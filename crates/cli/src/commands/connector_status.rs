//! `rampart connector status NAME`: the connector's health — the issuer,
//! each plan's roles and requirements, the last scan and its gaps — each
//! requirement met, not met (with the fix) or unknown (with the reason).
//!
//! Exit 0 when no requirement is "not met" (unknown ones allowed), 1 when
//! one is; 2 for bad usage, 3 when there is no such connector.

use std::io::Write;

use rampart_connector::{Connector, Plan};
use rampart_engine::credentials::health_options;
use rampart_health::{ConnectorHealth, HealthOptions, State, connector_health, scan_evidence};
use rampart_store::Store;

use crate::args::{ConnectorStatusArgs, ListFormat};
use crate::commands::scan::aws_settings;
use crate::commands::{keys_dir, open_store, store_exists};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// The existing store and the connector; exit 3 when there is none.
fn find(args: &ConnectorStatusArgs) -> Result<(Store, Connector), CliError> {
    let missing = || CliError::nothing(format!("no connector `{}`", args.name));
    if !store_exists(&args.store)? {
        return Err(missing());
    }
    let store = open_store(&args.store)?;
    let connector = store.connector(&args.name)?.ok_or_else(missing)?;
    Ok((store, connector))
}

/// Runs `rampart connector status`.
pub async fn run(args: &ConnectorStatusArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let (store, connector) = find(args)?;
    let options = match keys_dir(&args.store) {
        Ok(dir) => health_options(aws_settings(&args.aws), &dir, &store, &connector)?,
        // A classic connector's credentials need the keys directory.
        Err(e) if connector.is_classic() => return Err(e),
        Err(e) => HealthOptions::new(aws_settings(&args.aws), Err(e.message)),
    };
    let evidence = scan_evidence(&store, &connector)?;
    drop(store);
    let health = connector_health(&connector, &options, evidence.as_ref()).await;
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&health).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => render(&health),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(if health.healthy() {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

/// The table, then the fixes and the reasons.
fn render(health: &ConnectorHealth) -> String {
    let plan = |p: Option<Plan>| p.map_or_else(|| "-".to_owned(), |p| p.name().to_owned());
    let rows: Vec<Vec<String>> = health
        .checks
        .iter()
        .map(|c| {
            vec![
                plan(c.plan),
                c.requirement.to_owned(),
                c.state.name().replace('_', " "),
                c.detail.clone(),
            ]
        })
        .collect();
    let mut text = format!(
        "connector `{}` (account {})\n\n{}",
        health.connector,
        health.account,
        table(&["PLAN", "REQUIREMENT", "STATE", "DETAIL"], &rows)
    );
    let mut notes = Vec::new();
    for check in &health.checks {
        match &check.state {
            State::NotMet { fix } => notes.push(format!(
                "not met  {} {}: {fix}",
                plan(check.plan),
                check.requirement
            )),
            State::Unknown { why } => notes.push(format!(
                "unknown  {} {}: {why}",
                plan(check.plan),
                check.requirement
            )),
            State::Met => {}
        }
    }
    if !notes.is_empty() {
        text.push('\n');
        for note in notes {
            text.push_str(&note);
            text.push('\n');
        }
    }
    let not_met = health.not_met().count();
    let unknown = health
        .checks
        .iter()
        .filter(|c| matches!(c.state, State::Unknown { .. }))
        .count();
    text.push_str(&format!(
        "\n{} met, {not_met} not met, {unknown} unknown\n",
        health.checks.len().saturating_sub(not_met + unknown)
    ));
    text
}
