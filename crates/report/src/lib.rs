//! Rampart's exports: one [`Findings`] value rendered in any [`Format`].
//!
//! * [`Format::Json`] — the native `rampart.assessments/v1` document
//!   (`shared/contracts/assessments-json-v1.md`).
//! * [`Format::Ocsf`] — OCSF 1.3.0 Compliance Finding events (class 2003),
//!   one per assessment, as a JSON array.
//! * [`Format::Csv`] — one row per assessment, RFC 4180.
//! * [`Format::Sarif`] — SARIF 2.1.0, one run, results for what needs
//!   attention.
//! * [`Format::Html`] — one self-contained page a person can read.
//!
//! [`Findings::machines`] (agentless scanning results) add a "Machine
//! vulnerabilities" section to the HTML report and OCSF Vulnerability
//! Finding (class 2002) and Detection Finding (class 2004, secrets) events
//! to the OCSF export; the other formats are about assessments only.
//!
//! Alerts have their own exports: [`alerts_json`] (`rampart.alerts/v1`,
//! `shared/contracts/alerts-json-v1.md`) and [`alerts_ocsf`] (OCSF 1.3.0
//! Detection Finding events, class 2004).
//!
//! Rendering is pure: the same input gives the same bytes (the time printed is
//! [`Findings::generated_at`], never the clock).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use rampart_catalog::compliance::StandardResult;
use rampart_catalog::score::SecureScore;
use rampart_catalog::{Catalog, Recommendation};
use rampart_model::machine::MachineScan;
use rampart_model::{Assessment, CoverageGap, ScanRecord, Severity};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod alerts;
mod html;
mod machines;
mod native;
mod ocsf;
mod sarif;
mod table;

pub use alerts::{alerts_json, alerts_ocsf};
pub use html::escape_html;
pub use ocsf::OCSF_VERSION;
pub use sarif::SARIF_VERSION;

/// Everything an export shows, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct Findings<'a> {
    /// When the export was made (printed as is, so outputs stay reproducible).
    pub generated_at: OffsetDateTime,
    /// The scan the assessments come from.
    pub scan: &'a ScanRecord,
    /// The catalog, for titles, severities, descriptions and remediation.
    pub catalog: &'a Catalog,
    /// The secure score of the assessments.
    pub score: &'a SecureScore,
    /// The standards, assessed.
    pub standards: &'a [StandardResult],
    /// Every assessment, in the order to print them.
    pub assessments: &'a [Assessment],
    /// What the scan could not read.
    pub gaps: &'a [CoverageGap],
    /// What agentless scanning found inside machines' disks in this scan
    /// (`rampart.vulnerabilities/v1` machines); empty when it read none.
    /// Shown by the HTML report and the OCSF export only; with none, every
    /// output is as it was without them.
    pub machines: &'a [MachineScan],
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Native JSON, `rampart.assessments/v1`.
    Json,
    /// OCSF Compliance Finding events, as a JSON array.
    Ocsf,
    /// CSV, one row per assessment.
    Csv,
    /// SARIF 2.1.0.
    Sarif,
    /// A self-contained HTML report.
    Html,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 5] = [Self::Json, Self::Ocsf, Self::Csv, Self::Sarif, Self::Html];

    /// The name used on the command line (`json`, `ocsf`, `csv`, `sarif`, `html`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ocsf => "ocsf",
            Self::Csv => "csv",
            Self::Sarif => "sarif",
            Self::Html => "html",
        }
    }

    /// The usual file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ocsf => "ocsf.json",
            Self::Csv => "csv",
            Self::Sarif => "sarif",
            Self::Html => "html",
        }
    }

    /// The media type of the output.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json | Self::Ocsf => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Sarif => "application/sarif+json",
            Self::Html => "text/html; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == wanted)
            .ok_or_else(|| ReportError::UnknownFormat(s.to_owned()))
    }
}

/// Report errors.
///
/// Messages: lower case, values in backticks, no trailing period.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A format name that is not one of [`Format::ALL`].
    #[error("unknown format `{0}` (expected one of `json`, `ocsf`, `csv`, `sarif`, `html`)")]
    UnknownFormat(String),
    /// An assessment names a recommendation the catalog does not have.
    #[error("assessment of `{resource}` refers to unknown recommendation `{recommendation}`")]
    UnknownRecommendation {
        /// The recommendation id.
        recommendation: String,
        /// The assessed resource.
        resource: String,
    },
    /// A time could not be formatted.
    #[error("formatting time `{time}`: {reason}")]
    Time {
        /// The time, as debug text.
        time: String,
        /// The formatting error.
        reason: String,
    },
    /// Serializing a JSON document failed.
    #[error("writing `{format}` output: {reason}")]
    Serialize {
        /// The format being written.
        format: &'static str,
        /// The serializer's error.
        reason: String,
    },
}

/// Renders `findings` in `format`.
pub fn render(format: Format, findings: &Findings<'_>) -> Result<String, ReportError> {
    match format {
        Format::Json => native::render(findings),
        Format::Ocsf => ocsf::render(findings),
        Format::Csv => table::render(findings),
        Format::Sarif => sarif::render(findings),
        Format::Html => html::render(findings),
    }
}

/// The catalog entry for an assessment, or an error naming both.
fn recommendation<'a>(
    catalog: &'a Catalog,
    assessment: &Assessment,
) -> Result<&'a Recommendation, ReportError> {
    catalog
        .get(&assessment.recommendation)
        .ok_or_else(|| ReportError::UnknownRecommendation {
            recommendation: assessment.recommendation.clone(),
            resource: assessment.resource.clone(),
        })
}

/// The recommendations the assessments refer to, ordered by id; errors on
/// the first unknown one.
fn assessed_recommendations<'a>(
    findings: &Findings<'a>,
) -> Result<Vec<&'a Recommendation>, ReportError> {
    let mut ids = BTreeSet::new();
    for a in findings.assessments {
        recommendation(findings.catalog, a)?;
        ids.insert(a.recommendation.as_str());
    }
    Ok(ids
        .into_iter()
        .filter_map(|id| findings.catalog.get(id))
        .collect())
}

/// RFC 3339 text of a time.
fn rfc3339(time: OffsetDateTime) -> Result<String, ReportError> {
    time.format(&Rfc3339).map_err(|e| ReportError::Time {
        time: format!("{time:?}"),
        reason: e.to_string(),
    })
}

/// Pretty JSON text, with a trailing newline.
fn to_json<T: serde::Serialize>(format: Format, value: &T) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| ReportError::Serialize {
        format: format.as_str(),
        reason: e.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}

/// Title-case severity name (`Critical`).
fn severity_caption(severity: Severity) -> &'static str {
    match severity {
        Severity::Informational => "Informational",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// The standard id of a `<standard>:<control id>` mapping.
fn standard_of(mapping: &str) -> &str {
    mapping.split_once(':').map_or(mapping, |(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().ok(), Some(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!(" SARIF ".parse::<Format>().ok(), Some(Format::Sarif));
        let err = "xml".parse::<Format>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown format `xml` (expected one of `json`, `ocsf`, `csv`, `sarif`, `html`)")
        );
    }

    #[test]
    fn standard_of_takes_the_prefix() {
        assert_eq!(standard_of("cis-aws-3.0:2.1.4"), "cis-aws-3.0");
        assert_eq!(standard_of("plain"), "plain");
    }
}
