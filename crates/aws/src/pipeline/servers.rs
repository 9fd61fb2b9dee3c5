//! The Servers plan's SSM provisioning (Defender's
//! `arcAutoProvisioning`), per account, for the EC2 instances in the
//! plan's scope (every instance, or those carrying one of the scope tags):
//!
//! * an IAM role `RampartSsmInstanceRole` (trusted by `ec2.amazonaws.com`,
//!   `AmazonSSMManagedInstanceCore` attached) and instance profile
//!   `RampartSsmInstanceProfile`, created once per account;
//! * the profile associated with every instance in scope that has none
//!   (and is not already managed by SSM);
//! * for an instance whose own profile lacks the SSM core policy: the
//!   policy attached to that profile's role, only when the offering allows
//!   it (`isPolicyAttachAllowed`); else the instance is reported;
//! * State Manager associations `AWS-GatherSoftwareInventory` (every
//!   [`INVENTORY_SCHEDULE`]) and `AWS-RunPatchBaseline` with
//!   `Operation=Scan` (every [`PATCH_SCAN_SCHEDULE`]) per region, targeting
//!   the scope;
//! * tags `AccountId`, `Cloud=AWS`, `InstanceId` and
//!   `RampartSecurityConnector=<connector name>` on every instance Rampart
//!   covers.
//!
//! Every call runs as the plan's `arcAutoProvisioning` role (the
//! [`AwsAccess`] the caller built for it). [`plan`] reads and changes
//! nothing; [`apply`] carries out the steps that are not `none`;
//! [`plan_removal`] / [`remove`] undo what Rampart did: only resources
//! tagged with the connector, only profile associations of Rampart's own
//! profile. A resource with Rampart's name but not the connector's tag is
//! left alone and reported.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, IamInstanceProfileSpecification};
use aws_sdk_ssm::types::{AssociationFilter, AssociationFilterKey, ResourceTypeForTagging, Target};
use serde::Serialize;
use serde_json::json;

pub use super::{Action, Outcome};
use super::{CONNECTOR_TAG, PipelineError, Read, call, code_is, partition, slug};
use crate::access::AwsAccess;
use crate::collectors::Operation;
use crate::op;

/// The IAM role Rampart gives instances without a profile.
pub const INSTANCE_ROLE: &str = "RampartSsmInstanceRole";
/// The instance profile holding [`INSTANCE_ROLE`].
pub const INSTANCE_PROFILE: &str = "RampartSsmInstanceProfile";
/// The AWS managed policy that lets the SSM agent register.
pub const SSM_CORE_POLICY: &str = "AmazonSSMManagedInstanceCore";
/// Other AWS managed policies that let the agent register: the older one,
/// and Default Host Management's.
const OTHER_SSM_POLICIES: [&str; 2] = [
    "AmazonEC2RoleforSSM",
    "AmazonSSMManagedEC2InstanceDefaultPolicy",
];
/// The inventory document.
pub const INVENTORY_DOCUMENT: &str = "AWS-GatherSoftwareInventory";
/// The patch document, run with `Operation=Scan` (never installs).
pub const PATCH_DOCUMENT: &str = "AWS-RunPatchBaseline";
/// How often the software inventory is gathered.
pub const INVENTORY_SCHEDULE: &str = "rate(12 hours)";
/// How often instances are scanned for missing patches.
pub const PATCH_SCAN_SCHEDULE: &str = "rate(1 day)";
/// Tag key: the instance's account.
pub const ACCOUNT_ID_TAG: &str = "AccountId";
/// Tag key: the cloud (`AWS`).
pub const CLOUD_TAG: &str = "Cloud";
/// Tag key: the instance's id.
pub const INSTANCE_ID_TAG: &str = "InstanceId";
/// The instance states provisioning considers (terminated ones are gone).
const LIVE_STATES: [&str; 4] = ["pending", "running", "stopping", "stopped"];

/// Every API operation provisioning and removal may call, with its IAM
/// action: the onboarding templates grant the `arcAutoProvisioning` role
/// exactly these (scoped), and the tests check no other call is made.
/// `iam:PassRole` (for `AssociateIamInstanceProfile`) and the tagging
/// actions checked when a role, profile or association is created with
/// tags are granted beside them.
pub const OPERATIONS: &[Operation] = &[
    op!("iam", "GetRole"),
    op!("iam", "ListRoleTags"),
    op!("iam", "CreateRole"),
    op!("iam", "DeleteRole"),
    op!("iam", "TagRole"),
    op!("iam", "UntagRole"),
    op!("iam", "ListAttachedRolePolicies"),
    op!("iam", "AttachRolePolicy"),
    op!("iam", "DetachRolePolicy"),
    op!("iam", "GetInstanceProfile"),
    op!("iam", "CreateInstanceProfile"),
    op!("iam", "DeleteInstanceProfile"),
    op!("iam", "AddRoleToInstanceProfile"),
    op!("iam", "RemoveRoleFromInstanceProfile"),
    op!("ec2", "DescribeInstances"),
    op!("ec2", "DescribeIamInstanceProfileAssociations"),
    op!("ec2", "AssociateIamInstanceProfile"),
    op!("ec2", "DisassociateIamInstanceProfile"),
    op!("ec2", "CreateTags"),
    op!("ec2", "DeleteTags"),
    op!("ssm", "DescribeInstanceInformation"),
    op!("ssm", "ListAssociations"),
    op!("ssm", "DescribeAssociation"),
    op!("ssm", "ListTagsForResource"),
    op!("ssm", "CreateAssociation"),
    op!("ssm", "UpdateAssociation"),
    op!("ssm", "DeleteAssociation"),
];

/// What to provision in one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServersProvisioning {
    /// The account id (12 digits).
    pub account: String,
    /// The regions whose instances are covered.
    pub regions: Vec<String>,
    /// The connector's name: the value of the `RampartSecurityConnector`
    /// tag on everything Rampart manages.
    pub connector_name: String,
    /// `scopeByTags`: only instances carrying one of these tags; empty:
    /// every instance.
    pub scope_by_tags: BTreeMap<String, String>,
    /// `isPolicyAttachAllowed`: attach the SSM core policy to the role of
    /// an instance's own profile when it lacks it.
    pub policy_attach_allowed: bool,
}

impl ServersProvisioning {
    fn validate(&self) -> Result<(), PipelineError> {
        let invalid = |m: String| Err(PipelineError::Invalid(m));
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return invalid(format!("account `{}` is not 12 digits", self.account));
        }
        for region in &self.regions {
            crate::access::validate_region_syntax(region)
                .map_err(|e| PipelineError::Invalid(e.to_string()))?;
        }
        if self.connector_name.trim().is_empty() || self.connector_name.len() > 256 {
            return invalid(format!(
                "connector name `{}` is empty or too long for a tag value",
                self.connector_name
            ));
        }
        Ok(())
    }

    /// The partition of the account's regions.
    fn partition(&self) -> &'static str {
        partition(self.regions.first().map_or("us-east-1", String::as_str))
    }

    /// The ARN of the SSM core policy in the account's partition.
    pub fn core_policy_arn(&self) -> String {
        format!("arn:{}:iam::aws:policy/{SSM_CORE_POLICY}", self.partition())
    }

    /// The State Manager association names (inventory, patch scan).
    pub fn association_names(&self) -> (String, String) {
        let base = format!("Rampart-{}", slug(&self.connector_name, 64));
        (
            format!("{base}-software-inventory"),
            format!("{base}-patch-scan"),
        )
    }

    /// Whether an instance with these tags is in scope.
    pub fn in_scope(&self, tags: &BTreeMap<String, String>) -> bool {
        self.scope_by_tags.is_empty()
            || self
                .scope_by_tags
                .iter()
                .any(|(k, v)| tags.get(k).is_some_and(|have| have == v))
    }

    /// What the associations target: every managed instance when the scope
    /// is the whole account, else the instances Rampart tagged (those in
    /// scope when it last ran).
    pub fn target(&self) -> (String, Vec<String>) {
        if self.scope_by_tags.is_empty() {
            ("InstanceIds".to_owned(), vec!["*".to_owned()])
        } else {
            (
                format!("tag:{CONNECTOR_TAG}"),
                vec![self.connector_name.clone()],
            )
        }
    }

    /// The tags Rampart puts on an instance it covers.
    pub fn instance_tags(&self, instance: &str) -> Vec<(&'static str, String)> {
        vec![
            (ACCOUNT_ID_TAG, self.account.clone()),
            (CLOUD_TAG, "AWS".to_owned()),
            (INSTANCE_ID_TAG, instance.to_owned()),
            (CONNECTOR_TAG, self.connector_name.clone()),
        ]
    }
}

