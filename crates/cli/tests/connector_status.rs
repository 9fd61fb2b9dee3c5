//! `rampart connector status`: connector health against moto, with the
//! issuer's documents served over http on 127.0.0.1 by Python's
//! `http.server` (or by nothing at all).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rampart_connector::{Connector, Plan};
use rampart_store::Store;
use rampart_testkit::{Moto, aws_env, describe, free_port, python, rampart, stdout_json};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const ACCOUNT: &str = "123456789012";
const OTHER_ACCOUNT: &str = "210987654321";

/// A static file server for the issuer's documents; killed on drop.
struct Site {
    child: Child,
}

impl Site {
    fn serve(dir: &Path, port: u16) -> Self {
        let child = Command::new(python())
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start http.server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "http.server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Site { child }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Env {
    dir: tempfile::TempDir,
    db: String,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rampart.db").display().to_string();
        Env { dir, db }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--db", &self.db]);
        rampart(BIN, &all)
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", describe(&out));
        out
    }

    /// `rampart issuer init` at `url`; with `site`, exports the documents
    /// into a directory and returns it.
    fn issuer(&self, url: &str) -> PathBuf {
        self.ok(&["issuer", "init", "--issuer-url", url]);
        let site = self.dir.path().join("site");
        self.ok(&["issuer", "export", "--dir", site.to_str().unwrap()]);
        site
    }

    fn status(&self, moto: &Moto, name: &str) -> (Output, Value) {
        let out = self.run(&[
            "connector",
            "status",
            name,
            "--endpoint-url",
            &moto.url(),
            "--format",
            "json",
        ]);
        let json = stdout_json(&out);
        (out, json)
    }
}

/// The check of `requirement` (for `plan`, `None` = connector-wide).
fn check<'a>(health: &'a Value, plan: Option<&str>, requirement: &str) -> &'a Value {
    let plan = plan.map_or(Value::Null, |p| Value::String(p.to_owned()));
    let matching: Vec<&Value> = health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["plan"] == plan && c["requirement"] == requirement)
        .collect();
    assert!(
        !matching.is_empty(),
        "no check {plan} {requirement} in {health:#}"
    );
    matching[0]
}

fn state<'a>(health: &'a Value, plan: Option<&str>, requirement: &str) -> &'a str {
    check(health, plan, requirement)["state"].as_str().unwrap()
}

/// Seeds moto (default account, us-east-1): one EC2 instance, one EKS
/// cluster with a public endpoint.
fn seed(moto: &Moto) {
    let script = r#"
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1")
ec2 = boto3.client("ec2", **kw)
ec2.run_instances(ImageId="ami-0a3c14e1ddbe7f23c", MinCount=1, MaxCount=1, InstanceType="t3.micro")
eks = boto3.client("eks", **kw)
eks.create_cluster(
    name="web",
    roleArn="arn:aws:iam::123456789012:role/eks",
    resourcesVpcConfig={"subnetIds": [], "endpointPublicAccess": True, "endpointPrivateAccess": False},
)
"#;
    let out = Command::new(python())
        .args(["-c", script, &moto.url()])
        .envs(aws_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "seed failed: {}", describe(&out));
}

