//! Rules for governance services: AWS Private CA, Amazon Connect,
//! CloudFormation stacks, Service Catalog portfolios and the account's
//! alternate contacts.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "pca-root-ca-disabled",
        check: root_ca_disabled,
    },
    Rule {
        id: "connect-flow-logging",
        check: connect_flow_logging,
    },
    Rule {
        id: "cloudformation-stack-sns-notifications",
        check: stack_notifications,
    },
    Rule {
        id: "servicecatalog-portfolio-shared-within-organization",
        check: portfolio_shared_within_organization,
    },
    Rule {
        id: "account-security-contact",
        check: security_contact,
    },
    Rule {
        id: "account-billing-contact",
        check: billing_contact,
    },
    Rule {
        id: "account-operations-contact",
        check: operations_contact,
    },
];

/// FSBP PCA.1: a root CA is disabled. Not applicable: subordinate CAs and
/// CAs already deleted (kept only for restoring).
fn root_ca_disabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    match p.str("type")? {
        Some("ROOT") => {}
        Some(other) => {
            return Ok(Outcome::not_applicable(format!(
                "The certificate authority is a {} CA; the control covers root CAs.",
                other.to_lowercase()
            ))
            .with(p.evidence("type")));
        }
        None => {
            return Err(Unreadable {
                path: "type".to_owned(),
                error: "the certificate authority's type was not reported".to_owned(),
            });
        }
    }
    let status = p.str("status")?.unwrap_or("UNKNOWN");
    if status == "DELETED" {
        return Ok(Outcome::not_applicable(
            "The root CA is deleted (restorable only); it issues nothing.",
        )
        .with(p.evidence("status")));
    }
    Ok(Outcome::either(
        status == "DISABLED",
        "The root CA is disabled; certificates are issued by subordinate CAs.",
        format!("The root CA is {status}; use it only to sign subordinate CAs and keep it disabled otherwise."),
    )
    .with(p.evidence("status")))
}

/// FSBP Connect.2: the instance sends flow logs to CloudWatch Logs. Not
/// applicable: instances that are not active (being created, or failed).
fn connect_flow_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    match p.str("instanceStatus")? {
        Some("ACTIVE") => {}
        Some(other) => {
            return Ok(Outcome::not_applicable(format!(
                "The instance is {other}; only active instances have settings to assess."
            ))
            .with(p.evidence("instanceStatus")));
        }
        None => {
            return Err(Unreadable {
                path: "instanceStatus".to_owned(),
                error: "the instance's status was not reported".to_owned(),
            });
        }
    }
    let Some(on) = p.bool("contactFlowLogs")? else {
        return Err(Unreadable {
            path: "contactFlowLogs".to_owned(),
            error: "the instance's flow log setting was not reported".to_owned(),
        });
    };
    Ok(Outcome::either(
        on,
        "The instance sends its flow logs to CloudWatch Logs.",
        "The instance does not log its flows; turn on flow logs (CONTACTFLOW_LOGS) so contact handling can be investigated.",
    )
    .with(p.evidence("contactFlowLogs")))
}

/// FSBP CloudFormation.1: the stack notifies at least one SNS topic of its
/// events. Not applicable: a stack being deleted.
fn stack_notifications(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(status @ ("DELETE_IN_PROGRESS" | "DELETE_COMPLETE")) = p.str("stackStatus")? {
        return Ok(Outcome::not_applicable(format!("The stack is {status}."))
            .with(p.evidence("stackStatus")));
    }
    let topics = p.array("notificationArns")?.len();
    Ok(Outcome::either(
        topics > 0,
        format!("The stack notifies {topics} SNS topic(s) of its events."),
        "The stack notifies no SNS topic; add a notification ARN so failed or unexpected stack operations are seen.",
    )
    .with(p.evidence("notificationArns")))
}

/// FSBP ServiceCatalog.1: the portfolio is shared with no single account
/// (sharing through AWS Organizations, to the organization or its units,
/// is what the control accepts). Not applicable: a portfolio deleted while
/// the scan ran.
fn portfolio_shared_within_organization(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if p.bool("deleted")? == Some(true) {
        return Ok(
            Outcome::not_applicable("The portfolio was deleted while the scan ran.")
                .with(p.evidence("deleted")),
        );
    }
    let Some(shares) = p.get("accountShares")?.and_then(Node::as_array) else {
        return Err(Unreadable {
            path: "accountShares".to_owned(),
            error: "the portfolio's shares were not reported".to_owned(),
        });
    };
    let accounts: Vec<&str> = shares
        .iter()
        .filter_map(|s| s.get("principalId").and_then(Node::as_str))
        .collect();
    Ok(Outcome::either(
        accounts.is_empty(),
        "The portfolio is not shared with individual accounts.",
        format!(
            "The portfolio is shared with individual accounts ({}); share it through AWS Organizations (the organization or an organizational unit) instead.",
            accounts.join(", ")
        ),
    )
    .with(p.evidence("accountShares")))
}

