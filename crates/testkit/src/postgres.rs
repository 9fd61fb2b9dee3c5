//! PostgreSQL for tests: the cluster `scripts/test` starts (from Debian's
//! packages, `scripts/test-postgres`) and a fresh schema per caller.

use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable holding the test cluster's URL.
pub const ENV: &str = "RAMPART_TEST_POSTGRES";

/// The test cluster's URL. Panics with what to do when it is not set:
/// `scripts/test` sets it; by hand,
/// `export RAMPART_TEST_POSTGRES="$(scripts/test-postgres start /tmp/pg)"`.
pub fn cluster_url() -> String {
    std::env::var(ENV).unwrap_or_else(|_| {
        panic!(
            "`{ENV}` is not set: run the suite with scripts/test, or start a cluster with \
             `export {ENV}=\"$(scripts/test-postgres start /tmp/rampart-pg)\"`"
        )
    })
}

/// A URL on the test cluster whose `search_path` is a schema no one else
/// uses (the store creates it on first connect), so tests running side by
/// side never see each other's rows.
pub fn fresh_url() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let base = cluster_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// Whether the store tests should run on PostgreSQL this time
/// (`RAMPART_TEST_BACKEND=postgres`; `scripts/test` runs them once per
/// backend).
pub fn selected() -> bool {
    std::env::var("RAMPART_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}
