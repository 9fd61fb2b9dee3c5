//! Rules for Lambda functions: public resource policies, deprecated
//! runtimes, VPC placement and Availability Zone spread.
//!
//! The deprecated-runtime list below is data, reviewed as of
//! [`RUNTIMES_AS_OF`]: update both together when Lambda announces new
//! deprecations (<https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html>).

use std::collections::BTreeSet;

use super::policy::{self, Statement, statements};
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "lambda-function-public-access-prohibited",
        check: function_public_access_prohibited,
    },
    Rule {
        id: "lambda-function-supported-runtime",
        check: function_supported_runtime,
    },
    Rule {
        id: "lambda-function-in-vpc",
        check: function_in_vpc,
    },
    Rule {
        id: "lambda-function-multi-az",
        check: function_multi_az,
    },
];

/// The date the deprecated-runtime list was last reviewed.
const RUNTIMES_AS_OF: &str = "2026-05-01";

/// Lambda-managed runtimes deprecated on or before [`RUNTIMES_AS_OF`], with
/// their deprecation date (Lambda stops security patches for them).
const DEPRECATED_RUNTIMES: &[(&str, &str)] = &[
    ("nodejs", "2016-10-31"),
    ("nodejs4.3", "2020-03-05"),
    ("nodejs4.3-edge", "2019-04-30"),
    ("nodejs6.10", "2019-08-12"),
    ("nodejs8.10", "2020-03-06"),
    ("nodejs10.x", "2021-07-30"),
    ("nodejs12.x", "2023-03-31"),
    ("nodejs14.x", "2023-12-04"),
    ("nodejs16.x", "2024-06-12"),
    ("nodejs18.x", "2025-09-01"),
    ("nodejs20.x", "2026-04-30"),
    ("python2.7", "2021-07-15"),
    ("python3.6", "2022-07-18"),
    ("python3.7", "2023-12-04"),
    ("python3.8", "2024-10-14"),
    ("python3.9", "2025-12-15"),
    ("java8", "2024-01-08"),
    ("dotnetcore1.0", "2019-07-30"),
    ("dotnetcore2.0", "2019-05-30"),
    ("dotnetcore2.1", "2022-01-05"),
    ("dotnetcore3.1", "2023-04-03"),
    ("dotnet5.0", "2022-05-10"),
    ("dotnet6", "2024-12-20"),
    ("dotnet7", "2024-05-14"),
    ("ruby2.5", "2021-07-30"),
    ("ruby2.7", "2023-12-07"),
    ("ruby3.2", "2026-03-31"),
    ("go1.x", "2024-01-08"),
    ("provided", "2024-01-08"),
];

/// Whether a service principal (`s3.amazonaws.com`) may invoke without a
/// condition naming the source account or resource: any account's bucket,
/// topic or rule could then trigger the function (the confused deputy).
fn unrestricted_service_grant(stmt: &Statement<'_>) -> bool {
    stmt.is_allow() && !stmt.principals("Service").is_empty() && !stmt.restricts_principal()
}

/// A statement's label for messages: its `Sid`, or its position.
fn label(stmt: &Statement<'_>) -> String {
    stmt.sid()
        .map_or_else(|| format!("#{}", stmt.index + 1), |sid| format!("`{sid}`"))
}

/// Lambda.1: the function's resource policy lets no one outside the account
/// invoke or manage it: no statement for everyone (`*`, `{"AWS": "*"}`)
/// without a condition pinning the caller (`aws:SourceAccount`,
/// `aws:SourceArn`, `aws:PrincipalOrgID`…), and no grant to an AWS service
/// principal without a source condition. Every function is assessed: one
/// without a resource-based policy passes (only IAM identities of its own
/// account can reach it).
fn function_public_access_prohibited(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let Some(doc) = policy::read(p, "policy")? else {
        return Ok(Outcome::healthy(
            "The function has no resource-based policy; only identities of its own account can invoke it.",
        )
        .with(p.evidence("policy")));
    };
    let stmts = statements(doc);
    let public: Vec<String> = stmts.iter().filter(|s| s.is_public()).map(label).collect();
    let services: Vec<String> = stmts
        .iter()
        .filter(|s| !s.is_public() && unrestricted_service_grant(s))
        .map(label)
        .collect();
    let outcome = if !public.is_empty() {
        Outcome::unhealthy(format!(
            "The function policy lets anyone invoke or manage the function (statement {}); remove the statement or add an `aws:SourceAccount`/`aws:PrincipalOrgID` condition.",
            public.join(", ")
        ))
    } else if !services.is_empty() {
        Outcome::unhealthy(format!(
            "The function policy lets an AWS service invoke it on behalf of any account (statement {}); add an `aws:SourceAccount` or `aws:SourceArn` condition.",
            services.join(", ")
        ))
    } else {
        Outcome::healthy(
            "The function policy grants access only to known accounts, organizations or source resources.",
        )
    };
    Ok(outcome.with(p.evidence("policy")))
}

