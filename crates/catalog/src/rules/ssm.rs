//! Rules for Systems Manager and the Servers plan: EC2 instances managed
//! by SSM, managed instances' patch and association compliance, software
//! inventory and agent version, the account's Servers auto-provisioning,
//! the account's own SSM documents, and Parameter Store parameters
//! (metadata only: their values are never read).
//!
//! Property shapes are the SSM collector's (`crates/aws/src/collectors/ssm.rs`):
//! a [`rampart_model::types::SSM_MANAGED_INSTANCE`] asset per instance that
//! `DescribeInstanceInformation` returned, with `resourceArn` set to the
//! EC2 instance's ARN and `patchState`, `compliance` and `inventory`
//! summaries; a [`rampart_model::types::SSM_REGION`] asset per region. The
//! instance → managed instance lookup is shared with the Servers coverage
//! summary ([`crate::servers`]). The plan settings
//! ([`rampart_model::types::SERVERS_PLAN`]) are written by the engine from
//! the connector.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::servers::{Lookup, managed_instance};
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "ssm-instance-managed",
        check: instance_managed,
    },
    Rule {
        id: "ssm-instance-patch-compliant",
        check: patch_compliant,
    },
    Rule {
        id: "ssm-instance-association-compliant",
        check: association_compliant,
    },
    Rule {
        id: "ssm-instance-inventory-reported",
        check: inventory_reported,
    },
    Rule {
        id: "ssm-agent-current",
        check: agent_current,
    },
    Rule {
        id: "servers-auto-provisioning-enabled",
        check: auto_provisioning_enabled,
    },
    Rule {
        id: "ssm-document-not-public",
        check: document_not_public,
    },
    Rule {
        id: "ssm-document-public-sharing-blocked",
        check: document_public_sharing_blocked,
    },
    Rule {
        id: "ssm-automation-logging-enabled",
        check: automation_logging_enabled,
    },
    Rule {
        id: "ssm-parameter-secret-is-securestring",
        check: parameter_secret_is_securestring,
    },
    Rule {
        id: "ssm-parameter-securestring-cmk",
        check: parameter_securestring_cmk,
    },
];

/// FSBP SSM.1, on the EC2 instance: a managed instance with this
/// instance's ARN (or id) exists in the same account and region; a running
/// instance must also be `Online` (a registered agent that stopped
/// reporting is not managing anything).
///
/// Unknown (error): the region's SSM status says the list could not be
/// read, or — for snapshots without a region status — the region lists no
/// managed instance at all (which cannot be told from an unreadable list).
///
/// Not applicable: an instance being terminated.
fn instance_managed(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let state = p.str("state")?;
    if let Some(state @ ("shutting-down" | "terminated")) = state {
        return Ok(Outcome::not_applicable(format!(
            "The instance is {state}; the check applies to instances that are kept."
        ))
        .with(p.evidence("state")));
    }
    let mine = match managed_instance(inv, p.asset()) {
        Lookup::Managed(mine) => mine,
        Lookup::Unknown(why) => {
            return Err(Unreadable {
                path: "ssm:DescribeInstanceInformation".to_owned(),
                error: why.to_owned(),
            });
        }
        Lookup::NotManaged => {
            return Ok(Outcome::unhealthy(
                "Systems Manager does not manage this instance; install or start the SSM Agent and give the instance a role with `AmazonSSMManagedInstanceCore`.",
            )
            .with(p.evidence("iamInstanceProfile")));
        }
    };
    let m = Props::of(mine);
    let ping = m.str("pingStatus")?;
    let running = matches!(state, Some("running" | "pending"));
    let evidence = rampart_model::Evidence {
        path: "managedInstance.pingStatus".to_owned(),
        value: m.evidence("pingStatus").value,
    };
    if running && ping != Some("Online") {
        return Ok(Outcome::unhealthy(format!(
            "The instance is registered with Systems Manager but its agent is {}; check the SSM Agent and the instance's network path to Systems Manager.",
            ping.unwrap_or("not reporting")
        ))
        .with(evidence));
    }
    Ok(Outcome::healthy("Systems Manager manages this instance.").with(evidence))
}

