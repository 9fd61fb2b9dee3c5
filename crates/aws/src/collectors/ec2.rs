//! EC2: instances, security groups, EBS volumes, snapshots and AMIs owned
//! by the account, VPCs with their flow logs and VPC endpoints, network
//! ACLs, the VPC networking resources of [`network`] (subnets, launch
//! templates, transit gateways, VPN connections, Client VPN endpoints,
//! Elastic IPs), and the region-level settings (EBS encryption by default,
//! snapshot and AMI block public access, instance metadata defaults, VPC
//! Block Public Access). Regional: runs once per scanned region.
//!
//! # Calls per region
//!
//! One paginated list call per resource kind, at the APIs' largest page
//! size (1000): `DescribeInstances`, `DescribeSecurityGroups`,
//! `DescribeNetworkInterfaces`, `DescribeVolumes`, `DescribeSnapshots`
//! (`OwnerIds=self`), `DescribeVpcs`, `DescribeFlowLogs`,
//! `DescribeNetworkAcls`, `DescribeImages` (`Owners=self`),
//! `DescribeVpcEndpoints` (joined onto each VPC as `vpcEndpoints`); the
//! list calls of [`network`]; one call each for the six region settings;
//! and one `DescribeSnapshotAttribute` per owned snapshot (bounded
//! concurrency). Nothing else is per resource.
//!
//! # Snapshot sharing
//!
//! `createVolumePermission` has no batch API. On AWS, `DescribeSnapshots`
//! with `OwnerIds=[self]` and `RestorableByUserIds=[all]` would list exactly
//! the account's public snapshots in one paginated call, but moto ignores
//! both parameters (it returns every snapshot of the region, so the set
//! difference would mark every snapshot public), and the filter cannot show
//! snapshots shared with specific accounts. So each owned snapshot gets one
//! `DescribeSnapshotAttribute(createVolumePermission)` call, run
//! concurrently within the scan's limits. Every snapshot asset carries
//! `createVolumePermissions` as returned, `public` (a permission for group
//! `all`) and `sharedWithAccounts`; when the call fails these three are
//! marked unavailable (a snapshot deleted in between is skipped).
//!
//! # Security groups in use
//!
//! `DescribeNetworkInterfaces` (one paginated call per region, 1000 per
//! page) tells which groups are attached to any network interface:
//! instances, Lambda functions, load balancers, RDS, endpoints and so on,
//! which a join with instances alone would miss. Each security group asset
//! gets `networkInterfaceCount` and `inUse` (unavailable when the call
//! failed) and `referencedBy`, the other groups of the region whose rules
//! name it (computed, no call).
//!
//! # Normalization
//!
//! Properties use the API's field names in camelCase. Rule protocols (a
//! security group rule's `ipProtocol`, a network ACL entry's `protocol`)
//! are normalized to one vocabulary: `-1` for all protocols, `tcp`, `udp`,
//! `icmp`, `icmpv6`, other protocol numbers as decimal text. Missing
//! `fromPort`/`toPort` (all-protocol rules) and a missing network ACL
//! `portRange` are `null`, meaning every port. Empty strings the API uses
//! for "none" (`publicDnsName`) are `null`. Network ACL entries are sorted
//! by direction then rule number (evaluation order).
//!
//! VPCs, network ACLs and security groups owned by another account (shared
//! through AWS RAM) are skipped: their owner's scan reports them, and their
//! flow logs are not visible from here. Terminated instances are skipped.
//!
//! # moto
//!
//! moto does not implement `GetEbsDefaultKmsKeyId`,
//! `GetSnapshotBlockPublicAccessState`, `GetImageBlockPublicAccessState`,
//! `GetInstanceMetadataDefaults` and `DescribeVpcBlockPublicAccessOptions`
//! (HTML 500): in a scan against moto they
//! are gaps and the matching properties are unavailable. The unit tests feed
//! recorded-shape AWS responses for them through the SDK client. moto also
//! ignores `OwnerIds`/`RestorableByUserIds` on `DescribeSnapshots` (the
//! collector keeps only snapshots whose `ownerId` is the account), and its
//! default security groups have no ingress rules (AWS's allow all traffic
//! from the group itself).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::describe_vpc_block_public_access_options::DescribeVpcBlockPublicAccessOptionsOutput;
use aws_sdk_ec2::operation::get_ebs_default_kms_key_id::GetEbsDefaultKmsKeyIdOutput;
use aws_sdk_ec2::operation::get_ebs_encryption_by_default::GetEbsEncryptionByDefaultOutput;
use aws_sdk_ec2::operation::get_image_block_public_access_state::GetImageBlockPublicAccessStateOutput;
use aws_sdk_ec2::operation::get_instance_metadata_defaults::GetInstanceMetadataDefaultsOutput;
use aws_sdk_ec2::operation::get_snapshot_block_public_access_state::GetSnapshotBlockPublicAccessStateOutput;
use aws_sdk_ec2::types::{
    CreateVolumePermission, FlowLog, Image, Instance, InstanceMetadataOptionsResponse,
    IpPermission, NetworkAcl, NetworkAclEntry, NetworkInterface, PermissionGroup, SecurityGroup,
    Snapshot, SnapshotAttributeName, Tag, Volume, Vpc, VpcEndpoint,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_timestamp, partition, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

pub mod network;

/// Largest page size of the EC2 `Describe*` list calls used here.
const PAGE_SIZE: i32 = 1000;

/// CloudFormation type of instances.
pub const INSTANCE: &str = "AWS::EC2::Instance";
/// CloudFormation type of security groups.
pub const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";
/// CloudFormation type of EBS volumes.
pub const VOLUME: &str = "AWS::EC2::Volume";
/// Type of EBS snapshots (CloudFormation has none; AWS Config's name).
pub const SNAPSHOT: &str = "AWS::EC2::Snapshot";
/// CloudFormation type of VPCs.
pub const VPC: &str = "AWS::EC2::VPC";
/// CloudFormation type of flow logs.
pub const FLOW_LOG: &str = "AWS::EC2::FlowLog";
/// CloudFormation type of network ACLs.
pub const NETWORK_ACL: &str = "AWS::EC2::NetworkAcl";
/// Type of AMIs (CloudFormation has none; AWS Config's name).
pub const IMAGE: &str = "AWS::EC2::Image";

/// Collects EC2 resources and region settings.
#[derive(Debug)]
pub struct Ec2;

static META: CollectorMeta = CollectorMeta {
    service: "ec2",
    scope: Scope::Regional,
    operations: &[
        op!("ec2", "DescribeInstances"),
        op!("ec2", "DescribeSecurityGroups"),
        op!("ec2", "DescribeNetworkInterfaces"),
        op!("ec2", "DescribeVolumes"),
        op!("ec2", "DescribeSnapshots"),
        op!("ec2", "DescribeSnapshotAttribute"),
        op!("ec2", "DescribeVpcs"),
        op!("ec2", "DescribeFlowLogs"),
        op!("ec2", "DescribeNetworkAcls"),
        op!("ec2", "DescribeImages"),
        op!("ec2", "GetEbsEncryptionByDefault"),
        op!("ec2", "GetEbsDefaultKmsKeyId"),
        op!("ec2", "GetSnapshotBlockPublicAccessState"),
        op!("ec2", "GetImageBlockPublicAccessState"),
        op!("ec2", "GetInstanceMetadataDefaults"),
        op!("ec2", "DescribeVpcEndpoints"),
        op!("ec2", "DescribeSubnets"),
        op!("ec2", "DescribeLaunchTemplates"),
        op!("ec2", "DescribeLaunchTemplateVersions"),
        op!("ec2", "DescribeTransitGateways"),
        op!("ec2", "DescribeVpnConnections"),
        op!("ec2", "DescribeClientVpnEndpoints"),
        op!("ec2", "DescribeAddresses"),
        op!("ec2", "DescribeVpcBlockPublicAccessOptions"),
    ],
    resource_types: &[
        INSTANCE,
        SECURITY_GROUP,
        VOLUME,
        SNAPSHOT,
        VPC,
        FLOW_LOG,
        NETWORK_ACL,
        IMAGE,
        types::EC2_EBS_ENCRYPTION_BY_DEFAULT,
        types::EC2_REGION_SETTINGS,
        network::SUBNET,
        network::LAUNCH_TEMPLATE,
        network::TRANSIT_GATEWAY,
        network::VPN_CONNECTION,
        network::CLIENT_VPN_ENDPOINT,
        network::EIP,
    ],
};

impl Collector for Ec2 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().ec2(ctx.region());
            let client = &client;
            futures::join!(
                collect_instances(ctx, client),
                collect_security_groups(ctx, client),
                collect_volumes(ctx, client),
                collect_snapshots(ctx, client),
                collect_vpcs(ctx, client),
                collect_network_acls(ctx, client),
                collect_images(ctx, client),
                collect_ebs_defaults(ctx, client),
                collect_region_settings(ctx, client),
                network::collect_subnets(ctx, client),
                network::collect_launch_templates(ctx, client),
                network::collect_transit_gateways(ctx, client),
                network::collect_vpn_connections(ctx, client),
                network::collect_client_vpn_endpoints(ctx, client),
                network::collect_addresses(ctx, client),
            );
        })
    }
}

