//! IAM: the account's identities, their credentials and their policies.
//!
//! Emits, once per account (home region):
//!
//! * `Rampart::IAM::AccountSummary` (`GetAccountSummary`),
//! * `Rampart::IAM::PasswordPolicy` (`GetAccountPasswordPolicy`; `{"configured": false}`
//!   when none is set),
//! * `Rampart::IAM::RootAccount` (the credential report's `<root_account>` row,
//!   plus the summary's root MFA / root key flags and whether a virtual MFA device
//!   is assigned to root),
//! * `AWS::IAM::User`, `AWS::IAM::Role`, `AWS::IAM::Group` and `AWS::IAM::ManagedPolicy`
//!   (customer-managed only) from `GetAccountAuthorizationDetails`, which returns in a
//!   few pages what would otherwise take a dozen calls per principal: attached and
//!   inline policies, group membership, tags, trust policies, instance profiles,
//!   role last use, and every version of every customer-managed policy,
//! * `AWS::IAM::OIDCProvider`, `AWS::IAM::SAMLProvider` and `AWS::IAM::ServerCertificate`.
//!
//! # Which per-user calls are made
//!
//! The credential report (`GenerateCredentialReport` + `GetCredentialReport`) answers,
//! for every user in one call: console password enabled and last used, MFA active,
//! and for each of two access-key slots whether it is active, when it was created,
//! and when/where/for which service it was last used. It cannot answer:
//!
//! * **access key ids and current status** — the report has slots, not ids, and can be
//!   up to four hours old; so `ListAccessKeys` is called for every user (one call each),
//! * **virtual versus hardware MFA** — answered for the whole account by one paginated
//!   `ListVirtualMFADevices`: MFA that is active without a virtual device assigned is
//!   hardware (or FIDO). A user with both a virtual and a hardware device shows
//!   `hardwareMfa: false` unless the per-user fallback below ran.
//!
//! Per key, `GetAccessKeyLastUsed` is called only when the report cannot be matched to
//! that key: the key was created after the report, or two of the user's keys were
//! created in the same second (the report's `access_key_N_last_rotated` is the creation
//! time, to the second, and is how a slot is matched to a key id).
//!
//! `GetLoginProfile` and `ListMFADevices` are called only for users the report has no
//! row for (created after the report was generated, or the report is unavailable).
//!
//! Roles: `GetAccountAuthorizationDetails` omits `MaxSessionDuration` and
//! `Description`, so one paginated `ListRoles` joins them in.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput;
use aws_sdk_iam::types::{
    AccessKeyLastUsed, AccessKeyMetadata, AttachedPermissionsBoundary, AttachedPolicy, EntityType,
    GroupDetail, ManagedPolicyDetail, PasswordPolicy, PolicyDetail, ReportStateType, Role,
    RoleDetail, SamlProviderListEntry, ServerCertificateMetadata, SummaryKeyType, Tag, UserDetail,
    VirtualMfaDevice,
};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, GapKind, setting_id, types};
use serde_json::{Map, Value, json};

use super::{
    Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp, partition, policy_document,
    str_list, tag_map, timestamp,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects IAM identities, credentials, policies and account settings.
#[derive(Debug)]
pub struct Iam;

/// `AWS::IAM::User`.
pub const USER: &str = "AWS::IAM::User";
/// `AWS::IAM::Role`.
pub const ROLE: &str = "AWS::IAM::Role";
/// `AWS::IAM::Group`.
pub const GROUP: &str = "AWS::IAM::Group";
/// `AWS::IAM::ManagedPolicy` (customer-managed policies only).
pub const MANAGED_POLICY: &str = "AWS::IAM::ManagedPolicy";
/// `AWS::IAM::OIDCProvider`.
pub const OIDC_PROVIDER: &str = "AWS::IAM::OIDCProvider";
/// `AWS::IAM::SAMLProvider`.
pub const SAML_PROVIDER: &str = "AWS::IAM::SAMLProvider";
/// `AWS::IAM::ServerCertificate`.
pub const SERVER_CERTIFICATE: &str = "AWS::IAM::ServerCertificate";

/// How often `GenerateCredentialReport` is asked before giving up.
const REPORT_POLLS: u32 = 12;

/// The credential report's user name for the root user.
const ROOT_ROW: &str = "<root_account>";

static META: CollectorMeta = CollectorMeta {
    service: "iam",
    scope: Scope::Global,
    operations: &[
        op!("iam", "GetAccountSummary"),
        op!("iam", "GetAccountPasswordPolicy"),
        op!("iam", "GenerateCredentialReport"),
        op!("iam", "GetCredentialReport"),
        op!("iam", "GetAccountAuthorizationDetails"),
        op!("iam", "ListRoles"),
        op!("iam", "ListAccessKeys"),
        op!("iam", "GetAccessKeyLastUsed"),
        op!("iam", "GetLoginProfile"),
        op!("iam", "ListMFADevices"),
        op!("iam", "ListVirtualMFADevices"),
        op!("iam", "ListOpenIDConnectProviders"),
        op!("iam", "GetOpenIDConnectProvider"),
        op!("iam", "ListSAMLProviders"),
        op!("iam", "ListServerCertificates"),
    ],
    resource_types: &[
        types::IAM_ACCOUNT_SUMMARY,
        types::IAM_PASSWORD_POLICY,
        types::IAM_ROOT_ACCOUNT,
        USER,
        ROLE,
        GROUP,
        MANAGED_POLICY,
        OIDC_PROVIDER,
        SAML_PROVIDER,
        SERVER_CERTIFICATE,
    ],
};

impl Collector for Iam {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(collect_iam(ctx))
    }
}

/// Everything `GetAccountAuthorizationDetails` returned, plus each user's keys.
#[derive(Debug, Default)]
struct Authorization {
    users: Vec<UserDetail>,
    roles: Vec<RoleDetail>,
    groups: Vec<GroupDetail>,
    policies: Vec<ManagedPolicyDetail>,
    /// `ListAccessKeys` per user name.
    keys: HashMap<String, Result<Vec<AccessKeyMetadata>, String>>,
}

async fn collect_iam(ctx: &CollectContext<'_>) {
    let client = ctx.access().iam(ctx.home_region());
    let client = &client;
    let (summary, (), report, authorization, roles, virtual_mfa, (), (), ()) = futures::join!(
        account_summary(ctx, client),
        password_policy(ctx, client),
        credential_report(ctx, client),
        authorization(ctx, client),
        list_roles(ctx, client),
        virtual_mfa_devices(ctx, client),
        oidc_providers(ctx, client),
        saml_providers(ctx, client),
        server_certificates(ctx, client),
    );
    let account = ctx.account();
    let region = ctx.home_region();

    // Virtual MFA serial numbers by the ARN of the user they are assigned to.
    let virtual_by_user: Result<HashMap<String, Vec<String>>, String> =
        virtual_mfa.map(|devices| {
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for device in &devices {
                if let Some(user) = device.user() {
                    map.entry(user.arn().to_owned())
                        .or_default()
                        .push(device.serial_number().to_owned());
                }
            }
            map
        });
    let virtual_for = |arn: &str| -> Result<Vec<String>, String> {
        virtual_by_user
            .as_ref()
            .map(|m| m.get(arn).cloned().unwrap_or_default())
            .map_err(Clone::clone)
    };

    let generated = report.as_ref().ok().and_then(|r| r.generated_time);
    let row_json = |row: &CredentialRow| credential_row_json(row, generated.as_ref());
    let rows_by_arn: HashMap<&str, &CredentialRow> = report
        .as_ref()
        .map(|r| r.rows.iter().map(|row| (row.arn.as_str(), row)).collect())
        .unwrap_or_default();

    // The root user.
    let root_row = report
        .as_ref()
        .map(|r| r.rows.iter().find(|row| row.user == ROOT_ROW))
        .map_err(Clone::clone);
    let root_arn = root_row
        .as_ref()
        .ok()
        .copied()
        .flatten()
        .map(|row| row.arn.clone())
        .unwrap_or_else(|| format!("arn:{}:iam::{account}:root", partition(region)));
    let root_virtual = virtual_by_user
        .as_ref()
        .map(|m| m.keys().any(|arn| arn.ends_with(":root")))
        .map_err(Clone::clone);
    ctx.emit(root_account_asset(
        account,
        region,
        &root_arn,
        root_row.map(|row| row.map(row_json)),
        summary.as_ref().map_err(Clone::clone),
        root_virtual,
    ));

    let Some(auth) = authorization else {
        return;
    };

    // Users: the per-user calls the credential report cannot answer.
    // The futures are built eagerly (they run lazily): a stream closure over
    // borrowed users is not `Send` for every lifetime, which the boxed
    // collector future needs.
    let calls: Vec<_> = auth
        .users
        .iter()
        .map(|user| {
            let arn = user.arn().unwrap_or_default();
            let name = user.user_name().unwrap_or_default();
            let row = report
                .as_ref()
                .map(|_| rows_by_arn.get(arn).copied())
                .map_err(Clone::clone);
            let keys = auth
                .keys
                .get(name)
                .cloned()
                .unwrap_or_else(|| Err("ListAccessKeys was not called".to_owned()));
            let virtual_mfa = virtual_for(arn);
            async move {
                let findings =
                    user_findings(ctx, client, name, row, keys, virtual_mfa, &row_json).await;
                (user, findings)
            }
        })
        .collect();
    let found = futures::stream::iter(calls)
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<_>>()
        .await;
    for (user, findings) in &found {
        ctx.emit(user_asset(account, region, user, findings));
    }

    let members = group_members(&auth.users);
    for group in &auth.groups {
        let name = group.group_name().unwrap_or_default();
        let users = members.get(name).cloned().unwrap_or_default();
        ctx.emit(group_asset(account, region, group, &users));
    }

    for role in &auth.roles {
        let listed = roles
            .as_ref()
            .map(|r| r.get(role.arn().unwrap_or_default()))
            .map_err(String::as_str);
        ctx.emit(role_asset(account, region, role, listed));
    }

    for policy in &auth.policies {
        ctx.emit(managed_policy_asset(account, region, policy));
    }
}

