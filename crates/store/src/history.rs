//! Posture history that scales (schema version 9): the `assessments` table
//! holds the *current state*, one row per (recommendation, resource) updated
//! in place, and history is kept as
//!
//! - `assessment_changes`: an append-only log of every change a scan made
//!   to the current state — an assessment seen for the first time (`new`),
//!   a status that changed (`changed`; `resolved` when unhealthy became
//!   healthy), an assessment a scan no longer made (`removed`: the resource
//!   or the recommendation is gone);
//! - `daily_posture`: per day, account, region and recommendation, how many
//!   assessments had each status at the day's last scan (trends), and
//!   `daily_totals` the same per day, account and region (a trend over
//!   every recommendation reads one row per account and region a day);
//! - `daily_controls` (schema version 10): per day, account, region and
//!   security control, the healthy and unhealthy *resources* the secure
//!   score counts, with the control's points. A resource belongs to one
//!   account and region, so summing rows gives the exact counts of any
//!   part of the estate: the secure score of a connector, an account or a
//!   region on every day, long after its assessments were replaced
//!   ([`Store::daily_posture`]'s `score`).
//!
//! On PostgreSQL both tables are partitioned by month (`PARTITION BY RANGE
//! (day)`, partitions created as days arrive), so retention drops whole
//! partitions ([`Store::prune_history`]); on SQLite it deletes rows.

use rampart_model::AssessmentStatus;
use serde::Serialize;
use time::{Date, Month, OffsetDateTime};

use crate::db::{Backend, Conn, OptionalExtension, params, params_from_iter};
use crate::pages::Where;
use crate::{Result, Scope, Store, StoreError, collect_rows, parse_status, parse_time};

/// The history tables; `{partition}` is PostgreSQL's partitioning clause
/// (empty on SQLite).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS assessment_changes (
    day TEXT NOT NULL,
    at TEXT NOT NULL,
    scan_id TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    recommendation TEXT NOT NULL,
    resource TEXT NOT NULL,
    change TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT
){partition};
CREATE INDEX IF NOT EXISTS assessment_changes_day ON assessment_changes (day);
CREATE INDEX IF NOT EXISTS assessment_changes_key ON assessment_changes (recommendation, resource);
CREATE TABLE IF NOT EXISTS daily_posture (
    day TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    recommendation TEXT NOT NULL,
    healthy INTEGER NOT NULL,
    unhealthy INTEGER NOT NULL,
    error INTEGER NOT NULL,
    exempt INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    PRIMARY KEY (day, account, region, recommendation)
){partition};
CREATE TABLE IF NOT EXISTS daily_totals (
    day TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    healthy INTEGER NOT NULL,
    unhealthy INTEGER NOT NULL,
    error INTEGER NOT NULL,
    exempt INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    PRIMARY KEY (day, account, region)
){partition};
CREATE TABLE IF NOT EXISTS daily_controls (
    day TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    control TEXT NOT NULL,
    max_points INTEGER NOT NULL,
    healthy INTEGER NOT NULL,
    unhealthy INTEGER NOT NULL,
    PRIMARY KEY (day, account, region, control)
){partition};
CREATE INDEX IF NOT EXISTS daily_totals_account ON daily_totals (account, day);
CREATE INDEX IF NOT EXISTS daily_controls_account ON daily_controls (account, day);
CREATE TABLE IF NOT EXISTS score_recommendations (
    recommendation TEXT PRIMARY KEY,
    control TEXT NOT NULL,
    max_points INTEGER NOT NULL
);
";

/// What is read again and again from the daily aggregates, kept (schema
/// version 13): the whole estate's counts and secure score of each finished
/// day (a day before the latest recorded one, which no write changes any
/// more), and
/// values of the latest day tagged with the write of the aggregates they
/// were computed after (`meta.history_seq`, bumped by every write), so a
/// write makes them stale at once and none is ever served stale.
pub(crate) const CACHE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS daily_estate (
    day TEXT PRIMARY KEY,
    healthy INTEGER NOT NULL,
    unhealthy INTEGER NOT NULL,
    error INTEGER NOT NULL,
    exempt INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    score REAL
);
CREATE TABLE IF NOT EXISTS history_cache (
    name TEXT PRIMARY KEY,
    seq TEXT NOT NULL,
    value TEXT NOT NULL
);
";

/// The `history_cache` entry of the whole estate's score on the latest day.
const ESTATE_SCORE: &str = "estate_score";
/// The `history_cache` entry of every account's score on the latest day
/// (a JSON object, account to percent).
const ACCOUNT_SCORES: &str = "account_scores";

/// The partitioned tables.
const PARTITIONED: [&str; 4] = [
    "assessment_changes",
    "daily_posture",
    "daily_totals",
    "daily_controls",
];

/// The built-in catalog's scored recommendations (see
/// [`rampart_catalog::score::scored_recommendations`]), read once.
fn scored_recommendations() -> Result<&'static [(String, String, u32)]> {
    /// `(recommendation, control, max_points)` rows, or why the catalog
    /// could not be read.
    type Scored = std::result::Result<Vec<(String, String, u32)>, String>;
    static SCORED: std::sync::OnceLock<Scored> = std::sync::OnceLock::new();
    SCORED
        .get_or_init(|| {
            let catalog = rampart_catalog::Catalog::builtin().map_err(|e| e.to_string())?;
            let controls =
                rampart_catalog::standards::security_controls().map_err(|e| e.to_string())?;
            Ok(rampart_catalog::score::scored_recommendations(
                &catalog, &controls,
            ))
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(|e| StoreError::Catalog(e.clone()))
}

/// Makes `score_recommendations` this build's mapping (a store shared by
/// processes of another version gets the newest writer's).
fn sync_scored_recommendations(conn: &Conn) -> Result<()> {
    let scored = scored_recommendations()?;
    let mut stmt = conn.prepare(
        "SELECT recommendation, control, max_points FROM score_recommendations ORDER BY recommendation",
    )?;
    let rows = stmt.query_map([], |r| {
        let points: i64 = r.get(2)?;
        Ok(Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            u32::try_from(points).unwrap_or(0),
        )))
    })?;
    let stored: Vec<(String, String, u32)> = collect_rows(rows)?;
    let mut wanted = scored.to_vec();
    wanted.sort();
    if stored == wanted {
        return Ok(());
    }
    conn.execute("DELETE FROM score_recommendations", [])?;
    let mut insert = conn.prepare(
        "INSERT INTO score_recommendations (recommendation, control, max_points) VALUES (?1, ?2, ?3)",
    )?;
    for (recommendation, control, points) in scored {
        insert.execute(params![recommendation, control, i64::from(*points)])?;
    }
    Ok(())
}

/// Logs one change (see [`crate::AssessmentWriter`]).
pub(crate) const INSERT_CHANGE: &str = "INSERT INTO assessment_changes
    (day, at, scan_id, account, region, recommendation, resource, change, old_status, new_status)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// Creates the history tables and turns a version-8 store's per-scan
/// assessments into the current state: the latest complete scan's are
/// kept, older scans' copies are dropped (their scores stay in the
/// posture cache).
pub(crate) fn migrate(conn: &Conn) -> Result<()> {
    let partition = match conn.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => " PARTITION BY RANGE (day)",
    };
    conn.execute_batch(&SCHEMA.replace("{partition}", partition))?;
    if conn.backend() == Backend::Postgres {
        // Newest-first pages of the log (SQLite's rowid is its key already).
        conn.execute_native(
            "CREATE INDEX IF NOT EXISTS assessment_changes_seq ON assessment_changes (rowid)",
        )?;
    }
    if conn.has_column("assessments", "since")? {
        return Ok(());
    }
    conn.execute_batch("ALTER TABLE assessments RENAME TO assessments_v8")?;
    conn.execute_batch(crate::SCHEMA)?;
    let latest: Option<String> = conn
        .query_row(
            "SELECT id FROM scans WHERE status = 'complete' ORDER BY finished_at DESC, started_at DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(latest) = latest {
        conn.execute(
            "INSERT INTO assessments (recommendation, resource, scan_id, resource_type, resource_name, account, region, status, reason, evidence, exemption, since, pass)
             SELECT a.recommendation, a.resource, a.scan_id, a.resource_type, a.resource_name, a.account, a.region, a.status, a.reason, a.evidence, a.exemption,
                    COALESCE(s.finished_at, s.started_at), 0
             FROM assessments_v8 a JOIN scans s ON s.id = a.scan_id WHERE a.scan_id = ?1",
            params![latest],
        )?;
    }
    conn.execute_batch("DROP TABLE assessments_v8")?;
    Ok(())
}

