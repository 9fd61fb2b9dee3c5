//! The REST API fuzzed from its own OpenAPI document with schemathesis
//! (from the tools venv): `rampart serve` over a store seeded with a
//! synthetic scan (`rampart_testkit::synthetic`), an admin token, and every
//! operation of `/api/v1/openapi.json` called with generated valid and
//! invalid input, singly and in stateful sequences (create an exemption,
//! read it, replace it, delete it…). No response may be a 5xx, and every
//! documented response must match its schema.
//!
//! Scans triggered by the fuzzer go to an endpoint where nothing listens,
//! so they fail at once and never reach AWS.
//!
//! Set `RAMPART_SCHEMATHESIS_SEED` to replay another seed; the default is
//! fixed so a CI failure reproduces.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "test code: a failure should stop the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart_testkit::{describe, free_port, python, rampart, rampart_command, synthetic};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

/// Seed of the default run (any fixed value; see the module docs).
const DEFAULT_SEED: &str = "20261129";

/// The schemathesis command beside the venv's Python.
fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("RAMPART_SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let path = python().with_file_name("schemathesis");
    assert!(
        path.exists(),
        "`{}` not found: run `scripts/tools-env.sh` first (or set RAMPART_SCHEMATHESIS)",
        path.display()
    );
    path
}

/// `rampart serve` on a free port; killed by its PID when dropped.
struct Server {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Server {
    fn start(db: &str, log: PathBuf) -> Self {
        let nowhere = format!("http://127.0.0.1:{}", free_port());
        let mut child = rampart_command(BIN)
            .args(["serve", "--init", "--db", db, "--listen", "127.0.0.1:0"])
            .args(["--endpoint-url", &nowhere, "--request-timeout", "20"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
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
        Self { child, addr, log }
    }

    /// `GET path` with a token: the status code.
    fn status(&self, path: &str, token: &str) -> u16 {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `Selected: N/M` and `Tested: N` counts of schemathesis's summary.
fn operations(summary: &str) -> (usize, usize) {
    let number = |label: &str| -> usize {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.trim().split('/').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{label}` in the summary:\n{summary}"))
    };
    (number("Selected:"), number("Tested:"))
}

#[test]
fn the_api_answers_generated_requests_without_server_errors_and_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("rampart.db");
    let seeded = synthetic::seed_store(&db_path, 600);
    assert_eq!(seeded.assets, 600);
    // Agentless scanning results, so the vulnerability routes answer with
    // documents, machines and findings (not only 404s and empty pages).
    rampart_testkit::machines::seed_machines(&db_path, &seeded.scan_id);
    let db = db_path.display().to_string();
    let out = rampart(
        BIN,
        &[
            "token", "create", "--db", &db, "--role", "admin", "--name", "fuzz",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let server = Server::start(&db, dir.path().join("serve.log"));
    // The token works and the seeded scan is what the API reads.
    assert_eq!(server.status("/api/v1/me", &token), 200);
    assert_eq!(server.status("/api/v1/score", &token), 200);

    let seed = std::env::var("RAMPART_SCHEMATHESIS_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    let started = Instant::now();
    let run = Command::new(schemathesis())
        .arg("run")
        .arg(format!("http://{}/api/v1/openapi.json", server.addr))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--max-examples", "20", "--seed", &seed])
        .args(["--request-timeout", "30", "--generation-database", "none"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        .args(["--no-color", "--output-truncate", "false"])
        // It keeps a cache in `.schemathesis` under its working directory.
        .current_dir(dir.path())
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let elapsed = started.elapsed();
    // No request handler panicked (read before stopping: what happens at
    // shutdown is not the API's answer to a request).
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    server.stop();
    println!(
        "schemathesis (seed {seed}) took {:.0} s:\n{stdout}",
        elapsed.as_secs_f64()
    );
    assert!(
        run.status.success(),
        "schemathesis found failures (seed {seed}; report in {}):\n{stdout}\n{}\n--- server log\n{log}",
        report.display(),
        String::from_utf8_lossy(&run.stderr),
    );
    // Every documented operation was called.
    let (selected, tested) = operations(&stdout);
    assert!(selected >= 25, "{selected} operations in the document");
    assert_eq!(tested, selected, "{stdout}");
    assert!(!log.contains("panicked"), "{log}");
}
