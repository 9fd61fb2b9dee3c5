//! Shared helpers for the machine inspection tests: fixture paths, a
//! serialisable view of an inventory, and writers for RPM header blobs,
//! SQLite rpmdbs and BerkeleyDB hash rpmdbs.

#![allow(dead_code, reason = "each test binary uses a subset")]
#![allow(
    clippy::indexing_slicing,
    reason = "test fixture writers index fixed-size pages"
)]

use std::path::{Path, PathBuf};

use rampart_machine::MachineInventory;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The inventory as JSON, errors as their messages (what the snapshots hold).
pub fn view(inventory: &MachineInventory) -> serde_json::Value {
    serde_json::json!({
        "os": inventory.os,
        "packages": inventory.packages,
        "package_databases": inventory.package_databases,
        "language_packages": inventory.language_packages,
        "lock_files_read": inventory.lock_files_read,
        "secrets": inventory.secrets,
        "secret_files_scanned": inventory.secret_files_scanned,
        "errors": inventory.error_messages(),
    })
}

pub const NAME: u32 = 1000;
pub const VERSION: u32 = 1001;
pub const RELEASE: u32 = 1002;
pub const EPOCH: u32 = 1003;
pub const ARCH: u32 = 1022;
pub const SOURCERPM: u32 = 1044;

/// A header tag's value.
pub enum Tag {
    Str(&'static str),
    Int(u32),
}

/// Writes an RPM header blob as rpm's `headerExport` does: a region tag
/// (`RPMTAG_HEADERIMMUTABLE`, 63) first, then the tags, strings
/// NUL-terminated and int32s aligned to 4 bytes in the data store.
pub fn rpm_header(tags: &[(u32, Tag)]) -> Vec<u8> {
    let mut index: Vec<[u32; 4]> = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (tag, value) in tags {
        match value {
            Tag::Str(s) => {
                index.push([*tag, 6, data.len() as u32, 1]);
                data.extend(s.as_bytes());
                data.push(0);
            }
            Tag::Int(i) => {
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
                index.push([*tag, 4, data.len() as u32, 1]);
                data.extend(i.to_be_bytes());
            }
        }
    }
    // The immutable region trailer rpm appends: a 16-byte entry pointing
    // back at the index (negative offset), stored as BIN data.
    let region_offset = data.len() as u32;
    let entries = index.len() as u32 + 1;
    data.extend(63u32.to_be_bytes());
    data.extend(7u32.to_be_bytes());
    data.extend((-(entries as i32 * 16)).to_be_bytes());
    data.extend(16u32.to_be_bytes());
    index.insert(0, [63, 7, region_offset, 16]);
    let mut out = Vec::new();
    out.extend((index.len() as u32).to_be_bytes());
    out.extend((data.len() as u32).to_be_bytes());
    for entry in &index {
        for field in entry {
            out.extend(field.to_be_bytes());
        }
    }
    out.extend(data);
    out
}

/// A typical package header.
pub fn package(
    name: &'static str,
    epoch: Option<u32>,
    version: &'static str,
    release: &'static str,
    arch: &'static str,
    srpm: &'static str,
) -> Vec<u8> {
    let mut tags = vec![
        (NAME, Tag::Str(name)),
        (VERSION, Tag::Str(version)),
        (RELEASE, Tag::Str(release)),
    ];
    if let Some(e) = epoch {
        tags.push((EPOCH, Tag::Int(e)));
    }
    tags.push((ARCH, Tag::Str(arch)));
    tags.push((SOURCERPM, Tag::Str(srpm)));
    rpm_header(&tags)
}

/// Writes an rpm ≥ 4.16 SQLite database holding `blobs`.
pub fn write_rpmdb_sqlite(path: &Path, blobs: &[Vec<u8>]) -> rusqlite::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
         CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL);",
    )?;
    conn.execute_batch("BEGIN")?;
    for blob in blobs {
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob])?;
    }
    conn.execute_batch("COMMIT")
}

