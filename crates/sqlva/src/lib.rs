//! SQL Server vulnerability assessment: read-only T-SQL rules kept as data,
//! the single PowerShell script Rampart sends through SSM Run Command
//! (`AWS-RunPowerShellScript`) to run them, the parser that turns the
//! script's output into per-rule assessments, and baselines that accept an
//! expected result.
//!
//! Pure: no I/O. The rules are compiled in from `rules/*.toml`.

mod baseline;
mod judge;
mod output;
mod readonly;
mod rules;
mod script;

pub use baseline::{Baseline, BaselineMatch, apply_baselines, result_hash};
pub use output::{Assessment, RuleResult, Status, parse_output};
pub use readonly::check_read_only;
pub use rules::{Category, Judge, Rule, Scope, Severity, builtin_rules, parse_rules};
pub use script::{
    DATABASE_LIST_QUERY, PERMISSIONS_QUERY, SSM_OUTPUT_LIMIT, ScriptOptions, render_script,
};

/// Errors of the SQL vulnerability assessment subsystem.
#[derive(Debug, thiserror::Error)]
pub enum SqlvaError {
    /// A rules file is not valid TOML or does not match the rule format.
    #[error("rules file `{file}` is invalid: {message}")]
    InvalidRules {
        /// The rules file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// Rule metadata breaks an invariant (duplicate id, bad query, ...).
    #[error("rule `{rule}` is invalid: {message}")]
    InvalidRule {
        /// The rule id.
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// Script options cannot be rendered safely.
    #[error("invalid script option `{option}`: {message}")]
    InvalidOption {
        /// The option name.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// A result cannot be accepted as a baseline.
    #[error("cannot accept rule `{rule}` as a baseline: {message}")]
    NotBaselinable {
        /// The rule id.
        rule: String,
        /// Why not.
        message: String,
    },
}
