//! OSV vulnerability records for tests: the real-shaped fixtures of
//! `crates/vuln/tests/fixtures` (a DSA, a DLA, DEBIAN-CVE, Alpine, ALAS,
//! Rocky, AlmaLinux, Red Hat and Ubuntu record) and `all.zip` dumps made
//! from them at test time.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory of fixture records.
pub fn osv_fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vuln/tests/fixtures")
}

/// The fixture records as (file name, bytes), sorted by name.
pub fn osv_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(osv_fixtures_dir())
        .expect("read the OSV fixtures")
        .map(|e| {
            let path = e.expect("a fixture").path();
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read a fixture"))
        })
        .filter(|(name, _)| name.ends_with(".json"))
        .collect();
    out.sort();
    out
}

/// A record that is not OSV JSON, as a dump might hold.
pub const BAD_RECORD: (&str, &[u8]) = ("BROKEN-1.json", b"{\"id\": \"BROKEN-1\", \"affected\": [");

/// Writes an `all.zip`-shaped archive (deflated JSON entries at its root)
/// holding `entries`.
pub fn write_osv_zip(path: &Path, entries: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(path).expect("create the zip");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options)
            .expect("start an entry");
        zip.write_all(bytes).expect("write an entry");
    }
    zip.finish().expect("finish the zip");
}

/// Writes the fixtures (and, when `with_bad`, [`BAD_RECORD`]) as a zip.
pub fn write_fixtures_zip(path: &Path, with_bad: bool) {
    let mut entries = osv_fixtures();
    if with_bad {
        entries.push((BAD_RECORD.0.to_owned(), BAD_RECORD.1.to_vec()));
    }
    write_osv_zip(path, &entries);
}
