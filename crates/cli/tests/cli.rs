//! End-to-end tests of the `rampart` binary against a private moto server.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::time::{Duration, Instant};

use rampart_testkit::{Moto, describe, rampart, rampart_command, stdout_json};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

fn db_in(dir: &tempfile::TempDir) -> String {
    dir.path().join("rampart.db").display().to_string()
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_2() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let url = moto.url();
    let unreachable = format!("http://127.0.0.1:{}", rampart_testkit::free_port());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "scan",
                "--endpoint-url",
                &url,
                "--regions",
                "us-east-9",
                "--db",
                &db,
            ],
            "unknown region `us-east-9`",
        ),
        (
            vec![
                "scan",
                "--endpoint-url",
                &url,
                "--regions",
                "US_EAST",
                "--db",
                &db,
            ],
            "malformed region `US_EAST`",
        ),
        (
            vec!["scan", "--endpoint-url", "127.0.0.1:1", "--db", &db],
            "malformed endpoint URL `127.0.0.1:1`",
        ),
        (
            vec!["scan", "--endpoint-url", &unreachable, "--db", &db],
            "cannot reach AWS at",
        ),
        (
            vec![
                "scan",
                "--endpoint-url",
                &url,
                "--services",
                "nope",
                "--db",
                &db,
            ],
            "unknown service `nope`",
        ),
        (
            vec![
                "scan",
                "--endpoint-url",
                &url,
                "--services",
                "s3,cloudtrial",
                "--db",
                &db,
            ],
            "unknown service `cloudtrial`; did you mean `cloudtrail`?",
        ),
        (
            vec![
                "scan",
                "--endpoint-url",
                &url,
                "--profile",
                "rampart-no-such-profile",
                "--db",
                &db,
            ],
            "no profile `rampart-no-such-profile` in `",
        ),
    ];
    for (args, expected) in cases {
        let out = rampart(BIN, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", describe(&out));
        assert!(
            stderr.contains(expected),
            "{args:?}: expected `{expected}`\n{}",
            describe(&out)
        );
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{args:?}: one line only\n{}",
            describe(&out)
        );
        assert!(!stderr.contains("panicked"), "{}", describe(&out));
    }
    // Clap's own usage errors also exit 2, in the same one-line form, with
    // clap's tip when it has one.
    for (args, expected) in [
        (vec!["scan", "--concurrency", "0"], "--concurrency"),
        (
            vec!["recommendations", "--status", "unhealty"],
            "'unhealthy'",
        ),
        (vec!["scans", "--limt", "3"], "--limit"),
        (vec!["gaps", "--format", "yaml"], "json"),
    ] {
        let out = rampart(BIN, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", describe(&out));
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{args:?}\n{}",
            describe(&out)
        );
        assert!(
            stderr.starts_with("rampart: error: ") && stderr.contains(expected),
            "{args:?}: expected `{expected}`\n{}",
            describe(&out)
        );
    }
}

