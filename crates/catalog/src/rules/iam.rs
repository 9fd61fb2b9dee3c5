//! Rules for IAM and the account: the root user, the password policy, users'
//! credentials and MFA, policies and roles.
//!
//! Ages (unused credentials, key rotation, certificate expiry) are measured
//! against the credential report's `generatedTime`, never the wall clock:
//! evaluation is pure, and the report is at most a few hours older than the
//! scan.

use std::collections::HashMap;

use rampart_model::Evidence;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::policy;
use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::{AssetRef, Inventory};
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "iam-root-no-access-keys",
        check: root_no_access_keys,
    },
    Rule {
        id: "iam-root-mfa-enabled",
        check: root_mfa_enabled,
    },
    Rule {
        id: "iam-root-hardware-mfa",
        check: root_hardware_mfa,
    },
    Rule {
        id: "iam-password-policy-min-length",
        check: password_min_length,
    },
    Rule {
        id: "iam-password-policy-prevents-reuse",
        check: password_reuse,
    },
    Rule {
        id: "iam-password-policy-uppercase",
        check: password_uppercase,
    },
    Rule {
        id: "iam-password-policy-lowercase",
        check: password_lowercase,
    },
    Rule {
        id: "iam-password-policy-symbols",
        check: password_symbols,
    },
    Rule {
        id: "iam-password-policy-numbers",
        check: password_numbers,
    },
    Rule {
        id: "iam-password-policy-expiry",
        check: password_expiry,
    },
    Rule {
        id: "iam-user-console-mfa",
        check: user_console_mfa,
    },
    Rule {
        id: "iam-user-mfa-enabled",
        check: user_mfa_enabled,
    },
    Rule {
        id: "iam-user-unused-credentials-45-days",
        check: user_unused_credentials_45,
    },
    Rule {
        id: "iam-user-unused-credentials-90-days",
        check: user_unused_credentials_90,
    },
    Rule {
        id: "iam-user-single-active-access-key",
        check: user_single_active_key,
    },
    Rule {
        id: "iam-user-access-keys-rotated",
        check: user_keys_rotated,
    },
    Rule {
        id: "iam-user-no-direct-policies",
        check: user_no_direct_policies,
    },
    Rule {
        id: "iam-user-no-full-admin",
        check: user_no_full_admin,
    },
    Rule {
        id: "iam-group-no-full-admin",
        check: group_no_full_admin,
    },
    Rule {
        id: "iam-role-no-full-admin",
        check: role_no_full_admin,
    },
    Rule {
        id: "iam-user-no-cloudshell-full-access",
        check: user_no_cloudshell,
    },
    Rule {
        id: "iam-group-no-cloudshell-full-access",
        check: group_no_cloudshell,
    },
    Rule {
        id: "iam-role-no-cloudshell-full-access",
        check: role_no_cloudshell,
    },
    Rule {
        id: "iam-policy-no-full-admin",
        check: policy_no_full_admin,
    },
    Rule {
        id: "iam-policy-no-service-wildcards",
        check: policy_no_service_wildcards,
    },
    Rule {
        id: "iam-role-trust-restricted",
        check: role_trust_restricted,
    },
    Rule {
        id: "iam-support-role-exists",
        check: support_role_exists,
    },
    Rule {
        id: "iam-server-certificate-not-expired",
        check: server_certificate_not_expired,
    },
];

// ---------------------------------------------------------------------------
// Shared helpers.
// ---------------------------------------------------------------------------

const ACCOUNT_SUMMARY: &str = "Rampart::IAM::AccountSummary";
const ROOT_ACCOUNT: &str = "Rampart::IAM::RootAccount";
const USER: &str = "AWS::IAM::User";
const ROLE: &str = "AWS::IAM::Role";

/// An `Unreadable` for data the collector left empty without marking it.
fn missing(path: &str, what: &str) -> Unreadable {
    Unreadable {
        path: path.to_owned(),
        error: format!("{what} was not collected"),
    }
}

/// A boolean that must be known.
fn known_bool(p: &Props<'_>, path: &str) -> Result<bool, Unreadable> {
    p.bool(path)?.ok_or_else(|| missing(path, "the value"))
}

/// Evidence with a computed value.
fn evidence(path: &str, value: Value) -> Evidence {
    Evidence {
        path: path.to_owned(),
        value,
    }
}

/// An RFC 3339 timestamp.
fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// A timestamp at `path` (absent: `None`; present but not a timestamp: `Err`).
fn time_at(p: &Props<'_>, path: &str) -> Result<Option<OffsetDateTime>, Unreadable> {
    match p.str(path)? {
        None => Ok(None),
        Some(text) => parse_time(text).map(Some).ok_or_else(|| Unreadable {
            path: path.to_owned(),
            error: format!("`{text}` is not a timestamp"),
        }),
    }
}

/// Whole days from `from` to `to` (negative when `from` is later).
fn days(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    (to - from).whole_days()
}

