//! Matching installed packages against real-shaped OSV records (the
//! fixtures in `tests/fixtures/`, one per advisory kind: DSA, DLA,
//! DEBIAN-CVE, Alpine, ALAS, Rocky, AlmaLinux, Red Hat, Ubuntu).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::path::Path;

use rampart_model::machine::{
    InstalledPackage, OsRelease, PackageFormat, VulnerabilityFinding, VulnerabilitySeverity,
};
use rampart_vuln::{
    OsvReader, OsvRecord, VulnError, VulnIndex, ecosystems_for, os_release_of_platform,
};

fn fixtures_index() -> VulnIndex {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut advisories = Vec::new();
    for entry in OsvReader::open(&dir).unwrap() {
        let entry = entry.unwrap();
        let record = entry
            .record
            .unwrap_or_else(|e| panic!("{}: {e}", entry.origin));
        advisories.extend(record.advisories());
    }
    VulnIndex::new(advisories)
}

fn os(id: &str, version: &str) -> OsRelease {
    OsRelease {
        id: id.to_owned(),
        version_id: Some(version.to_owned()),
        ..OsRelease::default()
    }
}

fn pkg(name: &str, version: &str, format: PackageFormat) -> InstalledPackage {
    InstalledPackage {
        name: name.to_owned(),
        version: version.to_owned(),
        format,
        source_name: None,
        source_version: None,
        arch: None,
    }
}

fn from_source(mut p: InstalledPackage, source: &str, version: Option<&str>) -> InstalledPackage {
    p.source_name = Some(source.to_owned());
    p.source_version = version.map(str::to_owned);
    p
}

fn ids(findings: &[VulnerabilityFinding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| (f.package.as_str(), f.vulnerability.as_str()))
        .collect()
}

#[test]
fn a_debian_binary_matches_the_dsa_naming_its_source_package() {
    let index = fixtures_index();
    let packages = [from_source(
        pkg("libssl3", "3.0.11-1~deb12u2", PackageFormat::Deb),
        "openssl",
        None,
    )];
    let findings = index
        .match_packages(&os("debian", "12"), &packages)
        .unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.package, "libssl3");
    assert_eq!(f.source_package.as_deref(), Some("openssl"));
    assert_eq!(f.installed_version, "3.0.11-1~deb12u2");
    assert_eq!(f.fixed_version.as_deref(), Some("3.0.13-1~deb12u1"));
    assert_eq!(f.vulnerability, "DSA-5678-1");
    assert_eq!(f.aliases, ["CVE-2024-0727", "CVE-2023-6237"]);
    assert_eq!(f.ecosystem, "Debian:12");
    assert_eq!(f.severity, VulnerabilitySeverity::Unknown);
}

