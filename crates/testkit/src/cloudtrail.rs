//! CloudTrail log fixtures: records as CloudTrail writes them and log
//! object keys as trails name them, for tests of CloudTrail threat
//! detection (the records go to moto with `scripts/seed-cloudtrail.py`).

use serde_json::{Value, json};
use time::OffsetDateTime;

/// moto's account.
pub const ACCOUNT: &str = "123456789012";

/// Who made a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// An assumed role session (`developer/<session>`).
    Role(&'a str),
    /// The account's root user.
    Root,
    /// The root user's identity in an event an AWS service made on its
    /// behalf (`invokedBy`).
    RootViaService(&'a str),
}

impl Actor<'_> {
    /// The principal ARN alerts name.
    pub fn arn(self) -> String {
        match self {
            Actor::Role(session) => {
                format!("arn:aws:sts::{ACCOUNT}:assumed-role/developer/{session}")
            }
            Actor::Root | Actor::RootViaService(_) => format!("arn:aws:iam::{ACCOUNT}:root"),
        }
    }

    fn identity(self) -> Value {
        match self {
            Actor::Role(session) => json!({
                "type": "AssumedRole",
                "principalId": format!("AROAEXAMPLEDEV00001:{session}"),
                "arn": self.arn(),
                "accountId": ACCOUNT,
                "accessKeyId": "ASIAEXAMPLEKEY00001",
                "sessionContext": {"sessionIssuer": {
                    "type": "Role", "principalId": "AROAEXAMPLEDEV00001",
                    "arn": format!("arn:aws:iam::{ACCOUNT}:role/developer"),
                    "accountId": ACCOUNT, "userName": "developer"}}
            }),
            Actor::Root => json!({
                "type": "Root", "principalId": ACCOUNT, "arn": self.arn(),
                "accountId": ACCOUNT, "accessKeyId": "ASIAEXAMPLEROOT0001"
            }),
            Actor::RootViaService(service) => json!({
                "type": "Root", "principalId": ACCOUNT, "arn": self.arn(),
                "accountId": ACCOUNT, "invokedBy": service
            }),
        }
    }
}

/// One management-event record: `event_id` (its `eventID`), the call, who
/// made it from where, at `time` (RFC 3339), with `extra` fields merged in
/// (`requestParameters`, `errorCode`, `eventType`, …).
pub fn record(
    event_id: &str,
    event_source: &str,
    event_name: &str,
    actor: Actor<'_>,
    ip: &str,
    time: &str,
    extra: Value,
) -> Value {
    let mut record = json!({
        "eventVersion": "1.09",
        "userIdentity": actor.identity(),
        "eventTime": time,
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.17.0 Python/3.11.8 Linux/6.1",
        "requestParameters": null,
        "responseElements": null,
        "requestID": format!("req-{event_id}"),
        "eventID": event_id,
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    });
    if let (Some(fields), Value::Object(extra)) = (record.as_object_mut(), extra) {
        fields.extend(extra);
    }
    record
}

/// The key a trail gives a log file delivered today (UTC) at `hhmm`:
/// `[prefix/]AWSLogs/[<org>/]<account>/CloudTrail/<region>/YYYY/MM/DD/
/// <account>_CloudTrail_<region>_<YYYYMMDD>T<hhmm>Z_<unique>.json.gz`.
pub fn log_key(
    prefix: Option<&str>,
    organization: Option<&str>,
    region: &str,
    hhmm: &str,
    unique: &str,
) -> String {
    log_key_on(
        prefix,
        organization,
        region,
        OffsetDateTime::now_utc(),
        hhmm,
        unique,
    )
}

/// [`log_key`] for the day of `day`.
pub fn log_key_on(
    prefix: Option<&str>,
    organization: Option<&str>,
    region: &str,
    day: OffsetDateTime,
    hhmm: &str,
    unique: &str,
) -> String {
    let root = prefix.map(|p| format!("{p}/")).unwrap_or_default();
    let org = organization.map(|o| format!("{o}/")).unwrap_or_default();
    let (y, m, d) = (day.year(), u8::from(day.month()), day.day());
    format!(
        "{root}AWSLogs/{org}{ACCOUNT}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}/{ACCOUNT}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{hhmm}Z_{unique}.json.gz"
    )
}
