//! `rampart findings`: export a scan's findings.

use std::io::Write;

use rampart_report::{Findings, Format, render};
use time::OffsetDateTime;

use crate::args::{FindingsArgs, FindingsFormat};
use crate::commands::open_existing_store;
use crate::exit::{CliError, Exit};
use crate::posture;

/// Renders the findings in the chosen format to stdout or `--output`.
/// `--account`, `--connector` and `--region` export the part of the
/// snapshot they select, whole: its assessments, coverage gaps and
/// machines, their score and compliance, and the scan record narrowed to
/// it ([`rampart_store::Store::scan_in`]).
pub fn run(args: &FindingsArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let store = open_existing_store(&args.read.store)?;
    let whole = posture::scan_to_read(&store, args.read.scan.as_deref())?;
    let catalog = posture::catalog()?;
    let scope = posture::scope(&store, &whole, &args.scope)?;
    let scan = store.scan_in(&whole, &scope)?;
    let assessments = store.assessments_in(&scope)?;
    let gaps = store.gaps_in(&scope)?;
    let machines = store.machine_scans_in(&scan.id, &scope)?;
    let score = posture::score(&catalog, &assessments)?;
    let standards = posture::compliance(&catalog, &assessments)?;
    let findings = Findings {
        generated_at: OffsetDateTime::now_utc(),
        scan: &scan,
        catalog: &catalog,
        score: &score,
        standards: &standards,
        assessments: &assessments,
        gaps: &gaps,
        machines: &machines,
    };
    let format = match args.format {
        FindingsFormat::Json => Format::Json,
        FindingsFormat::Ocsf => Format::Ocsf,
        FindingsFormat::Csv => Format::Csv,
        FindingsFormat::Sarif => Format::Sarif,
        FindingsFormat::Html => Format::Html,
    };
    let text =
        render(format, &findings).map_err(|e| CliError::failure(format!("findings: {e}")))?;
    match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|e| CliError::usage(format!("cannot write `{}`: {e}", path.display())))?,
        None => out.write_all(text.as_bytes()).map_err(CliError::failure)?,
    }
    Ok(posture::gate(
        &catalog,
        &assessments,
        args.fail_on.map(Into::into),
    ))
}