/// Not applicable: the organization (seen from its management account)
/// lists the account as suspended or closing, so nobody is to be reached
/// for it any more.
fn account_closing(p: &Props<'_>, inv: &Inventory) -> Option<Outcome> {
    let account = p.asset().account;
    inv.of_type("AWS::Organizations::Account")
        .find_map(|member| {
            let props = member.properties;
            if props.get("id").and_then(Node::as_str) != Some(account) {
                return None;
            }
            let state = ["state", "status"]
                .iter()
                .filter_map(|key| props.get(key).and_then(Node::as_str))
                .find(|s| matches!(*s, "SUSPENDED" | "PENDING_CLOSURE" | "CLOSED"))?;
            Some(Outcome::not_applicable(format!(
                "The organization lists the account as {state}; it is being closed."
            )))
        })
}

/// The alternate contact at `path` is set with an email address.
fn contact(p: &Props<'_>, inv: &Inventory, path: &str, what: &str) -> Result<Outcome, Unreadable> {
    if let Some(na) = account_closing(p, inv) {
        return Ok(na);
    }
    let email = p.str(&format!("{path}.emailAddress"))?;
    Ok(Outcome::either(
        email.is_some_and(|e| !e.trim().is_empty()),
        format!("The account has a {what} contact."),
        format!("The account has no {what} contact; set one so AWS can reach the right people."),
    )
    .with(p.evidence(path)))
}

/// FSBP Account.1: the security alternate contact is set.
fn security_contact(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    contact(p, inv, "security", "security")
}

/// The billing alternate contact is set (not an FSBP control).
fn billing_contact(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    contact(p, inv, "billing", "billing")
}

/// The operations alternate contact is set (not an FSBP control).
fn operations_contact(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    contact(p, inv, "operations", "operations")
}

// ---------------------------------------------------------------------------
// Organizations (management account), IAM Identity Center, Bedrock,
// CodeArtifact: recommendations of issue 15 without a Security Hub control.
// ---------------------------------------------------------------------------

pub(crate) static EXTRA_RULES: &[Rule] = &[
    Rule {
        id: "organizations-scp-enabled",
        check: scp_enabled,
    },
    Rule {
        id: "organizations-tag-policies-enabled",
        check: tag_policies_enabled,
    },
    Rule {
        id: "organizations-ai-opt-out-policy",
        check: ai_opt_out_policy,
    },
    Rule {
        id: "identity-center-enabled",
        check: identity_center_enabled,
    },
    Rule {
        id: "bedrock-model-invocation-logging",
        check: bedrock_invocation_logging,
    },
    Rule {
        id: "bedrock-guardrail-configured",
        check: bedrock_guardrail,
    },
    Rule {
        id: "codeartifact-repository-not-public",
        check: codeartifact_not_public,
    },
];

/// Not applicable: the scanned account is not the organization's
/// management account (only it sees and sets the root's policies).
fn not_management(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("isManagementAccount")? != Some(true)).then(|| {
        Outcome::not_applicable(
            "The account is a member of the organization; its management account sets the organization's policies.",
        )
        .with(p.evidence("isManagementAccount"))
    }))
}

/// The status of policy type `kind` on the organization's root.
fn root_policy_type<'a>(p: &Props<'a>, kind: &str) -> Result<Option<&'a str>, Unreadable> {
    if p.get("rootPolicyTypes")?.is_none() {
        return Err(Unreadable {
            path: "rootPolicyTypes".to_owned(),
            error: "the organization root's policy types were not reported".to_owned(),
        });
    }
    p.str(&format!("rootPolicyTypes.{kind}"))
}

/// Service control policies are enabled on the organization's root (which
/// needs all features). Not applicable outside the management account.
fn scp_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_management(p)? {
        return Ok(na);
    }
    let all_features = p.str("featureSet")? == Some("ALL");
    let enabled = root_policy_type(p, "SERVICE_CONTROL_POLICY")? == Some("ENABLED");
    Ok(Outcome::either(
        all_features && enabled,
        "Service control policies are enabled on the organization's root.",
        if all_features {
            "Service control policies are not enabled on the organization's root; enable the policy type so organization-wide permission guardrails can be attached."
        } else {
            "The organization runs with consolidated billing features only, so service control policies cannot be used; enable all features, then the SCP policy type."
        },
    )
    .with(p.evidence("featureSet"))
    .with(p.evidence("rootPolicyTypes")))
}

/// Tag policies are enabled on the organization's root. Not applicable
/// outside the management account.
fn tag_policies_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_management(p)? {
        return Ok(na);
    }
    let enabled = root_policy_type(p, "TAG_POLICY")? == Some("ENABLED");
    Ok(Outcome::either(
        enabled,
        "Tag policies are enabled on the organization's root.",
        "Tag policies are not enabled; enable the policy type and attach policies that standardize the tags ownership, data classification and cost allocation rely on.",
    )
    .with(p.evidence("rootPolicyTypes")))
}

