//! `rampart serve`: the dashboard and REST API.

use std::io::Write;

use rampart_engine::Engine;
use rampart_server::{AppState, ServerConfig};

use crate::args::ServeArgs;
use crate::commands::scan::aws_settings;
use crate::commands::{keys_dir, open_existing_store, open_store, store_path};
use crate::exit::{CliError, Exit};
use crate::posture;

/// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
pub async fn run(args: &ServeArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let db = store_path(&args.store)?;
    drop(if args.init {
        open_store(&args.store)?
    } else {
        open_existing_store(&args.store)?
    });
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
    config.trusted_proxies = args.trusted_proxies.clone();
    config.request_timeout = std::time::Duration::from_secs(args.request_timeout);
    config.exemptions_file = args.exemptions.clone();
    config.scheduled_scans = !args.no_scheduled_scans;
    config.queue_scans = args.queue_scans;
    config.detection = !args.no_detection;
    config.alert_webhook = alert_webhook(&args.webhook)?;
    // Scans (API triggers, the scheduler) and connector health checks
    // (`POST /connectors/{name}/health`) are the engine's.
    let engine = Engine::new(aws_settings(&args.aws), db, keys_dir(&args.store)?).with_plans();
    let state = AppState::with_engine(config, engine).map_err(CliError::usage)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| CliError::usage(format!("cannot listen on `{}`: {e}", args.listen)))?;
    let addr = listener.local_addr().map_err(CliError::failure)?;
    tracing::info!(%addr, public_url = ?args.public_url, "serving");
    writeln!(out, "Rampart listening on http://{addr}").map_err(CliError::failure)?;
    out.flush().map_err(CliError::failure)?;
    // An empty store: a one-time sign-in link for the first admin. A
    // reader of stdout that went away after the first line (a supervisor,
    // a test) must not stop the server: the link is then only not shown
    // (never logged: it is a credential).
    let base = args.public_url.clone().unwrap_or(format!("http://{addr}"));
    if let Some(link) = rampart_server::first_run::sign_in_link(&state, &base)
        .await
        .map_err(|e| CliError::failure(e.message))?
    {
        let shown = writeln!(
            out,
            "No API token yet: sign in as the first admin (once, within 30 minutes) at\n  {link}"
        )
        .and_then(|()| out.flush());
        if let Err(e) = shown {
            tracing::warn!(error = %e, "cannot print the first-run sign-in link; create a token with `rampart token create --role admin`");
        }
    }
    rampart_server::serve(listener, state, rampart_server::shutdown_signal())
        .await
        .map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

/// The alert webhook's settings: the URL, and the secret from its file or
/// `RAMPART_ALERT_WEBHOOK_SECRET`.
fn alert_webhook(
    args: &crate::args::AlertWebhookArgs,
) -> Result<Option<rampart_server::webhook::WebhookConfig>, CliError> {
    let Some(url) = &args.alert_webhook else {
        return Ok(None);
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(CliError::usage(format!(
            "`--alert-webhook` must be an http(s) URL, not `{url}`"
        )));
    }
    let secret = match &args.alert_webhook_secret_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read `{}`: {e}", path.display())))?,
        None => std::env::var("RAMPART_ALERT_WEBHOOK_SECRET").unwrap_or_default(),
    };
    let secret = secret.trim();
    if secret.len() < 16 {
        return Err(CliError::usage(
            "`--alert-webhook` needs a secret of at least 16 characters: `--alert-webhook-secret-file FILE` or RAMPART_ALERT_WEBHOOK_SECRET",
        ));
    }
    Ok(Some(rampart_server::webhook::WebhookConfig::new(
        url.clone(),
        secret.as_bytes().to_vec(),
        args.alert_webhook_min_severity.into(),
    )))
}