/// One thing provisioning manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// The `RampartSsmInstanceRole` IAM role.
    InstanceRole,
    /// `AmazonSSMManagedInstanceCore` on that role.
    InstanceRolePolicy,
    /// The `RampartSsmInstanceProfile` instance profile.
    InstanceProfile,
    /// A region's instances, read (how many are in scope).
    Instances,
    /// Rampart's profile associated with an instance.
    ProfileAssociation,
    /// The SSM core policy on the role of an instance's own profile.
    ExistingRolePolicy,
    /// Rampart's tags on an instance.
    InstanceTags,
    /// The software-inventory association of a region.
    InventoryAssociation,
    /// The patch-scan association of a region.
    PatchScanAssociation,
}

impl Resource {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InstanceRole => "instance-role",
            Self::InstanceRolePolicy => "instance-role-policy",
            Self::InstanceProfile => "instance-profile",
            Self::Instances => "instances",
            Self::ProfileAssociation => "profile-association",
            Self::ExistingRolePolicy => "existing-role-policy",
            Self::InstanceTags => "instance-tags",
            Self::InventoryAssociation => "inventory-association",
            Self::PatchScanAssociation => "patch-scan-association",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The region of account-wide (IAM) steps.
pub const GLOBAL: &str = "global";

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What it manages.
    pub resource: Resource,
    /// The region ([`GLOBAL`] for IAM).
    pub region: String,
    /// The resource's name (an instance id for per-instance steps).
    pub name: String,
    /// What to do.
    pub action: Action,
    /// Why, in a few words.
    pub reason: String,
    /// Reading the current state failed, the resource is not ours, or the
    /// offering does not allow the change: the step cannot be carried out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<PipelineError>,
}

/// The steps for one account, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The account.
    pub account: String,
    /// How many instances each region has in and out of scope (regions
    /// whose instances could not be read are left out).
    pub scope: Vec<RegionScope>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// A region's instances, by scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionScope {
    /// The region.
    pub region: String,
    /// Instances in scope.
    pub in_scope: usize,
    /// Instances out of scope.
    pub out_of_scope: usize,
}

/// How far provisioning covers the instances in scope, from a [`Plan`]
/// (for `connector status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Instances in scope.
    pub in_scope: usize,
    /// Instances out of scope.
    pub out_of_scope: usize,
    /// Instances in scope whose SSM access and tags are in place.
    pub covered: usize,
    /// Instances in scope that provisioning would change (not yet covered),
    /// with what it would do.
    pub pending: Vec<(String, String)>,
    /// Instances in scope provisioning cannot cover, with why.
    pub not_covered: Vec<(String, String)>,
    /// Associations or IAM resources that are not as they should be, with
    /// why.
    pub problems: Vec<(String, String)>,
    /// What could not be read (a failed call), with why: neither covered
    /// nor not.
    pub unreadable: Vec<(String, String)>,
}

/// What a plan says about coverage: per instance in scope, covered,
/// pending (the next provisioning changes it) or not covered (why).
pub fn coverage(plan: &Plan) -> Coverage {
    let mut out = Coverage {
        in_scope: plan.scope.iter().map(|r| r.in_scope).sum(),
        out_of_scope: plan.scope.iter().map(|r| r.out_of_scope).sum(),
        ..Coverage::default()
    };
    let mut instances = BTreeMap::<(&str, &str), Vec<&Step>>::new();
    for s in &plan.steps {
        match s.resource {
            Resource::ProfileAssociation
            | Resource::ExistingRolePolicy
            | Resource::InstanceTags
                if s.action != Action::Delete =>
            {
                instances
                    .entry((s.region.as_str(), s.name.as_str()))
                    .or_default()
                    .push(s);
            }
            Resource::ProfileAssociation | Resource::InstanceTags => {}
            _ => {
                let what = format!("{} `{}` ({})", s.resource, s.name, s.region);
                if let Some(e @ PipelineError::Call { .. }) = &s.error {
                    out.unreadable.push((what, e.to_string()));
                } else if let Some(e) = &s.error {
                    out.problems.push((what, e.to_string()));
                } else if s.action != Action::None {
                    out.problems.push((
                        what,
                        format!("to {}: {}", super::action_word(s.action), s.reason),
                    ));
                }
            }
        }
    }
    for ((_, id), steps) in instances {
        if let Some(e) = steps.iter().find_map(|s| s.error.as_ref()) {
            let list = if matches!(e, PipelineError::Call { .. }) {
                &mut out.unreadable
            } else {
                &mut out.not_covered
            };
            list.push((id.to_owned(), e.to_string()));
        } else if let Some(s) = steps.iter().find(|s| s.action != Action::None) {
            out.pending.push((id.to_owned(), s.reason.clone()));
        } else {
            out.covered += 1;
        }
    }
    out
}

impl Plan {
    /// Whether nothing needs to change and every read succeeded.
    pub fn is_converged(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.action == Action::None && s.error.is_none())
    }
}

/// A step and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// The planned step.
    #[serde(flatten)]
    pub step: Step,
    /// How it went.
    pub outcome: Outcome,
}

/// What [`apply`] or [`remove`] did for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The account.
    pub account: String,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
}

impl ApplyReport {
    /// Whether every step succeeded (or had nothing to do).
    pub fn succeeded(&self) -> bool {
        self.steps
            .iter()
            .all(|s| !matches!(s.outcome, Outcome::Failed { .. }))
    }

    /// The failed steps.
    pub fn failures(&self) -> impl Iterator<Item = &StepReport> {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
    }
}

/// How [`apply`] waits for a new instance profile to be usable (IAM is
/// eventually consistent: EC2 may not know a profile created a moment ago).
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// How long to keep retrying an association with a new profile.
    pub profile_timeout: Duration,
    /// Pause between tries.
    pub profile_poll: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            profile_timeout: Duration::from_secs(60),
            profile_poll: Duration::from_secs(5),
        }
    }
}

/// The SDK clients provisioning needs, all from the same access (the
/// `arcAutoProvisioning` role).
#[derive(Debug, Clone)]
pub struct Clients {
    access: AwsAccess,
    /// IAM (global).
    pub iam: aws_sdk_iam::Client,
}

impl Clients {
    /// The clients of `access`.
    pub fn new(access: &AwsAccess) -> Self {
        Self {
            iam: access.iam(access.home_region()),
            access: access.clone(),
        }
    }

    fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        self.access.ec2(region)
    }

    fn ssm(&self, region: &str) -> aws_sdk_ssm::Client {
        self.access.ssm(region)
    }
}

// ---------------------------------------------------------------- state

#[derive(Debug, Clone)]
struct RoleState {
    owner: Option<String>,
    has_core_policy: Read<bool>,
}

#[derive(Debug, Clone)]
struct ProfileState {
    owner: Option<String>,
    roles: Vec<String>,
}

/// An instance's own profile, as its roles show it.
#[derive(Debug, Clone)]
struct ForeignProfile {
    roles: Vec<String>,
    /// Whether any of its roles has the SSM core (or legacy) policy.
    has_ssm: bool,
    /// Its roles Rampart attached the policy to (tagged with the connector).
    attached_by_us: Vec<String>,
}

#[derive(Debug, Clone)]
struct Instance {
    id: String,
    tags: BTreeMap<String, String>,
    /// The instance profile's name, if any.
    profile: Option<String>,
    /// The profile association's id, if any.
    association: Option<String>,
}

#[derive(Debug, Clone)]
struct AssociationState {
    id: String,
    owner: Option<String>,
    document: String,
    parameters: BTreeMap<String, Vec<String>>,
    schedule: Option<String>,
    targets: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone)]
struct RegionState {
    region: String,
    instances: Read<Vec<Instance>>,
    managed: Read<BTreeSet<String>>,
    inventory: Read<AssociationState>,
    patch_scan: Read<AssociationState>,
}

#[derive(Debug, Clone)]
struct Observed {
    role: Read<RoleState>,
    profile: Read<ProfileState>,
    foreign: BTreeMap<String, Read<ForeignProfile>>,
    regions: Vec<RegionState>,
}

fn tag_value<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a String> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

async fn role_tags(
    iam: &aws_sdk_iam::Client,
    role: &str,
) -> Result<Vec<(String, String)>, PipelineError> {
    let out = iam
        .list_role_tags()
        .role_name(role)
        .send()
        .await
        .map_err(|e| PipelineError::call("ListRoleTags", &e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}

async fn has_ssm_policy(iam: &aws_sdk_iam::Client, role: &str) -> Result<bool, PipelineError> {
    let out = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| PipelineError::call("ListAttachedRolePolicies", &e))?;
    Ok(out.attached_policies().iter().any(|p| {
        p.policy_name()
            .is_some_and(|n| n == SSM_CORE_POLICY || OTHER_SSM_POLICIES.contains(&n))
    }))
}

async fn observe_role(iam: &aws_sdk_iam::Client) -> Read<RoleState> {
    match iam.get_role().role_name(INSTANCE_ROLE).send().await {
        Ok(_) => {}
        Err(err) if code_is(&err, &["NoSuchEntity"]) => return Read::Missing,
        Err(err) => return Read::Failed(PipelineError::call("GetRole", &err)),
    }
    let owner = match role_tags(iam, INSTANCE_ROLE).await {
        Ok(tags) => tag_value(&tags, CONNECTOR_TAG).cloned(),
        Err(e) => return Read::Failed(e),
    };
    let has_core_policy = match has_ssm_policy(iam, INSTANCE_ROLE).await {
        Ok(has) => Read::Found(has),
        Err(e) => Read::Failed(e),
    };
    Read::Found(RoleState {
        owner,
        has_core_policy,
    })
}

async fn profile_roles(
    iam: &aws_sdk_iam::Client,
    profile: &str,
) -> Result<Option<Vec<String>>, PipelineError> {
    match iam
        .get_instance_profile()
        .instance_profile_name(profile)
        .send()
        .await
    {
        Ok(out) => Ok(Some(
            out.instance_profile()
                .map(|p| p.roles().iter().map(|r| r.role_name().to_owned()).collect())
                .unwrap_or_default(),
        )),
        Err(err) if code_is(&err, &["NoSuchEntity"]) => Ok(None),
        Err(err) => Err(PipelineError::call("GetInstanceProfile", &err)),
    }
}

async fn observe_profile(iam: &aws_sdk_iam::Client) -> Read<ProfileState> {
    // GetInstanceProfile returns the profile's tags with it.
    match iam
        .get_instance_profile()
        .instance_profile_name(INSTANCE_PROFILE)
        .send()
        .await
    {
        Ok(out) => {
            let profile = out.instance_profile();
            Read::Found(ProfileState {
                owner: profile
                    .and_then(|p| p.tags().iter().find(|t| t.key() == CONNECTOR_TAG))
                    .map(|t| t.value().to_owned()),
                roles: profile
                    .map(|p| p.roles().iter().map(|r| r.role_name().to_owned()).collect())
                    .unwrap_or_default(),
            })
        }
        Err(err) if code_is(&err, &["NoSuchEntity"]) => Read::Missing,
        Err(err) => Read::Failed(PipelineError::call("GetInstanceProfile", &err)),
    }
}

async fn observe_foreign(
    iam: &aws_sdk_iam::Client,
    profile: &str,
    connector: &str,
) -> Read<ForeignProfile> {
    let roles = match profile_roles(iam, profile).await {
        Ok(Some(roles)) => roles,
        Ok(None) => return Read::Missing,
        Err(e) => return Read::Failed(e),
    };
    let mut has_ssm = false;
    let mut attached_by_us = Vec::new();
    for role in &roles {
        match has_ssm_policy(iam, role).await {
            Ok(has) => has_ssm |= has,
            Err(e) => return Read::Failed(e),
        }
        match role_tags(iam, role).await {
            Ok(tags) if tag_value(&tags, CONNECTOR_TAG).is_some_and(|v| v == connector) => {
                attached_by_us.push(role.clone());
            }
            Ok(_) => {}
            Err(e) => return Read::Failed(e),
        }
    }
    Read::Found(ForeignProfile {
        roles,
        has_ssm,
        attached_by_us,
    })
}

/// The profile name in an instance profile ARN (`…:instance-profile/path/name`).
fn profile_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

async fn observe_instances(ec2: &aws_sdk_ec2::Client) -> Result<Vec<Instance>, PipelineError> {
    let mut instances = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = ec2
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .set_values(Some(LIVE_STATES.iter().map(|s| (*s).to_owned()).collect()))
                    .build(),
            )
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| PipelineError::call("DescribeInstances", &e))?;
        for reservation in out.reservations() {
            for i in reservation.instances() {
                let Some(id) = i.instance_id() else { continue };
                instances.push(Instance {
                    id: id.to_owned(),
                    tags: i
                        .tags()
                        .iter()
                        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                        .collect(),
                    profile: i
                        .iam_instance_profile()
                        .and_then(|p| p.arn())
                        .map(profile_name),
                    association: None,
                });
            }
        }
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => break,
        }
    }
    if instances.iter().any(|i| i.profile.is_some()) {
        let mut token: Option<String> = None;
        loop {
            let out = ec2
                .describe_iam_instance_profile_associations()
                .filters(Filter::builder().name("state").values("associated").build())
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| PipelineError::call("DescribeIamInstanceProfileAssociations", &e))?;
            for a in out.iam_instance_profile_associations() {
                if let Some(instance) = instances
                    .iter_mut()
                    .find(|i| Some(i.id.as_str()) == a.instance_id())
                {
                    instance.association = a.association_id().map(str::to_owned);
                }
            }
            match out.next_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
    }
    instances.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(instances)
}

async fn observe_managed(ssm: &aws_sdk_ssm::Client) -> Result<BTreeSet<String>, PipelineError> {
    let mut ids = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let out = ssm
            .describe_instance_information()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| PipelineError::call("DescribeInstanceInformation", &e))?;
        ids.extend(
            out.instance_information_list()
                .iter()
                .filter_map(|i| i.instance_id())
                .map(str::to_owned),
        );
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(ids),
        }
    }
}