/// Lambda.2: the function's runtime is not one Lambda has deprecated (see
/// [`DEPRECATED_RUNTIMES`], reviewed as of [`RUNTIMES_AS_OF`]); custom
/// runtimes (`provided.al2`, `provided.al2023`) count as supported. Not
/// applicable: container-image functions, which have no managed runtime.
fn function_supported_runtime(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let package = p.str("packageType")?;
    let runtime = p.str("runtime")?;
    if package == Some("Image") {
        return Ok(Outcome::not_applicable(
            "The function is deployed as a container image; its runtime is whatever the image contains.",
        )
        .with(p.evidence("packageType")));
    }
    let Some(runtime) = runtime else {
        return Err(Unreadable {
            path: "runtime".to_owned(),
            error: "the function is a .zip package but the API returned no runtime".to_owned(),
        });
    };
    let deprecated = DEPRECATED_RUNTIMES.iter().find(|(r, _)| *r == runtime);
    Ok(match deprecated {
        Some((_, date)) => Outcome::unhealthy(format!(
            "The function runs on `{runtime}`, which Lambda deprecated on {date} and no longer patches; move it to a supported runtime."
        )),
        None => Outcome::healthy(format!(
            "The function runs on `{runtime}`, which was not deprecated as of {RUNTIMES_AS_OF}."
        )),
    }
    .with(p.evidence("runtime")))
}

/// Lambda.3: the function is attached to a VPC (`vpcConfig` with subnets),
/// so its network access goes through security groups and VPC routing. Not
/// applicable: Lambda@Edge replicas (names prefixed with the `us-east-1.`
/// origin region), which cannot be attached to a VPC.
fn function_in_vpc(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let name = p.str("functionName")?.unwrap_or_default();
    if name.starts_with("us-east-1.") {
        return Ok(Outcome::not_applicable(
            "The function is a Lambda@Edge replica, which Lambda cannot attach to a VPC.",
        )
        .with(p.evidence("functionName")));
    }
    let subnets = p.array("vpcConfig.subnetIds")?;
    Ok(Outcome::either(
        !subnets.is_empty(),
        "The function is attached to a VPC.",
        "The function is not attached to a VPC; configure `VpcConfig` with private subnets and security groups.",
    )
    .with(p.evidence("vpcConfig")))
}

/// Lambda.5: a function attached to a VPC uses subnets in at least two
/// Availability Zones, so one zone's outage does not stop it. Not
/// applicable: functions not attached to a VPC (Lambda spreads those over
/// zones itself). A subnet whose zone the scan could not resolve (deleted,
/// or the lookup failed) makes the result an error unless the known zones
/// already number two.
fn function_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let ids = p.array("vpcConfig.subnetIds")?;
    if ids.is_empty() {
        return Ok(
            Outcome::not_applicable("The function is not attached to a VPC.")
                .with(p.evidence("vpcConfig")),
        );
    }
    let subnets = p.array("vpcConfig.subnets")?;
    let zones: BTreeSet<&str> = subnets
        .iter()
        .filter_map(|s| s.get("availabilityZone").and_then(|z| z.as_str()))
        .collect();
    if zones.len() >= 2 {
        return Ok(Outcome::healthy(format!(
            "The function's subnets span {} Availability Zones.",
            zones.len()
        ))
        .with(p.evidence("vpcConfig.subnets")));
    }
    let unknown = ids.len() > subnets.len()
        || subnets
            .iter()
            .any(|s| s.get("availabilityZone").is_none_or(|z| z.is_null()));
    if unknown {
        return Err(Unreadable {
            path: "vpcConfig.subnets".to_owned(),
            error: "the Availability Zone of some of the function's subnets is unknown (subnet not found)"
                .to_owned(),
        });
    }
    Ok(Outcome::unhealthy(format!(
        "The function's subnets are all in {}; add a subnet in another Availability Zone.",
        zones.into_iter().next().unwrap_or("one Availability Zone")
    ))
    .with(p.evidence("vpcConfig.subnets")))
}
