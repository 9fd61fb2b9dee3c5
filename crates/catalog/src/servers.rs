//! Servers coverage: per EC2 instance, what Systems Manager knows about it
//! and why it is not covered, computed from a snapshot's assets (pure).
//!
//! Reads the EC2 collector's `AWS::EC2::Instance`, the IAM collector's
//! `AWS::IAM::Role` / `AWS::IAM::ManagedPolicy` (instance profile → role →
//! policies) and the SSM collector's
//! [`SSM_MANAGED_INSTANCE`](rampart_model::types::SSM_MANAGED_INSTANCE)
//! (ping status, agent, patch state, compliance, inventory summary) and
//! [`SSM_REGION`](rampart_model::types::SSM_REGION) (whether the region's
//! managed-instance list was read).
//!
//! Entry points: [`instance_coverage`] over an [`Inventory`], or
//! [`instance_coverage_of_assets`] over plain assets. The same lookups back
//! the Servers recommendations (`rules/ssm.rs`).

use std::collections::HashMap;

use rampart_model::Asset;
use rampart_model::types::{SSM_MANAGED_INSTANCE, SSM_REGION};
use serde::{Deserialize, Serialize};

use crate::doc::Node;
use crate::inventory::{AssetRef, Inventory};
use crate::rules::policy;

/// The EC2 instance asset type.
pub const EC2_INSTANCE: &str = "AWS::EC2::Instance";

/// AWS managed policies that give the SSM Agent what it needs.
pub const SSM_MANAGED_POLICIES: &[&str] = &[
    "AmazonSSMManagedInstanceCore",
    "AmazonSSMManagedEC2InstanceDefaultPolicy",
    "AmazonEC2RoleforSSM",
];

/// Actions the SSM Agent needs from its instance role: registering and
/// reporting, Session Manager's channels, and Run Command's messages.
pub const SSM_AGENT_ACTIONS: &[&str] = &[
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:OpenControlChannel",
    "ec2messages:GetMessages",
];

/// Why an instance is not covered by Servers (`code` is stable, `message`
/// is for people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageReason {
    /// `ssm-unknown`, `no-instance-profile`, `profile-lacks-ssm`,
    /// `not-managed`, `agent-not-online`, `no-inventory`,
    /// `inventory-unknown`.
    pub code: String,
    /// One sentence.
    pub message: String,
}

impl CoverageReason {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Whether SSM manages an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Managed {
    /// SSM lists it.
    Yes,
    /// SSM's list for the region was read and does not have it.
    No,
    /// The region's list could not be read (a scan gap).
    Unknown,
}

/// One EC2 instance's Servers coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceCoverage {
    /// `i-…`.
    pub instance_id: String,
    /// The EC2 instance's ARN.
    pub arn: String,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The asset's name (the `Name` tag, else the id).
    pub name: String,
    /// EC2 state (`running`, `stopped`, …).
    pub state: Option<String>,
    /// Whether SSM manages it.
    pub managed: Managed,
    /// SSM's ping status (`Online`, `ConnectionLost`, `Inactive`).
    pub ping_status: Option<String>,
    /// SSM Agent version.
    pub agent_version: Option<String>,
    /// SSM's `IsLatestVersion` (Linux only; `None` when not reported).
    pub agent_latest: Option<bool>,
    /// `Linux`, `Windows`, `MacOS` (SSM's), else EC2's `platform`.
    pub platform_type: Option<String>,
    /// OS name and version as SSM reports them (`Amazon Linux 2023`).
    pub platform: Option<String>,
    /// The instance profile's ARN, if the instance has one.
    pub instance_profile: Option<String>,
    /// The profile's role ARN, when the scan found it.
    pub role: Option<String>,
    /// Whether the role grants what the SSM Agent needs (`None`: no
    /// profile, or its role or policies were not found in the snapshot).
    pub profile_allows_ssm: Option<bool>,
    /// Patch compliance (`COMPLIANT`, `NON_COMPLIANT`; `None`: no data).
    pub patch_compliance: Option<String>,
    /// Missing patches from the last patch scan.
    pub missing_patches: Option<i64>,
    /// Association compliance (`COMPLIANT`, `NON_COMPLIANT`; `None`: no data).
    pub association_compliance: Option<String>,
    /// Whether SSM holds software inventory for it (`None`: unknown).
    pub inventory_present: Option<bool>,
    /// Applications in that inventory.
    pub application_count: Option<i64>,
    /// Managed, agent online and inventory reported.
    pub covered: bool,
    /// Why not covered (empty when covered).
    pub reasons: Vec<CoverageReason>,
}

