//! Rampart's store: scan snapshots in an embedded SQLite file.
//!
//! Each scan is a row in `scans`; its assets and gaps are written together
//! with the row's switch to `complete` in one transaction, so a reader sees
//! either the whole snapshot or none of it. Readers use the latest
//! *complete* scan; a scan that failed or was killed never replaces it.
//! Older scans are kept as history.

mod alerts;
mod classic;
mod connectors;
mod coverage;
mod current;
mod dashboard;
pub mod db;
mod exemptions;
mod history;
mod issuer;
mod log_cursors;
mod machines;
mod pages;
mod posture;
mod queue;
mod replica_state;
mod scan_connectors;
mod scan_jobs;
mod schedule;
mod scope;
mod sessions;
mod sql_va;
pub mod tls;
mod tokens;
mod vulndb;

use std::path::{Path, PathBuf};

use crate::db::{Conn, DbError, OptionalExtension, params};
use rampart_model::{
    Assessment, AssessmentStatus, Asset, CoverageGap, ScanRecord, ScanStatus, Snapshot,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use alerts::{
    AlertDelivery, AlertFilter, AlertStatusChange, AlertUpsert, EVIDENCE_CAP, OutboxEntry,
    ProcessedEvent,
};
pub use classic::SealedSecret;
pub use coverage::ScanCoverage;
pub use exemptions::StoredExemption;
pub use history::{AssessmentChange, ChangeFilter, ChangeKind, DailyPosture, PruneReport, is_day};
pub use issuer::StoredIssuerRecord;
pub use log_cursors::{MAX_OBJECT_ATTEMPTS, ObjectFailure};
pub use machines::MachineFindingFilter;
pub use pages::AssessmentFilter;
pub use posture::ScorePoint;

/// The kinds of posture values cached per scan ([`Store::put_posture`]).
pub mod posture_kind {
    /// The secure score (`SecureScore` JSON).
    pub const SCORE: &str = "score";
    /// Compliance with every built-in standard (`[StandardResult]` JSON).
    pub const COMPLIANCE: &str = "compliance";
    /// Assessment counts per recommendation and status.
    pub const RECOMMENDATIONS: &str = "recommendations";
}
pub use queue::{Job, JobStatus, NewJob, epoch_ms};
pub use scan_jobs::JOB_CANCELLED;
pub use schedule::ConnectorScans;
pub use scope::Scope;
pub use sessions::StoredSession;
pub use tokens::{TokenRecord, TokenRole};
pub use vulndb::{REJECTS_KEPT, RejectedRecord, VulnDbImport, VulnDbSource, VulnDbStatus};

/// The schema version this build writes. Version 3 added connectors, classic
/// secrets, API tokens, stored exemptions, the per-scan posture cache and
/// `scans.connector`; version 4 alerts, their evidence and status history,
/// processed event ids, detection state and the alert outbox; version 5 the
/// vulnerability database (`vulndb.rs`: imported OSV advisories and the
/// imports); version 6 agentless machine scan results (`machines.rs`:
/// `machine_scans`, `machine_findings`); version 7 accepted SQL
/// vulnerability assessment baselines (`sql_va.rs`); version 8 the job
/// queue (`queue.rs`); version 9 assessments as current state, their
/// change log and daily aggregates (`history.rs`: the per-scan copies of
/// older versions are reduced to the latest complete scan's), what server
/// replicas share (`replica_state.rs`: login CSRF values, failed sign-ins,
/// first-run links, connector health results, outbox claims) and the
/// queue's per-region jobs; version 11 assets and gaps as current state
/// per account (`current.rs`: a scan replaces its own accounts' rows);
/// version 12 the issuer kept in the store (`issuer.rs`: its state and
/// sealed keys, shared by replicas); version 13 the history's caches
/// (`history.rs`: finished days' estate scores, the latest day's values
/// per write). Each is created on open, so older
/// files upgrade in place.
pub const SCHEMA_VERSION: i64 = 13;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or queried.
    #[error("database error: {0}")]
    Database(#[from] DbError),
    /// A stored value could not be decoded.
    #[error("corrupt value in `{column}`: {reason}")]
    Corrupt {
        /// Column name.
        column: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The file was written by a newer Rampart.
    #[error("database schema version `{found}` is newer than this build's `{SCHEMA_VERSION}`")]
    NewerSchema {
        /// Version found in the file.
        found: i64,
    },
    /// No scan with this id.
    #[error("no scan `{0}`")]
    NoSuchScan(String),
    /// The scan was already stored complete (by another run of its job).
    #[error("scan `{0}` is already complete")]
    AlreadyComplete(String),
    /// Only the scan the current assessments come from can be evaluated
    /// again: an older scan's assessments are history.
    #[error(
        "scan `{scan}` is not the current one (`{current}`): only the current scan can be evaluated again"
    )]
    NotCurrent {
        /// The scan asked for.
        scan: String,
        /// The scan the current assessments come from.
        current: String,
    },
    /// A connector with this name (or id) is already stored.
    #[error("connector `{0}` already exists")]
    ConnectorExists(String),
    /// No connector with this name or id.
    #[error("no connector `{0}`")]
    NoSuchConnector(String),
    /// The store file or its directory could not be created.
    #[error("cannot create `{path}`: {reason}")]
    Create {
        /// The file or directory.
        path: String,
        /// The error.
        reason: String,
    },
    /// No alert with this id.
    #[error("no alert `{0}`")]
    NoSuchAlert(String),
    /// Vulnerability records could not be read.
    #[error("vulnerability database: {0}")]
    VulnDb(#[from] rampart_vuln::VulnError),
    /// The built-in catalog or security controls could not be read (the
    /// daily aggregates count resources per security control).
    #[error("built-in catalog: {0}")]
    Catalog(String),
}

/// Result alias for the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which assets to read.
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    /// Only this resource type (exact, e.g. `AWS::S3::Bucket`).
    pub resource_type: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Only these accounts (a connector's: [`Store::accounts_of_connector`]).
    pub accounts: Option<Vec<String>>,
    /// Only assets with this tag key (and value, when given).
    pub tag: Option<(String, Option<String>)>,
}

/// A handle on the store: a SQLite file or a PostgreSQL database.
#[derive(Debug)]
pub struct Store {
    conn: Conn,
    /// The `--db` it was opened from (`None`: in memory).
    location: Option<PathBuf>,
}

/// Where the store is: a SQLite file (the default) or a PostgreSQL
/// database (`postgres://` or `postgresql://` URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl StoreLocation {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else
    /// is a SQLite file's path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(text.into())
        }
    }

    /// Whether a store is there to read: a SQLite file that exists, or any
    /// PostgreSQL database (its tables are created on first connect).
    pub fn exists(&self) -> bool {
        match self {
            Self::Sqlite(path) => path.exists(),
            Self::Postgres(_) => true,
        }
    }

    /// Whether this is a SQLite file.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }
}

