//! Rules for DynamoDB tables.
//!
//! Both rules are not applicable to a table being deleted or archived (or
//! archived already): such a table takes no writes and its settings
//! cannot be changed.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "dynamodb-table-point-in-time-recovery",
        check: point_in_time_recovery,
    },
    Rule {
        id: "dynamodb-table-deletion-protection",
        check: deletion_protection,
    },
];

/// Not applicable while the table is being deleted or archived.
fn inactive(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("tableStatus")? {
        Some(status @ ("DELETING" | "ARCHIVING" | "ARCHIVED")) => Some(
            Outcome::not_applicable(format!("The table is {status}."))
                .with(p.evidence("tableStatus")),
        ),
        _ => None,
    })
}

/// DynamoDB.2: point-in-time recovery is enabled.
fn point_in_time_recovery(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p)? {
        return Ok(na);
    }
    let path = "continuousBackups.pointInTimeRecoveryDescription.pointInTimeRecoveryStatus";
    match p.str(path)? {
        Some("ENABLED") => Ok(Outcome::healthy(
            "Point-in-time recovery is enabled for the table.",
        )
        .with(p.evidence(path))),
        Some(_) => Ok(Outcome::unhealthy(
            "Point-in-time recovery is off; enable it so the table can be restored to any second of the recovery period.",
        )
        .with(p.evidence(path))),
        None => Err(Unreadable {
            path: path.to_owned(),
            error: "the table's point-in-time recovery status was not reported".to_owned(),
        }),
    }
}

/// DynamoDB.6: deletion protection is enabled.
fn deletion_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p)? {
        return Ok(na);
    }
    match p.bool("deletionProtectionEnabled")? {
        Some(enabled) => Ok(Outcome::either(
            enabled,
            "Deletion protection is enabled for the table.",
            "Deletion protection is off; enable it so the table cannot be deleted by mistake.",
        )
        .with(p.evidence("deletionProtectionEnabled"))),
        None => Err(Unreadable {
            path: "deletionProtectionEnabled".to_owned(),
            error: "the table's deletion protection was not reported".to_owned(),
        }),
    }
}