async fn observe_association(ssm: &aws_sdk_ssm::Client, name: &str) -> Read<AssociationState> {
    let filter = match AssociationFilter::builder()
        .key(AssociationFilterKey::AssociationName)
        .value(name)
        .build()
    {
        Ok(f) => f,
        Err(e) => return Read::Failed(PipelineError::Invalid(e.to_string())),
    };
    let listed = match ssm
        .list_associations()
        .association_filter_list(filter)
        .send()
        .await
    {
        Ok(out) => out,
        Err(err) => return Read::Failed(PipelineError::call("ListAssociations", &err)),
    };
    let Some(id) = listed
        .associations()
        .iter()
        .find(|a| a.association_name() == Some(name))
        .and_then(|a| a.association_id())
        .map(str::to_owned)
    else {
        return Read::Missing;
    };
    let described = match ssm.describe_association().association_id(&id).send().await {
        Ok(out) => out,
        Err(err) if code_is(&err, &["AssociationDoesNotExist"]) => return Read::Missing,
        Err(err) => return Read::Failed(PipelineError::call("DescribeAssociation", &err)),
    };
    let Some(d) = described.association_description() else {
        return Read::Missing;
    };
    let owner = match ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Association)
        .resource_id(&id)
        .send()
        .await
    {
        Ok(out) => out
            .tag_list()
            .iter()
            .find(|t| t.key() == CONNECTOR_TAG)
            .map(|t| t.value().to_owned()),
        Err(err) => return Read::Failed(PipelineError::call("ListTagsForResource", &err)),
    };
    Read::Found(AssociationState {
        id,
        owner,
        document: d.name().unwrap_or_default().to_owned(),
        parameters: d
            .parameters()
            .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        schedule: d.schedule_expression().map(str::to_owned),
        targets: d
            .targets()
            .iter()
            .map(|t| (t.key().unwrap_or_default().to_owned(), t.values().to_vec()))
            .collect(),
    })
}

async fn observe(clients: &Clients, input: &ServersProvisioning) -> Observed {
    let role = observe_role(&clients.iam).await;
    let profile = observe_profile(&clients.iam).await;
    let (inventory_name, patch_name) = input.association_names();
    let mut regions = Vec::new();
    for region in &input.regions {
        let ec2 = clients.ec2(region);
        let ssm = clients.ssm(region);
        let instances = match observe_instances(&ec2).await {
            Ok(list) => Read::Found(list),
            Err(e) => Read::Failed(e),
        };
        let managed = match observe_managed(&ssm).await {
            Ok(ids) => Read::Found(ids),
            Err(e) => Read::Failed(e),
        };
        regions.push(RegionState {
            region: region.clone(),
            instances,
            managed,
            inventory: observe_association(&ssm, &inventory_name).await,
            patch_scan: observe_association(&ssm, &patch_name).await,
        });
    }
    let mut foreign = BTreeMap::new();
    for region in &regions {
        if let Read::Found(instances) = &region.instances {
            for profile in instances.iter().filter_map(|i| i.profile.as_deref()) {
                if profile != INSTANCE_PROFILE && !foreign.contains_key(profile) {
                    let read = observe_foreign(&clients.iam, profile, &input.connector_name).await;
                    foreign.insert(profile.to_owned(), read);
                }
            }
        }
    }
    Observed {
        role,
        profile,
        foreign,
        regions,
    }
}

// ---------------------------------------------------------------- planning

fn step(
    resource: Resource,
    region: &str,
    name: &str,
    action: Action,
    reason: impl Into<String>,
) -> Step {
    Step {
        resource,
        region: region.to_owned(),
        name: name.to_owned(),
        action,
        reason: reason.into(),
        error: None,
    }
}

fn failed(resource: Resource, region: &str, name: &str, error: PipelineError) -> Step {
    Step {
        error: Some(error),
        ..step(
            resource,
            region,
            name,
            Action::None,
            "cannot read the current state",
        )
    }
}

fn not_owned(resource: Resource, region: &str, name: &str, connector: &str) -> Step {
    Step {
        error: Some(PipelineError::NotOwned {
            name: name.to_owned(),
            connector: connector.to_owned(),
        }),
        ..step(
            resource,
            region,
            name,
            Action::None,
            "exists without this connector's tag",
        )
    }
}

fn owned(owner: Option<&String>, input: &ServersProvisioning) -> bool {
    owner.is_some_and(|o| *o == input.connector_name)
}

fn account_steps(input: &ServersProvisioning, obs: &Observed) -> Vec<Step> {
    let connector = input.connector_name.as_str();
    let mut steps = Vec::new();
    match &obs.role {
        Read::Missing => {
            steps.push(step(
                Resource::InstanceRole,
                GLOBAL,
                INSTANCE_ROLE,
                Action::Create,
                "create, trusted by ec2.amazonaws.com, tagged with the connector",
            ));
            steps.push(step(
                Resource::InstanceRolePolicy,
                GLOBAL,
                INSTANCE_ROLE,
                Action::Create,
                format!("attach {SSM_CORE_POLICY}"),
            ));
        }
        Read::Failed(e) => steps.push(failed(
            Resource::InstanceRole,
            GLOBAL,
            INSTANCE_ROLE,
            e.clone(),
        )),
        Read::Found(r) if !owned(r.owner.as_ref(), input) => {
            steps.push(not_owned(
                Resource::InstanceRole,
                GLOBAL,
                INSTANCE_ROLE,
                connector,
            ));
        }
        Read::Found(r) => {
            steps.push(step(
                Resource::InstanceRole,
                GLOBAL,
                INSTANCE_ROLE,
                Action::None,
                "exists, tagged with the connector",
            ));
            steps.push(match &r.has_core_policy {
                Read::Found(true) => step(
                    Resource::InstanceRolePolicy,
                    GLOBAL,
                    INSTANCE_ROLE,
                    Action::None,
                    format!("{SSM_CORE_POLICY} is attached"),
                ),
                Read::Failed(e) => failed(
                    Resource::InstanceRolePolicy,
                    GLOBAL,
                    INSTANCE_ROLE,
                    e.clone(),
                ),
                _ => step(
                    Resource::InstanceRolePolicy,
                    GLOBAL,
                    INSTANCE_ROLE,
                    Action::Update,
                    format!("attach {SSM_CORE_POLICY}"),
                ),
            });
        }
    }
    steps.push(match &obs.profile {
        Read::Missing => step(
            Resource::InstanceProfile,
            GLOBAL,
            INSTANCE_PROFILE,
            Action::Create,
            format!("create with {INSTANCE_ROLE}, tagged with the connector"),
        ),
        Read::Failed(e) => failed(
            Resource::InstanceProfile,
            GLOBAL,
            INSTANCE_PROFILE,
            e.clone(),
        ),
        Read::Found(p) if !owned(p.owner.as_ref(), input) => not_owned(
            Resource::InstanceProfile,
            GLOBAL,
            INSTANCE_PROFILE,
            connector,
        ),
        Read::Found(p) if p.roles.iter().any(|r| r == INSTANCE_ROLE) => step(
            Resource::InstanceProfile,
            GLOBAL,
            INSTANCE_PROFILE,
            Action::None,
            format!("holds {INSTANCE_ROLE}"),
        ),
        Read::Found(_) => step(
            Resource::InstanceProfile,
            GLOBAL,
            INSTANCE_PROFILE,
            Action::Update,
            format!("add {INSTANCE_ROLE}"),
        ),
    });
    steps
}

