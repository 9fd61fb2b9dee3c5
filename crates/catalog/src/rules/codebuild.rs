//! Rules for CodeBuild projects and report groups.
//!
//! A project or report group deleted while the scan ran (or being
//! deleted) is not applicable.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "codebuild-project-source-url-no-credentials",
        check: source_url_no_credentials,
    },
    Rule {
        id: "codebuild-project-no-plaintext-aws-credentials",
        check: no_plaintext_aws_credentials,
    },
    Rule {
        id: "codebuild-project-s3-logs-encrypted",
        check: s3_logs_encrypted,
    },
    Rule {
        id: "codebuild-project-logging",
        check: logging,
    },
    Rule {
        id: "codebuild-project-no-privileged-mode",
        check: no_privileged_mode,
    },
    Rule {
        id: "codebuild-report-group-export-encrypted",
        check: report_group_export_encrypted,
    },
];

/// The variable names CodeBuild.2 looks for.
const CREDENTIAL_NAMES: &[&str] = &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/// Not applicable when the project was deleted while the scan ran.
fn deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The project was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

/// CodeBuild.1: no Bitbucket source (primary or secondary) has a password
/// or token in its URL. Not applicable without a Bitbucket source.
fn source_url_no_credentials(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let sources = p.array("sources")?;
    let bitbucket: Vec<Node<'_>> = sources
        .iter()
        .filter(|s| s.get("type").and_then(Node::as_str) == Some("BITBUCKET"))
        .collect();
    if bitbucket.is_empty() {
        return Ok(
            Outcome::not_applicable("The project has no Bitbucket source.")
                .with(p.evidence("sources")),
        );
    }
    let leaking: Vec<String> = bitbucket
        .iter()
        .filter(|s| s.get("credentialsInUrl").and_then(Node::as_bool) == Some(true))
        .map(|s| {
            format!(
                "`{}`",
                s.get("location").and_then(Node::as_str).unwrap_or("?")
            )
        })
        .collect();
    Ok(Outcome::either(
        leaking.is_empty(),
        "The project's Bitbucket source URLs carry no password or token.",
        format!(
            "Bitbucket source URL(s) {} embed a password or token (redacted here); connect through OAuth or CodeConnections and revoke the credential.",
            leaking.join(", ")
        ),
    )
    .with(p.evidence("sources")))
}

/// CodeBuild.2: no `PLAINTEXT` environment variable is named
/// `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY`.
fn no_plaintext_aws_credentials(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let found: Vec<&str> = p
        .array("environment.environmentVariables")?
        .iter()
        .filter(|v| v.get("type").and_then(Node::as_str).unwrap_or("PLAINTEXT") == "PLAINTEXT")
        .filter_map(|v| v.get("name").and_then(Node::as_str))
        .filter(|name| CREDENTIAL_NAMES.contains(name))
        .collect();
    Ok(Outcome::either(
        found.is_empty(),
        "The project has no AWS credentials in plain-text environment variables.",
        format!(
            "The project holds AWS credentials in plain-text environment variable(s) `{}`; use the service role, and Parameter Store or Secrets Manager for secrets.",
            found.join("`, `")
        ),
    )
    .with(p.evidence("environment.environmentVariables")))
}

/// CodeBuild.3: S3 logs, when on, are encrypted. Not applicable when the
/// project does not write logs to S3.
fn s3_logs_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if p.str("logsConfig.s3Logs.status")? != Some("ENABLED") {
        return Ok(
            Outcome::not_applicable("The project does not write its logs to S3.")
                .with(p.evidence("logsConfig.s3Logs")),
        );
    }
    Ok(Outcome::either(
        p.bool("logsConfig.s3Logs.encryptionDisabled")? != Some(true),
        "The project's S3 logs are encrypted.",
        "The project writes its logs to S3 unencrypted; turn `encryptionDisabled` off.",
    )
    .with(p.evidence("logsConfig.s3Logs")))
}

/// CodeBuild.4: CloudWatch Logs or S3 logs are on. A project without a
/// logs configuration has CloudWatch Logs on (the CodeBuild default).
fn logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let cloudwatch = p.str("logsConfig.cloudWatchLogs.status")?;
    let s3 = p.str("logsConfig.s3Logs.status")?;
    let on = cloudwatch.is_none_or(|s| s == "ENABLED") || s3 == Some("ENABLED");
    Ok(Outcome::either(
        on,
        "The project sends its build logs to CloudWatch Logs or S3.",
        "The project keeps no build logs: CloudWatch Logs and S3 logs are both off.",
    )
    .with(p.evidence("logsConfig")))
}

/// CodeBuild.5: privileged mode is off.
fn no_privileged_mode(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.bool("environment.privilegedMode")? != Some(true),
        "The project's build environment does not run in privileged mode.",
        "The project's build environment runs in privileged mode; turn it off unless the project builds Docker images.",
    )
    .with(p.evidence("environment.privilegedMode")))
}

/// CodeBuild.7: an S3 report export is encrypted. Not applicable to report
/// groups that do not export, or that are being deleted.
fn report_group_export_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("status")? == Some("DELETING") {
        return Ok(
            Outcome::not_applicable("The report group is being deleted.")
                .with(p.evidence("status")),
        );
    }
    if p.str("exportConfigType")? != Some("S3") {
        return Ok(
            Outcome::not_applicable("The report group does not export its reports to S3.")
                .with(p.evidence("exportConfigType")),
        );
    }
    Ok(Outcome::either(
        p.bool("s3Destination.encryptionDisabled")? != Some(true),
        "The report group's S3 exports are encrypted.",
        "The report group exports its reports to S3 unencrypted; turn `encryptionDisabled` off.",
    )
    .with(p.evidence("s3Destination")))
}
