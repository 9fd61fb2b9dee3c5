//! `rampart sql list|assess|provision` and `rampart sql baseline …`: thin
//! wrappers of the engine's [`rampart_engine::sql`] (the view of a stored
//! scan, the vulnerability assessment, its baselines) and
//! [`rampart_engine::sql_logs`] (the SQL Server log pipelines).

use std::io::Write;

use rampart_engine::sql::{SqlServerView, accept_baseline, assess_connector, stored_sql_servers};
use rampart_model::Asset;

use crate::args::{
    ListFormat, SqlArgs, SqlAssessArgs, SqlBaselineCommand, SqlCommand, SqlListArgs,
};
use crate::commands::open_existing_store;
use crate::exit::{CliError, Exit};
use crate::output::{plural, table};
use crate::posture::scan_to_read;

/// Runs `rampart sql …`.
pub async fn run(args: &SqlArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    match &args.command {
        SqlCommand::List(args) => list(args, out),
        SqlCommand::Assess(args) => assess(args, out).await,
        SqlCommand::Provision(args) => {
            let engine = crate::commands::containers::engine(
                &args.target.store,
                &args.target.aws,
                &args.target.connector,
            )?;
            let report = rampart_engine::sql_logs::provision(
                &engine,
                &args.target.connector,
                args.target.regions.as_deref(),
                crate::commands::containers::provision_mode(args),
            )
            .await?;
            crate::commands::containers::print_provision(&report, args.format, out)
        }
        SqlCommand::Baseline(args) => match &args.command {
            SqlBaselineCommand::Accept(args) => {
                let mut store = open_existing_store(&args.store)?;
                let scan = scan_to_read(&store, args.scan.as_deref())?;
                let (server, baseline) = accept_baseline(
                    &mut store,
                    &scan.id,
                    &args.target.server,
                    &args.target.rule,
                    args.target.database.as_deref(),
                    &args.by,
                )?;
                writeln!(
                    out,
                    "accepted `{}`{} of `{server}` (result {}) as expected, by {}",
                    baseline.rule,
                    baseline
                        .database
                        .as_deref()
                        .map_or_else(String::new, |d| format!(" on `{d}`")),
                    baseline.result_hash.get(..12).unwrap_or_default(),
                    baseline.accepted_by
                )
                .map_err(CliError::failure)?;
                Ok(Exit::Ok)
            }
            SqlBaselineCommand::List(args) => {
                let store = open_existing_store(&args.store)?;
                let baselines = store.sql_va_baselines(&args.server)?;
                let text = match args.format {
                    ListFormat::Json => {
                        serde_json::to_string_pretty(&baselines).map_err(CliError::failure)? + "\n"
                    }
                    ListFormat::Table => {
                        let rows: Vec<Vec<String>> = baselines
                            .iter()
                            .map(|b| {
                                vec![
                                    b.rule.clone(),
                                    b.database.clone().unwrap_or_else(|| "-".to_owned()),
                                    b.accepted_by.clone(),
                                    crate::output::rfc3339(b.accepted_at),
                                    b.result_hash.get(..12).unwrap_or_default().to_owned(),
                                ]
                            })
                            .collect();
                        table(&["RULE", "DATABASE", "ACCEPTED BY", "AT", "RESULT"], &rows)
                    }
                };
                out.write_all(text.as_bytes()).map_err(CliError::failure)?;
                Ok(Exit::Ok)
            }
            SqlBaselineCommand::Remove(args) => {
                let mut store = open_existing_store(&args.store)?;
                let removed = store.delete_sql_va_baseline(
                    &args.target.server,
                    &args.target.rule,
                    args.target.database.as_deref(),
                )?;
                if !removed {
                    return Err(CliError::nothing(format!(
                        "no baseline of `{}` for `{}`",
                        args.target.rule, args.target.server
                    )));
                }
                writeln!(out, "removed the baseline of `{}`", args.target.rule)
                    .map_err(CliError::failure)?;
                Ok(Exit::Ok)
            }
        },
    }
}

