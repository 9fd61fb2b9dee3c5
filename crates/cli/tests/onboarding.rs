//! `rampart connector template`, and the least-privilege policy against
//! reality: every request a demo scan sends to moto, read back from moto's
//! recorder and mapped to its IAM action from the wire (not from the
//! collectors' declarations), must be allowed by the generated policy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine as _;
use rampart_testkit::{Moto, describe, rampart};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

/// A stored connector and an issuer in a fresh directory.
fn setup(dir: &std::path::Path, plans: &str, issuer_url: &str) -> (String, String) {
    let db = dir.join("rampart.db").display().to_string();
    let keys = dir.join("keys");
    rampart_identity::Issuer::init(&keys, issuer_url).unwrap();
    let out = rampart(
        BIN,
        &[
            "connector",
            "create",
            "--name",
            "prod",
            "--account",
            "123456789012",
            "--plans",
            plans,
            "--db",
            &db,
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    (db, keys.display().to_string())
}

fn template(db: &str, keys: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "connector",
        "template",
        "prod",
        "--db",
        db,
        "--keys-dir",
        keys,
    ];
    args.extend_from_slice(extra);
    rampart(BIN, &args)
}

#[test]
fn template_command_writes_the_connectors_template() {
    let dir = tempfile::tempdir().unwrap();
    let (db, keys) = setup(dir.path(), "cspm,servers", "https://rampart.example.com");

    let out = template(&db, &keys, &["--thumbprint", THUMBPRINT]);
    assert!(out.status.success(), "{}", describe(&out));
    let cfn: Value = serde_json::from_slice(&out.stdout).unwrap();
    let roles: BTreeMap<&str, &Value> = cfn["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .map(|r| (r["Properties"]["RoleName"].as_str().unwrap(), r))
        .collect();
    assert_eq!(
        roles.keys().copied().collect::<Vec<_>>(),
        vec![
            "CspmMonitorAws",
            "RampartServers",
            "RampartServersProvisioning"
        ]
    );
    let condition = &roles["CspmMonitorAws"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        [0]["Condition"]["StringEquals"];
    assert_eq!(condition["rampart.example.com:aud"], "rampart-cspm");
    assert_eq!(condition["sts:RoleSessionName"], "Rampart_prod");
    let provider = &cfn["Resources"]["RampartOidcProvider"]["Properties"];
    assert_eq!(provider["Url"], "https://rampart.example.com");
    assert_eq!(provider["ThumbprintList"][0], THUMBPRINT);

    // Terraform to a file, least privilege.
    let file = dir.path().join("rampart.tf");
    let out = template(
        &db,
        &keys,
        &[
            "--thumbprint",
            THUMBPRINT,
            "--format",
            "terraform",
            "--access",
            "least-privilege",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("terraform apply"));
    let hcl = std::fs::read_to_string(&file).unwrap();
    assert!(hcl.contains("resource \"aws_iam_openid_connect_provider\" \"rampart\""));
    assert!(hcl.contains("\"iam:GetAccountAuthorizationDetails\""));
    assert!(!hcl.contains("ReadOnlyAccess"));

    // Errors: unknown connector (3), bad thumbprint (2), no issuer (2), and
    // an unreachable issuer host without `--thumbprint` (2, pointing at it).
    let out = rampart(
        BIN,
        &[
            "connector",
            "template",
            "nope",
            "--db",
            &db,
            "--keys-dir",
            &keys,
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let out = template(&db, &keys, &["--thumbprint", "xyz"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("thumbprint `xyz`"));
    let empty = dir.path().join("no-keys").display().to_string();
    let out = template(&db, &empty, &["--thumbprint", THUMBPRINT]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("issuer"));

    let dir2 = tempfile::tempdir().unwrap();
    let (db2, keys2) = setup(dir2.path(), "cspm", "https://rampart.invalid");
    let out = template(&db2, &keys2, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--thumbprint"),
        "{}",
        describe(&out)
    );
}

// ------------------------------------------------- least privilege vs reality

fn moto_post(url: &str, path: &str) {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

fn form_value(text: &str, key: &str) -> Option<String> {
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

/// The IAM action of a REST request, from the services' REST API
/// references (method and path, or S3's sub-resource query parameter).
fn rest_action(service: &str, method: &str, path: &str, query: &[&str]) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let s3_subresource = |q: &str| -> Option<&'static str> {
        Some(match q {
            "location" => "GetBucketLocation",
            "policy" => "GetBucketPolicy",
            "policyStatus" => "GetBucketPolicyStatus",
            "acl" => "GetBucketAcl",
            "encryption" => "GetEncryptionConfiguration",
            "lifecycle" => "GetLifecycleConfiguration",
            "logging" => "GetBucketLogging",
            "notification" => "GetBucketNotification",
            "ownershipControls" => "GetBucketOwnershipControls",
            "replication" => "GetReplicationConfiguration",
            "tagging" => "GetBucketTagging",
            "versioning" => "GetBucketVersioning",
            "object-lock" => "GetBucketObjectLockConfiguration",
            "publicAccessBlock" => "GetBucketPublicAccessBlock",
            _ => return None,
        })
    };
    match (service, method, segments.as_slice()) {
        ("s3", "GET", ["v20180820", "configuration", "publicAccessBlock"]) => {
            Some("GetAccountPublicAccessBlock")
        }
        ("s3", "GET", [""]) => Some("ListAllMyBuckets"),
        ("s3", "GET", [_bucket]) => query.iter().find_map(|q| s3_subresource(q)),
        ("lambda", "GET", ["2015-03-31", "functions"]) => Some("ListFunctions"),
        ("lambda", "GET", ["2015-03-31", "functions", _, "policy"]) => Some("GetPolicy"),
        ("lambda", "GET", ["2017-03-31", "tags", ..]) => Some("ListTags"),
        ("eks", "GET", ["clusters"]) => Some("ListClusters"),
        ("eks", "GET", ["clusters", _]) => Some("DescribeCluster"),
        ("elasticfilesystem", "GET", ["2015-02-01", "file-systems"]) => Some("DescribeFileSystems"),
        ("elasticfilesystem", "GET", ["2015-02-01", "file-systems", _, "backup-policy"]) => {
            Some("DescribeBackupPolicy")
        }
        ("elasticfilesystem", "GET", ["2015-02-01", "access-points"]) => {
            Some("DescribeAccessPoints")
        }
        ("guardduty", "GET", ["detector"]) => Some("ListDetectors"),
        ("guardduty", "GET", ["detector", _]) => Some("GetDetector"),
        ("securityhub", "GET", ["accounts"]) => Some("DescribeHub"),
        ("securityhub", "POST", ["standards", "get"]) => Some("GetEnabledStandards"),
        ("access-analyzer", "GET", ["analyzer"]) => Some("ListAnalyzers"),
        // OpenSearch Service (signing name and IAM prefix `es`).
        ("es", "GET", ["2021-01-01", "domain"]) => Some("ListDomainNames"),
        ("es", "POST", ["2021-01-01", "opensearch", "domain-info"]) => Some("DescribeDomains"),
        ("kafka", "GET", ["api", "v2", "clusters"]) => Some("ListClustersV2"),
        ("kafkaconnect", "GET", ["v1", "connectors"]) => Some("ListConnectors"),
        // --- wt-gov ---
        ("inspector2", "POST", ["status", "batch", "get"]) => Some("BatchGetAccountStatus"),
        ("macie2", "GET", ["macie"]) => Some("GetMacieSession"),
        ("backup", "GET", ["backup-vaults"]) => Some("ListBackupVaults"),
        ("backup", "GET", ["backup-vaults", _, "recovery-points"]) => {
            Some("ListRecoveryPointsByBackupVault")
        }
        ("backup", "GET", ["resources"]) => Some("ListProtectedResources"),
        ("backup", "GET", ["backup-vaults", _, "access-policy"]) => {
            Some("GetBackupVaultAccessPolicy")
        }
        ("backup", "GET", ["backup", "plans"]) => Some("ListBackupPlans"),
        ("backup", "GET", ["backup", "plans", _]) => Some("GetBackupPlan"),
        ("account", "POST", ["getAlternateContact"]) => Some("GetAlternateContact"),
        ("connect", "GET", ["instance"]) => Some("ListInstances"),
        ("connect", "GET", ["instance", _, "attribute", _]) => Some("DescribeInstanceAttribute"),
        ("bedrock", "GET", ["logging", "modelinvocations"]) => {
            Some("GetModelInvocationLoggingConfiguration")
        }
        ("bedrock", "GET", ["guardrails"]) => Some("ListGuardrails"),
        ("codeartifact", "POST", ["v1", "repositories"]) => Some("ListRepositories"),
        ("codeartifact", "GET", ["v1", "repository", "permissions", "policy"]) => {
            Some("GetRepositoryPermissionsPolicy")
        }
        // API Gateway REST and v2 reads are all `apigateway:GET`.
        ("apigateway", "GET", ["restapis", ..] | ["v2", "apis", ..]) => Some("GET"),
        ("appsync", "GET", ["v1", "apis"]) => Some("ListGraphqlApis"),
        ("appsync", "GET", ["v1", "apis", _, "ApiCaches"]) => Some("GetApiCache"),
        ("mq", "GET", ["v1", "brokers"]) => Some("ListBrokers"),
        ("mq", "GET", ["v1", "brokers", _]) => Some("DescribeBroker"),
        // --- wt-edge ---
        ("s3", "HEAD", [_bucket]) => Some("ListBucket"),
        ("cloudfront", "GET", ["2020-05-31", "distribution"]) => Some("ListDistributions"),
        ("cloudfront", "GET", ["2020-05-31", "distribution", _, "config"]) => {
            Some("GetDistributionConfig")
        }
        ("route53", "GET", ["2013-04-01", "hostedzone"]) => Some("ListHostedZones"),
        ("route53", "GET", ["2013-04-01", "queryloggingconfig"]) => Some("ListQueryLoggingConfigs"),
        ("route53", "GET", ["2013-04-01", "hostedzone", _, "dnssec"]) => Some("GetDNSSEC"),
        _ => None,
    }
}

/// The IAM action a recorded request needs: the service is the SigV4
/// credential scope's, the action the `X-Amz-Target` operation (JSON
/// protocols), the `Action` parameter (query protocols) or the REST route.
fn iam_action(entry: &Value) -> String {
    let headers = &entry["headers"];
    let authorization =
        header(headers, "Authorization").unwrap_or_else(|| panic!("unsigned request {entry}"));
    let scope = authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split([',', ' ']).next())
        .unwrap();
    // access-key/date/region/service/aws4_request
    let service = scope.split('/').nth(3).unwrap();
    // Where the signing name and the IAM prefix differ.
    let service = match service {
        "monitoring" => "cloudwatch",
        other => other,
    };
    if let Some(target) = header(headers, "X-Amz-Target") {
        return format!("{service}:{}", target.rsplit('.').next().unwrap());
    }
    let raw_url = entry["url"].as_str().unwrap();
    let after_host = raw_url.split_once("://").map_or(raw_url, |(_, rest)| {
        rest.find('/').map_or("/", |i| &rest[i..])
    });
    let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
    let body = match (entry["body"].as_str(), entry["body_encoded"].as_bool()) {
        (Some(b), Some(true)) => {
            String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(b).unwrap())
                .into_owned()
        }
        (Some(b), _) => b.to_owned(),
        _ => String::new(),
    };
    if let Some(action) = form_value(&body, "Action").or_else(|| form_value(query, "Action")) {
        return format!("{service}:{action}");
    }
    let method = entry["method"].as_str().unwrap();
    let query_keys: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap())
        .filter(|k| *k != "x-id")
        .collect();
    let action = rest_action(service, method, path, &query_keys).unwrap_or_else(|| {
        panic!("no IAM action known for {service} {method} {raw_url}; add its route to rest_action")
    });
    format!("{service}:{action}")
}

/// IAM's action matching: case-insensitive, `*` and `?` wildcards.
fn action_matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match p.first() {
            None => a.is_empty(),
            Some(b'*') => (0..=a.len()).any(|i| go(&p[1..], &a[i..])),
            Some(b'?') => !a.is_empty() && go(&p[1..], &a[1..]),
            Some(c) => a.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && go(&p[1..], &a[1..]),
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("not a string or list: {other}"),
    }
}

/// The documents of a role's policies in a CloudFormation template: its
/// customer managed policies (by `Ref`) and inline policies. AWS managed
/// policies are not expanded: least privilege must not need them.
fn role_documents(template: &Value, role_name: &str) -> (Vec<Value>, Vec<String>) {
    let resources = template["Resources"].as_object().unwrap();
    let role = resources
        .values()
        .find(|r| r["Type"] == "AWS::IAM::Role" && r["Properties"]["RoleName"] == role_name)
        .unwrap();
    let mut documents = Vec::new();
    let mut aws_managed = Vec::new();
    for arn in role["Properties"]["ManagedPolicyArns"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(id) = arn["Ref"].as_str() {
            assert_eq!(resources[id]["Type"], "AWS::IAM::ManagedPolicy");
            documents.push(resources[id]["Properties"]["PolicyDocument"].clone());
        } else {
            aws_managed.push(arn.to_string());
        }
    }
    for inline in role["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        documents.push(inline["PolicyDocument"].clone());
    }
    (documents, aws_managed)
}

fn allowed(documents: &[Value], action: &str) -> bool {
    let statements: Vec<&Value> = documents
        .iter()
        .flat_map(|d| d["Statement"].as_array().unwrap())
        .filter(|s| list(&s["Action"]).iter().any(|p| action_matches(p, action)))
        .collect();
    let denied = statements.iter().any(|s| s["Effect"] == "Deny");
    let allowed = statements
        .iter()
        .any(|s| s["Effect"] == "Allow" && list(&s["Resource"]) == ["*"]);
    allowed && !denied
}

#[test]
fn least_privilege_policy_allows_every_call_of_a_demo_scan() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("moto-recording.jsonl");
    let moto = Moto::start_with_env(&[("MOTO_RECORDER_FILEPATH", recording.to_str().unwrap())]);
    moto.seed_demo();
    moto_post(&moto.url(), "/moto-api/recorder/start-recording");

    let db = dir.path().join("rampart.db").display().to_string();
    let out = rampart(
        BIN,
        &[
            "scan",
            "--endpoint-url",
            &moto.url(),
            "--regions",
            "us-east-1,eu-west-1",
            "--db",
            &db,
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    moto_post(&moto.url(), "/moto-api/recorder/stop-recording");

    let text = std::fs::read_to_string(&recording).unwrap();
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let entry: Value = serde_json::from_str(line).unwrap();
        *calls.entry(iam_action(&entry)).or_default() += 1;
    }
    let services: BTreeSet<&str> = calls.keys().map(|a| a.split(':').next().unwrap()).collect();
    for service in [
        "sts",
        "iam",
        "s3",
        "ec2",
        "kms",
        "lambda",
        "eks",
        "elasticfilesystem",
        "dynamodb",
    ] {
        assert!(
            services.contains(service),
            "no {service} call recorded: {calls:?}"
        );
    }
    assert!(
        calls.len() >= 40,
        "only {} distinct actions: {calls:?}",
        calls.len()
    );
    eprintln!("recorded calls by IAM action: {calls:?}");

    let input = rampart_onboarding::TemplateInput {
        account_id: "123456789012".into(),
        connector_name: "prod".into(),
        issuer_url: "https://rampart.example.com".into(),
        thumbprints: vec![THUMBPRINT.into()],
        plans: vec![rampart_onboarding::PlanInput::with_default_names(
            rampart_connector::Plan::Cspm,
        )],
        access: rampart_onboarding::Access::LeastPrivilege,
        organization: None,
    };
    let template: Value =
        serde_json::from_str(&rampart_onboarding::cloudformation(&input).unwrap()).unwrap();
    let (documents, aws_managed) = role_documents(&template, "CspmMonitorAws");
    assert!(aws_managed.is_empty(), "{aws_managed:?}");
    let refused: Vec<&String> = calls.keys().filter(|a| !allowed(&documents, a)).collect();
    assert!(
        refused.is_empty(),
        "the least-privilege policy refuses calls a scan makes: {refused:?}"
    );
    // The check can fail: an action outside the policy is refused.
    assert!(!allowed(&documents, "s3:GetObject"));
    assert!(!allowed(&documents, "iam:CreateUser"));
}
