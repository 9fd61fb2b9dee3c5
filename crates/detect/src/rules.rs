//! Rules as data: Sigma rule files with a `rampart:` block carrying the
//! alert type's metadata, and the built-in rule set.
//!
//! A rule file is a Sigma rule (`title`, `id`, `description`, `author`,
//! `references`, `tags`, `logsource`, `detection`, `falsepositives`,
//! `level`, `license`) plus:
//!
//! ```yaml
//! rampart:
//!   alert_type: K8S.PrivilegedContainer   # stable alert type id
//!   signal: what raises it, in one sentence
//!   remediation: what to do now
//!   group_by: [user, namespace]           # entities one alert groups by
//!   outcome: success                      # success (default) | failure | any
//!   logic: match                          # match (default) | threshold | first_seen
//!   threshold: {count: 10, window_seconds: 300}   # logic: threshold
//!   # threshold: {count: 20, window_seconds: 300, distinct: eventName}
//!   first_seen: {value: ip, learning_seconds: 86400}   # logic: first_seen
//!   # first_seen: {field: requestParameters.x, kind: aws-account, learning_seconds: 604800}
//!   # first_seen: {value: user, learning_seconds: 604800, forget_seconds: 5184000}
//!   after: {alert_types: [SQL.BruteForceValidUser], within_seconds: 3600}
//!   check: instance_credentials_elsewhere   # named Rust logic (cloudtrail::Check)
//!   derived_from: https://github.com/SigmaHQ/…  # adapted rules: the original
//! ```
//!
//! `level` is the alert's severity; `attack.<tactic>` and `attack.tNNNN`
//! tags are its MITRE ATT&CK mapping.

use rampart_model::{AlertPlan, AlertRule, AlertSource, Mitre, Severity};
use serde::Deserialize;
use serde_yaml_ng::Value as Yaml;

use crate::DetectError;
use crate::cloudtrail::Check;
use crate::event::EntityKey;
use crate::path::FieldPath;
use crate::sigma::{Detection, FieldMap};

