//! Parsing the script's output into assessments.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::baseline::BaselineMatch;
use crate::judge::{ResultSet, judge};
use crate::rules::{Rule, Scope};

/// The outcome of one rule on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The rule found the bad state.
    Finding,
    /// The rule ran and the state is as expected (or accepted by a baseline).
    NonFinding,
    /// The rule could not be judged: the query failed, the output was cut
    /// off, or the login could not see enough. Never a NonFinding.
    Error,
}

/// One rule's assessment on the instance (`database` = None) or on one
/// user database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// Rule id.
    pub rule: String,
    /// The user database for database-scope rules.
    pub database: Option<String>,
    /// Finding, NonFinding or Error.
    pub status: Status,
    /// Column names of the query result.
    pub columns: Vec<String>,
    /// Evidence: the offending rows (empty for NonFinding and Error).
    pub evidence: Vec<Vec<Option<String>>>,
    /// Rows the query returned (may exceed the rows reported).
    pub row_count: usize,
    /// The script reported only the first rows.
    pub rows_truncated: bool,
    /// The script reported a record for this rule and target.
    pub reported: bool,
    /// What was found or what went wrong.
    pub message: String,
    /// Set when an accepted baseline turned a Finding into a NonFinding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineMatch>,
}

/// The parsed output of one script run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The SQL Server instance the script targeted.
    pub instance: Option<String>,
    /// The host name the script reported.
    pub server: Option<String>,
    /// The script reached its end record and stayed within its budget.
    pub complete: bool,
    /// One result per (rule, database), sorted by rule then database.
    pub results: Vec<RuleResult>,
    /// Parse notes: ignored lines, unknown rules, skipped databases.
    pub notes: Vec<String>,
}

impl Assessment {
    /// (rule, database) pairs the script never reported: run them again in
    /// a smaller script.
    pub fn unreported(&self) -> Vec<(String, Option<String>)> {
        self.results
            .iter()
            .filter(|r| !r.reported)
            .map(|r| (r.rule.clone(), r.database.clone()))
            .collect()
    }

    /// Count of results with this status.
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// One output line (format v1, see the crate README).
#[derive(Deserialize)]
struct Line {
    sqlva: u32,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    columns: Option<Vec<String>>,
    #[serde(default)]
    rows: Option<Vec<Vec<serde_json::Value>>>,
    #[serde(default)]
    row_count: Option<usize>,
    #[serde(default)]
    rows_truncated: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    instance: Option<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    rules: Option<Vec<String>>,
    #[serde(default)]
    budget: Option<usize>,
}

struct Record {
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
    row_count: usize,
    rows_truncated: bool,
    error: Option<String>,
}

fn value_text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

impl Record {
    fn from_line(line: Line) -> Self {
        let rows: Vec<Vec<Option<String>>> = line
            .rows
            .unwrap_or_default()
            .into_iter()
            .map(|row| row.into_iter().map(value_text).collect())
            .collect();
        let error = match (&line.error, &line.columns) {
            (Some(error), _) => Some(error.clone()),
            (None, None) => Some("record has neither a result nor an error".to_owned()),
            (None, Some(_)) => None,
        };
        Self {
            columns: line.columns.unwrap_or_default(),
            row_count: line.row_count.unwrap_or(rows.len()),
            rows,
            rows_truncated: line.rows_truncated,
            error,
        }
    }

    fn cell(&self, row: &[Option<String>], column: &str) -> Option<String> {
        let index = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))?;
        row.get(index).cloned().flatten()
    }
}

