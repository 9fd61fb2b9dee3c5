//! Login sessions of the server's dashboard, kept across restarts: only the
//! SHA-256 hash of the session id is stored, with the hash of the API token
//! it was opened with, its CSRF token and its expiry.

use crate::db::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::{Result, Store};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
";

/// A stored login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// SHA-256 hash of the API token the session was opened with.
    pub token_hash: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it ends (whole seconds).
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// Stores a new session under the hash of its id, and forgets expired
    /// ones.
    pub fn start_session(
        &self,
        id_hash: &str,
        session: &StoredSession,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.conn.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            params![now.unix_timestamp()],
        )?;
        self.conn.execute(
            "INSERT INTO sessions (id_hash, token_hash, csrf, expires_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id_hash) DO UPDATE SET token_hash = excluded.token_hash, csrf = excluded.csrf, expires_at = excluded.expires_at",
            params![
                id_hash,
                session.token_hash,
                session.csrf,
                session.expires_at.unix_timestamp()
            ],
        )?;
        Ok(())
    }

    /// The session stored under `id_hash`, unless it has expired by `now`
    /// (an expired one is forgotten).
    pub fn session(&self, id_hash: &str, now: OffsetDateTime) -> Result<Option<StoredSession>> {
        let row: Option<(String, String, i64)> = self
            .conn
            .query_row(
                "SELECT token_hash, csrf, expires_at FROM sessions WHERE id_hash = ?1",
                params![id_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((token_hash, csrf, expires)) = row else {
            return Ok(None);
        };
        if expires <= now.unix_timestamp() {
            self.end_session(id_hash)?;
            return Ok(None);
        }
        Ok(Some(StoredSession {
            token_hash,
            csrf,
            expires_at: OffsetDateTime::from_unix_timestamp(expires)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }))
    }

    /// Ends a session.
    pub fn end_session(&self, id_hash: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn sessions_are_kept_until_they_expire_or_end() {
        let store = crate::test_store();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let session = |minutes: i64| StoredSession {
            token_hash: "t".into(),
            csrf: "c".into(),
            expires_at: now + Duration::minutes(minutes),
        };
        store.start_session("a", &session(60), now).unwrap();
        store.start_session("b", &session(1), now).unwrap();
        assert_eq!(store.session("a", now).unwrap(), Some(session(60)));
        assert_eq!(store.session("x", now).unwrap(), None);
        // Expired: not returned, and forgotten.
        let later = now + Duration::minutes(2);
        assert_eq!(store.session("b", later).unwrap(), None);
        assert_eq!(store.session("b", now).unwrap(), None);
        // Ended.
        store.end_session("a").unwrap();
        assert_eq!(store.session("a", now).unwrap(), None);
        // Starting a session forgets the expired ones.
        store.start_session("c", &session(1), now).unwrap();
        store.start_session("d", &session(60), later).unwrap();
        assert_eq!(store.session("c", now).unwrap(), None);
    }
}
