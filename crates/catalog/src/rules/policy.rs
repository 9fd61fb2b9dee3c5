//! IAM policy-document analysis shared by every service with identity or
//! resource policies (IAM, S3, SQS, SNS, KMS, Lambda, ECR, Secrets Manager…).
//!
//! Documents are the parsed JSON the collectors store (`policy`,
//! `defaultVersionDocument`, `assumeRolePolicyDocument`…). A collector that
//! could not parse a document stores it as a JSON string: read documents with
//! [`read`], which turns that into [`Unreadable`] (an `error` assessment)
//! rather than "no statements, so nothing wrong".
//!
//! What this module understands:
//!
//! * `Statement` as an array or a single object;
//! * `Action` / `NotAction` as a string or an array, with `*` and `?`
//!   wildcards, matched case-insensitively (`*`, `*:*`, `iam:*`, `s3:Get*`);
//! * `Resource` / `NotResource`, same shapes;
//! * `Principal` / `NotPrincipal`: `"*"`, `{"AWS": "*"}`,
//!   `{"AWS": ["arn…", "*"]}`, account ids, ARNs, `Service`, `Federated`,
//!   `CanonicalUser`;
//! * `Condition` blocks: which of them pin a public principal to a known set
//!   of callers (see [`Statement::restricts_principal`]).
//!
//! It does not evaluate policies the way IAM does (no variables, no
//! permission boundaries, no SCPs); every helper documents its exact meaning.

#![allow(
    dead_code,
    reason = "shared helpers for every service's rules; not every one is used by every rule set yet"
)]

use crate::doc::{Kind, Node, Object};
use crate::view::{Props, Unreadable};

/// Reads a policy document at `path`: `Ok(None)` when there is none,
/// `Err` when the scan could not read it or the collector could not parse it
/// (it is then stored as a string, or is not an object).
pub(crate) fn read<'a>(p: &Props<'a>, path: &str) -> Result<Option<Node<'a>>, Unreadable> {
    match p.get(path)? {
        None => Ok(None),
        Some(doc) => match check(doc) {
            Ok(()) => Ok(Some(doc)),
            Err(error) => Err(Unreadable {
                path: path.to_owned(),
                error,
            }),
        },
    }
}

/// Whether `doc` is a policy document this module can analyse: an object
/// whose `Statement` is an object or an array of objects. The error says why
/// not.
pub(crate) fn check(doc: Node<'_>) -> Result<(), String> {
    let Some(map) = doc.as_object() else {
        return Err("the policy document is not valid JSON".to_owned());
    };
    match map.get("Statement").map(Node::kind) {
        None | Some(Kind::Null) => Ok(()),
        Some(Kind::Object(_)) => Ok(()),
        Some(Kind::Array(items)) if items.iter().all(Node::is_object) => Ok(()),
        Some(_) => Err("the policy document's `Statement` is not a list of objects".to_owned()),
    }
}

/// A statement's `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
    /// Missing or anything else (IAM rejects such documents).
    Invalid,
}

/// One statement of a policy document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Statement<'a> {
    map: Object<'a>,
    /// Position in the document (0 for a single-object `Statement`).
    pub(crate) index: usize,
}

/// One condition entry: `{"<operator>": {"<key>": <values>}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition<'a> {
    /// The operator as written (`ForAnyValue:StringLikeIfExists`).
    pub(crate) operator: &'a str,
    /// The condition key as written (`aws:SourceArn`).
    pub(crate) key: &'a str,
    /// The values, as strings (booleans and numbers are rendered).
    pub(crate) values: Vec<String>,
}

impl Condition<'_> {
    /// The operator without `ForAnyValue:`/`ForAllValues:` and `IfExists`,
    /// lower case (`stringlike`).
    pub(crate) fn base_operator(&self) -> String {
        let lower = self.operator.to_ascii_lowercase();
        let no_set = lower
            .strip_prefix("foranyvalue:")
            .or_else(|| lower.strip_prefix("forallvalues:"))
            .unwrap_or(&lower);
        no_set.strip_suffix("ifexists").unwrap_or(no_set).to_owned()
    }

    /// Whether the key is `key` (condition keys are case-insensitive).
    pub(crate) fn is_key(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }

    /// Whether the condition also passes when the key is absent from the
    /// request (`…IfExists`, or `ForAllValues:` which holds vacuously).
    pub(crate) fn passes_when_absent(&self) -> bool {
        let lower = self.operator.to_ascii_lowercase();
        lower.ends_with("ifexists") || lower.starts_with("forallvalues:")
    }
}

