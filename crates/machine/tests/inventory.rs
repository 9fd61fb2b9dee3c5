//! Inventories of fixture machines: operating system and packages, read
//! through `HostDir` exactly as the disk reader's trees are read.

#![allow(clippy::indexing_slicing, reason = "test assertions")]

mod common;

use std::fs;

use common::{TestResult, fixture, package, view};
use rampart_disk::HostDir;
use rampart_machine::{InspectOptions, inspect};
use rampart_model::machine::PackageFormat;

fn no_secrets() -> InspectOptions {
    InspectOptions {
        secrets: false,
        ..InspectOptions::default()
    }
}

#[test]
fn debian_dpkg_status() -> TestResult {
    let inv = inspect(&HostDir::new(fixture("debian")), &no_secrets());
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    let names: Vec<_> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    // `apache2` (config-files only) and `vim-tiny` (half-installed) are not installed.
    assert_eq!(
        names,
        ["base-files", "bsdutils", "libssl3", "perl-base", "tzdata"]
    );
    insta::assert_json_snapshot!("debian", view(&inv));
    Ok(())
}

#[test]
fn distroless_status_d() -> TestResult {
    let inv = inspect(&HostDir::new(fixture("distroless")), &no_secrets());
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    insta::assert_json_snapshot!("distroless", view(&inv));
    Ok(())
}

#[test]
fn alpine_apk_installed() -> TestResult {
    let inv = inspect(&HostDir::new(fixture("alpine")), &no_secrets());
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    assert!(inv.packages.iter().all(|p| p.format == PackageFormat::Apk));
    insta::assert_json_snapshot!("alpine", view(&inv));
    Ok(())
}

/// A database written by rpm 4.18 itself (`rpm --initdb` and
/// `rpm -i --justdb` of three small packages, one built as a subpackage so
/// its source RPM differs from its name; one with an epoch).
#[test]
fn rocky_real_rpmdb_sqlite() -> TestResult {
    let inv = inspect(&HostDir::new(fixture("rocky-9")), &no_secrets());
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    assert_eq!(inv.packages.len(), 3);
    insta::assert_json_snapshot!("rocky-9", view(&inv));
    Ok(())
}

#[test]
fn amazon_linux_2023_rpmdb_sqlite_with_a_corrupt_header() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir_all(dir.path().join("etc"))?;
    fs::create_dir_all(dir.path().join("var/lib/rpm"))?;
    fs::write(
        dir.path().join("etc/os-release"),
        "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023.3.20240131\"\n",
    )?;
    let mut truncated = package(
        "curl-minimal",
        None,
        "8.5.0",
        "1.amzn2023.0.2",
        "x86_64",
        "curl-8.5.0-1.amzn2023.0.2.src.rpm",
    );
    truncated.truncate(truncated.len() / 2);
    let blobs = vec![
        package(
            "openssl-libs",
            Some(1),
            "3.0.8",
            "1.amzn2023.0.11",
            "x86_64",
            "openssl-3.0.8-1.amzn2023.0.11.src.rpm",
        ),
        package(
            "bash",
            None,
            "5.2.15",
            "1.amzn2023.0.2",
            "x86_64",
            "bash-5.2.15-1.amzn2023.0.2.src.rpm",
        ),
        package(
            "python3-libs",
            None,
            "3.9.16",
            "1.amzn2023.0.6",
            "x86_64",
            "python3.9-3.9.16-1.amzn2023.0.6.src.rpm",
        ),
        common::rpm_header(&[
            (common::NAME, common::Tag::Str("gpg-pubkey")),
            (common::VERSION, common::Tag::Str("d832c631")),
            (common::RELEASE, common::Tag::Str("5e3f4f5b")),
        ]),
        truncated,
    ];
    common::write_rpmdb_sqlite(&dir.path().join("var/lib/rpm/rpmdb.sqlite"), &blobs)?;
    let inv = inspect(&HostDir::new(dir.path()), &no_secrets());
    // The corrupt header is one counted error; the rest are read.
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.error_messages());
    assert!(
        inv.error_messages()[0].starts_with(
            "1 of 5 package entries in `/var/lib/rpm/rpmdb.sqlite` could not be parsed"
        )
    );
    insta::assert_json_snapshot!("amazon-linux-2023", view(&inv));
    Ok(())
}

