//! Rules for API front doors: API Gateway REST stages, HTTP/WebSocket
//! (v2) stages and routes, AppSync GraphQL APIs, and Cognito user and
//! identity pools.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "apigateway-rest-stage-execution-logging",
        check: rest_stage_logging,
    },
    Rule {
        id: "apigateway-websocket-stage-execution-logging",
        check: websocket_stage_logging,
    },
    Rule {
        id: "apigateway-rest-stage-client-certificate",
        check: rest_stage_client_certificate,
    },
    Rule {
        id: "apigateway-rest-stage-xray-tracing",
        check: rest_stage_xray,
    },
    Rule {
        id: "apigateway-rest-stage-waf",
        check: rest_stage_waf,
    },
    Rule {
        id: "apigateway-rest-stage-cache-encrypted",
        check: rest_stage_cache_encrypted,
    },
    Rule {
        id: "apigateway-v2-route-authorization",
        check: v2_route_authorization,
    },
    Rule {
        id: "apigateway-v2-stage-access-logging",
        check: v2_stage_access_logging,
    },
    Rule {
        id: "appsync-api-cache-encrypted-at-rest",
        check: appsync_cache_at_rest,
    },
    Rule {
        id: "appsync-api-field-level-logging",
        check: appsync_field_logging,
    },
    Rule {
        id: "appsync-api-no-api-key-auth",
        check: appsync_no_api_keys,
    },
    Rule {
        id: "appsync-api-cache-encrypted-in-transit",
        check: appsync_cache_in_transit,
    },
    Rule {
        id: "cognito-user-pool-threat-protection-enforced",
        check: user_pool_threat_protection,
    },
    Rule {
        id: "cognito-identity-pool-no-unauthenticated",
        check: identity_pool_no_unauthenticated,
    },
    Rule {
        id: "cognito-user-pool-strong-password-policy",
        check: user_pool_password_policy,
    },
];

/// Not applicable when the resource (or its API) was deleted while the
/// scan ran.
fn deleted(p: &Props<'_>, what: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable(format!("The {what} was deleted while the scan ran."))
            .with(p.evidence("deleted"))
    }))
}

/// Execution logging levels that count as logging (APIGateway.1's default
/// `loggingLevel` parameter: `ERROR` or `INFO`).
fn logs(level: Option<&str>) -> bool {
    matches!(level, Some("ERROR" | "INFO"))
}

/// APIGateway.1 (REST part): every method of the stage logs executions at
/// `ERROR` or `INFO`: the stage-wide `*/*` method setting does, and no
/// per-method override turns logging off. Not applicable: the API was
/// deleted while the scan ran.
fn rest_stage_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "stage's REST API")? {
        return Ok(na);
    }
    let settings = p.get("methodSettings")?.and_then(|n| n.as_object());
    let stage_wide = settings
        .and_then(|s| s.get("*/*"))
        .and_then(|s| s.get("loggingLevel"))
        .and_then(|l| l.as_str());
    let off: Vec<String> = settings
        .iter()
        .flat_map(|s| s.iter())
        .filter(|(key, _)| *key != "*/*")
        .filter(|(_, s)| {
            s.get("loggingLevel")
                .and_then(|l| l.as_str())
                .is_some_and(|l| !logs(Some(l)))
        })
        .map(|(key, _)| format!("`{key}`"))
        .collect();
    let outcome = if !logs(stage_wide) {
        Outcome::unhealthy(
            "The stage does not log executions; set the stage's logging level (`*/*` method setting) to `ERROR` or `INFO`.",
        )
    } else if !off.is_empty() {
        Outcome::unhealthy(format!(
            "Method settings {} turn execution logging off; remove the overrides or set them to `ERROR` or `INFO`.",
            off.join(", ")
        ))
    } else {
        Outcome::healthy(format!(
            "Every method of the stage logs executions (level `{}`).",
            stage_wide.unwrap_or_default()
        ))
    };
    Ok(outcome.with(p.evidence("methodSettings")))
}

