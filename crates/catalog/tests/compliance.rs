//! Compliance states per standard control.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failure should stop the test"
)]

use rampart_catalog::Catalog;
use rampart_catalog::compliance::{ControlState, assess_standard};
use rampart_catalog::standards::{Standard, StandardControl};
use rampart_model::{Assessment, AssessmentStatus};

const RECS: &str = r#"
[[recommendation]]
id = "r1"
title = "t"
severity = "high"
resource_type = "T"
security_control = "Enable MFA"
standards = ["std:1", "std:3"]
description = "d"
remediation = { text = "t", cli = "c", cloudformation = "f" }

[[recommendation]]
id = "r2"
title = "t"
severity = "high"
resource_type = "T"
security_control = "Enable MFA"
standards = ["std:2", "std:3", "std:5", "std:6"]
description = "d"
remediation = { text = "t", cli = "c", cloudformation = "f" }
"#;

fn a(rec: &str, status: AssessmentStatus) -> Assessment {
    Assessment {
        recommendation: rec.into(),
        resource: format!("{rec}-{}", status.as_str()),
        resource_type: "T".into(),
        resource_name: "n".into(),
        account: "1".into(),
        region: "r".into(),
        status,
        reason: "r".into(),
        evidence: vec![],
        exemption: None,
    }
}

#[test]
fn states_follow_the_assessments_of_mapped_recommendations() {
    let control = |id: &str, automated: bool| StandardControl {
        id: id.into(),
        title: "t".into(),
        automated,
    };
    let standard = Standard {
        id: "std",
        name: "Std".into(),
        version: "1".into(),
        source: "test".into(),
        controls: vec![
            control("1", true),  // r1: healthy only -> passed
            control("2", true),  // r2: unhealthy -> failed
            control("3", true),  // r1 + r2 -> failed (any unhealthy)
            control("4", true),  // nothing maps -> not covered
            control("5", false), // manual in the standard but r2 covers it -> assessed: failed
            control("6", true),
            control("7", false), // manual, nothing maps -> manual
        ],
    };
    let catalog = Catalog::from_files([("t.toml", RECS)]).unwrap();
    let assessments = vec![
        a("r1", AssessmentStatus::Healthy),
        a("r1", AssessmentStatus::NotApplicable),
        a("r2", AssessmentStatus::Unhealthy),
        a("r2", AssessmentStatus::Healthy),
    ];
    let result = assess_standard(&standard, &catalog, &assessments);
    let states: Vec<ControlState> = result.controls.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        [
            ControlState::Passed,
            ControlState::Failed,
            ControlState::Failed,
            ControlState::NotCovered,
            ControlState::Failed,
            ControlState::Failed,
            ControlState::Manual,
        ]
    );
    // Only errors -> error; nothing at all -> no resources; exempt counts as passing.
    let errors = assess_standard(&standard, &catalog, &[a("r1", AssessmentStatus::Error)]);
    assert_eq!(errors.controls[0].state, ControlState::Error);
    let none = assess_standard(&standard, &catalog, &[]);
    assert_eq!(none.controls[0].state, ControlState::NoResources);
    let exempt = assess_standard(&standard, &catalog, &[a("r2", AssessmentStatus::Exempt)]);
    assert_eq!(exempt.controls[1].state, ControlState::Passed);
}