impl std::str::FromStr for StoreLocation {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self::parse(text))
    }
}

impl From<&Path> for StoreLocation {
    /// A path holding a PostgreSQL URL is that URL ([`Store::open`]).
    fn from(path: &Path) -> Self {
        match path.to_str() {
            Some(text) => Self::parse(text),
            None => Self::Sqlite(path.to_owned()),
        }
    }
}

/// Shows the location with a URL's password hidden.
impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, None), |(a, p)| (a, Some(p)));
    let redacted = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    match path {
        Some(path) => format!("{scheme}://{redacted}/{path}"),
        None => format!("{scheme}://{redacted}"),
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    accounts TEXT NOT NULL,
    regions TEXT NOT NULL,
    api_calls INTEGER NOT NULL DEFAULT 0,
    asset_count INTEGER NOT NULL DEFAULT 0,
    gap_count INTEGER NOT NULL DEFAULT 0,
    failure TEXT
);
CREATE INDEX IF NOT EXISTS scans_status_started ON scans (status, started_at);
CREATE TABLE IF NOT EXISTS assets (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    arn TEXT NOT NULL,
    type TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    tags TEXT NOT NULL,
    properties TEXT NOT NULL,
    unavailable TEXT,
    PRIMARY KEY (scan_id, type, arn)
);
-- Replaced by `assets_region_type` (dashboard.rs).
DROP INDEX IF EXISTS assets_scan_region;
CREATE TABLE IF NOT EXISTS gaps (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL,
    operation TEXT NOT NULL,
    kind TEXT NOT NULL,
    error TEXT NOT NULL,
    occurrences INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gaps_scan ON gaps (scan_id);
-- The current state: one row per (recommendation, resource), updated in
-- place by each scan (`scan_id`: the scan that last assessed it; `since`:
-- when its status became what it is; `pass`: the write that last touched
-- it, so a write removes what it did not touch). Changes go to `assessment_changes`
-- (history.rs); there is no copy per scan (schema version 9).
CREATE TABLE IF NOT EXISTS assessments (
    recommendation TEXT NOT NULL,
    resource TEXT NOT NULL,
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    exemption TEXT,
    since TEXT NOT NULL,
    pass INTEGER NOT NULL,
    PRIMARY KEY (recommendation, resource)
);
-- Replaced by `assessments_status_key` (dashboard.rs).
DROP INDEX IF EXISTS assessments_scan_status;
";

/// How long a write waits for another connection's write to finish
/// before it fails with "database is locked".
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Mode of a store file this build creates (SQLite gives its `-wal` and
/// `-shm` files the same mode).
pub const STORE_FILE_MODE: u32 = 0o600;
/// Mode of a store directory this build creates.
pub const STORE_DIR_MODE: u32 = 0o700;

/// Creates the store's directory (owner-only) and an empty store file
/// (owner read/write) when they are missing; existing ones are left as
/// they are.
fn create_private(path: &Path) -> Result<()> {
    let failed = |path: &Path, e: std::io::Error| StoreError::Create {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !dir.exists()
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, STORE_DIR_MODE);
        builder.create(dir).map_err(|e| failed(dir, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, STORE_FILE_MODE);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(failed(path, e)),
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`. A missing directory
    /// is created owner-only (`0700`) and a missing file owner read/write
    /// (`0600`).
    ///
    /// A `path` that reads as a `postgres://` or `postgresql://` URL opens
    /// that PostgreSQL database instead ([`StoreLocation::parse`]), so every
    /// command's `--db` takes either.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(StoreLocation::Postgres(url)) = path.to_str().map(StoreLocation::parse) {
            return Self::open_postgres(&url);
        }
        create_private(path)?;
        let conn = rusqlite::Connection::open(path).map_err(DbError::from)?;
        let mut store = Self::init_sqlite(conn)?;
        store.location = Some(path.to_owned());
        Ok(store)
    }

    /// The `--db` this store was opened from: a SQLite path or a
    /// `postgres://` URL (`None` for an in-memory store).
    pub fn location(&self) -> Option<&Path> {
        self.location.as_deref()
    }

    /// Another connection to a store this process has opened already with
    /// [`open`](Self::open), so its tables exist and are current: no schema
    /// work, no write lock (a connection pool's extra connections; opening
    /// with [`open`](Self::open) each time queued every new connection
    /// behind the schema lock).
    pub fn reopen(path: &Path) -> Result<Self> {
        if let Some(StoreLocation::Postgres(url)) = path.to_str().map(StoreLocation::parse) {
            return Ok(Self {
                conn: Conn::Postgres(db::PgConn::connect(&url)?),
                location: Some(path.to_owned()),
            });
        }
        let conn = rusqlite::Connection::open(path).map_err(DbError::from)?;
        Ok(Self {
            conn: Self::sqlite_conn(conn)?,
            location: Some(path.to_owned()),
        })
    }

    /// Connects to a PostgreSQL database (`postgres://…`), creating the
    /// store's tables in its current schema when they are missing.
    pub fn open_postgres(url: &str) -> Result<Self> {
        let conn = Conn::Postgres(db::PgConn::connect(url)?);
        // A `search_path` naming a schema that does not exist yet (one
        // store per schema): create it.
        let current: Option<String> =
            conn.query_row("SELECT current_schema()", params![], |r| r.get(0))?;
        if current.is_none() {
            let path: String =
                conn.query_row("SELECT current_setting('search_path')", params![], |r| {
                    r.get(0)
                })?;
            let first = path.split(',').next().unwrap_or_default().trim();
            let first = first.trim_matches('"');
            if !first.is_empty() {
                let created = conn.execute_batch(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    db::quote_ident(first)
                ));
                // Another process created it at the same instant (`IF NOT
                // EXISTS` does not cover the race): it is there.
                match created {
                    Err(e) if e.is_unique_violation() || e.code() == Some("42P06") => {}
                    other => other?,
                }
            }
        }
        // The usual case: the schema is current already (every worker job
        // and every server connection opens the store). Nothing to create,
        // so no write lock: taking it here queued each connection behind
        // whichever job was storing its scan. The version is written in
        // the same transaction as the tables and `PG_COMPAT`'s functions,
        // so a current version means they are all there (a change to
        // either comes with a new schema version).
        if Self::postgres_schema_is_current(&conn)? {
            return Ok(Self {
                conn,
                location: Some(PathBuf::from(url)),
            });
        }
        // One process at a time creates or upgrades the schema.
        let tx = conn.begin_write()?;
        tx.execute_batch(db::PG_COMPAT)?;
        Self::create_schema(&tx)?;
        tx.commit()?;
        Ok(Self {
            conn,
            location: Some(PathBuf::from(url)),
        })
    }

    /// Opens the store at `location`: [`open`](Self::open) for a file,
    /// [`open_postgres`](Self::open_postgres) for a URL.
    pub fn connect(location: &StoreLocation) -> Result<Self> {
        match location {
            StoreLocation::Sqlite(path) => Self::open(path),
            StoreLocation::Postgres(url) => Self::open_postgres(url),
        }
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> db::Backend {
        self.conn.backend()
    }

    /// Runs `f` as one write transaction: the write lock is taken up front
    /// (`BEGIN IMMEDIATE`, waiting up to [`BUSY_TIMEOUT`] behind other
    /// writers instead of failing), everything `f` writes (including the
    /// store's own transactions, which become savepoints) commits together,
    /// and nothing is written when `f` fails.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        if !self.conn.is_autocommit() {
            // Already inside a unit: it commits as part of that one.
            return f(self);
        }
        self.conn.begin_unguarded().map_err(StoreError::from)?;
        match f(self) {
            Ok(value) => match self.conn.finish(true) {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = self.conn.finish(false);
                    Err(StoreError::from(e).into())
                }
            },
            Err(e) => {
                let _ = self.conn.finish(false);
                Err(e)
            }
        }
    }

    /// An in-memory store, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::init_sqlite(rusqlite::Connection::open_in_memory().map_err(DbError::from)?)
    }

    fn init_sqlite(conn: rusqlite::Connection) -> Result<Self> {
        let conn = Self::sqlite_conn(conn)?;
        Self::create_schema(&conn)?;
        Ok(Self {
            conn,
            location: None,
        })
    }

    /// A SQLite connection with the store's settings.
    fn sqlite_conn(conn: rusqlite::Connection) -> Result<Conn> {
        let pragmas = || -> rusqlite::Result<()> {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // Page cache of up to 64 MiB (SQLite's default is 2 MiB): writing a
            // large scan's assessments updates three B-trees at once.
            conn.pragma_update(None, "cache_size", -65_536)
        };
        pragmas().map_err(DbError::from)?;
        Ok(Conn::Sqlite(conn))
    }

    /// The schema version the store records (`None`: none recorded yet).
    fn schema_version(conn: &Conn) -> std::result::Result<Option<i64>, DbError> {
        Ok(conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<String>(0),
            )
            .optional()?
            .and_then(|v| v.parse::<i64>().ok()))
    }

    /// Whether a PostgreSQL store's schema is at this build's version
    /// (`false` when its tables are not there yet).
    fn postgres_schema_is_current(conn: &Conn) -> Result<bool> {
        match Self::schema_version(conn) {
            Ok(version) => Ok(version == Some(SCHEMA_VERSION)),
            // `undefined_table`: a new schema.
            Err(e) if e.code() == Some("42P01") => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates missing tables and upgrades older ones, on either engine.
    fn create_schema(conn: &Conn) -> Result<()> {
        conn.execute_batch(SCHEMA)?;
        // Schema version 9: assessments as current state plus history
        // (10: daily resource counts per security control).
        history::migrate(conn)?;
        conn.execute_batch(tokens::SCHEMA)?;
        conn.execute_batch(exemptions::SCHEMA)?;
        conn.execute_batch(posture::SCHEMA)?;
        conn.execute_batch(dashboard::SCHEMA)?;
        conn.execute_batch(connectors::SCHEMA)?;
        conn.execute_batch(classic::SCHEMA)?;
        conn.execute_batch(sessions::SCHEMA)?;
        conn.execute_batch(alerts::SCHEMA)?;
        conn.execute_batch(log_cursors::SCHEMA)?;
        scan_connectors::migrate(conn)?;
        coverage::migrate(conn)?;
        // Schema version 5: the vulnerability database, its own step.
        vulndb::migrate(conn)?;
        // Schema version 6: agentless machine scan results, its own step.
        conn.execute_batch(machines::SCHEMA)?;
        // Schema version 7: SQL vulnerability assessment baselines.
        conn.execute_batch(sql_va::SCHEMA)?;
        // Schema version 8: the job queue workers claim from.
        queue::migrate(conn)?;
        // Schema version 9: state server replicas share.
        conn.execute_batch(replica_state::SCHEMA)?;
        // Schema version 11: assets and gaps as current state per account.
        current::migrate(conn)?;
        // Schema version 12: the issuer kept in the store.
        conn.execute_batch(issuer::SCHEMA)?;
        // Schema version 13: what is computed from the daily aggregates,
        // kept.
        conn.execute_batch(history::CACHE_SCHEMA)?;
        match Self::schema_version(conn)? {
            Some(v) if v > SCHEMA_VERSION => return Err(StoreError::NewerSchema { found: v }),
            Some(v) if v == SCHEMA_VERSION => {}
            // Older versions only lack tables, which `SCHEMA` just created.
            Some(_) | None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![SCHEMA_VERSION.to_string()],
                )?;
            }
        }
        Ok(())
    }

    /// Records that a scan started (status `running`). Readers ignore it
    /// until [`complete_scan`](Self::complete_scan) commits its snapshot.
    pub fn begin_scan(&self, scan: &ScanRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO scans (id, started_at, status, accounts, regions) VALUES (?1, ?2, 'running', ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET status = 'running', started_at = excluded.started_at,
                 finished_at = NULL, failure = NULL
             WHERE scans.status <> 'complete'",
            params![
                scan.id,
                rfc3339(scan.started_at),
                json_text(&scan.accounts),
                json_text(&scan.regions),
            ],
        )?;
        Ok(())
    }

    /// Writes a scan's whole snapshot and its assessments and marks it
    /// complete, atomically. The scan row is created if
    /// [`begin_scan`](Self::begin_scan) was not called.
    pub fn complete_scan(&mut self, snapshot: &Snapshot, assessments: &[Assessment]) -> Result<()> {
        self.complete_scan_with(snapshot, |writer| {
            assessments.iter().try_for_each(|a| writer.write(a))
        })
    }

    /// [`complete_scan`](Self::complete_scan) with the assessments written
    /// one at a time by `fill`, in the same transaction, so a large scan
    /// never holds them all. Nothing is written when `fill` fails.
    pub fn complete_scan_with<T>(
        &mut self,
        snapshot: &Snapshot,
        fill: impl FnOnce(&mut AssessmentWriter<'_>) -> Result<T>,
    ) -> Result<T> {
        let scan = &snapshot.scan;
        let tx = self.conn.begin_write()?;
        tx.execute(
            "INSERT INTO scans (id, started_at, status, accounts, regions) VALUES (?1, ?2, 'running', ?3, ?4) ON CONFLICT DO NOTHING",
            params![scan.id, rfc3339(scan.started_at), json_text(&scan.accounts), json_text(&scan.regions)],
        )?;
        // The write replaces the current state of its accounts only, and
        // not of those a scan that finished after it holds (it waited for
        // the write lock behind that scan): it is stored, but their
        // current state stays the newer scan's.
        let accounts = current::accounts_of(scan, &snapshot.assets, &snapshot.gaps);
        let live = current::replaceable(&tx, scan, &accounts)?;
        current::replace(&tx, scan, &live, &snapshot.assets, &snapshot.gaps)?;
        let value = {
            let mut writer = AssessmentWriter::new(&tx, &scan.id, Some(live))?;
            let value = fill(&mut writer)?;
            writer.finish()?;
            value
        };
        let completed = tx.execute(
            "UPDATE scans SET status = 'complete', finished_at = ?2, accounts = ?3, regions = ?4,
                 api_calls = ?5, asset_count = ?6, gap_count = ?7 WHERE id = ?1 AND status <> 'complete'",
            params![
                scan.id,
                rfc3339(scan.finished_at.unwrap_or_else(OffsetDateTime::now_utc)),
                json_text(&scan.accounts),
                json_text(&scan.regions),
                to_i64(scan.api_calls),
                to_i64(snapshot.assets.len() as u64),
                to_i64(snapshot.gaps.len() as u64),
            ],
        )?;
        if completed == 0 {
            // Another run of the same scan (a worker whose lease expired)
            // stored it first: the snapshot is written once.
            return Err(StoreError::AlreadyComplete(scan.id.clone()));
        }
        tx.commit()?;
        Ok(value)
    }

    /// Replaces a scan's assessments (a re-evaluation), atomically.
    pub fn replace_assessments(&mut self, scan_id: &str, assessments: &[Assessment]) -> Result<()> {
        self.replace_assessments_with(scan_id, |writer| {
            assessments.iter().try_for_each(|a| writer.write(a))
        })
    }

    /// Replaces a scan's assessments with those `fill` writes, one at a
    /// time, in one transaction: a re-evaluation of a large snapshot never
    /// holds all its assessments. Nothing changes when `fill` fails.
    pub fn replace_assessments_with<T>(
        &mut self,
        scan_id: &str,
        fill: impl FnOnce(&mut AssessmentWriter<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self.conn.begin_write()?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT id FROM scans WHERE id = ?1",
                params![scan_id],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NoSuchScan(scan_id.to_owned()));
        }
        if let Some(latest) = self.latest_complete_scan()?
            && latest.id != scan_id
        {
            return Err(StoreError::NotCurrent {
                scan: scan_id.to_owned(),
                current: latest.id,
            });
        }
        tx.execute(
            "DELETE FROM scan_posture WHERE scan_id = ?1",
            params![scan_id],
        )?;
        let value = {
            let mut writer = AssessmentWriter::new(&tx, scan_id, None)?;
            let value = fill(&mut writer)?;
            writer.finish()?;
            value
        };
        tx.commit()?;
        Ok(value)
    }

    /// Hands each asset of a scan to `f`, one row at a time (in no
    /// particular order), without holding them all; returns how many.
    pub fn each_asset(&self, mut f: impl FnMut(Asset)) -> Result<usize> {
        self.each_asset_text(|mut asset, properties| {
            asset.properties = serde_json::from_str(properties).map_err(|e| e.to_string())?;
            f(asset);
            Ok(())
        })
    }

    /// [`each_asset`](Self::each_asset) with the properties left as the
    /// stored JSON text (the asset's `properties` is `null`), for a caller
    /// that keeps them in another form (evaluation's compact inventory)
    /// and need not build a `serde_json::Value` first. An error from `f`
    /// is reported as corrupt properties.
    pub fn each_asset_text(
        &self,
        mut f: impl FnMut(Asset, &str) -> std::result::Result<(), String>,
    ) -> Result<usize> {
        let mut stmt = self.conn.prepare(
            "SELECT arn, type, account, region, name, tags, properties, unavailable FROM assets",
        )?;
        let mut count = 0;
        for row in stmt.query_map([], asset_and_properties_from_row)? {
            let (asset, properties) = row??;
            f(asset, &properties).map_err(|reason| StoreError::Corrupt {
                column: "properties",
                reason,
            })?;
            count += 1;
        }
        Ok(count)
    }

    /// A scan's assessments, ordered by recommendation and resource.
    pub fn assessments(&self) -> Result<Vec<Assessment>> {
        self.assessments_in(&Scope::default())
    }

    /// Marks a scan failed (it keeps no snapshot).
    pub fn fail_scan(&self, id: &str, reason: &str) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE scans SET status = 'failed', finished_at = ?2, failure = ?3 WHERE id = ?1 AND status = 'running'",
            params![id, rfc3339(OffsetDateTime::now_utc()), reason],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchScan(id.to_owned()));
        }
        Ok(())
    }

    /// The latest complete scan, if any.
    pub fn latest_complete_scan(&self) -> Result<Option<ScanRecord>> {
        self.conn
            .query_row(
                &format!("{SCAN_COLUMNS} WHERE status = 'complete' ORDER BY finished_at DESC, started_at DESC LIMIT 1"),
                [],
                scan_from_row,
            )
            .optional()?
            .transpose()
    }

    /// One scan by id.
    pub fn scan(&self, id: &str) -> Result<ScanRecord> {
        self.conn
            .query_row(
                &format!("{SCAN_COLUMNS} WHERE id = ?1"),
                params![id],
                scan_from_row,
            )
            .optional()?
            .transpose()?
            .ok_or_else(|| StoreError::NoSuchScan(id.to_owned()))
    }

    /// Scans, newest first.
    pub fn scans(&self, limit: usize) -> Result<Vec<ScanRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SCAN_COLUMNS} ORDER BY started_at DESC LIMIT ?1"))?;
        let rows = stmt.query_map(params![to_i64(limit as u64)], scan_from_row)?;
        collect_rows(rows)
    }

    /// A scan's assets matching `filter`, ordered by type, region and ARN.
    pub fn assets(&self, filter: &AssetFilter) -> Result<Vec<Asset>> {
        let mut sql = String::from(
            "SELECT arn, type, account, region, name, tags, properties, unavailable FROM assets WHERE TRUE",
        );
        let mut args: Vec<String> = Vec::new();
        let mut push = |clause: &str, value: &str, sql: &mut String| {
            args.push(value.to_owned());
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(t) = &filter.resource_type {
            push("type =", t, &mut sql);
        }
        if let Some(r) = &filter.region {
            push("region =", r, &mut sql);
        }
        if let Some(a) = &filter.account {
            push("account =", a, &mut sql);
        }
        if let Some(list) = &filter.accounts {
            push(
                "account IN (SELECT value FROM json_each(",
                &json_text(list),
                &mut sql,
            );
            sql.push_str("))");
        }
        if let Some((key, value)) = &filter.tag {
            // `json_each` compares keys as text: any key works, where a JSON
            // path built from it fails on quotes and control characters.
            args.push(key.clone());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM json_each(tags) WHERE key = ?{}",
                args.len()
            ));
            if let Some(v) = value {
                args.push(v.clone());
                sql.push_str(&format!(" AND value = ?{}", args.len()));
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY type, region, arn");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(db::params_from_iter(args.iter()), asset_from_row)?;
        collect_rows(rows)
    }

    /// A scan's coverage gaps.
    pub fn gaps(&self) -> Result<Vec<CoverageGap>> {
        self.gaps_in(&Scope::default())
    }
}

