//! Rules for Elastic Load Balancing: Application, Network and Gateway Load
//! Balancers (`AWS::ElasticLoadBalancingV2::LoadBalancer`) and Classic Load
//! Balancers (`AWS::ElasticLoadBalancing::LoadBalancer`): TLS on listeners,
//! HTTP hardening, logging, deletion protection and Availability Zones.
//!
//! v2 attributes the API did not return are `null` in the asset; checks read
//! them as unknown (an error), never as the AWS default.

use std::collections::BTreeSet;

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "elb-alb-http-redirects-to-https",
        check: alb_http_redirects_to_https,
    },
    Rule {
        id: "elb-alb-drop-invalid-headers",
        check: alb_drop_invalid_headers,
    },
    Rule {
        id: "elb-alb-access-logs",
        check: alb_access_logs,
    },
    Rule {
        id: "elb-alb-desync-mitigation",
        check: alb_desync_mitigation,
    },
    Rule {
        id: "elb-v2-deletion-protection",
        check: v2_deletion_protection,
    },
    Rule {
        id: "elb-v2-multi-az",
        check: v2_multi_az,
    },
    Rule {
        id: "elb-v2-recommended-tls-policy",
        check: v2_recommended_tls_policy,
    },
    Rule {
        id: "elb-v2-secure-listeners",
        check: v2_secure_listeners,
    },
    Rule {
        id: "elb-classic-acm-certificate",
        check: classic_acm_certificate,
    },
    Rule {
        id: "elb-classic-secure-listeners",
        check: classic_secure_listeners,
    },
    Rule {
        id: "elb-classic-access-logs",
        check: classic_access_logs,
    },
    Rule {
        id: "elb-classic-connection-draining",
        check: classic_connection_draining,
    },
    Rule {
        id: "elb-classic-strong-tls-policy",
        check: classic_strong_tls_policy,
    },
    Rule {
        id: "elb-classic-cross-zone",
        check: classic_cross_zone,
    },
    Rule {
        id: "elb-classic-multi-az",
        check: classic_multi_az,
    },
    Rule {
        id: "elb-classic-desync-mitigation",
        check: classic_desync_mitigation,
    },
];

/// Desync mitigation modes that block requests posing a desync risk.
const SAFE_DESYNC_MODES: &[&str] = &["defensive", "strictest"];

/// The predefined Classic policy with TLS 1.2 only and strong ciphers.
const STRONG_CLASSIC_POLICY: &str = "ELBSecurityPolicy-TLS-1-2-2017-01";

fn unknown(path: &str, what: &str) -> Unreadable {
    Unreadable {
        path: path.to_owned(),
        error: format!("the API did not return {what}"),
    }
}

/// A string field of a JSON object.
fn field<'v>(value: Node<'v>, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Node::as_str)
}

/// A listener's label for messages: `PROTOCOL:port`.
fn listener_label(listener: Node<'_>, protocol_key: &str, port_key: &str) -> String {
    format!(
        "{}:{}",
        field(listener, protocol_key).unwrap_or("?"),
        listener.get(port_key).and_then(Node::as_i64).unwrap_or(0)
    )
}

// ---------------------------------------------------------------------------
// Application, Network and Gateway Load Balancers.

/// The v2 load balancer type (`application`, `network`, `gateway`).
fn lb_type<'a>(p: &Props<'a>) -> Result<&'a str, Unreadable> {
    p.str("type")?
        .ok_or_else(|| unknown("type", "the load balancer type"))
}

/// Not applicable unless the load balancer is an Application Load Balancer.
fn only_alb(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    let kind = lb_type(p)?;
    Ok((kind != "application").then(|| {
        Outcome::not_applicable(format!(
            "The load balancer is a {kind} load balancer; the check applies to Application Load Balancers."
        ))
        .with(p.evidence("type"))
    }))
}

/// Not applicable when the load balancer failed to provision.
fn failed_state(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.str("state")? == Some("failed")).then(|| {
        Outcome::not_applicable("The load balancer failed to provision and serves no traffic.")
            .with(p.evidence("state"))
    }))
}

