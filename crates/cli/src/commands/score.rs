//! `rampart score`: the secure score.

use std::io::Write;

use rampart_catalog::score::SecureScore;
use rampart_catalog::tally::StatusCounts;

use crate::args::{ListFormat, ScoreArgs};
use crate::commands::open_existing_store;
use crate::exit::CliError;
use crate::output::table;
use crate::posture;

/// Prints the secure score of the latest (or given) scan, or of the part
/// of it that `--account`, `--connector` and `--region` select.
pub fn run(args: &ScoreArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.read.store)?;
    let scan = posture::scan_to_read(&store, args.read.scan.as_deref())?;
    let catalog = posture::catalog()?;
    let scope = posture::scope(&store, &scan, &args.scope)?;
    let assessments = store.assessment_statuses_in(&scope)?;
    let score = posture::score(&catalog, &assessments)?;
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&score).map_err(CliError::failure)? + "\n",
        ListFormat::Table => render(&score) + &posture::scope_line(&args.scope).unwrap_or_default(),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// The score as text: the percent, then one row per control.
pub fn render(score: &SecureScore) -> String {
    let mut text = format!("Secure score: {:.1}%\n", score.percent);
    let rows: Vec<Vec<String>> = score
        .controls
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                format!("{:.2}", c.current),
                format!("{:.0}", c.max),
                c.healthy.to_string(),
                c.unhealthy.to_string(),
                format!("+{:.2}", c.potential_increase),
            ]
        })
        .collect();
    text.push_str(&table(
        &[
            "SECURITY CONTROL",
            "CURRENT",
            "MAX",
            "HEALTHY",
            "UNHEALTHY",
            "POTENTIAL",
        ],
        &rows,
    ));
    text
}

/// `assessments: unhealthy N · healthy N · …` from counts in [`StatusCounts`] order (healthy,
/// unhealthy, error, exempt, not applicable).
pub fn status_counts_line_of(counts: StatusCounts) -> String {
    let [healthy, unhealthy, error, exempt, not_applicable] = counts;
    format!(
        "assessments: unhealthy {unhealthy} · healthy {healthy} · not_applicable {not_applicable} · error {error} · exempt {exempt}\n"
    )
}