/// `GetAccountSummary`; emits the summary asset and returns the map.
async fn account_summary(
    ctx: &CollectContext<'_>,
    client: &Client,
) -> Result<HashMap<SummaryKeyType, i32>, String> {
    let result = ctx
        .call("GetAccountSummary", client.get_account_summary().send())
        .await
        .map(|out| out.summary_map().cloned().unwrap_or_default())
        .map_err(|f| f.to_string());
    ctx.emit(account_summary_asset(
        ctx.account(),
        ctx.home_region(),
        result.as_ref().map_err(String::as_str),
    ));
    result
}

/// `GetAccountPasswordPolicy`; emits the password policy asset.
async fn password_policy(ctx: &CollectContext<'_>, client: &Client) {
    let result = ctx
        .call_optional(
            "GetAccountPasswordPolicy",
            &["NoSuchEntity"],
            client.get_account_password_policy().send(),
        )
        .await
        .map(|out| out.and_then(|o| o.password_policy))
        .map_err(|f| f.to_string());
    ctx.emit(password_policy_asset(
        ctx.account(),
        ctx.home_region(),
        result.as_ref().map(Option::as_ref).map_err(String::as_str),
    ));
}

/// A parsed credential report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CredentialReport {
    /// When AWS generated the report.
    pub generated_time: Option<DateTime>,
    /// One row per user, the root user's included.
    pub rows: Vec<CredentialRow>,
}

/// One row of the credential report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialRow {
    /// The `user` column (`<root_account>` for the root user).
    pub user: String,
    /// The `arn` column.
    pub arn: String,
    /// Every column, by its header name (`mfa_active`), in the report's text.
    pub fields: BTreeMap<String, String>,
}

impl CredentialRow {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Delay before the next `GenerateCredentialReport` poll: 0.5 s, 1 s, 2 s, then 4 s.
fn report_poll_delay(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1u64 << attempt.min(3)))
}

/// Generates the credential report (polling until it is complete, a bounded
/// number of times) and fetches and parses it. Every failure is a gap.
async fn credential_report(
    ctx: &CollectContext<'_>,
    client: &Client,
) -> Result<CredentialReport, String> {
    let mut complete = false;
    for attempt in 0..REPORT_POLLS {
        let out = ctx
            .call(
                "GenerateCredentialReport",
                client.generate_credential_report().send(),
            )
            .await
            .map_err(|f| f.to_string())?;
        if out.state() == Some(&ReportStateType::Complete) {
            complete = true;
            break;
        }
        if attempt + 1 < REPORT_POLLS {
            tokio::time::sleep(report_poll_delay(attempt)).await;
        }
    }
    if !complete {
        let failure = CallFailure {
            kind: GapKind::Timeout,
            code: None,
            message: format!("credential report still not complete after {REPORT_POLLS} polls"),
        };
        ctx.gap("GenerateCredentialReport", &failure);
        return Err(failure.message);
    }
    let out = ctx
        .call("GetCredentialReport", client.get_credential_report().send())
        .await
        .map_err(|f| f.to_string())?;
    let parsed = out
        .content()
        .ok_or_else(|| "the credential report is empty".to_owned())
        .and_then(|content| parse_credential_report(content.as_ref()));
    match parsed {
        Ok(rows) => Ok(CredentialReport {
            generated_time: out.generated_time().copied(),
            rows,
        }),
        Err(message) => {
            let failure = CallFailure {
                kind: GapKind::Other,
                code: None,
                message,
            };
            ctx.gap("GetCredentialReport", &failure);
            Err(failure.message)
        }
    }
}

/// `GetAccountAuthorizationDetails` (users, roles, groups, customer-managed
/// policies), then `ListAccessKeys` for every user.
async fn authorization(ctx: &CollectContext<'_>, client: &Client) -> Option<Authorization> {
    let pages = ctx
        .pages(
            "GetAccountAuthorizationDetails",
            client
                .get_account_authorization_details()
                .filter(EntityType::User)
                .filter(EntityType::Role)
                .filter(EntityType::Group)
                .filter(EntityType::LocalManagedPolicy)
                .max_items(1000)
                .into_paginator()
                .send(),
        )
        .await
        .ok()?;
    let mut auth = Authorization::default();
    for page in pages {
        auth.users.extend(page.user_detail_list.unwrap_or_default());
        auth.roles.extend(page.role_detail_list.unwrap_or_default());
        auth.groups
            .extend(page.group_detail_list.unwrap_or_default());
        auth.policies.extend(page.policies.unwrap_or_default());
    }
    let names: Vec<String> = auth
        .users
        .iter()
        .filter_map(|u| u.user_name().map(str::to_owned))
        .collect();
    auth.keys = futures::stream::iter(names)
        .map(|name| async move {
            let keys = ctx
                .call(
                    "ListAccessKeys",
                    client
                        .list_access_keys()
                        .user_name(&name)
                        .max_items(1000)
                        .send(),
                )
                .await
                .map(|out| out.access_key_metadata)
                .map_err(|f| f.to_string());
            (name, keys)
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    Some(auth)
}

/// `ListRoles`, for what the authorization details omit, by role ARN.
async fn list_roles(
    ctx: &CollectContext<'_>,
    client: &Client,
) -> Result<HashMap<String, Role>, String> {
    let pages = ctx
        .pages(
            "ListRoles",
            client.list_roles().max_items(1000).into_paginator().send(),
        )
        .await
        .map_err(|f| f.to_string())?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.roles)
        .map(|r| (r.arn().to_owned(), r))
        .collect())
}

/// `ListVirtualMFADevices` (assigned or not).
async fn virtual_mfa_devices(
    ctx: &CollectContext<'_>,
    client: &Client,
) -> Result<Vec<VirtualMfaDevice>, String> {
    let pages = ctx
        .pages(
            "ListVirtualMFADevices",
            client
                .list_virtual_mfa_devices()
                .max_items(1000)
                .into_paginator()
                .send(),
        )
        .await
        .map_err(|f| f.to_string())?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.virtual_mfa_devices)
        .collect())
}

