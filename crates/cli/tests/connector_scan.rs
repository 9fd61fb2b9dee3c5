//! `rampart scan --connector` against a private moto server: a native
//! connector's scan runs as its CSPM role (web identity, session
//! `Rampart_<name>`); an organization's scan covers the management account
//! and every member (excluded accounts absent, a failing member a gap);
//! classic connectors scan with access keys or an external-id role; their
//! secrets are encrypted at rest; an account connected both ways is scanned
//! once.
//!
//! moto validates neither tokens nor trust policies: these tests check what
//! Rampart sends (from moto's request recorder) and which account's state
//! its calls read (moto keeps each account's state apart).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;

use base64::Engine;
use rampart_store::{AssetFilter, Store};
use rampart_testkit::recorder::Request;
use rampart_testkit::{Moto, describe, rampart_command, stdout_json};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const MANAGEMENT: &str = "123456789012";

struct Env {
    dir: tempfile::TempDir,
    moto: Moto,
    /// The store: `rampart.db` in `dir`, or a PostgreSQL URL.
    db: PathBuf,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rampart.db");
        Self::with_db(dir, db)
    }

    /// The store in a fresh schema of the test cluster.
    fn on_postgres() -> Self {
        Self::with_db(
            tempfile::tempdir().unwrap(),
            PathBuf::from(rampart_testkit::postgres::fresh_url()),
        )
    }

    fn with_db(dir: tempfile::TempDir, db: PathBuf) -> Self {
        let moto = Moto::start_recording_to(&dir.path().join("recording"));
        let env = Env { dir, moto, db };
        env.ok(&[
            "issuer",
            "init",
            "--issuer-url",
            "https://id.example.test/rampart",
        ]);
        env
    }

    fn db(&self) -> PathBuf {
        self.db.clone()
    }

    fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    fn store(&self) -> Store {
        Store::open(&self.db()).unwrap()
    }

    /// Runs `rampart <args> --db <db>`, with `stdin` on standard input.
    /// `rampart <args> --db <db>` with the keys beside the store file (the
    /// default), wherever the store is.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = rampart_command(BIN);
        cmd.env("RAMPART_KEYS_DIR", self.keys())
            .env_remove("RAMPART_CLASSIC_SECRET_ACCESS_KEY")
            .args(args)
            .arg("--db")
            .arg(self.db());
        cmd
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied());
        let Some(input) = stdin else {
            return cmd.output().unwrap();
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None, &[])
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", describe(&out));
        out
    }

    /// `rampart scan --connector NAME` (S3 and SQS, us-east-1) against `endpoint`.
    fn scan(&self, connector: &str, endpoint: &str) -> Output {
        self.run(&[
            "scan",
            "--connector",
            connector,
            "--endpoint-url",
            endpoint,
            "--services",
            "s3,sqs",
            "--regions",
            "us-east-1",
            "--max-attempts",
            "1",
            "--no-progress",
        ])
    }

    fn seed(&self, args: &[&str]) -> Value {
        let out = self.moto.seed("seed-connectors.py", args);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn connector_id(&self, name: &str) -> String {
        let json = stdout_json(&self.ok(&["connector", "show", name, "--format", "json"]));
        json["id"].as_str().unwrap().to_owned()
    }

    /// Runs `during` with moto's recorder on; returns the requests it made.
    fn recorded(&self, during: impl FnOnce()) -> Vec<Request> {
        self.moto.recorded(during)
    }

    /// Assets of the latest complete scan: (account, ARN).
    fn assets(&self) -> BTreeSet<(String, String)> {
        let store = self.store();
        store
            .assets(&AssetFilter::default())
            .unwrap()
            .into_iter()
            .map(|a| (a.account, a.arn))
            .collect()
    }
}

/// The claims of a compact JWT (not verified: moto does not either).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn bucket(account: &str) -> (String, String) {
    (
        account.to_owned(),
        format!("arn:aws:s3:::rampart-{account}"),
    )
}

fn queue(account: &str) -> (String, String) {
    (
        account.to_owned(),
        format!("arn:aws:sqs:us-east-1:{account}:q-{account}"),
    )
}

