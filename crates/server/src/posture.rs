//! Evaluation and posture for the server: the catalog loaded once,
//! exemptions from the YAML file and the store, re-evaluation, and the
//! per-scan posture cache (secure score, compliance, recommendation counts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rampart_catalog::compliance::assess_standard;
use rampart_catalog::evaluate::evaluate_inventory;
use rampart_catalog::exemptions::Exemptions;
use rampart_catalog::score::secure_score;
use rampart_catalog::standards::{SecurityControl, Standard, builtin_standards, security_controls};
use rampart_catalog::{Catalog, CatalogError, Inventory};
use rampart_model::{Assessment, AssessmentStatus, Asset};
use rampart_store::{AssetFilter, Store};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::error::ApiError;

/// Posture cache kinds.
pub mod kind {
    /// The secure score (`SecureScore` JSON).
    pub const SCORE: &str = "score";
    /// Compliance with every built-in standard (`[StandardResult]` JSON).
    pub const COMPLIANCE: &str = "compliance";
    /// Assessment counts per recommendation and status.
    pub const RECOMMENDATIONS: &str = "recommendations";
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
}

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
        let assets = store.assets(scan_id, &AssetFilter::default())?;
        let assessments = self.assess(&assets, &exemptions);
        store.replace_assessments(scan_id, &assessments)?;
        self.refresh(store, scan_id)?;
        Ok(())
    }

    /// Computes and caches a scan's posture from its stored assessments.
    pub fn refresh(&self, store: &Store, scan_id: &str) -> Result<(), ApiError> {
        let statuses = store.assessment_statuses(scan_id)?;
        let score = json!(secure_score(&self.catalog, &self.controls, &statuses));
        let compliance: Vec<_> = self
            .standards
            .iter()
            .map(|s| assess_standard(s, &self.catalog, &statuses))
            .collect();
        let mut counts: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
        for a in &statuses {
            *counts
                .entry(a.recommendation.as_str())
                .or_default()
                .entry(a.status.as_str())
                .or_default() += 1;
        }
        store.put_posture(scan_id, kind::SCORE, &score)?;
        store.put_posture(scan_id, kind::COMPLIANCE, &json!(compliance))?;
        store.put_posture(scan_id, kind::RECOMMENDATIONS, &json!(counts))?;
        Ok(())
    }

    /// A scan's cached posture value, computed first when missing.
    pub fn cached(&self, store: &Store, scan_id: &str, kind: &str) -> Result<Value, ApiError> {
        if let Some(value) = store.posture(scan_id, kind)? {
            return Ok(value);
        }
        self.refresh(store, scan_id)?;
        Ok(store.posture(scan_id, kind)?.unwrap_or(Value::Null))
    }

    /// The secure score of one account's assessments (not cached).
    pub fn account_score(
        &self,
        store: &Store,
        scan_id: &str,
        account: &str,
    ) -> Result<Value, ApiError> {
        let mut statuses = store.assessment_statuses(scan_id)?;
        statuses.retain(|a| a.account == account);
        Ok(json!(secure_score(
            &self.catalog,
            &self.controls,
            &statuses
        )))
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
        ApiError::bad_request(format!(
            "unknown status `{text}` (one of {})",
            STATUSES.join(", ")
        ))
    })
}