/// Whether an ALB listener's default actions redirect to HTTPS.
fn redirects_to_https(listener: Node<'_>) -> bool {
    listener
        .get("defaultActions")
        .and_then(Node::as_array)
        .is_some_and(|actions| {
            actions.iter().any(|a| {
                field(a, "type") == Some("redirect")
                    && a.get("redirectConfig")
                        .and_then(|r| field(r, "protocol"))
                        .is_some_and(|proto| proto.eq_ignore_ascii_case("HTTPS"))
            })
        })
}

/// ELB.1: every HTTP listener of an Application Load Balancer redirects to
/// HTTPS in its default action (an ALB with only HTTPS listeners passes).
/// Not applicable: Network and Gateway Load Balancers.
fn alb_http_redirects_to_https(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = only_alb(p)? {
        return Ok(na);
    }
    let listeners = p.array("listeners")?;
    let plain: Vec<String> = listeners
        .iter()
        .filter(|l| field(*l, "protocol") == Some("HTTP") && !redirects_to_https(*l))
        .map(|l| listener_label(l, "protocol", "port"))
        .collect();
    Ok(Outcome::either(
        plain.is_empty(),
        "Every HTTP listener of the load balancer redirects to HTTPS.",
        format!(
            "HTTP listener {} serves requests without redirecting to HTTPS; make its default action a redirect to HTTPS:443.",
            plain.join(", ")
        ),
    )
    .with(p.evidence("listeners")))
}

/// ELB.4: the ALB drops HTTP headers with invalid names
/// (`routing.http.drop_invalid_header_fields.enabled`). Not applicable:
/// Network and Gateway Load Balancers.
fn alb_drop_invalid_headers(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = only_alb(p)? {
        return Ok(na);
    }
    let path = "attributes.dropInvalidHeaderFields";
    let drop = p
        .bool(path)?
        .ok_or_else(|| unknown(path, "`routing.http.drop_invalid_header_fields.enabled`"))?;
    Ok(Outcome::either(
        drop,
        "The load balancer drops HTTP headers with invalid names.",
        "The load balancer forwards HTTP headers with invalid names to targets; set `routing.http.drop_invalid_header_fields.enabled` to true.",
    )
    .with(p.evidence(path)))
}

/// ELB.5 (ALB part): access logs are delivered to S3
/// (`access_logs.s3.enabled`). Not applicable: Network and Gateway Load
/// Balancers (the control covers Application and Classic Load Balancers).
fn alb_access_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = only_alb(p)? {
        return Ok(na);
    }
    let path = "attributes.accessLogs.enabled";
    let enabled = p
        .bool(path)?
        .ok_or_else(|| unknown(path, "`access_logs.s3.enabled`"))?;
    Ok(Outcome::either(
        enabled,
        "The load balancer delivers access logs to S3.",
        "The load balancer keeps no access logs; enable `access_logs.s3.enabled` with a log bucket.",
    )
    .with(p.evidence("attributes.accessLogs")))
}

/// ELB.12: the ALB's desync mitigation mode is `defensive` or `strictest`.
/// Not applicable: Network and Gateway Load Balancers.
fn alb_desync_mitigation(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = only_alb(p)? {
        return Ok(na);
    }
    let path = "attributes.desyncMitigationMode";
    let mode = p
        .str(path)?
        .ok_or_else(|| unknown(path, "`routing.http.desync_mitigation_mode`"))?;
    Ok(Outcome::either(
        SAFE_DESYNC_MODES.contains(&mode),
        format!("The load balancer's desync mitigation mode is `{mode}`."),
        format!("The load balancer's desync mitigation mode is `{mode}`, which lets ambiguous requests through; set it to `defensive` or `strictest`."),
    )
    .with(p.evidence(path)))
}

/// ELB.6: deletion protection is on (`deletion_protection.enabled`), for
/// every v2 type. Not applicable: a load balancer that failed to provision.
fn v2_deletion_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = failed_state(p)? {
        return Ok(na);
    }
    let path = "attributes.deletionProtection";
    let on = p
        .bool(path)?
        .ok_or_else(|| unknown(path, "`deletion_protection.enabled`"))?;
    Ok(Outcome::either(
        on,
        "Deletion protection is enabled on the load balancer.",
        "The load balancer can be deleted by a single API call; enable `deletion_protection.enabled`.",
    )
    .with(p.evidence(path)))
}

