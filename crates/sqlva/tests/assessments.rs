//! Parsing recorded script outputs into assessments, per-rule fixtures
//! (each rule fires on its finding case and stays quiet on its benign
//! look-alike) and baselines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: a failure ends the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rampart_sqlva::{
    Baseline, Rule, Status, apply_baselines, builtin_rules, parse_output, result_hash,
};
use serde::Deserialize;
use time::macros::datetime;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rules() -> Vec<Rule> {
    builtin_rules().unwrap()
}

#[derive(Deserialize)]
struct Case {
    rule: String,
    database: Option<String>,
    expect: Status,
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

/// Wraps one rule record in a complete, well-formed script output.
fn output_with(case: &Case, rules: &[Rule]) -> String {
    let rule = rules.iter().find(|r| r.id == case.rule).unwrap();
    let begin = serde_json::json!({"sqlva": 1, "event": "begin", "instance": ".", "server": "T", "rules": [rule.id]});
    let permissions = serde_json::json!({"sqlva": 1, "rule": "_permissions", "database": null,
        "columns": ["login_name", "view_server_state", "view_any_definition"],
        "rows": [["NT AUTHORITY\\SYSTEM", "1", "1"]], "row_count": 1, "rows_truncated": false});
    let databases = serde_json::json!({"sqlva": 1, "rule": "_databases", "database": null,
        "columns": ["name", "state_desc"], "rows": [["app", "ONLINE"]], "row_count": 1, "rows_truncated": false});
    let record = serde_json::json!({"sqlva": 1, "rule": case.rule, "database": case.database,
        "columns": case.columns, "rows": case.rows, "row_count": case.rows.len(), "rows_truncated": false});
    format!("{begin}\n{permissions}\n{databases}\n{record}\n{{\"sqlva\":1,\"event\":\"end\"}}\n")
}

#[test]
fn every_rule_fires_on_its_finding_case_and_not_on_its_benign_case() {
    let rules = rules();
    let cases: Vec<Case> = fixture("cases.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut covered: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for case in &cases {
        let rule = rules
            .iter()
            .find(|r| r.id == case.rule)
            .unwrap_or_else(|| panic!("{}", case.rule));
        // The fixture's columns are the query's result columns.
        for column in &case.columns {
            let in_query =
                rule.query.to_lowercase().contains(&column.to_lowercase()) || rule.id == "RVA1101";
            assert!(in_query, "{}: column `{column}` not in the query", rule.id);
        }
        let assessment = parse_output(&output_with(case, &rules), &rules);
        assert_eq!(
            assessment.results.len(),
            1,
            "{}: {:?}",
            case.rule,
            assessment.results
        );
        let result = &assessment.results[0];
        assert_eq!(
            result.status, case.expect,
            "{}: {} ({:?})",
            case.rule, result.message, case.rows
        );
        if result.status == Status::Finding {
            assert!(
                !result.evidence.is_empty(),
                "{}: finding without evidence",
                case.rule
            );
        }
        covered
            .entry(rule.id.as_str())
            .or_default()
            .insert(format!("{:?}", case.expect));
    }
    for rule in &rules {
        let kinds = covered.get(rule.id.as_str()).cloned().unwrap_or_default();
        assert!(
            kinds.contains("Finding") && kinds.contains("NonFinding"),
            "{}: cases {kinds:?}",
            rule.id
        );
    }
}

#[test]
fn hardened_server_is_all_non_finding() {
    let rules = rules();
    let assessment = parse_output(&fixture("hardened.out"), &rules);
    assert!(assessment.complete);
    let server_rules = rules
        .iter()
        .filter(|r| r.scope == rampart_sqlva::Scope::Server)
        .count();
    let database_rules = rules.len() - server_rules;
    assert_eq!(assessment.results.len(), server_rules + 2 * database_rules);
    for result in &assessment.results {
        assert_eq!(
            result.status,
            Status::NonFinding,
            "{} {:?}: {}",
            result.rule,
            result.database,
            result.message
        );
    }
    assert!(assessment.notes.is_empty(), "{:?}", assessment.notes);
}

#[test]
fn weak_server_assessments_snapshot() {
    let rules = rules();
    let assessment = parse_output(&fixture("weak.out"), &rules);
    assert!(assessment.complete);
    assert_eq!(assessment.count(Status::Error), 0);
    assert!(
        assessment.count(Status::Finding) >= 30,
        "{}",
        assessment.count(Status::Finding)
    );
    assert!(
        assessment
            .notes
            .iter()
            .any(|n| n.contains("`archive` is `OFFLINE`")),
        "{:?}",
        assessment.notes
    );
    insta::assert_json_snapshot!("weak_server", assessment);
}

#[test]
fn truncated_output_is_error_never_non_finding() {
    let rules = rules();
    let full = parse_output(&fixture("weak.out"), &rules);
    let cut = parse_output(&fixture("truncated.out"), &rules);
    assert!(!cut.complete);
    assert_eq!(cut.results.len(), full.results.len());
    assert!(
        cut.notes.iter().any(|n| n.contains("cut off")),
        "{:?}",
        cut.notes
    );
    let mut reported = 0;
    for (before, after) in full.results.iter().zip(&cut.results) {
        assert_eq!(
            (&before.rule, &before.database),
            (&after.rule, &after.database)
        );
        if after.reported {
            reported += 1;
            assert_eq!(before.status, after.status, "{}", after.rule);
        } else {
            assert_eq!(after.status, Status::Error, "{}", after.rule);
            assert!(after.message.contains("24,000"), "{}", after.message);
        }
    }
    assert!(reported > 0 && reported < cut.results.len());
    assert_eq!(cut.unreported().len(), cut.results.len() - reported);
}

#[test]
fn budget_stop_marks_the_rest_as_errors() {
    let rules = rules();
    let assessment = parse_output(&fixture("budget.out"), &rules);
    assert!(!assessment.complete);
    let unreported = assessment.unreported();
    assert!(!unreported.is_empty());
    for result in assessment.results.iter().filter(|r| !r.reported) {
        assert_eq!(result.status, Status::Error);
        assert!(
            result.message.contains("output budget of 23000"),
            "{}",
            result.message
        );
    }
}

#[test]
fn query_error_is_an_error_for_that_rule_only() {
    let rules = rules();
    let assessment = parse_output(&fixture("query-error.out"), &rules);
    assert!(assessment.complete);
    let errors: Vec<_> = assessment
        .results
        .iter()
        .filter(|r| r.status == Status::Error)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].rule, "RVA1101");
    assert!(
        errors[0]
            .message
            .starts_with("query failed: xp_loginconfig")
    );
    assert_eq!(
        (errors[1].rule.as_str(), errors[1].database.as_deref()),
        ("RVA1201", Some("crm"))
    );
    assert!(errors.iter().all(|e| e.reported));
    assert_eq!(
        assessment.count(Status::NonFinding),
        assessment.results.len() - 2
    );
    assert!(
        assessment.notes.iter().any(|n| n.contains("1 line(s)")),
        "{:?}",
        assessment.notes
    );
}

