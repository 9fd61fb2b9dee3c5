//! Rules for ECR private repositories.
//!
//! Every private repository is assessed, empty ones included: Security
//! Hub's ECR.1 to ECR.3 (AWS Config's `ecr-private-*` rules) assess the
//! repository's settings whether or not it holds images, and an empty
//! repository's settings apply to the first image pushed.

use super::{Outcome, Rule};
use crate::doc::{Array, Node};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "ecr-repository-image-scanning",
        check: image_scanning,
    },
    Rule {
        id: "ecr-repository-tag-immutability",
        check: tag_immutability,
    },
    Rule {
        id: "ecr-repository-lifecycle-policy",
        check: lifecycle_policy,
    },
];

/// Whether an ECR wildcard filter (`*` matches any run of characters)
/// matches a repository name.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() == 1 {
        return pattern == name;
    }
    if !name.starts_with(first) || name.len() < first.len() + last.len() {
        return false;
    }
    let Some(mut rest) = name.get(first.len()..name.len() - last.len()) else {
        return false;
    };
    if !name.ends_with(last) {
        return false;
    }
    for middle in parts.iter().skip(1).take(parts.len().saturating_sub(2)) {
        match rest.find(middle) {
            Some(at) => rest = rest.get(at + middle.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    true
}

/// The registry scanning rule frequency that covers `name` on push or
/// continuously, if any.
fn registry_rule_for<'a>(rules: Array<'a>, name: &str) -> Option<&'a str> {
    rules.iter().find_map(|rule| {
        let frequency = rule.get("scanFrequency").and_then(Node::as_str)?;
        if !matches!(frequency, "SCAN_ON_PUSH" | "CONTINUOUS_SCAN") {
            return None;
        }
        let filters = rule.get("repositoryFilters").and_then(Node::as_array)?;
        filters
            .iter()
            .any(|f| {
                f.get("filterType").and_then(Node::as_str) == Some("WILDCARD")
                    && f.get("filter")
                        .and_then(Node::as_str)
                        .is_some_and(|pattern| wildcard_match(pattern, name))
            })
            .then_some(frequency)
    })
}

/// ECR.1: images are scanned, on push or continuously, by a registry
/// scanning rule that covers the repository or (basic scanning) the
/// repository's own scan-on-push setting. Under enhanced scanning the
/// repository setting is ignored, so only a registry rule counts.
fn image_scanning(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let name = p.str("repositoryName")?.unwrap_or(p.asset().name);
    let rules = p.array("registryScanningConfiguration.rules")?;
    if let Some(frequency) = registry_rule_for(rules, name) {
        return Ok(Outcome::healthy(format!(
            "A registry scanning rule ({frequency}) covers the repository."
        ))
        .with(p.evidence("registryScanningConfiguration")));
    }
    if p.str("registryScanningConfiguration.scanType")? == Some("ENHANCED") {
        return Ok(Outcome::unhealthy(
            "The registry uses enhanced scanning but no scan-on-push or continuous rule matches this repository; add a filter for it.",
        )
        .with(p.evidence("registryScanningConfiguration")));
    }
    let on_push = p.bool("imageScanningConfiguration.scanOnPush")?;
    Ok(Outcome::either(
        on_push == Some(true),
        "Images are scanned for vulnerabilities when pushed.",
        "Images are not scanned on push; enable scan on push or a registry scanning rule for the repository.",
    )
    .with(p.evidence("imageScanningConfiguration.scanOnPush"))
    .with(p.evidence("registryScanningConfiguration")))
}

/// ECR.2: image tags are immutable (`IMMUTABLE`, or
/// `IMMUTABLE_WITH_EXCLUSION` where only the listed tag filters stay
/// mutable).
fn tag_immutability(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let outcome = match p.str("imageTagMutability")? {
        Some("IMMUTABLE") => Outcome::healthy("Image tags in the repository are immutable."),
        Some("IMMUTABLE_WITH_EXCLUSION") => Outcome::healthy(
            "Image tags are immutable except those matching the repository's exclusion filters.",
        )
        .with(p.evidence("imageTagMutabilityExclusionFilters")),
        Some(other) => Outcome::unhealthy(format!(
            "Image tags are {other}: a push can replace the image behind an existing tag; set tag immutability to IMMUTABLE."
        )),
        None => {
            return Err(Unreadable {
                path: "imageTagMutability".to_owned(),
                error: "the repository's tag mutability was not reported".to_owned(),
            });
        }
    };
    Ok(outcome.with(p.evidence("imageTagMutability")))
}

/// ECR.3: the repository has a lifecycle policy.
fn lifecycle_policy(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let policy = p.get("lifecyclePolicy")?;
    Ok(Outcome::either(
        policy.is_some(),
        "The repository has a lifecycle policy.",
        "The repository has no lifecycle policy; add one that expires untagged and old images.",
    )
    .with(p.evidence("lifecyclePolicy")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "app"));
        assert!(wildcard_match("prod-*", "prod-api"));
        assert!(!wildcard_match("prod-*", "dev-api"));
        assert!(wildcard_match("*-api", "prod-api"));
        assert!(wildcard_match("team/*/web*", "team/a/web-1"));
        assert!(!wildcard_match("team/*/web*", "team/a/api"));
        assert!(wildcard_match("app", "app"));
        assert!(!wildcard_match("app", "apps"));
        assert!(!wildcard_match("ab*ba", "aba"));
    }
}