#[test]
fn missing_credentials_exit_2_with_one_line() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let out = rampart_command(BIN)
        .args([
            "scan",
            "--endpoint-url",
            &moto.url(),
            "--regions",
            "us-east-1",
            "--db",
            &db_in(&dir),
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr.contains("no usable credentials"),
        "{}",
        describe(&out)
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{}", describe(&out));
}

#[test]
fn reading_before_any_scan_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = rampart(BIN, &["inventory", "--db", &db_in(&dir)]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}

#[test]
fn scan_then_inventory_with_filters() {
    let moto = Moto::start();
    moto.seed("seed-bench.py", &["--scale", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let out = rampart(
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
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "Assets by type and region",
        "API calls by service",
        "AWS::EC2::Instance",
        "AWS::S3::Bucket",
    ] {
        assert!(
            summary.contains(expected),
            "summary lacks `{expected}`:\n{summary}"
        );
    }

    let all = stdout_json(&rampart(
        BIN,
        &["inventory", "--db", &db, "--format", "json"],
    ));
    let assets = all.as_array().unwrap();
    for asset in assets {
        for key in [
            "arn",
            "type",
            "account",
            "region",
            "name",
            "tags",
            "properties",
        ] {
            assert!(asset.get(key).is_some(), "asset lacks `{key}`: {asset}");
        }
        assert_eq!(asset["account"], "123456789012");
    }
    let count = |ty: &str| assets.iter().filter(|a| a["type"] == ty).count();
    assert_eq!(count("AWS::EC2::Instance"), 50);
    assert_eq!(count("AWS::S3::Bucket"), 10);
    assert_eq!(count("AWS::IAM::User"), 5);

    let instances = stdout_json(&rampart(
        BIN,
        &[
            "inventory",
            "--db",
            &db,
            "--format",
            "json",
            "--type",
            "AWS::EC2::Instance",
            "--region",
            "us-east-1",
        ],
    ));
    assert_eq!(instances.as_array().unwrap().len(), 50);
    let none = stdout_json(&rampart(
        BIN,
        &[
            "inventory",
            "--db",
            &db,
            "--format",
            "json",
            "--type",
            "AWS::EC2::Instance",
            "--region",
            "eu-west-1",
        ],
    ));
    assert_eq!(none.as_array().unwrap().len(), 0);

    let tagged = stdout_json(&rampart(
        BIN,
        &[
            "inventory",
            "--db",
            &db,
            "--format",
            "json",
            "--tag",
            "env=prod",
        ],
    ));
    let tagged = tagged.as_array().unwrap();
    assert!(!tagged.is_empty());
    assert!(
        tagged.iter().all(|a| a["tags"]["env"] == "prod"),
        "{tagged:?}"
    );
    let keyed = stdout_json(&rampart(
        BIN,
        &[
            "inventory",
            "--db",
            &db,
            "--format",
            "json",
            "--tag",
            "cost-center",
        ],
    ));
    let keyed = keyed.as_array().unwrap();
    assert_eq!(
        keyed.len(),
        50,
        "the bench seed tags its 50 instances with cost-center"
    );
    assert!(keyed.iter().all(|a| a["type"] == "AWS::EC2::Instance"));

    let table = rampart(
        BIN,
        &["inventory", "--db", &db, "--type", "AWS::S3::Bucket"],
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("TYPE"), "{text}");
    assert!(text.contains("10 assets"), "{text}");

    typos_are_errors_naming_the_closest_values(&db);
    scans_gaps_and_compliance_read_well(&db);
}

/// A mistyped value is exit 2 with `did you mean …`, never an empty result.
fn typos_are_errors_naming_the_closest_values(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let exemptions = dir.path().join("exemptions.yaml");
    std::fs::write(
        &exemptions,
        "exemptions:\n  - recommendation: s3-bucket-public-read-prohibted\n    reason: typo\n",
    )
    .unwrap();
    let exemptions = exemptions.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["inventory", "--db", db, "--type", "AWS::S3::Buckets"],
            "unknown resource type `AWS::S3::Buckets`; did you mean `AWS::S3::Bucket`?",
        ),
        (
            vec!["inventory", "--db", db, "--account", "12345678901"],
            "unknown account `12345678901`; did you mean `123456789012`?",
        ),
        (
            vec!["score", "--db", db, "--account", "123456789013"],
            "did you mean `123456789012`?",
        ),
        (
            vec!["compliance", "cis-aws-3", "--db", db],
            "unknown standard `cis-aws-3`; did you mean `cis-aws-3.0`",
        ),
        (
            vec!["evaluate", "--db", db, "--exemptions", &exemptions],
            "unknown recommendation `s3-bucket-public-read-prohibted`; did you mean `s3-bucket-public-read-prohibited`?",
        ),
    ];
    for (args, expected) in cases {
        let out = rampart(BIN, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", describe(&out));
        assert!(
            stderr.contains(expected),
            "{args:?}: expected `{expected}`\n{}",
            describe(&out)
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{}", describe(&out));
    }
    // A valid type with no assets in a scanned region is an empty result.
    let out = rampart(
        BIN,
        &[
            "inventory",
            "--db",
            db,
            "--type",
            "AWS::EKS::Cluster",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

/// `scans` (RFC 3339 times, abbreviated lists), `gaps` and `compliance`
/// with no standard.
fn scans_gaps_and_compliance_read_well(db: &str) {
    let out = rampart(BIN, &["scans", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text.lines().nth(1).unwrap();
    let started = row.split_whitespace().nth(2).unwrap();
    assert!(
        started.len() == 20 && started.ends_with('Z') && started.as_bytes()[10] == b'T',
        "not RFC 3339 to the second: {started}\n{text}"
    );
    assert!(
        row.contains("eu-west-1, us-east-1") || row.contains("us-east-1, eu-west-1"),
        "{text}"
    );

    let out = rampart(BIN, &["gaps", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let gaps = stdout_json(&rampart(BIN, &["gaps", "--db", db, "--format", "json"]));
    assert!(
        gaps["scan"].is_string() && gaps["gaps"].is_array(),
        "{gaps}"
    );

    let out = rampart(BIN, &["compliance", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("STANDARD"), "{text}");
    let ids = [
        "aws-fsbp",
        "cis-aws-3.0",
        "cis-aws-4.0",
        "cis-aws-5.0",
        "pci-dss-4.0",
        "nist-800-53-r5",
        "nist-800-171-r2",
        "iso-27001-2022",
        "soc2",
        "aws-well-architected-security",
    ];
    for id in ids {
        assert!(text.contains(id), "{id} missing:\n{text}");
    }
    let all = stdout_json(&rampart(
        BIN,
        &["compliance", "--db", db, "--format", "json"],
    ));
    assert_eq!(all.as_array().map(Vec::len), Some(ids.len()), "{all}");
}

#[test]
fn killed_scan_leaves_the_last_complete_snapshot_current() {
    let moto = Moto::start();
    moto.seed("seed-bench.py", &["--scale", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let scan_args = [
        "scan",
        "--endpoint-url",
        &moto.url(),
        "--regions",
        "us-east-1,eu-west-1",
        "--db",
        &db,
        "--no-progress",
    ];
    let first = rampart(BIN, &scan_args);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let before = rampart(BIN, &["inventory", "--db", &db, "--format", "json"]);
    let before_json = stdout_json(&before);
    assert!(before_json.as_array().is_some_and(|a| a.len() > 100));

    // Start a second scan and kill it once it is registered as running.
    let mut child = rampart_command(BIN).args(scan_args).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut saw_running = false;
    while Instant::now() < deadline {
        let scans = stdout_json(&rampart(BIN, &["scans", "--db", &db, "--format", "json"]));
        if scans
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x["status"] == "running"))
        {
            saw_running = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(saw_running, "second scan never showed up as running");
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    let status = child.wait().unwrap();
    assert!(!status.success());

    let after = rampart(BIN, &["inventory", "--db", &db, "--format", "json"]);
    assert_eq!(
        stdout_json(&after),
        before_json,
        "the killed scan changed what readers see"
    );
    let scans = stdout_json(&rampart(BIN, &["scans", "--db", &db, "--format", "json"]));
    let statuses: Vec<&str> = scans
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["running", "complete"], "newest first");

    // The store still takes new scans.
    let third = rampart(BIN, &scan_args);
    assert_eq!(third.status.code(), Some(0), "{}", describe(&third));
}

/// moto enforcing IAM (`INITIAL_NO_AUTH_ACTION_COUNT`), with a user whose
/// inline policy is `policy`; returns moto and the user's keys.
fn moto_with_restricted_user(policy: &str, buckets: &str) -> (Moto, String, String) {
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let out = moto.seed(
        "seed-restricted-user.py",
        &["--policy", policy, "--buckets", buckets],
    );
    let keys = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (id, secret) = keys.split_once(' ').unwrap();
    (moto, id.to_owned(), secret.to_owned())
}

#[test]
fn denied_everywhere_is_nothing_collected_exit_3() {
    let (moto, id, secret) = moto_with_restricted_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#,
        "0",
    );
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let out = rampart_command(BIN)
        .args([
            "scan",
            "--endpoint-url",
            &moto.url(),
            "--regions",
            "us-east-1",
            "--db",
            &db,
            "--no-progress",
        ])
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("access_denied"), "{stdout}");
    // Region discovery was denied too; the requested region was scanned anyway and the denial recorded.
    assert!(
        stdout.lines().any(|l| l.contains("DescribeRegions")),
        "{stdout}"
    );
    // Nothing denied turned into data: every setting asset lists its properties as unavailable.
    let assets = stdout_json(&rampart(
        BIN,
        &["inventory", "--db", &db, "--format", "json"],
    ));
    let policy = assets
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "Rampart::IAM::PasswordPolicy")
        .unwrap();
    assert!(
        policy["unavailable"].get("configured").is_some(),
        "{policy}"
    );
}

#[test]
fn a_denied_detail_call_leaves_the_property_unavailable_not_healthy() {
    let (moto, id, secret) = moto_with_restricted_user(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:*","ec2:DescribeRegions","sts:GetCallerIdentity"],"Resource":"*"},
            {"Effect":"Deny","Action":"s3:GetBucketPolicy","Resource":"*"}]}"#,
        "10",
    );
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let out = rampart_command(BIN)
        .args([
            "scan",
            "--endpoint-url",
            &moto.url(),
            "--regions",
            "us-east-1",
            "--services",
            "s3",
            "--db",
            &db,
        ])
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let gap = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("GetBucketPolicy") && !l.contains("GetBucketPolicyStatus"))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(
        gap.contains("access_denied") && gap.contains(" 10 "),
        "one gap, ten occurrences: `{gap}`"
    );
    let buckets = stdout_json(&rampart(
        BIN,
        &[
            "inventory",
            "--db",
            &db,
            "--format",
            "json",
            "--type",
            "AWS::S3::Bucket",
        ],
    ));
    let buckets = buckets.as_array().unwrap();
    assert_eq!(buckets.len(), 10);
    for bucket in buckets {
        assert_eq!(bucket["properties"]["policy"], serde_json::Value::Null);
        assert!(
            bucket["unavailable"]["policy"]
                .as_str()
                .is_some_and(|e| e.contains("AccessDenied") || e.contains("403")),
            "{bucket}"
        );
        // What was allowed was read.
        assert!(bucket["properties"]["acl"].is_object(), "{bucket}");
    }
}
