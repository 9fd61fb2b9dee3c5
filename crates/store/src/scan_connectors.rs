//! Which connector a scan ran through: the nullable `scans.connector`
//! column (the connector's id), added to existing files when missing.

use crate::db::{Conn, OptionalExtension, params};

use crate::{Result, Store, StoreError};

/// Adds `scans.connector` when the file predates it. Idempotent.
pub(crate) fn migrate(conn: &Conn) -> Result<()> {
    if !conn.has_column("scans", "connector")? {
        conn.execute_batch("ALTER TABLE scans ADD COLUMN connector TEXT")?;
    }
    Ok(())
}

impl Store {
    /// Records that scan `scan_id` ran through the connector with this id.
    pub fn set_scan_connector(&self, scan_id: &str, connector_id: &str) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE scans SET connector = ?2 WHERE id = ?1",
            params![scan_id, connector_id],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchScan(scan_id.to_owned()));
        }
        Ok(())
    }

    /// The id of the connector scan `scan_id` ran through; `None` for a scan
    /// made with the `scan` command's own credentials.
    pub fn scan_connector(&self, scan_id: &str) -> Result<Option<String>> {
        let row: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT connector FROM scans WHERE id = ?1",
                params![scan_id],
                |row| row.get(0),
            )
            .optional()?;
        row.ok_or_else(|| StoreError::NoSuchScan(scan_id.to_owned()))
    }

    /// The accounts of the connector named (or with id) `name_or_id`, for
    /// the `connector` filters: those its latest complete scan scanned, or
    /// its own account before its first scan. An organization's connector
    /// also has those of its member connectors' latest complete scans
    /// (queued scans of an organization run one job per account, each
    /// through the account's member connector).
    pub fn accounts_of_connector(&self, name_or_id: &str) -> Result<Vec<String>> {
        let connector = self
            .connector(name_or_id)?
            .ok_or_else(|| StoreError::NoSuchConnector(name_or_id.to_owned()))?;
        let mut accounts = self.connector_accounts(&connector.id.to_string())?;
        if accounts.is_empty() {
            accounts.push(connector.account().to_owned());
        }
        if connector.is_organization() {
            for member in self.members_of(connector.account())? {
                for account in self.connector_accounts(&member.id.to_string())? {
                    if !accounts.contains(&account) {
                        accounts.push(account);
                    }
                }
            }
        }
        Ok(accounts)
    }

    /// The accounts the latest complete scan through the connector with id
    /// `connector_id` scanned (empty when it has none yet).
    fn connector_accounts(&self, connector_id: &str) -> Result<Vec<String>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT accounts FROM scans WHERE connector = ?1 AND status = 'complete'
                 ORDER BY finished_at DESC, started_at DESC LIMIT 1",
                params![connector_id],
                |row| row.get(0),
            )
            .optional()?;
        text.map_or(Ok(Vec::new()), |t| crate::parse_json("accounts", &t))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_model::{ScanRecord, ScanStatus};
    use time::OffsetDateTime;

    use crate::Store;

    #[test]
    fn a_scan_remembers_its_connector() {
        let store = crate::test_store();
        let record = ScanRecord {
            id: "s1".into(),
            started_at: OffsetDateTime::now_utc(),
            finished_at: None,
            status: ScanStatus::Running,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 0,
            asset_count: 0,
            gap_count: 0,
        };
        store.begin_scan(&record).unwrap();
        assert_eq!(store.scan_connector("s1").unwrap(), None);
        store.set_scan_connector("s1", "c-1").unwrap();
        assert_eq!(store.scan_connector("s1").unwrap().as_deref(), Some("c-1"));
        assert!(store.set_scan_connector("nope", "c-1").is_err());
        assert!(store.scan_connector("nope").is_err());
    }

    #[test]
    fn an_existing_file_gains_the_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE scans (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
                 status TEXT NOT NULL, accounts TEXT NOT NULL, regions TEXT NOT NULL,
                 api_calls INTEGER NOT NULL DEFAULT 0, asset_count INTEGER NOT NULL DEFAULT 0,
                 gap_count INTEGER NOT NULL DEFAULT 0, failure TEXT);
                 INSERT INTO scans (id, started_at, status, accounts, regions)
                 VALUES ('old', '2026-01-01T00:00:00Z', 'complete', '[]', '[]');",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.scan_connector("old").unwrap(), None);
        store.set_scan_connector("old", "c-2").unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.scan_connector("old").unwrap().as_deref(), Some("c-2"));
    }
}
