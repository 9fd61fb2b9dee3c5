//! `rampart serve` recovering from a crash: a scan a killed server left
//! `running` is marked failed at startup, and the last complete snapshot
//! stays the one the API serves.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rampart_connector::{Connector, Plan};
use rampart_model::{ScanRecord, ScanStatus, Snapshot};
use rampart_server::scheduler::INTERRUPTED;
use rampart_store::Store;
use rampart_testkit::{describe, rampart, rampart_command};
use time::OffsetDateTime;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

fn record(id: &str, started_at: OffsetDateTime) -> ScanRecord {
    ScanRecord {
        id: id.to_owned(),
        started_at,
        finished_at: None,
        status: ScanStatus::Running,
        accounts: vec!["123456789012".into()],
        regions: vec!["us-east-1".into()],
        api_calls: 0,
        asset_count: 0,
        gap_count: 0,
    }
}

/// A store a killed server left: a connector scanned completely 3 h ago,
/// and its next scan (1 h ago) still `running`.
fn crashed_store(db: &Path) {
    let mut store = Store::open(db).unwrap();
    let prod = Connector::new("prod", "123456789012", &[Plan::Cspm], vec![], 12, None);
    store.create_connector(&prod).unwrap();
    let now = OffsetDateTime::now_utc();
    let mut done = record("done", now - time::Duration::hours(3));
    store.begin_scan(&done).unwrap();
    store
        .set_scan_connector("done", &prod.id.to_string())
        .unwrap();
    done.status = ScanStatus::Complete;
    done.finished_at = Some(done.started_at + time::Duration::minutes(5));
    store
        .complete_scan(
            &Snapshot {
                scan: done,
                assets: vec![],
                gaps: vec![],
            },
            &[],
        )
        .unwrap();
    store
        .begin_scan(&record("killed", now - time::Duration::hours(1)))
        .unwrap();
    store
        .set_scan_connector("killed", &prod.id.to_string())
        .unwrap();
}

fn get(addr: &str, path: &str, token: &str) -> serde_json::Value {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{path}: {response}");
    // A chunked body is one chunk here: drop its framing.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.lines().nth(1).unwrap_or("")
    } else {
        body
    };
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn stop(child: &mut Child) {
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_marks_a_scan_left_running_failed_and_keeps_the_complete_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("rampart.db");
    let db = db_path.display().to_string();
    crashed_store(&db_path);
    let out = rampart(
        BIN,
        &[
            "token", "create", "--db", &db, "--role", "reader", "--name", "ci",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let mut child = rampart_command(BIN)
        .args(["serve", "--init", "--db", &db, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("Rampart listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    // Recovery runs before the first request is answered.
    let killed = get(&addr, "/api/v1/scans/killed", &token);
    assert_eq!(killed["status"], "failed", "{killed}");
    let store = Store::open(&db_path).unwrap();
    assert_eq!(
        store.scan_failure("killed").unwrap().as_deref(),
        Some(INTERRUPTED)
    );
    assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "done");
    let listed = get(&addr, "/api/v1/scans?status=complete", &token);
    assert_eq!(listed["items"][0]["id"], "done", "{listed}");
    // The connector was scanned (the interrupted scan counts) 1 h ago: it
    // is next due 11 h from now, not at once.
    let prod = get(&addr, "/api/v1/connectors/prod", &token);
    let next = OffsetDateTime::parse(
        prod["nextScanAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let in_hours = (next - OffsetDateTime::now_utc()).whole_minutes() as f64 / 60.0;
    assert!((10.9..=11.0).contains(&in_hours), "{in_hours} h: {prod}");
    stop(&mut child);
}
