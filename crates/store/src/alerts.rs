//! Alerts from threat detection, their evidence and status history; the
//! event ids detection has processed (so a consumer that sees a message
//! twice raises nothing twice); detection's baseline state; and the outbox
//! the webhook notifier reads new alerts from.
//!
//! An alert is keyed by its stable id: storing a group again merges into
//! the stored row (first and last seen widen, new evidence is added, the
//! count grows by the events not seen before) and never duplicates it.
//! Evidence is unique per `(alert, event id)`. Changing a status keeps a
//! history row (who, when, from, to, comment); storing an alert again
//! never changes its status.

use std::collections::{BTreeMap, BTreeSet};

use crate::db::{OptionalExtension, Transaction, params, params_from_iter};
use rampart_model::{Alert, AlertEvidence, AlertPlan, AlertSource, AlertStatus, Severity};
use time::OffsetDateTime;

use crate::{Result, Store, StoreError, collect_rows, parse_json, parse_time, rfc3339, to_i64};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    alert_type TEXT NOT NULL,
    severity INTEGER NOT NULL,
    status TEXT NOT NULL,
    plan TEXT NOT NULL,
    source TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    resource TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_seen_key TEXT NOT NULL,
    count INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts (last_seen_key, id);
CREATE INDEX IF NOT EXISTS alerts_status_severity ON alerts (status, severity);
CREATE TABLE IF NOT EXISTS alert_evidence (
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    source TEXT NOT NULL,
    time TEXT NOT NULL,
    time_key TEXT NOT NULL,
    summary TEXT NOT NULL,
    PRIMARY KEY (alert_id, event_id)
);
CREATE TABLE IF NOT EXISTS alert_status_history (
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    comment TEXT
);
CREATE INDEX IF NOT EXISTS alert_status_history_alert ON alert_status_history (alert_id, at);
CREATE TABLE IF NOT EXISTS processed_events (
    source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE TABLE IF NOT EXISTS detection_state (
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    state BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, scope)
);
CREATE TABLE IF NOT EXISTS alert_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TEXT,
    error TEXT
);
";

/// At most this many evidence events are read back per alert; the rest
/// are counted in `evidence_truncated`.
pub const EVIDENCE_CAP: usize = 100;

/// The `meta` key of the webhook notifier's position in the outbox.
const NOTIFY_CURSOR: &str = "alert_webhook_cursor";

/// Which alerts to read. Every criterion given must match.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only alerts of this severity or higher.
    pub min_severity: Option<Severity>,
    /// Only this status.
    pub status: Option<AlertStatus>,
    /// Only this alert type (`K8S.PrivilegedContainer`).
    pub alert_type: Option<String>,
    /// Only this plan.
    pub plan: Option<AlertPlan>,
    /// Only this source.
    pub source: Option<AlertSource>,
    /// Only this account.
    pub account: Option<String>,
    /// Only alerts about this resource (ARN).
    pub resource: Option<String>,
}

/// What storing one alert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertUpsert {
    /// The alert was new (and is queued for notification).
    New,
    /// It was stored before and this added events or changed its content.
    Updated,
    /// It was stored before, exactly so: nothing changed.
    Unchanged,
}

/// One status change of an alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertStatusChange {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who (a token's name, `cli:<user>`, …).
    pub actor: String,
    /// The status before.
    pub from: AlertStatus,
    /// The status after.
    pub to: AlertStatus,
    /// Why, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An event detection has processed: its source and its own id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessedEvent<'a> {
    /// Where it came from.
    pub source: AlertSource,
    /// The id it carries at its source (`auditID`, `eventID`, …).
    pub event_id: &'a str,
}

/// A new alert waiting in the notification outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Its position in the outbox.
    pub seq: i64,
    /// The alert as stored now.
    pub alert: Alert,
}

/// How the notification of a new alert went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDelivery {
    /// Attempts made.
    pub attempts: u32,
    /// When it was delivered (RFC 3339), if it was.
    pub delivered_at: Option<String>,
    /// The last attempt's error, if it failed.
    pub error: Option<String>,
}

/// A sortable UTC timestamp (fixed width, nanoseconds), so text order is
/// time order.
fn time_key(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
    ))
    .unwrap_or_default()
}

