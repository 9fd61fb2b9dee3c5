//! Onboarding templates: what a customer deploys in an AWS account so that
//! Rampart can read it without secrets (design.md sections 4 and 8).
//!
//! A template holds an IAM OIDC identity provider for Rampart's issuer and,
//! for every enabled plan, the plan's IAM roles. Each role Rampart assumes
//! trusts only that provider, only for the plan's audience and only for the
//! connector's role session name. The roles' permissions follow the chosen
//! [`Access`] mode; the CSPM role's least-privilege policy is generated from
//! the API calls the collectors declare
//! ([`rampart_aws::collectors::all_operations`]), the one source of truth.
//!
//! Generation is a pure function of a [`TemplateInput`]:
//! [`cloudformation`] (JSON text, with a StackSet for an Organization) and
//! [`terraform`] (HCL text, one account). [`connector_input`] builds the
//! input from a stored connector (the CLI and the server share it).

mod cloudformation;
mod connector;
mod deploy;
mod permissions;
mod terraform;

use rampart_connector::Plan;

pub use cloudformation::{cloudformation, stackset_member_template};
pub use connector::{ConnectorRoles, connector_input};
pub use deploy::{DeployKind, console_url, deploy_commands, stack_name};
pub use permissions::{BILLING_DENY_ACTIONS, cspm_least_privilege_actions};
pub use terraform::terraform;

/// How much the roles may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// AWS's managed `ReadOnlyAccess` policy plus a deny of billing actions
    /// (Defender's default): new collectors work without a template update.
    #[default]
    Default,
    /// Only the actions Rampart calls: for the CSPM role, exactly the IAM
    /// actions of the collectors' declared operations.
    LeastPrivilege,
}

impl Access {
    /// The command-line name (`default`, `least-privilege`).
    pub fn name(self) -> &'static str {
        match self {
            Access::Default => "default",
            Access::LeastPrivilege => "least-privilege",
        }
    }
}

/// One enabled plan and the names of its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInput {
    /// The plan.
    pub plan: Plan,
    /// Role names, in the order of [`Plan::roles`]; a missing entry takes
    /// the role's default name.
    pub role_names: Vec<String>,
}

impl PlanInput {
    /// The plan with its roles' default names.
    pub fn with_default_names(plan: Plan) -> Self {
        Self {
            plan,
            role_names: plan
                .roles()
                .iter()
                .map(|r| r.default_name.to_owned())
                .collect(),
        }
    }
}

/// A management account's organization: member accounts get the template
/// through a service-managed StackSet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizationInput {
    /// The StackSet's name.
    pub stackset_name: String,
    /// Member accounts the StackSet leaves out.
    pub excluded_account_ids: Vec<String>,
}

/// Everything a template depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInput {
    /// The account the template is for (12 digits); the template refuses to
    /// deploy anywhere else.
    pub account_id: String,
    /// The connector's name; the roles require the session name
    /// `Rampart_<name>` ([`Plan::session_name`]).
    pub connector_name: String,
    /// Rampart's issuer URL (`https://host[/path]`), the `iss` of its tokens.
    pub issuer_url: String,
    /// SHA-1 thumbprints (40 hex digits) of the issuer host's certificate
    /// chain, as `rampart issuer thumbprint` prints them.
    pub thumbprints: Vec<String>,
    /// The enabled plans, each with its role names.
    pub plans: Vec<PlanInput>,
    /// How much the roles may read.
    pub access: Access,
    /// Present for an Organization's management account.
    pub organization: Option<OrganizationInput>,
}

