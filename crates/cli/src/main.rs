//! The `rampart` command: a thin layer over the library crates.

mod args;
mod commands;
mod exit;
mod output;
mod posture;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::{CliError, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Alerts(args) => commands::alerts::run(args, &mut stdout),
        Command::Containers(args) => commands::containers::run(args, &mut stdout).await,
        Command::Detect(args) => commands::containers::detect(args, &mut stdout).await,
    }
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
        .with_target(false)
        .try_init();
}