fn severity_rank(s: Severity) -> i64 {
    Severity::ALL
        .iter()
        .position(|x| *x == s)
        .map_or(0, |p| p as i64)
}

/// The stored body: the alert without its evidence (kept in its own table).
fn body_text(alert: &Alert) -> String {
    // Status and count live in their columns; evidence in its table.
    let mut bare = alert.clone();
    bare.evidence = Vec::new();
    bare.evidence_truncated = 0;
    bare.count = 0;
    bare.status = AlertStatus::Active;
    crate::json_text(&bare)
}

fn insert_evidence(
    tx: &Transaction<'_>,
    alert_id: &str,
    evidence: &[AlertEvidence],
) -> Result<u64> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO alert_evidence (alert_id, event_id, source, time, time_key, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
    )?;
    let mut added = 0;
    for e in evidence {
        added += insert.execute(params![
            alert_id,
            e.event_id,
            e.source.as_str(),
            rfc3339(e.time),
            time_key(e.time),
            e.summary,
        ])? as u64;
    }
    Ok(added)
}

/// Stores one alert inside `tx` (see [`Store::upsert_alerts`]).
fn upsert(tx: &Transaction<'_>, alert: &Alert, now: OffsetDateTime) -> Result<AlertUpsert> {
    let stored: Option<(String, i64)> = tx
        .query_row(
            "SELECT body, count FROM alerts WHERE id = ?1",
            params![alert.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((body, stored_count)) = stored else {
        tx.execute(
            "INSERT INTO alerts (id, alert_type, severity, status, plan, source, account, region, resource,
                 first_seen, last_seen, last_seen_key, count, body, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
            params![
                alert.id,
                alert.alert_type,
                severity_rank(alert.severity),
                alert.status.as_str(),
                alert.plan.as_str(),
                alert.source.as_str(),
                alert.account,
                alert.region,
                alert.resource.arn,
                rfc3339(alert.first_seen),
                rfc3339(alert.last_seen),
                time_key(alert.last_seen),
                to_i64(alert.count.max(alert.evidence.len() as u64)),
                body_text(alert),
                rfc3339(now),
            ],
        )?;
        insert_evidence(tx, &alert.id, &alert.evidence)?;
        tx.execute(
            "INSERT INTO alert_outbox (alert_id, created_at) VALUES (?1, ?2)",
            params![alert.id, rfc3339(now)],
        )?;
        return Ok(AlertUpsert::New);
    };
    let old: Alert = parse_json("body", &body)?;
    let added = insert_evidence(tx, &alert.id, &alert.evidence)?;
    let stored_count = u64::try_from(stored_count).unwrap_or(0);
    // Events not seen before add to the count; an alert that counts more
    // than that (a detector that keeps its own tally) raises it to its own.
    let count = (stored_count + added).max(alert.count);
    let mut merged = alert.clone();
    merged.status = old.status;
    merged.first_seen = old.first_seen.min(alert.first_seen);
    merged.last_seen = old.last_seen.max(alert.last_seen);
    merged.count = count;
    // The stored entities in their order, then the new ones.
    let mut ordered = old.entities.clone();
    ordered.extend(
        alert
            .entities
            .iter()
            .filter(|e| !old.entities.contains(e))
            .cloned(),
    );
    merged.entities = ordered;
    let new_body = body_text(&merged);
    if added == 0 && count == stored_count && new_body == body {
        return Ok(AlertUpsert::Unchanged);
    }
    tx.execute(
        "UPDATE alerts SET alert_type = ?2, severity = ?3, plan = ?4, source = ?5, account = ?6, region = ?7,
             resource = ?8, first_seen = ?9, last_seen = ?10, last_seen_key = ?11, count = ?12, body = ?13,
             updated_at = ?14
         WHERE id = ?1",
        params![
            merged.id,
            merged.alert_type,
            severity_rank(merged.severity),
            merged.plan.as_str(),
            merged.source.as_str(),
            merged.account,
            merged.region,
            merged.resource.arn,
            rfc3339(merged.first_seen),
            rfc3339(merged.last_seen),
            time_key(merged.last_seen),
            to_i64(count),
            new_body,
            rfc3339(now),
        ],
    )?;
    Ok(AlertUpsert::Updated)
}

fn evidence_of(store: &Store, alert: &mut Alert, cap: usize) -> Result<()> {
    let mut stmt = store.conn.prepare_cached(
        "SELECT event_id, source, time, summary FROM alert_evidence WHERE alert_id = ?1
         ORDER BY time_key, event_id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![alert.id, to_i64(cap as u64)], |row| {
        let event_id: String = row.get(0)?;
        let source: String = row.get(1)?;
        let time: String = row.get(2)?;
        let summary: String = row.get(3)?;
        Ok((|| {
            Ok(AlertEvidence {
                source: AlertSource::parse(&source).ok_or_else(|| StoreError::Corrupt {
                    column: "source",
                    reason: format!("unknown source `{source}`"),
                })?,
                event_id,
                time: parse_time("time", &time)?,
                summary,
            })
        })())
    })?;
    alert.evidence = collect_rows(rows)?;
    alert.evidence_truncated = alert.count.saturating_sub(alert.evidence.len() as u64);
    Ok(())
}

fn alert_from_row(row: &crate::db::Row<'_>) -> crate::RowResult<Alert> {
    let body: String = row.get(0)?;
    let status: String = row.get(1)?;
    let count: i64 = row.get(2)?;
    Ok((|| {
        let mut alert: Alert = parse_json("body", &body)?;
        alert.status = AlertStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
            column: "status",
            reason: format!("unknown status `{status}`"),
        })?;
        alert.count = u64::try_from(count).unwrap_or(0);
        Ok(alert)
    })())
}

