//! Recommendations, secure score, compliance, exemptions, exports and CI
//! gating, end to end on the demo account in moto.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};

use rampart_testkit::estate::{self, ACCOUNT_A, ACCOUNT_B, CONNECTOR_A};
use rampart_testkit::{Moto, describe, rampart, stdout_json};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

#[test]
fn demo_account_posture_end_to_end() {
    let moto = Moto::start();
    moto.seed_demo();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db").display().to_string();
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
    let summary = String::from_utf8_lossy(&scan.stdout);
    assert!(summary.contains("Secure score: "), "{summary}");

    // The native export follows the contract.
    let json_path = dir.path().join("findings.json");
    let out = rampart(
        BIN,
        &[
            "findings",
            "--db",
            &db,
            "--format",
            "json",
            "--output",
            json_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let findings: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(findings["schema"], "rampart.assessments/v1");
    for key in ["id", "started_at", "finished_at", "accounts", "regions"] {
        assert!(findings["scan"].get(key).is_some(), "scan.{key}");
    }
    let percent = findings["secure_score"]["percent"].as_f64().unwrap();
    assert!(percent > 0.0 && percent < 100.0, "{percent}");
    let assessments = findings["assessments"].as_array().unwrap();
    assert!(assessments.len() > 100, "{}", assessments.len());
    for a in assessments {
        for key in [
            "recommendation",
            "title",
            "severity",
            "status",
            "resource",
            "resource_type",
            "resource_name",
            "account",
            "region",
            "reason",
            "security_control",
            "standards",
        ] {
            assert!(a.get(key).is_some(), "assessment lacks `{key}`: {a}");
        }
        let status = a["status"].as_str().unwrap();
        assert!(
            ["healthy", "unhealthy", "not_applicable", "error", "exempt"].contains(&status),
            "{status}"
        );
    }
    assert!(
        findings["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["service"] == "ssm")
    );
    // moto's unreadable S3 versioning is an error, never healthy.
    let versioning: Vec<&Value> = assessments
        .iter()
        .filter(|a| {
            a["resource_type"] == "AWS::S3::Bucket"
                && a["reason"].as_str().unwrap_or("").contains("`versioning")
        })
        .collect();
    assert!(
        !versioning.is_empty() && versioning.iter().all(|a| a["status"] == "error"),
        "{versioning:?}"
    );

    // CI gating: the demo has critical findings.
    let gate = rampart(
        BIN,
        &[
            "findings",
            "--db",
            &db,
            "--format",
            "csv",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(gate.status.code(), Some(4), "{}", describe(&gate));
    let csv = String::from_utf8_lossy(&gate.stdout);
    assert!(
        csv.lines().count() == assessments.len() + 1,
        "one row per assessment plus a header"
    );

    // Each export renders.
    for format in ["ocsf", "sarif", "html"] {
        let out = rampart(BIN, &["findings", "--db", &db, "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", describe(&out));
        assert!(!out.stdout.is_empty());
    }

    // Compliance: CIS 3.0.0 has failed and manual controls; an unknown standard is a usage error.
    let cis = stdout_json(&rampart(
        BIN,
        &["compliance", "cis-aws-3.0", "--db", &db, "--format", "json"],
    ));
    let states: BTreeSet<&str> = cis["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains("failed") && states.contains("manual"),
        "{states:?}"
    );
    let bad = rampart(BIN, &["compliance", "cis-aws-9", "--db", &db]);
    assert_eq!(bad.status.code(), Some(2), "{}", describe(&bad));

    // Exempting every unhealthy public-bucket finding raises the score, and they stay listed as exempt.
    let before = stdout_json(&rampart(BIN, &["score", "--db", &db, "--format", "json"]));
    let exemptions = dir.path().join("exemptions.yaml");
    std::fs::write(
        &exemptions,
        "exemptions:\n  - resource: \"arn:aws:s3:::demo-public-bucket\"\n    reason: public website, accepted\n",
    )
    .unwrap();
    let out = rampart(
        BIN,
        &[
            "evaluate",
            "--db",
            &db,
            "--exemptions",
            exemptions.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let after = stdout_json(&rampart(BIN, &["score", "--db", &db, "--format", "json"]));
    assert!(
        after["percent"].as_f64().unwrap() > before["percent"].as_f64().unwrap(),
        "{before} -> {after}"
    );
    let exempt = stdout_json(&rampart(
        BIN,
        &[
            "recommendations",
            "--db",
            &db,
            "--status",
            "exempt",
            "--format",
            "json",
        ],
    ));
    let exempt_resources: BTreeSet<&str> = exempt
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["assessments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["resource"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        exempt_resources,
        BTreeSet::from(["arn:aws:s3:::demo-public-bucket"])
    );

    // Severity filter.
    let high = stdout_json(&rampart(
        BIN,
        &[
            "recommendations",
            "--db",
            &db,
            "--severity",
            "high",
            "--format",
            "json",
        ],
    ));
    assert!(
        high.as_array()
            .unwrap()
            .iter()
            .all(|r| r["severity"] == "high" || r["severity"] == "critical")
    );

    // A bad exemptions file is one clear line and exit 2.
    std::fs::write(&exemptions, "exemptions:\n  - reason: everything\n").unwrap();
    let out = rampart(
        BIN,
        &[
            "evaluate",
            "--db",
            &db,
            "--exemptions",
            exemptions.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches everything"));
}

/// `score`, `compliance`, `findings` and `inventory` over a two-account
/// estate: `--account`, `--connector` and `--region` (combined too) narrow
/// each to its part, and a filter that names nothing known is exit 2.
#[test]
fn posture_commands_narrow_to_an_account_connector_or_region() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("estate.db");
    estate::seed_two_accounts(&mut rampart_store::Store::open(&path).unwrap());
    let db = path.display().to_string();
    let run = |args: &[&str]| {
        let out = rampart(BIN, &[args, &["--db", &db]].concat());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", describe(&out));
        out
    };
    let text = |args: &[&str]| String::from_utf8(run(args).stdout).unwrap();
    let json = |args: &[&str]| stdout_json(&run(&[args, &["--format", "json"]].concat()));
    let percent = |filter: &[&str]| {
        json(&[&["score"], filter].concat())["percent"]
            .as_f64()
            .unwrap()
    };

    // --account: A is mostly healthy, B is not; the estate is between.
    let all = percent(&[]);
    let a = percent(&["--account", ACCOUNT_A]);
    let b = percent(&["--account", ACCOUNT_B]);
    assert!(b < all && all < a, "{b} < {all} < {a}");
    // --connector: its accounts; --region: that region, alone or combined.
    assert_eq!(percent(&["--connector", CONNECTOR_A]), a);
    assert_eq!(
        percent(&["--connector", CONNECTOR_A, "--region", "us-east-1"]),
        100.0
    );
    let west = percent(&["--region", "eu-west-1"]);
    assert_eq!(
        west,
        percent(&["--account", ACCOUNT_A, "--region", "eu-west-1"])
    );
    assert!(west < a, "{west}");
    insta::assert_snapshot!("score_account_b", text(&["score", "--account", ACCOUNT_B]));

    // compliance: EC2.3 (EBS encryption) by the same filters.
    let ec2_3 = |filter: &[&str]| {
        let standard = json(&[&["compliance", "aws-fsbp"], filter].concat());
        let control = standard["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "EC2.3")
            .cloned()
            .unwrap();
        (control["state"].clone(), control["unhealthy"].clone())
    };
    assert_eq!(ec2_3(&[]), (Value::from("failed"), Value::from(3)));
    assert_eq!(
        ec2_3(&["--account", ACCOUNT_B]),
        (Value::from("failed"), Value::from(2))
    );
    assert_eq!(
        ec2_3(&["--connector", CONNECTOR_A, "--region", "us-east-1"]),
        (Value::from("passed"), Value::from(0))
    );
    let summary = text(&[
        "compliance",
        "--connector",
        CONNECTOR_A,
        "--region",
        "us-east-1",
    ]);
    assert!(
        summary.ends_with("only connector `prod-a`, region `us-east-1`\n"),
        "{summary}"
    );
    // The part's CSV export, as people read it.
    insta::assert_snapshot!(
        "findings_csv_account_b",
        text(&["findings", "--format", "csv", "--account", ACCOUNT_B])
    );

    // findings: the part whole — assessments, score and scan record.
    let export = |filter: &[&str]| json(&[&["findings"], filter].concat());
    // The whole export's scan record is the current state's: every account
    // its assessments come from, not only those the latest scan scanned.
    assert_eq!(
        export(&[])["scan"]["accounts"],
        serde_json::json!([ACCOUNT_A, ACCOUNT_B])
    );
    let west_findings = export(&["--region", "eu-west-1"]);
    let assessments = west_findings["assessments"].as_array().unwrap();
    assert!(!assessments.is_empty());
    assert!(
        assessments.iter().all(|x| x["region"] == "eu-west-1"),
        "{west_findings}"
    );
    assert_eq!(west_findings["secure_score"]["percent"], west);
    assert_eq!(
        west_findings["scan"]["regions"],
        serde_json::json!(["eu-west-1"])
    );
    assert_eq!(west_findings["scan"]["asset_count"], 1);
    let a_findings = export(&["--connector", CONNECTOR_A]);
    let accounts: BTreeSet<&str> = a_findings["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["account"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, BTreeSet::from([ACCOUNT_A]));
    assert_eq!(a_findings["secure_score"]["percent"], a);
    assert_eq!(a_findings["scan"]["asset_count"], 3);
    let whole = export(&[]);
    assert_eq!(
        whole["assessments"].as_array().unwrap().len(),
        a_findings["assessments"].as_array().unwrap().len()
            + export(&["--account", ACCOUNT_B])["assessments"]
                .as_array()
                .unwrap()
                .len()
    );
    // --fail-on gates on the part only.
    let gate = |filter: &[&str]| {
        let args = [
            &[
                "findings",
                "--db",
                &db,
                "--format",
                "csv",
                "--fail-on",
                "medium",
            ],
            filter,
        ]
        .concat();
        rampart(BIN, &args).status.code()
    };
    assert_eq!(gate(&["--account", ACCOUNT_B]), Some(4));
    assert_eq!(
        gate(&["--account", ACCOUNT_A, "--region", "us-east-1"]),
        Some(0)
    );

    // inventory takes the same flags.
    let assets = json(&[
        "inventory",
        "--connector",
        CONNECTOR_A,
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(assets.as_array().unwrap().len(), 1, "{assets}");
    assert_eq!(assets[0]["account"], ACCOUNT_A);

    // Unknown values are usage errors naming the closest known ones; A is
    // known though the latest scan only kept it.
    for (args, expected) in [
        (vec!["score", "--connector", "nope"], "no connector `nope`"),
        (
            vec!["compliance", "--account", "111111111112"],
            "unknown account `111111111112`; did you mean `111111111111`?",
        ),
        (
            vec!["findings", "--format", "json", "--region", "eu-west-2"],
            "unknown region `eu-west-2`; did you mean `eu-west-1`?",
        ),
    ] {
        let out = rampart(BIN, &[&args[..], &["--db", &db]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(stderr.contains(expected), "{args:?}: {}", describe(&out));
        assert_eq!(stderr.trim().lines().count(), 1, "{}", describe(&out));
    }
}

/// The exact unhealthy resources per recommendation in the demo account:
/// every deliberate misconfiguration of docs/demo-account.md, and none of
/// its healthy counterparts — except where moto itself drops a setting
/// (SNS delivery-status logging: docs/demo-account.md, quirks), which the
/// snapshot shows as it is.
#[test]
fn demo_account_exact_failing_resources() {
    let moto = Moto::start();
    moto.seed_demo();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db").display().to_string();
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
    let findings = stdout_json(&rampart(
        BIN,
        &["findings", "--db", &db, "--format", "json"],
    ));
    // Names are stable; generated ids (default VPCs, root volumes, moto's own
    // snapshots) are random per run: they are shown as `vpc-*` with a count.
    let mut failing: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for a in findings["assessments"].as_array().unwrap() {
        if a["status"] == "unhealthy" {
            let name = stable_name(a["resource_name"].as_str().unwrap());
            *failing
                .entry(a["recommendation"].as_str().unwrap().to_owned())
                .or_default()
                .entry(format!("{} {name}", a["region"].as_str().unwrap()))
                .or_default() += 1;
        }
    }
    let text: String = failing
        .iter()
        .map(|(rec, resources)| {
            let lines: String = resources
                .iter()
                .map(|(r, n)| {
                    if *n > 1 {
                        format!("    {r} ×{n}\n")
                    } else {
                        format!("    {r}\n")
                    }
                })
                .collect();
            format!("{rec}\n{lines}")
        })
        .collect();
    insta::assert_snapshot!(text);
}

/// `vpc-0abc…` → `vpc-*`, `rds:db-2026-01-02-03-04` → `rds:db-<time>`, a
/// bare hex id (GuardDuty detector) → `<id>`, a CloudFront distribution
/// `E2ABC… (d111….cloudfront.net)` → `<distribution>`, a UUID → `<uuid>`,
/// CloudFormation's `…-Topic-TLM4ZIZ69XT2` → `…-Topic-*`; other names unchanged.
fn stable_name(name: &str) -> String {
    if name.ends_with(".cloudfront.net)") {
        return "<distribution>".to_owned();
    }
    // A UUID (a private CA's id).
    if name.len() == 36 && name.split('-').map(str::len).eq([8, 4, 4, 4, 12]) {
        return "<uuid>".to_owned();
    }
    // CloudFormation's generated suffix (`demo-silent-Topic-TLM4ZIZ69XT2`).
    if let Some((stem, suffix)) = name.rsplit_once('-')
        && suffix.len() == 12
        && suffix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return format!("{stem}-*");
    }
    if name.len() >= 16 && name.chars().all(|c| c.is_ascii_hexdigit()) {
        return "<id>".to_owned();
    }
    if let Some(stem) = name.strip_prefix("rds:")
        && let Some(cut) = stem.len().checked_sub(17)
        && stem.is_char_boundary(cut)
        && stem[cut..].chars().all(|c| c == '-' || c.is_ascii_digit())
    {
        return format!("rds:{}-<time>", &stem[..cut]);
    }
    match name.split_once('-') {
        Some((prefix, id))
            if id.len() >= 8
                && id.chars().all(|c| c.is_ascii_hexdigit())
                && prefix.chars().all(|c| c.is_ascii_lowercase()) =>
        {
            format!("{prefix}-*")
        }
        _ => name.to_owned(),
    }
}

/// Drops what differs between two scans of the same account (ids, times,
/// durations), recursively.
fn without_run_details(mut value: Value) -> Value {
    const VOLATILE: [&str; 11] = [
        "id",
        "at",
        "scan_id",
        "started_at",
        "finished_at",
        "generated_at",
        "duration_ms",
        "collected_by",
        "last_scan",
        "api_calls",
        "mergedFrom",
    ];
    match &mut value {
        Value::Object(map) => {
            for key in VOLATILE {
                map.remove(key);
            }
            // A coverage gap's error text is moto's of the moment (two
            // scans a few seconds apart have seen different ones).
            if map.contains_key("operation") {
                map.remove("error");
            }
            for v in map.values_mut() {
                *v = without_run_details(v.take());
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                *v = without_run_details(v.take());
            }
        }
        // Times moto reports as "now" (deliveries, observations).
        Value::String(s)
            if s.len() >= 19
                && s.as_bytes()[4] == b'-'
                && s.as_bytes()[10] == b'T'
                && s.as_bytes()[13] == b':' =>
        {
            return Value::String("<time>".to_owned());
        }
        _ => {}
    }
    value
}

/// Where two JSON values first differ, and how.
fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a}\n vs {b}")),
    }
}

/// `--db postgres://…` behaves as a SQLite file does: the same scan of the
/// demo account reads back the same inventory, findings, score and
/// compliance, and a second scan lists as history on both.
#[test]
fn a_postgresql_store_reads_back_what_a_sqlite_file_does() {
    let moto = Moto::start();
    moto.seed_demo();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("demo.db").display().to_string();
    let postgres = rampart_testkit::postgres::fresh_url();
    for db in [&sqlite, &postgres] {
        for _ in 0..2 {
            let scan = rampart(
                BIN,
                &[
                    "scan",
                    "--endpoint-url",
                    &moto.url(),
                    "--regions",
                    "us-east-1",
                    "--db",
                    db,
                ],
            );
            assert_eq!(scan.status.code(), Some(0), "{db}: {}", describe(&scan));
        }
    }
    let read = |db: &str, args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.extend(["--db", db, "--format", "json"]);
        let out = rampart(BIN, &all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} {db}: {}",
            describe(&out)
        );
        without_run_details(stdout_json(&out))
    };
    for args in [
        &["inventory"][..],
        &["findings"],
        &["score"],
        &["compliance", "cis-aws-3.0"],
        &["recommendations"],
        &["changes", "--limit", "100000"],
        &["trend"],
    ] {
        let (a, b) = (read(&sqlite, args), read(&postgres, args));
        assert!(
            a != Value::Null && a != serde_json::json!([]),
            "{args:?} read nothing"
        );
        assert_eq!(
            first_difference(&a, &b, String::new()),
            None,
            "{args:?} differs between SQLite and PostgreSQL"
        );
    }
    let scans = read(&postgres, &["scans"]);
    assert_eq!(scans.as_array().map(Vec::len), Some(2), "{scans}");
    assert_eq!(scans, read(&sqlite, &["scans"]));
    // The second (narrowed) scan merged the first, by id, on PostgreSQL too.
    let raw = stdout_json(&rampart(
        BIN,
        &["scans", "--db", &postgres, "--format", "json"],
    ));
    assert_eq!(raw[0]["coverage"]["mergedFrom"][0], raw[1]["id"], "{raw}");
}

/// `changes`, `trend` and `history prune` over the two-account estate and
/// a scan that fixes one of B's volumes; an older `--scan` is refused.
#[test]
fn history_commands_list_changes_daily_counts_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("estate.db");
    {
        let mut store = rampart_store::Store::open(&path).unwrap();
        estate::seed_two_accounts(&mut store);
        estate::fix_b_volume(&mut store);
    }
    let db = path.display().to_string();
    let run = |args: &[&str]| rampart(BIN, &[args, &["--db", &db]].concat());
    let text = |args: &[&str]| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", describe(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    // The resolved changes, with the time column (today's) masked.
    let resolved = text(&["changes", "--change", "resolved"]);
    let masked: String = resolved
        .lines()
        .map(|l| match l.get(..16) {
            Some(when) if when.chars().nth(4) == Some('-') => {
                format!("YYYY-MM-DD hh:mm{}", &l[16..])
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("changes_resolved", masked);
    let json = stdout_json(&run(&[
        "changes",
        "--account",
        ACCOUNT_A,
        "--format",
        "json",
    ]));
    let list = json.as_array().unwrap();
    assert!(!list.is_empty());
    assert!(
        list.iter()
            .all(|c| c["account"] == ACCOUNT_A && c["change"] == "new"),
        "{json}"
    );

    let trend = stdout_json(&run(&["trend", "--account", ACCOUNT_B, "--format", "json"]));
    assert_eq!(trend.as_array().unwrap().len(), 1, "{trend}");
    // The day's score of a scope, kept as daily counts per control, is the
    // score the current assessments of that scope give.
    for scope in [
        &[][..],
        &["--account", ACCOUNT_B],
        &["--region", "eu-west-1"],
    ] {
        let days = stdout_json(&run(&[&["trend", "--format", "json"], scope].concat()));
        let now = stdout_json(&run(&[&["score", "--format", "json"], scope].concat()));
        assert!(days[0]["score"].is_f64(), "{days}");
        assert_eq!(days[0]["score"], now["percent"], "{scope:?}: {days} {now}");
    }
    let table = text(&["trend"]);
    assert!(
        table.starts_with("DAY") && table.contains("SCORE"),
        "{table}"
    );

    // Nothing is older than a day here: pruning keeps everything.
    let pruned = text(&["history", "prune", "--keep-days", "30"]);
    assert!(
        pruned.starts_with("History before ") && pruned.contains("0 rows deleted"),
        "{pruned}"
    );
    assert_eq!(
        stdout_json(&run(&["changes", "--format", "json"]))
            .as_array()
            .unwrap()
            .len(),
        {
            let all = stdout_json(&run(&["changes", "--format", "json", "--limit", "1000"]));
            all.as_array().unwrap().len().min(100)
        }
    );

    // Only the current scan's assessments exist.
    for cmd in [
        &["score"][..],
        &["findings", "--format", "json"],
        &["compliance"],
    ] {
        let out = run(&[cmd, &["--scan", estate::SCAN_B]].concat());
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("are history"),
            "{}",
            describe(&out)
        );
    }
    assert_eq!(
        run(&["score", "--scan", estate::SCAN_FIX]).status.code(),
        Some(0)
    );
    let bad = run(&["changes", "--since", "12/01/2026"]);
    assert_eq!(bad.status.code(), Some(2), "{}", describe(&bad));
}
