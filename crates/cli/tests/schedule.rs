//! `rampart serve` recovering from a crash: a scan a killed server left
//! `running` is marked failed at startup, and the last complete snapshot
//! stays the one the API serves. `rampart serve` scanning a never-scanned
//! connector within 60 seconds of starting (against moto), and a narrowed
//! scan after it keeping the rest of the posture (one more moto scan).

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
use rampart_testkit::{Moto, describe, rampart, rampart_command, stdout_json};
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

/// Starts `rampart serve` with `args`; returns it and its address.
fn serve(db: &str, args: &[&str]) -> (Child, String) {
    let mut child = rampart_command(BIN)
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .args(args)
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
    (child, addr)
}

/// `(type, ARN)` of the current inventory.
fn inventory(db: &str) -> Vec<(String, String)> {
    let out = rampart(BIN, &["inventory", "--db", db, "--format", "json"]);
    assert!(out.status.success(), "{}", describe(&out));
    stdout_json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_owned(),
                a["arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn serve_scans_a_new_connector_at_once_and_a_narrowed_scan_keeps_the_rest_of_the_posture() {
    let moto = Moto::start();
    moto.seed_demo();
    let endpoint = moto.url();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("rampart.db");
    let db = db_path.display().to_string();
    let out = rampart_command(BIN)
        .args([
            "connector",
            "create",
            "--classic",
            "--name",
            "demo",
            "--account",
            "123456789012",
            "--access-key-id",
            "AKIAIOSFODNN7EXAMPLE",
            "--regions",
            "us-east-1",
            "--db",
            &db,
        ])
        .env("RAMPART_CLASSIC_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));

    // A never-scanned connector: its scan starts within 60 s of the server
    // starting (within seconds, in fact), on the real clock.
    let started = Instant::now();
    let (mut child, _addr) = serve(&db, &["--endpoint-url", &endpoint, "--max-attempts", "1"]);
    let scan_id = loop {
        let scans = Store::open(&db_path).unwrap().scans(10).unwrap();
        if let Some(scan) = scans.first() {
            break scan.id.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no scan 60 s after `rampart serve` started"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("scheduled scan started after {:?}", started.elapsed());
    let deadline = Instant::now() + Duration::from_secs(300);
    let full = loop {
        let scan = Store::open(&db_path).unwrap().scan(&scan_id).unwrap();
        match scan.status {
            ScanStatus::Complete => break scan,
            ScanStatus::Failed => panic!("the scheduled scan failed"),
            ScanStatus::Running => {}
        }
        assert!(Instant::now() < deadline, "the scheduled scan did not end");
        std::thread::sleep(Duration::from_millis(500));
    };
    stop(&mut child);
    let store = Store::open(&db_path).unwrap();
    let connector = store.connector("demo").unwrap().unwrap();
    assert_eq!(
        store.scan_connector(&full.id).unwrap(),
        Some(connector.id.to_string())
    );
    assert_eq!(store.scan_coverage(&full.id).unwrap(), None, "a full scan");
    let before = inventory(&db);
    let iam: Vec<&(String, String)> = before
        .iter()
        .filter(|(ty, _)| ty.starts_with("AWS::IAM::"))
        .collect();
    assert!(
        iam.iter().any(|(ty, _)| ty == "AWS::IAM::User"),
        "{before:?}"
    );

    // A scan narrowed to S3 becomes the current snapshot without shrinking
    // it: the IAM resources of the complete scan are still there.
    let out = rampart(
        BIN,
        &[
            "scan",
            "--connector",
            "demo",
            "--services",
            "s3",
            "--endpoint-url",
            &endpoint,
            "--max-attempts",
            "1",
            "--no-progress",
            "--db",
            &db,
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("Narrowed scan (services s3): ") && text.contains(&full.id),
        "{text}"
    );
    let after = inventory(&db);
    for asset in &iam {
        assert!(after.contains(asset), "{asset:?} dropped by the S3 scan");
    }
    assert!(
        after.iter().any(|(ty, _)| ty == "AWS::S3::Bucket"),
        "{after:?}"
    );
    let store = Store::open(&db_path).unwrap();
    let narrowed = store.latest_complete_scan().unwrap().unwrap();
    assert_ne!(narrowed.id, full.id);
    // Kept assets keep their age: the scan that collected them.
    let origins = store.asset_origins(&narrowed.id).unwrap();
    for (ty, arn) in &iam {
        assert_eq!(
            origins.get(&(ty.clone(), arn.clone())),
            Some(&full.id),
            "{ty} {arn}"
        );
    }
    assert!(!origins.keys().any(|(ty, _)| ty == "AWS::S3::Bucket"));
    // ... and `rampart inventory` shows it.
    let out = rampart(BIN, &["inventory", "--db", &db, "--format", "json"]);
    for item in stdout_json(&out).as_array().unwrap() {
        let kept = item["type"].as_str().unwrap().starts_with("AWS::IAM::");
        let by = item.get("collected_by").and_then(|v| v.as_str());
        if kept {
            assert_eq!(by, Some(full.id.as_str()), "{item}");
        } else if item["type"] == "AWS::S3::Bucket" {
            assert_eq!(by, None, "{item}");
        }
    }
    let out = rampart(BIN, &["inventory", "--db", &db]);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.contains("kept from earlier scans"), "{table}");
    // Assessments cover the kept IAM users too (re-evaluated together).
    let assessed = store.assessments().unwrap();
    assert!(
        assessed.iter().any(|a| a.resource_type == "AWS::IAM::User"),
        "no IAM assessments after the S3 scan"
    );

    // `rampart scans` says what each scan covered.
    let out = rampart(BIN, &["scans", "--db", &db, "--format", "json"]);
    let scans = stdout_json(&out);
    assert_eq!(scans[0]["id"], narrowed.id.as_str());
    assert_eq!(scans[0]["coverage"]["full"], false, "{scans}");
    assert_eq!(scans[0]["coverage"]["services"], serde_json::json!(["s3"]));
    assert_eq!(
        scans[0]["coverage"]["mergedFrom"],
        serde_json::json!([full.id.as_str()])
    );
    assert_eq!(scans[1]["coverage"]["full"], true, "{scans}");
    let out = rampart(BIN, &["scans", "--db", &db]);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        table.contains("COVERAGE") && table.contains("services s3"),
        "{table}"
    );
}
