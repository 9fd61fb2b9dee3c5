//! Pure decoding of the pipelines' data: S3 event notifications (the SQS
//! message bodies), Firehose objects holding CloudWatch Logs subscription
//! payloads, and CloudTrail log files (`{"Records": […]}`, gzipped).

use std::io::Read;

use flate2::bufread::GzDecoder;
use percent_encoding::percent_decode_str;
use serde::Deserialize;

/// Why an SQS message or an S3 object could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The SQS message body is not an S3 event notification.
    #[error("not an S3 event notification: {0}")]
    Notification(String),
    /// A gzip member is corrupt or truncated.
    #[error("bad gzip in member {member}: {reason}")]
    Gzip {
        /// Zero-based index of the gzip member.
        member: usize,
        /// The decoder's message.
        reason: String,
    },
    /// A member is not a CloudWatch Logs subscription payload.
    #[error("bad subscription payload in member {member}: {reason}")]
    Payload {
        /// Zero-based index of the gzip member.
        member: usize,
        /// The parser's message.
        reason: String,
    },
    /// A member is not a CloudTrail log file (`{"Records": […]}`).
    #[error("bad CloudTrail log file in member {member}: {reason}")]
    CloudTrail {
        /// Zero-based index of the gzip member.
        member: usize,
        /// The parser's message.
        reason: String,
    },
}

/// Every gzip member of `bytes`, decompressed, in order. An empty input
/// has no members.
pub fn gzip_members(bytes: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut rest = bytes;
    let mut members = Vec::new();
    while !rest.is_empty() {
        let mut decoder = GzDecoder::new(rest);
        let mut out = Vec::new();
        decoder
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Gzip {
                member: members.len(),
                reason: e.to_string(),
            })?;
        rest = decoder.into_inner();
        members.push(out);
    }
    Ok(members)
}

#[derive(Deserialize)]
struct RawTrailFile {
    #[serde(rename = "Records")]
    records: Vec<serde_json::Value>,
}

/// Decodes a CloudTrail log object: every gzip member a log file
/// `{"Records": […]}`; the records in order, as JSON (each is parsed by
/// detection on its own).
pub fn decode_cloudtrail_object(bytes: &[u8]) -> Result<Vec<serde_json::Value>, DecodeError> {
    let mut records = Vec::new();
    for (member, json) in gzip_members(bytes)?.into_iter().enumerate() {
        let file: RawTrailFile =
            serde_json::from_slice(&json).map_err(|e| DecodeError::CloudTrail {
                member,
                reason: e.to_string(),
            })?;
        records.extend(file.records);
    }
    Ok(records)
}

/// One object of an S3 event notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Event name (`ObjectCreated:Put`).
    pub event_name: String,
    /// Region of the bucket.
    pub region: String,
    /// Bucket name.
    pub bucket: String,
    /// Object key, URL-decoded.
    pub key: String,
    /// Object size in bytes, when given.
    pub size: Option<u64>,
}

/// What an SQS message of the pipeline's queue carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// The `s3:TestEvent` S3 sends when a notification is configured.
    Test {
        /// The bucket it names.
        bucket: String,
    },
    /// Objects written to the bucket.
    Objects(Vec<ObjectRef>),
}

#[derive(Deserialize)]
struct RawNotification {
    #[serde(rename = "Records")]
    records: Option<Vec<RawRecord>>,
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Bucket")]
    bucket: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecord {
    #[serde(default)]
    event_name: String,
    #[serde(default)]
    aws_region: String,
    s3: RawS3,
}

#[derive(Deserialize)]
struct RawS3 {
    bucket: RawBucket,
    object: RawObject,
}

#[derive(Deserialize)]
struct RawBucket {
    name: String,
}

#[derive(Deserialize)]
struct RawObject {
    key: String,
    size: Option<u64>,
}

/// Decodes an object key as S3 writes it into event notifications:
/// form-URL-encoded (`+` for a space, `%2F` for `/`).
pub fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Parses an SQS message body holding an S3 event notification.
pub fn parse_notification(body: &str) -> Result<Notification, DecodeError> {
    let raw: RawNotification =
        serde_json::from_str(body).map_err(|e| DecodeError::Notification(e.to_string()))?;
    if raw.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Notification::Test {
            bucket: raw.bucket.unwrap_or_default(),
        });
    }
    let Some(records) = raw.records else {
        return Err(DecodeError::Notification(
            "no `Records` and not an `s3:TestEvent`".to_owned(),
        ));
    };
    Ok(Notification::Objects(
        records
            .into_iter()
            .map(|r| ObjectRef {
                event_name: r.event_name,
                region: r.aws_region,
                bucket: r.s3.bucket.name,
                key: decode_key(&r.s3.object.key),
                size: r.s3.object.size,
            })
            .collect(),
    ))
}

