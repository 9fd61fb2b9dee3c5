//! Version ordering against the package managers' own test cases
//! (transcribed as data in `tests/data/`, each file naming its source),
//! plus real-world distribution versions.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::cmp::Ordering;

use rampart_vuln::VersionScheme;
use rampart_vuln::version::{apk, dpkg, rpm_compare, rpmvercmp};

fn cases(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
}

fn ordering(result: &str) -> Ordering {
    match result {
        "-1" | "<" => Ordering::Less,
        "0" | "=" => Ordering::Equal,
        "1" | ">" => Ordering::Greater,
        other => panic!("bad expected result `{other}`"),
    }
}

fn check(name: &str, compare: fn(&str, &str) -> Ordering, list: &[(String, String, Ordering)]) {
    let mut failures = Vec::new();
    for (a, b, want) in list {
        let got = compare(a, b);
        if got != *want {
            failures.push(format!("{a} vs {b}: got {got:?}, want {want:?}"));
        }
        // The reverse comparison must agree.
        let back = compare(b, a);
        if back != want.reverse() {
            failures.push(format!(
                "{b} vs {a}: got {back:?}, want {:?}",
                want.reverse()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn dpkg_orders_as_dpkg_test_suite_says() {
    let list: Vec<_> = cases(include_str!("data/dpkg.txt"))
        .map(|c| (c[0].to_owned(), c[1].to_owned(), ordering(c[2])))
        .collect();
    assert_eq!(list.len(), 44);
    check("dpkg", dpkg::compare, &list);
}

#[test]
fn rpmvercmp_orders_as_rpm_test_suite_says() {
    let list: Vec<_> = cases(include_str!("data/rpm.txt"))
        .map(|c| (c[0].to_owned(), c[1].to_owned(), ordering(c[2])))
        .collect();
    assert_eq!(list.len(), 91);
    check("rpmvercmp", rpmvercmp, &list);
}

#[test]
fn apk_orders_as_apk_tools_test_data_says() {
    let list: Vec<_> = cases(include_str!("data/apk.txt"))
        .map(|c| (c[0].to_owned(), c[2].to_owned(), ordering(c[1])))
        .collect();
    assert_eq!(list.len(), 142);
    check("apk", apk::compare, &list);
}

#[test]
fn debian_and_ubuntu_security_versions_order_as_dpkg() {
    let less = [
        // Stable updates: `~deb12u1` sorts before the unstable upload it
        // backports, `+deb12u1` after the release it patches.
        ("3.0.11-1~deb12u1", "3.0.11-1"),
        ("3.0.11-1~deb12u1", "3.0.11-1~deb12u2"),
        ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1"),
        ("2.36-9", "2.36-9+deb12u4"),
        ("2.36-9+deb12u4", "2.36-9+deb12u10"),
        // binNMUs after the source upload.
        ("1.2-3", "1.2-3+b1"),
        // Ubuntu security uploads.
        ("1.1.1f-1ubuntu2", "1.1.1f-1ubuntu2.22"),
        ("8.12.1-1", "8.12.1-1ubuntu0.1~esm1"),
        // An epoch beats everything.
        ("9.9-9", "1:0.1-1"),
        ("1:2.3-4", "2:0"),
    ];
    for (a, b) in less {
        assert_eq!(dpkg::compare(a, b), Ordering::Less, "{a} < {b}");
        assert_eq!(dpkg::compare(b, a), Ordering::Greater, "{b} > {a}");
    }
    assert_eq!(dpkg::compare("0:1.0-1", "1.0-1"), Ordering::Equal);
}

#[test]
fn rpm_epoch_version_release_orders_as_rpm() {
    let less = [
        ("3.0.7-24.el9", "3.0.7-27.el9"),
        ("3.0.7-27.el9", "1:3.0.7-24.el9"),
        ("1.6.3-23.el10", "1.6.3-23.el10_2.1"),
        ("4.9.3-2.el9_8", "0:4.9.3-2.el9_8.1"),
        ("3.0.8-1.amzn2023.0.4", "3.0.8-1.amzn2023.0.12"),
        ("1.0~rc1-1.el9", "1.0-1.el9"),
        ("2.0.1-1", "2.0.1a-1"),
    ];
    for (a, b) in less {
        assert_eq!(rpm_compare(a, b), Ordering::Less, "{a} < {b}");
        assert_eq!(rpm_compare(b, a), Ordering::Greater, "{b} > {a}");
    }
    assert_eq!(rpm_compare("0:4.9.3-2.el9", "4.9.3-2.el9"), Ordering::Equal);
}

#[test]
fn alpine_revisions_order_as_apk() {
    assert_eq!(apk::compare("8.13.0-r0", "8.22.0-r0"), Ordering::Less);
    assert_eq!(apk::compare("3.1.4-r5", "3.1.4-r10"), Ordering::Less);
    assert_eq!(apk::compare("3.1.4_rc1-r0", "3.1.4-r0"), Ordering::Less);
    assert_eq!(apk::compare("1.36.1-r15", "1.36.1-r15"), Ordering::Equal);
    // Pre-releases below the release, `_p` patch levels above it.
    assert_eq!(apk::compare("1.0_rc1", "1.0"), Ordering::Less);
    assert_eq!(apk::compare("1.0", "1.0_p1"), Ordering::Less);
    assert_eq!(apk::compare("1.0", "1.0a"), Ordering::Less);
    // A leading zero compares as text: a fraction.
    assert_eq!(apk::compare("1.02", "1.1"), Ordering::Less);
    assert_eq!(apk::compare("1.010", "1.01"), Ordering::Greater);
}

#[test]
fn the_scheme_dispatches_to_the_right_rules() {
    // `~` is older to dpkg and rpm; apk reads it as outside its grammar.
    assert_eq!(
        VersionScheme::Dpkg.compare("1.0~rc1", "1.0"),
        Ordering::Less
    );
    assert_eq!(VersionScheme::Rpm.compare("1.0~rc1", "1.0"), Ordering::Less);
    // `_rc1` is a pre-release to apk only.
    assert_eq!(VersionScheme::Apk.compare("1.0_rc1", "1.0"), Ordering::Less);
    assert_eq!(
        VersionScheme::Dpkg.compare("1.0_rc1", "1.0"),
        Ordering::Greater
    );
}
