//! `rampart alerts`: list and export alerts, change their status.

use std::io::Write;

use rampart_model::Alert;
use rampart_report::{alerts_json, alerts_ocsf};
use rampart_store::{AlertFilter, Store};
use time::OffsetDateTime;

use crate::args::{AlertSetStatusArgs, AlertsArgs, AlertsCommand, AlertsFormat};
use crate::commands::{open_existing_store, open_store};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Lists alerts, or runs `set-status`.
pub fn run(args: &AlertsArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    if let Some(AlertsCommand::SetStatus(set)) = &args.command {
        return set_status(set, out);
    }
    let store = open_existing_store(&args.store)?;
    if let Some(wanted) = &args.alert_type {
        check_type(&store, wanted)?;
    }
    let filter = AlertFilter {
        min_severity: args.severity.map(Into::into),
        status: args.status.map(Into::into),
        alert_type: args.alert_type.clone(),
        plan: args.plan.map(Into::into),
        source: args.source.map(Into::into),
        account: args.account.clone(),
        resource: args.resource.clone(),
    };
    let alerts = store.alerts(&filter)?;
    let text = match args.format {
        AlertsFormat::Json => alerts_json(OffsetDateTime::now_utc(), &alerts),
        AlertsFormat::Ocsf => alerts_ocsf(&alerts),
        AlertsFormat::Table => Ok(alerts_table(&alerts)),
    }
    .map_err(|e| CliError::failure(format!("alerts: {e}")))?;
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

/// One row per alert, most recently seen first.
fn alerts_table(alerts: &[Alert]) -> String {
    if alerts.is_empty() {
        return "No alerts.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|a| {
            vec![
                a.severity.as_str().to_owned(),
                a.status.as_str().to_owned(),
                a.alert_type.clone(),
                a.resource.name.clone(),
                a.account.clone(),
                when(a.last_seen),
                a.count.to_string(),
                a.id.clone(),
            ]
        })
        .collect();
    table(
        &[
            "SEVERITY",
            "STATUS",
            "TYPE",
            "RESOURCE",
            "ACCOUNT",
            "LAST SEEN",
            "EVENTS",
            "ID",
        ],
        &rows,
    )
}

fn when(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// An alert type no stored alert has, but close to one that some has, is
/// a typo: say which one was meant.
fn check_type(store: &Store, wanted: &str) -> Result<(), CliError> {
    let known = store.alert_types()?;
    if known.iter().any(|t| t == wanted) {
        return Ok(());
    }
    let closest = known
        .iter()
        .map(|t| (distance(&t.to_lowercase(), &wanted.to_lowercase()), t))
        .min();
    match closest {
        Some((d, t)) if d <= 3 => Err(CliError::usage(format!(
            "no alert of type `{wanted}`; did you mean `{t}`?"
        ))),
        _ => Ok(()),
    }
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let cost = usize::from(ca != *cb);
            let value = (above + 1).min(left + 1).min(previous + cost);
            previous = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = value;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

fn set_status(args: &AlertSetStatusArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let mut store = open_store(&args.store)?;
    let actor = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .map_or_else(|| "cli".to_owned(), |u| format!("cli:{u}"));
    let change = match store.set_alert_status(
        &args.id,
        args.status.into(),
        &actor,
        args.comment.as_deref(),
        OffsetDateTime::now_utc(),
    ) {
        Ok(change) => change,
        Err(rampart_store::StoreError::NoSuchAlert(id)) => {
            return Err(CliError::usage(format!(
                "no alert `{id}`; list them with `rampart alerts`"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let line = if change.from == change.to {
        format!("alert {} is already {}\n", args.id, change.to.as_str())
    } else {
        format!(
            "alert {}: {} -> {}\n",
            args.id,
            change.from.as_str(),
            change.to.as_str()
        )
    };
    out.write_all(line.as_bytes()).map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(
            distance("k8s.privilegedcontainer", "k8s.privilegedcontainer"),
            0
        );
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}
