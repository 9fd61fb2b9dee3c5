//! Job queue benchmark: how many no-op jobs per second claimers take from
//! one store (claim one, then mark it done), with 1, 2, 4 and 8 claimers
//! side by side, each on a connection of its own. Every run gets a fresh
//! schema (PostgreSQL) or file (SQLite) with `JOBS` queued jobs.
//!
//!   cargo run --release -p rampart-store --example bench_queue -- STORE [JOBS]
//!
//! STORE is a `postgres://` URL (each run adds a `search_path`) or a
//! directory for SQLite files.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program: failures stop it, results go to stdout"
)]

use std::time::Instant;

use rampart_store::{NewJob, Store};
use time::{Duration, OffsetDateTime};

fn location(base: &str, run: &str) -> String {
    if base.starts_with("postgres") {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-csearch_path%3Dbench_{run}")
    } else {
        format!("{base}/bench-{run}.db")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .expect("usage: bench_queue STORE [JOBS]")
        .clone();
    let jobs: usize = args.get(2).map_or(20_000, |n| n.parse().unwrap());
    let stamp = OffsetDateTime::now_utc().unix_timestamp();
    println!(
        "store: {}",
        if base.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "{:>9} {:>8} {:>10} {:>12} {:>8}",
        "claimers", "jobs", "seconds", "claims/s", "ratio"
    );
    let mut first = None;
    for claimers in [1usize, 2, 4, 8] {
        let db = location(&base, &format!("{stamp}_{claimers}"));
        let mut store = Store::open(std::path::Path::new(&db)).unwrap();
        let now = OffsetDateTime::now_utc() - Duration::seconds(1);
        store
            .write(|s| {
                for i in 0..jobs {
                    let job = NewJob {
                        id: format!("job-{i:08}"),
                        kind: "noop".to_owned(),
                        payload: serde_json::json!({}),
                        account: None,
                        region: None,
                        scan_id: None,
                        dedupe_key: None,
                        run_after: now,
                        max_attempts: 3,
                    };
                    s.enqueue_job(&job, now)?;
                }
                Ok::<_, rampart_store::StoreError>(())
            })
            .unwrap();
        let started = Instant::now();
        let done: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..claimers)
                .map(|c| {
                    let db = db.clone();
                    scope.spawn(move || {
                        let store = Store::open(std::path::Path::new(&db)).unwrap();
                        let me = format!("w{c}");
                        let mut n = 0;
                        loop {
                            let now = OffsetDateTime::now_utc();
                            let claimed =
                                store.claim_jobs(&me, now, Duration::minutes(5), 1).unwrap();
                            let Some(job) = claimed.first() else { break n };
                            assert!(
                                store
                                    .finish_job(&job.id, &me, Ok(()), now, Duration::ZERO)
                                    .unwrap()
                            );
                            n += 1;
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(done, jobs, "every job claimed exactly once");
        #[expect(clippy::cast_precision_loss, reason = "a rate")]
        let rate = done as f64 / seconds;
        let ratio = rate / *first.get_or_insert(rate);
        println!("{claimers:>9} {done:>8} {seconds:>10.2} {rate:>12.0} {ratio:>7.2}×");
    }
}