#[test]
fn single_account_scan_runs_as_the_cspm_role() {
    let env = Env::new();
    let account = "111111111111";
    env.seed(&["--bucket", account, "--bucket", MANAGEMENT]);
    env.ok(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        account,
    ]);
    let id = env.connector_id("prod");

    let mut out = None;
    let requests = env.recorded(|| out = Some(env.scan("prod", &env.moto.url())));
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // The scan read the connector's account only, and remembers the connector.
    let store = env.store();
    let scan = store.latest_complete_scan().unwrap().unwrap();
    assert_eq!(scan.accounts, [account]);
    assert_eq!(store.scan_connector(&scan.id).unwrap(), Some(id.clone()));
    let assets = env.assets();
    assert!(assets.contains(&bucket(account)), "{assets:?}");
    assert!(assets.contains(&queue(account)), "{assets:?}");
    assert!(assets.iter().all(|(a, _)| a == account), "{assets:?}");

    // One unsigned AssumeRoleWithWebIdentity for the CSPM role, as
    // `Rampart_prod`, with a token for this connector and the CSPM audience.
    let exchanges: Vec<&Request> = requests
        .iter()
        .filter(|r| r.is_action("AssumeRoleWithWebIdentity"))
        .collect();
    assert_eq!(exchanges.len(), 1, "{requests:?}");
    let exchange = exchanges[0];
    assert_eq!(
        exchange.form("RoleArn").as_deref(),
        Some("arn:aws:iam::111111111111:role/CspmMonitorAws")
    );
    assert_eq!(
        exchange.form("RoleSessionName").as_deref(),
        Some("Rampart_prod")
    );
    assert!(exchange.header("authorization").is_none(), "{exchange:?}");
    let token_claims = claims(&exchange.form("WebIdentityToken").unwrap());
    assert_eq!(token_claims["sub"], id.as_str());
    assert_eq!(token_claims["aud"], "rampart-cspm");
    assert_eq!(token_claims["iss"], "https://id.example.test/rampart");
    // Every other call is signed with the role's session, not moto's
    // default keys.
    for request in requests
        .iter()
        .filter(|r| !r.is_action("AssumeRoleWithWebIdentity"))
    {
        let auth = request.header("authorization").unwrap_or_default();
        assert!(!auth.contains("Credential=testing/"), "{request:?}");
    }

    // `connector token` prints a fresh token with the same claims.
    let token = env.ok(&["connector", "token", "prod", "--plan", "cspm"]);
    let token = String::from_utf8(token.stdout).unwrap();
    let printed = claims(token.trim());
    assert_eq!(printed["sub"], id.as_str());
    assert_eq!(printed["aud"], "rampart-cspm");
    let out = env.run(&["connector", "token", "prod", "--plan", "servers"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn scan_errors_are_clear_and_store_nothing() {
    let env = Env::new();
    let url = env.moto.url();
    let out = env.scan("ghost", &url);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no connector `ghost`"),
        "{}",
        describe(&out)
    );

    env.ok(&[
        "connector",
        "create",
        "--name",
        "servers-only",
        "--account",
        "111111111111",
        "--plans",
        "servers",
    ]);
    let out = env.scan("servers-only", &url);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("cspm"), "{}", describe(&out));

    env.ok(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        "111111111111",
    ]);
    // Without an issuer, the error says how to create one.
    let out = env.run(&[
        "scan",
        "--connector",
        "prod",
        "--endpoint-url",
        &url,
        "--keys-dir",
        env.dir.path().join("empty").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("rampart issuer init"),
        "{}",
        describe(&out)
    );

    // Credentials that reach another account than the connector's: failure,
    // nothing stored. (The stored role is changed behind validation's back.)
    let store = env.store();
    let mut prod = store.connector("prod").unwrap().unwrap();
    prod.set_role_arn(
        rampart_connector::Plan::Cspm,
        None,
        "arn:aws:iam::222222222222:role/CspmMonitorAws",
    )
    .unwrap();
    store.update_connector(&prod).unwrap();
    let out = env.scan("prod", &url);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let message = stderr(&out);
    assert!(
        message.contains("111111111111") && message.contains("222222222222"),
        "{message}"
    );
    assert!(env.store().latest_complete_scan().unwrap().is_none());
    assert!(env.store().scans(10).unwrap().is_empty());
}

