//! What evaluation needs: the built-in catalog and security controls, and
//! the exemptions (a file's and those stored through the API).

use std::path::Path;

use rampart_catalog::Catalog;
use rampart_catalog::exemptions::Exemptions;
use rampart_catalog::standards::{SecurityControl, security_controls};
use rampart_store::Store;

use crate::EngineError;

/// The built-in catalog.
pub fn catalog() -> Result<Catalog, EngineError> {
    Catalog::builtin().map_err(|e| EngineError::Catalog(e.to_string()))
}

/// The built-in security controls.
pub fn controls() -> Result<Vec<SecurityControl>, EngineError> {
    security_controls().map_err(|e| EngineError::Controls(e.to_string()))
}

/// The built-in standards.
pub fn standards() -> Result<Vec<rampart_catalog::standards::Standard>, EngineError> {
    rampart_catalog::standards::builtin_standards().map_err(|e| EngineError::Catalog(e.to_string()))
}

/// Reads an exemptions file (none: no exemptions); every recommendation it
/// names must be in the catalog.
pub fn exemptions_file(path: Option<&Path>) -> Result<Exemptions, EngineError> {
    let Some(path) = path else {
        return Ok(Exemptions::default());
    };
    let text = std::fs::read_to_string(path).map_err(|error| EngineError::ExemptionsFile {
        path: path.display().to_string(),
        error,
    })?;
    let exemptions = Exemptions::from_yaml(&text).map_err(|e| EngineError::Exemptions {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    // A recommendation id that is not in the catalog is an error naming the
    // closest ids, never an exemption that silently matches nothing.
    exemptions
        .check_recommendations(&catalog()?)
        .map_err(|e| EngineError::Exemptions {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
    Ok(exemptions)
}

/// Adds the exemptions stored through the server's API to `exemptions`.
pub fn add_stored_exemptions(
    store: &Store,
    exemptions: &mut Exemptions,
) -> Result<(), EngineError> {
    let stored = Exemptions::from_list(store.all_exemptions()?)
        .map_err(|e| EngineError::StoredExemptions(e.to_string()))?;
    exemptions.extend(stored);
    Ok(())
}

/// The exemptions a scan applies: `file`'s, then the stored ones.
pub fn exemptions(file: Option<&Path>, store: &Store) -> Result<Exemptions, EngineError> {
    let mut exemptions = exemptions_file(file)?;
    add_stored_exemptions(store, &mut exemptions)?;
    Ok(exemptions)
}