/// ELB.13: the load balancer has nodes in at least two Availability Zones.
/// Not applicable: a load balancer that failed to provision.
fn v2_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = failed_state(p)? {
        return Ok(na);
    }
    let zones: BTreeSet<&str> = p
        .array("availabilityZones")?
        .iter()
        .filter_map(|z| field(z, "zoneName"))
        .collect();
    Ok(Outcome::either(
        zones.len() >= 2,
        format!(
            "The load balancer spans {} Availability Zones.",
            zones.len()
        ),
        format!(
            "The load balancer is in {} Availability Zone(s) only; add a subnet in a second zone.",
            zones.len()
        ),
    )
    .with(p.evidence("availabilityZones")))
}

/// Whether a v2 TLS policy is one AWS recommends: the TLS 1.3 family
/// (`ELBSecurityPolicy-TLS13-…`, FIPS and PQ variants included), without
/// the `Ext` variants that add legacy ciphers.
fn recommended_v2_policy(policy: &str) -> bool {
    policy.starts_with("ELBSecurityPolicy-TLS13-") && !policy.contains("-Ext")
}

/// ELB.17: every HTTPS/TLS listener of an Application or Network Load
/// Balancer uses a recommended TLS 1.3 security policy. Not applicable:
/// Gateway Load Balancers and load balancers without HTTPS/TLS listeners.
fn v2_recommended_tls_policy(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if lb_type(p)? == "gateway" {
        return Ok(
            Outcome::not_applicable("Gateway Load Balancers do not terminate TLS.")
                .with(p.evidence("type")),
        );
    }
    let listeners = p.array("listeners")?;
    let tls: Vec<Node<'_>> = listeners
        .iter()
        .filter(|l| matches!(field(*l, "protocol"), Some("HTTPS" | "TLS")))
        .collect();
    if tls.is_empty() {
        return Ok(
            Outcome::not_applicable("The load balancer has no HTTPS or TLS listener.")
                .with(p.evidence("listeners")),
        );
    }
    let weak: Vec<String> = tls
        .iter()
        .filter(|l| !field(**l, "sslPolicy").is_some_and(recommended_v2_policy))
        .map(|l| {
            format!(
                "{} ({})",
                listener_label(*l, "protocol", "port"),
                field(*l, "sslPolicy").unwrap_or("no policy")
            )
        })
        .collect();
    Ok(Outcome::either(
        weak.is_empty(),
        "Every HTTPS/TLS listener uses a recommended TLS 1.3 security policy.",
        format!(
            "Listener {} uses an older security policy; switch to `ELBSecurityPolicy-TLS13-1-2-2021-06` or stricter.",
            weak.join(", ")
        ),
    )
    .with(p.evidence("listeners")))
}

/// ELB.18: the listeners of an Application or Network Load Balancer use
/// HTTPS or TLS; an HTTP listener whose default action only redirects to
/// HTTPS carries no content in clear text and passes. Not applicable:
/// Gateway Load Balancers (GENEVE) and load balancers without listeners.
fn v2_secure_listeners(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if lb_type(p)? == "gateway" {
        return Ok(Outcome::not_applicable(
            "Gateway Load Balancers forward packets with GENEVE and have no TLS listeners.",
        )
        .with(p.evidence("type")));
    }
    let listeners = p.array("listeners")?;
    if listeners.is_empty() {
        return Ok(
            Outcome::not_applicable("The load balancer has no listeners.")
                .with(p.evidence("listeners")),
        );
    }
    let plain: Vec<String> = listeners
        .iter()
        .filter(|l| {
            let proto = field(*l, "protocol").unwrap_or_default();
            !(proto == "HTTPS" || proto == "TLS" || (proto == "HTTP" && redirects_to_https(*l)))
        })
        .map(|l| listener_label(l, "protocol", "port"))
        .collect();
    Ok(Outcome::either(
        plain.is_empty(),
        "Every listener encrypts traffic with HTTPS or TLS (or redirects to HTTPS).",
        format!(
            "Listener {} accepts unencrypted traffic; use HTTPS or TLS listeners with a certificate.",
            plain.join(", ")
        ),
    )
    .with(p.evidence("listeners")))
}

// ---------------------------------------------------------------------------
// Classic Load Balancers.

/// Whether a Classic listener protocol terminates TLS.
fn classic_tls(listener: Node<'_>) -> bool {
    field(listener, "protocol").is_some_and(|proto| {
        proto.eq_ignore_ascii_case("HTTPS") || proto.eq_ignore_ascii_case("SSL")
    })
}

