//! `rampart connector`: the connector resource's CRUD through the binary.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::process::Output;

use rampart_connector::{Connector, OrganizationalData, Plan};
use rampart_store::Store;
use rampart_testkit::{describe, rampart, stdout_json};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const ACCOUNT: &str = "123456789012";

struct Env {
    _dir: tempfile::TempDir,
    db: String,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rampart.db").display().to_string();
        Env { _dir: dir, db }
    }

    /// Runs `rampart connector <args> --db <db>`.
    fn connector(&self, args: &[&str]) -> Output {
        let mut all = vec!["connector"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--db", &self.db]);
        rampart(BIN, &all)
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.connector(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", describe(&out));
        out
    }

    /// The stored connectors' names (none when there is no store yet:
    /// `connector list` is a reader, so it exits 3 and creates nothing).
    fn names(&self) -> Vec<String> {
        let out = self.connector(&["list", "--format", "json"]);
        if !std::path::Path::new(&self.db).exists() {
            assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
            assert!(!std::path::Path::new(&self.db).exists());
            return Vec::new();
        }
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let list = stdout_json(&out);
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts exit 2 and one `rampart: error:` line containing `expected`.
fn assert_usage_error(out: &Output, expected: &str, context: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{context}\n{}", describe(out));
    assert_eq!(stderr.lines().count(), 1, "{context}\n{}", describe(out));
    assert!(
        stderr.starts_with("rampart: error: ") && stderr.contains(expected),
        "{context}: expected `{expected}`\n{}",
        describe(out)
    );
}

#[test]
fn create_list_show_update_delete() {
    let env = Env::new();
    let custom = format!("arn:aws:iam::{ACCOUNT}:role/security/RampartProvisioner");
    let created = env.ok(&[
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
        "--plans",
        "cspm,servers",
        "--regions",
        "us-east-1,eu-west-1",
        "--scan-interval",
        "6",
        "--role-arn",
        &format!("servers.arcAutoProvisioning={custom}"),
    ]);
    let text = stdout(&created);
    assert!(
        text.contains("created connector `prod` for account 123456789012"),
        "{text}"
    );
    assert!(text.contains(&custom), "{text}");

    // list: table and JSON.
    let table = stdout(&env.ok(&["list"]));
    let row = table.lines().find(|l| l.starts_with("prod")).unwrap();
    assert!(
        row.contains(ACCOUNT) && row.contains("cspm,servers") && row.contains("6h"),
        "{table}"
    );
    assert_eq!(env.names(), ["prod"]);

    // show --format json: the design.md section 8 fields, as stored.
    let shown = stdout_json(&env.ok(&["show", "prod", "--format", "json"]));
    let stored = Store::open(std::path::Path::new(&env.db))
        .unwrap()
        .connector("prod")
        .unwrap()
        .unwrap();
    assert_eq!(shown, serde_json::to_value(&stored).unwrap());
    let id = shown["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    assert_eq!(shown["name"], "prod");
    assert_eq!(shown["hierarchyIdentifier"], ACCOUNT);
    assert_eq!(shown["environmentName"], "AWS");
    let data = &shown["environmentData"];
    assert_eq!(data["environmentType"], "AwsAccount");
    assert!(data.get("organizationalData").is_none(), "{data}");
    assert_eq!(
        data["regions"],
        serde_json::json!(["us-east-1", "eu-west-1"])
    );
    assert_eq!(data["scanInterval"], 6);
    let offerings = shown["offerings"].as_array().unwrap();
    assert_eq!(offerings[0]["offeringType"], "CspmMonitorAws");
    assert_eq!(
        offerings[0]["nativeCloudConnection"]["cloudRoleArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/CspmMonitorAws")
    );
    assert_eq!(offerings[1]["offeringType"], "DefenderForServersAws");
    assert_eq!(
        offerings[1]["defenderForServers"]["cloudRoleArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/RampartServers")
    );
    assert_eq!(
        offerings[1]["arcAutoProvisioning"]["cloudRoleArn"],
        custom.as_str()
    );
    assert_eq!(offerings[1]["arcAutoProvisioning"]["enabled"], true);
    let created_at = shown["createdAt"].as_str().unwrap().to_owned();
    assert!(shown["updatedAt"].is_string());

    // The same connector by id, and as a table.
    assert_eq!(
        stdout_json(&env.ok(&["show", &id, "--format", "json"])),
        shown
    );
    let details = stdout(&env.ok(&["show", "prod"]));
    assert!(
        details.contains("RampartServers") && details.contains("us-east-1,eu-west-1"),
        "{details}"
    );

    // update: every region, daily, containers instead of servers.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.ok(&[
        "update",
        "prod",
        "--regions",
        "",
        "--scan-interval",
        "24",
        "--plans",
        "cspm,containers",
    ]);
    let updated = stdout_json(&env.ok(&["show", "prod", "--format", "json"]));
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["environmentData"]["regions"], serde_json::json!([]));
    assert_eq!(updated["environmentData"]["scanInterval"], 24);
    let types: Vec<&str> = updated["offerings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["offeringType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["CspmMonitorAws", "DefenderForContainersAws"]);
    assert_eq!(updated["offerings"][1]["kubeAuditRetentionTime"], 30);
    assert_eq!(
        updated["offerings"][1]["enableAuditLogsAutoProvisioning"],
        true
    );
    assert_eq!(updated["createdAt"], created_at.as_str());
    assert!(
        updated["updatedAt"].as_str().unwrap() > created_at.as_str(),
        "{updated}"
    );

    // delete.
    let deleted = stdout(&env.ok(&["delete", "prod"]));
    assert!(
        deleted.contains("deleted connector `prod` (account 123456789012"),
        "{deleted}"
    );
    assert!(env.names().is_empty());
}

#[test]
fn unknown_connectors_exit_3() {
    let env = Env::new();
    // No store at all, then a store without that connector.
    for _ in 0..2 {
        for args in [
            vec!["show", "ghost"],
            vec!["update", "ghost", "--scan-interval", "3"],
            vec!["delete", "ghost"],
        ] {
            let out = env.connector(&args);
            assert_eq!(out.status.code(), Some(3), "{args:?}\n{}", describe(&out));
            assert!(String::from_utf8_lossy(&out.stderr).contains("no connector `ghost`"));
        }
        if env.names().is_empty() {
            env.ok(&["create", "--name", "other", "--account", ACCOUNT]);
        }
    }
    assert_eq!(env.names(), ["other"]);
}

#[test]
fn invalid_input_exits_2_naming_the_bad_value() {
    let env = Env::new();
    let other = "arn:aws:iam::210987654321:role/CspmMonitorAws";
    let other_flag = format!("cspm={other}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--account", "12345"],
            "account id `12345` is not 12 digits",
        ),
        (vec!["--name", "bad name"], "connector name `bad name`"),
        (vec!["--regions", "us-east-9"], "unknown region `us-east-9`"),
        (
            vec!["--regions", "us-east-1,us-east-1"],
            "region `us-east-1` is listed twice",
        ),
        (
            vec!["--regions", "us-east-1,us-gov-west-1"],
            "region `us-gov-west-1` is not in the partition `aws`",
        ),
        (
            vec!["--scan-interval", "25"],
            "scan interval `25` is not 1 to 24 hours",
        ),
        (vec!["--scan-interval", "0"], "scan interval `0`"),
        (vec!["--scan-interval", "abc"], "scan interval `abc`"),
        (vec!["--plans", "cspm,storage"], "unknown plan `storage`"),
        (vec!["--plans", "cspm,cspm"], "plan `cspm` is enabled twice"),
        (vec!["--plans", ""], "a connector needs at least one plan"),
        (
            vec!["--role-arn", &other_flag],
            "role ARN `arn:aws:iam::210987654321:role/CspmMonitorAws` is in account `210987654321`",
        ),
        (
            vec!["--role-arn", "cspm=not-an-arn"],
            "malformed role ARN `not-an-arn`",
        ),
        (
            vec!["--role-arn", "servers=arn:aws:iam::123456789012:role/S"],
            "plan `servers` is not enabled",
        ),
        (
            vec!["--role-arn", "cspm.rds=arn:aws:iam::123456789012:role/S"],
            "plan `cspm` has no role `rds`",
        ),
        (vec!["--role-arn", "cspm"], "malformed `--role-arn` `cspm`"),
        (
            vec!["--organization", "--exclude-accounts", "123"],
            "excluded account id `123` is not 12 digits",
        ),
        (
            vec!["--organization", "--stackset-name", "1bad"],
            "stack set name `1bad`",
        ),
        (
            vec!["--exclude-accounts", "210987654321"],
            "`--exclude-accounts` needs `--organization`",
        ),
        (
            vec!["--stackset-name", "Rampart"],
            "`--stackset-name` needs `--organization`",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["create"];
        for (flag, default) in [("--name", "prod"), ("--account", ACCOUNT)] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        args.extend(extra.iter().copied());
        assert_usage_error(&env.connector(&args), expected, &format!("{extra:?}"));
    }
    assert!(env.names().is_empty(), "an invalid connector was stored");

    // Updates are validated again and leave the stored connector alone.
    env.ok(&[
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
        "--scan-interval",
        "8",
    ]);
    let before = stdout_json(&env.ok(&["show", "prod", "--format", "json"]));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--scan-interval", "99"], "scan interval `99`"),
        (vec!["--regions", "mars-1"], "unknown region `mars-1`"),
        (vec!["--plans", "cspm,nope"], "unknown plan `nope`"),
        (vec!["--plans", ""], "a connector needs at least one plan"),
        (
            vec!["--exclude-accounts", "210987654321"],
            "excluded accounts need an organization connector (`prod` is not one)",
        ),
        (
            vec!["--role-arn", &other_flag],
            "is in account `210987654321`",
        ),
        (vec![], "nothing to change"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["update", "prod"];
        args.extend(extra.iter().copied());
        assert_usage_error(&env.connector(&args), expected, &format!("{extra:?}"));
    }
    assert_eq!(
        stdout_json(&env.ok(&["show", "prod", "--format", "json"])),
        before
    );
}

