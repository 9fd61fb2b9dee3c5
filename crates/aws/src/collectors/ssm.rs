//! Systems Manager: managed instances ([`types::SSM_MANAGED_INSTANCE`]) with
//! their patch state, compliance and software inventory, the region's SSM
//! status ([`types::SSM_REGION`]), and the account's own documents
//! (`AWS::SSM::Document`) with whom they are shared (FSBP SSM.4: documents
//! should not be public), and the region's service settings for document
//! public sharing and Automation logging ([`SERVICE_SETTINGS`], FSBP SSM.7
//! and SSM.6), and the region's Parameter Store parameters
//! (`AWS::SSM::Parameter`: name, type, KMS key, tier; never values).
//!
//! Per region: `DescribeInstanceInformation` (50 a page); for the managed
//! instances it lists, `DescribeInstancePatchStates` (50 ids a call),
//! `ListResourceComplianceSummaries` filtered on the `Association` and
//! `Patch` compliance types (50 a page), and per instance
//! `ListInventoryEntries` for `AWS:InstanceInformation` (the OS) and
//! `AWS:Application` (the packages, 50 a page); `ListAssociations` (50 a
//! page) for the region status; `ListDocuments` filtered on `Owner=Self`
//! (50 a page) and per document `DescribeDocumentPermission` (`Share`, 200
//! account ids a page); three `GetServiceSetting` calls (the settings of
//! [`SERVICE_SETTING_IDS`]; an unchanged setting answers its default);
//! `DescribeParameters` (50 a page). Parameter values are never read:
//! `GetParameter*` is not called, so no secret reaches Rampart.
//!
//! A managed instance is SSM's view of an EC2 instance (`i-…`) or a hybrid
//! node (`mi-…`). Its id is Rampart's
//! `arn:rampart:ssm:<region>:<account>:managed-instance/<instanceId>` so it
//! never collides with the `AWS::EC2::Instance` asset of the same instance;
//! `resourceArn` holds the real ARN (the EC2 instance's, or SSM's
//! `managed-instance/mi-…`) to join on. Its `patchState`, `compliance` and
//! `inventory` properties summarise the other calls (marked unavailable
//! when a call failed); the full package list is a separate
//! [`types::SSM_INSTANCE_INVENTORY`] asset per instance that reported
//! inventory (`rampart_model::ssm_inventory` turns it into installed
//! packages).
//!
//! The region status is emitted even when nothing is managed, so "no
//! managed instance" is data; when `DescribeInstanceInformation` fails it
//! says the list was not read (and the call is a gap). moto does not
//! implement these SSM calls; the tests run against the SSM emulator
//! (`scripts/moto-ssm.py`).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ssm::types::{
    Association, ComplianceQueryOperatorType, ComplianceStringFilter, DocumentIdentifier,
    DocumentKeyValuesFilter, DocumentPermissionType, InstanceInformation, InstancePatchState,
    ParameterMetadata, ResourceComplianceSummaryItem, ServiceSetting, SeveritySummary,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{
    Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, str_list, tag_map,
    timestamp,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects SSM managed instances and owned documents.
#[derive(Debug)]
pub struct Ssm;

static META: CollectorMeta = CollectorMeta {
    service: "ssm",
    scope: Scope::Regional,
    operations: &[
        op!("ssm", "DescribeInstanceInformation"),
        op!("ssm", "DescribeInstancePatchStates"),
        op!("ssm", "ListResourceComplianceSummaries"),
        op!("ssm", "ListInventoryEntries"),
        op!("ssm", "ListAssociations"),
        op!("ssm", "ListDocuments"),
        op!("ssm", "DescribeDocumentPermission"),
        op!("ssm", "GetServiceSetting"),
        op!("ssm", "DescribeParameters"),
    ],
    resource_types: &[
        types::SSM_MANAGED_INSTANCE,
        types::SSM_INSTANCE_INVENTORY,
        types::SSM_REGION,
        "AWS::SSM::Document",
        SERVICE_SETTINGS,
        PARAMETER,
    ],
};

/// Type of the region's Systems Manager service settings that
/// recommendations read (document public sharing, Automation logging), one
/// per region.
pub const SERVICE_SETTINGS: &str = "Rampart::SSM::ServiceSettings";

/// A Parameter Store parameter (its metadata only, never its value).
pub const PARAMETER: &str = "AWS::SSM::Parameter";

/// The service settings read, as (`GetServiceSetting` id, property name).
pub const SERVICE_SETTING_IDS: [(&str, &str); 3] = [
    (
        "/ssm/documents/console/public-sharing-permission",
        "documentPublicSharingPermission",
    ),
    (
        "/ssm/automation/customer-script-log-destination",
        "automationLogDestination",
    ),
    (
        "/ssm/automation/customer-script-log-group-name",
        "automationLogGroupName",
    ),
];

/// Pages of `DescribeDocumentPermission` read at most for one document.
const MAX_PERMISSION_PAGES: usize = 100;

/// Pages of `ListInventoryEntries` read at most for one instance and type
/// (50 entries a page: 20,000 packages).
const MAX_INVENTORY_PAGES: usize = 400;

/// The inventory type holding an instance's OS.
const INSTANCE_INFORMATION: &str = "AWS:InstanceInformation";
/// The inventory type holding an instance's applications and packages.
const APPLICATION: &str = "AWS:Application";

impl Collector for Ssm {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().ssm(ctx.region());
            let client = &client;
            futures::join!(
                collect_instances(ctx, client),
                collect_documents(ctx, client),
                collect_service_settings(ctx, client),
                collect_parameters(ctx, client),
            );
        })
    }
}

