//! CloudTrail threat detection end to end against one private moto server:
//! a trail logging to a bucket, gzipped log objects (several gzip members,
//! malicious records mixed with benign look-alikes and AWS-service noise,
//! an organization-trail path, a region the connector does not cover, a
//! digest file, an unreadable object) → `rampart detect --connector prod
//! --once` → exactly the alerts the rules raise over the records read,
//! with `source: "cloudtrail"` and the records' `eventID`s as evidence.
//! Running again doubles nothing; the listing cursor advances; the
//! unreadable object is an error each time until it is given up on. Then
//! notification mode: `rampart cloudtrail provision` merges Rampart's
//! notification into the bucket's configuration (a foreign one stays),
//! idempotently; new objects arrive through the queue; `--remove` takes
//! only Rampart's part out.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

use rampart_detect::{Engine, EngineConfig, Event, EventContext, Ruleset};
use rampart_testkit::cloudtrail::{ACCOUNT, Actor, log_key, record};
use rampart_testkit::{Moto, describe, rampart_command, stdout_json};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const REGION: &str = "us-east-1";
const BUCKET: &str = "corp-trail-logs";
const ORG: &str = "o-abc123def4";
const MALLORY: Actor<'static> = Actor::Role("mallory");
const ROOT_IP: &str = "198.51.100.23";
const DEV_IP: &str = "203.0.113.7";

struct Env {
    dir: tempfile::TempDir,
    moto: Moto,
}

