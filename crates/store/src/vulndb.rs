//! The vulnerability database: OSV advisories imported from the dumps a
//! user downloads, one row per (ecosystem, package, record id) holding the
//! trimmed [`Advisory`] JSON, and one row per import (path, sources, date,
//! counts). Schema version 5 (a separate migration step, [`migrate`]).
//!
//! An import is one transaction per path: a record replaces every stored
//! row of the same id (a withdrawn record only removes them); a record
//! that cannot be parsed is counted and reported with where it was read,
//! never silently dropped; an unreadable path or archive rolls the whole
//! path back. [`Store::vuln_index`] loads the advisories of one
//! operating system's ecosystems only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::db::{Conn, params};
use rampart_model::machine::VulnerabilityDbSummary;
use rampart_vuln::{Advisory, EcosystemSelection, OsvReader, VulnIndex, ecosystem_source};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Result, Store, StoreError, rfc3339, to_i64};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS vulndb_advisories (
    ecosystem TEXT NOT NULL,
    package TEXT NOT NULL,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    modified TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (ecosystem, package, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vulndb_advisories_id ON vulndb_advisories (id);
CREATE INDEX IF NOT EXISTS vulndb_advisories_source ON vulndb_advisories (source, id);
CREATE TABLE IF NOT EXISTS vulndb_imports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    sources TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    records INTEGER NOT NULL,
    advisories INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    rejected INTEGER NOT NULL
);
";

/// Creates the vulnerability database's tables (schema version 5) when
/// missing; a separate step from the other modules' schemas.
pub(crate) fn migrate(conn: &Conn) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// How many rejected records an import keeps the details of (all are
/// counted).
pub const REJECTS_KEPT: usize = 100;

/// A record an import could not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRecord {
    /// Where it was read (`Debian-all.zip!DSA-5678-1.json`).
    pub origin: String,
    /// Why.
    pub reason: String,
}

/// What importing one path did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnDbImport {
    /// The path imported.
    pub path: String,
    /// The sources its records belong to (`Debian`), sorted.
    pub sources: Vec<String>,
    /// When (RFC 3339).
    pub imported_at: String,
    /// Records stored.
    pub records: u64,
    /// (ecosystem, package) entries stored.
    pub advisories: u64,
    /// Withdrawn records (their stored rows removed).
    pub withdrawn: u64,
    /// Records that could not be used.
    pub rejected: u64,
    /// The first [`REJECTS_KEPT`] of them, with where and why.
    pub rejects: Vec<RejectedRecord>,
}

/// One source's records in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnDbSource {
    /// The source (`Debian`, `Alpine`, `Rocky Linux`).
    pub source: String,
    /// Distinct records.
    pub records: u64,
    /// (ecosystem, package) entries.
    pub advisories: u64,
    /// Its ecosystems (`Debian:11`, `Debian:12`).
    pub ecosystems: Vec<String>,
    /// The newest record's `modified`.
    pub newest_record: Option<String>,
    /// When it was last imported, and from where.
    pub imported_at: Option<String>,
    /// The path of that import.
    pub path: Option<String>,
}

/// The vulnerability database's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnDbStatus {
    /// Per source, by name.
    pub sources: Vec<VulnDbSource>,
    /// The summary vulnerability documents carry.
    pub summary: VulnerabilityDbSummary,
}

