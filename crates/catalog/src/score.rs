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
    secure_score_of_counts(controls.iter().filter_map(|control| {
        let (healthy, unhealthy) = tally.control_resources(&control.name)?;
        Some(ControlResourceCounts {
            name: control.name.clone(),
            max_points: control.max_points,
            healthy,
            unhealthy,
        })
    }))
}

/// A security control's resources, counted already (the daily aggregates
/// keep these per account and region, so a score over any part of the
/// estate can be computed from them later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlResourceCounts {
    /// Control name.
    pub name: String,
    /// Its maximum points.
    pub max_points: u32,
    /// Healthy resources.
    pub healthy: u64,
    /// Unhealthy resources.
    pub unhealthy: u64,
}

/// Computes the secure score from per-control resource counts; controls
/// with no healthy or unhealthy resource do not count.
pub fn secure_score_of_counts(
    counts: impl IntoIterator<Item = ControlResourceCounts>,
) -> SecureScore {
    let mut scores = Vec::new();
    for c in counts {
        if c.healthy + c.unhealthy == 0 {
            continue;
        }
        let max = f64::from(c.max_points);
        let current = max * c.healthy as f64 / (c.healthy + c.unhealthy) as f64;
        scores.push(ControlScore {
            name: c.name,
            max,
            current: round2(current),
            healthy: c.healthy,
            unhealthy: c.unhealthy,
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

/// Each scored recommendation's security control and that control's
/// maximum points: `(recommendation, control, max_points)`. Preview
/// recommendations and controls without points are left out, as the
/// score leaves them out.
pub fn scored_recommendations(
    catalog: &Catalog,
    controls: &[SecurityControl],
) -> Vec<(String, String, u32)> {
    catalog
        .iter()
        .filter(|r| !r.preview)
        .filter_map(|r| {
            let control = controls.iter().find(|c| c.name == r.security_control)?;
            Some((r.id.clone(), control.name.clone(), control.max_points))
        })
        .collect()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
