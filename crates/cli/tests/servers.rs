//! `rampart servers provision` against moto behind the SSM emulator: the
//! dry run (table snapshot) changes nothing; applying covers the instances
//! in scope and reports the one whose own profile lacks SSM until
//! `--servers-policy-attach on`; a second run changes nothing; `--remove`
//! undoes it; `rampart scan --connector` provisions through the Servers
//! plan's hook; a connector without the plan is a usage error.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::path::PathBuf;
use std::process::Output;

use rampart_testkit::{Moto, describe, rampart_command, stdout_json};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const ACCOUNT: &str = "123456789012";

struct Env {
    dir: tempfile::TempDir,
    moto: Moto,
}

impl Env {
    /// moto behind the SSM emulator, an issuer, and `seed-servers.py`'s
    /// instances (their ids by role).
    fn seeded() -> (Self, Value) {
        let env = Self {
            dir: tempfile::tempdir().unwrap(),
            moto: Moto::start_with_ssm_emulator(),
        };
        env.code(
            &env.run(&[
                "issuer",
                "init",
                "--issuer-url",
                "https://id.example.test/rampart",
            ]),
            0,
        );
        let seeded = env.moto.seed("seed-servers.py", &[]);
        let ids: Value = serde_json::from_slice(&seeded.stdout).unwrap();
        (env, ids)
    }

    /// `connector create --name prod` for the account in `us-east-1` with
    /// `plans` and `extra` flags; it must succeed.
    fn create_prod(&self, plans: &str, extra: &[&str]) {
        let mut args = vec![
            "connector",
            "create",
            "--name",
            "prod",
            "--account",
            ACCOUNT,
            "--plans",
            plans,
            "--regions",
            "us-east-1",
        ];
        args.extend(extra);
        self.code(&self.run(&args), 0);
    }

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

    fn code(&self, out: &Output, code: i32) {
        assert_eq!(out.status.code(), Some(code), "{}", describe(out));
    }

    /// `servers provision --connector prod <extra> --format json`: exit code and report.
    fn provision(&self, extra: &[&str]) -> (Option<i32>, Value) {
        let mut args = vec!["servers", "provision", "--connector", "prod"];
        args.extend(extra);
        args.extend(["--format", "json"]);
        let out = self.aws(&args);
        (out.status.code(), stdout_json(&out))
    }
}

/// A step: resource, name, action, outcome (`-` in a plan).
type Row = (String, String, String, String);

