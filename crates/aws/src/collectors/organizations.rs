//! AWS Organizations (global, home region): the organization
//! (`AWS::Organizations::Organization`) when the account belongs to one,
//! and, when the scanned account is its management account, every account
//! of the organization (`AWS::Organizations::Account`).
//!
//! `DescribeOrganization` once; `AWSOrganizationsNotInUseException` means
//! the account is in no organization: nothing is emitted and it is not a
//! gap. From the management account, `ListAccounts` (20 a page), and the
//! organization's root policy settings: `ListRoots` (the policy types
//! enabled on the root, as `rootPolicyTypes` `{type: status}`) and
//! `ListPoliciesForTarget` on the root for AI services opt-out policies
//! (`aiOptOutPolicies`, their names). Other accounts see `null` there (not
//! theirs to read); a failed read marks the property unavailable.

use aws_sdk_organizations::types::{Account, Organization, PolicySummary, PolicyType, Root};
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id};
use serde_json::{Map, Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects the organization and, from its management account, its accounts.
#[derive(Debug)]
pub struct Organizations;

static META: CollectorMeta = CollectorMeta {
    service: "organizations",
    scope: Scope::Global,
    operations: &[
        op!("organizations", "DescribeOrganization"),
        op!("organizations", "ListAccounts"),
        op!("organizations", "ListRoots"),
        op!("organizations", "ListPoliciesForTarget"),
    ],
    resource_types: &[
        "AWS::Organizations::Organization",
        "AWS::Organizations::Account",
    ],
};

/// The error code meaning the account is not in an organization.
const NOT_IN_USE: &str = "AWSOrganizationsNotInUseException";

impl Collector for Organizations {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let region = ctx.home_region();
            let client = ctx.access().organizations(region);
            let Ok(Some(out)) = ctx
                .call_optional(
                    "DescribeOrganization",
                    &[NOT_IN_USE],
                    client.describe_organization().send(),
                )
                .await
            else {
                return;
            };
            let Some(org) = out.organization() else {
                return;
            };
            let mut asset = organization_asset(ctx.account(), region, org);
            if org.master_account_id() != Some(ctx.account()) {
                ctx.emit(asset);
                return;
            }
            let roots = ctx
                .pages("ListRoots", client.list_roots().into_paginator().send())
                .await
                .map(|pages| {
                    pages
                        .into_iter()
                        .flat_map(|p| p.roots.unwrap_or_default())
                        .collect::<Vec<_>>()
                });
            let opt_out = match roots.as_ref().map(|r| r.first().and_then(|root| root.id())) {
                Ok(Some(root)) => Some(
                    ctx.pages(
                        "ListPoliciesForTarget",
                        client
                            .list_policies_for_target()
                            .target_id(root)
                            .filter(PolicyType::AiservicesOptOutPolicy)
                            .into_paginator()
                            .send(),
                    )
                    .await
                    .map(|pages| {
                        pages
                            .into_iter()
                            .flat_map(|p| p.policies.unwrap_or_default())
                            .collect::<Vec<_>>()
                    }),
                ),
                _ => None,
            };
            apply_root_policies(
                &mut asset,
                roots.as_deref(),
                opt_out.as_ref().map(|r| r.as_deref()),
            );
            ctx.emit(asset);
            let Ok(pages) = ctx
                .pages(
                    "ListAccounts",
                    client.list_accounts().into_paginator().page_size(20).send(),
                )
                .await
            else {
                return;
            };
            for account in pages.iter().flat_map(|p| p.accounts()) {
                ctx.emit(account_asset(ctx.account(), region, org, account));
            }
        })
    }
}

