//! Vulnerability database benchmark: a synthetic Debian OSV dump shaped
//! like osv.dev's (`all.zip`, one JSON record per entry, 54,000 records by
//! default: DSA/DLA advisories and DEBIAN-CVE records over a skewed pool
//! of source packages, each record for Debian 11, 12 and 13, half the
//! DEBIAN-CVE records with `versions[]` lists), imported into a fresh store
//! file, the Debian 12 index loaded, and 5,000 installed packages matched.
//! Prints each phase's time and the peak memory after it (VmHWM).
//!
//!   cargo run --release -p rampart-store --example bench_vulndb -- [RECORDS] [PACKAGES]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program: failures stop it, results go to stdout"
)]

use std::time::Instant;

use rampart_model::machine::{InstalledPackage, OsRelease, PackageFormat};
use rampart_store::Store;
use rampart_vuln::ecosystems_for;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A skewed pick in 0..n: a few packages (the kernel, browsers) have
    /// most records, as in the real dump.
    fn skewed(&mut self, n: u64) -> u64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as u64
    }
}

const SOURCES: u64 = 4_000;

fn source_name(i: u64) -> String {
    format!("srcpkg{i:04}")
}

/// The version of source `i` in a release: `1.{i%50}.{patch}-{rev}` with
/// the release's stable-update suffix.
fn version(i: u64, patch: u64, release: &str, update: u64) -> String {
    match release {
        "11" => format!("1.{}.{patch}-1+deb11u{update}", i % 50),
        "12" => format!("1.{}.{patch}-2+deb12u{update}", i % 50),
        _ => format!("1.{}.{patch}-3", i % 50),
    }
}

fn record(rng: &mut Rng, n: u64) -> (String, Vec<u8>) {
    let source = rng.skewed(SOURCES);
    let name = source_name(source);
    let kind = rng.below(10);
    let (id, urgency) = match kind {
        0..=1 => (format!("DSA-{}-1", 1000 + n), None),
        2 => (format!("DLA-{}-1", 1000 + n), None),
        _ => (
            format!("DEBIAN-CVE-{}-{}", 2000 + n % 25, 10_000 + n),
            Some(["unimportant", "low", "medium", "high", "not yet assigned"][(n % 5) as usize]),
        ),
    };
    let mut affected = Vec::new();
    for release in ["11", "12", "13"] {
        let patch = rng.below(20);
        let fixed = rng.below(4) != 0;
        let mut events = vec![serde_json::json!({"introduced": "0"})];
        if fixed {
            events.push(
                serde_json::json!({"fixed": version(source, patch, release, 1 + rng.below(5))}),
            );
        }
        let mut entry = serde_json::json!({
            "package": {
                "ecosystem": format!("Debian:{release}"),
                "name": name,
                "purl": format!("pkg:deb/debian/{name}?arch=source"),
            },
            "ranges": [{"type": "ECOSYSTEM", "events": events}],
        });
        if kind >= 3 && n % 2 == 0 {
            let versions: Vec<String> = (0..patch.min(12))
                .map(|p| version(source, p, release, 0))
                .collect();
            entry["versions"] = serde_json::json!(versions);
        }
        if let Some(urgency) = urgency {
            entry["ecosystem_specific"] = serde_json::json!({"urgency": urgency});
        }
        affected.push(entry);
    }
    let cve = format!("CVE-{}-{}", 2000 + n % 25, 10_000 + n);
    let body = serde_json::json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": format!("2025-{:02}-{:02}T10:00:00Z", 1 + n % 12, 1 + n % 28),
        "published": "2024-01-01T00:00:00Z",
        "upstream": [cve],
        "summary": format!("{name} - security update"),
        "details": "A flaw was found that allows a remote attacker to do something bad. ".repeat(4),
        "affected": affected,
        "references": [{"type": "ADVISORY", "url": format!("https://security-tracker.debian.org/tracker/{cve}")}],
    });
    (format!("{id}.json"), serde_json::to_vec(&body).unwrap())
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let records: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(54_000);
    let packages: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    let started = Instant::now();
    // Written one record at a time, so generating never holds the dump.
    let zip = dir.path().join("Debian-all.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut json_bytes = 0;
    for n in 0..records {
        let (name, bytes) = record(&mut rng, n);
        json_bytes += bytes.len();
        writer.start_file(name, options).unwrap();
        std::io::Write::write_all(&mut writer, &bytes).unwrap();
    }
    writer.finish().unwrap();
    let zip_bytes = std::fs::metadata(&zip).unwrap().len();
    println!(
        "dump: {records} records, {:.1} MiB of JSON, {:.1} MiB zipped (generated in {:.2} s, not measured below)",
        json_bytes as f64 / 1_048_576.0,
        zip_bytes as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
    let after_generation = peak_kib();

    let db = dir.path().join("rampart.db");
    let mut store = Store::open(&db).unwrap();
    let t = Instant::now();
    let report = store
        .import_vulndb(&zip, time::OffsetDateTime::now_utc(), &mut |_| {})
        .unwrap();
    let import = t.elapsed().as_secs_f64();
    let db_bytes = std::fs::metadata(&db).unwrap().len();
    println!(
        "import: {:.2} s ({:.0} records/s), {} package entries, store file {:.1} MiB, peak {}",
        import,
        report.records as f64 / import,
        report.advisories,
        db_bytes as f64 / 1_048_576.0,
        mib(peak_kib())
    );

    let os = OsRelease {
        id: "debian".into(),
        version_id: Some("12".into()),
        ..OsRelease::default()
    };
    let selection = ecosystems_for(&os).unwrap();
    let t = Instant::now();
    let index = store.vuln_index(&selection).unwrap();
    let build = t.elapsed().as_secs_f64();
    println!(
        "index (Debian:12): {:.3} s, {} advisories, peak {}",
        build,
        index.len(),
        mib(peak_kib())
    );

    // 5,000 installed binaries from 2,500 sources (two binaries each),
    // at versions around the advisories' fixed versions.
    let installed: Vec<InstalledPackage> = (0..packages)
        .map(|i| {
            let source = (i / 2) * (SOURCES / (packages / 2).max(1)).max(1) % SOURCES;
            InstalledPackage {
                name: format!("lib{}-{}", source_name(source), i % 2),
                version: version(source, rng.below(20), "12", rng.below(6)),
                format: PackageFormat::Deb,
                source_name: Some(source_name(source)),
                source_version: None,
                arch: Some("amd64".into()),
            }
        })
        .collect();
    let t = Instant::now();
    let findings = index.match_in(&selection, &installed);
    let matching = t.elapsed().as_secs_f64();
    println!(
        "match: {} packages in {:.3} s ({:.0} packages/s), {} findings, peak {}",
        installed.len(),
        matching,
        installed.len() as f64 / matching,
        findings.len(),
        mib(peak_kib())
    );
    println!(
        "ratios: import {:.1} µs/record, index {:.2} µs/advisory, match {:.1} µs/package; peak before import {}",
        import * 1e6 / report.records as f64,
        build * 1e6 / index.len().max(1) as f64,
        matching * 1e6 / installed.len().max(1) as f64,
        mib(after_generation)
    );
}
