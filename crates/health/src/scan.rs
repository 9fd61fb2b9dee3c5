//! The connector's last scan and its gaps, from the store.

use rampart_catalog::Inventory;
use rampart_catalog::sql::{PrerequisiteState, ServerPrerequisites, server_prerequisites};
use rampart_connector::{Connector, Plan};
use rampart_model::{CoverageGap, ScanRecord, ScanStatus};
use rampart_store::{AssetFilter, Store, StoreError};

use crate::requirement::{LAST_SCAN, SCAN_GAPS, SQL_PREREQUISITES};
use crate::{Check, State, decide};

/// How many recent scans are searched for the connector's.
const SCANS_SEARCHED: usize = 500;

/// The connector's last scan and the gaps it recorded in the connector's
/// account.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanEvidence {
    /// The scan.
    pub record: ScanRecord,
    /// Its coverage gaps in the connector's account.
    pub gaps: Vec<CoverageGap>,
    /// The SQL Servers it found in the connector's account, with the SQL
    /// plan's prerequisites (read only for connectors with the SQL plan).
    pub sql_servers: Vec<ServerPrerequisites>,
}

/// The connector's last finished scan: the newest scan run through it
/// (complete or failed), or a complete scan that covered its account (a
/// `rampart scan` with other credentials, an organization's scan). Running
/// scans are skipped. `None` when there is none.
pub fn scan_evidence(
    store: &Store,
    connector: &Connector,
) -> Result<Option<ScanEvidence>, StoreError> {
    let id = connector.id.to_string();
    for record in store.scans(SCANS_SEARCHED)? {
        if record.status == ScanStatus::Running {
            continue;
        }
        let through = store.scan_connector(&record.id)?.as_deref() == Some(id.as_str());
        let covered = record.status == ScanStatus::Complete
            && record.accounts.iter().any(|a| a == connector.account());
        if through || covered {
            let gaps = if record.status == ScanStatus::Complete {
                store
                    .gaps()?
                    .into_iter()
                    .filter(|g| g.account == connector.account())
                    .collect()
            } else {
                Vec::new()
            };
            let sql_servers = if record.status == ScanStatus::Complete
                && connector.plans().contains(&Plan::Sql)
            {
                let filter = AssetFilter {
                    account: Some(connector.account().to_owned()),
                    ..AssetFilter::default()
                };
                let assets = store.assets(&filter)?;
                server_prerequisites(&Inventory::new(&assets))
            } else {
                Vec::new()
            };
            return Ok(Some(ScanEvidence {
                record,
                gaps,
                sql_servers,
            }));
        }
    }
    Ok(None)
}

/// SQL: one check per SQL Server the last scan found, met when every
/// prerequisite holds, not met with the fixes, unknown with why; one
/// unknown check when there is no complete scan to read them from.
pub(crate) fn sql_prerequisites(evidence: Option<&ScanEvidence>) -> Vec<Check> {
    let plan = Some(Plan::Sql);
    let Some(evidence) = evidence.filter(|e| e.record.status == ScanStatus::Complete) else {
        return vec![Check::new(
            plan,
            SQL_PREREQUISITES,
            State::unknown(
                "no complete scan of the account yet: run `rampart scan --connector` first",
            ),
            String::new(),
        )];
    };
    evidence
        .sql_servers
        .iter()
        .map(|server| {
            let summary: Vec<String> = server
                .prerequisites
                .iter()
                .map(|p| p.detail.clone())
                .collect();
            let detail = format!(
                "{} ({}): {}",
                server.host_id,
                server.name,
                summary.join("; ")
            );
            let fixes: Vec<String> = server
                .not_met()
                .filter_map(|p| match &p.state {
                    PrerequisiteState::NotMet { fix } => Some(fix.clone()),
                    _ => None,
                })
                .collect();
            let state = if !fixes.is_empty() {
                State::not_met(fixes.join("; "))
            } else if let Some(PrerequisiteState::Unknown { why }) =
                server.unknown().next().map(|p| &p.state)
            {
                State::unknown(why.clone())
            } else {
                State::Met
            };
            Check::new(plan, SQL_PREREQUISITES, state, detail)
        })
        .collect()
}

