//! Evaluation and posture for the commands: the catalog, exemptions,
//! assessments of a stored scan, secure score and compliance.

use std::path::Path;

use rampart_catalog::Catalog;
use rampart_catalog::compliance::{StandardResult, assess_standard};
use rampart_catalog::exemptions::Exemptions;
use rampart_catalog::score::{SecureScore, secure_score};
use rampart_catalog::standards::{SecurityControl, Standard, builtin_standards};
use rampart_model::{Assessment, AssessmentStatus, ScanRecord, Severity, suggest};
use rampart_store::{Scope, Store};

use crate::args::ScopeArgs;
use crate::exit::{CliError, Exit};

/// The built-in catalog.
pub fn catalog() -> Result<Catalog, CliError> {
    Ok(rampart_engine::posture::catalog()?)
}

/// The built-in standards.
pub fn standards() -> Result<Vec<Standard>, CliError> {
    builtin_standards().map_err(|e| CliError::failure(format!("built-in standards: {e}")))
}

/// Reads an exemptions file (none: no exemptions). A recommendation id
/// that is not in the catalog is a usage error naming the closest ids.
pub fn exemptions(path: Option<&Path>) -> Result<Exemptions, CliError> {
    Ok(rampart_engine::posture::exemptions_file(path)?)
}

/// Adds the exemptions stored through the server's API to `exemptions`.
pub fn add_stored_exemptions(store: &Store, exemptions: &mut Exemptions) -> Result<(), CliError> {
    Ok(rampart_engine::posture::add_stored_exemptions(
        store, exemptions,
    )?)
}

/// The snapshot to read: the current state (the latest scan of each
/// account) as one record, named by the latest complete scan
/// ([`Store::current_snapshot`]: every current account and region, the
/// current asset and gap counts), so an export's `scan` lists every
/// account its assessments come from, not only the last job's. `--scan ID`
/// may name that latest scan; an older one is a usage error, never
/// today's rows under an old scan's name.
pub fn scan_to_read(store: &Store, id: Option<&str>) -> Result<ScanRecord, CliError> {
    if let Some(id) = id {
        let scan = store.scan(id).map_err(|e| CliError::usage(e.to_string()))?;
        if !store.assessments_kept(&scan.id)? {
            return Err(CliError::usage(format!(
                "the assessments of scan `{}` are history: only the current state is kept, as of the latest scan; `rampart changes` lists what changed since, `rampart trend` the daily counts",
                scan.id
            )));
        }
    }
    store
        .current_snapshot()?
        .ok_or_else(|| CliError::nothing("no complete scan in the store; run `rampart scan` first"))
}

/// The scope `--account`, `--connector` and `--region` name
/// ([`Store::scope`]); an unknown connector is a usage error.
pub fn store_scope(store: &Store, args: &ScopeArgs) -> Result<Scope, CliError> {
    store
        .scope(
            args.account.as_deref(),
            args.connector.as_deref(),
            args.region.as_deref(),
        )
        .map_err(|e| match e {
            rampart_store::StoreError::NoSuchConnector(_) => CliError::usage(e.to_string()),
            other => other.into(),
        })
}

/// The part of `scan`'s snapshot that `--account`, `--connector` and
/// `--region` select ([`Store::scope`]). An unknown connector, or an
/// account or region the snapshot does not hold, is a usage error naming
/// the closest values, never an empty result.
pub fn scope(store: &Store, scan: &ScanRecord, args: &ScopeArgs) -> Result<Scope, CliError> {
    let scope = store_scope(store, args)?;
    // The values the snapshot holds, read only for a filter given.
    let known =
        |given: &Option<String>, kind: &str, held: &dyn Fn() -> Result<Vec<String>, CliError>| {
            let Some(wanted) = given.as_deref().filter(|w| !w.is_empty()) else {
                return Ok(());
            };
            let mut values = held()?;
            if values.iter().any(|v| v == wanted) {
                return Ok(());
            }
            values.sort();
            values.dedup();
            Err(CliError::usage(format!(
                "{} in scan {}",
                suggest::unknown(
                    kind,
                    wanted,
                    &values.iter().map(String::as_str).collect::<Vec<_>>(),
                    10,
                    None
                ),
                scan.id
            )))
        };
    let with_scanned = |counts: Vec<(String, u64)>, scanned: &[String]| {
        counts
            .into_iter()
            .map(|(v, _)| v)
            .chain(scanned.iter().cloned())
            .collect::<Vec<_>>()
    };
    known(&args.account, "account", &|| {
        Ok(with_scanned(store.asset_account_counts()?, &scan.accounts))
    })?;
    known(&args.region, "region", &|| {
        let mut regions = with_scanned(store.asset_region_counts()?, &scan.regions);
        // Where coverage gaps of global services are.
        regions.push("global".to_owned());
        Ok(regions)
    })?;
    Ok(scope)
}

/// `only account `A`, connector `C`, region `R`` for a table's footer,
/// when a filter is given.
pub fn scope_line(args: &ScopeArgs) -> Option<String> {
    let given: Vec<String> = [
        ("account", &args.account),
        ("connector", &args.connector),
        ("region", &args.region),
    ]
    .into_iter()
    .filter_map(|(name, v)| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{name} `{v}`"))
    })
    .collect();
    (!given.is_empty()).then(|| format!("only {}\n", given.join(", ")))
}

/// The built-in security controls.
pub fn controls() -> Result<Vec<SecurityControl>, CliError> {
    Ok(rampart_engine::posture::controls()?)
}

/// Secure score of `assessments`.
pub fn score(catalog: &Catalog, assessments: &[Assessment]) -> Result<SecureScore, CliError> {
    Ok(secure_score(catalog, &controls()?, assessments))
}

/// Compliance with every built-in standard.
pub fn compliance(
    catalog: &Catalog,
    assessments: &[Assessment],
) -> Result<Vec<StandardResult>, CliError> {
    Ok(standards()?
        .iter()
        .map(|s| assess_standard(s, catalog, assessments))
        .collect())
}

/// `--fail-on`: exit 4 when an unhealthy assessment is at or above `threshold`.
pub fn gate(catalog: &Catalog, assessments: &[Assessment], threshold: Option<Severity>) -> Exit {
    let failing = assessments
        .iter()
        .any(|a| fails_gate(catalog, &a.recommendation, a.status, threshold));
    if failing {
        Exit::FindingsAtOrAbove
    } else {
        Exit::Ok
    }
}

/// Whether one assessment fails `--fail-on threshold`: unhealthy, of a
/// recommendation at or above the threshold.
pub fn fails_gate(
    catalog: &Catalog,
    recommendation: &str,
    status: AssessmentStatus,
    threshold: Option<Severity>,
) -> bool {
    status == AssessmentStatus::Unhealthy
        && threshold.is_some_and(|t| catalog.get(recommendation).is_some_and(|r| r.severity >= t))
}