async fn collect_instances(ctx: &CollectContext<'_>, client: &aws_sdk_ssm::Client) {
    let (listed, associations) = futures::join!(
        ctx.pages(
            "DescribeInstanceInformation",
            client
                .describe_instance_information()
                .into_paginator()
                .page_size(50)
                .send(),
        ),
        ctx.pages(
            "ListAssociations",
            client
                .list_associations()
                .into_paginator()
                .page_size(50)
                .send(),
        )
    );
    let associations: Result<Vec<Association>, CallFailure> = associations.map(|pages| {
        pages
            .into_iter()
            .flat_map(|p| p.associations.unwrap_or_default())
            .collect()
    });
    let instances: Result<Vec<InstanceInformation>, CallFailure> = listed.map(|pages| {
        pages
            .into_iter()
            .flat_map(|p| p.instance_information_list.unwrap_or_default())
            .collect()
    });
    ctx.emit(region_status_asset(
        ctx.account(),
        ctx.region(),
        instances.as_deref(),
        associations.as_deref(),
    ));
    let Ok(instances) = instances else {
        return;
    };
    if instances.is_empty() {
        return;
    }
    let ids: Vec<&str> = instances.iter().filter_map(|i| i.instance_id()).collect();
    let (patch_states, compliance) = futures::join!(
        read_patch_states(ctx, client, &ids),
        read_compliance(ctx, client)
    );
    let patch_states = patch_states.map(|states| {
        states
            .into_iter()
            .map(|s| (s.instance_id().to_owned(), s))
            .collect::<HashMap<String, InstancePatchState>>()
    });
    let mut by_resource: HashMap<String, Vec<ResourceComplianceSummaryItem>> = HashMap::new();
    let compliance = compliance.map(|items| {
        for item in items {
            if let Some(id) = item.resource_id() {
                by_resource.entry(id.to_owned()).or_default().push(item);
            }
        }
    });
    let patch_states = &patch_states;
    let by_resource = &by_resource;
    let compliance = &compliance;
    futures::stream::iter(instances)
        .map(|info| async move {
            let id = info.instance_id().unwrap_or_default().to_owned();
            let inventory = instance_inventory(ctx, client, &id).await;
            let mut asset = managed_instance_asset(ctx.account(), ctx.region(), &info);
            match patch_states {
                Ok(states) => asset.set_property(
                    "patchState",
                    states.get(&id).map_or(Value::Null, patch_state_json),
                ),
                Err(failure) => {
                    asset.set_property("patchState", Value::Null);
                    asset.mark_unavailable("patchState", failure.to_string());
                }
            }
            match compliance {
                Ok(()) => asset.set_property(
                    "compliance",
                    compliance_json(by_resource.get(&id).map_or(&[][..], Vec::as_slice)),
                ),
                Err(failure) => {
                    asset.set_property("compliance", Value::Null);
                    asset.mark_unavailable("compliance", failure.to_string());
                }
            }
            match inventory {
                Ok(inventory) => {
                    asset.set_property("inventory", inventory.summary());
                    if inventory.present() {
                        ctx.emit(inventory_asset(
                            ctx.account(),
                            ctx.region(),
                            &asset,
                            &inventory,
                        ));
                    }
                }
                Err(failure) => {
                    asset.set_property("inventory", Value::Null);
                    asset.mark_unavailable("inventory", failure.to_string());
                }
            }
            ctx.emit(asset);
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// Patch states of `ids`, 50 ids a call, every page.
async fn read_patch_states(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_ssm::Client,
    ids: &[&str],
) -> Result<Vec<InstancePatchState>, CallFailure> {
    let mut states = Vec::new();
    for chunk in ids.chunks(50) {
        let pages = ctx
            .pages(
                "DescribeInstancePatchStates",
                client
                    .describe_instance_patch_states()
                    .set_instance_ids(Some(chunk.iter().map(|s| (*s).to_owned()).collect()))
                    .into_paginator()
                    .page_size(50)
                    .send(),
            )
            .await?;
        states.extend(
            pages
                .into_iter()
                .flat_map(|p| p.instance_patch_states.unwrap_or_default()),
        );
    }
    Ok(states)
}

/// The region's `Association` and `Patch` compliance summaries.
async fn read_compliance(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_ssm::Client,
) -> Result<Vec<ResourceComplianceSummaryItem>, CallFailure> {
    let pages = ctx
        .pages(
            "ListResourceComplianceSummaries",
            client
                .list_resource_compliance_summaries()
                .filters(
                    ComplianceStringFilter::builder()
                        .key("ComplianceType")
                        .values("Association")
                        .values("Patch")
                        .r#type(ComplianceQueryOperatorType::Equal)
                        .build(),
                )
                .into_paginator()
                .page_size(50)
                .send(),
        )
        .await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.resource_compliance_summary_items.unwrap_or_default())
        .filter(|i| matches!(i.compliance_type(), Some("Association" | "Patch")))
        .collect())
}

/// One inventory type of one instance: its capture time and rows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct InventoryType {
    /// When the agent captured it (`None`: never reported).
    pub capture_time: Option<String>,
    /// The rows, attribute name to value.
    pub entries: Vec<HashMap<String, String>>,
}