#[test]
fn missing_permissions_block_every_judgement() {
    let rules = rules();
    let assessment = parse_output(&fixture("no-permissions.out"), &rules);
    assert!(!assessment.results.is_empty());
    for result in &assessment.results {
        assert_eq!(result.status, Status::Error);
        assert!(
            result.message.contains("VIEW SERVER STATE"),
            "{}",
            result.message
        );
    }
}

#[test]
fn connection_failure_is_an_error_for_every_rule() {
    let rules = rules();
    let assessment = parse_output(&fixture("fatal.out"), &rules);
    assert_eq!(assessment.results.len(), rules.len());
    assert!(
        assessment
            .results
            .iter()
            .all(|r| r.status == Status::Error && r.message.contains("network-related"))
    );
}

#[test]
fn unknown_rules_and_empty_output() {
    let rules = rules();
    let text = fixture("hardened.out").replace("\"rule\":\"RVA1001\"", "\"rule\":\"RVA9999\"");
    let assessment = parse_output(&text, &rules);
    assert!(
        assessment
            .notes
            .iter()
            .any(|n| n.contains("unknown rule `RVA9999`")),
        "{:?}",
        assessment.notes
    );
    let missing = assessment
        .results
        .iter()
        .find(|r| r.rule == "RVA1001")
        .unwrap();
    assert_eq!(missing.status, Status::Error);

    let empty = parse_output("", &rules);
    assert!(!empty.results.is_empty());
    assert!(empty.results.iter().all(|r| r.status == Status::Error));
}

#[test]
fn truncated_rows_never_judge_non_finding() {
    let rules = rules();
    let text = fixture("hardened.out").replace(
        "{\"sqlva\":1,\"rule\":\"RVA1401\",\"database\":null,\"columns\":[\"name\",\"value_in_use\"],\"rows\":[[\"xp_cmdshell\",\"0\"]],\"row_count\":1,\"rows_truncated\":false}",
        "{\"sqlva\":1,\"rule\":\"RVA1401\",\"database\":null,\"columns\":[\"name\",\"value_in_use\"],\"rows\":[[\"xp_cmdshell\",\"0\"]],\"row_count\":2,\"rows_truncated\":true}",
    );
    assert_ne!(text, fixture("hardened.out"));
    let assessment = parse_output(&text, &rules);
    let result = assessment
        .results
        .iter()
        .find(|r| r.rule == "RVA1401")
        .unwrap();
    assert_eq!(result.status, Status::Error, "{}", result.message);
}

