//! The Containers plan end to end against one private moto server: `rampart
//! scan --connector` provisions the EKS audit-log pipeline of the account's
//! cluster (CloudWatch Logs → Firehose → S3 → SQS); audit events written to
//! the cluster's log group come out of `rampart detect --once` as alerts
//! whose evidence ids are the events' `auditID`s; sending the same events
//! again doubles nothing; `detect` killed with SIGKILL mid-drain and run
//! again stores every alert once; a malformed object is a recorded error;
//! `rampart serve` and `rampart detect` without `--once` keep draining; `rampart
//! containers provision --remove` tears the pipeline down.
//!
//! The expected alerts come from running rampart-detect in process over the
//! same fixtures (the rule fixtures of crates/detect), so this test checks
//! the wiring (delivery, parsing, storing, idempotency), not the rules.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_detect::{Engine, EngineConfig, EventContext, Ruleset, parse_audit_message};
use rampart_testkit::{Moto, describe, rampart_command, stdout_json, workspace_root};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const CLUSTER: &str = "prod";

/// The detection fixtures sent through the pipeline: malicious and benign
/// look-alikes of three rules.
const RULES: &[&str] = &[
    "exec-into-container",
    "mining-image",
    "cluster-admin-binding",
];

/// Fixtures sent one message per event while `detect` is killed.
const CRASH_RULES: &[&str] = &[
    "dangerous-capabilities",
    "cronjob-created",
    "ephemeral-container",
    "port-forward",
    "kube-system-workload",
    "wildcard-role",
];

struct Env {
    dir: tempfile::TempDir,
    moto: Moto,
}

impl Env {
    fn db(&self) -> PathBuf {
        self.dir.path().join("rampart.db")
    }

    /// `rampart <args> --db <db>`.
    fn run(&self, args: &[&str]) -> Output {
        rampart_command(BIN)
            .env_remove("RAMPART_KEYS_DIR")
            .args(args)
            .arg("--db")
            .arg(self.db())
            .output()
            .unwrap()
    }

    /// `rampart <args> --db <db> --endpoint-url <moto>`.
    fn aws(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        let url = self.moto.url();
        all.extend(["--endpoint-url", url.as_str()]);
        self.run(&all)
    }

    fn ok(&self, out: Output) -> Output {
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        out
    }

    fn seed(&self, args: &[&str]) {
        self.moto.seed("seed-eks-audit.py", args);
    }
}

/// The Containers plan's `audit-log pipeline` check of `connector status`.
fn pipeline_health(env: &Env) -> Value {
    let out = env.aws(&["connector", "status", "prod", "--format", "json"]);
    let health = stdout_json(&out);
    health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["plan"] == "containers" && c["requirement"] == "audit-log pipeline")
        .cloned()
        .ok_or_else(|| format!("no audit-log pipeline check in {health:#}"))
        .unwrap()
}

/// The fixture files of `RULES`: (file, malicious?).
fn fixtures() -> Vec<(PathBuf, bool)> {
    let mut files = Vec::new();
    for rule in RULES {
        for (kind, malicious) in [("malicious", true), ("benign", false)] {
            files.extend(fixtures_of(rule, kind).into_iter().map(|f| (f, malicious)));
        }
    }
    files
}

/// The fixture files of one rule and kind.
fn fixtures_of(rule: &str, kind: &str) -> Vec<PathBuf> {
    let dir = workspace_root()
        .join("crates/detect/fixtures/k8s")
        .join(rule)
        .join(kind);
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    found
}

/// One compact JSON line per audit event (a fixture file holds one event or
/// an array of them).
fn audit_lines(file: &Path) -> Vec<String> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    match value {
        Value::Array(events) => events.iter().map(Value::to_string).collect(),
        event => vec![event.to_string()],
    }
}

/// Alerts as (type, evidence event ids).
type AlertKey = (String, BTreeSet<String>);

/// What rampart-detect raises over `lines` in one batch.
fn expected(lines: &[String]) -> BTreeSet<AlertKey> {
    let context = Arc::new(EventContext::eks_cluster(ACCOUNT, REGION, CLUSTER));
    let mut engine = Engine::new(
        Arc::new(Ruleset::builtin().unwrap()),
        EngineConfig::default(),
    );
    let events: Vec<_> = lines
        .iter()
        .map(|l| parse_audit_message(l, &context).unwrap())
        .collect();
    engine.process(events);
    engine
        .alerts()
        .map(|a| {
            (
                a.alert_type.clone(),
                a.evidence.iter().map(|e| e.event_id.clone()).collect(),
            )
        })
        .collect()
}

