//! Normalized events: what sources produce and rules read.
//!
//! An [`Event`] carries its source, its own id (`auditID` of a Kubernetes
//! audit event, `eventID` of a CloudTrail record), its time, the context the
//! caller knows (account, region, the resource the log belongs to) and its
//! JSON body, read by rules through [`FieldPath`]s.

use std::sync::Arc;

use rampart_model::{AlertEntity, AlertResource, AlertSource};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::DetectError;
use crate::path::FieldPath;

/// What the caller knows about where events come from: the account, region
/// and resource (an EKS cluster, a trail, an instance) every alert names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The resource the events belong to.
    pub resource: AlertResource,
}

impl EventContext {
    /// The context of an EKS cluster's control-plane log.
    pub fn eks_cluster(account: &str, region: &str, cluster: &str) -> Self {
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            resource: AlertResource {
                arn: format!("arn:aws:eks:{region}:{account}:cluster/{cluster}"),
                resource_type: "AWS::EKS::Cluster".to_owned(),
                name: cluster.to_owned(),
            },
        }
    }

    /// The context of a SQL Server on an EC2 instance (or RDS Custom's
    /// instance): its error log, audit and Windows event log groups.
    pub fn sql_server_instance(account: &str, region: &str, instance_id: &str) -> Self {
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            resource: AlertResource {
                arn: format!("arn:aws:ec2:{region}:{account}:instance/{instance_id}"),
                resource_type: "AWS::EC2::Instance".to_owned(),
                name: instance_id.to_owned(),
            },
        }
    }

    /// The context of an RDS for SQL Server DB instance's exported logs.
    pub fn sql_server_rds(account: &str, region: &str, db_instance: &str) -> Self {
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            resource: AlertResource {
                arn: format!("arn:aws:rds:{region}:{account}:db:{db_instance}"),
                resource_type: "AWS::RDS::DBInstance".to_owned(),
                name: db_instance.to_owned(),
            },
        }
    }

    /// The context of a SQL Server log group's events: the RDS DB
    /// instance whose exported log it is (`db_instance`), else the EC2
    /// instance the log stream names (the CloudWatch agent names streams
    /// after the instance id by default), else the log group itself.
    pub fn sql_server_log(
        account: &str,
        region: &str,
        log_group: &str,
        db_instance: Option<&str>,
        log_stream: &str,
    ) -> Self {
        if let Some(db) = db_instance {
            return Self::sql_server_rds(account, region, db);
        }
        if let Some(instance) = instance_id_in(log_stream) {
            return Self::sql_server_instance(account, region, instance);
        }
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            resource: AlertResource {
                arn: format!("arn:aws:logs:{region}:{account}:log-group:{log_group}"),
                resource_type: "AWS::Logs::LogGroup".to_owned(),
                name: log_group.to_owned(),
            },
        }
    }

    /// The context of an account's CloudTrail records in one region.
    pub fn cloudtrail(account: &str, region: &str) -> Self {
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            resource: AlertResource {
                arn: format!("arn:aws:iam::{account}:root"),
                resource_type: "AWS::::Account".to_owned(),
                name: account.to_owned(),
            },
        }
    }
}

/// One normalized event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its source.
    pub source: AlertSource,
    /// The id it carries at its source, unchanged.
    pub id: String,
    /// When it happened.
    pub time: OffsetDateTime,
    /// Where it comes from (shared by every event of one log).
    pub context: Arc<EventContext>,
    /// The event itself.
    pub body: Value,
}

/// How a Kubernetes audit event is filtered before rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditStage {
    /// `ResponseComplete` or `Panic`: the stage rules run on.
    Complete,
    /// `RequestReceived` or `ResponseStarted`: the same request again (same
    /// `auditID`), skipped.
    Partial,
}

/// The first EC2 instance id (`i-` and 8 or 17 hex digits) in `text`,
/// standing alone or between separators.
fn instance_id_in(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .flat_map(|part| {
            part.match_indices("i-").filter_map(move |(at, _)| {
                let before_ok = at == 0 || part.as_bytes().get(at - 1) == Some(&b'-');
                let rest = part.get(at + 2..)?;
                let hex = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
                    .count();
                let after_ok = matches!(rest.as_bytes().get(hex), None | Some(b'-'));
                (before_ok && after_ok && (hex == 8 || hex == 17))
                    .then(|| part.get(at..at + 2 + hex))
                    .flatten()
            })
        })
        .next()
}

