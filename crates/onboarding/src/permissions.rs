//! What each plan's roles may do, as IAM policy documents independent of the
//! template format. Resource ARNs use CloudFormation's pseudo parameters
//! (`${AWS::Partition}`, `${AWS::AccountId}`); each generator turns them
//! into its own syntax.

use std::collections::BTreeSet;

use rampart_connector::Plan;
use serde_json::{Value, json};

use crate::{Access, PlanInput};

/// Billing actions the default mode denies on top of `ReadOnlyAccess`
/// (design.md section 8): reading invoices and payment data is not posture.
pub const BILLING_DENY_ACTIONS: &[&str] = &[
    "consolidatedbilling:*",
    "freetier:*",
    "invoicing:*",
    "payments:*",
    "billing:*",
    "tax:*",
    "cur:*",
];

/// What a generated document may use, leaving room for the generators'
/// intrinsic functions around ARNs.
const DOCUMENT_BUDGET: usize = 5_600;

/// The CSPM role's least-privilege actions: the IAM action of every API call
/// a scan may make (the access layer's and every collector's declared
/// operations), sorted and without duplicates.
pub fn cspm_least_privilege_actions() -> Vec<&'static str> {
    rampart_aws::collectors::all_operations()
        .map(|op| op.action)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Who may assume a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Rampart, through the OIDC provider, with tokens for this audience.
    Rampart {
        /// The plan's audience.
        audience: &'static str,
    },
    /// An AWS service of this account (`logs.amazonaws.com`).
    Service(&'static str),
}

/// What the roles require of the session name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Session<'a> {
    /// Exactly this connector's session name.
    Exact(&'a str),
    /// Any Rampart session name. Member accounts' connectors are created
    /// automatically and named after the account, so the name is unknown
    /// when the StackSet is written; `Rampart_*` still keeps every other
    /// session name out, and the audience condition still binds the plan.
    AnyRampart,
}

/// A role's trust policy. `provider` is the OIDC provider's ARN in the
/// template's syntax; `key_prefix` the issuer's host and path, which IAM
/// prefixes to the token's claims as condition keys (`<prefix>:aud`).
pub(crate) fn trust_policy(
    key_prefix: &str,
    role: &RoleSpec,
    session: Session<'_>,
    provider: Value,
) -> Value {
    let statement = match &role.trust {
        Trust::Rampart { audience } => {
            let aud_key = format!("{key_prefix}:aud");
            let condition = match session {
                Session::Exact(name) => json!({
                    "StringEquals": { aud_key: audience, "sts:RoleSessionName": name },
                }),
                Session::AnyRampart => json!({
                    "StringEquals": { aud_key: audience },
                    "StringLike": { "sts:RoleSessionName": "Rampart_*" },
                }),
            };
            json!({
                "Sid": "RampartConnector",
                "Effect": "Allow",
                "Principal": { "Federated": provider },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            })
        }
        // The pipeline's service roles: only this account's log groups and
        // delivery streams may use them (confused-deputy protection).
        Trust::Service(service) => json!({
            "Sid": "AuditLogPipeline",
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": "${AWS::AccountId}" } },
        }),
    };
    json!({ "Version": "2012-10-17", "Statement": [statement] })
}

/// One role of the template, format-independent.
#[derive(Debug, Clone)]
pub(crate) struct RoleSpec {
    /// Alphanumeric id for template resources (from the default name).
    pub id: &'static str,
    /// The IAM role name.
    pub name: String,
    /// The plan it belongs to.
    pub plan: Plan,
    /// What it is for.
    pub purpose: &'static str,
    /// Who may assume it.
    pub trust: Trust,
    /// AWS managed policies attached, by name (`ReadOnlyAccess`).
    pub aws_managed: Vec<&'static str>,
    /// Customer managed policy documents, each within IAM's size limit.
    pub policies: Vec<Value>,
    /// Inline policies: name and document.
    pub inline: Vec<(&'static str, Value)>,
}

/// The role names of a plan, defaults filling the gaps.
pub(crate) fn role_names(plan: &PlanInput) -> Vec<String> {
    plan.plan
        .roles()
        .iter()
        .enumerate()
        .map(|(i, role)| {
            plan.role_names
                .get(i)
                .cloned()
                .unwrap_or_else(|| role.default_name.to_owned())
        })
        .collect()
}

fn role_arn(name: &str) -> String {
    format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}")
}