/// `ListOpenIDConnectProviders` + `GetOpenIDConnectProvider` each; emits them.
async fn oidc_providers(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(list) = ctx
        .call(
            "ListOpenIDConnectProviders",
            client.list_open_id_connect_providers().send(),
        )
        .await
    else {
        return;
    };
    let arns: Vec<String> = list
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn().map(str::to_owned))
        .collect();
    let assets = futures::stream::iter(arns)
        .map(|arn| async move {
            let detail = ctx
                .call(
                    "GetOpenIDConnectProvider",
                    client
                        .get_open_id_connect_provider()
                        .open_id_connect_provider_arn(&arn)
                        .send(),
                )
                .await
                .map_err(|f| f.to_string());
            oidc_provider_asset(
                ctx.account(),
                ctx.home_region(),
                &arn,
                detail.as_ref().map_err(String::as_str),
            )
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<_>>()
        .await;
    for asset in assets {
        ctx.emit(asset);
    }
}

/// `ListSAMLProviders`; emits them.
async fn saml_providers(ctx: &CollectContext<'_>, client: &Client) {
    if let Ok(out) = ctx
        .call("ListSAMLProviders", client.list_saml_providers().send())
        .await
    {
        for provider in out.saml_provider_list() {
            if let Some(asset) = saml_provider_asset(ctx.account(), ctx.home_region(), provider) {
                ctx.emit(asset);
            }
        }
    }
}

/// `ListServerCertificates`; emits them.
async fn server_certificates(ctx: &CollectContext<'_>, client: &Client) {
    if let Ok(pages) = ctx
        .pages(
            "ListServerCertificates",
            client
                .list_server_certificates()
                .max_items(1000)
                .into_paginator()
                .send(),
        )
        .await
    {
        for cert in pages
            .iter()
            .flat_map(|p| p.server_certificate_metadata_list())
        {
            ctx.emit(server_certificate_asset(
                ctx.account(),
                ctx.home_region(),
                cert,
            ));
        }
    }
}

/// The per-user calls for one user (see the module documentation for which).
async fn user_findings(
    ctx: &CollectContext<'_>,
    client: &Client,
    name: &str,
    row: Result<Option<&CredentialRow>, String>,
    keys: Result<Vec<AccessKeyMetadata>, String>,
    virtual_mfa: Result<Vec<String>, String>,
    row_json: &(dyn Fn(&CredentialRow) -> Value + Sync),
) -> UserFindings {
    let in_report = matches!(row, Ok(Some(_)));
    let (login_profile, mfa_devices) = if in_report {
        (None, None)
    } else {
        let (login, mfa) = futures::join!(
            ctx.call_optional(
                "GetLoginProfile",
                &["NoSuchEntity"],
                client.get_login_profile().user_name(name).send(),
            ),
            ctx.call(
                "ListMFADevices",
                client
                    .list_mfa_devices()
                    .user_name(name)
                    .max_items(1000)
                    .send(),
            ),
        );
        (
            Some(login.map(|p| p.is_some()).map_err(|f| f.to_string())),
            Some(
                mfa.map(|out| {
                    out.mfa_devices()
                        .iter()
                        .map(|d| d.serial_number().to_owned())
                        .collect()
                })
                .map_err(|f| f.to_string()),
            ),
        )
    };

    let mut key_last_used_errors = Vec::new();
    let access_keys = match keys {
        Err(err) => Err(err),
        Ok(keys) => {
            let mut values = Vec::with_capacity(keys.len());
            for key in &keys {
                let from_report = row
                    .as_ref()
                    .ok()
                    .copied()
                    .flatten()
                    .and_then(|r| report_key_last_used(r, key, &keys));
                let last_used = match (from_report, key.access_key_id()) {
                    (Some(value), _) => value,
                    (None, None) => Value::Null,
                    (None, Some(id)) => match ctx
                        .call(
                            "GetAccessKeyLastUsed",
                            client.get_access_key_last_used().access_key_id(id).send(),
                        )
                        .await
                    {
                        Ok(out) => out
                            .access_key_last_used()
                            .map_or(Value::Null, access_key_last_used_json),
                        Err(failure) => {
                            key_last_used_errors.push(format!("{id}: {failure}"));
                            Value::Null
                        }
                    },
                };
                values.push(access_key_json(key, last_used));
            }
            Ok(values)
        }
    };

    UserFindings {
        report: row.map(|r| r.map(row_json)),
        login_profile,
        mfa_devices,
        virtual_mfa,
        access_keys,
        key_last_used_errors,
    }
}

/// Group name → names of its member users, from the users' group lists.
fn group_members(users: &[UserDetail]) -> HashMap<String, Vec<String>> {
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for user in users {
        let name = user.user_name().unwrap_or_default();
        for group in user.group_list() {
            members
                .entry(group.clone())
                .or_default()
                .push(name.to_owned());
        }
    }
    for names in members.values_mut() {
        names.sort();
    }
    members
}

// ---------------------------------------------------------------------------
// Pure mapping functions.
// ---------------------------------------------------------------------------

/// The account summary asset: `{"summaryMap": {"Users": 2, "AccountMFAEnabled": 1, …}}`.
/// `Err`: the call failed; `summaryMap` is `null` and unavailable.
pub fn account_summary_asset(
    account: &str,
    region: &str,
    summary: Result<&HashMap<SummaryKeyType, i32>, &str>,
) -> Asset {
    let map = summary.map(|s| {
        s.iter()
            .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
            .collect::<Map<String, Value>>()
    });
    let mut asset = Asset::new(
        setting_id("iam", region, account, "account-summary"),
        types::IAM_ACCOUNT_SUMMARY,
        account,
        region,
        "account-summary",
        json!({ "summaryMap": map.clone().map_or(Value::Null, Value::Object) }),
    );
    if let Err(err) = summary {
        asset.mark_unavailable("summaryMap", err);
    }
    asset
}

/// The password policy asset. `Ok(None)`: no policy is set (`{"configured": false}`);
/// `Err`: the call failed (`configured` is `null` and unavailable).
pub fn password_policy_asset(
    account: &str,
    region: &str,
    policy: Result<Option<&PasswordPolicy>, &str>,
) -> Asset {
    let properties = match policy {
        Ok(Some(p)) => json!({
            "configured": true,
            "minimumPasswordLength": p.minimum_password_length(),
            "requireSymbols": p.require_symbols(),
            "requireNumbers": p.require_numbers(),
            "requireUppercaseCharacters": p.require_uppercase_characters(),
            "requireLowercaseCharacters": p.require_lowercase_characters(),
            "allowUsersToChangePassword": p.allow_users_to_change_password(),
            "expirePasswords": p.expire_passwords(),
            "maxPasswordAge": p.max_password_age(),
            "passwordReusePrevention": p.password_reuse_prevention(),
            "hardExpiry": p.hard_expiry(),
        }),
        Ok(None) => json!({ "configured": false }),
        Err(_) => json!({ "configured": null }),
    };
    let mut asset = Asset::new(
        setting_id("iam", region, account, "password-policy"),
        types::IAM_PASSWORD_POLICY,
        account,
        region,
        "password-policy",
        properties,
    );
    if let Err(err) = policy {
        asset.mark_unavailable("configured", err);
    }
    asset
}

/// Parses the credential report's CSV.
pub fn parse_credential_report(content: &[u8]) -> Result<Vec<CredentialRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(content);
    let headers = reader
        .headers()
        .map_err(|e| format!("unreadable credential report: {e}"))?
        .clone();
    if !headers.iter().any(|h| h == "user") || !headers.iter().any(|h| h == "arn") {
        return Err("the credential report has no `user`/`arn` columns".to_owned());
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("unreadable credential report: {e}"))?;
        let fields: BTreeMap<String, String> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_owned(), v.to_owned()))
            .collect();
        rows.push(CredentialRow {
            user: fields.get("user").cloned().unwrap_or_default(),
            arn: fields.get("arn").cloned().unwrap_or_default(),
            fields,
        });
    }
    Ok(rows)
}

/// `snake_case` → `camelCase` (`access_key_1_last_used_date` → `accessKey1LastUsedDate`).
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for (i, part) in snake.split('_').enumerate() {
        if i == 0 {
            out.push_str(part);
            continue;
        }
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// A credential report date (`2024-01-02T03:04:05+00:00`).
fn report_date(text: &str) -> Option<DateTime> {
    DateTime::from_str(text, Format::DateTimeWithOffset).ok()
}

/// One credential report value as JSON: `true`/`false` as booleans, `N/A`,
/// `not_supported` and `no_information` as `null`, dates as RFC 3339.
fn report_value(text: &str) -> Value {
    match text {
        "true" | "TRUE" => Value::Bool(true),
        "false" | "FALSE" => Value::Bool(false),
        "" | "N/A" | "not_supported" | "no_information" => Value::Null,
        _ => report_date(text).map_or_else(|| Value::String(text.to_owned()), |dt| timestamp(&dt)),
    }
}

/// A credential report row as JSON, every column but `user` and `arn` in
/// camelCase (`passwordEnabled`, `passwordLastUsed`, `mfaActive`,
/// `accessKey1Active`, `accessKey1LastRotated`, `accessKey1LastUsedDate`, …,
/// `cert1Active`, …) plus the report's `generatedTime`.
pub fn credential_row_json(row: &CredentialRow, generated: Option<&DateTime>) -> Value {
    let mut map: Map<String, Value> = row
        .fields
        .iter()
        .filter(|(k, _)| k.as_str() != "user" && k.as_str() != "arn")
        .map(|(k, v)| (camel_case(k), report_value(v)))
        .collect();
    map.insert("generatedTime".to_owned(), opt_timestamp(generated));
    Value::Object(map)
}

/// The last use of `key` as the credential report has it, when the report
/// identifies the key unambiguously: exactly one of the row's two key slots
/// was created in the same second as `key`, and no other key of the user
/// (`user_keys`) was. `None`: ask `GetAccessKeyLastUsed`.
pub fn report_key_last_used(
    row: &CredentialRow,
    key: &AccessKeyMetadata,
    user_keys: &[AccessKeyMetadata],
) -> Option<Value> {
    let created = key.create_date()?.secs();
    let same_second = user_keys
        .iter()
        .filter(|k| k.create_date().map(DateTime::secs) == Some(created))
        .count();
    if same_second != 1 {
        return None;
    }
    let mut slots = [1, 2].into_iter().filter(|n| {
        row.field(&format!("access_key_{n}_last_rotated"))
            .and_then(report_date)
            .map(|d| d.secs())
            == Some(created)
    });
    let slot = slots.next()?;
    if slots.next().is_some() {
        return None;
    }
    let value = |suffix: &str| {
        row.field(&format!("access_key_{slot}_{suffix}"))
            .map_or(Value::Null, report_value)
    };
    Some(json!({
        "lastUsedDate": value("last_used_date"),
        "serviceName": value("last_used_service"),
        "region": value("last_used_region"),
        "source": "credentialReport",
    }))
}

/// `GetAccessKeyLastUsed`'s answer as JSON (`N/A` service/region as `null`).
pub fn access_key_last_used_json(used: &AccessKeyLastUsed) -> Value {
    json!({
        "lastUsedDate": opt_timestamp(used.last_used_date()),
        "serviceName": report_value(used.service_name()),
        "region": report_value(used.region()),
        "source": "GetAccessKeyLastUsed",
    })
}

/// One access key as JSON, with its last use (`null`: unknown).
pub fn access_key_json(key: &AccessKeyMetadata, last_used: Value) -> Value {
    json!({
        "accessKeyId": key.access_key_id(),
        "status": key.status().map(|s| s.as_str()),
        "createDate": opt_timestamp(key.create_date()),
        "accessKeyLastUsed": last_used,
    })
}

/// What the collector found about one user besides its authorization details.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFindings {
    /// The user's credential report row ([`credential_row_json`]); `Ok(None)`:
    /// the report has no row for the user; `Err`: the report is unavailable.
    pub report: Result<Option<Value>, String>,
    /// `GetLoginProfile` (called only without a report row): whether the user
    /// has a console password.
    pub login_profile: Option<Result<bool, String>>,
    /// `ListMFADevices` (called only without a report row): serial numbers.
    pub mfa_devices: Option<Result<Vec<String>, String>>,
    /// Serial numbers of the virtual MFA devices assigned to the user; `Err`:
    /// `ListVirtualMFADevices` failed.
    pub virtual_mfa: Result<Vec<String>, String>,
    /// The user's access keys ([`access_key_json`]); `Err`: `ListAccessKeys` failed.
    pub access_keys: Result<Vec<Value>, String>,
    /// Failed `GetAccessKeyLastUsed` calls for the user's keys.
    pub key_last_used_errors: Vec<String>,
}