/// A log event's id: AWS sends numeric strings, moto integers.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Text(String),
    Number(u64),
}

#[derive(Deserialize)]
struct RawLogEvent {
    id: RawId,
    timestamp: i64,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPayload {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    log_group: String,
    #[serde(default)]
    log_stream: String,
    #[serde(default)]
    subscription_filters: Vec<String>,
    message_type: String,
    #[serde(default)]
    log_events: Vec<RawLogEvent>,
}

/// One log event of a subscription payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// The event id, as a string (CloudWatch Logs' numeric string).
    pub id: String,
    /// When it was logged, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The log line (for EKS audit logs: one JSON audit event).
    pub message: String,
}

/// One CloudWatch Logs subscription `DATA_MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBatch {
    /// Account that owns the log group.
    pub owner: String,
    /// Log group name.
    pub log_group: String,
    /// Log stream name.
    pub log_stream: String,
    /// Subscription filters that forwarded the events.
    pub subscription_filters: Vec<String>,
    /// The events, in order.
    pub events: Vec<LogEvent>,
}

/// Decodes a Firehose object: every gzip member (Firehose concatenates
/// records without delimiters), each a CloudWatch Logs subscription
/// payload. `CONTROL_MESSAGE`s are skipped. An empty object has no batches.
pub fn decode_object(bytes: &[u8]) -> Result<Vec<LogBatch>, DecodeError> {
    let mut batches = Vec::new();
    for (member, json) in gzip_members(bytes)?.into_iter().enumerate() {
        let payload: RawPayload =
            serde_json::from_slice(&json).map_err(|e| DecodeError::Payload {
                member,
                reason: e.to_string(),
            })?;
        match payload.message_type.as_str() {
            "DATA_MESSAGE" => batches.push(LogBatch {
                owner: payload.owner,
                log_group: payload.log_group,
                log_stream: payload.log_stream,
                subscription_filters: payload.subscription_filters,
                events: payload
                    .log_events
                    .into_iter()
                    .map(|e| LogEvent {
                        id: match e.id {
                            RawId::Text(text) => text,
                            RawId::Number(n) => n.to_string(),
                        },
                        timestamp_ms: e.timestamp,
                        message: e.message,
                    })
                    .collect(),
            }),
            "CONTROL_MESSAGE" => {}
            other => {
                return Err(DecodeError::Payload {
                    member,
                    reason: format!("unknown `messageType` `{other}`"),
                });
            }
        }
    }
    Ok(batches)
}

