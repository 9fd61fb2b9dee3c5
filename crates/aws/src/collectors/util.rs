//! Small helpers shared by the collectors' mapping functions.

use std::collections::BTreeMap;

use rampart_model::Asset;
use serde_json::Value;

use crate::error::CallFailure;

/// Tags from any list of `(key, value)` pairs with optional parts, as the
/// SDKs model them; pairs without a key are dropped.
pub fn tag_map<'t, I>(pairs: I) -> BTreeMap<String, String>
where
    I: IntoIterator<Item = (Option<&'t str>, Option<&'t str>)>,
{
    pairs
        .into_iter()
        .filter_map(|(k, v)| k.map(|k| (k.to_owned(), v.unwrap_or_default().to_owned())))
        .collect()
}

/// An SDK timestamp as RFC 3339 text.
pub fn timestamp(dt: &aws_smithy_types::DateTime) -> Value {
    dt.fmt(aws_smithy_types::date_time::Format::DateTime)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

/// An optional SDK timestamp as RFC 3339 text or `null`.
pub fn opt_timestamp(dt: Option<&aws_smithy_types::DateTime>) -> Value {
    dt.map(timestamp).unwrap_or(Value::Null)
}

/// A policy document as JSON. IAM returns documents URL-encoded; other
/// services return plain JSON. Text that is not JSON is kept as a string.
pub fn policy_document(text: &str) -> Value {
    let decoded = if text.trim_start().starts_with('{') {
        text.to_owned()
    } else {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

/// An optional string as JSON.
pub fn opt_str(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |v| Value::String(v.to_owned()))
}

/// A list of strings as JSON.
pub fn str_list<S: AsRef<str>>(values: &[S]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|v| Value::String(v.as_ref().to_owned()))
            .collect(),
    )
}

/// The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`), for
/// building ARNs of resources whose API returns only an id.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// The last `/`- or `:`-separated part of an ARN (a resource's name).
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit(['/', ':']).next().unwrap_or(arn)
}

/// A non-empty attribute of an API that answers with a string map
/// (SNS `GetTopicAttributes`, SQS `GetQueueAttributes`).
pub fn attribute_text<'a>(attributes: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    attributes
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// A numeric string-map attribute as a JSON number (`null` when absent or
/// not a number).
pub fn attribute_number(attributes: &BTreeMap<String, String>, key: &str) -> Value {
    attribute_text(attributes, key)
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(Value::Null, Value::from)
}

/// The asset with its tags, or with `tags` marked unavailable when reading
/// them failed.
pub fn with_tags_or_unavailable(
    mut asset: Asset,
    tags: Result<&BTreeMap<String, String>, &CallFailure>,
) -> Asset {
    match tags {
        Ok(tags) => asset.with_tags(tags.clone()),
        Err(failure) => {
            asset.mark_unavailable("tags", failure.to_string());
            asset
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_iam_documents() {
        let doc = policy_document("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(doc["Version"], "2012-10-17");
        let plain = policy_document("{\"Statement\":[]}");
        assert!(plain["Statement"].is_array());
        assert_eq!(
            policy_document("not json"),
            Value::String("not json".into())
        );
    }

    #[test]
    fn tags_and_names() {
        let tags = tag_map([
            (Some("env"), Some("prod")),
            (None, Some("x")),
            (Some("k"), None),
        ]);
        assert_eq!(tags.len(), 2);
        assert_eq!(tags["k"], "");
        assert_eq!(arn_name("arn:aws:iam::1:role/path/r"), "r");
        assert_eq!(arn_name("arn:aws:kms:us-east-1:1:key/abc"), "abc");
    }

    #[test]
    fn partitions_by_region() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let dt = aws_smithy_types::DateTime::from_secs(0);
        assert_eq!(timestamp(&dt), "1970-01-01T00:00:00Z");
        assert_eq!(opt_timestamp(None), Value::Null);
    }
}
