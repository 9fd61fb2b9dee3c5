//! Rules for DMS replication instances, replication tasks and endpoints
//! (DMS.1, .6 to .13).

use super::elasticache::unreported;
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "dms-replication-instance-not-public",
        check: replication_instance_not_public,
    },
    Rule {
        id: "dms-replication-instance-auto-minor-version-upgrade",
        check: replication_instance_auto_minor_version_upgrade,
    },
    Rule {
        id: "dms-replication-task-target-logging",
        check: replication_task_target_logging,
    },
    Rule {
        id: "dms-replication-task-source-logging",
        check: replication_task_source_logging,
    },
    Rule {
        id: "dms-endpoint-ssl",
        check: endpoint_ssl,
    },
    Rule {
        id: "dms-neptune-endpoint-iam-authorization",
        check: neptune_endpoint_iam_authorization,
    },
    Rule {
        id: "dms-mongodb-endpoint-authentication",
        check: mongodb_endpoint_authentication,
    },
    Rule {
        id: "dms-redis-endpoint-tls",
        check: redis_endpoint_tls,
    },
    Rule {
        id: "dms-replication-instance-multi-az",
        check: replication_instance_multi_az,
    },
];

/// Not applicable while the instance is being deleted.
fn instance_gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("status")? {
        Some("deleting") => Some(
            Outcome::not_applicable("The replication instance is being deleted.")
                .with(p.evidence("status")),
        ),
        _ => None,
    })
}

/// DMS.1: the replication instance has no public address.
fn replication_instance_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_gone(p)? {
        return Ok(na);
    }
    let public = p
        .bool("publiclyAccessible")?
        .ok_or_else(|| unreported("publiclyAccessible"))?;
    Ok(Outcome::either(
        !public,
        "The replication instance is private.",
        "The replication instance is publicly accessible; recreate it with public access off (the setting cannot be changed).",
    )
    .with(p.evidence("publiclyAccessible"))
    .with(p.evidence("publicIpAddresses")))
}

/// DMS.6: minor engine upgrades are applied automatically.
fn replication_instance_auto_minor_version_upgrade(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_gone(p)? {
        return Ok(na);
    }
    let on = p
        .bool("autoMinorVersionUpgrade")?
        .ok_or_else(|| unreported("autoMinorVersionUpgrade"))?;
    Ok(Outcome::either(
        on,
        "Minor engine version upgrades are applied automatically.",
        "Automatic minor version upgrades are off for the replication instance; turn them on.",
    )
    .with(p.evidence("autoMinorVersionUpgrade")))
}

/// DMS.13: the replication instance runs in two Availability Zones.
fn replication_instance_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_gone(p)? {
        return Ok(na);
    }
    let on = p.bool("multiAz")?.ok_or_else(|| unreported("multiAz"))?;
    Ok(Outcome::either(
        on,
        "The replication instance has a standby in a second Availability Zone.",
        "The replication instance runs in a single Availability Zone; turn on Multi-AZ.",
    )
    .with(p.evidence("multiAz")))
}

/// Severities at or above `LOGGER_SEVERITY_DEFAULT`.
const ENOUGH: &[&str] = &[
    "LOGGER_SEVERITY_DEFAULT",
    "LOGGER_SEVERITY_DEBUG",
    "LOGGER_SEVERITY_DETAILED_DEBUG",
];

/// DMS.7 / DMS.8: logging on, and each of `components` logged at
/// `LOGGER_SEVERITY_DEFAULT` or more detail.
fn task_logging(p: &Props<'_>, components: &[&str], side: &str) -> Result<Outcome, Unreadable> {
    if let Some("deleting") = p.str("status")? {
        return Ok(
            Outcome::not_applicable("The replication task is being deleted.")
                .with(p.evidence("status")),
        );
    }
    let enabled = p.bool("logging.enableLogging")?.unwrap_or(false);
    if !enabled {
        return Ok(Outcome::unhealthy(format!(
            "Logging is off for the replication task; enable it with {} at `LOGGER_SEVERITY_DEFAULT` or above.",
            components.join(" and ")
        ))
        .with(p.evidence("logging.enableLogging")));
    }
    let mut weak = Vec::new();
    for c in components {
        let severity = p.str(&format!("logging.logComponents.{c}"))?;
        if !severity.is_some_and(|s| ENOUGH.contains(&s)) {
            weak.push(format!("{c} ({})", severity.unwrap_or("not set")));
        }
    }
    let mut outcome = if weak.is_empty() {
        Outcome::healthy(format!(
            "Logging is on and the {side} components are logged at the default severity or above."
        ))
    } else {
        Outcome::unhealthy(format!(
            "Logging is on but {} below `LOGGER_SEVERITY_DEFAULT`; raise their severity.",
            weak.join(", ")
        ))
    }
    .with(p.evidence("logging.enableLogging"));
    for c in components {
        outcome = outcome.with(p.evidence(&format!("logging.logComponents.{c}")));
    }
    Ok(outcome)
}

