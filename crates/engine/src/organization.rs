//! Organizations: an organization's connector keeps one member connector
//! per active account of the organization (`rampart connector sync`, and
//! the start of every scan of the organization).

use rampart_aws::{AccessError, AwsAccess};
use rampart_connector::{Connector, OrganizationalData, RoleArn};
use rampart_model::GapKind;
use rampart_store::Store;

pub(crate) fn excluded(org: &Connector, account: &str) -> bool {
    matches!(
        &org.environment_data.organizational_data,
        Some(OrganizationalData::Organization { excluded_account_ids, .. })
            if excluded_account_ids.iter().any(|a| a == account)
    )
}

/// What a member sync changed.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Member connectors created.
    pub created: Vec<String>,
    /// Member connectors updated.
    pub updated: Vec<String>,
    /// Member connectors removed (their account left the organization or
    /// was excluded).
    pub removed: Vec<String>,
    /// Member connectors already up to date.
    pub unchanged: Vec<String>,
    /// What could not be done, one line each.
    pub problems: Vec<String>,
}

/// Lists the organization's accounts (through its management account's
/// access) and makes the member connectors match: one per active account
/// that is neither the management account nor excluded; others removed.
pub async fn sync_members(
    store: &Store,
    org: &Connector,
    access: &AwsAccess,
) -> Result<SyncReport, AccessError> {
    let client = access.organizations(access.home_region());
    let mut listed: Vec<String> = Vec::new();
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let failure = rampart_aws::error::classify(&e);
            match failure.kind {
                GapKind::AccessDenied => AccessError::Credentials(failure.message),
                _ => AccessError::Unreachable {
                    endpoint: "organizations".to_owned(),
                    reason: failure.message,
                },
            }
        })?;
        for account in page.accounts() {
            let active = account
                .status()
                .is_none_or(|s| s.as_str().eq_ignore_ascii_case("ACTIVE"));
            if let Some(id) = account.id()
                && active
            {
                listed.push(id.to_owned());
            }
        }
    }
    let mut report = SyncReport::default();
    let wanted: Vec<&String> = listed
        .iter()
        .filter(|id| id.as_str() != org.account() && !excluded(org, id))
        .collect();
    let existing = store
        .members_of(org.account())
        .map_err(|e| AccessError::CredentialSource(e.to_string()))?;
    for old in &existing {
        if !wanted.iter().any(|id| id.as_str() == old.account()) {
            match store.delete_connector(&old.id.to_string()) {
                Ok(_) => report.removed.push(old.name.clone()),
                Err(e) => report
                    .problems
                    .push(format!("cannot remove `{}`: {e}", old.name)),
            }
        }
    }
    for account in wanted {
        let current = existing.iter().find(|c| c.account() == account.as_str());
        let member = match member_connector(org, account, current) {
            Ok(member) => member,
            Err(e) => {
                report
                    .problems
                    .push(format!("no member connector for account {account}: {e}"));
                continue;
            }
        };
        let result = match current {
            Some(old) if *old == member => {
                report.unchanged.push(member.name.clone());
                Ok(())
            }
            Some(_) => store
                .update_connector(&member)
                .map(|()| report.updated.push(member.name.clone())),
            None => store
                .create_connector(&member)
                .map(|()| report.created.push(member.name.clone())),
        };
        if let Err(e) = result {
            report.problems.push(format!(
                "cannot store member connector `{}`: {e}",
                member.name
            ));
        }
    }
    Ok(report)
}

/// The member connector of `account`: named `<org name>-<account>`, the
/// organization's plans, settings, regions and interval, its role ARNs moved
/// into the member account (same paths and names). An existing member keeps
/// its id (the `sub` of its tokens) and creation time.
fn member_connector(
    org: &Connector,
    account: &str,
    current: Option<&Connector>,
) -> Result<Connector, String> {
    let prefix_len = rampart_connector::MAX_NAME_LEN.saturating_sub(account.len() + 1);
    let prefix: String = org.name.chars().take(prefix_len).collect();
    let name = format!("{prefix}-{account}");
    let data = &org.environment_data;
    let mut member = Connector::new(
        &name,
        account,
        &org.plans(),
        data.regions.clone(),
        data.scan_interval,
        Some(OrganizationalData::Member {
            parent_hierarchy_id: org.account().to_owned(),
        }),
    );
    member.offerings = org.offerings.clone();
    for offering in &org.offerings {
        let plan = offering.plan();
        for (field, arn) in offering.role_arns() {
            let parsed =
                RoleArn::parse(arn).ok_or_else(|| format!("malformed role ARN `{arn}`"))?;
            let moved = format!(
                "arn:{}:iam::{account}:role{}{}",
                parsed.partition, parsed.path, parsed.name
            );
            member
                .set_role_arn(plan, Some(field), &moved)
                .map_err(|e| e.to_string())?;
        }
    }
    if let Some(current) = current {
        member.id = current.id;
        member.created_at = current.created_at;
        member.updated_at = current.updated_at;
        if member != *current {
            member.touch();
        }
    }
    member.validate().map_err(|e| e.to_string())?;
    Ok(member)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_connector::{Connector, OrganizationalData, Plan};

    use super::member_connector;

    fn org(name: &str) -> Connector {
        let mut org = Connector::new(
            name,
            "111111111111",
            &[Plan::Cspm, Plan::Servers],
            vec!["eu-west-1".into()],
            6,
            Some(OrganizationalData::Organization {
                stackset_name: "Rampart".into(),
                excluded_account_ids: vec![],
            }),
        );
        org.set_role_arn(
            Plan::Cspm,
            None,
            "arn:aws:iam::111111111111:role/security/Reader",
        )
        .unwrap();
        org
    }

    #[test]
    fn members_take_the_organizations_settings_in_their_own_account() {
        let org = org("acme");
        let member = member_connector(&org, "222222222222", None).unwrap();
        assert_eq!(member.name, "acme-222222222222");
        assert_eq!(member.parent(), Some("111111111111"));
        assert_eq!(member.plans(), [Plan::Cspm, Plan::Servers]);
        assert_eq!(member.environment_data.regions, ["eu-west-1"]);
        assert_eq!(member.environment_data.scan_interval, 6);
        assert_eq!(
            member.role_arn(Plan::Cspm),
            Some("arn:aws:iam::222222222222:role/security/Reader")
        );
        assert_eq!(
            member.role_arn(Plan::Servers),
            Some("arn:aws:iam::222222222222:role/RampartServers")
        );
        // Refreshing keeps the id (the tokens' subject); unchanged is equal.
        let again = member_connector(&org, "222222222222", Some(&member)).unwrap();
        assert_eq!(again, member);
    }

    #[test]
    fn long_organization_names_are_cut_to_fit() {
        let org = org(&"o".repeat(40));
        let member = member_connector(&org, "222222222222", None).unwrap();
        assert_eq!(member.name.len(), 40);
        assert!(member.name.ends_with("-222222222222"));
    }
}
