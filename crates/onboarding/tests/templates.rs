//! The generated templates checked by outside tools and by an independent
//! reading: cfn-lint on every CloudFormation variant, python-hcl2 on the
//! Terraform configuration, and an evaluation of every trust policy against
//! tokens minted by Rampart's issuer, the way IAM evaluates
//! `AssumeRoleWithWebIdentity` (moto checks none of this). Also the
//! deployment files in deploy/ (Dockerfile, Compose, nginx, Kubernetes),
//! each with its own linter.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_connector::Plan;
use rampart_onboarding::{
    Access, OrganizationInput, PlanInput, TemplateInput, cloudformation, stackset_member_template,
    terraform,
};
use serde_json::Value;

const ISSUER: &str = "https://rampart.example.com/oidc";
const CONNECTOR: &str = "prod";

fn input(plans: &[Plan], access: Access) -> TemplateInput {
    TemplateInput {
        account_id: "123456789012".into(),
        connector_name: CONNECTOR.into(),
        issuer_url: ISSUER.into(),
        thumbprints: vec!["9e99a48a9960b14926bb7f3b02e22da2b0ab7280".into()],
        plans: plans
            .iter()
            .copied()
            .map(PlanInput::with_default_names)
            .collect(),
        access,
        organization: None,
    }
}

fn organization(mut input: TemplateInput, excluded: &[&str]) -> TemplateInput {
    input.organization = Some(OrganizationInput {
        stackset_name: "Rampart-Members".into(),
        excluded_account_ids: excluded.iter().map(|s| (*s).to_owned()).collect(),
    });
    input
}

fn venv_tool(name: &str) -> PathBuf {
    rampart_testkit::python().parent().unwrap().join(name)
}

// ---------------------------------------------------------------- cfn-lint

#[test]
fn every_cloudformation_variant_passes_cfn_lint() {
    let dir = tempfile::tempdir().unwrap();
    let all = Plan::ALL;
    let variants: Vec<(&str, String)> = vec![
        (
            "cspm-default.json",
            cloudformation(&input(&[Plan::Cspm], Access::Default)).unwrap(),
        ),
        (
            "cspm-least.json",
            cloudformation(&input(&[Plan::Cspm], Access::LeastPrivilege)).unwrap(),
        ),
        (
            "all-default.json",
            cloudformation(&input(&all, Access::Default)).unwrap(),
        ),
        (
            "all-least.json",
            cloudformation(&input(&all, Access::LeastPrivilege)).unwrap(),
        ),
        (
            "org-least.json",
            cloudformation(&organization(input(&all, Access::LeastPrivilege), &[])).unwrap(),
        ),
        (
            "org-default-excluding.json",
            cloudformation(&organization(
                input(&[Plan::Cspm], Access::Default),
                &["210987654321"],
            ))
            .unwrap(),
        ),
        (
            "member-least.json",
            stackset_member_template(&organization(input(&all, Access::LeastPrivilege), &[]))
                .unwrap(),
        ),
    ];
    let mut files = Vec::new();
    for (name, text) in &variants {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    let output = Command::new(venv_tool("cfn-lint"))
        .args(["--format", "json", "--regions", "us-east-1", "--"])
        .args(&files)
        .output()
        .expect("run cfn-lint (scripts/tools-env.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: Vec<Value> = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint printed no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut errors = Vec::new();
    for finding in &findings {
        let id = finding["Rule"]["Id"].as_str().unwrap_or("?");
        let line = format!(
            "{} {} {}: {}",
            finding["Filename"].as_str().unwrap_or("?"),
            id,
            finding["Location"]["Path"],
            finding["Message"].as_str().unwrap_or("")
        );
        if id.starts_with('E') || finding["Level"] == "Error" {
            errors.push(line);
        } else {
            eprintln!("cfn-lint: {line}");
        }
    }
    assert!(errors.is_empty(), "cfn-lint errors:\n{}", errors.join("\n"));
    // cfn-lint ran on the files: exit status 0 or only warnings/informational (4, 8).
    let code = output.status.code().unwrap();
    assert_eq!(code & 2, 0, "cfn-lint reported errors (exit {code})");
    assert_eq!(code & 1, 0, "cfn-lint failed (exit {code}): {stdout}");
}

// ------------------------------------------------------ trust evaluation

/// A web-identity request as IAM sees it.
struct WebIdentityRequest<'a> {
    claims: &'a Value,
    session_name: &'a str,
}

/// IAM's glob for `StringLike`: `*` any run, `?` one character.
fn glob(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    fn go(p: &[char], v: &[char]) -> bool {
        match p.first() {
            None => v.is_empty(),
            Some('*') => (0..=v.len()).any(|i| go(&p[1..], &v[i..])),
            Some('?') => !v.is_empty() && go(&p[1..], &v[1..]),
            Some(c) => v.first() == Some(c) && go(&p[1..], &v[1..]),
        }
    }
    go(&p, &v)
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("not a string or list: {other}"),
    }
}