/// A managed instance SSM no longer tracks (`Inactive`: terminated or
/// deregistered) is not assessed.
fn inactive(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if p.str("pingStatus")? == Some("Inactive") {
        return Ok(Some(
            Outcome::not_applicable(
                "Systems Manager reports the instance as inactive (terminated or deregistered).",
            )
            .with(p.evidence("pingStatus")),
        ));
    }
    Ok(None)
}

/// A summary property the collector writes; absent (not `null`) in
/// snapshots made before the collector read it.
fn collected<'a>(p: &Props<'a>, key: &str) -> Result<Option<Node<'a>>, Unreadable> {
    let value = p.get(key)?;
    if value.is_none() && p.asset().properties.get(key).is_none() {
        return Err(Unreadable {
            path: key.to_owned(),
            error: format!("the scan did not record `{key}` for this managed instance"),
        });
    }
    Ok(value)
}

/// FSBP SSM.2: the instance's `Patch` compliance summary is `COMPLIANT`.
/// Not applicable, as in the control (it checks only instances Patch
/// Manager reports on; AWS Config's rule reads their patch compliance
/// items): no summary, because no patch scan has run.
fn patch_compliant(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p)? {
        return Ok(na);
    }
    collected(p, "compliance")?;
    match p.str("compliance.patch.status")? {
        Some("COMPLIANT") => {
            Ok(Outcome::healthy("The instance is compliant with its patch baseline.")
                .with(p.evidence("compliance.patch")))
        }
        Some(status) => {
            let missing = p.i64("patchState.missingCount")?;
            let failed = p.i64("patchState.failedCount")?;
            Ok(Outcome::unhealthy(format!(
                "Patch compliance is {status} ({} missing, {} failed); install the missing patches with Patch Manager (`AWS-RunPatchBaseline` with `Install`).",
                missing.map_or("unknown".to_owned(), |n| n.to_string()),
                failed.map_or("unknown".to_owned(), |n| n.to_string()),
            ))
            .with(p.evidence("compliance.patch"))
            .with(p.evidence("patchState")))
        }
        None => Ok(Outcome::not_applicable(
            "Systems Manager has no patch compliance data for the instance: no patch scan has run, so Patch Manager does not manage it yet; scan it with `AWS-RunPatchBaseline` (a Quick Setup patch policy does this on a schedule).",
        )
        .with(p.evidence("compliance.patch"))),
    }
}

/// FSBP SSM.3: the instance's `Association` compliance summary is
/// `COMPLIANT`. Not applicable: no association targets it (no summary).
fn association_compliant(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p)? {
        return Ok(na);
    }
    collected(p, "compliance")?;
    match p.str("compliance.association.status")? {
        None => Ok(Outcome::not_applicable(
            "No State Manager association has reported compliance for the instance.",
        )
        .with(p.evidence("compliance.association"))),
        Some(status) => Ok(Outcome::either(
            status == "COMPLIANT",
            "The instance's associations ran successfully.",
            format!(
                "Association compliance is {status}: an association on the instance failed; check the association's execution history and the instance's SSM Agent log."
            ),
        )
        .with(p.evidence("compliance.association"))),
    }
}

/// The instance reports software inventory (`AWS:Application` or
/// `AWS:InstanceInformation`), which vulnerability assessment needs.
fn inventory_reported(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p)? {
        return Ok(na);
    }
    collected(p, "inventory")?;
    let present = p.bool("inventory.present")?;
    Ok(Outcome::either(
        present == Some(true),
        "The instance reports its software inventory to Systems Manager.",
        "Systems Manager holds no software inventory for the instance; add an inventory association (`AWS-GatherSoftwareInventory`, or enable Servers auto-provisioning).",
    )
    .with(p.evidence("inventory")))
}

