//! Regulatory compliance: each standard control's state from the
//! assessments of the recommendations mapped to it.

use std::collections::BTreeMap;

use rampart_model::Assessment;
use serde::Serialize;

use crate::metadata::Catalog;
use crate::standards::Standard;
use crate::tally::Tally;

/// A standard control's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    /// Some assessment is unhealthy.
    Failed,
    /// Assessed resources are all healthy (or exempt).
    Passed,
    /// Recommendations map to it but only errors came back: the scan could
    /// not read what is needed.
    Error,
    /// Recommendations map to it but no resource they apply to exists.
    NoResources,
    /// The standard marks it manual and no recommendation covers it: not
    /// assessable automatically.
    Manual,
    /// Automated in the standard, but no Rampart recommendation covers it yet.
    NotCovered,
}

impl ControlState {
    /// The snake-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Passed => "passed",
            Self::Error => "error",
            Self::NoResources => "no_resources",
            Self::Manual => "manual",
            Self::NotCovered => "not_covered",
        }
    }
}

/// One control of a standard, assessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlResult {
    /// Control id as the standard writes it.
    pub id: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: ControlState,
    /// Recommendations mapped to it.
    pub recommendations: Vec<String>,
    /// Assessment counts by status.
    pub healthy: u64,
    /// Unhealthy assessments.
    pub unhealthy: u64,
    /// Errored assessments.
    pub error: u64,
    /// Exempt assessments.
    pub exempt: u64,
}

/// A standard, assessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardResult {
    /// Standard id.
    pub id: String,
    /// Name and version.
    pub name: String,
    /// Controls in the standard's order.
    pub controls: Vec<ControlResult>,
}

impl StandardResult {
    /// Number of controls in a state.
    pub fn count(&self, state: ControlState) -> usize {
        self.controls.iter().filter(|c| c.state == state).count()
    }
}

/// Assesses `standard` from `assessments`.
pub fn assess_standard(
    standard: &Standard,
    catalog: &Catalog,
    assessments: &[Assessment],
) -> StandardResult {
    assess_standard_of(standard, &Tally::of(catalog, assessments))
}

/// Assesses `standard` from a [`Tally`] of assessments.
pub fn assess_standard_of(standard: &Standard, tally: &Tally<'_>) -> StandardResult {
    let catalog = tally.catalog();
    // control id -> recommendation ids
    let mut mapped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let prefix = format!("{}:", standard.id);
    for rec in catalog.iter() {
        for mapping in &rec.standards {
            if let Some(control) = mapping.strip_prefix(&prefix) {
                mapped.entry(control).or_default().push(rec.id.as_str());
            }
        }
    }
    let controls = standard
        .controls
        .iter()
        .map(|control| {
            let recs = mapped.get(control.id.as_str()).cloned().unwrap_or_default();
            let mut total = [0u64; 5];
            for rec in &recs {
                for (t, v) in total.iter_mut().zip(tally.statuses(rec)) {
                    *t += v;
                }
            }
            let [healthy, unhealthy, error, exempt, _] = total;
            let state = if recs.is_empty() {
                if control.automated {
                    ControlState::NotCovered
                } else {
                    ControlState::Manual
                }
            } else if unhealthy > 0 {
                ControlState::Failed
            } else if healthy > 0 || exempt > 0 {
                ControlState::Passed
            } else if error > 0 {
                ControlState::Error
            } else {
                ControlState::NoResources
            };
            ControlResult {
                id: control.id.clone(),
                title: control.title.clone(),
                state,
                recommendations: recs.iter().map(|r| (*r).to_owned()).collect(),
                healthy,
                unhealthy,
                error,
                exempt,
            }
        })
        .collect();
    StandardResult {
        id: standard.id.to_owned(),
        name: format!("{} {}", standard.name, standard.version),
        controls,
    }
}
