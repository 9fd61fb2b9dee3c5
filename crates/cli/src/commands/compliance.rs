//! `rampart compliance [STANDARD]`: every standard's summary, or one
//! standard control by control.

use std::io::Write;

use rampart_catalog::compliance::{ControlState, StandardResult, assess_standard};
use rampart_model::suggest;

use crate::args::{ComplianceArgs, ListFormat};
use crate::commands::open_existing_store;
use crate::exit::CliError;
use crate::output::table;
use crate::posture;

/// Prints a standard's controls with their state, or, with no standard,
/// one summary line per standard; `--account`, `--connector` and
/// `--region` narrow the assessments they are computed from.
pub fn run(args: &ComplianceArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let standards = posture::standards()?;
    let chosen = match &args.standard {
        Some(id) => Some(standards.iter().find(|s| s.id == id).ok_or_else(|| {
            CliError::usage(suggest::unknown(
                "standard",
                id,
                &standards.iter().map(|s| s.id).collect::<Vec<_>>(),
                standards.len(),
                None,
            ))
        })?),
        None => None,
    };
    let store = open_existing_store(&args.read.store)?;
    let scan = posture::scan_to_read(&store, args.read.scan.as_deref())?;
    let catalog = posture::catalog()?;
    let scope = posture::scope(&store, &scan, &args.scope)?;
    let assessments = store.assessment_statuses_in(&scope)?;
    let only = posture::scope_line(&args.scope).unwrap_or_default();
    let Some(standard) = chosen else {
        let results: Vec<StandardResult> = standards
            .iter()
            .map(|s| assess_standard(s, &catalog, &assessments))
            .collect();
        let text = match args.format {
            ListFormat::Json => {
                serde_json::to_string_pretty(&results).map_err(CliError::failure)? + "\n"
            }
            ListFormat::Table => summary(&results, &scan.id) + &only,
        };
        return out.write_all(text.as_bytes()).map_err(CliError::failure);
    };
    let result = assess_standard(standard, &catalog, &assessments);
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&result).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = result
                .controls
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        c.state.as_str().to_owned(),
                        c.unhealthy.to_string(),
                        c.healthy.to_string(),
                        c.title.chars().take(70).collect(),
                    ]
                })
                .collect();
            let mut text = format!("{} ({})\n", result.name, result.id);
            text.push_str(&table(
                &["CONTROL", "STATE", "UNHEALTHY", "HEALTHY", "TITLE"],
                &rows,
            ));
            text.push_str(&format!(
                "passed {} · failed {} · error {} · no resources {} · manual {} · not covered {}\n",
                result.count(ControlState::Passed),
                result.count(ControlState::Failed),
                result.count(ControlState::Error),
                result.count(ControlState::NoResources),
                result.count(ControlState::Manual),
                result.count(ControlState::NotCovered),
            ));
            text.push_str(&only);
            text
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// One row per standard: how many of its controls are in each state.
pub fn summary(results: &[StandardResult], scan: &str) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.count(ControlState::Passed).to_string(),
                r.count(ControlState::Failed).to_string(),
                r.count(ControlState::Error).to_string(),
                r.count(ControlState::NoResources).to_string(),
                r.count(ControlState::Manual).to_string(),
                r.count(ControlState::NotCovered).to_string(),
                r.name.clone(),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "STANDARD",
            "PASSED",
            "FAILED",
            "ERROR",
            "NO RESOURCES",
            "MANUAL",
            "NOT COVERED",
            "NAME",
        ],
        &rows,
    );
    text.push_str(&format!(
        "controls by state (scan {scan}); `rampart compliance STANDARD` lists one standard's controls\n"
    ));
    text
}