#[test]
fn every_plan_against_moto_with_a_published_issuer() {
    let moto = Moto::start();
    seed(&moto);
    let env = Env::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let site = env.issuer(&url);
    let _site = Site::serve(&site, port);
    env.ok(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
        "--plans",
        "cspm,servers,containers,sql",
        "--regions",
        "us-east-1",
    ]);

    let (out, health) = env.status(&moto, "prod");
    // SQL Server is not found and the connector was never scanned.
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(health["connector"], "prod");
    assert_eq!(health["account"], ACCOUNT);

    assert_eq!(
        state(&health, None, "issuer reachable"),
        "met",
        "{health:#}"
    );
    assert!(
        check(&health, None, "issuer reachable")["detail"]
            .as_str()
            .unwrap()
            .contains(&url)
    );
    assert_eq!(
        state(&health, None, "signing key published"),
        "met",
        "{health:#}"
    );

    for plan in ["cspm", "servers", "containers", "sql"] {
        for c in health["checks"].as_array().unwrap() {
            if c["plan"] == plan && c["requirement"] == "role assumable" {
                assert_eq!(c["state"], "met", "{plan}: {c:#}");
            }
            if c["plan"] == plan && c["requirement"] == "caller identity matches account" {
                assert_eq!(c["state"], "met", "{plan}: {c:#}");
                assert!(c["detail"].as_str().unwrap().contains(ACCOUNT));
            }
        }
    }
    // Containers: two roles Rampart assumes (the other two are service roles).
    let container_roles = health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["plan"] == "containers" && c["requirement"] == "role assumable")
        .count();
    assert_eq!(container_roles, 2, "{health:#}");

    assert_eq!(
        state(&health, Some("cspm"), "read access works"),
        "met",
        "{health:#}"
    );

    let instances = check(&health, Some("servers"), "EC2 instances found");
    assert_eq!(instances["state"], "met", "{instances:#}");
    assert!(
        instances["detail"]
            .as_str()
            .unwrap()
            .starts_with("1 EC2 instances: us-east-1 1")
    );
    // moto does not implement DescribeInstanceInformation: unknown, never met.
    let ssm = check(&health, Some("servers"), "SSM status");
    assert_eq!(ssm["state"], "unknown", "{ssm:#}");
    assert!(
        ssm["why"]
            .as_str()
            .unwrap()
            .contains("DescribeInstanceInformation")
    );

    let clusters = check(&health, Some("containers"), "EKS clusters found");
    assert_eq!(clusters["state"], "met", "{clusters:#}");
    let endpoint = check(&health, Some("containers"), "API endpoint access");
    assert_eq!(endpoint["state"], "met", "{endpoint:#}");
    assert!(
        endpoint["detail"]
            .as_str()
            .unwrap()
            .contains("us-east-1/web public")
    );
    let bucket = check(&health, Some("containers"), "room for a bucket");
    assert_eq!(bucket["state"], "met", "{bucket:#}");
    assert!(
        bucket["detail"]
            .as_str()
            .unwrap()
            .contains("of the default quota 10000")
    );
    assert_eq!(
        state(&health, Some("containers"), "room for a queue"),
        "met"
    );
    let stream = check(&health, Some("containers"), "room for a delivery stream");
    assert_eq!(stream["state"], "met", "{stream:#}");
    assert!(stream["detail"].as_str().unwrap().contains("us-east-1 0"));

    let sql = check(&health, Some("sql"), "SQL Server found");
    assert_eq!(sql["state"], "not_met", "{sql:#}");
    assert!(
        sql["detail"]
            .as_str()
            .unwrap()
            .contains("no SQL Server found in us-east-1")
    );

    let last = check(&health, None, "last scan");
    assert_eq!(last["state"], "not_met", "{last:#}");
    assert_eq!(last["fix"], "scan it: `rampart scan --connector prod`");

    // The table says the same.
    let out = env.run(&["connector", "status", "prod", "--endpoint-url", &moto.url()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PLAN") && text.contains("REQUIREMENT"),
        "{text}"
    );
    assert!(text.contains("not met  sql SQL Server found: "), "{text}");
    assert!(text.contains("unknown  servers SSM status: "), "{text}");
}

#[test]
fn an_issuer_nobody_serves_is_not_met_with_the_fix() {
    let moto = Moto::start();
    let env = Env::new();
    let url = format!("http://127.0.0.1:{}", free_port());
    env.issuer(&url);
    env.ok(&[
        "connector",
        "create",
        "--name",
        "dark",
        "--account",
        ACCOUNT,
        "--regions",
        "us-east-1",
    ]);
    let (out, health) = env.status(&moto, "dark");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let reachable = check(&health, None, "issuer reachable");
    assert_eq!(reachable["state"], "not_met", "{reachable:#}");
    assert!(
        reachable["fix"]
            .as_str()
            .unwrap()
            .contains("rampart issuer export --dir DIR"),
        "{reachable:#}"
    );
    assert!(reachable["detail"].as_str().unwrap().contains(&url));
    assert_eq!(state(&health, None, "signing key published"), "unknown");
}

#[test]
fn credentials_for_another_account_are_not_met() {
    let moto = Moto::start();
    let env = Env::new();
    env.issuer(&format!("http://127.0.0.1:{}", free_port()));
    // A role in another account: `connector create` refuses it, so store it
    // directly (a connector edited by hand, or an old store).
    let connector = Connector::new(
        "elsewhere",
        ACCOUNT,
        &[Plan::Cspm],
        vec!["us-east-1".to_owned()],
        12,
        None,
    );
    let text = serde_json::to_string(&connector).unwrap().replace(
        &format!("arn:aws:iam::{ACCOUNT}:"),
        &format!("arn:aws:iam::{OTHER_ACCOUNT}:"),
    );
    let connector: Connector = serde_json::from_str(&text).unwrap();
    assert!(
        connector
            .role_arn(Plan::Cspm)
            .unwrap()
            .contains(OTHER_ACCOUNT)
    );
    Store::open(Path::new(&env.db))
        .unwrap()
        .create_connector(&connector)
        .unwrap();

    let (out, health) = env.status(&moto, "elsewhere");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    // moto validates no token: the exchange works, into the other account.
    assert_eq!(
        state(&health, Some("cspm"), "role assumable"),
        "met",
        "{health:#}"
    );
    let matches = check(&health, Some("cspm"), "caller identity matches account");
    assert_eq!(matches["state"], "not_met", "{matches:#}");
    let detail = matches["detail"].as_str().unwrap();
    assert!(
        detail.contains(ACCOUNT) && detail.contains(OTHER_ACCOUNT),
        "{detail}"
    );
    // Reads as the wrong account tell nothing about this one.
    assert_eq!(state(&health, Some("cspm"), "read access works"), "unknown");
}

#[test]
fn no_such_connector_exits_3() {
    let moto = Moto::start();
    let env = Env::new();
    env.ok(&[
        "connector",
        "create",
        "--name",
        "other",
        "--account",
        "123456789012",
    ]);
    let out = env.run(&[
        "connector",
        "status",
        "ghost",
        "--endpoint-url",
        &moto.url(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}
