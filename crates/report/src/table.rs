//! CSV export: a header row, then one row per assessment (RFC 4180: comma
//! separated, CRLF line ends, fields quoted when they hold a comma, quote or
//! line break).
//!
//! Columns are the native JSON's assessment fields in the same order, then
//! the exemption's reason and expiry. `standards` is `;`-separated.
//!
//! Every cell that starts with a character a spreadsheet reads as the
//! start of a formula — `=`, `+`, `-`, `@`, a tab, a carriage return, a
//! line feed, or the full-width `＝`, `＋`, `－`, `＠` — gets a leading `'`,
//! so it shows as text instead of running (CSV injection). This holds in
//! every column, not only the free-text ones: ids, ARNs and catalog text
//! are data too.

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

/// First characters a spreadsheet may read as the start of a formula.
const FORMULA_STARTS: [char; 11] = [
    '=', '+', '-', '@', '\t', '\r', '\n', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// `text`, defused for spreadsheets when it could start a formula.
fn cell(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
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
            Some(note) => (
                note.reason.as_str(),
                note.expires.as_deref().unwrap_or_default(),
            ),
            None => ("", ""),
        };
        let standards = rec.standards.join(";");
        let row: [&str; HEADER.len()] = [
            a.recommendation.as_str(),
            rec.title.as_str(),
            rec.severity.as_str(),
            a.status.as_str(),
            a.resource.as_str(),
            a.resource_type.as_str(),
            a.resource_name.as_str(),
            a.account.as_str(),
            a.region.as_str(),
            a.reason.as_str(),
            rec.security_control.as_str(),
            standards.as_str(),
            exemption_reason,
            expires,
        ];
        writer.write_record(row.map(cell)).map_err(csv_error)?;
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
        for start in FORMULA_STARTS {
            let text = format!("{start}1+1");
            assert_eq!(cell(&text), format!("'{text}"), "{start:?}");
        }
        // Only the first character counts.
        assert_eq!(cell("a=1"), "a=1");
        assert_eq!(cell("'=1"), "'=1");
    }
}
