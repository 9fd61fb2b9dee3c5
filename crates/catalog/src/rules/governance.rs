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
    inv.of_type("AWS::Organizations::Account").find_map(|member| {
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
