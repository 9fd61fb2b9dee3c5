//! `rampart changes`, `rampart trend` and `rampart history prune`: the
//! posture history the store keeps (changes to the current assessments,
//! daily aggregates).

use std::io::Write;

use rampart_store::{AssessmentChange, ChangeFilter, DailyPosture};
use time::OffsetDateTime;

use crate::args::{ChangesArgs, HistoryArgs, HistoryCommand, ListFormat, TrendArgs};
use crate::commands::{open_existing_store, open_store};
use crate::exit::CliError;
use crate::output::{plural, table};
use crate::posture;

/// A `--since`/`--until` day, checked.
fn day(name: &str, value: Option<&String>) -> Result<Option<String>, CliError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if rampart_store::is_day(value) {
        Ok(Some(value.clone()))
    } else {
        Err(CliError::usage(format!(
            "`--{name}` value `{value}` is not a day (YYYY-MM-DD)"
        )))
    }
}

fn status_text(status: Option<rampart_model::AssessmentStatus>) -> String {
    status.map_or_else(|| "-".to_owned(), |s| s.as_str().to_owned())
}

/// Prints logged changes, newest first.
pub fn changes(args: &ChangesArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.store)?;
    let filter = ChangeFilter {
        since: day("since", args.days.since.as_ref())?,
        until: day("until", args.days.until.as_ref())?,
        change: args.change.map(Into::into),
        recommendation: args.days.recommendation.clone(),
        resource: None,
        scope: posture::store_scope(&store, &args.scope)?,
    };
    let changes = store.changes(&filter, None, args.limit)?;
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&changes).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            render_changes(&changes) + &posture::scope_line(&args.scope).unwrap_or_default()
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// Changes as a table, then a count.
pub fn render_changes(changes: &[AssessmentChange]) -> String {
    let time = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            vec![
                c.at.format(time).unwrap_or_default(),
                c.change.as_str().to_owned(),
                format!(
                    "{} → {}",
                    status_text(c.old_status),
                    status_text(c.new_status)
                ),
                c.recommendation.clone(),
                c.account.clone(),
                c.resource.clone(),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "WHEN (UTC)",
            "CHANGE",
            "STATUS",
            "RECOMMENDATION",
            "ACCOUNT",
            "RESOURCE",
        ],
        &rows,
    );
    text.push_str(&plural(changes.len() as u64, "change", "changes"));
    text.push('\n');
    text
}

/// Prints the secure score and assessment counts per day.
pub fn trend(args: &TrendArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.store)?;
    let since = day("since", args.days.since.as_ref())?;
    let until = day("until", args.days.until.as_ref())?;
    let days = store.daily_posture(
        &posture::store_scope(&store, &args.scope)?,
        args.days.recommendation.as_deref(),
        since.as_deref(),
        until.as_deref(),
    )?;
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&days).map_err(CliError::failure)? + "\n",
        ListFormat::Table => {
            render_trend(&days) + &posture::scope_line(&args.scope).unwrap_or_default()
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// Days as a table.
pub fn render_trend(days: &[DailyPosture]) -> String {
    let rows: Vec<Vec<String>> = days
        .iter()
        .map(|d| {
            vec![
                d.day.clone(),
                d.score
                    .map_or_else(|| "-".to_owned(), |s| format!("{s:.1}%")),
                d.unhealthy.to_string(),
                d.healthy.to_string(),
                d.not_applicable.to_string(),
                d.error.to_string(),
                d.exempt.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "DAY",
            "SCORE",
            "UNHEALTHY",
            "HEALTHY",
            "NOT APPLICABLE",
            "ERROR",
            "EXEMPT",
        ],
        &rows,
    )
}

/// `rampart history …`.
pub fn run(args: &HistoryArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.command {
        HistoryCommand::Prune(prune) => {
            let mut store = open_store(&prune.store)?;
            let report = store.prune_history(prune.keep_days, OffsetDateTime::now_utc())?;
            let what = if report.partitions_dropped.is_empty() {
                plural(report.rows_deleted, "row", "rows") + " deleted"
            } else {
                format!(
                    "{} dropped ({})",
                    plural(
                        report.partitions_dropped.len() as u64,
                        "partition",
                        "partitions"
                    ),
                    report.partitions_dropped.join(", ")
                )
            };
            let text = format!("History before {}: {what}\n", report.before);
            out.write_all(text.as_bytes()).map_err(CliError::failure)
        }
    }
}