fn tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (Some(t.key()), Some(t.value()))))
}

fn attached_policies(policies: &[AttachedPolicy]) -> Value {
    Value::Array(
        policies
            .iter()
            .map(|p| json!({ "policyName": p.policy_name(), "policyArn": p.policy_arn() }))
            .collect(),
    )
}

fn inline_policies(policies: &[PolicyDetail]) -> Value {
    Value::Array(
        policies
            .iter()
            .map(|p| {
                json!({
                    "policyName": p.policy_name(),
                    "policyDocument": p.policy_document().map_or(Value::Null, policy_document),
                })
            })
            .collect(),
    )
}

fn permissions_boundary(boundary: Option<&AttachedPermissionsBoundary>) -> Value {
    boundary.map_or(Value::Null, |b| {
        json!({
            "permissionsBoundaryType": b.permissions_boundary_type().map(|t| t.as_str()),
            "permissionsBoundaryArn": b.permissions_boundary_arn(),
        })
    })
}

/// A user: identity, groups, attached and inline policies, console password,
/// MFA (`mfaActive`, `virtualMfaDevices`, `hardwareMfa`), access keys with
/// last use, and the credential report row. Whatever could not be read is
/// `null` and marked unavailable.
pub fn user_asset(account: &str, region: &str, user: &UserDetail, found: &UserFindings) -> Asset {
    let name = user.user_name().unwrap_or_default();
    let arn = user.arn().unwrap_or_default();
    let row = found.report.as_ref().ok().and_then(Option::as_ref);
    let row_bool = |key: &str| row.and_then(|r| r.get(key)).and_then(Value::as_bool);
    let no_row_reason = match &found.report {
        Err(err) => format!("credential report unavailable: {err}"),
        Ok(_) => "not in the credential report and not collected otherwise".to_owned(),
    };
    let mut unavailable: Vec<(&str, String)> = Vec::new();

    // Console password: the live call when made, else the report.
    let password_enabled = match (&found.login_profile, row_bool("passwordEnabled")) {
        (Some(Ok(has)), _) => Some(*has),
        (Some(Err(err)), _) => {
            unavailable.push(("passwordEnabled", err.clone()));
            None
        }
        (None, Some(enabled)) => Some(enabled),
        (None, None) => {
            unavailable.push(("passwordEnabled", no_row_reason.clone()));
            None
        }
    };

    let virtual_serials = found.virtual_mfa.as_ref().ok();
    let has_virtual = virtual_serials.is_some_and(|v| !v.is_empty());
    let mfa_active = match (&found.mfa_devices, row_bool("mfaActive")) {
        (Some(Ok(devices)), _) => Some(!devices.is_empty() || has_virtual),
        (Some(Err(err)), _) => {
            unavailable.push(("mfaActive", err.clone()));
            None
        }
        (None, Some(active)) => Some(active || has_virtual),
        (None, None) => {
            unavailable.push(("mfaActive", no_row_reason.clone()));
            None
        }
    };
    let hardware_mfa = match (&found.virtual_mfa, &found.mfa_devices, mfa_active) {
        (Err(err), _, _) => {
            unavailable.push(("virtualMfaDevices", err.clone()));
            unavailable.push(("hardwareMfa", err.clone()));
            None
        }
        (Ok(virtual_serials), Some(Ok(devices)), _) => {
            Some(devices.iter().any(|s| !virtual_serials.contains(s)))
        }
        (Ok(virtual_serials), _, Some(active)) => Some(active && virtual_serials.is_empty()),
        (Ok(_), _, None) => {
            unavailable.push(("hardwareMfa", "MFA state unknown".to_owned()));
            None
        }
    };

    let access_keys = match &found.access_keys {
        Ok(keys) => Value::Array(keys.clone()),
        Err(err) => {
            unavailable.push(("accessKeys", err.clone()));
            Value::Null
        }
    };
    if !found.key_last_used_errors.is_empty() {
        unavailable.push(("accessKeyLastUsed", found.key_last_used_errors.join("; ")));
    }
    if let Err(err) = &found.report {
        unavailable.push(("credentialReport", err.clone()));
    }

    let mut asset = Asset::new(
        arn,
        USER,
        account,
        region,
        name,
        json!({
            "userName": name,
            "userId": user.user_id(),
            "arn": arn,
            "path": user.path(),
            "createDate": opt_timestamp(user.create_date()),
            "groupList": str_list(user.group_list()),
            "attachedManagedPolicies": attached_policies(user.attached_managed_policies()),
            "userPolicyList": inline_policies(user.user_policy_list()),
            "permissionsBoundary": permissions_boundary(user.permissions_boundary()),
            "passwordEnabled": password_enabled,
            "mfaActive": mfa_active,
            "virtualMfaDevices": virtual_serials.map_or(Value::Null, |v| str_list(v)),
            "hardwareMfa": hardware_mfa,
            "accessKeys": access_keys,
            "credentialReport": row.cloned().unwrap_or(Value::Null),
        }),
    )
    .with_tags(tags(user.tags()));
    for (key, err) in unavailable {
        asset.mark_unavailable(key, err);
    }
    asset
}

/// The root user: the summary's `AccountMFAEnabled` / `AccountAccessKeysPresent` /
/// `AccountSigningCertificatesPresent`, whether a virtual MFA device is assigned
/// (`virtualMfa`; `hardwareMfa` when MFA is on without one), and the credential
/// report's `<root_account>` row (`Ok(None)`: the report has no such row, which is
/// marked unavailable — emulators have no root user).
pub fn root_account_asset(
    account: &str,
    region: &str,
    arn: &str,
    report: Result<Option<Value>, String>,
    summary: Result<&HashMap<SummaryKeyType, i32>, String>,
    virtual_mfa: Result<bool, String>,
) -> Asset {
    let flag = |key: SummaryKeyType| -> Value {
        summary
            .as_ref()
            .ok()
            .and_then(|s| s.get(&key))
            .map_or(Value::Null, |v| Value::Bool(*v > 0))
    };
    let mfa_enabled = flag(SummaryKeyType::AccountMfaEnabled);
    let hardware = match (mfa_enabled.as_bool(), &virtual_mfa) {
        (Some(enabled), Ok(has_virtual)) => Value::Bool(enabled && !has_virtual),
        _ => Value::Null,
    };
    let mut asset = Asset::new(
        arn,
        types::IAM_ROOT_ACCOUNT,
        account,
        region,
        "root",
        json!({
            "arn": arn,
            "accountMfaEnabled": mfa_enabled,
            "accountAccessKeysPresent": flag(SummaryKeyType::AccountAccessKeysPresent),
            "accountSigningCertificatesPresent": flag(SummaryKeyType::AccountSigningCertificatesPresent),
            "virtualMfa": virtual_mfa.as_ref().ok(),
            "hardwareMfa": hardware,
            "credentialReport": report.as_ref().ok().cloned().flatten(),
        }),
    );
    match report {
        Err(err) => asset.mark_unavailable("credentialReport", err),
        Ok(None) => asset.mark_unavailable(
            "credentialReport",
            "the credential report has no <root_account> row",
        ),
        Ok(Some(_)) => {}
    }
    if let Err(err) = &summary {
        for key in [
            "accountMfaEnabled",
            "accountAccessKeysPresent",
            "accountSigningCertificatesPresent",
            "hardwareMfa",
        ] {
            asset.mark_unavailable(key, err.clone());
        }
    } else if mfa_enabled.is_null() {
        asset.mark_unavailable(
            "accountMfaEnabled",
            "GetAccountSummary has no AccountMFAEnabled",
        );
        asset.mark_unavailable("hardwareMfa", "GetAccountSummary has no AccountMFAEnabled");
    }
    if let Err(err) = &virtual_mfa {
        asset.mark_unavailable("virtualMfa", err.clone());
        asset.mark_unavailable("hardwareMfa", err.clone());
    }
    asset
}

