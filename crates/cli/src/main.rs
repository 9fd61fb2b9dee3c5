//! The `rampart` command: a thin layer over the library crates.

mod args;
mod commands;
#[cfg(test)]
mod docs_check;
mod exit;
mod output;
mod posture;

use std::io::Write;
use std::process::ExitCode;

use std::io::IsTerminal;

use clap::Parser;
use clap::error::ErrorKind;

use crate::args::{Cli, Command};
use crate::exit::{CliError, Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    init_logging(cli.verbose);
    let result = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(err) => Err(CliError::failure(format!(
            "cannot start the async runtime: {err}"
        ))),
    };
    let exit = match result {
        Ok(exit) => exit,
        // A closed stdout (`rampart findings … | head`) is not an error.
        Err(err) if err.message.contains("Broken pipe") => Exit::Ok,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "rampart: error: {}", err.message);
            err.exit
        }
    };
    ExitCode::from(exit as u8)
}

async fn run(cli: Cli) -> Result<Exit, CliError> {
    let mut stdout = std::io::stdout().lock();
    match &cli.command {
        Command::Scan(args) => commands::scan::run(args, &mut stdout).await,
        Command::Inventory(args) => commands::inventory::run(args, &mut stdout).map(|()| Exit::Ok),
        Command::Scans(args) => commands::scans::run(args, &mut stdout).map(|()| Exit::Ok),
        Command::Gaps(args) => commands::gaps::run(args, &mut stdout).map(|()| Exit::Ok),
        Command::Evaluate(args) => commands::evaluate::run(args, &mut stdout),
        Command::Score(args) => commands::score::run(args, &mut stdout).map(|()| Exit::Ok),
        Command::Changes(args) => commands::history::changes(args, &mut stdout).map(|()| Exit::Ok),
        Command::Trend(args) => commands::history::trend(args, &mut stdout).map(|()| Exit::Ok),
        Command::History(args) => commands::history::run(args, &mut stdout).map(|()| Exit::Ok),
        Command::Recommendations(args) => {
            commands::recommendations::run(args, &mut stdout).map(|()| Exit::Ok)
        }
        Command::Compliance(args) => {
            commands::compliance::run(args, &mut stdout).map(|()| Exit::Ok)
        }
        Command::Findings(args) => commands::findings::run(args, &mut stdout),
        Command::Connector(args) => commands::connector::run(args, &mut stdout),
        Command::Issuer(args) => commands::issuer::run(args, &mut stdout),
        Command::Serve(args) => commands::serve::run(args, &mut stdout).await,
        Command::Worker(args) => commands::worker::run(args, &mut stdout).await,
        Command::Jobs(args) => commands::worker::jobs(args, &mut stdout).map(|()| Exit::Ok),
        Command::Token(args) => commands::token::run(args, &mut stdout),
        Command::Alerts(args) => commands::alerts::run(args, &mut stdout),
        Command::Containers(args) => commands::containers::run(args, &mut stdout).await,
        Command::Servers(args) => commands::servers::run(args, &mut stdout).await,
        Command::Sql(args) => commands::sql::run(args, &mut stdout).await,
        Command::Detect(args) => commands::containers::detect(args, &mut stdout).await,
        Command::DiskScan(args) => commands::vulnerabilities::disk_scan(args, &mut stdout).await,
        Command::Vulnerabilities(args) => commands::vulnerabilities::run(args, &mut stdout),
        Command::Vulndb(args) => commands::vulndb::run(args, &mut stdout),
        Command::Cloudtrail(args) => commands::cloudtrail::run(args, &mut stdout).await,
    }
}

/// Help and version go to stdout as clap renders them; a usage error is
/// one line on stderr, `rampart: error: …` (with clap's tip, if any), and
/// exit 2.
fn usage_error(err: &clap::Error) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return ExitCode::from(if err.use_stderr() {
            Exit::Usage as u8
        } else {
            Exit::Ok as u8
        });
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "rampart: error: {}",
        one_line_usage(&err.to_string())
    );
    ExitCode::from(Exit::Usage as u8)
}

/// clap's rendered error as one line: the message, then its tips and the
/// valid values, without the usage block.
fn one_line_usage(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        parts.push(line.strip_prefix("error: ").unwrap_or(line).to_owned());
    }
    let mut text = parts.join("; ");
    text.push_str("; see `rampart --help`");
    text
}

/// Log targets that print credentials (an access key id) when enabled,
/// capped whatever `-v` or `RAMPART_LOG` asks for: the AWS SDK's profile
/// provider logs loaded credentials at `info`, SigV4 its signing identity
/// at `trace`.
const CREDENTIAL_TARGETS: [&str; 2] = ["aws_config::profile::credentials=warn", "aws_sigv4=debug"];

fn log_filter(verbose: u8, env: Option<&str>) -> tracing_subscriber::EnvFilter {
    let default = match verbose {
        0 => "warn,aws_config=error",
        1 => "info,aws_smithy_runtime=warn,aws_config=warn",
        _ => "debug,hyper=info,h2=info,rustls=info",
    };
    let mut filter = env
        .and_then(|text| tracing_subscriber::EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default));
    for directive in CREDENTIAL_TARGETS {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

fn init_logging(verbose: u8) {
    let env = std::env::var("RAMPART_LOG").ok();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(log_filter(verbose, env.as_deref()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::log_filter;

    /// A log writer into memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What the logs show with `-v…` and `RAMPART_LOG` when the SDK logs
    /// credentials the way it does (same targets and levels).
    fn logged(verbose: u8, env: Option<&str>) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(log_filter(verbose, env))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                target: "aws_config::profile::credentials",
                creds = "Credentials { access_key_id: \"AKIAIOSFODNN7EXAMPLE\" }",
                "loaded base credentials"
            );
            tracing::trace!(
                target: "aws_sigv4::http_request::sign",
                params = "identity: AKIAIOSFODNN7EXAMPLE",
                "signing request"
            );
            tracing::debug!(target: "rampart_aws::scan", "coverage gap");
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn credentials_stay_out_of_verbose_logs() {
        for (verbose, env) in [
            (2, None),
            (3, None),
            (0, Some("trace")),
            (0, Some("debug,aws_config=trace")),
        ] {
            let text = logged(verbose, env);
            assert!(!text.contains("AKIA"), "-v{verbose} {env:?}: {text}");
            // The rest of the debug output is still there.
            assert!(text.contains("coverage gap"), "-v{verbose} {env:?}: {text}");
        }
    }
}