#[test]
fn baseline_accepts_the_same_result_and_flags_a_changed_one() {
    let rules = rules();
    let weak = parse_output(&fixture("weak.out"), &rules);
    let sysadmins = weak.results.iter().find(|r| r.rule == "RVA1007").unwrap();
    assert_eq!(sysadmins.status, Status::Finding);
    let baseline = Baseline::accept(
        sysadmins,
        "dba@example.com",
        datetime!(2026-12-01 09:00 UTC),
    )
    .unwrap();
    let json = serde_json::to_string(&baseline).unwrap();
    assert!(
        json.contains("\"accepted_at\":\"2026-12-01T09:00:00Z\""),
        "{json}"
    );

    // Same rows, in a different order: accepted.
    let reordered = fixture("weak.out").replace(
        "[[\"CORP\\\\sql-admins\",\"WINDOWS_GROUP\"],[\"app_user\",\"SQL_LOGIN\"]]",
        "[[\"app_user\",\"SQL_LOGIN\"],[\"CORP\\\\sql-admins\",\"WINDOWS_GROUP\"]]",
    );
    assert_ne!(reordered, fixture("weak.out"));
    let again = apply_baselines(
        parse_output(&reordered, &rules).results,
        std::slice::from_ref(&baseline),
    );
    let result = again.iter().find(|r| r.rule == "RVA1007").unwrap();
    assert_eq!(result.status, Status::NonFinding, "{}", result.message);
    assert_eq!(
        result.baseline.as_ref().unwrap().accepted_by,
        "dba@example.com"
    );
    // Other findings are untouched.
    assert_eq!(
        again.iter().find(|r| r.rule == "RVA1401").unwrap().status,
        Status::Finding
    );

    // A new sysadmin: a finding again.
    let changed = fixture("weak.out").replace(
        "[\"app_user\",\"SQL_LOGIN\"]]",
        "[\"app_user\",\"SQL_LOGIN\"],[\"intruder\",\"SQL_LOGIN\"]]",
    );
    let after = apply_baselines(
        parse_output(&changed, &rules).results,
        std::slice::from_ref(&baseline),
    );
    let result = after.iter().find(|r| r.rule == "RVA1007").unwrap();
    assert_eq!(result.status, Status::Finding);
    assert!(result.baseline.is_none());
    assert!(
        result.message.contains("changed since the baseline"),
        "{}",
        result.message
    );

    // A baseline for another database does not apply.
    let mut elsewhere = baseline;
    elsewhere.database = Some("crm".to_owned());
    let other = apply_baselines(
        parse_output(&fixture("weak.out"), &rules).results,
        &[elsewhere],
    );
    assert_eq!(
        other.iter().find(|r| r.rule == "RVA1007").unwrap().status,
        Status::Finding
    );
}

#[test]
fn errors_and_truncated_results_cannot_be_accepted() {
    let rules = rules();
    let assessment = parse_output(&fixture("query-error.out"), &rules);
    let error = assessment
        .results
        .iter()
        .find(|r| r.status == Status::Error)
        .unwrap();
    assert!(Baseline::accept(error, "dba", datetime!(2026-12-01 09:00 UTC)).is_err());
    let mut finding = parse_output(&fixture("weak.out"), &rules)
        .results
        .into_iter()
        .find(|r| r.rule == "RVA1002")
        .unwrap();
    finding.rows_truncated = true;
    assert!(Baseline::accept(&finding, "dba", datetime!(2026-12-01 09:00 UTC)).is_err());
}

#[test]
fn result_hash_normalizes_order_and_column_case_only() {
    let columns = vec!["Name".to_owned(), "value".to_owned()];
    let a = vec![
        vec![Some("x".to_owned()), Some("1".to_owned())],
        vec![Some("y".to_owned()), None],
    ];
    let b = vec![
        vec![Some("y".to_owned()), None],
        vec![Some("x ".to_owned()), Some("1".to_owned())],
    ];
    let lower = vec!["name".to_owned(), "VALUE".to_owned()];
    assert_eq!(result_hash(&columns, &a), result_hash(&lower, &b));
    let c = vec![
        vec![Some("x".to_owned()), Some("2".to_owned())],
        vec![Some("y".to_owned()), None],
    ];
    assert_ne!(result_hash(&columns, &a), result_hash(&columns, &c));
    let d = vec![
        vec![Some("x".to_owned()), Some("1".to_owned())],
        vec![Some("y".to_owned()), Some(String::new())],
    ];
    assert_ne!(result_hash(&columns, &a), result_hash(&columns, &d));
    assert_eq!(result_hash(&columns, &a).len(), 64);
}
