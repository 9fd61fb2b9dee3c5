//! The Servers plan's SSM provisioning against moto (IAM, EC2 instances,
//! profiles, tags) behind the SSM emulator (associations, managed
//! instances): instances with and without a profile, with an own profile
//! with and without policy attach allowed, out of scope by tag, already
//! managed; dry run, idempotence, scope change, removal, and resources
//! with Rampart's name that are not Rampart's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use rampart_aws::pipeline::PipelineError;
use rampart_aws::pipeline::servers::{
    self, Action, ApplyOptions, Clients, INSTANCE_PROFILE, INSTANCE_ROLE, Outcome, Resource,
    ServersProvisioning,
};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_testkit::Moto;
use rampart_testkit::ssm::online_instance;
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";
const AMI: &str = "ami-0a3c14e1ddbe7f23c";
const CORE: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        home_region: Some("us-east-1".to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        max_attempts: 2,
        ..AwsSettings::default()
    }
}

fn input(scope: &[(&str, &str)], allowed: bool) -> ServersProvisioning {
    ServersProvisioning {
        account: ACCOUNT.to_owned(),
        regions: vec![REGION.to_owned()],
        connector_name: "prod".to_owned(),
        scope_by_tags: scope
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        policy_attach_allowed: allowed,
    }
}

fn fast() -> ApplyOptions {
    ApplyOptions {
        profile_timeout: Duration::from_secs(2),
        profile_poll: Duration::from_millis(200),
    }
}

/// A role (trusted by EC2) in a profile of the same name, with `policy`.
async fn own_profile(access: &AwsAccess, name: &str, policy: Option<&str>) {
    let iam = access.iam("us-east-1");
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    if let Some(policy) = policy {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(policy)
            .send()
            .await
            .unwrap();
    }
    iam.create_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name(name)
        .role_name(name)
        .send()
        .await
        .unwrap();
}

async fn launch(access: &AwsAccess, env: &str, profile: Option<&str>) -> String {
    use aws_sdk_ec2::types::{
        IamInstanceProfileSpecification, ResourceType, Tag, TagSpecification,
    };
    let mut run = access
        .ec2(REGION)
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("env").value(env).build())
                .build(),
        );
    if let Some(profile) = profile {
        run = run.iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name(profile)
                .build(),
        );
    }
    let out = run.send().await.unwrap();
    out.instances()[0].instance_id().unwrap().to_owned()
}

/// Each instance's tags and profile name.
async fn instances(
    access: &AwsAccess,
) -> BTreeMap<String, (BTreeMap<String, String>, Option<String>)> {
    let out = access
        .ec2(REGION)
        .describe_instances()
        .send()
        .await
        .unwrap();
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            let tags = i
                .tags()
                .iter()
                .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
                .collect();
            let profile = i
                .iam_instance_profile()
                .and_then(|p| p.arn())
                .map(|a| a.rsplit('/').next().unwrap().to_owned());
            (i.instance_id().unwrap().to_owned(), (tags, profile))
        })
        .collect()
}

async fn attached(access: &AwsAccess, role: &str) -> BTreeSet<String> {
    access
        .iam("us-east-1")
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_owned())
        .collect()
}

