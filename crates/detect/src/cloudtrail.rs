//! CloudTrail specifics the rules share and Sigma cannot say: the AWS
//! service noise filter, the known addresses of EC2 instances (for
//! instance credentials used elsewhere), and the named checks rules ask for
//! with `rampart.check`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whether a CloudTrail record is AWS acting on its own or on a caller's
/// behalf — noise no CloudTrail rule alerts on. True when:
///
/// * `userIdentity.type` is `AWSService`, or `eventType` is
///   `AwsServiceEvent`;
/// * `userIdentity.invokedBy` names an AWS service (`*.amazonaws.com`) or
///   is `AWS Internal` (a service calling with the caller's credentials:
///   CloudFormation, Auto Scaling, …);
/// * `sourceIPAddress` is an AWS service name (`*.amazonaws.com`);
/// * the caller is a service-linked role: a role name starting
///   `AWSServiceRoleFor` or an ARN under the path `/aws-service-role/`
///   (the session's own ARN or its `sessionContext.sessionIssuer.arn`).
///
/// The engine applies it to every CloudTrail event before any rule and
/// counts what it drops in [`BatchStats::service_noise`].
///
/// [`BatchStats::service_noise`]: crate::BatchStats::service_noise
pub fn is_aws_service_noise(record: &Value) -> bool {
    let s = |keys: &[&str]| str_at(record, keys);
    if s(&["userIdentity", "type"]) == Some("AWSService")
        || s(&["eventType"]) == Some("AwsServiceEvent")
    {
        return true;
    }
    if s(&["userIdentity", "invokedBy"])
        .is_some_and(|by| is_service_name(by) || by.eq_ignore_ascii_case("AWS Internal"))
    {
        return true;
    }
    if s(&["sourceIPAddress"]).is_some_and(is_service_name) {
        return true;
    }
    let service_linked = |arn: &str| {
        arn.contains("/aws-service-role/")
            || arn.contains(":assumed-role/AWSServiceRoleFor")
            || arn.contains(":role/AWSServiceRoleFor")
    };
    s(&["userIdentity", "arn"]).is_some_and(service_linked)
        || s(&["userIdentity", "sessionContext", "sessionIssuer", "arn"])
            .is_some_and(service_linked)
        || s(&[
            "userIdentity",
            "sessionContext",
            "sessionIssuer",
            "userName",
        ])
        .is_some_and(|n| n.starts_with("AWSServiceRoleFor"))
}

/// `ec2.amazonaws.com`, `cloudformation.amazonaws.com`, …
fn is_service_name(value: &str) -> bool {
    value.ends_with(".amazonaws.com") && !value.contains(' ')
}

fn str_at<'v>(value: &'v Value, keys: &[&str]) -> Option<&'v str> {
    let mut value = value;
    for key in keys {
        value = value.get(key)?;
    }
    value.as_str()
}

/// The addresses EC2 instances are known to call AWS from, given by the
/// caller (from its inventory) so that the engine can tell an instance
/// role's credentials used from their instance from the same credentials
/// used elsewhere (rule `AWS.InstanceCredentialsUsedElsewhere`).
///
/// * [`InstanceAddresses::insert`]: an instance's own addresses (private
///   and public IPv4, IPv6, Elastic IPs), by instance id.
/// * [`InstanceAddresses::add_shared`]: addresses any instance's traffic
///   may leave from (NAT gateways' public IPs, egress proxies): a call
///   from one of them is never treated as "elsewhere".
///
/// Instances the map does not know are not judged: their calls raise
/// nothing (counted in [`BatchStats::unknown_instance`]). Give it to the
/// engine with [`Engine::set_instance_addresses`]; it is not part of the
/// persisted state (refresh it from the inventory before each batch).
///
/// ```
/// use std::sync::Arc;
/// use rampart_detect::{Engine, EngineConfig, InstanceAddresses, Ruleset};
///
/// let mut known = InstanceAddresses::new();
/// known.insert("i-0a1b2c3d4e5f60718", ["10.0.1.25".parse()?, "54.210.167.99".parse()?]);
/// known.add_shared(["198.51.100.9".parse()?]); // a NAT gateway's public address
/// let mut engine = Engine::new(Arc::new(Ruleset::builtin()?), EngineConfig::default());
/// engine.set_instance_addresses(known);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Serialized form (also the fixtures' `instances.json`):
/// `{"instances": {"i-0abc…": ["10.0.1.5", "54.1.2.3"]}, "shared": ["198.51.100.9"]}`.
///
/// [`BatchStats::unknown_instance`]: crate::BatchStats::unknown_instance
/// [`Engine::set_instance_addresses`]: crate::Engine::set_instance_addresses
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceAddresses {
    instances: BTreeMap<String, BTreeSet<IpAddr>>,
    shared: BTreeSet<IpAddr>,
}