/// Writes one scan's assessments into the current state, inside a store
/// transaction (see [`Store::replace_assessments_with`]).
///
/// An assessment equal to the stored one only moves to this scan; a new
/// one, or one whose status changed, is written and its change logged
/// (`assessment_changes`). [`finish`](Self::finish) removes what this scan
/// no longer assessed (logged as `removed`) and records the day's
/// aggregates. A scan's write speaks for its own accounts only: every
/// other account's assessments stay as they are.
pub struct AssessmentWriter<'t> {
    tx: &'t Conn,
    unchanged: db::Statement<'t>,
    old_status: db::Statement<'t>,
    upsert: db::Statement<'t>,
    log: db::Statement<'t>,
    scan_id: &'t str,
    /// This write's mark on the rows it touches (its start in nanoseconds:
    /// writes take the write lock one after another).
    pass: i64,
    at: String,
    day: String,
    written: usize,
    changes: usize,
    /// The accounts whose current state this write replaces, sorted
    /// (`None`: every account, a re-evaluation); assessments of other
    /// accounts are counted, not stored.
    accounts: Option<Vec<String>>,
    /// Whether the current state held nothing of those accounts when this
    /// write began.
    fresh: bool,
}

impl<'t> AssessmentWriter<'t> {
    fn new(tx: &'t Conn, scan_id: &'t str, accounts: Option<Vec<String>>) -> Result<Self> {
        let now = OffsetDateTime::now_utc();
        let day = history::day_of(now);
        history::ensure_partitions(tx, &day)?;
        let unchanged = tx.prepare(
            "UPDATE assessments SET scan_id = ?1, pass = ?12
             WHERE recommendation = ?2 AND resource = ?3 AND status = ?4 AND reason = ?5
               AND evidence = ?6 AND exemption IS NOT DISTINCT FROM ?7 AND resource_type = ?8
               AND resource_name = ?9 AND account = ?10 AND region = ?11",
        )?;
        let old_status = tx.prepare(
            "SELECT status FROM assessments WHERE recommendation = ?1 AND resource = ?2",
        )?;
        let upsert = tx.prepare(
            "INSERT INTO assessments (scan_id, recommendation, resource, resource_type, resource_name, account, region, status, reason, evidence, exemption, since, pass)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (recommendation, resource) DO UPDATE SET scan_id = excluded.scan_id, pass = excluded.pass,
                 resource_type = excluded.resource_type, resource_name = excluded.resource_name,
                 account = excluded.account, region = excluded.region, reason = excluded.reason,
                 evidence = excluded.evidence, exemption = excluded.exemption,
                 since = CASE WHEN assessments.status = excluded.status THEN assessments.since ELSE excluded.since END,
                 status = excluded.status",
        )?;
        let log = tx.prepare(history::INSERT_CHANGE)?;
        Ok(Self {
            tx,
            unchanged,
            old_status,
            upsert,
            log,
            scan_id,
            pass: i64::try_from(now.unix_timestamp_nanos()).unwrap_or(i64::MAX),
            at: rfc3339(now),
            day,
            written: 0,
            changes: 0,
            fresh: history::no_assessments_of(tx, accounts.as_deref())?,
            accounts,
        })
    }

