//! `rampart serve`: the dashboard and REST API.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use rampart_aws::{AwsAccess, AwsSettings, Progress};
use rampart_server::scans::{ScanContext, ScanFn, ScanProgress, ScanRequest};
use rampart_server::{AppState, ServerConfig};
use rampart_store::Store;

use crate::args::ServeArgs;
use crate::commands::connector_scan::{ConnectorScanRequest, scan_connector};
use crate::commands::scan::{ScanOptions, aws_settings, collect_and_store};
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
    let scan = scan_fn(ScanSetup {
        aws: aws_settings(&args.aws),
        db,
        keys_dir: keys_dir(&args.store)?,
        exemptions_file: args.exemptions.clone(),
    });
    // Connector health checks (`POST /connectors/{name}/health`).
    let health = crate::commands::connector_status::server_health_fn(
        aws_settings(&args.aws),
        store_path(&args.store)?,
        keys_dir(&args.store)?,
    );
    let state = AppState::new(config, Some(scan))
        .map_err(CliError::usage)?
        .with_health(health);
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| CliError::usage(format!("cannot listen on `{}`: {e}", args.listen)))?;
    let addr = listener.local_addr().map_err(CliError::failure)?;
    tracing::info!(%addr, public_url = ?args.public_url, "serving");
    writeln!(out, "Rampart listening on http://{addr}").map_err(CliError::failure)?;
    // An empty store: a one-time sign-in link for the first admin.
    let base = args.public_url.clone().unwrap_or(format!("http://{addr}"));
    if let Some(link) = rampart_server::first_run::sign_in_link(&state, &base)
        .await
        .map_err(|e| CliError::failure(e.message))?
    {
        writeln!(
            out,
            "No API token yet: sign in as the first admin (once, within 30 minutes) at\n  {link}"
        )
        .map_err(CliError::failure)?;
    }
    out.flush().map_err(CliError::failure)?;
    rampart_server::serve(listener, state, rampart_server::shutdown_signal())
        .await
        .map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

/// Progress of a collection, counted for the API.
struct JobProgress(Arc<ScanProgress>);

impl Progress for JobProgress {
    fn planned(&self, tasks: usize) {
        self.0.set_planned(tasks as u64);
    }

    fn finished(&self, _region: &str, _service: &str, _assets: usize, _gaps: usize) {
        self.0.task_done();
    }
}

/// What every scan of the server starts from.
#[derive(Debug, Clone)]
struct ScanSetup {
    /// AWS settings from `rampart serve`'s flags (profile, endpoint, retries).
    aws: AwsSettings,
    /// The store file.
    db: PathBuf,
    /// The keys directory (issuer keys, classic secret key).
    keys_dir: PathBuf,
    /// `--exemptions`.
    exemptions_file: Option<PathBuf>,
}

/// How long a cancelled scan may take to stop before it is dropped (within
/// the server's own grace for a cancelled job).
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Scans triggered through the API (and by the scheduler) run the same
/// collection as `rampart scan`, and `rampart scan --connector` when the
/// request names a connector. Each runs on a blocking thread driving its
/// own future (the AWS collection borrows across awaits, and the store is
/// synchronous), so it neither needs to be `Send` nor stalls the server's
/// workers.
fn scan_fn(setup: ScanSetup) -> ScanFn {
    Arc::new(move |request: ScanRequest, ctx: ScanContext| {
        let setup = setup.clone();
        Box::pin(async move {
            let handle = tokio::runtime::Handle::current();
            let cancel = ctx.cancel.clone();
            tokio::task::spawn_blocking(move || {
                handle.block_on(async move {
                    let scan = run_scan(setup, request, ctx);
                    // The scan stops at its next step when cancelled; one
                    // stuck in a call (retrying a throttled endpoint, say)
                    // is dropped where it is after a grace period, so a
                    // stopping server never outlives it.
                    let stuck = async {
                        cancel.cancelled().await;
                        tokio::time::sleep(STOP_GRACE).await;
                    };
                    tokio::select! {
                        result = scan => result,
                        () = stuck => Err("cancelled: the scan did not stop in time".to_owned()),
                    }
                })
            })
            .await
            .map_err(|e| format!("scan task: {e}"))?
        })
    })
}

async fn run_scan(setup: ScanSetup, request: ScanRequest, ctx: ScanContext) -> Result<(), String> {
    if let Some(services) = &request.services
        && let Some(unknown) = services
            .iter()
            .find(|s| rampart_aws::collectors::by_service(s).is_none())
    {
        return Err(format!("unknown service `{unknown}`"));
    }
    let mut exemptions =
        posture::exemptions(setup.exemptions_file.as_deref()).map_err(|e| e.message)?;
    let mut store = Store::open(&setup.db).map_err(|e| e.to_string())?;
    posture::add_stored_exemptions(&store, &mut exemptions).map_err(|e| e.message)?;
    let progress = JobProgress(ctx.progress.clone());
    let cancel = ctx.cancel.clone();
    let cancelled = async move { cancel.cancelled().await };
    if let Some(connector) = request.connector {
        let scan = ConnectorScanRequest {
            store: &mut store,
            keys_dir: setup.keys_dir,
            aws: setup.aws,
            connector,
            scan_id: request.id,
            regions: request.regions,
            services: request.services,
            concurrency: 8,
            exemptions: &exemptions,
        };
        let warn = |text: &str| {
            let text = text.strip_prefix("warning: ").unwrap_or(text);
            tracing::warn!("{text}");
        };
        let outcome = scan_connector(scan, &progress, &warn, cancelled)
            .await
            .map_err(|e| e.message)?;
        tracing::info!(
            connector = %outcome.connector.name,
            scan = %outcome.scan.snapshot.scan.id,
            accounts = outcome.scan.snapshot.scan.accounts.len(),
            assets = outcome.scan.snapshot.assets.len(),
            gaps = outcome.scan.snapshot.gaps.len(),
            "connector scanned"
        );
        return Ok(());
    }
    let access = AwsAccess::load(&setup.aws)
        .await
        .map_err(|e| e.to_string())?;
    let options = ScanOptions {
        scan_id: request.id,
        regions: request.regions,
        services: request.services,
        concurrency: 8,
    };
    collect_and_store(
        &access,
        &mut store,
        &options,
        &exemptions,
        &progress,
        cancelled,
    )
    .await
    .map(|_| ())
    .map_err(|e| e.message)
}