#[test]
fn amazon_linux_2_berkeley_db_and_system_release() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir_all(dir.path().join("etc"))?;
    fs::create_dir_all(dir.path().join("var/lib/rpm"))?;
    fs::copy(
        fixture("amazon-linux-2/etc/system-release"),
        dir.path().join("etc/system-release"),
    )?;
    // A header larger than a page spans an overflow chain.
    let mut long_release = String::from("26.amzn2.");
    long_release.push_str(&"0".repeat(5000));
    let long_release: &'static str = Box::leak(long_release.into_boxed_str());
    let blobs = vec![
        package(
            "openssl-libs",
            Some(1),
            "1.0.2k",
            "26.amzn2",
            "x86_64",
            "openssl-1.0.2k-26.amzn2.src.rpm",
        ),
        package(
            "glibc",
            None,
            "2.26",
            "64.amzn2.0.1",
            "x86_64",
            "glibc-2.26-64.amzn2.0.1.src.rpm",
        ),
        package(
            "kernel",
            None,
            "4.14.336",
            long_release,
            "x86_64",
            "kernel-4.14.336-257.566.amzn2.src.rpm",
        ),
    ];
    fs::write(
        dir.path().join("var/lib/rpm/Packages"),
        common::bdb_hash(&blobs),
    )?;
    let inv = inspect(&HostDir::new(dir.path()), &no_secrets());
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    let os = inv.os.as_ref().ok_or("no os")?;
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("amzn", Some("2"))
    );
    let versions: Vec<_> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.len()))
        .collect();
    assert_eq!(
        versions,
        [("glibc", 17), ("kernel", 5018), ("openssl-libs", 17)]
    );
    let openssl = inv
        .packages
        .iter()
        .find(|p| p.name == "openssl-libs")
        .ok_or("no openssl")?;
    assert_eq!(openssl.version, "1:1.0.2k-26.amzn2");
    assert_eq!(openssl.source_name.as_deref(), Some("openssl"));
    Ok(())
}

#[test]
fn a_damaged_berkeley_db_is_an_error_never_an_empty_list() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir_all(dir.path().join("var/lib/rpm"))?;
    let blobs = vec![package(
        "glibc",
        None,
        "2.17",
        "326.el7_9",
        "x86_64",
        "glibc-2.17-326.el7_9.src.rpm",
    )];
    let mut db = common::bdb_hash(&blobs);
    // Cut the overflow chain short.
    db.truncate(db.len() - 4096);
    let meta_last = u32::from_le_bytes([db[32], db[33], db[34], db[35]]);
    db[32..36].copy_from_slice(&(meta_last - 1).to_le_bytes());
    fs::write(dir.path().join("var/lib/rpm/Packages"), &db)?;
    let inv = inspect(&HostDir::new(dir.path()), &no_secrets());
    assert!(inv.packages.is_empty());
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.error_messages());
    // Not a BerkeleyDB at all.
    fs::write(
        dir.path().join("var/lib/rpm/Packages"),
        b"this is not a database at all, just text",
    )?;
    let inv = inspect(&HostDir::new(dir.path()), &no_secrets());
    assert_eq!(
        inv.error_messages(),
        ["cannot parse `/var/lib/rpm/Packages`: not a BerkeleyDB hash database"]
    );
    Ok(())
}