/// A value of the account's `GetAccountSummary` map, when the scan has it.
fn summary_value(inv: &Inventory, account: &str, key: &str) -> Option<i64> {
    inv.of_type_in_account(ACCOUNT_SUMMARY, account)
        .find_map(|a| {
            Props::of(a)
                .i64(&format!("summaryMap.{key}"))
                .ok()
                .flatten()
        })
}

/// The partition-independent AWS-managed policy name of an ARN
/// (`arn:aws:iam::aws:policy/AWSSupportAccess` → `AWSSupportAccess`).
fn aws_managed_name(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":iam::aws:policy/")?;
    Some(rest.rsplit('/').next().unwrap_or(rest))
}

/// ARNs of the managed policies attached to the subject.
fn attached_arns<'a>(p: &Props<'a>) -> Result<Vec<&'a str>, Unreadable> {
    Ok(p.array("attachedManagedPolicies")?
        .iter()
        .filter_map(|a| a.get("policyArn").and_then(Node::as_str))
        .collect())
}

/// A user's active access keys (`accessKeys` must have been collected).
fn active_keys<'a>(p: &Props<'a>) -> Result<Vec<Node<'a>>, Unreadable> {
    let Some(keys) = p.get("accessKeys")? else {
        return Err(missing("accessKeys", "the user's access key list"));
    };
    Ok(keys
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter(|k| k.get("status").and_then(Node::as_str) == Some("Active"))
                .collect()
        })
        .unwrap_or_default())
}

/// A key's id, for messages.
fn key_id(key: Node<'_>) -> &str {
    key.get("accessKeyId")
        .and_then(Node::as_str)
        .unwrap_or("(unknown id)")
}

/// A key's creation time.
fn key_created(key: Node<'_>) -> Result<OffsetDateTime, Unreadable> {
    key.get("createDate")
        .and_then(Node::as_str)
        .and_then(parse_time)
        .ok_or_else(|| missing("accessKeys.createDate", "the access key's creation date"))
}

/// The user's credential report time: `Ok(None)` when the report has no row
/// for the user (the user was created after the report, so all of its
/// credentials are at most a few hours old).
fn report_time(p: &Props<'_>) -> Result<Option<OffsetDateTime>, Unreadable> {
    if p.get("credentialReport")?.is_none() {
        return Ok(None);
    }
    time_at(p, "credentialReport.generatedTime")?
        .map(Some)
        .ok_or_else(|| {
            missing(
                "credentialReport.generatedTime",
                "the report's generation time",
            )
        })
}

// ---------------------------------------------------------------------------
// Root user.
// ---------------------------------------------------------------------------

/// Not applicable when `GetAccountSummary` says the root user has neither a
/// password nor access keys (root credentials removed, as with centralized
/// root access in AWS Organizations): there is no root credential to protect.
fn root_without_credentials(p: &Props<'_>, inv: &Inventory) -> Option<Outcome> {
    let account = p.asset().account;
    let password = summary_value(inv, account, "AccountPasswordPresent")?;
    let keys = summary_value(inv, account, "AccountAccessKeysPresent")?;
    (password == 0 && keys == 0).then(|| {
        Outcome::not_applicable(
            "The root user has no password and no access keys (root credentials removed), so it cannot sign in.",
        )
        .with(evidence("summaryMap.AccountPasswordPresent", Value::from(password)))
        .with(evidence("summaryMap.AccountAccessKeysPresent", Value::from(keys)))
    })
}

/// The root row of the credential report, which must be readable: it is the
/// record of the root user's credentials (an emulator without a root user
/// has none, and is reported as unreadable, not healthy).
fn root_row<'a>(p: &Props<'a>) -> Result<Node<'a>, Unreadable> {
    p.get("credentialReport")?
        .ok_or_else(|| missing("credentialReport", "the credential report's root row"))
}

/// CIS 1.4 / IAM.4: no root access keys, by the live summary flag
/// (`accountAccessKeysPresent`) or either key slot of the report's root row.
/// Not applicable: the root user has no credentials at all.
fn root_no_access_keys(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = root_without_credentials(p, inv) {
        return Ok(na);
    }
    root_row(p)?;
    // Either source showing a key is enough; "no key" needs the live flag
    // (or, when it was not collected, both report slots).
    let summary = p.bool("accountAccessKeysPresent");
    let slot1 = p.bool("credentialReport.accessKey1Active")?;
    let slot2 = p.bool("credentialReport.accessKey2Active")?;
    let present = matches!(summary, Ok(Some(true))) || slot1 == Some(true) || slot2 == Some(true);
    if !present && summary?.is_none() && (slot1.is_none() || slot2.is_none()) {
        return Err(missing(
            "accountAccessKeysPresent",
            "whether the root user has access keys",
        ));
    }
    Ok(Outcome::either(
        !present,
        "The root user has no access keys.",
        "The root user has an access key; delete it and use IAM roles for programmatic access.",
    )
    .with(p.evidence("accountAccessKeysPresent"))
    .with(p.evidence("credentialReport.accessKey1Active"))
    .with(p.evidence("credentialReport.accessKey2Active")))
}

