//! Evaluation and posture for the server: the catalog loaded once,
//! exemptions from the YAML file and the store, re-evaluation, and the
//! per-scan posture cache (secure score, compliance, recommendation counts).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rampart_catalog::compliance::assess_standard;
use rampart_catalog::evaluate::{assess_each, evaluate_inventory};
use rampart_catalog::exemptions::Exemptions;
use rampart_catalog::score::secure_score;
use rampart_catalog::standards::{SecurityControl, Standard, builtin_standards, security_controls};
use rampart_catalog::tally::Tally;
use rampart_catalog::{Catalog, CatalogError, Inventory};
use rampart_model::{Assessment, AssessmentStatus, Asset};
use rampart_store::{Scope, Store, StoredExemption};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::error::ApiError;

/// Posture cache kinds.
pub mod kind {
    pub use rampart_store::posture_kind::{COMPLIANCE, RECOMMENDATIONS, SCORE};
}

/// The catalog, standards and security controls, loaded once.
#[derive(Debug)]
pub struct Posture {
    /// Every recommendation.
    pub catalog: Catalog,
    /// Built-in standards.
    pub standards: Vec<Standard>,
    /// Security controls with their maximum points.
    pub controls: Vec<SecurityControl>,
    /// The exemptions file applied with stored exemptions, if any.
    pub exemptions_file: Option<PathBuf>,
    /// Parsed posture values by (scan, kind), with the stored text each was
    /// parsed from: a read costs one lookup and a comparison instead of
    /// parsing (the compliance value is about 140 KB at 100,000 assets).
    memo: Mutex<HashMap<(String, String), Parsed>>,
}

/// What [`Posture::save_exemption`] did.
#[derive(Debug, Clone)]
pub struct SavedExemption {
    /// The stored exemption.
    pub exemption: StoredExemption,
    /// `false`: an exemption with the same content was stored already and
    /// is returned instead (nothing changed).
    pub created: bool,
    /// The scan re-evaluated with it (`None`: no complete scan, or nothing
    /// changed).
    pub reevaluated_scan: Option<String>,
}

/// A stored posture text and its parsed value.
type Parsed = (String, Arc<Value>);

/// Parsed posture values kept before the memo starts over.
const MEMO_ENTRIES: usize = 64;

/// The status names, in output order.
pub const STATUSES: [&str; 5] = ["unhealthy", "healthy", "not_applicable", "error", "exempt"];

impl Posture {
    /// Loads the built-in catalog.
    pub fn builtin(exemptions_file: Option<PathBuf>) -> Result<Self, CatalogError> {
        Ok(Self {
            catalog: Catalog::builtin()?,
            standards: builtin_standards()?,
            controls: security_controls()?,
            exemptions_file,
            memo: Mutex::default(),
        })
    }

    /// The exemptions to apply: the YAML file's, then the store's.
    pub fn exemptions(&self, store: &Store) -> Result<Exemptions, ApiError> {
        exemptions(self.exemptions_file.as_deref(), store)
    }

    /// Evaluates assets and applies exemptions as of now.
    pub fn assess(&self, assets: &[Asset], exemptions: &Exemptions) -> Vec<Assessment> {
        let inventory = Inventory::new(assets);
        let mut assessments = evaluate_inventory(&self.catalog, &inventory);
        if !exemptions.is_empty() {
            exemptions.apply(&mut assessments, &inventory, OffsetDateTime::now_utc());
        }
        assessments
    }

    /// Re-evaluates a stored scan with the current exemptions, replaces its
    /// assessments and refreshes its posture cache.
    pub fn reevaluate(&self, store: &mut Store, scan_id: &str) -> Result<(), ApiError> {
        let exemptions = self.exemptions(store)?;
        // Streamed, as `rampart evaluate` does: stored rows into the
        // compact inventory, assessments one at a time into the store.
        let mut inventory = Inventory::default();
        store.each_asset_text(|asset, properties| {
            inventory
                .push_json(&asset, properties)
                .map_err(|e| e.to_string())
        })?;
        let now = OffsetDateTime::now_utc();
        let mut tally = Tally::new(&self.catalog);
        store.replace_assessments_with(scan_id, |writer| {
            assess_each(
                &self.catalog,
                &inventory,
                &exemptions,
                now,
                &mut tally,
                |a| writer.write(a),
            )
        })?;
        self.refresh(store, scan_id)?;
        Ok(())
    }

    /// Stores an exemption and re-evaluates the latest complete scan, as
    /// one store transaction that takes the write lock up front: requests
    /// saving at the same time wait for each other instead of failing, and
    /// a failed re-evaluation leaves no exemption behind.
    ///
    /// With `new`, an exemption with the same content that is stored
    /// already is returned instead, so a retried request never makes a
    /// second one.
    pub fn save_exemption(
        &self,
        store: &mut Store,
        exemption: StoredExemption,
        new: bool,
    ) -> Result<SavedExemption, ApiError> {
        store.write(|s| {
            if new && let Some(existing) = s.exemption_like(&exemption.exemption)? {
                return Ok(SavedExemption {
                    exemption: existing,
                    created: false,
                    reevaluated_scan: None,
                });
            }
            s.put_exemption(&exemption)?;
            let reevaluated_scan = self.reevaluate_latest(s)?;
            Ok(SavedExemption {
                exemption,
                created: true,
                reevaluated_scan,
            })
        })
    }