impl Event {
    /// Parses one Kubernetes audit event (`audit.k8s.io/v1` `Event`) from
    /// its JSON text: a CloudWatch Logs message of an EKS cluster's
    /// `kube-apiserver-audit-*` stream, or one line of an audit log file.
    pub fn from_k8s_audit_json(
        text: &str,
        context: Arc<EventContext>,
    ) -> Result<Self, DetectError> {
        let body: Value = serde_json::from_str(text).map_err(|e| DetectError::Event {
            source_name: AlertSource::EksAudit.as_str(),
            reason: e.to_string(),
        })?;
        Self::from_k8s_audit(body, context)
    }

    /// A Kubernetes audit event from its parsed JSON.
    pub fn from_k8s_audit(body: Value, context: Arc<EventContext>) -> Result<Self, DetectError> {
        let bad = |reason: String| DetectError::Event {
            source_name: AlertSource::EksAudit.as_str(),
            reason,
        };
        let kind = body.get("kind").and_then(Value::as_str);
        let api = body.get("apiVersion").and_then(Value::as_str);
        if kind != Some("Event") || !api.is_some_and(|a| a.starts_with("audit.k8s.io/")) {
            return Err(bad(format!(
                "not an audit event (kind `{}`, apiVersion `{}`)",
                kind.unwrap_or_default(),
                api.unwrap_or_default()
            )));
        }
        let id = body
            .get("auditID")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `auditID`".to_owned()))?
            .to_owned();
        let stamp = ["requestReceivedTimestamp", "stageTimestamp"]
            .into_iter()
            .find_map(|key| body.get(key).and_then(Value::as_str))
            .ok_or_else(|| bad(format!("event `{id}` has no timestamp")))?;
        let time = OffsetDateTime::parse(stamp, &Rfc3339)
            .map_err(|e| bad(format!("event `{id}` timestamp `{stamp}`: {e}")))?;
        Ok(Self {
            source: AlertSource::EksAudit,
            id,
            time,
            context,
            body,
        })
    }