const ALERT_COLUMNS: &str = "SELECT body, status, count, last_seen_key, seq FROM alerts";

impl Store {
    /// Stores alerts in one transaction; see [`AlertUpsert`] for what each did.
    pub fn upsert_alerts(&mut self, alerts: &[Alert]) -> Result<Vec<AlertUpsert>> {
        self.commit_detections(&[], alerts)
    }

    /// Stores alerts and marks the events they were raised from processed,
    /// in one transaction: a consumer deletes its message only after this
    /// returns, and skips the events [`processed_events`](Self::processed_events)
    /// names when the message comes again.
    pub fn commit_detections(
        &mut self,
        processed: &[ProcessedEvent<'_>],
        alerts: &[Alert],
    ) -> Result<Vec<AlertUpsert>> {
        self.commit_detections_with_state(processed, alerts, None)
    }

    /// [`commit_detections`](Self::commit_detections), also replacing
    /// detection's baseline state (`(source, scope, state)`) in the same
    /// transaction: alerts, processed events and the state the engine
    /// reached after them are stored together or not at all.
    pub fn commit_detections_with_state(
        &mut self,
        processed: &[ProcessedEvent<'_>],
        alerts: &[Alert],
        state: Option<(&str, &str, &[u8])>,
    ) -> Result<Vec<AlertUpsert>> {
        let now = OffsetDateTime::now_utc();
        let tx = self.conn.begin_write()?;
        {
            let mut mark = tx.prepare_cached(
                "INSERT INTO processed_events (source, event_id, processed_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?;
            for e in processed {
                mark.execute(params![e.source.as_str(), e.event_id, rfc3339(now)])?;
            }
        }
        let outcomes = alerts
            .iter()
            .map(|a| upsert(&tx, a, now))
            .collect::<Result<Vec<_>>>()?;
        if let Some((source, scope, state)) = state {
            tx.execute(
                "INSERT INTO detection_state (source, scope, state, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (source, scope) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                params![source, scope, state, rfc3339(now)],
            )?;
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// Which of `event_ids` (from `source`) were processed before.
    pub fn processed_events(
        &self,
        source: AlertSource,
        event_ids: &[&str],
    ) -> Result<BTreeSet<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM processed_events WHERE source = ?1 AND event_id = ?2")?;
        let mut seen = BTreeSet::new();
        for id in event_ids {
            if stmt.exists(params![source.as_str(), id])? {
                seen.insert((*id).to_owned());
            }
        }
        Ok(seen)
    }

    /// Forgets processed event ids recorded before `before` (their messages
    /// are long gone from the queue).
    pub fn prune_processed_events(&self, before: OffsetDateTime) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM processed_events WHERE processed_at < ?1",
            params![rfc3339(before)],
        )?)
    }

    /// One alert, with its evidence (up to [`EVIDENCE_CAP`] events).
    pub fn alert(&self, id: &str) -> Result<Option<Alert>> {
        let found = self
            .conn
            .query_row(
                &format!("{ALERT_COLUMNS} WHERE id = ?1"),
                params![id],
                alert_from_row,
            )
            .optional()?
            .transpose()?;
        match found {
            Some(mut alert) => {
                evidence_of(self, &mut alert, EVIDENCE_CAP)?;
                Ok(Some(alert))
            }
            None => Ok(None),
        }
    }

    /// A page of alerts matching `filter`, most recently seen first, after
    /// the `(last_seen_key, id)` key `after` (see [`alert_key`](Self::alert_key)).
    /// Each carries up to `evidence` evidence events.
    pub fn alerts_page(
        &self,
        filter: &AlertFilter,
        after: Option<&(String, String)>,
        limit: u64,
        evidence: usize,
    ) -> Result<Vec<Alert>> {
        let mut sql = String::from(ALERT_COLUMNS);
        sql.push_str(" WHERE TRUE");
        let mut args: Vec<crate::db::Value> = Vec::new();
        let mut and = |clause: &str, value: crate::db::Value, sql: &mut String| {
            args.push(value);
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(s) = filter.min_severity {
            and("severity >=", severity_rank(s).into(), &mut sql);
        }
        if let Some(s) = filter.status {
            and("status =", s.as_str().to_owned().into(), &mut sql);
        }
        if let Some(t) = &filter.alert_type {
            and("alert_type =", t.clone().into(), &mut sql);
        }
        if let Some(p) = filter.plan {
            and("plan =", p.as_str().to_owned().into(), &mut sql);
        }
        if let Some(s) = filter.source {
            and("source =", s.as_str().to_owned().into(), &mut sql);
        }
        if let Some(a) = &filter.account {
            and("account =", a.clone().into(), &mut sql);
        }
        if let Some(r) = &filter.resource {
            and("resource =", r.clone().into(), &mut sql);
        }
        if let Some((key, id)) = after {
            args.push(key.clone().into());
            args.push(id.clone().into());
            let n = args.len();
            sql.push_str(&format!(" AND (last_seen_key, id) < (?{}, ?{n})", n - 1));
        }
        args.push(to_i64(limit).into());
        sql.push_str(&format!(
            " ORDER BY last_seen_key DESC, id DESC LIMIT ?{}",
            args.len()
        ));
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), alert_from_row)?;
        let mut alerts = collect_rows(rows)?;
        for alert in &mut alerts {
            evidence_of(self, alert, evidence)?;
        }
        Ok(alerts)
    }