/// Every built-in rule file: its path under `rules/` and its text.
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    (
        "k8s/privileged-container.yml",
        include_str!("../rules/k8s/privileged-container.yml"),
    ),
    (
        "k8s/sensitive-host-path-mount.yml",
        include_str!("../rules/k8s/sensitive-host-path-mount.yml"),
    ),
    (
        "k8s/host-network-pod.yml",
        include_str!("../rules/k8s/host-network-pod.yml"),
    ),
    (
        "k8s/host-pid-ipc-pod.yml",
        include_str!("../rules/k8s/host-pid-ipc-pod.yml"),
    ),
    (
        "k8s/dangerous-capabilities.yml",
        include_str!("../rules/k8s/dangerous-capabilities.yml"),
    ),
    (
        "k8s/cluster-admin-binding.yml",
        include_str!("../rules/k8s/cluster-admin-binding.yml"),
    ),
    (
        "k8s/wildcard-role.yml",
        include_str!("../rules/k8s/wildcard-role.yml"),
    ),
    (
        "k8s/escalation-verbs-role.yml",
        include_str!("../rules/k8s/escalation-verbs-role.yml"),
    ),
    (
        "k8s/kube-system-workload.yml",
        include_str!("../rules/k8s/kube-system-workload.yml"),
    ),
    (
        "k8s/admission-webhook-change.yml",
        include_str!("../rules/k8s/admission-webhook-change.yml"),
    ),
    (
        "k8s/coredns-modification.yml",
        include_str!("../rules/k8s/coredns-modification.yml"),
    ),
    (
        "k8s/aws-auth-modification.yml",
        include_str!("../rules/k8s/aws-auth-modification.yml"),
    ),
    (
        "k8s/events-deleted.yml",
        include_str!("../rules/k8s/events-deleted.yml"),
    ),
    (
        "k8s/exposed-dashboard.yml",
        include_str!("../rules/k8s/exposed-dashboard.yml"),
    ),
    (
        "k8s/exposed-sensitive-service.yml",
        include_str!("../rules/k8s/exposed-sensitive-service.yml"),
    ),
    (
        "k8s/nodeport-service.yml",
        include_str!("../rules/k8s/nodeport-service.yml"),
    ),
    (
        "k8s/mining-image.yml",
        include_str!("../rules/k8s/mining-image.yml"),
    ),
    (
        "k8s/attack-tool-image.yml",
        include_str!("../rules/k8s/attack-tool-image.yml"),
    ),
    (
        "k8s/pentest-user-agent.yml",
        include_str!("../rules/k8s/pentest-user-agent.yml"),
    ),
    (
        "k8s/exec-into-container.yml",
        include_str!("../rules/k8s/exec-into-container.yml"),
    ),
    (
        "k8s/port-forward.yml",
        include_str!("../rules/k8s/port-forward.yml"),
    ),
    (
        "k8s/ephemeral-container.yml",
        include_str!("../rules/k8s/ephemeral-container.yml"),
    ),
    (
        "k8s/node-proxy.yml",
        include_str!("../rules/k8s/node-proxy.yml"),
    ),
    (
        "k8s/anonymous-request-allowed.yml",
        include_str!("../rules/k8s/anonymous-request-allowed.yml"),
    ),
    (
        "k8s/secrets-listed-cluster-wide.yml",
        include_str!("../rules/k8s/secrets-listed-cluster-wide.yml"),
    ),
    (
        "k8s/service-account-token-created.yml",
        include_str!("../rules/k8s/service-account-token-created.yml"),
    ),
    (
        "k8s/impersonation-privileged-group.yml",
        include_str!("../rules/k8s/impersonation-privileged-group.yml"),
    ),
    (
        "k8s/cronjob-created.yml",
        include_str!("../rules/k8s/cronjob-created.yml"),
    ),
    (
        "k8s/rbac-enumeration.yml",
        include_str!("../rules/k8s/rbac-enumeration.yml"),
    ),
    (
        "k8s/service-account-unusual-source.yml",
        include_str!("../rules/k8s/service-account-unusual-source.yml"),
    ),
    (
        "cloudtrail/cloudtrail-logging-stopped.yml",
        include_str!("../rules/cloudtrail/cloudtrail-logging-stopped.yml"),
    ),
    (
        "cloudtrail/root-account-usage.yml",
        include_str!("../rules/cloudtrail/root-account-usage.yml"),
    ),
    (
        "cloudtrail/instance-credentials-elsewhere.yml",
        include_str!("../rules/cloudtrail/instance-credentials-elsewhere.yml"),
    ),
    (
        "cloudtrail/cloudtrail-trail-modified.yml",
        include_str!("../rules/cloudtrail/cloudtrail-trail-modified.yml"),
    ),
    (
        "cloudtrail/guardduty-disabled.yml",
        include_str!("../rules/cloudtrail/guardduty-disabled.yml"),
    ),
    (
        "cloudtrail/guardduty-suppressed.yml",
        include_str!("../rules/cloudtrail/guardduty-suppressed.yml"),
    ),
    (
        "cloudtrail/securityhub-disabled.yml",
        include_str!("../rules/cloudtrail/securityhub-disabled.yml"),
    ),
    (
        "cloudtrail/securityhub-findings-suppressed.yml",
        include_str!("../rules/cloudtrail/securityhub-findings-suppressed.yml"),
    ),
    (
        "cloudtrail/config-disabled.yml",
        include_str!("../rules/cloudtrail/config-disabled.yml"),
    ),
    (
        "cloudtrail/access-analyzer-disabled.yml",
        include_str!("../rules/cloudtrail/access-analyzer-disabled.yml"),
    ),
    (
        "cloudtrail/vpc-flow-logs-deleted.yml",
        include_str!("../rules/cloudtrail/vpc-flow-logs-deleted.yml"),
    ),
    (
        "cloudtrail/bedrock-logging-disabled.yml",
        include_str!("../rules/cloudtrail/bedrock-logging-disabled.yml"),
    ),
    (
        "cloudtrail/console-login-without-mfa.yml",
        include_str!("../rules/cloudtrail/console-login-without-mfa.yml"),
    ),
    (
        "cloudtrail/console-login-failures.yml",
        include_str!("../rules/cloudtrail/console-login-failures.yml"),
    ),
    (
        "cloudtrail/mfa-device-removed.yml",
        include_str!("../rules/cloudtrail/mfa-device-removed.yml"),
    ),
    (
        "cloudtrail/password-policy-changed.yml",
        include_str!("../rules/cloudtrail/password-policy-changed.yml"),
    ),
    (
        "cloudtrail/access-key-for-another-user.yml",
        include_str!("../rules/cloudtrail/access-key-for-another-user.yml"),
    ),
    (
        "cloudtrail/login-profile-for-another-user.yml",
        include_str!("../rules/cloudtrail/login-profile-for-another-user.yml"),
    ),
    (
        "cloudtrail/admin-policy-attached.yml",
        include_str!("../rules/cloudtrail/admin-policy-attached.yml"),
    ),
    (
        "cloudtrail/admin-inline-policy.yml",
        include_str!("../rules/cloudtrail/admin-inline-policy.yml"),
    ),
    (
        "cloudtrail/policy-version-changed.yml",
        include_str!("../rules/cloudtrail/policy-version-changed.yml"),
    ),
    (
        "cloudtrail/role-trust-open-to-everyone.yml",
        include_str!("../rules/cloudtrail/role-trust-open-to-everyone.yml"),
    ),
    (
        "cloudtrail/ebs-snapshot-public.yml",
        include_str!("../rules/cloudtrail/ebs-snapshot-public.yml"),
    ),
    (
        "cloudtrail/ami-public.yml",
        include_str!("../rules/cloudtrail/ami-public.yml"),
    ),
    (
        "cloudtrail/rds-snapshot-public.yml",
        include_str!("../rules/cloudtrail/rds-snapshot-public.yml"),
    ),
    (
        "cloudtrail/snapshot-shared-with-new-account.yml",
        include_str!("../rules/cloudtrail/snapshot-shared-with-new-account.yml"),
    ),
    (
        "cloudtrail/instance-user-data-modified.yml",
        include_str!("../rules/cloudtrail/instance-user-data-modified.yml"),
    ),
    (
        "cloudtrail/security-group-world-admin-port.yml",
        include_str!("../rules/cloudtrail/security-group-world-admin-port.yml"),
    ),
    (
        "cloudtrail/s3-bucket-policy-public.yml",
        include_str!("../rules/cloudtrail/s3-bucket-policy-public.yml"),
    ),
    (
        "cloudtrail/s3-public-access-block-removed.yml",
        include_str!("../rules/cloudtrail/s3-public-access-block-removed.yml"),
    ),
    (
        "cloudtrail/lambda-public-access.yml",
        include_str!("../rules/cloudtrail/lambda-public-access.yml"),
    ),
    (
        "cloudtrail/kms-key-deletion.yml",
        include_str!("../rules/cloudtrail/kms-key-deletion.yml"),
    ),
    (
        "cloudtrail/ssm-new-principal.yml",
        include_str!("../rules/cloudtrail/ssm-new-principal.yml"),
    ),
    (
        "cloudtrail/api-enumeration-burst.yml",
        include_str!("../rules/cloudtrail/api-enumeration-burst.yml"),
    ),
    (
        "cloudtrail/pentest-user-agent.yml",
        include_str!("../rules/cloudtrail/pentest-user-agent.yml"),
    ),
    (
        "sqlserver/brute-force-invalid-user.yml",
        include_str!("../rules/sqlserver/brute-force-invalid-user.yml"),
    ),
    (
        "sqlserver/brute-force-valid-user.yml",
        include_str!("../rules/sqlserver/brute-force-valid-user.yml"),
    ),
    (
        "sqlserver/harmful-application.yml",
        include_str!("../rules/sqlserver/harmful-application.yml"),
    ),
    (
        "sqlserver/login-after-brute-force.yml",
        include_str!("../rules/sqlserver/login-after-brute-force.yml"),
    ),
    (
        "sqlserver/mass-permission-change.yml",
        include_str!("../rules/sqlserver/mass-permission-change.yml"),
    ),
    (
        "sqlserver/new-client-address-login.yml",
        include_str!("../rules/sqlserver/new-client-address-login.yml"),
    ),
    (
        "sqlserver/new-principal-login.yml",
        include_str!("../rules/sqlserver/new-principal-login.yml"),
    ),
    (
        "sqlserver/shell-from-sql-server.yml",
        include_str!("../rules/sqlserver/shell-from-sql-server.yml"),
    ),
    (
        "sqlserver/xp-cmdshell-enabled.yml",
        include_str!("../rules/sqlserver/xp-cmdshell-enabled.yml"),
    ),
    (
        "sqlserver/xp-cmdshell-used.yml",
        include_str!("../rules/sqlserver/xp-cmdshell-used.yml"),
    ),
];

