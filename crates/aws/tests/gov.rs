//! The network, governance and data-platform collectors (Network Firewall,
//! Inspector, Macie, Private CA, Connect, CloudFormation, Service Catalog,
//! Account, AWS Backup, Glue, Athena, the Organizations root policies, IAM
//! Identity Center, Bedrock, CodeArtifact) against one moto server, assessed
//! by the catalog end to end.
//!
//! moto 5.2.5 lacks some calls these collectors make: Network Firewall's
//! `ListFirewallPolicies` / `ListRuleGroups`, AWS Backup's
//! `GetBackupVaultAccessPolicy`, `ListRecoveryPointsByBackupVault`
//! and `ListProtectedResources` (answered from recorded responses in
//! [`backup_vaults_plans_and_parameters_end_to_end`]), Bedrock's `ListGuardrails`, and all of
//! CodeArtifact; and its answers to Macie's `GetMacieSession` and Connect's
//! `ListInstances` carry timestamps the SDK cannot parse (not RFC 3339 / a
//! string where a number belongs). Those become gaps (never empty "healthy"
//! lists), and the affected assessments are errors; the mapping of their
//! answers is unit-tested with SDK types in each collector. moto also reports
//! no sync states (endpoints per zone) for firewalls, keeps one Macie session
//! for all regions, and has an IAM Identity Center instance from the start.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{ACCOUNT, REGION, settings};

use std::collections::BTreeSet;