/// Whether a managed instance for an EC2 instance was found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'a> {
    /// SSM lists the instance.
    Managed(AssetRef<'a>),
    /// SSM's list for the region was read and does not have it.
    NotManaged,
    /// The list could not be read: why.
    Unknown(&'static str),
}

/// (account, region) → managed-instance ARN, by resource ARN and by id.
type ManagedIndex = HashMap<(String, String), HashMap<String, String>>;

/// Whether SSM's managed-instance list was read in `account`/`region`:
/// the region status says so; without one (older snapshots), a region
/// listing at least one managed instance was read.
fn region_read(inv: &Inventory, account: &str, region: &str) -> Option<bool> {
    inv.of_type_in_region(SSM_REGION, account, region)
        .next()
        .map(|status| {
            status.unavailable("managedInstanceCount").is_none()
                && status
                    .properties
                    .get("instanceInformationRead")
                    .and_then(Node::as_bool)
                    == Some(true)
        })
}

/// SSM's view of the EC2 instance `asset`.
pub(crate) fn managed_instance<'a>(inv: &'a Inventory, asset: AssetRef<'_>) -> Lookup<'a> {
    let index = inv.memo("servers:managed_instances", |inv| {
        let mut index = ManagedIndex::new();
        for m in inv.of_type(SSM_MANAGED_INSTANCE) {
            let by_key = index
                .entry((m.account.to_owned(), m.region.to_owned()))
                .or_default();
            for name in ["resourceArn", "instanceId"] {
                if let Some(key) = m.properties.get(name).and_then(Node::as_str) {
                    by_key.insert(key.to_owned(), m.arn.to_owned());
                }
            }
        }
        index
    });
    let key = (asset.account.to_owned(), asset.region.to_owned());
    let found = index.get(&key).and_then(|m| {
        m.get(asset.arn).or_else(|| {
            asset
                .properties
                .get("instanceId")
                .and_then(Node::as_str)
                .and_then(|id| m.get(id))
        })
    });
    if let Some(mine) = found.and_then(|arn| inv.by_arn(arn)) {
        return Lookup::Managed(mine);
    }
    match region_read(inv, asset.account, asset.region) {
        Some(true) => Lookup::NotManaged,
        Some(false) => Lookup::Unknown(
            "Systems Manager's managed-instance list for this region could not be read",
        ),
        None if index.contains_key(&key) => Lookup::NotManaged,
        None => Lookup::Unknown(
            "no Systems Manager managed instance is listed in this region and the scan recorded no SSM region status, so an unmanaged instance cannot be told from an unreadable list",
        ),
    }
}

/// What the instance profile of an EC2 instance allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProfileSsm {
    /// The profile's ARN.
    pub profile: String,
    /// Its role, when found.
    pub role: Option<String>,
    /// Whether the role grants the SSM Agent's actions (`None`: the role
    /// or one of its customer-managed policies is not in the snapshot).
    pub allows: Option<bool>,
    /// How it was decided (the managed policy, or which actions are missing).
    pub detail: String,
}

