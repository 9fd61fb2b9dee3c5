//! Exemptions: accepted risks, from a YAML file.
//!
//! ```yaml
//! exemptions:
//!   - recommendation: s3-bucket-public-read-prohibited  # or "*"
//!     resource: "arn:aws:s3:::public-website-*"         # glob: * and ?
//!     account: "123456789012"
//!     region: us-east-1
//!     tag: "data=public-website"                        # KEY or KEY=VALUE
//!     reason: Static website, public by design
//!     expires: 2027-01-01                               # date or RFC 3339; optional
//! ```
//!
//! Every criterion given must match; at least one besides `reason` is
//! required. An exempt assessment keeps its original status and the reason
//! in `exemption`; it is never dropped. Expired exemptions do not apply.

use rampart_model::{Assessment, AssessmentStatus, ExemptionNote};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::inventory::{AssetRef, Inventory};
use crate::{Catalog, CatalogError};

/// One exemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// Recommendation id, or `*` for all.
    #[serde(default)]
    pub recommendation: Option<String>,
    /// Resource ARN pattern (`*` any run, `?` any one character).
    #[serde(default)]
    pub resource: Option<String>,
    /// Account id.
    #[serde(default)]
    pub account: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// `KEY` or `KEY=VALUE` the resource must be tagged with.
    #[serde(default)]
    pub tag: Option<String>,
    /// Why the risk is accepted.
    pub reason: String,
    /// When it ends: `YYYY-MM-DD` (end of that day, UTC) or RFC 3339.
    #[serde(default)]
    pub expires: Option<String>,
}

impl Exemption {
    /// Checks that it has a reason, matches less than everything and has a
    /// valid expiry; returns the expiry. Errors read after "exemption N ".
    pub fn validate(&self) -> Result<Option<OffsetDateTime>, String> {
        if self.reason.trim().is_empty() {
            return Err("has no `reason`".to_owned());
        }
        if self.recommendation.is_none()
            && self.resource.is_none()
            && self.account.is_none()
            && self.region.is_none()
            && self.tag.is_none()
        {
            return Err(
                "matches everything: give a recommendation, resource, account, region or tag"
                    .to_owned(),
            );
        }
        self.expires
            .as_deref()
            .map(parse_expiry)
            .transpose()
            .map_err(|v| {
                format!(
                    "has an `expires` value `{v}` that is neither a date (YYYY-MM-DD) nor RFC 3339"
                )
            })
    }
}