/// Writes a little-endian BerkeleyDB hash database (4 KiB pages) holding
/// `blobs` as rpm < 4.16 did: one hash page of key/value pairs whose
/// values live on overflow page chains, plus rpm's 4-byte counter record
/// stored on-page under key 0.
pub fn bdb_hash(blobs: &[Vec<u8>]) -> Vec<u8> {
    const PAGE: usize = 4096;
    const HEADER: usize = 26;
    let mut pages: Vec<Vec<u8>> = vec![vec![0; PAGE], vec![0; PAGE]];
    // Overflow chains, page 2 on.
    let mut items: Vec<Vec<u8>> = Vec::new();
    // key 0 / counter record (on-page KEYDATA).
    items.push([vec![1u8], 0u32.to_le_bytes().to_vec()].concat());
    items.push([vec![1u8], (blobs.len() as u32).to_le_bytes().to_vec()].concat());
    for (i, blob) in blobs.iter().enumerate() {
        let first = pages.len() as u32;
        let chunks: Vec<&[u8]> = blob.chunks(PAGE - HEADER).collect();
        for (c, chunk) in chunks.iter().enumerate() {
            let mut page = vec![0u8; PAGE];
            let pgno = pages.len() as u32;
            page[8..12].copy_from_slice(&pgno.to_le_bytes());
            let next = if c + 1 < chunks.len() { pgno + 1 } else { 0 };
            page[16..20].copy_from_slice(&next.to_le_bytes());
            page[22..24].copy_from_slice(&(chunk.len() as u16).to_le_bytes());
            page[25] = 7;
            page[HEADER..HEADER + chunk.len()].copy_from_slice(chunk);
            pages.push(page);
        }
        items.push([vec![1u8], (i as u32 + 1).to_le_bytes().to_vec()].concat());
        let mut off = vec![3u8, 0, 0, 0];
        off.extend(first.to_le_bytes());
        off.extend((blob.len() as u32).to_le_bytes());
        items.push(off);
    }
    // The hash page: index after the header, items packed from the end.
    let hash = &mut pages[1];
    hash[8..12].copy_from_slice(&1u32.to_le_bytes());
    hash[20..22].copy_from_slice(&(items.len() as u16).to_le_bytes());
    hash[25] = 13;
    let mut end = PAGE;
    for (i, item) in items.iter().enumerate() {
        let start = end - item.len();
        hash[start..end].copy_from_slice(item);
        hash[HEADER + i * 2..HEADER + i * 2 + 2].copy_from_slice(&(start as u16).to_le_bytes());
        end = start;
    }
    hash[22..24].copy_from_slice(&(end as u16).to_le_bytes());
    let last = pages.len() as u32 - 1;
    let meta = &mut pages[0];
    meta[12..16].copy_from_slice(&0x061561u32.to_le_bytes());
    meta[16..20].copy_from_slice(&9u32.to_le_bytes());
    meta[20..24].copy_from_slice(&(PAGE as u32).to_le_bytes());
    meta[25] = 8;
    meta[32..36].copy_from_slice(&last.to_le_bytes());
    pages.concat()
}

/// Writes an rpm "ndb" package database (`Packages.db`) holding `blobs`:
/// one slot page, blobs with head (`BlbS`) and tail (`BlbE`) after it.
pub fn ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0u8; 4096];
    out[0..4].copy_from_slice(b"RpmP");
    out[8..12].copy_from_slice(&1u32.to_le_bytes());
    out[12..16].copy_from_slice(&1u32.to_le_bytes());
    out[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
    for slot in (32..4096).step_by(16) {
        out[slot..slot + 4].copy_from_slice(b"Slot");
    }
    for (i, blob) in blobs.iter().enumerate() {
        let block = out.len() / 16;
        let index = i as u32 + 1;
        let mut area = Vec::new();
        area.extend(b"BlbS");
        area.extend(index.to_le_bytes());
        area.extend(1u32.to_le_bytes());
        area.extend((blob.len() as u32).to_le_bytes());
        area.extend(blob);
        area.extend(0u32.to_le_bytes()); // adler32, not checked by readers here
        area.extend((blob.len() as u32).to_le_bytes());
        area.extend(b"BlbE");
        while !area.len().is_multiple_of(16) {
            area.push(0);
        }
        let slot = 32 + i * 16;
        out[slot + 4..slot + 8].copy_from_slice(&index.to_le_bytes());
        out[slot + 8..slot + 12].copy_from_slice(&(block as u32).to_le_bytes());
        out[slot + 12..slot + 16].copy_from_slice(&((area.len() / 16) as u32).to_le_bytes());
        out.extend(area);
    }
    out
}
