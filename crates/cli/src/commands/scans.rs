//! `rampart scans`: scan history.

use std::io::Write;

use crate::args::{ListFormat, ScansArgs};
use crate::commands::open_existing_store;
use crate::exit::CliError;
use crate::output::{abbreviated, rfc3339, table};

/// Lists past scans: start times in RFC 3339 to the second, long account
/// and region lists abbreviated (`us-east-1, eu-west-1 +15`; `--format
/// json` has them all).
pub fn run(args: &ScansArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.store)?;
    let scans = store.scans(args.limit)?;
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&scans).map_err(CliError::failure)? + "\n",
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = scans
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.status.as_str().to_owned(),
                        rfc3339(s.started_at),
                        abbreviated(&s.accounts, 2),
                        abbreviated(&s.regions, 2),
                        s.asset_count.to_string(),
                        s.gap_count.to_string(),
                        s.api_calls.to_string(),
                    ]
                })
                .collect();
            table(
                &[
                    "SCAN", "STATUS", "STARTED", "ACCOUNTS", "REGIONS", "ASSETS", "GAPS", "CALLS",
                ],
                &rows,
            )
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}