/// The EKS cluster a control-plane log group belongs to
/// (`/aws/eks/<cluster>/cluster`).
pub fn cluster_of_log_group(log_group: &str) -> Option<&str> {
    log_group
        .strip_prefix("/aws/eks/")?
        .strip_suffix("/cluster")
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failure should stop the test"
    )]

    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;
    use serde_json::json;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn data_message(stream: &str, events: serde_json::Value) -> Vec<u8> {
        gzip(
            json!({
                "owner": "123456789012",
                "logGroup": "/aws/eks/prod/cluster",
                "logStream": stream,
                "subscriptionFilters": ["rampart-eks-prod-0a1b2c3d"],
                "messageType": "DATA_MESSAGE",
                "logEvents": events,
            })
            .to_string()
            .as_bytes(),
        )
    }

    #[test]
    fn decodes_every_gzip_member_with_string_and_integer_ids() {
        let mut object = data_message(
            "kube-apiserver-audit-1",
            json!([
                {"id": "36746270541620916234935749130497218981519187460617564160", "timestamp": 1_700_000_000_000_i64, "message": "{\"verb\":\"get\"}"},
                {"id": "36746270541620916234935749130497218981519187460617564161", "timestamp": 1_700_000_000_001_i64, "message": "{\"verb\":\"list\"}"},
            ]),
        );
        object.extend(gzip(
            json!({
                "owner": "CloudwatchLogs",
                "logGroup": "",
                "logStream": "",
                "subscriptionFilters": [],
                "messageType": "CONTROL_MESSAGE",
                "logEvents": [{"id": "", "timestamp": 1_700_000_000_000_i64, "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}],
            })
            .to_string()
            .as_bytes(),
        ));
        object.extend(data_message(
            "authenticator-2",
            json!([{"id": 0, "timestamp": 1_700_000_000_002_i64, "message": "authenticated"}]),
        ));
        let batches = decode_object(&object).unwrap();
        assert_eq!(
            batches.len(),
            2,
            "two data messages, the control message skipped"
        );
        assert_eq!(batches[0].log_stream, "kube-apiserver-audit-1");
        assert_eq!(batches[0].owner, "123456789012");
        assert_eq!(
            batches[0].subscription_filters,
            ["rampart-eks-prod-0a1b2c3d"]
        );
        let ids: Vec<&str> = batches
            .iter()
            .flat_map(|b| &b.events)
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "36746270541620916234935749130497218981519187460617564160",
                "36746270541620916234935749130497218981519187460617564161",
                "0"
            ]
        );
        assert_eq!(batches[0].events[1].message, "{\"verb\":\"list\"}");
        assert_eq!(batches[1].events[0].timestamp_ms, 1_700_000_000_002);
        assert_eq!(decode_object(&[]).unwrap(), vec![]);
    }

    #[test]
    fn malformed_members_are_errors_naming_the_member() {
        let good = data_message("s", json!([]));
        let mut truncated = good.clone();
        truncated.extend(&good[..good.len() - 6]);
        assert!(matches!(
            decode_object(&truncated),
            Err(DecodeError::Gzip { member: 1, .. })
        ));
        assert!(matches!(
            decode_object(b"not gzip at all"),
            Err(DecodeError::Gzip { member: 0, .. })
        ));
        assert!(matches!(
            decode_object(&gzip(
                b"{\"messageType\": \"DATA_MESSAGE\", \"logEvents\": [{]"
            )),
            Err(DecodeError::Payload { member: 0, .. })
        ));
        let unknown = gzip(json!({"messageType": "OTHER"}).to_string().as_bytes());
        let err = decode_object(&unknown).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad subscription payload in member 0: unknown `messageType` `OTHER`"
        );
    }

    #[test]
    fn parses_s3_notifications_and_the_test_event() {
        let body = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "rampart-eks-prod"},
                   "object": {"key": "eks-audit%2F2026%2F12%2F06%2Fa+b%2Bc.gz", "size": 42}}
        }]});
        let Notification::Objects(objects) = parse_notification(&body.to_string()).unwrap() else {
            panic!("expected objects");
        };
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].key, "eks-audit/2026/12/06/a b+c.gz");
        assert_eq!(objects[0].bucket, "rampart-eks-prod");
        assert_eq!(objects[0].region, "eu-west-1");
        assert_eq!(objects[0].size, Some(42));
        let test = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-12-06T05:00:00.000Z", "Bucket": "b1"});
        assert_eq!(
            parse_notification(&test.to_string()).unwrap(),
            Notification::Test {
                bucket: "b1".to_owned()
            }
        );
        assert!(parse_notification("{}").is_err());
        assert!(parse_notification("not json").is_err());
    }

    #[test]
    fn cloudtrail_objects_decode_every_member_and_refuse_other_files() {
        let file = |ids: &[&str]| {
            let records: Vec<_> = ids.iter().map(|id| json!({"eventID": id})).collect();
            gzip(json!({"Records": records}).to_string().as_bytes())
        };
        let mut object = file(&["a", "b"]);
        object.extend(file(&["c"]));
        let ids: Vec<String> = decode_cloudtrail_object(&object)
            .unwrap()
            .iter()
            .map(|r| r["eventID"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(
            decode_cloudtrail_object(&[]).unwrap(),
            Vec::<serde_json::Value>::new()
        );
        assert!(matches!(
            decode_cloudtrail_object(b"{\"Records\": []}"),
            Err(DecodeError::Gzip { member: 0, .. })
        ));
        let mut digest = file(&["a"]);
        digest.extend(gzip(b"{\"digestStartTime\": \"x\"}"));
        let err = decode_cloudtrail_object(&digest).unwrap_err();
        assert!(
            matches!(err, DecodeError::CloudTrail { member: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn log_group_names_the_cluster() {
        assert_eq!(
            cluster_of_log_group("/aws/eks/prod-1/cluster"),
            Some("prod-1")
        );
        assert_eq!(cluster_of_log_group("/aws/eks//cluster"), None);
        assert_eq!(cluster_of_log_group("/aws/lambda/x"), None);
    }
}