/// Whether `condition` holds for the request. IAM's request context for
/// `AssumeRoleWithWebIdentity` with an OIDC provider: `<provider>:aud`,
/// `<provider>:sub` (the provider being the issuer's host and path) and
/// `sts:RoleSessionName`. Keys compare case-insensitively; a missing key
/// fails the operator; operators AND together, values of a key OR.
fn condition_holds(condition: &Value, req: &WebIdentityRequest<'_>) -> bool {
    let iss = req.claims["iss"].as_str().unwrap();
    let provider = iss.trim_start_matches("https://").trim_end_matches('/');
    let mut context: BTreeMap<String, String> = BTreeMap::new();
    context.insert(
        format!("{provider}:aud").to_lowercase(),
        req.claims["aud"].as_str().unwrap().to_owned(),
    );
    context.insert(
        format!("{provider}:sub").to_lowercase(),
        req.claims["sub"].as_str().unwrap().to_owned(),
    );
    context.insert("sts:rolesessionname".into(), req.session_name.to_owned());
    let Some(operators) = condition.as_object() else {
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        keys.as_object().unwrap().iter().all(|(key, wanted)| {
            let Some(actual) = context.get(&key.to_lowercase()) else {
                return false;
            };
            let wanted = strings(wanted);
            match operator.as_str() {
                "StringEquals" => wanted.iter().any(|w| w == actual),
                "StringLike" => wanted.iter().any(|w| glob(w, actual)),
                other => panic!("the evaluator does not know operator {other}"),
            }
        })
    })
}

/// Whether a trust policy lets the request assume the role. `provider_url`
/// resolves a `Federated` principal to the URL of the OIDC provider it names
/// (None: not a provider of this template).
fn trust_allows(
    policy: &Value,
    req: &WebIdentityRequest<'_>,
    provider_url: &dyn Fn(&Value) -> Option<String>,
) -> bool {
    let iss = req.claims["iss"].as_str().unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let allowed = statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && strings(&s["Action"])
                .iter()
                .any(|a| a.eq_ignore_ascii_case("sts:AssumeRoleWithWebIdentity"))
            && s["Principal"]["Federated"] != Value::Null
            && provider_url(&s["Principal"]["Federated"]).as_deref() == Some(iss)
            && condition_holds(&s["Condition"], req)
    });
    let denied = statements.iter().any(|s| s["Effect"] == "Deny");
    assert!(!denied, "the templates use no Deny in trust policies");
    allowed
}

