//! The CloudFormation template (JSON): one account's OIDC provider and
//! roles, or for an Organization the management account's own plus a
//! service-managed StackSet that deploys them to every member account.

use serde_json::{Map, Value, json};

use crate::permissions::{Session, roles, trust_policy};
use crate::{Checked, OrganizationInput, TemplateError, TemplateInput, check};

/// The provider's logical id.
const PROVIDER: &str = "RampartOidcProvider";
/// The StackSet's logical id.
const STACKSET: &str = "RampartMemberStackSet";
/// The parameter naming where the StackSet deploys.
const TARGETS: &str = "OrganizationalUnitIds";

/// The CloudFormation template for `input`, as pretty JSON: for a single
/// account, the provider and roles; for an Organization, also a StackSet
/// for the member accounts (see [`stackset_member_template`]).
pub fn cloudformation(input: &TemplateInput) -> Result<String, TemplateError> {
    let checked = check(input)?;
    let mut template = account_template(
        &checked,
        Session::Exact(&checked.session_name),
        Some(&input.account_id),
    );
    if let Some(org) = &input.organization {
        add_stackset(&mut template, &checked, org);
    }
    Ok(format!("{:#}\n", Value::Object(template)))
}

/// The template the Organization's StackSet deploys in each member account
/// (pretty JSON): the provider and roles, accepting any `Rampart_*` session.
pub fn stackset_member_template(input: &TemplateInput) -> Result<String, TemplateError> {
    let checked = check(input)?;
    let template = account_template(&checked, Session::AnyRampart, None);
    Ok(format!("{:#}\n", Value::Object(template)))
}

/// Wraps every string that names a pseudo parameter in `Fn::Sub`.
fn substitute(value: Value) -> Value {
    match value {
        Value::String(s) if s.contains("${AWS::") => json!({ "Fn::Sub": s }),
        Value::Array(items) => Value::Array(items.into_iter().map(substitute).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, substitute(v))).collect())
        }
        other => other,
    }
}