/// The steps of a report (plan or apply).
fn steps(report: &Value) -> Vec<Row> {
    let list = report["plan"]["steps"]
        .as_array()
        .or_else(|| report["report"]["steps"].as_array())
        .unwrap_or_else(|| panic!("no steps in {report:#}"));
    list.iter()
        .map(|s| {
            (
                s["resource"].as_str().unwrap().to_owned(),
                s["name"].as_str().unwrap().to_owned(),
                s["action"].as_str().unwrap().to_owned(),
                s["outcome"]["result"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

fn find<'a>(steps: &'a [Row], resource: &str, name: &str) -> Option<&'a Row> {
    steps.iter().find(|s| s.0 == resource && s.1 == name)
}

#[test]
fn servers_provision_dry_run_apply_remove() {
    let (env, ids) = Env::seeded();
    let (bare, plain, dev) = (
        ids["bare"].as_str().unwrap().to_owned(),
        ids["plain"].as_str().unwrap().to_owned(),
        ids["dev"].as_str().unwrap().to_owned(),
    );
    env.create_prod("cspm,servers", &["--servers-scope-tags", "env=prod"]);

    // Dry run, as a table: every step, the uncoverable instance flagged
    // (exit 1), nothing changed.
    let table = env.aws(&["servers", "provision", "--connector", "prod", "--dry-run"]);
    env.code(&table, 1);
    let text = String::from_utf8_lossy(&table.stdout)
        .replace(&bare, "i-bare0000000000000")
        .replace(&plain, "i-plain000000000000")
        .replace(&dev, "i-dev00000000000000");
    // Instance ids are random: rows sorted for a stable snapshot.
    let mut lines: Vec<&str> = text.lines().collect();
    let body = lines.split_off(2.min(lines.len()));
    let mut body = body;
    body.sort_unstable();
    lines.extend(body);
    insta::assert_snapshot!("dry_run_table", lines.join("\n"));
    let (code, planned) = env.provision(&["--dry-run"]);
    assert_eq!(code, Some(1));
    let planned_steps = steps(&planned);
    assert_eq!(
        find(&planned_steps, "profile-association", &bare)
            .unwrap()
            .2,
        "create"
    );
    assert!(planned_steps.iter().all(|s| s.1 != dev), "{planned:#}");
    let (_, again) = env.provision(&["--dry-run"]);
    assert_eq!(
        steps(&again),
        planned_steps,
        "the dry run changed something"
    );

    // Apply: all but the instance whose own profile lacks the SSM policy.
    let (code, applied) = env.provision(&[]);
    assert_eq!(code, Some(1), "{applied:#}");
    let applied_steps = steps(&applied);
    let failed: Vec<_> = applied_steps.iter().filter(|s| s.3 == "failed").collect();
    assert_eq!(failed.len(), 1, "{applied:#}");
    assert_eq!(failed[0].1, plain);
    assert_eq!(
        find(&applied_steps, "profile-association", &bare)
            .unwrap()
            .3,
        "done"
    );
    assert_eq!(
        find(&applied_steps, "instance-tags", &bare).unwrap().3,
        "done"
    );

    // Policy attach allowed: the last instance is covered; then nothing to do.
    env.code(
        &env.run(&[
            "connector",
            "update",
            "prod",
            "--servers-policy-attach",
            "on",
        ]),
        0,
    );
    let shown = env.run(&["connector", "show", "prod"]);
    env.code(&shown, 0);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("policy attach allowed"),
        "{}",
        describe(&shown)
    );
    let (code, applied) = env.provision(&[]);
    assert_eq!(code, Some(0), "{applied:#}");
    assert_eq!(
        find(&steps(&applied), "existing-role-policy", &plain)
            .unwrap()
            .3,
        "done"
    );
    let (code, again) = env.provision(&[]);
    assert_eq!(code, Some(0), "{again:#}");
    assert!(
        steps(&again).iter().all(|s| s.3 == "unchanged"),
        "{again:#}"
    );

    // Remove: everything Rampart did is undone; a new dry run plans it again.
    let (code, removed) = env.provision(&["--remove"]);
    assert_eq!(code, Some(0), "{removed:#}");
    let removed_steps = steps(&removed);
    for (resource, name) in [
        ("inventory-association", "Rampart-prod-software-inventory"),
        ("patch-scan-association", "Rampart-prod-patch-scan"),
        ("profile-association", bare.as_str()),
        ("existing-role-policy", plain.as_str()),
        ("instance-tags", plain.as_str()),
        ("instance-profile", "RampartSsmInstanceProfile"),
        ("instance-role", "RampartSsmInstanceRole"),
    ] {
        let step = find(&removed_steps, resource, name)
            .unwrap_or_else(|| panic!("no {resource} {name} in {removed:#}"));
        assert_eq!((step.2.as_str(), step.3.as_str()), ("delete", "done"));
    }
    let (_, replanned) = env.provision(&["--dry-run"]);
    assert_eq!(
        find(
            &steps(&replanned),
            "instance-role",
            "RampartSsmInstanceRole"
        )
        .unwrap()
        .2,
        "create"
    );

    // The connector's scan provisions through the plan's hook.
    env.code(
        &env.aws(&[
            "scan",
            "--connector",
            "prod",
            "--services",
            "ec2",
            "--no-progress",
        ]),
        0,
    );
    let (code, converged) = env.provision(&["--dry-run"]);
    assert_eq!(code, Some(0), "{converged:#}");
    assert!(
        steps(&converged).iter().all(|s| s.2 == "none"),
        "{converged:#}"
    );

    // What a scan saw, per instance: `servers list` (the emulator has no
    // managed instance registered, so nothing is covered and each
    // instance says why).
    env.code(
        &env.aws(&[
            "scan",
            "--connector",
            "prod",
            "--services",
            "ec2,iam,ssm",
            "--no-progress",
        ]),
        0,
    );
    let listed = env.run(&["servers", "list", "--format", "json"]);
    env.code(&listed, 0);
    let list: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert!(list.len() >= 3, "{list:#?}");
    for c in list {
        assert_eq!(c["managed"], "no", "{c:#}");
        assert_eq!(c["covered"], false, "{c:#}");
        let codes: Vec<&str> = c["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"not-managed"), "{c:#}");
    }
    let table = env.run(&["servers", "list", "--uncovered"]);
    env.code(&table, 0);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains(&format!("0 of {} instances covered", list.len())),
        "{text}"
    );
    assert!(text.contains("not-managed:"), "{text}");

    // A connector without the Servers plan is a usage error.
    env.code(
        &env.run(&[
            "connector",
            "create",
            "--name",
            "cspm-only",
            "--account",
            "210987654321",
        ]),
        0,
    );
    let out = env.aws(&["servers", "provision", "--connector", "cspm-only"]);
    env.code(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no Servers plan"),
        "{}",
        describe(&out)
    );
}

/// With agentless scanning off, the Servers plan's SSM software inventory
/// is matched against the vulnerability database by the same code as a
/// disk: `rampart vulnerabilities` lists the instance with its findings and
/// `source: ssm-inventory`, and the secrets recommendation does not call
/// it clean.
#[test]
fn ssm_inventory_packages_are_matched_when_disks_are_not_read() {
    let (env, ids) = Env::seeded();
    let plain = ids["plain"].as_str().unwrap().to_owned();
    env.moto.ssm_register(
        "us-east-1",
        &[rampart_testkit::ssm::online_instance(&plain, "3.3.1611.0")],
    );
    env.moto.ssm_inventory(
        "us-east-1",
        &plain,
        "AWS:InstanceInformation",
        &[
            serde_json::json!({"AgentType": "amazon-ssm-agent", "AgentVersion": "3.3.1611.0",
            "PlatformName": "Amazon Linux", "PlatformVersion": "2023", "PlatformType": "Linux",
            "InstanceId": plain}),
        ],
    );
    env.moto.ssm_inventory(
        "us-east-1",
        &plain,
        "AWS:Application",
        &[
            // Vulnerable: ALAS2023-2024-581 is fixed in 1:3.0.8-1.amzn2023.0.12.
            serde_json::json!({"Name": "openssl-libs", "Version": "3.0.8", "Release": "1.amzn2023.0.4",
                "Epoch": "1", "Architecture": "x86_64", "Publisher": "Amazon Linux"}),
            // Fixed: a look-alike at the fixed version.
            serde_json::json!({"Name": "openssl", "Version": "3.0.8", "Release": "1.amzn2023.0.12",
                "Epoch": "1", "Architecture": "x86_64", "Publisher": "Amazon Linux"}),
        ],
    );
    let zip = env.dir.path().join("all.zip");
    rampart_testkit::osv::write_fixtures_zip(&zip, false);
    env.code(&env.run(&["vulndb", "import", zip.to_str().unwrap()]), 0);
    env.create_prod("cspm,servers", &["--agentless-scanning", "off"]);
    env.code(
        &env.aws(&["scan", "--connector", "prod", "--no-progress"]),
        0,
    );

    let out = env.run(&["vulnerabilities", "--format", "json"]);
    env.code(&out, 0);
    let doc = stdout_json(&out);
    let arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{plain}");
    let machines = doc["machines"].as_array().unwrap();
    assert_eq!(machines.len(), 1, "{doc:#}");
    let machine = &machines[0];
    assert_eq!(machine["resource"], arn.as_str(), "{doc:#}");
    assert_eq!(machine["source"], "ssm-inventory", "{doc:#}");
    assert_eq!(machine["snapshot"], Value::Null, "{doc:#}");
    assert_eq!(machine["packages_scanned"], 2, "{doc:#}");
    assert_eq!(machine["os"]["id"], "amzn", "{doc:#}");
    let findings = machine["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc:#}");
    assert_eq!(findings[0]["package"], "openssl-libs");
    assert_eq!(findings[0]["vulnerability"], "ALAS2023-2024-581");
    assert_eq!(findings[0]["installed_version"], "1:3.0.8-1.amzn2023.0.4");

    // The secrets recommendation does not assess a disk it did not read.
    let out = env.run(&["findings", "--format", "json"]);
    env.code(&out, 0);
    let findings = stdout_json(&out);
    let assessments = findings["assessments"].as_array().unwrap();
    let of = |rec: &str| {
        assessments
            .iter()
            .find(|a| a["recommendation"] == rec && a["resource"] == arn.as_str())
            .unwrap_or_else(|| panic!("no `{rec}` assessment of {arn}"))
    };
    assert_eq!(of("machines-secrets-removed")["status"], "not_applicable");
    assert_eq!(
        of("machines-vulnerability-findings-resolved")["status"],
        "unhealthy"
    );
}

/// The SQL plan end to end: a scan finds the SQL Server from the host's SSM
/// inventory, its prerequisites hold (an online managed instance with
/// inventory), the read-only assessment runs through Run Command (the
/// emulator answers with a weak server's recorded output), `sql list`
/// shows the findings, a baseline accepted with `sql baseline accept`
/// makes that rule a non-finding on the next scan, and `connector status`
/// has one prerequisites row per server.
#[test]
fn sql_plan_discovers_assesses_and_keeps_baselines() {
    let (env, ids) = Env::seeded();
    let host = ids["plain"].as_str().unwrap().to_owned();
    env.moto.ssm_register(
        "us-east-1",
        &[rampart_testkit::ssm::online_instance(&host, "3.3.1611.0")],
    );
    env.moto.ssm_inventory(
        "us-east-1",
        &host,
        "AWS:InstanceInformation",
        &[serde_json::json!({"AgentType": "amazon-ssm-agent", "AgentVersion": "3.3.1611.0",
            "PlatformName": "Microsoft Windows Server 2019 Datacenter", "PlatformVersion": "10.0.17763",
            "PlatformType": "Windows", "InstanceId": host})],
    );
    env.moto.ssm_inventory(
        "us-east-1",
        &host,
        "AWS:Application",
        &[
            serde_json::json!({"Name": "SQL Server 2019 Database Engine Services",
            "Version": "15.0.4355.3", "Publisher": "Microsoft Corporation"}),
        ],
    );
    let weak = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sqlva/fixtures/weak.out"),
    )
    .unwrap();
    let seed_output = || {
        env.moto.ssm_seed(
            "command-outputs",
            &serde_json::json!({"account": ACCOUNT, "region": "us-east-1", "instanceId": host,
                "documentName": "AWS-RunPowerShellScript", "status": "Success",
                "responseCode": 0, "stdout": weak, "stderr": "", "polls": 1}),
        );
    };
    // The CloudWatch agent's group of the host's SQL Server logs.
    env.moto
        .seed("seed-eks-audit.py", &["log-group", SQL_LOG_GROUP]);
    env.create_prod(
        "cspm,servers,sql",
        &[
            "--agentless-scanning",
            "off",
            "--sql-log-groups",
            SQL_LOG_GROUP,
        ],
    );
    seed_output();
    env.code(
        &env.aws(&["scan", "--connector", "prod", "--no-progress"]),
        0,
    );
    let listed = env.run(&["sql", "list", "--format", "json"]);
    env.code(&listed, 0);
    let servers: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let servers = servers.as_array().unwrap();
    let server = servers
        .iter()
        .find(|s| s["host_id"] == host.as_str())
        .unwrap_or_else(|| panic!("{servers:#?}"));
    assert_eq!(server["product"], "SQL Server 2019");
    // The contract of `rampart sql list --format json`.
    assert_eq!(
        server["resource"],
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{host}"),
        "{server:#}"
    );
    assert_eq!(server["kind"], "ec2");
    assert_eq!(server["name"].as_str().map(str::is_empty), Some(false));
    assert_eq!(server["version"], "15.0.4355.3", "{server:#}");
    assert_eq!(
        server["discovered_by"],
        serde_json::json!(["ssm-inventory"]),
        "{server:#}"
    );
    assert_eq!(server["prerequisites_met"], true, "{server:#}");
    let assessment = &server["assessment"];
    assert!(
        assessment["findings"].as_u64().unwrap() >= 5,
        "{assessment:#}"
    );
    let result_of = |a: &Value, rule: &str| -> Value {
        a["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == rule)
            .cloned()
            .unwrap()
    };
    assert_eq!(result_of(assessment, "RVA1001")["status"], "finding");
    let table = env.run(&["sql", "list"]);
    env.code(&table, 0);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("ssm-inventory") && text.contains("findings"),
        "{text}"
    );

    // The recommendation lists the findings.
    let findings = stdout_json(&env.run(&["findings", "--format", "json"]));
    let va = findings["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["recommendation"] == "sql-server-va-findings-resolved")
        .unwrap();
    assert_eq!(va["status"], "unhealthy", "{va:#}");

    // Accept `sa` as expected; the next scan keeps it a non-finding.
    let accepted = env.run(&[
        "sql", "baseline", "accept", "--server", &host, "--rule", "RVA1001", "--by", "alice",
    ]);
    env.code(&accepted, 0);
    seed_output();
    env.code(
        &env.aws(&["scan", "--connector", "prod", "--no-progress"]),
        0,
    );
    let listed = env.run(&["sql", "list", "--format", "json"]);
    let servers: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let server = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["host_id"] == host.as_str())
        .unwrap();
    let sa = result_of(&server["assessment"], "RVA1001");
    assert_eq!(sa["status"], "non_finding", "{sa:#}");
    assert_eq!(sa["baseline"]["accepted_by"], "alice");
    let baselines = env.run(&[
        "sql",
        "baseline",
        "list",
        "--server",
        server["server"].as_str().unwrap(),
    ]);
    env.code(&baselines, 0);
    assert!(String::from_utf8_lossy(&baselines.stdout).contains("RVA1001"));

    // connector status: one prerequisites row for the server.
    let status = env.aws(&["connector", "status", "prod", "--format", "json"]);
    let health: Value = serde_json::from_slice(&status.stdout).unwrap();
    let rows: Vec<&Value> = health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["requirement"] == "SQL Server prerequisites")
        .collect();
    assert_eq!(rows.len(), 1, "{health:#}");
    assert!(
        rows[0]["detail"].as_str().unwrap().starts_with(&host),
        "{health:#}"
    );
    assert_eq!(rows[0]["state"], "met", "{health:#}");
    // The live "SQL Server found" check counts what the scan found too
    // (the SSM inventory signal is not visible to the EC2 API).
    let found = health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["requirement"] == "SQL Server found")
        .unwrap();
    assert_eq!(found["state"], "met", "{health:#}");

    sql_threat_detection(&env, &host, &health);

    // An assessment on demand: printed, not stored.
    seed_output();
    let assessed = env.aws(&[
        "sql",
        "assess",
        "--connector",
        "prod",
        "--server",
        &host,
        "--format",
        "json",
    ]);
    env.code(&assessed, 0);
    let assessed = stdout_json(&assessed);
    let one = &assessed.as_array().unwrap()[0];
    assert_eq!(one["instanceId"], host.as_str());
    assert_eq!(one["complete"], true, "{one:#}");
    let sa = result_of(one, "RVA1001");
    assert_eq!(sa["status"], "non_finding", "the baseline applies: {sa:#}");
    assert_eq!(
        result_of(one, "RVA1002")["status"],
        result_of(&server["assessment"], "RVA1002")["status"]
    );
    // The SSM emulator has no output left for a second run: the command
    // fails and the assessment is an error, never clean (exit 1).
    let failed = env.aws(&["sql", "assess", "--connector", "prod"]);
    env.code(&failed, 1);
    assert!(
        String::from_utf8_lossy(&failed.stdout).contains(&format!("error: {host}")),
        "{}",
        describe(&failed)
    );
    let unknown = env.aws(&[
        "sql",
        "assess",
        "--connector",
        "prod",
        "--server",
        "i-0123456789abcdef0",
    ]);
    env.code(&unknown, 2);
}