    /// Writes one assessment.
    pub fn write(&mut self, a: &Assessment) -> Result<()> {
        let evidence = json_text(&a.evidence);
        let exemption = a.exemption.as_ref().map(json_text);
        let status = a.status.as_str();
        self.written += 1;
        if let Some(list) = &self.accounts
            && list.binary_search(&a.account).is_err()
        {
            return Ok(());
        }
        if self.fresh {
            // Nothing stored before this write: every assessment is new.
            return self.put(a, status, &evidence, exemption.as_deref(), None);
        }
        let same = self.unchanged.execute(params![
            self.scan_id,
            a.recommendation,
            a.resource,
            status,
            a.reason,
            evidence,
            exemption,
            a.resource_type,
            a.resource_name,
            a.account,
            a.region,
            self.pass,
        ])?;
        if same > 0 {
            return Ok(());
        }
        let old: Option<String> = {
            let mut rows = self
                .old_status
                .query(params![a.recommendation, a.resource])?;
            match rows.next()? {
                Some(row) => Some(row.get(0)?),
                None => None,
            }
        };
        self.put(a, status, &evidence, exemption.as_deref(), old)
    }

    /// Stores an assessment that is new or differs from the stored one
    /// (whose status was `old`), logging a change of status.
    fn put(
        &mut self,
        a: &Assessment,
        status: &str,
        evidence: &str,
        exemption: Option<&str>,
        old: Option<String>,
    ) -> Result<()> {
        self.upsert.execute(params![
            self.scan_id,
            a.recommendation,
            a.resource,
            a.resource_type,
            a.resource_name,
            a.account,
            a.region,
            status,
            a.reason,
            evidence,
            exemption,
            self.at,
            self.pass,
        ])?;
        let Some(change) = ChangeKind::between(old.as_deref(), status) else {
            return Ok(());
        };
        self.log.execute(params![
            self.day,
            self.at,
            self.scan_id,
            a.account,
            a.region,
            a.recommendation,
            a.resource,
            change.as_str(),
            old,
            status,
        ])?;
        self.changes += 1;
        Ok(())
    }