/// APIGateway.1 (WebSocket part): the WebSocket stage's default route
/// settings log executions at `ERROR` or `INFO`, and no route override
/// turns logging off. Not applicable: HTTP API stages (HTTP APIs have no
/// execution logging; APIGateway.9 covers their access logs) and stages of
/// an API deleted while the scan ran.
fn websocket_stage_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "stage's API")? {
        return Ok(na);
    }
    let protocol = p.str("protocolType")?;
    if protocol != Some("WEBSOCKET") {
        return Ok(Outcome::not_applicable(format!(
            "The stage belongs to a {} API, which has no execution logging.",
            protocol.unwrap_or("non-WebSocket")
        ))
        .with(p.evidence("protocolType")));
    }
    let level = p.str("defaultRouteLoggingLevel")?;
    let off: Vec<String> = p
        .get("routeLoggingLevels")?
        .and_then(|n| n.as_object())
        .iter()
        .flat_map(|m| m.iter())
        .filter(|(_, l)| l.as_str().is_some_and(|l| !logs(Some(l))))
        .map(|(key, _)| format!("`{key}`"))
        .collect();
    let outcome = if !logs(level) {
        Outcome::unhealthy(
            "The WebSocket stage does not log executions; set its default route logging level to `ERROR` or `INFO`.",
        )
    } else if !off.is_empty() {
        Outcome::unhealthy(format!(
            "Route settings {} turn execution logging off; set them to `ERROR` or `INFO`.",
            off.join(", ")
        ))
    } else {
        Outcome::healthy(format!(
            "The WebSocket stage logs executions (level `{}`).",
            level.unwrap_or_default()
        ))
    };
    Ok(outcome
        .with(p.evidence("defaultRouteLoggingLevel"))
        .with(p.evidence("routeLoggingLevels")))
}

/// APIGateway.2: the stage presents a client certificate to its backends,
/// so they can verify requests come from API Gateway. Not applicable: the
/// API was deleted while the scan ran.
fn rest_stage_client_certificate(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "stage's REST API")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("clientCertificateId")?.is_some(),
        "The stage presents a client certificate to its backends.",
        "The stage has no client certificate, so backends cannot tell API Gateway's requests from others; generate one and set it on the stage.",
    )
    .with(p.evidence("clientCertificateId")))
}

/// APIGateway.3: the stage has X-Ray active tracing. Not applicable: the
/// API was deleted while the scan ran.
fn rest_stage_xray(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "stage's REST API")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.bool("tracingEnabled")? == Some(true),
        "The stage traces requests with AWS X-Ray.",
        "The stage does not trace requests; turn on X-Ray active tracing.",
    )
    .with(p.evidence("tracingEnabled")))
}

/// APIGateway.4: an AWS WAF web ACL is associated with the stage. Not
/// applicable: the API was deleted while the scan ran.
fn rest_stage_waf(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "stage's REST API")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("webAclArn")?.is_some(),
        "An AWS WAF web ACL filters the stage's requests.",
        "No AWS WAF web ACL is associated with the stage; associate a regional web ACL.",
    )
    .with(p.evidence("webAclArn")))
}

/// APIGateway.5: every method that caches responses encrypts its cache
/// data. Not applicable: a stage without a cache cluster or where no
/// method caches (nothing is cached), or whose API was deleted while the
/// scan ran.
fn rest_stage_cache_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "stage's REST API")? {
        return Ok(na);
    }
    if p.bool("cacheClusterEnabled")? != Some(true) {
        return Ok(
            Outcome::not_applicable("The stage has no cache cluster; nothing is cached.")
                .with(p.evidence("cacheClusterEnabled")),
        );
    }
    let settings = p.get("methodSettings")?.and_then(|n| n.as_object());
    let caching: Vec<(&str, bool)> = settings
        .iter()
        .flat_map(|s| s.iter())
        .filter(|(_, s)| s.get("cachingEnabled").and_then(|c| c.as_bool()) == Some(true))
        .map(|(key, s)| {
            (
                key,
                s.get("cacheDataEncrypted").and_then(|c| c.as_bool()) == Some(true),
            )
        })
        .collect();
    if caching.is_empty() {
        return Ok(
            Outcome::not_applicable("No method of the stage caches responses.")
                .with(p.evidence("methodSettings")),
        );
    }
    let plain: Vec<String> = caching
        .iter()
        .filter(|(_, encrypted)| !encrypted)
        .map(|(key, _)| format!("`{key}`"))
        .collect();
    Ok(Outcome::either(
        plain.is_empty(),
        "Every method that caches responses encrypts its cache data.",
        format!(
            "Method settings {} cache responses unencrypted; turn on cache data encryption.",
            plain.join(", ")
        ),
    )
    .with(p.evidence("methodSettings")))
}