fn account_template(
    checked: &Checked<'_>,
    session: Session<'_>,
    account: Option<&str>,
) -> Map<String, Value> {
    let input = checked.input;
    let specs = roles(&input.plans, input.access);
    let audiences: Vec<&str> = input.plans.iter().map(|p| p.plan.audience()).collect();

    let mut resources = Map::new();
    resources.insert(
        PROVIDER.to_owned(),
        json!({
            "Type": "AWS::IAM::OIDCProvider",
            "Properties": {
                "Url": checked.url,
                "ClientIdList": audiences,
                "ThumbprintList": checked.thumbprints,
            },
        }),
    );
    let mut outputs = Map::new();
    outputs.insert(
        "OidcProviderArn".to_owned(),
        json!({
            "Description": "The IAM OIDC provider for Rampart's issuer",
            "Value": { "Ref": PROVIDER },
        }),
    );
    for role in &specs {
        let role_id = format!("{}Role", role.id);
        let mut managed: Vec<Value> = role
            .aws_managed
            .iter()
            .map(|name| Value::String(format!("arn:${{AWS::Partition}}:iam::aws:policy/{name}")))
            .collect();
        for (n, document) in role.policies.iter().enumerate() {
            let policy_id = format!("{}Policy{}", role.id, n + 1);
            resources.insert(
                policy_id.clone(),
                json!({
                    "Type": "AWS::IAM::ManagedPolicy",
                    "Properties": {
                        "ManagedPolicyName": format!("{}-{}", role.name, n + 1),
                        "Description": format!("Rampart {}: {}", role.plan, role.purpose),
                        "PolicyDocument": document,
                    },
                }),
            );
            managed.push(json!({ "Ref": policy_id }));
        }
        let mut properties = Map::new();
        properties.insert("RoleName".into(), json!(role.name));
        properties.insert(
            "Description".into(),
            json!(format!("Rampart {} plan: {}", role.plan, role.purpose)),
        );
        properties.insert(
            "AssumeRolePolicyDocument".into(),
            trust_policy(
                &checked.key_prefix,
                role,
                session,
                json!({ "Ref": PROVIDER }),
            ),
        );
        properties.insert("MaxSessionDuration".into(), json!(3600));
        if !managed.is_empty() {
            properties.insert("ManagedPolicyArns".into(), Value::Array(managed));
        }
        if !role.inline.is_empty() {
            let inline: Vec<Value> = role
                .inline
                .iter()
                .map(|(name, doc)| json!({ "PolicyName": name, "PolicyDocument": doc }))
                .collect();
            properties.insert("Policies".into(), Value::Array(inline));
        }
        let mut tags = vec![json!({ "Key": "rampart:plan", "Value": role.plan.name() })];
        if account.is_some() {
            tags.push(json!({ "Key": "rampart:connector", "Value": input.connector_name }));
        }
        properties.insert("Tags".into(), Value::Array(tags));
        resources.insert(
            role_id.clone(),
            json!({ "Type": "AWS::IAM::Role", "Properties": properties }),
        );
        outputs.insert(
            format!("{role_id}Arn"),
            json!({
                "Description": format!("{} ({}, {})", role.name, role.plan.offering_type(), role.purpose),
                "Value": { "Fn::GetAtt": [role_id, "Arn"] },
            }),
        );
    }

    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    template.insert(
        "Description".into(),
        json!(format!(
            "Rampart connector `{}`: IAM OIDC provider for {} and the roles of plans {} ({} access)",
            input.connector_name,
            checked.url,
            input
                .plans
                .iter()
                .map(|p| p.plan.name())
                .collect::<Vec<_>>()
                .join(", "),
            input.access.name(),
        )),
    );
    if let Some(account) = account {
        template.insert(
            "Rules".into(),
            json!({
                "ConnectorAccount": {
                    "Assertions": [{
                        "Assert": { "Fn::Equals": [{ "Ref": "AWS::AccountId" }, account] },
                        "AssertDescription": format!("This template is for account {account}, the connector's account"),
                    }],
                },
            }),
        );
    }
    template.insert("Resources".into(), substitute(Value::Object(resources)));
    template.insert("Outputs".into(), Value::Object(outputs));
    template
}

fn add_stackset(template: &mut Map<String, Value>, checked: &Checked<'_>, org: &OrganizationInput) {
    let member = Value::Object(account_template(checked, Session::AnyRampart, None));
    let mut targets = Map::new();
    targets.insert(TARGETS.into(), json!({ "Ref": TARGETS }));
    if !org.excluded_account_ids.is_empty() {
        targets.insert("Accounts".into(), json!(org.excluded_account_ids));
        targets.insert("AccountFilterType".into(), json!("DIFFERENCE"));
    }
    template.insert(
        "Parameters".into(),
        json!({
            TARGETS: {
                "Type": "CommaDelimitedList",
                "Description": "Where member accounts get the roles: the organization's root id (r-...) or organizational unit ids (ou-...)",
            },
        }),
    );
    if let Some(Value::Object(resources)) = template.get_mut("Resources") {
        resources.insert(
            STACKSET.into(),
            json!({
                "Type": "AWS::CloudFormation::StackSet",
                "Properties": {
                    "StackSetName": org.stackset_name,
                    "Description": "Rampart's OIDC provider and plan roles in every member account",
                    "PermissionModel": "SERVICE_MANAGED",
                    "AutoDeployment": { "Enabled": true, "RetainStacksOnAccountRemoval": false },
                    "Capabilities": ["CAPABILITY_NAMED_IAM"],
                    "ManagedExecution": { "Active": true },
                    "OperationPreferences": {
                        "FailureTolerancePercentage": 100,
                        "MaxConcurrentPercentage": 100,
                        "RegionConcurrencyType": "PARALLEL",
                    },
                    "StackInstancesGroup": [{
                        "DeploymentTargets": targets,
                        // IAM is global: one region per account is enough.
                        "Regions": [{ "Ref": "AWS::Region" }],
                    }],
                    "TemplateBody": member.to_string(),
                },
            }),
        );
    }
}
