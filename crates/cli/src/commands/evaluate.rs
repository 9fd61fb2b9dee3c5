//! `rampart evaluate`: re-evaluate a stored snapshot.

use std::io::Write;

use crate::args::EvaluateArgs;
use crate::commands::open_existing_store;
use crate::exit::{CliError, Exit};
use crate::posture;

/// Re-evaluates and replaces the scan's assessments; prints a short summary.
pub fn run(args: &EvaluateArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let mut store = open_existing_store(&args.read.store)?;
    let scan = posture::scan_to_read(&store, args.read.scan.as_deref())?;
    let catalog = posture::catalog()?;
    let mut exemptions = posture::exemptions(args.evaluation.exemptions.as_deref())?;
    posture::add_stored_exemptions(&store, &mut exemptions)?;
    let assets = posture::assets(&store, &scan)?;
    let assessments = posture::assess(&catalog, &assets, &exemptions);
    store.replace_assessments(&scan.id, &assessments)?;
    let score = posture::score(&catalog, &assessments)?;
    let text = format!(
        "Evaluated scan {}: {} assets, {} assessments, secure score {:.1}%\n{}",
        scan.id,
        assets.len(),
        assessments.len(),
        score.percent,
        super::score::status_counts_line(&assessments),
    );
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(posture::gate(
        &catalog,
        &assessments,
        args.evaluation.fail_on.map(Into::into),
    ))
}