/// `rampart alerts --format json`, checked against the contract's shape:
/// (type, evidence ids) → count.
fn stored_alerts(env: &Env) -> BTreeMap<AlertKey, u64> {
    let json = stdout_json(&env.ok(env.run(&["alerts", "--format", "json"])));
    assert_eq!(json["schema"], "rampart.alerts/v1");
    let alerts = json["alerts"].as_array().unwrap();
    let mut out = BTreeMap::new();
    for a in alerts {
        assert_eq!(a["account"], ACCOUNT);
        assert_eq!(a["region"], REGION);
        assert_eq!(a["plan"], "containers");
        assert_eq!(a["source"], "eks-audit");
        let ids: BTreeSet<String> = a["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_owned())
            .collect();
        let key = (a["alert_type"].as_str().unwrap().to_owned(), ids);
        assert!(
            out.insert(key, a["count"].as_u64().unwrap()).is_none(),
            "one alert twice: {a}"
        );
    }
    out
}

/// Sends `rule`'s malicious fixtures to the log group and waits until a
/// running `serve` or `detect` stored alerts beyond `before` whose evidence
/// is those events; the alerts then.
fn send_and_wait(
    env: &Env,
    log_group: &str,
    rule: &str,
    before: &BTreeMap<AlertKey, u64>,
) -> BTreeMap<AlertKey, u64> {
    let lines: Vec<String> = fixtures_of(rule, "malicious")
        .iter()
        .flat_map(|f| audit_lines(f))
        .collect();
    let file = env.dir.path().join(format!("{rule}.jsonl"));
    std::fs::write(&file, lines.join("\n")).unwrap();
    env.seed(&[
        "events",
        log_group,
        "kube-apiserver-audit-1",
        file.to_str().unwrap(),
    ]);
    let ids: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["auditID"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let now = stored_alerts(env);
        let new: BTreeSet<String> = now
            .keys()
            .filter(|k| !before.contains_key(*k))
            .flat_map(|(_, ids)| ids.iter().cloned())
            .collect();
        if !new.is_empty() {
            assert!(new.is_subset(&ids), "{new:?} vs {ids:?}");
            return now;
        }
        assert!(Instant::now() < deadline, "no alert for {rule} in 90 s");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Sends `signal` to `child` and checks it exits 0 within 30 s.
fn stop(mut child: std::process::Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit 30 s after {signal}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{signal}: {status:?}");
}

fn detect_once(env: &Env) -> (Option<i32>, Value) {
    let out = env.aws(&[
        "detect",
        "--connector",
        "prod",
        "--once",
        "--wait",
        "1",
        "--format",
        "json",
    ]);
    let code = out.status.code();
    (code, stdout_json(&out))
}

#[test]
fn containers_plan_end_to_end() {
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
        moto: Moto::start(),
    };
    env.ok(env.run(&[
        "issuer",
        "init",
        "--issuer-url",
        "https://id.example.test/rampart",
    ]));
    env.seed(&["cluster", CLUSTER]);
    env.ok(env.run(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
        "--plans",
        "cspm,containers",
        "--regions",
        REGION,
    ]));

    // Before the scan: a dry run plans to create the whole pipeline.
    let planned = stdout_json(&env.ok(env.aws(&[
        "containers",
        "provision",
        "--connector",
        "prod",
        "--dry-run",
        "--format",
        "json",
    ])));
    let cluster = &planned["clusters"][0];
    assert_eq!(
        planned["clusters"].as_array().unwrap().len(),
        1,
        "{planned}"
    );
    assert_eq!(cluster["cluster"], CLUSTER);
    let steps = cluster["plan"]["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["action"] == "create"), "{planned}");
    let bucket = cluster["plan"]["names"]["bucket"]
        .as_str()
        .unwrap()
        .to_owned();
    let log_group = cluster["plan"]["names"]["log_group"]
        .as_str()
        .unwrap()
        .to_owned();

    // The same plan as a table (what a user reads before applying).
    let table = env.ok(env.aws(&[
        "containers",
        "provision",
        "--connector",
        "prod",
        "--dry-run",
    ]));
    insta::assert_snapshot!("dry_run_table", String::from_utf8_lossy(&table.stdout));

    // `connector status` says the pipeline is missing, with the fix.
    let pipeline = pipeline_health(&env);
    assert_eq!(pipeline["state"], "not_met", "{pipeline}");
    let fix = pipeline["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!("{REGION}/{CLUSTER}: "))
            && fix.contains("rampart containers provision --connector prod"),
        "{pipeline}"
    );

    // The scan provisions it (the Containers plan is on, auto-provisioning
    // by default): a dry run afterwards has nothing to do.
    env.ok(env.aws(&[
        "scan",
        "--connector",
        "prod",
        "--services",
        "s3",
        "--no-progress",
    ]));
    let converged = stdout_json(&env.ok(env.aws(&[
        "containers",
        "provision",
        "--connector",
        "prod",
        "--dry-run",
        "--format",
        "json",
    ])));
    for step in converged["clusters"][0]["plan"]["steps"]
        .as_array()
        .unwrap()
    {
        assert_eq!(step["action"], "none", "{converged}");
        assert!(step.get("error").is_none(), "{converged}");
    }
    // ... and `connector status` finds it provisioned, its dead-letter queue empty.
    let pipeline = pipeline_health(&env);
    assert_eq!(pipeline["state"], "met", "{pipeline}");
    assert_eq!(
        pipeline["detail"],
        format!("provisioned: {REGION}/{CLUSTER}"),
        "{pipeline}"
    );
    // Provisioning explicitly again changes nothing.
    let applied = stdout_json(&env.ok(env.aws(&[
        "containers",
        "provision",
        "--connector",
        "prod",
        "--format",
        "json",
    ])));
    for step in applied["clusters"][0]["report"]["steps"]
        .as_array()
        .unwrap()
    {
        assert_eq!(step["outcome"]["result"], "unchanged", "{applied}");
    }

    // Audit events into the cluster's log group.
    let mut lines = Vec::new();
    let mut malicious_ids = BTreeSet::new();
    for (file, malicious) in fixtures() {
        for line in audit_lines(&file) {
            if malicious {
                let v: Value = serde_json::from_str(&line).unwrap();
                malicious_ids.insert(v["auditID"].as_str().unwrap().to_owned());
            }
            lines.push(line);
        }
    }
    let events_file = env.dir.path().join("events.jsonl");
    std::fs::write(&events_file, lines.join("\n")).unwrap();
    let events_path = events_file.to_str().unwrap();
    env.seed(&["events", &log_group, "kube-apiserver-audit-1", events_path]);

    let want = expected(&lines);
    assert!(want.len() >= RULES.len(), "{want:?}");
    let types: BTreeSet<&str> = want.iter().map(|(t, _)| t.as_str()).collect();
    assert!(types.contains("K8S.ExecIntoContainer"), "{types:?}");
    // Every piece of evidence is a malicious fixture's auditID.
    for (_, ids) in &want {
        assert!(
            ids.is_subset(&malicious_ids),
            "{ids:?} vs {malicious_ids:?}"
        );
    }

    let (code, report) = detect_once(&env);
    assert_eq!(code, Some(0), "{report}");
    let stats = &report["clusters"][0];
    assert_eq!(stats["cluster"], CLUSTER);
    assert_eq!(stats["events_processed"], lines.len(), "{report}");
    assert_eq!(stats["events_new"], lines.len(), "{report}");
    assert_eq!(stats["alerts_new"], want.len(), "{report}");
    assert_eq!(stats["dead_letter_depth"], 0, "{report}");
    assert!(stats["last_event"].is_string(), "{report}");
    let stored = stored_alerts(&env);
    assert_eq!(stored.keys().cloned().collect::<BTreeSet<_>>(), want);
    let counts: Vec<u64> = stored.values().copied().collect();

    // The same events again: processed, nothing new, nothing doubled.
    env.seed(&["events", &log_group, "kube-apiserver-audit-1", events_path]);
    let (code, report) = detect_once(&env);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["clusters"][0]["events_processed"], lines.len());
    assert_eq!(report["clusters"][0]["events_new"], 0, "{report}");
    assert_eq!(report["clusters"][0]["alerts_new"], 0, "{report}");
    assert_eq!(report["clusters"][0]["alerts_updated"], 0, "{report}");
    let again = stored_alerts(&env);
    assert_eq!(again.keys().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(again.values().copied().collect::<Vec<_>>(), counts);

    // kill -9 during drains of one message per event, at several moments,
    // then a complete drain: every alert once, each event counted once.
    let mut all = lines.clone();
    let mut crash_lines = Vec::new();
    for rule in CRASH_RULES {
        for file in fixtures_of(rule, "malicious") {
            crash_lines.extend(audit_lines(&file));
        }
    }
    all.extend(crash_lines.iter().cloned());
    let crash_file = env.dir.path().join("crash.jsonl");
    std::fs::write(&crash_file, crash_lines.join("\n")).unwrap();
    env.seed(&[
        "events",
        &log_group,
        "kube-apiserver-audit-1",
        crash_file.to_str().unwrap(),
        "--each",
    ]);
    let url = env.moto.url();
    for delay_ms in [300, 700, 1100, 1500] {
        let mut child = rampart_command(BIN)
            .env_remove("RAMPART_KEYS_DIR")
            .args(["detect", "--connector", "prod", "--once", "--wait", "1"])
            .args(["--visibility-timeout", "2", "--endpoint-url", &url])
            .arg("--db")
            .arg(env.db())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    std::thread::sleep(Duration::from_secs(3));
    let (code, report) = detect_once(&env);
    assert_eq!(code, Some(0), "{report}");
    let want_all = expected(&all);
    let after_crash = stored_alerts(&env);
    assert_eq!(
        after_crash.keys().cloned().collect::<BTreeSet<_>>(),
        want_all
    );
    for ((alert_type, ids), count) in &after_crash {
        assert_eq!(
            *count,
            ids.len() as u64,
            "{alert_type}: an event counted twice"
        );
    }
    let again = after_crash;

    // A malformed object: an error of that object, the command does not
    // crash (exit 1, the report says which object), alerts unchanged.
    let key = "eks-audit/2026/12/06/06/broken.gz";
    env.seed(&["object", &bucket, key, "this is not gzip"]);
    let (code, report) = detect_once(&env);
    assert_eq!(code, Some(1), "{report}");
    let errors = report["clusters"][0]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(errors[0].as_str().unwrap().contains(key), "{report}");
    assert_eq!(stored_alerts(&env), again);

    // `rampart detect` without `--once` keeps polling until Ctrl-C.
    let detecting = rampart_command(BIN)
        .env_remove("RAMPART_KEYS_DIR")
        .args([
            "detect",
            "--connector",
            "prod",
            "--wait",
            "1",
            "--format",
            "json",
        ])
        .arg("--db")
        .arg(env.db())
        .args(["--endpoint-url", &env.moto.url()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let detected = send_and_wait(&env, &log_group, "node-proxy", &again);
    for (key, count) in &again {
        assert_eq!(detected.get(key), Some(count), "{key:?}");
    }
    stop(detecting, "-INT");
    // A long poll cut short stays open at the queue for its wait (1 s
    // here) and may still take a message: let it run out.
    std::thread::sleep(Duration::from_secs(2));
    let again = detected;

    // `rampart serve` drains the pipelines continuously: new events become
    // alerts while it runs; it stops on SIGTERM.
    let mut serve = rampart_command(BIN)
        .env_remove("RAMPART_KEYS_DIR")
        .args(["serve", "--listen", "127.0.0.1:0", "--no-scheduled-scans"])
        .arg("--db")
        .arg(env.db())
        .args(["--endpoint-url", &env.moto.url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("Rampart listening on"), "{line:?}");
    let served = send_and_wait(&env, &log_group, "host-network-pod", &again);

    // The alerts stored before are kept as they were.
    for (key, count) in &again {
        assert_eq!(served.get(key), Some(count), "{key:?}");
    }
    stop(serve, "-TERM");

    // The table form of `detect` and `containers provision`.
    let table = env.ok(env.aws(&["detect", "--connector", "prod", "--once", "--wait", "0"]));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("CLUSTER") && text.contains(CLUSTER), "{text}");

    // Removal tears the pipeline down; a dry run then plans it anew.
    let removed = stdout_json(&env.ok(env.aws(&[
        "containers",
        "provision",
        "--connector",
        "prod",
        "--remove",
        "--format",
        "json",
    ])));
    let done = removed["clusters"][0]["report"]["steps"]
        .as_array()
        .unwrap();
    assert!(
        done.iter().any(|s| s["outcome"]["result"] == "done"),
        "{removed}"
    );
    let replanned = stdout_json(&env.ok(env.aws(&[
        "containers",
        "provision",
        "--connector",
        "prod",
        "--dry-run",
        "--format",
        "json",
    ])));
    let steps = replanned["clusters"][0]["plan"]["steps"]
        .as_array()
        .unwrap();
    assert!(steps.iter().any(|s| s["action"] == "create"), "{replanned}");

    // A connector without a log source (no Containers plan, no CloudTrail
    // or SQL threat detection) is a usage error.
    env.ok(env.run(&[
        "connector",
        "create",
        "--name",
        "cspm-only",
        "--account",
        "210987654321",
    ]));
    let out = env.aws(&["detect", "--connector", "cspm-only", "--once"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no log source"),
        "{}",
        describe(&out)
    );
}
