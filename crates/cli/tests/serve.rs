//! `rampart token` and `rampart serve` as a user runs them: a token printed
//! once on its last line, a server on a free port answering `/healthz` and
//! the API with that token, a scan triggered through the API against moto
//! (with the server's credentials, and through a connector as `rampart scan
//! --connector` does), and a graceful stop on SIGTERM.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use rampart_testkit::{Moto, describe, rampart, rampart_command, stdout_json};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

fn create_token(db: &str, role: &str) -> String {
    let out = rampart(
        BIN,
        &[
            "token", "create", "--db", db, "--role", role, "--name", "ci",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    // The token alone on stdout (`T=$(rampart token create …)`), what it
    // is on stderr.
    let text = String::from_utf8(out.stdout).unwrap();
    let token = text.trim_end().to_owned();
    assert!(
        token.starts_with("rampart_") && !token.contains(char::is_whitespace),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("Created {role} token `ci`")),
        "{stderr}"
    );
    token
}

/// A running `rampart serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(db: &str, extra: &[&str]) -> Self {
        Self::start_with(db, extra, Stdio::inherit())
    }

    /// [`start`](Self::start) with the server's stderr going to `stderr`.
    fn start_with(db: &str, extra: &[&str], stderr: Stdio) -> Self {
        let mut cmd = rampart_command(BIN);
        cmd.args(["serve", "--init", "--db", db, "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("Rampart listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, addr }
    }

    /// One HTTP/1.1 request; returns the status and the body.
    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let body = body.unwrap_or("");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        // Bodies here are small; a chunked body is one chunk: drop its framing.
        let body = if response
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body.lines().nth(1).unwrap_or("").to_owned()
        } else {
            body
        };
        (status, body)
    }

    fn json(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = self.request("GET", path, Some(token), None);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
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

#[test]
fn tokens_are_created_once_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    // Reading commands never create the store.
    let readers: [&[&str]; 7] = [
        &["token", "list"],
        &["token", "revoke", "some-id"],
        &["connector", "list"],
        &["inventory"],
        &["scans"],
        &["gaps"],
        &["alerts"],
    ];
    for args in readers {
        let mut argv = args.to_vec();
        argv.extend(["--db", &db]);
        let out = rampart(BIN, &argv);
        assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no store at"));
        assert!(
            !std::path::Path::new(&db).exists(),
            "{argv:?} created the store"
        );
    }
    let a = create_token(&db, "admin");
    let b = create_token(&db, "reader");
    assert_ne!(a, b);
    let out = rampart(BIN, &["token", "list", "--db", &db, "--format", "json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["role"].as_str(), list[1]["role"].as_str()),
        (Some("admin"), Some("reader"))
    );
    // Secrets are never listed.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&a) && !text.contains(&b));
    let id = list[0]["id"].as_str().unwrap();
    let out = rampart(BIN, &["token", "revoke", "--db", &db, id]);
    assert!(out.status.success(), "{}", describe(&out));
    let out = rampart(BIN, &["token", "revoke", "--db", &db, id]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = rampart(BIN, &["token", "create", "--db", &db, "--role", "root"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn serve_answers_health_and_the_api_with_a_token_and_scans_through_the_api() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let admin = create_token(&db, "admin");
    let reader = create_token(&db, "reader");
    let url = moto.url();
    let server = Server::start(&db, &["--endpoint-url", &url]);

    let (status, body) = server.request("GET", "/healthz", None, None);
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, body) = server.request("GET", "/api/v1/score", None, None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"unauthorized\""), "{body}");
    // No scan yet.
    let (status, body) = server.request("GET", "/api/v1/score", Some(&reader), None);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("\"no_scan\""), "{body}");
    let (status, body) = server.request("POST", "/api/v1/scans", Some(&reader), Some("{}"));
    assert_eq!(status, 403, "{body}");

    // A scan through the API, against moto.
    let (status, body) = server.request(
        "POST",
        "/api/v1/scans",
        Some(&admin),
        Some(r#"{"regions": ["us-east-1"], "services": ["sts", "s3", "ec2"]}"#),
    );
    assert_eq!(status, 202, "{body}");
    let started: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = started["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    let scan = loop {
        let scan = server.json(&format!("/api/v1/scans/{id}"), &reader);
        if scan["status"] != "running" {
            break scan;
        }
        assert!(Instant::now() < deadline, "scan still running: {scan}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(scan["status"], "complete", "{scan}");
    assert!(scan["job"]["planned"].as_u64().unwrap() > 0, "{scan}");
    assert_eq!(scan["job"]["done"], scan["job"]["planned"], "{scan}");
    let score = server.json("/api/v1/score", &reader);
    assert_eq!(score["scan_id"], id.as_str());
    assert!(score["percent"].is_number(), "{score}");
    let inventory = server.json("/api/v1/inventory?limit=5", &reader);
    assert!(
        !inventory["items"].as_array().unwrap().is_empty(),
        "{inventory}"
    );
    let history = server.json("/api/v1/score/history", &reader);
    assert_eq!(history["items"].as_array().unwrap().len(), 1);

    let status = server.stop();
    assert!(status.success(), "exit {status:?} after SIGTERM");
}

#[test]
fn sigterm_during_a_scan_stops_the_scan_and_exits_cleanly() {
    // An AWS endpoint that answers every call with a throttling error: the
    // scan's first call keeps retrying (backing off between attempts), so
    // the scan is running when the server is told to stop.
    let throttling = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", throttling.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in throttling.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                // One answer per request read (keep-alive connections).
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    let body = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
                    let reply = format!(
                        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let admin = create_token(&db, "admin");
    let mut server = Server::start_with(&db, &["--endpoint-url", &endpoint], Stdio::piped());
    let (status, body) = server.request(
        "POST",
        "/api/v1/scans",
        Some(&admin),
        Some(r#"{"regions": ["us-east-1"]}"#),
    );
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(Duration::from_millis(500));
    let scan = server.json(&format!("/api/v1/scans/{id}"), &admin);
    assert_eq!(scan["status"], "running", "{scan}");

    let mut stderr = server.child.stderr.take().unwrap();
    let status = server.stop();
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert!(status.success(), "exit {status:?} after SIGTERM: {log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        log.contains("scan interrupted by the server stopping"),
        "{log}"
    );
    // Nothing of the interrupted scan is left running in the store.
    let out = rampart_command(BIN)
        .args(["scans", "--db", &db, "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("\"running\""), "{text}");
}

#[test]
fn verbose_serve_logs_each_request_at_info_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let log = dir.path().join("serve.log");
    let server = Server::start_with(
        &db,
        &["-v"],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let (status, _) = server.request("GET", "/healthz", None, None);
    assert_eq!(status, 200);
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("/healthz"))
        .unwrap_or_else(|| panic!("no request logged: {text}"));
    assert!(line.contains("INFO") && line.contains("GET"), "{line}");
    assert!(line.contains("status=200"), "{line}");
    // stderr is a file here, not a terminal: no ANSI colour codes.
    assert!(!text.contains('\u{1b}'), "{text}");
}

#[test]
fn serve_refuses_a_bad_listen_address_or_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    // A reader never creates the store: without `--init`, a missing file
    // is exit 3 and stays missing.
    let out = rampart(BIN, &["serve", "--db", &db, "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no store at"),
        "{}",
        describe(&out)
    );
    assert!(!std::path::Path::new(&db).exists());
    let out = rampart(
        BIN,
        &["serve", "--init", "--db", &db, "--listen", "not-an-address"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on `not-an-address`"));
    let out = rampart(
        BIN,
        &[
            "serve",
            "--db",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "ftp://x",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

/// Polls a scan until it is no longer running.
fn wait_for_scan(server: &Server, id: &str, token: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let scan = server.json(&format!("/api/v1/scans/{id}"), token);
        if scan["status"] != "running" {
            return scan;
        }
        assert!(Instant::now() < deadline, "scan still running: {scan}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The claims of a compact JWT (not verified: moto does not either).
fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn the_api_scans_through_a_connector_as_the_cli_does() {
    const ACCOUNT: &str = "123456789012";
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start_recording_to(&dir.path().join("recording"));
    moto.seed("seed-connectors.py", &["--bucket", ACCOUNT]);
    let db = dir.path().join("rampart.db").display().to_string();
    let cli = |args: &[&str]| {
        let out = rampart(BIN, &[args, &["--db", &db]].concat());
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", describe(&out));
        out
    };
    cli(&["issuer", "init", "--issuer-url", "http://127.0.0.1/issuer"]);
    cli(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
    ]);
    cli(&[
        "connector",
        "create",
        "--name",
        "servers",
        "--account",
        "222222222222",
        "--plans",
        "servers",
    ]);
    let shown = stdout_json(&cli(&["connector", "show", "prod", "--format", "json"]));
    let id = shown["id"].as_str().unwrap().to_owned();
    let admin = create_token(&db, "admin");
    let url = moto.url();
    let server = Server::start(
        &db,
        &[
            "--endpoint-url",
            &url,
            "--max-attempts",
            "1",
            "--no-scheduled-scans",
        ],
    );
    let scan_body = |connector: &str| {
        format!(
            r#"{{"connector": "{connector}", "regions": ["us-east-1"], "services": ["s3", "sqs"]}}"#
        )
    };

    // An unknown connector is 404, one without the cspm plan 400; neither
    // starts a scan.
    let (status, body) = server.request(
        "POST",
        "/api/v1/scans",
        Some(&admin),
        Some(&scan_body("nope")),
    );
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no connector `nope`"), "{body}");
    let (status, body) = server.request(
        "POST",
        "/api/v1/scans",
        Some(&admin),
        Some(&scan_body("servers")),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("does not enable the cspm plan"), "{body}");
    assert!(
        server.json("/api/v1/scans", &admin)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Named by id, the job names the connector by name: a second trigger
    // by name is refused while it runs; cancelling it stores it failed.
    let (status, body) =
        server.request("POST", "/api/v1/scans", Some(&admin), Some(&scan_body(&id)));
    assert_eq!(status, 202, "{body}");
    let first: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(first["job"]["request"]["connector"], "prod", "{first}");
    let first = first["id"].as_str().unwrap().to_owned();
    let (status, body) = server.request(
        "POST",
        "/api/v1/scans",
        Some(&admin),
        Some(&scan_body("prod")),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("connector `prod` is still running"), "{body}");
    let (status, body) = server.request(
        "POST",
        &format!("/api/v1/scans/{first}/cancel"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 202, "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let scan = server.json(&format!("/api/v1/scans/{first}"), &admin);
        // Cancelled before the scan reached the store (a busy machine), there
        // is no stored record; once stored, it must be marked failed.
        if scan["status"] == "cancelled"
            && (scan["record"].is_null() || scan["record"]["status"] == "failed")
        {
            break;
        }
        assert!(Instant::now() < deadline, "scan not stopped: {scan}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A scan by name, recorded on the wire.
    let mut scan = serde_json::Value::Null;
    let requests = moto.recorded(|| {
        let (status, body) = server.request(
            "POST",
            "/api/v1/scans",
            Some(&admin),
            Some(&scan_body("prod")),
        );
        assert_eq!(status, 202, "{body}");
        let started: serde_json::Value = serde_json::from_str(&body).unwrap();
        scan = wait_for_scan(&server, started["id"].as_str().unwrap(), &admin);
    });
    assert_eq!(scan["status"], "complete", "{scan}");
    assert_eq!(scan["connector"], id.as_str(), "{scan}");
    assert_eq!(
        scan["record"]["accounts"],
        serde_json::json!([ACCOUNT]),
        "{scan}"
    );
    assert!(scan["job"]["planned"].as_u64().unwrap() > 0, "{scan}");
    assert_eq!(scan["job"]["done"], scan["job"]["planned"], "{scan}");
    let inventory = server.json("/api/v1/inventory?limit=500", &admin);
    let arns: Vec<&str> = inventory["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["arn"].as_str())
        .collect();
    assert!(
        arns.contains(&"arn:aws:s3:::rampart-123456789012"),
        "{arns:?}"
    );
    assert!(
        arns.contains(&"arn:aws:sqs:us-east-1:123456789012:q-123456789012"),
        "{arns:?}"
    );
    // `rampart scans` lists it, complete.
    let out = rampart(BIN, &["scans", "--db", &db, "--format", "json"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(scan["id"].as_str().unwrap()));

    // It ran as the connector's CSPM role: one unsigned
    // AssumeRoleWithWebIdentity as `Rampart_prod`, with a token of this
    // server's issuer for the connector and the CSPM audience; every other
    // call signed with the role's session, not the server's own keys.
    let exchanges: Vec<_> = requests
        .iter()
        .filter(|r| r.is_action("AssumeRoleWithWebIdentity"))
        .collect();
    assert_eq!(exchanges.len(), 1, "{requests:?}");
    let exchange = exchanges[0];
    assert_eq!(
        exchange.form("RoleArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/CspmMonitorAws")
    );
    assert_eq!(
        exchange.form("RoleSessionName").as_deref(),
        Some("Rampart_prod")
    );
    assert!(exchange.header("authorization").is_none(), "{exchange:?}");
    let token = claims(&exchange.form("WebIdentityToken").unwrap());
    assert_eq!(token["sub"], id.as_str());
    assert_eq!(token["aud"], "rampart-cspm");
    assert_eq!(token["iss"], "http://127.0.0.1/issuer");
    let others: Vec<_> = requests
        .iter()
        .filter(|r| !r.is_action("AssumeRoleWithWebIdentity"))
        .collect();
    assert!(!others.is_empty());
    for request in others {
        let auth = request.header("authorization").unwrap_or_default();
        assert!(!auth.contains("Credential=testing/"), "{request:?}");
    }

    let status = server.stop();
    assert!(status.success(), "exit {status:?} after SIGTERM");
}

/// Scale-out: two `rampart serve --queue-scans` replicas on one PostgreSQL
/// store. A scan triggered through one replica's API is queued for the
/// workers, not run in the replica; both replicas answer its status from
/// the store, refuse a second scan of the connector, and see it complete
/// once `rampart worker` ran it. A queued scan cancelled through the other
/// replica is never run.
#[test]
fn scans_triggered_through_any_replica_are_queued_and_every_replica_answers_from_the_store() {
    const ACCOUNT: &str = "123456789012";
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start();
    moto.seed("seed-connectors.py", &["--bucket", ACCOUNT]);
    let db = rampart_testkit::postgres::fresh_url();
    let keys = dir.path().join("keys").display().to_string();
    let cli = |args: &[&str]| {
        let out = rampart(BIN, &[args, &["--db", &db, "--keys-dir", &keys]].concat());
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", describe(&out));
        out
    };
    cli(&["issuer", "init", "--issuer-url", "http://127.0.0.1/issuer"]);
    cli(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
    ]);
    let admin = create_token(&db, "admin");
    let url = moto.url();
    let replica = || {
        Server::start(
            &db,
            &[
                "--keys-dir",
                &keys,
                "--endpoint-url",
                &url,
                "--queue-scans",
                "--no-scheduled-scans",
            ],
        )
    };
    let (a, b) = (replica(), replica());
    let body = r#"{"connector": "prod", "regions": ["us-east-1"], "services": ["s3"]}"#;

    // Workers scan through connectors: a scan without one is refused.
    let (status, text) = a.request("POST", "/api/v1/scans", Some(&admin), Some("{}"));
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("--queue-scans"), "{text}");

    // Queued through a: its scan and job ids come back at once.
    let (status, text) = a.request("POST", "/api/v1/scans", Some(&admin), Some(body));
    assert_eq!(status, 202, "{text}");
    let queued: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(queued["status"], "queued", "{queued}");
    let scan = queued["id"].as_str().unwrap().to_owned();
    let job = queued["job"]["job"].as_str().unwrap().to_owned();
    assert_eq!(queued["job"]["request"]["connector"], "prod", "{queued}");
    assert_eq!(
        queued["job"]["request"]["services"],
        serde_json::json!(["s3"])
    );

    // b knows it, and refuses a second scan of the connector meanwhile.
    let seen = b.json(&format!("/api/v1/scans/{scan}"), &admin);
    assert_eq!(seen["status"], "queued", "{seen}");
    assert_eq!(seen["job"]["job"], job.as_str(), "{seen}");
    assert!(seen["record"].is_null(), "no worker began it: {seen}");
    let (status, text) = b.request("POST", "/api/v1/scans", Some(&admin), Some(body));
    assert_eq!(status, 409, "{text}");
    assert!(text.contains(&scan), "{text}");
    let (status, page) = b.request("GET", &format!("/scans/{scan}"), Some(&admin), None);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&job) && page.contains("queued"), "{page}");
    let (status, page) = a.request("GET", "/connectors", Some(&admin), None);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("/scans/{scan}")), "{page}");

    // A worker runs it; both replicas read it complete from the store.
    let worker = |name: &str| {
        cli(&[
            "worker",
            "--name",
            name,
            "--endpoint-url",
            &url,
            "--poll",
            "1",
            "--max-attempts",
            "1",
            "--until-idle",
        ])
    };
    let out = worker("w1");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("job {job} done: scan {scan}")),
        "{}",
        describe(&out)
    );
    for replica in [&a, &b] {
        let done = replica.json(&format!("/api/v1/scans/{scan}"), &admin);
        assert_eq!(done["status"], "complete", "{done}");
        assert_eq!(done["record"]["accounts"], serde_json::json!([ACCOUNT]));
        assert_eq!(done["job"]["state"], "complete", "{done}");
        assert_eq!(done["job"]["attempts"], 1, "{done}");
    }

    // Queued through b, cancelled through a: b says cancelled, and no
    // worker runs it.
    let (status, text) = b.request("POST", "/api/v1/scans", Some(&admin), Some(body));
    assert_eq!(status, 202, "{text}");
    let second: serde_json::Value = serde_json::from_str(&text).unwrap();
    let second = second["id"].as_str().unwrap().to_owned();
    let (status, text) = a.request(
        "POST",
        &format!("/api/v1/scans/{second}/cancel"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 202, "{text}");
    assert!(text.contains("\"cancelled\""), "{text}");
    let (status, text) = b.request(
        "POST",
        &format!("/api/v1/scans/{second}/cancel"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 409, "{text}");
    let cancelled = b.json(&format!("/api/v1/scans/{second}"), &admin);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let out = worker("w2");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("claimed job"),
        "{}",
        describe(&out)
    );
    let after = a.json(&format!("/api/v1/scans/{second}"), &admin);
    assert_eq!(after["status"], "cancelled", "{after}");
    assert!(after["record"].is_null(), "{after}");
    // The connector may be scanned again.
    let (status, text) = a.request("POST", "/api/v1/scans", Some(&admin), Some(body));
    assert_eq!(status, 202, "{text}");
}