/// Version numbers of a dotted version (`3.3.131.0`), for comparison.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|part| part.trim().parse::<u64>().unwrap_or(0))
        .collect()
}

/// The SSM Agent is current: SSM's own `isLatestVersion` when it reports
/// one (Linux), else (Windows, macOS) the agent is not older than the
/// newest agent version seen on the same platform in the same region
/// (`newestAgentVersion` of the region status) — a relative check, since
/// Rampart ships no list of agent releases.
fn agent_current(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p)? {
        return Ok(na);
    }
    let version = p.str("agentVersion")?;
    match p.bool("isLatestVersion")? {
        Some(true) => {
            return Ok(Outcome::healthy("The SSM Agent is the latest version.")
                .with(p.evidence("agentVersion")));
        }
        Some(false) => {
            return Ok(Outcome::unhealthy(format!(
                "The SSM Agent ({}) is not the latest version; update it (`AWS-UpdateSSMAgent`, or auto-update in Fleet Manager settings).",
                version.unwrap_or("unknown version")
            ))
            .with(p.evidence("agentVersion"))
            .with(p.evidence("isLatestVersion")));
        }
        None => {}
    }
    let Some(version) = version else {
        return Err(Unreadable {
            path: "agentVersion".to_owned(),
            error: "Systems Manager reported no agent version for the instance".to_owned(),
        });
    };
    let asset = p.asset();
    let platform = p.str("platformType")?.unwrap_or_default();
    let newest = inv
        .of_type_in_region(
            rampart_model::types::SSM_REGION,
            asset.account,
            asset.region,
        )
        .next()
        .and_then(|status| {
            status
                .properties
                .get("newestAgentVersion")
                .and_then(|n| n.get(platform))
                .and_then(Node::as_str)
        });
    let Some(newest) = newest else {
        return Err(Unreadable {
            path: "newestAgentVersion".to_owned(),
            error: "SSM reported no latest-version flag and the region status has no agent version to compare with".to_owned(),
        });
    };
    Ok(Outcome::either(
        version_key(version) >= version_key(newest),
        "The SSM Agent is as new as any in the region.",
        format!(
            "The SSM Agent ({version}) is older than {newest}, which other {platform} instances in the region run; update it (`AWS-UpdateSSMAgent`)."
        ),
    )
    .with(p.evidence("agentVersion")))
}

/// The account's Servers plan provisions its agent automatically
/// (`autoProvisioning`). Not applicable: the Servers plan is off for the
/// connector.
fn auto_provisioning_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.bool("serversPlanEnabled")? != Some(true) {
        return Ok(Outcome::not_applicable(
            "The Servers plan is not enabled for the account's connector.",
        )
        .with(p.evidence("serversPlanEnabled")));
    }
    Ok(Outcome::either(
        p.bool("autoProvisioning")? == Some(true),
        "Servers auto-provisioning is on: Rampart installs its agent on new instances through Systems Manager.",
        "Servers auto-provisioning is off: new instances get no agent, no inventory and no patch scans unless someone sets them up by hand.",
    )
    .with(p.evidence("autoProvisioning")))
}

/// FSBP SSM.4: the document is not shared with `all` (`public`). Not
/// applicable: a document another account owns (only its owner can change
/// its sharing).
fn document_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let account = p.asset().account;
    if let Some(owner) = p.str("owner")?.filter(|o| *o != account) {
        return Ok(Outcome::not_applicable(format!(
            "The document belongs to `{owner}`; only its owner controls its sharing."
        ))
        .with(p.evidence("owner")));
    }
    let Some(public) = p.bool("public")? else {
        return Err(Unreadable {
            path: "public".to_owned(),
            error: "the document's sharing permissions are unknown".to_owned(),
        });
    };
    Ok(Outcome::either(
        !public,
        "The document is not shared publicly.",
        "The document is shared with everyone; remove `All` from its sharing permissions and turn on block public sharing for SSM documents.",
    )
    .with(p.evidence("public")))
}