#[test]
fn suse_ndb_and_broken_databases() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rpm_dir = dir.path().join("usr/lib/sysimage/rpm");
    fs::create_dir_all(&rpm_dir)?;
    let blobs = vec![
        package(
            "libopenssl3",
            None,
            "3.0.8",
            "150500.5.8.1",
            "x86_64",
            "openssl-3-3.0.8-150500.5.8.1.src.rpm",
        ),
        package(
            "bash",
            None,
            "4.4",
            "150400.27.3.2",
            "x86_64",
            "bash-4.4-150400.27.3.2.src.rpm",
        ),
    ];
    fs::write(rpm_dir.join("Packages.db"), common::ndb(&blobs))?;
    let inv = inspect(&HostDir::new(dir.path()), &no_secrets());
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    let got: Vec<_> = inv
        .packages
        .iter()
        .map(|p| {
            format!(
                "{} {} {}",
                p.name,
                p.version,
                p.source_name.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "bash 4.4-150400.27.3.2 bash",
            "libopenssl3 3.0.8-150500.5.8.1 openssl-3"
        ]
    );
    assert_eq!(
        inv.package_databases[0].path,
        "/usr/lib/sysimage/rpm/Packages.db"
    );
    // A damaged ndb is an error, never an empty list.
    fs::write(rpm_dir.join("Packages.db"), b"RpmP")?;
    let inv = inspect(&HostDir::new(dir.path()), &no_secrets());
    assert_eq!(
        inv.error_messages(),
        ["cannot parse `/usr/lib/sysimage/rpm/Packages.db`: truncated header"]
    );
    // A damaged SQLite rpmdb beside it is the one read (it is preferred).
    fs::write(rpm_dir.join("rpmdb.sqlite"), b"not sqlite")?;
    let inv = inspect(&HostDir::new(dir.path()), &no_secrets());
    assert_eq!(
        inv.error_messages(),
        ["cannot parse `/usr/lib/sysimage/rpm/rpmdb.sqlite`: not an SQLite database"]
    );
    Ok(())
}

#[test]
fn release_file_fallbacks() -> TestResult {
    let inv = inspect(&HostDir::new(fixture("centos-7")), &no_secrets());
    let os = inv.os.ok_or("no os")?;
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("centos", Some("7"))
    );
    let dir = tempfile::tempdir()?;
    fs::create_dir_all(dir.path().join("etc"))?;
    fs::write(dir.path().join("etc/alpine-release"), "3.18.4\n")?;
    let os = inspect(&HostDir::new(dir.path()), &no_secrets())
        .os
        .ok_or("no os")?;
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("alpine", Some("3.18.4"))
    );
    // /usr/lib/os-release when /etc/os-release is missing.
    fs::create_dir_all(dir.path().join("usr/lib"))?;
    fs::write(
        dir.path().join("usr/lib/os-release"),
        "ID=fedora\nVERSION_ID=39\n",
    )?;
    let os = inspect(&HostDir::new(dir.path()), &no_secrets())
        .os
        .ok_or("no os")?;
    assert_eq!(os.id, "fedora");
    Ok(())
}

#[test]
fn an_empty_tree_has_nothing_and_no_errors_and_oversized_files_are_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    let inv = inspect(&HostDir::new(dir.path()), &InspectOptions::default());
    assert!(inv.os.is_none() && inv.packages.is_empty() && inv.errors.is_empty());
    let options = InspectOptions {
        max_package_db_bytes: 100,
        ..no_secrets()
    };
    let inv = inspect(&HostDir::new(fixture("debian")), &options);
    assert_eq!(
        inv.error_messages(),
        ["cannot read `/var/lib/dpkg/status`: `/var/lib/dpkg/status` is larger than 100 bytes"]
    );
    assert!(inv.packages.is_empty());
    Ok(())
}

/// BerkeleyDB hash databases written by libdb itself (`db5.3_load`, 512-byte
/// pages so headers span overflow chains; and a big-endian one with 1 KiB
/// pages) holding the header blobs rpm 4.18 wrote into the Rocky fixture;
/// rpm's own `bdb_ro` backend lists the same three packages from both.
#[test]
fn centos_7_real_berkeley_db() -> TestResult {
    let inv = inspect(&HostDir::new(fixture("centos-7")), &no_secrets());
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    insta::assert_json_snapshot!("centos-7", view(&inv));
    let big_endian = inspect(&HostDir::new(fixture("rpm-bdb-big-endian")), &no_secrets());
    assert!(
        big_endian.errors.is_empty(),
        "{:?}",
        big_endian.error_messages()
    );
    assert_eq!(big_endian.packages, inv.packages);
    let sqlite = inspect(&HostDir::new(fixture("rocky-9")), &no_secrets());
    assert_eq!(sqlite.packages, inv.packages);
    Ok(())
}
