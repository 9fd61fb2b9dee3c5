//! The server's scans and health checks, run by the engine
//! ([`rampart_engine::Engine`]): the same code as `rampart scan` (with or
//! without `--connector`) and `rampart connector status`.
//!
//! Each runs on a blocking thread driving its own future (the AWS
//! collection borrows across awaits, and the store is synchronous), so it
//! neither needs to be `Send` nor stalls the server's workers. Tests give
//! the server a fake [`ScanFn`] instead.

use std::sync::Arc;

use rampart_aws::Progress;
use rampart_connector::Connector;
use rampart_engine::{Engine, ScanJob};

use crate::health::HealthFn;
use crate::scans::{ScanContext, ScanFn, ScanProgress, ScanRequest};

/// How long a cancelled scan may take to stop before it is dropped (within
/// the registry's own grace for a cancelled job).
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

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

/// The scan function of a server whose scans `engine` runs.
pub fn scan_fn(engine: Engine) -> ScanFn {
    let engine = Arc::new(engine);
    Arc::new(move |request: ScanRequest, ctx: ScanContext| {
        let engine = engine.clone();
        Box::pin(async move {
            let handle = tokio::runtime::Handle::current();
            let cancel = ctx.cancel.clone();
            tokio::task::spawn_blocking(move || {
                handle.block_on(async move {
                    let scan = run_scan(&engine, request, ctx);
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

async fn run_scan(engine: &Engine, request: ScanRequest, ctx: ScanContext) -> Result<(), String> {
    let progress = JobProgress(ctx.progress.clone());
    let cancel = ctx.cancel.clone();
    let cancelled = async move { cancel.cancelled().await };
    let warn = |text: &str| {
        let text = text.strip_prefix("warning: ").unwrap_or(text);
        tracing::warn!("{text}");
    };
    let job = ScanJob {
        scan_id: request.id,
        connector: request.connector,
        regions: request.regions,
        services: request.services,
        accounts: None,
    };
    let outcome = engine
        .scan(job, &progress, &warn, cancelled)
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = &outcome.scan.snapshot;
    tracing::info!(
        connector = outcome.connector.as_ref().map(|c| c.name.as_str()),
        scan = %snapshot.scan.id,
        accounts = snapshot.scan.accounts.len(),
        assets = snapshot.assets.len(),
        gaps = snapshot.gaps.len(),
        "scanned"
    );
    Ok(())
}

/// The health check function (`POST /connectors/{name}/health`) of a
/// server whose checks `engine` runs.
pub fn health_fn(engine: Engine) -> HealthFn {
    let engine = Arc::new(engine);
    Arc::new(move |connector: Connector| {
        let engine = engine.clone();
        Box::pin(async move {
            let handle = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                handle.block_on(async move {
                    engine
                        .connector_health(&connector)
                        .await
                        .map_err(|e| e.to_string())
                })
            })
            .await
            .map_err(|e| format!("health task: {e}"))?
        })
    })
}