/// The statements of `doc` (`Statement` as an array or a single object;
/// anything else gives none — use [`check`] or [`read`] to tell).
pub(crate) fn statements(doc: Node<'_>) -> Vec<Statement<'_>> {
    match doc.get("Statement").map(Node::kind) {
        Some(Kind::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(index, v)| v.as_object().map(|map| Statement { map, index }))
            .collect(),
        Some(Kind::Object(map)) => vec![Statement { map, index: 0 }],
        _ => Vec::new(),
    }
}

/// Strings of a value that is a string or an array of strings.
fn strings(value: Option<Node<'_>>) -> Vec<&str> {
    match value.map(Node::kind) {
        Some(Kind::String(s)) => vec![s],
        Some(Kind::Array(items)) => items.iter().filter_map(Node::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A condition value as a string.
fn scalar(value: Node<'_>) -> Option<String> {
    match value.kind() {
        Kind::String(s) => Some(s.to_owned()),
        Kind::Bool(b) => Some(b.to_string()),
        Kind::Number => Some(value.to_string()),
        _ => None,
    }
}

/// Whether an IAM wildcard pattern (`*` any run, `?` one character) matches
/// `text`, case-insensitively (as IAM matches actions).
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative glob matching with one backtrack point.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
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
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// Whether an action pattern grants every action of every service (`*`,
/// `*:*`, or any pattern of only `*`s around a colon).
pub(crate) fn is_all_actions(pattern: &str) -> bool {
    let p = pattern.trim();
    (!p.is_empty() && p.chars().all(|c| c == '*'))
        || p.split_once(':').is_some_and(|(s, a)| {
            !s.is_empty()
                && s.chars().all(|c| c == '*')
                && !a.is_empty()
                && a.chars().all(|c| c == '*')
        })
}

/// The service wildcard an action pattern is, if it is one: `iam:*` →
/// `Some("iam")`. `*` and `*:*` are not service wildcards (see
/// [`is_all_actions`]); neither are partial ones like `s3:Get*`.
pub(crate) fn service_wildcard(pattern: &str) -> Option<&str> {
    let (service, action) = pattern.trim().split_once(':')?;
    (action == "*" && !service.is_empty() && !service.contains('*')).then_some(service)
}

/// The account id in a principal: a 12-digit id, or the account field of an
/// ARN (`arn:aws:iam::123456789012:root`). `None` for `*`, services and
/// anything else.
pub(crate) fn principal_account(principal: &str) -> Option<&str> {
    let p = principal.trim();
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Some(p);
    }
    let mut parts = p.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let _region = parts.next()?;
    let account = parts.next()?;
    (!account.is_empty()).then_some(account)
}

/// Condition keys that, with a positive operator and a concrete value, limit
/// who can use a statement to a known account, organization, network or
/// source resource.
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalservicename",
    "aws:userid",
    "aws:username",
    "kms:calleraccount",
    "s3:dataaccesspointaccount",
];

/// Operators that require the key to equal or match the given values.
const POSITIVE_OPERATORS: &[&str] = &[
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
];

/// Whether a condition value still lets anyone in: `*`, only wildcards, or a
/// whole-internet CIDR.
fn is_open_value(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v.chars().all(|c| c == '*' || c == '?') || v == "0.0.0.0/0" || v == "::/0"
}

impl<'a> Statement<'a> {
    /// The raw statement.
    pub(crate) fn raw(&self) -> Object<'a> {
        self.map
    }

    /// `Sid`, if any.
    pub(crate) fn sid(&self) -> Option<&'a str> {
        self.map.get("Sid").and_then(Node::as_str)
    }

    /// The effect.
    pub(crate) fn effect(&self) -> Effect {
        match self.map.get("Effect").and_then(Node::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => Effect::Invalid,
        }
    }

    /// `Effect` is `Allow`.
    pub(crate) fn is_allow(&self) -> bool {
        self.effect() == Effect::Allow
    }

    /// `Effect` is `Deny`.
    pub(crate) fn is_deny(&self) -> bool {
        self.effect() == Effect::Deny
    }

    /// The `Action` patterns (empty when the statement uses `NotAction`).
    pub(crate) fn actions(&self) -> Vec<&'a str> {
        strings(self.map.get("Action"))
    }

    /// The `NotAction` patterns, when the statement uses `NotAction`.
    pub(crate) fn not_actions(&self) -> Option<Vec<&'a str>> {
        self.map.get("NotAction").map(|v| strings(Some(v)))
    }

    /// Whether the statement applies to `action` (`s3:GetObject`): an
    /// `Action` pattern matches it, or a `NotAction` list does not.
    pub(crate) fn matches_action(&self, action: &str) -> bool {
        match self.not_actions() {
            Some(not) => !not.iter().any(|p| wildcard_match(p, action)),
            None => self.actions().iter().any(|p| wildcard_match(p, action)),
        }
    }

    /// Whether the statement applies to every action of every service:
    /// `Action` has `*` / `*:*`, or `NotAction` is empty.
    pub(crate) fn covers_all_actions(&self) -> bool {
        match self.not_actions() {
            Some(not) => not.is_empty(),
            None => self.actions().iter().any(|a| is_all_actions(a)),
        }
    }

    /// Whether the statement applies to every action of `service` (`s3`):
    /// `*`, `*:*`, `s3:*`, or a `NotAction` that excludes nothing of it.
    pub(crate) fn covers_service(&self, service: &str) -> bool {
        let prefix = format!("{}:", service.to_ascii_lowercase());
        match self.not_actions() {
            Some(not) => !not.iter().any(|p| {
                let p = p.to_ascii_lowercase();
                p.starts_with(&prefix) || p.split_once(':').is_none_or(|(s, _)| s.contains('*'))
            }),
            None => self.actions().iter().any(|a| {
                is_all_actions(a)
                    || service_wildcard(a).is_some_and(|s| s.eq_ignore_ascii_case(service))
            }),
        }
    }

    /// The `Resource` patterns (empty when the statement uses `NotResource`).
    pub(crate) fn resources(&self) -> Vec<&'a str> {
        strings(self.map.get("Resource"))
    }

    /// The `NotResource` patterns, when the statement uses `NotResource`.
    pub(crate) fn not_resources(&self) -> Option<Vec<&'a str>> {
        self.map.get("NotResource").map(|v| strings(Some(v)))
    }

    /// Whether the statement applies to `resource` (an ARN).
    pub(crate) fn matches_resource(&self, resource: &str) -> bool {
        match self.not_resources() {
            Some(not) => !not.iter().any(|p| wildcard_match(p, resource)),
            None => self.resources().iter().any(|p| wildcard_match(p, resource)),
        }
    }

    /// Whether the statement names every resource: `Resource: "*"`.
    /// (`NotResource` is not counted: it always excludes something.)
    pub(crate) fn covers_all_resources(&self) -> bool {
        self.resources().iter().any(|r| r.trim() == "*")
    }

    /// Whether the statement uses `NotPrincipal`.
    pub(crate) fn has_not_principal(&self) -> bool {
        self.map.contains_key("NotPrincipal")
    }

    /// Principals of one kind (`AWS`, `Service`, `Federated`,
    /// `CanonicalUser`). `Principal: "*"` gives `["*"]` for every kind.
    pub(crate) fn principals(&self, kind: &str) -> Vec<&'a str> {
        match self.map.get("Principal").map(Node::kind) {
            Some(Kind::String(s)) => vec![s],
            Some(Kind::Object(map)) => strings(map.get(kind)),
            _ => Vec::new(),
        }
    }

    /// Whether the `Principal` is everyone: `"*"`, or a `*` among the `AWS`
    /// (or `CanonicalUser`) principals, or an ARN with a wildcard account.
    /// An `Allow` with `NotPrincipal` also counts (it grants everyone but
    /// the listed principals).
    pub(crate) fn has_public_principal(&self) -> bool {
        if self.is_allow() && self.has_not_principal() {
            return true;
        }
        match self.map.get("Principal").map(Node::kind) {
            Some(Kind::String(s)) => s.trim() == "*",
            Some(Kind::Object(map)) => ["AWS", "CanonicalUser"]
                .iter()
                .flat_map(|k| strings(map.get(k)))
                .any(|p| p.trim() == "*" || principal_account(p).is_some_and(|a| a.contains('*'))),
            _ => false,
        }
    }

    /// The condition entries.
    pub(crate) fn conditions(&self) -> Vec<Condition<'a>> {
        let Some(Kind::Object(ops)) = self.map.get("Condition").map(Node::kind) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (operator, keys) in ops {
            let Kind::Object(keys) = keys.kind() else {
                continue;
            };
            for (key, values) in keys {
                let values = match values.kind() {
                    Kind::Array(items) => items.iter().filter_map(scalar).collect(),
                    _ => scalar(values).into_iter().collect(),
                };
                out.push(Condition {
                    operator,
                    key,
                    values,
                });
            }
        }
        out
    }

    /// Whether a condition limits who can use the statement to a known
    /// account, organization, network, or source resource: one of
    /// `aws:SourceArn`, `aws:SourceAccount`, `aws:SourceOwner`,
    /// `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceIp`, `aws:VpcSourceIp`,
    /// `aws:SourceOrgID`/`…Paths`, `aws:PrincipalOrgID`/`…Paths`,
    /// `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:PrincipalServiceName`,
    /// `aws:userid`, `aws:username`, `kms:CallerAccount`,
    /// `s3:DataAccessPointAccount`, with an equality/match operator
    /// (`StringEquals`, `StringLike`, `ArnLike`, `IpAddress`…; not
    /// `…IfExists`, `ForAllValues:` or negated ones) and no value that lets
    /// everyone in (`*`, `0.0.0.0/0`, `::/0`).
    pub(crate) fn restricts_principal(&self) -> bool {
        self.conditions().iter().any(|c| {
            let key = c.key.to_ascii_lowercase();
            RESTRICTING_KEYS.contains(&key.as_str())
                && POSITIVE_OPERATORS.contains(&c.base_operator().as_str())
                && !c.passes_when_absent()
                && !c.values.is_empty()
                && !c.values.iter().any(|v| is_open_value(v))
        })
    }

    /// An `Allow` for everyone that no condition restricts (see
    /// [`Statement::restricts_principal`]).
    pub(crate) fn is_public(&self) -> bool {
        self.is_allow() && self.has_public_principal() && !self.restricts_principal()
    }
}