/// A token minted by Rampart's issuer at `issuer_url`, decoded. One issuer
/// (one RSA key) per URL for the whole test binary.
fn minted_claims(issuer_url: &str, subject: &str, audience: &str) -> Value {
    use std::sync::{Mutex, OnceLock};
    type Issuers = Mutex<BTreeMap<String, (tempfile::TempDir, rampart_identity::Issuer)>>;
    static ISSUERS: OnceLock<Issuers> = OnceLock::new();
    let mut issuers = ISSUERS.get_or_init(Issuers::default).lock().unwrap();
    let (_, issuer) = issuers.entry(issuer_url.to_owned()).or_insert_with(|| {
        let keys = tempfile::tempdir().unwrap();
        let issuer = rampart_identity::Issuer::init(keys.path(), issuer_url).unwrap();
        (keys, issuer)
    });
    assert_eq!(issuer.url(), issuer_url);
    let minted = issuer
        .mint(subject, audience, time::OffsetDateTime::now_utc())
        .unwrap();
    let payload = minted.token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["iss"], issuer_url);
    assert_eq!(claims["aud"], audience);
    claims
}

/// Role name → (trust policy, federated principal resolver) of a
/// CloudFormation template.
fn cfn_roles(template: &Value) -> BTreeMap<String, Value> {
    template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .map(|r| {
            (
                r["Properties"]["RoleName"].as_str().unwrap().to_owned(),
                r["Properties"]["AssumeRolePolicyDocument"].clone(),
            )
        })
        .collect()
}

fn cfn_provider_resolver(template: &Value) -> impl Fn(&Value) -> Option<String> + '_ {
    move |principal: &Value| {
        let id = principal["Ref"].as_str()?;
        let resource = &template["Resources"][id];
        (resource["Type"] == "AWS::IAM::OIDCProvider")
            .then(|| resource["Properties"]["Url"].as_str().map(str::to_owned))
            .flatten()
    }
}

/// Checks every role of `plans` against tokens: the plan's own token with
/// an accepted session name is let in; another audience, another plan's
/// audience, another session name, or another issuer are kept out.
fn check_trust(
    roles: &BTreeMap<String, Value>,
    resolver: &dyn Fn(&Value) -> Option<String>,
    plans: &[Plan],
    good_session: &str,
    bad_sessions: &[&str],
) {
    let mut checked = 0;
    for plan in plans {
        for (index, role) in plan.roles().iter().enumerate() {
            let policy = roles
                .get(role.default_name)
                .unwrap_or_else(|| panic!("no role {}", role.default_name));
            let own = minted_claims(ISSUER, "connector-id", plan.audience());
            // The log pipelines' service roles: CloudWatch Logs and Firehose
            // assume them.
            let service_role =
                (plan == &Plan::Containers && index >= 2) || (plan == &Plan::Sql && index >= 3);
            let accepted = trust_allows(
                policy,
                &WebIdentityRequest {
                    claims: &own,
                    session_name: good_session,
                },
                resolver,
            );
            if service_role {
                // The audit pipeline's roles trust an AWS service, never Rampart.
                assert!(!accepted, "{} trusts Rampart", role.default_name);
                assert!(policy.to_string().contains(".amazonaws.com"));
                continue;
            }
            assert!(
                accepted,
                "{} rejects Rampart's {plan} token",
                role.default_name
            );
            checked += 1;

            let mut rejected = vec![
                minted_claims(ISSUER, "connector-id", "sts.amazonaws.com"),
                minted_claims(
                    "https://attacker.example.com/oidc",
                    "connector-id",
                    plan.audience(),
                ),
            ];
            for other in Plan::ALL.into_iter().filter(|p| p != plan) {
                rejected.push(minted_claims(ISSUER, "connector-id", other.audience()));
            }
            for claims in &rejected {
                assert!(
                    !trust_allows(
                        policy,
                        &WebIdentityRequest {
                            claims,
                            session_name: good_session
                        },
                        resolver
                    ),
                    "{} accepts {claims}",
                    role.default_name
                );
            }
            for session in bad_sessions {
                assert!(
                    !trust_allows(
                        policy,
                        &WebIdentityRequest {
                            claims: &own,
                            session_name: session
                        },
                        resolver
                    ),
                    "{} accepts session {session}",
                    role.default_name
                );
            }
        }
    }
    assert!(checked >= plans.len());
}

