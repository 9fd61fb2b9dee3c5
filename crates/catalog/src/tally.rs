//! Counters of assessments: everything the secure score and compliance
//! need, without keeping the assessments.
//!
//! Per recommendation, how many assessments had each status; per security
//! control, each resource it counts and whether any of the control's
//! (non-preview) recommendations found it unhealthy (one byte per control
//! and resource, resources numbered once by ARN). Fed one assessment at a
//! time, in any order ([`Tally::add`], from
//! [`evaluate_by_asset`](crate::evaluate::evaluate_by_asset), or a stored
//! list with [`Tally::of`]);
//! [`secure_score_of`](crate::score::secure_score_of) and
//! [`assess_standard_of`](crate::compliance::assess_standard_of) read it.

use foldhash::HashMap;
use rampart_model::{Assessment, AssessmentStatus};

use crate::metadata::Catalog;

/// Assessment counts by status, in this order: healthy, unhealthy, error,
/// exempt, not applicable.
pub type StatusCounts = [u64; 5];

/// The slot of a status in [`StatusCounts`].
pub fn slot(status: AssessmentStatus) -> usize {
    match status {
        AssessmentStatus::Healthy => 0,
        AssessmentStatus::Unhealthy => 1,
        AssessmentStatus::Error => 2,
        AssessmentStatus::Exempt => 3,
        AssessmentStatus::NotApplicable => 4,
    }
}

/// One recommendation's counters.
#[derive(Debug, Clone, Default)]
struct Counters {
    statuses: StatusCounts,
    /// Index of its security control in `Tally::controls`, when it counts
    /// toward the score (known to the catalog and not in preview).
    control: Option<usize>,
}

/// A resource's state in a security control.
const UNSEEN: u8 = 0;
const HEALTHY: u8 = 1;
const UNHEALTHY: u8 = 2;

/// The resources a security control counts.
#[derive(Debug)]
struct ControlResources<'a> {
    name: &'a str,
    /// By resource number: `UNSEEN`, `HEALTHY` or `UNHEALTHY` (any of the
    /// control's recommendations found it unhealthy).
    states: Vec<u8>,
}

/// Assessment counters (see the module documentation).
#[derive(Debug)]
pub struct Tally<'a> {
    catalog: &'a Catalog,
    /// Recommendation id → counters.
    recommendations: HashMap<&'a str, Counters>,
    controls: Vec<ControlResources<'a>>,
    /// Resource ARN → its number in `ControlResources::states`.
    resources: HashMap<&'a str, usize>,
    /// The last resource numbered: a resource's assessments usually come
    /// one after another.
    last_resource: Option<(&'a str, usize)>,
    total: u64,
}

impl<'a> Tally<'a> {
    /// An empty tally of assessments against `catalog`'s recommendations.
    pub fn new(catalog: &'a Catalog) -> Self {
        let mut controls: Vec<ControlResources<'a>> = Vec::new();
        let mut recommendations = HashMap::default();
        for r in catalog.iter() {
            let control = (!r.preview).then(|| {
                let name = r.security_control.as_str();
                controls
                    .iter()
                    .position(|c| c.name == name)
                    .unwrap_or_else(|| {
                        controls.push(ControlResources {
                            name,
                            states: Vec::new(),
                        });
                        controls.len() - 1
                    })
            });
            let counters = Counters {
                statuses: StatusCounts::default(),
                control,
            };
            recommendations.insert(r.id.as_str(), counters);
        }
        Self {
            catalog,
            recommendations,
            controls,
            resources: HashMap::default(),
            last_resource: None,
            total: 0,
        }
    }

    /// The tally of stored assessments.
    pub fn of(catalog: &'a Catalog, assessments: &'a [Assessment]) -> Self {
        let mut tally = Self::new(catalog);
        for a in assessments {
            tally.add(&a.recommendation, &a.resource, a.status);
        }
        tally
    }