/// The tags of `instance` that differ from what Rampart puts there.
fn missing_tags(input: &ServersProvisioning, instance: &Instance) -> Vec<&'static str> {
    input
        .instance_tags(&instance.id)
        .into_iter()
        .filter(|(k, v)| instance.tags.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect()
}

fn tagged_by_us(input: &ServersProvisioning, instance: &Instance) -> bool {
    instance.tags.get(CONNECTOR_TAG) == Some(&input.connector_name)
}

/// The profile step of an instance in scope; `None` for the tags step
/// means the instance stays uncovered (it is not tagged).
fn instance_steps(
    input: &ServersProvisioning,
    obs: &Observed,
    region: &str,
    managed: &BTreeSet<String>,
    instance: &Instance,
) -> Vec<Step> {
    let id = instance.id.as_str();
    let profile_step = match instance.profile.as_deref() {
        Some(INSTANCE_PROFILE) => step(
            Resource::ProfileAssociation,
            region,
            id,
            Action::None,
            format!("has {INSTANCE_PROFILE}"),
        ),
        None if managed.contains(id) => step(
            Resource::ProfileAssociation,
            region,
            id,
            Action::None,
            "managed by SSM without an instance profile",
        ),
        None => step(
            Resource::ProfileAssociation,
            region,
            id,
            Action::Create,
            format!("associate {INSTANCE_PROFILE}"),
        ),
        Some(profile) => match obs.foreign.get(profile) {
            Some(Read::Found(f)) if f.has_ssm => step(
                Resource::ExistingRolePolicy,
                region,
                id,
                Action::None,
                format!("profile `{profile}` has the SSM core policy"),
            ),
            _ if managed.contains(id) => step(
                Resource::ExistingRolePolicy,
                region,
                id,
                Action::None,
                format!("managed by SSM with profile `{profile}`"),
            ),
            Some(Read::Found(f)) if !input.policy_attach_allowed => Step {
                error: Some(PipelineError::PolicyAttachNotAllowed {
                    instance: id.to_owned(),
                    profile: profile.to_owned(),
                }),
                ..step(
                    Resource::ExistingRolePolicy,
                    region,
                    id,
                    Action::None,
                    format!(
                        "profile `{profile}` (role {}) lacks {SSM_CORE_POLICY}",
                        f.roles.join(", ")
                    ),
                )
            },
            Some(Read::Found(f)) => match f.roles.first() {
                Some(role) => step(
                    Resource::ExistingRolePolicy,
                    region,
                    id,
                    Action::Update,
                    format!("attach {SSM_CORE_POLICY} to role `{role}` of profile `{profile}`"),
                ),
                None => Step {
                    error: Some(PipelineError::Invalid(format!(
                        "instance profile `{profile}` of `{id}` has no role"
                    ))),
                    ..step(
                        Resource::ExistingRolePolicy,
                        region,
                        id,
                        Action::None,
                        "the instance's profile has no role",
                    )
                },
            },
            Some(Read::Missing) => Step {
                error: Some(PipelineError::Invalid(format!(
                    "instance profile `{profile}` of `{id}` not found"
                ))),
                ..step(
                    Resource::ExistingRolePolicy,
                    region,
                    id,
                    Action::None,
                    "the instance's profile is gone",
                )
            },
            Some(Read::Failed(e)) => failed(Resource::ExistingRolePolicy, region, id, e.clone()),
            None => failed(
                Resource::ExistingRolePolicy,
                region,
                id,
                PipelineError::Blocked("GetInstanceProfile".to_owned()),
            ),
        },
    };
    let covered = profile_step.error.is_none();
    let mut steps = vec![profile_step];
    if covered {
        let missing = missing_tags(input, instance);
        steps.push(if missing.is_empty() {
            step(
                Resource::InstanceTags,
                region,
                id,
                Action::None,
                "tagged with the connector",
            )
        } else {
            step(
                Resource::InstanceTags,
                region,
                id,
                Action::Update,
                format!("tag {}", missing.join(", ")),
            )
        });
    }
    steps
}

fn association_step(
    input: &ServersProvisioning,
    resource: Resource,
    region: &str,
    name: &str,
    read: &Read<AssociationState>,
) -> Step {
    let (document, schedule, parameters) = association_spec(resource);
    match read {
        Read::Missing => step(
            resource,
            region,
            name,
            Action::Create,
            format!("create: {document}, {schedule}"),
        ),
        Read::Failed(e) => failed(resource, region, name, e.clone()),
        Read::Found(a) if !owned(a.owner.as_ref(), input) => {
            not_owned(resource, region, name, &input.connector_name)
        }
        Read::Found(a) => {
            let diffs = association_differences(input, resource, a);
            if diffs.is_empty() {
                step(
                    resource,
                    region,
                    name,
                    Action::None,
                    format!("{document}, {schedule}{}", params_text(&parameters)),
                )
            } else {
                step(
                    resource,
                    region,
                    name,
                    Action::Update,
                    format!("change {}", diffs.join(", ")),
                )
            }
        }
    }
}

fn params_text(parameters: &[(&str, &str)]) -> String {
    parameters
        .iter()
        .map(|(k, v)| format!(", {k}={v}"))
        .collect()
}

/// An association's document, schedule and parameters.
type Spec = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

/// The document, schedule and parameters of an association.
fn association_spec(resource: Resource) -> Spec {
    if resource == Resource::PatchScanAssociation {
        (
            PATCH_DOCUMENT,
            PATCH_SCAN_SCHEDULE,
            vec![("Operation", "Scan")],
        )
    } else {
        (INVENTORY_DOCUMENT, INVENTORY_SCHEDULE, vec![])
    }
}

fn association_differences(
    input: &ServersProvisioning,
    resource: Resource,
    a: &AssociationState,
) -> Vec<&'static str> {
    let (document, schedule, parameters) = association_spec(resource);
    let mut diffs = Vec::new();
    if a.document != document {
        diffs.push("document");
    }
    if a.schedule.as_deref() != Some(schedule) {
        diffs.push("schedule");
    }
    if parameters
        .iter()
        .any(|(k, v)| a.parameters.get(*k).map(Vec::as_slice) != Some(&[(*v).to_owned()][..]))
    {
        diffs.push("parameters");
    }
    if a.targets != [input.target()] {
        diffs.push("targets");
    }
    diffs
}

fn region_steps(input: &ServersProvisioning, obs: &Observed, region: &RegionState) -> Vec<Step> {
    let r = region.region.as_str();
    let mut steps = Vec::new();
    let empty = BTreeSet::new();
    let managed = match &region.managed {
        Read::Found(ids) => ids,
        _ => &empty,
    };
    match &region.instances {
        Read::Found(instances) => {
            let (in_scope, out): (Vec<&Instance>, Vec<&Instance>) =
                instances.iter().partition(|i| input.in_scope(&i.tags));
            let mut first = step(
                Resource::Instances,
                r,
                r,
                Action::None,
                format!("{} in scope, {} out of scope", in_scope.len(), out.len()),
            );
            if let Read::Failed(e) = &region.managed {
                first.error = Some(e.clone());
            }
            steps.push(first);
            for instance in in_scope {
                steps.extend(instance_steps(input, obs, r, managed, instance));
            }
            // Instances Rampart covered that left the scope: undone.
            for instance in out.into_iter().filter(|i| tagged_by_us(input, i)) {
                if instance.profile.as_deref() == Some(INSTANCE_PROFILE) {
                    steps.push(step(
                        Resource::ProfileAssociation,
                        r,
                        &instance.id,
                        Action::Delete,
                        format!("out of scope: disassociate {INSTANCE_PROFILE}"),
                    ));
                }
                steps.push(step(
                    Resource::InstanceTags,
                    r,
                    &instance.id,
                    Action::Delete,
                    "out of scope: remove Rampart's tags",
                ));
            }
        }
        Read::Missing => {}
        Read::Failed(e) => steps.push(failed(Resource::Instances, r, r, e.clone())),
    }
    let (inventory, patch) = input.association_names();
    steps.push(association_step(
        input,
        Resource::InventoryAssociation,
        r,
        &inventory,
        &region.inventory,
    ));
    steps.push(association_step(
        input,
        Resource::PatchScanAssociation,
        r,
        &patch,
        &region.patch_scan,
    ));
    steps
}