/// Sets the management account's view of the root's policies on the
/// organization asset: `rootPolicyTypes` (`{type: status}` of the first
/// root) and `aiOptOutPolicies` (names of the AI services opt-out policies
/// attached to it; `None` when the roots gave no root to ask about).
pub fn apply_root_policies(
    asset: &mut Asset,
    roots: Result<&[Root], &CallFailure>,
    opt_out: Option<Result<&[PolicySummary], &CallFailure>>,
) {
    match roots {
        Ok(roots) => {
            let types: Map<String, Value> = roots
                .first()
                .map(|root| root.policy_types())
                .unwrap_or_default()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.r#type()?.as_str().to_owned(),
                        opt_str(t.status().map(|s| s.as_str())),
                    ))
                })
                .collect();
            asset.set_property("rootPolicyTypes", Value::Object(types));
        }
        Err(failure) => {
            asset.set_property("rootPolicyTypes", Value::Null);
            asset.mark_unavailable("rootPolicyTypes", failure.to_string());
        }
    }
    match opt_out {
        Some(Ok(policies)) => asset.set_property(
            "aiOptOutPolicies",
            Value::Array(
                policies
                    .iter()
                    .map(|p| opt_str(p.name().or(p.id())))
                    .collect(),
            ),
        ),
        Some(Err(failure)) => {
            asset.set_property("aiOptOutPolicies", Value::Null);
            asset.mark_unavailable("aiOptOutPolicies", failure.to_string());
        }
        None => match roots {
            Err(failure) => {
                asset.set_property("aiOptOutPolicies", Value::Null);
                asset.mark_unavailable("aiOptOutPolicies", failure.to_string());
            }
            Ok(_) => asset.set_property("aiOptOutPolicies", Value::Array(Vec::new())),
        },
    }
}

/// The `AWS::Organizations::Organization` asset, as the scanned account
/// sees it (`isManagementAccount` tells whether it manages it).
pub fn organization_asset(account: &str, home_region: &str, org: &Organization) -> Asset {
    let id = org.id().unwrap_or_default();
    let arn = org.arn().map_or_else(
        || {
            setting_id(
                "organizations",
                home_region,
                account,
                &format!("organization/{id}"),
            )
        },
        str::to_owned,
    );
    Asset::new(
        arn.clone(),
        "AWS::Organizations::Organization",
        account,
        home_region,
        id,
        json!({
            "id": id,
            "arn": arn,
            "featureSet": opt_str(org.feature_set().map(|f| f.as_str())),
            "masterAccountId": opt_str(org.master_account_id()),
            "masterAccountArn": opt_str(org.master_account_arn()),
            "masterAccountEmail": opt_str(org.master_account_email()),
            "isManagementAccount": org.master_account_id() == Some(account),
        }),
    )
}