impl Env {
    fn db(&self) -> PathBuf {
        self.dir.path().join("rampart.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        rampart_command(BIN)
            .env_remove("RAMPART_KEYS_DIR")
            .args(args)
            .arg("--db")
            .arg(self.db())
            .output()
            .unwrap()
    }

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

    fn seed(&self, args: &[&str]) -> Output {
        self.moto.seed("seed-cloudtrail.py", args)
    }

    /// Puts a log object whose gzip members hold these records.
    fn put_log(&self, key: &str, members: &[Vec<Value>]) {
        let file = self.dir.path().join("members.json");
        std::fs::write(&file, serde_json::to_string(members).unwrap()).unwrap();
        self.seed(&["logs", BUCKET, key, file.to_str().unwrap()]);
    }

    fn notification(&self) -> Value {
        let out = self.seed(&["notification", BUCKET]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn detect(&self) -> (Option<i32>, Value) {
        let out = self.aws(&[
            "detect",
            "--connector",
            "prod",
            "--once",
            "--wait",
            "1",
            "--format",
            "json",
        ]);
        (out.status.code(), stdout_json(&out))
    }

    fn provision(&self, flags: &[&str]) -> Value {
        let mut args = vec!["cloudtrail", "provision", "--connector", "prod"];
        args.extend(flags);
        args.extend(["--format", "json"]);
        stdout_json(&self.ok(self.aws(&args)))
    }
}

/// An alert as the test compares it: type, entities, evidence ids.
type AlertKey = (String, BTreeSet<String>, BTreeSet<String>);

fn key(alert_type: &str, entities: &[(&str, &str)], ids: &[&str]) -> AlertKey {
    (
        alert_type.to_owned(),
        entities.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        ids.iter().map(|i| (*i).to_owned()).collect(),
    )
}

/// What rampart-detect raises over `records` (of this account and region).
fn expected(records: &[Value]) -> BTreeSet<AlertKey> {
    let context = Arc::new(EventContext::cloudtrail(ACCOUNT, REGION));
    let mut engine = Engine::new(
        Arc::new(Ruleset::builtin().unwrap()),
        EngineConfig::default(),
    );
    let events: Vec<Event> = records
        .iter()
        .map(|r| Event::from_cloudtrail_record(r.clone(), Arc::clone(&context)).unwrap())
        .collect();
    engine.process(events);
    engine
        .alerts()
        .map(|a| {
            (
                a.alert_type.clone(),
                a.entities
                    .iter()
                    .map(|e| format!("{}={}", e.kind, e.value))
                    .collect(),
                a.evidence.iter().map(|e| e.event_id.clone()).collect(),
            )
        })
        .collect()
}

/// `rampart alerts --format json`, checked against the contract's shape:
/// alert → count.
fn stored_alerts(env: &Env) -> BTreeMap<AlertKey, u64> {
    let json = stdout_json(&env.ok(env.run(&["alerts", "--format", "json"])));
    assert_eq!(json["schema"], "rampart.alerts/v1");
    let mut out = BTreeMap::new();
    for a in json["alerts"].as_array().unwrap() {
        assert_eq!(a["source"], "cloudtrail", "{a}");
        assert_eq!(a["plan"], "servers", "{a}");
        assert_eq!(a["account"], ACCOUNT, "{a}");
        assert_eq!(a["region"], REGION, "{a}");
        assert_eq!(a["resource"]["arn"], format!("arn:aws:iam::{ACCOUNT}:root"));
        for e in a["evidence"].as_array().unwrap() {
            assert_eq!(e["source"], "cloudtrail", "{a}");
        }
        let entities = a["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{}={}",
                    e["kind"].as_str().unwrap(),
                    e["value"].as_str().unwrap()
                )
            })
            .collect();
        let ids = a["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_owned())
            .collect();
        let k = (a["alert_type"].as_str().unwrap().to_owned(), entities, ids);
        assert!(
            out.insert(k, a["count"].as_u64().unwrap()).is_none(),
            "one alert twice: {a}"
        );
    }
    out
}

fn time(minute: u32) -> String {
    format!("2026-03-10T10:{minute:02}:00Z")
}

fn stop_logging(id: &str, actor: Actor<'_>, minute: u32) -> Value {
    record(
        id,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        actor,
        DEV_IP,
        &time(minute),
        json!({"requestParameters": {"name": "main"}}),
    )
}

fn sources_by_location(report: &Value) -> BTreeMap<String, Value> {
    report["cloudtrail"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["location"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

#[test]
fn cloudtrail_detection_end_to_end() {
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
    env.seed(&["trail", "main", BUCKET]);
    env.ok(env.run(&[
        "connector",
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
        "--plans",
        "cspm,servers",
        "--regions",
        REGION,
    ]));

    // Records: malicious (m*) and benign look-alikes (b*), the rules not
    // told which is which.
    let m1 = stop_logging("m1-stop-logging", MALLORY, 1);
    let b1 = record(
        "b1-start-logging",
        "cloudtrail.amazonaws.com",
        "StartLogging",
        MALLORY,
        DEV_IP,
        &time(2),
        json!({"requestParameters": {"name": "main"}}),
    );
    let m2 = record(
        "m2-root-access-key",
        "iam.amazonaws.com",
        "CreateAccessKey",
        Actor::Root,
        ROOT_IP,
        &time(3),
        json!({}),
    );
    // Noise from AWS services: root's identity on events AWS made.
    let b2 = record(
        "b2-service-event",
        "ec2.amazonaws.com",
        "SharedSnapshotVolumeCreated",
        Actor::Root,
        "ec2.amazonaws.com",
        &time(4),
        json!({"eventType": "AwsServiceEvent"}),
    );
    let m3 = record(
        "m3-drop-management-events",
        "cloudtrail.amazonaws.com",
        "PutEventSelectors",
        MALLORY,
        DEV_IP,
        &time(5),
        json!({"requestParameters": {"trailName": "main",
            "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": false}]}}),
    );
    let b3 = record(
        "b3-stop-logging-denied",
        "cloudtrail.amazonaws.com",
        "StopLogging",
        MALLORY,
        DEV_IP,
        &time(6),
        json!({"errorCode": "AccessDenied", "errorMessage": "denied"}),
    );
    let b4 = record(
        "b4-invoked-by-service",
        "s3.amazonaws.com",
        "ListBuckets",
        Actor::RootViaService("s3.amazonaws.com"),
        "s3.amazonaws.com",
        &time(7),
        json!({}),
    );
    let m4 = record(
        "m4-root-console-login",
        "signin.amazonaws.com",
        "ConsoleLogin",
        Actor::Root,
        ROOT_IP,
        &time(8),
        json!({"eventType": "AwsConsoleSignIn", "responseElements": {"ConsoleLogin": "Success"}}),
    );
    let b5 = record(
        "b5-describe-trails",
        "cloudtrail.amazonaws.com",
        "DescribeTrails",
        MALLORY,
        DEV_IP,
        &time(9),
        json!({"readOnly": true}),
    );
    // In a region the connector does not cover: not read.
    let m_other_region = stop_logging("mx-other-region", Actor::Role("eve"), 10);

    let key_a = log_key(None, None, REGION, "1005", "aaaa0001");
    let key_b = log_key(None, None, REGION, "1010", "bbbb0002");
    let key_org = log_key(None, Some(ORG), REGION, "1010", "cccc0003");
    let key_bad = log_key(None, None, REGION, "1007", "dddd0004");
    let key_eu = log_key(None, None, "eu-west-1", "1010", "eeee0005");
    env.put_log(
        &key_a,
        &[vec![m1.clone(), b1.clone()], vec![m2.clone(), b2.clone()]],
    );
    env.put_log(&key_b, &[vec![m3.clone(), b3.clone(), b4.clone()]]);
    env.put_log(&key_org, &[vec![m4.clone(), b5.clone()]]);
    env.put_log(&key_eu, &[vec![m_other_region]]);
    env.seed(&["raw", BUCKET, &key_bad, "not gzip: a truncated upload"]);
    env.seed(&[
        "raw",
        BUCKET,
        &format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/03/10/digest.json.gz"),
        "{}",
    ]);

    let read = [&m1, &b1, &m2, &b2, &m3, &b3, &b4, &m4, &b5].map(Value::clone);
    let want = expected(&read);
    // The two built-in CloudTrail rules' alerts are among them, exactly so;
    // no benign record is evidence of any alert.
    let mallory = MALLORY.arn();
    let root = Actor::Root.arn();
    // The session and the role behind it are both entities.
    let developer = format!("arn:aws:iam::{ACCOUNT}:role/developer");
    assert!(
        want.contains(&key(
            "AWS.CloudTrailLoggingStopped",
            &[
                ("aws-principal", &developer),
                ("aws-principal", &mallory),
                ("ip", DEV_IP),
            ],
            &["m1-stop-logging", "m3-drop-management-events"],
        )),
        "{want:?}"
    );
    assert!(
        want.contains(&key(
            "AWS.RootAccountUsage",
            &[("aws-principal", &root), ("ip", ROOT_IP)],
            &["m2-root-access-key", "m4-root-console-login"],
        )),
        "{want:?}"
    );
    for (alert_type, _, ids) in &want {
        if alert_type == "AWS.CloudTrailLoggingStopped" || alert_type == "AWS.RootAccountUsage" {
            assert!(ids.iter().all(|i| i.starts_with('m')), "{want:?}");
        }
    }

    // Listing mode (the default): the unreadable object is an error, the rest is read.
    let (code, report) = env.detect();
    assert_eq!(code, Some(1), "{report:#}");
    let trail = &report["cloudtrail"];
    assert_eq!(trail["mode"], "listing", "{report:#}");
    assert_eq!(trail["trails"][0]["name"], "main", "{report:#}");
    let sources = sources_by_location(&report);
    let own = format!("s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/");
    let org = format!("s3://{BUCKET}/AWSLogs/{ORG}/{ACCOUNT}/CloudTrail/{REGION}/");
    assert_eq!(
        sources.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([own.clone(), org.clone()]),
        "{report:#}"
    );
    assert_eq!(sources[&own]["objects"], 2, "{report:#}");
    assert_eq!(sources[&own]["events_processed"], 7, "{report:#}");
    assert_eq!(sources[&org]["objects"], 1, "{report:#}");
    let errors = sources[&own]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    let error = errors[0].as_str().unwrap();
    assert!(
        error.contains(&key_bad) && error.contains("bad gzip") && error.contains("attempt 1 of 5"),
        "{error}"
    );
    // The cursor stays before the unreadable object; the org path's moves.
    assert_eq!(sources[&own]["cursor"], key_a, "{report:#}");
    assert_eq!(sources[&org]["cursor"], key_org, "{report:#}");
    let stored = stored_alerts(&env);
    assert_eq!(stored.keys().cloned().collect::<BTreeSet<_>>(), want);
    let counts: Vec<u64> = stored.values().copied().collect();
    for (alert, count) in &stored {
        assert_eq!(*count, alert.2.len() as u64, "{stored:?}");
    }

    // Again: the objects after the cursor are read again, nothing doubles.
    let (code, report) = env.detect();
    assert_eq!(code, Some(1), "{report:#}");
    let sources = sources_by_location(&report);
    assert_eq!(sources[&own]["events_new"], 0, "{report:#}");
    assert_eq!(sources[&own]["alerts_new"], 0, "{report:#}");
    assert_eq!(sources[&own]["alerts_updated"], 0, "{report:#}");
    assert!(
        sources[&own]["errors"][0]
            .as_str()
            .unwrap()
            .contains("attempt 2 of 5")
    );
    let again = stored_alerts(&env);
    assert_eq!(again.keys().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(again.values().copied().collect::<Vec<_>>(), counts);

    // A new object: one more alert; still no doubles.
    let m5 = stop_logging("m5-stop-logging", Actor::Role("eve"), 20);
    let key_c = log_key(None, None, REGION, "1020", "ffff0006");
    env.put_log(&key_c, &[vec![m5.clone(), m1.clone()]]);
    let (_, report) = env.detect();
    let sources = sources_by_location(&report);
    assert_eq!(sources[&own]["events_new"], 1, "{report:#}");
    assert_eq!(sources[&own]["alerts_new"], 1, "{report:#}");
    let eve_alert = key(
        "AWS.CloudTrailLoggingStopped",
        &[
            ("aws-principal", &developer),
            ("aws-principal", &Actor::Role("eve").arn()),
            ("ip", DEV_IP),
        ],
        &["m5-stop-logging"],
    );
    let mut all: Vec<Value> = read.to_vec();
    all.push(m5.clone());
    let want = expected(&all);
    assert!(want.contains(&eve_alert), "{want:?}");
    assert_eq!(
        stored_alerts(&env).keys().cloned().collect::<BTreeSet<_>>(),
        want
    );

    // The unreadable object is given up on at its fifth attempt; the cursor
    // then passes it, and detection is clean again.
    let (_, report) = env.detect();
    assert!(
        sources_by_location(&report)[&own]["errors"][0]
            .as_str()
            .unwrap()
            .contains("attempt 4 of 5")
    );
    let (code, report) = env.detect();
    assert_eq!(code, Some(1), "{report:#}");
    let sources = sources_by_location(&report);
    assert!(
        sources[&own]["errors"][0]
            .as_str()
            .unwrap()
            .contains("attempt 5 of 5: given up on")
    );
    assert_eq!(sources[&own]["dead_letter_depth"], 1, "{report:#}");
    assert_eq!(sources[&own]["cursor"], key_c, "{report:#}");
    let (code, report) = env.detect();
    assert_eq!(code, Some(0), "{report:#}");
    let sources = sources_by_location(&report);
    assert_eq!(sources[&own]["cursor"], key_c, "{report:#}");
    assert_eq!(sources[&own]["dead_letter_depth"], 1, "{report:#}");
    let counts_before_notification = stored_alerts(&env);
    assert_eq!(
        counts_before_notification
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        want
    );

    // Notification mode. Someone else's notification is on the bucket already.
    env.seed(&["foreign-notification", BUCKET, "audit-exports", "exports/"]);
    env.ok(env.run(&[
        "connector",
        "update",
        "prod",
        "--cloudtrail",
        "notification",
    ]));
    let (code, report) = env.detect();
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["cloudtrail"]["sources"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("rampart cloudtrail provision --connector prod"),
        "{report:#}"
    );
    let planned = env.provision(&["--dry-run"]);
    let steps = planned["destinations"][0]["plan"]["steps"]
        .as_array()
        .unwrap();
    let actions: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| {
            (
                s["resource"].as_str().unwrap(),
                s["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("dead-letter-queue", "create"),
            ("queue", "create"),
            ("bucket-notification", "update")
        ],
        "{planned:#}"
    );
    let queue = planned["destinations"][0]["plan"]["names"]["queue"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(queue.starts_with("rampart-cloudtrail-"), "{queue}");
    assert!(
        env.notification()["QueueConfigurations"]
            .as_array()
            .unwrap()
            .len()
            == 1
    );
    let applied = env.provision(&[]);
    for s in applied["destinations"][0]["report"]["steps"]
        .as_array()
        .unwrap()
    {
        assert_eq!(s["outcome"]["result"], "done", "{applied:#}");
    }
    let notification = env.notification();
    let ids: BTreeSet<&str> = notification["QueueConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["Id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["someone-else", "rampart-cloudtrail"]),
        "{notification:#}"
    );
    // Idempotent: provisioning again changes nothing.
    let again = env.provision(&[]);
    for s in again["destinations"][0]["report"]["steps"]
        .as_array()
        .unwrap()
    {
        assert_eq!(s["outcome"]["result"], "unchanged", "{again:#}");
    }

    // New objects come through the queue.
    let m6 = stop_logging("m6-stop-logging", Actor::Role("trudy"), 30);
    env.put_log(
        &log_key(None, None, REGION, "1030", "gggg0007"),
        &[vec![m6.clone(), m3.clone()]],
    );
    env.seed(&[
        "raw",
        BUCKET,
        &format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/03/10/digest2.json.gz"),
        "{}",
    ]);
    let bad_key = log_key(None, None, REGION, "1031", "hhhh0008");
    env.seed(&["raw", BUCKET, &bad_key, "garbage"]);
    let (code, report) = env.detect();
    assert_eq!(code, Some(1), "{report:#}");
    let source = &report["cloudtrail"]["sources"][0];
    assert_eq!(source["location"], queue.as_str(), "{report:#}");
    assert_eq!(source["objects"], 1, "{report:#}");
    assert_eq!(source["events_new"], 1, "{report:#}");
    assert_eq!(source["alerts_new"], 1, "{report:#}");
    let errors = source["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert!(errors[0].as_str().unwrap().contains(&bad_key), "{report:#}");
    all.push(m6);
    let want = expected(&all);
    assert_eq!(
        stored_alerts(&env).keys().cloned().collect::<BTreeSet<_>>(),
        want
    );

    // Removal takes Rampart's notification and queues out, nothing else.
    let removed = env.provision(&["--remove"]);
    let results: Vec<(&str, &str)> = removed["destinations"][0]["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["resource"].as_str().unwrap(),
                s["outcome"]["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("bucket-notification", "done"),
            ("queue", "done"),
            ("dead-letter-queue", "done")
        ],
        "{removed:#}"
    );
    let notification = env.notification();
    let ids: Vec<&str> = notification["QueueConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["someone-else"], "{notification:#}");
    let planned = env.provision(&["--dry-run"]);
    assert_eq!(
        planned["destinations"][0]["plan"]["steps"][0]["action"],
        "create"
    );
}