/// Which requests a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Requests that succeeded (the default).
    #[default]
    Success,
    /// Requests that were refused or failed.
    Failure,
    /// Both.
    Any,
}

/// How a rule turns matching events into alerts.
#[derive(Debug, Clone, PartialEq)]
pub enum Logic {
    /// Every matching event raises (grouped).
    Match,
    /// At least `count` matching events with the same entities within
    /// `window_seconds` (sliding) raise.
    Threshold {
        /// Events needed (distinct values of `distinct`, when given).
        count: usize,
        /// Window length.
        window_seconds: i64,
        /// Count distinct values of this field instead of events (the
        /// newest event of each value is kept).
        distinct: Option<FieldPath>,
    },
    /// A matching event whose `value` was never seen for its entities
    /// raises, once the entities have been watched for
    /// `learning_seconds`.
    FirstSeen {
        /// The values whose new ones raise.
        value: BaselineValue,
        /// How long a baseline learns before it raises.
        learning_seconds: i64,
        /// How many values a baseline keeps.
        max_values: usize,
        /// A value not seen for this long is new again (never forgotten
        /// when absent).
        forget_seconds: Option<i64>,
    },
}

/// A precondition on a rule's matches: an alert of one of `alert_types`
/// was raised for the same entities (each type's own `group_by`, as the
/// matching event has them) at most `within_seconds` before the event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// The alert types one of which must have been raised first.
    pub alert_types: Vec<String>,
    /// How long before the event that alert may have been raised (at most
    /// the engine's horizon, which is how long the engine remembers it).
    pub within_seconds: i64,
}