/// The CloudWatch agent's SQL Server log group of the assessed host.
const SQL_LOG_GROUP: &str = "/sql/errorlog";

/// SQL threat detection after the scan: the scan provisioned the group's
/// pipeline, `connector status` says so, the host's failed logins reach
/// the SQL rules through moto's Logs → Firehose → S3 → SQS, and the alert
/// names the host.
fn sql_threat_detection(env: &Env, host: &str, health: &Value) {
    let row = health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["requirement"] == "SQL Server log pipeline")
        .unwrap_or_else(|| panic!("{health:#}"));
    assert_eq!(row["state"], "met", "{row:#}");
    assert!(
        row["detail"].as_str().unwrap().contains(SQL_LOG_GROUP),
        "{row:#}"
    );
    // The scan provisioned it: a dry run has nothing to do.
    let dry = env.aws(&["sql", "provision", "--connector", "prod", "--dry-run"]);
    env.code(&dry, 0);
    insta::assert_snapshot!(
        "sql_provision_dry_run",
        String::from_utf8_lossy(&dry.stdout)
    );

    let lines: String = (0..12)
        .map(|n| format!(
            "2026-12-06 10:15:{n:02}.51 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 203.0.113.9]\n"
        ))
        .chain(std::iter::once(
            "2026-12-06 10:16:30.10 Logon       Login succeeded for user 'sa'. Connection made using SQL Server authentication. [CLIENT: 203.0.113.9]\n".to_owned(),
        ))
        .collect();
    let file = env.dir.path().join("errorlog.txt");
    std::fs::write(&file, lines).unwrap();
    env.moto.seed(
        "seed-eks-audit.py",
        &["events", SQL_LOG_GROUP, host, file.to_str().unwrap()],
    );
    let drained = env.aws(&[
        "detect",
        "--connector",
        "prod",
        "--once",
        "--wait",
        "1",
        "--format",
        "json",
    ]);
    env.code(&drained, 0);
    let report = stdout_json(&drained);
    let group = &report["sql_log_groups"][0];
    assert_eq!(group["cluster"], SQL_LOG_GROUP, "{report:#}");
    assert_eq!(group["events_new"], 13, "{report:#}");
    let alerts = stdout_json(&env.run(&["alerts", "--format", "json"]));
    let types: Vec<&str> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert_type"].as_str().unwrap())
        .collect();
    for wanted in ["SQL.BruteForceValidUser", "SQL.LoginAfterBruteForce"] {
        assert!(types.contains(&wanted), "{wanted} missing from {alerts:#}");
    }
    let brute = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alert_type"] == "SQL.BruteForceValidUser")
        .unwrap();
    assert_eq!(
        brute["resource"]["arn"],
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{host}"),
        "{brute:#}"
    );
    assert_eq!(brute["plan"], "sql");
    // Drained again, nothing new.
    let again = stdout_json(&env.aws(&[
        "detect",
        "--connector",
        "prod",
        "--once",
        "--wait",
        "1",
        "--format",
        "json",
    ]));
    assert_eq!(again["sql_log_groups"][0]["events_new"], 0, "{again:#}");
}