async fn collect_instances(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_instances()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeInstances", stream).await else {
        return;
    };
    for reservation in pages.iter().flat_map(|p| p.reservations()) {
        let owner = reservation.owner_id().unwrap_or(ctx.account());
        for instance in reservation.instances() {
            if let Some(asset) = instance_asset(ctx.region(), ctx.account(), owner, instance) {
                ctx.emit(asset);
            }
        }
    }
}

async fn collect_security_groups(ctx: &CollectContext<'_>, client: &Client) {
    let groups = ctx.pages(
        "DescribeSecurityGroups",
        client
            .describe_security_groups()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send(),
    );
    let interfaces = ctx.pages(
        "DescribeNetworkInterfaces",
        client
            .describe_network_interfaces()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send(),
    );
    let (groups, interfaces) = futures::join!(groups, interfaces);
    let Ok(pages) = groups else {
        return;
    };
    let groups: Vec<&SecurityGroup> = pages.iter().flat_map(|p| p.security_groups()).collect();
    let counts = interfaces.map(|pages| {
        let enis: Vec<&NetworkInterface> =
            pages.iter().flat_map(|p| p.network_interfaces()).collect();
        network_interface_counts(&enis)
    });
    let references = security_group_references(&groups);
    for group in groups {
        if !owned_by(group.owner_id(), ctx.account()) {
            continue;
        }
        let id = group.group_id().unwrap_or_default();
        let attached = match &counts {
            Ok(counts) => Ok(counts.get(id).copied().unwrap_or(0)),
            Err(failure) => Err(failure),
        };
        let referenced_by = references.get(id).cloned().unwrap_or_default();
        if let Some(asset) =
            security_group_asset(ctx.region(), ctx.account(), group, attached, &referenced_by)
        {
            ctx.emit(asset);
        }
    }
}

async fn collect_volumes(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_volumes()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeVolumes", stream).await else {
        return;
    };
    for volume in pages.iter().flat_map(|p| p.volumes()) {
        if let Some(asset) = volume_asset(ctx.region(), ctx.account(), volume) {
            ctx.emit(asset);
        }
    }
}

async fn collect_snapshots(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_snapshots()
        .owner_ids("self")
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeSnapshots", stream).await else {
        return;
    };
    let snapshots: Vec<Snapshot> = pages
        .into_iter()
        .flat_map(|p| p.snapshots.unwrap_or_default())
        .filter(|s| owned_by(s.owner_id(), ctx.account()))
        .collect();
    let assets: Vec<Option<Asset>> = futures::stream::iter(snapshots)
        .map(|snapshot| snapshot_with_permissions(ctx, client, snapshot))
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets.into_iter().flatten() {
        ctx.emit(asset);
    }
}

/// One snapshot with its `createVolumePermission` attribute; `None` when
/// it was deleted since it was listed.
async fn snapshot_with_permissions(
    ctx: &CollectContext<'_>,
    client: &Client,
    snapshot: Snapshot,
) -> Option<Asset> {
    let id = snapshot.snapshot_id()?;
    let call = client
        .describe_snapshot_attribute()
        .snapshot_id(id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send();
    let result = ctx
        .call_optional(
            "DescribeSnapshotAttribute",
            &["InvalidSnapshot.NotFound"],
            call,
        )
        .await;
    match result {
        Ok(None) => None,
        Ok(Some(out)) => snapshot_asset(
            ctx.region(),
            ctx.account(),
            &snapshot,
            Ok(out.create_volume_permissions()),
        ),
        Err(failure) => snapshot_asset(ctx.region(), ctx.account(), &snapshot, Err(&failure)),
    }
}

async fn collect_vpcs(ctx: &CollectContext<'_>, client: &Client) {
    let vpcs = ctx.pages(
        "DescribeVpcs",
        client
            .describe_vpcs()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send(),
    );
    let flow_logs = ctx.pages(
        "DescribeFlowLogs",
        client
            .describe_flow_logs()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send(),
    );
    let endpoints = ctx.pages(
        "DescribeVpcEndpoints",
        client
            .describe_vpc_endpoints()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send(),
    );
    let (vpcs, flow_logs, endpoints) = futures::join!(vpcs, flow_logs, endpoints);
    let endpoints: Result<Vec<VpcEndpoint>, CallFailure> = endpoints.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.vpc_endpoints())
            .cloned()
            .collect()
    });
    let flow_logs: Result<Vec<FlowLog>, CallFailure> =
        flow_logs.map(|pages| pages.iter().flat_map(|p| p.flow_logs()).cloned().collect());
    if let Ok(logs) = &flow_logs {
        for log in logs {
            if let Some(asset) = flow_log_asset(ctx.region(), ctx.account(), log) {
                ctx.emit(asset);
            }
        }
    }
    let Ok(pages) = vpcs else {
        return;
    };
    for vpc in pages.iter().flat_map(|p| p.vpcs()) {
        if !owned_by(vpc.owner_id(), ctx.account()) {
            continue;
        }
        let logs = flow_logs.as_ref().map(Vec::as_slice);
        let endpoints = endpoints.as_ref().map(Vec::as_slice);
        if let Some(asset) = vpc_asset(ctx.region(), ctx.account(), vpc, logs, endpoints) {
            ctx.emit(asset);
        }
    }
}

async fn collect_network_acls(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_network_acls()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeNetworkAcls", stream).await else {
        return;
    };
    for acl in pages.iter().flat_map(|p| p.network_acls()) {
        if !owned_by(acl.owner_id(), ctx.account()) {
            continue;
        }
        if let Some(asset) = network_acl_asset(ctx.region(), ctx.account(), acl) {
            ctx.emit(asset);
        }
    }
}

async fn collect_images(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_images()
        .owners("self")
        .include_deprecated(true)
        .include_disabled(true)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeImages", stream).await else {
        return;
    };
    for image in pages.iter().flat_map(|p| p.images()) {
        if !owned_by(image.owner_id(), ctx.account()) {
            continue;
        }
        if let Some(asset) = image_asset(ctx.region(), ctx.account(), image) {
            ctx.emit(asset);
        }
    }
}

async fn collect_ebs_defaults(ctx: &CollectContext<'_>, client: &Client) {
    let (encryption, key) = futures::join!(
        ctx.call(
            "GetEbsEncryptionByDefault",
            client.get_ebs_encryption_by_default().send()
        ),
        ctx.call(
            "GetEbsDefaultKmsKeyId",
            client.get_ebs_default_kms_key_id().send()
        ),
    );
    ctx.emit(ebs_encryption_by_default_asset(
        ctx.region(),
        ctx.account(),
        encryption.as_ref(),
        key.as_ref(),
    ));
}

async fn collect_region_settings(ctx: &CollectContext<'_>, client: &Client) {
    let (snapshots, images, metadata, vpc_bpa) = futures::join!(
        ctx.call(
            "GetSnapshotBlockPublicAccessState",
            client.get_snapshot_block_public_access_state().send()
        ),
        ctx.call(
            "GetImageBlockPublicAccessState",
            client.get_image_block_public_access_state().send()
        ),
        ctx.call(
            "GetInstanceMetadataDefaults",
            client.get_instance_metadata_defaults().send()
        ),
        ctx.call(
            "DescribeVpcBlockPublicAccessOptions",
            client.describe_vpc_block_public_access_options().send()
        ),
    );
    ctx.emit(region_settings_asset(
        ctx.region(),
        ctx.account(),
        RegionSettingsReads {
            snapshot_bpa: snapshots.as_ref(),
            image_bpa: images.as_ref(),
            metadata_defaults: metadata.as_ref(),
            vpc_bpa: vpc_bpa.as_ref(),
        },
    ));
}

/// Whether a resource with this owner belongs to the scanned account (an
/// unknown owner counts as the account's).
fn owned_by(owner: Option<&str>, account: &str) -> bool {
    owner.is_none_or(|o| o == account)
}

/// `arn:<partition>:ec2:<region>:<account>:<resource>`.
fn ec2_arn(region: &str, account: &str, resource: &str) -> String {
    format!(
        "arn:{}:ec2:{region}:{account}:{resource}",
        partition(region)
    )
}

fn tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (t.key(), t.value())))
}

/// `None` for missing and empty strings (the API's "none").
fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// A protocol in the shared vocabulary: `-1` (all), `tcp`, `udp`, `icmp`,
/// `icmpv6`, or the protocol number.
pub fn normalize_protocol(protocol: Option<&str>) -> Value {
    let Some(protocol) = protocol else {
        return Value::Null;
    };
    let lower = protocol.trim().to_ascii_lowercase();
    let name = match lower.as_str() {
        "-1" | "all" => "-1",
        "6" | "tcp" => "tcp",
        "17" | "udp" => "udp",
        "1" | "icmp" => "icmp",
        "58" | "icmpv6" => "icmpv6",
        other => other,
    };
    Value::String(name.to_owned())
}

fn metadata_options_json(options: &InstanceMetadataOptionsResponse) -> Value {
    json!({
        "state": options.state().map(|v| v.as_str()),
        "httpTokens": options.http_tokens().map(|v| v.as_str()),
        "httpEndpoint": options.http_endpoint().map(|v| v.as_str()),
        "httpPutResponseHopLimit": options.http_put_response_hop_limit(),
        "httpProtocolIpv6": options.http_protocol_ipv6().map(|v| v.as_str()),
        "instanceMetadataTags": options.instance_metadata_tags().map(|v| v.as_str()),
    })
}