/// What [`InstanceAddresses::judge`] concludes about one call made with an
/// instance's role credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceCall {
    /// From one of the instance's addresses, or a shared egress address.
    FromInstance,
    /// From an address that is neither.
    Elsewhere,
    /// The instance is not in the map: not judged.
    UnknownInstance,
    /// The source is not an IP address (an AWS service name, `AWS
    /// Internal`): not judged.
    NotAnAddress,
}

impl InstanceAddresses {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `addresses` to instance `instance_id`'s (`i-0abc…`).
    pub fn insert(&mut self, instance_id: &str, addresses: impl IntoIterator<Item = IpAddr>) {
        self.instances
            .entry(instance_id.to_owned())
            .or_default()
            .extend(addresses);
    }

    /// Adds addresses every instance's calls may come from (NAT gateways).
    pub fn add_shared(&mut self, addresses: impl IntoIterator<Item = IpAddr>) {
        self.shared.extend(addresses);
    }

    /// Whether the map knows instance `instance_id`.
    pub fn knows(&self, instance_id: &str) -> bool {
        self.instances.contains_key(instance_id)
    }

    /// Instances known.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// Whether no instance is known.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// Judges a call made with instance `instance_id`'s role credentials
    /// from `source` (a record's `sourceIPAddress`).
    pub fn judge(&self, instance_id: &str, source: &str) -> InstanceCall {
        let Ok(ip) = source.trim().parse::<IpAddr>() else {
            return InstanceCall::NotAnAddress;
        };
        let Some(own) = self.instances.get(instance_id) else {
            return InstanceCall::UnknownInstance;
        };
        if own.contains(&ip) || self.shared.contains(&ip) {
            InstanceCall::FromInstance
        } else {
            InstanceCall::Elsewhere
        }
    }
}

