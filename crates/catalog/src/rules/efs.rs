//! Rules for EFS file systems and access points.
//!
//! Every rule is not applicable to a file system or access point that is
//! being deleted or already deleted.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "efs-file-system-encrypted",
        check: file_system_encrypted,
    },
    Rule {
        id: "efs-file-system-automatic-backups",
        check: file_system_automatic_backups,
    },
    Rule {
        id: "efs-access-point-root-directory",
        check: access_point_root_directory,
    },
    Rule {
        id: "efs-access-point-user-identity",
        check: access_point_user_identity,
    },
];

/// Not applicable while the resource is being deleted or once deleted.
fn going_away(p: &Props<'_>, what: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("lifeCycleState")? {
        Some(state @ ("deleting" | "deleted")) => Some(
            Outcome::not_applicable(format!("The {what} is {state}."))
                .with(p.evidence("lifeCycleState")),
        ),
        _ => None,
    })
}

/// EFS.1 / EFS.8: file data is encrypted at rest (with a KMS key: EFS
/// encryption always uses one, AWS managed or customer managed).
fn file_system_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "file system")? {
        return Ok(na);
    }
    match p.bool("encrypted")? {
        Some(true) => Ok(Outcome::healthy(format!(
            "The file system is encrypted at rest with KMS key `{}`.",
            p.str("kmsKeyId")?.unwrap_or("aws/elasticfilesystem")
        ))
        .with(p.evidence("encrypted"))
        .with(p.evidence("kmsKeyId"))),
        Some(false) => Ok(Outcome::unhealthy(
            "The file system is not encrypted at rest; encryption can only be set at creation, so create an encrypted file system and move the data.",
        )
        .with(p.evidence("encrypted"))),
        None => Err(Unreadable {
            path: "encrypted".to_owned(),
            error: "the file system's encryption was not reported".to_owned(),
        }),
    }
}

/// EFS.7: automatic backups are on (`backupPolicy.status` `ENABLED`, or
/// `ENABLING` on its way there). No backup policy means they are off.
fn file_system_automatic_backups(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "file system")? {
        return Ok(na);
    }
    let status = p.str("backupPolicy.status")?;
    Ok(Outcome::either(
        matches!(status, Some("ENABLED" | "ENABLING")),
        "Automatic backups are enabled for the file system.",
        "Automatic backups are off for the file system; turn on its backup policy (or add it to an AWS Backup plan).",
    )
    .with(p.evidence("backupPolicy")))
}

/// EFS.3: the access point confines clients to a directory other than the
/// file system's root.
fn access_point_root_directory(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "access point")? {
        return Ok(na);
    }
    let path = p.str("rootDirectory.path")?;
    Ok(match path {
        Some(dir) if !dir.trim_end_matches('/').is_empty() => Outcome::healthy(format!(
            "The access point confines clients to `{dir}`."
        )),
        _ => Outcome::unhealthy(
            "The access point exposes the file system's root directory; set a root directory path for it.",
        ),
    }
    .with(p.evidence("rootDirectory.path")))
}

/// EFS.4: the access point enforces a POSIX user identity.
fn access_point_user_identity(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = going_away(p, "access point")? {
        return Ok(na);
    }
    let user = p.get("posixUser")?;
    Ok(Outcome::either(
        user.is_some(),
        "The access point enforces a POSIX user and group for every request.",
        "The access point does not enforce a user identity; set a POSIX user (uid/gid) on it.",
    )
    .with(p.evidence("posixUser")))
}