#[test]
fn duplicate_names_are_rejected() {
    let env = Env::new();
    env.ok(&["create", "--name", "prod", "--account", ACCOUNT]);
    let out = env.connector(&["create", "--name", "prod", "--account", "210987654321"]);
    assert_usage_error(&out, "connector `prod` already exists", "duplicate");
    let list = stdout_json(&env.ok(&["list", "--format", "json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["hierarchyIdentifier"], ACCOUNT);
}

#[test]
fn deleting_an_organization_deletes_its_members() {
    let env = Env::new();
    let created = stdout_json(&env.ok(&[
        "create",
        "--name",
        "org",
        "--account",
        ACCOUNT,
        "--organization",
        "--stackset-name",
        "RampartRoles",
        "--exclude-accounts",
        "999999999999",
        "--format",
        "json",
    ]));
    assert_eq!(
        created["environmentData"]["organizationalData"],
        serde_json::json!({
            "organizationMembershipType": "Organization",
            "stacksetName": "RampartRoles",
            "excludedAccountIds": ["999999999999"],
        })
    );
    env.ok(&[
        "update",
        "org",
        "--exclude-accounts",
        "888888888888,777777777777",
    ]);
    let updated = stdout_json(&env.ok(&["show", "org", "--format", "json"]));
    assert_eq!(
        updated["environmentData"]["organizationalData"]["excludedAccountIds"],
        serde_json::json!(["888888888888", "777777777777"])
    );

    // Members appear as the organization is scanned; store them directly.
    let store = Store::open(std::path::Path::new(&env.db)).unwrap();
    let member = |name: &str, account: &str, parent: &str| {
        let connector = Connector::new(
            name,
            account,
            &[Plan::Cspm],
            vec![],
            12,
            Some(OrganizationalData::Member {
                parent_hierarchy_id: parent.into(),
            }),
        );
        connector.validate().unwrap();
        store.create_connector(&connector).unwrap();
    };
    member("org-111111111111", "111111111111", ACCOUNT);
    member("org-222222222222", "222222222222", ACCOUNT);
    member("elsewhere", "333333333333", "444444444444");
    let table = stdout(&env.ok(&["list"]));
    assert!(table.contains(&format!("member of {ACCOUNT}")), "{table}");

    let deleted = stdout(&env.ok(&["delete", "org"]));
    let lines: Vec<&str> = deleted.lines().collect();
    assert_eq!(lines.len(), 3, "{deleted}");
    assert!(
        lines[0].starts_with("deleted connector `org` (account 123456789012"),
        "{deleted}"
    );
    assert!(
        lines[1].starts_with("deleted member connector `org-111111111111` (account 111111111111"),
        "{deleted}"
    );
    assert!(
        lines[2].starts_with("deleted member connector `org-222222222222`"),
        "{deleted}"
    );
    assert_eq!(env.names(), ["elsewhere"]);
}

#[test]
fn servers_settings_and_pause_are_set_as_the_dashboard_sets_them() {
    let env = Env::new();
    let created = env.ok(&[
        "create",
        "--name",
        "prod",
        "--account",
        ACCOUNT,
        "--plans",
        "cspm,servers",
        "--servers-scope-tags",
        "env=prod, team=sec",
        "--agentless-scanning",
        "on",
        "--agentless-exclusion-tags",
        "rampart:skip=true",
        "--format",
        "json",
    ]);
    let json = stdout_json(&created);
    let servers = &json["offerings"][1];
    assert_eq!(
        servers["scopeByTags"],
        serde_json::json!({"env": "prod", "team": "sec"})
    );
    assert_eq!(
        servers["vmScanners"],
        serde_json::json!({"enabled": true, "exclusionTags": {"rampart:skip": "true"}})
    );
    assert!(json.get("paused").is_none());

    let shown = stdout(&env.ok(&["update", "prod", "--pause"]));
    assert!(shown.contains("paused"), "{shown}");
    assert!(
        shown.contains("scope env=prod, team=sec; agentless scanning enabled"),
        "{shown}"
    );
    let store = Store::open(std::path::Path::new(&env.db)).unwrap();
    assert!(store.connector("prod").unwrap().unwrap().paused);
    drop(store);
    env.ok(&["update", "prod", "--resume", "--agentless-scanning", "off"]);
    let json = stdout_json(&env.ok(&["show", "prod", "--format", "json"]));
    assert!(json.get("paused").is_none());
    assert_eq!(json["offerings"][1]["vmScanners"]["enabled"], false);

    // The same validation (and message) as the dashboard's form and the API.
    let out = env.connector(&["update", "prod", "--servers-scope-tags", "aws:env=prod"]);
    assert_usage_error(
        &out,
        "tag `aws:env=prod` in `DefenderForServersAws.scopeByTags`: keys starting with `aws:` are reserved by AWS",
        "reserved tag key",
    );
    let out = env.connector(&[
        "create",
        "--name",
        "cspm-only",
        "--account",
        ACCOUNT,
        "--servers-scope-tags",
        "env=prod",
    ]);
    assert_usage_error(
        &out,
        "plan `servers` is not enabled on this connector",
        "servers settings without the plan",
    );
    let out = env.connector(&["update", "prod", "--agentless-scanning", "maybe"]);
    assert_usage_error(&out, "`--agentless-scanning` takes `on` or `off`", "on/off");
}
