//! Rules for KMS keys: rotation, scheduled deletion, public key policies.

use super::policy;
use super::s3::statement_label;
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "kms-key-rotation-enabled",
        check: key_rotation_enabled,
    },
    Rule {
        id: "kms-key-not-pending-deletion",
        check: key_not_pending_deletion,
    },
    // Policy-dependent.
    Rule {
        id: "kms-key-policy-not-public",
        check: key_policy_not_public,
    },
];

/// `Ok(Some(reason))` when the key is AWS managed (or AWS owned): AWS
/// rotates it and owns its policy. An unknown key manager is unreadable.
fn aws_managed(p: &Props<'_>) -> Result<Option<&'static str>, Unreadable> {
    match p.str("keyManager")? {
        Some("CUSTOMER") => Ok(None),
        Some(_) => Ok(Some(
            "The key is AWS managed; AWS rotates it and owns its key policy.",
        )),
        None => Err(Unreadable {
            path: "keyManager".to_owned(),
            error: "DescribeKey did not say who manages the key".to_owned(),
        }),
    }
}

/// FSBP KMS.4 / CIS 3.6: automatic rotation on customer managed symmetric
/// encryption keys. Not applicable: AWS-managed keys, asymmetric and HMAC
/// keys, keys with imported or external key material or in a custom key
/// store (KMS cannot rotate those automatically), and keys pending
/// deletion or disabled (they encrypt nothing new).
fn key_rotation_enabled(p: &Props<'_>, _: &Inventory<'_>) -> Result<Outcome, Unreadable> {
    if let Some(reason) = aws_managed(p)? {
        return Ok(Outcome::not_applicable(reason).with(p.evidence("keyManager")));
    }
    let spec = p.str("keySpec")?;
    let usage = p.str("keyUsage")?;
    if spec != Some("SYMMETRIC_DEFAULT") || usage != Some("ENCRYPT_DECRYPT") {
        return Ok(Outcome::not_applicable(format!(
            "Automatic rotation applies to symmetric encryption keys; this key is {} for {}.",
            spec.unwrap_or("of an unknown spec"),
            usage.unwrap_or("an unknown usage")
        ))
        .with(p.evidence("keySpec")));
    }
    let origin = p.str("origin")?;
    if origin != Some("AWS_KMS") || p.str("customKeyStoreId")?.is_some() {
        return Ok(Outcome::not_applicable(
            "The key material is imported or held in a custom key store, which KMS cannot rotate automatically; rotate it manually.",
        )
        .with(p.evidence("origin")));
    }
    match p.str("keyState")? {
        Some("Enabled") => {}
        Some(state) => {
            return Ok(Outcome::not_applicable(format!(
                "The key is `{state}`, so it protects no new data."
            ))
            .with(p.evidence("keyState")));
        }
        None => {
            return Err(Unreadable {
                path: "keyState".to_owned(),
                error: "DescribeKey did not report the key state".to_owned(),
            });
        }
    }
    match p.bool("keyRotationEnabled")? {
        Some(true) => Ok(Outcome::healthy("Automatic key rotation is enabled.")
            .with(p.evidence("keyRotationEnabled"))),
        Some(false) => Ok(Outcome::unhealthy(
            "Automatic key rotation is disabled; enable it (EnableKeyRotation).",
        )
        .with(p.evidence("keyRotationEnabled"))),
        None => Err(Unreadable {
            path: "keyRotationEnabled".to_owned(),
            error: "GetKeyRotationStatus gave no answer for a key that supports rotation"
                .to_owned(),
        }),
    }
}

/// FSBP KMS.3: the key is not scheduled for deletion. Whether a deletion
/// is intended cannot be read from the API, so every pending deletion is
/// reported for someone to confirm or cancel. Not applicable: AWS-managed
/// keys (they cannot be deleted).
fn key_not_pending_deletion(p: &Props<'_>, _: &Inventory<'_>) -> Result<Outcome, Unreadable> {
    if let Some(reason) = aws_managed(p)? {
        return Ok(Outcome::not_applicable(reason).with(p.evidence("keyManager")));
    }
    let state = p.str("keyState")?;
    if matches!(state, Some("PendingDeletion" | "PendingReplicaDeletion")) {
        let when = p.str("deletionDate")?.unwrap_or("an unknown date");
        return Ok(Outcome::unhealthy(format!(
            "The key is scheduled for deletion on {when}; if that is not intended, cancel it (CancelKeyDeletion) before data encrypted under it becomes unrecoverable."
        ))
        .with(p.evidence("keyState"))
        .with(p.evidence("deletionDate")));
    }
    if state.is_none() {
        return Err(Unreadable {
            path: "keyState".to_owned(),
            error: "DescribeKey did not report the key state".to_owned(),
        });
    }
    Ok(Outcome::healthy("The key is not scheduled for deletion.").with(p.evidence("keyState")))
}

/// FSBP KMS.5: the key policy does not allow anyone (`*` principal, or a
/// `NotPrincipal`) without a condition that restricts the caller to known
/// accounts, organizations or networks. Not applicable: AWS-managed keys,
/// whose policies AWS writes.
fn key_policy_not_public(p: &Props<'_>, _: &Inventory<'_>) -> Result<Outcome, Unreadable> {
    if let Some(reason) = aws_managed(p)? {
        return Ok(Outcome::not_applicable(reason).with(p.evidence("keyManager")));
    }
    let Some(doc) = policy::read(p, "policy")? else {
        return Err(Unreadable {
            path: "policy".to_owned(),
            error: "the key policy is missing from the inventory".to_owned(),
        });
    };
    let public: Vec<String> = policy::public_statements(doc)
        .iter()
        .map(|s| {
            let actions = match s.not_actions() {
                Some(_) => "NotAction".to_owned(),
                None => s.actions().join(", "),
            };
            format!("{} ({actions})", statement_label(s))
        })
        .collect();
    if public.is_empty() {
        return Ok(Outcome::healthy(
            "The key policy grants access only to named principals or under restricting conditions.",
        )
        .with(p.evidence("policy")));
    }
    Ok(Outcome::unhealthy(format!(
        "The key policy allows any AWS principal in statement {}; name the principals or add a condition such as aws:PrincipalOrgID or kms:CallerAccount.",
        public.join(", ")
    ))
    .with(p.evidence("policy")))
}
