//! Baselines: accepting a rule's result as expected.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::SqlvaError;
use crate::output::{RuleResult, Status};

/// An accepted result for one rule on one target. While the rule returns
/// exactly these rows again, it is a NonFinding; any change makes it a
/// Finding again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Rule id.
    pub rule: String,
    /// The user database, for database-scope rules.
    pub database: Option<String>,
    /// [`result_hash`] of the accepted columns and rows.
    pub result_hash: String,
    /// Who accepted it.
    pub accepted_by: String,
    /// When it was accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub accepted_at: OffsetDateTime,
}

/// Marks a result that is a NonFinding because it matches a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineMatch {
    /// Who accepted the baseline.
    pub accepted_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub accepted_at: OffsetDateTime,
}

/// SHA-256 (hex) of a normalized result: column names trimmed and lower
/// case, values trimmed, rows sorted. Row order and case of column names do
/// not change the hash; any value does.
pub fn result_hash(columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    let columns: Vec<String> = columns.iter().map(|c| c.trim().to_lowercase()).collect();
    let mut rows: Vec<Vec<Option<String>>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| v.as_ref().map(|v| v.trim().to_owned()))
                .collect()
        })
        .collect();
    rows.sort();
    let normalized = serde_json::json!({ "columns": columns, "rows": rows });
    let digest = Sha256::digest(normalized.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Baseline {
    /// Accepts a Finding's evidence (or a NonFinding's empty result) as the
    /// expected result. Errors and results with truncated rows cannot be
    /// accepted: their rows are not the whole result.
    pub fn accept(
        result: &RuleResult,
        accepted_by: &str,
        accepted_at: OffsetDateTime,
    ) -> Result<Self, SqlvaError> {
        let refuse = |message: &str| SqlvaError::NotBaselinable {
            rule: result.rule.clone(),
            message: message.to_owned(),
        };
        if result.status == Status::Error {
            return Err(refuse("the result is an error"));
        }
        if result.rows_truncated {
            return Err(refuse("the rows were truncated"));
        }
        Ok(Self {
            rule: result.rule.clone(),
            database: result.database.clone(),
            result_hash: result_hash(&result.columns, &result.evidence),
            accepted_by: accepted_by.to_owned(),
            accepted_at,
        })
    }
}

/// Applies baselines: a Finding whose evidence hashes to its baseline's
/// `result_hash` becomes a NonFinding with [`RuleResult::baseline`] set; a
/// Finding that differs stays a Finding and says so. NonFindings and Errors
/// are unchanged; a truncated result never matches.
pub fn apply_baselines(results: Vec<RuleResult>, baselines: &[Baseline]) -> Vec<RuleResult> {
    results
        .into_iter()
        .map(|mut result| {
            if result.status != Status::Finding {
                return result;
            }
            let Some(baseline) = baselines
                .iter()
                .find(|b| b.rule == result.rule && b.database == result.database)
            else {
                return result;
            };
            let matches = !result.rows_truncated
                && result_hash(&result.columns, &result.evidence) == baseline.result_hash;
            if matches {
                result.status = Status::NonFinding;
                result.message = format!(
                    "{} (matches the baseline accepted by `{}`)",
                    result.message, baseline.accepted_by
                );
                result.baseline = Some(BaselineMatch {
                    accepted_by: baseline.accepted_by.clone(),
                    accepted_at: baseline.accepted_at,
                });
            } else {
                result.message = format!(
                    "{} (changed since the baseline accepted by `{}`)",
                    result.message, baseline.accepted_by
                );
            }
            result
        })
        .collect()
}
