//! The SQL plan's vulnerability assessment against moto behind the SSM
//! emulator (which answers Run Command with seeded outputs): the SQL
//! Server is discovered by a scan, targeted because its host is an online
//! managed instance, the read-only script is sent with
//! `AWS-RunPowerShellScript`, the recorded output of a weak server is
//! parsed into findings, an accepted baseline turns a finding into a
//! non-finding until the result changes, and a command that fails is an
//! error, never clean.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::path::Path;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use rampart_aws::{AwsAccess, AwsSettings, NoProgress, ScanPlan, collect_account};
use rampart_engine::sql::{SqlVaOptions, assess_server, assessment_asset, va_targets};
use rampart_sqlva::{Baseline, Status, builtin_rules};
use rampart_testkit::Moto;
use rampart_testkit::ssm::online_instance;
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn recorded(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../sqlva/fixtures")
            .join(name),
    )
    .unwrap()
}

fn seed_output(moto: &Moto, instance: &str, status: &str, stdout: &str, stderr: &str) {
    moto.ssm_seed(
        "command-outputs",
        &json!({"account": ACCOUNT, "region": REGION, "instanceId": instance,
                "documentName": "AWS-RunPowerShellScript", "status": status,
                "responseCode": if status == "Success" { 0 } else { 1 },
                "stdout": stdout, "stderr": stderr, "polls": 2, "notFoundPolls": 1}),
    );
}

fn options() -> SqlVaOptions {
    SqlVaOptions {
        wait: Duration::from_secs(60),
        poll_every: Duration::from_millis(50),
        ..SqlVaOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assessment_runs_through_run_command_and_keeps_baselines() {
    let moto = Moto::start_with_ssm_emulator();
    let access = AwsAccess::load(&AwsSettings {
        endpoint_url: Some(moto.url()),
        home_region: Some(REGION.to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        ..AwsSettings::default()
    })
    .await
    .unwrap();
    let run = access
        .ec2(REGION)
        .run_instances()
        .image_id("ami-0a3c14e1ddbe7f23c")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(2)
        .max_count(2)
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = run
        .instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_owned())
        .collect();
    let (host, offline) = (&ids[0], &ids[1]);
    let mut lost = online_instance(offline, "3.3.1611.0");
    lost["PingStatus"] = json!("ConnectionLost");
    moto.ssm_register(REGION, &[online_instance(host, "3.3.1611.0"), lost]);
    for id in &ids {
        moto.ssm_inventory(
            REGION,
            id,
            "AWS:InstanceInformation",
            &[
                json!({"AgentType": "amazon-ssm-agent", "AgentVersion": "3.3.1611.0",
                     "PlatformName": "Microsoft Windows Server 2019 Datacenter",
                     "PlatformVersion": "10.0.17763", "PlatformType": "Windows", "InstanceId": id}),
            ],
        );
        moto.ssm_inventory(
            REGION,
            id,
            "AWS:Application",
            &[
                json!({"Name": "SQL Server 2019 Database Engine Services", "Version": "15.0.4355.3",
                     "Publisher": "Microsoft Corporation"}),
            ],
        );
    }
    let plan = ScanPlan {
        account: ACCOUNT.to_owned(),
        home_region: REGION.to_owned(),
        regions: vec![REGION.to_owned()],
        disabled_regions: vec![],
        services: Some(vec!["ec2".into(), "ssm".into(), "rds".into(), "iam".into()]),
        concurrency: 8,
    };
    let assets = collect_account(&access, &plan, &NoProgress).await.assets;

    // Both hosts run SQL Server; only the online managed one is a target.
    let targets = va_targets(&assets, ACCOUNT);
    assert_eq!(targets.len(), 1, "{targets:#?}");
    assert_eq!(&targets[0].instance_id, host);
    let target = &targets[0];
    let rules = builtin_rules().unwrap();

    // A weak server: findings, parsed from the recorded output.
    seed_output(&moto, host, "Success", &recorded("weak.out"), "");
    let first = assess_server(&access, target, &rules, &[], &options()).await;
    assert_eq!(first.error, None);
    assert_eq!(first.command_status.as_deref(), Some("Success"));
    let parsed = first.assessment.as_ref().unwrap();
    let findings: Vec<&rampart_sqlva::RuleResult> = parsed
        .results
        .iter()
        .filter(|r| r.status == Status::Finding)
        .collect();
    assert!(findings.len() >= 5, "{parsed:#?}");
    let sa = findings.iter().find(|r| r.rule == "RVA1001").unwrap();

    // What was sent: the read-only script, as PowerShell, to that host.
    let state = moto.ssm_state();
    let sent: Vec<&Value> = state
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["commands"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(sent.len(), 1, "{state:#}");
    assert_eq!(sent[0]["DocumentName"], "AWS-RunPowerShellScript");
    let script = sent[0]["Parameters"]["commands"][0].as_str().unwrap();
    assert!(script.contains("RVA1001") && script.contains("sys.server_principals"));

    // The asset the recommendation reads.
    let asset = assessment_asset(&first, &rules);
    assert_eq!(asset.properties["serverArn"], target.server.as_str());
    assert_eq!(asset.properties["findings"], findings.len());
    let listed = asset.properties["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "RVA1001")
        .unwrap();
    assert_eq!(listed["status"], "finding");
    assert!(listed["title"].as_str().unwrap().contains("sa"));

    // Accept the `sa` result: the same rows again are a non-finding.
    let baseline = Baseline::accept(sa, "alice", time::OffsetDateTime::now_utc()).unwrap();
    seed_output(&moto, host, "Success", &recorded("weak.out"), "");
    let second = assess_server(
        &access,
        target,
        &rules,
        std::slice::from_ref(&baseline),
        &options(),
    )
    .await;
    let again = second
        .assessment
        .as_ref()
        .unwrap()
        .results
        .iter()
        .find(|r| r.rule == "RVA1001")
        .unwrap();
    assert_eq!(again.status, Status::NonFinding);
    assert!(again.baseline.is_some());
    // A changed result is a finding again.
    let changed = recorded("weak.out").replace(r#"[["sa","0"]]"#, r#"[["sa","0"],["sa2","0"]]"#);
    assert_ne!(changed, recorded("weak.out"));
    seed_output(&moto, host, "Success", &changed, "");
    let third = assess_server(&access, target, &rules, &[baseline], &options()).await;
    let changed = third
        .assessment
        .as_ref()
        .unwrap()
        .results
        .iter()
        .find(|r| r.rule == "RVA1001")
        .unwrap();
    assert_eq!(changed.status, Status::Finding);

    // A command that fails without output is an error, never clean.
    seed_output(
        &moto,
        host,
        "Failed",
        "",
        "sqlcmd: Login failed for user 'NT AUTHORITY\\SYSTEM'.",
    );
    let failed = assess_server(&access, target, &rules, &[], &options()).await;
    assert!(
        failed.error.as_deref().unwrap().contains("Login failed"),
        "{:?}",
        failed.error
    );
    assert!(
        failed
            .assessment
            .as_ref()
            .unwrap()
            .results
            .iter()
            .all(|r| r.status == Status::Error)
    );
    let asset = assessment_asset(&failed, &rules);
    assert_eq!(asset.properties["findings"], 0);
    assert!(asset.properties["error"].is_string());
}
