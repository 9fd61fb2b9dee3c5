//! Rules for CloudFront distributions (FSBP CloudFront.*), read from the
//! `AWS::CloudFront::Distribution` assets: origins (S3 and custom), origin
//! groups, cache behaviors (the default one first), viewer certificate,
//! web ACL, default root object and logging.

use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

use super::{Outcome, Rule};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "cloudfront-distribution-default-root-object",
        check: default_root_object,
    },
    Rule {
        id: "cloudfront-distribution-https-only",
        check: https_only,
    },
    Rule {
        id: "cloudfront-distribution-origin-failover",
        check: origin_failover,
    },
    Rule {
        id: "cloudfront-distribution-access-logging",
        check: access_logging,
    },
    Rule {
        id: "cloudfront-distribution-waf-enabled",
        check: waf_enabled,
    },
    Rule {
        id: "cloudfront-distribution-custom-certificate",
        check: custom_certificate,
    },
    Rule {
        id: "cloudfront-distribution-sni",
        check: sni,
    },
    Rule {
        id: "cloudfront-distribution-custom-origin-encryption",
        check: custom_origin_encryption,
    },
    Rule {
        id: "cloudfront-distribution-no-deprecated-origin-ssl",
        check: no_deprecated_origin_ssl,
    },
    Rule {
        id: "cloudfront-distribution-s3-origin-exists",
        check: s3_origin_exists,
    },
    Rule {
        id: "cloudfront-distribution-origin-access-control",
        check: origin_access_control,
    },
    Rule {
        id: "cloudfront-distribution-recommended-tls-policy",
        check: recommended_tls_policy,
    },
];

/// Security policies that meet CloudFront.15: Security Hub's default
/// parameter (`TLSv1.2_2021`) and the stricter policies added after it.
const RECOMMENDED_POLICIES: &[&str] = &["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"];

/// A string field of a JSON object.
fn field<'v>(value: Node<'v>, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Node::as_str)
}

/// Not applicable to a distribution deleted while the scan ran.
pub(super) fn deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The distribution was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

/// The distribution's S3 (REST endpoint) origins.
fn s3_origins<'a>(p: &Props<'a>) -> Result<Vec<Node<'a>>, Unreadable> {
    Ok(p.array("origins")?
        .iter()
        .filter(|o| o.get("s3Origin").and_then(Node::as_bool) == Some(true))
        .collect())
}

/// The distribution's custom origins.
fn custom_origins<'a>(p: &Props<'a>) -> Result<Vec<Node<'a>>, Unreadable> {
    Ok(p.array("origins")?
        .iter()
        .filter(|o| o.get("customOrigin").is_some_and(|c| !c.is_null()))
        .collect())
}

