//! Rules for FSx file systems (FSx.1 to .5). Each applies to one file
//! system type; the others are not applicable.

use super::elasticache::unreported;
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "fsx-openzfs-copy-tags",
        check: openzfs_copy_tags,
    },
    Rule {
        id: "fsx-lustre-copy-tags-to-backups",
        check: lustre_copy_tags_to_backups,
    },
    Rule {
        id: "fsx-openzfs-multi-az",
        check: openzfs_multi_az,
    },
    Rule {
        id: "fsx-ontap-multi-az",
        check: ontap_multi_az,
    },
    Rule {
        id: "fsx-windows-multi-az",
        check: windows_multi_az,
    },
];

/// `Err(not applicable)` unless the file system is of `kind` and not
/// being deleted.
fn of_type(p: &Props<'_>, kind: &str, label: &str) -> Result<Result<(), Outcome>, Unreadable> {
    let actual = p
        .str("fileSystemType")?
        .ok_or_else(|| unreported("fileSystemType"))?;
    if actual != kind {
        return Ok(Err(Outcome::not_applicable(format!(
            "The file system is an FSx for `{actual}` file system, not {label}."
        ))
        .with(p.evidence("fileSystemType"))));
    }
    if let Some("DELETING") = p.str("lifecycle")? {
        return Ok(Err(Outcome::not_applicable(
            "The file system is being deleted.",
        )
        .with(p.evidence("lifecycle"))));
    }
    Ok(Ok(()))
}

/// FSx.1: OpenZFS copies tags to backups and to volumes (AWS's default for
/// both is off).
fn openzfs_copy_tags(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Err(na) = of_type(p, "OPENZFS", "OpenZFS")? {
        return Ok(na);
    }
    let backups = p.bool("copyTagsToBackups")?.unwrap_or(false);
    let volumes = p.bool("copyTagsToVolumes")?.unwrap_or(false);
    let missing: Vec<&str> = [(backups, "backups"), (volumes, "volumes")]
        .into_iter()
        .filter_map(|(on, what)| (!on).then_some(what))
        .collect();
    Ok(Outcome::either(
        missing.is_empty(),
        "The file system copies its tags to backups and volumes.",
        format!(
            "The file system does not copy its tags to {}; turn on `CopyTagsToBackups` and `CopyTagsToVolumes`.",
            missing.join(" or ")
        ),
    )
    .with(p.evidence("copyTagsToBackups"))
    .with(p.evidence("copyTagsToVolumes")))
}

/// FSx.2: Lustre copies tags to backups (AWS's default is off).
fn lustre_copy_tags_to_backups(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Err(na) = of_type(p, "LUSTRE", "Lustre")? {
        return Ok(na);
    }
    let on = p.bool("copyTagsToBackups")?.unwrap_or(false);
    Ok(Outcome::either(
        on,
        "The file system copies its tags to backups.",
        "The file system does not copy its tags to backups; turn on `CopyTagsToBackups`.",
    )
    .with(p.evidence("copyTagsToBackups")))
}

/// FSx.3 / .4 / .5: a Multi-AZ deployment type (`MULTI_AZ_*`).
fn multi_az(p: &Props<'_>, kind: &str, label: &str) -> Result<Outcome, Unreadable> {
    if let Err(na) = of_type(p, kind, label)? {
        return Ok(na);
    }
    let deployment = p
        .str("deploymentType")?
        .ok_or_else(|| unreported("deploymentType"))?;
    Ok(Outcome::either(
        deployment.starts_with("MULTI_AZ"),
        format!("The file system is deployed across Availability Zones (`{deployment}`)."),
        format!(
            "The file system runs in one Availability Zone (`{deployment}`); create a Multi-AZ file system and move the data."
        ),
    )
    .with(p.evidence("deploymentType")))
}

fn openzfs_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    multi_az(p, "OPENZFS", "OpenZFS")
}

fn ontap_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    multi_az(p, "ONTAP", "NetApp ONTAP")
}

fn windows_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    multi_az(p, "WINDOWS", "Windows File Server")
}
