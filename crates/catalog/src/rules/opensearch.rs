//! Rules for Amazon OpenSearch Service domains (`AWS::OpenSearch::Domain`).
//!
//! Security Hub has two families for the same domains: `OpenSearch.*`
//! (Config type `AWS::OpenSearch::Domain`, which covers domains of both
//! engines) and the older `ES.*` (`AWS::Elasticsearch::Domain`, the legacy
//! Elasticsearch API). Each check below is one function; it is registered
//! once for the `OpenSearch.*` recommendation, which assesses every domain,
//! and once for the `ES.*` one, which assesses only domains running an
//! Elasticsearch engine (`engineVersion` `Elasticsearch_*`) and is not
//! applicable to OpenSearch-engine domains. Deleted domains are not
//! applicable to either.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "opensearch-domain-encrypted-at-rest",
        check: |p, _| domain(p, Family::OpenSearch, encrypted_at_rest),
    },
    Rule {
        id: "opensearch-domain-in-vpc",
        check: |p, _| domain(p, Family::OpenSearch, in_vpc),
    },
    Rule {
        id: "opensearch-domain-node-to-node-encryption",
        check: |p, _| domain(p, Family::OpenSearch, node_to_node_encryption),
    },
    Rule {
        id: "opensearch-domain-error-logging",
        check: |p, _| domain(p, Family::OpenSearch, error_logging),
    },
    Rule {
        id: "opensearch-domain-audit-logging",
        check: |p, _| domain(p, Family::OpenSearch, audit_logging),
    },
    Rule {
        id: "opensearch-domain-three-data-nodes",
        check: |p, _| domain(p, Family::OpenSearch, three_data_nodes),
    },
    Rule {
        id: "opensearch-domain-fine-grained-access-control",
        check: |p, _| domain(p, Family::OpenSearch, fine_grained_access_control),
    },
    Rule {
        id: "opensearch-domain-latest-tls-policy",
        check: |p, _| domain(p, Family::OpenSearch, latest_tls_policy),
    },
    Rule {
        id: "opensearch-domain-software-up-to-date",
        check: |p, _| domain(p, Family::OpenSearch, software_up_to_date),
    },
    Rule {
        id: "es-domain-encrypted-at-rest",
        check: |p, _| domain(p, Family::Elasticsearch, encrypted_at_rest),
    },
    Rule {
        id: "es-domain-in-vpc",
        check: |p, _| domain(p, Family::Elasticsearch, in_vpc),
    },
    Rule {
        id: "es-domain-node-to-node-encryption",
        check: |p, _| domain(p, Family::Elasticsearch, node_to_node_encryption),
    },
    Rule {
        id: "es-domain-error-logging",
        check: |p, _| domain(p, Family::Elasticsearch, error_logging),
    },
    Rule {
        id: "es-domain-audit-logging",
        check: |p, _| domain(p, Family::Elasticsearch, audit_logging),
    },
    Rule {
        id: "es-domain-three-data-nodes",
        check: |p, _| domain(p, Family::Elasticsearch, three_data_nodes),
    },
    Rule {
        id: "es-domain-three-dedicated-master-nodes",
        check: |p, _| domain(p, Family::Elasticsearch, three_dedicated_master_nodes),
    },
    Rule {
        id: "es-domain-latest-tls-policy",
        check: |p, _| domain(p, Family::Elasticsearch, latest_tls_policy),
    },
];

/// The TLS security policies that count as the latest (OpenSearch.8 /
/// ES.8): TLS 1.2 or later with forward secrecy, and its FIPS variant.
pub const LATEST_TLS_POLICIES: &[&str] =
    &[LATEST_TLS_POLICY, "Policy-Min-TLS-1-2-RFC9151-FIPS-2024-08"];

/// The policy the remediation recommends.
pub const LATEST_TLS_POLICY: &str = "Policy-Min-TLS-1-2-PFS-2023-10";

/// The smallest number of data nodes (OpenSearch.6 / ES.6) and of
/// dedicated master nodes (ES.7).
pub const MIN_NODES: i64 = 3;

/// Which Security Hub family a recommendation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `OpenSearch.*`: every domain.
    OpenSearch,
    /// `ES.*`: domains running an Elasticsearch engine.
    Elasticsearch,
}