/// The day of `t` (UTC) as `YYYY-MM-DD`.
pub(crate) fn day_of(t: OffsetDateTime) -> String {
    let d = t.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_day(text: &str) -> Option<Date> {
    let mut parts = text.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// The first day of the month after `date`'s.
fn next_month(date: Date) -> Option<Date> {
    let (year, month) = match date.month() {
        Month::December => (date.year() + 1, Month::January),
        m => (date.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).ok()
}

fn partition_name(table: &str, date: Date) -> String {
    format!("{table}_p{:04}_{:02}", date.year(), u8::from(date.month()))
}

/// On PostgreSQL, creates the month partitions that rows of `day` go to
/// (inside the writer's transaction, under its lock).
pub(crate) fn ensure_partitions(conn: &Conn, day: &str) -> Result<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    let date = parse_day(day).ok_or_else(|| StoreError::Corrupt {
        column: "day",
        reason: format!("not a day: `{day}`"),
    })?;
    let first = date.replace_day(1).map_err(|e| StoreError::Corrupt {
        column: "day",
        reason: e.to_string(),
    })?;
    let Some(end) = next_month(first) else {
        return Ok(());
    };
    for table in PARTITIONED {
        conn.execute_native(&format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF {table} FOR VALUES FROM ('{}') TO ('{}')",
            partition_name(table, first),
            day_of_date(first),
            day_of_date(end),
        ))?;
    }
    Ok(())
}

fn day_of_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Removes from the current state what write `pass` (of scan `scan_id`)
/// did not touch, logging each as `removed`; how many. With `accounts`,
/// only rows of those accounts (a scan of some accounts speaks for them
/// alone).
pub(crate) fn remove_unassessed(
    conn: &Conn,
    pass: i64,
    scan_id: &str,
    day: &str,
    at: &str,
    accounts: Option<&[String]>,
) -> Result<usize> {
    let mut w = Where::new("pass <>", pass);
    w.and_accounts(accounts);
    log_removed(conn, &w, scan_id, day, at)?;
    Ok(conn.execute(
        &format!("DELETE FROM assessments{}", w.sql),
        params_from_iter(w.args.iter()),
    )?)
}

/// Logs the assessments `w` matches as `removed` by scan `scan_id`.
fn log_removed(conn: &Conn, w: &Where, scan_id: &str, day: &str, at: &str) -> Result<()> {
    let first = w.args.len();
    let sql = format!(
        "INSERT INTO assessment_changes
            (day, at, scan_id, account, region, recommendation, resource, change, old_status, new_status)
         SELECT CAST(?{} AS TEXT), CAST(?{} AS TEXT), CAST(?{} AS TEXT), account, region, recommendation, resource, 'removed', status, NULL
         FROM assessments{}",
        first + 1,
        first + 2,
        first + 3,
        w.sql
    );
    let mut args = w.args.clone();
    args.extend([day, at, scan_id].map(|v| crate::db::Value::from(v.to_owned())));
    conn.execute(&sql, params_from_iter(args.iter()))?;
    Ok(())
}

/// Removes every assessment of `accounts` (logged `removed` by scan
/// `scan_id`) and their rows of today's aggregates; how many.
pub(crate) fn remove_accounts(conn: &Conn, accounts: &[String], scan_id: &str) -> Result<usize> {
    let now = OffsetDateTime::now_utc();
    let day = day_of(now);
    ensure_partitions(conn, &day)?;
    carry_forward(conn, &day)?;
    let mut w = Where::all();
    w.and_accounts(Some(accounts));
    log_removed(conn, &w, scan_id, &day, &crate::rfc3339(now))?;
    let removed = conn.execute(
        &format!("DELETE FROM assessments{}", w.sql),
        params_from_iter(w.args.iter()),
    )?;
    for table in DAILY {
        let mut w = Where::new("day =", day.clone());
        w.and_accounts(Some(accounts));
        conn.execute(
            &format!("DELETE FROM {table}{}", w.sql),
            params_from_iter(w.args.iter()),
        )?;
    }
    Ok(removed)
}

/// The daily aggregates, each a row per day, account and region (and
/// recommendation or security control).
const DAILY: [&str; 3] = ["daily_posture", "daily_totals", "daily_controls"];

/// Starts `day`'s aggregates, once: every account's rows of the latest
/// earlier day are copied to it, so an account that no write of `day`
/// touched keeps its last state there. Later writes of `day` replace only
/// their own accounts' rows.
fn carry_forward(conn: &Conn, day: &str) -> Result<()> {
    let started: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'history_day'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if started.as_deref() == Some(day) {
        return Ok(());
    }
    for (table, columns) in [
        (
            "daily_posture",
            "account, region, recommendation, healthy, unhealthy, error, exempt, not_applicable",
        ),
        (
            "daily_totals",
            "account, region, healthy, unhealthy, error, exempt, not_applicable",
        ),
        (
            "daily_controls",
            "account, region, control, max_points, healthy, unhealthy",
        ),
    ] {
        conn.execute(&format!("DELETE FROM {table} WHERE day = ?1"), params![day])?;
        conn.execute(
            &format!(
                "INSERT INTO {table} (day, {columns})
                 SELECT CAST(?1 AS TEXT), {columns} FROM {table}
                 WHERE day = (SELECT MAX(day) FROM {table} WHERE day < ?1)"
            ),
            params![day],
        )?;
    }
    mark_day(conn, day)
}

/// Records that `day`'s aggregates are started.
fn mark_day(conn: &Conn, day: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('history_day', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![day],
    )?;
    Ok(())
}

/// Records `day`'s aggregates from the current state (replacing an earlier
/// write's of the same day): of `accounts` only when given (every other
/// account keeps its rows: see [`carry_forward`]), else of every account.
pub(crate) fn record_day(conn: &Conn, day: &str, accounts: Option<&[String]>) -> Result<()> {
    match accounts {
        Some(_) => carry_forward(conn, day)?,
        None => mark_day(conn, day)?,
    }
    // `w` selects the day's rows to replace; `from` the rows to count
    // (it binds the day as `?1`).
    let mut w = Where::new("day =", day.to_owned());
    w.and_accounts(accounts);
    let mut from = Where::all();
    from.args.push(day.to_owned().into());
    from.and_accounts(accounts);
    let replace = |table: &str, insert: &str| -> Result<()> {
        conn.execute(
            &format!("DELETE FROM {table}{}", w.sql),
            params_from_iter(w.args.iter()),
        )?;
        conn.execute(insert, params_from_iter(from.args.iter()))?;
        Ok(())
    };
    replace(
        "daily_posture",
        &format!(
            "INSERT INTO daily_posture (day, account, region, recommendation, healthy, unhealthy, error, exempt, not_applicable)
             SELECT CAST(?1 AS TEXT), account, region, recommendation,
                    SUM(CASE WHEN status = 'healthy' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'unhealthy' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'exempt' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'not_applicable' THEN 1 ELSE 0 END)
             FROM assessments{} GROUP BY account, region, recommendation",
            from.sql
        ),
    )?;
    replace(
        "daily_totals",
        &format!(
            "INSERT INTO daily_totals (day, account, region, healthy, unhealthy, error, exempt, not_applicable)
             SELECT day, account, region, SUM(healthy), SUM(unhealthy), SUM(error), SUM(exempt), SUM(not_applicable)
             FROM daily_posture{} AND day = ?1 GROUP BY day, account, region",
            from.sql
        ),
    )?;
    // The secure score's resource counts: a resource counts once per
    // control, unhealthy when any of the control's recommendations finds
    // it unhealthy, healthy when assessed and none did (the catalog's
    // `Tally`); other statuses do not count.
    sync_scored_recommendations(conn)?;
    let from_joined = from.sql.replace(" account IN", " a.account IN");
    replace(
        "daily_controls",
        &format!(
            "INSERT INTO daily_controls (day, account, region, control, max_points, healthy, unhealthy)
             SELECT CAST(?1 AS TEXT), account, region, control, MAX(max_points),
                    SUM(CASE WHEN worst = 1 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN worst = 2 THEN 1 ELSE 0 END)
             FROM (SELECT a.account, a.region, s.control, s.max_points, a.resource,
                          MAX(CASE a.status WHEN 'unhealthy' THEN 2 WHEN 'healthy' THEN 1 ELSE 0 END) AS worst
                   FROM assessments a JOIN score_recommendations s ON s.recommendation = a.recommendation{from_joined}
                   GROUP BY a.account, a.region, s.control, s.max_points, a.resource) r
             WHERE worst > 0
             GROUP BY account, region, control"
        ),
    )?;
    bump_history_seq(conn)
}

/// Marks a write of the daily aggregates: values cached from the latest
/// day before it are stale (see [`CACHE_SCHEMA`]). Runs in the writer's
/// transaction, under the write lock, so no increment is lost.
fn bump_history_seq(conn: &Conn) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('history_seq', '0') ON CONFLICT (key) DO NOTHING",
        [],
    )?;
    conn.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'history_seq'",
        [],
    )?;
    Ok(())
}

