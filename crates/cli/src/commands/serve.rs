//! `rampart serve`: the dashboard and REST API.

use std::io::Write;

use rampart_engine::Engine;
use rampart_engine::containers::ContainersProvisioner;
use rampart_server::{AppState, ServerConfig};

use crate::args::ServeArgs;
use crate::commands::scan::aws_settings;
use crate::commands::{keys_dir, open_store, store_path};
use crate::exit::{CliError, Exit};
use crate::posture;

/// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
pub async fn run(args: &ServeArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let db = store_path(&args.store)?;
    drop(open_store(&args.store)?);
    if let Some(url) = &args.public_url {
        let parsed = url::Url::parse(url)
            .map_err(|e| CliError::usage(format!("invalid `--public-url` `{url}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(CliError::usage(format!(
                "`--public-url` `{url}` must be an http or https URL"
            )));
        }
    }
    if let Some(file) = &args.exemptions {
        // Fail now rather than at the first evaluation.
        posture::exemptions(Some(file))?;
    }
    let mut config = ServerConfig::new(db.clone());
    config.keys_dir = Some(keys_dir(&args.store)?);
    config.public_url = args.public_url.clone();
    config.request_timeout = std::time::Duration::from_secs(args.request_timeout);
    config.exemptions_file = args.exemptions.clone();
    config.scheduled_scans = !args.no_scheduled_scans;
    config.detection = !args.no_detection;
    // Scans (API triggers, the scheduler) and connector health checks
    // (`POST /connectors/{name}/health`) are the engine's.
    let mut engine = Engine::new(aws_settings(&args.aws), db, keys_dir(&args.store)?);
    engine
        .provisioners
        .push(std::sync::Arc::new(ContainersProvisioner::default()));
    let state = AppState::with_engine(config, engine).map_err(CliError::usage)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| CliError::usage(format!("cannot listen on `{}`: {e}", args.listen)))?;
    let addr = listener.local_addr().map_err(CliError::failure)?;
    tracing::info!(%addr, public_url = ?args.public_url, "serving");
    writeln!(out, "Rampart listening on http://{addr}").map_err(CliError::failure)?;
    out.flush().map_err(CliError::failure)?;
    rampart_server::serve(listener, state, rampart_server::shutdown_signal())
        .await
        .map_err(CliError::failure)?;
    Ok(Exit::Ok)
}
