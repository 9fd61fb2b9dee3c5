//! TLS to PostgreSQL: a cluster of its own with `ssl = on` and a
//! certificate from a test CA made at test time (`scripts/test-postgres
//! start-tls`), reached with libpq's `sslmode` and `sslrootcert`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use rampart_store::Store;
use rampart_store::db::{Conn, PgConn};
use rampart_testkit::postgres::TlsCluster;

/// Whether the session behind `url` is encrypted, as the server sees it.
fn encrypted(url: &str) -> bool {
    let conn = Conn::Postgres(PgConn::connect(url).unwrap());
    conn.query_row(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        [],
        |r| r.get::<bool>(0),
    )
    .unwrap()
}

/// A CA that did not sign the server's certificate.
fn other_ca(dir: &std::path::Path) -> std::path::PathBuf {
    let (key, pem) = (dir.join("other.key"), dir.join("other.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=another CA", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&pem)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pem
}

#[test]
fn sslmode_and_sslrootcert_are_honoured() {
    let cluster = TlsCluster::start();
    let ca = cluster.ca();
    let with = |query: &str| format!("{}?{query}", cluster.url());

    // verify-full: the chain and the host (an IP address and a name the
    // certificate names); the store opens and the session is encrypted.
    let full = with(&format!(
        "sslmode=verify-full&sslrootcert={}&options=-csearch_path%3Dtls_full",
        ca.display()
    ));
    let store = Store::open_postgres(&full).unwrap();
    assert!(store.tokens().unwrap().is_empty());
    assert!(encrypted(&full));
    let by_name = full.replace("127.0.0.1", "localhost");
    assert!(encrypted(&by_name));
    assert!(encrypted(&with(&format!(
        "sslmode=verify-ca&sslrootcert={}",
        ca.display()
    ))));

    // Another CA is refused, saying why.
    let wrong = other_ca(cluster.scratch());
    let err = Store::open_postgres(&with(&format!(
        "sslmode=verify-full&sslrootcert={}",
        wrong.display()
    )))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("invalid peer certificate") && err.contains("UnknownIssuer"),
        "{err}"
    );
    // So is `require` with that CA (libpq checks the chain then).
    assert!(
        Store::open_postgres(&with(&format!(
            "sslmode=require&sslrootcert={}",
            wrong.display()
        )))
        .is_err()
    );

    // require without roots: encrypted, the certificate not checked;
    // prefer (the default) encrypts when the server offers it; disable
    // does not.
    assert!(encrypted(&with("sslmode=require")));
    assert!(encrypted(cluster.url()));
    assert!(!encrypted(&with("sslmode=disable")));
}
