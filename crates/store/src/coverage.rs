//! What a scan covered, and where a merged snapshot's assets came from.
//!
//! A scan narrowed by service or region (`rampart scan --services s3`, an
//! API scan with `services`) records its [`ScanCoverage`] in the nullable
//! `scans.coverage` column (JSON; `NULL`: a full scan). Its stored snapshot
//! is merged: the assets it collected plus, for every slice it did not
//! cover, the assets of the account's previous complete snapshot, each
//! keeping the id of the scan that collected it in `assets.collected_by`
//! (`NULL`: the scan itself). The merge itself is the engine's
//! (`rampart_engine::scan`).

use std::collections::HashMap;

use crate::db::{Conn, OptionalExtension, params};
use rampart_model::ScanRecord;
use serde::{Deserialize, Serialize};

use crate::{Result, SCAN_COLUMNS, Store, StoreError, scan_from_row};

/// What a narrowed scan covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanCoverage {
    /// The services it collected (`None`: every service).
    pub services: Option<Vec<String>>,
    /// The regions it collected (`None`: every region of the account, or
    /// the connector's regions).
    pub regions: Option<Vec<String>>,
    /// The scans whose assets fill the slices it did not cover (one per
    /// account at most).
    pub merged_from: Vec<String>,
}

impl ScanCoverage {
    /// How listings show a scan's coverage: `{"full": true}`, or
    /// `{"full": false, "services": …, "regions": …, "mergedFrom": […]}`
    /// for a narrowed scan (`null` services or regions: all of them).
    pub fn view(coverage: Option<&Self>) -> serde_json::Value {
        match coverage {
            None => serde_json::json!({ "full": true }),
            Some(c) => serde_json::json!({
                "full": false,
                "services": c.services,
                "regions": c.regions,
                "mergedFrom": c.merged_from,
            }),
        }
    }
}

/// Adds `scans.coverage` and `assets.collected_by` when the file predates
/// them. Idempotent.
pub(crate) fn migrate(conn: &Conn) -> Result<()> {
    for (table, column) in [("scans", "coverage"), ("assets", "collected_by")] {
        if !conn.has_column(table, column)? {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} TEXT"))?;
        }
    }
    Ok(())
}

impl Store {
    /// Records what scan `scan_id` covered (it was narrowed).
    pub fn set_scan_coverage(&self, scan_id: &str, coverage: &ScanCoverage) -> Result<()> {
        let text = serde_json::to_string(coverage).unwrap_or_default();
        let changed = self.conn.execute(
            "UPDATE scans SET coverage = ?2 WHERE id = ?1",
            params![scan_id, text],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchScan(scan_id.to_owned()));
        }
        Ok(())
    }

    /// What scan `scan_id` covered; `None` for a full scan.
    pub fn scan_coverage(&self, scan_id: &str) -> Result<Option<ScanCoverage>> {
        let text: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT coverage FROM scans WHERE id = ?1",
                params![scan_id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(text.flatten().and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// The scan that holds `account`'s current state (the latest complete
    /// scan that covered it and was not superseded), if any.
    pub fn latest_complete_scan_of(&self, account: &str) -> Result<Option<ScanRecord>> {
        self.conn
            .query_row(
                &format!(
                    "{SCAN_COLUMNS} WHERE id = (SELECT scan_id FROM current_accounts WHERE account = ?1)"
                ),
                params![account],
                scan_from_row,
            )
            .optional()?
            .transpose()
    }

    /// [`latest_complete_scan_of`](Self::latest_complete_scan_of) for each
    /// of `accounts`, in two reads however many there are (a page listing
    /// a hundred accounts made a hundred round trips). Accounts with no
    /// current state are left out.
    pub fn latest_complete_scans_of(
        &self,
        accounts: &[String],
    ) -> Result<HashMap<String, ScanRecord>> {
        let mut held = crate::pages::Where::all();
        held.and_in("account", accounts);
        let holders: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT account, scan_id FROM current_accounts{}",
                held.sql
            ))?;
            let rows = stmt.query_map(crate::db::params_from_iter(held.args.iter()), |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?))
            })?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let mut ids: Vec<&String> = holders.iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        let mut of_ids = crate::pages::Where::all();
        of_ids.and_in("id", &ids);
        let scans: HashMap<String, ScanRecord> = {
            let mut stmt = self
                .conn
                .prepare(&format!("{SCAN_COLUMNS}{}", of_ids.sql))?;
            let rows = stmt.query_map(
                crate::db::params_from_iter(of_ids.args.iter()),
                scan_from_row,
            )?;
            crate::collect_rows(rows)?
                .into_iter()
                .map(|scan| (scan.id.clone(), scan))
                .collect()
        };
        Ok(holders
            .into_iter()
            .filter_map(|(account, id)| scans.get(&id).map(|scan| (account, scan.clone())))
            .collect())
    }

    /// Records, for assets of `scan_id` kept from older scans, the scan
    /// that collected each: `(resource type, ARN, scan id)`.
    pub fn set_asset_origins(
        &mut self,
        scan_id: &str,
        origins: &[(String, String, String)],
    ) -> Result<()> {
        let tx = self.conn.begin_write()?;
        {
            let mut update = tx.prepare(
                "UPDATE assets SET collected_by = ?4 WHERE scan_id = ?1 AND type = ?2 AND arn = ?3",
            )?;
            for (resource_type, arn, origin) in origins {
                update.execute(params![scan_id, resource_type, arn, origin])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The assets of `scan_id` another scan collected, by `(resource
    /// type, ARN)`: the scan that did.
    pub fn asset_origins(&self, scan_id: &str) -> Result<HashMap<(String, String), String>> {
        let mut stmt = self.conn.prepare(
            "SELECT type, arn, collected_by FROM assets WHERE scan_id = ?1 AND collected_by IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![scan_id], |row| {
            Ok(((row.get(0)?, row.get(1)?), row.get(2)?))
        })?;
        let mut origins = HashMap::new();
        for row in rows {
            let (key, origin) = row?;
            origins.insert(key, origin);
        }
        Ok(origins)
    }
}