/// Not applicable when a Classic load balancer has no listeners.
fn no_listeners(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(p.array("listeners")?.is_empty().then(|| {
        Outcome::not_applicable("The load balancer has no listeners and accepts no traffic.")
            .with(p.evidence("listeners"))
    }))
}

/// ELB.2: every HTTPS/SSL listener of a Classic Load Balancer uses an ACM
/// certificate (not an IAM server certificate). Not applicable: no
/// HTTPS/SSL listener.
fn classic_acm_certificate(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let listeners = p.array("listeners")?;
    let tls: Vec<Node<'_>> = listeners.iter().filter(|l| classic_tls(*l)).collect();
    if tls.is_empty() {
        return Ok(Outcome::not_applicable(
            "The load balancer has no HTTPS or SSL listener, so it uses no certificate.",
        )
        .with(p.evidence("listeners")));
    }
    let other: Vec<String> = tls
        .iter()
        .filter(|l| !field(**l, "sslCertificateId").is_some_and(|c| c.contains(":acm:")))
        .map(|l| listener_label(*l, "protocol", "loadBalancerPort"))
        .collect();
    Ok(Outcome::either(
        other.is_empty(),
        "Every HTTPS/SSL listener uses an AWS Certificate Manager certificate.",
        format!(
            "Listener {} uses a certificate not managed by ACM; import or request it in ACM so it is renewed and tracked.",
            other.join(", ")
        ),
    )
    .with(p.evidence("listeners")))
}

/// ELB.3: every listener of a Classic Load Balancer terminates TLS (HTTPS
/// or SSL). Not applicable: no listeners.
fn classic_secure_listeners(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = no_listeners(p)? {
        return Ok(na);
    }
    let plain: Vec<String> = p
        .array("listeners")?
        .iter()
        .filter(|l| !classic_tls(*l))
        .map(|l| listener_label(l, "protocol", "loadBalancerPort"))
        .collect();
    Ok(Outcome::either(
        plain.is_empty(),
        "Every listener terminates HTTPS or SSL.",
        format!(
            "Listener {} accepts unencrypted traffic; replace it with an HTTPS or SSL listener.",
            plain.join(", ")
        ),
    )
    .with(p.evidence("listeners")))
}

/// ELB.5 (Classic part): access logs are enabled. Every Classic Load
/// Balancer is assessed, one without listeners too (AWS Config's
/// `elb-logging-enabled` excludes none).
fn classic_access_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let path = "attributes.accessLog.enabled";
    let enabled = p
        .bool(path)?
        .ok_or_else(|| unknown(path, "the access log attribute"))?;
    Ok(Outcome::either(
        enabled,
        "The load balancer delivers access logs to S3.",
        "The load balancer keeps no access logs; enable `AccessLog` with an S3 bucket.",
    )
    .with(p.evidence("attributes.accessLog")))
}

/// ELB.7: connection draining is enabled, on every Classic Load Balancer
/// (Security Hub's `elb-connection-draining-enabled` excludes none).
fn classic_connection_draining(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let path = "attributes.connectionDraining.enabled";
    let enabled = p
        .bool(path)?
        .ok_or_else(|| unknown(path, "the connection draining attribute"))?;
    Ok(Outcome::either(
        enabled,
        "Connection draining is enabled.",
        "Connection draining is off, so in-flight requests are cut when an instance is deregistered; enable `ConnectionDraining`.",
    )
    .with(p.evidence("attributes.connectionDraining")))
}