/// Why a template cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The account id is not 12 digits.
    #[error("account id `{0}` is not 12 digits")]
    AccountId(String),
    /// The issuer URL is not one IAM accepts for an OIDC provider.
    #[error(
        "issuer URL `{0}` is not usable for an IAM OIDC provider (it needs https, a host, and no port, query or fragment)"
    )]
    IssuerUrl(String),
    /// A thumbprint is not 40 hexadecimal digits.
    #[error("thumbprint `{0}` is not 40 hexadecimal digits (a SHA-1 fingerprint)")]
    Thumbprint(String),
    /// No thumbprint, or more than IAM's limit of 5.
    #[error("an OIDC provider needs 1 to 5 thumbprints, got {0}")]
    ThumbprintCount(usize),
    /// No plan is enabled.
    #[error("no plan is enabled on the connector")]
    NoPlan,
    /// A plan is listed twice.
    #[error("plan `{0}` is listed twice")]
    DuplicatePlan(Plan),
    /// A role name IAM rejects.
    #[error("role name `{0}` is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)")]
    RoleName(String),
    /// Two roles share a name.
    #[error("role name `{0}` is used twice")]
    DuplicateRoleName(String),
    /// The connector's session name is not one STS accepts.
    #[error(
        "connector name `{0}` gives the session name `{1}`, which STS rejects (2-64 of letters, digits and +=,.@_-)"
    )]
    SessionName(String, String),
    /// An account id in the organization's exclusions is not 12 digits.
    #[error("excluded account id `{0}` is not 12 digits")]
    ExcludedAccountId(String),
    /// The StackSet name is not one CloudFormation accepts.
    #[error(
        "StackSet name `{0}` is not valid (a letter, then up to 127 letters, digits and hyphens)"
    )]
    StackSetName(String),
    /// An organization's member connector has no template of its own.
    #[error(
        "connector `{connector}` is a member of the organization managed by account `{parent}`; its roles come from the management account's StackSet: use that connector's template"
    )]
    MemberConnector {
        /// The member connector.
        connector: String,
        /// The management account.
        parent: String,
    },
    /// A connector's role ARN does not parse.
    #[error("connector `{connector}`: `{field}` is not a role ARN: `{arn}`")]
    RoleArn {
        /// The connector.
        connector: String,
        /// The offering's field holding it.
        field: &'static str,
        /// The value.
        arn: String,
    },
    /// A connector's role has a path; templates create roles at `/`.
    #[error(
        "connector `{connector}`: role `{arn}` has the path `{path}`; templates create roles at `/`: change it with `rampart connector update`"
    )]
    RolePath {
        /// The connector.
        connector: String,
        /// The role ARN.
        arn: String,
        /// Its path.
        path: String,
    },
    /// Terraform templates cover one account.
    #[error(
        "a Terraform template covers one account; use `--format cloudformation` for an organization's StackSet"
    )]
    OrganizationTerraform,
}

/// The checked input, in the forms the generators use.
#[derive(Debug, Clone)]
pub(crate) struct Checked<'a> {
    pub input: &'a TemplateInput,
    /// The provider URL (`https://host/path`, no trailing slash).
    pub url: String,
    /// The IAM condition-key prefix: host and path without the scheme.
    pub key_prefix: String,
    /// Lower-case thumbprints.
    pub thumbprints: Vec<String>,
    /// The session name the roles require.
    pub session_name: String,
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// The IAM condition-key prefix of an issuer: `https://host/path` becomes
/// `host/path` (IAM's `<provider>:aud` and `<provider>:sub` keys).
pub fn condition_key_prefix(issuer_url: &str) -> String {
    issuer_url
        .trim_end_matches('/')
        .trim_start_matches("https://")
        .to_owned()
}

