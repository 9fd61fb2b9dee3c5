//! Rules for Elastic Beanstalk environments.
//!
//! An environment that is terminating or terminated is not applicable.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "elasticbeanstalk-environment-enhanced-health",
        check: enhanced_health,
    },
    Rule {
        id: "elasticbeanstalk-environment-cloudwatch-logs",
        check: cloudwatch_logs,
    },
];

const HEALTH_SYSTEM: &str = "options.aws:elasticbeanstalk:healthreporting:system.SystemType";
const STREAM_LOGS: &str = "options.aws:elasticbeanstalk:cloudwatch:logs.StreamLogs";

/// Not applicable once the environment is terminating or terminated.
fn terminated(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("status")? {
        Some(status @ ("Terminating" | "Terminated")) => Some(
            Outcome::not_applicable(format!("The environment is {status}."))
                .with(p.evidence("status")),
        ),
        _ => None,
    })
}

/// ElasticBeanstalk.1: the health reporting system is `enhanced`. When the
/// option is not reported, `healthStatus` (which only enhanced health
/// reporting produces) decides.
fn enhanced_health(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = terminated(p)? {
        return Ok(na);
    }
    let system = p.str(HEALTH_SYSTEM)?;
    let enhanced = match system {
        Some(s) => s.eq_ignore_ascii_case("enhanced"),
        None => p.str("healthStatus")?.is_some(),
    };
    Ok(Outcome::either(
        enhanced,
        "Enhanced health reporting is on for the environment.",
        "The environment uses basic health reporting; set `SystemType` to `enhanced`.",
    )
    .with(p.evidence(HEALTH_SYSTEM))
    .with(p.evidence("healthStatus")))
}

/// ElasticBeanstalk.3: instance logs are streamed to CloudWatch Logs
/// (`StreamLogs` is `true`; the option defaults to off).
fn cloudwatch_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = terminated(p)? {
        return Ok(na);
    }
    let stream = p.str(STREAM_LOGS)?;
    Ok(Outcome::either(
        stream.is_some_and(|v| v.eq_ignore_ascii_case("true")),
        "The environment streams its instance logs to CloudWatch Logs.",
        "The environment does not stream its logs to CloudWatch Logs; set `StreamLogs` to `true`.",
    )
    .with(p.evidence(STREAM_LOGS)))
}