/// DMS.7: the target database's components (`TARGET_APPLY`, `TARGET_LOAD`).
fn replication_task_target_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    task_logging(p, &["TARGET_APPLY", "TARGET_LOAD"], "target")
}

/// DMS.8: the source database's components (`SOURCE_CAPTURE`,
/// `SOURCE_UNLOAD`).
fn replication_task_source_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    task_logging(p, &["SOURCE_CAPTURE", "SOURCE_UNLOAD"], "source")
}

/// Engines whose DMS endpoints have no `SslMode` setting (they connect
/// through AWS APIs over HTTPS, or have their own TLS setting assessed by
/// another control).
const NO_SSL_MODE: &[&str] = &[
    "s3",
    "dynamodb",
    "kinesis",
    "kafka",
    "elasticsearch",
    "opensearch",
    "neptune",
    "redis",
    "timestream",
];

/// The endpoint's engine; an endpoint being deleted is not applicable.
fn endpoint_engine<'a>(p: &Props<'a>) -> Result<Result<&'a str, Outcome>, Unreadable> {
    if let Some("deleting") = p.str("status")? {
        return Ok(Err(Outcome::not_applicable(
            "The endpoint is being deleted.",
        )
        .with(p.evidence("status"))));
    }
    Ok(Ok(p
        .str("engineName")?
        .ok_or_else(|| unreported("engineName"))?))
}

/// DMS.9: the endpoint connects with SSL (`SslMode` other than `none`).
/// Endpoints of engines without an `SslMode` setting are not applicable.
fn endpoint_ssl(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let engine = match endpoint_engine(p)? {
        Ok(engine) => engine,
        Err(na) => return Ok(na),
    };
    if NO_SSL_MODE.contains(&engine) {
        return Ok(Outcome::not_applicable(format!(
            "`{engine}` endpoints have no SSL mode setting."
        ))
        .with(p.evidence("engineName")));
    }
    let mode = p.str("sslMode")?.unwrap_or("none");
    Ok(Outcome::either(
        mode != "none",
        format!("The endpoint connects with SSL (`{mode}`)."),
        "The endpoint connects without SSL; set its SSL mode to `require`, `verify-ca` or `verify-full`.",
    )
    .with(p.evidence("engineName"))
    .with(p.evidence("sslMode")))
}

/// DMS.10: Neptune target endpoints authorize with IAM.
fn neptune_endpoint_iam_authorization(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let engine = match endpoint_engine(p)? {
        Ok(engine) => engine,
        Err(na) => return Ok(na),
    };
    if engine != "neptune" {
        return Ok(Outcome::not_applicable(format!(
            "The endpoint is a `{engine}` endpoint, not Neptune."
        ))
        .with(p.evidence("engineName")));
    }
    let on = p.bool("neptuneSettings.iamAuthEnabled")?.unwrap_or(false);
    Ok(Outcome::either(
        on,
        "The Neptune endpoint authorizes with IAM.",
        "IAM authorization is off for the Neptune endpoint; set `IamAuthEnabled` in its Neptune settings.",
    )
    .with(p.evidence("neptuneSettings.iamAuthEnabled")))
}

/// DMS.11: MongoDB endpoints authenticate (`AuthType` other than `no`).
fn mongodb_endpoint_authentication(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let engine = match endpoint_engine(p)? {
        Ok(engine) => engine,
        Err(na) => return Ok(na),
    };
    if engine != "mongodb" {
        return Ok(Outcome::not_applicable(format!(
            "The endpoint is a `{engine}` endpoint, not MongoDB."
        ))
        .with(p.evidence("engineName")));
    }
    // AWS's default authentication type is `password`.
    let auth = p.str("mongoDbSettings.authType")?.unwrap_or("password");
    Ok(Outcome::either(
        auth != "no",
        format!("The MongoDB endpoint authenticates (`{auth}`)."),
        "The MongoDB endpoint connects without authentication; set its authentication type to `password` with a mechanism.",
    )
    .with(p.evidence("mongoDbSettings.authType"))
    .with(p.evidence("mongoDbSettings.authMechanism")))
}

/// DMS.12: Redis OSS endpoints connect with TLS (`ssl-encryption`).
fn redis_endpoint_tls(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let engine = match endpoint_engine(p)? {
        Ok(engine) => engine,
        Err(na) => return Ok(na),
    };
    if engine != "redis" {
        return Ok(Outcome::not_applicable(format!(
            "The endpoint is a `{engine}` endpoint, not Redis OSS."
        ))
        .with(p.evidence("engineName")));
    }
    // AWS's default protocol is `ssl-encryption`.
    let protocol = p
        .str("redisSettings.sslSecurityProtocol")?
        .unwrap_or("ssl-encryption");
    Ok(Outcome::either(
        protocol == "ssl-encryption",
        "The Redis OSS endpoint connects with TLS.",
        "The Redis OSS endpoint connects in plain text; set its SSL security protocol to `ssl-encryption`.",
    )
    .with(p.evidence("redisSettings.sslSecurityProtocol")))
}
