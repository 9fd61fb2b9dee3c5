//! The `rampart` command: a thin layer over the library crates.

mod args;
mod classic;
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
        Command::Token(args) => commands::token::run(args, &mut stdout),
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

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn,aws_config=error",
        1 => "info,aws_smithy_runtime=warn,aws_config=warn",
        _ => "debug,hyper=info,h2=info,rustls=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAMPART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