/// An instance as an `AWS::EC2::Instance` asset; `None` without an id or
/// when terminated. `owner` is the reservation's owner (the ARN's account).
pub fn instance_asset(
    region: &str,
    account: &str,
    owner: &str,
    instance: &Instance,
) -> Option<Asset> {
    let id = instance.instance_id()?;
    let state = instance.state().and_then(|s| s.name()).map(|n| n.as_str());
    if state == Some("terminated") {
        return None;
    }
    let placement = instance.placement();
    let security_groups: Vec<Value> = instance
        .security_groups()
        .iter()
        .map(|g| json!({ "groupId": g.group_id(), "groupName": g.group_name() }))
        .collect();
    let network_interfaces: Vec<Value> = instance
        .network_interfaces()
        .iter()
        .map(|eni| {
            json!({
                "networkInterfaceId": eni.network_interface_id(),
                "subnetId": eni.subnet_id(),
                "vpcId": eni.vpc_id(),
                "privateIpAddress": eni.private_ip_address(),
                "association": eni.association().map(|a| json!({
                    "publicIp": a.public_ip(),
                    "publicDnsName": non_empty(a.public_dns_name()),
                    "ipOwnerId": a.ip_owner_id(),
                })),
                "groups": eni.groups().iter().map(|g| json!({
                    "groupId": g.group_id(),
                    "groupName": g.group_name(),
                })).collect::<Vec<_>>(),
                "sourceDestCheck": eni.source_dest_check(),
                "interfaceType": eni.interface_type(),
                "deviceIndex": eni.attachment().and_then(|a| a.device_index()),
            })
        })
        .collect();
    let block_devices: Vec<Value> = instance
        .block_device_mappings()
        .iter()
        .map(|b| {
            json!({
                "deviceName": b.device_name(),
                "ebs": b.ebs().map(|e| json!({
                    "volumeId": e.volume_id(),
                    "status": e.status().map(|s| s.as_str()),
                    "attachTime": opt_timestamp(e.attach_time()),
                    "deleteOnTermination": e.delete_on_termination(),
                })),
            })
        })
        .collect();
    let properties = json!({
        "instanceId": id,
        "ownerId": owner,
        "state": state,
        "stateTransitionReason": non_empty(instance.state_transition_reason()),
        "instanceType": instance.instance_type().map(|v| v.as_str()),
        "platform": instance.platform().map(|v| v.as_str()),
        "platformDetails": instance.platform_details(),
        "usageOperation": instance.usage_operation(),
        "architecture": instance.architecture().map(|v| v.as_str()),
        "virtualizationType": instance.virtualization_type().map(|v| v.as_str()),
        "imageId": instance.image_id(),
        "launchTime": opt_timestamp(instance.launch_time()),
        "keyName": instance.key_name(),
        "metadataOptions": instance.metadata_options().map(metadata_options_json),
        "publicIpAddress": non_empty(instance.public_ip_address()),
        "publicDnsName": non_empty(instance.public_dns_name()),
        "privateIpAddress": instance.private_ip_address(),
        "privateDnsName": non_empty(instance.private_dns_name()),
        "iamInstanceProfile": instance.iam_instance_profile().map(|p| json!({
            "arn": p.arn(),
            "id": p.id(),
        })),
        "subnetId": instance.subnet_id(),
        "vpcId": instance.vpc_id(),
        "availabilityZone": placement.and_then(|p| p.availability_zone()),
        "tenancy": placement.and_then(|p| p.tenancy()).map(|v| v.as_str()),
        "securityGroups": security_groups,
        "networkInterfaces": network_interfaces,
        "blockDeviceMappings": block_devices,
        "monitoring": instance.monitoring().map(|m| json!({
            "state": m.state().map(|v| v.as_str()),
        })),
        "rootDeviceType": instance.root_device_type().map(|v| v.as_str()),
        "rootDeviceName": instance.root_device_name(),
        "ebsOptimized": instance.ebs_optimized(),
        "sourceDestCheck": instance.source_dest_check(),
        "instanceLifecycle": instance.instance_lifecycle().map(|v| v.as_str()),
    });
    Some(
        Asset::new(
            ec2_arn(region, owner, &format!("instance/{id}")),
            INSTANCE,
            account,
            region,
            id,
            properties,
        )
        .with_tags(tags(instance.tags()))
        .with_name_tag(),
    )
}

/// One security group rule, normalized (see the module docs).
pub fn permission_json(permission: &IpPermission) -> Value {
    json!({
        "ipProtocol": normalize_protocol(permission.ip_protocol()),
        "fromPort": permission.from_port(),
        "toPort": permission.to_port(),
        "ipRanges": permission.ip_ranges().iter().map(|r| json!({
            "cidrIp": r.cidr_ip(),
            "description": r.description(),
        })).collect::<Vec<_>>(),
        "ipv6Ranges": permission.ipv6_ranges().iter().map(|r| json!({
            "cidrIpv6": r.cidr_ipv6(),
            "description": r.description(),
        })).collect::<Vec<_>>(),
        "userIdGroupPairs": permission.user_id_group_pairs().iter().map(|p| json!({
            "groupId": p.group_id(),
            "groupName": p.group_name(),
            "userId": p.user_id(),
            "vpcId": p.vpc_id(),
            "vpcPeeringConnectionId": p.vpc_peering_connection_id(),
            "peeringStatus": p.peering_status(),
            "description": p.description(),
        })).collect::<Vec<_>>(),
        "prefixListIds": permission.prefix_list_ids().iter().map(|p| json!({
            "prefixListId": p.prefix_list_id(),
            "description": p.description(),
        })).collect::<Vec<_>>(),
    })
}