/// The `AWS::Organizations::Account` asset of one account of the
/// organization, as listed by its management account.
pub fn account_asset(
    account: &str,
    home_region: &str,
    org: &Organization,
    member: &Account,
) -> Asset {
    let id = member.id().unwrap_or_default();
    let arn = member.arn().map_or_else(
        || {
            setting_id(
                "organizations",
                home_region,
                account,
                &format!("account/{id}"),
            )
        },
        str::to_owned,
    );
    Asset::new(
        arn.clone(),
        "AWS::Organizations::Account",
        account,
        home_region,
        member.name().unwrap_or(id),
        json!({
            "id": id,
            "arn": arn,
            "name": opt_str(member.name()),
            "email": opt_str(member.email()),
            "status": opt_str(member.status().map(|s| s.as_str())),
            "state": opt_str(member.state().map(|s| s.as_str())),
            "joinedMethod": opt_str(member.joined_method().map(|m| m.as_str())),
            "joinedTimestamp": opt_timestamp(member.joined_timestamp()),
            "organizationId": opt_str(org.id()),
            "isManagementAccount": org.master_account_id() == Some(id),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_organizations::types::{AccountJoinedMethod, AccountState, OrganizationFeatureSet};

    fn org() -> Organization {
        Organization::builder()
            .id("o-abc123")
            .arn("arn:aws:organizations::123456789012:organization/o-abc123")
            .feature_set(OrganizationFeatureSet::All)
            .master_account_id("123456789012")
            .master_account_arn("arn:aws:organizations::123456789012:account/o-abc123/123456789012")
            .master_account_email("root@example.com")
            .build()
    }

    #[test]
    fn maps_the_organization_from_management_and_member_accounts() {
        let asset = organization_asset("123456789012", "us-east-1", &org());
        assert_eq!(
            asset.arn,
            "arn:aws:organizations::123456789012:organization/o-abc123"
        );
        assert_eq!(asset.resource_type, "AWS::Organizations::Organization");
        assert_eq!(asset.region, "us-east-1");
        assert_eq!(asset.name, "o-abc123");
        assert_eq!(asset.properties["featureSet"], "ALL");
        assert_eq!(asset.properties["isManagementAccount"], true);

        let member_view = organization_asset("210987654321", "us-east-1", &org());
        assert_eq!(member_view.account, "210987654321");
        assert_eq!(member_view.properties["isManagementAccount"], false);
        assert_eq!(member_view.properties["masterAccountId"], "123456789012");
    }

    #[test]
    fn maps_member_accounts() {
        let member = Account::builder()
            .id("210987654321")
            .arn("arn:aws:organizations::123456789012:account/o-abc123/210987654321")
            .name("dev")
            .email("dev@example.com")
            .status(aws_sdk_organizations::types::AccountStatus::Active)
            .state(AccountState::Active)
            .joined_method(AccountJoinedMethod::Invited)
            .joined_timestamp(aws_smithy_types::DateTime::from_secs(0))
            .build();
        let asset = account_asset("123456789012", "us-east-1", &org(), &member);
        assert_eq!(
            asset.arn,
            "arn:aws:organizations::123456789012:account/o-abc123/210987654321"
        );
        assert_eq!(asset.resource_type, "AWS::Organizations::Account");
        assert_eq!(asset.name, "dev");
        let p = &asset.properties;
        assert_eq!(p["id"], "210987654321");
        assert_eq!(p["email"], "dev@example.com");
        assert_eq!(p["status"], "ACTIVE");
        assert_eq!(p["state"], "ACTIVE");
        assert_eq!(p["joinedMethod"], "INVITED");
        assert_eq!(p["joinedTimestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(p["isManagementAccount"], false);

        let suspended = Account::builder()
            .id("123456789012")
            .state(AccountState::Suspended)
            .build();
        let asset = account_asset("123456789012", "us-east-1", &org(), &suspended);
        assert_eq!(asset.name, "123456789012");
        assert_eq!(asset.properties["state"], "SUSPENDED");
        assert_eq!(asset.properties["status"], Value::Null);
        assert_eq!(asset.properties["isManagementAccount"], true);
        assert_eq!(
            asset.arn,
            "arn:rampart:organizations:us-east-1:123456789012:account/123456789012"
        );
    }

    #[test]
    fn root_policy_settings() {
        use aws_sdk_organizations::types::{PolicyTypeStatus, PolicyTypeSummary};
        let root = Root::builder()
            .id("r-abcd")
            .policy_types(
                PolicyTypeSummary::builder()
                    .r#type(PolicyType::ServiceControlPolicy)
                    .status(PolicyTypeStatus::Enabled)
                    .build(),
            )
            .build();
        let policy = PolicySummary::builder()
            .id("p-1")
            .name("opt-out-all")
            .build();
        let mut asset = organization_asset("123456789012", "us-east-1", &org());
        apply_root_policies(&mut asset, Ok(&[root]), Some(Ok(&[policy])));
        assert_eq!(
            asset.properties["rootPolicyTypes"],
            json!({ "SERVICE_CONTROL_POLICY": "ENABLED" })
        );
        assert_eq!(asset.properties["aiOptOutPolicies"], json!(["opt-out-all"]));

        let failure = CallFailure {
            kind: rampart_model::GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        };
        let mut asset = organization_asset("123456789012", "us-east-1", &org());
        apply_root_policies(&mut asset, Err(&failure), None);
        assert!(asset.unavailable.contains_key("rootPolicyTypes"));
        assert!(asset.unavailable.contains_key("aiOptOutPolicies"));
    }
}