/// The last-scan checks.
pub(crate) fn checks(connector: &Connector, evidence: Option<&ScanEvidence>) -> Vec<Check> {
    let record = evidence.map(|e| &e.record);
    let gaps = evidence.map(|e| e.gaps.as_slice()).unwrap_or_default();
    let (state, detail) = decide::last_scan(&connector.name, record);
    let last = Check::new(None, LAST_SCAN, state, detail);
    let (state, detail) = decide::scan_gaps(&connector.name, record, gaps);
    vec![last, Check::new(None, SCAN_GAPS, state, detail)]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_connector::{Connector, Plan};
    use rampart_model::{CoverageGap, GapKind, ScanRecord, ScanStatus, Snapshot};
    use rampart_store::Store;
    use time::{Duration, OffsetDateTime};

    use super::scan_evidence;

    fn record(id: &str, minutes: i64, accounts: &[&str]) -> ScanRecord {
        let at = OffsetDateTime::UNIX_EPOCH + Duration::minutes(minutes);
        ScanRecord {
            id: id.into(),
            started_at: at,
            finished_at: Some(at),
            status: ScanStatus::Complete,
            accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
            regions: vec!["us-east-1".into()],
            api_calls: 1,
            asset_count: 0,
            gap_count: 0,
        }
    }

    fn gap(account: &str) -> CoverageGap {
        CoverageGap {
            account: account.into(),
            region: "us-east-1".into(),
            service: "s3".into(),
            operation: "GetBucketPolicy".into(),
            kind: GapKind::AccessDenied,
            error: "denied".into(),
            occurrences: 1,
        }
    }

    fn complete(store: &mut Store, scan: ScanRecord, gaps: Vec<CoverageGap>) {
        let snapshot = Snapshot {
            scan,
            assets: vec![],
            gaps,
        };
        store.complete_scan(&snapshot, &[]).unwrap();
    }

    #[test]
    fn the_newest_scan_through_the_connector_or_of_its_account() {
        let mut store = Store::open_in_memory().unwrap();
        let connector = Connector::new("prod", "123456789012", &[Plan::Cspm], vec![], 12, None);
        assert_eq!(scan_evidence(&store, &connector).unwrap(), None);

        // Another account's scan does not count.
        complete(&mut store, record("other", 1, &["210987654321"]), vec![]);
        assert_eq!(scan_evidence(&store, &connector).unwrap(), None);

        // A scan covering the account counts, with its account's gaps only.
        complete(
            &mut store,
            record("covered", 2, &["123456789012", "210987654321"]),
            vec![gap("123456789012"), gap("210987654321")],
        );
        let found = scan_evidence(&store, &connector).unwrap().unwrap();
        assert_eq!(found.record.id, "covered");
        assert_eq!(found.gaps, vec![gap("123456789012")]);

        // A newer failed scan through the connector is the last scan.
        let mut failed = record("failed", 3, &["123456789012"]);
        failed.status = ScanStatus::Running;
        failed.finished_at = None;
        store.begin_scan(&failed).unwrap();
        store
            .set_scan_connector("failed", &connector.id.to_string())
            .unwrap();
        // Still running: skipped.
        assert_eq!(
            scan_evidence(&store, &connector)
                .unwrap()
                .unwrap()
                .record
                .id,
            "covered"
        );
        store.fail_scan("failed", "boom").unwrap();
        let found = scan_evidence(&store, &connector).unwrap().unwrap();
        assert_eq!(found.record.id, "failed");
        assert_eq!(found.record.status, ScanStatus::Failed);
        assert!(found.gaps.is_empty());
    }

    fn fixture_assets(text: &str) -> Vec<rampart_model::Asset> {
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut assets = vec![serde_json::from_value(doc["subject"].clone()).unwrap()];
        for related in doc["related"].as_array().unwrap() {
            assets.push(serde_json::from_value(related.clone()).unwrap());
        }
        assets
    }

    #[test]
    fn sql_prerequisites_come_from_the_last_scan_one_check_per_server() {
        use crate::State;

        let mut store = Store::open_in_memory().unwrap();
        let sql = Connector::new(
            "prod",
            "123456789012",
            &[Plan::Cspm, Plan::Sql],
            vec![],
            12,
            None,
        );
        let checks = super::sql_prerequisites(scan_evidence(&store, &sql).unwrap().as_ref());
        assert_eq!(checks.len(), 1);
        assert!(matches!(checks[0].state, State::Unknown { .. }));

        let mut assets = fixture_assets(include_str!(
            "../../catalog/data/fixtures/sql-server-protection-prerequisites-met/healthy.json"
        ));
        assets.extend(fixture_assets(include_str!(
            "../../catalog/data/fixtures/sql-server-protection-prerequisites-met/unhealthy-rds-error-log-not-exported.json"
        )));
        let snapshot = Snapshot {
            scan: record("with-sql", 1, &["123456789012"]),
            assets,
            gaps: vec![],
        };
        store.complete_scan(&snapshot, &[]).unwrap();
        let evidence = scan_evidence(&store, &sql).unwrap().unwrap();
        assert_eq!(evidence.sql_servers.len(), 2);
        let checks = super::sql_prerequisites(Some(&evidence));
        assert_eq!(checks.len(), 2);
        let by_host = |host: &str| {
            checks
                .iter()
                .find(|c| c.detail.starts_with(host))
                .unwrap_or_else(|| panic!("no check for {host}: {checks:#?}"))
        };
        assert_eq!(by_host("i-0abc").state, State::Met);
        match &by_host("sqlcustom1").state {
            State::NotMet { fix } => assert!(fix.contains("EnableLogTypes"), "{fix}"),
            other => panic!("{other:?}"),
        }

        // Without the SQL plan the servers are not read.
        let cspm = Connector::new("cspm", "123456789012", &[Plan::Cspm], vec![], 12, None);
        assert!(
            scan_evidence(&store, &cspm)
                .unwrap()
                .unwrap()
                .sql_servers
                .is_empty()
        );
    }
}