/// What SSM's inventory holds for one instance.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct InstanceInventory {
    /// `AWS:InstanceInformation` (one row: the OS).
    pub instance_information: InventoryType,
    /// `AWS:Application` (the packages).
    pub applications: InventoryType,
}

impl InstanceInventory {
    /// Whether the instance reported any inventory.
    pub fn present(&self) -> bool {
        self.instance_information.capture_time.is_some()
            || self.applications.capture_time.is_some()
            || !self.applications.entries.is_empty()
    }

    /// The managed instance's `inventory` property.
    pub fn summary(&self) -> Value {
        json!({
            "present": self.present(),
            "applicationCount": self.applications.entries.len(),
            "applicationsCaptureTime": self.applications.capture_time,
            "instanceInformationCaptureTime": self.instance_information.capture_time,
        })
    }
}

async fn instance_inventory(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_ssm::Client,
    id: &str,
) -> Result<InstanceInventory, CallFailure> {
    let (info, apps) = futures::join!(
        inventory_entries(ctx, client, id, INSTANCE_INFORMATION),
        inventory_entries(ctx, client, id, APPLICATION)
    );
    Ok(InstanceInventory {
        instance_information: info?,
        applications: apps?,
    })
}

/// Every row of one inventory type of one instance.
async fn inventory_entries(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_ssm::Client,
    id: &str,
    type_name: &str,
) -> Result<InventoryType, CallFailure> {
    let mut out = InventoryType::default();
    let mut token: Option<String> = None;
    for _ in 0..MAX_INVENTORY_PAGES {
        let page = ctx
            .call(
                "ListInventoryEntries",
                client
                    .list_inventory_entries()
                    .instance_id(id)
                    .type_name(type_name)
                    .max_results(50)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        if out.capture_time.is_none() {
            out.capture_time = page.capture_time().map(str::to_owned);
        }
        out.entries.extend(page.entries().iter().cloned());
        match page.next_token() {
            Some(next) if !next.is_empty() && token.as_deref() != Some(next) => {
                token = Some(next.to_owned());
            }
            _ => break,
        }
    }
    Ok(out)
}

fn severity_json(s: Option<&SeveritySummary>) -> Value {
    s.map_or(Value::Null, |s| {
        json!({
            "critical": s.critical_count(),
            "high": s.high_count(),
            "medium": s.medium_count(),
            "low": s.low_count(),
            "informational": s.informational_count(),
            "unspecified": s.unspecified_count(),
        })
    })
}

/// The `compliance` property: per type (`association`, `patch`) the
/// status, overall severity and counts, or `null` when SSM has no summary
/// of that type for the instance.
pub fn compliance_json(items: &[ResourceComplianceSummaryItem]) -> Value {
    let of = |kind: &str| {
        items
            .iter()
            .find(|i| i.compliance_type() == Some(kind))
            .map_or(Value::Null, |i| {
                json!({
                    "status": opt_str(i.status().map(|s| s.as_str())),
                    "overallSeverity": opt_str(i.overall_severity().map(|s| s.as_str())),
                    "compliantCount": i.compliant_summary().map(|s| s.compliant_count()),
                    "nonCompliantCount": i.non_compliant_summary().map(|s| s.non_compliant_count()),
                    "nonCompliantSeverity": severity_json(i.non_compliant_summary().and_then(|s| s.severity_summary())),
                    "executionTime": opt_timestamp(i.execution_summary().map(|e| e.execution_time())),
                })
            })
    };
    json!({ "association": of("Association"), "patch": of("Patch") })
}

/// The `patchState` property (counts of the last patch scan or install).
pub fn patch_state_json(s: &InstancePatchState) -> Value {
    json!({
        "patchGroup": s.patch_group(),
        "baselineId": s.baseline_id(),
        "operation": s.operation().as_str(),
        "operationStartTime": timestamp(s.operation_start_time()),
        "operationEndTime": timestamp(s.operation_end_time()),
        "installedCount": s.installed_count(),
        "installedOtherCount": s.installed_other_count(),
        "installedPendingRebootCount": s.installed_pending_reboot_count(),
        "installedRejectedCount": s.installed_rejected_count(),
        "missingCount": s.missing_count(),
        "failedCount": s.failed_count(),
        "notApplicableCount": s.not_applicable_count(),
        "criticalNonCompliantCount": s.critical_non_compliant_count(),
        "securityNonCompliantCount": s.security_non_compliant_count(),
        "otherNonCompliantCount": s.other_non_compliant_count(),
        "rebootOption": opt_str(s.reboot_option().map(|r| r.as_str())),
    })
}

/// The [`types::SSM_INSTANCE_INVENTORY`] asset of a managed instance: the
/// OS (`os`) and the applications, each with `name`, `version`, `release`,
/// `epoch`, `architecture`, `publisher`, `packageId`, `applicationType`,
/// `installedTime` (as SSM reports them; absent attributes are `null`).
pub fn inventory_asset(
    account: &str,
    region: &str,
    managed: &Asset,
    inventory: &InstanceInventory,
) -> Asset {
    let id = managed
        .properties
        .get("instanceId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let os = inventory.instance_information.entries.first();
    let os_field = |key: &str| opt_str(os.and_then(|o| o.get(key)).map(String::as_str));
    let field = |row: &HashMap<String, String>, key: &str| {
        opt_str(row.get(key).map(String::as_str).filter(|v| !v.is_empty()))
    };
    let mut applications: Vec<Value> = inventory
        .applications
        .entries
        .iter()
        .map(|row| {
            json!({
                "name": field(row, "Name"),
                "version": field(row, "Version"),
                "release": field(row, "Release"),
                "epoch": field(row, "Epoch"),
                "architecture": field(row, "Architecture"),
                "publisher": field(row, "Publisher"),
                "packageId": field(row, "PackageId"),
                "applicationType": field(row, "ApplicationType"),
                "installedTime": field(row, "InstalledTime"),
            })
        })
        .collect();
    applications.sort_by(|a, b| {
        let key = |v: &Value| {
            (
                v["name"].as_str().unwrap_or_default().to_owned(),
                v["version"].as_str().unwrap_or_default().to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    Asset::new(
        setting_id("ssm", region, account, &format!("inventory/{id}")),
        types::SSM_INSTANCE_INVENTORY,
        account,
        region,
        id,
        json!({
            "instanceId": id,
            "resourceArn": managed.properties.get("resourceArn").cloned().unwrap_or(Value::Null),
            "managedInstanceArn": managed.arn,
            "os": {
                "name": os_field("PlatformName"),
                "version": os_field("PlatformVersion"),
                "platformType": os_field("PlatformType"),
                "agentVersion": os_field("AgentVersion"),
                "captureTime": inventory.instance_information.capture_time,
            },
            "applicationsCaptureTime": inventory.applications.capture_time,
            "applicationCount": applications.len(),
            "applications": applications,
        }),
    )
}

/// Version numbers of a dotted version, for comparison (`3.3.131.0`).
fn version_key(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|p| p.trim().parse::<u64>().unwrap_or(0))
        .collect()
}

/// The [`types::SSM_REGION`] asset: whether the managed-instance list and
/// the associations were read, how many instances SSM manages (and how
/// many are online), the newest agent version seen per platform, and the
/// associations (document, name, targets, schedule).
pub fn region_status_asset(
    account: &str,
    region: &str,
    instances: Result<&[InstanceInformation], &CallFailure>,
    associations: Result<&[Association], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("ssm", region, account, "region-status"),
        types::SSM_REGION,
        account,
        region,
        region,
        json!({ "instanceInformationRead": instances.is_ok() }),
    );
    match instances {
        Ok(list) => {
            let online = list
                .iter()
                .filter(|i| i.ping_status().map(|p| p.as_str()) == Some("Online"))
                .count();
            let mut newest: BTreeMap<String, String> = BTreeMap::new();
            for info in list {
                let (Some(platform), Some(version)) = (info.platform_type(), info.agent_version())
                else {
                    continue;
                };
                let slot = newest.entry(platform.as_str().to_owned()).or_default();
                if slot.is_empty() || version_key(version) > version_key(slot) {
                    *slot = version.to_owned();
                }
            }
            asset.set_property("managedInstanceCount", json!(list.len()));
            asset.set_property("onlineCount", json!(online));
            asset.set_property("newestAgentVersion", json!(newest));
        }
        Err(failure) => {
            for key in ["managedInstanceCount", "onlineCount", "newestAgentVersion"] {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
            // `false` here says only that the list failed: nothing was read.
            asset.mark_unavailable("instanceInformationRead", failure.to_string());
        }
    }
    match associations {
        Ok(list) => {
            let mut listed: Vec<Value> = list
                .iter()
                .map(|a| {
                    json!({
                        "associationId": a.association_id(),
                        "associationName": a.association_name(),
                        "documentName": a.name(),
                        "instanceId": a.instance_id(),
                        "targets": a.targets().iter().map(|t| json!({
                            "key": t.key(),
                            "values": t.values(),
                        })).collect::<Vec<_>>(),
                        "scheduleExpression": a.schedule_expression(),
                        "status": opt_str(a.overview().and_then(|o| o.status())),
                    })
                })
                .collect();
            listed.sort_by(|a, b| {
                a["associationId"]
                    .as_str()
                    .cmp(&b["associationId"].as_str())
            });
            asset.set_property("associations", Value::Array(listed));
        }
        Err(failure) => {
            asset.set_property("associations", Value::Null);
            asset.mark_unavailable("associations", failure.to_string());
        }
    }
    asset
}

async fn collect_documents(ctx: &CollectContext<'_>, client: &aws_sdk_ssm::Client) {
    let Ok(pages) = ctx
        .pages(
            "ListDocuments",
            client
                .list_documents()
                .filters(
                    DocumentKeyValuesFilter::builder()
                        .key("Owner")
                        .values("Self")
                        .build(),
                )
                .into_paginator()
                .page_size(50)
                .send(),
        )
        .await
    else {
        return;
    };
    let documents: Vec<DocumentIdentifier> = pages
        .into_iter()
        .flat_map(|p| p.document_identifiers.unwrap_or_default())
        .collect();
    futures::stream::iter(documents)
        .map(|doc| async move {
            let shared = match doc.name() {
                Some(name) => document_permissions(ctx, client, name).await,
                None => Ok(Vec::new()),
            };
            ctx.emit(document_asset(
                ctx.account(),
                ctx.region(),
                &doc,
                shared.as_deref(),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

async fn collect_service_settings(ctx: &CollectContext<'_>, client: &aws_sdk_ssm::Client) {
    let read = |id: &'static str| {
        ctx.call(
            "GetServiceSetting",
            client.get_service_setting().setting_id(id).send(),
        )
    };
    let [(a, _), (b, _), (c, _)] = SERVICE_SETTING_IDS;
    let (a, b, c) = futures::join!(read(a), read(b), read(c));
    let settings = [a, b, c].map(|r| r.map(|out| out.service_setting));
    ctx.emit(service_settings_asset(
        ctx.account(),
        ctx.region(),
        [
            settings[0].as_ref().map(Option::as_ref),
            settings[1].as_ref().map(Option::as_ref),
            settings[2].as_ref().map(Option::as_ref),
        ],
    ));
}

/// The [`SERVICE_SETTINGS`] asset: each setting of [`SERVICE_SETTING_IDS`]
/// (in that order) as `{settingValue, status, lastModifiedDate}` under its
/// property name, `null` and unavailable when it could not be read.
pub fn service_settings_asset(
    account: &str,
    region: &str,
    settings: [Result<Option<&ServiceSetting>, &CallFailure>; 3],
) -> Asset {
    let mut asset = Asset::new(
        setting_id("ssm", region, account, "service-settings"),
        SERVICE_SETTINGS,
        account,
        region,
        "service-settings",
        json!({}),
    );
    for ((_, key), setting) in SERVICE_SETTING_IDS.into_iter().zip(settings) {
        match setting {
            Ok(s) => asset.set_property(
                key,
                json!({
                    "settingValue": s.and_then(|s| s.setting_value()),
                    "status": s.and_then(|s| s.status()),
                    "lastModifiedDate": opt_timestamp(s.and_then(|s| s.last_modified_date())),
                }),
            ),
            Err(failure) => {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    asset
}

/// The account ids (or `all`) a document is shared with, every page.
async fn document_permissions(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<Vec<String>, CallFailure> {
    let mut accounts = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PERMISSION_PAGES {
        let page = ctx
            .call(
                "DescribeDocumentPermission",
                client
                    .describe_document_permission()
                    .name(name)
                    .permission_type(DocumentPermissionType::Share)
                    .max_results(200)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        accounts.extend(page.account_ids().iter().cloned());
        match page.next_token() {
            Some(next) if !next.is_empty() && token.as_deref() != Some(next) => {
                token = Some(next.to_owned());
            }
            _ => break,
        }
    }
    Ok(accounts)
}

/// The [`types::SSM_MANAGED_INSTANCE`] asset of a managed instance.
pub fn managed_instance_asset(account: &str, region: &str, info: &InstanceInformation) -> Asset {
    let id = info.instance_id().unwrap_or_default();
    let resource_arn = if id.starts_with("i-") {
        format!(
            "arn:{}:ec2:{region}:{account}:instance/{id}",
            partition(region)
        )
    } else {
        format!(
            "arn:{}:ssm:{region}:{account}:managed-instance/{id}",
            partition(region)
        )
    };
    let properties = json!({
        "instanceId": id,
        "resourceArn": resource_arn,
        "resourceType": opt_str(info.resource_type().map(|t| t.as_str())),
        "pingStatus": opt_str(info.ping_status().map(|s| s.as_str())),
        "lastPingDateTime": opt_timestamp(info.last_ping_date_time()),
        "agentVersion": opt_str(info.agent_version()),
        "isLatestVersion": info.is_latest_version(),
        "platformType": opt_str(info.platform_type().map(|t| t.as_str())),
        "platformName": opt_str(info.platform_name()),
        "platformVersion": opt_str(info.platform_version()),
        "iamRole": opt_str(info.iam_role()),
        "computerName": opt_str(info.computer_name()),
        "ipAddress": opt_str(info.ip_address()),
        "registrationDate": opt_timestamp(info.registration_date()),
        "associationStatus": opt_str(info.association_status()),
        "lastAssociationExecutionDate": opt_timestamp(info.last_association_execution_date()),
        "lastSuccessfulAssociationExecutionDate": opt_timestamp(info.last_successful_association_execution_date()),
    });
    Asset::new(
        setting_id("ssm", region, account, &format!("managed-instance/{id}")),
        types::SSM_MANAGED_INSTANCE,
        account,
        region,
        id,
        properties,
    )
}

async fn collect_parameters(ctx: &CollectContext<'_>, client: &aws_sdk_ssm::Client) {
    let pages = ctx
        .pages(
            "DescribeParameters",
            client
                .describe_parameters()
                .max_results(50)
                .into_paginator()
                .send(),
        )
        .await;
    for parameter in pages.iter().flatten().flat_map(|p| p.parameters()) {
        ctx.emit(parameter_asset(ctx.account(), ctx.region(), parameter));
    }
}

/// The `AWS::SSM::Parameter` asset of a parameter's metadata: `name`,
/// `type` (`String`, `StringList`, `SecureString`), `keyId` (the KMS key
/// of a `SecureString`, `alias/aws/ssm` for the AWS managed one), `tier`,
/// `dataType`, `version`, `lastModifiedDate`. Never the value.
pub fn parameter_asset(account: &str, region: &str, parameter: &ParameterMetadata) -> Asset {
    let name = parameter.name().unwrap_or_default();
    let arn = parameter.arn().map_or_else(
        || {
            format!(
                "arn:{}:ssm:{region}:{account}:parameter/{}",
                partition(region),
                name.trim_start_matches('/')
            )
        },
        str::to_owned,
    );
    let properties = json!({
        "name": name,
        "arn": arn,
        "type": opt_str(parameter.r#type().map(|t| t.as_str())),
        "keyId": opt_str(parameter.key_id()),
        "tier": opt_str(parameter.tier().map(|t| t.as_str())),
        "dataType": opt_str(parameter.data_type()),
        "version": parameter.version(),
        "lastModifiedDate": opt_timestamp(parameter.last_modified_date()),
    });
    Asset::new(arn, PARAMETER, account, region, name, properties)
}

/// The `AWS::SSM::Document` asset of an owned document, with the accounts
/// it is shared with (`all` = public) or the failure that prevented
/// reading them.
pub fn document_asset(
    account: &str,
    region: &str,
    doc: &DocumentIdentifier,
    shared_with: Result<&[String], &CallFailure>,
) -> Asset {
    let name = doc.name().unwrap_or_default();
    let arn = format!(
        "arn:{}:ssm:{region}:{account}:document/{name}",
        partition(region)
    );
    let mut asset = Asset::new(
        arn,
        "AWS::SSM::Document",
        account,
        region,
        name,
        json!({
            "name": name,
            "owner": opt_str(doc.owner()),
            "documentType": opt_str(doc.document_type().map(|t| t.as_str())),
            "documentFormat": opt_str(doc.document_format().map(|f| f.as_str())),
            "documentVersion": opt_str(doc.document_version()),
            "schemaVersion": opt_str(doc.schema_version()),
            "platformTypes": doc.platform_types().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "createdDate": opt_timestamp(doc.created_date()),
        }),
    )
    .with_tags(tag_map(
        doc.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
    ));
    match shared_with {
        Ok(ids) => {
            asset.set_property("public", Value::Bool(ids.iter().any(|a| a == "all")));
            let accounts: Vec<&String> = ids.iter().filter(|a| *a != "all").collect();
            asset.set_property("sharedAccounts", str_list(&accounts));
        }
        Err(failure) => {
            for key in ["public", "sharedAccounts"] {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::types::{DocumentType, PingStatus, PlatformType, Tag};
    use rampart_model::GapKind;

    #[test]
    fn service_settings_read_and_unread() {
        let sharing = ServiceSetting::builder()
            .setting_id("/ssm/documents/console/public-sharing-permission")
            .setting_value("Disable")
            .status("Customized")
            .build();
        let destination = ServiceSetting::builder()
            .setting_id("/ssm/automation/customer-script-log-destination")
            .setting_value("")
            .status("Default")
            .build();
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "denied".into(),
        };
        let asset = service_settings_asset(
            "123456789012",
            "eu-west-1",
            [Ok(Some(&sharing)), Ok(Some(&destination)), Err(&failure)],
        );
        assert_eq!(asset.resource_type, SERVICE_SETTINGS);
        assert_eq!(
            asset.arn,
            "arn:rampart:ssm:eu-west-1:123456789012:service-settings"
        );
        let p = &asset.properties;
        assert_eq!(
            p["documentPublicSharingPermission"]["settingValue"],
            "Disable"
        );
        assert_eq!(p["documentPublicSharingPermission"]["status"], "Customized");
        assert_eq!(p["automationLogDestination"]["settingValue"], "");
        assert_eq!(p["automationLogGroupName"], Value::Null);
        assert!(asset.unavailable.contains_key("automationLogGroupName"));
        assert!(!asset.unavailable.contains_key("automationLogDestination"));
    }

    #[test]
    fn maps_an_ec2_managed_instance() {
        let info = InstanceInformation::builder()
            .instance_id("i-0123456789abcdef0")
            .ping_status(PingStatus::Online)
            .agent_version("3.3.0.0")
            .is_latest_version(false)
            .platform_type(PlatformType::Linux)
            .last_ping_date_time(aws_smithy_types::DateTime::from_secs(0))
            .build();
        let asset = managed_instance_asset("123456789012", "us-east-1", &info);
        assert_eq!(
            asset.arn,
            "arn:rampart:ssm:us-east-1:123456789012:managed-instance/i-0123456789abcdef0"
        );
        assert_eq!(asset.resource_type, types::SSM_MANAGED_INSTANCE);
        assert_eq!(asset.name, "i-0123456789abcdef0");
        let p = &asset.properties;
        assert_eq!(
            p["resourceArn"],
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
        );
        assert_eq!(p["pingStatus"], "Online");
        assert_eq!(p["agentVersion"], "3.3.0.0");
        assert_eq!(p["isLatestVersion"], false);
        assert_eq!(p["platformType"], "Linux");
        assert_eq!(p["lastPingDateTime"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn maps_a_lost_hybrid_node() {
        let info = InstanceInformation::builder()
            .instance_id("mi-0123456789abcdef0")
            .ping_status(PingStatus::ConnectionLost)
            .build();
        let asset = managed_instance_asset("123456789012", "eu-west-1", &info);
        assert_eq!(
            asset.properties["resourceArn"],
            "arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-0123456789abcdef0"
        );
        assert_eq!(asset.properties["pingStatus"], "ConnectionLost");
        assert_eq!(asset.properties["agentVersion"], Value::Null);
    }

    #[test]
    fn region_status_with_and_without_a_readable_list() {
        let infos = vec![
            InstanceInformation::builder()
                .instance_id("i-0a")
                .ping_status(PingStatus::Online)
                .platform_type(PlatformType::Linux)
                .agent_version("3.3.40.0")
                .build(),
            InstanceInformation::builder()
                .instance_id("i-0b")
                .ping_status(PingStatus::ConnectionLost)
                .platform_type(PlatformType::Linux)
                .agent_version("3.3.131.0")
                .build(),
        ];
        let assoc = vec![
            Association::builder()
                .association_id("a-1")
                .name("AWS-GatherSoftwareInventory")
                .association_name("rampart-inventory")
                .build(),
        ];
        let asset = region_status_asset("123456789012", "us-east-1", Ok(&infos), Ok(&assoc));
        assert_eq!(asset.resource_type, types::SSM_REGION);
        assert_eq!(
            asset.arn,
            "arn:rampart:ssm:us-east-1:123456789012:region-status"
        );
        let p = &asset.properties;
        assert_eq!(p["instanceInformationRead"], true);
        assert_eq!(p["managedInstanceCount"], 2);
        assert_eq!(p["onlineCount"], 1);
        // 3.3.131.0 is newer than 3.3.40.0 (numeric, not text, order).
        assert_eq!(p["newestAgentVersion"]["Linux"], "3.3.131.0");
        assert_eq!(p["associations"][0]["associationName"], "rampart-inventory");

        let failure = CallFailure {
            kind: GapKind::NotImplemented,
            code: None,
            message: "HTTP 500".into(),
        };
        let asset = region_status_asset("123456789012", "us-east-1", Err(&failure), Ok(&[]));
        assert_eq!(asset.properties["instanceInformationRead"], false);
        assert_eq!(asset.properties["managedInstanceCount"], Value::Null);
        assert!(asset.unavailable.contains_key("managedInstanceCount"));
        assert_eq!(asset.properties["associations"], json!([]));
    }

    #[test]
    fn compliance_and_inventory_shapes() {
        use aws_sdk_ssm::types::{ComplianceStatus, NonCompliantSummary};
        let items = vec![
            ResourceComplianceSummaryItem::builder()
                .compliance_type("Patch")
                .resource_id("i-0a")
                .status(ComplianceStatus::NonCompliant)
                .non_compliant_summary(
                    NonCompliantSummary::builder()
                        .non_compliant_count(3)
                        .severity_summary(SeveritySummary::builder().critical_count(1).build())
                        .build(),
                )
                .build(),
        ];
        let c = compliance_json(&items);
        assert_eq!(c["patch"]["status"], "NON_COMPLIANT");
        assert_eq!(c["patch"]["nonCompliantCount"], 3);
        assert_eq!(c["patch"]["nonCompliantSeverity"]["critical"], 1);
        assert_eq!(c["association"], Value::Null);

        let info = InstanceInformation::builder().instance_id("i-0a").build();
        let managed = managed_instance_asset("123456789012", "us-east-1", &info);
        let row = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let inventory = InstanceInventory {
            instance_information: InventoryType {
                capture_time: Some("2026-01-01T00:00:00Z".into()),
                entries: vec![row(&[
                    ("PlatformName", "Ubuntu"),
                    ("PlatformVersion", "22.04"),
                ])],
            },
            applications: InventoryType {
                capture_time: Some("2026-01-01T00:00:00Z".into()),
                entries: vec![
                    row(&[("Name", "zlib1g"), ("Version", "1:1.2.11.dfsg-2ubuntu9.2")]),
                    row(&[
                        ("Name", "bash"),
                        ("Version", "5.1-6ubuntu1"),
                        ("Release", ""),
                    ]),
                ],
            },
        };
        assert!(inventory.present());
        assert_eq!(inventory.summary()["applicationCount"], 2);
        assert!(!InstanceInventory::default().present());
        let asset = inventory_asset("123456789012", "us-east-1", &managed, &inventory);
        assert_eq!(asset.resource_type, types::SSM_INSTANCE_INVENTORY);
        assert_eq!(
            asset.arn,
            "arn:rampart:ssm:us-east-1:123456789012:inventory/i-0a"
        );
        let p = &asset.properties;
        assert_eq!(p["os"]["name"], "Ubuntu");
        assert_eq!(p["applications"][0]["name"], "bash");
        assert_eq!(p["applications"][0]["release"], Value::Null);
        assert_eq!(p["managedInstanceArn"], managed.arn.as_str());
        let packages = rampart_model::ssm_inventory::installed_packages(p);
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[1].version, "1:1.2.11.dfsg-2ubuntu9.2");
    }

    fn doc() -> DocumentIdentifier {
        DocumentIdentifier::builder()
            .name("deploy")
            .owner("123456789012")
            .document_type(DocumentType::Command)
            .tags(
                Tag::builder()
                    .key("team")
                    .value("ops")
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .build()
    }

    #[test]
    fn public_private_and_unread_documents() {
        let shared = vec!["all".to_owned(), "111122223333".to_owned()];
        let asset = document_asset("123456789012", "us-east-1", &doc(), Ok(&shared));
        assert_eq!(
            asset.arn,
            "arn:aws:ssm:us-east-1:123456789012:document/deploy"
        );
        assert_eq!(asset.resource_type, "AWS::SSM::Document");
        assert_eq!(asset.tags["team"], "ops");
        assert_eq!(asset.properties["documentType"], "Command");
        assert_eq!(asset.properties["public"], true);
        assert_eq!(asset.properties["sharedAccounts"], json!(["111122223333"]));

        let asset = document_asset("123456789012", "us-east-1", &doc(), Ok(&[]));
        assert_eq!(asset.properties["public"], false);
        assert_eq!(asset.properties["sharedAccounts"], json!([]));
        assert!(asset.unavailable.is_empty());

        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = document_asset("123456789012", "us-east-1", &doc(), Err(&failure));
        assert_eq!(asset.properties["public"], Value::Null);
        assert_eq!(asset.unavailable["public"], "AccessDeniedException: nope");
    }

    #[test]
    fn maps_parameter_metadata_without_values() {
        use aws_sdk_ssm::types::ParameterType;
        let parameter = ParameterMetadata::builder()
            .name("/prod/db/password")
            .r#type(ParameterType::SecureString)
            .key_id("alias/aws/ssm")
            .version(3)
            .build();
        let asset = parameter_asset("123456789012", "us-east-1", &parameter);
        assert_eq!(asset.resource_type, PARAMETER);
        assert_eq!(
            asset.arn,
            "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password"
        );
        assert_eq!(asset.properties["type"], "SecureString");
        assert_eq!(asset.properties["keyId"], "alias/aws/ssm");
        assert!(asset.properties.get("value").is_none());
    }
}