#[test]
fn trust_policies_accept_rampart_tokens_for_their_plan_only() {
    let good = format!("Rampart_{CONNECTOR}");
    for access in [Access::Default, Access::LeastPrivilege] {
        let text = cloudformation(&input(&Plan::ALL, access)).unwrap();
        let template: Value = serde_json::from_str(&text).unwrap();
        let resolver = cfn_provider_resolver(&template);
        check_trust(
            &cfn_roles(&template),
            &resolver,
            &Plan::ALL,
            &good,
            &[
                "Rampart_other",
                "rampart_prod",
                "Rampart_prod2",
                "Other_prod",
            ],
        );
        // The provider lists exactly the enabled plans' audiences.
        let provider = &template["Resources"]["RampartOidcProvider"]["Properties"];
        let mut audiences = strings(&provider["ClientIdList"]);
        audiences.sort();
        let mut expected: Vec<String> = Plan::ALL.iter().map(|p| p.audience().to_owned()).collect();
        expected.sort();
        assert_eq!(audiences, expected);
    }

    // A CSPM-only connector: its provider accepts only the CSPM audience.
    let cspm: Value =
        serde_json::from_str(&cloudformation(&input(&[Plan::Cspm], Access::Default)).unwrap())
            .unwrap();
    assert_eq!(
        strings(&cspm["Resources"]["RampartOidcProvider"]["Properties"]["ClientIdList"]),
        vec!["rampart-cspm"]
    );
    check_trust(
        &cfn_roles(&cspm),
        &cfn_provider_resolver(&cspm),
        &[Plan::Cspm],
        &good,
        &["Rampart_other"],
    );

    // An organization: the management account requires its own connector's
    // session name; member accounts any Rampart session name.
    let org_input = organization(input(&Plan::ALL, Access::LeastPrivilege), &[]);
    let outer: Value = serde_json::from_str(&cloudformation(&org_input).unwrap()).unwrap();
    check_trust(
        &cfn_roles(&outer),
        &cfn_provider_resolver(&outer),
        &Plan::ALL,
        &good,
        &["Rampart_other"],
    );
    let body = outer["Resources"]["RampartMemberStackSet"]["Properties"]["TemplateBody"]
        .as_str()
        .unwrap();
    let member: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        member,
        serde_json::from_str::<Value>(&stackset_member_template(&org_input).unwrap()).unwrap()
    );
    check_trust(
        &cfn_roles(&member),
        &cfn_provider_resolver(&member),
        &Plan::ALL,
        "Rampart_member-210987654321",
        &["Other_member", "rampart_x", "Rampart"],
    );
}

// ------------------------------------------------------------- Terraform

/// The configuration parsed by python-hcl2: `{block type: {label: body}}`
/// for resources (`resource.TYPE.NAME`), plus outputs and providers.
fn parse_hcl(text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.tf");
    std::fs::write(&path, text).unwrap();
    let script = r#"
import json, sys
import hcl2
from hcl2 import SerializationOptions
options = SerializationOptions(with_comments=False, explicit_blocks=False,
                               preserve_heredocs=False, strip_string_quotes=True)
with open(sys.argv[1]) as f:
    doc = hcl2.load(f, serialization_options=options)
out = {"resource": {}, "data": {}, "output": {}, "provider": {}, "terraform": doc.get("terraform", [])}
for kind in ("resource", "data"):
    for block in doc.get(kind, []):
        for rtype, named in block.items():
            for name, body in named.items():
                out[kind].setdefault(rtype, {})[name] = body
for block in doc.get("output", []):
    out["output"].update(block)
for block in doc.get("provider", []):
    out["provider"].update(block)
print(json.dumps(out))
"#;
    let output = Command::new(rampart_testkit::python())
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python-hcl2 rejected the configuration:\n{}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn tf_policy(text: &Value) -> Value {
    serde_json::from_str(text.as_str().unwrap()).unwrap()
}

/// Actions allowed by a set of policy documents.
fn allowed_actions(documents: &[Value]) -> BTreeSet<String> {
    documents
        .iter()
        .flat_map(|d| d["Statement"].as_array().unwrap().clone())
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| strings(&s["Action"]))
        .collect()
}