/// CIS 1.5 / IAM.9: root MFA. The live summary flag (`accountMfaEnabled`)
/// decides; the report row's `mfaActive` is the fallback. Not applicable:
/// the root user has no credentials at all.
fn root_mfa_enabled(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = root_without_credentials(p, inv) {
        return Ok(na);
    }
    root_row(p)?;
    let (enabled, path) = match p.bool("accountMfaEnabled")? {
        Some(v) => (v, "accountMfaEnabled"),
        None => (
            known_bool(p, "credentialReport.mfaActive")?,
            "credentialReport.mfaActive",
        ),
    };
    Ok(Outcome::either(
        enabled,
        "MFA is enabled for the root user.",
        "The root user has no MFA device; assign one (preferably hardware) to the root user.",
    )
    .with(p.evidence(path)))
}

/// CIS 1.6 / IAM.6: root MFA is a hardware (or FIDO) device: MFA is on and
/// no virtual device is assigned to root (`hardwareMfa`). Not applicable:
/// the root user has no credentials at all.
fn root_hardware_mfa(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = root_without_credentials(p, inv) {
        return Ok(na);
    }
    root_row(p)?;
    let hardware = known_bool(p, "hardwareMfa")?;
    if hardware {
        return Ok(
            Outcome::healthy("The root user uses a hardware MFA device.")
                .with(p.evidence("hardwareMfa")),
        );
    }
    let reason = if p.bool("virtualMfa")? == Some(true) {
        "The root user's MFA is a virtual device; replace it with a hardware or FIDO security key."
    } else {
        "The root user has no MFA device; assign a hardware or FIDO security key."
    };
    Ok(Outcome::unhealthy(reason)
        .with(p.evidence("hardwareMfa"))
        .with(p.evidence("virtualMfa")))
}

// ---------------------------------------------------------------------------
// Password policy.
// ---------------------------------------------------------------------------

/// What every password-policy rule checks first: the policy must have been
/// read; an account without a policy fails every requirement. Every
/// account is assessed, one without IAM users too: AWS Config's
/// `iam-password-policy` (IAM.7, IAM.10) and CIS's audit step read the
/// account's policy, which applies to the next user created.
fn password_policy_gate(p: &Props<'_>, _: &Inventory) -> Result<Option<Outcome>, Unreadable> {
    let configured = known_bool(p, "configured")?;
    if !configured {
        return Ok(Some(
            Outcome::unhealthy(
                "The account has no IAM password policy, so AWS defaults apply; set one with `aws iam update-account-password-policy`.",
            )
            .with(p.evidence("configured")),
        ));
    }
    Ok(None)
}

/// A password-policy flag that must be `true`.
fn password_flag(
    p: &Props<'_>,
    inv: &Inventory,
    path: &str,
    what: &str,
) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = password_policy_gate(p, inv)? {
        return Ok(outcome);
    }
    let on = p.bool(path)?.unwrap_or(false);
    Ok(Outcome::either(
        on,
        format!("The password policy requires {what}."),
        format!("The password policy does not require {what}; turn on `{path}`."),
    )
    .with(p.evidence(path)))
}

/// CIS 1.8: minimum length of at least 14.
fn password_min_length(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = password_policy_gate(p, inv)? {
        return Ok(outcome);
    }
    let length = p
        .i64("minimumPasswordLength")?
        .ok_or_else(|| missing("minimumPasswordLength", "the minimum password length"))?;
    Ok(Outcome::either(
        length >= 14,
        format!("Passwords must be at least {length} characters long."),
        format!("The minimum password length is {length}; set it to 14 or more."),
    )
    .with(p.evidence("minimumPasswordLength")))
}

/// CIS 1.9: the last 24 passwords cannot be reused (absent: no reuse
/// prevention).
fn password_reuse(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = password_policy_gate(p, inv)? {
        return Ok(outcome);
    }
    let remembered = p.i64("passwordReusePrevention")?.unwrap_or(0);
    Ok(Outcome::either(
        remembered >= 24,
        format!("The password policy prevents reuse of the last {remembered} passwords."),
        if remembered == 0 {
            "The password policy allows reusing old passwords; set `PasswordReusePrevention` to 24.".to_owned()
        } else {
            format!(
                "The password policy remembers only {remembered} passwords; set `PasswordReusePrevention` to 24."
            )
        },
    )
    .with(p.evidence("passwordReusePrevention")))
}

/// IAM.7/IAM.10: at least one uppercase letter.
fn password_uppercase(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    password_flag(p, inv, "requireUppercaseCharacters", "an uppercase letter")
}

/// IAM.7/IAM.10: at least one lowercase letter.
fn password_lowercase(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    password_flag(p, inv, "requireLowercaseCharacters", "a lowercase letter")
}

/// IAM.7: at least one symbol.
fn password_symbols(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    password_flag(p, inv, "requireSymbols", "a symbol")
}