/// How many network interfaces each security group is attached to.
pub fn network_interface_counts(interfaces: &[&NetworkInterface]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for eni in interfaces {
        let groups: BTreeSet<&str> = eni.groups().iter().filter_map(|g| g.group_id()).collect();
        for group in groups {
            *counts.entry(group.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// For each security group id, the other groups whose rules (ingress or
/// egress) reference it, sorted.
pub fn security_group_references(groups: &[&SecurityGroup]) -> BTreeMap<String, Vec<String>> {
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for group in groups {
        let Some(id) = group.group_id() else {
            continue;
        };
        let rules = group
            .ip_permissions()
            .iter()
            .chain(group.ip_permissions_egress());
        for pair in rules.flat_map(|r| r.user_id_group_pairs()) {
            if let Some(target) = pair.group_id().filter(|t| *t != id) {
                refs.entry(target.to_owned())
                    .or_default()
                    .insert(id.to_owned());
            }
        }
    }
    refs.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

/// A security group as an `AWS::EC2::SecurityGroup` asset; `None` without
/// an id. `attached` is the number of network interfaces using it, or why
/// that is unknown; `referenced_by` the groups whose rules name it.
pub fn security_group_asset(
    region: &str,
    account: &str,
    group: &SecurityGroup,
    attached: Result<usize, &CallFailure>,
    referenced_by: &[String],
) -> Option<Asset> {
    let id = group.group_id()?;
    let owner = group.owner_id().unwrap_or(account);
    let arn = group
        .security_group_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| ec2_arn(region, owner, &format!("security-group/{id}")));
    let (count, in_use) = match attached {
        Ok(n) => (json!(n), json!(n > 0)),
        Err(_) => (Value::Null, Value::Null),
    };
    let properties = json!({
        "groupId": id,
        "groupName": group.group_name(),
        "description": group.description(),
        "vpcId": group.vpc_id(),
        "ownerId": owner,
        "ipPermissions": group.ip_permissions().iter().map(permission_json).collect::<Vec<_>>(),
        "ipPermissionsEgress": group.ip_permissions_egress().iter().map(permission_json).collect::<Vec<_>>(),
        "networkInterfaceCount": count,
        "inUse": in_use,
        "referencedBy": referenced_by,
    });
    let mut asset = Asset::new(
        arn,
        SECURITY_GROUP,
        account,
        region,
        group.group_name().unwrap_or(id),
        properties,
    )
    .with_tags(tags(group.tags()))
    .with_name_tag();
    if let Err(failure) = attached {
        asset.mark_unavailable("networkInterfaceCount", failure.to_string());
        asset.mark_unavailable("inUse", failure.to_string());
    }
    Some(asset)
}

/// An EBS volume as an `AWS::EC2::Volume` asset; `None` without an id.
pub fn volume_asset(region: &str, account: &str, volume: &Volume) -> Option<Asset> {
    let id = volume.volume_id()?;
    let attachments: Vec<Value> = volume
        .attachments()
        .iter()
        .map(|a| {
            json!({
                "instanceId": a.instance_id(),
                "device": a.device(),
                "state": a.state().map(|v| v.as_str()),
                "attachTime": opt_timestamp(a.attach_time()),
                "deleteOnTermination": a.delete_on_termination(),
            })
        })
        .collect();
    let properties = json!({
        "volumeId": id,
        "size": volume.size(),
        "volumeType": volume.volume_type().map(|v| v.as_str()),
        "iops": volume.iops(),
        "throughput": volume.throughput(),
        "encrypted": volume.encrypted(),
        "kmsKeyId": volume.kms_key_id(),
        "state": volume.state().map(|v| v.as_str()),
        "availabilityZone": volume.availability_zone(),
        "createTime": opt_timestamp(volume.create_time()),
        "snapshotId": non_empty(volume.snapshot_id()),
        "multiAttachEnabled": volume.multi_attach_enabled(),
        "attachments": attachments,
    });
    Some(
        Asset::new(
            ec2_arn(region, account, &format!("volume/{id}")),
            VOLUME,
            account,
            region,
            id,
            properties,
        )
        .with_tags(tags(volume.tags()))
        .with_name_tag(),
    )
}

/// An EBS snapshot as an `AWS::EC2::Snapshot` asset (ARN without account,
/// as AWS writes it); `None` without an id. `permissions` is the snapshot's
/// `createVolumePermission` attribute, or why it could not be read.
pub fn snapshot_asset(
    region: &str,
    account: &str,
    snapshot: &Snapshot,
    permissions: Result<&[CreateVolumePermission], &CallFailure>,
) -> Option<Asset> {
    let id = snapshot.snapshot_id()?;
    let (list, public, shared) = match permissions {
        Ok(perms) => {
            let list: Vec<Value> = perms
                .iter()
                .map(|p| {
                    json!({
                        "group": p.group().map(|g| g.as_str()),
                        "userId": p.user_id(),
                    })
                })
                .collect();
            let public = perms
                .iter()
                .any(|p| p.group() == Some(&PermissionGroup::All));
            let shared: Vec<&str> = perms.iter().filter_map(|p| p.user_id()).collect();
            (json!(list), json!(public), json!(shared))
        }
        Err(_) => (Value::Null, Value::Null, Value::Null),
    };
    let properties = json!({
        "snapshotId": id,
        "volumeId": snapshot.volume_id(),
        "volumeSize": snapshot.volume_size(),
        "state": snapshot.state().map(|v| v.as_str()),
        "encrypted": snapshot.encrypted(),
        "kmsKeyId": snapshot.kms_key_id(),
        "startTime": opt_timestamp(snapshot.start_time()),
        "description": snapshot.description(),
        "ownerId": snapshot.owner_id(),
        "storageTier": snapshot.storage_tier().map(|v| v.as_str()),
        "createVolumePermissions": list,
        "public": public,
        "sharedWithAccounts": shared,
    });
    let mut asset = Asset::new(
        format!("arn:{}:ec2:{region}::snapshot/{id}", partition(region)),
        SNAPSHOT,
        account,
        region,
        id,
        properties,
    )
    .with_tags(tags(snapshot.tags()))
    .with_name_tag();
    if let Err(failure) = permissions {
        for key in ["createVolumePermissions", "public", "sharedWithAccounts"] {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    Some(asset)
}

/// A flow log's properties (also joined onto its VPC).
pub fn flow_log_json(log: &FlowLog) -> Value {
    json!({
        "flowLogId": log.flow_log_id(),
        "resourceId": log.resource_id(),
        "trafficType": log.traffic_type().map(|v| v.as_str()),
        "flowLogStatus": log.flow_log_status(),
        "deliverLogsStatus": log.deliver_logs_status(),
        "deliverLogsErrorMessage": log.deliver_logs_error_message(),
        "logDestinationType": log.log_destination_type().map(|v| v.as_str()),
        "logDestination": log.log_destination(),
        "logGroupName": log.log_group_name(),
        "deliverLogsPermissionArn": log.deliver_logs_permission_arn(),
        "maxAggregationInterval": log.max_aggregation_interval(),
        "logFormat": log.log_format(),
        "creationTime": opt_timestamp(log.creation_time()),
    })
}

/// A flow log as an `AWS::EC2::FlowLog` asset; `None` without an id.
pub fn flow_log_asset(region: &str, account: &str, log: &FlowLog) -> Option<Asset> {
    let id = log.flow_log_id()?;
    Some(
        Asset::new(
            ec2_arn(region, account, &format!("vpc-flow-log/{id}")),
            FLOW_LOG,
            account,
            region,
            id,
            flow_log_json(log),
        )
        .with_tags(tags(log.tags()))
        .with_name_tag(),
    )
}

/// A VPC as an `AWS::EC2::VPC` asset with `flowLogs`, the region's flow
/// logs whose resource is this VPC, and `vpcEndpoints`, the region's VPC
/// endpoints in this VPC (each `null` and unavailable when its list could
/// not be read); `None` without an id.
pub fn vpc_asset(
    region: &str,
    account: &str,
    vpc: &Vpc,
    flow_logs: Result<&[FlowLog], &CallFailure>,
    endpoints: Result<&[VpcEndpoint], &CallFailure>,
) -> Option<Asset> {
    let id = vpc.vpc_id()?;
    let owner = vpc.owner_id().unwrap_or(account);
    let logs = match flow_logs {
        Ok(logs) => Value::Array(
            logs.iter()
                .filter(|l| l.resource_id() == Some(id))
                .map(flow_log_json)
                .collect(),
        ),
        Err(_) => Value::Null,
    };
    let vpc_endpoints = match endpoints {
        Ok(list) => Value::Array(
            list.iter()
                .filter(|e| e.vpc_id() == Some(id))
                .map(network::vpc_endpoint_json)
                .collect(),
        ),
        Err(_) => Value::Null,
    };
    let properties = json!({
        "vpcId": id,
        "ownerId": owner,
        "cidrBlock": vpc.cidr_block(),
        "cidrBlockAssociationSet": vpc.cidr_block_association_set().iter().map(|c| json!({
            "cidrBlock": c.cidr_block(),
            "state": c.cidr_block_state().and_then(|s| s.state()).map(|v| v.as_str()),
        })).collect::<Vec<_>>(),
        "ipv6CidrBlockAssociationSet": vpc.ipv6_cidr_block_association_set().iter().map(|c| json!({
            "ipv6CidrBlock": c.ipv6_cidr_block(),
            "state": c.ipv6_cidr_block_state().and_then(|s| s.state()).map(|v| v.as_str()),
        })).collect::<Vec<_>>(),
        "isDefault": vpc.is_default(),
        "state": vpc.state().map(|v| v.as_str()),
        "dhcpOptionsId": vpc.dhcp_options_id(),
        "instanceTenancy": vpc.instance_tenancy().map(|v| v.as_str()),
        "flowLogs": logs,
        "vpcEndpoints": vpc_endpoints,
    });
    let mut asset = Asset::new(
        ec2_arn(region, owner, &format!("vpc/{id}")),
        VPC,
        account,
        region,
        id,
        properties,
    )
    .with_tags(tags(vpc.tags()))
    .with_name_tag();
    if let Err(failure) = flow_logs {
        asset.mark_unavailable("flowLogs", failure.to_string());
    }
    if let Err(failure) = endpoints {
        asset.mark_unavailable("vpcEndpoints", failure.to_string());
    }
    Some(asset)
}

fn acl_entry_json(entry: &NetworkAclEntry) -> Value {
    json!({
        "ruleNumber": entry.rule_number(),
        "egress": entry.egress(),
        "ruleAction": entry.rule_action().map(|v| v.as_str()),
        "protocol": normalize_protocol(entry.protocol()),
        "cidrBlock": entry.cidr_block(),
        "ipv6CidrBlock": entry.ipv6_cidr_block(),
        "portRange": entry.port_range().map(|r| json!({ "from": r.from(), "to": r.to() })),
        "icmpTypeCode": entry.icmp_type_code().map(|c| json!({ "type": c.r#type(), "code": c.code() })),
    })
}

/// A network ACL as an `AWS::EC2::NetworkAcl` asset, entries sorted by
/// direction (ingress first) then rule number; `None` without an id.
pub fn network_acl_asset(region: &str, account: &str, acl: &NetworkAcl) -> Option<Asset> {
    let id = acl.network_acl_id()?;
    let owner = acl.owner_id().unwrap_or(account);
    let mut entries: Vec<&NetworkAclEntry> = acl.entries().iter().collect();
    entries.sort_by_key(|e| {
        (
            e.egress().unwrap_or(false),
            e.rule_number().unwrap_or(i32::MAX),
        )
    });
    let properties = json!({
        "networkAclId": id,
        "vpcId": acl.vpc_id(),
        "ownerId": owner,
        "isDefault": acl.is_default(),
        "entries": entries.into_iter().map(acl_entry_json).collect::<Vec<_>>(),
        "associations": acl.associations().iter().map(|a| json!({
            "networkAclAssociationId": a.network_acl_association_id(),
            "subnetId": a.subnet_id(),
        })).collect::<Vec<_>>(),
    });
    Some(
        Asset::new(
            ec2_arn(region, owner, &format!("network-acl/{id}")),
            NETWORK_ACL,
            account,
            region,
            id,
            properties,
        )
        .with_tags(tags(acl.tags()))
        .with_name_tag(),
    )
}

/// An AMI as an `AWS::EC2::Image` asset (ARN without account, as AWS
/// writes it); `None` without an id.
pub fn image_asset(region: &str, account: &str, image: &Image) -> Option<Asset> {
    let id = image.image_id()?;
    let block_devices: Vec<Value> = image
        .block_device_mappings()
        .iter()
        .map(|b| {
            json!({
                "deviceName": b.device_name(),
                "ebs": b.ebs().map(|e| json!({
                    "snapshotId": e.snapshot_id(),
                    "encrypted": e.encrypted(),
                    "kmsKeyId": e.kms_key_id(),
                    "volumeSize": e.volume_size(),
                    "volumeType": e.volume_type().map(|v| v.as_str()),
                    "deleteOnTermination": e.delete_on_termination(),
                })),
            })
        })
        .collect();
    let properties = json!({
        "imageId": id,
        "name": image.name(),
        "description": image.description(),
        "ownerId": image.owner_id(),
        "imageOwnerAlias": image.image_owner_alias(),
        "state": image.state().map(|v| v.as_str()),
        "public": image.public(),
        "creationDate": image.creation_date(),
        "deprecationTime": image.deprecation_time(),
        "platformDetails": image.platform_details(),
        "architecture": image.architecture().map(|v| v.as_str()),
        "imageType": image.image_type().map(|v| v.as_str()),
        "rootDeviceType": image.root_device_type().map(|v| v.as_str()),
        "virtualizationType": image.virtualization_type().map(|v| v.as_str()),
        "imdsSupport": image.imds_support().map(|v| v.as_str()),
        "bootMode": image.boot_mode().map(|v| v.as_str()),
        "blockDeviceMappings": block_devices,
    });
    Some(
        Asset::new(
            format!("arn:{}:ec2:{region}::image/{id}", partition(region)),
            IMAGE,
            account,
            region,
            id,
            properties,
        )
        .with_tags(tags(image.tags()))
        .with_name_tag(),
    )
}

/// The region's EBS encryption-by-default setting and default KMS key, as
/// a [`types::EC2_EBS_ENCRYPTION_BY_DEFAULT`] asset. A failed call leaves
/// its properties `null` and marks them unavailable.
pub fn ebs_encryption_by_default_asset(
    region: &str,
    account: &str,
    encryption: Result<&GetEbsEncryptionByDefaultOutput, &CallFailure>,
    kms_key: Result<&GetEbsDefaultKmsKeyIdOutput, &CallFailure>,
) -> Asset {
    let enabled = encryption.ok().and_then(|o| o.ebs_encryption_by_default());
    let properties = json!({
        "ebsEncryptionByDefault": enabled,
        "sseType": encryption.ok().and_then(|o| o.sse_type()).map(|v| v.as_str()),
        "kmsKeyId": kms_key.ok().and_then(|o| o.kms_key_id()),
    });
    let mut asset = Asset::new(
        setting_id("ec2", region, account, "ebs-encryption-by-default"),
        types::EC2_EBS_ENCRYPTION_BY_DEFAULT,
        account,
        region,
        "ebs-encryption-by-default",
        properties,
    );
    if let Err(failure) = encryption {
        asset.mark_unavailable("ebsEncryptionByDefault", failure.to_string());
        asset.mark_unavailable("sseType", failure.to_string());
    }
    if let Err(failure) = kms_key {
        asset.mark_unavailable("kmsKeyId", failure.to_string());
    }
    asset
}

/// What the region settings calls answered (or why not).
#[derive(Debug, Clone, Copy)]
pub struct RegionSettingsReads<'a> {
    /// `GetSnapshotBlockPublicAccessState`.
    pub snapshot_bpa: Result<&'a GetSnapshotBlockPublicAccessStateOutput, &'a CallFailure>,
    /// `GetImageBlockPublicAccessState`.
    pub image_bpa: Result<&'a GetImageBlockPublicAccessStateOutput, &'a CallFailure>,
    /// `GetInstanceMetadataDefaults`.
    pub metadata_defaults: Result<&'a GetInstanceMetadataDefaultsOutput, &'a CallFailure>,
    /// `DescribeVpcBlockPublicAccessOptions`.
    pub vpc_bpa: Result<&'a DescribeVpcBlockPublicAccessOptionsOutput, &'a CallFailure>,
}

/// The region's snapshot and AMI block public access states, instance
/// metadata defaults and VPC Block Public Access options, as a
/// [`types::EC2_REGION_SETTINGS`] asset. A failed call leaves its property
/// `null` and marks it unavailable.
pub fn region_settings_asset(region: &str, account: &str, reads: RegionSettingsReads<'_>) -> Asset {
    let RegionSettingsReads {
        snapshot_bpa,
        image_bpa,
        metadata_defaults,
        vpc_bpa,
    } = reads;
    let snapshot = snapshot_bpa.ok().map(|o| {
        json!({
            "state": o.state().map(|v| v.as_str()),
            "managedBy": o.managed_by().map(|v| v.as_str()),
        })
    });
    let image = image_bpa.ok().map(|o| {
        json!({
            "imageBlockPublicAccessState": o.image_block_public_access_state(),
            "managedBy": o.managed_by().map(|v| v.as_str()),
        })
    });
    // No account-level defaults configured: every field `null` (instances
    // then take the AMI's and the launch request's settings).
    let metadata = metadata_defaults.ok().map(|o| {
        let d = o.account_level();
        json!({
            "httpTokens": d.and_then(|d| d.http_tokens()).map(|v| v.as_str()),
            "httpPutResponseHopLimit": d.and_then(|d| d.http_put_response_hop_limit()),
            "httpEndpoint": d.and_then(|d| d.http_endpoint()).map(|v| v.as_str()),
            "instanceMetadataTags": d.and_then(|d| d.instance_metadata_tags()).map(|v| v.as_str()),
            "httpTokensEnforced": d.and_then(|d| d.http_tokens_enforced()).map(|v| v.as_str()),
            "managedBy": d.and_then(|d| d.managed_by()).map(|v| v.as_str()),
            "managedExceptionMessage": d.and_then(|d| d.managed_exception_message()),
        })
    });
    let vpc = vpc_bpa.ok().map(|o| {
        let v = o.vpc_block_public_access_options();
        json!({
            "state": v.and_then(|v| v.state()).map(|s| s.as_str()),
            "internetGatewayBlockMode": v
                .and_then(|v| v.internet_gateway_block_mode())
                .map(|m| m.as_str()),
            "exclusionsAllowed": v.and_then(|v| v.exclusions_allowed()).map(|e| e.as_str()),
            "managedBy": v.and_then(|v| v.managed_by()).map(|m| m.as_str()),
        })
    });
    let properties = json!({
        "snapshotBlockPublicAccess": snapshot,
        "imageBlockPublicAccess": image,
        "instanceMetadataDefaults": metadata,
        "vpcBlockPublicAccess": vpc,
    });
    let mut asset = Asset::new(
        setting_id("ec2", region, account, "region-settings"),
        types::EC2_REGION_SETTINGS,
        account,
        region,
        "region-settings",
        properties,
    );
    let failures = [
        ("snapshotBlockPublicAccess", snapshot_bpa.err()),
        ("imageBlockPublicAccess", image_bpa.err()),
        ("instanceMetadataDefaults", metadata_defaults.err()),
        ("vpcBlockPublicAccess", vpc_bpa.err()),
    ];
    for (key, failure) in failures {
        if let Some(failure) = failure {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        AttachmentStatus, EbsInstanceBlockDevice, GroupIdentifier, HttpTokensState,
        IamInstanceProfile, InstanceBlockDeviceMapping, InstanceMetadataEndpointState,
        InstanceState, InstanceStateName, IpRange, Ipv6Range, Monitoring, MonitoringState,
        NetworkAclAssociation, PortRange, PrefixListId, RuleAction, TrafficType, UserIdGroupPair,
        VolumeAttachment, VolumeAttachmentState, VolumeState,
    };
    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use rampart_model::GapKind;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "eu-west-1";

    fn failure(message: &str) -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("UnauthorizedOperation".into()),
            message: message.into(),
        }
    }

    fn tag(key: &str, value: &str) -> Tag {
        Tag::builder().key(key).value(value).build()
    }

    fn instance(tokens: HttpTokensState, public_ip: Option<&str>) -> Instance {
        Instance::builder()
            .instance_id("i-0abc")
            .state(
                InstanceState::builder()
                    .name(InstanceStateName::Running)
                    .build(),
            )
            .instance_type("t3.micro".into())
            .image_id("ami-1")
            .platform_details("Linux/UNIX")
            .launch_time(aws_smithy_types::DateTime::from_secs(86_400))
            .metadata_options(
                InstanceMetadataOptionsResponse::builder()
                    .http_tokens(tokens)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .http_put_response_hop_limit(1)
                    .build(),
            )
            .set_public_ip_address(public_ip.map(str::to_owned))
            .public_dns_name("")
            .private_ip_address("10.0.0.5")
            .iam_instance_profile(
                IamInstanceProfile::builder()
                    .arn("arn:aws:iam::123456789012:instance-profile/web")
                    .id("AIP1")
                    .build(),
            )
            .subnet_id("subnet-1")
            .vpc_id("vpc-1")
            .security_groups(
                GroupIdentifier::builder()
                    .group_id("sg-1")
                    .group_name("web")
                    .build(),
            )
            .block_device_mappings(
                InstanceBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        EbsInstanceBlockDevice::builder()
                            .volume_id("vol-1")
                            .status(AttachmentStatus::Attached)
                            .delete_on_termination(true)
                            .build(),
                    )
                    .build(),
            )
            .monitoring(
                Monitoring::builder()
                    .state(MonitoringState::Disabled)
                    .build(),
            )
            .tags(tag("Name", "web-1"))
            .build()
    }

    #[test]
    fn maps_instances_with_imdsv2_and_without() {
        let healthy = instance_asset(
            REGION,
            ACCOUNT,
            "210987654321",
            &instance(HttpTokensState::Required, None),
        );
        let healthy = healthy.unwrap();
        assert_eq!(
            healthy.arn,
            "arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc"
        );
        assert_eq!(healthy.resource_type, "AWS::EC2::Instance");
        assert_eq!(healthy.account, ACCOUNT);
        assert_eq!(healthy.tags["Name"], "web-1");
        let p = &healthy.properties;
        assert_eq!(p["state"], "running");
        assert_eq!(p["instanceType"], "t3.micro");
        assert_eq!(p["metadataOptions"]["httpTokens"], "required");
        assert_eq!(p["metadataOptions"]["httpEndpoint"], "enabled");
        assert_eq!(p["metadataOptions"]["httpPutResponseHopLimit"], 1);
        assert_eq!(p["publicIpAddress"], Value::Null);
        assert_eq!(p["publicDnsName"], Value::Null, "empty string means none");
        assert_eq!(
            p["iamInstanceProfile"]["arn"],
            "arn:aws:iam::123456789012:instance-profile/web"
        );
        assert_eq!(p["securityGroups"][0]["groupId"], "sg-1");
        assert_eq!(p["blockDeviceMappings"][0]["ebs"]["volumeId"], "vol-1");
        assert_eq!(p["blockDeviceMappings"][0]["ebs"]["status"], "attached");
        assert_eq!(p["monitoring"]["state"], "disabled");
        assert_eq!(p["launchTime"], "1970-01-02T00:00:00Z");
        assert_eq!(p["platformDetails"], "Linux/UNIX");

        let exposed = instance_asset(
            REGION,
            ACCOUNT,
            ACCOUNT,
            &instance(HttpTokensState::Optional, Some("54.1.2.3")),
        )
        .unwrap();
        assert_eq!(
            exposed.properties["metadataOptions"]["httpTokens"],
            "optional"
        );
        assert_eq!(exposed.properties["publicIpAddress"], "54.1.2.3");
    }

    #[test]
    fn skips_terminated_and_idless_instances_and_keeps_missing_metadata_null() {
        let terminated = Instance::builder()
            .instance_id("i-dead")
            .state(
                InstanceState::builder()
                    .name(InstanceStateName::Terminated)
                    .build(),
            )
            .build();
        assert!(instance_asset(REGION, ACCOUNT, ACCOUNT, &terminated).is_none());
        assert!(instance_asset(REGION, ACCOUNT, ACCOUNT, &Instance::builder().build()).is_none());
        let bare = Instance::builder().instance_id("i-1").build();
        let asset = instance_asset(REGION, ACCOUNT, ACCOUNT, &bare).unwrap();
        assert_eq!(asset.properties["metadataOptions"], Value::Null);
        assert_eq!(asset.properties["iamInstanceProfile"], Value::Null);
    }

    #[test]
    fn normalizes_protocols() {
        assert_eq!(normalize_protocol(Some("-1")), "-1");
        assert_eq!(normalize_protocol(Some("6")), "tcp");
        assert_eq!(normalize_protocol(Some("TCP")), "tcp");
        assert_eq!(normalize_protocol(Some("17")), "udp");
        assert_eq!(normalize_protocol(Some("58")), "icmpv6");
        assert_eq!(normalize_protocol(Some("50")), "50");
        assert_eq!(normalize_protocol(None), Value::Null);
    }

    fn open_group() -> SecurityGroup {
        SecurityGroup::builder()
            .group_id("sg-open")
            .group_name("open")
            .description("too open")
            .vpc_id("vpc-1")
            .owner_id(ACCOUNT)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(22)
                    .to_port(22)
                    .ip_ranges(
                        IpRange::builder()
                            .cidr_ip("0.0.0.0/0")
                            .description("ssh")
                            .build(),
                    )
                    .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                    .build(),
            )
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id("sg-app")
                            .user_id(ACCOUNT)
                            .build(),
                    )
                    .build(),
            )
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("6")
                    .from_port(443)
                    .to_port(443)
                    .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-1").build())
                    .build(),
            )
            .ip_permissions_egress(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .tags(tag("team", "web"))
            .build()
    }

    #[test]
    fn maps_security_group_rules_and_usage() {
        let group = open_group();
        let asset =
            security_group_asset(REGION, ACCOUNT, &group, Ok(2), &["sg-lb".to_owned()]).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-open"
        );
        assert_eq!(asset.resource_type, "AWS::EC2::SecurityGroup");
        let p = &asset.properties;
        let ssh = &p["ipPermissions"][0];
        assert_eq!(ssh["ipProtocol"], "tcp");
        assert_eq!(ssh["fromPort"], 22);
        assert_eq!(ssh["toPort"], 22);
        assert_eq!(ssh["ipRanges"][0]["cidrIp"], "0.0.0.0/0");
        assert_eq!(ssh["ipRanges"][0]["description"], "ssh");
        assert_eq!(ssh["ipv6Ranges"][0]["cidrIpv6"], "::/0");
        let all = &p["ipPermissions"][1];
        assert_eq!(all["ipProtocol"], "-1");
        assert_eq!(all["fromPort"], Value::Null);
        assert_eq!(all["userIdGroupPairs"][0]["groupId"], "sg-app");
        let https = &p["ipPermissions"][2];
        assert_eq!(
            https["ipProtocol"], "tcp",
            "protocol numbers are normalized"
        );
        assert_eq!(https["prefixListIds"][0]["prefixListId"], "pl-1");
        assert_eq!(
            p["ipPermissionsEgress"][0]["ipRanges"][0]["cidrIp"],
            "0.0.0.0/0"
        );
        assert_eq!(p["networkInterfaceCount"], 2);
        assert_eq!(p["inUse"], true);
        assert_eq!(p["referencedBy"][0], "sg-lb");
        assert!(asset.unavailable.is_empty());
        assert_eq!(asset.tags["team"], "web");

        let unused = security_group_asset(REGION, ACCOUNT, &group, Ok(0), &[]).unwrap();
        assert_eq!(unused.properties["inUse"], false);

        let denied = failure("UnauthorizedOperation: no");
        let unknown = security_group_asset(REGION, ACCOUNT, &group, Err(&denied), &[]).unwrap();
        assert_eq!(unknown.properties["inUse"], Value::Null);
        assert_eq!(unknown.unavailable["inUse"], "UnauthorizedOperation: no");
        assert!(unknown.unavailable.contains_key("networkInterfaceCount"));
    }

    #[test]
    fn counts_attachments_and_references() {
        let eni = |id: &str, groups: &[&str]| {
            let mut b = NetworkInterface::builder().network_interface_id(id);
            for g in groups {
                b = b.groups(GroupIdentifier::builder().group_id(*g).build());
            }
            b.build()
        };
        let enis = [
            eni("eni-1", &["sg-a", "sg-b"]),
            eni("eni-2", &["sg-a"]),
            eni("eni-3", &[]),
        ];
        let refs: Vec<&NetworkInterface> = enis.iter().collect();
        let counts = network_interface_counts(&refs);
        assert_eq!(counts.get("sg-a"), Some(&2));
        assert_eq!(counts.get("sg-b"), Some(&1));
        assert_eq!(counts.get("sg-c"), None);

        let open = open_group();
        let self_ref = SecurityGroup::builder()
            .group_id("sg-app")
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-app").build())
                    .build(),
            )
            .build();
        let references = security_group_references(&[&open, &self_ref]);
        assert_eq!(references.get("sg-app"), Some(&vec!["sg-open".to_owned()]));
        assert_eq!(
            references.get("sg-open"),
            None,
            "self references do not count"
        );
    }

    #[test]
    fn maps_volumes() {
        let volume = Volume::builder()
            .volume_id("vol-1")
            .size(10)
            .volume_type("gp3".into())
            .encrypted(false)
            .state(VolumeState::InUse)
            .availability_zone("eu-west-1a")
            .snapshot_id("")
            .attachments(
                VolumeAttachment::builder()
                    .instance_id("i-1")
                    .device("/dev/sdf")
                    .state(VolumeAttachmentState::Attached)
                    .delete_on_termination(false)
                    .build(),
            )
            .build();
        let asset = volume_asset(REGION, ACCOUNT, &volume).unwrap();
        assert_eq!(asset.arn, "arn:aws:ec2:eu-west-1:123456789012:volume/vol-1");
        let p = &asset.properties;
        assert_eq!(p["encrypted"], false);
        assert_eq!(p["kmsKeyId"], Value::Null);
        assert_eq!(p["size"], 10);
        assert_eq!(p["state"], "in-use");
        assert_eq!(p["snapshotId"], Value::Null);
        assert_eq!(p["attachments"][0]["instanceId"], "i-1");
        assert_eq!(p["attachments"][0]["state"], "attached");

        let encrypted = Volume::builder()
            .volume_id("vol-2")
            .encrypted(true)
            .kms_key_id("arn:aws:kms:eu-west-1:123456789012:key/k")
            .build();
        let asset = volume_asset(REGION, ACCOUNT, &encrypted).unwrap();
        assert_eq!(asset.properties["encrypted"], true);
        assert_eq!(
            asset.properties["kmsKeyId"],
            "arn:aws:kms:eu-west-1:123456789012:key/k"
        );
        assert_eq!(asset.properties["attachments"], json!([]));
    }

    fn snapshot() -> Snapshot {
        Snapshot::builder()
            .snapshot_id("snap-1")
            .owner_id(ACCOUNT)
            .volume_id("vol-1")
            .encrypted(false)
            .volume_size(8)
            .tags(tag("k", "v"))
            .build()
    }

    #[test]
    fn maps_snapshot_sharing() {
        let public = [
            CreateVolumePermission::builder()
                .group(PermissionGroup::All)
                .build(),
            CreateVolumePermission::builder()
                .user_id("111122223333")
                .build(),
        ];
        let asset = snapshot_asset(REGION, ACCOUNT, &snapshot(), Ok(&public)).unwrap();
        assert_eq!(asset.arn, "arn:aws:ec2:eu-west-1::snapshot/snap-1");
        assert_eq!(asset.resource_type, "AWS::EC2::Snapshot");
        assert_eq!(asset.account, ACCOUNT);
        let p = &asset.properties;
        assert_eq!(p["public"], true);
        assert_eq!(p["sharedWithAccounts"], json!(["111122223333"]));
        assert_eq!(p["createVolumePermissions"][0]["group"], "all");
        assert_eq!(p["encrypted"], false);
        assert_eq!(asset.tags["k"], "v");

        let private = snapshot_asset(REGION, ACCOUNT, &snapshot(), Ok(&[])).unwrap();
        assert_eq!(private.properties["public"], false);
        assert_eq!(private.properties["sharedWithAccounts"], json!([]));
        assert!(private.unavailable.is_empty());

        let denied = failure("UnauthorizedOperation: nope");
        let unknown = snapshot_asset(REGION, ACCOUNT, &snapshot(), Err(&denied)).unwrap();
        assert_eq!(unknown.properties["public"], Value::Null);
        assert_eq!(unknown.unavailable["public"], "UnauthorizedOperation: nope");
        assert!(unknown.unavailable.contains_key("createVolumePermissions"));
        assert!(unknown.unavailable.contains_key("sharedWithAccounts"));
    }

    fn flow_log(id: &str, resource: &str) -> FlowLog {
        FlowLog::builder()
            .flow_log_id(id)
            .resource_id(resource)
            .traffic_type(TrafficType::All)
            .flow_log_status("ACTIVE")
            .deliver_logs_status("SUCCESS")
            .log_group_name("flows")
            .build()
    }

    #[test]
    fn joins_flow_logs_onto_vpcs() {
        let vpc = Vpc::builder()
            .vpc_id("vpc-1")
            .owner_id(ACCOUNT)
            .cidr_block("10.0.0.0/16")
            .is_default(false)
            .build();
        let logs = [flow_log("fl-1", "vpc-1"), flow_log("fl-2", "subnet-9")];
        let endpoints = [
            VpcEndpoint::builder()
                .vpc_endpoint_id("vpce-1")
                .vpc_id("vpc-1")
                .service_name("com.amazonaws.eu-west-1.ec2")
                .build(),
            VpcEndpoint::builder()
                .vpc_endpoint_id("vpce-2")
                .vpc_id("vpc-2")
                .service_name("com.amazonaws.eu-west-1.ssm")
                .build(),
        ];
        let asset = vpc_asset(REGION, ACCOUNT, &vpc, Ok(&logs), Ok(&endpoints)).unwrap();
        assert_eq!(asset.arn, "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1");
        assert_eq!(asset.resource_type, "AWS::EC2::VPC");
        let p = &asset.properties;
        assert_eq!(p["isDefault"], false);
        assert_eq!(p["cidrBlock"], "10.0.0.0/16");
        assert_eq!(p["flowLogs"].as_array().map(Vec::len), Some(1));
        assert_eq!(p["flowLogs"][0]["flowLogId"], "fl-1");
        assert_eq!(p["flowLogs"][0]["trafficType"], "ALL");
        assert_eq!(p["vpcEndpoints"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            p["vpcEndpoints"][0]["serviceName"],
            "com.amazonaws.eu-west-1.ec2"
        );

        let none = vpc_asset(REGION, ACCOUNT, &vpc, Ok(&[]), Ok(&[])).unwrap();
        assert_eq!(none.properties["flowLogs"], json!([]));
        assert_eq!(none.properties["vpcEndpoints"], json!([]));
        assert!(none.unavailable.is_empty());

        let denied = failure("denied");
        let unknown = vpc_asset(REGION, ACCOUNT, &vpc, Err(&denied), Err(&denied)).unwrap();
        assert_eq!(unknown.properties["flowLogs"], Value::Null);
        assert_eq!(unknown.unavailable["flowLogs"], "denied");
        assert_eq!(unknown.properties["vpcEndpoints"], Value::Null);
        assert_eq!(unknown.unavailable["vpcEndpoints"], "denied");

        let log = flow_log_asset(REGION, ACCOUNT, &logs[0]).unwrap();
        assert_eq!(
            log.arn,
            "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/fl-1"
        );
        assert_eq!(log.resource_type, "AWS::EC2::FlowLog");
        assert_eq!(log.properties["resourceId"], "vpc-1");
        assert_eq!(log.properties["deliverLogsStatus"], "SUCCESS");
    }

    #[test]
    fn maps_network_acl_entries_in_evaluation_order() {
        let entry = |n: i32, egress: bool, protocol: &str| {
            NetworkAclEntry::builder()
                .rule_number(n)
                .egress(egress)
                .protocol(protocol)
                .rule_action(RuleAction::Allow)
                .cidr_block("0.0.0.0/0")
        };
        let acl = NetworkAcl::builder()
            .network_acl_id("acl-1")
            .vpc_id("vpc-1")
            .owner_id(ACCOUNT)
            .is_default(false)
            .entries(
                entry(32767, false, "-1")
                    .rule_action(RuleAction::Deny)
                    .build(),
            )
            .entries(entry(100, true, "-1").build())
            .entries(
                entry(100, false, "6")
                    .port_range(PortRange::builder().from(22).to(22).build())
                    .build(),
            )
            .associations(
                NetworkAclAssociation::builder()
                    .subnet_id("subnet-1")
                    .build(),
            )
            .build();
        let asset = network_acl_asset(REGION, ACCOUNT, &acl).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:ec2:eu-west-1:123456789012:network-acl/acl-1"
        );
        let entries = &asset.properties["entries"];
        assert_eq!(entries[0]["ruleNumber"], 100);
        assert_eq!(entries[0]["egress"], false);
        assert_eq!(entries[0]["protocol"], "tcp");
        assert_eq!(entries[0]["portRange"], json!({"from": 22, "to": 22}));
        assert_eq!(entries[1]["ruleNumber"], 32767);
        assert_eq!(entries[1]["ruleAction"], "deny");
        assert_eq!(entries[1]["portRange"], Value::Null);
        assert_eq!(entries[2]["egress"], true);
        assert_eq!(entries[2]["protocol"], "-1");
        assert_eq!(asset.properties["associations"][0]["subnetId"], "subnet-1");
    }

    #[test]
    fn maps_images() {
        let image = Image::builder()
            .image_id("ami-1")
            .name("golden")
            .owner_id(ACCOUNT)
            .public(true)
            .state("available".into())
            .creation_date("2024-05-01T10:00:00.000Z")
            .build();
        let asset = image_asset(REGION, ACCOUNT, &image).unwrap();
        assert_eq!(asset.arn, "arn:aws:ec2:eu-west-1::image/ami-1");
        assert_eq!(asset.resource_type, "AWS::EC2::Image");
        assert_eq!(asset.properties["public"], true);
        assert_eq!(asset.properties["state"], "available");
        assert_eq!(asset.properties["creationDate"], "2024-05-01T10:00:00.000Z");
        let private = Image::builder().image_id("ami-2").public(false).build();
        assert_eq!(
            image_asset(REGION, ACCOUNT, &private).unwrap().properties["public"],
            false
        );
    }

    #[test]
    fn ownership_filter() {
        assert!(owned_by(Some(ACCOUNT), ACCOUNT));
        assert!(owned_by(None, ACCOUNT));
        assert!(!owned_by(Some("999999999999"), ACCOUNT));
    }

    #[test]
    fn maps_ebs_encryption_by_default() {
        let on = GetEbsEncryptionByDefaultOutput::builder()
            .ebs_encryption_by_default(true)
            .build();
        let key = GetEbsDefaultKmsKeyIdOutput::builder()
            .kms_key_id("alias/aws/ebs")
            .build();
        let asset = ebs_encryption_by_default_asset(REGION, ACCOUNT, Ok(&on), Ok(&key));
        assert_eq!(
            asset.arn,
            "arn:rampart:ec2:eu-west-1:123456789012:ebs-encryption-by-default"
        );
        assert_eq!(asset.resource_type, "Rampart::EC2::EbsEncryptionByDefault");
        assert_eq!(asset.properties["ebsEncryptionByDefault"], true);
        assert_eq!(asset.properties["kmsKeyId"], "alias/aws/ebs");
        assert!(asset.unavailable.is_empty());

        // moto: the key call is not implemented; encryption still reads.
        let off = GetEbsEncryptionByDefaultOutput::builder()
            .ebs_encryption_by_default(false)
            .build();
        let missing = failure("unparseable response (HTTP 500)");
        let asset = ebs_encryption_by_default_asset(REGION, ACCOUNT, Ok(&off), Err(&missing));
        assert_eq!(asset.properties["ebsEncryptionByDefault"], false);
        assert_eq!(asset.properties["kmsKeyId"], Value::Null);
        assert_eq!(
            asset.unavailable["kmsKeyId"],
            "unparseable response (HTTP 500)"
        );
        assert!(!asset.unavailable.contains_key("ebsEncryptionByDefault"));

        let denied = failure("denied");
        let asset = ebs_encryption_by_default_asset(REGION, ACCOUNT, Err(&denied), Err(&denied));
        assert_eq!(asset.properties["ebsEncryptionByDefault"], Value::Null);
        assert!(asset.unavailable.contains_key("ebsEncryptionByDefault"));
    }

    /// An HTTP connector that answers every request with one recorded response.
    #[derive(Debug)]
    struct Recorded {
        status: u16,
        body: &'static str,
    }

    impl HttpConnector for Recorded {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let status = StatusCode::try_from(self.status).unwrap();
            HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::from(self.body))))
        }
    }

    /// An EC2 client whose every call gets `body` with `status`.
    fn replay(status: u16, body: &'static str) -> Client {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new(REGION))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "AKID", "SECRET", None, None, "test",
            ))
            .retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
            .http_client(http_client_fn(move |_, _| {
                SharedHttpConnector::new(Recorded { status, body })
            }))
            .build();
        Client::from_conf(config)
    }

    const SNAPSHOT_BPA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetSnapshotBlockPublicAccessStateResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>edb7c570-be05-4192-bd1b-example</requestId>
    <state>block-all-sharing</state>
    <managedBy>account</managedBy>
