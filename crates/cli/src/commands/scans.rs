//! `rampart scans`: scan history.

use std::io::Write;

use crate::args::{ListFormat, ScansArgs};
use crate::commands::open_existing_store;
use crate::commands::scan::coverage_text;
use crate::exit::CliError;
use crate::output::{abbreviated, rfc3339, table};

/// Lists past scans: start times in RFC 3339 to the second, long account
/// and region lists abbreviated (`us-east-1, eu-west-1 +15`; `--format
/// json` has them all).
pub fn run(args: &ScansArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.store)?;
    let scans = store.scans(args.limit)?;
    let coverage = scans
        .iter()
        .map(|s| store.scan_coverage(&s.id))
        .collect::<Result<Vec<_>, _>>()?;
    let text = match args.format {
        ListFormat::Json => {
            // Each scan with what it covered.
            let items: Vec<serde_json::Value> = scans
                .iter()
                .zip(&coverage)
                .map(|(scan, coverage)| {
                    let mut item = serde_json::json!(scan);
                    if let Some(obj) = item.as_object_mut() {
                        obj.insert(
                            "coverage".into(),
                            rampart_store::ScanCoverage::view(coverage.as_ref()),
                        );
                    }
                    item
                })
                .collect();
            serde_json::to_string_pretty(&items).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = scans
                .iter()
                .zip(&coverage)
                .map(|(s, coverage)| {
                    vec![
                        s.id.clone(),
                        s.status.as_str().to_owned(),
                        rfc3339(s.started_at),
                        abbreviated(&s.accounts, 2),
                        abbreviated(&s.regions, 2),
                        coverage_text(coverage.as_ref()),
                        s.asset_count.to_string(),
                        s.gap_count.to_string(),
                        s.api_calls.to_string(),
                    ]
                })
                .collect();
            table(
                &[
                    "SCAN", "STATUS", "STARTED", "ACCOUNTS", "REGIONS", "COVERAGE", "ASSETS",
                    "GAPS", "CALLS",
                ],
                &rows,
            )
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}