/// IAM.7/IAM.10: at least one number.
fn password_numbers(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    password_flag(p, inv, "requireNumbers", "a number")
}

/// IAM.17/IAM.10: passwords expire within 90 days (`expirePasswords` and
/// `maxPasswordAge` 1–90).
fn password_expiry(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = password_policy_gate(p, inv)? {
        return Ok(outcome);
    }
    let expire = p.bool("expirePasswords")?.unwrap_or(false);
    let age = p.i64("maxPasswordAge")?.unwrap_or(0);
    let outcome = if !expire || age <= 0 {
        Outcome::unhealthy("Passwords never expire; set `MaxPasswordAge` to 90 days or less.")
    } else {
        Outcome::either(
            age <= 90,
            format!("Passwords expire after {age} days."),
            format!("Passwords expire only after {age} days; set `MaxPasswordAge` to 90 or less."),
        )
    };
    Ok(outcome
        .with(p.evidence("expirePasswords"))
        .with(p.evidence("maxPasswordAge")))
}

// ---------------------------------------------------------------------------
// Users: MFA and credentials.
// ---------------------------------------------------------------------------

/// CIS 1.10 / IAM.5: a user with a console password has MFA. Not
/// applicable: the user has no console password.
fn user_console_mfa(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if !known_bool(p, "passwordEnabled")? {
        return Ok(Outcome::not_applicable("The user has no console password.")
            .with(p.evidence("passwordEnabled")));
    }
    let mfa = known_bool(p, "mfaActive")?;
    Ok(Outcome::either(
        mfa,
        "The console user has an MFA device.",
        "The user can sign in to the console without MFA; assign an MFA device.",
    )
    .with(p.evidence("passwordEnabled"))
    .with(p.evidence("mfaActive")))
}

/// IAM.19: every IAM user has MFA, as AWS Config's `iam-user-mfa-enabled`
/// checks: users without a password or active key are assessed too (a
/// credential added later would not be protected).
fn user_mfa_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let mfa = known_bool(p, "mfaActive")?;
    Ok(Outcome::either(
        mfa,
        "The user has an MFA device.",
        "The user has no MFA device; assign one.",
    )
    .with(p.evidence("mfaActive"))
    .with(p.evidence("passwordEnabled")))
}

/// Credentials (console password, active access keys) unused for at least
/// `limit` days, as of the credential report. A password never used counts
/// from when it was set; a key never used from its creation. A user with
/// neither passes: it has no credential to leave unused (AWS Config's
/// `iam-user-unused-credentials-check` assesses every user).
fn unused_credentials(p: &Props<'_>, limit: i64) -> Result<Outcome, Unreadable> {
    let password = known_bool(p, "passwordEnabled")?;
    let keys = active_keys(p)?;
    if !password && keys.is_empty() {
        return Ok(Outcome::healthy(
            "The user has no console password and no active access key, so no credential is unused.",
        )
        .with(p.evidence("passwordEnabled"))
        .with(p.evidence("accessKeys")));
    }
    // A failed GetAccessKeyLastUsed for one of the keys.
    p.get("accessKeyLastUsed")?;
    let Some(now) = report_time(p)? else {
        return Ok(Outcome::healthy(
            "The user was created after the credential report, so its credentials are new.",
        )
        .with(p.evidence("credentialReport")));
    };
    let mut stale = Vec::new();
    if password {
        let last = match time_at(p, "credentialReport.passwordLastUsed")? {
            Some(t) => Some((t, "last used")),
            None => time_at(p, "credentialReport.passwordLastChanged")?
                .or(time_at(p, "credentialReport.userCreationTime")?)
                .map(|t| (t, "never used since it was set")),
        };
        let (last, how) = last.ok_or_else(|| {
            missing(
                "credentialReport.passwordLastChanged",
                "the password's dates",
            )
        })?;
        let age = days(last, now);
        if age >= limit {
            stale.push(format!("the console password ({how}, {age} days)"));
        }
    }
    for key in &keys {
        let Some(used) = key.get("accessKeyLastUsed").filter(|v| !v.is_null()) else {
            return Err(missing(
                "accessKeys.accessKeyLastUsed",
                "the access key's last use",
            ));
        };
        let (last, how) = match used
            .get("lastUsedDate")
            .and_then(Node::as_str)
            .and_then(parse_time)
        {
            Some(t) => (t, "last used"),
            None => (key_created(*key)?, "never used"),
        };
        let age = days(last, now);
        if age >= limit {
            stale.push(format!("access key `{}` ({how}, {age} days)", key_id(*key)));
        }
    }
    Ok(if stale.is_empty() {
        Outcome::healthy(format!(
            "Every credential of the user was used in the last {limit} days."
        ))
    } else {
        Outcome::unhealthy(format!(
            "Unused for {limit} days or more: {}; deactivate or remove them.",
            stale.join(", ")
        ))
    }
    .with(p.evidence("credentialReport.generatedTime"))
    .with(p.evidence("credentialReport.passwordLastUsed"))
    .with(p.evidence("accessKeys")))
}