pub(crate) fn check(input: &TemplateInput) -> Result<Checked<'_>, TemplateError> {
    if !is_account_id(&input.account_id) {
        return Err(TemplateError::AccountId(input.account_id.clone()));
    }
    let url_error = || TemplateError::IssuerUrl(input.issuer_url.clone());
    let parsed = url::Url::parse(&input.issuer_url).map_err(|_| url_error())?;
    if parsed.scheme() != "https"
        || parsed.host_str().is_none_or(str::is_empty)
        || parsed.port().is_some()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || !input.issuer_url.starts_with("https://")
    {
        return Err(url_error());
    }
    let url = input.issuer_url.trim_end_matches('/').to_owned();
    let key_prefix = condition_key_prefix(&url);

    if input.thumbprints.is_empty() || input.thumbprints.len() > 5 {
        return Err(TemplateError::ThumbprintCount(input.thumbprints.len()));
    }
    let mut thumbprints = Vec::new();
    for raw in &input.thumbprints {
        let hex: String = raw.chars().filter(|c| *c != ':').collect();
        if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(TemplateError::Thumbprint(raw.clone()));
        }
        thumbprints.push(hex.to_ascii_lowercase());
    }

    if input.plans.is_empty() {
        return Err(TemplateError::NoPlan);
    }
    let mut seen_plans = Vec::new();
    let mut seen_roles: Vec<String> = Vec::new();
    for plan in &input.plans {
        if seen_plans.contains(&plan.plan) {
            return Err(TemplateError::DuplicatePlan(plan.plan));
        }
        seen_plans.push(plan.plan);
        for role in permissions::role_names(plan) {
            if role.is_empty() || role.len() > 64 || !role.chars().all(is_iam_name_char) {
                return Err(TemplateError::RoleName(role));
            }
            if seen_roles.contains(&role) {
                return Err(TemplateError::DuplicateRoleName(role));
            }
            seen_roles.push(role);
        }
    }

    let session_name = Plan::session_name(&input.connector_name);
    if session_name.len() > 64 || !session_name.chars().all(is_iam_name_char) {
        return Err(TemplateError::SessionName(
            input.connector_name.clone(),
            session_name,
        ));
    }

    if let Some(org) = &input.organization {
        let name_ok = org.stackset_name.len() <= 128
            && org
                .stackset_name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && org
                .stackset_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !name_ok {
            return Err(TemplateError::StackSetName(org.stackset_name.clone()));
        }
        if let Some(bad) = org
            .excluded_account_ids
            .iter()
            .find(|id| !is_account_id(id))
        {
            return Err(TemplateError::ExcludedAccountId(bad.clone()));
        }
    }

    Ok(Checked {
        input,
        url,
        key_prefix,
        thumbprints,
        session_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TemplateInput {
        TemplateInput {
            account_id: "123456789012".into(),
            connector_name: "prod".into(),
            issuer_url: "https://rampart.example.com/oidc".into(),
            thumbprints: vec!["AB".repeat(20)],
            plans: vec![PlanInput::with_default_names(Plan::Cspm)],
            access: Access::Default,
            organization: None,
        }
    }

    #[test]
    fn check_normalises_and_rejects_bad_input() {
        let good = input();
        let checked = check(&good).unwrap();
        assert_eq!(checked.key_prefix, "rampart.example.com/oidc");
        assert_eq!(checked.thumbprints, vec!["ab".repeat(20)]);
        assert_eq!(checked.session_name, "Rampart_prod");

        type Change = Box<dyn Fn(&mut TemplateInput)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|i| i.account_id = "12345".into()), "account id"),
            (
                Box::new(|i| i.issuer_url = "http://rampart.example.com".into()),
                "issuer URL",
            ),
            (
                Box::new(|i| i.issuer_url = "https://rampart.example.com:8443".into()),
                "issuer URL",
            ),
            (
                Box::new(|i| i.issuer_url = "https://rampart.example.com/?a=b".into()),
                "issuer URL",
            ),
            (Box::new(|i| i.thumbprints = vec![]), "1 to 5"),
            (
                Box::new(|i| i.thumbprints = vec!["xyz".into()]),
                "thumbprint",
            ),
            (Box::new(|i| i.plans = vec![]), "no plan"),
            (
                Box::new(|i| {
                    i.plans = vec![
                        PlanInput::with_default_names(Plan::Cspm),
                        PlanInput::with_default_names(Plan::Cspm),
                    ]
                }),
                "twice",
            ),
            (
                Box::new(|i| i.plans[0].role_names = vec!["bad name".into()]),
                "role name",
            ),
            (
                Box::new(|i| i.connector_name = "a b".into()),
                "session name",
            ),
            (
                Box::new(|i| {
                    i.organization = Some(OrganizationInput {
                        stackset_name: "1bad".into(),
                        excluded_account_ids: vec![],
                    })
                }),
                "StackSet name",
            ),
        ];
        for (change, expected) in cases {
            let mut bad = input();
            change(&mut bad);
            let err = check(&bad).unwrap_err().to_string();
            assert!(err.contains(expected), "{err} lacks {expected}");
        }
    }
}