    /// Deletes an exemption and re-evaluates the latest complete scan, in
    /// one store transaction; `false` when there was none with this id.
    pub fn delete_exemption(&self, store: &mut Store, id: &str) -> Result<bool, ApiError> {
        store.write(|s| {
            if !s.delete_exemption(id)? {
                return Ok(false);
            }
            self.reevaluate_latest(s)?;
            Ok(true)
        })
    }

    /// Re-evaluates the latest complete scan, if any; its id.
    fn reevaluate_latest(&self, store: &mut Store) -> Result<Option<String>, ApiError> {
        let Some(scan) = store.latest_complete_scan()? else {
            return Ok(None);
        };
        self.reevaluate(store, &scan.id)?;
        Ok(Some(scan.id))
    }

    /// Computes and caches a scan's posture from its stored assessments.
    pub fn refresh(&self, store: &Store, scan_id: &str) -> Result<(), ApiError> {
        // Only the current scan's assessments exist: computing an older
        // scan's posture from them would cache an empty one.
        if !store.assessments_kept(scan_id)? {
            return Err(ApiError::new(
                axum::http::StatusCode::GONE,
                "scan_history",
                format!(
                    "the assessments of scan `{scan_id}` are history: only the current scan's are kept"
                ),
            ));
        }
        // From the day's aggregates when there are any (one grouped read),
        // else from every current assessment.
        if rampart_engine::scan::cache_current_posture(store, scan_id, &self.catalog)
            .map_err(|e| ApiError::internal(e.to_string()))?
        {
            return Ok(());
        }
        let statuses = store.assessment_statuses()?;
        for kind in [kind::SCORE, kind::COMPLIANCE, kind::RECOMMENDATIONS] {
            store.put_posture(scan_id, kind, &self.compute(kind, &statuses)?)?;
        }
        Ok(())
    }

    /// A posture value ([`kind`]) of `assessments` (statuses suffice: see
    /// [`Store::assessment_statuses`]).
    fn compute(&self, kind: &str, assessments: &[Assessment]) -> Result<Value, ApiError> {
        Ok(match kind {
            kind::SCORE => json!(secure_score(&self.catalog, &self.controls, assessments)),
            kind::COMPLIANCE => {
                let results: Vec<_> = self
                    .standards
                    .iter()
                    .map(|s| assess_standard(s, &self.catalog, assessments))
                    .collect();
                json!(results)
            }
            kind::RECOMMENDATIONS => {
                json!(Tally::of(&self.catalog, assessments).recommendation_counts())
            }
            other => {
                return Err(ApiError::internal(format!(
                    "unknown posture kind `{other}`"
                )));
            }
        })
    }

    /// A scan's posture value ([`kind`]: the secure score, compliance or
    /// the counts per recommendation) over the assessments in `scope`: the
    /// cached value for the whole estate, else computed from the matching
    /// assessments (not cached).
    pub fn scoped(
        &self,
        store: &Store,
        scan_id: &str,
        kind: &str,
        scope: &Scope,
    ) -> Result<Arc<Value>, ApiError> {
        if scope.is_everything() {
            return self.cached_shared(store, scan_id, kind);
        }
        // From the latest day's aggregates of the scope's accounts and
        // region (a few rows per account), else from its assessments.
        if let Some(counted) = rampart_engine::scan::current_posture(store, scope)
            .map_err(|e| ApiError::internal(e.to_string()))?
        {
            return counted
                .of_kind(kind, &self.catalog, &self.standards)
                .map(Arc::new)
                .ok_or_else(|| ApiError::internal(format!("unknown posture kind `{kind}`")));
        }
        let statuses = store.assessment_statuses_in(scope)?;
        Ok(Arc::new(self.compute(kind, &statuses)?))
    }

    /// A scan's cached posture value, computed first when missing.
    pub fn cached(&self, store: &Store, scan_id: &str, kind: &str) -> Result<Value, ApiError> {
        let shared = self.cached_shared(store, scan_id, kind)?;
        Ok(Value::clone(&shared))
    }