/// CIS 1.12 / IAM.22: no password or active key unused for 45 days or more.
fn user_unused_credentials_45(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    unused_credentials(p, 45)
}

/// IAM.8: no password or active key unused for 90 days or more.
fn user_unused_credentials_90(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    unused_credentials(p, 90)
}

/// CIS 1.13: at most one active access key. Every user is assessed (CIS's
/// audit step lists every user's keys); one without an active key passes.
fn user_single_active_key(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let keys = active_keys(p)?;
    Ok(Outcome::either(
        keys.len() <= 1,
        format!("The user has {} active access key(s).", keys.len()),
        format!(
            "The user has {} active access keys; deactivate all but the one in use.",
            keys.len()
        ),
    )
    .with(p.evidence("accessKeys")))
}

/// CIS 1.14 / IAM.3: active keys are at most 90 days old, as of the
/// credential report. Every user is assessed (AWS Config's
/// `access-keys-rotated`); one without an active key passes.
fn user_keys_rotated(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let keys = active_keys(p)?;
    if keys.is_empty() {
        return Ok(
            Outcome::healthy("The user has no active access key to rotate.")
                .with(p.evidence("accessKeys")),
        );
    }
    let Some(now) = report_time(p)? else {
        return Ok(Outcome::healthy(
            "The user was created after the credential report, so its keys are new.",
        )
        .with(p.evidence("credentialReport")));
    };
    let mut old = Vec::new();
    for key in &keys {
        let age = days(key_created(*key)?, now);
        if age > 90 {
            old.push(format!("`{}` ({age} days)", key_id(*key)));
        }
    }
    Ok(if old.is_empty() {
        Outcome::healthy("Every active access key is at most 90 days old.")
    } else {
        Outcome::unhealthy(format!(
            "Active access keys older than 90 days: {}; rotate them.",
            old.join(", ")
        ))
    }
    .with(p.evidence("credentialReport.generatedTime"))
    .with(p.evidence("accessKeys")))
}

// ---------------------------------------------------------------------------
// Permissions of principals.
// ---------------------------------------------------------------------------

/// CIS 1.15 / IAM.2: no managed or inline policy on the user itself. Every
/// user is assessed (AWS Config's `iam-user-no-policies-check`); one with
/// no policy of its own passes, whether or not it is in a group.
fn user_no_direct_policies(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let attached = p.array("attachedManagedPolicies")?;
    let inline = p.array("userPolicyList")?;
    Ok(Outcome::either(
        attached.is_empty() && inline.is_empty(),
        "The user has no policy of its own (any permissions come through groups).",
        format!(
            "The user has {} managed and {} inline policies of its own; grant them through a group instead.",
            attached.len(),
            inline.len()
        ),
    )
    .with(p.evidence("attachedManagedPolicies"))
    .with(p.evidence("userPolicyList")))
}

/// Whether a managed policy (by ARN) grants `*:*`: AWS's
/// `AdministratorAccess`, or a customer policy in the scan whose default
/// version does. Other AWS-managed policies do not. A customer policy the
/// scan does not have is unreadable.
fn managed_is_admin(arn: &str, inv: &Inventory, path: &str) -> Result<bool, Unreadable> {
    if let Some(name) = aws_managed_name(arn) {
        return Ok(name == "AdministratorAccess");
    }
    let Some(asset) = inv.by_arn(arn) else {
        return Err(Unreadable {
            path: path.to_owned(),
            error: format!("customer managed policy `{arn}` is not in the scan"),
        });
    };
    let doc = policy::read(&Props::of(asset), "defaultVersionDocument")?;
    Ok(doc.is_some_and(policy::allows_full_admin))
}

/// The policies of a principal that grant `*:*`: attached managed policies
/// (AWS `AdministratorAccess` or a customer policy whose default version
/// allows `*` on `*`) and inline policies (under `inline_key`).
fn admin_policies(
    p: &Props<'_>,
    inv: &Inventory,
    inline_key: &str,
) -> Result<Vec<String>, Unreadable> {
    let mut found = Vec::new();
    for arn in attached_arns(p)? {
        if managed_is_admin(arn, inv, "attachedManagedPolicies")? {
            found.push(format!("managed policy `{arn}`"));
        }
    }
    for (i, inline) in p.array(inline_key)?.iter().enumerate() {
        let doc = policy::read(p, &format!("{inline_key}.{i}.policyDocument"))?;
        if doc.is_some_and(policy::allows_full_admin) {
            let name = inline
                .get("policyName")
                .and_then(Node::as_str)
                .unwrap_or("(unnamed)");
            found.push(format!("inline policy `{name}`"));
        }
    }
    Ok(found)
}

