//! `rampart vulndb`: import OSV vulnerability records and show what the
//! store holds. Reading and storing are the store's
//! (`Store::import_vulndb`); this prints.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::OffsetDateTime;

use crate::args::{ListFormat, VulndbArgs, VulndbCommand, VulndbImportArgs, VulndbStatusArgs};
use crate::commands::{open_store, store_path};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Runs `rampart vulndb import` or `rampart vulndb status`.
pub fn run(args: &VulndbArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    match &args.command {
        VulndbCommand::Import(args) => import(args, out),
        VulndbCommand::Status(args) => status(args, out),
    }
}

fn import(args: &VulndbImportArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let mut store = open_store(&args.store)?;
    let mut total = 0;
    for path in &args.paths {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template("{spinner} importing {msg}: {pos} entries")
        {
            bar.set_style(style);
        }
        bar.set_message(path.display().to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        let result = store.import_vulndb(path, now_to_the_second(), &mut |n| {
            bar.set_position(n);
        });
        bar.finish_and_clear();
        // Locked only now: the bar's ticker thread draws on stderr.
        let mut stderr = std::io::stderr().lock();
        let report = result
            .map_err(|e| CliError::failure(format!("cannot import `{}`: {e}", path.display())))?;
        for reject in &report.rejects {
            let _ = writeln!(stderr, "rejected `{}`: {}", reject.origin, reject.reason);
        }
        if report.rejected > report.rejects.len() as u64 {
            let _ = writeln!(
                stderr,
                "… and {} more rejected records",
                report.rejected - report.rejects.len() as u64
            );
        }
        let sources = if report.sources.is_empty() {
            "no source".to_owned()
        } else {
            report.sources.join(", ")
        };
        writeln!(
            out,
            "{sources} from `{}`: {} records ({} package entries), {} withdrawn, {} rejected",
            report.path, report.records, report.advisories, report.withdrawn, report.rejected
        )
        .map_err(CliError::failure)?;
        total += report.records + report.withdrawn;
    }
    if total == 0 {
        return Err(CliError::nothing("no OSV record was imported"));
    }
    Ok(Exit::Ok)
}

fn status(args: &VulndbStatusArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let path = store_path(&args.store)?;
    if !super::store_location(&path).exists() {
        return Err(CliError::nothing(format!(
            "no store at `{}`; import OSV records with `rampart vulndb import`",
            path.display()
        )));
    }
    let status = open_store(&args.store)?.vulndb_status()?;
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&status).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            if status.sources.is_empty() {
                return Err(CliError::nothing(
                    "no vulnerability records; import OSV records with `rampart vulndb import`",
                ));
            }
            let rows: Vec<Vec<String>> = status
                .sources
                .iter()
                .map(|s| {
                    let shown: Vec<&str> =
                        s.ecosystems.iter().take(3).map(String::as_str).collect();
                    let mut ecosystems = shown.join(", ");
                    if s.ecosystems.len() > shown.len() {
                        ecosystems.push_str(&format!(" +{}", s.ecosystems.len() - shown.len()));
                    }
                    vec![
                        s.source.clone(),
                        s.records.to_string(),
                        s.advisories.to_string(),
                        ecosystems,
                        s.newest_record.clone().unwrap_or_else(|| "-".to_owned()),
                        s.imported_at.clone().unwrap_or_else(|| "-".to_owned()),
                        s.path.clone().unwrap_or_else(|| "-".to_owned()),
                    ]
                })
                .collect();
            table(
                &[
                    "SOURCE",
                    "RECORDS",
                    "ENTRIES",
                    "ECOSYSTEMS",
                    "NEWEST RECORD",
                    "IMPORTED AT",
                    "PATH",
                ],
                &rows,
            )
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

/// Now, to the whole second (import times are shown and compared as
/// `YYYY-MM-DDTHH:MM:SSZ`).
fn now_to_the_second() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}