/// What a first-seen baseline learns.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineValue {
    /// An entity of the event (`ip`, `principal`, …).
    Entity(EntityKey),
    /// Every value of some fields, as entities of `kind`.
    Field {
        /// The fields.
        paths: Vec<FieldPath>,
        /// The entity kind its values take in alerts (`aws-account`).
        kind: String,
    },
}

/// A rule: an alert type's metadata and its detection.
#[derive(Debug)]
pub struct Rule {
    /// The rule's stable id (`rampart-k8s-privileged-container`).
    pub id: String,
    /// The file it came from (under `rules/`).
    pub file: String,
    /// The alert type it raises (`K8S.PrivilegedContainer`).
    pub alert_type: String,
    /// Alert title.
    pub title: String,
    /// Alert severity.
    pub severity: Severity,
    /// The plan its alerts belong to.
    pub plan: AlertPlan,
    /// The source it reads.
    pub source: AlertSource,
    /// What happened, for the alert.
    pub description: String,
    /// What to do.
    pub remediation: String,
    /// The signal that raises it, in one sentence (documentation).
    pub signal: String,
    /// MITRE ATT&CK mapping.
    pub mitre: Mitre,
    /// Attribution, as alerts carry it.
    pub attribution: AlertRule,
    /// Licence of an adapted rule (`DRL 1.1`).
    pub license: Option<String>,
    /// Known benign causes.
    pub false_positives: Vec<String>,
    /// The entities its alerts group by.
    pub group_by: Vec<EntityKey>,
    /// Which requests it looks at.
    pub outcome: Outcome,
    /// How matches become alerts.
    pub logic: Logic,
    /// Rust logic run after the Sigma detection matched.
    pub check: Option<Check>,
    /// An alert that must have been raised first (sequences such as a
    /// login after a brute force).
    pub after: Option<After>,
    detection: Detection,
    verbs: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    event_names: Option<Vec<String>>,
}

impl Rule {
    /// Whether `body` matches the rule's detection.
    pub fn matches(&self, body: &serde_json::Value) -> bool {
        self.detection.matches(body)
    }