/// `rampart sql assess`: the assessment now, each rule's result.
async fn assess(args: &SqlAssessArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let engine = crate::commands::containers::engine(&args.store, &args.aws, &args.connector)?;
    let assessed = assess_connector(&engine, &args.connector, args.server.as_deref()).await?;
    let text = match args.format {
        ListFormat::Json => {
            let documents: Vec<&serde_json::Value> =
                assessed.iter().map(|a| &a.properties).collect();
            serde_json::to_string_pretty(&documents).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => render_assessments(&assessed),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    // An assessment that did not complete is a failure, never "clean".
    let complete = assessed.iter().all(|a| {
        a.properties
            .get("complete")
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    });
    Ok(if complete { Exit::Ok } else { Exit::Failure })
}

/// One table of every server's rule results, then each server's error.
fn render_assessments(assessed: &[Asset]) -> String {
    if assessed.is_empty() {
        return "no SQL Server of the connector can be assessed (see `rampart sql list`)\n"
            .to_owned();
    }
    let text_of = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("-")
            .to_owned()
    };
    let mut rows = Vec::new();
    let mut notes = String::new();
    for asset in assessed {
        let p = &asset.properties;
        let server = text_of(p, "instanceId");
        let results = p.get("results").and_then(serde_json::Value::as_array);
        for r in results.into_iter().flatten() {
            rows.push(vec![
                server.clone(),
                text_of(r, "rule"),
                text_of(r, "status"),
                text_of(r, "severity"),
                text_of(r, "database"),
                text_of(r, "title"),
            ]);
        }
        if let Some(error) = p.get("error").and_then(serde_json::Value::as_str) {
            notes.push_str(&format!("error: {server}: {error}\n"));
        }
    }
    let mut text = table(
        &["SERVER", "RULE", "STATUS", "SEVERITY", "DATABASE", "TITLE"],
        &rows,
    );
    text.push_str(&notes);
    text
}

fn dash(v: Option<&str>) -> String {
    v.map_or_else(|| "-".to_owned(), str::to_owned)
}

/// The assessment column: findings, errors, or why it did not run.
fn assessment_summary(view: &SqlServerView) -> String {
    let Some(a) = &view.assessment else {
        return "not assessed".to_owned();
    };
    let n = |k: &str| a.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    if let Some(error) = a.get("error").and_then(serde_json::Value::as_str)
        && n("findings") == 0
        && n("nonFindings") == 0
    {
        return format!("error: {error}");
    }
    let mut text = plural(n("findings"), "finding", "findings");
    if n("errors") > 0 {
        text.push_str(&format!(", {} not assessed", n("errors")));
    }
    text
}

fn list(args: &SqlListArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let store = open_existing_store(&args.store)?;
    let scan = scan_to_read(&store, args.scan.as_deref())?;
    let servers = stored_sql_servers(&store)?;
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&servers).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = servers
                .iter()
                .map(|s| {
                    let sources: Vec<&str> = s
                        .signals
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.get("source").and_then(serde_json::Value::as_str))
                        .collect();
                    vec![
                        s.host_id.clone(),
                        s.host_type.clone(),
                        s.account.clone(),
                        s.region.clone(),
                        dash(s.product.as_deref()),
                        dash(s.version.as_deref()),
                        dash(s.edition.as_deref()),
                        sources.join(","),
                        if s.prerequisites_met {
                            "met".to_owned()
                        } else {
                            s.prerequisites
                                .iter()
                                .filter(|p| {
                                    !matches!(p.state, rampart_catalog::sql::PrerequisiteState::Met)
                                })
                                .map(|p| format!("{}: {}", p.requirement, p.state_name()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        assessment_summary(s),
                    ]
                })
                .collect();
            let mut text = table(
                &[
                    "HOST",
                    "TYPE",
                    "ACCOUNT",
                    "REGION",
                    "PRODUCT",
                    "VERSION",
                    "EDITION",
                    "FOUND BY",
                    "PREREQUISITES",
                    "ASSESSMENT",
                ],
                &rows,
            );
            let met = servers.iter().filter(|s| s.prerequisites_met).count();
            text.push_str(&format!(
                "{} in scan {}; {met} meet the SQL plan's prerequisites\n",
                plural(servers.len() as u64, "SQL Server", "SQL Servers"),
                scan.id
            ));
            text
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(Exit::Ok)
}