/// The instance whose role session made the call, when the record's
/// `userIdentity` is an EC2 instance role's session
/// (`arn:aws:sts::<account>:assumed-role/<role>/i-<hex>`).
pub fn instance_session(record: &Value) -> Option<&str> {
    if str_at(record, &["userIdentity", "type"]) != Some("AssumedRole") {
        return None;
    }
    let arn = str_at(record, &["userIdentity", "arn"])?;
    let (_, session) = arn.split_once(":assumed-role/")?;
    let id = session.rsplit('/').next()?;
    let hex = id.strip_prefix("i-")?;
    (hex.len() >= 8 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// Logic a rule can ask for by name (`rampart.check`), run after its
/// Sigma detection matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// An instance role's session used from an address that is not its
    /// instance's ([`InstanceAddresses`]).
    InstanceCredentialsElsewhere,
    /// A security group rule opening an administration port (or every
    /// port) to `0.0.0.0/0` or `::/0`, in one permission entry.
    WorldOpenAdminPort,
    /// A resource policy (`requestParameters.bucketPolicy`, `policy`)
    /// with a statement allowing everyone (`Principal` `*` or `{"AWS":
    /// "*"}`) without a `Condition`.
    PublicPolicy,
}

/// Ports whose exposure to the internet is an administration or data
/// store exposure: SSH, RDP, Telnet, WinRM, VNC, databases, caches,
/// search engines, the Docker and Kubernetes APIs.
pub const ADMIN_PORTS: [u16; 17] = [
    22, 23, 3389, 5985, 5986, 5900, 3306, 5432, 1433, 1521, 27017, 6379, 11211, 9200, 2375, 2376,
    6443,
];

/// Whether a security group request opens an admin port to the world:
/// `AuthorizeSecurityGroupIngress` (`requestParameters.ipPermissions.items[]`
/// with `ipRanges.items[].cidrIp` / `ipv6Ranges.items[].cidrIpv6`, or the
/// newer `cidrIp`/`fromPort`/`toPort` at the top level) and
/// `ModifySecurityGroupRules` (`securityGroupRule.CidrIpv4`, `FromPort`, …).
/// Every permission entry is judged on its own: its port range and its
/// ranges together.
pub fn opens_admin_port_to_world(record: &Value) -> bool {
    let Some(params) = record.get("requestParameters") else {
        return false;
    };
    let mut entries: Vec<&Value> = Vec::new();
    if let Some(items) = params
        .get("ipPermissions")
        .and_then(|p| p.get("items"))
        .and_then(Value::as_array)
    {
        entries.extend(items);
    }
    entries.push(params);
    if let Some(rules) = params
        .get("ModifySecurityGroupRulesRequest")
        .and_then(|r| r.get("SecurityGroupRule"))
    {
        match rules {
            Value::Array(items) => {
                entries.extend(items.iter().filter_map(|i| i.get("SecurityGroupRule")))
            }
            one => entries.extend(one.get("SecurityGroupRule")),
        }
    }
    entries.into_iter().any(entry_is_world_admin)
}

fn entry_is_world_admin(entry: &Value) -> bool {
    let world = |v: &Value| {
        v.as_str()
            .is_some_and(|c| matches!(c.trim(), "0.0.0.0/0" | "::/0"))
    };
    let ranges = |list: &str, key: &str| {
        entry
            .get(list)
            .and_then(|r| r.get("items"))
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().any(|i| i.get(key).is_some_and(world)))
    };
    let open = ranges("ipRanges", "cidrIp")
        || ranges("ipv6Ranges", "cidrIpv6")
        || ["cidrIp", "cidrIpv6", "CidrIpv4", "CidrIpv6"]
            .iter()
            .any(|k| entry.get(k).is_some_and(world));
    if !open {
        return false;
    }
    let num = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            entry.get(k).and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        })
    };
    let protocol = ["ipProtocol", "IpProtocol"]
        .iter()
        .find_map(|k| entry.get(k))
        .map(|v| match v {
            Value::String(s) => s.to_ascii_lowercase(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    if protocol == "-1" || protocol == "all" {
        return true;
    }
    if !matches!(protocol.as_str(), "tcp" | "6" | "udp" | "17" | "") {
        return false;
    }
    let from = num(&["fromPort", "FromPort"]);
    let to = num(&["toPort", "ToPort"]).or(from);
    match (from, to) {
        // `-1`: every port.
        (Some(-1), _) => true,
        (Some(from), Some(to)) => ADMIN_PORTS
            .iter()
            .any(|p| (from..=to).contains(&i64::from(*p))),
        _ => false,
    }
}

/// Whether the request's resource or trust policy allows everyone without
/// a condition: `requestParameters.bucketPolicy` (S3 `PutBucketPolicy`, an
/// object in CloudTrail), `policy` (a JSON string: SQS, SNS, KMS, Secrets
/// Manager, ECR), `policyDocument` (IAM `UpdateAssumeRolePolicy`) or
/// `assumeRolePolicyDocument` (IAM `CreateRole`).
pub fn grants_public_access(record: &Value) -> bool {
    let Some(params) = record.get("requestParameters") else {
        return false;
    };
    [
        "bucketPolicy",
        "policy",
        "resourcePolicy",
        "policyText",
        "policyDocument",
        "assumeRolePolicyDocument",
    ]
    .iter()
    .filter_map(|k| params.get(k))
    .any(|p| match p {
        Value::String(text) => serde_json::from_str::<Value>(text)
            .ok()
            .is_some_and(|doc| policy_is_public(&doc)),
        doc => policy_is_public(doc),
    })
}

fn policy_is_public(doc: &Value) -> bool {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    statements.into_iter().any(|st| {
        let allow = st
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
        let conditioned = st
            .get("Condition")
            .is_some_and(|c| c.as_object().is_none_or(|m| !m.is_empty()));
        allow && !conditioned && st.get("Principal").is_some_and(principal_is_everyone)
    })
}

fn principal_is_everyone(principal: &Value) -> bool {
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    };
    star(principal) || principal.get("AWS").is_some_and(star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_noise_covers_services_and_service_linked_roles() {
        let cases = [
            (
                json!({"userIdentity": {"type": "AWSService", "invokedBy": "config.amazonaws.com"}}),
                true,
            ),
            (
                json!({"userIdentity": {"type": "IAMUser", "invokedBy": "cloudformation.amazonaws.com"}}),
                true,
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole"}, "sourceIPAddress": "ec2.amazonaws.com"}),
                true,
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole",
                "arn": "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForConfig/config-session"}}),
                true,
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/x/y",
                "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/aws-service-role/guardduty.amazonaws.com/x"}}}}),
                true,
            ),
            (
                json!({"eventType": "AwsServiceEvent", "userIdentity": {"type": "Root"}}),
                true,
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/admin/alice"},
                "sourceIPAddress": "203.0.113.7"}),
                false,
            ),
            (
                json!({"userIdentity": {"type": "IAMUser"}, "sourceIPAddress": "evil.amazonaws.com.example"}),
                false,
            ),
        ];
        for (record, noise) in cases {
            assert_eq!(is_aws_service_noise(&record), noise, "{record}");
        }
    }

    #[test]
    fn instance_sessions_and_addresses() {
        let record = json!({"userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/web/i-0a1b2c3d4e5f60718"}});
        assert_eq!(instance_session(&record), Some("i-0a1b2c3d4e5f60718"));
        let person = json!({"userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/web/i-am-alice"}});
        assert_eq!(instance_session(&person), None);
        let mut known = InstanceAddresses::new();
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        known.insert("i-0a1b2c3d4e5f60718", ip("10.0.1.5"));
        known.add_shared(ip("198.51.100.9"));
        let id = "i-0a1b2c3d4e5f60718";
        assert_eq!(known.judge(id, "10.0.1.5"), InstanceCall::FromInstance);
        assert_eq!(known.judge(id, "198.51.100.9"), InstanceCall::FromInstance);
        assert_eq!(known.judge(id, "203.0.113.7"), InstanceCall::Elsewhere);
        assert_eq!(
            known.judge(id, "ec2.amazonaws.com"),
            InstanceCall::NotAnAddress
        );
        assert_eq!(
            known.judge("i-0ffffffffffffffff", "203.0.113.7"),
            InstanceCall::UnknownInstance
        );
    }

    #[test]
    fn admin_ports_are_judged_per_permission_entry() {
        let entry = |proto: &str, from: i64, to: i64, cidr: &str| {
            json!({"requestParameters": {"ipPermissions": {"items": [{"ipProtocol": proto,
                "fromPort": from, "toPort": to, "ipRanges": {"items": [{"cidrIp": cidr}]}}]}}})
        };
        assert!(opens_admin_port_to_world(&entry(
            "tcp",
            22,
            22,
            "0.0.0.0/0"
        )));
        assert!(opens_admin_port_to_world(&entry(
            "tcp",
            0,
            65535,
            "0.0.0.0/0"
        )));
        assert!(opens_admin_port_to_world(&entry("-1", -1, -1, "0.0.0.0/0")));
        assert!(!opens_admin_port_to_world(&entry(
            "tcp",
            443,
            443,
            "0.0.0.0/0"
        )));
        assert!(!opens_admin_port_to_world(&entry(
            "tcp",
            22,
            22,
            "10.0.0.0/8"
        )));
        assert!(!opens_admin_port_to_world(&entry(
            "icmp",
            -1,
            -1,
            "0.0.0.0/0"
        )));
        // Port 22 to a private range and 443 to the world: two entries.
        let split = json!({"requestParameters": {"ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}},
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}});
        assert!(!opens_admin_port_to_world(&split));
    }

    #[test]
    fn public_policies_need_an_unconditioned_everyone_allow() {
        let policy = |statement: Value| json!({"requestParameters": {"bucketPolicy": {"Statement": [statement]}}});
        assert!(grants_public_access(&policy(
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})
        )));
        assert!(grants_public_access(&policy(
            json!({"Effect": "Allow", "Principal": {"AWS": ["*"]}})
        )));
        assert!(!grants_public_access(&policy(
            json!({"Effect": "Deny", "Principal": "*"})
        )));
        assert!(!grants_public_access(&policy(
            json!({"Effect": "Allow", "Principal": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}})
        )));
        assert!(!grants_public_access(&policy(json!({"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"}}))));
        let text = json!({"requestParameters": {"policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"}]}"}});
        assert!(grants_public_access(&text));
    }
}