/// An AI services opt-out policy is attached to the organization's root
/// (policies attached only to some OUs or accounts do not count). Not
/// applicable outside the management account.
fn ai_opt_out_policy(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_management(p)? {
        return Ok(na);
    }
    let enabled = root_policy_type(p, "AISERVICES_OPT_OUT_POLICY")? == Some("ENABLED");
    let attached = p.array("aiOptOutPolicies")?.len();
    Ok(Outcome::either(
        enabled && attached > 0,
        "An AI services opt-out policy is attached to the organization's root.",
        if enabled {
            "No AI services opt-out policy is attached to the organization's root; attach one that opts all services out so AWS AI services do not store or use your content."
        } else {
            "AI services opt-out policies are not enabled; enable the policy type and attach an opt-out policy to the root."
        },
    )
    .with(p.evidence("rootPolicyTypes"))
    .with(p.evidence("aiOptOutPolicies")))
}

/// An IAM Identity Center instance exists, assessed for the management
/// account of an organization (where the organization instance lives).
/// Not applicable: accounts that are not an organization's management
/// account (or whose organization was not read).
fn identity_center_enabled(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let account = p.asset().account;
    let management = inv
        .of_type_in_account("AWS::Organizations::Organization", account)
        .any(|org| {
            org.properties
                .get("isManagementAccount")
                .and_then(Node::as_bool)
                == Some(true)
        });
    if !management {
        return Ok(Outcome::not_applicable(
            "The account is not the management account of an organization; the organization's Identity Center instance belongs there.",
        ));
    }
    let Some(instances) = p.get("instances")?.and_then(Node::as_array) else {
        return Err(Unreadable {
            path: "instances".to_owned(),
            error: "the Identity Center instances were not reported".to_owned(),
        });
    };
    Ok(Outcome::either(
        !instances.is_empty(),
        "The organization has an IAM Identity Center instance.",
        "The organization's management account has no IAM Identity Center instance in the scanned regions; enable Identity Center so people sign in centrally with short-lived credentials instead of IAM users.",
    )
    .with(p.evidence("instances"))
    .with(p.evidence("regionsRead")))
}

/// A region rule's read of `path`, with regions that are not enabled made
/// not applicable.
fn region_value<'a>(
    p: &Props<'a>,
    path: &str,
) -> Result<Result<Option<Node<'a>>, Outcome>, Unreadable> {
    match p.get(path) {
        Ok(v) => Ok(Ok(v)),
        Err(err) if super::cloudtrail::region_not_enabled(&err) => {
            Ok(Err(super::cloudtrail::region_disabled_outcome(&err)))
        }
        Err(err) => Err(err),
    }
}

/// Bedrock model invocation logging is configured in the region (to
/// CloudWatch Logs or S3). Not applicable: a region not enabled.
fn bedrock_invocation_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let logging = match region_value(p, "invocationLogging")? {
        Ok(v) => v,
        Err(na) => return Ok(na),
    };
    let destination = logging.is_some_and(|l| {
        ["cloudWatchLogGroup", "s3Bucket"].iter().any(|k| {
            l.get(k)
                .and_then(Node::as_str)
                .is_some_and(|v| !v.is_empty())
        })
    });
    Ok(Outcome::either(
        destination,
        "Bedrock logs model invocations in this region.",
        "Bedrock model invocation logging is not configured in this region; send invocation logs to CloudWatch Logs or S3 to keep a record of prompts, responses and callers.",
    )
    .with(p.evidence("invocationLogging")))
}

/// At least one Bedrock guardrail exists in the region. Not applicable: a
/// region not enabled.
fn bedrock_guardrail(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let guardrails = match region_value(p, "guardrails")? {
        Ok(v) => v,
        Err(na) => return Ok(na),
    };
    let Some(list) = guardrails.and_then(Node::as_array) else {
        return Err(Unreadable {
            path: "guardrails".to_owned(),
            error: "the region's guardrails were not reported".to_owned(),
        });
    };
    Ok(Outcome::either(
        !list.is_empty(),
        format!("The region has {} Bedrock guardrail(s).", list.len()),
        "The region has no Bedrock guardrail; create one (content filters, denied topics, sensitive information filters) and apply it to model invocations.",
    )
    .with(p.evidence("guardrails")))
}

/// The CodeArtifact repository's policy does not let anyone (any AWS
/// account) read from or publish to it. Not applicable: no policy.
fn codeartifact_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let Some(doc) = super::policy::read(p, "policy")? else {
        return Ok(Outcome::not_applicable(
            "The repository has no resource policy; only identities of its own account can use it.",
        )
        .with(p.evidence("policy")));
    };
    let public: Vec<String> = super::policy::public_statements(doc)
        .iter()
        .map(|s| {
            s.sid()
                .map_or_else(|| format!("#{}", s.index + 1), |sid| format!("`{sid}`"))
        })
        .collect();
    Ok(Outcome::either(
        public.is_empty(),
        "The repository policy grants access only to known principals or under restricting conditions.",
        format!(
            "The repository policy lets any AWS account use the repository (statement {}); name the allowed principals or add an `aws:PrincipalOrgID` condition.",
            public.join(", ")
        ),
    )
    .with(p.evidence("policy")))
}
