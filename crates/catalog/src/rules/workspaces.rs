//! Rules for WorkSpaces.
//!
//! A WorkSpace that is terminating or terminated is not applicable.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "workspaces-user-volume-encrypted",
        check: user_volume_encrypted,
    },
    Rule {
        id: "workspaces-root-volume-encrypted",
        check: root_volume_encrypted,
    },
];

/// Not applicable once the WorkSpace is terminating or terminated.
fn terminated(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("state")? {
        Some(state @ ("TERMINATING" | "TERMINATED")) => Some(
            Outcome::not_applicable(format!("The WorkSpace is {state}.")).with(p.evidence("state")),
        ),
        _ => None,
    })
}

/// Shared by both rules: the volume's encryption flag is `true` (the API
/// leaves it out for an unencrypted volume).
fn volume_encrypted(p: &Props<'_>, volume: &str, flag: &str) -> Result<Outcome, Unreadable> {
    if let Some(na) = terminated(p)? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.bool(flag)? == Some(true),
        format!("The WorkSpace's {volume} volume is encrypted at rest."),
        format!(
            "The WorkSpace's {volume} volume is not encrypted; encryption can only be set at creation, so recreate the WorkSpace with it."
        ),
    )
    .with(p.evidence(flag))
    .with(p.evidence("volumeEncryptionKey")))
}

/// WorkSpaces.1: the user volume is encrypted.
fn user_volume_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    volume_encrypted(p, "user", "userVolumeEncryptionEnabled")
}

/// WorkSpaces.2: the root volume is encrypted.
fn root_volume_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    volume_encrypted(p, "root", "rootVolumeEncryptionEnabled")
}
