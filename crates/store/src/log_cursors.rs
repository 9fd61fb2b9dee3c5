//! Where a log source read by listing stands: the last object key read per
//! source and scope (a bucket and key prefix), and the objects that could
//! not be read, with their attempts, until they are read or given up on
//! (dead-lettered) after [`MAX_OBJECT_ATTEMPTS`].

use crate::db::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::{Result, Store, rfc3339};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_cursors (
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    position TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, scope)
);
CREATE TABLE IF NOT EXISTS log_object_failures (
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL,
    PRIMARY KEY (source, scope, key)
);
";

/// Attempts after which an unreadable object is given up on (as SQS moves
/// a message to the dead-letter queue after as many receives).
pub const MAX_OBJECT_ATTEMPTS: u32 = 5;

/// An object that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFailure {
    /// Its key.
    pub key: String,
    /// Failed reads so far.
    pub attempts: u32,
    /// The last error.
    pub error: String,
}

impl ObjectFailure {
    /// Whether it was given up on.
    pub fn dead(&self) -> bool {
        self.attempts >= MAX_OBJECT_ATTEMPTS
    }
}

impl Store {
    /// The last key read for `source` and `scope`, if any.
    pub fn log_cursor(&self, source: &str, scope: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT position FROM log_cursors WHERE source = ?1 AND scope = ?2",
                params![source, scope],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Moves the cursor of `source` and `scope` to `position`.
    pub fn set_log_cursor(&self, source: &str, scope: &str, position: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO log_cursors (source, scope, position, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (source, scope) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
            params![source, scope, position, rfc3339(OffsetDateTime::now_utc())],
        )?;
        Ok(())
    }

    /// Records a failed read of `key`; the failure with its attempts now.
    pub fn record_log_object_failure(
        &self,
        source: &str,
        scope: &str,
        key: &str,
        error: &str,
    ) -> Result<ObjectFailure> {
        let now = rfc3339(OffsetDateTime::now_utc());
        self.conn.execute(
            "INSERT INTO log_object_failures (source, scope, key, attempts, error, first_failed_at, last_failed_at)
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)
             ON CONFLICT (source, scope, key) DO UPDATE SET
                attempts = log_object_failures.attempts + 1, error = excluded.error, last_failed_at = excluded.last_failed_at",
            params![source, scope, key, error, now],
        )?;
        let attempts: i64 = self.conn.query_row(
            "SELECT attempts FROM log_object_failures WHERE source = ?1 AND scope = ?2 AND key = ?3",
            params![source, scope, key],
            |r| r.get(0),
        )?;
        Ok(ObjectFailure {
            key: key.to_owned(),
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            error: error.to_owned(),
        })
    }

    /// Forgets the failures of `key` (it was read).
    pub fn clear_log_object_failure(&self, source: &str, scope: &str, key: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM log_object_failures WHERE source = ?1 AND scope = ?2 AND key = ?3",
            params![source, scope, key],
        )?;
        Ok(())
    }

    /// The failed objects of `source` and `scope`, by key.
    pub fn log_object_failures(&self, source: &str, scope: &str) -> Result<Vec<ObjectFailure>> {
        let mut stmt = self.conn.prepare(
            "SELECT key, attempts, error FROM log_object_failures WHERE source = ?1 AND scope = ?2 ORDER BY key",
        )?;
        let rows = stmt.query_map(params![source, scope], |r| {
            let attempts: i64 = r.get(1)?;
            Ok(ObjectFailure {
                key: r.get(0)?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                error: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn cursors_and_failures_are_kept_per_source_and_scope() {
        let store = crate::test_store();
        assert_eq!(store.log_cursor("cloudtrail", "a").unwrap(), None);
        store.set_log_cursor("cloudtrail", "a", "k1").unwrap();
        store.set_log_cursor("cloudtrail", "a", "k2").unwrap();
        store.set_log_cursor("cloudtrail", "b", "x").unwrap();
        assert_eq!(
            store.log_cursor("cloudtrail", "a").unwrap().as_deref(),
            Some("k2")
        );
        for attempt in 1..=MAX_OBJECT_ATTEMPTS {
            let f = store
                .record_log_object_failure("cloudtrail", "a", "bad", "bad gzip")
                .unwrap();
            assert_eq!(f.attempts, attempt);
            assert_eq!(f.dead(), attempt == MAX_OBJECT_ATTEMPTS);
        }
        assert_eq!(
            store.log_object_failures("cloudtrail", "b").unwrap(),
            vec![]
        );
        assert_eq!(
            store.log_object_failures("cloudtrail", "a").unwrap().len(),
            1
        );
        store
            .clear_log_object_failure("cloudtrail", "a", "bad")
            .unwrap();
        assert_eq!(
            store.log_object_failures("cloudtrail", "a").unwrap(),
            vec![]
        );
    }
}
