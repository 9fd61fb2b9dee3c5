//! The dashboard end to end in a real headless Chromium: `rampart scan` of
//! the demo account in moto (plus resources whose tags carry script
//! injections), the server on a free port, and `tests/e2e/dashboard.mjs`
//! driving Debian's Chromium through playwright-core (both installed by
//! `scripts/browser-env.sh`). Screenshots land in
//! `$CARGO_TARGET_TMPDIR/screenshots`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rampart_server::auth::create_token;
use rampart_server::{AppState, ServerConfig};
use rampart_store::{Store, TokenRole};
use rampart_testkit::{Moto, aws_env, describe, python, rampart, rampart_command, workspace_root};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
/// The tag key every hostile resource carries (the test finds them by it).
const PROBE_TAG: &str = "xss-probe";

/// Tags an S3 bucket and an EC2 instance with values that run script if
/// they reach the page unescaped.
const SEED_HOSTILE: &str = r#"
import sys, boto3
endpoint, probe = sys.argv[1], sys.argv[2]
script = "<script>window.__xss=1</script>"
image = '"><img src=x onerror="window.__xss=1">'
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
s3.create_bucket(Bucket="xss-probe-bucket")
s3.put_bucket_tagging(Bucket="xss-probe-bucket", Tagging={"TagSet": [
    {"Key": "Name", "Value": script},
    {"Key": probe, "Value": image},
]})
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")
ec2.run_instances(ImageId="ami-0a3c14e1ddbe7f23c", InstanceType="t3.micro", MinCount=1, MaxCount=1,
    TagSpecifications=[{"ResourceType": "instance", "Tags": [
        {"Key": "Name", "Value": image},
        {"Key": probe, "Value": script},
    ]}])
"#;

/// `RAMPART_CHROMIUM` and `RAMPART_NODE_PATH`, from the environment or from
/// `scripts/browser-env.sh` (which installs what is missing).
fn browser_env() -> (String, String) {
    if let (Ok(chromium), Ok(modules)) = (
        std::env::var("RAMPART_CHROMIUM"),
        std::env::var("RAMPART_NODE_PATH"),
    ) {
        return (chromium, modules);
    }
    let script = workspace_root().join("scripts/browser-env.sh");
    let output = Command::new("bash").arg(&script).output().unwrap();
    assert!(
        output.status.success(),
        "browser-env.sh: {}",
        describe(&output)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let value = |name: &str| -> String {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("browser-env.sh did not export {name}: {text}"));
        line.trim_matches('\'').to_owned()
    };
    (value("RAMPART_CHROMIUM"), value("RAMPART_NODE_PATH"))
}

fn seed_store(db: &Path) {
    let moto = Moto::start();
    moto.seed_demo();
    let seeded = Command::new(python())
        .args(["-c", SEED_HOSTILE, &moto.url(), PROBE_TAG])
        .envs(aws_env())
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", describe(&seeded));
    let db = db.display().to_string();
    let scan = rampart(
        BIN,
        &[
            "scan",
            "--endpoint-url",
            &moto.url(),
            "--regions",
            "us-east-1,eu-west-1",
            "--db",
            &db,
        ],
    );
    assert_eq!(scan.status.code(), Some(0), "{}", describe(&scan));
}

#[test]
fn dashboard_works_in_headless_chromium_and_runs_no_injected_script() {
    let (chromium, modules) = browser_env();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    seed_store(&db);
    let token = {
        let store = Store::open(&db).unwrap();
        create_token(&store, "browser-test", TokenRole::Admin)
            .unwrap()
            .secret
    };

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(rampart_server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::remove_dir_all(&screenshots);
    let script = workspace_root().join("crates/cli/tests/e2e/dashboard.mjs");
    let output = Command::new("node")
        .arg(&script)
        .env("NODE_PATH", &modules)
        .env("RAMPART_CHROMIUM", &chromium)
        .env("RAMPART_URL", &url)
        .env("RAMPART_TOKEN", &token)
        .env("RAMPART_SCREENSHOTS", &screenshots)
        .env("RAMPART_XSS_TAG", PROBE_TAG)
        .output()
        .unwrap();
    let _ = stop.send(());
    runtime.block_on(server).unwrap().unwrap();
    println!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(output.status.success(), "{}", describe(&output));
    let pngs = std::fs::read_dir(&screenshots)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(
        pngs >= 10,
        "only {pngs} screenshots in {}",
        screenshots.display()
    );
}

/// Where the onboarding walk-through's screenshots go; `docs/img/onboarding`
/// holds a committed copy (`RAMPART_ONBOARDING_SHOTS` overrides the place).
fn onboarding_shots() -> PathBuf {
    std::env::var_os("RAMPART_ONBOARDING_SHOTS").map_or_else(
        || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("onboarding"),
        PathBuf::from,
    )
}

/// Onboarding in the browser against `rampart serve` on an empty store and
/// moto: the first-admin link it prints, the add-account form, the
/// template download, verification, the first scan and its score.
#[test]
fn onboarding_in_headless_chromium_from_first_run_to_first_score() {
    let (chromium, modules) = browser_env();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let keys = dir.path().join("keys").display().to_string();
    let moto = Moto::start();
    moto.seed_demo();
    // Nothing publishes this issuer: verification reports it, with the fix.
    let init = rampart(
        BIN,
        &[
            "issuer",
            "init",
            "--issuer-url",
            "https://127.0.0.1/rampart",
            "--keys-dir",
            &keys,
        ],
    );
    assert!(init.status.success(), "{}", describe(&init));

    let mut server = rampart_command(BIN)
        .args([
            "serve",
            "--init",
            "--db",
            &db,
            "--keys-dir",
            &keys,
            "--listen",
            "127.0.0.1:0",
            "--endpoint-url",
            &moto.url(),
            "--no-scheduled-scans",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("Rampart listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let mut link = String::new();
    for line in lines.by_ref().take(3) {
        let line = line.unwrap();
        if line.trim().starts_with("http") {
            link = line.trim().to_owned();
            break;
        }
    }
    assert!(
        link.starts_with(&format!("{url}/setup?token=")),
        "no first-run link: {link:?}"
    );

    let shots = onboarding_shots();
    let _ = std::fs::remove_dir_all(&shots);
    let output = Command::new("node")
        .arg(workspace_root().join("crates/cli/tests/e2e/onboarding.mjs"))
        .env("NODE_PATH", &modules)
        .env("RAMPART_CHROMIUM", &chromium)
        .env("RAMPART_URL", &url)
        .env("RAMPART_SETUP_LINK", &link)
        .env("RAMPART_ACCOUNT", "123456789012")
        .env("RAMPART_SCREENSHOTS", &shots)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    println!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(output.status.success(), "{}", describe(&output));
    let pngs = std::fs::read_dir(&shots)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pngs >= 6, "only {pngs} screenshots in {}", shots.display());
}