</GetSnapshotBlockPublicAccessStateResponse>"#;

    const IMAGE_BPA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetImageBlockPublicAccessStateResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>a1b2c3d4-5678-90ab-cdef-example</requestId>
    <imageBlockPublicAccessState>unblocked</imageBlockPublicAccessState>
    <managedBy>account</managedBy>
</GetImageBlockPublicAccessStateResponse>"#;

    const METADATA_DEFAULTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetInstanceMetadataDefaultsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>59dbff89-35bd-4eac-99ed-example</requestId>
    <accountLevel>
        <httpTokens>required</httpTokens>
        <httpPutResponseHopLimit>2</httpPutResponseHopLimit>
        <httpEndpoint>enabled</httpEndpoint>
        <instanceMetadataTags>disabled</instanceMetadataTags>
    </accountLevel>
</GetInstanceMetadataDefaultsResponse>"#;

    const NO_METADATA_DEFAULTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetInstanceMetadataDefaultsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>59dbff89-35bd-4eac-99ed-example</requestId>
    <accountLevel/>
</GetInstanceMetadataDefaultsResponse>"#;

    const EBS_KEY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetEbsDefaultKmsKeyIdResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>8b0d2a8e-4b2b-4a71-9d3a-example</requestId>
    <kmsKeyId>arn:aws:kms:eu-west-1:123456789012:key/abcd</kmsKeyId>
