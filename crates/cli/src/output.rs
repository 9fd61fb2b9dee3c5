//! Plain-text tables and other output helpers.

use std::fmt::Write as _;

/// Renders rows as left-aligned columns (numbers right-aligned) with a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let numeric: Vec<bool> = (0..columns)
        .map(|i| {
            !rows.is_empty()
                && rows.iter().all(|r| {
                    r.get(i)
                        .is_some_and(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit()))
                })
        })
        .collect();
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let right = numeric.get(i).copied().unwrap_or(false);
            if i > 0 {
                text.push_str("  ");
            }
            if right {
                let _ = write!(text, "{cell:>width$}");
            } else {
                let _ = write!(text, "{cell:<width$}");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// `1 asset`, `2 assets`: a count with the right form of its noun.
pub fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// An RFC 3339 time to the second (`2026-01-01T00:00:00Z`).
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// A list for a narrow column: the first `keep` items, then `+N` for the
/// rest (`us-east-1, eu-west-1 +15`).
pub fn abbreviated(items: &[String], keep: usize) -> String {
    let shown: Vec<&str> = items.iter().take(keep).map(String::as_str).collect();
    let mut text = shown.join(", ");
    if items.len() > keep {
        text.push_str(&format!(" +{}", items.len() - keep));
    }
    text
}

/// `text` cut to at most `max` characters at a word boundary, with `…`
/// when cut (never mid-word; `rampart gaps` shows the whole text).
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = head
        .rfind(char::is_whitespace)
        .filter(|&i| i > 0)
        .map_or(head.as_str(), |i| &head[..i]);
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// A duration in seconds with one decimal.
pub fn seconds(d: std::time::Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_times_and_lists() {
        assert_eq!(plural(0, "asset", "assets"), "0 assets");
        assert_eq!(plural(1, "asset", "assets"), "1 asset");
        assert_eq!(plural(2, "asset", "assets"), "2 assets");
        assert_eq!(
            rfc3339(time::macros::datetime!(2026-03-04 05:06:07.891 +02:00)),
            "2026-03-04T03:06:07Z"
        );
        let regions: Vec<String> = (0..17).map(|i| format!("r{i}")).collect();
        assert_eq!(abbreviated(&regions, 2), "r0, r1 +15");
        assert_eq!(abbreviated(&regions[..2], 2), "r0, r1");
        assert_eq!(abbreviated(&[], 2), "");
        assert_eq!(clip("short", 10), "short");
        assert_eq!(
            clip(
                "User: arn:aws:iam::1:user/a is not authorized to perform",
                30
            ),
            "User: arn:aws:iam::1:user/a…"
        );
    }

    #[test]
    fn aligns_columns_and_right_aligns_numbers() {
        let text = table(
            &["TYPE", "COUNT"],
            &[
                vec!["AWS::S3::Bucket".into(), "3".into()],
                vec!["X".into(), "12".into()],
            ],
        );
        insta::assert_snapshot!(text, @r"
        TYPE             COUNT
        AWS::S3::Bucket      3
        X                   12
        ");
    }
}
