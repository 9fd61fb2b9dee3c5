//! Judging one rule's query result.

use std::collections::BTreeMap;

use crate::output::Status;
use crate::rules::{Judge, Rule};

/// One query result as the script reported it.
pub(crate) struct ResultSet<'a> {
    pub columns: &'a [String],
    pub rows: &'a [Vec<Option<String>>],
    pub row_count: usize,
    pub rows_truncated: bool,
}

/// The judgement: status, the evidence rows, a message.
pub(crate) struct Verdict {
    pub status: Status,
    pub evidence: Vec<Vec<Option<String>>>,
    pub message: String,
}

fn error(message: String) -> Verdict {
    Verdict {
        status: Status::Error,
        evidence: Vec::new(),
        message,
    }
}

pub(crate) fn judge(rule: &Rule, result: &ResultSet<'_>) -> Verdict {
    match &rule.judge {
        Judge::NoRows => {
            if result.row_count == 0 && result.rows.is_empty() {
                Verdict {
                    status: Status::NonFinding,
                    evidence: Vec::new(),
                    message: "no offending rows".to_owned(),
                }
            } else {
                let count = result.row_count.max(result.rows.len());
                let mut message = format!("{count} offending row(s)");
                if result.rows_truncated {
                    message.push_str(&format!(", {} reported", result.rows.len()));
                }
                Verdict {
                    status: Status::Finding,
                    evidence: result.rows.to_vec(),
                    message,
                }
            }
        }
        Judge::AllEqual { column, allowed } => {
            let Some(index) = column_index(result.columns, column) else {
                return error(format!("result has no column `{column}`"));
            };
            if result.rows.is_empty() {
                return error(format!("expected a row with `{column}`, got none"));
            }
            let offending: Vec<Vec<Option<String>>> = result
                .rows
                .iter()
                .filter(|row| {
                    let value = row.get(index).cloned().flatten();
                    !value.is_some_and(|value| {
                        allowed
                            .iter()
                            .any(|allowed| allowed.trim().eq_ignore_ascii_case(value.trim()))
                    })
                })
                .cloned()
                .collect();
            if offending.is_empty() {
                if result.rows_truncated {
                    return error(
                        "rows were truncated; the unreported rows cannot be judged".to_owned(),
                    );
                }
                return Verdict {
                    status: Status::NonFinding,
                    evidence: Vec::new(),
                    message: format!("`{column}` is one of `{}`", allowed.join("`, `")),
                };
            }
            let values: Vec<String> = offending
                .iter()
                .map(|row| {
                    row.get(index)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "NULL".to_owned())
                })
                .collect();
            Verdict {
                status: Status::Finding,
                message: format!(
                    "`{column}` is `{}`, expected one of `{}`",
                    values.join("`, `"),
                    allowed.join("`, `")
                ),
                evidence: offending,
            }
        }
        Judge::MinBuild {
            column,
            as_of,
            minimum,
        } => min_build(result, column, as_of, minimum),
    }
}

/// Column lookup ignoring case and treating spaces as underscores
/// (`xp_loginconfig` documents its column as `config value`).
fn column_index(columns: &[String], column: &str) -> Option<usize> {
    let wanted = column.replace(' ', "_");
    columns
        .iter()
        .position(|c| c.trim().replace(' ', "_").eq_ignore_ascii_case(&wanted))
}

/// Parses a dotted build number into its numeric parts.
pub(crate) fn parse_build(text: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = text.trim().split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

fn min_build(
    result: &ResultSet<'_>,
    column: &str,
    as_of: &str,
    minimum: &BTreeMap<String, String>,
) -> Verdict {
    let Some(index) = column_index(result.columns, column) else {
        return error(format!("result has no column `{column}`"));
    };
    let Some(row) = result.rows.first() else {
        return error(format!("expected a row with `{column}`, got none"));
    };
    let Some(version) = row.get(index).cloned().flatten() else {
        return error(format!("`{column}` is NULL"));
    };
    let Some(build) = parse_build(&version) else {
        return error(format!("`{column}` `{version}` is not a build number"));
    };
    let major = build.first().copied().unwrap_or_default();
    let finding = |message: String| Verdict {
        status: Status::Finding,
        evidence: vec![row.clone()],
        message,
    };
    match minimum.get(&major.to_string()) {
        Some(required) => {
            let Some(required_build) = parse_build(required) else {
                return error(format!(
                    "rule data minimum `{required}` is not a build number"
                ));
            };
            if build >= required_build {
                Verdict {
                    status: Status::NonFinding,
                    evidence: Vec::new(),
                    message: format!(
                        "build `{version}` is at least `{required}` (recorded {as_of})"
                    ),
                }
            } else {
                finding(format!(
                    "build `{version}` is older than `{required}`, the latest cumulative update recorded {as_of}"
                ))
            }
        }
        None => {
            let newest = minimum
                .keys()
                .filter_map(|k| k.parse::<u64>().ok())
                .max()
                .unwrap_or_default();
            if major > newest {
                error(format!(
                    "major version `{major}` is newer than the rule data (recorded {as_of}); refresh the minimum builds"
                ))
            } else {
                finding(format!(
                    "major version `{major}` has no supported cumulative update line (recorded {as_of})"
                ))
            }
        }
    }
}