    /// How many assessments were written.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Ends the scan's writing: the assessments it did not write are
    /// removed from the current state (each change logged), and the day's
    /// aggregates are recorded again. Returns how many changes were logged.
    fn finish(self) -> Result<usize> {
        let accounts = self.accounts.as_deref();
        if accounts.is_some_and(<[String]>::is_empty) {
            return Ok(0);
        }
        let removed = history::remove_unassessed(
            self.tx,
            self.pass,
            self.scan_id,
            &self.day,
            &self.at,
            accounts,
        )?;
        history::record_day(self.tx, &self.day, accounts)?;
        Ok(self.changes + removed)
    }
}

const SCAN_COLUMNS: &str = "SELECT id, started_at, finished_at, status, accounts, regions, api_calls, asset_count, gap_count FROM scans";

type RowResult<T> = db::DbResult<Result<T>>;

/// Collects rows mapped to `RowResult`s: the first database or decoding
/// error wins.
fn collect_rows<T>(rows: impl Iterator<Item = RowResult<T>>) -> Result<Vec<T>> {
    rows.map(|row| row?).collect()
}

/// Decodes an `assessments` row selected as `recommendation, resource,
/// resource_type, resource_name, account, region, status, reason, evidence,
/// exemption`.
pub(crate) fn assessment_from_row(row: &db::Row<'_>) -> RowResult<Assessment> {
    let status: String = row.get(6)?;
    let evidence: String = row.get(8)?;
    let exemption: Option<String> = row.get(9)?;
    let (recommendation, resource, resource_type, resource_name, account, region, reason) = (
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(7)?,
    );
    Ok((|| {
        Ok(Assessment {
            recommendation,
            resource,
            resource_type,
            resource_name,
            account,
            region,
            status: parse_status(&status)?,
            reason,
            evidence: parse_json("evidence", &evidence)?,
            exemption: exemption.map(|e| parse_json("exemption", &e)).transpose()?,
        })
    })())
}