/// Whether the current state holds no assessment of `accounts` (`None`:
/// of any account).
pub(crate) fn no_assessments_of(conn: &Conn, accounts: Option<&[String]>) -> Result<bool> {
    let mut w = Where::all();
    w.and_accounts(accounts);
    Ok(conn
        .query_row(
            &format!("SELECT 1 FROM assessments{} LIMIT 1", w.sql),
            params_from_iter(w.args.iter()),
            |r| r.get::<i64>(0),
        )
        .optional()?
        .is_none())
}

/// What happened to an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Assessed for the first time (or again after it was removed).
    New,
    /// Its status changed (other than unhealthy to healthy).
    Changed,
    /// Unhealthy became healthy.
    Resolved,
    /// No longer assessed: the resource, or the recommendation, is gone.
    Removed,
}

impl ChangeKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [Self::New, Self::Changed, Self::Resolved, Self::Removed];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Changed => "changed",
            Self::Resolved => "resolved",
            Self::Removed => "removed",
        }
    }

    /// The kind named `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The change from a stored status (`None`: not assessed before) to
    /// `new`; `None` when the status is the same.
    pub(crate) fn between(old: Option<&str>, new: &str) -> Option<Self> {
        match old {
            None => Some(Self::New),
            Some(old) if old == new => None,
            Some("unhealthy") if new == "healthy" => Some(Self::Resolved),
            Some(_) => Some(Self::Changed),
        }
    }
}

/// One logged change of the current state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssessmentChange {
    /// Its position in the log (newer changes have larger ones).
    pub seq: i64,
    /// When the scan wrote it.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The scan that made it.
    pub scan_id: String,
    /// The resource's account.
    pub account: String,
    /// The resource's region.
    pub region: String,
    /// The recommendation.
    pub recommendation: String,
    /// The resource (ARN).
    pub resource: String,
    /// What happened.
    pub change: ChangeKind,
    /// The status before (`None` for a new assessment).
    pub old_status: Option<AssessmentStatus>,
    /// The status after (`None` for a removed one).
    pub new_status: Option<AssessmentStatus>,
}

/// Which logged changes to read.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// Only changes of this day (`YYYY-MM-DD`) or later.
    pub since: Option<String>,
    /// Only changes of this day or earlier.
    pub until: Option<String>,
    /// Only this kind.
    pub change: Option<ChangeKind>,
    /// Only this recommendation.
    pub recommendation: Option<String>,
    /// Only this resource.
    pub resource: Option<String>,
    /// Only this part of the estate.
    pub scope: Scope,
}

/// One day's assessment counts by status (summed over a scope), and the
/// secure score of that scope on that day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyPosture {
    /// The day (`YYYY-MM-DD`, UTC).
    pub day: String,
    /// Healthy assessments.
    pub healthy: u64,
    /// Unhealthy assessments.
    pub unhealthy: u64,
    /// Assessments that could not be made.
    pub error: u64,
    /// Exempt assessments.
    pub exempt: u64,
    /// Not applicable assessments.
    pub not_applicable: u64,
    /// The secure score (percent) of the scope at the day's last scan,
    /// from `daily_controls`; `None` for a trend of one recommendation and
    /// for days recorded before schema version 10.
    pub score: Option<f64>,
}

impl DailyPosture {
    /// A day's counts from `row`'s columns `first..first + 5` (healthy,
    /// unhealthy, error, exempt, not applicable), without a score.
    fn from_counts(
        day: String,
        row: &crate::db::Row<'_>,
        first: usize,
    ) -> crate::db::DbResult<Self> {
        let count = |i: usize| -> crate::db::DbResult<u64> {
            Ok(u64::try_from(row.get::<i64>(first + i)?).unwrap_or(0))
        };
        Ok(Self {
            day,
            healthy: count(0)?,
            unhealthy: count(1)?,
            error: count(2)?,
            exempt: count(3)?,
            not_applicable: count(4)?,
            score: None,
        })
    }
}

/// What [`Store::prune_history`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// History before this day was removed.
    pub before: String,
    /// PostgreSQL partitions dropped (whole months).
    pub partitions_dropped: Vec<String>,
    /// Rows deleted (SQLite).
    pub rows_deleted: u64,
}

/// Whether `text` is a day as the history reads take them (`YYYY-MM-DD`).
pub fn is_day(text: &str) -> bool {
    parse_day(text).is_some_and(|d| day_of_date(d) == text)
}

/// Checks a `YYYY-MM-DD` day given by a caller.
fn valid_day(text: &str) -> Result<&str> {
    is_day(text)
        .then_some(text)
        .ok_or_else(|| StoreError::Corrupt {
            column: "day",
            reason: format!("`{text}` is not a day (YYYY-MM-DD)"),
        })
}

impl Store {
    /// Whether scan `scan_id` is the current one: the latest complete
    /// scan, as whose the current state is read (each account's
    /// assessments are those of the latest scan that covered it). Older
    /// scans' assessments are history: their changes and daily
    /// aggregates, and their cached score.
    pub fn assessments_kept(&self, scan_id: &str) -> Result<bool> {
        Ok(self
            .latest_complete_scan()?
            .is_some_and(|latest| latest.id == scan_id))
    }

