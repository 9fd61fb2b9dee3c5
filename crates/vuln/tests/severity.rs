//! CVSS v3 base scores against the specification's published examples
//! and the ratings they map to.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failure should stop the test"
)]

use rampart_model::machine::VulnerabilitySeverity;
use rampart_vuln::severity::{cvss3_base_score, debian_urgency, named_rating, rating_of_score};

#[test]
fn cvss3_base_scores_follow_the_specification() {
    let cases = [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:N", 8.2),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", 5.3),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ];
    for (vector, want) in cases {
        assert_eq!(cvss3_base_score(vector), Some(want), "{vector}");
    }
    assert_eq!(
        cvss3_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"),
        None
    );
    assert_eq!(cvss3_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), None);
    assert_eq!(cvss3_base_score("CVSS:3.1/AV:N/AC:L"), None);
}

#[test]
fn ratings_follow_cvss_bands_and_distribution_words() {
    assert_eq!(rating_of_score(9.0), VulnerabilitySeverity::Critical);
    assert_eq!(rating_of_score(8.9), VulnerabilitySeverity::High);
    assert_eq!(rating_of_score(4.0), VulnerabilitySeverity::Medium);
    assert_eq!(rating_of_score(0.1), VulnerabilitySeverity::Low);
    assert_eq!(rating_of_score(0.0), VulnerabilitySeverity::Unknown);
    assert_eq!(debian_urgency("unimportant"), VulnerabilitySeverity::Low);
    assert_eq!(debian_urgency("high**"), VulnerabilitySeverity::High);
    assert_eq!(
        debian_urgency("not yet assigned"),
        VulnerabilitySeverity::Unknown
    );
    assert_eq!(named_rating("Important"), VulnerabilitySeverity::High);
    assert_eq!(named_rating("MODERATE"), VulnerabilitySeverity::Medium);
    assert_eq!(named_rating("negligible"), VulnerabilitySeverity::Low);
}