/// A service setting of the region's `Rampart::SSM::ServiceSettings` asset
/// (`{settingValue, status, lastModifiedDate}`); not applicable when
/// Systems Manager has no such setting in the region
/// (`ServiceSettingNotFound`).
fn service_setting<'a>(
    p: &Props<'a>,
    key: &str,
) -> Result<Result<Option<&'a str>, Outcome>, Unreadable> {
    match p.get(key) {
        Ok(Some(node)) => Ok(Ok(node.get("settingValue").and_then(Node::as_str))),
        Ok(None) => Err(Unreadable {
            path: key.to_owned(),
            error: "the region did not report the setting".to_owned(),
        }),
        Err(err) if err.error.starts_with("ServiceSettingNotFound") => Ok(Err(
            Outcome::not_applicable("Systems Manager has no such setting in this region.")
                .with(p.evidence(key)),
        )),
        Err(err) => Err(err),
    }
}

/// FSBP SSM.7: the region's `/ssm/documents/console/public-sharing-permission`
/// service setting is `Disable` (block public sharing on). Not applicable:
/// a region where Systems Manager has no such setting.
fn document_public_sharing_blocked(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let key = "documentPublicSharingPermission";
    let value = match service_setting(p, key)? {
        Ok(value) => value,
        Err(na) => return Ok(na),
    };
    Ok(Outcome::either(
        value == Some("Disable"),
        "Block public sharing is on for SSM documents in this region.",
        "SSM documents of this region can be shared publicly; turn on block public sharing (service setting `/ssm/documents/console/public-sharing-permission` = `Disable`).",
    )
    .with(p.evidence(&format!("{key}.settingValue"))))
}

/// FSBP SSM.6: Automation sends `aws:executeScript` output to CloudWatch
/// Logs (service setting `/ssm/automation/customer-script-log-destination`
/// = `CloudWatch`). Not applicable: a region without the setting.
fn automation_logging_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let key = "automationLogDestination";
    let value = match service_setting(p, key)? {
        Ok(value) => value,
        Err(na) => return Ok(na),
    };
    let group = p
        .str("automationLogGroupName.settingValue")
        .ok()
        .flatten()
        .filter(|g| !g.is_empty());
    Ok(if value == Some("CloudWatch") {
        Outcome::healthy(match group {
            Some(group) => format!("Automation sends script output to the CloudWatch Logs group `{group}`."),
            None => "Automation sends script output to CloudWatch Logs (the default group).".to_owned(),
        })
    } else {
        Outcome::unhealthy(
            "Automation does not send script output to CloudWatch Logs; turn on CloudWatch logging in the Automation preferences (service setting `/ssm/automation/customer-script-log-destination` = `CloudWatch`).",
        )
    }
    .with(p.evidence(&format!("{key}.settingValue"))))
}

/// The words of a parameter name's last path segment, lower case: split on
/// anything not alphanumeric and where a lower-case letter or digit meets
/// an upper-case one (`/prod/db/masterPassword` → `master`, `password`).
fn leaf_words(name: &str) -> Vec<String> {
    let leaf = name.rsplit('/').next().unwrap_or(name);
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in leaf.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Last words that name a secret value.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "apikey",
    "privatekey",
    "secretkey",
];

/// Last two words that name a secret value.
const SECRET_PAIRS: &[[&str; 2]] = &[
    ["api", "key"],
    ["api", "keys"],
    ["private", "key"],
    ["secret", "key"],
    ["signing", "key"],
    ["connection", "string"],
];

/// Whether a parameter's name says its value is a secret: the last word
/// of its last path segment is one of [`SECRET_WORDS`] or its last two are
/// one of [`SECRET_PAIRS`] (`/prod/db/password`, `stripe_api_key`,
/// `githubToken`). A name that only mentions a secret word before another
/// word (`password-policy-min-length`, `token-ttl`, `db-password-arn`,
/// `api-key-id`) is about the secret, not the secret itself.
pub(crate) fn names_a_secret(name: &str) -> bool {
    let words = leaf_words(name);
    let last = words.last().map(String::as_str);
    if last.is_some_and(|w| SECRET_WORDS.contains(&w)) {
        return true;
    }
    match words.as_slice() {
        [.., a, b] => SECRET_PAIRS
            .iter()
            .any(|[x, y]| a.as_str() == *x && b.as_str() == *y),
        _ => false,
    }
}

