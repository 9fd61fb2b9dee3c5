//! Rules for application-integration services: Step Functions state
//! machines, EventBridge event buses, Amazon MQ brokers, Transfer Family
//! servers and connectors, and DataSync tasks.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "stepfunctions-state-machine-logging",
        check: state_machine_logging,
    },
    Rule {
        id: "eventbridge-custom-bus-resource-policy",
        check: custom_bus_policy,
    },
    Rule {
        id: "mq-activemq-audit-logging",
        check: activemq_audit_logging,
    },
    Rule {
        id: "mq-broker-auto-minor-version-upgrade",
        check: broker_auto_minor_upgrade,
    },
    Rule {
        id: "transfer-server-no-ftp",
        check: server_no_ftp,
    },
    Rule {
        id: "transfer-connector-logging",
        check: connector_logging,
    },
    Rule {
        id: "datasync-task-logging",
        check: datasync_task_logging,
    },
];

/// Not applicable when the resource was deleted while the scan ran.
fn deleted(p: &Props<'_>, what: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable(format!("The {what} was deleted while the scan ran."))
            .with(p.evidence("deleted"))
    }))
}

/// StepFunctions.1: the state machine logs executions to CloudWatch Logs
/// (`loggingLevel` `ALL`, `ERROR` or `FATAL`; Security Hub's default
/// minimum level is any level but `OFF`). Not applicable: deleted, or being
/// deleted.
fn state_machine_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "state machine")? {
        return Ok(na);
    }
    if p.str("status")? == Some("DELETING") {
        return Ok(
            Outcome::not_applicable("The state machine is being deleted.")
                .with(p.evidence("status")),
        );
    }
    let level = p.str("loggingLevel")?.unwrap_or("OFF");
    Ok(Outcome::either(
        level != "OFF",
        format!("The state machine logs executions at level `{level}`."),
        "The state machine does not log executions; set a logging level (`ERROR` or `ALL`) and a CloudWatch Logs log group.",
    )
    .with(p.evidence("loggingLevel"))
    .with(p.evidence("logDestinations")))
}

/// EventBridge.3: a custom event bus has a resource-based policy, so who
/// may put events on it (and from which accounts) is stated explicitly.
/// Not applicable: the account's `default` bus and partner event buses,
/// which the control does not cover.
fn custom_bus_policy(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    match p.str("kind")? {
        Some("default") => {
            return Ok(Outcome::not_applicable(
                "This is the account's default event bus; the control covers custom event buses.",
            )
            .with(p.evidence("kind")));
        }
        Some("partner") => {
            return Ok(Outcome::not_applicable(
                "This is a partner event bus; the control covers custom event buses.",
            )
            .with(p.evidence("kind")));
        }
        _ => {}
    }
    Ok(Outcome::either(
        p.get("policy")?.is_some(),
        "The custom event bus has a resource-based policy.",
        "The custom event bus has no resource-based policy; attach one that names the accounts and services allowed to put events.",
    )
    .with(p.evidence("policy")))
}

/// Not applicable for a broker deleted while the scan ran or being
/// deleted.
fn broker_gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if let Some(na) = deleted(p, "broker")? {
        return Ok(Some(na));
    }
    Ok(
        (p.str("brokerState")? == Some("DELETION_IN_PROGRESS")).then(|| {
            Outcome::not_applicable("The broker is being deleted.").with(p.evidence("brokerState"))
        }),
    )
}

/// MQ.2: an ActiveMQ broker publishes its audit log to CloudWatch Logs.
/// Not applicable: RabbitMQ brokers (which have no audit log), deleted or
/// deleting brokers.
fn activemq_audit_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = broker_gone(p)? {
        return Ok(na);
    }
    let engine = p.str("engineType")?;
    if engine != Some("ACTIVEMQ") {
        return Ok(Outcome::not_applicable(format!(
            "The broker runs {}; audit logs exist for ActiveMQ brokers only.",
            engine.unwrap_or("an unknown engine")
        ))
        .with(p.evidence("engineType")));
    }
    Ok(Outcome::either(
        p.bool("auditLogs")? == Some(true),
        "The ActiveMQ broker publishes its audit log to CloudWatch Logs.",
        "The ActiveMQ broker does not publish its audit log; turn on audit logs (`Logs.Audit`).",
    )
    .with(p.evidence("auditLogs")))
}

/// MQ.3: the broker takes new minor engine versions automatically in its
/// maintenance window. Not applicable: deleted or deleting brokers.
fn broker_auto_minor_upgrade(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = broker_gone(p)? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.bool("autoMinorVersionUpgrade")? == Some(true),
        "The broker upgrades to new minor engine versions automatically.",
        "The broker does not upgrade minor engine versions automatically; turn on `AutoMinorVersionUpgrade`.",
    )
    .with(p.evidence("autoMinorVersionUpgrade"))
    .with(p.evidence("engineVersion")))
}

/// Transfer.2: the server offers no plain FTP endpoint (credentials and
/// files cross the network in clear text). Not applicable: a server deleted
/// while the scan ran.
fn server_no_ftp(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "server")? {
        return Ok(na);
    }
    let ftp = p
        .array("protocols")?
        .iter()
        .any(|v| v.as_str() == Some("FTP"));
    Ok(Outcome::either(
        !ftp,
        "The server offers no plain FTP endpoint.",
        "The server accepts plain FTP, which sends credentials and files unencrypted; switch clients to SFTP or FTPS and remove FTP from the server's protocols.",
    )
    .with(p.evidence("protocols")))
}

/// Transfer.3: the connector has a logging role, so its transfers are
/// logged to CloudWatch Logs. Not applicable: a connector deleted while the
/// scan ran.
fn connector_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "connector")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("loggingRole")?.is_some(),
        "The connector logs its transfers to CloudWatch Logs.",
        "The connector has no logging role, so its transfers are not logged; set a logging role that may write to CloudWatch Logs.",
    )
    .with(p.evidence("loggingRole")))
}

/// DataSync.1: the task publishes its logs to a CloudWatch Logs log group.
/// Not applicable: a task deleted while the scan ran.
fn datasync_task_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "task")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("cloudWatchLogGroupArn")?.is_some(),
        "The task publishes its logs to CloudWatch Logs.",
        "The task has no CloudWatch Logs log group; set one so transfers and errors are recorded.",
    )
    .with(p.evidence("cloudWatchLogGroupArn")))
}
