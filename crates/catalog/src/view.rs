//! Typed, read-only views of an asset's properties.
//!
//! Every read goes through [`Props`], which knows which properties the scan
//! could not read: reading one of those fails with [`Unreadable`], so a rule
//! written with `?` turns missing data into an `error` assessment and never
//! into a healthy one.

use rampart_model::Evidence;
use serde_json::Value;

use crate::doc::{Array, Node};
use crate::inventory::AssetRef;

/// Evidence values with more JSON nodes than this are summarized.
pub const EVIDENCE_NODES: usize = 24;

/// Whether `value` has at most `budget` nodes (stops counting early).
fn nodes_within(value: Node<'_>, budget: usize) -> bool {
    fn count(value: Node<'_>, left: &mut usize) -> bool {
        if *left == 0 {
            return false;
        }
        *left -= 1;
        if let Some(items) = value.as_array() {
            items.iter().all(|v| count(v, left))
        } else if let Some(map) = value.as_object() {
            map.values().all(|v| count(v, left))
        } else {
            true
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
    asset: AssetRef<'a>,
}

impl<'a> Props<'a> {
    /// A view of `asset`.
    pub fn of(asset: AssetRef<'a>) -> Self {
        Self { asset }
    }

    /// The asset itself.
    pub fn asset(&self) -> AssetRef<'a> {
        self.asset
    }

    /// The value at `path`; `Ok(None)` when absent or JSON `null`, `Err`
    /// when the scan could not read it (or a parent of it).
    pub fn get(&self, path: &str) -> Result<Option<Node<'a>>, Unreadable> {
        if self.asset.has_unavailable() {
            // The path itself and every parent of it (`a`, `a.b`, `a.b.c`).
            let prefixes = path
                .match_indices('.')
                .map(|(i, _)| path.get(..i).unwrap_or(path))
                .chain(std::iter::once(path));
            for prefix in prefixes {
                if let Some(error) = self.asset.unavailable(prefix) {
                    return Err(Unreadable {
                        path: path.to_owned(),
                        error: error.to_owned(),
                    });
                }
            }
        }
        let mut value = self.asset.properties;
        for segment in path.split('.') {
            let next = if let Some(map) = value.as_object() {
                map.get(segment)
            } else if let Some(items) = value.as_array() {
                segment.parse::<usize>().ok().and_then(|i| items.get(i))
            } else {
                None
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
        Ok(self.get(path)?.and_then(Node::as_bool))
    }

    /// A string at `path`.
    pub fn str(&self, path: &str) -> Result<Option<&'a str>, Unreadable> {
        Ok(self.get(path)?.and_then(Node::as_str))
    }

    /// A number at `path`.
    pub fn i64(&self, path: &str) -> Result<Option<i64>, Unreadable> {
        Ok(self.get(path)?.and_then(Node::as_i64))
    }

    /// An array at `path` (absent: empty).
    pub fn array(&self, path: &str) -> Result<Array<'a>, Unreadable> {
        Ok(self.get(path)?.and_then(Node::as_array).unwrap_or_default())
    }

    /// Evidence for `path`: the path and the value there (`null` when absent
    /// or unreadable). Large values (more than [`EVIDENCE_NODES`] JSON
    /// nodes: whole policies, long rule lists) are summarized as
    /// `{"summary": "object with N keys"}` so that a million assessments
    /// stay small; the asset keeps the full value.
    pub fn evidence(&self, path: &str) -> Evidence {
        let value = match self.get(path).ok().flatten() {
            None => Value::Null,
            Some(v) if nodes_within(v, EVIDENCE_NODES) => v.to_value(),
            Some(v) => match (v.as_array(), v.as_object()) {
                (Some(items), _) => {
                    serde_json::json!({ "summary": format!("array of {} items", items.len()) })
                }
                (_, Some(map)) => {
                    serde_json::json!({ "summary": format!("object with {} keys", map.len()) })
                }
                _ => v.to_value(),
            },
        };
        Evidence {
            path: path.to_owned(),
            value,
        }
    }

    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&'a str> {
        self.asset.tag(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Inventory;
    use rampart_model::Asset;
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
        let inv = Inventory::new(&[asset()]);
        let p = Props::of(inv.get(0).unwrap());
        assert_eq!(p.str("metadataOptions.httpTokens"), Ok(Some("optional")));
        assert_eq!(p.i64("list.0.a"), Ok(Some(1)));
        assert_eq!(p.get("nothing"), Ok(None));
        assert_eq!(p.get("missing.deep"), Ok(None));
        assert!(p.array("missing").unwrap().is_empty());
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
        let inv = Inventory::new(&[big]);
        assert_eq!(
            Props::of(inv.get(0).unwrap()).evidence("rules").value,
            json!({"summary": "array of 100 items"})
        );
    }
}
