//! What `rampart serve` replicas share through the store instead of their
//! memory, so that any replica behind a load balancer can answer any
//! request (schema version 9): the login form's CSRF values, failed
//! sign-ins per client, the pending first-run sign-in links, the latest
//! connector health results, and which alert webhook notifier delivers
//! which outbox entry (a claim with a lease, so each entry is sent by one
//! replica).
//!
//! Secrets are kept as hashes the server computes; times are milliseconds
//! since the epoch ([`epoch_ms`]).

use time::OffsetDateTime;

use crate::db::{OptionalExtension, params};
use crate::{Result, Store, epoch_ms, parse_json};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS login_csrf (
    hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_csrf_expiry ON login_csrf (expires_at);
CREATE TABLE IF NOT EXISTS login_failures (
    client TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_client ON login_failures (client, at);
CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at);
CREATE TABLE IF NOT EXISTS first_run_links (
    hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_claims (
    seq INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS connector_health (
    connector_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    checked_at INTEGER NOT NULL
);
";

impl Store {
    /// Keeps a login form's CSRF value (its hash) until `expires_at`;
    /// forgets expired ones, and the soonest-expiring beyond `keep_at_most`.
    pub fn issue_login_csrf(
        &self,
        hash: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
        keep_at_most: u64,
    ) -> Result<()> {
        self.conn.execute(
            "DELETE FROM login_csrf WHERE expires_at <= ?1",
            params![epoch_ms(now)],
        )?;
        self.conn.execute(
            "DELETE FROM login_csrf WHERE expires_at <= (
                 SELECT expires_at FROM login_csrf ORDER BY expires_at DESC LIMIT 1 OFFSET ?1)",
            params![crate::to_i64(keep_at_most.saturating_sub(1))],
        )?;
        self.keep_secret("login_csrf", hash, expires_at)
    }

    /// Whether a login CSRF value (by hash) was issued and is live at `now`.
    pub fn login_csrf_is_live(&self, hash: &str, now: OffsetDateTime) -> Result<bool> {
        self.secret_is_live("login_csrf", hash, now)
    }

    /// Uses up a login CSRF value (a successful sign-in).
    pub fn consume_login_csrf(&self, hash: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM login_csrf WHERE hash = ?1", params![hash])?;
        Ok(())
    }

    /// Records a failed sign-in by `client` at `now`, keeping the client's
    /// latest `keep` and forgetting everyone's older than `since`.
    pub fn record_login_failure(
        &self,
        client: &str,
        now: OffsetDateTime,
        since: OffsetDateTime,
        keep: u64,
    ) -> Result<()> {
        self.conn.execute(
            "DELETE FROM login_failures WHERE at < ?1",
            params![epoch_ms(since)],
        )?;
        self.conn.execute(
            "INSERT INTO login_failures (client, at) VALUES (?1, ?2)",
            params![client, epoch_ms(now)],
        )?;
        self.conn.execute(
            "DELETE FROM login_failures WHERE client = ?1 AND at < (
                 SELECT at FROM login_failures WHERE client = ?1 ORDER BY at DESC LIMIT 1 OFFSET ?2)",
            params![client, crate::to_i64(keep.saturating_sub(1))],
        )?;
        Ok(())
    }

    /// `client`'s failed sign-ins at or after `since`: how many, and when
    /// the oldest of them was (milliseconds since the epoch).
    pub fn login_failures(
        &self,
        client: &str,
        since: OffsetDateTime,
    ) -> Result<(u64, Option<i64>)> {
        let (count, oldest): (i64, Option<i64>) = self.conn.query_row(
            "SELECT COUNT(*), MIN(at) FROM login_failures WHERE client = ?1 AND at >= ?2",
            params![client, epoch_ms(since)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((u64::try_from(count).unwrap_or(0), oldest))
    }

    /// Forgets `client`'s failed sign-ins (a successful one).
    pub fn clear_login_failures(&self, client: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM login_failures WHERE client = ?1",
            params![client],
        )?;
        Ok(())
    }

    /// Keeps a first-run sign-in link's secret (its hash) until
    /// `expires_at`, beside the links other replicas printed.
    pub fn add_first_run_link(&self, hash: &str, expires_at: OffsetDateTime) -> Result<()> {
        self.keep_secret("first_run_links", hash, expires_at)
    }

    /// Whether a first-run link (by hash) is pending at `now`.
    pub fn first_run_link_is_live(&self, hash: &str, now: OffsetDateTime) -> Result<bool> {
        self.secret_is_live("first_run_links", hash, now)
    }

    /// Keeps a hashed secret in `table` (`login_csrf`, `first_run_links`:
    /// columns `hash`, `expires_at`) until `expires_at`.
    fn keep_secret(&self, table: &str, hash: &str, expires_at: OffsetDateTime) -> Result<()> {
        self.conn.execute(
            &format!(
                "INSERT INTO {table} (hash, expires_at) VALUES (?1, ?2)
                 ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at"
            ),
            params![hash, epoch_ms(expires_at)],
        )?;
        Ok(())
    }

    /// Whether a hashed secret kept in `table` is there and live at `now`.
    fn secret_is_live(&self, table: &str, hash: &str, now: OffsetDateTime) -> Result<bool> {
        let found: Option<i64> = self
            .conn
            .query_row(
                &format!("SELECT expires_at FROM {table} WHERE hash = ?1"),
                params![hash],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some_and(|until| until > epoch_ms(now)))
    }

    /// Uses a pending first-run link: `true` for exactly one caller across
    /// replicas, and then every link stops working.
    pub fn take_first_run_link(&self, hash: &str, now: OffsetDateTime) -> Result<bool> {
        let taken = self.conn.execute(
            "DELETE FROM first_run_links WHERE hash = ?1 AND expires_at > ?2",
            params![hash, epoch_ms(now)],
        )?;
        if taken == 1 {
            self.conn
                .execute("DELETE FROM first_run_links", params![])?;
        }
        Ok(taken == 1)
    }

    /// Claims alert outbox entry `seq` for notifier `owner` until
    /// `now + lease`: `true` when no other notifier holds a live claim and
    /// the entry is not delivered yet.
    pub fn claim_outbox_entry(
        &self,
        seq: i64,
        owner: &str,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<bool> {
        let claimed = self.conn.execute(
            "INSERT INTO outbox_claims (seq, owner, lease_until, done) VALUES (?1, ?2, ?3, 0)
             ON CONFLICT (seq) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
             WHERE outbox_claims.done = 0 AND outbox_claims.lease_until < ?4",
            params![seq, owner, epoch_ms(now + lease), epoch_ms(now)],
        )?;
        Ok(claimed == 1)
    }

    /// Marks outbox entry `seq` handled by `owner` (delivered, given up,
    /// or below the webhook's severity): no notifier takes it again.
    pub fn finish_outbox_entry(&self, seq: i64, owner: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox_claims SET done = 1 WHERE seq = ?1 AND owner = ?2",
            params![seq, owner],
        )?;
        Ok(())
    }

    /// Gives up `owner`'s claim on an entry it did not handle (it stopped),
    /// so another notifier takes it at once.
    pub fn release_outbox_entry(&self, seq: i64, owner: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM outbox_claims WHERE seq = ?1 AND owner = ?2 AND done = 0",
            params![seq, owner],
        )?;
        Ok(())
    }

    /// The highest outbox position such that every entry after `after` up
    /// to it is handled: where notifiers may start reading next.
    pub fn outbox_handled_through(&self, after: i64) -> Result<i64> {
        let first_open: Option<i64> = self.conn.query_row(
            "SELECT MIN(o.seq) FROM alert_outbox o WHERE o.seq > ?1 AND NOT EXISTS (
                 SELECT 1 FROM outbox_claims c WHERE c.seq = o.seq AND c.done = 1)",
            params![after],
            |r| r.get(0),
        )?;
        match first_open {
            Some(seq) => Ok((seq - 1).max(after)),
            None => Ok(self
                .conn
                .query_row(
                    "SELECT COALESCE(MAX(seq), 0) FROM alert_outbox",
                    params![],
                    |r| r.get::<i64>(0),
                )?
                .max(after)),
        }
    }

    /// Keeps the latest health result (a JSON document) of a connector.
    pub fn set_connector_health(
        &self,
        connector_id: &str,
        body: &serde_json::Value,
        checked_at: OffsetDateTime,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO connector_health (connector_id, body, checked_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (connector_id) DO UPDATE SET body = excluded.body, checked_at = excluded.checked_at",
            params![connector_id, body.to_string(), epoch_ms(checked_at)],
        )?;
        Ok(())
    }

    /// The latest health result of a connector, if it was checked.
    pub fn connector_health(&self, connector_id: &str) -> Result<Option<serde_json::Value>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM connector_health WHERE connector_id = ?1",
                params![connector_id],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| parse_json("body", &b)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store;
    use time::Duration;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn login_csrf_values_live_until_they_expire_or_are_used_and_are_capped() {
        let store = test_store();
        store.issue_login_csrf("a", t(60), t(0), 3).unwrap();
        assert!(store.login_csrf_is_live("a", t(1)).unwrap());
        assert!(!store.login_csrf_is_live("a", t(60)).unwrap());
        assert!(!store.login_csrf_is_live("x", t(1)).unwrap());
        store.consume_login_csrf("a").unwrap();
        assert!(!store.login_csrf_is_live("a", t(1)).unwrap());
        // At most three kept: the one expiring soonest goes.
        for (i, hash) in ["b", "c", "d", "e"].iter().enumerate() {
            let i = i64::try_from(i).unwrap();
            store.issue_login_csrf(hash, t(100 + i), t(0), 3).unwrap();
        }
        let live: Vec<bool> = ["b", "c", "d", "e"]
            .iter()
            .map(|h| store.login_csrf_is_live(h, t(1)).unwrap())
            .collect();
        assert_eq!(live, [false, true, true, true]);
    }

    #[test]
    fn login_failures_are_counted_per_client_within_the_window() {
        let store = test_store();
        for s in [0, 10, 20] {
            store
                .record_login_failure("10.0.0.1", t(s), t(s) - Duration::minutes(5), 10)
                .unwrap();
        }
        store
            .record_login_failure("10.0.0.2", t(30), t(30) - Duration::minutes(5), 10)
            .unwrap();
        assert_eq!(
            store.login_failures("10.0.0.1", t(5)).unwrap(),
            (2, Some(epoch_ms(t(10))))
        );
        assert_eq!(store.login_failures("10.0.0.1", t(0)).unwrap().0, 3);
        // Only the latest `keep` are kept.
        for s in 40..45 {
            store
                .record_login_failure("10.0.0.3", t(s), t(0), 2)
                .unwrap();
        }
        assert_eq!(
            store.login_failures("10.0.0.3", t(0)).unwrap(),
            (2, Some(epoch_ms(t(43))))
        );
        store.clear_login_failures("10.0.0.1").unwrap();
        assert_eq!(store.login_failures("10.0.0.1", t(0)).unwrap(), (0, None));
        assert_eq!(store.login_failures("10.0.0.2", t(0)).unwrap().0, 1);
    }

    #[test]
    fn a_first_run_link_is_taken_once_and_ends_the_others() {
        let store = test_store();
        store.add_first_run_link("a", t(60)).unwrap();
        store.add_first_run_link("b", t(60)).unwrap();
        assert!(store.first_run_link_is_live("a", t(1)).unwrap());
        assert!(!store.take_first_run_link("a", t(61)).unwrap(), "expired");
        assert!(store.take_first_run_link("a", t(1)).unwrap());
        assert!(!store.take_first_run_link("a", t(1)).unwrap());
        assert!(!store.first_run_link_is_live("b", t(1)).unwrap());
    }

    #[test]
    fn an_outbox_entry_is_claimed_by_one_notifier_until_its_lease_runs_out() {
        let store = test_store();
        let lease = Duration::seconds(60);
        assert!(store.claim_outbox_entry(1, "a", t(0), lease).unwrap());
        assert!(!store.claim_outbox_entry(1, "b", t(1), lease).unwrap());
        // a stopped without handling it: b takes it after the lease.
        assert!(store.claim_outbox_entry(1, "b", t(61), lease).unwrap());
        store.finish_outbox_entry(1, "b").unwrap();
        assert!(!store.claim_outbox_entry(1, "a", t(500), lease).unwrap());
        // A released claim is free at once.
        assert!(store.claim_outbox_entry(2, "a", t(0), lease).unwrap());
        store.release_outbox_entry(2, "a").unwrap();
        assert!(store.claim_outbox_entry(2, "b", t(1), lease).unwrap());
    }

    #[test]
    fn the_latest_health_result_is_kept_per_connector() {
        let store = test_store();
        assert_eq!(store.connector_health("c1").unwrap(), None);
        let first = serde_json::json!({ "checks": [1] });
        let second = serde_json::json!({ "checks": [2] });
        store.set_connector_health("c1", &first, t(0)).unwrap();
        store.set_connector_health("c1", &second, t(1)).unwrap();
        assert_eq!(store.connector_health("c1").unwrap(), Some(second));
    }
}