fn scope(input: &ServersProvisioning, obs: &Observed) -> Vec<RegionScope> {
    obs.regions
        .iter()
        .filter_map(|r| match &r.instances {
            Read::Found(list) => {
                let in_scope = list.iter().filter(|i| input.in_scope(&i.tags)).count();
                Some(RegionScope {
                    region: r.region.clone(),
                    in_scope,
                    out_of_scope: list.len().saturating_sub(in_scope),
                })
            }
            _ => None,
        })
        .collect()
}

fn plan_steps(input: &ServersProvisioning, obs: &Observed) -> Vec<Step> {
    let mut steps = account_steps(input, obs);
    for region in &obs.regions {
        steps.extend(region_steps(input, obs, region));
    }
    steps
}

/// Reads the account and returns what [`apply`] would do. Changes
/// nothing. `Err` only for unusable input; failed reads are errors on
/// their steps.
pub async fn plan(clients: &Clients, input: &ServersProvisioning) -> Result<Plan, PipelineError> {
    input.validate()?;
    let observed = observe(clients, input).await;
    Ok(Plan {
        account: input.account.clone(),
        scope: scope(input, &observed),
        steps: plan_steps(input, &observed),
    })
}

// ---------------------------------------------------------------- applying

/// The account-wide steps a profile association needs.
const PROFILE_NEEDS: [Resource; 3] = [
    Resource::InstanceRole,
    Resource::InstanceRolePolicy,
    Resource::InstanceProfile,
];

fn blocked_by(step: &Step, done: &[StepReport]) -> Option<String> {
    let is_failed = |r: &StepReport| matches!(r.outcome, Outcome::Failed { .. });
    let creates = matches!(step.action, Action::Create | Action::Update);
    let need = match step.resource {
        // Rampart's profile holds only Rampart's role.
        Resource::InstanceProfile if creates => done.iter().find(|r| {
            matches!(
                r.step.resource,
                Resource::InstanceRole | Resource::InstanceRolePolicy
            ) && is_failed(r)
        }),
        Resource::ProfileAssociation if step.action == Action::Create => done.iter().find(|r| {
            r.step.region == GLOBAL && PROFILE_NEEDS.contains(&r.step.resource) && is_failed(r)
        }),
        // Tag an instance only once its SSM access is in place.
        Resource::InstanceTags if creates => done.iter().find(|r| {
            r.step.region == step.region
                && r.step.name == step.name
                && matches!(
                    r.step.resource,
                    Resource::ProfileAssociation | Resource::ExistingRolePolicy
                )
                && is_failed(r)
        }),
        _ => None,
    }?;
    Some(if need.step.region == GLOBAL {
        need.step.resource.as_str().to_owned()
    } else {
        format!("{} of `{}`", need.step.resource, need.step.name)
    })
}

async fn run_steps(
    clients: &Clients,
    input: &ServersProvisioning,
    obs: &Observed,
    steps: Vec<Step>,
    options: ApplyOptions,
) -> ApplyReport {
    let mut reports: Vec<StepReport> = Vec::new();
    for step in steps {
        let outcome = if let Some(error) = &step.error {
            Outcome::Failed {
                error: error.clone(),
            }
        } else if let Some(need) = blocked_by(&step, &reports) {
            Outcome::Failed {
                error: PipelineError::Blocked(need),
            }
        } else if step.action == Action::None {
            Outcome::Unchanged
        } else {
            match run_step(clients, input, obs, &step, options).await {
                Ok(()) => Outcome::Done,
                Err(error) => Outcome::Failed { error },
            }
        };
        reports.push(StepReport { step, outcome });
    }
    ApplyReport {
        account: input.account.clone(),
        steps: reports,
    }
}

/// Provisions (or repairs) SSM coverage of the account's instances in
/// scope: reads the current state and changes only what differs. Each
/// step's outcome is reported; a failed step blocks only the steps that
/// need it.
pub async fn apply(
    clients: &Clients,
    input: &ServersProvisioning,
    options: ApplyOptions,
) -> Result<ApplyReport, PipelineError> {
    input.validate()?;
    let observed = observe(clients, input).await;
    let steps = plan_steps(input, &observed);
    Ok(run_steps(clients, input, &observed, steps, options).await)
}

fn iam_tag(key: &str, value: &str) -> Result<aws_sdk_iam::types::Tag, PipelineError> {
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| PipelineError::Invalid(e.to_string()))
}

fn trust_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

fn find_instance<'a>(obs: &'a Observed, region: &str, id: &str) -> Option<&'a Instance> {
    obs.regions
        .iter()
        .filter(|r| r.region == region)
        .find_map(|r| match &r.instances {
            Read::Found(list) => list.iter().find(|i| i.id == id),
            _ => None,
        })
}

fn association_read<'a>(
    obs: &'a Observed,
    region: &str,
    resource: Resource,
) -> Option<&'a Read<AssociationState>> {
    obs.regions.iter().find(|r| r.region == region).map(|r| {
        if resource == Resource::PatchScanAssociation {
            &r.patch_scan
        } else {
            &r.inventory
        }
    })
}

async fn associate_profile(
    ec2: &aws_sdk_ec2::Client,
    instance: &str,
    options: ApplyOptions,
) -> Result<(), PipelineError> {
    let started = std::time::Instant::now();
    loop {
        let result = ec2
            .associate_iam_instance_profile()
            .instance_id(instance)
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(INSTANCE_PROFILE)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => return Ok(()),
            // A profile created a moment ago is not yet known to EC2.
            Err(err)
                if code_is(&err, &["InvalidParameterValue"])
                    && started.elapsed() < options.profile_timeout =>
            {
                tokio::time::sleep(options.profile_poll).await;
            }
            Err(err) => return Err(PipelineError::call("AssociateIamInstanceProfile", &err)),
        }
    }
}

