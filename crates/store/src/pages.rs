//! Paginated reads for the API: keyset pages over the primary keys, so a
//! page costs the same on page 1 and page 1,000.

use crate::db::params_from_iter;
use rampart_model::{Assessment, AssessmentStatus, Asset, ScanRecord, ScanStatus};

use crate::{
    AssetFilter, Result, SCAN_COLUMNS, Store, assessment_from_row, asset_from_row, collect_rows,
    scan_from_row, to_i64,
};

/// Which assessments to read.
#[derive(Debug, Clone, Default)]
pub struct AssessmentFilter {
    /// Only this recommendation.
    pub recommendation: Option<String>,
    /// Only this status.
    pub status: Option<AssessmentStatus>,
    /// Only this account.
    pub account: Option<String>,
    /// Only these accounts (a connector's: [`Store::accounts_of_connector`]).
    pub accounts: Option<Vec<String>>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource (ARN).
    pub resource: Option<String>,
}

/// SQL `WHERE` clauses with their positional arguments.
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) args: Vec<crate::db::Value>,
}

impl Where {
    pub(crate) fn new(first: &str, value: impl Into<crate::db::Value>) -> Self {
        Self {
            sql: format!(" WHERE {first} ?1"),
            args: vec![value.into()],
        }
    }

    /// No condition yet: every row, until `and` adds one.
    pub(crate) fn all() -> Self {
        Self {
            sql: " WHERE TRUE".to_owned(),
            args: Vec::new(),
        }
    }

    fn and(&mut self, clause: &str, value: impl Into<crate::db::Value>) {
        self.args.push(value.into());
        self.sql
            .push_str(&format!(" AND {clause} ?{}", self.args.len()));
    }

    pub(crate) fn and_opt(&mut self, clause: &str, value: Option<&String>) {
        if let Some(v) = value {
            self.and(clause, v.clone());
        }
    }

    /// `account IN (…)` when a list is given (see [`and_in`](Self::and_in)).
    pub(crate) fn and_accounts(&mut self, accounts: Option<&[String]>) {
        if let Some(list) = accounts {
            self.and_in("account", list);
        }
    }

    /// `column IN (…)`: one placeholder per value (the planner sees the
    /// values and uses the column's indexes; with `json_each` PostgreSQL
    /// guessed the list's size and scanned every row, seconds at 10 M
    /// assessments), `json_each` past a thousand.
    pub(crate) fn and_in(&mut self, column: &str, list: &[impl AsRef<str>]) {
        const MOST_PLACEHOLDERS: usize = 1000;
        if list.is_empty() {
            self.sql.push_str(" AND FALSE");
            return;
        }
        if list.len() <= MOST_PLACEHOLDERS {
            let first = self.args.len() + 1;
            let marks: Vec<String> = (first..first + list.len())
                .map(|n| format!("?{n}"))
                .collect();
            self.sql
                .push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
            self.args.extend(
                list.iter()
                    .map(|v| crate::db::Value::from(v.as_ref().to_owned())),
            );
            return;
        }
        let values: Vec<&str> = list.iter().map(AsRef::as_ref).collect();
        self.and(
            &format!("{column} IN (SELECT value FROM json_each("),
            serde_json::to_string(&values).unwrap_or_else(|_| "[]".to_owned()),
        );
        self.sql.push_str("))");
    }

    /// `(first, second) > (?, ?)`. When a filter fixes `first` to
    /// `fixed`, the same condition on `second` alone: SQLite serves that
    /// from an index range in order, where the row value makes it sort
    /// every row the filter matches (tens of milliseconds at 100,000 rows).
    fn after(
        &mut self,
        (first, second): (&str, &str),
        key: Option<&(String, String)>,
        fixed: Option<&String>,
    ) {
        let Some((a, b)) = key else {
            return;
        };
        // SQLite's default collation compares bytes, as `str::cmp` does.
        match fixed.map(|f| f.as_str().cmp(a.as_str())) {
            // Every row the filter matches comes after the key.
            Some(std::cmp::Ordering::Greater) => {}
            Some(std::cmp::Ordering::Equal) => self.and(&format!("{second} >"), b.clone()),
            // None does.
            Some(std::cmp::Ordering::Less) => self.sql.push_str(" AND FALSE"),
            None => {
                self.args.push(a.clone().into());
                self.args.push(b.clone().into());
                let n = self.args.len();
                self.sql
                    .push_str(&format!(" AND ({first}, {second}) > (?{}, ?{n})", n - 1));
            }
        }
    }
}