/// A role: trust policy (`assumeRolePolicyDocument`, parsed), attached and
/// inline policies, instance profiles, permissions boundary, last use, and
/// from `ListRoles` (`listed`) `maxSessionDuration` and `description`
/// (`Ok(None)`: the role was not listed; `Err`: `ListRoles` failed — both
/// marked unavailable).
pub fn role_asset(
    account: &str,
    region: &str,
    role: &RoleDetail,
    listed: Result<Option<&Role>, &str>,
) -> Asset {
    let name = role.role_name().unwrap_or_default();
    let arn = role.arn().unwrap_or_default();
    let listed_role = listed.ok().flatten();
    let mut asset = Asset::new(
        arn,
        ROLE,
        account,
        region,
        name,
        json!({
            "roleName": name,
            "roleId": role.role_id(),
            "arn": arn,
            "path": role.path(),
            "createDate": opt_timestamp(role.create_date()),
            "assumeRolePolicyDocument": role.assume_role_policy_document().map_or(Value::Null, policy_document),
            "attachedManagedPolicies": attached_policies(role.attached_managed_policies()),
            "rolePolicyList": inline_policies(role.role_policy_list()),
            "permissionsBoundary": permissions_boundary(role.permissions_boundary()),
            "instanceProfileList": role.instance_profile_list().iter().map(|p| json!({
                "instanceProfileName": p.instance_profile_name(),
                "instanceProfileId": p.instance_profile_id(),
                "arn": p.arn(),
                "path": p.path(),
            })).collect::<Vec<_>>(),
            "roleLastUsed": role.role_last_used().map_or(Value::Null, |u| json!({
                "lastUsedDate": opt_timestamp(u.last_used_date()),
                "region": u.region(),
            })),
            "maxSessionDuration": listed_role.and_then(Role::max_session_duration),
            "description": opt_str(listed_role.and_then(Role::description)),
        }),
    )
    .with_tags(tags(role.tags()));
    let missing = match listed {
        Err(err) => Some(err.to_owned()),
        Ok(None) => Some("the role was not returned by ListRoles".to_owned()),
        Ok(Some(_)) => None,
    };
    if let Some(err) = missing {
        asset.mark_unavailable("maxSessionDuration", err.clone());
        asset.mark_unavailable("description", err);
    }
    asset
}

/// A group: attached and inline policies and its member users (`users`).
pub fn group_asset(account: &str, region: &str, group: &GroupDetail, users: &[String]) -> Asset {
    let name = group.group_name().unwrap_or_default();
    let arn = group.arn().unwrap_or_default();
    Asset::new(
        arn,
        GROUP,
        account,
        region,
        name,
        json!({
            "groupName": name,
            "groupId": group.group_id(),
            "arn": arn,
            "path": group.path(),
            "createDate": opt_timestamp(group.create_date()),
            "attachedManagedPolicies": attached_policies(group.attached_managed_policies()),
            "groupPolicyList": inline_policies(group.group_policy_list()),
            "users": str_list(users),
        }),
    )
}

/// A customer-managed policy with every version's document parsed and the
/// default one as `defaultVersionDocument`.
pub fn managed_policy_asset(account: &str, region: &str, policy: &ManagedPolicyDetail) -> Asset {
    let arn = policy.arn().unwrap_or_default();
    let name = policy.policy_name().unwrap_or_else(|| arn_name(arn));
    let versions = policy.policy_version_list();
    let default = versions
        .iter()
        .find(|v| v.is_default_version())
        .or_else(|| {
            versions
                .iter()
                .find(|v| v.version_id().is_some() && v.version_id() == policy.default_version_id())
        });
    let mut asset = Asset::new(
        arn,
        MANAGED_POLICY,
        account,
        region,
        name,
        json!({
            "policyName": name,
            "policyId": policy.policy_id(),
            "arn": arn,
            "path": policy.path(),
            "defaultVersionId": policy.default_version_id(),
            "attachmentCount": policy.attachment_count(),
            "permissionsBoundaryUsageCount": policy.permissions_boundary_usage_count(),
            "isAttachable": policy.is_attachable(),
            "description": policy.description(),
            "createDate": opt_timestamp(policy.create_date()),
            "updateDate": opt_timestamp(policy.update_date()),
            "defaultVersionDocument": default.and_then(|v| v.document()).map_or(Value::Null, policy_document),
            "policyVersionList": versions.iter().map(|v| json!({
                "versionId": v.version_id(),
                "isDefaultVersion": v.is_default_version(),
                "createDate": opt_timestamp(v.create_date()),
                "document": v.document().map_or(Value::Null, policy_document),
            })).collect::<Vec<_>>(),
        }),
    );
    if default.and_then(|v| v.document()).is_none() {
        asset.mark_unavailable(
            "defaultVersionDocument",
            "GetAccountAuthorizationDetails returned no default version document",
        );
    }
    asset
}

/// An OIDC provider: `url`, `clientIDList`, `thumbprintList`. `Err`: the
/// `GetOpenIDConnectProvider` call failed; those are `null` and unavailable.
pub fn oidc_provider_asset(
    account: &str,
    region: &str,
    arn: &str,
    detail: Result<&GetOpenIdConnectProviderOutput, &str>,
) -> Asset {
    let mut asset = match detail {
        Ok(d) => Asset::new(
            arn,
            OIDC_PROVIDER,
            account,
            region,
            d.url().unwrap_or_else(|| arn_name(arn)),
            json!({
                "arn": arn,
                "url": d.url(),
                "clientIDList": str_list(d.client_id_list()),
                "thumbprintList": str_list(d.thumbprint_list()),
                "createDate": opt_timestamp(d.create_date()),
            }),
        )
        .with_tags(tags(d.tags())),
        Err(_) => Asset::new(
            arn,
            OIDC_PROVIDER,
            account,
            region,
            oidc_name(arn),
            json!({
                "arn": arn,
                "url": null,
                "clientIDList": null,
                "thumbprintList": null,
                "createDate": null,
            }),
        ),
    };
    if let Err(err) = detail {
        for key in ["url", "clientIDList", "thumbprintList"] {
            asset.mark_unavailable(key, err);
        }
    }
    asset
}

/// The provider URL part of an OIDC provider ARN (`…:oidc-provider/host/path`).
fn oidc_name(arn: &str) -> &str {
    arn.split_once(":oidc-provider/")
        .map_or(arn, |(_, url)| url)
}

/// A SAML provider from `ListSAMLProviders` (`validUntil`, `createDate`);
/// `None` for an entry without an ARN.
pub fn saml_provider_asset(
    account: &str,
    region: &str,
    provider: &SamlProviderListEntry,
) -> Option<Asset> {
    let arn = provider.arn()?;
    Some(Asset::new(
        arn,
        SAML_PROVIDER,
        account,
        region,
        arn_name(arn),
        json!({
            "arn": arn,
            "validUntil": opt_timestamp(provider.valid_until()),
            "createDate": opt_timestamp(provider.create_date()),
        }),
    ))
}

