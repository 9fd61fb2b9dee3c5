//! Posture computed from a scan's assessments (secure score, compliance,
//! per-recommendation counts), kept per scan so history and repeated reads
//! are cheap. [`Store::replace_assessments`] drops a scan's entries.

use crate::db::{OptionalExtension, params, params_from_iter};
use time::OffsetDateTime;

use crate::{Result, Store, collect_rows, parse_json, parse_time};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scan_posture (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scan_id, kind)
);
";

/// One point of the secure score over time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScorePoint {
    /// The scan.
    pub scan_id: String,
    /// When the scan finished.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The score in percent.
    pub percent: f64,
}

impl Store {
    /// A cached posture value of a scan (`kind`: e.g. `score`).
    pub fn posture(&self, scan_id: &str, kind: &str) -> Result<Option<serde_json::Value>> {
        self.posture_text(scan_id, kind)?
            .map(|t| parse_json("value", &t))
            .transpose()
    }

    /// A cached posture value of a scan as stored: JSON text.
    pub fn posture_text(&self, scan_id: &str, kind: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM scan_posture WHERE scan_id = ?1 AND kind = ?2",
                params![scan_id, kind],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Caches a posture value of a scan.
    pub fn put_posture(&self, scan_id: &str, kind: &str, value: &serde_json::Value) -> Result<()> {
        self.put_postures(scan_id, &[(kind, value)])
    }

    /// Caches several posture values of a scan at once, as one statement:
    /// a reader sees all of them or none (a score of one state beside
    /// compliance of another never shows).
    pub fn put_postures(&self, scan_id: &str, values: &[(&str, &serde_json::Value)]) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let rows: Vec<String> = (0..values.len())
            .map(|i| format!("(?1, ?{}, ?{})", 2 * i + 2, 2 * i + 3))
            .collect();
        let mut args: Vec<crate::db::Value> = vec![scan_id.to_owned().into()];
        for (kind, value) in values {
            args.push((*kind).to_owned().into());
            args.push(value.to_string().into());
        }
        self.conn.execute(
            &format!(
                "INSERT INTO scan_posture (scan_id, kind, value) VALUES {} ON CONFLICT (scan_id, kind) DO UPDATE SET value = excluded.value",
                rows.join(", ")
            ),
            params_from_iter(args.iter()),
        )?;
        Ok(())
    }

    /// Complete scans without a cached `score` whose assessments are the
    /// current state (only the current scan's are kept: the engine caches
    /// each scan's score when it stores it), newest first (at most
    /// `limit`).
    pub fn scans_without_score(&self, limit: u64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT id FROM scans WHERE status = 'complete' AND NOT EXISTS
               (SELECT 1 FROM scan_posture p WHERE p.scan_id = scans.id AND p.kind = 'score')
               AND EXISTS (SELECT 1 FROM assessments a WHERE a.scan_id = scans.id)
             ORDER BY finished_at DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![crate::to_i64(limit)], |r| {
            r.get::<String>(0).map(Ok)
        })?;
        collect_rows(rows)
    }

    /// The cached secure score of complete scans finished in `[from, to)`,
    /// oldest first.
    pub fn score_history(
        &self,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<ScorePoint>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.finished_at, json_extract(p.value, '$.percent') FROM scans s
             JOIN scan_posture p ON p.scan_id = s.id AND p.kind = 'score'
             WHERE s.status = 'complete' AND (s.finished_at >= ?1 OR ?1 IS NULL) AND (s.finished_at < ?2 OR ?2 IS NULL)
             ORDER BY s.finished_at, s.id LIMIT ?3 OFFSET ?4",
        )?;
        let rows = stmt.query_map(
            params![
                from.map(crate::rfc3339),
                to.map(crate::rfc3339),
                crate::to_i64(limit),
                crate::to_i64(offset)
            ],
            |r| {
                let id: String = r.get(0)?;
                let finished: String = r.get(1)?;
                let percent: f64 = r.get(2)?;
                Ok(
                    parse_time("finished_at", &finished).map(|finished_at| ScorePoint {
                        scan_id: id,
                        finished_at,
                        percent,
                    }),
                )
            },
        )?;
        collect_rows(rows)
    }
}