#[test]
fn the_fixed_version_and_later_ones_are_not_affected() {
    let index = fixtures_index();
    for version in ["3.0.13-1~deb12u1", "3.0.13-1~deb12u2", "3.0.15-1~deb12u1"] {
        let packages = [from_source(
            pkg("libssl3", version, PackageFormat::Deb),
            "openssl",
            None,
        )];
        let findings = index
            .match_packages(&os("debian", "12"), &packages)
            .unwrap();
        assert!(findings.is_empty(), "{version}: {findings:#?}");
    }
    // `~deb11u1` sorts before `~deb12u1`: still affected.
    let packages = [from_source(
        pkg("libssl3", "3.0.13-1~deb11u1", PackageFormat::Deb),
        "openssl",
        None,
    )];
    assert_eq!(
        index
            .match_packages(&os("debian", "12"), &packages)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_source_version_is_compared_when_the_binary_version_differs() {
    let index = fixtures_index();
    // A binNMU: the binary is `+b1`, the source is what the advisory names.
    let affected = [from_source(
        pkg("libssl3", "3.0.11-1~deb12u2+b1", PackageFormat::Deb),
        "openssl",
        Some("3.0.11-1~deb12u2"),
    )];
    assert_eq!(
        index
            .match_packages(&os("debian", "12"), &affected)
            .unwrap()
            .len(),
        1
    );
    let fixed = [from_source(
        pkg("libssl3", "3.0.13-1~deb12u1+b1", PackageFormat::Deb),
        "openssl",
        Some("3.0.13-1~deb12u1"),
    )];
    assert!(
        index
            .match_packages(&os("debian", "12"), &fixed)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_debian_binary_built_from_another_source_does_not_match_by_its_own_name() {
    let index = fixtures_index();
    // Named like the advisory's source package, but built from another.
    let packages = [from_source(
        pkg("openssl", "3.0.11-1~deb12u2", PackageFormat::Deb),
        "openssl-compat",
        None,
    )];
    assert!(
        index
            .match_packages(&os("debian", "12"), &packages)
            .unwrap()
            .is_empty()
    );
    // Without a source name, the binary's own name is the source's.
    let packages = [pkg("openssl", "3.0.11-1~deb12u2", PackageFormat::Deb)];
    assert_eq!(
        ids(&index
            .match_packages(&os("debian", "12"), &packages)
            .unwrap()),
        [("openssl", "DSA-5678-1")]
    );
}

#[test]
fn another_release_gets_its_own_advisories_only() {
    let index = fixtures_index();
    let packages = [
        from_source(
            pkg("libssl1.1", "1.1.1w-0+deb11u1", PackageFormat::Deb),
            "openssl",
            None,
        ),
        from_source(
            pkg("libc6", "2.31-13+deb11u8", PackageFormat::Deb),
            "glibc",
            None,
        ),
        pkg("php-league-commonmark", "2.3.9-1", PackageFormat::Deb),
    ];
    let findings = index
        .match_packages(&os("debian", "11"), &packages)
        .unwrap();
    assert_eq!(
        ids(&findings),
        [("libc6", "DLA-3800-1"), ("libssl1.1", "DSA-5678-1")]
    );
    assert_eq!(
        findings[0].fixed_version.as_deref(),
        Some("2.31-13+deb11u9")
    );
    assert_eq!(
        findings[1].fixed_version.as_deref(),
        Some("1.1.1w-0+deb11u2")
    );
}

#[test]
fn a_versions_list_alone_matches_listed_versions_only() {
    let index = fixtures_index();
    let listed = [pkg(
        "php-league-commonmark",
        "2.3.9-1+deb12u1",
        PackageFormat::Deb,
    )];
    let findings = index.match_packages(&os("debian", "12"), &listed).unwrap();
    assert_eq!(
        ids(&findings),
        [("php-league-commonmark", "DEBIAN-CVE-2024-58382")]
    );
    assert_eq!(findings[0].fixed_version, None);
    assert_eq!(
        findings[0].severity,
        VulnerabilitySeverity::Low,
        "Debian's urgency `low`"
    );
    assert_eq!(findings[0].aliases, ["CVE-2024-58382"]);
    // `introduced: 0` with no fix would cover every version; the range
    // still says so.
    let later = [pkg("php-league-commonmark", "2.3.9-2", PackageFormat::Deb)];
    assert_eq!(
        index
            .match_packages(&os("debian", "12"), &later)
            .unwrap()
            .len(),
        1
    );
    // On Debian 13 the fix applies.
    let fixed = [pkg("php-league-commonmark", "2.6.0-1", PackageFormat::Deb)];
    assert!(
        index
            .match_packages(&os("debian", "13"), &fixed)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn last_affected_includes_that_version_and_nothing_after() {
    let index = fixtures_index();
    let deb12 = os("debian", "12");
    let at = |v: &str| {
        index
            .match_packages(&deb12, &[pkg("libxml2", v, PackageFormat::Deb)])
            .unwrap()
    };
    assert!(at("2.9.10+dfsg-0").is_empty(), "before introduced");
    assert_eq!(at("2.9.10+dfsg-1").len(), 1, "introduced");
    assert_eq!(at("2.9.14+dfsg-1.3~deb12u1").len(), 1, "last affected");
    assert!(
        at("2.9.14+dfsg-1.3~deb12u2").is_empty(),
        "after last affected"
    );
    assert_eq!(
        at("2.9.12+dfsg-1")[0].severity,
        VulnerabilitySeverity::Medium,
        "`medium*`"
    );
    assert_eq!(at("2.9.12+dfsg-1")[0].fixed_version, None);
}

#[test]
fn a_limit_ends_the_range() {
    let index = fixtures_index();
    let deb12 = os("debian", "12");
    let at = |v: &str| {
        index
            .match_packages(&deb12, &[pkg("zlib", v, PackageFormat::Deb)])
            .unwrap()
    };
    assert_eq!(at("1:1.2.12-1").len(), 1);
    assert!(at("1:1.2.13-1").is_empty());
    assert!(
        at("1.2.12-1").is_empty(),
        "no epoch is older than introduced"
    );
}

#[test]
fn alpine_packages_match_by_origin_with_apk_ordering() {
    let index = fixtures_index();
    let alpine = os("alpine", "3.19.1");
    let packages = [
        from_source(pkg("libcurl", "8.4.0-r0", PackageFormat::Apk), "curl", None),
        pkg("curl", "8.5.0-r0", PackageFormat::Apk),
        pkg("curl-old", "7.0.0-r0", PackageFormat::Apk),
    ];
    let findings = index.match_packages(&alpine, &packages).unwrap();
    assert_eq!(ids(&findings), [("libcurl", "ALPINE-CVE-2023-46218")]);
    assert_eq!(findings[0].ecosystem, "Alpine:v3.19");
    assert_eq!(findings[0].fixed_version.as_deref(), Some("8.5.0-r0"));
    assert_eq!(
        findings[0].severity,
        VulnerabilitySeverity::Medium,
        "CVSS 5.3"
    );
    // Before `introduced` on 3.19 (7.46.0-r0), not affected.
    let old = [pkg("curl", "7.45.0-r0", PackageFormat::Apk)];
    assert!(index.match_packages(&alpine, &old).unwrap().is_empty());
}

#[test]
fn amazon_linux_packages_match_alas_records_with_epochs() {
    let index = fixtures_index();
    let amzn = os("amzn", "2023");
    let packages = [
        pkg("openssl-libs", "1:3.0.8-1.amzn2023.0.4", PackageFormat::Rpm),
        pkg("openssl", "1:3.0.8-1.amzn2023.0.12", PackageFormat::Rpm),
    ];
    let findings = index.match_packages(&amzn, &packages).unwrap();
    assert_eq!(ids(&findings), [("openssl-libs", "ALAS2023-2024-581")]);
    assert_eq!(
        findings[0].fixed_version.as_deref(),
        Some("1:3.0.8-1.amzn2023.0.12")
    );
    assert_eq!(
        findings[0].severity,
        VulnerabilitySeverity::High,
        "`Important:`"
    );
    // Amazon Linux 2 is another ecosystem.
    assert!(
        index
            .match_packages(&os("amzn", "2"), &packages)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn rocky_alma_and_red_hat_records_match_rpm_packages() {
    let index = fixtures_index();
    let rocky = index
        .match_packages(
            &os("rocky", "9.3"),
            &[pkg("python3.12-lxml", "4.9.3-2.el9_8", PackageFormat::Rpm)],
        )
        .unwrap();
    assert_eq!(ids(&rocky), [("python3.12-lxml", "RLSA-2024:1234")]);
    assert_eq!(rocky[0].fixed_version.as_deref(), Some("0:4.9.3-2.el9_8.1"));
    assert_eq!(rocky[0].severity, VulnerabilitySeverity::High);
    // 0:4.9.3-2.el9_8.1 installed without the epoch is the fixed build.
    assert!(
        index
            .match_packages(
                &os("rocky", "9.3"),
                &[pkg(
                    "python3.12-lxml",
                    "4.9.3-2.el9_8.1",
                    PackageFormat::Rpm
                )]
            )
            .unwrap()
            .is_empty()
    );

    // A binary RPM matched by its name and by its source RPM: one finding.
    let devel = from_source(
        pkg("apr-util-devel", "1.6.1-23.el9", PackageFormat::Rpm),
        "apr-util",
        Some("1.6.1-23.el9"),
    );
    let alma = index
        .match_packages(&os("almalinux", "9.4"), &[devel])
        .unwrap();
    assert_eq!(ids(&alma), [("apr-util-devel", "ALSA-2024:6392")]);
    assert_eq!(
        alma[0].severity,
        VulnerabilitySeverity::Medium,
        "`Moderate:`"
    );

    let rhel = index
        .match_packages(
            &os("rhel", "9.4"),
            &[pkg("sudo", "1.9.5p2-9.el9", PackageFormat::Rpm)],
        )
        .unwrap();
    assert_eq!(ids(&rhel), [("sudo", "RHSA-2024:2222")]);
    assert_eq!(rhel[0].ecosystem, "Red Hat:enterprise_linux:9::baseos");
    assert_eq!(rhel[0].severity, VulnerabilitySeverity::Critical);
    assert_eq!(rhel[0].fixed_version.as_deref(), Some("0:1.9.5p2-10.el9_3"));
}

#[test]
fn ubuntu_uses_its_own_rating_and_not_the_pro_pocket() {
    let index = fixtures_index();
    let jammy = os("ubuntu", "22.04");
    let packages = [from_source(
        pkg("libvips42", "8.12.1-1", PackageFormat::Deb),
        "vips",
        None,
    )];
    let findings = index.match_packages(&jammy, &packages).unwrap();
    assert_eq!(ids(&findings), [("libvips42", "UBUNTU-CVE-2025-29769")]);
    assert_eq!(findings[0].ecosystem, "Ubuntu:22.04:LTS");
    assert_eq!(
        findings[0].severity,
        VulnerabilitySeverity::High,
        "Ubuntu's `high` over CVSS 5.5"
    );
    assert_eq!(
        findings[0].fixed_version, None,
        "the fix is in Ubuntu Pro only"
    );
}

#[test]
fn packages_of_another_format_are_skipped_and_order_is_stable() {
    let index = fixtures_index();
    let packages = [
        pkg("php-league-commonmark", "2.3.9-1", PackageFormat::Deb),
        pkg("zlib", "1:1.2.12-1", PackageFormat::Rpm),
        from_source(
            pkg("libssl3", "3.0.11-1~deb12u1", PackageFormat::Deb),
            "openssl",
            None,
        ),
        from_source(
            pkg("libssl3", "3.0.11-1~deb12u1", PackageFormat::Deb),
            "openssl",
            None,
        ),
        pkg("libxml2", "2.9.12+dfsg-1", PackageFormat::Deb),
    ];
    let first = index
        .match_packages(&os("debian", "12"), &packages)
        .unwrap();
    let mut reversed = packages.to_vec();
    reversed.reverse();
    let second = index
        .match_packages(&os("debian", "12"), &reversed)
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(
        ids(&first),
        [
            ("libssl3", "DSA-5678-1"),
            ("libxml2", "DEBIAN-CVE-2023-9999"),
            ("php-league-commonmark", "DEBIAN-CVE-2024-58382"),
        ]
    );
}

#[test]
fn an_operating_system_without_an_ecosystem_is_an_error() {
    let index = fixtures_index();
    let err = index
        .match_packages(
            &os("gentoo", "2.14"),
            &[pkg("openssl", "3.0.13", PackageFormat::Deb)],
        )
        .unwrap_err();
    assert!(matches!(err, VulnError::UnsupportedOs { .. }), "{err}");
    assert!(
        ecosystems_for(&OsRelease {
            id: "debian".into(),
            ..OsRelease::default()
        })
        .is_none()
    );
}

#[test]
fn ssm_platforms_map_to_ecosystems() {
    let cases = [
        ("Ubuntu", "22.04", "Ubuntu:22.04:LTS"),
        ("Ubuntu", "24.10", "Ubuntu:24.10"),
        ("Amazon Linux", "2023", "Amazon Linux:2023"),
        ("Amazon Linux", "2", "Amazon Linux:2"),
        ("Debian GNU/Linux", "12", "Debian:12"),
        ("Rocky Linux", "9.3", "Rocky Linux:9"),
        ("AlmaLinux", "8.10", "AlmaLinux:8"),
        ("Alpine Linux", "3.19.1", "Alpine:v3.19"),
        (
            "Red Hat Enterprise Linux",
            "9.4",
            "Red Hat:enterprise_linux:9::*",
        ),
    ];
    for (name, version, label) in cases {
        let os = os_release_of_platform(name, version).unwrap();
        assert_eq!(
            ecosystems_for(&os).unwrap().label(),
            label,
            "{name} {version}"
        );
    }
    assert!(os_release_of_platform("Microsoft Windows Server 2022", "10.0").is_none());
    // Debian testing names its release by codename only.
    let trixie = OsRelease {
        id: "debian".into(),
        version_codename: Some("trixie".into()),
        ..OsRelease::default()
    };
    assert_eq!(ecosystems_for(&trixie).unwrap().label(), "Debian:13");
}

#[test]
fn the_ssm_entry_point_matches_without_an_os_release() {
    let index = fixtures_index();
    let selection =
        ecosystems_for(&os_release_of_platform("Amazon Linux", "2023").unwrap()).unwrap();
    let findings = index.match_in(
        &selection,
        &[pkg(
            "openssl-libs",
            "1:3.0.8-1.amzn2023.0.4",
            PackageFormat::Rpm,
        )],
    );
    assert_eq!(ids(&findings), [("openssl-libs", "ALAS2023-2024-581")]);
}

#[test]
fn withdrawn_records_advise_nothing_and_zero_dates_are_not_withdrawals() {
    let withdrawn = OsvRecord::from_json(
        br#"{"id": "ALPINE-CVE-2021-0001", "modified": "2026-01-02T03:04:05Z", "withdrawn": "2026-01-02T03:04:05Z",
            "affected": [{"package": {"ecosystem": "Alpine:v3.19", "name": "curl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#,
    )
    .unwrap();
    assert!(withdrawn.is_withdrawn());
    assert!(withdrawn.advisories().is_empty());
    let zero = OsvRecord::from_json(include_bytes!("fixtures/DEBIAN-CVE-2024-58382.json")).unwrap();
    assert!(!zero.is_withdrawn());
    assert_eq!(zero.advisories().len(), 2);
}

#[test]
fn an_event_with_two_bounds_is_not_a_record() {
    let bad = OsvRecord::from_json(
        br#"{"id": "DSA-1-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "x"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1.0-1"}]}]}]}"#,
    );
    assert!(bad.is_err());
}

#[test]
fn stored_json_round_trips_into_the_same_index() {
    let record = OsvRecord::from_json(include_bytes!("fixtures/DSA-5678-1.json")).unwrap();
    let rows: Vec<String> = record
        .advisories()
        .iter()
        .map(|a| serde_json::to_string(a).unwrap())
        .collect();
    let index = VulnIndex::from_json(rows.iter().map(String::as_str)).unwrap();
    assert_eq!(index.len(), 2);
    let packages = [from_source(
        pkg("libssl3", "3.0.11-1~deb12u2", PackageFormat::Deb),
        "openssl",
        None,
    )];
    assert_eq!(
        index
            .match_packages(&os("debian", "12"), &packages)
            .unwrap()
            .len(),
        1
    );
    assert!(VulnIndex::from_json(["{not json"]).is_err());
}