/// A server certificate (`expiration`, `uploadDate`).
pub fn server_certificate_asset(
    account: &str,
    region: &str,
    cert: &ServerCertificateMetadata,
) -> Asset {
    Asset::new(
        cert.arn(),
        SERVER_CERTIFICATE,
        account,
        region,
        cert.server_certificate_name(),
        json!({
            "serverCertificateName": cert.server_certificate_name(),
            "serverCertificateId": cert.server_certificate_id(),
            "arn": cert.arn(),
            "path": cert.path(),
            "uploadDate": opt_timestamp(cert.upload_date()),
            "expiration": opt_timestamp(cert.expiration()),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::types::{InstanceProfile, PolicyVersion, RoleLastUsed, StatusType};

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "us-east-1";

    /// A credential report as AWS writes it (root row first).
    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2015-01-01T00:00:00+00:00,not_supported,2024-05-01T10:00:00+00:00,not_supported,not_supported,false,true,2016-02-02T00:00:00+00:00,2024-04-30T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2020-01-01T00:00:00+00:00,true,no_information,2020-01-01T00:00:00+00:00,N/A,false,true,2020-01-02T03:04:05+00:00,2024-04-01T12:00:00+00:00,eu-west-1,ec2,false,2021-06-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
bob,arn:aws:iam::123456789012:user/eng/bob,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    fn dt(text: &str) -> DateTime {
        DateTime::from_str(text, Format::DateTime).unwrap()
    }

    fn rows() -> Vec<CredentialRow> {
        parse_credential_report(REPORT.as_bytes()).unwrap()
    }

    fn row(user: &str) -> CredentialRow {
        rows().into_iter().find(|r| r.user == user).unwrap()
    }

    fn key(id: &str, status: StatusType, created: &str) -> AccessKeyMetadata {
        AccessKeyMetadata::builder()
            .user_name("alice")
            .access_key_id(id)
            .status(status)
            .create_date(dt(created))
            .build()
    }

    const ADMIN_DOC_ENCODED: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

    fn user(name: &str) -> UserDetail {
        UserDetail::builder()
            .user_name(name)
            .user_id(format!("AIDA{name}"))
            .arn(format!("arn:aws:iam::{ACCOUNT}:user/{name}"))
            .path("/")
            .create_date(dt("2020-01-01T00:00:00Z"))
            .build()
    }

    fn findings(report: Result<Option<Value>, String>) -> UserFindings {
        UserFindings {
            report,
            login_profile: None,
            mfa_devices: None,
            virtual_mfa: Ok(vec![]),
            access_keys: Ok(vec![]),
            key_last_used_errors: vec![],
        }
    }

    #[test]
    fn account_summary_maps_every_key_and_marks_failures() {
        let mut map = HashMap::new();
        map.insert(SummaryKeyType::Users, 3);
        map.insert(SummaryKeyType::AccountMfaEnabled, 0);
        let asset = account_summary_asset(ACCOUNT, REGION, Ok(&map));
        assert_eq!(
            asset.arn,
            "arn:rampart:iam:us-east-1:123456789012:account-summary"
        );
        assert_eq!(asset.resource_type, "Rampart::IAM::AccountSummary");
        assert_eq!(asset.properties["summaryMap"]["Users"], 3);
        assert_eq!(asset.properties["summaryMap"]["AccountMFAEnabled"], 0);
        assert!(asset.unavailable.is_empty());

        let failed = account_summary_asset(ACCOUNT, REGION, Err("AccessDenied (HTTP 403)"));
        assert!(failed.properties["summaryMap"].is_null());
        assert_eq!(failed.unavailable["summaryMap"], "AccessDenied (HTTP 403)");
    }

    #[test]
    fn password_policy_configured_absent_and_unavailable() {
        let strong = PasswordPolicy::builder()
            .minimum_password_length(14)
            .require_symbols(true)
            .require_numbers(true)
            .require_uppercase_characters(true)
            .require_lowercase_characters(true)
            .allow_users_to_change_password(true)
            .expire_passwords(true)
            .max_password_age(90)
            .password_reuse_prevention(24)
            .hard_expiry(false)
            .build();
        let asset = password_policy_asset(ACCOUNT, REGION, Ok(Some(&strong)));
        assert_eq!(asset.resource_type, "Rampart::IAM::PasswordPolicy");
        assert_eq!(
            asset.arn,
            "arn:rampart:iam:us-east-1:123456789012:password-policy"
        );
        let p = &asset.properties;
        assert_eq!(p["configured"], true);
        assert_eq!(p["minimumPasswordLength"], 14);
        assert_eq!(p["requireSymbols"], true);
        assert_eq!(p["maxPasswordAge"], 90);
        assert_eq!(p["passwordReusePrevention"], 24);
        assert_eq!(p["hardExpiry"], false);

        let weak = PasswordPolicy::builder().minimum_password_length(6).build();
        let asset = password_policy_asset(ACCOUNT, REGION, Ok(Some(&weak)));
        assert_eq!(asset.properties["minimumPasswordLength"], 6);
        assert_eq!(asset.properties["requireSymbols"], false);
        assert!(asset.properties["passwordReusePrevention"].is_null());

        let none = password_policy_asset(ACCOUNT, REGION, Ok(None));
        assert_eq!(none.properties, json!({ "configured": false }));
        assert!(none.unavailable.is_empty());

        let failed = password_policy_asset(ACCOUNT, REGION, Err("AccessDenied"));
        assert!(failed.properties["configured"].is_null());
        assert_eq!(failed.unavailable["configured"], "AccessDenied");
    }

    #[test]
    fn credential_report_parses_to_camel_case_typed_values() {
        let rows = rows();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].user, "<root_account>");
        assert_eq!(rows[2].arn, "arn:aws:iam::123456789012:user/eng/bob");

        let generated = dt("2024-05-02T00:00:00Z");
        let alice = credential_row_json(&row("alice"), Some(&generated));
        assert_eq!(alice["passwordEnabled"], true);
        assert!(
            alice["passwordLastUsed"].is_null(),
            "no_information is null"
        );
        assert_eq!(alice["mfaActive"], false);
        assert_eq!(alice["accessKey1Active"], true);
        assert_eq!(alice["accessKey1LastRotated"], "2020-01-02T03:04:05Z");
        assert_eq!(alice["accessKey1LastUsedDate"], "2024-04-01T12:00:00Z");
        assert_eq!(alice["accessKey1LastUsedService"], "ec2");
        assert_eq!(alice["accessKey2Active"], false);
        assert!(alice["accessKey2LastUsedDate"].is_null());
        assert_eq!(alice["cert1Active"], false);
        assert_eq!(alice["generatedTime"], "2024-05-02T00:00:00Z");
        assert!(alice.get("user").is_none() && alice.get("arn").is_none());

        let bob = credential_row_json(&row("bob"), None);
        assert_eq!(bob["passwordEnabled"], false);
        assert_eq!(bob["mfaActive"], true);
        assert!(bob["generatedTime"].is_null());
    }

    #[test]
    fn credential_report_rejects_garbage() {
        assert!(parse_credential_report(b"not,a,report\n1,2,3\n").is_err());
        assert_eq!(
            parse_credential_report(b"user,arn\n").map(|r| r.len()),
            Ok(0)
        );
    }

    #[test]
    fn camel_case_and_helpers() {
        assert_eq!(
            camel_case("access_key_1_last_used_date"),
            "accessKey1LastUsedDate"
        );
        assert_eq!(camel_case("cert_2_active"), "cert2Active");
        assert_eq!(camel_case("mfa_active"), "mfaActive");
        assert_eq!(report_poll_delay(0), Duration::from_millis(500));
        assert_eq!(report_poll_delay(2), Duration::from_secs(2));
        assert_eq!(report_poll_delay(30), Duration::from_secs(4));
        assert_eq!(
            oidc_name("arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB"),
            "oidc.eks.us-east-1.amazonaws.com/id/AB"
        );
    }

    #[test]
    fn report_matches_keys_by_creation_second_only_when_unambiguous() {
        let alice = row("alice");
        let k1 = key("AKIA1", StatusType::Active, "2020-01-02T03:04:05.250Z");
        let k2 = key("AKIA2", StatusType::Inactive, "2021-06-01T00:00:00Z");
        let keys = vec![k1.clone(), k2.clone()];
        let used = report_key_last_used(&alice, &k1, &keys).unwrap();
        assert_eq!(used["lastUsedDate"], "2024-04-01T12:00:00Z");
        assert_eq!(used["serviceName"], "ec2");
        assert_eq!(used["region"], "eu-west-1");
        assert_eq!(used["source"], "credentialReport");
        let never = report_key_last_used(&alice, &k2, &keys).unwrap();
        assert!(never["lastUsedDate"].is_null());

        // Created after the report: no slot matches.
        let new = key("AKIA3", StatusType::Active, "2024-06-01T00:00:00Z");
        assert_eq!(
            report_key_last_used(&alice, &new, &[k1.clone(), new.clone()]),
            None
        );
        // Two keys in the same second: ambiguous.
        let twin = key("AKIA4", StatusType::Active, "2020-01-02T03:04:05.900Z");
        assert_eq!(report_key_last_used(&alice, &k1, &[k1.clone(), twin]), None);
    }

    #[test]
    fn access_key_json_with_last_use_from_the_api() {
        let used = AccessKeyLastUsed::builder()
            .last_used_date(dt("2024-01-01T00:00:00Z"))
            .service_name("s3")
            .region("us-west-2")
            .build()
            .unwrap();
        let never = AccessKeyLastUsed::builder()
            .service_name("N/A")
            .region("N/A")
            .build()
            .unwrap();
        let key = key("AKIA1", StatusType::Active, "2019-01-01T00:00:00Z");
        let value = access_key_json(&key, access_key_last_used_json(&used));
        assert_eq!(value["accessKeyId"], "AKIA1");
        assert_eq!(value["status"], "Active");
        assert_eq!(value["createDate"], "2019-01-01T00:00:00Z");
        assert_eq!(
            value["accessKeyLastUsed"]["lastUsedDate"],
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(value["accessKeyLastUsed"]["serviceName"], "s3");
        assert_eq!(value["accessKeyLastUsed"]["source"], "GetAccessKeyLastUsed");
        let value = access_key_last_used_json(&never);
        assert!(
            value["lastUsedDate"].is_null()
                && value["serviceName"].is_null()
                && value["region"].is_null()
        );
    }

    #[test]
    fn user_with_password_without_mfa_and_admin_policies() {
        let detail = UserDetail::builder()
            .user_name("alice")
            .user_id("AIDAALICE")
            .arn("arn:aws:iam::123456789012:user/alice")
            .path("/")
            .create_date(dt("2020-01-01T00:00:00Z"))
            .group_list("admins")
            .attached_managed_policies(
                AttachedPolicy::builder()
                    .policy_name("AdministratorAccess")
                    .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
                    .build(),
            )
            .user_policy_list(
                PolicyDetail::builder()
                    .policy_name("inline-admin")
                    .policy_document(ADMIN_DOC_ENCODED)
                    .build(),
            )
            .tags(Tag::builder().key("team").value("sec").build().unwrap())
            .build();
        let k1 = key("AKIA1", StatusType::Active, "2020-01-02T03:04:05Z");
        let report_row = credential_row_json(&row("alice"), None);
        let found = UserFindings {
            access_keys: Ok(vec![access_key_json(
                &k1,
                report_key_last_used(&row("alice"), &k1, std::slice::from_ref(&k1)).unwrap(),
            )]),
            ..findings(Ok(Some(report_row)))
        };
        let asset = user_asset(ACCOUNT, REGION, &detail, &found);
        assert_eq!(asset.arn, "arn:aws:iam::123456789012:user/alice");
        assert_eq!(asset.resource_type, "AWS::IAM::User");
        assert_eq!(asset.name, "alice");
        assert_eq!(asset.tags["team"], "sec");
        let p = &asset.properties;
        assert_eq!(p["passwordEnabled"], true);
        assert_eq!(p["mfaActive"], false);
        assert_eq!(p["hardwareMfa"], false);
        assert_eq!(p["virtualMfaDevices"], json!([]));
        assert_eq!(p["groupList"], json!(["admins"]));
        assert_eq!(
            p["attachedManagedPolicies"][0]["policyArn"],
            "arn:aws:iam::aws:policy/AdministratorAccess"
        );
        assert_eq!(p["userPolicyList"][0]["policyName"], "inline-admin");
        assert_eq!(
            p["userPolicyList"][0]["policyDocument"]["Statement"][0]["Action"],
            "*"
        );
        assert_eq!(p["accessKeys"][0]["accessKeyId"], "AKIA1");
        assert_eq!(
            p["accessKeys"][0]["accessKeyLastUsed"]["serviceName"],
            "ec2"
        );
        assert_eq!(p["credentialReport"]["accessKey1Active"], true);
        assert!(p["permissionsBoundary"].is_null());
        assert!(asset.unavailable.is_empty(), "{:?}", asset.unavailable);
    }

    #[test]
    fn user_with_hardware_or_virtual_mfa_and_no_password() {
        let bob = user("bob");
        let report_row = credential_row_json(&row("bob"), None);
        let hardware = user_asset(
            ACCOUNT,
            REGION,
            &bob,
            &findings(Ok(Some(report_row.clone()))),
        );
        assert_eq!(hardware.properties["passwordEnabled"], false);
        assert_eq!(hardware.properties["mfaActive"], true);
        assert_eq!(hardware.properties["hardwareMfa"], true);
        assert_eq!(hardware.properties["accessKeys"], json!([]));

        let serial = "arn:aws:iam::123456789012:mfa/bob".to_owned();
        let found = UserFindings {
            virtual_mfa: Ok(vec![serial.clone()]),
            ..findings(Ok(Some(report_row)))
        };
        let virtual_only = user_asset(ACCOUNT, REGION, &bob, &found);
        assert_eq!(virtual_only.properties["mfaActive"], true);
        assert_eq!(virtual_only.properties["hardwareMfa"], false);
        assert_eq!(
            virtual_only.properties["virtualMfaDevices"],
            json!([serial])
        );
    }

    #[test]
    fn user_missing_from_the_report_uses_live_calls() {
        let serial = "arn:aws:iam::123456789012:mfa/carol".to_owned();
        let found = UserFindings {
            login_profile: Some(Ok(true)),
            mfa_devices: Some(Ok(vec![serial.clone(), "GAHT12345678".to_owned()])),
            virtual_mfa: Ok(vec![serial]),
            ..findings(Ok(None))
        };
        let asset = user_asset(ACCOUNT, REGION, &user("carol"), &found);
        assert_eq!(asset.properties["passwordEnabled"], true);
        assert_eq!(asset.properties["mfaActive"], true);
        assert_eq!(asset.properties["hardwareMfa"], true);
        assert!(asset.properties["credentialReport"].is_null());
        assert!(asset.unavailable.is_empty(), "{:?}", asset.unavailable);

        let found = UserFindings {
            login_profile: Some(Ok(false)),
            mfa_devices: Some(Ok(vec![])),
            ..findings(Ok(None))
        };
        let asset = user_asset(ACCOUNT, REGION, &user("dave"), &found);
        assert_eq!(asset.properties["passwordEnabled"], false);
        assert_eq!(asset.properties["mfaActive"], false);
        assert_eq!(asset.properties["hardwareMfa"], false);
    }

    #[test]
    fn user_failures_are_null_and_unavailable() {
        let found = UserFindings {
            report: Err("credential report still not complete".to_owned()),
            login_profile: Some(Err("AccessDenied".to_owned())),
            mfa_devices: Some(Err("AccessDenied".to_owned())),
            virtual_mfa: Err("Throttling".to_owned()),
            access_keys: Err("AccessDenied (ListAccessKeys)".to_owned()),
            key_last_used_errors: vec![],
        };
        let asset = user_asset(ACCOUNT, REGION, &user("eve"), &found);
        for key in [
            "passwordEnabled",
            "mfaActive",
            "hardwareMfa",
            "virtualMfaDevices",
            "accessKeys",
            "credentialReport",
        ] {
            assert!(asset.properties[key].is_null(), "{key}");
            assert!(asset.unavailable.contains_key(key), "{key} not marked");
        }
        assert_eq!(
            asset.unavailable["accessKeys"],
            "AccessDenied (ListAccessKeys)"
        );

        let found = UserFindings {
            key_last_used_errors: vec!["AKIA1: AccessDenied".to_owned()],
            ..findings(Ok(Some(credential_row_json(&row("bob"), None))))
        };
        let asset = user_asset(ACCOUNT, REGION, &user("bob"), &found);
        assert_eq!(asset.unavailable.len(), 1);
        assert_eq!(
            asset.unavailable["accessKeyLastUsed"],
            "AKIA1: AccessDenied"
        );
    }

    #[test]
    fn root_account_from_report_and_summary() {
        let mut summary = HashMap::new();
        summary.insert(SummaryKeyType::AccountMfaEnabled, 1);
        summary.insert(SummaryKeyType::AccountAccessKeysPresent, 1);
        summary.insert(SummaryKeyType::AccountSigningCertificatesPresent, 0);
        let root = credential_row_json(&row("<root_account>"), None);
        let arn = "arn:aws:iam::123456789012:root";
        let asset =
            root_account_asset(ACCOUNT, REGION, arn, Ok(Some(root)), Ok(&summary), Ok(true));
        assert_eq!(asset.arn, arn);
        assert_eq!(asset.resource_type, "Rampart::IAM::RootAccount");
        let p = &asset.properties;
        assert_eq!(p["accountMfaEnabled"], true);
        assert_eq!(p["accountAccessKeysPresent"], true);
        assert_eq!(p["accountSigningCertificatesPresent"], false);
        assert_eq!(p["virtualMfa"], true);
        assert_eq!(p["hardwareMfa"], false);
        assert_eq!(
            p["credentialReport"]["passwordLastUsed"],
            "2024-05-01T10:00:00Z"
        );
        assert_eq!(p["credentialReport"]["accessKey1Active"], true);
        assert!(p["credentialReport"]["passwordEnabled"].is_null());
        assert!(asset.unavailable.is_empty());

        let with_hardware =
            root_account_asset(ACCOUNT, REGION, arn, Ok(None), Ok(&summary), Ok(false));
        assert_eq!(with_hardware.properties["hardwareMfa"], true);
    }

    #[test]
    fn root_account_without_report_row_or_summary_is_unavailable() {
        let mut summary = HashMap::new();
        summary.insert(SummaryKeyType::AccountMfaEnabled, 0);
        let arn = "arn:aws:iam::123456789012:root";
        let asset = root_account_asset(ACCOUNT, REGION, arn, Ok(None), Ok(&summary), Ok(false));
        assert!(asset.properties["credentialReport"].is_null());
        assert_eq!(
            asset.unavailable["credentialReport"],
            "the credential report has no <root_account> row"
        );
        assert_eq!(asset.properties["accountMfaEnabled"], false);
        assert_eq!(asset.properties["hardwareMfa"], false);
        assert!(!asset.unavailable.contains_key("accountMfaEnabled"));

        let asset = root_account_asset(
            ACCOUNT,
            REGION,
            arn,
            Err("ReportInProgress".into()),
            Err("AccessDenied".into()),
            Err("AccessDenied".into()),
        );
        for key in [
            "credentialReport",
            "accountMfaEnabled",
            "accountAccessKeysPresent",
            "virtualMfa",
            "hardwareMfa",
        ] {
            assert!(asset.unavailable.contains_key(key), "{key}");
            assert!(asset.properties[key].is_null(), "{key}");
        }
    }

    fn role_detail() -> RoleDetail {
        let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22%2A%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        RoleDetail::builder()
            .role_name("app")
            .role_id("AROAAPP")
            .arn("arn:aws:iam::123456789012:role/app")
            .path("/")
            .create_date(dt("2021-01-01T00:00:00Z"))
            .assume_role_policy_document(trust)
            .attached_managed_policies(
                AttachedPolicy::builder()
                    .policy_name("ReadOnlyAccess")
                    .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
                    .build(),
            )
            .role_policy_list(
                PolicyDetail::builder()
                    .policy_name("r")
                    .policy_document(ADMIN_DOC_ENCODED)
                    .build(),
            )
            .instance_profile_list(
                InstanceProfile::builder()
                    .path("/")
                    .instance_profile_name("app-ip")
                    .instance_profile_id("AIPA1")
                    .arn("arn:aws:iam::123456789012:instance-profile/app-ip")
                    .create_date(dt("2021-01-01T00:00:00Z"))
                    .set_roles(Some(vec![]))
                    .build()
                    .unwrap(),
            )
            .role_last_used(
                RoleLastUsed::builder()
                    .last_used_date(dt("2024-03-03T00:00:00Z"))
                    .region("eu-west-1")
                    .build(),
            )
            .tags(Tag::builder().key("env").value("prod").build().unwrap())
            .build()
    }

    #[test]
    fn role_with_public_trust_and_listed_details() {
        let listed = Role::builder()
            .path("/")
            .role_name("app")
            .role_id("AROAAPP")
            .arn("arn:aws:iam::123456789012:role/app")
            .create_date(dt("2021-01-01T00:00:00Z"))
            .max_session_duration(43200)
            .description("app role")
            .build()
            .unwrap();
        let asset = role_asset(ACCOUNT, REGION, &role_detail(), Ok(Some(&listed)));
        assert_eq!(asset.resource_type, "AWS::IAM::Role");
        assert_eq!(asset.name, "app");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(
            p["assumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"],
            "*"
        );
        assert_eq!(
            p["attachedManagedPolicies"][0]["policyName"],
            "ReadOnlyAccess"
        );
        assert_eq!(
            p["rolePolicyList"][0]["policyDocument"]["Statement"][0]["Resource"],
            "*"
        );
        assert_eq!(p["instanceProfileList"][0]["instanceProfileName"], "app-ip");
        assert_eq!(p["roleLastUsed"]["lastUsedDate"], "2024-03-03T00:00:00Z");
        assert_eq!(p["roleLastUsed"]["region"], "eu-west-1");
        assert_eq!(p["maxSessionDuration"], 43200);
        assert_eq!(p["description"], "app role");
        assert!(asset.unavailable.is_empty());

        let failed = role_asset(ACCOUNT, REGION, &role_detail(), Err("AccessDenied"));
        assert!(failed.properties["maxSessionDuration"].is_null());
        assert_eq!(failed.unavailable["maxSessionDuration"], "AccessDenied");
        let unlisted = role_asset(ACCOUNT, REGION, &role_detail(), Ok(None));
        assert!(unlisted.unavailable.contains_key("description"));
    }

    #[test]
    fn group_with_admin_policy_and_members() {
        let users = vec![
            UserDetail::builder()
                .user_name("zed")
                .group_list("admins")
                .group_list("dev")
                .build(),
            UserDetail::builder()
                .user_name("amy")
                .group_list("admins")
                .build(),
        ];
        let members = group_members(&users);
        assert_eq!(members["admins"], vec!["amy".to_owned(), "zed".to_owned()]);
        assert_eq!(members["dev"], vec!["zed".to_owned()]);

        let group = GroupDetail::builder()
            .group_name("admins")
            .group_id("AGPA1")
            .arn("arn:aws:iam::123456789012:group/admins")
            .path("/")
            .attached_managed_policies(
                AttachedPolicy::builder()
                    .policy_name("AdministratorAccess")
                    .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
                    .build(),
            )
            .group_policy_list(
                PolicyDetail::builder()
                    .policy_name("g")
                    .policy_document(ADMIN_DOC_ENCODED)
                    .build(),
            )
            .build();
        let asset = group_asset(ACCOUNT, REGION, &group, &members["admins"]);
        assert_eq!(asset.resource_type, "AWS::IAM::Group");
        assert_eq!(asset.properties["users"], json!(["amy", "zed"]));
        assert_eq!(
            asset.properties["attachedManagedPolicies"][0]["policyName"],
            "AdministratorAccess"
        );
        assert_eq!(
            asset.properties["groupPolicyList"][0]["policyDocument"]["Statement"][0]["Effect"],
            "Allow"
        );
    }

    #[test]
    fn managed_policy_default_version_document() {
        let v1 = PolicyVersion::builder()
            .version_id("v1")
            .is_default_version(false)
            .document(ADMIN_DOC_ENCODED)
            .build();
        let v2 = PolicyVersion::builder()
            .version_id("v2")
            .is_default_version(true)
            .document("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D")
            .build();
        // moto omits PolicyName: the name comes from the ARN.
        let policy = ManagedPolicyDetail::builder()
            .arn("arn:aws:iam::123456789012:policy/team/custom")
            .default_version_id("v2")
            .attachment_count(0)
            .is_attachable(true)
            .policy_version_list(v1)
            .policy_version_list(v2)
            .build();
        let asset = managed_policy_asset(ACCOUNT, REGION, &policy);
        assert_eq!(asset.resource_type, "AWS::IAM::ManagedPolicy");
        assert_eq!(asset.name, "custom");
        let p = &asset.properties;
        assert_eq!(
            p["defaultVersionDocument"]["Statement"][0]["Action"],
            "s3:GetObject"
        );
        assert_eq!(p["attachmentCount"], 0);
        assert_eq!(p["isAttachable"], true);
        assert_eq!(p["policyVersionList"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            p["policyVersionList"][0]["document"]["Statement"][0]["Action"],
            "*"
        );
        assert!(asset.unavailable.is_empty());

        let empty = ManagedPolicyDetail::builder()
            .policy_name("x")
            .arn("arn:aws:iam::1:policy/x")
            .build();
        let asset = managed_policy_asset(ACCOUNT, REGION, &empty);
        assert!(asset.properties["defaultVersionDocument"].is_null());
        assert!(asset.unavailable.contains_key("defaultVersionDocument"));
    }

    #[test]
    fn oidc_provider_detail_or_unavailable() {
        let arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
        let out = GetOpenIdConnectProviderOutput::builder()
            .url("token.actions.githubusercontent.com")
            .client_id_list("sts.amazonaws.com")
            .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
            .create_date(dt("2023-01-01T00:00:00Z"))
            .tags(Tag::builder().key("k").value("v").build().unwrap())
            .build();
        let asset = oidc_provider_asset(ACCOUNT, REGION, arn, Ok(&out));
        assert_eq!(asset.resource_type, "AWS::IAM::OIDCProvider");
        assert_eq!(asset.name, "token.actions.githubusercontent.com");
        assert_eq!(
            asset.properties["clientIDList"],
            json!(["sts.amazonaws.com"])
        );
        assert_eq!(
            asset.properties["thumbprintList"][0],
            "6938fd4d98bab03faadb97b34396831e3780aea1"
        );
        assert_eq!(asset.tags["k"], "v");

        let failed = oidc_provider_asset(ACCOUNT, REGION, arn, Err("AccessDenied"));
        assert_eq!(failed.name, "token.actions.githubusercontent.com");
        assert!(failed.properties["url"].is_null());
        assert_eq!(failed.unavailable["clientIDList"], "AccessDenied");
    }

    #[test]
    fn saml_provider_and_server_certificate() {
        let entry = SamlProviderListEntry::builder()
            .arn("arn:aws:iam::123456789012:saml-provider/okta")
            .valid_until(dt("2030-01-01T00:00:00Z"))
            .create_date(dt("2020-01-01T00:00:00Z"))
            .build();
        let asset = saml_provider_asset(ACCOUNT, REGION, &entry).unwrap();
        assert_eq!(asset.resource_type, "AWS::IAM::SAMLProvider");
        assert_eq!(asset.name, "okta");
        assert_eq!(asset.properties["validUntil"], "2030-01-01T00:00:00Z");
        assert!(
            saml_provider_asset(ACCOUNT, REGION, &SamlProviderListEntry::builder().build())
                .is_none()
        );

        let cert = ServerCertificateMetadata::builder()
            .path("/")
            .server_certificate_name("old-cert")
            .server_certificate_id("ASCA1")
            .arn("arn:aws:iam::123456789012:server-certificate/old-cert")
            .upload_date(dt("2010-05-08T01:02:03Z"))
            .expiration(dt("2012-05-08T01:02:03Z"))
            .build()
            .unwrap();
        let asset = server_certificate_asset(ACCOUNT, REGION, &cert);
        assert_eq!(asset.resource_type, "AWS::IAM::ServerCertificate");
        assert_eq!(
            asset.arn,
            "arn:aws:iam::123456789012:server-certificate/old-cert"
        );
        assert_eq!(asset.properties["expiration"], "2012-05-08T01:02:03Z");
        assert_eq!(asset.properties["serverCertificateName"], "old-cert");
    }

    #[test]
    fn meta_declares_what_is_emitted() {
        let meta = Iam.meta();
        assert_eq!(meta.service, "iam");
        assert_eq!(meta.scope, Scope::Global);
        for t in [
            USER,
            ROLE,
            GROUP,
            MANAGED_POLICY,
            OIDC_PROVIDER,
            SAML_PROVIDER,
            SERVER_CERTIFICATE,
            types::IAM_ROOT_ACCOUNT,
        ] {
            assert!(meta.resource_types.contains(&t), "{t}");
        }
        let actions: Vec<&str> = meta.operations.iter().map(|o| o.action).collect();
        assert!(actions.contains(&"iam:GetAccountAuthorizationDetails"));
        assert!(actions.contains(&"iam:ListVirtualMFADevices"));
    }
}
