//! Rules for data-platform services: AWS Glue (ML transforms, Spark jobs)
//! and Amazon Athena (workgroups).

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "glue-ml-transform-encrypted",
        check: ml_transform_encrypted,
    },
    Rule {
        id: "glue-spark-job-supported-version",
        check: spark_job_supported_version,
    },
    Rule {
        id: "athena-workgroup-encrypted",
        check: workgroup_encrypted,
    },
    Rule {
        id: "athena-workgroup-logging",
        check: workgroup_logging,
    },
];

/// FSBP Glue.3: the ML transform encrypts its user data at rest with KMS
/// (no encryption setting, or `DISABLED`, fails). Not applicable: a
/// transform being deleted.
fn ml_transform_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("status")? == Some("DELETING") {
        return Ok(
            Outcome::not_applicable("The transform is being deleted.").with(p.evidence("status"))
        );
    }
    let mode = p.str("mlUserDataEncryptionMode")?;
    Ok(Outcome::either(
        mode.is_some_and(|m| m != "DISABLED"),
        "The transform encrypts its user data at rest with a KMS key.",
        "The transform does not encrypt its user data at rest; set its ML user data encryption to SSE-KMS.",
    )
    .with(p.evidence("mlUserDataEncryptionMode")))
}

/// The lowest Glue version Security Hub accepts for Spark jobs (its
/// `minimumSupportedGlueVersion` default).
const MINIMUM_GLUE_VERSION: (u32, u32) = (3, 0);

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.').unwrap_or((text, "0"));
    Some((major.trim().parse().ok()?, minor.trim().parse().ok()?))
}

/// FSBP Glue.4: a Spark job (`glueetl`, `gluestreaming`) runs on Glue 3.0
/// or later (Security Hub's default minimum). A job naming no version runs
/// on 0.9, as AWS documents. Not applicable: Python shell and Ray jobs.
fn spark_job_supported_version(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    match p.str("command")? {
        Some("glueetl" | "gluestreaming") => {}
        other => {
            return Ok(Outcome::not_applicable(format!(
                "The job is not a Spark job (command `{}`).",
                other.unwrap_or("none")
            ))
            .with(p.evidence("command")));
        }
    }
    let version = p.str("glueVersion")?.unwrap_or("0.9");
    let Some(parsed) = parse_version(version) else {
        return Err(Unreadable {
            path: "glueVersion".to_owned(),
            error: format!("the Glue version `{version}` is not a version number"),
        });
    };
    Ok(Outcome::either(
        parsed >= MINIMUM_GLUE_VERSION,
        format!("The Spark job runs on AWS Glue {version}."),
        format!("The Spark job runs on AWS Glue {version}, which is out of support; move it to Glue 3.0 or later (4.0 or 5.0 recommended)."),
    )
    .with(p.evidence("glueVersion"))
    .with(p.evidence("command")))
}

/// Not applicable: a workgroup deleted while the scan ran.
fn workgroup_deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The workgroup was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

/// FSBP Athena.1: query results are encrypted at rest (an encryption
/// configuration on the workgroup's result location, or results managed by
/// Athena, which AWS always encrypts).
fn workgroup_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = workgroup_deleted(p)? {
        return Ok(na);
    }
    let configured = p.str("resultEncryption.encryptionOption")?;
    let managed = p.bool("managedQueryResultsEnabled")? == Some(true);
    let outcome = match (configured, managed) {
        (Some(option), _) => {
            Outcome::healthy(format!("Query results are encrypted at rest ({option})."))
        }
        (None, true) => {
            Outcome::healthy("Athena manages the workgroup's query results and encrypts them.")
        }
        (None, false) => Outcome::unhealthy(
            "The workgroup does not encrypt query results; set an encryption configuration (SSE_S3, SSE_KMS or CSE_KMS) and enforce the workgroup's settings.",
        ),
    };
    Ok(outcome
        .with(p.evidence("resultEncryption"))
        .with(p.evidence("managedQueryResultsEnabled")))
}

/// FSBP Athena.4: the workgroup publishes query metrics to CloudWatch.
fn workgroup_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = workgroup_deleted(p)? {
        return Ok(na);
    }
    let on = p.bool("publishCloudWatchMetricsEnabled")? == Some(true);
    Ok(Outcome::either(
        on,
        "The workgroup publishes query metrics to CloudWatch.",
        "The workgroup does not publish query metrics to CloudWatch; turn on CloudWatch metrics for it.",
    )
    .with(p.evidence("publishCloudWatchMetricsEnabled")))
}