/// Parses the script's standard output. `rules` are the rules the script
/// was rendered with (normally [`crate::builtin_rules`]). Every expected
/// (rule, database) pair gets exactly one result; a pair without a record
/// is an Error, never a NonFinding.
pub fn parse_output(text: &str, rules: &[Rule]) -> Assessment {
    let mut notes = Vec::new();
    let mut begin: Option<Line> = None;
    let mut fatal: Option<String> = None;
    let mut budget_stop: Option<usize> = None;
    let mut ended = false;
    let mut permissions: Option<Record> = None;
    let mut databases: Option<Record> = None;
    let mut records: BTreeMap<(String, Option<String>), Record> = BTreeMap::new();
    let by_id: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();

    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut ignored = 0usize;
    for (index, raw) in lines.iter().enumerate() {
        let parsed = if raw.starts_with('{') {
            serde_json::from_str::<Line>(raw).ok()
        } else {
            None
        };
        let Some(line) = parsed else {
            if index + 1 == lines.len() && raw.starts_with("{\"sqlva\"") {
                notes.push("the last line is cut off: the output was truncated".to_owned());
            } else {
                ignored += 1;
            }
            continue;
        };
        if line.sqlva != 1 {
            notes.push(format!(
                "record of unknown format version `{}` ignored",
                line.sqlva
            ));
            continue;
        }
        if ended {
            notes.push("record after the end record ignored".to_owned());
            continue;
        }
        match (line.event.as_deref(), line.rule.as_deref()) {
            (Some("begin"), _) => begin = Some(line),
            (Some("fatal"), _) => {
                fatal = Some(line.error.unwrap_or_else(|| "unknown error".to_owned()));
            }
            (Some("budget_exhausted"), _) => budget_stop = Some(line.budget.unwrap_or_default()),
            (Some("end"), _) => ended = true,
            (Some(other), _) => notes.push(format!("unknown event `{other}` ignored")),
            (None, Some("_permissions")) => permissions = Some(Record::from_line(line)),
            (None, Some("_databases")) => databases = Some(Record::from_line(line)),
            (None, Some(rule)) => {
                let rule = rule.to_owned();
                let Some(known) = by_id.get(rule.as_str()) else {
                    notes.push(format!("record for unknown rule `{rule}` ignored"));
                    continue;
                };
                let scope_ok = match known.scope {
                    Scope::Server => line.database.is_none(),
                    Scope::Database => line.database.is_some(),
                };
                if !scope_ok {
                    notes.push(format!(
                        "record for rule `{rule}` does not match its scope; ignored"
                    ));
                    continue;
                }
                let key = (rule, line.database.clone());
                if records.contains_key(&key) {
                    notes.push(format!("duplicate record for rule `{}` ignored", key.0));
                    continue;
                }
                records.insert(key, Record::from_line(line));
            }
            (None, None) => ignored += 1,
        }
    }
    if ignored > 0 {
        notes.push(format!("{ignored} line(s) that are not records ignored"));
    }

    // The rules the script ran.
    let expected_rules: Vec<&Rule> = match begin.as_ref().and_then(|b| b.rules.as_ref()) {
        Some(ids) => {
            for id in ids {
                if !by_id.contains_key(id.as_str()) {
                    notes.push(format!("the script ran unknown rule `{id}`; ignored"));
                }
            }
            let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            rules
                .iter()
                .filter(|r| wanted.contains(r.id.as_str()))
                .collect()
        }
        None => {
            notes.push("no begin record: every given rule is expected".to_owned());
            rules.iter().collect()
        }
    };
    let (instance, server) = begin.map(|b| (b.instance, b.server)).unwrap_or_default();

    // Reasons that block judging every rule.
    let blocked = fatal
        .map(|e| format!("the script could not run: {e}"))
        .or_else(|| permission_problem(permissions.as_ref()));

    // The databases database-scope rules ran in.
    let database_list: Result<Vec<String>, String> = match &databases {
        None => Err("the database list was not reported".to_owned()),
        Some(Record { error: Some(e), .. }) => Err(format!("the database list query failed: {e}")),
        Some(record) => {
            let mut online = Vec::new();
            for row in &record.rows {
                let name = record.cell(row, "name").unwrap_or_default();
                let state = record.cell(row, "state_desc").unwrap_or_default();
                if state.eq_ignore_ascii_case("ONLINE") {
                    online.push(name);
                } else {
                    notes.push(format!(
                        "database `{name}` is `{state}` and was not assessed"
                    ));
                }
            }
            Ok(online)
        }
    };

    let missing_reason = if let Some(budget) = budget_stop {
        format!(
            "not reported: the script stopped at its output budget of {budget} characters; run the unreported rules again"
        )
    } else if !ended {
        "not reported: the output ends before the script finished (SSM keeps only the first 24,000 characters)"
            .to_owned()
    } else {
        "not reported by the script".to_owned()
    };

    let mut results = Vec::new();
    for rule in expected_rules {
        let targets: Vec<Option<String>> = match rule.scope {
            Scope::Server => vec![None],
            Scope::Database => match &database_list {
                Ok(names) => names.iter().cloned().map(Some).collect(),
                Err(problem) => {
                    let message = blocked.clone().unwrap_or_else(|| problem.clone());
                    results.push(error_result(rule, None, message, false));
                    continue;
                }
            },
        };
        for database in targets {
            let key = (rule.id.clone(), database.clone());
            let record = records.remove(&key);
            let reported = record.is_some();
            let result = match (&blocked, record) {
                (Some(problem), _) => error_result(rule, database, problem.clone(), reported),
                (None, None) => error_result(rule, database, missing_reason.clone(), false),
                (None, Some(record)) => judge_record(rule, database, record),
            };
            results.push(result);
        }
    }
    for (rule, database) in records.into_keys() {
        notes.push(format!(
            "record for rule `{rule}` on `{}` was not expected; ignored",
            database.as_deref().unwrap_or("the server")
        ));
    }
    results.sort_by(|a, b| (&a.rule, &a.database).cmp(&(&b.rule, &b.database)));
    Assessment {
        instance,
        server,
        complete: ended && budget_stop.is_none(),
        results,
        notes,
    }
}