    /// A CloudTrail record from its parsed JSON (one member of a trail
    /// object's `Records`).
    pub fn from_cloudtrail_record(
        body: Value,
        context: Arc<EventContext>,
    ) -> Result<Self, DetectError> {
        let bad = |reason: String| DetectError::Event {
            source_name: AlertSource::CloudTrail.as_str(),
            reason,
        };
        let id = body
            .get("eventID")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `eventID`".to_owned()))?
            .to_owned();
        let stamp = body
            .get("eventTime")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("record `{id}` has no `eventTime`")))?;
        let time = OffsetDateTime::parse(stamp, &Rfc3339)
            .map_err(|e| bad(format!("record `{id}` eventTime `{stamp}`: {e}")))?;
        Ok(Self {
            source: AlertSource::CloudTrail,
            id,
            time,
            context,
            body,
        })
    }

    /// Every record of a CloudTrail log file's JSON text (`{"Records": […]}`),
    /// each parsed on its own: one bad record is an error on that record.
    pub fn from_cloudtrail_file(
        text: &str,
        context: &Arc<EventContext>,
    ) -> Result<Vec<Result<Self, DetectError>>, DetectError> {
        let mut file: Value = serde_json::from_str(text).map_err(|e| DetectError::Event {
            source_name: AlertSource::CloudTrail.as_str(),
            reason: e.to_string(),
        })?;
        let Some(Value::Array(records)) = file.get_mut("Records").map(Value::take) else {
            return Err(DetectError::Event {
                source_name: AlertSource::CloudTrail.as_str(),
                reason: "no `Records` array".to_owned(),
            });
        };
        Ok(records
            .into_iter()
            .map(|record| Self::from_cloudtrail_record(record, Arc::clone(context)))
            .collect())
    }

    /// Every value `path` reaches in the body.
    pub fn field(&self, path: &FieldPath) -> Vec<&Value> {
        path.values(&self.body)
    }

    /// A string at a dotted path of plain keys (no arrays), if there is one.
    pub fn str_at(&self, keys: &[&str]) -> Option<&str> {
        let mut value = &self.body;
        for key in keys {
            value = value.get(key)?;
        }
        value.as_str()
    }

    /// For a Kubernetes audit event: whether rules should see it (only its
    /// final stage; earlier stages repeat the same `auditID`).
    pub fn audit_stage(&self) -> AuditStage {
        match self.str_at(&["stage"]) {
            Some("RequestReceived" | "ResponseStarted") => AuditStage::Partial,
            _ => AuditStage::Complete,
        }
    }

    /// Whether the request succeeded: a Kubernetes response code below 400,
    /// a CloudTrail record without `errorCode`.
    pub fn succeeded(&self) -> bool {
        match self.source {
            AlertSource::EksAudit => self
                .body
                .get("responseStatus")
                .and_then(|s| s.get("code"))
                .and_then(Value::as_u64)
                .is_none_or(|code| code < 400),
            AlertSource::CloudTrail => self.body.get("errorCode").is_none_or(Value::is_null),
            AlertSource::SqlLog => self
                .body
                .get("succeeded")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            _ => true,
        }
    }

    /// The entity named `key` (`user`, `namespace`, `object`, `ip`,
    /// `principal`), if the event has it.
    pub fn entity(&self, key: EntityKey) -> Option<AlertEntity> {
        match self.source {
            AlertSource::EksAudit => self.k8s_entity(key),
            AlertSource::CloudTrail => self.cloudtrail_entity(key),
            AlertSource::SqlLog => self.sqlserver_entity(key),
            _ => None,
        }
    }

    fn sqlserver_entity(&self, key: EntityKey) -> Option<AlertEntity> {
        let s = |k: &str| self.str_at(&[k]).filter(|v| !v.is_empty());
        match key {
            EntityKey::User => s("principal").map(|p| AlertEntity::new("sql-login", p)),
            EntityKey::Ip => s("client_ip")
                .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
                .filter(|_| self.body.get("client_local") != Some(&Value::Bool(true)))
                .map(|ip| AlertEntity::new("ip", ip)),
            EntityKey::Host => s("host").map(|h| AlertEntity::new("host", h)),
            EntityKey::Object => s("object").map(|o| AlertEntity::new("sql-object", o)),
            EntityKey::Namespace | EntityKey::Principal => None,
        }
    }

    fn k8s_entity(&self, key: EntityKey) -> Option<AlertEntity> {
        match key {
            EntityKey::User => self
                .str_at(&["user", "username"])
                .map(|u| AlertEntity::new("k8s-user", u)),
            EntityKey::Namespace => self
                .str_at(&["objectRef", "namespace"])
                .map(|n| AlertEntity::new("k8s-namespace", n)),
            EntityKey::Object => {
                let resource = self.str_at(&["objectRef", "resource"])?;
                let name = self
                    .str_at(&["objectRef", "name"])
                    .or_else(|| self.str_at(&["requestObject", "metadata", "name"]))
                    .or_else(|| self.str_at(&["responseObject", "metadata", "name"]))?;
                Some(AlertEntity::new(object_kind(resource), name))
            }
            EntityKey::Ip => {
                first_str(&self.body, "sourceIPs").map(|ip| AlertEntity::new("ip", ip))
            }
            EntityKey::Principal => self
                .body
                .get("user")
                .and_then(|u| u.get("extra"))
                .and_then(|e| e.get("arn"))
                .and_then(|a| first_str_value(a))
                .map(|arn| AlertEntity::new("aws-principal", arn)),
            EntityKey::Host => None,
        }
    }

    fn cloudtrail_entity(&self, key: EntityKey) -> Option<AlertEntity> {
        match key {
            EntityKey::User => self
                .str_at(&["userIdentity", "arn"])
                .map(|a| AlertEntity::new("aws-principal", a)),
            // The identity behind a role session: the role, not the session.
            EntityKey::Principal => self
                .str_at(&["userIdentity", "sessionContext", "sessionIssuer", "arn"])
                .filter(|_| self.str_at(&["userIdentity", "type"]) == Some("AssumedRole"))
                .or_else(|| self.str_at(&["userIdentity", "arn"]))
                .map(|a| AlertEntity::new("aws-principal", a)),
            EntityKey::Ip => self
                .str_at(&["sourceIPAddress"])
                .map(|ip| AlertEntity::new("ip", ip)),
            EntityKey::Namespace | EntityKey::Object | EntityKey::Host => None,
        }
    }

    /// One line for evidence: what the event did, by whom, to what.
    pub fn summary(&self) -> String {
        match self.source {
            AlertSource::EksAudit => {
                let s = |keys: &[&str]| self.str_at(keys).unwrap_or_default();
                let mut target = s(&["objectRef", "resource"]).to_owned();
                if let Some(sub) = self.str_at(&["objectRef", "subresource"]) {
                    target = format!("{target}/{sub}");
                }
                if target.is_empty() {
                    target = s(&["requestURI"]).to_owned();
                }
                let name = match (
                    self.str_at(&["objectRef", "namespace"]),
                    self.str_at(&["objectRef", "name"]),
                ) {
                    (Some(ns), Some(name)) => format!(" {ns}/{name}"),
                    (Some(ns), None) => format!(" in {ns}"),
                    (None, Some(name)) => format!(" {name}"),
                    (None, None) => String::new(),
                };
                let code = self
                    .body
                    .get("responseStatus")
                    .and_then(|r| r.get("code"))
                    .and_then(Value::as_u64)
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                let from = first_str(&self.body, "sourceIPs")
                    .map(|ip| format!(" from {ip}"))
                    .unwrap_or_default();
                format!(
                    "{} {target}{name} by {}{from}{code}",
                    s(&["verb"]),
                    s(&["user", "username"])
                )
            }
            AlertSource::CloudTrail => {
                let s = |keys: &[&str]| self.str_at(keys).unwrap_or_default();
                let error = self
                    .str_at(&["errorCode"])
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                format!(
                    "{} ({}) by {} from {}{error}",
                    s(&["eventName"]),
                    s(&["eventSource"]),
                    s(&["userIdentity", "arn"]),
                    s(&["sourceIPAddress"])
                )
            }
            AlertSource::SqlLog => crate::sqlserver::summary(&self.body),
            _ => self.id.clone(),
        }
    }
}

