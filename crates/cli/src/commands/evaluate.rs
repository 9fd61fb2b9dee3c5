//! `rampart evaluate`: re-evaluate a stored snapshot.
//!
//! Streams: assets go from the store into the compact inventory one row at
//! a time, and assessments go from the evaluation into the store one at a
//! time (in one transaction), counted on the way for the score, the
//! summary and `--fail-on`. A snapshot of a million assets re-evaluates in
//! about a gigabyte.

use std::io::Write;

use rampart_catalog::Inventory;
use rampart_catalog::evaluate::assess_each;
use rampart_catalog::score::secure_score_of;
use rampart_catalog::tally::Tally;
use time::OffsetDateTime;

use crate::args::EvaluateArgs;
use crate::commands::open_existing_store;
use crate::exit::{CliError, Exit};
use crate::output::plural;
use crate::posture;

/// Re-evaluates and replaces the scan's assessments; prints a short summary.
pub fn run(args: &EvaluateArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let mut store = open_existing_store(&args.read.store)?;
    let scan = posture::scan_to_read(&store, args.read.scan.as_deref())?;
    let catalog = posture::catalog()?;
    let controls = posture::controls()?;
    let mut exemptions = posture::exemptions(args.evaluation.exemptions.as_deref())?;
    posture::add_stored_exemptions(&store, &mut exemptions)?;
    let threshold = args.evaluation.fail_on.map(Into::into);

    let mut inventory = Inventory::default();
    let assets = store.each_asset_text(|asset, properties| {
        inventory
            .push_json(&asset, properties)
            .map_err(|e| e.to_string())
    })?;
    let now = OffsetDateTime::now_utc();
    let mut tally = Tally::new(&catalog);
    let mut failing = false;
    let written = store.replace_assessments_with(&scan.id, |writer| {
        assess_each(&catalog, &inventory, &exemptions, now, &mut tally, |a| {
            failing |= posture::fails_gate(&catalog, &a.recommendation, a.status, threshold);
            writer.write(a)
        })?;
        Ok(writer.written())
    })?;
    let score = secure_score_of(&controls, &tally);
    let text = format!(
        "Evaluated scan {}: {}, {}, secure score {:.1}%\n{}",
        scan.id,
        plural(assets as u64, "asset", "assets"),
        plural(written as u64, "assessment", "assessments"),
        score.percent,
        super::score::status_counts_line_of(tally.status_totals()),
    );
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(if failing {
        Exit::FindingsAtOrAbove
    } else {
        Exit::Ok
    })
}
