//! Realistic alerts for tests of every surface that shows them (store,
//! CLI, API, dashboard, webhook): fixed ids and times, so outputs snapshot.

use rampart_model::{
    Alert, AlertEntity, AlertEvidence, AlertPlan, AlertResource, AlertRule, AlertSource,
    AlertStatus, Mitre, Severity,
};
use time::macros::datetime;

/// The EKS cluster the container alerts are about.
pub const CLUSTER_ARN: &str = "arn:aws:eks:us-east-1:123456789012:cluster/prod";

/// A privileged container created in the `prod` EKS cluster by a CI
/// service account: high, three Kubernetes audit events (their `auditID`s
/// as evidence).
pub fn privileged_container() -> Alert {
    let audit_ids = [
        (
            "4f6a1c2e-8b1d-4d6e-9a57-0c2f1e3b5a01",
            datetime!(2026-03-02 09:14:05 UTC),
        ),
        (
            "9b2d7e4a-1c3f-4a8b-b6e2-5d0f7a9c3e12",
            datetime!(2026-03-02 09:16:41 UTC),
        ),
        (
            "c81e5f3b-7a2d-4e9c-8f14-2b6a0d4e7c23",
            datetime!(2026-03-02 09:19:58 UTC),
        ),
    ];
    Alert {
        id: "alrt-7c1e9a4b2d3f5e60".into(),
        alert_type: "K8S.PrivilegedContainer".into(),
        title: "Privileged container created".into(),
        severity: Severity::High,
        status: AlertStatus::Active,
        plan: AlertPlan::Containers,
        source: AlertSource::EksAudit,
        first_seen: audit_ids[0].1,
        last_seen: audit_ids[2].1,
        count: 3,
        account: "123456789012".into(),
        region: "us-east-1".into(),
        resource: AlertResource {
            arn: CLUSTER_ARN.into(),
            resource_type: "AWS::EKS::Cluster".into(),
            name: "prod".into(),
        },
        entities: vec![
            AlertEntity::new("k8s-namespace", "default"),
            AlertEntity::new("k8s-pod", "miner-7d9f"),
            AlertEntity::new("k8s-user", "system:serviceaccount:default:ci"),
            AlertEntity::new("ip", "203.0.113.7"),
        ],
        mitre: Mitre {
            tactics: vec!["PrivilegeEscalation".into()],
            techniques: vec!["T1611".into()],
        },
        description: "Service account system:serviceaccount:default:ci created pod \
                      default/miner-7d9f with a privileged container, which can take over \
                      the node it runs on."
            .into(),
        remediation: "Delete the pod, rotate the service account's token, and enforce the \
                      `restricted` Pod Security Standard on the namespace."
            .into(),
        rule: AlertRule {
            id: "rampart-k8s-privileged-container".into(),
            source: "rampart".into(),
            author: None,
            url: None,
            license: None,
        },
        evidence: audit_ids
            .iter()
            .map(|(id, time)| AlertEvidence {
                source: AlertSource::EksAudit,
                event_id: (*id).into(),
                time: *time,
                summary: "create pods default/miner-7d9f by system:serviceaccount:default:ci"
                    .into(),
            })
            .collect(),
        evidence_truncated: 0,
    }
}

/// A root user console sign-in seen in CloudTrail: medium, one event (its
/// `eventID`), rule adapted from SigmaHQ (attribution kept).
pub fn root_console_login() -> Alert {
    let time = datetime!(2026-03-01 22:03:17 UTC);
    Alert {
        id: "alrt-1a2b3c4d5e6f7081".into(),
        alert_type: "AWS.RootConsoleLogin".into(),
        title: "Root user signed in to the console".into(),
        severity: Severity::Medium,
        status: AlertStatus::Active,
        plan: AlertPlan::Cspm,
        source: AlertSource::CloudTrail,
        first_seen: time,
        last_seen: time,
        count: 1,
        account: "123456789012".into(),
        region: "us-east-1".into(),
        resource: AlertResource {
            arn: "arn:aws:iam::123456789012:root".into(),
            resource_type: "AWS::IAM::User".into(),
            name: "root".into(),
        },
        entities: vec![
            AlertEntity::new("aws-principal", "arn:aws:iam::123456789012:root"),
            AlertEntity::new("ip", "198.51.100.23"),
        ],
        mitre: Mitre {
            tactics: vec!["InitialAccess".into(), "PrivilegeEscalation".into()],
            techniques: vec!["T1078.004".into()],
        },
        description: "The account's root user signed in to the AWS console from 198.51.100.23."
            .into(),
        remediation: "Confirm the sign-in with the root credentials' owner; if unexpected, \
                      reset the root password and MFA device."
            .into(),
        rule: AlertRule {
            id: "sigma-aws-root-console-login".into(),
            source: "sigma".into(),
            author: Some("vitaliy0x1".into()),
            url: Some(
                "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_root_account_usage.yml"
                    .into(),
            ),
            license: None,
        },
        evidence: vec![AlertEvidence {
            source: AlertSource::CloudTrail,
            event_id: "e2b0a6f1-3c4d-4b5e-8f9a-0b1c2d3e4f50".into(),
            time,
            summary: "ConsoleLogin by root from 198.51.100.23".into(),
        }],
        evidence_truncated: 0,
    }
}

/// A low alert: kubectl exec into a pod (for severity filters).
pub fn exec_into_pod() -> Alert {
    let time = datetime!(2026-03-02 08:00:00 UTC);
    let mut alert = privileged_container();
    alert.id = "alrt-0e0e0e0e0e0e0e0e".into();
    alert.alert_type = "K8S.ExecIntoPod".into();
    alert.title = "Command executed in a pod".into();
    alert.severity = Severity::Low;
    alert.first_seen = time;
    alert.last_seen = time;
    alert.count = 1;
    alert.entities = vec![
        AlertEntity::new("k8s-namespace", "payments"),
        AlertEntity::new("k8s-pod", "api-5c8d"),
        AlertEntity::new("k8s-user", "alice@example.com"),
    ];
    alert.mitre = Mitre {
        tactics: vec!["Execution".into()],
        techniques: vec!["T1609".into()],
    };
    alert.description = "alice@example.com ran a command in pod payments/api-5c8d.".into();
    alert.remediation = "Check the command with its author; restrict `pods/exec`.".into();
    alert.rule.id = "rampart-k8s-exec-into-pod".into();
    alert.evidence = vec![AlertEvidence {
        source: AlertSource::EksAudit,
        event_id: "0d1e2f30-4152-4637-8495-a6b7c8d9e0f1".into(),
        time,
        summary: "create pods/exec payments/api-5c8d by alice@example.com".into(),
    }];
    alert
}

/// The three sample alerts, most recently seen first.
pub fn sample_alerts() -> Vec<Alert> {
    vec![
        privileged_container(),
        exec_into_pod(),
        root_console_login(),
    ]
}