/// The instance profile of the EC2 instance `asset`, its role and whether
/// the role grants what the SSM Agent needs; `None` without a profile.
pub(crate) fn profile_ssm(inv: &Inventory, asset: AssetRef<'_>) -> Option<ProfileSsm> {
    let profile = asset
        .properties
        .pointer("/iamInstanceProfile/arn")
        .and_then(Node::as_str)?
        .to_owned();
    let index = inv.memo("servers:roles_by_profile", |inv| {
        let mut index: HashMap<String, String> = HashMap::new();
        for role in inv.of_type("AWS::IAM::Role") {
            let Some(list) = role
                .properties
                .get("instanceProfileList")
                .and_then(Node::as_array)
            else {
                continue;
            };
            for p in list.iter() {
                if let Some(arn) = p.get("arn").and_then(Node::as_str) {
                    index.insert(arn.to_owned(), role.arn.to_owned());
                }
            }
        }
        index
    });
    let Some(role) = index.get(&profile).and_then(|arn| inv.by_arn(arn)) else {
        return Some(ProfileSsm {
            profile,
            role: None,
            allows: None,
            detail: "the instance profile's role is not in the snapshot (IAM not scanned, or the profile has no role)".to_owned(),
        });
    };
    let (allows, detail) = role_allows_ssm(inv, role);
    Some(ProfileSsm {
        profile,
        role: Some(role.arn.to_owned()),
        allows,
        detail,
    })
}

/// Whether a role grants the SSM Agent's actions: an AWS managed policy
/// made for it, or inline / customer-managed policies allowing every one of
/// [`SSM_AGENT_ACTIONS`].
fn role_allows_ssm(inv: &Inventory, role: AssetRef<'_>) -> (Option<bool>, String) {
    let attached = role
        .properties
        .get("attachedManagedPolicies")
        .and_then(Node::as_array);
    let mut documents: Vec<Node<'_>> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for p in attached.iter().flat_map(|a| a.iter()) {
        let arn = p
            .get("policyArn")
            .and_then(Node::as_str)
            .unwrap_or_default();
        if let Some(name) = SSM_MANAGED_POLICIES
            .iter()
            .find(|n| arn.ends_with(&format!(":policy/{n}")) || arn.ends_with(&format!("/{n}")))
        {
            return (Some(true), format!("the role has `{name}` attached"));
        }
        if arn.starts_with("arn:aws:iam::aws:") || arn.contains(":iam::aws:policy/") {
            // Other AWS managed policies: not the agent's.
            continue;
        }
        match inv
            .by_arn(arn)
            .and_then(|policy| policy.properties.get("defaultVersionDocument"))
            .filter(|d| !d.is_null())
        {
            Some(doc) => documents.push(doc),
            None => unknown.push(arn.to_owned()),
        }
    }
    let inline = role
        .properties
        .get("rolePolicyList")
        .and_then(Node::as_array);
    for p in inline.iter().flat_map(|a| a.iter()) {
        if let Some(doc) = p.get("policyDocument").filter(|d| !d.is_null()) {
            documents.push(doc);
        }
    }
    let missing: Vec<&str> = SSM_AGENT_ACTIONS
        .iter()
        .copied()
        .filter(|action| !documents.iter().any(|d| policy::allows_action(*d, action)))
        .collect();
    if missing.is_empty() {
        return (
            Some(true),
            "the role's own policies allow the SSM Agent's actions".to_owned(),
        );
    }
    if !unknown.is_empty() {
        return (
            None,
            format!(
                "the role's policies `{}` are not in the snapshot",
                unknown.join("`, `")
            ),
        );
    }
    (
        Some(false),
        format!(
            "the role allows neither `AmazonSSMManagedInstanceCore` nor `{}`",
            missing.join("`, `")
        ),
    )
}

fn text(node: Option<Node<'_>>) -> Option<String> {
    node.and_then(Node::as_str).map(str::to_owned)
}

