//! Typed, read-only views of an asset's properties.
//!
//! Every read goes through [`Props`], which knows which properties the scan
//! could not read: reading one of those fails with [`Unreadable`], so a rule
//! written with `?` turns missing data into an `error` assessment and never
//! into a healthy one.

use rampart_model::{Asset, Evidence};
use serde_json::Value;

/// Evidence values with more JSON nodes than this are summarized.
pub const EVIDENCE_NODES: usize = 24;

/// Whether `value` has at most `budget` nodes (stops counting early).
fn nodes_within(value: &Value, budget: usize) -> bool {
    fn count(value: &Value, left: &mut usize) -> bool {
        if *left == 0 {
            return false;
        }
        *left -= 1;
        match value {
            Value::Array(items) => items.iter().all(|v| count(v, left)),
            Value::Object(map) => map.values().all(|v| count(v, left)),
            _ => true,
        }
    }
    let mut left = budget;
    count(value, &mut left)
}

/// A property the scan could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The property path asked for.
    pub path: String,
    /// Why it could not be read.
    pub error: String,
}

/// Read access to an asset's properties by dot-separated path
/// (`metadataOptions.httpTokens`; array indexes as numbers: `rules.0.x`).
#[derive(Debug, Clone, Copy)]
pub struct Props<'a> {
    asset: &'a Asset,
}

impl<'a> Props<'a> {
    /// A view of `asset`.
    pub fn of(asset: &'a Asset) -> Self {
        Self { asset }
    }

    /// The asset itself.
    pub fn asset(&self) -> &'a Asset {
        self.asset
    }

    /// The value at `path`; `Ok(None)` when absent or JSON `null`, `Err`
    /// when the scan could not read it (or a parent of it).
    pub fn get(&self, path: &str) -> Result<Option<&'a Value>, Unreadable> {
        if !self.asset.unavailable.is_empty() {
            // The path itself and every parent of it (`a`, `a.b`, `a.b.c`).
            let prefixes = path
                .match_indices('.')
                .map(|(i, _)| path.get(..i).unwrap_or(path))
                .chain(std::iter::once(path));
            for prefix in prefixes {
                if let Some(error) = self.asset.unavailable.get(prefix) {
                    return Err(Unreadable {
                        path: path.to_owned(),
                        error: error.clone(),
                    });
                }
            }
        }
        let mut value = &self.asset.properties;
        for segment in path.split('.') {
            let next = match value {
                Value::Object(map) => map.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(v) => value = v,
                None => return Ok(None),
            }
        }
        Ok(if value.is_null() { None } else { Some(value) })
    }

    /// A boolean at `path` (absent: `None`).
    pub fn bool(&self, path: &str) -> Result<Option<bool>, Unreadable> {
        Ok(self.get(path)?.and_then(Value::as_bool))
    }

    /// A string at `path`.
    pub fn str(&self, path: &str) -> Result<Option<&'a str>, Unreadable> {
        Ok(self.get(path)?.and_then(Value::as_str))
    }

    /// A number at `path`.
    pub fn i64(&self, path: &str) -> Result<Option<i64>, Unreadable> {
        Ok(self.get(path)?.and_then(Value::as_i64))
    }

    /// An array at `path` (absent: empty).
    pub fn array(&self, path: &str) -> Result<&'a [Value], Unreadable> {
        Ok(self
            .get(path)?
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice))
    }

    /// Evidence for `path`: the path and the value there (`null` when absent
    /// or unreadable). Large values (more than [`EVIDENCE_NODES`] JSON
    /// nodes: whole policies, long rule lists) are summarized as
    /// `{"summary": "object with N keys"}` so that a million assessments
    /// stay small; the asset keeps the full value.
    pub fn evidence(&self, path: &str) -> Evidence {
        let value = match self.get(path).ok().flatten() {
            None => Value::Null,
            Some(v) if nodes_within(v, EVIDENCE_NODES) => v.clone(),
            Some(Value::Array(items)) => {
                serde_json::json!({ "summary": format!("array of {} items", items.len()) })
            }
            Some(Value::Object(map)) => {
                serde_json::json!({ "summary": format!("object with {} keys", map.len()) })
            }
            Some(v) => v.clone(),
        };
        Evidence {
            path: path.to_owned(),
            value,
        }
    }

    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&'a str> {
        self.asset.tags.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn asset() -> Asset {
        let mut a = Asset::new(
            "arn:x",
            "AWS::EC2::Instance",
            "1",
            "r",
            "n",
            json!({"metadataOptions": {"httpTokens": "optional"}, "list": [{"a": 1}], "nothing": null}),
        );
        a.mark_unavailable("policy", "AccessDenied: no");
        a
    }

    #[test]
    fn reads_paths_and_reports_unreadable() {
        let a = asset();
        let p = Props::of(&a);
        assert_eq!(p.str("metadataOptions.httpTokens"), Ok(Some("optional")));
        assert_eq!(p.i64("list.0.a"), Ok(Some(1)));
        assert_eq!(p.get("nothing"), Ok(None));
        assert_eq!(p.get("missing.deep"), Ok(None));
        assert_eq!(p.array("missing"), Ok(&[][..]));
        let err = p.get("policy.Statement").unwrap_err();
        assert_eq!(err.error, "AccessDenied: no");
        assert_eq!(
            p.evidence("metadataOptions.httpTokens").value,
            json!("optional")
        );
        let big = Asset::new(
            "a",
            "t",
            "1",
            "r",
            "n",
            json!({"rules": (0..100).collect::<Vec<_>>()}),
        );
        assert_eq!(
            Props::of(&big).evidence("rules").value,
            json!({"summary": "array of 100 items"})
        );
    }
}
