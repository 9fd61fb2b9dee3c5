//! Rule metadata: the data format of `rules/*.toml`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::SqlvaError;

/// The five rule categories of Microsoft Defender for SQL vulnerability assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Logins, users, roles and permissions.
    AuthenticationAndAuthorization,
    /// Audits, traces and login auditing.
    AuditingAndLogging,
    /// Encryption at rest and in transit, key material.
    DataProtection,
    /// Versions, cumulative updates and installation choices.
    InstallationUpdatesAndPatches,
    /// Features and options that widen what an attacker can reach.
    SurfaceAreaReduction,
}

impl Category {
    /// All categories, in display order.
    pub const ALL: [Self; 5] = [
        Self::AuthenticationAndAuthorization,
        Self::AuditingAndLogging,
        Self::DataProtection,
        Self::InstallationUpdatesAndPatches,
        Self::SurfaceAreaReduction,
    ];
}

/// How severe a finding of the rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

/// Where a rule's query runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Once per instance, in `master`.
    Server,
    /// Once per online user database, in that database.
    Database,
}

/// How a rule's query result is judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Judge {
    /// Every row is an offending item: rows = Finding, no rows = NonFinding.
    NoRows,
    /// At least one row is expected; every row's `column` must be one of
    /// `allowed` (trimmed, case-insensitive). No row = Error.
    AllEqual {
        /// The judged column.
        column: String,
        /// The accepted values.
        allowed: Vec<String>,
    },
    /// The first row's `column` is a dotted build number that must be at
    /// least `minimum[major]`; a major version with no recorded minimum
    /// below the newest recorded one is out of support (Finding), above it
    /// the data is stale (Error).
    MinBuild {
        /// The column holding the version, e.g. `16.0.4255.1`.
        column: String,
        /// The date the minimums were recorded.
        as_of: String,
        /// Major version -> minimum build.
        minimum: BTreeMap<String, String>,
    },
}

/// One vulnerability assessment rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, `RVA` followed by four digits.
    pub id: String,
    /// Short title naming the bad state.
    pub title: String,
    /// Defender category.
    pub category: Category,
    /// Severity of a finding.
    pub severity: Severity,
    /// Server or per-database.
    pub scope: Scope,
    /// The matching public Defender `VA####` rule, where known for sure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defender_id: Option<String>,
    /// The read-only T-SQL query.
    pub query: String,
    /// How the result is judged.
    pub judge: Judge,
    /// The judgement in words.
    pub judged_as: String,
    /// Why it matters.
    pub description: String,
    /// What to change (T-SQL or setting).
    pub remediation: String,
    /// Microsoft documentation.
    pub references: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<Rule>,
}

const BUILTIN: [(&str, &str); 5] = [
    (
        "authentication-and-authorization.toml",
        include_str!("../rules/authentication-and-authorization.toml"),
    ),
    (
        "auditing-and-logging.toml",
        include_str!("../rules/auditing-and-logging.toml"),
    ),
    (
        "data-protection.toml",
        include_str!("../rules/data-protection.toml"),
    ),
    (
        "installation-updates-and-patches.toml",
        include_str!("../rules/installation-updates-and-patches.toml"),
    ),
    (
        "surface-area-reduction.toml",
        include_str!("../rules/surface-area-reduction.toml"),
    ),
];

/// Parses one rules file (`[[rule]]` tables).
pub fn parse_rules(file: &str, text: &str) -> Result<Vec<Rule>, SqlvaError> {
    let parsed: RulesFile = toml::from_str(text).map_err(|err| SqlvaError::InvalidRules {
        file: file.to_owned(),
        message: err.to_string(),
    })?;
    Ok(parsed.rule)
}

/// The built-in rules, sorted by id, validated (unique ids, read-only
/// queries, judged columns well formed).
pub fn builtin_rules() -> Result<Vec<Rule>, SqlvaError> {
    let mut all = Vec::new();
    for (file, text) in BUILTIN {
        all.extend(parse_rules(file, text)?);
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    validate(&all)?;
    Ok(all)
}

fn validate(rules: &[Rule]) -> Result<(), SqlvaError> {
    let invalid = |rule: &Rule, message: String| SqlvaError::InvalidRule {
        rule: rule.id.clone(),
        message,
    };
    let mut seen = std::collections::BTreeSet::new();
    for rule in rules {
        let well_formed = rule.id.len() == 7
            && rule.id.starts_with("RVA")
            && rule.id.chars().skip(3).all(|c| c.is_ascii_digit());
        if !well_formed {
            return Err(invalid(rule, "id must be `RVA` and four digits".to_owned()));
        }
        if !seen.insert(rule.id.as_str()) {
            return Err(invalid(rule, "duplicate id".to_owned()));
        }
        check_read_only_rule(rule).map_err(|message| invalid(rule, message))?;
        if rule.references.is_empty() {
            return Err(invalid(rule, "no references".to_owned()));
        }
    }
    Ok(())
}

fn check_read_only_rule(rule: &Rule) -> Result<(), String> {
    crate::check_read_only(&rule.query)?;
    if rule.query.lines().any(|line| line.starts_with("'@")) {
        return Err(
            "a query line starts with `'@`, which ends a PowerShell here-string".to_owned(),
        );
    }
    Ok(())
}