/// Per EC2 instance of the snapshot, its Servers coverage, ordered by
/// account, region and instance id.
pub fn instance_coverage(inv: &Inventory) -> Vec<InstanceCoverage> {
    let mut out: Vec<InstanceCoverage> = inv
        .of_type(EC2_INSTANCE)
        .map(|asset| coverage_of(inv, asset))
        .collect();
    out.sort_by(|a, b| {
        (&a.account, &a.region, &a.instance_id).cmp(&(&b.account, &b.region, &b.instance_id))
    });
    out
}

/// [`instance_coverage`] over plain assets (e.g. a stored snapshot).
pub fn instance_coverage_of_assets(assets: &[Asset]) -> Vec<InstanceCoverage> {
    instance_coverage(&Inventory::new(assets))
}

/// One EC2 instance's Servers coverage (`asset` is its `AWS::EC2::Instance`).
pub fn coverage_of(inv: &Inventory, asset: AssetRef<'_>) -> InstanceCoverage {
    let p = asset.properties;
    let state = text(p.get("state"));
    let mut reasons = Vec::new();
    let profile = profile_ssm(inv, asset);
    let lookup = managed_instance(inv, asset);
    let mut c = InstanceCoverage {
        instance_id: text(p.get("instanceId")).unwrap_or_else(|| asset.name.to_owned()),
        arn: asset.arn.to_owned(),
        account: asset.account.to_owned(),
        region: asset.region.to_owned(),
        name: asset.name.to_owned(),
        state,
        managed: Managed::Unknown,
        ping_status: None,
        agent_version: None,
        agent_latest: None,
        platform_type: text(p.get("platform")),
        platform: text(p.get("platformDetails")),
        instance_profile: profile.as_ref().map(|x| x.profile.clone()),
        role: profile.as_ref().and_then(|x| x.role.clone()),
        profile_allows_ssm: profile.as_ref().and_then(|x| x.allows),
        patch_compliance: None,
        missing_patches: None,
        association_compliance: None,
        inventory_present: None,
        application_count: None,
        covered: false,
        reasons: Vec::new(),
    };
    match lookup {
        Lookup::Managed(m) => {
            let mp = m.properties;
            c.managed = Managed::Yes;
            c.ping_status = text(mp.get("pingStatus"));
            c.agent_version = text(mp.get("agentVersion"));
            c.agent_latest = mp.get("isLatestVersion").and_then(Node::as_bool);
            if let Some(t) = text(mp.get("platformType")) {
                c.platform_type = Some(t);
            }
            let platform = [
                text(mp.get("platformName")),
                text(mp.get("platformVersion")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            if !platform.is_empty() {
                c.platform = Some(platform);
            }
            c.patch_compliance = text(mp.pointer("/compliance/patch/status"));
            c.association_compliance = text(mp.pointer("/compliance/association/status"));
            c.missing_patches = mp
                .pointer("/patchState/missingCount")
                .and_then(Node::as_i64);
            if m.unavailable("inventory").is_none() {
                c.inventory_present = mp.pointer("/inventory/present").and_then(Node::as_bool);
                c.application_count = mp
                    .pointer("/inventory/applicationCount")
                    .and_then(Node::as_i64);
            }
            if c.ping_status.as_deref() != Some("Online") {
                reasons.push(CoverageReason::new(
                    "agent-not-online",
                    format!(
                        "the SSM Agent is {}",
                        c.ping_status.as_deref().unwrap_or("not reporting")
                    ),
                ));
            }
            match c.inventory_present {
                Some(true) => {}
                Some(false) => reasons.push(CoverageReason::new(
                    "no-inventory",
                    "Systems Manager holds no software inventory for the instance (no inventory association, or it has not run)",
                )),
                None => reasons.push(CoverageReason::new(
                    "inventory-unknown",
                    m.unavailable("inventory")
                        .map_or("the instance's software inventory was not read".to_owned(), |e| {
                            format!("the instance's software inventory could not be read: {e}")
                        }),
                )),
            }
        }
        Lookup::NotManaged => {
            c.managed = Managed::No;
            match &profile {
                None => reasons.push(CoverageReason::new(
                    "no-instance-profile",
                    "the instance has no instance profile, so the SSM Agent cannot register (unless Default Host Management Configuration is on)",
                )),
                Some(x) if x.allows == Some(false) => reasons.push(CoverageReason::new(
                    "profile-lacks-ssm",
                    format!("the instance profile does not allow SSM: {}", x.detail),
                )),
                Some(_) => {}
            }
            reasons.push(CoverageReason::new(
                "not-managed",
                "Systems Manager does not list the instance: the SSM Agent is not installed, not running, or cannot reach Systems Manager",
            ));
        }
        Lookup::Unknown(why) => {
            reasons.push(CoverageReason::new("ssm-unknown", why));
        }
    }
    c.covered = reasons.is_empty();
    c.reasons = reasons;
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ec2(id: &str, profile: Option<&str>) -> Asset {
        Asset::new(
            format!("arn:aws:ec2:us-east-1:123456789012:instance/{id}"),
            EC2_INSTANCE,
            "123456789012",
            "us-east-1",
            id,
            json!({
                "instanceId": id,
                "state": "running",
                "platformDetails": "Linux/UNIX",
                "iamInstanceProfile": profile.map(|arn| json!({"arn": arn, "id": "AIPA0"})),
            }),
        )
    }

    fn role(name: &str, profile: &str, attached: &[&str], inline: serde_json::Value) -> Asset {
        Asset::new(
            format!("arn:aws:iam::123456789012:role/{name}"),
            "AWS::IAM::Role",
            "123456789012",
            "us-east-1",
            name,
            json!({
                "roleName": name,
                "attachedManagedPolicies": attached.iter().map(|a| json!({"policyArn": a, "policyName": a.rsplit('/').next()})).collect::<Vec<_>>(),
                "rolePolicyList": inline,
                "instanceProfileList": [{"arn": profile, "instanceProfileName": name}],
            }),
        )
    }

    fn managed(id: &str, ping: &str, inventory: serde_json::Value) -> Asset {
        Asset::new(
            format!("arn:rampart:ssm:us-east-1:123456789012:managed-instance/{id}"),
            SSM_MANAGED_INSTANCE,
            "123456789012",
            "us-east-1",
            id,
            json!({
                "instanceId": id,
                "resourceArn": format!("arn:aws:ec2:us-east-1:123456789012:instance/{id}"),
                "pingStatus": ping,
                "agentVersion": "3.3.0.0",
                "isLatestVersion": false,
                "platformType": "Linux",
                "platformName": "Amazon Linux",
                "platformVersion": "2023",
                "compliance": {"patch": {"status": "NON_COMPLIANT"}, "association": {"status": "COMPLIANT"}},
                "patchState": {"missingCount": 4},
                "inventory": inventory,
            }),
        )
    }

    fn region(read: bool) -> Asset {
        Asset::new(
            "arn:rampart:ssm:us-east-1:123456789012:region-status",
            SSM_REGION,
            "123456789012",
            "us-east-1",
            "us-east-1",
            json!({"instanceInformationRead": read, "managedInstanceCount": 1}),
        )
    }

    const CORE: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

    #[test]
    fn covered_uncovered_and_unknown() {
        let assets = vec![
            ec2(
                "i-0a",
                Some("arn:aws:iam::123456789012:instance-profile/ssm"),
            ),
            ec2("i-0b", None),
            ec2(
                "i-0c",
                Some("arn:aws:iam::123456789012:instance-profile/web"),
            ),
            ec2(
                "i-0d",
                Some("arn:aws:iam::123456789012:instance-profile/ssm"),
            ),
            role(
                "ssm",
                "arn:aws:iam::123456789012:instance-profile/ssm",
                &[CORE],
                json!([]),
            ),
            role(
                "web",
                "arn:aws:iam::123456789012:instance-profile/web",
                &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                json!([{"policyName": "s3", "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}]),
            ),
            managed(
                "i-0a",
                "Online",
                json!({"present": true, "applicationCount": 412}),
            ),
            managed(
                "i-0d",
                "ConnectionLost",
                json!({"present": false, "applicationCount": 0}),
            ),
            region(true),
        ];
        let c = instance_coverage_of_assets(&assets);
        assert_eq!(c.len(), 4);
        let a = &c[0];
        assert_eq!(a.instance_id, "i-0a");
        assert_eq!(a.managed, Managed::Yes);
        assert!(a.covered, "{:?}", a.reasons);
        assert_eq!(a.profile_allows_ssm, Some(true));
        assert_eq!(
            a.role.as_deref(),
            Some("arn:aws:iam::123456789012:role/ssm")
        );
        assert_eq!(a.patch_compliance.as_deref(), Some("NON_COMPLIANT"));
        assert_eq!(a.association_compliance.as_deref(), Some("COMPLIANT"));
        assert_eq!(a.missing_patches, Some(4));
        assert_eq!(a.application_count, Some(412));
        assert_eq!(a.platform.as_deref(), Some("Amazon Linux 2023"));

        let b = &c[1];
        assert_eq!(b.managed, Managed::No);
        let codes: Vec<&str> = b.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["no-instance-profile", "not-managed"]);

        let cc = &c[2];
        assert_eq!(cc.profile_allows_ssm, Some(false));
        assert_eq!(cc.reasons[0].code, "profile-lacks-ssm");

        let d = &c[3];
        let codes: Vec<&str> = d.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["agent-not-online", "no-inventory"]);

        // The region's list could not be read: unknown, never "not managed".
        let mut unread = assets.clone();
        unread.retain(|a| a.resource_type != SSM_MANAGED_INSTANCE);
        unread.pop();
        unread.push(region(false));
        let c = instance_coverage_of_assets(&unread);
        assert!(
            c.iter()
                .all(|x| x.managed == Managed::Unknown && !x.covered)
        );
        assert_eq!(c[0].reasons[0].code, "ssm-unknown");

        let json = serde_json::to_value(&instance_coverage_of_assets(&assets)[0]).unwrap();
        assert_eq!(json["managed"], "yes");
        assert_eq!(json["instanceId"], "i-0a");
    }

    #[test]
    fn inline_and_customer_policies_can_allow_ssm() {
        let inline = json!([{"policyName": "agent", "policyDocument": {"Statement": [
            {"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation", "ssmmessages:*", "ec2messages:*"], "Resource": "*"}
        ]}}]);
        let partial = json!([{"policyName": "agent", "policyDocument": {"Statement": [
            {"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation"], "Resource": "*"}
        ]}}]);
        let customer = "arn:aws:iam::123456789012:policy/agent";
        let policy = Asset::new(
            customer,
            "AWS::IAM::ManagedPolicy",
            "123456789012",
            "us-east-1",
            "agent",
            json!({"defaultVersionDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["ssm:*", "ssmmessages:*", "ec2messages:*"], "Resource": "*"}
            ]}}),
        );
        let p = "arn:aws:iam::123456789012:instance-profile/x";
        for (role, expected) in [
            (role("x", p, &[], inline), Some(true)),
            (role("x", p, &[], partial.clone()), Some(false)),
            (role("x", p, &[customer], json!([])), Some(true)),
        ] {
            let mut assets = vec![ec2("i-0a", Some(p)), role, region(true)];
            if expected == Some(true) {
                assets.push(policy.clone());
            }
            let c = instance_coverage_of_assets(&assets);
            assert_eq!(c[0].profile_allows_ssm, expected);
        }
        // A customer policy missing from the snapshot: unknown.
        let assets = vec![
            ec2("i-0a", Some(p)),
            role("x", p, &[customer], partial),
            region(true),
        ];
        assert_eq!(
            instance_coverage_of_assets(&assets)[0].profile_allows_ssm,
            None
        );
    }
}