    /// Logged changes matching `filter`, newest first: at most `limit`,
    /// before position `before` (the `seq` of the last change of the
    /// previous page).
    pub fn changes(
        &self,
        filter: &ChangeFilter,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AssessmentChange>> {
        let mut w = Where::all();
        if let Some(since) = &filter.since {
            w.and_opt("day >=", Some(&valid_day(since)?.to_owned()));
        }
        if let Some(until) = &filter.until {
            w.and_opt("day <=", Some(&valid_day(until)?.to_owned()));
        }
        w.and_opt(
            "change =",
            filter.change.map(|c| c.as_str().to_owned()).as_ref(),
        );
        w.and_opt("recommendation =", filter.recommendation.as_ref());
        w.and_opt("resource =", filter.resource.as_ref());
        filter.scope.restrict(&mut w);
        if let Some(before) = before {
            w.args.push(before.into());
            w.sql.push_str(&format!(" AND rowid < ?{}", w.args.len()));
        }
        w.args.push(crate::to_i64(limit).into());
        let sql = format!(
            "SELECT rowid, at, scan_id, account, region, recommendation, resource, change, old_status, new_status
             FROM assessment_changes{} ORDER BY rowid DESC LIMIT ?{}",
            w.sql,
            w.args.len()
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |row| {
            let seq: i64 = row.get(0)?;
            let at: String = row.get(1)?;
            let change: String = row.get(7)?;
            let old: Option<String> = row.get(8)?;
            let new: Option<String> = row.get(9)?;
            let (scan_id, account, region, recommendation, resource) = (
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
            );
            Ok((|| {
                Ok(AssessmentChange {
                    seq,
                    at: parse_time("at", &at)?,
                    scan_id,
                    account,
                    region,
                    recommendation,
                    resource,
                    change: ChangeKind::parse(&change).ok_or_else(|| StoreError::Corrupt {
                        column: "change",
                        reason: format!("unknown change `{change}`"),
                    })?,
                    old_status: old.as_deref().map(parse_status).transpose()?,
                    new_status: new.as_deref().map(parse_status).transpose()?,
                })
            })())
        })?;
        collect_rows(rows)
    }

    /// Assessment counts by status per day, oldest first, over `scope` (and
    /// one `recommendation` when given), for days in `[since, until]`.
    pub fn daily_posture(
        &self,
        scope: &Scope,
        recommendation: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Vec<DailyPosture>> {
        let since = since.map(valid_day).transpose()?;
        let until = until.map(valid_day).transpose()?;
        if scope.is_everything() && recommendation.is_none() {
            return self.estate_days(since, until);
        }
        let mut w = Where::all();
        if let Some(since) = since {
            w.and_opt("day >=", Some(&since.to_owned()));
        }
        if let Some(until) = until {
            w.and_opt("day <=", Some(&until.to_owned()));
        }
        w.and_opt(
            "recommendation =",
            recommendation.map(str::to_owned).as_ref(),
        );
        scope.restrict(&mut w);
        // Over every recommendation, the per account and region totals.
        let table = if recommendation.is_some() {
            "daily_posture"
        } else {
            "daily_totals"
        };
        let sql = format!(
            "SELECT day, SUM(healthy), SUM(unhealthy), SUM(error), SUM(exempt), SUM(not_applicable)
             FROM {table}{} GROUP BY day ORDER BY day",
            w.sql
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |row| {
            Ok(Ok(DailyPosture::from_counts(row.get(0)?, row, 1)?))
        })?;
        let mut days: Vec<DailyPosture> = collect_rows(rows)?;
        if recommendation.is_none() {
            let mut scores = self.daily_scores(&w)?;
            for day in &mut days {
                day.score = scores.remove(&day.day);
            }
        }
        Ok(days)
    }

    /// The secure score of each account in `scope` as of the latest
    /// recorded day (the current state: every write records its day), from
    /// `daily_controls`: one grouped read, however many accounts. `None`
    /// when no day has control counts yet (a store from before schema
    /// version 10 until its next scan).
    pub fn account_scores(
        &self,
        scope: &Scope,
    ) -> Result<Option<std::collections::BTreeMap<String, f64>>> {
        let latest: Option<String> =
            self.conn
                .query_row("SELECT MAX(day) FROM daily_controls", [], |r| r.get(0))?;
        let Some(latest) = latest else {
            return Ok(None);
        };
        if scope.region.is_some() {
            let mut w = Where::new("day =", latest);
            scope.restrict(&mut w);
            return self.scores_by("account", &w).map(Some);
        }
        // Every account's score, kept until the next write: one grouped
        // read of the day's control counts per write, not per request.
        let seq = self.history_seq()?;
        let cached = self
            .cached(ACCOUNT_SCORES, &seq)?
            .and_then(|v| serde_json::from_str::<std::collections::BTreeMap<String, f64>>(&v).ok());
        let all = match (cached, &scope.accounts) {
            (Some(all), _) => all,
            // A few accounts: read only theirs (filling the cache for
            // every account would cost the whole grouped read).
            (None, Some(_)) => {
                let mut w = Where::new("day =", latest);
                scope.restrict(&mut w);
                return self.scores_by("account", &w).map(Some);
            }
            (None, None) => {
                let all = self.scores_by("account", &Where::new("day =", latest))?;
                self.put_cached(ACCOUNT_SCORES, &seq, &crate::json_text(&all))?;
                all
            }
        };
        Ok(Some(match &scope.accounts {
            None => all,
            Some(list) => all.into_iter().filter(|(a, _)| list.contains(a)).collect(),
        }))
    }

    /// The whole estate's counts and score per day in `[since, until]`:
    /// finished days from `daily_estate`, each computed once; the latest
    /// day's counts from `daily_totals` (one day's rows) and its score
    /// from `history_cache` until the next write.
    fn estate_days(&self, since: Option<&str>, until: Option<&str>) -> Result<Vec<DailyPosture>> {
        let days = self.recorded_days(since, until)?;
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(Vec::new());
        };
        let seq = self.history_seq()?;
        let latest: Option<String> =
            self.conn
                .query_row("SELECT MAX(day) FROM daily_totals", [], |r| r.get(0))?;
        let mut kept: std::collections::BTreeMap<String, DailyPosture> = {
            let mut stmt = self.conn.prepare(
                "SELECT day, healthy, unhealthy, error, exempt, not_applicable, score
                 FROM daily_estate WHERE day >= ?1 AND day <= ?2",
            )?;
            let rows = stmt.query_map(params![first, last], |row| {
                Ok(DailyPosture {
                    score: row.get(6)?,
                    ..DailyPosture::from_counts(row.get(0)?, row, 1)?
                })
            })?;
            rows.map(|row| row.map(|d| (d.day.clone(), d)))
                .collect::<std::result::Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(days.len());
        for day in days {
            let finished = latest.as_deref().is_some_and(|l| day.as_str() < l);
            if finished && let Some(kept) = kept.remove(&day) {
                out.push(kept);
                continue;
            }
            let mut posture = self.conn.query_row(
                "SELECT SUM(healthy), SUM(unhealthy), SUM(error), SUM(exempt), SUM(not_applicable)
                 FROM daily_totals WHERE day = ?1",
                params![day],
                |row| DailyPosture::from_counts(day.clone(), row, 0),
            )?;
            // The latest day's score as kept (empty: the day has none).
            posture.score = match (finished, self.cached(ESTATE_SCORE, &seq)?) {
                (false, Some(v)) => v.parse::<f64>().ok(),
                _ => {
                    let score = self
                        .scores_by("day", &Where::new("day =", day.clone()))?
                        .remove(&day);
                    if !finished {
                        let text = score.map(|s| s.to_string()).unwrap_or_default();
                        self.put_cached(ESTATE_SCORE, &seq, &text)?;
                    }
                    score
                }
            };
            if finished {
                self.conn.execute(
                    "INSERT INTO daily_estate (day, healthy, unhealthy, error, exempt, not_applicable, score)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (day) DO NOTHING",
                    params![
                        posture.day,
                        i64::try_from(posture.healthy).unwrap_or(i64::MAX),
                        i64::try_from(posture.unhealthy).unwrap_or(i64::MAX),
                        i64::try_from(posture.error).unwrap_or(i64::MAX),
                        i64::try_from(posture.exempt).unwrap_or(i64::MAX),
                        i64::try_from(posture.not_applicable).unwrap_or(i64::MAX),
                        posture.score
                    ],
                )?;
            }
            out.push(posture);
        }
        Ok(out)
    }

    /// The days with aggregates in `[since, until]`, oldest first: one index
    /// probe per day (a skip scan of `daily_totals`' key), not a read of
    /// every row.
    fn recorded_days(&self, since: Option<&str>, until: Option<&str>) -> Result<Vec<String>> {
        let since = since.unwrap_or("0000-00-00");
        let until = until.unwrap_or("9999-99-99");
        let mut stmt = self.conn.prepare(
            "WITH RECURSIVE d(day) AS (
                 SELECT MIN(day) FROM daily_totals WHERE day >= ?1
                 UNION ALL
                 SELECT (SELECT MIN(day) FROM daily_totals WHERE day > d.day)
                 FROM d WHERE d.day IS NOT NULL AND d.day <= ?2
             )
             SELECT day FROM d WHERE day IS NOT NULL AND day <= ?2",
        )?;
        let rows = stmt.query_map(params![since, until], |r| r.get::<String>(0))?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// The count of writes of the daily aggregates (see [`CACHE_SCHEMA`]).
    fn history_seq(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'history_seq'",
                [],
                |r| r.get::<String>(0),
            )
            .optional()?
            .unwrap_or_else(|| "0".to_owned()))
    }

