//! Rules for KMS keys (rotation, scheduled deletion, public key policies)
//! and for IAM identity policies that grant decryption with every key.

use super::iam::boundary_only;
use super::policy;
use super::s3::statement_label;
use super::{Outcome, Rule};
use crate::doc::Node;
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
    // IAM identity policies: decryption with every key.
    Rule {
        id: "kms-customer-policy-no-decrypt-all-keys",
        check: customer_policy_no_decrypt_all_keys,
    },
    Rule {
        id: "kms-user-inline-policy-no-decrypt-all-keys",
        check: user_inline_no_decrypt_all_keys,
    },
    Rule {
        id: "kms-role-inline-policy-no-decrypt-all-keys",
        check: role_inline_no_decrypt_all_keys,
    },
    Rule {
        id: "kms-group-inline-policy-no-decrypt-all-keys",
        check: group_inline_no_decrypt_all_keys,
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
/// encryption keys (a `SYMMETRIC_DEFAULT` key whose usage the API omits is
/// an encrypt/decrypt key). Not applicable: AWS-managed keys, asymmetric and HMAC
/// keys, keys with imported or external key material or in a custom key
/// store (KMS cannot rotate those automatically), and keys pending
/// deletion or disabled (they encrypt nothing new).
fn key_rotation_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(reason) = aws_managed(p)? {
        return Ok(Outcome::not_applicable(reason).with(p.evidence("keyManager")));
    }
    let spec = p.str("keySpec")?;
    // A SYMMETRIC_DEFAULT key can only be an encrypt/decrypt key (KMS
    // guarantees it), so an omitted usage is inferred rather than unknown.
    let usage = match (p.str("keyUsage")?, spec) {
        (None, Some("SYMMETRIC_DEFAULT")) => Some("ENCRYPT_DECRYPT"),
        (usage, _) => usage,
    };
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
/// reported for someone to confirm or cancel. Every key is assessed, AWS
/// managed ones included (AWS Config's `kms-cmk-not-scheduled-for-deletion`
/// checks all keys; an AWS managed key is never scheduled for deletion, so
/// it passes): no key is out of scope.
fn key_not_pending_deletion(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
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
fn key_policy_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
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

// ---------------------------------------------------------------------------
// IAM identity policies that allow decryption with every key (FSBP KMS.1/2).
// ---------------------------------------------------------------------------

/// The decryption actions KMS.1 and KMS.2 look for.
const DECRYPT_ACTIONS: &[&str] = &["kms:Decrypt", "kms:ReEncryptFrom"];

/// Whether a statement's resources reach every key: `Resource: "*"`, or a
/// pattern (or a `NotResource` list) that takes in a key with an arbitrary
/// id in an arbitrary region, of `account` or of an arbitrary account, in
/// any partition (`arn:aws:kms:*:*:key/*`, `arn:*:kms:*:<account>:*`…). A
/// pattern for the keys of one region of one account is not "every key".
fn reaches_every_key(stmt: &policy::Statement<'_>, account: &str) -> bool {
    const KEY: &str = "key/00000000-0000-0000-0000-000000000000";
    stmt.covers_all_resources()
        || ["aws", "aws-cn", "aws-us-gov"].iter().any(|partition| {
            [account, "000000000000"].iter().any(|acct| {
                stmt.matches_resource(&format!("arn:{partition}:kms:xx-probe-9:{acct}:{KEY}"))
            })
        })
}

/// `Allow` statements of `doc` (a policy of `account`) that grant a
/// decryption action ([`DECRYPT_ACTIONS`], also through `kms:*`, `*` or
/// `NotAction`) on every key (see [`reaches_every_key`]). Conditions are
/// not considered. Each finding is `<statement> (<actions>)`.
fn decrypt_all_keys_statements(doc: Node<'_>, account: &str) -> Vec<String> {
    policy::statements(doc)
        .iter()
        .filter(|s| s.is_allow() && reaches_every_key(s, account))
        .filter_map(|s| {
            let actions: Vec<&str> = DECRYPT_ACTIONS
                .iter()
                .copied()
                .filter(|a| s.matches_action(a))
                .collect();
            (!actions.is_empty())
                .then(|| format!("{} ({})", statement_label(s), actions.join(", ")))
        })
        .collect()
}

/// FSBP KMS.1: the default version of a customer managed policy does not
/// allow `kms:Decrypt` or `kms:ReEncryptFrom` on every key (see
/// [`decrypt_all_keys_statements`]). Attached and unattached policies are
/// both assessed. Not applicable: a policy IAM reports as not attachable,
/// or one used only as a permissions boundary (a boundary limits
/// permissions and grants nothing by itself).
fn customer_policy_no_decrypt_all_keys(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if p.bool("isAttachable")? == Some(false) {
        return Ok(Outcome::not_applicable(
            "The policy cannot be attached to users, groups or roles, so it grants nothing.",
        )
        .with(p.evidence("isAttachable")));
    }
    if let Some(na) = boundary_only(p)? {
        return Ok(na);
    }
    let Some(doc) = policy::read(p, "defaultVersionDocument")? else {
        return Err(Unreadable {
            path: "defaultVersionDocument".to_owned(),
            error: "the policy's default version document is missing from the inventory".to_owned(),
        });
    };
    let found = decrypt_all_keys_statements(doc, p.asset().account);
    Ok(Outcome::either(
        found.is_empty(),
        "The policy does not allow decryption with every KMS key.",
        format!(
            "The policy allows decryption with every KMS key in statement {}; list the key ARNs the holders need in `Resource` instead of `*`.",
            found.join(", ")
        ),
    )
    .with(p.evidence("defaultVersionDocument")))
}

/// FSBP KMS.2: no inline policy under `list` (`userPolicyList`,
/// `rolePolicyList`, `groupPolicyList`) allows decryption with every key
/// (see [`decrypt_all_keys_statements`]). Every principal is assessed (AWS
/// Config's `iam-inline-policy-blocked-kms-actions`); one without an inline
/// policy passes. An inline document the collector could not parse is
/// unreadable.
fn inline_no_decrypt_all_keys(p: &Props<'_>, list: &str, who: &str) -> Result<Outcome, Unreadable> {
    let inline = p.array(list)?;
    if inline.is_empty() {
        return Ok(
            Outcome::healthy(format!("The {who} has no inline policy.")).with(p.evidence(list))
        );
    }
    let mut found = Vec::new();
    for (i, entry) in inline.iter().enumerate() {
        let path = format!("{list}.{i}.policyDocument");
        let Some(doc) = policy::read(p, &path)? else {
            return Err(Unreadable {
                path,
                error: "the inline policy has no document in the inventory".to_owned(),
            });
        };
        let statements = decrypt_all_keys_statements(doc, p.asset().account);
        if !statements.is_empty() {
            let name = entry
                .get("policyName")
                .and_then(Node::as_str)
                .unwrap_or("(unnamed)");
            found.push(format!("`{name}` (statement {})", statements.join(", ")));
        }
    }
    Ok(Outcome::either(
        found.is_empty(),
        format!("No inline policy of the {who} allows decryption with every KMS key."),
        format!(
            "The {who}'s inline policy {} allows decryption with every KMS key; list the key ARNs needed in `Resource` instead of `*`.",
            found.join(", ")
        ),
    )
    .with(p.evidence(list)))
}

/// FSBP KMS.2, for users (see [`inline_no_decrypt_all_keys`]).
fn user_inline_no_decrypt_all_keys(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    inline_no_decrypt_all_keys(p, "userPolicyList", "user")
}

/// FSBP KMS.2, for roles (see [`inline_no_decrypt_all_keys`]).
fn role_inline_no_decrypt_all_keys(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    inline_no_decrypt_all_keys(p, "rolePolicyList", "role")
}

/// FSBP KMS.2, for groups (see [`inline_no_decrypt_all_keys`]).
fn group_inline_no_decrypt_all_keys(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    inline_no_decrypt_all_keys(p, "groupPolicyList", "group")
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::*;
    use crate::doc::testing::node;
    use serde_json::Value;
    use serde_json::json;

    fn found(statement: Value) -> Vec<String> {
        decrypt_all_keys_statements(
            node(&json!({"Version": "2012-10-17", "Statement": statement})),
            "123456789012",
        )
    }

    #[test]
    fn decrypt_on_every_key() {
        let allow = |action: Value, resource: Value| json!({"Effect": "Allow", "Action": action, "Resource": resource});
        assert_eq!(
            found(allow(json!("kms:Decrypt"), json!("*"))),
            vec!["#1 (kms:Decrypt)"]
        );
        assert_eq!(
            found(allow(json!(["kms:*"]), json!("arn:aws:kms:*:*:key/*"))),
            vec!["#1 (kms:Decrypt, kms:ReEncryptFrom)"]
        );
        assert_eq!(found(allow(json!("*"), json!("*"))).len(), 1);
        assert_eq!(
            found(allow(json!("kms:ReEncrypt*"), json!("arn:*:kms:*:*:*"))).len(),
            1
        );
        assert_eq!(found(allow(json!("KMS:decrypt"), json!("*"))).len(), 1);
        assert_eq!(
            found(allow(
                json!("kms:Decrypt"),
                json!("arn:aws:kms:*:123456789012:key/*")
            ))
            .len(),
            1
        );
        // Scoped to one account and region, or to named keys.
        assert!(
            found(allow(
                json!("kms:Decrypt"),
                json!("arn:aws:kms:us-east-1:123456789012:key/*")
            ))
            .is_empty()
        );
        assert!(
            found(allow(
                json!("kms:Decrypt"),
                json!(["arn:aws:kms:us-east-1:123456789012:key/abc"])
            ))
            .is_empty()
        );
        // Other actions, or a Deny.
        assert!(
            found(allow(
                json!(["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncryptTo"]),
                json!("*")
            ))
            .is_empty()
        );
        assert!(
            found(json!({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})).is_empty()
        );
        // NotAction / NotResource.
        assert_eq!(
            found(json!({"Effect": "Allow", "NotAction": "kms:Decrypt", "Resource": "*"})),
            vec!["#1 (kms:ReEncryptFrom)"]
        );
        assert_eq!(
            found(
                json!({"Sid": "Nr", "Effect": "Allow", "Action": "kms:Decrypt",
                "NotResource": "arn:aws:kms:us-east-1:123456789012:key/abc"})
            ),
            vec!["`Nr` (kms:Decrypt)"]
        );
        assert!(
            found(json!({"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "*"}))
                .is_empty()
        );
    }
}