/// Not applicable when the principal's permissions boundary caps what it
/// can do: a boundary that is not itself full admin.
fn limited_by_boundary(p: &Props<'_>, inv: &Inventory) -> Result<Option<Outcome>, Unreadable> {
    let Some(arn) = p.str("permissionsBoundary.permissionsBoundaryArn")? else {
        return Ok(None);
    };
    if managed_is_admin(arn, inv, "permissionsBoundary")? {
        return Ok(None);
    }
    Ok(Some(
        Outcome::not_applicable(format!(
            "The permissions boundary `{arn}` caps the principal's permissions below full administrator."
        ))
        .with(p.evidence("permissionsBoundary")),
    ))
}

/// The outcome of an admin check.
fn admin_outcome(p: &Props<'_>, found: &[String], inline_key: &str, who: &str) -> Outcome {
    Outcome::either(
        found.is_empty(),
        format!("No policy of the {who} grants full `*:*` administrator access."),
        format!(
            "The {who} has full `*:*` administrator access through {}; replace it with least-privilege policies.",
            found.join(", ")
        ),
    )
    .with(p.evidence("attachedManagedPolicies"))
    .with(p.evidence(inline_key))
}

/// CIS 1.16, for users: no attached or inline policy grants `*:*` (groups
/// are assessed themselves). Not applicable: a permissions boundary that is
/// not full admin caps the user.
fn user_no_full_admin(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = limited_by_boundary(p, inv)? {
        return Ok(na);
    }
    let found = admin_policies(p, inv, "userPolicyList")?;
    Ok(admin_outcome(p, &found, "userPolicyList", "user"))
}

/// CIS 1.16, for groups, members or not: CIS's audit step lists every
/// attached policy, and a policy attached to an empty group grants its
/// permissions to whoever is added next.
fn group_no_full_admin(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let found = admin_policies(p, inv, "groupPolicyList")?;
    Ok(admin_outcome(p, &found, "groupPolicyList", "group"))
}

/// Whether a role is service-linked (AWS defines and maintains its policies).
fn service_linked(p: &Props<'_>) -> Result<bool, Unreadable> {
    Ok(p.str("path")?
        .is_some_and(|path| path.starts_with("/aws-service-role/")))
}

/// The not-applicable outcome for a service-linked role.
fn service_linked_outcome(p: &Props<'_>) -> Outcome {
    Outcome::not_applicable("This is a service-linked role: AWS defines its trust and permissions.")
        .with(p.evidence("path"))
}

/// CIS 1.16, for roles. Not applicable: a service-linked role, or a
/// permissions boundary that is not full admin caps the role.
fn role_no_full_admin(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if service_linked(p)? {
        return Ok(service_linked_outcome(p));
    }
    if let Some(na) = limited_by_boundary(p, inv)? {
        return Ok(na);
    }
    let found = admin_policies(p, inv, "rolePolicyList")?;
    Ok(admin_outcome(p, &found, "rolePolicyList", "role"))
}

/// Whether `AWSCloudShellFullAccess` is attached.
fn cloudshell_outcome(p: &Props<'_>, who: &str) -> Result<Outcome, Unreadable> {
    let attached = attached_arns(p)?
        .iter()
        .any(|arn| aws_managed_name(arn) == Some("AWSCloudShellFullAccess"));
    Ok(Outcome::either(
        !attached,
        format!("`AWSCloudShellFullAccess` is not attached to the {who}."),
        format!(
            "`AWSCloudShellFullAccess` is attached to the {who}; detach it and grant only the CloudShell actions needed (it allows file upload and download)."
        ),
    )
    .with(p.evidence("attachedManagedPolicies")))
}

/// CIS 1.22 / IAM.27, for every user: CIS's audit step lists every entity
/// the policy is attached to, credentials or not.
fn user_no_cloudshell(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    cloudshell_outcome(p, "user")
}

/// CIS 1.22 / IAM.27, for every group, members or not (as for users).
fn group_no_cloudshell(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    cloudshell_outcome(p, "group")
}

/// CIS 1.22 / IAM.27, for roles. Not applicable: a service-linked role.
fn role_no_cloudshell(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if service_linked(p)? {
        return Ok(service_linked_outcome(p));
    }
    cloudshell_outcome(p, "role")
}

// ---------------------------------------------------------------------------
// Customer managed policies.
// ---------------------------------------------------------------------------

/// Not applicable: a policy used only as a permissions boundary (a boundary
/// caps permissions, so a broad one grants nothing by itself; Security Hub
/// excludes them too).
pub(crate) fn boundary_only(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    let attachments = p.i64("attachmentCount")?.unwrap_or(0);
    let boundaries = p.i64("permissionsBoundaryUsageCount")?.unwrap_or(0);
    Ok((attachments == 0 && boundaries > 0).then(|| {
        Outcome::not_applicable(
            "The policy is used only as a permissions boundary, which limits permissions rather than granting them.",
        )
        .with(p.evidence("attachmentCount"))
        .with(p.evidence("permissionsBoundaryUsageCount"))
    }))
}

/// The default version's document, which must be readable.
fn default_document<'a>(p: &Props<'a>) -> Result<Node<'a>, Unreadable> {
    policy::read(p, "defaultVersionDocument")?
        .ok_or_else(|| missing("defaultVersionDocument", "the policy's default version"))
}

