//! Posture reads over a part of the estate: the accounts of a connector or
//! one account, and one region. The secure score, compliance and exports of
//! a [`Scope`] are computed from the assessments (and gaps, machines) it
//! matches; every surface (API, dashboard, CLI) resolves its
//! `account` / `connector` / `region` filters with [`Store::scope`].

use crate::db::params_from_iter;
use rampart_model::machine::MachineScan;
use rampart_model::{Assessment, CoverageGap, GapKind, ScanRecord};

use crate::pages::Where;
use crate::{Result, Store, assessment_from_row, collect_rows, parse_json, parse_status};

/// The part of a snapshot a posture read covers. The default covers the
/// whole estate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Only these accounts (`None`: every account; empty: none).
    pub accounts: Option<Vec<String>>,
    /// Only this region (global resources carry the home region the scan
    /// used).
    pub region: Option<String>,
}

impl Scope {
    /// Whether this is the whole estate (no filter).
    pub fn is_everything(&self) -> bool {
        self.accounts.is_none() && self.region.is_none()
    }

    /// Whether an item of `account` in `region` is in the scope.
    pub fn contains(&self, account: &str, region: &str) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|list| list.iter().any(|a| a == account))
            && self.region.as_ref().is_none_or(|r| r == region)
    }

    /// Adds the scope's conditions on `account` and `region` columns.
    pub(crate) fn restrict(&self, w: &mut Where) {
        w.and_accounts(self.accounts.as_deref());
        w.and_opt("region =", self.region.as_ref());
    }
}

/// `value` unless it is empty.
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// `(account, region)` of an ARN; empty parts when it has none.
fn arn_account_region(arn: &str) -> (&str, &str) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    (account, region)
}

impl Store {
    /// The scope of the `account`, `connector` and `region` filters, each
    /// optional (an empty value counts as not given). `connector` (a name
    /// or id) stands for its accounts ([`Store::accounts_of_connector`]:
    /// [`StoreError::NoSuchConnector`](crate::StoreError::NoSuchConnector)
    /// when there is none); with `account` too, that account only if the
    /// connector has it, else nothing.
    pub fn scope(
        &self,
        account: Option<&str>,
        connector: Option<&str>,
        region: Option<&str>,
    ) -> Result<Scope> {
        let mut accounts = given(connector)
            .map(|c| self.accounts_of_connector(c))
            .transpose()?;
        if let Some(account) = given(account) {
            accounts = Some(match accounts {
                Some(list) => list.into_iter().filter(|a| a == account).collect(),
                None => vec![account.to_owned()],
            });
        }
        Ok(Scope {
            accounts,
            region: given(region).map(str::to_owned),
        })
    }

    /// [`assessment_statuses`](Self::assessment_statuses) of the
    /// assessments in `scope`.
    pub fn assessment_statuses_in(&self, scope: &Scope) -> Result<Vec<Assessment>> {
        let mut w = Where::all();
        scope.restrict(&mut w);
        let sql = format!(
            "SELECT recommendation, resource, account, region, status FROM assessments{}",
            w.sql
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |row| {
            let status: String = row.get(4)?;
            let (recommendation, resource, account, region) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            Ok(parse_status(&status).map(|status| Assessment {
                recommendation,
                resource,
                resource_type: String::new(),
                resource_name: String::new(),
                account,
                region,
                status,
                reason: String::new(),
                evidence: Vec::new(),
                exemption: None,
            }))
        })?;
        collect_rows(rows)
    }

