//! `rampart worker` (claim and run queued jobs), `rampart jobs` (the
//! queue) and `rampart scan --connector NAME --queue` (queue a scan).

use std::io::Write;
use std::time::Duration;

use rampart_engine::Engine;
use rampart_engine::worker::{QueueScan, WorkerEvent, WorkerOptions};
use rampart_store::JobStatus;
use time::OffsetDateTime;

use crate::args::{JobsArgs, ListFormat, ScanArgs, WorkerArgs};
use crate::commands::scan::aws_settings;
use crate::commands::{keys_dir, open_existing_store, open_store, store_path};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Queues a scan of `connector` for the workers, one job per account;
/// prints each job's scan and job ids.
pub fn queue_scan(args: &ScanArgs, connector: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(&args.store)?;
    let request = QueueScan {
        connector: connector.to_owned(),
        regions: args.regions.clone(),
        services: args.services.clone(),
        ..QueueScan::default()
    };
    let queued =
        match rampart_engine::worker::queue_scan(&store, &request, OffsetDateTime::now_utc()) {
            Ok(queued) => queued,
            Err(rampart_engine::EngineError::NoConnector(name)) => {
                return Err(CliError::nothing(format!("no connector `{name}`")));
            }
            Err(e) => return Err(CliError::failure(e.to_string())),
        };
    for job in &queued.jobs {
        writeln!(
            out,
            "Queued scan {} of connector `{}` (account {}) as job {}",
            job.scan_id, queued.connector.name, job.account, job.job
        )
        .map_err(CliError::failure)?;
    }
    Ok(())
}

/// Runs queued jobs until SIGTERM or SIGINT (then drains), or until the
/// queue is idle with `--until-idle`.
pub async fn run(args: &WorkerArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let db = store_path(&args.store)?;
    drop(open_store(&args.store)?);
    let engine = Engine::new(aws_settings(&args.aws), db, keys_dir(&args.store)?).with_plans();
    let name = args.name.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "worker".to_owned());
        format!("{host}-{}", std::process::id())
    });
    let mut options = WorkerOptions::new(name.clone());
    options.concurrency = usize::try_from(args.concurrency).unwrap_or(2);
    options.lease = Duration::from_secs(args.lease);
    options.poll = Duration::from_secs(args.poll);
    options.retry_after = Duration::from_secs(args.retry_after);
    options.until_idle = args.until_idle;
    options.region_jobs_above = (args.region_jobs_above > 0).then_some(args.region_jobs_above);
    writeln!(
        out,
        "Worker {name} running up to {} jobs at once",
        options.concurrency
    )
    .map_err(CliError::failure)?;
    out.flush().map_err(CliError::failure)?;
    let events = |event: WorkerEvent| {
        let line = match event {
            WorkerEvent::Claimed { job, attempt } => {
                format!("claimed job {job} (attempt {attempt})")
            }
            WorkerEvent::Done { job, scan } => format!(
                "job {job} done{}",
                scan.map(|s| format!(": scan {s}")).unwrap_or_default()
            ),
            WorkerEvent::Failed { job, error } => format!("job {job} failed: {error}"),
            WorkerEvent::Lost { job } => {
                format!("job {job} was taken over by another worker (its lease ran out)")
            }
            WorkerEvent::Draining { running } => {
                format!("draining: finishing {running} running job(s), claiming no more")
            }
        };
        tracing::info!(worker = %name, "{line}");
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
    };
    // Listen for SIGTERM before the first claim: a signal that arrived
    // between a claim and the first look at `stop` would kill the process
    // with its job half done.
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::failure(format!("cannot listen for SIGTERM: {e}")))?;
    let stop = async move {
        #[cfg(unix)]
        let term = term.recv();
        #[cfg(not(unix))]
        let term = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = term => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    let report = engine
        .run_worker(&options, stop, &events)
        .await
        .map_err(|e| CliError::failure(e.to_string()))?;
    writeln!(
        out,
        "Worker {} stopped: {} done, {} failed, {} taken over",
        options.id, report.done, report.failed, report.lost
    )
    .map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

/// Lists the queue.
pub fn jobs(args: &JobsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.store)?;
    let status = args
        .status
        .as_deref()
        .map(|s| {
            JobStatus::parse(s).map_err(|_| {
                CliError::usage(format!(
                    "unknown status `{s}`: one of queued, running, done, failed"
                ))
            })
        })
        .transpose()?;
    let jobs = store.jobs(status, args.limit)?;
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&jobs).map_err(CliError::failure)? + "\n",
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = jobs
                .iter()
                .map(|j| {
                    vec![
                        j.id.clone(),
                        j.kind.clone(),
                        j.status.as_str().to_owned(),
                        j.account.clone().unwrap_or_default(),
                        j.scan_id.clone().unwrap_or_default(),
                        format!("{}/{}", j.attempts, j.max_attempts),
                        j.lease_owner.clone().unwrap_or_default(),
                        j.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                &[
                    "JOB", "KIND", "STATUS", "ACCOUNT", "SCAN", "ATTEMPTS", "WORKER", "ERROR",
                ],
                &rows,
            )
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}