/// A one-request-per-connection HTTP proxy to moto that answers
/// AssumeRoleWithWebIdentity for roles in `blocked_account` with
/// AccessDenied, and forwards everything else.
fn start_proxy(upstream: String, blocked_account: String) -> String {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = Arc::new(upstream);
    let blocked = Arc::new(format!("RoleArn=arn%3Aaws%3Aiam%3A%3A{blocked_account}%3A"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (upstream, blocked) = (upstream.clone(), blocked.clone());
            std::thread::spawn(move || {
                let _ = proxy_one(stream, &upstream, &blocked);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn proxy_one(client: TcpStream, upstream: &str, blocked: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let text = String::from_utf8_lossy(&body);
    let mut client = client;
    if text.contains("Action=AssumeRoleWithWebIdentity") && text.contains(blocked) {
        let xml = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>x</RequestId></ErrorResponse>";
        write!(
            client,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
            xml.len()
        )?;
        return client.flush();
    }
    let mut up = TcpStream::connect(upstream.trim_start_matches("http://"))?;
    up.write_all(head.concat().as_bytes())?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    client.write_all(&response)?;
    client.flush()
}

#[test]
fn organization_scan_covers_every_member_and_a_failing_member_is_a_gap() {
    let env = Env::new();
    let seeded = env.seed(&["--organization", "3"]);
    let members: Vec<String> = seeded["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    let (a, b, excluded) = (&members[0], &members[1], &members[2]);
    env.ok(&[
        "connector",
        "create",
        "--name",
        "org",
        "--account",
        MANAGEMENT,
        "--organization",
        "--exclude-accounts",
        excluded,
        "--regions",
        "us-east-1",
    ]);

    let mut out = None;
    let requests = env.recorded(|| out = Some(env.scan("org", &env.moto.url())));
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // Member connectors were created for the active, non-excluded members.
    let store = env.store();
    let stored: Vec<(String, String)> = store
        .members_of(MANAGEMENT)
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                c.name.clone(),
                c.role_arn(rampart_connector::Plan::Cspm)
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let mut expected = vec![
        (
            format!("org-{a}"),
            format!("arn:aws:iam::{a}:role/CspmMonitorAws"),
        ),
        (
            format!("org-{b}"),
            format!("arn:aws:iam::{b}:role/CspmMonitorAws"),
        ),
    ];
    expected.sort();
    assert_eq!(stored, expected);

    // One snapshot with every account's own resources; the excluded
    // account's are absent.
    let scan = store.latest_complete_scan().unwrap().unwrap();
    let accounts: BTreeSet<&str> = scan.accounts.iter().map(String::as_str).collect();
    assert_eq!(
        accounts,
        BTreeSet::from([MANAGEMENT, a.as_str(), b.as_str()])
    );
    let assets = env.assets();
    for account in [MANAGEMENT, a, b] {
        assert!(assets.contains(&bucket(account)), "{account}: {assets:?}");
        assert!(assets.contains(&queue(account)), "{account}: {assets:?}");
    }
    assert!(
        !assets.iter().any(|(account, _)| account == excluded),
        "{assets:?}"
    );
    assert_eq!(store.scans(10).unwrap().len(), 1);

    // Each account's role, each with a token whose subject is its connector.
    let mut subjects: Vec<(String, String)> = requests
        .iter()
        .filter(|r| r.is_action("AssumeRoleWithWebIdentity"))
        .map(|r| {
            let token = claims(&r.form("WebIdentityToken").unwrap());
            assert_eq!(token["aud"], "rampart-cspm");
            (
                r.form("RoleArn").unwrap(),
                token["sub"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    subjects.sort();
    let mut wanted = vec![(
        format!("arn:aws:iam::{MANAGEMENT}:role/CspmMonitorAws"),
        env.connector_id("org"),
    )];
    for m in [a, b] {
        wanted.push((
            format!("arn:aws:iam::{m}:role/CspmMonitorAws"),
            env.connector_id(&format!("org-{m}")),
        ));
    }
    wanted.sort();
    assert_eq!(subjects, wanted);

    // `connector sync` again: nothing to change, ids kept.
    let synced = env.ok(&[
        "connector",
        "sync",
        "org",
        "--endpoint-url",
        &env.moto.url(),
    ]);
    let text = String::from_utf8_lossy(&synced.stdout).into_owned();
    assert!(
        text.contains(&format!("unchanged member connector `org-{a}`")),
        "{text}"
    );
    assert!(!text.contains("created"), "{text}");

    // Member b's role cannot be assumed: its account is a gap, the rest is
    // scanned, the scan completes.
    let proxy = start_proxy(env.moto.url(), b.clone());
    let out = env.scan("org", &proxy);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let store = env.store();
    let scan = store.latest_complete_scan().unwrap().unwrap();
    assert_eq!(store.scans(10).unwrap().len(), 2);
    assert!(scan.accounts.contains(b), "{:?}", scan.accounts);
    let gaps = store.gaps().unwrap();
    let b_gaps: Vec<_> = gaps.iter().filter(|g| &g.account == b).collect();
    assert_eq!(b_gaps.len(), 1, "{gaps:#?}");
    assert_eq!(b_gaps[0].service, "sts");
    assert_eq!(b_gaps[0].operation, "AssumeRoleWithWebIdentity");
    assert_eq!(b_gaps[0].kind, rampart_model::GapKind::AccessDenied);
    assert!(b_gaps[0].error.contains("org-"), "{:?}", b_gaps[0]);
    let assets = env.assets();
    for account in [MANAGEMENT, a.as_str()] {
        assert!(assets.contains(&bucket(account)), "{account}: {assets:?}");
    }
    // Nothing of b was collected. (Its Servers plan-settings asset, written
    // from the connector rather than read from AWS, is not evidence of a
    // read; see the closing note of the session that added it.)
    assert!(
        !assets
            .iter()
            .any(|(account, arn)| account == b && !arn.ends_with(":plan-settings")),
        "{assets:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not reached"),
        "{}",
        describe(&out)
    );
}

/// Every file of the store (the database and its WAL) as bytes.
fn store_bytes(db: &Path) -> Vec<u8> {
    let dir = db.parent().unwrap();
    let name = db.file_name().unwrap().to_str().unwrap();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file()
            && path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(name)
        {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn classic_connectors_scan_with_keys_or_a_role_and_keep_secrets_encrypted() {
    let env = Env::new();
    let keys_account = "222233334444";
    let role_account = "333344445555";
    let seeded = env.seed(&[
        "--iam-user",
        keys_account,
        "--bucket",
        keys_account,
        "--bucket",
        role_account,
    ]);
    let key_id = seeded["user"]["accessKeyId"].as_str().unwrap().to_owned();
    let secret = seeded["user"]["secretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();

    // Without `--classic`, or without a secret, nothing is created.
    let out = env.run(&[
        "connector",
        "create",
        "--name",
        "legacy",
        "--account",
        keys_account,
        "--access-key-id",
        &key_id,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = env.run(&[
        "connector",
        "create",
        "--classic",
        "--name",
        "legacy",
        "--account",
        keys_account,
        "--access-key-id",
        &key_id,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("--secret-access-key-stdin"),
        "{}",
        describe(&out)
    );

    // Access keys, the secret on standard input.
    let out = env.run_with(
        &[
            "connector",
            "create",
            "--classic",
            "--name",
            "legacy",
            "--account",
            keys_account,
            "--access-key-id",
            &key_id,
            "--secret-access-key-stdin",
        ],
        Some(&format!("{secret}\n")),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).contains("warning: classic connectors are legacy; prefer OIDC federation"),
        "{}",
        describe(&out)
    );

    // Secrets at rest: not in the store's files, not in `connector show`;
    // the key file is owner-only.
    assert!(!contains(&store_bytes(&env.db()), &secret));
    let shown = env.ok(&["connector", "show", "legacy", "--format", "json"]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(!text.contains(&secret), "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["classic"]["authenticationType"], "awsCreds");
    assert_eq!(json["classic"]["accessKeyId"], key_id.as_str());
    let table = env.ok(&["connector", "show", "legacy"]);
    assert!(!String::from_utf8_lossy(&table.stdout).contains(&secret));
    let key_file = env.keys().join("classic.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!contains(&std::fs::read(&key_file).unwrap(), &secret));

    let mut out = None;
    let requests = env.recorded(|| out = Some(env.scan("legacy", &env.moto.url())));
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let assets = env.assets();
    assert!(assets.contains(&bucket(keys_account)), "{assets:?}");
    assert!(assets.iter().all(|(a, _)| a == keys_account), "{assets:?}");
    let signed_with_key = requests
        .iter()
        .filter(|r| {
            r.header("authorization")
                .is_some_and(|a| a.contains(&format!("Credential={key_id}/")))
        })
        .count();
    assert!(signed_with_key >= 2, "{requests:?}");
    let store = env.store();
    let scan = store.latest_complete_scan().unwrap().unwrap();
    assert_eq!(
        store.scan_connector(&scan.id).unwrap(),
        Some(env.connector_id("legacy"))
    );

    // A role with an external id, assumed with Rampart's own credentials.
    let role = format!("arn:aws:iam::{role_account}:role/RampartLegacy");
    env.ok(&[
        "connector",
        "create",
        "--classic",
        "--name",
        "legacy-role",
        "--account",
        role_account,
        "--role-arn",
        &role,
        "--external-id",
        "ext-1234",
    ]);
    let mut out = None;
    let requests = env.recorded(|| out = Some(env.scan("legacy-role", &env.moto.url())));
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let assume: Vec<&Request> = requests
        .iter()
        .filter(|r| r.is_action("AssumeRole"))
        .collect();
    assert_eq!(assume.len(), 1, "{requests:?}");
    assert_eq!(assume[0].form("RoleArn"), Some(role.clone()));
    assert_eq!(assume[0].form("ExternalId").as_deref(), Some("ext-1234"));
    assert_eq!(
        assume[0].form("RoleSessionName").as_deref(),
        Some("Rampart_legacy-role")
    );
    let assets = env.assets();
    assert!(assets.contains(&bucket(role_account)), "{assets:?}");
    // The snapshot scanned the role's account only and keeps the other
    // connector's account from its own scan (the current posture is per
    // account).
    let latest = env.store().latest_complete_scan().unwrap().unwrap();
    assert_eq!(latest.accounts, vec![role_account.to_owned()]);
    assert!(assets.contains(&bucket(keys_account)), "{assets:?}");
    assert!(
        assets
            .iter()
            .all(|(a, _)| a == role_account || a == keys_account),
        "{assets:?}"
    );

    // The secret may also come from the environment.
    let out = env.run_with(
        &[
            "connector",
            "create",
            "--classic",
            "--name",
            "legacy-env",
            "--account",
            keys_account,
            "--access-key-id",
            &key_id,
        ],
        None,
        &[("RAMPART_CLASSIC_SECRET_ACCESS_KEY", &secret)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!contains(&store_bytes(&env.db()), &secret));
}

#[test]
fn an_account_connected_both_ways_is_scanned_once_through_the_native_connector() {
    let env = Env::new();
    let account = "444455556666";
    let seeded = env.seed(&["--iam-user", account, "--bucket", account]);
    let key_id = seeded["user"]["accessKeyId"].as_str().unwrap().to_owned();
    let secret = seeded["user"]["secretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&[
        "connector",
        "create",
        "--name",
        "native",
        "--account",
        account,
    ]);
    let out = env.run_with(
        &[
            "connector",
            "create",
            "--classic",
            "--name",
            "classic",
            "--account",
            account,
            "--access-key-id",
            &key_id,
            "--secret-access-key-stdin",
        ],
        Some(&secret),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    let mut out = None;
    let requests = env.recorded(|| out = Some(env.scan("classic", &env.moto.url())));
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!(
            "warning: account {account} is connected both natively (connector `native`) and through classic connector `classic`; scanning it once, through `native`"
        )),
        "{}",
        describe(&out)
    );

    // Scanned once, through the native connector: one web identity
    // exchange, no call signed with the classic keys, one ListQueues.
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.is_action("AssumeRoleWithWebIdentity"))
            .count(),
        1
    );
    assert!(!requests.iter().any(|r| {
        r.header("authorization")
            .is_some_and(|a| a.contains(&key_id))
    }));
    let list_queues = requests
        .iter()
        .filter(|r| {
            r.header("x-amz-target") == Some("AmazonSQS.ListQueues") || r.is_action("ListQueues")
        })
        .count();
    assert_eq!(list_queues, 1, "{requests:?}");

    let store = env.store();
    let scan = store.latest_complete_scan().unwrap().unwrap();
    assert_eq!(scan.accounts, [account]);
    assert_eq!(
        store.scan_connector(&scan.id).unwrap(),
        Some(env.connector_id("native"))
    );
    // One set of assessments: no (recommendation, resource) pair twice, and
    // as many as the snapshot's assets warrant.
    let assessments = store.assessments().unwrap();
    assert!(!assessments.is_empty());
    let pairs: BTreeSet<(&str, &str)> = assessments
        .iter()
        .map(|a| (a.recommendation.as_str(), a.resource.as_str()))
        .collect();
    assert_eq!(pairs.len(), assessments.len());
    let findings = stdout_json(&env.ok(&["findings", "--format", "json"]));
    let exported = findings["assessments"].as_array().map_or(0, Vec::len);
    assert_eq!(exported, assessments.len(), "{findings}");

    // Scanning the native connector warns about the classic twin too.
    let out = env.scan("native", &env.moto.url());
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).contains("also connected through classic connector `classic`"),
        "{}",
        describe(&out)
    );
}

/// An endpoint that accepts connections and never answers: a scan through
/// it hangs until its calls time out.
fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

/// `(scan id, job id)` from `rampart scan --connector NAME --queue`.
fn queued(out: &Output) -> (String, String) {
    let text = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = text.split_whitespace().collect();
    let scan = words[words.iter().position(|w| *w == "scan").unwrap() + 1];
    (scan.to_owned(), words.last().unwrap().to_string())
}

/// `rampart worker` named `name`, on `endpoint`, with short leases and
/// polls, then `extra`.
fn worker_args<'a>(name: &'a str, endpoint: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "worker",
        "--name",
        name,
        "--endpoint-url",
        endpoint,
        "--lease",
        "3",
        "--poll",
        "1",
        "--max-attempts",
        "1",
    ];
    args.extend_from_slice(extra);
    args
}

/// Waits until job `id` runs, claimed by `worker`.
fn wait_running(env: &Env, id: &str, worker: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let job = env.store().job(id).unwrap().unwrap();
        if job.status == rampart_store::JobStatus::Running
            && job.lease_owner.as_deref() == Some(worker)
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never claimed: {job:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Scale-out on PostgreSQL: `scan --queue` queues a connector's scan,
/// `rampart worker` runs it; a worker killed mid-job has the job run again
/// by another once its lease runs out, and the scan is stored once; a
/// worker told to stop (SIGTERM) finishes the job it runs before it exits.
#[test]
fn queued_scans_run_on_workers_once_even_when_a_worker_is_killed() {
    let env = Env::on_postgres();
    let account = "111111111111";
    env.seed(&["--bucket", account]);
    env.ok(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        account,
    ]);
    let queue = || {
        queued(&env.ok(&[
            "scan",
            "--connector",
            "prod",
            "--queue",
            "--services",
            "s3,sqs",
            "--regions",
            "us-east-1",
        ]))
    };

    // Queued, then run by a worker that stops when the queue is idle.
    let (scan, job) = queue();
    let listed = stdout_json(&env.ok(&["jobs", "--format", "json"]));
    assert_eq!(listed[0]["id"], job.as_str());
    assert_eq!(listed[0]["status"], "queued");
    let moto = env.moto.url();
    let out = env.ok(&worker_args("w0", &moto, &["--until-idle"]));
    assert!(
        stderr(&out).contains(&format!("job {job} done: scan {scan}")),
        "{}",
        describe(&out)
    );
    let store = env.store();
    assert_eq!(
        store.scan(&scan).unwrap().status,
        rampart_model::ScanStatus::Complete
    );
    assert_eq!(
        store.job(&job).unwrap().unwrap().status,
        rampart_store::JobStatus::Done
    );
    assert!(env.assets().contains(&bucket(account)));

    // w1 hangs on its job and is killed; w2 takes the job over once the
    // lease ran out, and the scan is stored once.
    let (scan, job) = queue();
    let silent = silent_endpoint();
    let mut w1 = env
        .command(&worker_args("w1", &silent, &["--call-timeout", "600"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_running(&env, &job, "w1");
    w1.kill().unwrap();
    w1.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    let out = env.ok(&worker_args("w2", &moto, &["--until-idle"]));
    assert!(
        stderr(&out).contains(&format!("claimed job {job} (attempt 2)")),
        "{}",
        describe(&out)
    );
    let done = env.store().job(&job).unwrap().unwrap();
    assert_eq!(
        (done.status, done.attempts),
        (rampart_store::JobStatus::Done, 2)
    );
    let scans = stdout_json(&env.ok(&["scans", "--format", "json"]));
    let runs = scans
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"] == scan.as_str())
        .count();
    assert_eq!(runs, 1, "{scans}");
    assert_eq!(
        env.store().scan(&scan).unwrap().status,
        rampart_model::ScanStatus::Complete
    );

    // SIGTERM while a job runs: the worker finishes it (here its calls
    // time out and it fails, to be retried) and exits 0.
    let (_, job) = queue();
    let silent = silent_endpoint();
    let w3 = env
        .command(&worker_args("w3", &silent, &["--call-timeout", "2"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_running(&env, &job, "w3");
    let pid = w3.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = w3.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("draining: finishing 1 running job(s)"),
        "{err}"
    );
    assert!(err.contains(&format!("job {job} failed")), "{err}");
    let after = env.store().job(&job).unwrap().unwrap();
    assert_eq!(after.status, rampart_store::JobStatus::Queued, "{after:?}");
    assert!(after.lease_owner.is_none(), "{after:?}");
}

/// `(scan id, account, job id)` of each line of `rampart scan --connector
/// NAME --queue`.
fn queued_jobs(out: &Output) -> Vec<(String, String, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let after = |w: &str| words[words.iter().position(|x| *x == w).unwrap() + 1];
            (
                after("scan").to_owned(),
                after("(account").trim_end_matches(')').to_owned(),
                words.last().unwrap().to_string(),
            )
        })
        .collect()
}

/// ARNs of `rampart inventory` with `filter` (`--account X`, `--connector N`).
fn inventory(env: &Env, filter: &[&str]) -> BTreeSet<(String, String)> {
    let mut args = vec!["inventory", "--format", "json"];
    args.extend_from_slice(filter);
    stdout_json(&env.ok(&args))
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account"].as_str().unwrap().to_owned(),
                a["arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Lines of a worker's stderr saying a job is done.
fn done_lines(out: &Output) -> usize {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("job ") && l.contains(" done"))
        .count()
}

/// A queued scan of an organization is one job per account, each with its
/// own scan of that one account: the first (before any member connector
/// exists) is the management account's job, which syncs the members and
/// queues theirs; the next lists every member at once. Two workers run
/// them side by side, and every account's posture is there afterwards,
/// alone and through the organization's connector.
#[test]
fn a_queued_organization_scan_is_one_job_per_account_run_by_several_workers() {
    let env = Env::on_postgres();
    // As a scaled deployment runs: the issuer kept in the store, so the
    // workers mint every member's token from it.
    env.ok(&["issuer", "move-to-store"]);
    let seeded = env.seed(&["--organization", "3"]);
    let mut accounts: Vec<String> = vec![MANAGEMENT.to_owned()];
    accounts.extend(
        seeded["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_owned()),
    );
    env.ok(&[
        "connector",
        "create",
        "--name",
        "org",
        "--account",
        MANAGEMENT,
        "--organization",
        "--regions",
        "us-east-1",
    ]);
    let queue_org = || {
        queued_jobs(&env.ok(&[
            "scan",
            "--connector",
            "org",
            "--queue",
            "--services",
            "s3,sqs",
        ]))
    };
    let moto = env.moto.url();
    let worker = |name: &str| {
        env.command(&worker_args(
            name,
            &moto,
            &["--until-idle", "--concurrency", "1"],
        ))
        .output()
        .unwrap()
    };
    let every_account_is_there = || {
        for account in &accounts {
            let found = inventory(&env, &["--account", account]);
            assert!(found.contains(&bucket(account)), "{account}: {found:?}");
            assert!(found.contains(&queue(account)), "{account}: {found:?}");
        }
        let org: BTreeSet<String> = inventory(&env, &["--connector", "org"])
            .into_iter()
            .map(|(account, _)| account)
            .collect();
        assert_eq!(org, accounts.iter().cloned().collect::<BTreeSet<_>>());
    };

    // No member connector yet: the management account's job, which queues
    // the members its sync finds.
    let first = queue_org();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].1, MANAGEMENT);
    let out = worker("w0");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(done_lines(&out), 4, "{}", describe(&out));
    every_account_is_there();

    // Now one job per account at once, each its own scan of its account.
    let jobs = queue_org();
    let listed: BTreeSet<String> = jobs.iter().map(|j| j.1.clone()).collect();
    assert_eq!(listed, accounts.iter().cloned().collect::<BTreeSet<_>>());
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| worker("w1"));
        let b = s.spawn(|| worker("w2"));
        (a.join().unwrap(), b.join().unwrap())
    });
    for out in [&a, &b] {
        assert_eq!(out.status.code(), Some(0), "{}", describe(out));
    }
    assert_eq!(done_lines(&a) + done_lines(&b), 4);
    let store = env.store();
    for (scan, account, job) in &jobs {
        let record = store.scan(scan).unwrap();
        assert_eq!(record.status, rampart_model::ScanStatus::Complete);
        assert_eq!(record.accounts, std::slice::from_ref(account));
        let job = store.job(job).unwrap().unwrap();
        assert_eq!(job.status, rampart_store::JobStatus::Done);
        assert_eq!(job.account.as_ref(), Some(account));
    }
    every_account_is_there();
}

/// An account whose posture holds more assets than `--region-jobs-above`
/// is scanned one job per region: its job scans the home region with the
/// global services and queues the other regions (regional services only),
/// each a job of its own (account, region); the posture keeps everything.
#[test]
fn a_large_account_is_scanned_one_job_per_region() {
    let env = Env::on_postgres();
    let account = "111111111111";
    env.seed(&["--bucket", account]);
    env.ok(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        account,
        "--regions",
        "us-east-1,eu-west-1",
    ]);
    let moto = env.moto.url();
    let run = |limit: &str| {
        let jobs = queued_jobs(&env.ok(&[
            "scan",
            "--connector",
            "prod",
            "--queue",
            "--services",
            "s3,sqs",
        ]));
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        let out = env.ok(&worker_args(
            "w",
            &moto,
            &["--until-idle", "--region-jobs-above", limit],
        ));
        (jobs[0].clone(), out)
    };
    // Small: one job, both regions.
    let ((scan, _, _), out) = run("1000");
    assert_eq!(done_lines(&out), 1, "{}", describe(&out));
    assert_eq!(
        env.store().scan(&scan).unwrap().regions,
        ["us-east-1", "eu-west-1"]
    );

    // Above the limit: two jobs, one per region.
    let ((scan, _, job), out) = run("1");
    assert_eq!(done_lines(&out), 2, "{}", describe(&out));
    let store = env.store();
    assert_eq!(store.scan(&scan).unwrap().regions, ["us-east-1"]);
    assert_eq!(store.job(&job).unwrap().unwrap().region, None);
    let region_job = store
        .jobs(None, 10)
        .unwrap()
        .into_iter()
        .find(|j| j.region.is_some())
        .unwrap();
    assert_eq!(region_job.region.as_deref(), Some("eu-west-1"));
    assert_eq!(region_job.status, rampart_store::JobStatus::Done);
    assert_eq!(region_job.payload["services"], serde_json::json!(["sqs"]));
    let region_scan = store.scan(region_job.scan_id.as_deref().unwrap()).unwrap();
    assert_eq!(region_scan.regions, ["eu-west-1"]);
    let found = inventory(&env, &["--account", account]);
    assert!(found.contains(&bucket(account)), "{found:?}");
    assert!(found.contains(&queue(account)), "{found:?}");
}