fn statement(sid: &str, actions: &[&str], resources: &[String]) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": resources,
    })
}

fn any() -> Vec<String> {
    vec!["*".to_owned()]
}

/// Resources named by Rampart's audit-log pipeline start with this prefix.
const PIPELINE_PREFIX: &str = "rampart-";

fn bucket_arns() -> Vec<String> {
    vec![
        format!("arn:${{AWS::Partition}}:s3:::{PIPELINE_PREFIX}*"),
        format!("arn:${{AWS::Partition}}:s3:::{PIPELINE_PREFIX}*/*"),
    ]
}

fn queue_arns() -> Vec<String> {
    vec![format!(
        "arn:${{AWS::Partition}}:sqs:*:${{AWS::AccountId}}:{PIPELINE_PREFIX}*"
    )]
}

fn stream_arns() -> Vec<String> {
    vec![format!(
        "arn:${{AWS::Partition}}:firehose:*:${{AWS::AccountId}}:deliverystream/{PIPELINE_PREFIX}*"
    )]
}

/// `ssm:SendCommand` limited to this account's instances and AWS's shell
/// documents: the SQL plan's read-only vulnerability assessment
/// ([`rampart_aws::run_command::OPERATIONS`]) runs nothing else.
fn send_command() -> Value {
    statement(
        "InstallAgentThroughSsm",
        &["ssm:SendCommand"],
        &[
            "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*".to_owned(),
            "arn:${AWS::Partition}:ssm:*::document/AWS-RunShellScript".to_owned(),
            "arn:${AWS::Partition}:ssm:*::document/AWS-RunPowerShellScript".to_owned(),
        ],
    )
}

fn provisioning_reads() -> Value {
    statement(
        "FindInstancesAndCommands",
        &[
            "ec2:DescribeInstances",
            "ec2:DescribeRegions",
            "ssm:DescribeInstanceInformation",
            "ssm:GetCommandInvocation",
            "ssm:ListCommandInvocations",
        ],
        &any(),
    )
}