async fn run_step(
    clients: &Clients,
    input: &ServersProvisioning,
    obs: &Observed,
    step: &Step,
    options: ApplyOptions,
) -> Result<(), PipelineError> {
    let iam = &clients.iam;
    let core = input.core_policy_arn();
    match (step.resource, step.action) {
        (_, Action::None) => {}
        (Resource::InstanceRole, Action::Create) => {
            iam.create_role()
                .role_name(INSTANCE_ROLE)
                .assume_role_policy_document(trust_policy())
                .description(
                    "Rampart: lets the SSM agent on EC2 instances register with Systems Manager",
                )
                .tags(iam_tag(CONNECTOR_TAG, &input.connector_name)?)
                .send()
                .await
                .map_err(call("CreateRole"))?;
        }
        (Resource::InstanceRole, Action::Delete) => {
            iam.delete_role()
                .role_name(INSTANCE_ROLE)
                .send()
                .await
                .map_err(call("DeleteRole"))?;
        }
        (Resource::InstanceRolePolicy, Action::Create | Action::Update) => {
            iam.attach_role_policy()
                .role_name(INSTANCE_ROLE)
                .policy_arn(&core)
                .send()
                .await
                .map_err(call("AttachRolePolicy"))?;
        }
        (Resource::InstanceRolePolicy, Action::Delete) => {
            iam.detach_role_policy()
                .role_name(INSTANCE_ROLE)
                .policy_arn(&core)
                .send()
                .await
                .map_err(call("DetachRolePolicy"))?;
        }
        (Resource::InstanceProfile, Action::Create | Action::Update) => {
            if step.action == Action::Create {
                iam.create_instance_profile()
                    .instance_profile_name(INSTANCE_PROFILE)
                    .tags(iam_tag(CONNECTOR_TAG, &input.connector_name)?)
                    .send()
                    .await
                    .map_err(call("CreateInstanceProfile"))?;
            }
            iam.add_role_to_instance_profile()
                .instance_profile_name(INSTANCE_PROFILE)
                .role_name(INSTANCE_ROLE)
                .send()
                .await
                .map_err(call("AddRoleToInstanceProfile"))?;
        }
        (Resource::InstanceProfile, Action::Delete) => {
            if let Read::Found(p) = &obs.profile {
                for role in &p.roles {
                    iam.remove_role_from_instance_profile()
                        .instance_profile_name(INSTANCE_PROFILE)
                        .role_name(role)
                        .send()
                        .await
                        .map_err(call("RemoveRoleFromInstanceProfile"))?;
                }
            }
            iam.delete_instance_profile()
                .instance_profile_name(INSTANCE_PROFILE)
                .send()
                .await
                .map_err(call("DeleteInstanceProfile"))?;
        }
        (Resource::ProfileAssociation, Action::Create) => {
            associate_profile(&clients.ec2(&step.region), &step.name, options).await?;
        }
        (Resource::ProfileAssociation, Action::Delete) => {
            let association = find_instance(obs, &step.region, &step.name)
                .and_then(|i| i.association.clone())
                .ok_or_else(|| {
                    PipelineError::Invalid(format!(
                        "no profile association found for `{}`",
                        step.name
                    ))
                })?;
            clients
                .ec2(&step.region)
                .disassociate_iam_instance_profile()
                .association_id(association)
                .send()
                .await
                .map_err(call("DisassociateIamInstanceProfile"))?;
        }
        (Resource::ExistingRolePolicy, action) => {
            let roles = find_instance(obs, &step.region, &step.name)
                .and_then(|i| i.profile.as_deref())
                .and_then(|p| obs.foreign.get(p))
                .and_then(|r| match r {
                    Read::Found(f) => Some(f),
                    _ => None,
                });
            let Some(profile) = roles else {
                return Err(PipelineError::Invalid(format!(
                    "the instance profile of `{}` was not read",
                    step.name
                )));
            };
            if action == Action::Delete {
                for role in &profile.attached_by_us {
                    iam.detach_role_policy()
                        .role_name(role)
                        .policy_arn(&core)
                        .send()
                        .await
                        .map_err(call("DetachRolePolicy"))?;
                    iam.untag_role()
                        .role_name(role)
                        .tag_keys(CONNECTOR_TAG)
                        .send()
                        .await
                        .map_err(call("UntagRole"))?;
                }
            } else if let Some(role) = profile.roles.first() {
                iam.attach_role_policy()
                    .role_name(role)
                    .policy_arn(&core)
                    .send()
                    .await
                    .map_err(call("AttachRolePolicy"))?;
                // Marks the policy as Rampart's, for removal.
                iam.tag_role()
                    .role_name(role)
                    .tags(iam_tag(CONNECTOR_TAG, &input.connector_name)?)
                    .send()
                    .await
                    .map_err(call("TagRole"))?;
            }
        }
        (Resource::InstanceTags, Action::Update | Action::Create) => {
            let mut create = clients
                .ec2(&step.region)
                .create_tags()
                .resources(&step.name);
            for (k, v) in input.instance_tags(&step.name) {
                create = create.tags(aws_sdk_ec2::types::Tag::builder().key(k).value(v).build());
            }
            create.send().await.map_err(call("CreateTags"))?;
        }
        (Resource::InstanceTags, Action::Delete) => {
            let mut delete = clients
                .ec2(&step.region)
                .delete_tags()
                .resources(&step.name);
            for (k, _) in input.instance_tags(&step.name) {
                delete = delete.tags(aws_sdk_ec2::types::Tag::builder().key(k).build());
            }
            delete.send().await.map_err(call("DeleteTags"))?;
        }
        (Resource::InventoryAssociation | Resource::PatchScanAssociation, action) => {
            let ssm = clients.ssm(&step.region);
            let (document, schedule, parameters) = association_spec(step.resource);
            let (key, values) = input.target();
            let target = Target::builder().key(key).set_values(Some(values)).build();
            let existing = match association_read(obs, &step.region, step.resource) {
                Some(Read::Found(a)) => Some(a.id.clone()),
                _ => None,
            };
            match (action, existing) {
                (Action::Delete, Some(id)) => {
                    ssm.delete_association()
                        .association_id(id)
                        .send()
                        .await
                        .map_err(call("DeleteAssociation"))?;
                }
                (Action::Update, Some(id)) => {
                    let mut update = ssm
                        .update_association()
                        .association_id(id)
                        .name(document)
                        .association_name(&step.name)
                        .schedule_expression(schedule)
                        .targets(target);
                    for (k, v) in parameters {
                        update = update.parameters(k, vec![v.to_owned()]);
                    }
                    update.send().await.map_err(call("UpdateAssociation"))?;
                }
                (Action::Create, _) => {
                    let tag = aws_sdk_ssm::types::Tag::builder()
                        .key(CONNECTOR_TAG)
                        .value(&input.connector_name)
                        .build()
                        .map_err(|e| PipelineError::Invalid(e.to_string()))?;
                    let mut create = ssm
                        .create_association()
                        .name(document)
                        .association_name(&step.name)
                        .schedule_expression(schedule)
                        .targets(target)
                        .tags(tag);
                    for (k, v) in parameters {
                        create = create.parameters(k, vec![v.to_owned()]);
                    }
                    create.send().await.map_err(call("CreateAssociation"))?;
                }
                _ => {
                    return Err(PipelineError::Invalid(format!(
                        "association `{}` was not read",
                        step.name
                    )));
                }
            }
        }
        (resource, action) => {
            return Err(PipelineError::Invalid(format!(
                "no `{}` step for `{resource}`",
                super::action_word(action)
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- removal

fn removal_steps(input: &ServersProvisioning, obs: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    let (inventory, patch) = input.association_names();
    for region in &obs.regions {
        let r = region.region.as_str();
        for (resource, name, read) in [
            (
                Resource::InventoryAssociation,
                &inventory,
                &region.inventory,
            ),
            (Resource::PatchScanAssociation, &patch, &region.patch_scan),
        ] {
            steps.push(match read {
                Read::Found(a) if owned(a.owner.as_ref(), input) => {
                    step(resource, r, name, Action::Delete, "delete")
                }
                Read::Found(_) => step(
                    resource,
                    r,
                    name,
                    Action::None,
                    "not tagged with this connector; left alone",
                ),
                Read::Missing => step(resource, r, name, Action::None, "absent"),
                Read::Failed(e) => failed(resource, r, name, e.clone()),
            });
        }
        let instances = match &region.instances {
            Read::Found(list) => list,
            Read::Failed(e) => {
                steps.push(failed(Resource::Instances, r, r, e.clone()));
                continue;
            }
            Read::Missing => continue,
        };
        let ours: Vec<&Instance> = instances
            .iter()
            .filter(|i| tagged_by_us(input, i))
            .collect();
        steps.push(step(
            Resource::Instances,
            r,
            r,
            Action::None,
            format!("{} tagged with the connector", ours.len()),
        ));
        for instance in ours {
            let id = instance.id.as_str();
            match instance.profile.as_deref() {
                Some(INSTANCE_PROFILE) => steps.push(step(
                    Resource::ProfileAssociation,
                    r,
                    id,
                    Action::Delete,
                    format!("disassociate {INSTANCE_PROFILE}"),
                )),
                Some(profile) => match obs.foreign.get(profile) {
                    Some(Read::Found(f)) if !f.attached_by_us.is_empty() => steps.push(step(
                        Resource::ExistingRolePolicy,
                        r,
                        id,
                        Action::Delete,
                        format!(
                            "detach {SSM_CORE_POLICY} from role `{}` of profile `{profile}`",
                            f.attached_by_us.join(", ")
                        ),
                    )),
                    Some(Read::Failed(e)) => {
                        steps.push(failed(Resource::ExistingRolePolicy, r, id, e.clone()));
                    }
                    _ => {}
                },
                None => {}
            }
            steps.push(step(
                Resource::InstanceTags,
                r,
                id,
                Action::Delete,
                "remove Rampart's tags",
            ));
        }
    }
    let profile_owner = match &obs.profile {
        Read::Found(p) => Read::Found(p.owner.as_ref()),
        Read::Missing => Read::Missing,
        Read::Failed(e) => Read::Failed(e.clone()),
    };
    steps.push(owner_step(
        input,
        Resource::InstanceProfile,
        INSTANCE_PROFILE,
        profile_owner,
    ));
    match &obs.role {
        Read::Found(role) if owned(role.owner.as_ref(), input) => {
            steps.push(match &role.has_core_policy {
                Read::Found(true) => step(
                    Resource::InstanceRolePolicy,
                    GLOBAL,
                    INSTANCE_ROLE,
                    Action::Delete,
                    format!("detach {SSM_CORE_POLICY}"),
                ),
                Read::Failed(e) => failed(
                    Resource::InstanceRolePolicy,
                    GLOBAL,
                    INSTANCE_ROLE,
                    e.clone(),
                ),
                _ => step(
                    Resource::InstanceRolePolicy,
                    GLOBAL,
                    INSTANCE_ROLE,
                    Action::None,
                    "not attached",
                ),
            });
            steps.push(step(
                Resource::InstanceRole,
                GLOBAL,
                INSTANCE_ROLE,
                Action::Delete,
                "delete",
            ));
        }
        other => {
            let read = match other {
                Read::Found(r) => Read::Found(r.owner.as_ref()),
                Read::Missing => Read::Missing,
                Read::Failed(e) => Read::Failed(e.clone()),
            };
            steps.push(owner_step(
                input,
                Resource::InstanceRole,
                INSTANCE_ROLE,
                read,
            ));
        }
    }
    steps
}

/// The removal step of an account-wide resource, by its owner tag.
fn owner_step(
    input: &ServersProvisioning,
    resource: Resource,
    name: &str,
    owner: Read<Option<&String>>,
) -> Step {
    match owner {
        Read::Found(owner) if owned(owner, input) => {
            step(resource, GLOBAL, name, Action::Delete, "delete")
        }
        Read::Found(_) => step(
            resource,
            GLOBAL,
            name,
            Action::None,
            "not tagged with this connector; left alone",
        ),
        Read::Missing => step(resource, GLOBAL, name, Action::None, "absent"),
        Read::Failed(e) => failed(resource, GLOBAL, name, e),
    }
}

/// What [`remove`] would undo. Changes nothing.
pub async fn plan_removal(
    clients: &Clients,
    input: &ServersProvisioning,
) -> Result<Plan, PipelineError> {
    input.validate()?;
    let observed = observe(clients, input).await;
    Ok(Plan {
        account: input.account.clone(),
        scope: scope(input, &observed),
        steps: removal_steps(input, &observed),
    })
}

/// Undoes what provisioning did: deletes the connector's associations,
/// disassociates Rampart's profile from the instances it tagged, detaches
/// the core policy from roles Rampart attached it to, removes Rampart's
/// instance tags, then deletes the profile and role. Anything not tagged
/// with the connector is left alone.
pub async fn remove(
    clients: &Clients,
    input: &ServersProvisioning,
) -> Result<ApplyReport, PipelineError> {
    input.validate()?;
    let observed = observe(clients, input).await;
    let steps = removal_steps(input, &observed);
    Ok(run_steps(clients, input, &observed, steps, ApplyOptions::default()).await)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn input(scope: &[(&str, &str)]) -> ServersProvisioning {
        ServersProvisioning {
            account: "123456789012".into(),
            regions: vec!["eu-west-1".into()],
            connector_name: "prod".into(),
            scope_by_tags: scope
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            policy_attach_allowed: false,
        }
    }

    #[test]
    fn scope_and_targets_follow_the_tags() {
        let all = input(&[]);
        assert!(all.in_scope(&BTreeMap::new()));
        assert_eq!(all.target(), ("InstanceIds".into(), vec!["*".into()]));
        let some = input(&[("env", "prod"), ("team", "sec")]);
        let tags = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(some.in_scope(&tags("team", "sec")));
        assert!(!some.in_scope(&tags("env", "dev")));
        assert!(!some.in_scope(&BTreeMap::new()));
        assert_eq!(
            some.target(),
            ("tag:RampartSecurityConnector".into(), vec!["prod".into()])
        );
        assert_eq!(
            some.association_names(),
            (
                "Rampart-prod-software-inventory".into(),
                "Rampart-prod-patch-scan".into()
            )
        );
        let mut bad = input(&[]);
        bad.account = "1".into();
        assert!(bad.validate().is_err());
        bad = input(&[]);
        bad.regions = vec!["cn-north-1".into()];
        assert_eq!(
            bad.core_policy_arn(),
            "arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore"
        );
    }

    #[test]
    fn operations_have_well_formed_actions() {
        for op in OPERATIONS {
            let (service, name) = op.action.split_once(':').unwrap();
            assert!(["iam", "ec2", "ssm"].contains(&service), "{}", op.action);
            assert!(name.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
        }
    }

    fn association(input: &ServersProvisioning, resource: Resource) -> AssociationState {
        let (document, schedule, parameters) = association_spec(resource);
        AssociationState {
            id: "a".into(),
            owner: Some(input.connector_name.clone()),
            document: document.into(),
            parameters: parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
                .collect(),
            schedule: Some(schedule.into()),
            targets: vec![input.target()],
        }
    }

    #[test]
    fn associations_are_updated_when_the_scope_changes() {
        let all = input(&[]);
        let a = association(&all, Resource::PatchScanAssociation);
        assert!(association_differences(&all, Resource::PatchScanAssociation, &a).is_empty());
        let scoped = input(&[("env", "prod")]);
        assert_eq!(
            association_differences(&scoped, Resource::PatchScanAssociation, &a),
            ["targets"]
        );
        let mut install = a.clone();
        install
            .parameters
            .insert("Operation".into(), vec!["Install".into()]);
        install.schedule = Some("rate(30 days)".into());
        assert_eq!(
            association_differences(&all, Resource::PatchScanAssociation, &install),
            ["schedule", "parameters"]
        );
    }
}
