//! Every rule against its fixtures (malicious ones must raise its alert
//! type, benign look-alikes must not), and every rule's metadata.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failure ends the test"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rampart_detect::rules::Logic;
use rampart_detect::{
    Engine, EngineConfig, Event, EventContext, InstanceAddresses, LogEvent, Ruleset,
};
use rampart_model::{AlertSource, Severity};
use serde_json::Value;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn fixture_dir(file: &str) -> PathBuf {
    fixtures_root().join(file.trim_end_matches(".yml"))
}

fn ruleset() -> Arc<Ruleset> {
    match Ruleset::builtin() {
        Ok(rules) => Arc::new(rules),
        Err(e) => panic!("built-in rules: {e}"),
    }
}

/// The events of one fixture file (one event, or an array of them).
fn load(path: &Path, source: AlertSource) -> Vec<Event> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let items = match value {
        Value::Array(items) => items,
        one => vec![one],
    };
    let context = Arc::new(match source {
        AlertSource::CloudTrail => EventContext::cloudtrail("111122223333", "us-east-1"),
        AlertSource::SqlLog => {
            EventContext::sql_server_instance("111122223333", "us-east-1", "i-0a1b2c3d4e5f60718")
        }
        _ => EventContext::eks_cluster("111122223333", "us-east-1", "prod"),
    });
    items
        .into_iter()
        .map(|item| {
            let event = match source {
                AlertSource::CloudTrail => {
                    Event::from_cloudtrail_record(item, Arc::clone(&context))
                }
                // CloudWatch Logs events (`id`, `timestamp`, `message`).
                AlertSource::SqlLog => {
                    let log: LogEvent = serde_json::from_value(item)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    Event::from_sqlserver_message(
                        &log.id,
                        log.timestamp,
                        &log.message,
                        Arc::clone(&context),
                    )
                }
                _ => Event::from_k8s_audit(item, Arc::clone(&context)),
            };
            event.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

/// An engine for one rule's fixtures, given the instance addresses in
/// its fixture directory's `instances.json`, if there is one.
fn engine_for(rules: &Arc<Ruleset>, dir: &Path) -> Engine {
    let mut engine = Engine::new(Arc::clone(rules), EngineConfig::default());
    if let Ok(text) = std::fs::read_to_string(dir.join("instances.json")) {
        let known: InstanceAddresses = serde_json::from_str(&text).unwrap();
        assert!(
            !known.is_empty(),
            "{}: instances.json lists instances",
            dir.display()
        );
        engine.set_instance_addresses(known);
    }
    engine
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    files
}

#[test]
fn every_rule_fires_on_its_malicious_fixtures_and_not_on_its_benign_ones() {
    let rules = ruleset();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in rules.rules() {
        let dir = fixture_dir(&rule.file);
        for (case, want) in [("malicious", true), ("benign", false)] {
            for path in json_files(&dir.join(case)) {
                checked += 1;
                let events = load(&path, rule.source);
                let ids: BTreeSet<String> = events.iter().map(|e| e.id.clone()).collect();
                let mut engine = engine_for(&rules, &dir);
                let outcome = engine.process(events);
                let raised: Vec<_> = outcome
                    .alerts
                    .iter()
                    .filter(|a| a.alert_type == rule.alert_type)
                    .collect();
                if raised.is_empty() == want {
                    failures.push(format!(
                        "{} {case} {}: raised {}",
                        rule.alert_type,
                        path.display(),
                        raised.len()
                    ));
                }
                for alert in &raised {
                    for evidence in &alert.evidence {
                        assert!(
                            ids.contains(&evidence.event_id),
                            "evidence names an event of the fixture"
                        );
                    }
                    assert_eq!(alert.rule.id, rule.id);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures disagree with their rules:\n{}",
        failures.join("\n")
    );
    assert!(checked >= 2 * rules.rules().len());
}

#[test]
fn every_rule_has_complete_metadata_and_both_kinds_of_fixture() {
    let rules = ruleset();
    let mut ids = BTreeSet::new();
    let mut types = BTreeSet::new();
    let k8s = rules
        .rules()
        .iter()
        .filter(|r| r.source == AlertSource::EksAudit)
        .count();
    assert!(k8s >= 25, "at least 25 Kubernetes alert types, found {k8s}");
    for rule in rules.rules() {
        let at = &rule.alert_type;
        assert!(ids.insert(rule.id.clone()), "{at}: rule id unique");
        assert!(types.insert(at.clone()), "{at}: alert type unique");
        let prefix = match rule.source {
            AlertSource::EksAudit => "K8S.",
            AlertSource::CloudTrail => "AWS.",
            AlertSource::SqlLog => "SQL.",
            _ => "",
        };
        assert!(
            at.starts_with(prefix) && at.len() > prefix.len() + 3,
            "{at}: type id shape"
        );
        assert!(rule.id.starts_with("rampart-"), "{at}: rule id shape");
        assert!(!rule.mitre.tactics.is_empty(), "{at}: MITRE tactic");
        assert!(!rule.mitre.techniques.is_empty(), "{at}: MITRE technique");
        assert!(
            rule.mitre
                .techniques
                .iter()
                .all(|t| t.starts_with('T') && t.len() >= 5),
            "{at}: technique ids"
        );
        assert!(
            rule.severity != Severity::Critical,
            "{at}: alert severities stop at high"
        );
        for (what, text) in [
            ("title", &rule.title),
            ("description", &rule.description),
            ("remediation", &rule.remediation),
            ("signal", &rule.signal),
        ] {
            assert!(text.len() >= 10, "{at}: {what} present");
        }
        assert!(
            !rule.group_by.is_empty() || matches!(rule.logic, Logic::FirstSeen { .. }),
            "{at}: groups by some entity (a first-seen rule may keep one baseline per account)"
        );
        if rule.attribution.source == "sigma" {
            assert_eq!(
                rule.license.as_deref(),
                Some("DRL-1.1"),
                "{at}: licence kept"
            );
            assert!(rule.attribution.author.is_some(), "{at}: author kept");
            assert!(
                rule.attribution
                    .url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("https://github.com/SigmaHQ/")),
                "{at}: link kept"
            );
            let text = rampart_detect::rules::BUILTIN_RULES
                .iter()
                .find(|(file, _)| *file == rule.file)
                .map(|(_, text)| *text)
                .unwrap_or_default();
            assert!(
                text.contains("Detection Rule License (DRL) 1.1"),
                "{at}: licence notice in the file"
            );
        } else {
            assert_eq!(
                rule.attribution.source, "rampart",
                "{at}: attribution source"
            );
        }
        let dir = fixture_dir(&rule.file);
        assert!(
            !json_files(&dir.join("malicious")).is_empty(),
            "{at}: malicious fixture in {}",
            dir.display()
        );
        assert!(
            !json_files(&dir.join("benign")).is_empty(),
            "{at}: benign fixture in {}",
            dir.display()
        );
    }
}

#[test]
fn cloudtrail_rules_cover_the_issue_and_most_skip_by_event_name() {
    let rules = ruleset();
    let cloudtrail: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.source == AlertSource::CloudTrail)
        .collect();
    assert!(
        cloudtrail.len() >= 28,
        "at least 28 CloudTrail alert types, found {}",
        cloudtrail.len()
    );
    for rule in &cloudtrail {
        assert_eq!(rule.plan.as_str(), "servers", "{}", rule.alert_type);
    }
    let quick = cloudtrail
        .iter()
        .filter(|r| r.event_names().is_some_and(|n| !n.is_empty()))
        .count();
    assert!(
        quick >= 25,
        "CloudTrail rules with an event-name quick filter: {quick}"
    );
    for wanted in [
        "AWS.CloudTrailLoggingStopped",
        "AWS.CloudTrailTrailModified",
        "AWS.GuardDutyDisabled",
        "AWS.GuardDutySuppressed",
        "AWS.SecurityHubDisabled",
        "AWS.ConfigRecordingStopped",
        "AWS.AccessAnalyzerDisabled",
        "AWS.RootAccountUsage",
        "AWS.ConsoleLoginWithoutMfa",
        "AWS.AccessKeyForAnotherUser",
        "AWS.AdminPolicyAttached",
        "AWS.EbsSnapshotPublic",
        "AWS.AmiPublic",
        "AWS.RdsSnapshotPublic",
        "AWS.SnapshotSharedWithNewAccount",
        "AWS.InstanceUserDataModified",
        "AWS.SecurityGroupOpenToWorld",
        "AWS.KmsKeyScheduledForDeletion",
        "AWS.S3BucketPolicyPublic",
        "AWS.SsmCommandByNewPrincipal",
        "AWS.InstanceCredentialsUsedElsewhere",
        "AWS.ApiEnumerationBurst",
        "AWS.PenTestToolUserAgent",
    ] {
        assert!(rules.by_alert_type(wanted).is_some(), "{wanted} exists");
    }
}

#[test]
fn sqlserver_rules_cover_the_issue() {
    let rules = ruleset();
    let sql: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.source == AlertSource::SqlLog)
        .collect();
    for rule in &sql {
        assert_eq!(rule.plan.as_str(), "sql", "{}", rule.alert_type);
        assert!(rule.file.starts_with("sqlserver/"), "{}", rule.alert_type);
    }
    for wanted in [
        "SQL.BruteForceInvalidUser",
        "SQL.BruteForceValidUser",
        "SQL.LoginAfterBruteForce",
        "SQL.LoginByNewPrincipal",
        "SQL.LoginFromNewAddress",
        "SQL.HarmfulApplication",
        "SQL.XpCmdShellEnabled",
        "SQL.XpCmdShellUsed",
        "SQL.ShellSpawnedBySqlServer",
        "SQL.MassPermissionChange",
    ] {
        assert!(rules.by_alert_type(wanted).is_some(), "{wanted} exists");
    }
    // The 60-day baselines forget what they have not seen for 60 days.
    for at in ["SQL.LoginByNewPrincipal", "SQL.LoginFromNewAddress"] {
        let rule = rules.by_alert_type(at).unwrap();
        assert!(
            matches!(
                rule.logic,
                Logic::FirstSeen {
                    forget_seconds: Some(5_184_000),
                    ..
                }
            ),
            "{at}: 60-day horizon"
        );
    }
    let after = rules
        .by_alert_type("SQL.LoginAfterBruteForce")
        .and_then(|r| r.after.clone())
        .unwrap();
    assert_eq!(
        after.alert_types,
        ["SQL.BruteForceValidUser", "SQL.BruteForceInvalidUser"]
    );
}

#[test]
fn every_fixture_directory_belongs_to_a_rule() {
    let rules = ruleset();
    let known: BTreeSet<PathBuf> = rules.rules().iter().map(|r| fixture_dir(&r.file)).collect();
    for group in ["k8s", "cloudtrail", "sqlserver"] {
        let entries = std::fs::read_dir(fixtures_root().join(group))
            .map(|e| e.filter_map(Result::ok).collect::<Vec<_>>());
        for entry in entries.unwrap_or_default() {
            assert!(
                known.contains(&entry.path()),
                "{} has no rule",
                entry.path().display()
            );
        }
    }
}

#[test]
fn noisy_system_identities_never_alert() {
    // Every benign fixture's system identities, replayed across every rule:
    // none of them may raise anything.
    let rules = ruleset();
    let system = |user: &str| {
        user.starts_with("system:serviceaccount:kube-system:")
            || user.starts_with("eks:")
            || user.starts_with("system:node:")
            || user == "system:apiserver"
    };
    let mut seen = 0;
    for rule in rules
        .rules()
        .iter()
        .filter(|r| r.source == AlertSource::EksAudit)
    {
        for path in json_files(&fixture_dir(&rule.file).join("benign")) {
            let events: Vec<Event> = load(&path, rule.source)
                .into_iter()
                .filter(|e| e.str_at(&["user", "username"]).is_some_and(system))
                .collect();
            if events.is_empty() {
                continue;
            }
            seen += events.len();
            let mut engine = Engine::new(Arc::clone(&rules), EngineConfig::default());
            let outcome = engine.process(events);
            let types: Vec<_> = outcome
                .alerts
                .iter()
                .map(|a| a.alert_type.clone())
                .collect();
            assert!(
                types.is_empty(),
                "{}: system identity raised {types:?}",
                path.display()
            );
        }
    }
    assert!(seen >= 15, "enough system-identity fixtures ({seen})");
}

#[test]
fn every_rule_file_is_registered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut on_disk = BTreeSet::new();
    for group in std::fs::read_dir(&root).unwrap().filter_map(Result::ok) {
        for file in std::fs::read_dir(group.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            let path = file.path();
            if path.extension().is_some_and(|x| x == "yml") {
                let relative = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                on_disk.insert(relative);
            }
        }
    }
    let registered: BTreeSet<String> = rampart_detect::rules::BUILTIN_RULES
        .iter()
        .map(|(file, _)| (*file).to_owned())
        .collect();
    assert_eq!(on_disk, registered, "rules/ and BUILTIN_RULES agree");
}