impl Exemption {
    /// Checks that the recommendation it names (if any, other than `*`)
    /// is in `catalog`. Errors read after "exemption N ".
    pub fn check_recommendation(&self, catalog: &Catalog) -> Result<(), String> {
        match self.recommendation.as_deref() {
            None | Some("*") => Ok(()),
            Some(id) => catalog
                .check_id(id)
                .map_err(|why| format!("names an {why}")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    exemptions: Vec<Exemption>,
}

/// A validated set of exemptions.
#[derive(Debug, Clone, Default)]
pub struct Exemptions {
    entries: Vec<(Exemption, Option<OffsetDateTime>)>,
}

impl Exemptions {
    /// Parses and validates YAML.
    pub fn from_yaml(text: &str) -> Result<Self, CatalogError> {
        let file: File =
            serde_yaml_ng::from_str(text).map_err(|e| CatalogError::Exemptions(e.to_string()))?;
        Self::from_list(file.exemptions)
    }

    /// Validates a list of exemptions (e.g. from the store).
    pub fn from_list(list: Vec<Exemption>) -> Result<Self, CatalogError> {
        let mut entries = Vec::new();
        for (i, e) in list.into_iter().enumerate() {
            let expires = e
                .validate()
                .map_err(|why| CatalogError::Exemptions(format!("exemption {} {why}", i + 1)))?;
            entries.push((e, expires));
        }
        Ok(Self { entries })
    }

    /// Checks that every recommendation named is in `catalog`: a typo is
    /// an error naming the closest ids, never an exemption that matches
    /// nothing.
    pub fn check_recommendations(&self, catalog: &Catalog) -> Result<(), CatalogError> {
        for (i, (e, _)) in self.entries.iter().enumerate() {
            e.check_recommendation(catalog)
                .map_err(|why| CatalogError::Exemptions(format!("exemption {} {why}", i + 1)))?;
        }
        Ok(())
    }

    /// Adds `other`'s exemptions after these.
    pub fn extend(&mut self, other: Self) {
        self.entries.extend(other.entries);
    }

    /// Number of exemptions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Marks matching assessments exempt (all but not-applicable ones), as
    /// of `now`. Returns how many were exempted.
    pub fn apply(
        &self,
        assessments: &mut [Assessment],
        inventory: &Inventory,
        now: OffsetDateTime,
    ) -> usize {
        assessments
            .iter_mut()
            .map(|a| self.apply_one(a, inventory, now))
            .filter(|&exempted| exempted)
            .count()
    }

    /// [`apply`](Self::apply) for one assessment: whether it was exempted.
    pub fn apply_one(
        &self,
        a: &mut Assessment,
        inventory: &Inventory,
        now: OffsetDateTime,
    ) -> bool {
        if self.entries.is_empty()
            || a.status == AssessmentStatus::NotApplicable
            || a.status == AssessmentStatus::Exempt
        {
            return false;
        }
        let asset = inventory.by_arn(&a.resource);
        let hit = self
            .entries
            .iter()
            .find(|(e, expires)| expires.is_none_or(|t| t > now) && matches(e, a, asset));
        let Some((e, _)) = hit else {
            return false;
        };
        a.exemption = Some(ExemptionNote {
            original_status: a.status,
            reason: e.reason.clone(),
            expires: e.expires.clone(),
        });
        a.status = AssessmentStatus::Exempt;
        true
    }
}

fn matches(e: &Exemption, a: &Assessment, asset: Option<AssetRef<'_>>) -> bool {
    e.recommendation
        .as_deref()
        .is_none_or(|r| r == "*" || r == a.recommendation)
        && e.account.as_deref().is_none_or(|x| x == a.account)
        && e.region.as_deref().is_none_or(|x| x == a.region)
        && e.resource.as_deref().is_none_or(|p| glob(p, &a.resource))
        && e.tag.as_deref().is_none_or(|t| {
            let (key, value) = match t.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (t, None),
            };
            asset
                .and_then(|s| s.tag(key))
                .is_some_and(|v| value.is_none_or(|want| want == v))
        })
}

fn parse_expiry(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let date = time::Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| text.to_owned())?;
    date.next_day()
        .map(|d| d.midnight().assume_utc())
        .ok_or_else(|| text.to_owned())
}

/// Glob match with `*` (any run) and `?` (any one character).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_model::Asset;
    use serde_json::json;
    use time::macros::datetime;

    fn assessment(rec: &str, resource: &str, status: AssessmentStatus) -> Assessment {
        Assessment {
            recommendation: rec.into(),
            resource: resource.into(),
            resource_type: "AWS::S3::Bucket".into(),
            resource_name: "b".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            status,
            reason: "r".into(),
            evidence: vec![],
            exemption: None,
        }
    }