/// The Servers plan's SSM provisioning
/// ([`rampart_aws::pipeline::servers::OPERATIONS`]): Rampart's instance
/// role and profile, the profile associated with instances, the SSM core
/// policy attached to an instance's own role (only that policy), Rampart's
/// tags on instances and roles (only its tag keys), and the inventory and
/// patch-scan associations (only those two documents). `iam:PassRole` only
/// for Rampart's instance role, only to EC2. No `ssm:SendCommand`.
fn servers_provisioning() -> Vec<Value> {
    use rampart_aws::pipeline::CONNECTOR_TAG;
    use rampart_aws::pipeline::servers::{
        ACCOUNT_ID_TAG, CLOUD_TAG, INSTANCE_ID_TAG, INSTANCE_PROFILE, INSTANCE_ROLE,
        INVENTORY_DOCUMENT, OPERATIONS, PATCH_DOCUMENT, SSM_CORE_POLICY,
    };
    let ops = OPERATIONS;
    let pick = |service: &str, names: &[&str]| -> Vec<&'static str> {
        actions_of(ops, service, &[])
            .into_iter()
            .filter(|a| names.iter().any(|n| a.ends_with(&format!(":{n}"))))
            .collect()
    };
    let own_role = format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{INSTANCE_ROLE}");
    let own_profile = format!(
        "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:instance-profile/{INSTANCE_PROFILE}"
    );
    let core = format!("arn:${{AWS::Partition}}:iam::aws:policy/{SSM_CORE_POLICY}");
    let instances = "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*".to_owned();
    let associations = "arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:association/*".to_owned();
    let [inventory_doc, patch_doc] = [INVENTORY_DOCUMENT, PATCH_DOCUMENT]
        .map(|d| format!("arn:${{AWS::Partition}}:ssm:*::document/{d}"));
    vec![
        statement(
            "ReadInstancesProfilesAndAssociations",
            &[
                "ec2:DescribeIamInstanceProfileAssociations",
                "ec2:DescribeInstances",
                "iam:GetInstanceProfile",
                "iam:GetRole",
                "iam:ListAttachedRolePolicies",
                "iam:ListRoleTags",
                "ssm:DescribeAssociation",
                "ssm:DescribeInstanceInformation",
                "ssm:ListAssociations",
            ],
            &any(),
        ),
        statement(
            "ManageRampartInstanceRole",
            &["iam:CreateRole", "iam:DeleteRole", "iam:TagRole"],
            std::slice::from_ref(&own_role),
        ),
        statement(
            "ManageRampartInstanceProfile",
            &[
                "iam:AddRoleToInstanceProfile",
                "iam:CreateInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:TagInstanceProfile",
            ],
            std::slice::from_ref(&own_profile),
        ),
        json!({
            "Sid": "AttachOnlyTheSsmCorePolicy",
            "Effect": "Allow",
            "Action": pick("iam", &["AttachRolePolicy", "DetachRolePolicy"]),
            "Resource": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"],
            "Condition": { "ArnEquals": { "iam:PolicyARN": [core] } },
        }),
        json!({
            "Sid": "MarkRolesWithTheSsmCorePolicy",
            "Effect": "Allow",
            "Action": pick("iam", &["TagRole", "UntagRole"]),
            "Resource": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"],
            "Condition": { "ForAllValues:StringEquals": { "aws:TagKeys": [CONNECTOR_TAG] } },
        }),
        json!({
            "Sid": "PassRampartInstanceRoleToEc2",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [own_role],
            "Condition": { "StringEquals": { "iam:PassedToService": "ec2.amazonaws.com" } },
        }),
        statement(
            "AssociateInstanceProfile",
            &pick(
                "ec2",
                &[
                    "AssociateIamInstanceProfile",
                    "DisassociateIamInstanceProfile",
                ],
            ),
            std::slice::from_ref(&instances),
        ),
        json!({
            "Sid": "TagInstancesWithRampartTags",
            "Effect": "Allow",
            "Action": pick("ec2", &["CreateTags", "DeleteTags"]),
            "Resource": [instances.clone()],
            "Condition": { "ForAllValues:StringEquals": {
                "aws:TagKeys": [ACCOUNT_ID_TAG, CLOUD_TAG, INSTANCE_ID_TAG, CONNECTOR_TAG]
            } },
        }),
        statement(
            "CreateInventoryAndPatchScanAssociations",
            &["ssm:CreateAssociation"],
            &[
                inventory_doc.clone(),
                patch_doc.clone(),
                instances.clone(),
                associations.clone(),
            ],
        ),
        statement(
            "ManageRampartAssociations",
            &[
                "ssm:AddTagsToResource",
                "ssm:DeleteAssociation",
                "ssm:ListTagsForResource",
                "ssm:UpdateAssociation",
            ],
            &[inventory_doc, patch_doc, instances, associations],
        ),
    ]
}

/// What one role reads (granted by `ReadOnlyAccess` in the default mode,
/// listed in least privilege) and what it always gets, scoped.
struct Needs {
    reads: Option<Vec<&'static str>>,
    always: Vec<Value>,
    trust: Trust,
}

fn needs(plan: Plan, index: usize, names: &[String]) -> Needs {
    let rampart = Trust::Rampart {
        audience: plan.audience(),
    };
    let name = |i: usize| names.get(i).cloned().unwrap_or_default();
    match (plan, index) {
        (Plan::Cspm, _) => Needs {
            reads: Some(cspm_least_privilege_actions()),
            always: vec![],
            trust: rampart,
        },
        (Plan::Servers, 0) => Needs {
            reads: Some(vec![
                "cloudtrail:DescribeTrails",
                "cloudtrail:GetTrailStatus",
                "ec2:DescribeInstances",
                "ec2:DescribeRegions",
                "ec2:DescribeTags",
                "ssm:DescribeInstanceInformation",
                "ssm:ListInventoryEntries",
            ]),
            always: [cloudtrail_reader(), agentless_scanning()].concat(),
            trust: rampart,
        },
        (Plan::Servers, _) => Needs {
            reads: None,
            always: servers_provisioning(),
            trust: rampart,
        },
        (Plan::Sql, 1) => Needs {
            reads: None,
            always: vec![provisioning_reads(), send_command()],
            trust: rampart,
        },
        (Plan::Sql, 2) => Needs {
            reads: None,
            always: [sql_log_pipelines(&name(3), &name(4)), containers_reader()].concat(),
            trust: rampart,
        },
        (Plan::Sql, 3) => to_kinesis(),
        (Plan::Sql, 4..) => to_s3(),
        (Plan::Sql, _) => Needs {
            reads: Some(vec![
                "ec2:DescribeRegions",
                "rds:DescribeDBClusters",
                "rds:DescribeDBInstances",
                "rds:ListTagsForResource",
            ]),
            always: vec![],
            trust: rampart,
        },
        (Plan::Containers, 0) => Needs {
            reads: Some(vec![
                "ec2:DescribeRegions",
                "eks:DescribeAddon",
                "eks:DescribeCluster",
                "eks:DescribeNodegroup",
                "eks:ListAddons",
                "eks:ListClusters",
                "eks:ListNodegroups",
                "logs:DescribeLogGroups",
                "logs:DescribeSubscriptionFilters",
            ]),
            always: containers_pipeline(&name(2), &name(3)),
            trust: rampart,
        },
        (Plan::Containers, 1) => Needs {
            reads: None,
            always: containers_reader(),
            trust: rampart,
        },
        (Plan::Containers, 2) => to_kinesis(),
        (Plan::Containers, _) => to_s3(),
    }
}