/// IAM.1: the default version has no `Allow` of `*` on `*`. Not applicable:
/// a policy used only as a permissions boundary.
fn policy_no_full_admin(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = boundary_only(p)? {
        return Ok(na);
    }
    let doc = default_document(p)?;
    Ok(Outcome::either(
        !policy::allows_full_admin(doc),
        "The policy does not allow every action on every resource.",
        "The policy allows `*` actions on `*` resources; scope it to the actions and resources needed.",
    )
    .with(p.evidence("defaultVersionDocument")))
}

/// IAM.21: the default version has no `Allow` of a whole service
/// (`"Action": "s3:*"`, or `"NotAction": "s3:*"`). Not applicable: a policy
/// used only as a permissions boundary.
fn policy_no_service_wildcards(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = boundary_only(p)? {
        return Ok(na);
    }
    let doc = default_document(p)?;
    let mut found: Vec<String> = policy::allowed_service_wildcards(doc)
        .into_iter()
        .map(|a| format!("`{a}`"))
        .collect();
    for stmt in policy::statements(doc).iter().filter(|s| s.is_allow()) {
        for pattern in stmt.not_actions().unwrap_or_default() {
            if policy::service_wildcard(pattern).is_some() {
                found.push(format!("`NotAction: {pattern}`"));
            }
        }
    }
    Ok(Outcome::either(
        found.is_empty(),
        "The policy does not allow whole services with a wildcard.",
        format!(
            "The policy allows every action of a service: {}; list the actions needed instead.",
            found.join(", ")
        ),
    )
    .with(p.evidence("defaultVersionDocument")))
}

// ---------------------------------------------------------------------------
// Roles' trust.
// ---------------------------------------------------------------------------

/// Whether a statement requires an `sts:ExternalId` value.
fn requires_external_id(stmt: &policy::Statement<'_>) -> bool {
    stmt.conditions().iter().any(|c| {
        c.is_key("sts:ExternalId")
            && matches!(c.base_operator().as_str(), "stringequals" | "stringlike")
            && !c.passes_when_absent()
            && !c.values.is_empty()
            && c.values
                .iter()
                .all(|v| !v.trim().is_empty() && v.trim() != "*")
    })
}

/// Whether a statement limits callers to an AWS Organization.
fn requires_org(stmt: &policy::Statement<'_>) -> bool {
    stmt.restricts_principal()
        && stmt
            .conditions()
            .iter()
            .any(|c| c.is_key("aws:PrincipalOrgID") || c.is_key("aws:PrincipalOrgPaths"))
}

/// The role's trust policy lets in: everyone (a public principal without a
/// restricting condition), another account without an `sts:ExternalId`
/// (or organization) condition, or GitHub Actions OIDC tokens without a
/// `sub` condition (any repository could assume it). Not applicable: a
/// service-linked role, whose trust AWS defines.
fn role_trust_restricted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if service_linked(p)? {
        return Ok(service_linked_outcome(p));
    }
    let doc = policy::read(p, "assumeRolePolicyDocument")?
        .ok_or_else(|| missing("assumeRolePolicyDocument", "the role's trust policy"))?;
    let account = p.asset().account;
    let mut problems = Vec::new();
    for stmt in policy::statements(doc).iter().filter(|s| s.is_allow()) {
        if stmt.is_public() {
            problems.push("any AWS principal (`*`)".to_owned());
            continue;
        }
        let foreign: Vec<&str> = stmt
            .principals("AWS")
            .into_iter()
            .filter(|pr| policy::principal_account(pr).is_some_and(|a| a != account))
            .collect();
        if !foreign.is_empty() && !requires_external_id(stmt) && !requires_org(stmt) {
            problems.push(format!(
                "other accounts without an `sts:ExternalId` condition ({})",
                foreign.join(", ")
            ));
        }
        let github = stmt
            .principals("Federated")
            .iter()
            .any(|f| f.ends_with("oidc-provider/token.actions.githubusercontent.com"));
        if github
            && !stmt.conditions().iter().any(|c| {
                c.is_key("token.actions.githubusercontent.com:sub")
                    && !c.passes_when_absent()
                    && c.values
                        .iter()
                        .all(|v| v.trim() != "*" && !v.trim().is_empty())
                    && !c.values.is_empty()
            })
        {
            problems.push(
                "GitHub Actions tokens from any repository (no `token.actions.githubusercontent.com:sub` condition)"
                    .to_owned(),
            );
        }
    }
    Ok(Outcome::either(
        problems.is_empty(),
        "The role's trust policy admits only known principals.",
        format!(
            "The role can be assumed by {}; restrict its trust policy to named principals with the conditions that pin them.",
            problems.join("; ")
        ),
    )
    .with(p.evidence("assumeRolePolicyDocument")))
}

// ---------------------------------------------------------------------------
// Account.
// ---------------------------------------------------------------------------

