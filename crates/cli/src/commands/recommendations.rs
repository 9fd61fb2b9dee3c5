//! `rampart recommendations`: recommendations and their resources.

use std::collections::BTreeMap;
use std::io::Write;

use rampart_model::{AssessmentStatus, Severity};
use serde::Serialize;

use crate::args::{ListFormat, RecommendationsArgs};
use crate::commands::open_existing_store;
use crate::exit::CliError;
use crate::output::{plural, table};
use crate::posture;

#[derive(Debug, Serialize)]
struct Row<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    security_control: &'a str,
    standards: &'a [String],
    unhealthy: usize,
    healthy: usize,
    not_applicable: usize,
    error: usize,
    exempt: usize,
    assessments: Vec<&'a rampart_model::Assessment>,
}

/// Lists recommendations, most severe and most unhealthy first.
pub fn run(args: &RecommendationsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.read.store)?;
    let scan = posture::scan_to_read(&store, args.read.scan.as_deref())?;
    let catalog = posture::catalog()?;
    let assessments = store.assessments()?;
    let mut by_rec: BTreeMap<&str, Vec<&rampart_model::Assessment>> = BTreeMap::new();
    for a in &assessments {
        by_rec.entry(a.recommendation.as_str()).or_default().push(a);
    }
    let min_severity: Option<Severity> = args.severity.map(Into::into);
    let status: Option<AssessmentStatus> = args.status.map(Into::into);
    let mut rows = Vec::new();
    for rec in catalog.iter() {
        if min_severity.is_some_and(|m| rec.severity < m) {
            continue;
        }
        let list = by_rec.get(rec.id.as_str()).cloned().unwrap_or_default();
        let count = |s: AssessmentStatus| list.iter().filter(|a| a.status == s).count();
        if status.is_some_and(|s| count(s) == 0) {
            continue;
        }
        rows.push(Row {
            id: &rec.id,
            title: &rec.title,
            severity: rec.severity,
            security_control: &rec.security_control,
            standards: &rec.standards,
            unhealthy: count(AssessmentStatus::Unhealthy),
            healthy: count(AssessmentStatus::Healthy),
            not_applicable: count(AssessmentStatus::NotApplicable),
            error: count(AssessmentStatus::Error),
            exempt: count(AssessmentStatus::Exempt),
            assessments: list
                .into_iter()
                .filter(|a| status.is_none_or(|s| a.status == s))
                .collect(),
        });
    }
    rows.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.unhealthy.cmp(&a.unhealthy))
            .then(a.id.cmp(b.id))
    });
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&rows).map_err(CliError::failure)? + "\n",
        ListFormat::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.severity.as_str().to_owned(),
                        r.id.to_owned(),
                        r.unhealthy.to_string(),
                        r.healthy.to_string(),
                        (r.not_applicable + r.error + r.exempt).to_string(),
                        r.title.to_owned(),
                    ]
                })
                .collect();
            let mut text = table(
                &[
                    "SEVERITY",
                    "RECOMMENDATION",
                    "UNHEALTHY",
                    "HEALTHY",
                    "OTHER",
                    "TITLE",
                ],
                &cells,
            );
            text.push_str(&format!(
                "{} (scan {})\n",
                plural(rows.len() as u64, "recommendation", "recommendations"),
                scan.id
            ));
            text
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}
