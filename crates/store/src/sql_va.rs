//! Accepted SQL vulnerability assessment baselines (schema step "sql_va",
//! version 7 of [`crate::SCHEMA_VERSION`]'s history; created on open).
//!
//! One row per (SQL Server, rule, database): the accepted result's hash,
//! who accepted it and when. The SQL plan's assessment applies them
//! (`rampart_sqlva::apply_baselines`): the same rows again are a
//! non-finding, any change a finding again.

use crate::db::params;
use rampart_sqlva::Baseline;

use crate::{Result, Store, StoreError, parse_time, rfc3339};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sql_va_baselines (
    server TEXT NOT NULL,
    rule TEXT NOT NULL,
    database TEXT NOT NULL DEFAULT '',
    result_hash TEXT NOT NULL,
    accepted_by TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (server, rule, database)
);
";

impl Store {
    /// Stores (or replaces) an accepted baseline of `server` (the SQL
    /// Server asset's ARN).
    pub fn put_sql_va_baseline(&mut self, server: &str, baseline: &Baseline) -> Result<()> {
        self.write(|store| {
            store.conn.execute(
                "INSERT INTO sql_va_baselines (server, rule, database, result_hash, accepted_by, accepted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (server, rule, database) DO UPDATE SET result_hash = excluded.result_hash, accepted_by = excluded.accepted_by, accepted_at = excluded.accepted_at",
                params![
                    server,
                    baseline.rule,
                    baseline.database.as_deref().unwrap_or(""),
                    baseline.result_hash,
                    baseline.accepted_by,
                    rfc3339(baseline.accepted_at),
                ],
            )?;
            Ok::<(), StoreError>(())
        })
    }

    /// Removes a baseline; whether there was one.
    pub fn delete_sql_va_baseline(
        &mut self,
        server: &str,
        rule: &str,
        database: Option<&str>,
    ) -> Result<bool> {
        self.write(|store| {
            let n = store.conn.execute(
                "DELETE FROM sql_va_baselines WHERE server = ?1 AND rule = ?2 AND database = ?3",
                params![server, rule, database.unwrap_or("")],
            )?;
            Ok::<bool, StoreError>(n > 0)
        })
    }

    /// The baselines of `server`, by rule and database.
    pub fn sql_va_baselines(&self, server: &str) -> Result<Vec<Baseline>> {
        let mut stmt = self.conn.prepare(
            "SELECT rule, database, result_hash, accepted_by, accepted_at FROM sql_va_baselines WHERE server = ?1 ORDER BY rule, database",
        )?;
        let rows: Vec<(String, String, String, String, String)> = stmt
            .query_map(params![server], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<crate::db::DbResult<_>>()?;
        rows.into_iter()
            .map(|(rule, database, result_hash, accepted_by, accepted_at)| {
                Ok(Baseline {
                    rule,
                    database: (!database.is_empty()).then_some(database),
                    result_hash,
                    accepted_by,
                    accepted_at: parse_time("sql_va_baselines.accepted_at", &accepted_at)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use time::macros::datetime;

    use super::*;

    #[test]
    fn baselines_round_trip_per_server_rule_and_database() {
        let mut store = crate::test_store();
        let server = "arn:rampart:sql:us-east-1:123456789012:server/ec2-instance/i-0abc";
        let baseline = |rule: &str, database: Option<&str>, hash: &str| Baseline {
            rule: rule.into(),
            database: database.map(str::to_owned),
            result_hash: hash.into(),
            accepted_by: "alice".into(),
            accepted_at: datetime!(2026-12-01 10:00 UTC),
        };
        store
            .put_sql_va_baseline(server, &baseline("RVA1001", None, "aa"))
            .unwrap();
        store
            .put_sql_va_baseline(server, &baseline("RVA1201", Some("sales"), "bb"))
            .unwrap();
        // Accepting again replaces.
        store
            .put_sql_va_baseline(server, &baseline("RVA1001", None, "cc"))
            .unwrap();
        store
            .put_sql_va_baseline("other", &baseline("RVA1001", None, "dd"))
            .unwrap();
        let found = store.sql_va_baselines(server).unwrap();
        assert_eq!(
            found,
            vec![
                baseline("RVA1001", None, "cc"),
                baseline("RVA1201", Some("sales"), "bb")
            ]
        );
        assert!(
            store
                .delete_sql_va_baseline(server, "RVA1201", Some("sales"))
                .unwrap()
        );
        assert!(
            !store
                .delete_sql_va_baseline(server, "RVA1201", Some("sales"))
                .unwrap()
        );
        assert_eq!(store.sql_va_baselines(server).unwrap().len(), 1);
    }
}