async fn role_tags(access: &AwsAccess, role: &str) -> BTreeMap<String, String> {
    access
        .iam("us-east-1")
        .list_role_tags()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// The emulator's associations in the region.
fn associations(moto: &Moto) -> Vec<Value> {
    moto.ssm_state()
        .as_array()
        .into_iter()
        .flatten()
        .filter(|scope| scope["region"] == REGION && scope["account"] == ACCOUNT)
        .flat_map(|scope| {
            scope["associations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

fn association<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|a| a["AssociationName"] == name)
        .unwrap_or_else(|| panic!("no association `{name}` in {list:#?}"))
}

/// Calls made since `before`, as operation names.
fn calls_since(access: &AwsAccess, before: &BTreeMap<(String, String), u64>) -> BTreeSet<String> {
    access
        .stats()
        .snapshot()
        .into_iter()
        .filter(|(k, v)| before.get(k).is_none_or(|b| v > b))
        .map(|((_, o), _)| o)
        .collect()
}

fn writes(calls: &BTreeSet<String>) -> Vec<&String> {
    calls
        .iter()
        .filter(|op| {
            !["Describe", "Get", "List"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .collect()
}

fn actions(plan: &servers::Plan, resource: Resource) -> Vec<(String, Action)> {
    plan.steps
        .iter()
        .filter(|s| s.resource == resource)
        .map(|s| (s.name.clone(), s.action))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_ssm_provisioning_end_to_end() {
    let moto = Moto::start_with_ssm_emulator();
    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let clients = Clients::new(&access);
    own_profile(&access, "AppSsm", Some(CORE)).await;
    own_profile(
        &access,
        "AppPlain",
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess"),
    )
    .await;
    let bare = launch(&access, "prod", None).await;
    let with_ssm = launch(&access, "prod", Some("AppSsm")).await;
    let plain = launch(&access, "prod", Some("AppPlain")).await;
    let managed = launch(&access, "prod", None).await;
    let out_of_scope = launch(&access, "dev", None).await;
    moto.ssm_register(REGION, &[online_instance(&managed, "3.3.0.0")]);
    let scoped = input(&[("env", "prod")], false);
    let (inventory_name, patch_name) = scoped.association_names();

    // Dry run: the plan, and nothing changes.
    let before_state = moto.ssm_state();
    let plan = servers::plan(&clients, &scoped).await.unwrap();
    let dry = servers::plan(&clients, &scoped).await.unwrap();
    assert_eq!(plan.steps, dry.steps, "the dry run changed something");
    assert_eq!(moto.ssm_state(), before_state);
    assert!(instances(&access).await[&bare].1.is_none());
    let account_actions: Vec<(Resource, Action)> = plan
        .steps
        .iter()
        .filter(|s| s.region == servers::GLOBAL)
        .map(|s| (s.resource, s.action))
        .collect();
    assert_eq!(
        account_actions,
        [
            (Resource::InstanceRole, Action::Create),
            (Resource::InstanceRolePolicy, Action::Create),
            (Resource::InstanceProfile, Action::Create),
        ]
    );
    let counts = plan
        .steps
        .iter()
        .find(|s| s.resource == Resource::Instances)
        .unwrap();
    assert_eq!(counts.reason, "4 in scope, 1 out of scope");
    let mut profile_actions = actions(&plan, Resource::ProfileAssociation);
    profile_actions.sort();
    let mut want = vec![
        (bare.clone(), Action::Create),
        (managed.clone(), Action::None),
    ];
    want.sort();
    assert_eq!(profile_actions, want);
    let existing: BTreeMap<String, &servers::Step> = plan
        .steps
        .iter()
        .filter(|s| s.resource == Resource::ExistingRolePolicy)
        .map(|s| (s.name.clone(), s))
        .collect();
    assert_eq!(existing[&with_ssm].action, Action::None);
    assert!(existing[&with_ssm].error.is_none());
    assert!(matches!(
        &existing[&plain].error,
        Some(PipelineError::PolicyAttachNotAllowed { profile, .. }) if profile == "AppPlain"
    ));
    assert!(
        plan.steps.iter().all(|s| s.name != out_of_scope),
        "the out-of-scope instance is not touched"
    );
    // The instance that cannot be covered is not tagged.
    let mut tagged: Vec<String> = actions(&plan, Resource::InstanceTags)
        .into_iter()
        .map(|(n, a)| {
            assert_eq!(a, Action::Update);
            n
        })
        .collect();
    tagged.sort();
    let mut want = vec![bare.clone(), with_ssm.clone(), managed.clone()];
    want.sort();
    assert_eq!(tagged, want);
    assert_eq!(
        actions(&plan, Resource::InventoryAssociation),
        [(inventory_name.clone(), Action::Create)]
    );

    // Apply: everything but the instance whose own profile lacks SSM.
    let before = access.stats().snapshot();
    let report = servers::apply(&clients, &scoped, fast()).await.unwrap();
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 1, "{report:#?}");
    assert_eq!(failures[0].step.name, plain);
    let declared: BTreeSet<&str> = servers::OPERATIONS.iter().map(|o| o.name).collect();
    for op in calls_since(&access, &before) {
        assert!(declared.contains(op.as_str()), "undeclared call {op}");
    }
    let now = instances(&access).await;
    assert_eq!(now[&bare].1.as_deref(), Some(INSTANCE_PROFILE));
    assert_eq!(now[&managed].1, None, "a managed instance keeps no profile");
    assert_eq!(now[&with_ssm].1.as_deref(), Some("AppSsm"));
    assert_eq!(now[&out_of_scope].1, None);
    for id in [&bare, &with_ssm, &managed] {
        let tags = &now[id].0;
        assert_eq!(tags["AccountId"], ACCOUNT);
        assert_eq!(tags["Cloud"], "AWS");
        assert_eq!(tags["InstanceId"], *id);
        assert_eq!(tags["RampartSecurityConnector"], "prod");
    }
    for id in [&plain, &out_of_scope] {
        assert!(!now[id].0.contains_key("RampartSecurityConnector"), "{id}");
    }
    assert!(attached(&access, INSTANCE_ROLE).await.contains(CORE));
    assert_eq!(
        role_tags(&access, INSTANCE_ROLE).await["RampartSecurityConnector"],
        "prod"
    );
    assert!(!attached(&access, "AppPlain").await.contains(CORE));
    let list = associations(&moto);
    let patch = association(&list, &patch_name);
    assert_eq!(patch["Name"], "AWS-RunPatchBaseline");
    assert_eq!(patch["Parameters"]["Operation"][0], "Scan");
    assert_eq!(patch["ScheduleExpression"], servers::PATCH_SCAN_SCHEDULE);
    assert_eq!(patch["Targets"][0]["Key"], "tag:RampartSecurityConnector");
    assert_eq!(patch["Targets"][0]["Values"][0], "prod");
    let inventory = association(&list, &inventory_name);
    assert_eq!(inventory["Name"], "AWS-GatherSoftwareInventory");
    assert_eq!(inventory["ScheduleExpression"], servers::INVENTORY_SCHEDULE);

    // Second run: no writes; the one uncoverable instance is reported again.
    let before = access.stats().snapshot();
    let again = servers::apply(&clients, &scoped, fast()).await.unwrap();
    assert_eq!(again.failures().count(), 1);
    assert!(
        again
            .steps
            .iter()
            .all(|s| matches!(s.outcome, Outcome::Unchanged | Outcome::Failed { .. }))
    );
    let written = calls_since(&access, &before);
    assert!(
        writes(&written).is_empty(),
        "second apply wrote: {written:?}"
    );

    // Attaching allowed: the own role gets the core policy, marked as Rampart's.
    let allowed = input(&[("env", "prod")], true);
    let report = servers::apply(&clients, &allowed, fast()).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    assert!(attached(&access, "AppPlain").await.contains(CORE));
    assert_eq!(
        role_tags(&access, "AppPlain").await["RampartSecurityConnector"],
        "prod"
    );
    assert!(role_tags(&access, "AppSsm").await.is_empty());
    assert_eq!(
        instances(&access).await[&plain].0["RampartSecurityConnector"],
        "prod"
    );
    let converged = servers::plan(&clients, &allowed).await.unwrap();
    assert!(converged.is_converged(), "{converged:#?}");

    // The scope widens to every instance: the associations follow, the
    // instance that was out of scope is covered.
    let all = input(&[], true);
    let plan = servers::plan(&clients, &all).await.unwrap();
    assert_eq!(
        actions(&plan, Resource::PatchScanAssociation),
        [(patch_name.clone(), Action::Update)]
    );
    let report = servers::apply(&clients, &all, fast()).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let list = associations(&moto);
    assert_eq!(
        association(&list, &patch_name)["Targets"][0]["Key"],
        "InstanceIds"
    );
    assert_eq!(
        association(&list, &patch_name)["Targets"][0]["Values"][0],
        "*"
    );
    let now = instances(&access).await;
    assert_eq!(now[&out_of_scope].1.as_deref(), Some(INSTANCE_PROFILE));
    assert!(servers::plan(&clients, &all).await.unwrap().is_converged());

    // Narrowed again: what Rampart did for the instance leaving the scope is undone.
    let report = servers::apply(&clients, &allowed, fast()).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let now = instances(&access).await;
    assert_eq!(now[&out_of_scope].1, None);
    assert!(
        !now[&out_of_scope]
            .0
            .contains_key("RampartSecurityConnector")
    );
    assert_eq!(now[&out_of_scope].0["env"], "dev");

    // Removal: only what Rampart made or marked.
    let removal = servers::plan_removal(&clients, &allowed).await.unwrap();
    assert!(removal.steps.iter().any(|s| s.action == Action::Delete));
    let report = servers::remove(&clients, &allowed).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let now = instances(&access).await;
    for (id, (tags, profile)) in &now {
        assert!(!tags.contains_key("RampartSecurityConnector"), "{id}");
        assert!(!tags.contains_key("Cloud"), "{id}");
        assert_ne!(profile.as_deref(), Some(INSTANCE_PROFILE), "{id}");
        assert!(tags.contains_key("env"), "{id}: the user's tags stay");
    }
    assert_eq!(now[&with_ssm].1.as_deref(), Some("AppSsm"));
    assert_eq!(now[&plain].1.as_deref(), Some("AppPlain"));
    assert!(
        attached(&access, "AppSsm").await.contains(CORE),
        "not Rampart's"
    );
    assert!(!attached(&access, "AppPlain").await.contains(CORE));
    assert!(role_tags(&access, "AppPlain").await.is_empty());
    assert!(associations(&moto).is_empty());
    let iam = access.iam("us-east-1");
    assert!(
        iam.get_role()
            .role_name(INSTANCE_ROLE)
            .send()
            .await
            .is_err()
    );
    assert!(
        iam.get_instance_profile()
            .instance_profile_name(INSTANCE_PROFILE)
            .send()
            .await
            .is_err()
    );
    let again = servers::plan_removal(&clients, &allowed).await.unwrap();
    assert!(again.is_converged(), "{again:#?}");

    not_owned_resources_are_left_alone(&moto, &access, &clients, &bare).await;
}

/// A role and an association with Rampart's names but not its tag: plan
/// reports them, apply and remove leave them as they are.
async fn not_owned_resources_are_left_alone(
    moto: &Moto,
    access: &AwsAccess,
    clients: &Clients,
    bare: &str,
) {
    let iam = access.iam("us-east-1");
    iam.create_role()
        .role_name(INSTANCE_ROLE)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let scoped = input(&[("env", "prod")], false);
    let (inventory_name, _) = scoped.association_names();
    access
        .ssm(REGION)
        .create_association()
        .name("AWS-GatherSoftwareInventory")
        .association_name(&inventory_name)
        .targets(
            aws_sdk_ssm::types::Target::builder()
                .key("InstanceIds")
                .values("*")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let report = servers::apply(clients, &scoped, fast()).await.unwrap();
    let failed: BTreeMap<(Resource, String), &PipelineError> = report
        .failures()
        .filter_map(|s| match &s.outcome {
            Outcome::Failed { error } => Some(((s.step.resource, s.step.name.clone()), error)),
            _ => None,
        })
        .collect();
    assert!(matches!(
        failed[&(Resource::InstanceRole, INSTANCE_ROLE.to_owned())],
        PipelineError::NotOwned { .. }
    ));
    assert!(matches!(
        failed[&(Resource::InventoryAssociation, inventory_name.clone())],
        PipelineError::NotOwned { .. }
    ));
    // The instance needing Rampart's profile waits for the role.
    assert!(matches!(
        failed[&(Resource::ProfileAssociation, bare.to_owned())],
        PipelineError::Blocked(_)
    ));
    assert!(
        !instances(access).await[bare]
            .0
            .contains_key("RampartSecurityConnector"),
        "not tagged while not covered"
    );
    // The role got no policy, tag or profile from Rampart.
    assert!(attached(access, INSTANCE_ROLE).await.is_empty());
    assert!(role_tags(access, INSTANCE_ROLE).await.is_empty());
    let inventory = association(&associations(moto), &inventory_name).clone();
    assert_eq!(inventory["AssociationVersion"], "1");

    let report = servers::remove(clients, &scoped).await.unwrap();
    assert!(report.succeeded(), "{report:#?}");
    assert!(iam.get_role().role_name(INSTANCE_ROLE).send().await.is_ok());
    assert_eq!(
        association(&associations(moto), &inventory_name),
        &inventory
    );
}
