//! The secure score against hand-computed cases.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use rampart_catalog::Catalog;
use rampart_catalog::score::secure_score;
use rampart_catalog::standards::SecurityControl;
use rampart_model::{Assessment, AssessmentStatus};

const RECS: &str = r#"
[[recommendation]]
id = "mfa-a"
title = "t"
severity = "high"
resource_type = "AWS::IAM::User"
security_control = "Enable MFA"
standards = ["aws-fsbp:IAM.5"]
description = "d"
remediation = { text = "t", cli = "c", cloudformation = "f" }

[[recommendation]]
id = "mfa-b"
title = "t"
severity = "medium"
resource_type = "AWS::IAM::User"
security_control = "Enable MFA"
standards = ["aws-fsbp:IAM.19"]
description = "d"
remediation = { text = "t", cli = "c", cloudformation = "f" }

[[recommendation]]
id = "enc"
title = "t"
severity = "medium"
resource_type = "AWS::EC2::Volume"
security_control = "Enable encryption at rest"
standards = ["aws-fsbp:EC2.3"]
description = "d"
remediation = { text = "t", cli = "c", cloudformation = "f" }

[[recommendation]]
id = "preview"
title = "t"
severity = "low"
resource_type = "AWS::EC2::Volume"
security_control = "Restrict unauthorized network access"
standards = ["aws-fsbp:EC2.3"]
description = "d"
remediation = { text = "t", cli = "c", cloudformation = "f" }
preview = true
"#;

fn controls() -> Vec<SecurityControl> {
    [
        ("Enable MFA", 10),
        ("Enable encryption at rest", 4),
        ("Restrict unauthorized network access", 4),
    ]
    .into_iter()
    .map(|(n, p)| SecurityControl {
        name: n.to_owned(),
        max_points: p,
    })
    .collect()
}

fn a(rec: &str, resource: &str, status: AssessmentStatus) -> Assessment {
    Assessment {
        recommendation: rec.into(),
        resource: resource.into(),
        resource_type: "T".into(),
        resource_name: resource.into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        status,
        reason: "r".into(),
        evidence: vec![],
        exemption: None,
    }
}

#[test]
fn resources_count_once_per_control_and_only_healthy_or_unhealthy_count() {
    use AssessmentStatus::{Error, Exempt, Healthy, NotApplicable, Unhealthy};
    let catalog = Catalog::from_files([("t.toml", RECS)]).unwrap();
    let assessments = vec![
        // Enable MFA: alice unhealthy (one of two recs), bob healthy on both, carol healthy.
        a("mfa-a", "alice", Unhealthy),
        a("mfa-b", "alice", Healthy),
        a("mfa-a", "bob", Healthy),
        a("mfa-b", "bob", Healthy),
        a("mfa-a", "carol", Healthy),
        // Exempt, not applicable and error don't count.
        a("mfa-a", "dave", Exempt),
        a("mfa-a", "erin", NotApplicable),
        a("mfa-a", "frank", Error),
        // Encryption: 1 of 4 healthy.
        a("enc", "v1", Healthy),
        a("enc", "v2", Unhealthy),
        a("enc", "v3", Unhealthy),
        a("enc", "v4", Unhealthy),
        // Preview recommendations don't count: no "Restrict…" control at all.
        a("preview", "v1", Unhealthy),
    ];
    let score = secure_score(&catalog, &controls(), &assessments);
    // MFA: 10 × 2/3 = 6.67; encryption: 4 × 1/4 = 1; total 7.67 / 14 = 54.8 %.
    assert_eq!(score.percent, 54.8);
    assert_eq!(score.controls.len(), 2);
    let mfa = score
        .controls
        .iter()
        .find(|c| c.name == "Enable MFA")
        .unwrap();
    assert_eq!(
        (
            mfa.healthy,
            mfa.unhealthy,
            mfa.current,
            mfa.potential_increase
        ),
        (2, 1, 6.67, 3.33)
    );
    let enc = score
        .controls
        .iter()
        .find(|c| c.name == "Enable encryption at rest")
        .unwrap();
    assert_eq!(
        (
            enc.healthy,
            enc.unhealthy,
            enc.current,
            enc.potential_increase
        ),
        (1, 3, 1.0, 3.0)
    );
    // Highest potential increase first.
    assert_eq!(score.controls[0].name, "Enable MFA");
}

#[test]
fn nothing_assessed_is_zero_and_all_healthy_is_hundred() {
    let catalog = Catalog::from_files([("t.toml", RECS)]).unwrap();
    assert_eq!(secure_score(&catalog, &controls(), &[]).percent, 0.0);
    let all_good = vec![
        a("mfa-a", "x", AssessmentStatus::Healthy),
        a("enc", "v", AssessmentStatus::Healthy),
    ];
    let score = secure_score(&catalog, &controls(), &all_good);
    assert_eq!(score.percent, 100.0);
    assert!(score.controls.iter().all(|c| c.potential_increase == 0.0));
}