fn permission_problem(permissions: Option<&Record>) -> Option<String> {
    let Some(record) = permissions else {
        return Some(
            "the login's permissions were not reported; catalog views may hide rows".to_owned(),
        );
    };
    if let Some(error) = &record.error {
        return Some(format!("the permission check failed: {error}"));
    }
    let Some(row) = record.rows.first() else {
        return Some("the permission check returned no row".to_owned());
    };
    let login = record.cell(row, "login_name").unwrap_or_default();
    let missing: Vec<&str> = ["view_server_state", "view_any_definition"]
        .into_iter()
        .filter(|column| record.cell(row, column).as_deref() != Some("1"))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "the login `{login}` lacks `{}`; catalog views would hide rows, so no rule is judged",
        missing.join("`, `").replace('_', " ").to_ascii_uppercase()
    ))
}

fn error_result(
    rule: &Rule,
    database: Option<String>,
    message: String,
    reported: bool,
) -> RuleResult {
    RuleResult {
        rule: rule.id.clone(),
        database,
        status: Status::Error,
        columns: Vec::new(),
        evidence: Vec::new(),
        row_count: 0,
        rows_truncated: false,
        reported,
        message,
        baseline: None,
    }
}

fn judge_record(rule: &Rule, database: Option<String>, record: Record) -> RuleResult {
    if let Some(error) = record.error {
        return error_result(rule, database, format!("query failed: {error}"), true);
    }
    let verdict = judge(
        rule,
        &ResultSet {
            columns: &record.columns,
            rows: &record.rows,
            row_count: record.row_count,
            rows_truncated: record.rows_truncated,
        },
    );
    RuleResult {
        rule: rule.id.clone(),
        database,
        status: verdict.status,
        columns: record.columns,
        evidence: verdict.evidence,
        row_count: record.row_count,
        rows_truncated: record.rows_truncated,
        reported: true,
        message: verdict.message,
        baseline: None,
    }
}