/// Terraform interpolations written back as CloudFormation pseudo
/// parameters, to compare the two formats' documents.
fn tf_to_cfn(value: &Value) -> Value {
    let text = value
        .to_string()
        .replace(
            "${data.aws_partition.current.partition}",
            "${AWS::Partition}",
        )
        .replace(
            "${data.aws_caller_identity.current.account_id}",
            "${AWS::AccountId}",
        );
    serde_json::from_str(&text).unwrap()
}

/// `Fn::Sub` strings of a CloudFormation document, unwrapped.
fn unsub(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Fn::Sub") => {
            map["Fn::Sub"].clone()
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), unsub(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(unsub).collect()),
        other => other.clone(),
    }
}

#[test]
fn terraform_configuration_declares_the_provider_roles_and_policies() {
    for access in [Access::Default, Access::LeastPrivilege] {
        let tf_input = input(&Plan::ALL, access);
        let hcl = parse_hcl(&terraform(&tf_input).unwrap());
        let cfn: Value = serde_json::from_str(&cloudformation(&tf_input).unwrap()).unwrap();
        let resources = &hcl["resource"];

        assert_eq!(
            hcl["provider"]["aws"]["allowed_account_ids"],
            serde_json::json!(["123456789012"])
        );
        let provider = &resources["aws_iam_openid_connect_provider"]["rampart"];
        assert_eq!(provider["url"], ISSUER);
        assert_eq!(
            provider["thumbprint_list"],
            serde_json::json!(["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
        );
        let audiences: BTreeSet<String> =
            strings(&provider["client_id_list"]).into_iter().collect();
        assert_eq!(
            audiences,
            Plan::ALL.iter().map(|p| p.audience().to_owned()).collect()
        );

        // Roles: one per plan role, trust policies equal to CloudFormation's
        // and evaluated like IAM does.
        let tf_roles = resources["aws_iam_role"].as_object().unwrap();
        let expected_roles: usize = Plan::ALL.iter().map(|p| p.roles().len()).sum();
        assert_eq!(tf_roles.len(), expected_roles);
        let mut by_name = BTreeMap::new();
        for (label, role) in tf_roles {
            let name = role["name"].as_str().unwrap().to_owned();
            by_name.insert(
                name.clone(),
                (label.clone(), tf_policy(&role["assume_role_policy"])),
            );
        }
        let trusts: BTreeMap<String, Value> = by_name
            .iter()
            .map(|(n, (_, t))| (n.clone(), t.clone()))
            .collect();
        let resolver = |principal: &Value| {
            (principal == "${aws_iam_openid_connect_provider.rampart.arn}")
                .then(|| provider["url"].as_str().unwrap().to_owned())
        };
        check_trust(
            &trusts,
            &resolver,
            &Plan::ALL,
            "Rampart_prod",
            &["Rampart_other"],
        );
        let cfn_trusts = cfn_roles(&cfn);
        for (name, trust) in &trusts {
            let mut cfn_trust = unsub(&cfn_trusts[name]);
            if cfn_trust.to_string().contains("RampartOidcProvider") {
                cfn_trust["Statement"][0]["Principal"]["Federated"] =
                    Value::String("${aws_iam_openid_connect_provider.rampart.arn}".into());
            }
            assert_eq!(&tf_to_cfn(trust), &cfn_trust, "{name}");
        }

        // Permissions: each role's attached and inline documents.
        let attachments = resources["aws_iam_role_policy_attachment"]
            .as_object()
            .unwrap();
        let policies = resources["aws_iam_policy"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let inline = resources["aws_iam_role_policy"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let cspm_label = &by_name["CspmMonitorAws"].0;
        let role_ref = format!("${{aws_iam_role.{cspm_label}.name}}");
        let attached: Vec<String> = attachments
            .values()
            .filter(|a| a["role"] == role_ref.as_str())
            .map(|a| a["policy_arn"].as_str().unwrap().to_owned())
            .collect();
        let documents: Vec<Value> = attached
            .iter()
            .filter_map(|arn| {
                let label = arn
                    .strip_prefix("${aws_iam_policy.")?
                    .strip_suffix(".arn}")?;
                Some(tf_policy(&policies[label]["policy"]))
            })
            .collect();
        let cfn_cspm_documents: Vec<Value> = cfn["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(id, r)| {
                id.starts_with("CspmMonitorAwsPolicy") && r["Type"] == "AWS::IAM::ManagedPolicy"
            })
            .map(|(_, r)| unsub(&r["Properties"]["PolicyDocument"]))
            .collect();
        assert_eq!(
            documents.iter().map(tf_to_cfn).collect::<Vec<_>>(),
            cfn_cspm_documents
        );
        match access {
            Access::Default => {
                assert!(
                    attached.iter().any(|a| a
                        == "arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"),
                    "{attached:?}"
                );
                assert!(documents.is_empty());
                let deny = inline
                    .values()
                    .find(|p| p["role"] == format!("${{aws_iam_role.{cspm_label}.id}}").as_str())
                    .map(|p| tf_policy(&p["policy"]))
                    .expect("billing deny");
                let statement = &deny["Statement"][0];
                assert_eq!(statement["Effect"], "Deny");
                let denied: BTreeSet<String> = strings(&statement["Action"]).into_iter().collect();
                for action in [
                    "consolidatedbilling:*",
                    "freetier:*",
                    "invoicing:*",
                    "payments:*",
                    "billing:*",
                    "tax:*",
                    "cur:*",
                ] {
                    assert!(denied.contains(action), "{action}");
                }
            }
            Access::LeastPrivilege => {
                assert!(!attached.iter().any(|a| a.contains("ReadOnlyAccess")));
                let declared: BTreeSet<String> = rampart_aws::collectors::all_operations()
                    .map(|op| op.action.to_owned())
                    .collect();
                assert_eq!(allowed_actions(&documents), declared);
                for document in &documents {
                    // IAM counts characters without whitespace.
                    assert!(document.to_string().len() <= 6_144);
                }
            }
        }
        // Outputs: every role's ARN and the provider's.
        let outputs = hcl["output"].as_object().unwrap();
        assert_eq!(outputs.len(), expected_roles + 1);
        assert_eq!(
            outputs["oidc_provider_arn"]["value"],
            "${aws_iam_openid_connect_provider.rampart.arn}"
        );
    }
    // An organization is CloudFormation's (StackSet) job.
    let err = terraform(&organization(input(&[Plan::Cspm], Access::Default), &[])).unwrap_err();
    assert!(err.to_string().contains("cloudformation"));
}

#[test]
fn organization_stackset_targets_the_organization_and_deploys_member_roles() {
    let org_input = organization(input(&Plan::ALL, Access::Default), &["210987654321"]);
    let outer: Value = serde_json::from_str(&cloudformation(&org_input).unwrap()).unwrap();
    let stackset = &outer["Resources"]["RampartMemberStackSet"];
    assert_eq!(stackset["Type"], "AWS::CloudFormation::StackSet");
    let props = &stackset["Properties"];
    assert_eq!(props["PermissionModel"], "SERVICE_MANAGED");
    assert_eq!(props["AutoDeployment"]["Enabled"], true);
    assert_eq!(props["StackSetName"], "Rampart-Members");
    let targets = &props["StackInstancesGroup"][0]["DeploymentTargets"];
    assert_eq!(
        targets["OrganizationalUnitIds"]["Ref"],
        "OrganizationalUnitIds"
    );
    assert_eq!(targets["AccountFilterType"], "DIFFERENCE");
    assert_eq!(targets["Accounts"], serde_json::json!(["210987654321"]));
    assert_eq!(
        outer["Parameters"]["OrganizationalUnitIds"]["Type"],
        "CommaDelimitedList"
    );
    // The management account's own roles are in the outer template, bound to
    // its account; the member template has the same roles and no account rule.
    assert!(outer["Rules"]["ConnectorAccount"].is_object());
    let member: Value = serde_json::from_str(props["TemplateBody"].as_str().unwrap()).unwrap();
    assert!(member.get("Rules").is_none());
    assert_eq!(
        cfn_roles(&member).keys().collect::<Vec<_>>(),
        cfn_roles(&outer).keys().collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------- deploy/

// The deployment files users copy (deploy/: the Dockerfile, the Compose
// file with its nginx configuration, the Kubernetes manifests), checked by
// the linters `scripts/tools-env.sh` installs, all offline: yamllint,
// kubernetes-validate (the Kubernetes API schemas it bundles), check-jsonschema
// (the Compose Specification's schema it vendors), hadolint and crossplane
// (nginx's directive table). docs/deploy.md describes the files.

fn deploy_dir() -> PathBuf {
    rampart_testkit::workspace_root().join("deploy")
}

/// Runs a venv tool in deploy/ and returns its stdout; a failure (exit
/// status other than 0) fails the test with everything the tool printed.
fn lint(tool: &str, args: &[&str]) -> String {
    let output = Command::new(venv_tool(tool))
        .args(args)
        .current_dir(deploy_dir())
        .output()
        .unwrap_or_else(|e| panic!("run {tool} (scripts/tools-env.sh installs it): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{tool} {args:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The Kubernetes manifests, relative to deploy/, sorted.
fn k8s_manifests() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(deploy_dir().join("k8s"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .map(|name| format!("k8s/{name}"))
        .collect();
    files.sort();
    files
}

/// Every document of a YAML file, as JSON (read by the venv's PyYAML).
fn yaml_documents(path: &str) -> Vec<Value> {
    let output = Command::new(rampart_testkit::python())
        .args([
            "-c",
            "import json, sys, yaml\n\
             with open(sys.argv[1]) as f:\n    \
                 json.dump([d for d in yaml.safe_load_all(f) if d is not None], sys.stdout)",
            path,
        ])
        .current_dir(deploy_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{path} does not parse: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn deployment_yaml_passes_yamllint() {
    // Every YAML file of deploy/ is linted: the Compose file, the manifests
    // and yamllint's own configuration.
    let listed = lint("yamllint", &["-c", ".yamllint.yaml", "--list-files", "."]);
    let listed: BTreeSet<&str> = listed.lines().map(|l| l.trim_start_matches("./")).collect();
    let mut expected = k8s_manifests();
    expected.push("docker-compose.yml".into());
    expected.push(".yamllint.yaml".into());
    for file in &expected {
        assert!(
            listed.contains(file.as_str()),
            "yamllint skips {file}: {listed:?}"
        );
    }
    // --strict: warnings fail too.
    lint(
        "yamllint",
        &["--strict", "-f", "parsable", "-c", ".yamllint.yaml", "."],
    );
}

#[test]
fn kubernetes_manifests_match_the_kubernetes_api_schemas() {
    let files = k8s_manifests();
    // The oldest Kubernetes release still in common support and the newest
    // the package bundles; --strict rejects fields the API does not know.
    for version in ["1.30.0", "1.37.0"] {
        let mut args = vec!["--strict", "-k", version];
        args.extend(files.iter().map(String::as_str));
        let report = lint("kubernetes-validate", &args);
        for resource in [
            "configmap/rampart",
            "secret/rampart-db",
            "deployment/rampart-serve",
            "service/rampart-serve",
            "deployment/rampart-worker",
            "ingress/rampart",
        ] {
            assert!(
                report.contains(&format!("passed for resource {resource} ")),
                "kubernetes-validate did not check {resource} against {version}:\n{report}"
            );
        }
    }
}

#[test]
fn kubernetes_pods_run_unprivileged_with_limits_and_health_probes() {
    let mut deployments = BTreeMap::new();
    for file in k8s_manifests() {
        for doc in yaml_documents(&file) {
            if doc["kind"] == "Deployment" {
                deployments.insert(doc["metadata"]["name"].as_str().unwrap().to_owned(), doc);
            }
        }
    }
    assert_eq!(
        deployments.keys().collect::<Vec<_>>(),
        ["rampart-serve", "rampart-worker"]
    );
    for (name, deployment) in &deployments {
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        assert!(
            pod["securityContext"]["runAsUser"].as_u64().unwrap() > 0,
            "{name}"
        );
        assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
        let containers = pod["containers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(pod["initContainers"].as_array().unwrap());
        for container in containers {
            let what = format!("{name}/{}", container["name"]);
            let security = &container["securityContext"];
            assert_eq!(security["allowPrivilegeEscalation"], false, "{what}");
            assert_eq!(security["readOnlyRootFilesystem"], true, "{what}");
            assert_eq!(
                security["capabilities"]["drop"],
                serde_json::json!(["ALL"]),
                "{what}"
            );
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(
                        container["resources"][bound][resource].is_string(),
                        "{what}: no {bound}.{resource}"
                    );
                }
            }
        }
    }
    // The server's probes ask its real health route: public, no token.
    let router =
        std::fs::read_to_string(rampart_testkit::workspace_root().join("crates/server/src/lib.rs"))
            .unwrap();
    assert!(router.contains(".route(\"/healthz\", get(healthz))"));
    let serve = &deployments["rampart-serve"]["spec"]["template"]["spec"]["containers"][0];
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(serve[probe]["httpGet"]["path"], "/healthz", "{probe}");
        assert_eq!(serve[probe]["httpGet"]["port"], "http", "{probe}");
    }
    assert_eq!(serve["args"][0], "serve");
    // A worker drains on SIGTERM: its grace period lets a scan finish.
    let worker_pod = &deployments["rampart-worker"]["spec"]["template"]["spec"];
    assert!(
        worker_pod["terminationGracePeriodSeconds"]
            .as_u64()
            .unwrap()
            >= 600
    );
    let args = &worker_pod["containers"][0]["args"];
    assert_eq!(args[0], "worker");
    assert_eq!(args[1], "--db");
}

#[test]
fn compose_file_matches_the_compose_specification() {
    let report = lint(
        "check-jsonschema",
        &[
            "--builtin-schema",
            "vendor.compose-spec",
            "docker-compose.yml",
        ],
    );
    assert!(report.contains("ok -- validation done"), "{report}");
    let compose = &yaml_documents("docker-compose.yml")[0];
    let services = &compose["services"];
    assert_eq!(services["postgres"]["image"], "postgres:15");
    assert!(services["serve"]["deploy"]["replicas"].as_u64().unwrap() >= 2);
    assert!(services["worker"]["deploy"]["replicas"].as_u64().unwrap() >= 1);
    assert!(
        services["worker"]["command"][0]
            .as_str()
            .unwrap()
            .starts_with("exec rampart worker --db ")
    );
    for name in ["serve", "worker"] {
        assert_eq!(services[name]["user"], "10001:10001", "{name}");
        assert_eq!(services[name]["read_only"], true, "{name}");
    }
    // The proxy's configuration is the file crossplane checks below.
    assert!(
        services["proxy"]["volumes"]
            .as_array()
            .unwrap()
            .contains(&Value::from("./nginx.conf:/etc/nginx/nginx.conf:ro"))
    );
}

#[test]
fn dockerfile_passes_hadolint() {
    let report = lint(
        "hadolint",
        &["--no-color", "--format", "json", "Dockerfile"],
    );
    let findings: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(findings, serde_json::json!([]), "hadolint: {report}");
}

#[test]
fn nginx_configuration_parses_with_nginx_directives() {
    // --strict: an unknown directive is an error. crossplane's directive
    // table predates nginx 1.25.1's `http2` directive, the one it is told
    // to skip.
    let report = lint(
        "crossplane",
        &["parse", "--strict", "--ignore", "http2", "nginx.conf"],
    );
    let parsed: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(parsed["status"], "ok", "{report}");
    assert_eq!(parsed["errors"], serde_json::json!([]), "{report}");
    assert!(report.contains("\"proxy_pass\""), "{report}");
}