    /// [`cached`](Self::cached) without copying the value. Parsed values
    /// are kept in memory and reused while the stored text is unchanged, so
    /// a re-evaluation (here or by the CLI) shows at once.
    pub fn cached_shared(
        &self,
        store: &Store,
        scan_id: &str,
        kind: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let text = match store.posture_text(scan_id, kind)? {
            Some(text) => text,
            None => {
                self.refresh(store, scan_id)?;
                store
                    .posture_text(scan_id, kind)?
                    .unwrap_or_else(|| "null".to_owned())
            }
        };
        let key = (scan_id.to_owned(), kind.to_owned());
        let lock = || {
            self.memo
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((seen, value)) = lock().get(&key)
            && *seen == text
        {
            return Ok(value.clone());
        }
        let value: Arc<Value> = Arc::new(serde_json::from_str(&text).map_err(|e| {
            ApiError::internal(format!("stored posture `{kind}` of scan `{scan_id}`: {e}"))
        })?);
        let mut memo = lock();
        if memo.len() >= MEMO_ENTRIES {
            memo.clear();
        }
        memo.insert(key, (text, value.clone()));
        Ok(value)
    }

    /// The secure score (percent) of each account of a scan in `scope`:
    /// from the current day's per-account control counts
    /// ([`Store::account_scores`]: one grouped read, whatever the number
    /// of assessments), or before the first day has them, from one read of
    /// the assessments.
    pub fn account_scores(
        &self,
        store: &Store,
        scan_id: &str,
        scope: &Scope,
    ) -> Result<BTreeMap<String, f64>, ApiError> {
        if store.assessments_kept(scan_id)?
            && let Some(scores) = store.account_scores(scope)?
        {
            return Ok(scores);
        }
        let mut by_account: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for a in store.assessment_statuses_in(scope)? {
            by_account.entry(a.account.clone()).or_default().push(a);
        }
        Ok(by_account
            .into_iter()
            .map(|(account, statuses)| {
                let score = secure_score(&self.catalog, &self.controls, &statuses);
                (account, score.percent)
            })
            .collect())
    }

    /// Caches the score of complete scans that have none yet (older scans,
    /// or scans written by the CLI), a few at a time.
    pub fn fill_history(&self, store: &Store) -> Result<(), ApiError> {
        for id in store.scans_without_score(50)? {
            self.refresh(store, &id)?;
        }
        Ok(())
    }
}

/// The `account`, `connector` and `region` query parameters of the score
/// and compliance reads (API and dashboard): the part of the estate they
/// cover. An empty value counts as not given (a form's empty field).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ScopeQuery {
    /// Only this account.
    pub account: Option<String>,
    /// Only the accounts of this connector (name or id).
    pub connector: Option<String>,
    /// Only this region.
    pub region: Option<String>,
}

impl ScopeQuery {
    /// The scope these parameters stand for: 404 for an unknown connector.
    pub fn resolve(&self, store: &Store) -> Result<Scope, ApiError> {
        Ok(store.scope(
            self.account.as_deref(),
            self.connector.as_deref(),
            self.region.as_deref(),
        )?)
    }

    /// The parameters given (non-empty), in a fixed order, for links.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("account", &self.account),
            ("connector", &self.connector),
            ("region", &self.region),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (name, v)))
        .collect()
    }
}

/// Reads the exemptions file (if any) and adds the stored exemptions.
pub fn exemptions(file: Option<&Path>, store: &Store) -> Result<Exemptions, ApiError> {
    let mut all = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ApiError::internal(format!("cannot read exemptions `{}`: {e}", path.display()))
            })?;
            Exemptions::from_yaml(&text)
                .map_err(|e| ApiError::internal(format!("exemptions `{}`: {e}", path.display())))?
        }
        None => Exemptions::default(),
    };
    let stored = Exemptions::from_list(store.all_exemptions()?)
        .map_err(|e| ApiError::internal(format!("stored {e}")))?;
    all.extend(stored);
    Ok(all)
}

/// Whether an assessment status name is known.
pub fn parse_status(text: &str) -> Result<AssessmentStatus, ApiError> {
    AssessmentStatus::parse(text).ok_or_else(|| {
        ApiError::bad_request(rampart_model::suggest::unknown(
            "status",
            text,
            &STATUSES,
            STATUSES.len(),
            None,
        ))
    })
}

#[cfg(test)]
mod tests {
    use rampart_model::{ScanRecord, ScanStatus, Snapshot};

    use super::*;

    #[test]
    fn parsed_posture_is_reused_until_the_stored_value_changes() {
        let posture = Posture::builtin(None).unwrap();
        let mut store = Store::open_in_memory().unwrap();
        let now = OffsetDateTime::now_utc();
        let scan = ScanRecord {
            id: "s".into(),
            started_at: now,
            finished_at: Some(now),
            status: ScanStatus::Complete,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 0,
            asset_count: 0,
            gap_count: 0,
        };
        let snapshot = Snapshot {
            scan,
            assets: Vec::new(),
            gaps: Vec::new(),
        };
        store.complete_scan(&snapshot, &[]).unwrap();
        // Computed and stored on first use, then served from memory.
        let first = posture.cached_shared(&store, "s", kind::SCORE).unwrap();
        assert!(store.posture("s", kind::SCORE).unwrap().is_some());
        let again = posture.cached_shared(&store, "s", kind::SCORE).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // Another writer (a re-evaluation, the CLI) changes the stored value.
        store
            .put_posture("s", kind::SCORE, &json!({"percent": 12.5}))
            .unwrap();
        let changed = posture.cached_shared(&store, "s", kind::SCORE).unwrap();
        assert_eq!(changed.get("percent"), Some(&json!(12.5)));
        assert_eq!(posture.cached(&store, "s", kind::SCORE).unwrap(), *changed);
    }
}
