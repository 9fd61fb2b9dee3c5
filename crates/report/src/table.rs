//! CSV export: a header row, then one row per assessment (RFC 4180: comma
//! separated, CRLF line ends, fields quoted when they hold a comma, quote or
//! line break).
//!
//! Columns are the native JSON's assessment fields in the same order, then
//! the exemption's reason and expiry. `standards` is `;`-separated.
//!
//! Free-text cells that come from AWS or people (resource name, reason,
//! exemption reason) and start with `=`, `+`, `-`, `@`, a tab or a carriage
//! return get a leading `'`, so a spreadsheet shows them as text instead of
//! running them as a formula (CSV injection).

use crate::{Findings, Format, ReportError, recommendation};

/// The header row.
pub(crate) const HEADER: [&str; 14] = [
    "recommendation",
    "title",
    "severity",
    "status",
    "resource",
    "resource_type",
    "resource_name",
    "account",
    "region",
    "reason",
    "security_control",
    "standards",
    "exemption_reason",
    "exemption_expires",
];

/// `text`, defused for spreadsheets when it could start a formula.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Serialize {
        format: Format::Csv.as_str(),
        reason: e.to_string(),
    }
}

pub(crate) fn render(findings: &Findings<'_>) -> Result<String, ReportError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(HEADER).map_err(csv_error)?;
    for a in findings.assessments {
        let rec = recommendation(findings.catalog, a)?;
        let (exemption_reason, expires) = match &a.exemption {
            Some(note) => (cell(&note.reason), note.expires.clone().unwrap_or_default()),
            None => (String::new(), String::new()),
        };
        writer
            .write_record([
                a.recommendation.as_str(),
                rec.title.as_str(),
                rec.severity.as_str(),
                a.status.as_str(),
                a.resource.as_str(),
                a.resource_type.as_str(),
                cell(&a.resource_name).as_str(),
                a.account.as_str(),
                a.region.as_str(),
                cell(&a.reason).as_str(),
                rec.security_control.as_str(),
                rec.standards.join(";").as_str(),
                exemption_reason.as_str(),
                expires.as_str(),
            ])
            .map_err(csv_error)?;
    }
    let bytes = writer.into_inner().map_err(csv_error)?;
    String::from_utf8(bytes).map_err(csv_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1+2"), "'-1+2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("web-server"), "web-server");
        assert_eq!(cell(""), "");
    }
}