/// ELB.8: every SSL/HTTPS listener negotiates TLS with the predefined
/// `ELBSecurityPolicy-TLS-1-2-2017-01` policy (its
/// `Reference-Security-Policy`). Not applicable: no HTTPS/SSL listener.
fn classic_strong_tls_policy(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let listeners = p.array("listeners")?;
    let tls: Vec<Node<'_>> = listeners.iter().filter(|l| classic_tls(*l)).collect();
    if tls.is_empty() {
        return Ok(
            Outcome::not_applicable("The load balancer has no HTTPS or SSL listener.")
                .with(p.evidence("listeners")),
        );
    }
    let policies = p.array("policies")?;
    let reference = |name: &str| -> Option<&str> {
        policies
            .iter()
            .find(|pol| {
                field(*pol, "policyName") == Some(name)
                    && field(*pol, "policyTypeName") == Some("SSLNegotiationPolicyType")
            })
            .and_then(|pol| pol.get("attributes").and_then(Node::as_array))
            .and_then(|attrs| {
                attrs
                    .iter()
                    .find(|a| field(*a, "name") == Some("Reference-Security-Policy"))
                    .and_then(|a| field(a, "value"))
            })
    };
    let weak: Vec<String> = tls
        .iter()
        .filter_map(|l| {
            let names = l.get("policyNames").and_then(Node::as_array)?;
            let used: Vec<&str> = names
                .iter()
                .filter_map(Node::as_str)
                .filter_map(&reference)
                .collect();
            (!used.contains(&STRONG_CLASSIC_POLICY)).then(|| {
                format!(
                    "{} ({})",
                    listener_label(*l, "protocol", "loadBalancerPort"),
                    used.first().copied().unwrap_or("no predefined policy")
                )
            })
        })
        .chain(
            tls.iter()
                .filter(|l| l.get("policyNames").and_then(Node::as_array).is_none())
                .map(|l| {
                    format!(
                        "{} (no policy)",
                        listener_label(*l, "protocol", "loadBalancerPort")
                    )
                }),
        )
        .collect();
    Ok(Outcome::either(
        weak.is_empty(),
        format!("Every HTTPS/SSL listener negotiates TLS with `{STRONG_CLASSIC_POLICY}`."),
        format!(
            "Listener {} does not use `{STRONG_CLASSIC_POLICY}`; create an SSL negotiation policy referencing it and set it on the listener.",
            weak.join(", ")
        ),
    )
    .with(p.evidence("listeners"))
    .with(p.evidence("policies")))
}

/// ELB.9: cross-zone load balancing is enabled, on every Classic Load
/// Balancer (AWS Config's `elb-cross-zone-load-balancing-enabled` assesses
/// single-zone ones too: the setting takes effect when a zone is added).
fn classic_cross_zone(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let path = "attributes.crossZoneLoadBalancing.enabled";
    let enabled = p
        .bool(path)?
        .ok_or_else(|| unknown(path, "the cross-zone attribute"))?;
    Ok(Outcome::either(
        enabled,
        "Cross-zone load balancing is enabled.",
        "Cross-zone load balancing is off, so each zone's instances carry that zone's share regardless of their number; enable `CrossZoneLoadBalancing`.",
    )
    .with(p.evidence(path)))
}

/// ELB.10: the Classic Load Balancer spans at least two Availability
/// Zones (Security Hub's default `minAvailabilityZones`), one without
/// listeners too (AWS Config's `clb-multiple-az` excludes none).
fn classic_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let zones = p.array("availabilityZones")?.len();
    Ok(Outcome::either(
        zones >= 2,
        format!("The load balancer spans {zones} Availability Zones."),
        format!("The load balancer is in {zones} Availability Zone(s) only; enable a second zone."),
    )
    .with(p.evidence("availabilityZones")))
}

/// ELB.14: the desync mitigation mode is `defensive` or `strictest`, on
/// every Classic Load Balancer: AWS Config's `clb-desync-mode-check` reads
/// the attribute whatever the listeners (it governs HTTP listeners added
/// later too).
fn classic_desync_mitigation(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let path = "attributes.desyncMitigationMode";
    let mode = p
        .str(path)?
        .ok_or_else(|| unknown(path, "`elb.http.desyncmitigationmode`"))?;
    Ok(Outcome::either(
        SAFE_DESYNC_MODES.contains(&mode),
        format!("The load balancer's desync mitigation mode is `{mode}`."),
        format!("The load balancer's desync mitigation mode is `{mode}`; set `elb.http.desyncmitigationmode` to `defensive` or `strictest`."),
    )
    .with(p.evidence(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_policies() {
        assert!(recommended_v2_policy("ELBSecurityPolicy-TLS13-1-2-2021-06"));
        assert!(recommended_v2_policy(
            "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04"
        ));
        assert!(!recommended_v2_policy(
            "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06"
        ));
        assert!(!recommended_v2_policy("ELBSecurityPolicy-2016-08"));
    }
}