    /// Counts one assessment of `resource` against `recommendation`.
    pub fn add(&mut self, recommendation: &'a str, resource: &'a str, status: AssessmentStatus) {
        self.total += 1;
        let counters = self
            .recommendations
            .entry(recommendation)
            // Not in the catalog: counted for compliance, not for the score.
            .or_default();
        if let Some(count) = counters.statuses.get_mut(slot(status)) {
            *count += 1;
        }
        let state = match status {
            AssessmentStatus::Healthy => HEALTHY,
            AssessmentStatus::Unhealthy => UNHEALTHY,
            _ => return,
        };
        let Some(control) = counters.control else {
            return;
        };
        let number = self.resource_number(resource);
        if let Some(control) = self.controls.get_mut(control) {
            if control.states.len() <= number {
                control.states.resize(number + 1, UNSEEN);
            }
            if let Some(s) = control.states.get_mut(number) {
                *s = (*s).max(state);
            }
        }
    }

    /// Adds assessment counts by status ([`StatusCounts`] order) of
    /// `recommendation` counted elsewhere (the store's daily aggregates):
    /// they count toward the statuses, the per-recommendation counts and
    /// compliance, not toward the score's control resources (compute the
    /// score from stored control counts with
    /// [`secure_score_of_counts`](crate::score::secure_score_of_counts)).
    /// A recommendation outside the catalog is left out.
    pub fn add_counts(&mut self, recommendation: &str, statuses: StatusCounts) {
        let Some(id) = self.catalog.get(recommendation).map(|r| r.id.as_str()) else {
            return;
        };
        let counters = self.recommendations.entry(id).or_default();
        for (count, n) in counters.statuses.iter_mut().zip(statuses) {
            *count += n;
        }
        self.total += statuses.iter().sum::<u64>();
    }

    /// The resource's number, given on first sight.
    fn resource_number(&mut self, resource: &'a str) -> usize {
        if let Some((last, number)) = self.last_resource
            && last == resource
        {
            return number;
        }
        let next = self.resources.len();
        let number = *self.resources.entry(resource).or_insert(next);
        self.last_resource = Some((resource, number));
        number
    }

    /// The catalog the tally counts against.
    pub fn catalog(&self) -> &'a Catalog {
        self.catalog
    }

    /// Number of assessments counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Assessment counts by status over every recommendation.
    pub fn status_totals(&self) -> StatusCounts {
        let mut totals = StatusCounts::default();
        for c in self.recommendations.values() {
            for (total, n) in totals.iter_mut().zip(c.statuses) {
                *total += n;
            }
        }
        totals
    }

    /// Assessment counts per recommendation and status name, only the
    /// statuses that occur (recommendations without assessments left out):
    /// the per-recommendation counts the posture cache keeps.
    pub fn recommendation_counts(
        &self,
    ) -> std::collections::BTreeMap<&'a str, std::collections::BTreeMap<&'static str, u64>> {
        const ORDER: [AssessmentStatus; 5] = [
            AssessmentStatus::Healthy,
            AssessmentStatus::Unhealthy,
            AssessmentStatus::Error,
            AssessmentStatus::Exempt,
            AssessmentStatus::NotApplicable,
        ];
        self.recommendations
            .iter()
            .filter_map(|(id, c)| {
                let counts: std::collections::BTreeMap<&'static str, u64> = ORDER
                    .iter()
                    .filter_map(|s| {
                        let n = c.statuses.get(slot(*s)).copied().unwrap_or(0);
                        (n > 0).then(|| (s.as_str(), n))
                    })
                    .collect();
                (!counts.is_empty()).then_some((*id, counts))
            })
            .collect()
    }

    /// A recommendation's assessment counts by status (zero when it has none).
    pub fn statuses(&self, recommendation: &str) -> StatusCounts {
        self.recommendations
            .get(recommendation)
            .map(|c| c.statuses)
            .unwrap_or_default()
    }

    /// A security control's resources: `(healthy, unhealthy)`, or `None`
    /// when no resource counts toward it.
    pub fn control_resources(&self, control: &str) -> Option<(u64, u64)> {
        let states = &self.controls.iter().find(|c| c.name == control)?.states;
        let count = |state| states.iter().filter(|s| **s == state).count() as u64;
        let (healthy, unhealthy) = (count(HEALTHY), count(UNHEALTHY));
        (healthy + unhealthy > 0).then_some((healthy, unhealthy))
    }
}
