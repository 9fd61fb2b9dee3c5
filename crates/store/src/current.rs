//! The current state of assets and coverage gaps, per account (schema
//! version 11).
//!
//! `assets` and `gaps` hold one row per current asset and gap of every
//! account, like `assessments` (history.rs): a scan replaces the rows of
//! the accounts it stored and leaves every other account's as they are, so
//! its write is the size of its own accounts, not of the estate.
//! `current_accounts` records, per account, the scan whose write holds its
//! current state. Before version 11 every scan stored a copy of the whole
//! estate; the upgrade keeps the latest complete scan's copy as the current
//! state (older copies are history: their scores stay in the posture cache).

use rampart_model::{Asset, CoverageGap, ScanRecord};
use time::OffsetDateTime;

use crate::db::{Conn, OptionalExtension, params, params_from_iter};
use crate::pages::Where;
use crate::{Result, Store, collect_rows, json_text, rfc3339};

const SCHEMA: &str = "
-- The scan whose write holds each account's current assets, gaps and
-- assessments (`finished_at`: when that scan finished, so a scan that
-- finished earlier never replaces it).
CREATE TABLE IF NOT EXISTS current_accounts (
    account TEXT PRIMARY KEY,
    scan_id TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
";

/// Creates `current_accounts`; a store from before version 11 keeps its
/// latest complete scan's snapshot as the current state.
pub(crate) fn migrate(conn: &Conn) -> Result<()> {
    let existed = conn.has_column("current_accounts", "account")?;
    conn.execute_batch(SCHEMA)?;
    if existed {
        return Ok(());
    }
    let latest: Option<(String, Option<String>, String)> = conn
        .query_row(
            "SELECT id, finished_at, started_at FROM scans WHERE status = 'complete' ORDER BY finished_at DESC, started_at DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((latest, finished, started)) = latest else {
        return Ok(());
    };
    conn.execute("DELETE FROM assets WHERE scan_id <> ?1", params![latest])?;
    conn.execute("DELETE FROM gaps WHERE scan_id <> ?1", params![latest])?;
    conn.execute(
        "INSERT INTO current_accounts (account, scan_id, finished_at)
         SELECT account, CAST(?1 AS TEXT), CAST(?2 AS TEXT) FROM
            (SELECT account FROM assets UNION SELECT account FROM gaps UNION SELECT account FROM assessments) a",
        params![latest, finished.unwrap_or(started)],
    )?;
    Ok(())
}

/// The accounts a snapshot's write speaks for: those its scan scanned and
/// those of its assets and gaps, sorted.
pub(crate) fn accounts_of(
    scan: &ScanRecord,
    assets: &[Asset],
    gaps: &[CoverageGap],
) -> Vec<String> {
    let mut accounts: Vec<String> = scan
        .accounts
        .iter()
        .cloned()
        .chain(assets.iter().map(|a| a.account.clone()))
        .chain(gaps.iter().map(|g| g.account.clone()))
        .collect();
    accounts.sort();
    accounts.dedup();
    accounts
}

/// Those of `accounts` whose current state no scan that finished after
/// `scan` holds, in `accounts`' order: the accounts `scan`'s write may
/// replace.
pub(crate) fn replaceable(
    conn: &Conn,
    scan: &ScanRecord,
    accounts: &[String],
) -> Result<Vec<String>> {
    let finished = rfc3339(scan.finished_at.unwrap_or_else(OffsetDateTime::now_utc));
    let mut w = Where::new("finished_at >", finished);
    w.and_accounts(Some(accounts));
    let mut stmt = conn.prepare(&format!("SELECT account FROM current_accounts{}", w.sql))?;
    let rows = stmt.query_map(params_from_iter(w.args.iter()), |r| {
        Ok(Ok(r.get::<String>(0)?))
    })?;
    let newer: std::collections::HashSet<String> = collect_rows(rows)?.into_iter().collect();
    Ok(accounts
        .iter()
        .filter(|a| !newer.contains(*a))
        .cloned()
        .collect())
}

/// Deletes the current assets and gaps of `accounts` and who holds them.
fn clear(conn: &Conn, accounts: &[String]) -> Result<()> {
    for table in ["assets", "gaps", "current_accounts"] {
        let mut w = Where::all();
        w.and_accounts(Some(accounts));
        conn.execute(
            &format!("DELETE FROM {table}{}", w.sql),
            params_from_iter(w.args.iter()),
        )?;
    }
    Ok(())
}

/// Replaces the current assets and gaps of `accounts` with those of
/// `assets` and `gaps` in them, written as scan `scan`'s, and records
/// `scan` as holding those accounts.
pub(crate) fn replace(
    conn: &Conn,
    scan: &ScanRecord,
    accounts: &[String],
    assets: &[Asset],
    gaps: &[CoverageGap],
) -> Result<()> {
    if accounts.is_empty() {
        return Ok(());
    }
    clear(conn, accounts)?;
    let ours: std::collections::HashSet<&str> = accounts.iter().map(String::as_str).collect();
    let mut insert = conn.prepare(
        "INSERT INTO assets (scan_id, arn, type, account, region, name, tags, properties, unavailable)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (scan_id, type, arn) DO UPDATE SET account = excluded.account, region = excluded.region, name = excluded.name, tags = excluded.tags, properties = excluded.properties, unavailable = excluded.unavailable",
    )?;
    for asset in assets.iter().filter(|a| ours.contains(a.account.as_str())) {
        let unavailable = if asset.unavailable.is_empty() {
            None
        } else {
            Some(json_text(&asset.unavailable))
        };
        insert.execute(params![
            scan.id,
            asset.arn,
            asset.resource_type,
            asset.account,
            asset.region,
            asset.name,
            json_text(&asset.tags),
            asset.properties.to_string(),
            unavailable,
        ])?;
    }
    let mut insert = conn.prepare(
        "INSERT INTO gaps (scan_id, account, region, service, operation, kind, error, occurrences)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for gap in gaps.iter().filter(|g| ours.contains(g.account.as_str())) {
        insert.execute(params![
            scan.id,
            gap.account,
            gap.region,
            gap.service,
            gap.operation,
            gap.kind.as_str(),
            gap.error,
            i64::try_from(gap.occurrences).unwrap_or(i64::MAX),
        ])?;
    }
    let finished = rfc3339(scan.finished_at.unwrap_or_else(OffsetDateTime::now_utc));
    let mut insert = conn.prepare(
        "INSERT INTO current_accounts (account, scan_id, finished_at) VALUES (?1, ?2, ?3)",
    )?;
    for account in accounts {
        insert.execute(params![account, scan.id, finished])?;
    }
    Ok(())
}

impl Store {
    /// The current assets with these ARNs (any type, any account); ARNs
    /// without one are left out.
    pub fn assets_by_arn(&self, arns: &[String]) -> Result<Vec<Asset>> {
        let mut found = Vec::new();
        for chunk in arns.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("?{n}")).collect();
            let mut stmt = self.conn.prepare(&format!(
                "SELECT arn, type, account, region, name, tags, properties, unavailable FROM assets WHERE arn IN ({})",
                marks.join(", ")
            ))?;
            let rows = stmt.query_map(params_from_iter(chunk.iter()), crate::asset_from_row)?;
            found.extend(collect_rows(rows)?);
        }
        Ok(found)
    }

    /// The accounts whose current state scans through connector
    /// `connector_id` hold.
    pub fn accounts_held_by_connector(&self, connector_id: &str) -> Result<Vec<String>> {
        self.held_accounts("s.connector = ?1", Some(connector_id))
    }

    /// The accounts whose current state scans through connectors that no
    /// longer exist hold.
    pub fn accounts_of_deleted_connectors(&self) -> Result<Vec<String>> {
        self.held_accounts(
            "s.connector IS NOT NULL AND NOT EXISTS (SELECT 1 FROM connectors k WHERE k.id = s.connector)",
            None,
        )
    }

    fn held_accounts(&self, condition: &str, value: Option<&str>) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT c.account FROM current_accounts c JOIN scans s ON s.id = c.scan_id WHERE {condition} ORDER BY c.account"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let map = |r: &crate::db::Row<'_>| Ok(Ok(r.get::<String>(0)?));
        let rows = match value {
            Some(v) => stmt.query_map(params![v], map)?,
            None => stmt.query_map([], map)?,
        };
        collect_rows(rows)
    }

    /// The accounts of the current state with the scan that holds each
    /// one's assets, gaps and assessments, by account.
    pub fn current_accounts(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT account, scan_id FROM current_accounts ORDER BY account")?;
        let rows = stmt.query_map([], |r| Ok(Ok((r.get::<String>(0)?, r.get::<String>(1)?))))?;
        collect_rows(rows)
    }

    /// The current state as one record: the latest complete scan's, with
    /// every current account, the regions their scans covered, and the
    /// current asset and gap counts. `None` before the first complete
    /// scan.
    pub fn current_snapshot(&self) -> Result<Option<ScanRecord>> {
        let Some(mut latest) = self.latest_complete_scan()? else {
            return Ok(None);
        };
        let mut accounts: Vec<String> = self
            .current_accounts()?
            .into_iter()
            .map(|(account, _)| account)
            .collect();
        for account in &latest.accounts {
            if !accounts.contains(account) {
                accounts.push(account.clone());
            }
        }
        accounts.sort();
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT s.regions FROM scans s JOIN current_accounts c ON c.scan_id = s.id",
        )?;
        let rows = stmt.query_map([], |r| Ok(Ok(r.get::<String>(0)?)))?;
        let mut regions = latest.regions.clone();
        for text in collect_rows(rows)? {
            for region in serde_json::from_str::<Vec<String>>(&text).unwrap_or_default() {
                if !regions.contains(&region) {
                    regions.push(region);
                }
            }
        }
        let count = |table: &str| -> Result<u64> {
            let n: i64 =
                self.conn
                    .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        latest.accounts = accounts;
        latest.regions = regions;
        latest.asset_count = count("assets")?;
        latest.gap_count = count("gaps")?;
        Ok(Some(latest))
    }

    /// Removes `accounts` from the current state: their assets, gaps and
    /// assessments (each assessment logged `removed`) and today's daily
    /// aggregates. For accounts that left the estate (a member that left
    /// the organization, the accounts of a deleted connector). Returns
    /// how many assessments were removed.
    pub fn remove_accounts(&mut self, accounts: &[String], scan_id: &str) -> Result<usize> {
        if accounts.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.begin_write()?;
        let removed = crate::history::remove_accounts(&tx, accounts, scan_id)?;
        clear(&tx, accounts)?;
        tx.commit()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use rampart_model::{Assessment, AssessmentStatus, GapKind, ScanStatus, Snapshot};

    use super::*;
    use crate::{AssetFilter, ChangeFilter, ChangeKind, Scope};

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    fn asset(account: &str, name: &str) -> Asset {
        Asset {
            arn: format!("arn:aws:sqs:us-east-1:{account}:{name}"),
            resource_type: "AWS::SQS::Queue".into(),
            account: account.into(),
            region: "us-east-1".into(),
            name: name.into(),
            tags: Default::default(),
            properties: serde_json::json!({}),
            unavailable: Default::default(),
        }
    }

    fn assessment(asset: &Asset, status: AssessmentStatus) -> Assessment {
        Assessment {
            recommendation: crate::test_scored_recommendation(),
            resource: asset.arn.clone(),
            resource_type: asset.resource_type.clone(),
            resource_name: asset.name.clone(),
            account: asset.account.clone(),
            region: asset.region.clone(),
            status,
            reason: String::new(),
            evidence: Vec::new(),
            exemption: None,
        }
    }

    /// Stores scan `id` of `accounts`, finished at minute `minute`, with
    /// `assets` each assessed `status`.
    fn scan(
        store: &mut Store,
        id: &str,
        minute: i64,
        accounts: &[&str],
        assets: Vec<Asset>,
        status: AssessmentStatus,
    ) {
        let at =
            OffsetDateTime::now_utc() - time::Duration::hours(1) + time::Duration::minutes(minute);
        let assessments: Vec<_> = assets.iter().map(|a| assessment(a, status)).collect();
        let gaps = accounts
            .iter()
            .map(|account| CoverageGap {
                account: (*account).into(),
                region: "us-east-1".into(),
                service: "sns".into(),
                operation: format!("ListTopics by {id}"),
                kind: GapKind::AccessDenied,
                error: "denied".into(),
                occurrences: 1,
            })
            .collect();
        let snapshot = Snapshot {
            scan: ScanRecord {
                id: id.into(),
                started_at: at - time::Duration::seconds(30),
                finished_at: Some(at),
                status: ScanStatus::Complete,
                accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
                regions: vec!["us-east-1".into()],
                api_calls: 1,
                asset_count: 0,
                gap_count: 0,
            },
            assets,
            gaps,
        };
        store.complete_scan(&snapshot, &assessments).unwrap();
    }

    fn names(store: &Store) -> Vec<String> {
        let mut names: Vec<String> = store
            .assets(&AssetFilter::default())
            .unwrap()
            .into_iter()
            .map(|a| format!("{}:{}", &a.account[..1], a.name))
            .collect();
        names.sort();
        names
    }

    fn gap_operations(store: &Store) -> Vec<String> {
        store
            .gaps_in(&Scope::default())
            .unwrap()
            .into_iter()
            .map(|g| format!("{}:{}", &g.account[..1], g.operation))
            .collect()
    }

    /// The logged changes of `kind`, newest first, as `scan:queue`.
    fn changes(store: &Store, kind: ChangeKind) -> Vec<String> {
        store
            .changes(
                &ChangeFilter {
                    change: Some(kind),
                    ..Default::default()
                },
                None,
                100,
            )
            .unwrap()
            .into_iter()
            .map(|c| {
                format!(
                    "{}:{}",
                    c.scan_id,
                    c.resource.rsplit(':').next().unwrap_or_default()
                )
            })
            .collect()
    }

    /// The batch lookup of the scans holding accounts' current state
    /// agrees with the one-account lookup, and leaves out accounts with no
    /// current state.
    #[test]
    fn the_scans_of_several_accounts_are_read_at_once() {
        let mut store = crate::test_store();
        scan(
            &mut store,
            "a1",
            0,
            &[A],
            vec![asset(A, "q1")],
            AssessmentStatus::Healthy,
        );
        scan(
            &mut store,
            "b1",
            1,
            &[B],
            vec![asset(B, "q2")],
            AssessmentStatus::Healthy,
        );
        scan(
            &mut store,
            "a2",
            2,
            &[A],
            vec![asset(A, "q1")],
            AssessmentStatus::Unhealthy,
        );
        let asked = vec![A.to_owned(), B.to_owned(), "999999999999".to_owned()];
        let found = store.latest_complete_scans_of(&asked).unwrap();
        assert_eq!(found.len(), 2);
        for account in [A, B] {
            assert_eq!(
                found.get(account),
                store.latest_complete_scan_of(account).unwrap().as_ref()
            );
        }
        assert_eq!(found[A].id, "a2");
        assert_eq!(found[B].id, "b1");
        assert!(store.latest_complete_scans_of(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_scan_replaces_its_own_accounts_current_state_and_no_other() {
        let mut store = crate::test_store();
        use AssessmentStatus::{Healthy, Unhealthy};
        scan(
            &mut store,
            "a1",
            0,
            &[A],
            vec![asset(A, "q1"), asset(A, "q2")],
            Unhealthy,
        );
        scan(&mut store, "b1", 1, &[B], vec![asset(B, "q3")], Unhealthy);
        assert_eq!(
            names(&store),
            ["1:q1", "1:q2", "2:q3"],
            "b1 kept A's assets"
        );
        assert_eq!(
            gap_operations(&store),
            ["1:ListTopics by a1", "2:ListTopics by b1"]
        );
        assert_eq!(store.assessments().unwrap().len(), 3, "and A's assessments");
        assert_eq!(
            store.current_accounts().unwrap(),
            [
                (A.to_owned(), "a1".to_owned()),
                (B.to_owned(), "b1".to_owned())
            ]
        );
        let current = store.current_snapshot().unwrap().unwrap();
        assert_eq!(
            (current.id.as_str(), current.accounts.clone()),
            ("b1", vec![A.to_owned(), B.to_owned()])
        );
        assert_eq!((current.asset_count, current.gap_count), (3, 2));

        // A's next scan: q2 is gone, q1 is fixed; B's rows stay as they are.
        scan(&mut store, "a2", 2, &[A], vec![asset(A, "q1")], Healthy);
        assert_eq!(names(&store), ["1:q1", "2:q3"]);
        assert_eq!(
            gap_operations(&store),
            ["1:ListTopics by a2", "2:ListTopics by b1"]
        );
        let statuses: Vec<_> = store
            .assessments()
            .unwrap()
            .into_iter()
            .map(|a| (a.account, a.status))
            .collect();
        assert_eq!(
            statuses,
            [(A.to_owned(), Healthy), (B.to_owned(), Unhealthy)]
        );

        assert_eq!(
            changes(&store, ChangeKind::Removed),
            ["a2:q2"],
            "B's assessment was not removed"
        );
        assert_eq!(changes(&store, ChangeKind::Resolved), ["a2:q1"]);
        // Today's aggregates hold both accounts: A's as of a2, B's as of b1.
        let today = store
            .daily_posture(&Scope::default(), None, None, None)
            .unwrap();
        assert_eq!(today.len(), 1);
        assert_eq!((today[0].healthy, today[0].unhealthy), (1, 1));

        // A scan of A that finished before a2 (it waited behind it) is
        // stored, but A's current state stays a2's.
        scan(&mut store, "a0", 1, &[A], vec![asset(A, "late")], Unhealthy);
        assert_eq!(store.scan("a0").unwrap().status, ScanStatus::Complete);
        assert_eq!(names(&store), ["1:q1", "2:q3"]);
        assert_eq!(store.current_accounts().unwrap()[0].1, "a2");

        // An account that left the estate goes: assets, gaps, assessments
        // (logged), and its part of today's aggregates.
        assert_eq!(store.remove_accounts(&[B.to_owned()], "a2").unwrap(), 1);
        assert_eq!(names(&store), ["1:q1"]);
        assert_eq!(gap_operations(&store), ["1:ListTopics by a2"]);
        assert_eq!(changes(&store, ChangeKind::Removed), ["a2:q3", "a2:q2"]);
        let today = store
            .daily_posture(&Scope::default(), None, None, None)
            .unwrap();
        assert_eq!((today[0].healthy, today[0].unhealthy), (1, 0));
        assert_eq!(store.current_accounts().unwrap().len(), 1);
    }

    #[test]
    fn an_accounts_last_day_carries_into_a_day_that_did_not_scan_it() {
        let mut store = crate::test_store();
        scan(
            &mut store,
            "a1",
            0,
            &[A],
            vec![asset(A, "q1")],
            AssessmentStatus::Unhealthy,
        );
        // Make today's rows look like an earlier day's: the first write of
        // a new day (below) starts it from them.
        crate::history::ensure_partitions(&store.conn, "2026-01-01").unwrap();
        for table in ["daily_posture", "daily_totals", "daily_controls"] {
            store
                .conn
                .execute(&format!("UPDATE {table} SET day = '2026-01-01'"), [])
                .unwrap();
        }
        store
            .conn
            .execute(
                "UPDATE meta SET value = '2026-01-01' WHERE key = 'history_day'",
                [],
            )
            .unwrap();
        scan(
            &mut store,
            "b1",
            1,
            &[B],
            vec![asset(B, "q2")],
            AssessmentStatus::Healthy,
        );
        let days = store
            .daily_posture(&Scope::default(), None, None, None)
            .unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(
            (days[0].day.as_str(), days[0].unhealthy, days[0].healthy),
            ("2026-01-01", 1, 0)
        );
        assert_eq!(
            (days[1].unhealthy, days[1].healthy),
            (1, 1),
            "A carried into today"
        );
        let a_today = store
            .daily_posture(
                &Scope {
                    accounts: Some(vec![A.to_owned()]),
                    region: None,
                },
                None,
                Some(&days[1].day),
                None,
            )
            .unwrap();
        assert_eq!(a_today.len(), 1);
        assert!(
            a_today[0].score.is_some(),
            "A's control counts were carried too"
        );
    }
}
