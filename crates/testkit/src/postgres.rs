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

/// A PostgreSQL cluster of its own with TLS on (`scripts/test-postgres
/// start-tls`): a test CA and a server certificate for `localhost` and
/// `127.0.0.1`, made with the openssl CLI. Stopped when dropped.
#[derive(Debug)]
pub struct TlsCluster {
    dir: tempfile::TempDir,
    url: String,
}

impl TlsCluster {
    /// Starts one (a few seconds: `initdb` and a server).
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = std::process::Command::new(crate::workspace_root().join("scripts/test-postgres"))
            .arg("start-tls")
            .arg(dir.path().join("pg"))
            .output()
            .expect("scripts/test-postgres runs");
        assert!(
            out.status.success(),
            "scripts/test-postgres start-tls failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Self { dir, url }
    }

    /// Its URL (`postgres://rampart@127.0.0.1:PORT/postgres`), without TLS
    /// parameters.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PEM file of the CA that signed the server's certificate.
    pub fn ca(&self) -> std::path::PathBuf {
        self.dir.path().join("pg/tls/ca.pem")
    }

    /// A directory for the test's own files.
    pub fn scratch(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(crate::workspace_root().join("scripts/test-postgres"))
            .arg("stop")
            .arg(self.dir.path().join("pg"))
            .output();
    }
}