/// The role CloudWatch Logs assumes to write to Rampart's delivery streams.
fn to_kinesis() -> Needs {
    Needs {
        reads: None,
        always: vec![statement(
            "WriteToDeliveryStream",
            &["firehose:PutRecord", "firehose:PutRecordBatch"],
            &stream_arns(),
        )],
        trust: Trust::Service("logs.amazonaws.com"),
    }
}

/// The role Firehose assumes to write to Rampart's log buckets.
fn to_s3() -> Needs {
    Needs {
        reads: None,
        always: vec![statement(
            "DeliverToAuditLogBucket",
            &[
                "s3:AbortMultipartUpload",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
                "s3:PutObject",
            ],
            &bucket_arns(),
        )],
        trust: Trust::Service("firehose.amazonaws.com"),
    }
}

/// The IAM actions of `operations` whose prefix is `service`, sorted and
/// without duplicates, plus `extra` (actions AWS checks implicitly).
fn actions_of(
    operations: &[rampart_aws::collectors::Operation],
    service: &str,
    extra: &[&'static str],
) -> Vec<&'static str> {
    operations
        .iter()
        .map(|op| op.action)
        .filter(|action| action.split_once(':').is_some_and(|(s, _)| s == service))
        .chain(extra.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The Containers plan's audit-log pipeline, per EKS cluster in its region:
/// turn on the cluster's audit log, create the `rampart-*` bucket, queue and
/// delivery stream, subscribe the cluster's log group to the stream, and
/// remove them again. The actions are those of every call
/// `rampart_aws::pipeline::containers` may make
/// ([`rampart_aws::pipeline::containers::OPERATIONS`]), each scoped to the
/// resources it acts on.
fn containers_pipeline(to_kinesis: &str, to_s3: &str) -> Vec<Value> {
    let ops = rampart_aws::pipeline::containers::OPERATIONS;
    let log_actions = actions_of(ops, "logs", &["logs:TagResource"]);
    let (list_groups, group_actions): (Vec<&str>, Vec<&str>) = log_actions
        .into_iter()
        .partition(|a| *a == "logs:DescribeLogGroups");
    vec![
        statement(
            "EnableClusterAuditLog",
            &actions_of(ops, "eks", &[]),
            &["arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*".to_owned()],
        ),
        statement(
            "FindClusterLogGroups",
            &list_groups,
            &["arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*".to_owned()],
        ),
        statement(
            "SubscribeClusterLogGroup",
            &group_actions,
            &["arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:/aws/eks/*".to_owned()],
        ),
        statement(
            "ManageAuditLogBucket",
            &actions_of(ops, "s3", &[]),
            &bucket_arns(),
        ),
        statement(
            "ManageAuditLogQueue",
            &actions_of(ops, "sqs", &[]),
            &queue_arns(),
        ),
        statement(
            "ManageDeliveryStream",
            &actions_of(ops, "firehose", &[]),
            &stream_arns(),
        ),
        pass_roles(to_kinesis, to_s3),
    ]
}

/// The SQL plan's log pipelines, per SQL Server log group in its region:
/// find the groups (RDS instances exporting their `error` log, the groups
/// the connector names), create the `rampart-*` bucket, queue and delivery
/// stream, subscribe the group to the stream, and remove them again. The
/// group itself is never created or changed, so only its subscription
/// filters are granted, on any group (their names are the customer's).
/// The actions are those of every call
/// [`rampart_aws::pipeline::containers::log_group_operations`] and
/// [`rampart_aws::pipeline::sql::FIND_OPERATIONS`] may make.
fn sql_log_pipelines(to_kinesis: &str, to_s3: &str) -> Vec<Value> {
    let ops: Vec<rampart_aws::collectors::Operation> =
        rampart_aws::pipeline::containers::log_group_operations()
            .copied()
            .collect();
    let find = rampart_aws::pipeline::sql::FIND_OPERATIONS;
    let subscribe: Vec<&str> = actions_of(&ops, "logs", &[])
        .into_iter()
        .filter(|a| *a != "logs:DescribeLogGroups")
        .collect();
    vec![
        statement(
            "FindSqlServerLogGroups",
            &[actions_of(find, "rds", &[]), actions_of(find, "logs", &[])].concat(),
            &any(),
        ),
        statement(
            "SubscribeSqlServerLogGroups",
            &subscribe,
            &["arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*".to_owned()],
        ),
        statement(
            "ManageSqlLogBucket",
            &actions_of(&ops, "s3", &[]),
            &bucket_arns(),
        ),
        statement(
            "ManageSqlLogQueue",
            &actions_of(&ops, "sqs", &[]),
            &queue_arns(),
        ),
        statement(
            "ManageSqlLogDeliveryStream",
            &actions_of(&ops, "firehose", &[]),
            &stream_arns(),
        ),
        pass_roles(to_kinesis, to_s3),
    ]
}

/// `iam:PassRole` of the two pipeline service roles, to CloudWatch Logs
/// and Firehose only.
fn pass_roles(to_kinesis: &str, to_s3: &str) -> Value {
    json!({
        "Sid": "PassPipelineRoles",
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": [role_arn(to_kinesis), role_arn(to_s3)],
        "Condition": {
            "StringEquals": {
                "iam:PassedToService": ["firehose.amazonaws.com", "logs.amazonaws.com"]
            }
        }
    })
}

fn snapshot_arns() -> Vec<String> {
    vec!["arn:${AWS::Partition}:ec2:*::snapshot/*".to_owned()]
}

fn key_arns() -> Vec<String> {
    vec!["arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*".to_owned()]
}

fn created_by_rampart(key: &str) -> Value {
    json!({ "StringEquals": { key: rampart_aws::agentless::CREATED_BY_VALUE } })
}

fn with_condition(mut statement: Value, condition: Value) -> Value {
    if let Some(map) = statement.as_object_mut() {
        map.insert("Condition".to_owned(), condition);
    }
    statement
}

/// The Servers plan's agentless scanning
/// ([`rampart_aws::agentless::OPERATIONS`]): snapshots of the account's
/// volumes created and copied only with the `CreatedBy=Rampart` tag,
/// tagging only on creation, deletion and block reads only of snapshots
/// tagged `CreatedBy=Rampart`; Rampart's own KMS key (created tagged, with
/// the `alias/rampart-agentless` alias) and the key uses that reading and
/// re-encrypting encrypted snapshots need.
fn agentless_scanning() -> Vec<Value> {
    use rampart_aws::agentless::{CREATED_BY_KEY, KEY_ALIAS};
    let request_tag = format!("aws:RequestTag/{CREATED_BY_KEY}");
    let resource_tag = format!("aws:ResourceTag/{CREATED_BY_KEY}");
    vec![
        statement(
            "AgentlessFindVolumes",
            &[
                "ec2:DescribeInstances",
                "ec2:DescribeSnapshots",
                "ec2:DescribeVolumes",
            ],
            &any(),
        ),
        statement(
            "AgentlessSnapshotVolumes",
            &["ec2:CreateSnapshot"],
            &["arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:volume/*".to_owned()],
        ),
        with_condition(
            statement(
                "AgentlessCreateTaggedSnapshots",
                &["ec2:CopySnapshot", "ec2:CreateSnapshot"],
                &snapshot_arns(),
            ),
            created_by_rampart(&request_tag),
        ),
        with_condition(
            statement(
                "AgentlessTagOnCreate",
                &["ec2:CreateTags"],
                &snapshot_arns(),
            ),
            json!({ "StringEquals": { "ec2:CreateAction": ["CopySnapshot", "CreateSnapshot"] } }),
        ),
        with_condition(
            statement(
                "AgentlessDeleteAndReadOwnSnapshots",
                &[
                    "ebs:GetSnapshotBlock",
                    "ebs:ListSnapshotBlocks",
                    "ec2:DeleteSnapshot",
                ],
                &snapshot_arns(),
            ),
            created_by_rampart(&resource_tag),
        ),
        with_condition(
            statement(
                "AgentlessCreateRampartKey",
                &["kms:CreateKey", "kms:TagResource"],
                &any(),
            ),
            created_by_rampart(&request_tag),
        ),
        statement(
            "AgentlessRampartKeyAlias",
            &["kms:CreateAlias"],
            &[format!(
                "arn:${{AWS::Partition}}:kms:*:${{AWS::AccountId}}:{KEY_ALIAS}"
            )],
        ),
        with_condition(
            statement(
                "AgentlessAliasRampartKey",
                &["kms:CreateAlias"],
                &key_arns(),
            ),
            created_by_rampart(&resource_tag),
        ),
        statement(
            "AgentlessReadEncryptedSnapshots",
            &[
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:RetireGrant",
            ],
            &key_arns(),
        ),
        with_condition(
            statement("AgentlessGrantReading", &["kms:CreateGrant"], &key_arns()),
            json!({ "ForAllValues:StringEquals": { "kms:GrantOperations": ["Decrypt", "DescribeKey"] } }),
        ),
        with_condition(
            statement("AgentlessGrantToEbs", &["kms:CreateGrant"], &key_arns()),
            json!({ "Bool": { "kms:GrantIsForAWSResource": "true" } }),
        ),
    ]
}

/// The Containers plan's reader: the queue and the objects it names
/// ([`rampart_aws::pipeline::consumer::OPERATIONS`]).
fn containers_reader() -> Vec<Value> {
    let ops = rampart_aws::pipeline::consumer::OPERATIONS;
    vec![
        statement(
            "ReadAuditLogObjects",
            &actions_of(ops, "s3", &[]),
            &bucket_arns(),
        ),
        statement(
            "ConsumeAuditLogNotifications",
            &actions_of(ops, "sqs", &[]),
            &queue_arns(),
        ),
    ]
}

/// CloudTrail threat detection (Servers plan): read the trail bucket's log
/// objects (the bucket's name is the customer's, so any bucket), and in
/// notification mode add Rampart's notification to it and consume the
/// `rampart-cloudtrail-*` queue. The actions are those of every call
/// `rampart_aws::pipeline::cloudtrail` may make
/// ([`rampart_aws::pipeline::cloudtrail::OPERATIONS`]), the reads of the
/// trails themselves aside (listed with the role's reads).
fn cloudtrail_reader() -> Vec<Value> {
    let ops = rampart_aws::pipeline::cloudtrail::OPERATIONS;
    let (notify, read): (Vec<&str>, Vec<&str>) = actions_of(ops, "s3", &[])
        .into_iter()
        .partition(|a| a.contains("BucketNotification"));
    vec![
        statement(
            "ReadTrailLogObjects",
            &read,
            &[
                "arn:${AWS::Partition}:s3:::*".to_owned(),
                "arn:${AWS::Partition}:s3:::*/*".to_owned(),
            ],
        ),
        statement(
            "NotifyRampartOfTrailLogs",
            &notify,
            &["arn:${AWS::Partition}:s3:::*".to_owned()],
        ),
        statement(
            "ConsumeTrailLogNotifications",
            &actions_of(ops, "sqs", &[]),
            &[format!(
                "arn:${{AWS::Partition}}:sqs:*:${{AWS::AccountId}}:{PIPELINE_PREFIX}cloudtrail-*"
            )],
        ),
    ]
}

fn compact_len(value: &Value) -> usize {
    serde_json::to_string(value).map_or(usize::MAX, |s| s.len())
}

fn document(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Splits a read list into statements and packs statements into documents
/// that each fit a managed policy.
fn pack(reads: &[&str], always: Vec<Value>) -> Vec<Value> {
    let mut statements = Vec::new();
    let mut chunk: Vec<&str> = Vec::new();
    let flush = |chunk: &mut Vec<&str>, statements: &mut Vec<Value>| {
        if !chunk.is_empty() {
            let sid = format!("Read{}", statements.len() + 1);
            statements.push(statement(&sid, chunk, &any()));
            chunk.clear();
        }
    };
    for action in reads {
        chunk.push(action);
        let size = compact_len(&document(vec![statement("Read00", &chunk, &any())]));
        if size > DOCUMENT_BUDGET {
            chunk.pop();
            flush(&mut chunk, &mut statements);
            chunk.push(action);
        }
    }
    flush(&mut chunk, &mut statements);
    statements.extend(always);

    let mut documents = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for statement in statements {
        current.push(statement);
        if current.len() > 1 && compact_len(&document(current.clone())) > DOCUMENT_BUDGET {
            let last = current.pop();
            documents.push(document(std::mem::take(&mut current)));
            current.extend(last);
        }
    }
    if !current.is_empty() {
        documents.push(document(current));
    }
    documents
}

/// Every role of the enabled plans, with its trust and permissions.
pub(crate) fn roles(plans: &[PlanInput], access: Access) -> Vec<RoleSpec> {
    let mut specs = Vec::new();
    for plan in plans {
        let names = role_names(plan);
        for (index, (role, name)) in plan.plan.roles().iter().zip(&names).enumerate() {
            let Needs {
                reads,
                always,
                trust,
            } = needs(plan.plan, index, &names);
            let mut aws_managed = Vec::new();
            let mut inline = Vec::new();
            let policies = match (access, reads) {
                (Access::Default, Some(_)) => {
                    aws_managed.push("ReadOnlyAccess");
                    inline.push((
                        "DenyBilling",
                        document(vec![json!({
                            "Sid": "DenyBilling",
                            "Effect": "Deny",
                            "Action": BILLING_DENY_ACTIONS,
                            "Resource": "*",
                        })]),
                    ));
                    pack(&[], always)
                }
                (Access::LeastPrivilege, Some(reads)) => pack(&reads, always),
                (_, None) => pack(&[], always),
            };
            specs.push(RoleSpec {
                id: role.default_name,
                name: name.clone(),
                plan: plan.plan,
                purpose: role.purpose,
                trust,
                aws_managed,
                policies,
                inline,
            });
        }
    }
    specs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IAM's limit on a customer managed policy document, in characters
    /// (whitespace not counted).
    const MANAGED_POLICY_LIMIT: usize = 6_144;

    #[test]
    fn least_privilege_actions_are_the_collectors_well_formed_actions() {
        let actions = cspm_least_privilege_actions();
        let declared: BTreeSet<&str> = rampart_aws::collectors::all_operations()
            .map(|op| op.action)
            .collect();
        assert_eq!(actions.len(), declared.len());
        for action in &actions {
            assert!(declared.contains(action));
            let (service, name) = action.split_once(':').unwrap();
            assert!(
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{action}"
            );
            assert!(
                name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{action}"
            );
        }
        assert!(actions.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_document_fits_a_managed_policy() {
        let all: Vec<PlanInput> = Plan::ALL
            .into_iter()
            .map(PlanInput::with_default_names)
            .collect();
        // A read list far larger than one policy still fits, split.
        let many: Vec<String> = (0..600).map(|i| format!("ec2:DescribeThing{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let packed = pack(&many, vec![]);
        assert!(packed.len() > 1);
        let listed: usize = packed
            .iter()
            .flat_map(|d| d["Statement"].as_array().unwrap())
            .map(|s| s["Action"].as_array().unwrap().len())
            .sum();
        assert_eq!(listed, many.len());
        for access in [Access::Default, Access::LeastPrivilege] {
            for role in roles(&all, access) {
                for doc in role.policies.iter().chain(packed.iter()) {
                    assert!(compact_len(doc) <= MANAGED_POLICY_LIMIT);
                }
            }
        }
    }

    fn granted(role: &RoleSpec) -> BTreeSet<String> {
        role.policies
            .iter()
            .flat_map(|d| d["Statement"].as_array().unwrap().clone())
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn servers_provisioning_role_allows_every_call_and_no_send_command() {
        let plans = [PlanInput::with_default_names(Plan::Servers)];
        for access in [Access::Default, Access::LeastPrivilege] {
            let roles = roles(&plans, access);
            let provisioning = granted(&roles[1]);
            for op in rampart_aws::pipeline::servers::OPERATIONS {
                assert!(
                    provisioning.contains(op.action),
                    "{access:?}: {}",
                    op.action
                );
            }
            assert!(provisioning.contains("iam:PassRole"));
            assert!(!provisioning.contains("ssm:SendCommand"));
            let pass = roles[1]
                .policies
                .iter()
                .flat_map(|d| d["Statement"].as_array().unwrap().clone())
                .find(|s| s["Action"][0] == "iam:PassRole")
                .unwrap();
            assert_eq!(
                pass["Resource"][0],
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/RampartSsmInstanceRole"
            );
        }
    }

    #[test]
    fn servers_role_allows_every_cloudtrail_call() {
        let plans = [PlanInput::with_default_names(Plan::Servers)];
        for access in [Access::Default, Access::LeastPrivilege] {
            let roles = roles(&plans, access);
            let servers = granted(&roles[0]);
            for op in rampart_aws::pipeline::cloudtrail::OPERATIONS {
                let listed = servers.contains(op.action);
                let read_only = access == Access::Default
                    && op.action.starts_with("cloudtrail:")
                    && roles[0].aws_managed.contains(&"ReadOnlyAccess");
                assert!(listed || read_only, "{access:?}: {}", op.action);
            }
        }
        let least = roles(&plans, Access::LeastPrivilege);
        let servers = granted(&least[0]);
        assert!(servers.contains("cloudtrail:DescribeTrails"));
        assert!(servers.contains("s3:PutBucketNotification"));
        assert!(servers.contains("sqs:ReceiveMessage"));
        // The queue actions are limited to Rampart's CloudTrail queues.
        let sqs_resources: Vec<String> = least[0]
            .policies
            .iter()
            .flat_map(|d| d["Statement"].as_array().unwrap().clone())
            .filter(|s| s["Sid"] == "ConsumeTrailLogNotifications")
            .flat_map(|s| s["Resource"].as_array().unwrap().clone())
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            sqs_resources,
            ["arn:${AWS::Partition}:sqs:*:${AWS::AccountId}:rampart-cloudtrail-*"]
        );
    }

    #[test]
    fn containers_roles_allow_every_pipeline_call() {
        let plans = [PlanInput::with_default_names(Plan::Containers)];
        for access in [Access::Default, Access::LeastPrivilege] {
            let roles = roles(&plans, access);
            let provisioning = granted(&roles[0]);
            for op in rampart_aws::pipeline::containers::OPERATIONS {
                assert!(
                    provisioning.contains(op.action),
                    "{access:?}: {}",
                    op.action
                );
            }
            assert!(provisioning.contains("iam:PassRole"));
            let reader = granted(&roles[1]);
            for op in rampart_aws::pipeline::consumer::OPERATIONS {
                assert!(reader.contains(op.action), "{access:?}: {}", op.action);
            }
            // The reader reads; it creates and deletes nothing.
            assert!(
                reader
                    .iter()
                    .all(|a| !a.contains("Create") && !a.contains("DeleteQueue"))
            );
        }
    }

    #[test]
    fn sql_provisioning_role_allows_every_run_command_call() {
        let plans = [PlanInput::with_default_names(Plan::Sql)];
        for access in [Access::Default, Access::LeastPrivilege] {
            let roles = roles(&plans, access);
            let provisioning = granted(&roles[1]);
            for op in rampart_aws::run_command::OPERATIONS {
                assert!(
                    provisioning.contains(op.action),
                    "{access:?}: {}",
                    op.action
                );
            }
        }
    }

    #[test]
    fn servers_role_allows_every_agentless_call_and_deletes_only_rampart_snapshots() {
        let plans = [PlanInput::with_default_names(Plan::Servers)];
        for access in [Access::Default, Access::LeastPrivilege] {
            let roles = roles(&plans, access);
            let servers = granted(&roles[0]);
            for op in rampart_aws::agentless::OPERATIONS {
                assert!(servers.contains(op.action), "{access:?}: {}", op.action);
            }
            let statements: Vec<Value> = roles[0]
                .policies
                .iter()
                .flat_map(|d| d["Statement"].as_array().unwrap().clone())
                .collect();
            for destructive in [
                "ec2:DeleteSnapshot",
                "ebs:GetSnapshotBlock",
                "ec2:CreateTags",
            ] {
                let granting: Vec<&Value> = statements
                    .iter()
                    .filter(|s| {
                        s["Action"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|a| a == destructive)
                    })
                    .collect();
                assert!(!granting.is_empty(), "{destructive}");
                for s in granting {
                    assert!(
                        s.get("Condition").is_some(),
                        "{destructive} without condition: {s}"
                    );
                }
            }
            let delete = statements
                .iter()
                .find(|s| {
                    s["Action"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| a == "ec2:DeleteSnapshot")
                })
                .unwrap();
            assert_eq!(
                delete["Condition"]["StringEquals"]["aws:ResourceTag/CreatedBy"],
                "Rampart"
            );
        }
    }
}