fn ids(origins: &[Node<'_>]) -> String {
    origins
        .iter()
        .map(|o| format!("`{}`", field(*o, "id").unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Not applicable without S3 origins.
fn no_s3_origins(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(s3_origins(p)?.is_empty().then(|| {
        Outcome::not_applicable(
            "The distribution has no S3 origin (custom origins and S3 website endpoints are not assessed).",
        )
        .with(p.evidence("origins"))
    }))
}

/// Not applicable without custom origins.
fn no_custom_origins(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(custom_origins(p)?.is_empty().then(|| {
        Outcome::not_applicable("The distribution has no custom origin.")
            .with(p.evidence("origins"))
    }))
}

/// Whether the distribution uses CloudFront's default certificate.
fn default_certificate(p: &Props<'_>) -> Result<bool, Unreadable> {
    let default = p.bool("viewerCertificate.cloudFrontDefaultCertificate")?;
    let custom = p.str("viewerCertificate.acmCertificateArn")?.is_some()
        || p.str("viewerCertificate.iamCertificateId")?.is_some();
    Ok(default == Some(true) || !custom)
}

/// Not applicable with CloudFront's default certificate.
fn uses_default_certificate(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(default_certificate(p)?.then(|| {
        Outcome::not_applicable(
            "The distribution uses CloudFront's default certificate, whose TLS settings CloudFront fixes.",
        )
        .with(p.evidence("viewerCertificate"))
    }))
}

/// CloudFront.1: a distribution with S3 origins has a default root object.
fn default_root_object(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if let Some(na) = no_s3_origins(p)? {
        return Ok(na);
    }
    Ok(match p.str("defaultRootObject")? {
        Some(root) => Outcome::healthy(format!(
            "Requests for the root URL are served the default root object `{root}`."
        )),
        None => Outcome::unhealthy(
            "The distribution has S3 origins and no default root object; set one (for example index.html).",
        ),
    }
    .with(p.evidence("defaultRootObject")))
}

/// CloudFront.3: no cache behavior allows plain HTTP (`allow-all`).
fn https_only(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let behaviors = p.array("cacheBehaviors")?;
    if behaviors.is_empty() {
        return Err(Unreadable {
            path: "cacheBehaviors".to_owned(),
            error: "the API returned no default cache behavior".to_owned(),
        });
    }
    let plain: Vec<&str> = behaviors
        .iter()
        .filter(|b| field(*b, "viewerProtocolPolicy") == Some("allow-all"))
        .map(|b| field(b, "pathPattern").unwrap_or("?"))
        .collect();
    Ok(if plain.is_empty() {
        Outcome::healthy("Every cache behavior redirects HTTP to HTTPS or accepts HTTPS only.")
    } else {
        Outcome::unhealthy(format!(
            "Cache behaviors for {} allow plain HTTP (allow-all); set them to redirect-to-https or https-only.",
            plain
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
    .with(p.evidence("cacheBehaviors")))
}

/// CloudFront.4: an origin group with at least two origins.
fn origin_failover(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let groups = p.array("originGroups")?;
    let failover = groups.iter().find(|g| {
        g.get("members")
            .and_then(Node::as_array)
            .map_or(0, |m| m.len())
            >= 2
    });
    Ok(match failover {
        Some(group) => Outcome::healthy(format!(
            "Origin group `{}` fails over between at least two origins.",
            field(group, "id").unwrap_or("?")
        )),
        None if groups.is_empty() => Outcome::unhealthy(
            "The distribution has no origin group; add one with a primary and a secondary origin.",
        ),
        None => Outcome::unhealthy(
            "No origin group of the distribution has two origins; add a secondary origin to fail over to.",
        ),
    }
    .with(p.evidence("originGroups")))
}

/// CloudFront.5: standard logging is enabled.
fn access_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let enabled = p.bool("logging.enabled")?;
    let Some(enabled) = enabled else {
        return Err(Unreadable {
            path: "logging".to_owned(),
            error: "the distribution's configuration was not read".to_owned(),
        });
    };
    Ok(if enabled {
        Outcome::healthy(format!(
            "Standard logging delivers access logs to `{}`.",
            p.str("logging.bucket")?.unwrap_or("?")
        ))
    } else {
        Outcome::unhealthy("Standard logging is off; enable it with an S3 bucket for the logs.")
    }
    .with(p.evidence("logging")))
}

/// CloudFront.6: a web ACL is associated.
fn waf_enabled(p: &Props<'_>, inventory: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    Ok(match p.str("webAclId")? {
        Some(acl) => {
            let named = inventory
                .by_arn(acl)
                .map_or_else(String::new, |a| format!(" (`{}`)", a.name));
            let kind = if acl.starts_with("arn:") {
                "AWS WAF"
            } else {
                "AWS WAF Classic"
            };
            Outcome::healthy(format!(
                "The distribution is associated with {kind} web ACL `{acl}`{named}."
            ))
        }
        None => Outcome::unhealthy(
            "No AWS WAF web ACL is associated with the distribution; associate a web ACL of scope CLOUDFRONT.",
        ),
    }
    .with(p.evidence("webAclId")))
}

/// CloudFront.7: a custom (ACM or IAM) certificate.
fn custom_certificate(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if p.get("viewerCertificate")?.is_none() {
        return Err(Unreadable {
            path: "viewerCertificate".to_owned(),
            error: "the API returned no viewer certificate".to_owned(),
        });
    }
    Ok(Outcome::either(
        !default_certificate(p)?,
        "The distribution serves HTTPS with a custom certificate.",
        "The distribution uses CloudFront's default *.cloudfront.net certificate; use an ACM certificate for your own domain names.",
    )
    .with(p.evidence("viewerCertificate")))
}

/// CloudFront.8: a custom certificate is served with SNI.
fn sni(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if let Some(na) = uses_default_certificate(p)? {
        return Ok(na);
    }
    let method = p.str("viewerCertificate.sslSupportMethod")?;
    Ok(match method {
        Some("sni-only") => Outcome::healthy("The custom certificate is served with SNI."),
        Some(other) => Outcome::unhealthy(format!(
            "The custom certificate is served with SSL support method `{other}` (dedicated IP addresses); switch to sni-only."
        )),
        None => {
            return Err(Unreadable {
                path: "viewerCertificate.sslSupportMethod".to_owned(),
                error: "the API returned no SSL support method for a custom certificate".to_owned(),
            });
        }
    }
    .with(p.evidence("viewerCertificate.sslSupportMethod")))
}

/// The cache behaviors' viewer protocol policies per origin id they reach
/// (through an origin group, its members too).
fn allows_plain_http(p: &Props<'_>, origin: &str) -> Result<bool, Unreadable> {
    let groups = p.array("originGroups")?;
    let reaches = |target: &str| {
        target == origin
            || groups.iter().any(|g| {
                field(g, "id") == Some(target)
                    && g.get("members")
                        .and_then(Node::as_array)
                        .is_some_and(|m| m.iter().any(|id| id.as_str() == Some(origin)))
            })
    };
    Ok(p.array("cacheBehaviors")?.iter().any(|b| {
        field(b, "viewerProtocolPolicy") == Some("allow-all")
            && field(b, "targetOriginId").is_some_and(reaches)
    }))
}

/// CloudFront.9: custom origins are reached over HTTPS.
fn custom_origin_encryption(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if let Some(na) = no_custom_origins(p)? {
        return Ok(na);
    }
    let mut plain = Vec::new();
    for origin in custom_origins(p)? {
        let id = field(origin, "id").unwrap_or("?");
        let policy = origin
            .get("customOrigin")
            .and_then(|c| field(c, "originProtocolPolicy"));
        match policy {
            Some("http-only") => plain.push(format!("`{id}` (http-only)")),
            Some("match-viewer") if allows_plain_http(p, id)? => plain.push(format!(
                "`{id}` (match-viewer behind a behavior that allows HTTP)"
            )),
            Some(_) => {}
            None => {
                return Err(Unreadable {
                    path: "origins".to_owned(),
                    error: format!("no origin protocol policy for custom origin `{id}`"),
                });
            }
        }
    }
    Ok(if plain.is_empty() {
        Outcome::healthy("CloudFront reaches every custom origin over HTTPS.")
    } else {
        Outcome::unhealthy(format!(
            "CloudFront can reach custom origins over plain HTTP: {}; set their origin protocol policy to https-only.",
            plain.join(", ")
        ))
    }
    .with(p.evidence("origins"))
    .with(p.evidence("cacheBehaviors")))
}

/// CloudFront.10: no custom origin allows SSLv3.
fn no_deprecated_origin_ssl(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if let Some(na) = no_custom_origins(p)? {
        return Ok(na);
    }
    let sslv3: Vec<Node<'_>> = custom_origins(p)?
        .into_iter()
        .filter(|o| {
            o.get("customOrigin")
                .and_then(|c| c.get("originSslProtocols"))
                .and_then(Node::as_array)
                .is_some_and(|ps| ps.iter().any(|v| v.as_str() == Some("SSLv3")))
        })
        .collect();
    Ok(if sslv3.is_empty() {
        Outcome::healthy("No custom origin allows SSLv3 between the edge and the origin.")
    } else {
        Outcome::unhealthy(format!(
            "Custom origins {} allow SSLv3; remove it from their origin SSL protocols.",
            ids(&sslv3)
        ))
    }
    .with(p.evidence("origins")))
}

/// CloudFront.12: the bucket of every S3 origin exists.
fn s3_origin_exists(p: &Props<'_>, inventory: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if let Some(na) = no_s3_origins(p)? {
        return Ok(na);
    }
    let mut missing = Vec::new();
    let mut checked = 0;
    for origin in s3_origins(p)? {
        let Some(bucket) = field(origin, "s3Bucket") else {
            continue;
        };
        checked += 1;
        let owned = inventory
            .by_arn(&format!("arn:aws:s3:::{bucket}"))
            .is_some_and(|a| a.resource_type == "AWS::S3::Bucket");
        if owned {
            continue;
        }
        match origin.get("s3BucketExists").and_then(Node::as_bool) {
            Some(true) => {}
            Some(false) => missing.push(format!("`{bucket}`")),
            None => {
                return Err(Unreadable {
                    path: "origins".to_owned(),
                    error: format!(
                        "bucket `{bucket}` is not among the scanned buckets and the scan could not tell whether it exists"
                    ),
                });
            }
        }
    }
    if checked == 0 {
        return Err(Unreadable {
            path: "origins".to_owned(),
            error: "no bucket name could be read from the S3 origins' domain names".to_owned(),
        });
    }
    Ok(if missing.is_empty() {
        Outcome::healthy("The bucket of every S3 origin exists.")
    } else {
        Outcome::unhealthy(format!(
            "S3 origin buckets {} do not exist; anyone could create them and serve content through the distribution. Recreate them or remove the origins.",
            missing.join(", ")
        ))
    }
    .with(p.evidence("origins")))
}

/// CloudFront.13: every S3 origin has an origin access control.
fn origin_access_control(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if let Some(na) = no_s3_origins(p)? {
        return Ok(na);
    }
    let without: Vec<Node<'_>> = s3_origins(p)?
        .into_iter()
        .filter(|o| field(*o, "originAccessControlId").is_none())
        .collect();
    Ok(if without.is_empty() {
        Outcome::healthy("Every S3 origin uses an origin access control.")
    } else {
        Outcome::unhealthy(format!(
            "S3 origins {} have no origin access control; attach one and limit the bucket policy to the distribution.",
            ids(&without)
        ))
    }
    .with(p.evidence("origins")))
}

/// CloudFront.15: the viewer security policy is a recommended one.
fn recommended_tls_policy(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    if let Some(na) = uses_default_certificate(p)? {
        return Ok(na);
    }
    let Some(policy) = p.str("viewerCertificate.minimumProtocolVersion")? else {
        return Err(Unreadable {
            path: "viewerCertificate.minimumProtocolVersion".to_owned(),
            error: "the API returned no security policy for a custom certificate".to_owned(),
        });
    };
    Ok(Outcome::either(
        RECOMMENDED_POLICIES.contains(&policy),
        format!("The distribution uses the recommended security policy `{policy}`."),
        format!("The distribution uses security policy `{policy}`; use TLSv1.2_2021 or newer."),
    )
    .with(p.evidence("viewerCertificate.minimumProtocolVersion")))
}
