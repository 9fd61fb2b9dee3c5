//! `rampart compliance <standard>`: control by control.

use std::io::Write;

use rampart_catalog::compliance::{ControlState, assess_standard};

use crate::args::{ComplianceArgs, ListFormat};
use crate::commands::open_existing_store;
use crate::exit::CliError;
use crate::output::table;
use crate::posture;

/// Prints a standard's controls with their state.
pub fn run(args: &ComplianceArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let standards = posture::standards()?;
    let standard = standards
        .iter()
        .find(|s| s.id == args.standard)
        .ok_or_else(|| {
            let known: Vec<&str> = standards.iter().map(|s| s.id).collect();
            CliError::usage(format!(
                "unknown standard `{}` (known standards: {})",
                args.standard,
                known.join(", ")
            ))
        })?;
    let store = open_existing_store(&args.read.store)?;
    let scan = posture::scan_to_read(&store, args.read.scan.as_deref())?;
    let catalog = posture::catalog()?;
    let assessments = store.assessments(&scan.id)?;
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
            text
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}