/// APIGateway.8: the route has an authorization type (`AWS_IAM`, `CUSTOM`
/// or `JWT`). Not applicable: WebSocket routes other than `$connect`,
/// which API Gateway does not let you authorize (a WebSocket API is
/// authorized once, when the connection is opened).
fn v2_route_authorization(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let key = p.str("routeKey")?.unwrap_or_default();
    if p.str("protocolType")? == Some("WEBSOCKET") && key != "$connect" {
        return Ok(Outcome::not_applicable(format!(
            "WebSocket route `{key}` cannot have an authorizer; WebSocket APIs authorize the `$connect` route."
        ))
        .with(p.evidence("routeKey")));
    }
    let kind = p.str("authorizationType")?.unwrap_or("NONE");
    Ok(Outcome::either(
        kind != "NONE",
        format!("The route requires `{kind}` authorization."),
        format!(
            "Route `{key}` has no authorization; set an IAM, JWT or Lambda authorizer (or document why it must be public)."
        ),
    )
    .with(p.evidence("authorizationType")))
}

/// APIGateway.9: the v2 (HTTP or WebSocket) stage writes access logs to a
/// CloudWatch Logs log group or Firehose stream. Not applicable: the API
/// was deleted while the scan ran.
fn v2_stage_access_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "stage's API")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("accessLogDestinationArn")?.is_some(),
        "The stage writes access logs.",
        "The stage writes no access logs; set an access log destination and format.",
    )
    .with(p.evidence("accessLogDestinationArn")))
}

/// The AppSync cache, or the not-applicable outcome for an API without
/// one (or deleted while the scan ran).
fn appsync_cache<'a>(p: &Props<'a>) -> Result<Result<crate::doc::Node<'a>, Outcome>, Unreadable> {
    if let Some(na) = deleted(p, "GraphQL API")? {
        return Ok(Err(na));
    }
    Ok(p.get("apiCache")?.ok_or_else(|| {
        Outcome::not_applicable("The GraphQL API has no cache.").with(p.evidence("apiCache"))
    }))
}

/// AppSync.1: the API cache encrypts data at rest. Not applicable: no
/// cache, or the API was deleted while the scan ran.
fn appsync_cache_at_rest(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let cache = match appsync_cache(p)? {
        Ok(cache) => cache,
        Err(na) => return Ok(na),
    };
    Ok(Outcome::either(
        cache
            .get("atRestEncryptionEnabled")
            .and_then(|v| v.as_bool())
            == Some(true),
        "The API cache encrypts data at rest.",
        "The API cache stores data unencrypted; recreate the cache with at-rest encryption.",
    )
    .with(p.evidence("apiCache.atRestEncryptionEnabled")))
}

/// AppSync.6: the API cache encrypts data in transit. Not applicable: no
/// cache, or the API was deleted while the scan ran.
fn appsync_cache_in_transit(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let cache = match appsync_cache(p)? {
        Ok(cache) => cache,
        Err(na) => return Ok(na),
    };
    Ok(Outcome::either(
        cache.get("transitEncryptionEnabled").and_then(|v| v.as_bool()) == Some(true),
        "The API cache encrypts data in transit.",
        "The API cache sends data unencrypted between AppSync and the cache; recreate the cache with in-transit encryption.",
    )
    .with(p.evidence("apiCache.transitEncryptionEnabled")))
}

/// AppSync.2: field-level logging is on (any field log level but `NONE`;
/// Security Hub's default passes `ERROR` and `ALL`, the only levels that
/// existed when the control was written, and `INFO`/`DEBUG` also log
/// errors). Not applicable: the API was deleted while the scan ran.
fn appsync_field_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "GraphQL API")? {
        return Ok(na);
    }
    let level = p.str("fieldLogLevel")?.unwrap_or("NONE");
    Ok(Outcome::either(
        level != "NONE",
        format!("The GraphQL API logs resolver fields at level `{level}`."),
        "The GraphQL API has no field-level logging; set a field resolver log level (`ERROR` or `ALL`) and a CloudWatch Logs role.",
    )
    .with(p.evidence("fieldLogLevel")))
}