pub(crate) fn parse_status(status: &str) -> Result<AssessmentStatus> {
    AssessmentStatus::parse(status).ok_or_else(|| StoreError::Corrupt {
        column: "status",
        reason: format!("unknown status `{status}`"),
    })
}

/// Decodes an `assets` row selected as `arn, type, account, region, name,
/// tags, properties, unavailable`.
pub(crate) fn asset_from_row(row: &db::Row<'_>) -> RowResult<Asset> {
    Ok(
        asset_and_properties_from_row(row)?.and_then(|(mut asset, properties)| {
            asset.properties = parse_json("properties", &properties)?;
            Ok(asset)
        }),
    )
}

/// [`asset_from_row`] with the properties as their stored JSON text (the
/// asset's `properties` is `null`).
fn asset_and_properties_from_row(row: &db::Row<'_>) -> RowResult<(Asset, String)> {
    let tags: String = row.get(5)?;
    let properties: String = row.get(6)?;
    let unavailable: Option<String> = row.get(7)?;
    let (arn, resource_type, account, region, name) = (
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    );
    Ok((|| {
        Ok(Asset {
            arn,
            resource_type,
            account,
            region,
            name,
            tags: parse_json("tags", &tags)?,
            properties: serde_json::Value::Null,
            unavailable: unavailable
                .map(|u| parse_json("unavailable", &u))
                .transpose()?
                .unwrap_or_default(),
        })
    })()
    .map(|asset| (asset, properties)))
}

fn scan_from_row(row: &db::Row<'_>) -> RowResult<ScanRecord> {
    let id: String = row.get(0)?;
    let started: String = row.get(1)?;
    let finished: Option<String> = row.get(2)?;
    let status: String = row.get(3)?;
    let accounts: String = row.get(4)?;
    let regions: String = row.get(5)?;
    let api_calls: i64 = row.get(6)?;
    let asset_count: i64 = row.get(7)?;
    let gap_count: i64 = row.get(8)?;
    Ok((|| {
        Ok(ScanRecord {
            id,
            started_at: parse_time("started_at", &started)?,
            finished_at: finished
                .map(|f| parse_time("finished_at", &f))
                .transpose()?,
            status: ScanStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                column: "status",
                reason: format!("unknown status `{status}`"),
            })?,
            accounts: parse_json("accounts", &accounts)?,
            regions: parse_json("regions", &regions)?,
            api_calls: u64::try_from(api_calls).unwrap_or(0),
            asset_count: u64::try_from(asset_count).unwrap_or(0),
            gap_count: u64::try_from(gap_count).unwrap_or(0),
        })
    })())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn parse_time(column: &'static str, text: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| StoreError::Corrupt {
        column,
        reason: e.to_string(),
    })
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn parse_json<T: serde::de::DeserializeOwned>(column: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        column,
        reason: e.to_string(),
    })
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A store for a unit test: in memory, or on PostgreSQL in a schema of its
/// own when `RAMPART_TEST_BACKEND=postgres` (`scripts/test` runs the store's
/// tests once per backend).
#[cfg(test)]
pub(crate) fn test_store() -> Store {
    if rampart_testkit::postgres::selected() {
        Store::open_postgres(&rampart_testkit::postgres::fresh_url()).unwrap()
    } else {
        Store::open_in_memory().unwrap()
    }
}

