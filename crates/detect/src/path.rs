//! Field paths into an event's JSON body, with any-member matching over
//! arrays.
//!
//! Syntax: keys separated by dots (`objectRef.namespace`); a key holding
//! dots or slashes in brackets and quotes
//! (`annotations["authorization.k8s.io/decision"]`); `[]` after a key marks
//! an array (`spec.containers[].image`). Arrays are entered wherever they
//! occur, marked or not: a path reaches every member, and a condition on it
//! holds when it holds for any member (for `|all`, every value is matched by
//! some member).

use serde_json::Value;

use crate::DetectError;

/// A parsed field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    keys: Vec<String>,
}

impl FieldPath {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, DetectError> {
        let bad = |reason: &str| DetectError::Path {
            path: text.to_owned(),
            reason: reason.to_owned(),
        };
        let mut keys = Vec::new();
        let mut rest = text;
        loop {
            if let Some(after) = rest.strip_prefix("[\"") {
                let end = after.find("\"]").ok_or_else(|| bad("unclosed `[\"`"))?;
                keys.push(after.get(..end).unwrap_or_default().to_owned());
                rest = after.get(end + 2..).unwrap_or_default();
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                let key = rest.get(..end).unwrap_or_default();
                if key.is_empty() {
                    return Err(bad("empty key"));
                }
                keys.push(key.to_owned());
                rest = rest.get(end..).unwrap_or_default();
            }
            // `[]` marks an array: arrays are entered anyway.
            while let Some(after) = rest.strip_prefix("[]") {
                rest = after;
            }
            if rest.is_empty() {
                break;
            }
            if let Some(after) = rest.strip_prefix('.') {
                rest = after;
            } else if !rest.starts_with("[\"") {
                return Err(bad("expected `.` or `[\"` between keys"));
            }
        }
        Ok(Self {
            text: text.to_owned(),
            keys,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Calls `visit` with every value the path reaches in `root` (array
    /// members one by one) until `visit` returns `true`; returns whether it
    /// did.
    pub fn any(&self, root: &Value, visit: &mut dyn FnMut(&Value) -> bool) -> bool {
        walk(root, &self.keys, visit)
    }

    /// Every value the path reaches in `root`.
    pub fn values<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        let mut out = Vec::new();
        collect(root, &self.keys, &mut out);
        out
    }

    /// The first value the path reaches, if it is a string.
    pub fn first_str<'v>(&self, root: &'v Value) -> Option<&'v str> {
        self.values(root).into_iter().find_map(Value::as_str)
    }
}

fn walk(value: &Value, keys: &[String], visit: &mut dyn FnMut(&Value) -> bool) -> bool {
    match (value, keys.split_first()) {
        (Value::Array(items), _) => items.iter().any(|item| walk(item, keys, visit)),
        (_, None) => visit(value),
        (Value::Object(map), Some((key, rest))) => map
            .get(key.as_str())
            .is_some_and(|next| walk(next, rest, visit)),
        _ => false,
    }
}

fn collect<'v>(value: &'v Value, keys: &[String], out: &mut Vec<&'v Value>) {
    match (value, keys.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|item| collect(item, keys, out)),
        (_, None) => out.push(value),
        (Value::Object(map), Some((key, rest))) => {
            if let Some(next) = map.get(key.as_str()) {
                collect(next, rest, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_keys_brackets_and_array_marks() {
        let path = FieldPath::parse(r#"annotations["authorization.k8s.io/decision"]"#).ok();
        assert_eq!(
            path.map(|p| p.keys),
            Some(vec![
                "annotations".to_owned(),
                "authorization.k8s.io/decision".to_owned()
            ])
        );
        let path = FieldPath::parse("spec.containers[].image").ok();
        assert_eq!(
            path.map(|p| p.keys.len()),
            Some(3),
            "`[]` is a mark, not a key"
        );
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse(r#"a["b"#).is_err());
    }

    #[test]
    fn reaches_every_array_member() {
        let body = json!({"spec": {"containers": [
            {"image": "nginx", "securityContext": {"privileged": false}},
            {"image": "xmrig", "securityContext": {"privileged": true}}
        ]}, "groups": ["a", "b"]});
        let path = FieldPath::parse("spec.containers[].securityContext.privileged").ok();
        let values = path.map(|p| p.values(&body)).unwrap_or_default();
        assert_eq!(values, vec![&json!(false), &json!(true)]);
        let groups = FieldPath::parse("groups").ok();
        assert_eq!(groups.map(|p| p.values(&body).len()), Some(2));
        let missing = FieldPath::parse("spec.volumes[].hostPath.path").ok();
        assert_eq!(missing.map(|p| p.values(&body).len()), Some(0));
    }
}