</GetEbsDefaultKmsKeyIdResponse>"#;

    const VPC_BPA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcBlockPublicAccessOptionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>3f1c2a9e-7d41-4c8b-9f0e-example</requestId>
    <vpcBlockPublicAccessOptions>
        <awsAccountId>123456789012</awsAccountId>
        <awsRegion>eu-west-1</awsRegion>
        <state>update-complete</state>
        <internetGatewayBlockMode>block-bidirectional</internetGatewayBlockMode>
        <managedBy>account</managedBy>
        <exclusionsAllowed>allowed</exclusionsAllowed>
    </vpcBlockPublicAccessOptions>
</DescribeVpcBlockPublicAccessOptionsResponse>"#;

    /// moto's answer to an operation it does not implement.
    const MOTO_500: &str = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>";

    #[tokio::test]
    async fn maps_recorded_region_settings_responses() {
        let snapshots = replay(200, SNAPSHOT_BPA)
            .get_snapshot_block_public_access_state()
            .send()
            .await
            .unwrap();
        let images = replay(200, IMAGE_BPA)
            .get_image_block_public_access_state()
            .send()
            .await
            .unwrap();
        let metadata = replay(200, METADATA_DEFAULTS)
            .get_instance_metadata_defaults()
            .send()
            .await
            .unwrap();
        let vpc_bpa = replay(200, VPC_BPA)
            .describe_vpc_block_public_access_options()
            .send()
            .await
            .unwrap();
        let reads = RegionSettingsReads {
            snapshot_bpa: Ok(&snapshots),
            image_bpa: Ok(&images),
            metadata_defaults: Ok(&metadata),
            vpc_bpa: Ok(&vpc_bpa),
        };
        let asset = region_settings_asset(REGION, ACCOUNT, reads);
        assert_eq!(
            asset.arn,
            "arn:rampart:ec2:eu-west-1:123456789012:region-settings"
        );
        assert_eq!(asset.resource_type, "Rampart::EC2::RegionSettings");
        let p = &asset.properties;
        assert_eq!(p["snapshotBlockPublicAccess"]["state"], "block-all-sharing");
        assert_eq!(p["snapshotBlockPublicAccess"]["managedBy"], "account");
        assert_eq!(
            p["imageBlockPublicAccess"]["imageBlockPublicAccessState"],
            "unblocked"
        );
        assert_eq!(p["instanceMetadataDefaults"]["httpTokens"], "required");
        assert_eq!(p["instanceMetadataDefaults"]["httpPutResponseHopLimit"], 2);
        assert_eq!(p["instanceMetadataDefaults"]["httpEndpoint"], "enabled");
        assert_eq!(
            p["vpcBlockPublicAccess"]["internetGatewayBlockMode"],
            "block-bidirectional"
        );
        assert_eq!(p["vpcBlockPublicAccess"]["state"], "update-complete");
        assert_eq!(p["vpcBlockPublicAccess"]["exclusionsAllowed"], "allowed");
        assert!(asset.unavailable.is_empty());

        let unset = replay(200, NO_METADATA_DEFAULTS)
            .get_instance_metadata_defaults()
            .send()
            .await
            .unwrap();
        let asset = region_settings_asset(
            REGION,
            ACCOUNT,
            RegionSettingsReads {
                metadata_defaults: Ok(&unset),
                ..reads
            },
        );
        assert_eq!(
            asset.properties["instanceMetadataDefaults"]["httpTokens"],
            Value::Null
        );
        assert!(asset.unavailable.is_empty());

        let key = replay(200, EBS_KEY)
            .get_ebs_default_kms_key_id()
            .send()
            .await
            .unwrap();
        assert_eq!(
            key.kms_key_id(),
            Some("arn:aws:kms:eu-west-1:123456789012:key/abcd")
        );
    }

    #[tokio::test]
    async fn moto_unimplemented_calls_become_unavailable_properties() {
        let err = replay(500, MOTO_500)
            .get_snapshot_block_public_access_state()
            .send()
            .await
            .unwrap_err();
        let failure = crate::error::classify(&err);
        assert!(failure.message.contains("HTTP 500"), "{}", failure.message);
        let images = GetImageBlockPublicAccessStateOutput::builder()
            .image_block_public_access_state("block-new-sharing")
            .build();
        let asset = region_settings_asset(
            REGION,
            ACCOUNT,
            RegionSettingsReads {
                snapshot_bpa: Err(&failure),
                image_bpa: Ok(&images),
                metadata_defaults: Err(&failure),
                vpc_bpa: Err(&failure),
            },
        );
        assert_eq!(asset.properties["snapshotBlockPublicAccess"], Value::Null);
        assert_eq!(asset.properties["instanceMetadataDefaults"], Value::Null);
        assert_eq!(
            asset.properties["imageBlockPublicAccess"]["imageBlockPublicAccessState"],
            "block-new-sharing"
        );
        assert_eq!(
            asset.unavailable["snapshotBlockPublicAccess"],
            failure.message
        );
        assert!(asset.unavailable.contains_key("instanceMetadataDefaults"));
        assert!(!asset.unavailable.contains_key("imageBlockPublicAccess"));
        assert_eq!(asset.properties["vpcBlockPublicAccess"], Value::Null);
        assert!(asset.unavailable.contains_key("vpcBlockPublicAccess"));
    }

    #[test]
    fn meta_declares_every_emitted_type() {
        for t in [
            INSTANCE,
            SECURITY_GROUP,
            VOLUME,
            SNAPSHOT,
            VPC,
            FLOW_LOG,
            NETWORK_ACL,
            IMAGE,
            network::SUBNET,
            network::LAUNCH_TEMPLATE,
            network::TRANSIT_GATEWAY,
            network::VPN_CONNECTION,
            network::CLIENT_VPN_ENDPOINT,
            network::EIP,
        ] {
            assert!(META.resource_types.contains(&t), "{t}");
        }
        assert!(
            META.operations
                .iter()
                .all(|op| op.action == format!("ec2:{}", op.name))
        );
        assert_eq!(META.operations.len(), 24);
    }
}
