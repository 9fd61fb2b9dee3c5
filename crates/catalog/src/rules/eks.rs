//! Rules for EKS clusters.
//!
//! Property shapes are the EKS collector's (`crates/aws/src/collectors/eks.rs`):
//! `resourcesVpcConfig.endpointPublicAccess` is `null` when the API response
//! did not contain it (emulators), which is unknown, never `false`.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "eks-cluster-endpoint-not-public",
        check: cluster_endpoint_not_public,
    },
    Rule {
        id: "eks-cluster-supported-version",
        check: cluster_supported_version,
    },
    Rule {
        id: "eks-cluster-secrets-encrypted",
        check: cluster_secrets_encrypted,
    },
    Rule {
        id: "eks-cluster-audit-logging",
        check: cluster_audit_logging,
    },
];

/// Kubernetes minor versions in Amazon EKS *standard* support.
///
/// As of 2025-09, from the Amazon EKS Kubernetes release calendar
/// (<https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html>):
/// 1.31 (standard support until 2025-11-26), 1.32 (until 2026-03-23),
/// 1.33 (until 2026-07-29). Versions older than the oldest entry are in
/// extended support or past end of life and fail; a version newer than the
/// newest entry was released after this list and passes. Update this list
/// with each EKS release.
const SUPPORTED_VERSIONS: &[(u32, u32)] = &[(1, 31), (1, 32), (1, 33)];

/// `major.minor` of a Kubernetes version (`1.29`, `1.29.3`, `v1.29`).
fn parse_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether a version is in standard support according to
/// [`SUPPORTED_VERSIONS`].
fn version_supported(version: (u32, u32)) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
        || SUPPORTED_VERSIONS
            .iter()
            .max()
            .is_some_and(|newest| version > *newest)
}

/// Not applicable for a cluster that is being created, deleted or failed:
/// its configuration is not in effect.
fn cluster_not_active(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("status")? {
        Some(status @ ("CREATING" | "DELETING" | "FAILED")) => Some(
            Outcome::not_applicable(format!(
                "The cluster is {status}; its configuration is not in effect."
            ))
            .with(p.evidence("status")),
        ),
        _ => None,
    })
}

/// FSBP EKS.1: the Kubernetes API endpoint is not publicly accessible
/// (`endpointPublicAccess` false). A public endpoint restricted by CIDR
/// still fails, as in the control; the reason says whether it is open to
/// the world. Not applicable: a cluster that is not active.
fn cluster_endpoint_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = cluster_not_active(p)? {
        return Ok(na);
    }
    let Some(public) = p.bool("resourcesVpcConfig.endpointPublicAccess")? else {
        return Err(Unreadable {
            path: "resourcesVpcConfig.endpointPublicAccess".to_owned(),
            error: "the cluster description did not say whether the endpoint is public".to_owned(),
        });
    };
    if !public {
        return Ok(Outcome::healthy("The cluster's API endpoint is private.")
            .with(p.evidence("resourcesVpcConfig.endpointPublicAccess")));
    }
    let cidrs: Vec<&str> = p
        .array("resourcesVpcConfig.publicAccessCidrs")?
        .iter()
        .filter_map(Node::as_str)
        .collect();
    // AWS's default when none are given is 0.0.0.0/0.
    let world = cidrs.is_empty() || cidrs.iter().any(|c| c.trim().ends_with("/0"));
    let reason = if world {
        "The cluster's API endpoint is reachable from the whole internet; turn off public access and use the private endpoint."
    } else {
        "The cluster's API endpoint is public (limited to some address ranges); turn off public access and use the private endpoint."
    };
    Ok(Outcome::unhealthy(reason)
        .with(p.evidence("resourcesVpcConfig.endpointPublicAccess"))
        .with(p.evidence("resourcesVpcConfig.publicAccessCidrs")))
}

/// FSBP EKS.2: the cluster runs a Kubernetes version in EKS standard
/// support (see [`SUPPORTED_VERSIONS`]). Not applicable: a cluster that is
/// not active. A missing or unparseable version is unknown.
fn cluster_supported_version(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = cluster_not_active(p)? {
        return Ok(na);
    }
    let raw = p.str("version")?;
    let Some(version) = raw.and_then(parse_version) else {
        return Err(Unreadable {
            path: "version".to_owned(),
            error: format!(
                "the cluster's Kubernetes version `{}` is missing or not `major.minor`",
                raw.unwrap_or_default()
            ),
        });
    };
    let (major, minor) = version;
    Ok(Outcome::either(
        version_supported(version),
        format!("Kubernetes {major}.{minor} is in EKS standard support."),
        format!(
            "Kubernetes {major}.{minor} is past EKS standard support; upgrade the control plane and node groups one minor version at a time."
        ),
    )
    .with(p.evidence("version")))
}

/// FSBP EKS.3: an `encryptionConfig` entry covers the `secrets` resource
/// with a KMS key (envelope encryption of Kubernetes secrets). Not
/// applicable: a cluster that is not active.
fn cluster_secrets_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = cluster_not_active(p)? {
        return Ok(na);
    }
    let encrypted = p.array("encryptionConfig")?.iter().any(|config| {
        config
            .get("resources")
            .and_then(Node::as_array)
            .is_some_and(|r| r.iter().any(|x| x.as_str() == Some("secrets")))
    });
    Ok(Outcome::either(
        encrypted,
        "Kubernetes secrets are envelope-encrypted with a KMS key.",
        "Kubernetes secrets are not envelope-encrypted; associate a KMS key with the cluster for the `secrets` resource.",
    )
    .with(p.evidence("encryptionConfig")))
}

/// FSBP EKS.8: the control plane's `audit` log type is enabled. Not
/// applicable: a cluster that is not active. Reading `logging` first makes
/// an unreadable cluster an error rather than "no log types".
fn cluster_audit_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = cluster_not_active(p)? {
        return Ok(na);
    }
    p.get("logging")?;
    let audit = p
        .array("enabledLogTypes")?
        .iter()
        .any(|t| t.as_str() == Some("audit"));
    Ok(Outcome::either(
        audit,
        "Control plane audit logging is enabled.",
        "Control plane audit logs are off; enable the `audit` log type so API activity in the cluster is recorded.",
    )
    .with(p.evidence("enabledLogTypes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("1.27"), Some((1, 27)));
        assert_eq!(parse_version("v1.30.2"), Some((1, 30)));
        assert_eq!(parse_version("one"), None);
        assert!(!version_supported((1, 19)));
        assert!(!version_supported((1, 27)));
        assert!(version_supported((1, 33)));
        assert!(version_supported((1, 40)));
        assert!(version_supported((2, 0)));
    }
}