    /// Every alert matching `filter` (up to `EVIDENCE_CAP` evidence each),
    /// most recently seen first.
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        self.alerts_page(filter, None, u64::MAX / 2, EVIDENCE_CAP)
    }

    /// The keyset pagination key of an alert: `(last_seen_key, id)`.
    pub fn alert_key(alert: &Alert) -> (String, String) {
        (time_key(alert.last_seen), alert.id.clone())
    }

    /// Alert counts by severity, of alerts in `status` (every status: `None`).
    pub fn alert_counts(&self, status: Option<AlertStatus>) -> Result<BTreeMap<Severity, u64>> {
        let mut stmt = self.conn.prepare(
            "SELECT severity, COUNT(*) FROM alerts WHERE (status = ?1 OR ?1 IS NULL) GROUP BY severity",
        )?;
        let rows = stmt.query_map(params![status.map(AlertStatus::as_str)], |r| {
            Ok((r.get::<i64>(0)?, r.get::<i64>(1)?))
        })?;
        let mut counts = BTreeMap::new();
        for row in rows {
            let (rank, n) = row?;
            let severity = usize::try_from(rank)
                .ok()
                .and_then(|i| Severity::ALL.get(i).copied())
                .ok_or_else(|| StoreError::Corrupt {
                    column: "severity",
                    reason: format!("unknown severity rank `{rank}`"),
                })?;
            counts.insert(severity, u64::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    }

    /// The alert types stored, sorted.
    pub fn alert_types(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT alert_type FROM alerts ORDER BY alert_type")?;
        let rows = stmt.query_map([], |r| r.get::<String>(0))?;
        Ok(rows.collect::<crate::db::DbResult<_>>()?)
    }

    /// Changes an alert's status and records who did it, when and why.
    /// Setting the status it already has records nothing. Returns the
    /// change; [`StoreError::NoSuchAlert`] when there is no such alert.
    pub fn set_alert_status(
        &mut self,
        id: &str,
        to: AlertStatus,
        actor: &str,
        comment: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<AlertStatusChange> {
        let tx = self.conn.begin_write()?;
        let from: Option<String> = tx
            .query_row(
                "SELECT status FROM alerts WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        let from = from.ok_or_else(|| StoreError::NoSuchAlert(id.to_owned()))?;
        let from = AlertStatus::parse(&from).ok_or_else(|| StoreError::Corrupt {
            column: "status",
            reason: format!("unknown status `{from}`"),
        })?;
        let change = AlertStatusChange {
            at,
            actor: actor.to_owned(),
            from,
            to,
            comment: comment.map(str::to_owned).filter(|c| !c.trim().is_empty()),
        };
        if from != to {
            tx.execute(
                "UPDATE alerts SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, to.as_str(), rfc3339(at)],
            )?;
            tx.execute(
                "INSERT INTO alert_status_history (alert_id, at, actor, from_status, to_status, comment)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    rfc3339(at),
                    actor,
                    from.as_str(),
                    to.as_str(),
                    change.comment
                ],
            )?;
        }
        tx.commit()?;
        Ok(change)
    }

    /// An alert's status changes, oldest first.
    pub fn alert_history(&self, id: &str) -> Result<Vec<AlertStatusChange>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, actor, from_status, to_status, comment FROM alert_status_history
             WHERE alert_id = ?1 ORDER BY at, rowid",
        )?;
        let rows = stmt.query_map(params![id], |row| {
            let at: String = row.get(0)?;
            let actor: String = row.get(1)?;
            let from: String = row.get(2)?;
            let to: String = row.get(3)?;
            let comment: Option<String> = row.get(4)?;
            Ok((|| {
                let status = |s: &str| {
                    AlertStatus::parse(s).ok_or_else(|| StoreError::Corrupt {
                        column: "status",
                        reason: format!("unknown status `{s}`"),
                    })
                };
                Ok(AlertStatusChange {
                    at: parse_time("at", &at)?,
                    actor,
                    from: status(&from)?,
                    to: status(&to)?,
                    comment,
                })
            })())
        })?;
        collect_rows(rows)
    }

    /// Detection's baseline state for `source` and `scope` (what it has
    /// seen before: first-seen principals, addresses, …), as it stored it.
    pub fn detection_state(&self, source: &str, scope: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM detection_state WHERE source = ?1 AND scope = ?2",
                params![source, scope],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Replaces detection's baseline state for `source` and `scope`.
    pub fn put_detection_state(&self, source: &str, scope: &str, state: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO detection_state (source, scope, state, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (source, scope) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            params![source, scope, state, rfc3339(OffsetDateTime::now_utc())],
        )?;
        Ok(())
    }

    /// The webhook notifier's position in the outbox: alerts stored after
    /// it are new to it. The first call starts at the end of the outbox, so
    /// a notifier configured later does not send every past alert.
    pub fn notification_cursor(&self) -> Result<i64> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![NOTIFY_CURSOR],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(n) = stored.and_then(|v| v.parse().ok()) {
            return Ok(n);
        }
        let head: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM alert_outbox", [], |r| {
                    r.get(0)
                })?;
        self.set_notification_cursor(head)?;
        Ok(head)
    }

    /// Moves the notifier's position.
    pub fn set_notification_cursor(&self, seq: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![NOTIFY_CURSOR, seq.to_string()],
        )?;
        Ok(())
    }

    /// New alerts queued after `after`, oldest first, as stored now (with
    /// up to [`EVIDENCE_CAP`] evidence events).
    pub fn alert_outbox(&self, after: i64, limit: u64) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.body, a.status, a.count, a.last_seen_key, o.seq FROM alert_outbox o
             JOIN alerts a ON a.id = o.alert_id WHERE o.seq > ?1 ORDER BY o.seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, to_i64(limit)], |row| {
            let seq: i64 = row.get(4)?;
            Ok(alert_from_row(row)?.map(|alert| OutboxEntry { seq, alert }))
        })?;
        let mut entries = collect_rows(rows)?;
        for entry in &mut entries {
            evidence_of(self, &mut entry.alert, EVIDENCE_CAP)?;
        }
        Ok(entries)
    }

    /// Records a delivery attempt's outcome for outbox entry `seq`.
    pub fn record_alert_delivery(
        &self,
        seq: i64,
        attempts: u32,
        delivered_at: Option<OffsetDateTime>,
        error: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE alert_outbox SET attempts = ?2, delivered_at = ?3, error = ?4 WHERE seq = ?1",
            params![seq, attempts, delivered_at.map(rfc3339), error],
        )?;
        Ok(())
    }

    /// An outbox entry's delivery record.
    pub fn alert_delivery(&self, seq: i64) -> Result<Option<AlertDelivery>> {
        Ok(self
            .conn
            .query_row(
                "SELECT attempts, delivered_at, error FROM alert_outbox WHERE seq = ?1",
                params![seq],
                |r| {
                    Ok(AlertDelivery {
                        attempts: r.get(0)?,
                        delivered_at: r.get(1)?,
                        error: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use rampart_model::{AlertEntity, AlertResource, AlertRule, Mitre};

    use super::*;

    fn at(minute: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000) + time::Duration::minutes(minute)
    }

    fn evidence(id: &str, minute: i64) -> AlertEvidence {
        AlertEvidence {
            source: AlertSource::EksAudit,
            event_id: id.into(),
            time: at(minute),
            summary: format!("create pods default/miner by ci ({id})"),
        }
    }

    fn alert(id: &str, severity: Severity, events: &[(&str, i64)]) -> Alert {
        let first = events.iter().map(|e| e.1).min().unwrap_or(0);
        let last = events.iter().map(|e| e.1).max().unwrap_or(0);
        Alert {
            id: id.into(),
            alert_type: "K8S.PrivilegedContainer".into(),
            title: "Privileged container created".into(),
            severity,
            status: AlertStatus::Active,
            plan: AlertPlan::Containers,
            source: AlertSource::EksAudit,
            first_seen: at(first),
            last_seen: at(last),
            count: events.len() as u64,
            account: "123456789012".into(),
            region: "us-east-1".into(),
            resource: AlertResource {
                arn: "arn:aws:eks:us-east-1:123456789012:cluster/prod".into(),
                resource_type: "AWS::EKS::Cluster".into(),
                name: "prod".into(),
            },
            entities: vec![AlertEntity::new("k8s-namespace", "default")],
            mitre: Mitre {
                tactics: vec!["PrivilegeEscalation".into()],
                techniques: vec!["T1611".into()],
            },
            description: "d".into(),
            remediation: "r".into(),
            rule: AlertRule {
                id: "rampart-k8s-privileged-container".into(),
                source: "rampart".into(),
                author: None,
                url: None,
                license: None,
            },
            evidence: events.iter().map(|(e, m)| evidence(e, *m)).collect(),
            evidence_truncated: 0,
        }
    }

    #[test]
    fn storing_a_group_again_merges_and_never_duplicates() {
        let mut store = crate::test_store();
        let first = alert("a1", Severity::High, &[("e1", 0), ("e2", 1)]);
        assert_eq!(
            store.upsert_alerts(std::slice::from_ref(&first)).unwrap(),
            vec![AlertUpsert::New]
        );
        assert_eq!(store.alert("a1").unwrap().unwrap(), first);
        // The same group again: nothing changes.
        assert_eq!(
            store.upsert_alerts(std::slice::from_ref(&first)).unwrap(),
            vec![AlertUpsert::Unchanged]
        );
        // A later batch with one event already stored and one new one.
        let mut later = alert("a1", Severity::High, &[("e2", 1), ("e3", 7)]);
        later.entities.push(AlertEntity::new("k8s-pod", "miner"));
        assert_eq!(
            store.upsert_alerts(&[later]).unwrap(),
            vec![AlertUpsert::Updated]
        );
        let stored = store.alert("a1").unwrap().unwrap();
        assert_eq!(stored.count, 3);
        assert_eq!((stored.first_seen, stored.last_seen), (at(0), at(7)));
        let ids: Vec<&str> = stored
            .evidence
            .iter()
            .map(|e| e.event_id.as_str())
            .collect();
        assert_eq!(ids, ["e1", "e2", "e3"]);
        assert_eq!(stored.entities.len(), 2);
        assert_eq!(store.alerts(&AlertFilter::default()).unwrap().len(), 1);
        // Only the first storing queued a notification.
        let cursor = 0;
        assert_eq!(store.alert_outbox(cursor, 10).unwrap().len(), 1);
    }

    #[test]
    fn evidence_beyond_the_cap_is_counted_as_truncated() {
        let mut store = crate::test_store();
        let names: Vec<String> = (0..EVIDENCE_CAP + 5).map(|i| format!("e{i:04}")).collect();
        let events: Vec<(&str, i64)> = names.iter().map(|n| (n.as_str(), 1)).collect();
        let mut a = alert("big", Severity::Low, &events);
        a.count += 10; // the detector counted events it did not list
        store.upsert_alerts(&[a]).unwrap();
        let stored = store.alert("big").unwrap().unwrap();
        assert_eq!(stored.evidence.len(), EVIDENCE_CAP);
        assert_eq!(stored.count, (EVIDENCE_CAP + 15) as u64);
        assert_eq!(stored.evidence_truncated, 15);
    }

    #[test]
    fn filters_and_keyset_pages() {
        let mut store = crate::test_store();
        let mut all = Vec::new();
        for (i, severity) in [Severity::Low, Severity::Medium, Severity::High]
            .into_iter()
            .cycle()
            .take(9)
            .enumerate()
        {
            let mut a = alert(&format!("a{i}"), severity, &[("e", i as i64)]);
            if i % 2 == 0 {
                a.alert_type = "AWS.RootConsoleLogin".into();
                a.plan = AlertPlan::Cspm;
                a.source = AlertSource::CloudTrail;
                a.account = "210987654321".into();
                a.resource.arn = "arn:aws:iam::210987654321:root".into();
            }
            all.push(a);
        }
        store.upsert_alerts(&all).unwrap();
        let ids = |store: &Store, f: &AlertFilter| -> Vec<String> {
            store.alerts(f).unwrap().into_iter().map(|a| a.id).collect()
        };
        assert_eq!(
            ids(&store, &AlertFilter::default()),
            ["a8", "a7", "a6", "a5", "a4", "a3", "a2", "a1", "a0"]
        );
        let high_or_more = AlertFilter {
            min_severity: Some(Severity::Medium),
            ..AlertFilter::default()
        };
        assert_eq!(
            ids(&store, &high_or_more),
            ["a8", "a7", "a5", "a4", "a2", "a1"]
        );
        let cloudtrail = AlertFilter {
            source: Some(AlertSource::CloudTrail),
            plan: Some(AlertPlan::Cspm),
            alert_type: Some("AWS.RootConsoleLogin".into()),
            account: Some("210987654321".into()),
            resource: Some("arn:aws:iam::210987654321:root".into()),
            ..AlertFilter::default()
        };
        assert_eq!(ids(&store, &cloudtrail), ["a8", "a6", "a4", "a2", "a0"]);
        store
            .set_alert_status("a4", AlertStatus::Dismissed, "t", None, at(50))
            .unwrap();
        let dismissed = AlertFilter {
            status: Some(AlertStatus::Dismissed),
            ..AlertFilter::default()
        };
        assert_eq!(ids(&store, &dismissed), ["a4"]);
        // Pages of two, keyset, until the end.
        let mut seen = Vec::new();
        let mut key = None;
        loop {
            let page = store
                .alerts_page(&AlertFilter::default(), key.as_ref(), 2, 0)
                .unwrap();
            let Some(last) = page.last() else { break };
            key = Some(Store::alert_key(last));
            assert!(page.iter().all(|a| a.evidence.is_empty()));
            seen.extend(page.into_iter().map(|a| a.id));
        }
        assert_eq!(seen, ids(&store, &AlertFilter::default()));
        let counts = store.alert_counts(Some(AlertStatus::Active)).unwrap();
        assert_eq!(counts.get(&Severity::High), Some(&3));
        assert_eq!(counts.get(&Severity::Medium), Some(&2), "a4 is dismissed");
        assert_eq!(
            store.alert_types().unwrap(),
            ["AWS.RootConsoleLogin", "K8S.PrivilegedContainer"]
        );
    }

    #[test]
    fn status_changes_keep_history_and_survive_a_new_batch() {
        let mut store = crate::test_store();
        store
            .upsert_alerts(&[alert("a1", Severity::High, &[("e1", 0)])])
            .unwrap();
        let change = store
            .set_alert_status("a1", AlertStatus::Dismissed, "admin", Some("ci job"), at(5))
            .unwrap();
        assert_eq!(
            (change.from, change.to),
            (AlertStatus::Active, AlertStatus::Dismissed)
        );
        // Setting the same status records nothing.
        store
            .set_alert_status("a1", AlertStatus::Dismissed, "admin", None, at(6))
            .unwrap();
        store
            .set_alert_status("a1", AlertStatus::Active, "other", Some("  "), at(7))
            .unwrap();
        let history = store.alert_history("a1").unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].comment.as_deref(), Some("ci job"));
        assert_eq!(history[1].actor, "other");
        assert_eq!(history[1].comment, None);
        store
            .set_alert_status("a1", AlertStatus::Resolved, "admin", None, at(8))
            .unwrap();
        // A new batch adds events but keeps the status people set.
        store
            .upsert_alerts(&[alert("a1", Severity::High, &[("e2", 9)])])
            .unwrap();
        assert_eq!(
            store.alert("a1").unwrap().unwrap().status,
            AlertStatus::Resolved
        );
        assert!(matches!(
            store.set_alert_status("nope", AlertStatus::Active, "x", None, at(0)),
            Err(StoreError::NoSuchAlert(_))
        ));
    }

    #[test]
    fn processed_events_and_baselines_are_kept() {
        let mut store = crate::test_store();
        let a = alert("a1", Severity::High, &[("e1", 0)]);
        let done = [
            ProcessedEvent {
                source: AlertSource::EksAudit,
                event_id: "e1",
            },
            ProcessedEvent {
                source: AlertSource::EksAudit,
                event_id: "e0",
            },
        ];
        store
            .commit_detections(&done, std::slice::from_ref(&a))
            .unwrap();
        // The message comes again: the consumer skips both events.
        let seen = store
            .processed_events(AlertSource::EksAudit, &["e0", "e1", "e9"])
            .unwrap();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["e0", "e1"]);
        assert!(
            store
                .processed_events(AlertSource::CloudTrail, &["e1"])
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.commit_detections(&done, &[a]).unwrap(),
            [AlertUpsert::Unchanged]
        );
        assert_eq!(
            store
                .prune_processed_events(OffsetDateTime::now_utc() + time::Duration::seconds(1))
                .unwrap(),
            2
        );

        assert_eq!(
            store.detection_state("cloudtrail", "123456789012").unwrap(),
            None
        );
        store
            .put_detection_state("cloudtrail", "123456789012", b"{\"seen\":[]}")
            .unwrap();
        store
            .put_detection_state("cloudtrail", "123456789012", b"v2")
            .unwrap();
        assert_eq!(
            store.detection_state("cloudtrail", "123456789012").unwrap(),
            Some(b"v2".to_vec())
        );
    }

    #[test]
    fn the_notifier_starts_at_the_end_and_sees_only_new_alerts() {
        let mut store = crate::test_store();
        store
            .upsert_alerts(&[alert("old", Severity::High, &[("e1", 0)])])
            .unwrap();
        let cursor = store.notification_cursor().unwrap();
        assert!(store.alert_outbox(cursor, 10).unwrap().is_empty());
        store
            .upsert_alerts(&[
                alert("old", Severity::High, &[("e2", 1)]),
                alert("new", Severity::Medium, &[("e3", 2)]),
            ])
            .unwrap();
        let queued = store.alert_outbox(cursor, 10).unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].alert.id, "new");
        store
            .record_alert_delivery(queued[0].seq, 2, Some(at(3)), None)
            .unwrap();
        store.set_notification_cursor(queued[0].seq).unwrap();
        assert_eq!(store.notification_cursor().unwrap(), queued[0].seq);
        assert_eq!(
            store
                .alert_delivery(queued[0].seq)
                .unwrap()
                .unwrap()
                .attempts,
            2
        );
    }
}