    /// [`assessments`](Self::assessments) in `scope`, ordered by
    /// recommendation and resource.
    pub fn assessments_in(&self, scope: &Scope) -> Result<Vec<Assessment>> {
        let mut w = Where::all();
        scope.restrict(&mut w);
        let sql = format!(
            "SELECT recommendation, resource, resource_type, resource_name, account, region, status, reason, evidence, exemption
             FROM assessments{} ORDER BY recommendation, resource",
            w.sql
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), assessment_from_row)?;
        collect_rows(rows)
    }

    /// [`gaps`](Self::gaps) in `scope`, ordered by account, region,
    /// service and operation.
    pub fn gaps_in(&self, scope: &Scope) -> Result<Vec<CoverageGap>> {
        let mut w = Where::all();
        scope.restrict(&mut w);
        let sql = format!(
            "SELECT account, region, service, operation, kind, error, occurrences FROM gaps{}
             ORDER BY account, region, service, operation, kind, error",
            w.sql
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |row| {
            let kind: String = row.get(4)?;
            let occurrences: i64 = row.get(6)?;
            Ok(Ok(CoverageGap {
                account: row.get(0)?,
                region: row.get(1)?,
                service: row.get(2)?,
                operation: row.get(3)?,
                kind: parse_json("kind", &format!("\"{kind}\"")).unwrap_or(GapKind::Other),
                error: row.get(5)?,
                occurrences: u64::try_from(occurrences).unwrap_or(0),
            }))
        })?;
        collect_rows(rows)
    }

    /// [`machine_scans`](Self::machine_scans) of machines in `scope` (by
    /// the account and region of their ARN).
    pub fn machine_scans_in(&self, scan_id: &str, scope: &Scope) -> Result<Vec<MachineScan>> {
        let mut machines = self.machine_scans(scan_id)?;
        if !scope.is_everything() {
            machines.retain(|m| {
                let (account, region) = arn_account_region(&m.resource);
                scope.contains(account, region)
            });
        }
        Ok(machines)
    }

    /// The accounts of a scan's assets in `scope` with their asset counts,
    /// by account.
    pub fn asset_account_counts_in(&self, scope: &Scope) -> Result<Vec<(String, u64)>> {
        let mut w = Where::all();
        scope.restrict(&mut w);
        let sql = format!(
            "SELECT account, COUNT(*) FROM assets{} GROUP BY account ORDER BY account",
            w.sql
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), |r| {
            let n: i64 = r.get(1)?;
            Ok(Ok((r.get::<String>(0)?, u64::try_from(n).unwrap_or(0))))
        })?;
        collect_rows(rows)
    }

    /// `scan` as the record of its snapshot's part in `scope`: the accounts
    /// and regions it scanned that are in the scope, and the scope's asset
    /// and gap counts. The whole estate: `scan` as it is.
    pub fn scan_in(&self, scan: &ScanRecord, scope: &Scope) -> Result<ScanRecord> {
        if scope.is_everything() {
            return Ok(scan.clone());
        }
        let count = |table: &str| -> Result<u64> {
            let mut w = Where::all();
            scope.restrict(&mut w);
            let n: i64 = self.conn.query_row(
                &format!("SELECT COUNT(*) FROM {table}{}", w.sql),
                params_from_iter(w.args.iter()),
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let mut part = scan.clone();
        part.accounts
            .retain(|a| scope.accounts.as_ref().is_none_or(|list| list.contains(a)));
        part.regions
            .retain(|r| scope.region.as_ref().is_none_or(|want| want == r));
        part.asset_count = count("assets")?;
        part.gap_count = count("gaps")?;
        Ok(part)
    }
}

#[cfg(test)]
mod tests {
    use rampart_connector::{Connector, Plan};
    use rampart_model::{AssessmentStatus, Asset, ScanStatus, Snapshot};
    use time::OffsetDateTime;

    use super::*;

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    fn assessment(account: &str, region: &str, n: u32) -> Assessment {
        Assessment {
            recommendation: "r1".into(),
            resource: format!("arn:aws:ec2:{region}:{account}:volume/vol-{n}"),
            resource_type: "AWS::EC2::Volume".into(),
            resource_name: format!("vol-{n}"),
            account: account.into(),
            region: region.into(),
            status: AssessmentStatus::Unhealthy,
            reason: String::new(),
            evidence: Vec::new(),
            exemption: None,
        }
    }

    /// One snapshot holding A (two regions) and B (one), scanned through
    /// connector `prod-a` for A.
    fn estate() -> Store {
        let mut store = crate::test_store();
        let list = [
            (A, "us-east-1", 1),
            (A, "eu-west-1", 2),
            (B, "us-east-1", 3),
        ];
        let assessments: Vec<Assessment> =
            list.iter().map(|(a, r, n)| assessment(a, r, *n)).collect();
        let assets = assessments
            .iter()
            .map(|a| {
                Asset::new(
                    &a.resource,
                    "AWS::EC2::Volume",
                    &a.account,
                    &a.region,
                    &a.resource_name,
                    serde_json::json!({}),
                )
            })
            .collect();
        let now = OffsetDateTime::now_utc();
        let scan = ScanRecord {
            id: "s".into(),
            started_at: now,
            finished_at: Some(now),
            status: ScanStatus::Running,
            accounts: vec![A.into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            api_calls: 0,
            asset_count: 0,
            gap_count: 0,
        };
        let gaps = vec![CoverageGap {
            account: B.into(),
            region: "us-east-1".into(),
            service: "ec2".into(),
            operation: "DescribeVolumes".into(),
            kind: GapKind::AccessDenied,
            error: "denied".into(),
            occurrences: 1,
        }];
        store
            .complete_scan(&Snapshot { scan, assets, gaps }, &assessments)
            .unwrap();
        let prod = Connector::new("prod-a", A, &[Plan::Cspm], Vec::new(), 12, None);
        store.create_connector(&prod).unwrap();
        store.set_scan_connector("s", &prod.id.to_string()).unwrap();
        store
    }

    fn accounts_regions(list: &[Assessment]) -> Vec<(String, String)> {
        list.iter()
            .map(|a| (a.account.clone(), a.region.clone()))
            .collect()
    }

    #[test]
    fn filters_resolve_to_a_scope() {
        let store = estate();
        assert!(store.scope(None, None, None).unwrap().is_everything());
        assert!(
            store
                .scope(Some(""), Some(""), Some(""))
                .unwrap()
                .is_everything()
        );
        let by_connector = store.scope(None, Some("prod-a"), None).unwrap();
        assert_eq!(by_connector.accounts, Some(vec![A.to_owned()]));
        // An account the connector has, and one it has not.
        let both = store.scope(Some(A), Some("prod-a"), None).unwrap();
        assert_eq!(both.accounts, Some(vec![A.to_owned()]));
        let outside = store.scope(Some(B), Some("prod-a"), None).unwrap();
        assert_eq!(outside.accounts, Some(Vec::new()));
        assert!(matches!(
            store.scope(None, Some("nope"), None),
            Err(crate::StoreError::NoSuchConnector(name)) if name == "nope"
        ));
        let region = store.scope(None, None, Some("eu-west-1")).unwrap();
        assert_eq!(region.region.as_deref(), Some("eu-west-1"));
        assert!(region.contains(B, "eu-west-1") && !region.contains(A, "us-east-1"));
    }

    #[test]
    fn reads_in_a_scope_keep_its_part_only() {
        let store = estate();
        let everything = Scope::default();
        assert_eq!(store.assessments_in(&everything).unwrap().len(), 3);
        let a = store.scope(Some(A), None, None).unwrap();
        let want_a = vec![
            (A.to_owned(), "us-east-1".to_owned()),
            (A.to_owned(), "eu-west-1".to_owned()),
        ];
        let mut got = accounts_regions(&store.assessments_in(&a).unwrap());
        got.sort();
        let mut want = want_a.clone();
        want.sort();
        assert_eq!(got, want);
        let mut statuses = accounts_regions(&store.assessment_statuses_in(&a).unwrap());
        statuses.sort();
        assert_eq!(statuses, want);
        let a_east = store
            .scope(None, Some("prod-a"), Some("us-east-1"))
            .unwrap();
        assert_eq!(
            accounts_regions(&store.assessments_in(&a_east).unwrap()),
            vec![(A.to_owned(), "us-east-1".to_owned())]
        );
        assert!(
            store
                .assessments_in(&store.scope(Some(B), Some("prod-a"), None).unwrap())
                .unwrap()
                .is_empty()
        );
        // Gaps and the scan record follow the scope.
        let b = store.scope(Some(B), None, None).unwrap();
        assert_eq!(store.gaps_in(&b).unwrap().len(), 1);
        assert!(store.gaps_in(&a).unwrap().is_empty());
        let scan = store.scan("s").unwrap();
        let part = store.scan_in(&scan, &a_east).unwrap();
        assert_eq!(part.accounts, vec![A.to_owned()]);
        assert_eq!(part.regions, vec!["us-east-1".to_owned()]);
        assert_eq!((part.asset_count, part.gap_count), (1, 0));
        let part_b = store.scan_in(&scan, &b).unwrap();
        assert!(part_b.accounts.is_empty(), "B was kept, not scanned");
        assert_eq!((part_b.asset_count, part_b.gap_count), (1, 1));
        assert_eq!(store.scan_in(&scan, &everything).unwrap(), scan);
        assert_eq!(
            store.asset_account_counts_in(&everything).unwrap(),
            vec![(A.to_owned(), 2), (B.to_owned(), 1)]
        );
        // Machines by the account and region of their ARN.
        let mut store = store;
        let machines = rampart_testkit::machines::sample_machines();
        store.put_machine_scans("s", &machines).unwrap();
        let resources = |scope: &Scope| -> Vec<String> {
            store
                .machine_scans_in("s", scope)
                .unwrap()
                .into_iter()
                .map(|m| m.resource)
                .collect()
        };
        assert_eq!(resources(&everything).len(), machines.len());
        let worker = Scope {
            accounts: Some(vec!["210987654321".into()]),
            region: None,
        };
        assert_eq!(
            resources(&worker),
            vec![rampart_testkit::machines::WORKER_ARN.to_owned()]
        );
        let east_only = Scope {
            accounts: None,
            region: Some("us-east-1".into()),
        };
        assert_eq!(
            resources(&east_only),
            vec![
                rampart_testkit::machines::BROKEN_ARN.to_owned(),
                rampart_testkit::machines::WEB_ARN.to_owned()
            ]
        );
        let east = store.scope(None, None, Some("us-east-1")).unwrap();
        assert_eq!(
            store.asset_account_counts_in(&east).unwrap(),
            vec![(A.to_owned(), 1), (B.to_owned(), 1)]
        );
    }
}