/// The error for a setting the API did not report.
fn not_reported(path: &str) -> Unreadable {
    Unreadable {
        path: path.to_owned(),
        error: "the OpenSearch Service API did not report this setting".to_owned(),
    }
}

/// A boolean the API must report.
fn reported_bool(p: &Props<'_>, path: &str) -> Result<bool, Unreadable> {
    p.bool(path)?.ok_or_else(|| not_reported(path))
}

/// Scopes `check` to the family's domains: deleted domains are not
/// applicable, and for `ES.*` neither are OpenSearch-engine domains.
fn domain(
    p: &Props<'_>,
    family: Family,
    check: fn(&Props<'_>) -> Result<Outcome, Unreadable>,
) -> Result<Outcome, Unreadable> {
    if p.bool("deleted")? == Some(true) {
        return Ok(
            Outcome::not_applicable("The domain is being deleted.").with(p.evidence("deleted"))
        );
    }
    if family == Family::Elasticsearch {
        let version = p
            .str("engineVersion")?
            .ok_or_else(|| not_reported("engineVersion"))?;
        if !version.starts_with("Elasticsearch_") {
            return Ok(Outcome::not_applicable(format!(
                "The domain runs `{version}`, not Elasticsearch; the OpenSearch recommendations assess it."
            ))
            .with(p.evidence("engineVersion")));
        }
    }
    check(p)
}

/// OpenSearch.1 / ES.1: encryption at rest is on.
fn encrypted_at_rest(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let path = "encryptionAtRestOptions.enabled";
    Ok(Outcome::either(
        reported_bool(p, path)?,
        "The domain encrypts its data at rest.",
        "The domain does not encrypt its data at rest.",
    )
    .with(p.evidence(path)))
}

/// OpenSearch.2 / ES.2: the domain is in a VPC (`vpcOptions` set), not on
/// a public endpoint.
fn in_vpc(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    // The API returns `VPCOptions` only for domains placed in a VPC.
    let vpc = p.get("vpcOptions")?.filter(|v| v.as_object().is_some());
    Ok(match vpc {
        Some(v) => match v.get("vpcId").and_then(Node::as_str) {
            Some(id) => Outcome::healthy(format!("The domain is in VPC `{id}`.")),
            None => Outcome::healthy("The domain is placed in a VPC."),
        },
        None => {
            Outcome::unhealthy("The domain has a public endpoint instead of being placed in a VPC.")
                .with(p.evidence("endpoint"))
        }
    }
    .with(p.evidence("vpcOptions")))
}

/// OpenSearch.3 / ES.3: node-to-node encryption is on.
fn node_to_node_encryption(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let path = "nodeToNodeEncryptionOptions.enabled";
    Ok(Outcome::either(
        reported_bool(p, path)?,
        "The domain encrypts traffic between its nodes.",
        "Node-to-node encryption is off: traffic inside the cluster is not encrypted.",
    )
    .with(p.evidence(path)))
}

/// Whether log type `kind` is published to a CloudWatch Logs group; the
/// API omits log types that were never configured.
fn publishes(p: &Props<'_>, kind: &str) -> Result<bool, Unreadable> {
    let option = p.get(&format!("logPublishingOptions.{kind}"))?;
    Ok(option.is_some_and(|o| {
        o.get("enabled").and_then(Node::as_bool) == Some(true)
            && o.get("cloudWatchLogsLogGroupArn")
                .and_then(Node::as_str)
                .is_some_and(|a| !a.is_empty())
    }))
}

/// OpenSearch.4 / ES.4: error logs (`ES_APPLICATION_LOGS`) go to
/// CloudWatch Logs.
fn error_logging(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let path = "logPublishingOptions.ES_APPLICATION_LOGS";
    Ok(Outcome::either(
        publishes(p, "ES_APPLICATION_LOGS")?,
        "The domain publishes its error logs to CloudWatch Logs.",
        "The domain does not publish its error logs to CloudWatch Logs.",
    )
    .with(p.evidence(path)))
}

/// OpenSearch.5 / ES.5: audit logs (`AUDIT_LOGS`) go to CloudWatch Logs.
fn audit_logging(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let path = "logPublishingOptions.AUDIT_LOGS";
    Ok(Outcome::either(
        publishes(p, "AUDIT_LOGS")?,
        "The domain publishes audit logs to CloudWatch Logs.",
        "Audit logging is off: user activity on the domain is not recorded.",
    )
    .with(p.evidence(path)))
}

/// OpenSearch.6 / ES.6: at least [`MIN_NODES`] data nodes and zone
/// awareness on.
fn three_data_nodes(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let count_path = "clusterConfig.instanceCount";
    let zone_path = "clusterConfig.zoneAwarenessEnabled";
    let count = p.i64(count_path)?.ok_or_else(|| not_reported(count_path))?;
    let zones = reported_bool(p, zone_path)?;
    let outcome = if count < MIN_NODES {
        Outcome::unhealthy(format!(
            "The domain has {count} data node(s); at least {MIN_NODES} keep it available when a node fails."
        ))
    } else if !zones {
        Outcome::unhealthy(
            "Zone awareness is off: the data nodes are not spread over Availability Zones.",
        )
    } else {
        Outcome::healthy(format!(
            "The domain has {count} data nodes spread over Availability Zones."
        ))
    };
    Ok(outcome
        .with(p.evidence(count_path))
        .with(p.evidence(zone_path)))
}

/// ES.7: dedicated master nodes on, at least [`MIN_NODES`] of them.
fn three_dedicated_master_nodes(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let enabled_path = "clusterConfig.dedicatedMasterEnabled";
    let count_path = "clusterConfig.dedicatedMasterCount";
    let enabled = reported_bool(p, enabled_path)?;
    let outcome = if !enabled {
        Outcome::unhealthy("The domain has no dedicated master nodes.")
    } else {
        let count = p.i64(count_path)?.ok_or_else(|| not_reported(count_path))?;
        Outcome::either(
            count >= MIN_NODES,
            format!("The domain has {count} dedicated master nodes."),
            format!(
                "The domain has {count} dedicated master node(s); at least {MIN_NODES} are needed to keep a quorum."
            ),
        )
    };
    Ok(outcome
        .with(p.evidence(enabled_path))
        .with(p.evidence(count_path)))
}

/// OpenSearch.7: fine-grained access control is on.
fn fine_grained_access_control(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let path = "advancedSecurityOptions.enabled";
    Ok(Outcome::either(
        reported_bool(p, path)?,
        "Fine-grained access control is on.",
        "Fine-grained access control is off.",
    )
    .with(p.evidence(path)))
}

/// OpenSearch.8 / ES.8: HTTPS enforced with one of the
/// [`LATEST_TLS_POLICIES`].
fn latest_tls_policy(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let https_path = "domainEndpointOptions.enforceHTTPS";
    let policy_path = "domainEndpointOptions.tlsSecurityPolicy";
    let https = reported_bool(p, https_path)?;
    let policy = p.str(policy_path)?;
    let outcome = match policy {
        _ if !https => Outcome::unhealthy("The domain accepts plain HTTP: HTTPS is not enforced."),
        Some(policy) if LATEST_TLS_POLICIES.contains(&policy) => {
            Outcome::healthy(format!("HTTPS is enforced with the TLS policy `{policy}`."))
        }
        Some(policy) => Outcome::unhealthy(format!(
            "The domain's TLS policy `{policy}` is not the latest; use `{LATEST_TLS_POLICY}`."
        )),
        None => return Err(not_reported(policy_path)),
    };
    Ok(outcome
        .with(p.evidence(https_path))
        .with(p.evidence(policy_path)))
}

/// OpenSearch.10: no service software update is waiting
/// (`serviceSoftwareOptions.updateAvailable` false).
fn software_up_to_date(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let path = "serviceSoftwareOptions.updateAvailable";
    let available = reported_bool(p, path)?;
    let outcome = if available {
        let new = p
            .str("serviceSoftwareOptions.newVersion")?
            .unwrap_or("a newer version");
        Outcome::unhealthy(format!(
            "A service software update ({new}) is available and not installed."
        ))
        .with(p.evidence("serviceSoftwareOptions.updateStatus"))
    } else {
        Outcome::healthy("The domain runs the latest service software.")
    };
    Ok(outcome.with(p.evidence(path)))
}
