//! Rules for MSK clusters and MSK Connect connectors (MSK.1 to .6).
//!
//! Serverless clusters are assessed with what AWS guarantees for them:
//! TLS everywhere, IAM authentication only, no public access.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "msk-cluster-in-cluster-encryption",
        check: cluster_in_cluster_encryption,
    },
    Rule {
        id: "msk-cluster-enhanced-monitoring",
        check: cluster_enhanced_monitoring,
    },
    Rule {
        id: "msk-connector-encrypted-in-transit",
        check: connector_encrypted_in_transit,
    },
    Rule {
        id: "msk-cluster-public-access-disabled",
        check: cluster_public_access_disabled,
    },
    Rule {
        id: "msk-connector-logging",
        check: connector_logging,
    },
    Rule {
        id: "msk-cluster-unauthenticated-access-disabled",
        check: cluster_unauthenticated_access_disabled,
    },
];

/// Not applicable while the cluster is being deleted; `Ok(true)` for a
/// serverless cluster.
fn cluster_kind(p: &Props<'_>) -> Result<Result<bool, Outcome>, Unreadable> {
    if let Some("DELETING") = p.str("state")? {
        return Ok(Err(Outcome::not_applicable(
            "The cluster is being deleted.",
        )
        .with(p.evidence("state"))));
    }
    Ok(Ok(p.str("clusterType")? == Some("SERVERLESS")))
}

/// MSK.1: broker-to-broker traffic is encrypted (`inCluster`; AWS's
/// default is on when the cluster reports no setting).
fn cluster_in_cluster_encryption(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let serverless = match cluster_kind(p)? {
        Ok(s) => s,
        Err(na) => return Ok(na),
    };
    if serverless {
        return Ok(Outcome::healthy(
            "Serverless clusters always encrypt traffic between brokers with TLS.",
        )
        .with(p.evidence("clusterType")));
    }
    let on = p.bool("encryptionInTransit.inCluster")?.unwrap_or(true);
    Ok(Outcome::either(
        on,
        "Traffic between the cluster's brokers is encrypted with TLS.",
        "Traffic between the cluster's brokers is in plain text; in-cluster encryption can only be set at creation, so recreate the cluster with it on.",
    )
    .with(p.evidence("encryptionInTransit")))
}

/// MSK.2: enhanced monitoring above `DEFAULT`. Serverless clusters have no
/// monitoring level and are not applicable.
fn cluster_enhanced_monitoring(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let serverless = match cluster_kind(p)? {
        Ok(s) => s,
        Err(na) => return Ok(na),
    };
    if serverless {
        return Ok(Outcome::not_applicable(
            "Serverless clusters have no enhanced monitoring level.",
        )
        .with(p.evidence("clusterType")));
    }
    let level = p.str("enhancedMonitoring")?.unwrap_or("DEFAULT");
    Ok(Outcome::either(
        level != "DEFAULT",
        format!("Enhanced monitoring is `{level}`."),
        "The cluster has only default monitoring; set enhanced monitoring to `PER_BROKER` or finer.",
    )
    .with(p.evidence("enhancedMonitoring")))
}

/// MSK.4: brokers have no public addresses (`publicAccessType` other than
/// `SERVICE_PROVIDED_EIPS`; absent means `DISABLED`).
fn cluster_public_access_disabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let serverless = match cluster_kind(p)? {
        Ok(s) => s,
        Err(na) => return Ok(na),
    };
    if serverless {
        return Ok(
            Outcome::healthy("Serverless clusters are reachable only from their VPCs.")
                .with(p.evidence("clusterType")),
        );
    }
    let access = p.str("publicAccessType")?.unwrap_or("DISABLED");
    Ok(Outcome::either(
        access != "SERVICE_PROVIDED_EIPS",
        "Public access to the cluster's brokers is off.",
        "The cluster's brokers have public IP addresses; turn public access off.",
    )
    .with(p.evidence("publicAccessType")))
}

/// MSK.6: unauthenticated client access is off. A provisioned cluster with
/// no authentication method (IAM, SASL/SCRAM, mutual TLS) enabled allows
/// unauthenticated access.
fn cluster_unauthenticated_access_disabled(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    let serverless = match cluster_kind(p)? {
        Ok(s) => s,
        Err(na) => return Ok(na),
    };
    if serverless {
        return Ok(
            Outcome::healthy("Serverless clusters accept only IAM-authenticated clients.")
                .with(p.evidence("clusterType")),
        );
    }
    let on = |method: &str| -> Result<bool, Unreadable> {
        Ok(p.bool(&format!("clientAuthentication.{method}"))? == Some(true))
    };
    // Without any authentication method clients can only connect
    // unauthenticated, whatever the flag says.
    let open = on("unauthenticated")? || !(on("iam")? || on("scram")? || on("tls")?);
    Ok(Outcome::either(
        !open,
        "The cluster accepts only authenticated clients.",
        "The cluster allows unauthenticated client access; turn it off and use IAM, SASL/SCRAM or mutual TLS authentication.",
    )
    .with(p.evidence("clientAuthentication")))
}

/// Not applicable while the connector is being deleted.
fn connector_gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("connectorState")? {
        Some("DELETING") => Some(
            Outcome::not_applicable("The connector is being deleted.")
                .with(p.evidence("connectorState")),
        ),
        _ => None,
    })
}

/// MSK.3: the connector talks to its Kafka cluster over TLS.
fn connector_encrypted_in_transit(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = connector_gone(p)? {
        return Ok(na);
    }
    let kind = p.str("encryptionInTransit")?.unwrap_or("PLAINTEXT");
    Ok(Outcome::either(
        kind == "TLS",
        "The connector encrypts its traffic to the Kafka cluster with TLS.",
        "The connector talks to its Kafka cluster in plain text; recreate it with in-transit encryption `TLS`.",
    )
    .with(p.evidence("encryptionInTransit")))
}

/// MSK.5: worker logs are delivered to at least one destination.
fn connector_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = connector_gone(p)? {
        return Ok(na);
    }
    let mut on = Vec::new();
    for (path, name) in [
        ("logDelivery.cloudWatchLogs", "CloudWatch Logs"),
        ("logDelivery.firehose", "Firehose"),
        ("logDelivery.s3", "S3"),
    ] {
        if p.bool(path)? == Some(true) {
            on.push(name);
        }
    }
    Ok(Outcome::either(
        !on.is_empty(),
        format!("Worker logs are delivered to {}.", on.join(", ")),
        "The connector delivers no worker logs; send them to CloudWatch Logs, Firehose or S3.",
    )
    .with(p.evidence("logDelivery")))
}