    /// The cached value `name` if it was computed after write `seq`.
    fn cached(&self, name: &str, seq: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM history_cache WHERE name = ?1 AND seq = ?2",
                params![name, seq],
                |r| r.get::<String>(0),
            )
            .optional()?)
    }

    /// Keeps `value` as `name`, computed after write `seq`. Two readers may
    /// race: whichever is kept, a value tagged with an older write is
    /// stale by its tag and computed again.
    fn put_cached(&self, name: &str, seq: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO history_cache (name, seq, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, value = excluded.value",
            params![name, seq, value],
        )?;
        Ok(())
    }

    /// The current state's assessment counts per recommendation (in the
    /// catalog's `StatusCounts` order: healthy, unhealthy, error, exempt,
    /// not applicable) and the secure score's resource counts per security
    /// control, summed over `scope` (the whole estate with
    /// [`Scope::default`]) from the latest day's aggregates (every write
    /// records its day, and the accounts it did not scan are carried into
    /// it): a read of the aggregates, not of every assessment. The rows are
    /// per account and region, so any scope's sums are exact. `None` before
    /// the first recorded day.
    #[expect(clippy::type_complexity, reason = "two plain lists of counts")]
    pub fn current_counts(
        &self,
        scope: &Scope,
    ) -> Result<
        Option<(
            Vec<(String, [u64; 5])>,
            Vec<rampart_catalog::score::ControlResourceCounts>,
        )>,
    > {
        let latest: Option<String> =
            self.conn
                .query_row("SELECT MAX(day) FROM daily_posture", [], |r| r.get(0))?;
        let Some(day) = latest else {
            return Ok(None);
        };
        let n = |row: &crate::db::Row<'_>, i: usize| -> crate::db::DbResult<u64> {
            Ok(u64::try_from(row.get::<i64>(i)?).unwrap_or(0))
        };
        let mut w = Where::new("day =", day);
        scope.restrict(&mut w);
        let mut stmt = self.conn.prepare(&format!(
            "SELECT recommendation, SUM(healthy), SUM(unhealthy), SUM(error), SUM(exempt), SUM(not_applicable)
             FROM daily_posture{} GROUP BY recommendation ORDER BY recommendation",
            w.sql
        ))?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |row| {
            Ok(Ok((
                row.get::<String>(0)?,
                [n(row, 1)?, n(row, 2)?, n(row, 3)?, n(row, 4)?, n(row, 5)?],
            )))
        })?;
        let recommendations = collect_rows(rows)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT control, MAX(max_points), SUM(healthy), SUM(unhealthy)
             FROM daily_controls{} GROUP BY control ORDER BY control",
            w.sql
        ))?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |row| {
            Ok(Ok(rampart_catalog::score::ControlResourceCounts {
                name: row.get(0)?,
                max_points: u32::try_from(n(row, 1)?).unwrap_or(0),
                healthy: n(row, 2)?,
                unhealthy: n(row, 3)?,
            }))
        })?;
        Ok(Some((recommendations, collect_rows(rows)?)))
    }

    /// The secure score per day over the `daily_controls` rows `w` matches.
    fn daily_scores(&self, w: &Where) -> Result<std::collections::BTreeMap<String, f64>> {
        self.scores_by("day", w)
    }

    /// The secure score per value of `column` (`day` or `account`) over
    /// the `daily_controls` rows `w` matches: each group's control counts
    /// summed, then scored.
    fn scores_by(
        &self,
        column: &str,
        w: &Where,
    ) -> Result<std::collections::BTreeMap<String, f64>> {
        let sql = format!(
            "SELECT {column}, control, MAX(max_points), SUM(healthy), SUM(unhealthy)
             FROM daily_controls{} GROUP BY {column}, control ORDER BY {column}, control",
            w.sql
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |row| {
            let number = |i: usize| -> crate::db::DbResult<u64> {
                Ok(u64::try_from(row.get::<i64>(i)?).unwrap_or(0))
            };
            Ok(Ok((
                row.get::<String>(0)?,
                rampart_catalog::score::ControlResourceCounts {
                    name: row.get(1)?,
                    max_points: u32::try_from(number(2)?).unwrap_or(0),
                    healthy: number(3)?,
                    unhealthy: number(4)?,
                },
            )))
        })?;
        let mut groups: std::collections::BTreeMap<String, Vec<_>> = Default::default();
        for (key, counts) in collect_rows(rows)? {
            groups.entry(key).or_default().push(counts);
        }
        Ok(groups
            .into_iter()
            .map(|(key, counts)| {
                let score = rampart_catalog::score::secure_score_of_counts(counts);
                (key, score.percent)
            })
            .collect())
    }

    /// Removes history (logged changes and daily aggregates) older than
    /// `keep_days` days before `now`. On PostgreSQL whole month partitions
    /// go (a month is dropped once all of it is older; the current state
    /// is never touched); on SQLite the rows are deleted.
    pub fn prune_history(&mut self, keep_days: u32, now: OffsetDateTime) -> Result<PruneReport> {
        let before = day_of(now - time::Duration::days(i64::from(keep_days)));
        let mut report = PruneReport {
            before: before.clone(),
            ..PruneReport::default()
        };
        let tx = self.conn.begin_write()?;
        match tx.backend() {
            Backend::Sqlite => {
                for table in PARTITIONED {
                    let n = tx.execute(
                        &format!("DELETE FROM {table} WHERE day < ?1"),
                        params![before],
                    )?;
                    report.rows_deleted += n as u64;
                }
            }
            Backend::Postgres => {
                for table in PARTITIONED {
                    for (name, end) in partitions(&tx, table)? {
                        if end <= before {
                            tx.execute_native(&format!("DROP TABLE IF EXISTS {name}"))?;
                            report.partitions_dropped.push(name);
                        }
                    }
                }
            }
        }
        // Finished days' scores go with their aggregates.
        tx.execute(
            "DELETE FROM daily_estate WHERE day < (SELECT MIN(day) FROM daily_totals)
             OR NOT EXISTS (SELECT 1 FROM daily_totals)",
            [],
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// The month partitions of the history tables on PostgreSQL (names,
    /// oldest first); empty on SQLite.
    pub fn history_partitions(&self) -> Result<Vec<String>> {
        if self.conn.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        for table in PARTITIONED {
            names.extend(partitions(&self.conn, table)?.into_iter().map(|(n, _)| n));
        }
        Ok(names)
    }
}

/// A partitioned table's partitions with the first day after each
/// (`YYYY-MM-DD`), oldest first.
fn partitions(conn: &Conn, table: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT c.relname::text FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
         WHERE p.relname::text = ?1 AND n.nspname::text = current_schema()
         ORDER BY 1",
    )?;
    let names = collect_rows(stmt.query_map(params![table], |r| Ok(Ok(r.get::<String>(0)?)))?)?;
    let prefix = format!("{table}_p");
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let (year, month) = name.strip_prefix(&prefix)?.split_once('_')?;
            let first = Date::from_calendar_date(
                year.parse().ok()?,
                Month::try_from(month.parse::<u8>().ok()?).ok()?,
                1,
            )
            .ok()?;
            let end = day_of_date(next_month(first)?);
            Some((name, end))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use rampart_model::{Assessment, AssessmentStatus, ScanRecord, ScanStatus, Snapshot};
    use time::OffsetDateTime;

    use super::{ChangeFilter, ChangeKind, day_of};
    use crate::db::params;
    use crate::{Scope, Store, StoreError, test_store};

    fn record(id: &str, minute: i64) -> ScanRecord {
        ScanRecord {
            id: id.to_owned(),
            started_at: OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute),
            finished_at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute + 1)),
            status: ScanStatus::Running,
            accounts: vec!["111111111111".into(), "222222222222".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 1,
            asset_count: 0,
            gap_count: 0,
        }
    }

    fn assessment(resource: &str, account: &str, status: AssessmentStatus) -> Assessment {
        Assessment {
            recommendation: "rec".into(),
            resource: resource.into(),
            resource_type: "AWS::S3::Bucket".into(),
            resource_name: resource.into(),
            account: account.into(),
            region: "us-east-1".into(),
            status,
            reason: status.as_str().into(),
            evidence: Vec::new(),
            exemption: None,
        }
    }

    fn scan(store: &mut Store, id: &str, minute: i64, assessments: &[Assessment]) {
        let snapshot = Snapshot {
            scan: record(id, minute),
            assets: Vec::new(),
            gaps: Vec::new(),
        };
        store.complete_scan(&snapshot, assessments).unwrap();
    }

    fn stored_rows(store: &Store) -> i64 {
        store
            .conn
            .query_row("SELECT COUNT(*) FROM assessments", [], |r| r.get(0))
            .unwrap()
    }

    /// (change, resource, old, new) of one scan's logged changes, sorted.
    fn changes_of(
        store: &Store,
        scan: &str,
    ) -> Vec<(ChangeKind, String, Option<String>, Option<String>)> {
        let mut got: Vec<_> = store
            .changes(&ChangeFilter::default(), None, 100)
            .unwrap()
            .into_iter()
            .filter(|c| c.scan_id == scan)
            .map(|c| {
                (
                    c.change,
                    c.resource,
                    c.old_status.map(|s| s.as_str().to_owned()),
                    c.new_status.map(|s| s.as_str().to_owned()),
                )
            })
            .collect();
        got.sort_by(|a, b| a.1.cmp(&b.1));
        got
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    use AssessmentStatus::{Healthy, NotApplicable, Unhealthy};
    const A1: &str = "111111111111";
    const A2: &str = "222222222222";

    #[test]
    fn a_scan_updates_the_current_state_in_place_and_logs_only_what_changed() {
        let mut store = test_store();
        scan(
            &mut store,
            "s1",
            0,
            &[
                assessment("arn:a", A1, Unhealthy),
                assessment("arn:b", A1, Healthy),
                assessment("arn:c", A2, Healthy),
                assessment("arn:e", A2, Healthy),
            ],
        );
        assert_eq!(changes_of(&store, "s1").len(), 4, "all new");
        assert!(
            changes_of(&store, "s1")
                .iter()
                .all(|c| c.0 == ChangeKind::New)
        );
        scan(
            &mut store,
            "s2",
            10,
            &[
                assessment("arn:a", A1, Healthy),
                assessment("arn:b", A1, Unhealthy),
                assessment("arn:d", A2, NotApplicable),
                assessment("arn:e", A2, Healthy),
            ],
        );
        assert_eq!(
            changes_of(&store, "s2"),
            vec![
                (
                    ChangeKind::Resolved,
                    "arn:a".into(),
                    s("unhealthy"),
                    s("healthy")
                ),
                (
                    ChangeKind::Changed,
                    "arn:b".into(),
                    s("healthy"),
                    s("unhealthy")
                ),
                (ChangeKind::Removed, "arn:c".into(), s("healthy"), None),
                (ChangeKind::New, "arn:d".into(), None, s("not_applicable")),
            ],
            "arn:e did not change and is not logged"
        );
        // One copy: the current state, not one per scan.
        assert_eq!(stored_rows(&store), 4);
        let current = store.assessments().unwrap();
        assert_eq!(
            current
                .iter()
                .map(|a| (a.resource.as_str(), a.status))
                .collect::<Vec<_>>(),
            vec![
                ("arn:a", Healthy),
                ("arn:b", Unhealthy),
                ("arn:d", NotApplicable),
                ("arn:e", Healthy)
            ]
        );
        assert!(
            !store.assessments_kept("s1").unwrap() && store.assessments_kept("s2").unwrap(),
            "older scans keep no copy"
        );

        // Filters: kind, scope, day, and pages newest first.
        let resolved = ChangeFilter {
            change: Some(ChangeKind::Resolved),
            ..ChangeFilter::default()
        };
        assert_eq!(store.changes(&resolved, None, 10).unwrap().len(), 1);
        let of_a2 = ChangeFilter {
            scope: Scope {
                accounts: Some(vec![A2.into()]),
                region: None,
            },
            ..ChangeFilter::default()
        };
        assert!(
            store
                .changes(&of_a2, None, 100)
                .unwrap()
                .iter()
                .all(|c| c.account == A2)
        );
        assert_eq!(store.changes(&of_a2, None, 100).unwrap().len(), 4);
        let tomorrow = day_of(OffsetDateTime::now_utc() + time::Duration::days(1));
        let later = ChangeFilter {
            since: Some(tomorrow),
            ..ChangeFilter::default()
        };
        assert!(store.changes(&later, None, 10).unwrap().is_empty());
        let first = store.changes(&ChangeFilter::default(), None, 3).unwrap();
        assert_eq!(first.len(), 3);
        let rest = store
            .changes(&ChangeFilter::default(), first.last().map(|c| c.seq), 100)
            .unwrap();
        assert_eq!(first.len() + rest.len(), 8);
        assert!(
            first
                .iter()
                .chain(&rest)
                .zip(first.iter().chain(&rest).skip(1))
                .all(|(a, b)| a.seq > b.seq)
        );
        let bad = ChangeFilter {
            since: Some("2026-13-01".into()),
            ..ChangeFilter::default()
        };
        assert!(matches!(
            store.changes(&bad, None, 1),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_re_evaluation_logs_its_changes_and_removes_what_it_no_longer_assesses() {
        let mut store = test_store();
        scan(
            &mut store,
            "s1",
            0,
            &[
                assessment("arn:a", A1, Unhealthy),
                assessment("arn:b", A1, Healthy),
            ],
        );
        let mut exempt = assessment("arn:a", A1, AssessmentStatus::Exempt);
        exempt.reason = "exempt".into();
        store.replace_assessments("s1", &[exempt]).unwrap();
        let got = changes_of(&store, "s1");
        assert!(
            got.contains(&(
                ChangeKind::Changed,
                "arn:a".into(),
                s("unhealthy"),
                s("exempt")
            )),
            "{got:?}"
        );
        assert!(
            got.contains(&(ChangeKind::Removed, "arn:b".into(), s("healthy"), None)),
            "{got:?}"
        );
        assert_eq!(stored_rows(&store), 1);
        // Only the current scan can be evaluated again.
        scan(&mut store, "s2", 10, &[assessment("arn:a", A1, Healthy)]);
        assert!(matches!(
            store.replace_assessments("s1", &[]),
            Err(StoreError::NotCurrent { .. })
        ));
    }

    #[test]
    fn a_scan_that_finished_before_the_current_one_does_not_replace_it() {
        let mut store = test_store();
        scan(&mut store, "late", 10, &[assessment("arn:a", A1, Healthy)]);
        // Finished at minute 1, stored after: kept as a scan, not as state.
        scan(
            &mut store,
            "early",
            0,
            &[assessment("arn:a", A1, Unhealthy)],
        );
        assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "late");
        assert_eq!(store.assessments().unwrap().len(), 1);
        assert_eq!(store.assessments().unwrap()[0].status, Healthy);
        assert!(changes_of(&store, "early").is_empty());
    }

    #[test]
    fn daily_aggregates_hold_the_days_last_state_per_scope() {
        let mut store = test_store();
        scan(
            &mut store,
            "s1",
            0,
            &[
                assessment("arn:a", A1, Unhealthy),
                assessment("arn:c", A2, Unhealthy),
            ],
        );
        scan(
            &mut store,
            "s2",
            10,
            &[
                assessment("arn:a", A1, Healthy),
                assessment("arn:c", A2, Unhealthy),
                assessment("arn:d", A2, Healthy),
            ],
        );
        let today = day_of(OffsetDateTime::now_utc());
        let all = store
            .daily_posture(&Scope::default(), None, None, None)
            .unwrap();
        assert_eq!(all.len(), 1, "one point a day: {all:?}");
        assert_eq!(
            (all[0].day.as_str(), all[0].healthy, all[0].unhealthy),
            (today.as_str(), 2, 1)
        );
        let a2 = Scope {
            accounts: Some(vec![A2.into()]),
            region: None,
        };
        let part = store
            .daily_posture(&a2, Some("rec"), Some(&today), Some(&today))
            .unwrap();
        assert_eq!((part[0].healthy, part[0].unhealthy), (1, 1));
        assert!(
            store
                .daily_posture(&a2, Some("other"), None, None)
                .unwrap()
                .is_empty()
        );
    }

    /// The daily score of any part of the estate is the secure score of
    /// that part's assessments: resources counted once per control across
    /// its recommendations, summed over accounts and regions exactly.
    #[test]
    fn the_daily_score_of_a_scope_is_the_secure_score_of_its_assessments() {
        let catalog = rampart_catalog::Catalog::builtin().unwrap();
        let controls = rampart_catalog::standards::security_controls().unwrap();
        let scored = rampart_catalog::score::scored_recommendations(&catalog, &controls);
        // Two recommendations of one control, one of another, both with
        // points (a control without points, such as "Implement security
        // best practices", moves no score).
        let (r1, shared) = scored
            .iter()
            .filter(|(_, _, points)| *points > 0)
            .find_map(|(r, c, _)| {
                let other = scored.iter().find(|(o, oc, _)| oc == c && o != r)?;
                Some(((r.clone(), other.0.clone()), c.clone()))
            })
            .unwrap();
        let r3 = scored
            .iter()
            .find(|(_, c, points)| *c != shared && *points > 0)
            .map(|(r, _, _)| r.clone())
            .unwrap();
        let at = |rec: &str, resource: &str, account: &str, region: &str, status| Assessment {
            recommendation: rec.into(),
            region: region.into(),
            ..assessment(resource, account, status)
        };
        let assessments = vec![
            // arn:a: healthy for one, unhealthy for the other: unhealthy once.
            at(&r1.0, "arn:a", A1, "us-east-1", Healthy),
            at(&r1.1, "arn:a", A1, "us-east-1", Unhealthy),
            at(&r1.0, "arn:b", A1, "eu-west-1", Healthy),
            at(&r1.1, "arn:b", A1, "eu-west-1", NotApplicable),
            at(&r1.0, "arn:c", A2, "us-east-1", Healthy),
            at(&r3, "arn:c", A2, "us-east-1", Unhealthy),
            at(&r3, "arn:d", A2, "us-east-1", AssessmentStatus::Exempt),
            at(&r3, "arn:e", A1, "us-east-1", Healthy),
        ];
        let mut store = test_store();
        scan(&mut store, "s1", 0, &assessments);
        let scopes = [
            Scope::default(),
            Scope {
                accounts: Some(vec![A1.into()]),
                region: None,
            },
            Scope {
                accounts: Some(vec![A2.into()]),
                region: None,
            },
            Scope {
                accounts: None,
                region: Some("us-east-1".into()),
            },
            Scope {
                accounts: Some(vec![A1.into()]),
                region: Some("eu-west-1".into()),
            },
        ];
        for scope in scopes {
            let part: Vec<Assessment> = assessments
                .iter()
                .filter(|a| scope.contains(&a.account, &a.region))
                .cloned()
                .collect();
            let expected = rampart_catalog::score::secure_score(&catalog, &controls, &part);
            let days = store.daily_posture(&scope, None, None, None).unwrap();
            assert_eq!(days.len(), 1, "{scope:?}");
            assert_eq!(days[0].score, Some(expected.percent), "{scope:?}");
        }
        // The whole estate's is neither 0 nor 100 here, and differs from
        // A2's: the test tells scopes apart.
        let whole = store
            .daily_posture(&Scope::default(), None, None, None)
            .unwrap()[0]
            .score
            .unwrap();
        assert!(whole > 0.0 && whole < 100.0, "{whole}");
        // A trend of one recommendation has counts but no score.
        let one = store
            .daily_posture(&Scope::default(), Some(&r3), None, None)
            .unwrap();
        assert_eq!(
            (one[0].healthy, one[0].unhealthy, one[0].score),
            (1, 1, None)
        );
    }

    /// Moves every aggregate recorded so far to `day`, as if written then.
    fn move_aggregates_to(store: &Store, day: &str) {
        crate::history::ensure_partitions(&store.conn, day).unwrap();
        for table in super::DAILY {
            store
                .conn
                .execute(&format!("UPDATE {table} SET day = ?1"), params![day])
                .unwrap();
        }
        store
            .conn
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'history_day'",
                params![day],
            )
            .unwrap();
    }

    /// The whole estate's trend reads finished days' scores from their cache
    /// and the latest day's from its cache until the next write; after
    /// every write it equals the same trend computed without a cache (the
    /// same accounts listed in a scope).
    #[test]
    fn the_estate_trend_is_cached_but_never_stale() {
        let r = crate::test_scored_recommendation();
        let at = |resource: &str, account: &str, status| Assessment {
            recommendation: r.clone(),
            ..assessment(resource, account, status)
        };
        let listed = Scope {
            accounts: Some(vec![A1.into(), A2.into()]),
            region: None,
        };
        let scores = |store: &Store, scope: &Scope| -> Vec<(String, Option<f64>)> {
            store
                .daily_posture(scope, None, None, None)
                .unwrap()
                .into_iter()
                .map(|d| (d.day, d.score))
                .collect()
        };
        let mut store = test_store();
        scan(
            &mut store,
            "s1",
            0,
            &[at("arn:a", A1, Unhealthy), at("arn:b", A2, Healthy)],
        );
        let same = |store: &Store| {
            assert_eq!(
                store
                    .daily_posture(&Scope::default(), None, None, None)
                    .unwrap(),
                store.daily_posture(&listed, None, None, None).unwrap()
            );
        };
        same(&store);
        let first = scores(&store, &Scope::default());
        assert_eq!(first[0].1, Some(50.0), "{first:?}");
        move_aggregates_to(&store, "2026-01-01");

        // A new day: A1 turns healthy, A2 is carried forward.
        scan(
            &mut store,
            "s2",
            1,
            &[at("arn:a", A1, Healthy), at("arn:b", A2, Healthy)],
        );
        same(&store);
        // Twice: the second read comes from what the first kept.
        same(&store);
        let second = scores(&store, &Scope::default());
        assert_eq!(second.len(), 2);
        assert_eq!(second[0], ("2026-01-01".to_owned(), Some(50.0)));
        assert_eq!(second[1].1, Some(100.0));

        // The finished day is read from its cache, not computed again.
        store
            .conn
            .execute(
                "UPDATE daily_estate SET score = 12.5, healthy = 99 WHERE day = '2026-01-01'",
                [],
            )
            .unwrap();
        assert_eq!(scores(&store, &Scope::default())[0].1, Some(12.5));
        let kept = &store
            .daily_posture(&Scope::default(), None, None, None)
            .unwrap()[0];
        assert_eq!(kept.healthy, 99);
        // The listed scope is computed: it still gives the true counts.
        let listed_days = store.daily_posture(&listed, None, None, None).unwrap();
        assert_eq!(listed_days[0].healthy, 1);

        // The latest day's cached score goes with the next write.
        scan(
            &mut store,
            "s3",
            2,
            &[at("arn:a", A1, Healthy), at("arn:b", A2, Unhealthy)],
        );
        let third = store
            .daily_posture(&Scope::default(), None, None, None)
            .unwrap();
        assert_eq!(third[1].score, Some(50.0), "{third:?}");
        assert_eq!(
            third[1],
            store.daily_posture(&listed, None, None, None).unwrap()[1]
        );
        // A range reads only its days.
        let today = third[1].day.clone();
        let one = store
            .daily_posture(&Scope::default(), None, Some(&today), None)
            .unwrap();
        assert_eq!(one, vec![third[1].clone()]);
        let before = store
            .daily_posture(&Scope::default(), None, None, Some("2026-01-01"))
            .unwrap();
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].day, "2026-01-01");
    }

    /// Every account's score on the latest day is kept until the next
    /// write, and equals the grouped read of the day's control counts.
    #[test]
    fn account_scores_are_cached_until_the_next_write() {
        let r = crate::test_scored_recommendation();
        let at = |resource: &str, account: &str, status| Assessment {
            recommendation: r.clone(),
            ..assessment(resource, account, status)
        };
        let fresh = |store: &Store| {
            let latest: String = store
                .conn
                .query_row("SELECT MAX(day) FROM daily_controls", [], |r| r.get(0))
                .unwrap();
            store
                .scores_by("account", &crate::pages::Where::new("day =", latest))
                .unwrap()
        };
        let mut store = test_store();
        scan(
            &mut store,
            "s1",
            0,
            &[at("arn:a", A1, Unhealthy), at("arn:b", A2, Healthy)],
        );
        let all = store.account_scores(&Scope::default()).unwrap().unwrap();
        assert_eq!(all, fresh(&store));
        assert_eq!((all[A1], all[A2]), (0.0, 100.0));
        // Read from the cache: a value planted under the current write's
        // tag is what comes back, for the estate and for one account.
        store
            .conn
            .execute(
                "UPDATE history_cache SET value = ?1 WHERE name = 'account_scores'",
                params![format!("{{\"{A1}\":1.0,\"{A2}\":2.0}}")],
            )
            .unwrap();
        let planted = store.account_scores(&Scope::default()).unwrap().unwrap();
        assert_eq!((planted[A1], planted[A2]), (1.0, 2.0));
        let one = Scope {
            accounts: Some(vec![A2.into()]),
            region: None,
        };
        let only = store.account_scores(&one).unwrap().unwrap();
        assert_eq!(
            only.into_iter().collect::<Vec<_>>(),
            vec![(A2.to_owned(), 2.0)]
        );

        // The next write makes it stale: the scores are read again.
        scan(
            &mut store,
            "s2",
            1,
            &[at("arn:a", A1, Healthy), at("arn:b", A2, Unhealthy)],
        );
        let all = store.account_scores(&Scope::default()).unwrap().unwrap();
        assert_eq!(all, fresh(&store));
        assert_eq!((all[A1], all[A2]), (100.0, 0.0));
        // A region's scores are never the cached whole-account ones.
        let region = Scope {
            accounts: None,
            region: Some("eu-west-1".into()),
        };
        assert!(store.account_scores(&region).unwrap().unwrap().is_empty());
    }

    #[test]
    fn pruning_removes_history_older_than_the_kept_days() {
        let mut store = test_store();
        scan(&mut store, "s1", 0, &[assessment("arn:a", A1, Unhealthy)]);
        // A change logged 100 days ago, as an older scan would have.
        let old = OffsetDateTime::now_utc() - time::Duration::days(100);
        let old_day = day_of(old);
        super::ensure_partitions(&store.conn, &old_day).unwrap();
        store
            .conn
            .execute(
                super::INSERT_CHANGE,
                params![
                    old_day,
                    crate::rfc3339(old),
                    "s0",
                    A1,
                    "us-east-1",
                    "rec",
                    "arn:old",
                    "new",
                    None::<String>,
                    "healthy"
                ],
            )
            .unwrap();
        let count = |store: &Store| {
            store
                .changes(&ChangeFilter::default(), None, 100)
                .unwrap()
                .len()
        };
        assert_eq!(count(&store), 2);
        let before = store.history_partitions().unwrap();
        let report = store.prune_history(30, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(count(&store), 1, "the old change is gone, today's stays");
        assert_eq!(
            store.assessments().unwrap().len(),
            1,
            "the current state stays"
        );
        match store.backend() {
            crate::db::Backend::Sqlite => assert_eq!(report.rows_deleted, 1),
            crate::db::Backend::Postgres => {
                // The old month's partition of each history table.
                let tables = super::PARTITIONED.len();
                assert_eq!(report.partitions_dropped.len(), tables, "{report:?}");
                let after = store.history_partitions().unwrap();
                assert_eq!(after.len(), before.len() - tables, "{before:?} → {after:?}");
                assert!(report.partitions_dropped.iter().all(|p| !after.contains(p)));
            }
        }
        // Nothing to drop the second time.
        let again = store.prune_history(30, OffsetDateTime::now_utc()).unwrap();
        assert_eq!((again.rows_deleted, again.partitions_dropped.len()), (0, 0));
    }

    #[test]
    fn a_version_8_file_keeps_its_latest_scans_assessments_as_the_current_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v8.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO meta VALUES ('schema_version', '8');
                 CREATE TABLE scans (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
                     status TEXT NOT NULL, accounts TEXT NOT NULL, regions TEXT NOT NULL,
                     api_calls INTEGER NOT NULL DEFAULT 0, asset_count INTEGER NOT NULL DEFAULT 0,
                     gap_count INTEGER NOT NULL DEFAULT 0, failure TEXT);
                 INSERT INTO scans (id, started_at, finished_at, status, accounts, regions) VALUES
                     ('old', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 'complete', '[]', '[]'),
                     ('new', '2026-01-02T00:00:00Z', '2026-01-02T00:01:00Z', 'complete', '[]', '[]');
                 CREATE TABLE assessments (scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
                     recommendation TEXT NOT NULL, resource TEXT NOT NULL, resource_type TEXT NOT NULL,
                     resource_name TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
                     status TEXT NOT NULL, reason TEXT NOT NULL, evidence TEXT NOT NULL, exemption TEXT,
                     PRIMARY KEY (scan_id, recommendation, resource));
                 INSERT INTO assessments VALUES
                     ('old', 'rec', 'arn:a', 'T', 'a', '111111111111', 'us-east-1', 'unhealthy', 'r', '[]', NULL),
                     ('new', 'rec', 'arn:a', 'T', 'a', '111111111111', 'us-east-1', 'healthy', 'r', '[]', NULL),
                     ('new', 'rec', 'arn:b', 'T', 'b', '111111111111', 'us-east-1', 'unhealthy', 'r', '[]', NULL);",
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let current = store.assessments().unwrap();
        assert_eq!(current.len(), 2);
        assert_eq!(stored_rows(&store), 2, "the older copy is gone");
        // The next scan diffs against it.
        scan(
            &mut store,
            "s3",
            60 * 24 * 366 * 60,
            &[assessment("arn:a", A1, Healthy)],
        );
        // arn:a stays healthy (only its reason differs): not a change.
        assert_eq!(
            changes_of(&store, "s3"),
            vec![(ChangeKind::Removed, "arn:b".into(), s("unhealthy"), None)]
        );
    }
}