use rampart_aws::{AwsAccess, NoProgress, ScanPlan, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::{Assessment, AssessmentStatus, types};
use rampart_testkit::Moto;

const OTHER: &str = "eu-west-1";

const SERVICES: &[&str] = &[
    "network-firewall",
    "inspector2",
    "macie2",
    "acm-pca",
    "connect",
    "cloudformation",
    "servicecatalog",
    "account",
    "backup",
    "glue",
    "athena",
    "organizations",
    "sso",
    "bedrock",
    "codeartifact",
];

fn plan() -> ScanPlan {
    common::plan(&[REGION, OTHER], SERVICES)
}

fn status(
    assessments: &[Assessment],
    recommendation: &str,
    region: &str,
    name: &str,
) -> AssessmentStatus {
    assessments
        .iter()
        .find(|a| {
            a.recommendation == recommendation && a.region == region && a.resource_name == name
        })
        .unwrap_or_else(|| panic!("no `{recommendation}` assessment of `{name}` in {region}"))
        .status
}

async fn seed_organization(setup: &AwsAccess) {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
    let org = setup.organizations(REGION);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    for kind in [
        PolicyType::ServiceControlPolicy,
        PolicyType::AiservicesOptOutPolicy,
    ] {
        org.enable_policy_type()
            .root_id(&root)
            .policy_type(kind)
            .send()
            .await
            .unwrap();
    }
    let policy = org
        .create_policy()
        .name("opt-out-all")
        .description("AI services opt-out")
        .r#type(PolicyType::AiservicesOptOutPolicy)
        .content(r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}"#)
        .send()
        .await
        .unwrap();
    let policy_id = policy
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    org.attach_policy()
        .policy_id(policy_id)
        .target_id(&root)
        .send()
        .await
        .unwrap();
}

async fn seed(setup: &AwsAccess) {
    seed_organization(setup).await;
    use aws_sdk_networkfirewall::types::{
        LogDestinationConfig, LogDestinationType, LogType, LoggingConfiguration, SubnetMapping,
    };
    let nfw = setup.network_firewall(REGION);
    for (name, delete_protection) in [("edge", false), ("core", true)] {
        nfw.create_firewall()
            .firewall_name(name)
            .firewall_policy_arn(format!(
                "arn:aws:network-firewall:{REGION}:{ACCOUNT}:firewall-policy/p"
            ))
            .vpc_id("vpc-0a1b2c3d")
            .subnet_mappings(
                SubnetMapping::builder()
                    .subnet_id("subnet-a")
                    .build()
                    .unwrap(),
            )
            .delete_protection(delete_protection)
            .subnet_change_protection(true)
            .send()
            .await
            .unwrap();
    }
    nfw.update_logging_configuration()
        .firewall_name("core")
        .logging_configuration(
            LoggingConfiguration::builder()
                .log_destination_configs(
                    LogDestinationConfig::builder()
                        .log_type(LogType::Flow)
                        .log_destination_type(LogDestinationType::S3)
                        .log_destination("bucketName", "fw-logs")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    setup
        .inspector2(REGION)
        .enable()
        .account_ids(ACCOUNT)
        .resource_types(aws_sdk_inspector2::types::ResourceScanType::Ec2)
        .send()
        .await
        .unwrap();
    setup
        .macie2(REGION)
        .enable_macie()
        .status(aws_sdk_macie2::types::MacieStatus::Enabled)
        .send()
        .await
        .unwrap();

    use aws_sdk_acmpca::types::{
        Asn1Subject, CertificateAuthorityConfiguration, CertificateAuthorityType, KeyAlgorithm,
        SigningAlgorithm,
    };
    let pca = setup.acm_pca(REGION);
    for (cn, kind) in [
        ("root.example.com", CertificateAuthorityType::Root),
        ("issuing.example.com", CertificateAuthorityType::Subordinate),
    ] {
        pca.create_certificate_authority()
            .certificate_authority_type(kind)
            .certificate_authority_configuration(
                CertificateAuthorityConfiguration::builder()
                    .key_algorithm(KeyAlgorithm::Rsa2048)
                    .signing_algorithm(SigningAlgorithm::Sha256Withrsa)
                    .subject(Asn1Subject::builder().common_name(cn).build())
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    setup
        .connect(REGION)
        .create_instance()
        .identity_management_type(aws_sdk_connect::types::DirectoryType::ConnectManaged)
        .instance_alias("support")
        .inbound_calls_enabled(true)
        .outbound_calls_enabled(true)
        .send()
        .await
        .unwrap();

    // moto publishes stack events to the topic: it must exist.
    let topic = setup
        .sns(REGION)
        .create_topic()
        .name("stack-events")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let cfn = setup.cloudformation(REGION);
    let template = r#"{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}"#;
    cfn.create_stack()
        .stack_name("notified")
        .template_body(template)
        .notification_arns(&topic)
        .send()
        .await
        .unwrap();
    cfn.create_stack()
        .stack_name("silent")
        .template_body(template)
        .send()
        .await
        .unwrap();

    let sc = setup.servicecatalog(REGION);
    let mut shared_id = String::new();
    for name in ["internal", "shared"] {
        let out = sc
            .create_portfolio()
            .display_name(name)
            .provider_name("platform")
            .idempotency_token(name)
            .send()
            .await
            .unwrap();
        if name == "shared" {
            shared_id = out.portfolio_detail().unwrap().id().unwrap().to_owned();
        }
    }
    sc.create_portfolio_share()
        .portfolio_id(&shared_id)
        .account_id("210987654321")
        .send()
        .await
        .unwrap();

    setup
        .account(REGION)
        .put_alternate_contact()
        .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
        .name("SecOps")
        .title("Security")
        .email_address("secops@example.com")
        .phone_number("+1-555-0100")
        .send()
        .await
        .unwrap();

    setup
        .backup(REGION)
        .create_backup_vault()
        .backup_vault_name("main")
        .send()
        .await
        .unwrap();

    use aws_sdk_glue::types::{
        FindMatchesParameters, GlueTable, JobCommand, MlUserDataEncryption,
        MlUserDataEncryptionModeString, TransformEncryption, TransformParameters, TransformType,
    };
    let glue = setup.glue(REGION);
    for (name, command, version) in [
        ("etl-old", "glueetl", Some("2.0")),
        ("etl-new", "glueetl", Some("4.0")),
        ("etl-unversioned", "glueetl", None),
        ("shell", "pythonshell", Some("1.0")),
    ] {
        glue.create_job()
            .name(name)
            .role("arn:aws:iam::123456789012:role/glue")
            .command(
                JobCommand::builder()
                    .name(command)
                    .script_location("s3://scripts/job.py")
                    .build(),
            )
            .set_glue_version(version.map(str::to_owned))
            .send()
            .await
            .unwrap();
    }
    for (name, encrypted) in [("dedupe-plain", false), ("dedupe-kms", true)] {
        let mut create = glue
            .create_ml_transform()
            .name(name)
            .role("arn:aws:iam::123456789012:role/glue")
            .input_record_tables(
                GlueTable::builder()
                    .database_name("db")
                    .table_name("customers")
                    .build()
                    .unwrap(),
            )
            .parameters(
                TransformParameters::builder()
                    .transform_type(TransformType::FindMatches)
                    .find_matches_parameters(
                        FindMatchesParameters::builder()
                            .primary_key_column_name("id")
                            .build(),
                    )
                    .build()
                    .unwrap(),
            );
        if encrypted {
            create = create.transform_encryption(
                TransformEncryption::builder()
                    .ml_user_data_encryption(
                        MlUserDataEncryption::builder()
                            .ml_user_data_encryption_mode(MlUserDataEncryptionModeString::Ssekms)
                            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/k")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            );
        }
        create.send().await.unwrap();
    }

    use aws_sdk_athena::types::{
        EncryptionConfiguration, EncryptionOption, ResultConfiguration, WorkGroupConfiguration,
    };
    let athena = setup.athena(REGION);
    athena
        .create_work_group()
        .name("secured")
        .configuration(
            WorkGroupConfiguration::builder()
                .publish_cloud_watch_metrics_enabled(true)
                .result_configuration(
                    ResultConfiguration::builder()
                        .output_location("s3://athena-results/")
                        .encryption_configuration(
                            EncryptionConfiguration::builder()
                                .encryption_option(EncryptionOption::SseS3)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    athena
        .create_work_group()
        .name("adhoc")
        .configuration(
            WorkGroupConfiguration::builder()
                .publish_cloud_watch_metrics_enabled(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_services_are_collected_and_assessed() {
    let moto = Moto::start();
    // Set-up calls go through their own access, so the scan's call counts
    // hold only the collectors' calls.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    seed(&setup).await;

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(&access, &plan(), &NoProgress).await;

    // Only declared calls.
    common::assert_only_declared_calls(&access);
    // The gaps are exactly the calls moto does not implement.
    let gap_ops: BTreeSet<&str> = result.gaps.iter().map(|g| g.operation.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "ListFirewallPolicies",
        "ListRuleGroups",
        "GetMacieSession",
        "ListInstances",
        "GetBackupVaultAccessPolicy",
        "ListRecoveryPointsByBackupVault",
        "ListProtectedResources",
        "ListGuardrails",
        "ListRepositories",
    ]
    .into_iter()
    .collect();
    assert_eq!(gap_ops, expected, "{:#?}", result.gaps);

    let types_seen: BTreeSet<&str> = result
        .assets
        .iter()
        .map(|a| a.resource_type.as_str())
        .collect();
    for t in [
        "AWS::NetworkFirewall::Firewall",
        types::INSPECTOR_REGION,
        types::MACIE_REGION,
        "AWS::ACMPCA::CertificateAuthority",
        "AWS::CloudFormation::Stack",
        "AWS::ServiceCatalog::Portfolio",
        types::ACCOUNT_CONTACTS,
        types::BACKUP_PROTECTED_RESOURCES,
        "AWS::Glue::Job",
        "AWS::Glue::MLTransform",
        "AWS::Athena::WorkGroup",
        types::IDENTITY_CENTER,
        types::BEDROCK_REGION,
    ] {
        assert!(types_seen.contains(t), "no {t} collected");
    }
    // The account's contacts are read once (global), the rest per region.
    assert_eq!(
        result
            .assets
            .iter()
            .filter(|a| a.resource_type == types::ACCOUNT_CONTACTS)
            .count(),
        1
    );
    let protected = result
        .assets
        .iter()
        .find(|a| a.resource_type == types::BACKUP_PROTECTED_RESOURCES && a.region == REGION)
        .unwrap();
    assert!(protected.unavailable.contains_key("resourceArns"));

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    use AssessmentStatus::{Error, Healthy, NotApplicable, Unhealthy};
    let expectations: &[(&str, &str, &str, AssessmentStatus)] = &[
        (
            "network-firewall-deletion-protection",
            REGION,
            "edge",
            Unhealthy,
        ),
        (
            "network-firewall-deletion-protection",
            REGION,
            "core",
            Healthy,
        ),
        (
            "network-firewall-subnet-change-protection",
            REGION,
            "edge",
            Healthy,
        ),
        ("network-firewall-logging", REGION, "edge", Unhealthy),
        ("network-firewall-logging", REGION, "core", Healthy),
        // moto reports no endpoints (sync states) for firewalls.
        ("network-firewall-multi-az", REGION, "core", Unhealthy),
        ("inspector-ec2-scanning", REGION, "account-status", Healthy),
        (
            "inspector-ecr-scanning",
            REGION,
            "account-status",
            Unhealthy,
        ),
        (
            "inspector-lambda-standard-scanning",
            REGION,
            "account-status",
            Unhealthy,
        ),
        ("inspector-ec2-scanning", OTHER, "account-status", Unhealthy),
        // moto's GetMacieSession timestamps cannot be parsed: unknown, an
        // error, never healthy.
        ("macie-enabled", REGION, "session", Error),
        ("macie-enabled", OTHER, "session", Error),
        (
            "cloudformation-stack-sns-notifications",
            REGION,
            "notified",
            Healthy,
        ),
        (
            "cloudformation-stack-sns-notifications",
            REGION,
            "silent",
            Unhealthy,
        ),
        (
            "servicecatalog-portfolio-shared-within-organization",
            REGION,
            "internal",
            Healthy,
        ),
        (
            "servicecatalog-portfolio-shared-within-organization",
            REGION,
            "shared",
            Unhealthy,
        ),
        (
            "account-security-contact",
            REGION,
            "alternate-contacts",
            Healthy,
        ),
        (
            "account-billing-contact",
            REGION,
            "alternate-contacts",
            Unhealthy,
        ),
        (
            "account-operations-contact",
            REGION,
            "alternate-contacts",
            Unhealthy,
        ),
        (
            "glue-spark-job-supported-version",
            REGION,
            "etl-old",
            Unhealthy,
        ),
        (
            "glue-spark-job-supported-version",
            REGION,
            "etl-new",
            Healthy,
        ),
        (
            "glue-spark-job-supported-version",
            REGION,
            "etl-unversioned",
            Unhealthy,
        ),
        (
            "glue-spark-job-supported-version",
            REGION,
            "shell",
            NotApplicable,
        ),
        (
            "glue-ml-transform-encrypted",
            REGION,
            "dedupe-plain",
            Unhealthy,
        ),
        ("glue-ml-transform-encrypted", REGION, "dedupe-kms", Healthy),
        ("athena-workgroup-encrypted", REGION, "secured", Healthy),
        ("athena-workgroup-encrypted", REGION, "adhoc", Unhealthy),
        ("athena-workgroup-logging", REGION, "secured", Healthy),
        ("athena-workgroup-logging", REGION, "adhoc", Unhealthy),
        ("identity-center-enabled", REGION, "instances", Healthy),
        (
            "bedrock-model-invocation-logging",
            REGION,
            "settings",
            Unhealthy,
        ),
        ("bedrock-guardrail-configured", REGION, "settings", Error),
    ];
    for (recommendation, region, name, expected) in expectations {
        assert_eq!(
            status(&assessments, recommendation, region, name),
            *expected,
            "{recommendation} on {name} in {region}"
        );
    }
    // The organization, from its management account: SCPs and an AI opt-out
    // policy on the root, tag policies not enabled.
    let org_status = |recommendation: &str| {
        assessments
            .iter()
            .find(|a| a.recommendation == recommendation)
            .unwrap_or_else(|| panic!("no `{recommendation}` assessment"))
            .status
    };
    assert_eq!(org_status("organizations-scp-enabled"), Healthy);
    assert_eq!(org_status("organizations-ai-opt-out-policy"), Healthy);
    assert_eq!(org_status("organizations-tag-policies-enabled"), Unhealthy);

    // The root CA moto creates waits for its certificate (not disabled); the
    // subordinate is not assessed.
    let pca: Vec<AssessmentStatus> = assessments
        .iter()
        .filter(|a| a.recommendation == "pca-root-ca-disabled")
        .map(|a| a.status)
        .collect();
    assert_eq!(pca.len(), 2, "{pca:?}");
    assert!(
        pca.contains(&Unhealthy) && pca.contains(&NotApplicable),
        "{pca:?}"
    );
}

/// AWS Backup vaults and plans, the Backup recovery points and protected
/// resources, and Systems Manager parameters, through the real SDK: moto
/// models vaults (with Vault Lock), plans, KMS keys, EBS volumes and
/// parameters; the three Backup calls it lacks (`GetBackupVaultAccessPolicy`,
/// `ListRecoveryPointsByBackupVault`, `ListProtectedResources`) are answered
/// by the emulator from recorded responses in AWS Backup's REST-JSON wire
/// format (the API reference's shapes; timestamps in epoch seconds; a vault
/// without a policy answers 404 `ResourceNotFoundException`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_vaults_plans_and_parameters_end_to_end() {
    use aws_sdk_backup::types::{BackupPlanInput, BackupRuleInput, Lifecycle};
    use aws_sdk_ssm::types::ParameterType;
    use serde_json::json;

    let moto = Moto::start_with_ssm_emulator();
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let key_arn = setup
        .kms(REGION)
        .create_key()
        .description("backups and parameters")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();

    // Vaults: both with the customer managed key; one locked.
    let backup = setup.backup(REGION);
    for vault in ["vault-locked", "vault-open"] {
        backup
            .create_backup_vault()
            .backup_vault_name(vault)
            .encryption_key_arn(&key_arn)
            .send()
            .await
            .unwrap();
    }
    backup
        .put_backup_vault_lock_configuration()
        .backup_vault_name("vault-locked")
        .min_retention_days(35)
        .max_retention_days(365)
        .send()
        .await
        .unwrap();
    // Plans: daily for 35 days, and weekly for 7.
    for (name, schedule, days) in [
        ("daily-35", "cron(0 5 ? * * *)", 35),
        ("weekly-7", "cron(0 5 ? * 1 *)", 7),
    ] {
        backup
            .create_backup_plan()
            .backup_plan(
                BackupPlanInput::builder()
                    .backup_plan_name(name)
                    .rules(
                        BackupRuleInput::builder()
                            .rule_name(name)
                            .target_backup_vault_name("vault-locked")
                            .schedule_expression(schedule)
                            .lifecycle(Lifecycle::builder().delete_after_days(days).build())
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    // A volume in each region: REGION has plans, OTHER has none.
    let mut volumes = Vec::new();
    for region in [REGION, OTHER] {
        let volume = setup
            .ec2(region)
            .create_volume()
            .availability_zone(format!("{region}a"))
            .size(8)
            .send()
            .await
            .unwrap();
        volumes.push(volume.volume_id().unwrap().to_owned());
    }
    let protected_arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{}", volumes[0]);

    // Parameters (moto models PutParameter / DescribeParameters).
    let ssm = setup.ssm(REGION);
    for (name, kind, key) in [
        (
            "/prod/orders/db/password",
            ParameterType::SecureString,
            Some(key_arn.as_str()),
        ),
        (
            "/prod/legacy/github-token",
            ParameterType::SecureString,
            None,
        ),
        ("/prod/payments/api-key", ParameterType::String, None),
        (
            "/iam/password-policy-min-length",
            ParameterType::String,
            None,
        ),
    ] {
        ssm.put_parameter()
            .name(name)
            .value("not-a-real-value")
            .r#type(kind)
            .set_key_id(key.map(str::to_owned))
            .send()
            .await
            .unwrap();
    }

    // What moto lacks, in AWS Backup's wire format.
    let json_type = "application/json";
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "anyone", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["backup:DeleteRecoveryPoint", "backup:DescribeBackupVault"],
            "Resource": "*"
        }]
    });
    moto.record_rest_response(
        "backup",
        "GET /backup-vaults/vault-open/access-policy/?",
        200,
        json_type,
        &json!({
            "BackupVaultName": "vault-open",
            "BackupVaultArn": format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:vault-open"),
            "Policy": policy.to_string(),
        })
        .to_string(),
    );
    moto.record_rest_response(
        "backup",
        "GET /backup-vaults/vault-locked/access-policy/?",
        404,
        json_type,
        &json!({
            "__type": "ResourceNotFoundException",
            "Code": "ResourceNotFoundException",
            "Message": "Backup vault vault-locked has no access policy",
            "Type": "User",
        })
        .to_string(),
    );
    for (vault, encrypted) in [("vault-locked", true), ("vault-open", false)] {
        let point = json!({
            "RecoveryPointArn": format!("arn:aws:ec2:{REGION}::snapshot/snap-{vault}"),
            "BackupVaultName": vault,
            "BackupVaultArn": format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:{vault}"),
            "ResourceArn": protected_arn,
            "ResourceType": "EBS",
            "Status": "COMPLETED",
            "IsEncrypted": encrypted,
            "CreationDate": 1_764_997_200,
        });
        moto.record_rest_response(
            "backup",
            &format!("GET /backup-vaults/{vault}/recovery-points/?"),
            200,
            json_type,
            &json!({"RecoveryPoints": [point]}).to_string(),
        );
    }
    moto.record_rest_response(
        "backup",
        "GET /resources/?",
        200,
        json_type,
        &json!({"Results": [{
            "ResourceArn": protected_arn,
            "ResourceType": "EBS",
            "LastBackupTime": 1_764_997_200,
        }]})
        .to_string(),
    );

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let plan = common::plan(&[REGION, OTHER], &["backup", "ssm", "kms", "ec2"]);
    let result = collect_account(&access, &plan, &NoProgress).await;
    let gaps: Vec<_> = result
        .gaps
        .iter()
        .filter(|g| g.service == "backup" || g.service == "ssm")
        .collect();
    // The SSM calls the emulator does not model for an empty account are
    // none; every Backup call is answered.
    assert!(gaps.is_empty(), "{gaps:#?}");
    let calls = common::assert_only_declared_calls(&access);
    for operation in [
        "GetBackupVaultAccessPolicy",
        "ListRecoveryPointsByBackupVault",
        "ListProtectedResources",
        "ListBackupPlans",
        "GetBackupPlan",
    ] {
        assert!(
            calls.contains_key(&("backup".to_owned(), operation.to_owned())),
            "{operation} was not called: {calls:?}"
        );
    }
    let parameter = result
        .assets
        .iter()
        .find(|a| a.name == "/prod/orders/db/password")
        .unwrap();
    assert!(
        !parameter
            .properties
            .to_string()
            .contains("not-a-real-value"),
        "a parameter value reached the asset"
    );

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    use AssessmentStatus::{Healthy, NotApplicable, Unhealthy};
    let expectations: &[(&str, &str, &str, AssessmentStatus)] = &[
        (
            "backup-vault-encrypted-with-cmk",
            REGION,
            "vault-locked",
            Healthy,
        ),
        ("backup-vault-lock-enabled", REGION, "vault-locked", Healthy),
        ("backup-vault-lock-enabled", REGION, "vault-open", Unhealthy),
        (
            "backup-vault-access-policy-not-public",
            REGION,
            "vault-locked",
            Healthy,
        ),
        (
            "backup-vault-access-policy-not-public",
            REGION,
            "vault-open",
            Unhealthy,
        ),
        (
            "backup-plan-min-frequency-and-retention",
            REGION,
            "daily-35",
            Healthy,
        ),
        (
            "backup-plan-min-frequency-and-retention",
            REGION,
            "weekly-7",
            Unhealthy,
        ),
        (
            "backup-plan-exists-in-region",
            REGION,
            "backup-plans",
            Healthy,
        ),
        (
            "backup-plan-exists-in-region",
            OTHER,
            "backup-plans",
            Unhealthy,
        ),
        // The existing recovery point and protected-resource recommendations,
        // now through the SDK.
        (
            "backup-recovery-point-encrypted",
            REGION,
            "snap-vault-locked",
            Healthy,
        ),
        (
            "backup-recovery-point-encrypted",
            REGION,
            "snap-vault-open",
            Unhealthy,
        ),
        (
            "ec2-volume-in-backup-plan",
            REGION,
            volumes[0].as_str(),
            Healthy,
        ),
        (
            "ec2-volume-in-backup-plan",
            OTHER,
            volumes[1].as_str(),
            Unhealthy,
        ),
        // Parameters.
        (
            "ssm-parameter-secret-is-securestring",
            REGION,
            "/prod/orders/db/password",
            Healthy,
        ),
        (
            "ssm-parameter-secret-is-securestring",
            REGION,
            "/prod/payments/api-key",
            Unhealthy,
        ),
        (
            "ssm-parameter-secret-is-securestring",
            REGION,
            "/iam/password-policy-min-length",
            NotApplicable,
        ),
        (
            "ssm-parameter-securestring-cmk",
            REGION,
            "/prod/orders/db/password",
            Healthy,
        ),
        (
            "ssm-parameter-securestring-cmk",
            REGION,
            "/prod/legacy/github-token",
            Unhealthy,
        ),
        (
            "ssm-parameter-securestring-cmk",
            REGION,
            "/prod/payments/api-key",
            NotApplicable,
        ),
    ];
    let mut failures = Vec::new();
    for (recommendation, region, name, want) in expectations {
        let got = status(&assessments, recommendation, region, name);
        if got != *want {
            let reason = assessments
                .iter()
                .find(|a| {
                    a.recommendation == *recommendation
                        && a.region == *region
                        && a.resource_name == *name
                })
                .map(|a| a.reason.clone())
                .unwrap_or_default();
            failures.push(format!(
                "{recommendation} on {name} ({region}): {got:?}, want {want:?} ({reason})"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