impl Store {
    /// Imports the OSV records at `path` (an `all.zip` dump, a directory
    /// of JSON records or one record) in one transaction, calling
    /// `progress` with the number of entries read so far every 1,000
    /// entries and at the end.
    pub fn import_vulndb(
        &mut self,
        path: &Path,
        imported_at: OffsetDateTime,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VulnDbImport> {
        let reader = OsvReader::open(path)?;
        let mut report = VulnDbImport {
            path: path.display().to_string(),
            sources: Vec::new(),
            imported_at: rfc3339(imported_at),
            records: 0,
            advisories: 0,
            withdrawn: 0,
            rejected: 0,
            rejects: Vec::new(),
        };
        let mut sources = BTreeSet::new();
        let tx = self.conn.begin_write()?;
        {
            let mut delete = tx.prepare("DELETE FROM vulndb_advisories WHERE id = ?1")?;
            let mut insert = tx.prepare(
                "INSERT INTO vulndb_advisories (ecosystem, package, id, source, modified, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (ecosystem, package, id) DO UPDATE SET source = excluded.source, modified = excluded.modified, body = excluded.body",
            )?;
            let mut read: u64 = 0;
            for entry in reader {
                let entry = entry?;
                read += 1;
                if read.is_multiple_of(1_000) {
                    progress(read);
                }
                let record = match entry.record {
                    Ok(record) => record,
                    Err(reason) => {
                        reject(&mut report, entry.origin, reason);
                        continue;
                    }
                };
                if record.id.trim().is_empty() {
                    reject(
                        &mut report,
                        entry.origin,
                        "the record has no `id`".to_owned(),
                    );
                    continue;
                }
                delete.execute(params![record.id])?;
                if record.is_withdrawn() {
                    report.withdrawn += 1;
                    continue;
                }
                let advisories = record.advisories();
                for advisory in &advisories {
                    let body =
                        serde_json::to_string(advisory).map_err(|e| StoreError::Corrupt {
                            column: "vulndb_advisories.body",
                            reason: e.to_string(),
                        })?;
                    let source = ecosystem_source(&advisory.ecosystem);
                    if !sources.contains(source) {
                        sources.insert(source.to_owned());
                    }
                    insert.execute(params![
                        advisory.ecosystem,
                        advisory.package,
                        advisory.id,
                        source,
                        advisory.modified,
                        body,
                    ])?;
                }
                report.records += 1;
                report.advisories += to_u64(advisories.len());
            }
            progress(read);
        }
        report.sources = sources.into_iter().collect();
        tx.execute(
            "INSERT INTO vulndb_imports (path, sources, imported_at, records, advisories, withdrawn, rejected)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                report.path,
                report.sources.join("\n"),
                report.imported_at,
                to_i64(report.records),
                to_i64(report.advisories),
                to_i64(report.withdrawn),
                to_i64(report.rejected),
            ],
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// Per-source counts and dates, and the summary for documents.
    pub fn vulndb_status(&self) -> Result<VulnDbStatus> {
        let mut by_source: BTreeMap<String, VulnDbSource> = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT source, ecosystem, COUNT(*), MAX(modified) FROM vulndb_advisories
                 GROUP BY source, ecosystem ORDER BY source, ecosystem",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<Option<String>>(3)?,
                ))
            })?;
            for row in rows {
                let (source, ecosystem, count, newest) = row?;
                let entry = by_source
                    .entry(source.clone())
                    .or_insert_with(|| VulnDbSource {
                        source,
                        records: 0,
                        advisories: 0,
                        ecosystems: Vec::new(),
                        newest_record: None,
                        imported_at: None,
                        path: None,
                    });
                entry.advisories += u64::try_from(count).unwrap_or(0);
                entry.ecosystems.push(ecosystem);
                if newest > entry.newest_record {
                    entry.newest_record = newest;
                }
            }
            let mut stmt = self.conn.prepare(
                "SELECT source, COUNT(DISTINCT id) FROM vulndb_advisories GROUP BY source",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))?;
            for row in rows {
                let (source, count) = row?;
                if let Some(entry) = by_source.get_mut(&source) {
                    entry.records = u64::try_from(count).unwrap_or(0);
                }
            }
        }
        let mut newest_import: Option<String> = None;
        {
            let mut stmt = self
                .conn
                .prepare("SELECT path, sources, imported_at FROM vulndb_imports ORDER BY seq")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                ))
            })?;
            for row in rows {
                let (path, sources, imported_at) = row?;
                for source in sources.split('\n') {
                    if let Some(entry) = by_source.get_mut(source) {
                        entry.imported_at = Some(imported_at.clone());
                        entry.path = Some(path.clone());
                    }
                }
                if newest_import.as_ref().is_none_or(|n| &imported_at > n) {
                    newest_import = Some(imported_at);
                }
            }
        }
        let records: i64 = self.conn.query_row(
            "SELECT COUNT(DISTINCT id) FROM vulndb_advisories",
            [],
            |r| r.get(0),
        )?;
        let sources: Vec<VulnDbSource> = by_source.into_values().collect();
        let summary = VulnerabilityDbSummary {
            sources: sources.iter().map(|s| s.source.clone()).collect(),
            imported_at: newest_import,
            records: u64::try_from(records).unwrap_or(0),
        };
        Ok(VulnDbStatus { sources, summary })
    }

    /// The summary vulnerability documents carry (sources, newest import,
    /// record count).
    pub fn vulndb_summary(&self) -> Result<VulnerabilityDbSummary> {
        Ok(self.vulndb_status()?.summary)
    }

    /// The advisories of `selection`'s ecosystems, indexed for matching;
    /// other ecosystems' rows are never read. An empty index means no
    /// record of those ecosystems was imported.
    pub fn vuln_index(&self, selection: &EcosystemSelection) -> Result<VulnIndex> {
        let mut index = VulnIndex::default();
        let mut add = |body: String| -> Result<()> {
            let advisory: Advisory =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    column: "vulndb_advisories.body",
                    reason: e.to_string(),
                })?;
            index.insert(advisory);
            Ok(())
        };
        let mut exact = self
            .conn
            .prepare("SELECT body FROM vulndb_advisories WHERE ecosystem = ?1")?;
        for ecosystem in &selection.exact {
            let rows = exact.query_map(params![ecosystem], |r| r.get::<String>(0))?;
            for body in rows {
                add(body?)?;
            }
        }
        let mut ranged = self.conn.prepare(
            "SELECT body FROM vulndb_advisories WHERE ecosystem >= ?1 AND ecosystem < ?2",
        )?;
        for prefix in &selection.prefixes {
            let upper = prefix_upper_bound(prefix);
            let rows = ranged.query_map(params![prefix, upper], |r| r.get::<String>(0))?;
            for body in rows {
                add(body?)?;
            }
        }
        Ok(index)
    }
}

fn reject(report: &mut VulnDbImport, origin: String, reason: String) {
    report.rejected += 1;
    if report.rejects.len() < REJECTS_KEPT {
        report.rejects.push(RejectedRecord { origin, reason });
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The smallest string above every string starting with `prefix`.
fn prefix_upper_bound(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    // Only U+10FFFF characters: nothing is above; a bound no text reaches.
    "\u{10FFFF}\u{10FFFF}".to_owned()
}