/// AppSync.5: neither the primary nor an additional authorization mode is
/// `API_KEY`. Not applicable: the API was deleted while the scan ran.
fn appsync_no_api_keys(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "GraphQL API")? {
        return Ok(na);
    }
    let api_key = p
        .array("authenticationTypes")?
        .iter()
        .any(|v| v.as_str() == Some("API_KEY"));
    Ok(Outcome::either(
        !api_key,
        "The GraphQL API does not accept API keys.",
        "The GraphQL API accepts API keys, static secrets that identify no caller; use IAM, Cognito user pools, OIDC or a Lambda authorizer instead.",
    )
    .with(p.evidence("authenticationTypes")))
}

/// Cognito.1: threat protection (advanced security) runs in full-function
/// (`ENFORCED`) mode for standard authentication. Not applicable: a pool
/// deleted while the scan ran.
fn user_pool_threat_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "user pool")? {
        return Ok(na);
    }
    let mode = p.str("advancedSecurityMode")?.unwrap_or("OFF");
    Ok(Outcome::either(
        mode == "ENFORCED",
        "Threat protection blocks risky sign-ins (full-function mode).",
        format!(
            "Threat protection is `{mode}`; set it to full-function (`ENFORCED`) mode so risky sign-ins and compromised credentials are blocked."
        ),
    )
    .with(p.evidence("advancedSecurityMode")))
}

/// Cognito.2: the identity pool gives no AWS credentials to unauthenticated
/// (guest) identities. Not applicable: a pool deleted while the scan ran.
fn identity_pool_no_unauthenticated(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "identity pool")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.bool("allowUnauthenticatedIdentities")? == Some(false),
        "The identity pool issues credentials only to authenticated identities.",
        "The identity pool gives AWS credentials to unauthenticated guests; turn off guest access unless the guest role is deliberately minimal.",
    )
    .with(p.evidence("allowUnauthenticatedIdentities")))
}

/// Cognito.3's defaults: minimum length, and at most this many days for
/// temporary passwords.
const MIN_PASSWORD_LENGTH: i64 = 8;
const MAX_TEMPORARY_PASSWORD_DAYS: i64 = 7;

/// Cognito.3: the password policy meets Security Hub's default parameters:
/// at least 8 characters, upper- and lower-case letters, numbers and
/// symbols required, temporary passwords valid at most 7 days. Not
/// applicable: a pool deleted while the scan ran.
fn user_pool_password_policy(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p, "user pool")? {
        return Ok(na);
    }
    let mut weak = Vec::new();
    match p.i64("passwordPolicy.minimumLength")? {
        Some(n) if n >= MIN_PASSWORD_LENGTH => {}
        Some(n) => weak.push(format!("minimum length {n} (< {MIN_PASSWORD_LENGTH})")),
        None => weak.push("no minimum length".to_owned()),
    }
    for (key, what) in [
        ("requireUppercase", "upper-case letters"),
        ("requireLowercase", "lower-case letters"),
        ("requireNumbers", "numbers"),
        ("requireSymbols", "symbols"),
    ] {
        if p.bool(&format!("passwordPolicy.{key}"))? != Some(true) {
            weak.push(format!("{what} not required"));
        }
    }
    match p.i64("passwordPolicy.temporaryPasswordValidityDays")? {
        Some(d) if d <= MAX_TEMPORARY_PASSWORD_DAYS => {}
        Some(d) => weak.push(format!(
            "temporary passwords valid {d} days (> {MAX_TEMPORARY_PASSWORD_DAYS})"
        )),
        None => weak.push("no temporary password validity".to_owned()),
    }
    Ok(Outcome::either(
        weak.is_empty(),
        "The password policy requires at least 8 characters with upper- and lower-case letters, numbers and symbols, and temporary passwords expire within 7 days.",
        format!("The password policy is weak: {}.", weak.join(", ")),
    )
    .with(p.evidence("passwordPolicy")))
}
