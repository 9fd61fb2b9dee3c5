//! The secure score, as Defender for Cloud computes it.
//!
//! Per security control: `current = max_points × healthy ÷ (healthy +
//! unhealthy)`, counting *resources*: a resource counts once per control,
//! unhealthy if any of the control's recommendations finds it unhealthy,
//! healthy if it was assessed and none did. Overall percent = Σ current ÷
//! Σ max × 100 over controls with at least one such resource. Preview
//! recommendations and exempt, not-applicable or errored assessments do not
//! count. `potential_increase` is `max − current`, in points.

use rampart_model::Assessment;
use serde::Serialize;

use crate::metadata::Catalog;
use crate::standards::SecurityControl;
use crate::tally::Tally;

/// One security control's contribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlScore {
    /// Control name.
    pub name: String,
    /// Maximum points.
    pub max: f64,
    /// Current points.
    pub current: f64,
    /// Healthy resources.
    pub healthy: u64,
    /// Unhealthy resources.
    pub unhealthy: u64,
    /// Points to gain by fixing every unhealthy resource.
    pub potential_increase: f64,
}

/// The secure score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecureScore {
    /// Overall score in percent (0 when nothing counts).
    pub percent: f64,
    /// Per control, highest potential increase first.
    pub controls: Vec<ControlScore>,
}

/// Computes the secure score of `assessments`.
pub fn secure_score(
    catalog: &Catalog,
    controls: &[SecurityControl],
    assessments: &[Assessment],
) -> SecureScore {
    secure_score_of(controls, &Tally::of(catalog, assessments))
}

/// Computes the secure score from a [`Tally`] of assessments.
pub fn secure_score_of(controls: &[SecurityControl], tally: &Tally<'_>) -> SecureScore {
    let mut scores = Vec::new();
    for control in controls {
        let Some((healthy, unhealthy)) = tally.control_resources(&control.name) else {
            continue;
        };
        let max = f64::from(control.max_points);
        let current = max * healthy as f64 / (healthy + unhealthy) as f64;
        scores.push(ControlScore {
            name: control.name.clone(),
            max,
            current: round2(current),
            healthy,
            unhealthy,
            potential_increase: round2(max - current),
        });
    }
    let total_max: f64 = scores.iter().map(|c| c.max).sum();
    let total_current: f64 = scores
        .iter()
        .map(|c| c.max * c.healthy as f64 / (c.healthy + c.unhealthy) as f64)
        .sum();
    let percent = if total_max > 0.0 {
        round1(total_current / total_max * 100.0)
    } else {
        0.0
    };
    scores.sort_by(|a, b| {
        b.potential_increase
            .total_cmp(&a.potential_increase)
            .then_with(|| a.name.cmp(&b.name))
    });
    SecureScore {
        percent,
        controls: scores,
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