    /// Whether the rule can match an event with this `verb` and
    /// `resource` (a quick test before [`Rule::matches`]).
    pub fn may_match(&self, verb: Option<&str>, resource: Option<&str>) -> bool {
        let allows = |required: &Option<Vec<String>>, value: Option<&str>| match required {
            None => true,
            Some(values) => value.is_some_and(|v| values.iter().any(|r| r.eq_ignore_ascii_case(v))),
        };
        allows(&self.verbs, verb) && allows(&self.resources, resource)
    }

    /// Whether the rule can match a CloudTrail record with this
    /// `eventName` (a quick test before [`Rule::matches`]).
    pub fn may_match_event_name(&self, event_name: Option<&str>) -> bool {
        match &self.event_names {
            None => true,
            Some(names) => {
                event_name.is_some_and(|v| names.iter().any(|n| n.eq_ignore_ascii_case(v)))
            }
        }
    }

    /// The event names one of which a record must have for the rule to
    /// match, when its detection makes that plain.
    pub fn event_names(&self) -> Option<&[String]> {
        self.event_names.as_deref()
    }

    /// Parses one rule file.
    pub fn parse(file: &str, text: &str) -> Result<Self, DetectError> {
        let raw: RawRule = serde_yaml_ng::from_str(text).map_err(|e| DetectError::Rule {
            rule: file.to_owned(),
            reason: e.to_string(),
        })?;
        let bad = |reason: String| DetectError::Rule {
            rule: raw.id.clone(),
            reason,
        };
        let source = match (
            raw.logsource.product.as_deref(),
            raw.logsource.service.as_deref(),
        ) {
            (Some("kubernetes"), Some("audit")) => AlertSource::EksAudit,
            (Some("aws"), Some("cloudtrail")) => AlertSource::CloudTrail,
            (Some("sqlserver"), Some("log")) => AlertSource::SqlLog,
            (product, service) => {
                return Err(bad(format!(
                    "log source `{}`/`{}` is not supported",
                    product.unwrap_or_default(),
                    service.unwrap_or_default()
                )));
            }
        };
        let severity = match raw.level.as_str() {
            "informational" => Severity::Informational,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            other => return Err(bad(format!("level `{other}` is not an alert severity"))),
        };
        let plan = match source {
            AlertSource::EksAudit => AlertPlan::Containers,
            AlertSource::SqlLog => AlertPlan::Sql,
            AlertSource::Host | AlertSource::DiskScan => AlertPlan::Servers,
            // CloudTrail threat detection is the Servers plan's (its role
            // reads the trail logs).
            AlertSource::CloudTrail => AlertPlan::Servers,
        };
        let mitre = mitre(&raw.tags).map_err(bad)?;
        let fields: &dyn FieldMap = match source {
            AlertSource::EksAudit => &K8sFields,
            _ => &PlainFields,
        };
        let detection = Detection::compile(&raw.id, &raw.detection, fields)?;
        let r = raw.rampart;
        let logic = match r.logic.as_deref().unwrap_or("match") {
            "match" => Logic::Match,
            "threshold" => {
                let t = r
                    .threshold
                    .ok_or_else(|| bad("`logic: threshold` needs `threshold`".to_owned()))?;
                let distinct = t.distinct.as_deref().map(FieldPath::parse).transpose()?;
                Logic::Threshold {
                    count: t.count,
                    window_seconds: t.window_seconds,
                    distinct,
                }
            }
            "first_seen" => {
                let f = r
                    .first_seen
                    .ok_or_else(|| bad("`logic: first_seen` needs `first_seen`".to_owned()))?;
                let value = match (f.value, f.field) {
                    (Some(entity), None) => BaselineValue::Entity(entity),
                    (None, Some(field)) => BaselineValue::Field {
                        paths: match field {
                            OneOrMany::One(one) => vec![one],
                            OneOrMany::Many(many) => many,
                        }
                        .iter()
                        .map(|f| FieldPath::parse(f))
                        .collect::<Result<_, _>>()?,
                        kind: f.kind.unwrap_or_else(|| "value".to_owned()),
                    },
                    _ => {
                        return Err(bad(
                            "`first_seen` takes one of `value` (an entity) and `field`".to_owned(),
                        ));
                    }
                };
                Logic::FirstSeen {
                    value,
                    learning_seconds: f.learning_seconds,
                    max_values: f.max_values.unwrap_or(64),
                    forget_seconds: f.forget_seconds,
                }
            }
            other => return Err(bad(format!("logic `{other}` is not known"))),
        };
        if let Some(after) = &r.after
            && (after.alert_types.is_empty() || after.within_seconds <= 0)
        {
            return Err(bad(
                "`after` needs `alert_types` and a positive `within_seconds`".to_owned(),
            ));
        }
        let adapted = r.derived_from.is_some();
        Ok(Self {
            attribution: AlertRule {
                id: raw.id.clone(),
                source: if adapted { "sigma" } else { "rampart" }.to_owned(),
                author: raw.author.clone(),
                url: r.derived_from.clone(),
                license: raw.license.clone(),
            },
            id: raw.id,
            file: file.to_owned(),
            alert_type: r.alert_type,
            title: raw.title,
            severity,
            plan,
            source,
            description: raw.description.trim().to_owned(),
            remediation: r.remediation.trim().to_owned(),
            signal: r.signal.trim().to_owned(),
            mitre,
            license: raw.license,
            false_positives: raw.falsepositives,
            group_by: r.group_by.unwrap_or_else(|| vec![EntityKey::User]),
            outcome: r.outcome,
            logic,
            check: r.check,
            after: r.after,
            verbs: detection.required_values("verb"),
            resources: detection.required_values("objectRef.resource"),
            event_names: detection.required_values("eventName"),
            detection,
        })
    }
}

