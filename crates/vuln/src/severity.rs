//! The severity of an advisory, from what its record carries.
//!
//! In order, the first that gives a rating wins:
//! 1. the distribution's own rating for the package: Debian's `urgency`
//!    (`ecosystem_specific`), Ubuntu's `Ubuntu` severity, a `severity`
//!    string in `ecosystem_specific` / `database_specific` (Red Hat's
//!    `Important`, GitHub's `HIGH`);
//! 2. the Red Hat-family summary prefix (`Important: openssl security update`);
//! 3. a CVSS v3 vector's base score, rated as CVSS does (0.1–3.9 low,
//!    4.0–6.9 medium, 7.0–8.9 high, 9.0–10 critical), the package's
//!    vectors before the record's;
//! 4. otherwise unknown. CVSS v2 and v4 vectors are not scored.

use rampart_model::machine::VulnerabilitySeverity;

use crate::osv::{OsvAffected, OsvRecord, OsvSeverity};

/// The severity of `affected` in `record`.
pub fn resolve(record: &OsvRecord, affected: &OsvAffected) -> VulnerabilitySeverity {
    let eco = affected.ecosystem_specific.as_ref();
    if let Some(urgency) = eco.and_then(|e| e.get("urgency")).and_then(|u| u.as_str()) {
        let rating = debian_urgency(urgency);
        if rating != VulnerabilitySeverity::Unknown {
            return rating;
        }
    }
    let vendor_scores = affected
        .severity
        .iter()
        .chain(&record.severity)
        .filter(|s| !s.kind.starts_with("CVSS"));
    for s in vendor_scores {
        let rating = named_rating(&s.score);
        if rating != VulnerabilitySeverity::Unknown {
            return rating;
        }
    }
    let named = [
        eco,
        affected.database_specific.as_ref(),
        record.database_specific.as_ref(),
    ];
    for value in named.into_iter().flatten() {
        if let Some(text) = value.get("severity").and_then(|s| s.as_str()) {
            let rating = named_rating(text);
            if rating != VulnerabilitySeverity::Unknown {
                return rating;
            }
        }
    }
    if let Some((prefix, _)) = record.summary.as_deref().and_then(|s| s.split_once(':')) {
        let rating = named_rating(prefix);
        if rating != VulnerabilitySeverity::Unknown {
            return rating;
        }
    }
    cvss_rating(affected.severity.iter().chain(&record.severity))
}

/// Debian's urgency: `unimportant` and `low` are low, `medium` medium,
/// `high` high (a trailing `*` or `**` marks a guess); `not yet assigned`
/// and `end-of-life` say nothing.
pub fn debian_urgency(urgency: &str) -> VulnerabilitySeverity {
    match urgency.trim().trim_end_matches('*') {
        "unimportant" | "low" => VulnerabilitySeverity::Low,
        "medium" => VulnerabilitySeverity::Medium,
        "high" => VulnerabilitySeverity::High,
        _ => VulnerabilitySeverity::Unknown,
    }
}

/// A rating written as a word, in the scales distributions use: Ubuntu
/// (`negligible`, `low`, `medium`, `high`, `critical`), Red Hat (`Low`,
/// `Moderate`, `Important`, `Critical`), GitHub (`LOW`, `MODERATE`, `HIGH`,
/// `CRITICAL`).
pub fn named_rating(text: &str) -> VulnerabilitySeverity {
    match text.trim().to_ascii_lowercase().as_str() {
        "negligible" | "low" => VulnerabilitySeverity::Low,
        "medium" | "moderate" => VulnerabilitySeverity::Medium,
        "high" | "important" => VulnerabilitySeverity::High,
        "critical" => VulnerabilitySeverity::Critical,
        _ => VulnerabilitySeverity::Unknown,
    }
}

fn cvss_rating<'a>(scores: impl Iterator<Item = &'a OsvSeverity>) -> VulnerabilitySeverity {
    scores
        .filter(|s| s.kind == "CVSS_V3")
        .find_map(|s| cvss3_base_score(&s.score))
        .map_or(VulnerabilitySeverity::Unknown, rating_of_score)
}

/// CVSS's qualitative rating of a base score (0.0 says nothing: unknown).
pub fn rating_of_score(score: f64) -> VulnerabilitySeverity {
    if score >= 9.0 {
        VulnerabilitySeverity::Critical
    } else if score >= 7.0 {
        VulnerabilitySeverity::High
    } else if score >= 4.0 {
        VulnerabilitySeverity::Medium
    } else if score > 0.0 {
        VulnerabilitySeverity::Low
    } else {
        VulnerabilitySeverity::Unknown
    }
}

/// The base score of a CVSS v3.0 or v3.1 vector
/// (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H` is 9.8), per the
/// CVSS v3.1 specification's formulas; `None` for anything else.
pub fn cvss3_base_score(vector: &str) -> Option<f64> {
    let mut parts = vector.trim().split('/');
    let version = parts.next()?;
    if version != "CVSS:3.1" && version != "CVSS:3.0" {
        return None;
    }
    let metric = |name: &str| -> Option<String> {
        vector
            .split('/')
            .skip(1)
            .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
            .map(str::to_owned)
    };
    let changed = match metric("S")?.as_str() {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match metric("AV")?.as_str() {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match metric("AC")?.as_str() {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (metric("PR")?.as_str(), changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match metric("UI")?.as_str() {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |name: &str| -> Option<f64> {
        match metric(name)?.as_str() {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15)
    } else {
        6.42 * iss
    };
    if impact <= 0.0 {
        return Some(0.0);
    }
    let exploitability = 8.22 * av * ac * pr * ui;
    let raw = if changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Some(round_up(raw))
}

/// CVSS v3.1's `Roundup`: the smallest one-decimal number not below `x`,
/// computed on integers to avoid floating-point surprises.
fn round_up(x: f64) -> f64 {
    #[expect(clippy::cast_possible_truncation, reason = "scores are 0..=10")]
    let scaled = (x * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}