/// A parameter whose name says it holds a secret ([`names_a_secret`]) is a
/// `SecureString` (encrypted with KMS, its reads logged as decryptions).
/// Not applicable: other names. Rampart's judgement: Security Hub has no
/// control for parameters.
fn parameter_secret_is_securestring(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let name = p.asset().name;
    if !names_a_secret(name) {
        return Ok(Outcome::not_applicable(format!(
            "The name `{name}` does not say the parameter holds a secret."
        )));
    }
    let Some(kind) = p.str("type")? else {
        return Err(Unreadable {
            path: "type".to_owned(),
            error: "Systems Manager did not report the parameter's type".to_owned(),
        });
    };
    Ok(Outcome::either(
        kind == "SecureString",
        format!("The parameter `{name}` holds a secret and is a SecureString."),
        format!("The parameter `{name}` looks like a secret but is a plain `{kind}`: anyone allowed ssm:GetParameter reads it in clear; store it again as a SecureString (or in Secrets Manager) and rotate the value."),
    )
    .with(p.evidence("name"))
    .with(p.evidence("type")))
}

/// A `SecureString` parameter is encrypted with a customer managed KMS key,
/// not `alias/aws/ssm` (or any `alias/aws/…`, AWS managed, alias; or a key
/// the KMS scan reports as AWS managed). Not applicable: `String` and
/// `StringList` parameters. Rampart's judgement.
fn parameter_securestring_cmk(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let kind = p.str("type")?;
    if kind != Some("SecureString") {
        return Ok(Outcome::not_applicable(format!(
            "The parameter is a `{}`, not encrypted with KMS.",
            kind.unwrap_or("parameter of unknown type")
        ))
        .with(p.evidence("type")));
    }
    let Some(key) = p.str("keyId")? else {
        return Err(Unreadable {
            path: "keyId".to_owned(),
            error: "Systems Manager did not report the SecureString's KMS key".to_owned(),
        });
    };
    let aws_managed = key.starts_with("alias/aws/")
        || inv
            .by_arn(key)
            .and_then(|k| Props::of(k).str("keyManager").ok().flatten())
            == Some("AWS");
    Ok(Outcome::either(
        !aws_managed,
        format!("The parameter is encrypted with customer managed KMS key `{key}`."),
        format!("The parameter is encrypted with the AWS managed key `{key}`, whose policy you cannot narrow: anyone allowed ssm:GetParameter in the account can decrypt it; store it again with a customer managed KMS key."),
    )
    .with(p.evidence("keyId")))
}

#[cfg(test)]
mod parameter_tests {
    use super::names_a_secret;

    #[test]
    fn secret_names() {
        for name in [
            "/prod/db/password",
            "/prod/db/master_password",
            "/prod/db/masterPassword",
            "DB_PASSWORD",
            "/prod/stripe/api-key",
            "/prod/stripe/apiKey",
            "/ci/github-token",
            "/app/jwt/signing_key",
            "/app/oauth/client-secret",
            "/app/tls/private.key",
            "/app/sql/connection-string",
        ] {
            assert!(names_a_secret(name), "{name}");
        }
    }

    #[test]
    fn look_alikes_are_not_secrets() {
        for name in [
            "/iam/password-policy-min-length",
            "/app/token-ttl",
            "/app/db/password-arn",
            "/app/stripe/api-key-id",
            "/app/secrets/region",
            "/app/feature/tokenizer",
            "/app/sort-key",
            "/app/secret-name",
            "",
        ] {
            assert!(!names_a_secret(name), "{name}");
        }
    }
}
