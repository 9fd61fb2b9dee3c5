//! Scans the demo account (docs/demo-account.md) in moto and checks that the
//! inventory says what the seed script did: names, regions and the
//! properties every later assessment depends on.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeSet;

use rampart_testkit::{Moto, describe, rampart, stdout_json};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

struct Inventory(Vec<Value>);

impl Inventory {
    fn of_type(&self, ty: &str) -> Vec<&Value> {
        self.0.iter().filter(|a| a["type"] == ty).collect()
    }

    fn names(&self, ty: &str) -> BTreeSet<String> {
        self.of_type(ty)
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    }

    fn get(&self, ty: &str, name: &str) -> &Value {
        let found: Vec<&Value> = self
            .of_type(ty)
            .into_iter()
            .filter(|a| a["name"] == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {ty} named {name}, found {}",
            found.len()
        );
        found[0]
    }

    fn in_region(&self, ty: &str, region: &str) -> &Value {
        let found: Vec<&Value> = self
            .of_type(ty)
            .into_iter()
            .filter(|a| a["region"] == region)
            .collect();
        assert_eq!(found.len(), 1, "expected one {ty} in {region}");
        found[0]
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn demo_account_inventory_matches_the_seed() {
    let moto = Moto::start();
    moto.seed_demo();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db").display().to_string();
    let scan = rampart(
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
    assert_eq!(scan.status.code(), Some(0), "{}", describe(&scan));
    let summary = String::from_utf8_lossy(&scan.stdout);
    // moto does not implement SSM DescribeInstanceInformation: a gap in both regions, shown in the summary.
    let ssm_gaps = summary
        .lines()
        .filter(|l| l.contains("DescribeInstanceInformation") && l.contains("not_implemented"))
        .count();
    assert_eq!(ssm_gaps, 2, "{summary}");

    let inv = Inventory(
        stdout_json(&rampart(
            BIN,
            &["inventory", "--db", &db, "--format", "json"],
        ))
        .as_array()
        .unwrap()
        .clone(),
    );
    assert!(inv.0.iter().all(|a| a["account"] == "123456789012"));

    // IAM
    assert_eq!(
        inv.names("AWS::IAM::User"),
        set(&[
            "alice",
            "bob",
            "ci-deployer",
            "demo-group-admin",
            "demo-inline-user",
            "demo-key-two-active",
            "demo-key-unused"
        ])
    );
    let alice = &inv.get("AWS::IAM::User", "alice")["properties"];
    assert_eq!(
        (&alice["passwordEnabled"], &alice["mfaActive"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        inv.get("AWS::IAM::User", "bob")["properties"]["mfaActive"],
        true
    );
    let deployer = &inv.get("AWS::IAM::User", "ci-deployer")["properties"];
    assert_eq!(
        deployer["attachedManagedPolicies"][0]["policyArn"],
        "arn:aws:iam::aws:policy/AdministratorAccess"
    );
    let two_keys = &inv.get("AWS::IAM::User", "demo-key-two-active")["properties"]["accessKeys"];
    assert_eq!(
        two_keys
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["status"] == "Active")
            .count(),
        2
    );
    assert_eq!(inv.names("AWS::IAM::Group"), set(&["admins", "readers"]));
    let admin_policy = &inv.get("AWS::IAM::ManagedPolicy", "demo-full-admin")["properties"]["defaultVersionDocument"];
    assert_eq!(admin_policy["Statement"][0]["Action"], "*");
    assert_eq!(inv.of_type("AWS::IAM::Role").len(), 10);
    let trust_any =
        &inv.get("AWS::IAM::Role", "demo-role-trust-any")["properties"]["assumeRolePolicyDocument"];
    assert_eq!(trust_any["Statement"][0]["Principal"]["AWS"], "*");
    let policy = &inv.in_region("Rampart::IAM::PasswordPolicy", "us-east-1")["properties"];
    assert_eq!(
        (&policy["configured"], &policy["minimumPasswordLength"]),
        (&json!(true), &json!(8))
    );
    // moto has no root row in the credential report: unavailable, never "fine".
    let root = inv.in_region("Rampart::IAM::RootAccount", "us-east-1");
    assert!(
        root["unavailable"].get("credentialReport").is_some(),
        "{root}"
    );

    // S3
    assert_eq!(
        inv.names("AWS::S3::Bucket"),
        set(&[
            "demo-eu-bucket",
            "demo-log-bucket",
            "demo-private-bucket",
            "demo-public-bucket"
        ])
    );
    assert_eq!(
        inv.get("AWS::S3::Bucket", "demo-eu-bucket")["region"],
        "eu-west-1"
    );
    let public = inv.get("AWS::S3::Bucket", "demo-public-bucket");
    assert_eq!(public["tags"]["env"], "prod");
    let p = &public["properties"];
    assert_eq!(
        (&p["aclAllowsPublic"], &p["policyIsPublic"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(
        (&p["encryption"], &p["publicAccessBlock"], &p["logging"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    let private = &inv.get("AWS::S3::Bucket", "demo-private-bucket")["properties"];
    assert_eq!(private["publicAccessBlock"]["restrictPublicBuckets"], true);
    assert_eq!(private["encryption"]["rules"][0]["sseAlgorithm"], "aws:kms");
    assert_eq!(private["logging"]["targetBucket"], "demo-log-bucket");
    assert_eq!(private["aclAllowsPublic"], false);
    let account_bpa =
        &inv.in_region("Rampart::S3::AccountPublicAccessBlock", "us-east-1")["properties"];
    assert_eq!(account_bpa["configured"], false);

    // EC2
    let imdsv1 = inv.get("AWS::EC2::Instance", "demo-imdsv1");
    assert_eq!(imdsv1["region"], "us-east-1");
    assert_eq!(
        imdsv1["properties"]["metadataOptions"]["httpTokens"],
        "optional"
    );
    assert!(imdsv1["properties"]["publicIpAddress"].is_string());
    assert_eq!(imdsv1["properties"]["iamInstanceProfile"], Value::Null);
    let imdsv2 = &inv.get("AWS::EC2::Instance", "demo-imdsv2")["properties"];
    assert_eq!(imdsv2["metadataOptions"]["httpTokens"], "required");
    assert!(
        imdsv2["iamInstanceProfile"]["arn"]
            .as_str()
            .unwrap()
            .ends_with("instance-profile/demo-ec2-profile")
    );
    assert_eq!(
        inv.get("AWS::EC2::Instance", "demo-eu-imdsv1")["region"],
        "eu-west-1"
    );
    let ssh =
        &inv.get("AWS::EC2::SecurityGroup", "demo-open-ssh")["properties"]["ipPermissions"][0];
    assert_eq!(
        (
            &ssh["fromPort"],
            &ssh["toPort"],
            &ssh["ipRanges"][0]["cidrIp"]
        ),
        (&json!(22), &json!(22), &json!("0.0.0.0/0"))
    );
    let rdp =
        &inv.get("AWS::EC2::SecurityGroup", "demo-open-rdp")["properties"]["ipPermissions"][0];
    assert_eq!(
        (&rdp["fromPort"], &rdp["ipv6Ranges"][0]["cidrIpv6"]),
        (&json!(3389), &json!("::/0"))
    );
    assert_eq!(
        inv.get("AWS::EC2::Volume", "demo-unencrypted-vol")["properties"]["encrypted"],
        false
    );
    assert_eq!(
        inv.get("AWS::EC2::Volume", "demo-encrypted-vol")["properties"]["encrypted"],
        true
    );
    assert_eq!(
        inv.get("AWS::EC2::Snapshot", "demo-public-snapshot")["properties"]["public"],
        true
    );
    assert_eq!(
        inv.get("AWS::EC2::Snapshot", "demo-private-snapshot")["properties"]["public"],
        false
    );
    assert_eq!(
        inv.get("AWS::EC2::Image", "demo-public-ami")["properties"]["public"],
        true
    );
    assert_eq!(
        inv.get("AWS::EC2::Image", "demo-private-ami")["properties"]["public"],
        false
    );
    assert_eq!(
        inv.in_region("Rampart::EC2::EbsEncryptionByDefault", "us-east-1")["properties"]["ebsEncryptionByDefault"],
        false
    );
    assert_eq!(
        inv.in_region("Rampart::EC2::EbsEncryptionByDefault", "eu-west-1")["properties"]["ebsEncryptionByDefault"],
        true
    );
    let vpcs_with_flow_logs = inv
        .of_type("AWS::EC2::VPC")
        .iter()
        .filter(|v| {
            v["properties"]["flowLogs"]
                .as_array()
                .is_some_and(|f| !f.is_empty())
        })
        .count();
    assert_eq!(
        (inv.of_type("AWS::EC2::VPC").len(), vpcs_with_flow_logs),
        (4, 2),
        "demo VPCs have flow logs, default VPCs don't"
    );

    // CloudTrail
    let trail = inv.get("AWS::CloudTrail::Trail", "demo-trail");
    assert_eq!(trail["region"], "us-east-1");
    assert_eq!(
        (
            &trail["properties"]["isMultiRegionTrail"],
            &trail["properties"]["logFileValidationEnabled"]
        ),
        (&json!(false), &json!(false))
    );
    let org_trail = inv.get("AWS::CloudTrail::Trail", "demo-org-trail");
    assert_eq!(
        (
            &org_trail["region"],
            &org_trail["properties"]["isMultiRegionTrail"]
        ),
        (&json!("eu-west-1"), &json!(true))
    );

    // KMS
    assert_eq!(
        inv.get("AWS::KMS::Key", "alias/demo-no-rotation")["properties"]["keyRotationEnabled"],
        false
    );
    assert_eq!(
        inv.get("AWS::KMS::Key", "alias/demo-rotated")["properties"]["keyRotationEnabled"],
        true
    );
    assert_eq!(
        inv.get("AWS::KMS::Key", "alias/demo-eu-key")["region"],
        "eu-west-1"
    );

    // RDS
    let db_public = &inv.get("AWS::RDS::DBInstance", "demo-db-public")["properties"];
    assert_eq!(
        (
            &db_public["publiclyAccessible"],
            &db_public["storageEncrypted"]
        ),
        (&json!(true), &json!(false))
    );
    let db_private = &inv.get("AWS::RDS::DBInstance", "demo-db-private")["properties"];
    assert_eq!(
        (
            &db_private["publiclyAccessible"],
            &db_private["storageEncrypted"]
        ),
        (&json!(false), &json!(true))
    );
    assert_eq!(
        inv.get("AWS::RDS::DBSnapshot", "demo-db-public-snapshot")["properties"]["public"],
        true
    );
    assert_eq!(
        inv.get("AWS::RDS::DBSnapshot", "demo-db-private-snapshot")["properties"]["public"],
        false
    );

    // Config and GuardDuty: on in us-east-1 only.
    assert!(
        !inv.in_region("Rampart::Config::RegionStatus", "us-east-1")["properties"]["recorders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        inv.in_region("Rampart::Config::RegionStatus", "eu-west-1")["properties"]["recorders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        inv.in_region("Rampart::GuardDuty::RegionStatus", "us-east-1")["properties"]["enabled"],
        true
    );
    assert_eq!(
        inv.in_region("Rampart::GuardDuty::RegionStatus", "eu-west-1")["properties"]["enabled"],
        false
    );

    // EKS
    let eks_public =
        &inv.get("AWS::EKS::Cluster", "demo-eks-public")["properties"]["resourcesVpcConfig"];
    assert_eq!(
        (
            &eks_public["endpointPublicAccess"],
            &eks_public["publicAccessCidrs"]
        ),
        (&json!(true), &json!(["0.0.0.0/0"]))
    );
    assert_eq!(
        inv.get("AWS::EKS::Cluster", "demo-eks-private")["properties"]["resourcesVpcConfig"]["endpointPublicAccess"],
        false
    );

    // Not in an organization: no organization assets, and that is not a gap.
    assert!(inv.of_type("AWS::Organizations::Organization").is_empty());
    assert!(!summary.contains("DescribeOrganization"), "{summary}");
}
