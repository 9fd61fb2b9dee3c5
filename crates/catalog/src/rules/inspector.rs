//! Rules for Amazon Inspector and Amazon Macie, over their per-region
//! status assets (`Rampart::Inspector::RegionStatus`,
//! `Rampart::Macie::RegionStatus`).

use super::cloudtrail::{region_disabled_outcome, region_not_enabled};
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "inspector-ec2-scanning",
        check: ec2,
    },
    Rule {
        id: "inspector-ecr-scanning",
        check: ecr,
    },
    Rule {
        id: "inspector-lambda-code-scanning",
        check: lambda_code,
    },
    Rule {
        id: "inspector-lambda-standard-scanning",
        check: lambda,
    },
    Rule {
        id: "macie-enabled",
        check: macie,
    },
];

/// The status at `path` is `ENABLED`. Not applicable: a region that is not
/// enabled for the account.
fn status_enabled(
    p: &Props<'_>,
    path: &str,
    healthy: &'static str,
    unhealthy: &'static str,
) -> Result<Outcome, Unreadable> {
    let status = match p.str(path) {
        Ok(v) => v,
        Err(err) if region_not_enabled(&err) => return Ok(region_disabled_outcome(&err)),
        Err(err) => return Err(err),
    };
    let Some(status) = status else {
        return Err(Unreadable {
            path: path.to_owned(),
            error: "the status was not reported".to_owned(),
        });
    };
    Ok(Outcome::either(status == "ENABLED", healthy, unhealthy).with(p.evidence(path)))
}

/// FSBP Inspector.1: EC2 scanning is activated in the region.
fn ec2(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    status_enabled(
        p,
        "ec2",
        "Amazon Inspector scans EC2 instances in this region.",
        "Amazon Inspector EC2 scanning is not active in this region; activate it so instances are scanned for software vulnerabilities and network exposure.",
    )
}

/// FSBP Inspector.2: ECR scanning is activated in the region.
fn ecr(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    status_enabled(
        p,
        "ecr",
        "Amazon Inspector scans ECR container images in this region.",
        "Amazon Inspector ECR scanning is not active in this region; activate it so pushed images are scanned for vulnerabilities.",
    )
}

/// FSBP Inspector.3: Lambda code scanning is activated in the region.
fn lambda_code(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    status_enabled(
        p,
        "lambdaCode",
        "Amazon Inspector scans Lambda function code in this region.",
        "Amazon Inspector Lambda code scanning is not active in this region; activate it so function code is checked for vulnerabilities and leaked secrets.",
    )
}

/// FSBP Inspector.4: Lambda standard scanning is activated in the region.
fn lambda(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    status_enabled(
        p,
        "lambda",
        "Amazon Inspector scans Lambda function dependencies in this region.",
        "Amazon Inspector Lambda standard scanning is not active in this region; activate it so function packages are scanned for vulnerable dependencies.",
    )
}

/// FSBP Macie.1: Macie is enabled (its session is `ENABLED`; `PAUSED` and
/// `DISABLED` fail).
fn macie(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    status_enabled(
        p,
        "status",
        "Amazon Macie is enabled in this region.",
        "Amazon Macie is not enabled (or is paused) in this region; enable it to discover sensitive data in S3.",
    )
}