/// Whether some `Allow` statement grants every action on every resource
/// (`Action` `*`/`*:*` — or an empty `NotAction` — with `Resource: "*"`).
/// Conditions are not considered: an admin grant behind a condition is still
/// an admin grant.
pub(crate) fn allows_full_admin(doc: Node<'_>) -> bool {
    statements(doc)
        .iter()
        .any(|s| s.is_allow() && s.covers_all_actions() && s.covers_all_resources())
}

/// `Allow` statements that grant access to everyone without a restricting
/// condition (see [`Statement::is_public`]).
pub(crate) fn public_statements(doc: Node<'_>) -> Vec<Statement<'_>> {
    statements(doc)
        .into_iter()
        .filter(Statement::is_public)
        .collect()
}

/// Whether some statement grants access to everyone (see
/// [`public_statements`]).
pub(crate) fn is_public(doc: Node<'_>) -> bool {
    !public_statements(doc).is_empty()
}

/// Whether some `Allow` statement grants `action` to everyone without a
/// restricting condition.
pub(crate) fn public_allows_action(doc: Node<'_>, action: &str) -> bool {
    public_statements(doc)
        .iter()
        .any(|s| s.matches_action(action))
}

/// Whether some `Allow` statement applies to `action`, whatever its
/// principal, resource or conditions.
pub(crate) fn allows_action(doc: Node<'_>, action: &str) -> bool {
    statements(doc)
        .iter()
        .any(|s| s.is_allow() && s.matches_action(action))
}

/// Whether the document denies requests not made over TLS: a `Deny`
/// statement for everyone (`"*"` or `{"AWS": "*"}`), covering every action
/// (`*`) or every action of some service (`s3:*`, `sqs:*`…), with
/// `Bool`/`BoolIfExists` `aws:SecureTransport` = `false`.
pub(crate) fn denies_insecure_transport(doc: Node<'_>) -> bool {
    statements(doc).iter().any(|s| {
        s.is_deny()
            && s.principals("AWS").iter().any(|p| p.trim() == "*")
            && (s.covers_all_actions() || s.actions().iter().any(|a| service_wildcard(a).is_some()))
            && s.conditions().iter().any(|c| {
                c.base_operator() == "bool"
                    && c.is_key("aws:SecureTransport")
                    && c.values.iter().any(|v| v.eq_ignore_ascii_case("false"))
            })
    })
}

/// `AWS` principals of `Allow` statements that belong to another account
/// than `account` (account ids or ARNs; `*` is not included — see
/// [`is_public`]). Sorted, without duplicates.
pub(crate) fn cross_account_principals<'a>(doc: Node<'a>, account: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = statements(doc)
        .iter()
        .filter(|s| s.is_allow())
        .flat_map(|s| s.principals("AWS"))
        .filter(|p| principal_account(p).is_some_and(|a| a != account && !a.contains('*')))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The service-wildcard action patterns (`s3:*`) of `Allow` statements,
/// sorted, without duplicates.
pub(crate) fn allowed_service_wildcards(doc: Node<'_>) -> Vec<&str> {
    let mut out: Vec<&str> = statements(doc)
        .iter()
        .filter(|s| s.is_allow())
        .flat_map(|s| s.actions())
        .filter(|a| service_wildcard(a).is_some())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::*;
    use crate::doc::testing::node;
    use crate::inventory::testing::asset_ref;
    use serde_json::{Value, json};

    const ME: &str = "123456789012";

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "s3:GetObject"));
        assert!(wildcard_match("s3:Get*", "s3:getobject"));
        assert!(wildcard_match("S3:*", "s3:PutObject"));
        assert!(wildcard_match("s3:?etObject", "s3:GetObject"));
        assert!(wildcard_match("*:*", "iam:PassRole"));
        assert!(wildcard_match("iam:*", "iam:PassRole"));
        assert!(wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x"));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(!wildcard_match("s3:Get*", "s3:PutObject"));
        assert!(!wildcard_match("iam:*", "s3:GetObject"));
        assert!(!wildcard_match("", "x"));
        assert!(wildcard_match("", ""));
    }

    #[test]
    fn action_shapes() {
        assert!(is_all_actions("*"));
        assert!(is_all_actions("*:*"));
        assert!(!is_all_actions("iam:*"));
        assert!(!is_all_actions("s3:Get*"));
        assert!(!is_all_actions(""));
        assert_eq!(service_wildcard("iam:*"), Some("iam"));
        assert_eq!(service_wildcard("*:*"), None);
        assert_eq!(service_wildcard("*"), None);
        assert_eq!(service_wildcard("s3:Get*"), None);
    }

    #[test]
    fn statements_as_array_or_object() {
        let one = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        assert_eq!(statements(node(&one)).len(), 1);
        assert!(allows_full_admin(node(&one)));
        let two = json!({"Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:*", "*:*"], "Resource": ["*"]}
        ]});
        let st = statements(node(&two));
        assert_eq!(st.len(), 2);
        assert_eq!(st[1].index, 1);
        assert!(allows_full_admin(node(&two)));
        assert!(statements(node(&json!("not json"))).is_empty());
        assert!(statements(node(&json!({}))).is_empty());
        assert!(check(node(&json!("{bad"))).is_err());
        assert!(check(node(&json!({"Statement": "x"}))).is_err());
        assert!(check(node(&json!({"Statement": [1]}))).is_err());
        assert!(check(node(&two)).is_ok());
        assert!(check(node(&json!({"Version": "2012-10-17"}))).is_ok());
    }

    #[test]
    fn full_admin_needs_all_actions_on_all_resources_with_allow() {
        let scoped = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}]});
        assert!(!allows_full_admin(node(&scoped)));
        let service =
            json!({"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]});
        assert!(!allows_full_admin(node(&service)));
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        assert!(!allows_full_admin(node(&deny)));
        let not_action_empty =
            json!({"Statement": [{"Effect": "Allow", "NotAction": [], "Resource": "*"}]});
        assert!(allows_full_admin(node(&not_action_empty)));
        let power_user =
            json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
        assert!(!allows_full_admin(node(&power_user)));
        let lower = json!({"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]});
        assert!(
            !allows_full_admin(node(&lower)),
            "IAM's Effect is case-sensitive"
        );
    }

    #[test]
    fn action_and_not_action_matching() {
        let doc = json!({"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "s3:Delete*"], "Resource": "*"}]});
        assert!(allows_action(node(&doc), "s3:GetObject"));
        assert!(!allows_action(node(&doc), "s3:DeleteObject"));
        assert!(!allows_action(node(&doc), "iam:CreateUser"));
        let st = statements(node(&doc));
        assert!(!st[0].covers_service("s3"));
        assert!(st[0].covers_service("ec2"));
        assert!(!st[0].covers_service("iam"));
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]});
        assert!(allows_action(node(&doc), "S3:GetObject"));
        assert!(!allows_action(node(&doc), "s3:PutObject"));
        assert!(!statements(node(&doc))[0].covers_service("s3"));
        let doc = json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]});
        assert!(!allows_action(node(&doc), "s3:GetObject"));
        assert!(statements(node(&doc))[0].covers_service("S3"));
    }

    #[test]
    fn resources() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
            {"Effect": "Allow", "Action": "sqs:*", "NotResource": "arn:aws:sqs:*:*:secret"}
        ]});
        let st = statements(node(&doc));
        assert!(st[0].matches_resource("arn:aws:s3:::b/key"));
        assert!(!st[0].matches_resource("arn:aws:s3:::other"));
        assert!(!st[0].covers_all_resources());
        assert!(st[1].matches_resource("arn:aws:sqs:us-east-1:1:q"));
        assert!(!st[1].matches_resource("arn:aws:sqs:us-east-1:1:secret"));
        assert!(!st[1].covers_all_resources());
    }

    #[test]
    fn public_principals() {
        for principal in [
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
            json!({"CanonicalUser": "*"}),
        ] {
            let doc = json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}]});
            assert!(is_public(node(&doc)), "{principal}");
            assert!(public_allows_action(node(&doc), "s3:GetObject"));
            assert!(!public_allows_action(node(&doc), "s3:PutObject"));
        }
        for principal in [
            json!({"AWS": "arn:aws:iam::111122223333:root"}),
            json!({"AWS": ["111122223333"]}),
            json!({"Service": "cloudtrail.amazonaws.com"}),
            json!({"Federated": "cognito-identity.amazonaws.com"}),
        ] {
            let doc = json!({"Statement": {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}});
            assert!(!is_public(node(&doc)), "{principal}");
        }
        let deny = json!({"Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}});
        assert!(!is_public(node(&deny)));
        let not_principal = json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*", "Resource": "*"}});
        assert!(is_public(node(&not_principal)));
        let no_principal =
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        assert!(!is_public(node(&no_principal)));
    }

    #[test]
    fn conditions_that_restrict_a_public_principal() {
        let with = |condition: Value| json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": "*", "Condition": condition}]});
        for restricting in [
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t"}}),
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket"}}),
            json!({"StringEquals": {"aws:SourceAccount": "123456789012"}}),
            json!({"StringEquals": {"aws:sourceaccount": ["123456789012"]}}),
            json!({"StringEquals": {"aws:SourceVpc": "vpc-1"}}),
            json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
            json!({"StringEquals": {"aws:PrincipalAccount": "123456789012"}}),
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}),
            json!({"StringEquals": {"kms:CallerAccount": "123456789012"}}),
            json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a/r-b/*"}}),
            json!({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceOwner": "123456789012"}}),
        ] {
            let doc = with(restricting.clone());
            assert!(!is_public(node(&doc)), "{restricting}");
            assert!(
                statements(node(&doc))[0].restricts_principal(),
                "{restricting}"
            );
        }
        for open in [
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            json!({"StringEquals": {"aws:SourceAccount": "*"}}),
            json!({"StringLike": {"aws:SourceArn": "*"}}),
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::/0"]}}),
            json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            json!({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}),
            json!({"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}),
            json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": "o-a/r-b/"}}),
            json!({"Null": {"aws:SourceArn": "false"}}),
            json!({"StringEquals": {"sts:ExternalId": "abc"}}),
        ] {
            assert!(is_public(node(&with(open.clone()))), "{open}");
        }
    }

    #[test]
    fn condition_entries() {
        let doc = json!({"Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"ForAnyValue:StringLikeIfExists": {"k": ["a", "b"]}, "Bool": {"aws:SecureTransport": false}}}});
        let conditions = statements(node(&doc))[0].conditions();
        let like = conditions.iter().find(|c| c.key == "k").unwrap();
        assert_eq!(like.base_operator(), "stringlike");
        assert!(like.passes_when_absent());
        assert_eq!(like.values, vec!["a", "b"]);
        let tls = conditions
            .iter()
            .find(|c| c.is_key("AWS:SECURETRANSPORT"))
            .unwrap();
        assert_eq!(tls.values, vec!["false"]);
        assert!(!tls.passes_when_absent());
    }

    #[test]
    fn insecure_transport_denial() {
        let deny = |principal: Value, action: Value, condition: Value| {
            json!({"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": condition}
            ]})
        };
        let tls_false = json!({"Bool": {"aws:SecureTransport": "false"}});
        assert!(denies_insecure_transport(node(&deny(
            json!("*"),
            json!("s3:*"),
            tls_false.clone()
        ))));
        assert!(denies_insecure_transport(node(&deny(
            json!({"AWS": "*"}),
            json!("*"),
            tls_false.clone()
        ))));
        assert!(denies_insecure_transport(node(&deny(
            json!("*"),
            json!(["sqs:*"]),
            json!({"Bool": {"aws:SecureTransport": false}})
        ))));
        assert!(denies_insecure_transport(node(&deny(
            json!("*"),
            json!("s3:*"),
            json!({"BoolIfExists": {"aws:SecureTransport": ["false"]}})
        ))));
        assert!(!denies_insecure_transport(node(&deny(
            json!("*"),
            json!("s3:GetObject"),
            tls_false.clone()
        ))));
        assert!(!denies_insecure_transport(node(&deny(
            json!({"AWS": "arn:aws:iam::1:root"}),
            json!("s3:*"),
            tls_false.clone()
        ))));
        assert!(!denies_insecure_transport(node(&deny(
            json!("*"),
            json!("s3:*"),
            json!({"Bool": {"aws:SecureTransport": "true"}})
        ))));
        let allow_tls = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": tls_false}});
        assert!(!denies_insecure_transport(node(&allow_tls)));
    }

    #[test]
    fn cross_account() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::123456789012:role/x", "*", "444455556666"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root", "Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::777788889999:root"}, "Action": "*"}
        ]});
        assert_eq!(
            cross_account_principals(node(&doc), ME),
            vec!["444455556666", "arn:aws:iam::111122223333:root"]
        );
        assert_eq!(
            principal_account("arn:aws:sts::111122223333:assumed-role/r/s"),
            Some("111122223333")
        );
        assert_eq!(principal_account("ec2.amazonaws.com"), None);
        assert_eq!(principal_account("*"), None);
    }

    #[test]
    fn service_wildcards() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*", "s3:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "IAM:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*"}
        ]});
        assert_eq!(allowed_service_wildcards(node(&doc)), vec!["IAM:*", "s3:*"]);
    }

    #[test]
    fn read_marks_unparsed_documents_unreadable() {
        use rampart_model::Asset;
        let mut asset = Asset::new(
            "arn:x",
            "AWS::S3::Bucket",
            ME,
            "us-east-1",
            "b",
            json!({"policy": "{not json", "good": {"Statement": []}}),
        );
        asset.mark_unavailable("denied", "AccessDenied");
        let p = Props::of(asset_ref(&asset));
        assert!(read(&p, "policy").is_err());
        assert!(read(&p, "good").unwrap().is_some());
        assert_eq!(read(&p, "missing"), Ok(None));
        assert_eq!(read(&p, "denied").unwrap_err().error, "AccessDenied");
    }
}
