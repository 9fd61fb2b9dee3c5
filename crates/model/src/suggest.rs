//! "Did you mean …": the valid names closest to one a user mistyped.
//!
//! One helper for every place that takes a name from a person (command-line
//! flags, exemption files, API requests), so a typo is an error that names
//! the closest valid values, never an empty result.

/// At most this many suggestions.
const MAX: usize = 3;

/// How much less similar than the best a suggestion may be.
const MARGIN: f64 = 0.08;

/// The candidates closest to `word`, best first (at most three): those whose
/// normalized Damerau-Levenshtein similarity is at least 0.7 (or that
/// contain `word`, or are contained in it), compared case-insensitively,
/// and about as similar as the best one.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let needle = word.to_lowercase();
    let mut scored: Vec<(f64, &'a str)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let mut score = strsim::normalized_damerau_levenshtein(&needle, &lower);
            if needle.len() >= 3 && (lower.contains(&needle) || needle.contains(&lower)) {
                score = score.max(0.7);
            }
            (score >= 0.7).then_some((score, candidate))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    // Only those about as close as the best: one clear match stays alone.
    let best = scored.first().map_or(0.0, |s| s.0);
    scored
        .into_iter()
        .take_while(|(score, _)| *score >= best - MARGIN)
        .take(MAX)
        .map(|(_, c)| c)
        .collect()
}

/// `did you mean `a` or `b`?` for the candidates closest to `word`; when
/// none is close, the valid values themselves if there are at most
/// `list_up_to` of them (`valid values: `a`, `b``), else `None`.
pub fn did_you_mean(word: &str, candidates: &[&str], list_up_to: usize) -> Option<String> {
    let close = closest(word, candidates.iter().copied());
    if !close.is_empty() {
        return Some(format!("did you mean {}?", quoted(&close, "or")));
    }
    (!candidates.is_empty() && candidates.len() <= list_up_to)
        .then(|| format!("valid values: {}", quoted(candidates, "and")))
}

/// "unknown KIND `word`", then `; did you mean …` (or the valid values),
/// then `; otherwise` when nothing is close (e.g. "see `rampart
/// recommendations`").
pub fn unknown(
    kind: &str,
    word: &str,
    candidates: &[&str],
    list_up_to: usize,
    otherwise: Option<&str>,
) -> String {
    let mut text = format!("unknown {kind} `{word}`");
    match did_you_mean(word, candidates, list_up_to) {
        Some(hint) => {
            text.push_str("; ");
            text.push_str(&hint);
        }
        None => {
            if let Some(hint) = otherwise {
                text.push_str("; ");
                text.push_str(hint);
            }
        }
    }
    text
}

fn quoted(items: &[&str], last: &str) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., tail] => format!("{} {last} {tail}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECS: [&str; 4] = [
        "s3-bucket-public-access-blocked",
        "s3-bucket-encrypted",
        "iam-root-mfa-enabled",
        "ec2-ebs-encryption-by-default",
    ];

    #[test]
    fn a_typo_names_the_closest_value() {
        assert_eq!(
            closest("s3-bucket-public-acces-blocked", RECS),
            ["s3-bucket-public-access-blocked"]
        );
        assert_eq!(
            did_you_mean(
                "AWS::S3::Buckets",
                &["AWS::S3::Bucket", "AWS::EC2::Instance"],
                10
            )
            .as_deref(),
            Some("did you mean `AWS::S3::Bucket`?")
        );
        assert_eq!(
            closest("unhealty", ["healthy", "unhealthy", "exempt"]),
            ["unhealthy"]
        );
    }

    #[test]
    fn case_does_not_matter() {
        assert_eq!(
            closest("aws::s3::bucket", ["AWS::S3::Bucket"]),
            ["AWS::S3::Bucket"]
        );
    }

    #[test]
    fn nothing_close_lists_a_short_list_or_nothing() {
        assert_eq!(closest("zzzz", RECS), Vec::<&str>::new());
        assert_eq!(
            did_you_mean("zzzz", &["a-b", "c-d"], 5).as_deref(),
            Some("valid values: `a-b` and `c-d`")
        );
        assert_eq!(did_you_mean("zzzz", &RECS, 2), None);
        assert_eq!(
            unknown(
                "recommendation",
                "zzzz",
                &RECS,
                2,
                Some("see `rampart recommendations`")
            ),
            "unknown recommendation `zzzz`; see `rampart recommendations`"
        );
        assert_eq!(
            unknown(
                "standard",
                "cis-aws-6.0",
                &["cis-aws-3.0", "cis-aws-4.0", "pci-dss-4.0"],
                10,
                None
            ),
            "unknown standard `cis-aws-6.0`; did you mean `cis-aws-3.0` or `cis-aws-4.0`?"
        );
    }
}