/// The entities an alert can be grouped by.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EntityKey {
    /// Who made the request (`k8s-user`; CloudTrail: `aws-principal`;
    /// SQL Server: `sql-login`).
    User,
    /// The Kubernetes namespace.
    Namespace,
    /// The object acted on (`k8s-pod`, `k8s-clusterrolebinding`, …).
    Object,
    /// The first source address.
    Ip,
    /// The AWS principal behind the request (EKS `user.extra.arn`;
    /// CloudTrail: the role of a role session, else `userIdentity.arn`).
    Principal,
    /// The host an event names (SQL Server: the instance of an audit
    /// record, the computer of a Windows event).
    Host,
}

impl EntityKey {
    /// Every key.
    pub const ALL: [EntityKey; 6] = [
        Self::User,
        Self::Namespace,
        Self::Object,
        Self::Ip,
        Self::Principal,
        Self::Host,
    ];
}

fn first_str<'v>(body: &'v Value, key: &str) -> Option<&'v str> {
    body.get(key).and_then(first_str_value)
}

fn first_str_value(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Array(items) => items.iter().find_map(Value::as_str),
        _ => None,
    }
}

/// The entity kind of a Kubernetes resource (`pods` → `k8s-pod`).
fn object_kind(resource: &str) -> String {
    let singular = match resource {
        "ingresses" => "ingress",
        "networkpolicies" => "networkpolicy",
        "podsecuritypolicies" => "podsecuritypolicy",
        other => other.strip_suffix('s').unwrap_or(other),
    };
    format!("k8s-{singular}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_log_context_names_the_instance_behind_the_log() {
        let rds = EventContext::sql_server_log(
            "111122223333",
            "eu-west-1",
            "/aws/rds/instance/db-1/error",
            Some("db-1"),
            "db-1.node1",
        );
        assert_eq!(rds.resource.resource_type, "AWS::RDS::DBInstance");
        assert_eq!(rds.resource.name, "db-1");
        for stream in [
            "i-0abc1234def567890",
            "i-0abc1234def567890-errorlog",
            "sql/i-1234abcd",
        ] {
            let ec2 = EventContext::sql_server_log(
                "111122223333",
                "eu-west-1",
                "/sql/errorlog",
                None,
                stream,
            );
            assert_eq!(ec2.resource.resource_type, "AWS::EC2::Instance", "{stream}");
            assert!(ec2.resource.name.starts_with("i-"), "{stream}");
            assert!(
                ec2.resource
                    .arn
                    .ends_with(&format!("instance/{}", ec2.resource.name))
            );
        }
        // Look-alikes: too short, upper case, inside a word, too long.
        for stream in [
            "i-123",
            "i-0ABC1234DEF567890",
            "wifi-1234abcd",
            "i-1234abcde",
            "EC2AMAZ-SQL01",
        ] {
            let other = EventContext::sql_server_log(
                "111122223333",
                "eu-west-1",
                "/sql/errorlog",
                None,
                stream,
            );
            assert_eq!(
                other.resource.resource_type, "AWS::Logs::LogGroup",
                "{stream}"
            );
            assert_eq!(
                other.resource.arn,
                "arn:aws:logs:eu-west-1:111122223333:log-group:/sql/errorlog"
            );
        }
    }
}