/// A recommendation of the built-in catalog that moves the secure score
/// (one with points), for tests of the score's aggregates.
#[cfg(test)]
pub(crate) fn test_scored_recommendation() -> String {
    let catalog = rampart_catalog::Catalog::builtin().unwrap();
    let controls = rampart_catalog::standards::security_controls().unwrap();
    rampart_catalog::score::scored_recommendations(&catalog, &controls)
        .into_iter()
        .find(|(_, _, points)| *points > 0)
        .map(|(r, _, _)| r)
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_location_is_a_file_or_a_url_shown_without_its_password() {
        let url = "postgres://rampart:s3cret@db.internal:5432/rampart?options=-csearch_path%3Dx";
        let location = StoreLocation::parse(url);
        assert!(!location.is_sqlite());
        assert_eq!(
            location.to_string(),
            "postgres://rampart:***@db.internal:5432/rampart?options=-csearch_path%3Dx"
        );
        assert!(!location.to_string().contains("s3cret"));
        assert_eq!(
            StoreLocation::parse("postgresql://db/rampart").to_string(),
            "postgresql://db/rampart"
        );
        let file = StoreLocation::from(Path::new("/var/lib/rampart/rampart.db"));
        assert_eq!(
            file.sqlite_path(),
            Some(Path::new("/var/lib/rampart/rampart.db"))
        );
        assert!(StoreLocation::from(Path::new(url)) == location);
    }
    use rampart_model::GapKind;
    use std::collections::BTreeMap;

    /// A second connection through `reopen` reads and writes the store the
    /// first one created, on either backend, without creating anything.
    #[test]
    fn a_reopened_connection_shares_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = if rampart_testkit::postgres::selected() {
            PathBuf::from(rampart_testkit::postgres::fresh_url())
        } else {
            dir.path().join("rampart.db")
        };
        let first = Store::open(&path).unwrap();
        let second = Store::reopen(&path).unwrap();
        let token = TokenRecord {
            id: "t1".into(),
            hash: "abc".into(),
            name: "shared".into(),
            role: TokenRole::Reader,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_used: None,
        };
        second.create_token(&token).unwrap();
        assert_eq!(first.tokens().unwrap().len(), 1);
        assert_eq!(second.tokens().unwrap()[0].name, "shared");
    }

    /// Opening a PostgreSQL store whose schema is current does not wait
    /// for the write lock: a worker's job opens the store while another
    /// job holds the lock to store its scan. (PostgreSQL only: a SQLite
    /// file is one machine's.)
    #[test]
    fn opening_a_current_postgres_store_does_not_wait_for_the_write_lock() {
        if !rampart_testkit::postgres::selected() {
            return;
        }
        let url = rampart_testkit::postgres::fresh_url();
        let mut writer = Store::open_postgres(&url).unwrap();
        let (opened, wait) = std::sync::mpsc::channel();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            writer
                .write(|_| {
                    // The lock is held until the other connection opened
                    // (or the wait below gave up).
                    let _ = held.recv_timeout(std::time::Duration::from_secs(60));
                    Ok::<(), StoreError>(())
                })
                .unwrap();
        });
        let opener = {
            let url = url.clone();
            std::thread::spawn(move || {
                // The holder has had time to take the lock.
                std::thread::sleep(std::time::Duration::from_millis(300));
                let store = Store::open_postgres(&url).map(|s| s.tokens().map(|t| t.len()));
                let _ = opened.send(store.is_ok());
            })
        };
        let result = wait.recv_timeout(std::time::Duration::from_secs(20));
        release.send(()).unwrap();
        holder.join().unwrap();
        opener.join().unwrap();
        assert_eq!(
            result,
            Ok(true),
            "the open waited behind the held write lock (or failed)"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_new_store_and_its_directory_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join("rampart.db");
        let mut store = Store::open(&path).unwrap();
        store
            .complete_scan(
                &Snapshot {
                    scan: record("s1", 0),
                    assets: vec![],
                    gaps: vec![],
                },
                &[],
            )
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), STORE_FILE_MODE);
        assert_eq!(mode(path.parent().unwrap()), STORE_DIR_MODE);
        assert_eq!(mode(&dir.path().join("a")), STORE_DIR_MODE);
        for suffix in ["-wal", "-shm"] {
            let sidecar = PathBuf::from(format!("{}{suffix}", path.display()));
            assert!(sidecar.exists(), "{}", sidecar.display());
            assert_eq!(mode(&sidecar), STORE_FILE_MODE, "{}", sidecar.display());
        }
        // An existing file keeps its mode (the owner chose it).
        drop(store);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        drop(Store::open(&path).unwrap());
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn a_write_unit_commits_together_or_not_at_all() {
        let mut store = test_store();
        let snapshot = Snapshot {
            scan: record("s1", 0),
            assets: vec![],
            gaps: vec![],
        };
        let failed: Result<()> = store.write(|s| {
            s.complete_scan(&snapshot, &[])?;
            Err(StoreError::NoSuchScan("stop".into()))
        });
        assert!(failed.is_err());
        assert!(store.latest_complete_scan().unwrap().is_none());
        store
            .write(|s| -> Result<()> {
                s.complete_scan(&snapshot, &[])?;
                s.replace_assessments("s1", &[])
            })
            .unwrap();
        assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "s1");
    }

    fn record(id: &str, minute: i64) -> ScanRecord {
        ScanRecord {
            id: id.to_owned(),
            started_at: OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute),
            finished_at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute + 1)),
            status: ScanStatus::Running,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 42,
            asset_count: 0,
            gap_count: 0,
        }
    }

    fn asset(arn: &str, ty: &str, region: &str, tags: &[(&str, &str)]) -> Asset {
        Asset::new(
            arn,
            ty,
            "123456789012",
            region,
            arn,
            serde_json::json!({"k": arn}),
        )
        .with_tags(
            tags.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn snapshot(id: &str, minute: i64, assets: Vec<Asset>) -> Snapshot {
        Snapshot {
            scan: record(id, minute),
            assets,
            gaps: vec![CoverageGap {
                account: "123456789012".into(),
                region: "us-east-1".into(),
                service: "ssm".into(),
                operation: "DescribeInstanceInformation".into(),
                kind: GapKind::NotImplemented,
                error: "unparseable response (HTTP 500)".into(),
                occurrences: 2,
            }],
        }
    }

    #[test]
    fn complete_snapshot_round_trips_and_becomes_current() {
        let mut store = test_store();
        assert!(store.latest_complete_scan().unwrap().is_none());
        let mut a = asset(
            "arn:aws:s3:::b",
            "AWS::S3::Bucket",
            "us-east-1",
            &[("env", "prod")],
        );
        a.mark_unavailable("policy", "AccessDenied");
        let snap = snapshot("s1", 0, vec![a.clone()]);
        store.begin_scan(&snap.scan).unwrap();
        store.complete_scan(&snap, &[]).unwrap();
        let latest = store.latest_complete_scan().unwrap().unwrap();
        assert_eq!(latest.id, "s1");
        assert_eq!(latest.status, ScanStatus::Complete);
        assert_eq!(
            (latest.asset_count, latest.gap_count, latest.api_calls),
            (1, 1, 42)
        );
        assert_eq!(store.assets(&AssetFilter::default()).unwrap(), vec![a]);
        assert_eq!(store.gaps().unwrap(), snap.gaps);
    }

    #[test]
    fn unfinished_or_failed_scan_never_replaces_the_last_complete_one() {
        let mut store = test_store();
        let first = snapshot("s1", 0, vec![asset("arn:a", "T", "us-east-1", &[])]);
        store.complete_scan(&first, &[]).unwrap();
        // A second scan starts and dies before writing its snapshot.
        store.begin_scan(&record("s2", 10)).unwrap();
        assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "s1");
        store.fail_scan("s2", "interrupted").unwrap();
        assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "s1");
        assert_eq!(store.scan("s2").unwrap().status, ScanStatus::Failed);
        assert_eq!(store.scans(10).unwrap().len(), 2);
        // A later complete scan of the account takes over its current
        // state; the older scans stay as history.
        store
            .complete_scan(&snapshot("s3", 20, vec![]), &[])
            .unwrap();
        assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "s3");
        assert!(
            store.assets(&AssetFilter::default()).unwrap().is_empty(),
            "s3 found nothing: its account's assets are gone"
        );
        assert_eq!(store.scan("s1").unwrap().asset_count, 1);
    }

    #[test]
    fn filters_by_type_region_and_tag() {
        let mut store = test_store();
        let assets = vec![
            asset("arn:1", "AWS::S3::Bucket", "us-east-1", &[("env", "prod")]),
            asset("arn:2", "AWS::S3::Bucket", "eu-west-1", &[("env", "dev")]),
            asset(
                "arn:3",
                "AWS::EC2::Instance",
                "eu-west-1",
                &[("owner", "x")],
            ),
        ];
        store.complete_scan(&snapshot("s", 0, assets), &[]).unwrap();
        let arns = |f: AssetFilter| -> Vec<String> {
            store
                .assets(&f)
                .unwrap()
                .into_iter()
                .map(|a| a.arn)
                .collect()
        };
        assert_eq!(
            arns(AssetFilter {
                resource_type: Some("AWS::S3::Bucket".into()),
                ..Default::default()
            }),
            vec!["arn:2", "arn:1"]
        );
        assert_eq!(
            arns(AssetFilter {
                region: Some("eu-west-1".into()),
                ..Default::default()
            }),
            vec!["arn:3", "arn:2"]
        );
        assert_eq!(
            arns(AssetFilter {
                tag: Some(("env".into(), Some("prod".into()))),
                ..Default::default()
            }),
            vec!["arn:1"]
        );
        assert_eq!(
            arns(AssetFilter {
                tag: Some(("env".into(), None)),
                ..Default::default()
            }),
            vec!["arn:2", "arn:1"]
        );
        assert_eq!(
            arns(AssetFilter {
                tag: Some(("nope".into(), None)),
                ..Default::default()
            }),
            Vec::<String>::new()
        );
    }

    #[test]
    fn assessments_are_written_with_the_snapshot_and_can_be_replaced() {
        let mut store = test_store();
        let a = Assessment {
            recommendation: "rec".into(),
            resource: "arn:a".into(),
            resource_type: "T".into(),
            resource_name: "a".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            status: AssessmentStatus::Unhealthy,
            reason: "bad".into(),
            evidence: vec![rampart_model::Evidence {
                path: "x".into(),
                value: serde_json::json!(1),
            }],
            exemption: None,
        };
        store
            .complete_scan(&snapshot("s1", 0, vec![]), std::slice::from_ref(&a))
            .unwrap();
        assert_eq!(store.assessments().unwrap(), vec![a.clone()]);
        let mut b = a.clone();
        b.status = AssessmentStatus::Exempt;
        b.exemption = Some(rampart_model::ExemptionNote {
            original_status: AssessmentStatus::Unhealthy,
            reason: "accepted".into(),
            expires: None,
        });
        store
            .replace_assessments("s1", std::slice::from_ref(&b))
            .unwrap();
        assert_eq!(store.assessments().unwrap(), vec![b]);
        assert!(store.replace_assessments("nope", &[]).is_err());
    }

    #[test]
    fn streamed_replacement_is_all_or_nothing_and_assets_stream_back() {
        let mut store = test_store();
        let assets = vec![
            asset("arn:1", "AWS::S3::Bucket", "us-east-1", &[("env", "prod")]),
            asset("arn:2", "AWS::EC2::Instance", "eu-west-1", &[]),
        ];
        let a = Assessment {
            recommendation: "rec".into(),
            resource: "arn:1".into(),
            resource_type: "AWS::S3::Bucket".into(),
            resource_name: "arn:1".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            status: AssessmentStatus::Healthy,
            reason: "fine".into(),
            evidence: Vec::new(),
            exemption: None,
        };
        store
            .complete_scan(&snapshot("s", 0, assets.clone()), std::slice::from_ref(&a))
            .unwrap();
        let mut streamed = Vec::new();
        assert_eq!(store.each_asset(|x| streamed.push(x)).unwrap(), 2);
        streamed.sort_by(|x, y| x.arn.cmp(&y.arn));
        assert_eq!(streamed, assets);

        // A failing fill leaves the stored assessments as they were.
        let mut b = a.clone();
        b.resource = "arn:2".into();
        let failed = store.replace_assessments_with("s", |w| {
            w.write(&b)?;
            Err::<(), _>(StoreError::NoSuchScan("stop".into()))
        });
        assert!(failed.is_err());
        assert_eq!(store.assessments().unwrap(), vec![a.clone()]);
        // A successful one replaces them and reports what it wrote.
        let written = store
            .replace_assessments_with("s", |w| {
                w.write(&b)?;
                Ok(w.written())
            })
            .unwrap();
        assert_eq!(written, 1);
        assert_eq!(store.assessments().unwrap(), vec![b]);
    }

    #[test]
    fn reopening_a_file_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        {
            let mut store = Store::open(&path).unwrap();
            store
                .complete_scan(&snapshot("s1", 0, vec![asset("arn:a", "T", "r", &[])]), &[])
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.latest_complete_scan().unwrap().unwrap().asset_count,
            1
        );
    }
}