    #[test]
    fn a_mistyped_recommendation_is_an_error_naming_the_closest_id() {
        let catalog = Catalog::builtin().unwrap();
        let yaml =
            "exemptions:\n  - recommendation: s3-bucket-public-read-prohibted\n    reason: typo\n";
        let err = Exemptions::from_yaml(yaml)
            .unwrap()
            .check_recommendations(&catalog)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "exemptions: exemption 1 names an unknown recommendation `s3-bucket-public-read-prohibted`; did you mean `s3-bucket-public-read-prohibited`?"
        );
        let fine = "exemptions:\n  - recommendation: s3-bucket-public-read-prohibited\n    reason: ok\n  - recommendation: \"*\"\n    account: \"123456789012\"\n    reason: all\n";
        Exemptions::from_yaml(fine)
            .unwrap()
            .check_recommendations(&catalog)
            .unwrap();
        let far = "exemptions:\n  - recommendation: nothing-like-it-at-all-qqq\n    reason: x\n";
        let err = Exemptions::from_yaml(far)
            .unwrap()
            .check_recommendations(&catalog)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("see `rampart recommendations` for the ids"),
            "{err}"
        );
    }

    #[test]
    fn globs() {
        assert!(glob("arn:aws:s3:::web-*", "arn:aws:s3:::web-site"));
        assert!(glob("*", "anything"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(glob("*-site", "arn:aws:s3:::web-site"));
        assert!(!glob("web-*", "arn:aws:s3:::web-site"));
    }

    #[test]
    fn applies_by_each_criterion_and_keeps_the_original_status() {
        let yaml = r#"
exemptions:
  - recommendation: rec-a
    resource: "arn:aws:s3:::web-*"
    reason: public website
  - tag: "data=public"
    region: us-east-1
    reason: tagged public
    expires: 2030-01-01
  - recommendation: "*"
    account: "999999999999"
    reason: sandbox account
  - recommendation: rec-c
    reason: expired one
    expires: "2020-01-01T00:00:00Z"
"#;
        let ex = Exemptions::from_yaml(yaml).unwrap();
        assert_eq!(ex.len(), 4);
        let tagged = Asset::new(
            "arn:aws:s3:::data",
            "AWS::S3::Bucket",
            "123456789012",
            "us-east-1",
            "data",
            json!({}),
        )
        .with_tags([("data".to_owned(), "public".to_owned())].into());
        let assets = vec![tagged];
        let inv = Inventory::new(&assets);
        let mut list = vec![
            assessment("rec-a", "arn:aws:s3:::web-1", AssessmentStatus::Unhealthy),
            assessment("rec-a", "arn:aws:s3:::other", AssessmentStatus::Unhealthy),
            assessment("rec-b", "arn:aws:s3:::data", AssessmentStatus::Unhealthy),
            assessment("rec-c", "arn:aws:s3:::x", AssessmentStatus::Unhealthy),
            assessment(
                "rec-a",
                "arn:aws:s3:::web-2",
                AssessmentStatus::NotApplicable,
            ),
        ];
        let n = ex.apply(&mut list, &inv, datetime!(2026-06-01 0:00 UTC));
        assert_eq!(n, 2);
        let statuses: Vec<AssessmentStatus> = list.iter().map(|a| a.status).collect();
        let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            statuses,
            [
                "exempt",
                "unhealthy",
                "exempt",
                "unhealthy",
                "not_applicable"
            ]
        );
        let note = list[0].exemption.as_ref().unwrap();
        assert_eq!(
            (note.original_status, note.reason.as_str()),
            (AssessmentStatus::Unhealthy, "public website")
        );
        assert_eq!(
            list[2].exemption.as_ref().unwrap().expires.as_deref(),
            Some("2030-01-01")
        );
        // After its expiry the tag exemption no longer applies.
        let mut later = vec![assessment(
            "rec-b",
            "arn:aws:s3:::data",
            AssessmentStatus::Unhealthy,
        )];
        assert_eq!(
            ex.apply(&mut later, &inv, datetime!(2030-01-02 0:00 UTC)),
            0
        );
    }

    #[test]
    fn rejects_invalid_files_with_a_clear_message() {
        let cases = [
            (
                "exemptions:\n  - reason: x\n",
                "exemption 1 matches everything",
            ),
            (
                "exemptions:\n  - region: r\n    reason: ''\n",
                "exemption 1 has no `reason`",
            ),
            (
                "exemptions:\n  - region: r\n    reason: x\n    expires: soon\n",
                "`expires` value `soon`",
            ),
            (
                "exemptions:\n  - region: r\n    reason: x\n    colour: red\n",
                "unknown field `colour`",
            ),
        ];
        for (yaml, expected) in cases {
            let err = Exemptions::from_yaml(yaml)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(expected), "{yaml}: {err}");
        }
    }
}