/// CIS 1.17: some role in the account has the AWS-managed
/// `AWSSupportAccess` policy attached. Subject: the account. Not
/// applicable: IAM was not part of this scan (no account summary for the
/// account). Unreadable: fewer roles in the scan than the summary counts,
/// and none of them is a support role.
fn support_role_exists(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let account = p.asset().account;
    let Some(summary) = inv.of_type_in_account(ACCOUNT_SUMMARY, account).next() else {
        return Ok(Outcome::not_applicable(
            "IAM was not part of this scan, so the account's roles are unknown.",
        ));
    };
    let roles: Vec<AssetRef<'_>> = inv.of_type_in_account(ROLE, account).collect();
    let mut support = Vec::new();
    for &role in &roles {
        let props = Props::of(role);
        if attached_arns(&props)?
            .iter()
            .any(|arn| aws_managed_name(arn) == Some("AWSSupportAccess"))
        {
            support.push(role.name.to_owned());
        }
    }
    if !support.is_empty() {
        support.sort();
        return Ok(Outcome::healthy(format!(
            "Role `{}` has `AWSSupportAccess` for managing AWS Support cases.",
            support.join("`, `")
        ))
        .with(evidence("supportRoles", Value::from(support))));
    }
    let counted = Props::of(summary).i64("summaryMap.Roles")?;
    match counted {
        Some(n) if usize::try_from(n).is_ok_and(|n| n <= roles.len()) => Ok(Outcome::unhealthy(
            "No role has the `AWSSupportAccess` policy; create one for the people who handle incidents with AWS Support.",
        )
        .with(evidence("supportRoles", Value::Array(Vec::new())))
        .with(evidence("roles", Value::from(roles.len())))),
        _ => Err(Unreadable {
            path: "roles".to_owned(),
            error: format!(
                "the scan has {} of the account's roles ({} counted by GetAccountSummary)",
                roles.len(),
                counted.map_or_else(|| "none".to_owned(), |n| n.to_string())
            ),
        }),
    }
}

/// The scan's reference time for an account: the latest credential report
/// `generatedTime` among its root and user assets (computed once per
/// evaluation for every account).
fn account_reference_time(inv: &Inventory, account: &str) -> Option<OffsetDateTime> {
    let times = inv.memo("iam:account_reference_time", |inv| {
        let mut latest: HashMap<String, OffsetDateTime> = HashMap::new();
        for a in inv.of_type(ROOT_ACCOUNT).chain(inv.of_type(USER)) {
            let Some(t) = Props::of(a)
                .str("credentialReport.generatedTime")
                .ok()
                .flatten()
                .and_then(parse_time)
            else {
                continue;
            };
            latest
                .entry(a.account.to_owned())
                .and_modify(|x| *x = (*x).max(t))
                .or_insert(t);
        }
        latest
    });
    times.get(account).copied()
}

/// CIS 1.19 / IAM.26: the certificate had not expired when the credential
/// report was generated (the scan's clock). Not applicable: the certificate
/// was uploaded after that time, so the scan has no clock reading for it.
/// Unreadable: the scan has no credential report to date it.
fn server_certificate_not_expired(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let expiration =
        time_at(p, "expiration")?.ok_or_else(|| missing("expiration", "the expiry date"))?;
    let Some(now) = account_reference_time(inv, p.asset().account) else {
        return Err(Unreadable {
            path: "expiration".to_owned(),
            error: "no credential report in the scan to compare the expiry date with".to_owned(),
        });
    };
    if time_at(p, "uploadDate")?.is_some_and(|up| up > now) {
        return Ok(Outcome::not_applicable(
            "The certificate was uploaded after the credential report the scan dates from.",
        )
        .with(p.evidence("uploadDate")));
    }
    let reference = evidence(
        "credentialReport.generatedTime",
        now.format(&Rfc3339).map_or(Value::Null, Value::from),
    );
    Ok(Outcome::either(
        expiration > now,
        "The certificate has not expired.",
        format!(
            "The certificate expired {} days before the scan; delete it with `aws iam delete-server-certificate`.",
            days(expiration, now)
        ),
    )
    .with(p.evidence("expiration"))
    .with(reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_policy_names_and_days() {
        assert_eq!(
            aws_managed_name("arn:aws:iam::aws:policy/AdministratorAccess"),
            Some("AdministratorAccess")
        );
        assert_eq!(
            aws_managed_name("arn:aws-cn:iam::aws:policy/service-role/AWSSupportAccess"),
            Some("AWSSupportAccess")
        );
        assert_eq!(aws_managed_name("arn:aws:iam::123456789012:policy/x"), None);
        let a = parse_time("2024-01-01T00:00:00Z");
        let b = parse_time("2024-02-15T12:00:00.5Z");
        assert!(a.is_some() && b.is_some());
        if let (Some(a), Some(b)) = (a, b) {
            assert_eq!(days(a, b), 45);
            assert_eq!(days(b, a), -45);
        }
    }
}