#[derive(Deserialize)]
struct RawRule {
    title: String,
    id: String,
    description: String,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    logsource: RawLogSource,
    detection: Yaml,
    #[serde(default)]
    falsepositives: Vec<String>,
    level: String,
    rampart: RawRampart,
}

#[derive(Deserialize)]
struct RawLogSource {
    product: Option<String>,
    service: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRampart {
    alert_type: String,
    signal: String,
    remediation: String,
    #[serde(default)]
    group_by: Option<Vec<EntityKey>>,
    #[serde(default)]
    outcome: Outcome,
    #[serde(default)]
    logic: Option<String>,
    #[serde(default)]
    threshold: Option<RawThreshold>,
    #[serde(default)]
    first_seen: Option<RawFirstSeen>,
    #[serde(default)]
    check: Option<Check>,
    #[serde(default)]
    after: Option<After>,
    #[serde(default)]
    derived_from: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    count: usize,
    window_seconds: i64,
    #[serde(default)]
    distinct: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFirstSeen {
    #[serde(default)]
    value: Option<EntityKey>,
    #[serde(default)]
    field: Option<OneOrMany>,
    #[serde(default)]
    kind: Option<String>,
    learning_seconds: i64,
    #[serde(default)]
    max_values: Option<usize>,
    #[serde(default)]
    forget_seconds: Option<i64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// MITRE ATT&CK tactics and techniques from Sigma `attack.*` tags.
fn mitre(tags: &[String]) -> Result<Mitre, String> {
    let mut out = Mitre::default();
    for tag in tags {
        let Some(name) = tag.strip_prefix("attack.") else {
            continue;
        };
        if let Some(id) = name
            .strip_prefix('t')
            .filter(|id| id.starts_with(|c: char| c.is_ascii_digit()))
        {
            out.techniques.push(format!("T{}", id.to_uppercase()));
            continue;
        }
        let tactic = match name.replace('_', "-").as_str() {
            "reconnaissance" => "Reconnaissance",
            "resource-development" => "ResourceDevelopment",
            "initial-access" => "InitialAccess",
            "execution" => "Execution",
            "persistence" => "Persistence",
            "privilege-escalation" => "PrivilegeEscalation",
            "defense-evasion" => "DefenseEvasion",
            "credential-access" => "CredentialAccess",
            "discovery" => "Discovery",
            "lateral-movement" => "LateralMovement",
            "collection" => "Collection",
            "command-and-control" => "CommandAndControl",
            "exfiltration" => "Exfiltration",
            "impact" => "Impact",
            other => {
                return Err(format!(
                    "tag `attack.{other}` is not a MITRE ATT&CK tactic or technique"
                ));
            }
        };
        out.tactics.push(tactic.to_owned());
    }
    Ok(out)
}

/// Paths of a pod spec in the objects that carry one: a pod, a workload's
/// template, a cron job's job template.
const POD_SPECS: [&str; 3] = [
    "requestObject.spec",
    "requestObject.spec.template.spec",
    "requestObject.spec.jobTemplate.spec.template.spec",
];
const CONTAINER_LISTS: [&str; 3] = ["containers[]", "initContainers[]", "ephemeralContainers[]"];

/// Sigma field names for Kubernetes audit events (SigmaHQ's, and short
/// names for the pod-spec fields every workload kind carries).
struct K8sFields;

impl FieldMap for K8sFields {
    fn paths(&self, field: &str) -> Option<Vec<String>> {
        let in_pod = |suffix: &str| POD_SPECS.iter().map(|s| format!("{s}.{suffix}")).collect();
        let in_containers = |suffix: &str| {
            POD_SPECS
                .iter()
                .flat_map(|s| {
                    CONTAINER_LISTS
                        .iter()
                        .map(move |c| format!("{s}.{c}.{suffix}"))
                })
                .collect()
        };
        Some(match field {
            "hostPath" => in_pod("volumes[].hostPath.path"),
            "hostNetwork" | "hostPID" | "hostIPC" => in_pod(field),
            "image" => in_containers("image"),
            "privileged" => in_containers("securityContext.privileged"),
            "allowPrivilegeEscalation" => in_containers("securityContext.allowPrivilegeEscalation"),
            "capabilities" => in_containers("securityContext.capabilities.add[]"),
            "decision" => vec![r#"annotations["authorization.k8s.io/decision"]"#.to_owned()],
            "reason" => vec![r#"annotations["authorization.k8s.io/reason"]"#.to_owned()],
            "apiGroup" => vec!["objectRef.apiGroup".to_owned()],
            "username" => vec!["user.username".to_owned()],
            "groups" => vec!["user.groups[]".to_owned()],
            _ => return None,
        })
    }
}

/// Field names used as paths unchanged.
struct PlainFields;

impl FieldMap for PlainFields {
    fn paths(&self, _field: &str) -> Option<Vec<String>> {
        None
    }
}

/// A set of rules, checked when built.
#[derive(Debug)]
pub struct Ruleset {
    rules: Vec<Rule>,
}

impl Ruleset {
    /// The built-in rules ([`BUILTIN_RULES`]).
    pub fn builtin() -> Result<Self, DetectError> {
        Self::from_files(BUILTIN_RULES.iter().copied())
    }

    /// Rules from `(file, text)` pairs; rule ids and alert types must be
    /// unique.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, DetectError> {
        let rules = files
            .into_iter()
            .map(|(file, text)| Rule::parse(file, text))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(rules)
    }

    /// A set of parsed rules; rule ids and alert types must be unique.
    pub fn new(rules: Vec<Rule>) -> Result<Self, DetectError> {
        let mut ids = std::collections::BTreeSet::new();
        let mut types = std::collections::BTreeSet::new();
        for rule in &rules {
            if !ids.insert(rule.id.as_str()) || !types.insert(rule.alert_type.as_str()) {
                return Err(DetectError::Rule {
                    rule: rule.id.clone(),
                    reason: format!("rule id or alert type `{}` is not unique", rule.alert_type),
                });
            }
        }
        for rule in &rules {
            for wanted in rule.after.iter().flat_map(|a| &a.alert_types) {
                if !types.contains(wanted.as_str()) {
                    return Err(DetectError::Rule {
                        rule: rule.id.clone(),
                        reason: format!(
                            "`after` names alert type `{wanted}`, which no rule raises"
                        ),
                    });
                }
            }
        }
        Ok(Self { rules })
    }

    /// Every rule, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule raising `alert_type`.
    pub fn by_alert_type(&self, alert_type: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.alert_type == alert_type)
    }

    /// Keeps only the rules `keep` accepts (tuning: switch rules off).
    pub fn retain(&mut self, keep: impl FnMut(&Rule) -> bool) {
        self.rules.retain(keep);
    }
}