impl Store {
    /// Scans, newest first, optionally of one status: `limit` after `offset`.
    pub fn scans_page(
        &self,
        status: Option<ScanStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<ScanRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "{SCAN_COLUMNS} WHERE (status = ?1 OR ?1 IS NULL) ORDER BY started_at DESC, id DESC LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = stmt.query_map(
            crate::db::params![status.map(|s| s.as_str()), to_i64(limit), to_i64(offset)],
            scan_from_row,
        )?;
        collect_rows(rows)
    }

    /// A page of a scan's assets ordered by type then ARN, after the
    /// `(type, arn)` key `after`.
    pub fn assets_page(
        &self,
        filter: &AssetFilter,
        after: Option<&(String, String)>,
        limit: u64,
    ) -> Result<Vec<Asset>> {
        let mut w = Where::all();
        w.and_opt("type =", filter.resource_type.as_ref());
        w.and_opt("region =", filter.region.as_ref());
        w.and_opt("account =", filter.account.as_ref());
        w.and_accounts(filter.accounts.as_deref());
        if let Some((key, value)) = &filter.tag {
            // `json_each` compares keys as text: any key works, where a JSON
            // path built from it fails on quotes and control characters.
            w.args.push(key.clone().into());
            let n = w.args.len();
            match value {
                Some(v) => w.and(
                    &format!("EXISTS (SELECT 1 FROM json_each(tags) WHERE key = ?{n} AND value ="),
                    v.clone(),
                ),
                None => w.sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM json_each(tags) WHERE key = ?{n}"
                )),
            }
            w.sql.push(')');
        }
        w.after(("type", "arn"), after, filter.resource_type.as_ref());
        w.args.push(to_i64(limit).into());
        let sql = format!(
            "SELECT arn, type, account, region, name, tags, properties, unavailable FROM assets{} ORDER BY type, arn LIMIT ?{}",
            w.sql,
            w.args.len()
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), asset_from_row)?;
        collect_rows(rows)
    }

    /// A page of a scan's assessments ordered by recommendation then
    /// resource, after the `(recommendation, resource)` key `after`.
    pub fn assessments_page(
        &self,
        filter: &AssessmentFilter,
        after: Option<&(String, String)>,
        limit: u64,
    ) -> Result<Vec<Assessment>> {
        let mut w = Where::all();
        w.and_opt("recommendation =", filter.recommendation.as_ref());
        if let Some(status) = filter.status {
            w.and("status =", status.as_str().to_owned());
        }
        w.and_opt("account =", filter.account.as_ref());
        w.and_accounts(filter.accounts.as_deref());
        w.and_opt("region =", filter.region.as_ref());
        w.and_opt("resource_type =", filter.resource_type.as_ref());
        w.and_opt("resource =", filter.resource.as_ref());
        match (&filter.recommendation, &filter.resource) {
            // One resource's assessments: page on the recommendation alone
            // (the key's second column is fixed).
            (None, Some(resource)) => {
                if let Some((a, b)) = after {
                    // (recommendation, resource) > (a, b) with resource fixed.
                    let op = if resource.as_str() > b.as_str() {
                        ">="
                    } else {
                        ">"
                    };
                    w.and(&format!("recommendation {op}"), a.clone());
                }
            }
            _ => w.after(
                ("recommendation", "resource"),
                after,
                filter.recommendation.as_ref(),
            ),
        }
        w.args.push(to_i64(limit).into());
        let sql = format!(
            "SELECT recommendation, resource, resource_type, resource_name, account, region, status, reason, evidence, exemption
             FROM assessments{} ORDER BY recommendation, resource LIMIT ?{}",
            w.sql,
            w.args.len()
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.args.iter()), assessment_from_row)?;
        collect_rows(rows)
    }

    /// A scan's assessments with only recommendation, resource, account,
    /// region and status filled in: enough for the score and compliance,
    /// at a fraction of the cost of [`assessments`](Self::assessments).
    pub fn assessment_statuses(&self) -> Result<Vec<Assessment>> {
        self.assessment_statuses_in(&crate::Scope::default())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rampart_model::{Assessment, AssessmentStatus, Asset, ScanRecord, Snapshot};
    use time::OffsetDateTime;

    use crate::{AssessmentFilter, AssetFilter, Store};

    fn store_with(assets: Vec<Asset>, assessments: &[Assessment]) -> Store {
        let now = OffsetDateTime::now_utc();
        let scan = ScanRecord {
            id: "s".into(),
            started_at: now,
            finished_at: Some(now),
            status: rampart_model::ScanStatus::Complete,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 0,
            asset_count: 0,
            gap_count: 0,
        };
        let mut store = crate::test_store();
        store
            .complete_scan(
                &Snapshot {
                    scan,
                    assets,
                    gaps: Vec::new(),
                },
                assessments,
            )
            .unwrap();
        store
    }

    /// A filter that fixes the key's first column pages on the second
    /// alone; a cursor from another type still means "after this key".
    #[test]
    fn keyset_pages_with_a_fixed_type_follow_the_key_order() {
        let assets: Vec<Asset> = ["A", "B", "C"]
            .iter()
            .flat_map(|t| {
                (0..5).map(move |i| {
                    let arn = format!("arn:{t}:{i}");
                    Asset::new(
                        &arn,
                        *t,
                        "123456789012",
                        "us-east-1",
                        &arn,
                        serde_json::json!({}),
                    )
                })
            })
            .collect();
        let store = store_with(assets, &[]);
        let only_b = AssetFilter {
            resource_type: Some("B".into()),
            ..AssetFilter::default()
        };
        let arns = |filter: &AssetFilter, after: Option<(&str, &str)>| -> Vec<String> {
            let key = after.map(|(a, b)| (a.to_owned(), b.to_owned()));
            store
                .assets_page(filter, key.as_ref(), 100)
                .unwrap()
                .into_iter()
                .map(|a| a.arn)
                .collect()
        };
        let b: Vec<String> = (0..5).map(|i| format!("arn:B:{i}")).collect();
        // Page by page, one at a time.
        let mut seen = Vec::new();
        let mut key: Option<(String, String)> = None;
        loop {
            let page = store.assets_page(&only_b, key.as_ref(), 1).unwrap();
            let Some(last) = page.last() else { break };
            key = Some((last.resource_type.clone(), last.arn.clone()));
            seen.push(last.arn.clone());
        }
        assert_eq!(seen, b);
        assert_eq!(arns(&only_b, Some(("B", "arn:B:2"))), b[3..].to_vec());
        assert_eq!(
            arns(&only_b, Some(("A", "arn:A:4"))),
            b,
            "every B is after A"
        );
        assert!(
            arns(&only_b, Some(("C", "arn:C:0"))).is_empty(),
            "no B after C"
        );
        // Without a fixed type the row value applies across types.
        let all = arns(&AssetFilter::default(), Some(("B", "arn:B:3")));
        assert_eq!(all.first().map(String::as_str), Some("arn:B:4"));
        assert_eq!(all.len(), 6);
    }

    /// One resource's assessments page on the recommendation, whatever
    /// resource the cursor names.
    #[test]
    fn keyset_pages_of_one_resource_follow_the_key_order() {
        let assessment = |rec: &str, resource: &str| Assessment {
            recommendation: rec.into(),
            resource: resource.into(),
            resource_type: "T".into(),
            resource_name: resource.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            status: AssessmentStatus::Healthy,
            reason: String::new(),
            evidence: Vec::new(),
            exemption: None,
        };
        let mut all = Vec::new();
        for rec in ["r1", "r2", "r3"] {
            for resource in ["arn:a", "arn:b", "arn:c"] {
                all.push(assessment(rec, resource));
            }
        }
        let store = store_with(Vec::new(), &all);
        let of_b = AssessmentFilter {
            resource: Some("arn:b".into()),
            ..AssessmentFilter::default()
        };
        let recs = |after: (&str, &str)| -> Vec<String> {
            let key = (after.0.to_owned(), after.1.to_owned());
            store
                .assessments_page(&of_b, Some(&key), 10)
                .unwrap()
                .into_iter()
                .map(|a| {
                    assert_eq!(a.resource, "arn:b");
                    a.recommendation
                })
                .collect()
        };
        assert_eq!(recs(("r1", "arn:b")), ["r2", "r3"]);
        assert_eq!(recs(("r1", "arn:a")), ["r1", "r2", "r3"]);
        assert_eq!(recs(("r1", "arn:c")), ["r2", "r3"]);
        assert_eq!(recs(("r3", "arn:b")), Vec::<String>::new());
        // The same answers as the unfiltered list, filtered.
        for key in [("r1", "arn:a"), ("r2", "arn:b"), ("r2", "arn:c")] {
            let k = (key.0.to_owned(), key.1.to_owned());
            let expected: Vec<String> = store
                .assessments_page(&AssessmentFilter::default(), Some(&k), 100)
                .unwrap()
                .into_iter()
                .filter(|a| a.resource == "arn:b")
                .map(|a| a.recommendation)
                .collect();
            assert_eq!(recs(key), expected, "{key:?}");
        }
    }

    /// Tag keys are whatever AWS holds: quotes, backslashes, control
    /// characters and NUL must filter like any other key, in both reads.
    #[test]
    fn tag_filters_take_any_key_and_value() {
        let keys = [
            "env",
            "we\"ird",
            "back\\slash",
            "$.path[0]",
            "ctl\u{3}\u{10}>",
            "nul\u{0}key",
            "",
        ];
        let assets: Vec<Asset> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let arn = format!("arn:{i}");
                Asset::new(
                    &arn,
                    "T",
                    "123456789012",
                    "us-east-1",
                    &arn,
                    serde_json::json!({}),
                )
                .with_tags(BTreeMap::from([((*key).to_owned(), format!("v{i}"))]))
            })
            .collect();
        let store = store_with(assets, &[]);
        for (i, key) in keys.iter().enumerate() {
            for value in [None, Some(format!("v{i}"))] {
                let filter = AssetFilter {
                    tag: Some(((*key).to_owned(), value.clone())),
                    ..AssetFilter::default()
                };
                let paged: Vec<String> = store
                    .assets_page(&filter, None, 10)
                    .unwrap()
                    .into_iter()
                    .map(|a| a.arn)
                    .collect();
                assert_eq!(paged, vec![format!("arn:{i}")], "{key:?} {value:?}");
                let all: Vec<String> = store
                    .assets(&filter)
                    .unwrap()
                    .into_iter()
                    .map(|a| a.arn)
                    .collect();
                assert_eq!(all, paged, "{key:?} {value:?}");
            }
            let wrong = AssetFilter {
                tag: Some(((*key).to_owned(), Some("other".into()))),
                ..AssetFilter::default()
            };
            assert!(store.assets_page(&wrong, None, 10).unwrap().is_empty());
        }
    }

    /// A connector's accounts narrow every list read.
    #[test]
    fn an_accounts_list_narrows_assets_and_assessments() {
        let accounts = ["111111111111", "222222222222", "333333333333"];
        let assets: Vec<Asset> = accounts
            .iter()
            .map(|a| {
                let arn = format!("arn:aws:s3:::{a}");
                Asset::new(&arn, "T", *a, "us-east-1", &arn, serde_json::json!({}))
            })
            .collect();
        let assessments: Vec<Assessment> = accounts
            .iter()
            .map(|a| Assessment {
                recommendation: "r1".into(),
                resource: format!("arn:aws:s3:::{a}"),
                resource_type: "T".into(),
                resource_name: (*a).into(),
                account: (*a).into(),
                region: "us-east-1".into(),
                status: AssessmentStatus::Unhealthy,
                reason: String::new(),
                evidence: Vec::new(),
                exemption: None,
            })
            .collect();
        let store = store_with(assets, &assessments);
        let two = Some(vec![accounts[0].to_owned(), accounts[2].to_owned()]);
        let want = vec![accounts[0].to_owned(), accounts[2].to_owned()];
        let filter = AssetFilter {
            accounts: two.clone(),
            ..AssetFilter::default()
        };
        let listed: Vec<String> = store
            .assets(&filter)
            .unwrap()
            .into_iter()
            .map(|a| a.account)
            .collect();
        assert_eq!(listed, want);
        let paged: Vec<String> = store
            .assets_page(&filter, None, 10)
            .unwrap()
            .into_iter()
            .map(|a| a.account)
            .collect();
        assert_eq!(paged, want);
        let assessed: Vec<String> = store
            .assessments_page(
                &AssessmentFilter {
                    accounts: two,
                    ..AssessmentFilter::default()
                },
                None,
                10,
            )
            .unwrap()
            .into_iter()
            .map(|a| a.account)
            .collect();
        assert_eq!(assessed, want);
        let none = AssetFilter {
            accounts: Some(Vec::new()),
            ..AssetFilter::default()
        };
        assert!(store.assets(&none).unwrap().is_empty());
    }
}
