//! The EC2 collector's VPC networking part: subnets, launch templates
//! (with their default version), transit gateways, site-to-site VPN
//! connections, Client VPN endpoints and Elastic IP addresses. VPC
//! endpoints are joined onto their VPC (`vpcEndpoints`, in the parent
//! module) and VPC Block Public Access onto the region settings.
//!
//! # Calls per region
//!
//! `DescribeSubnets`, `DescribeTransitGateways`, `DescribeClientVpnEndpoints`
//! and `DescribeVpcEndpoints` page at 1000; `DescribeLaunchTemplates` and
//! `DescribeLaunchTemplateVersions` at 200; `DescribeVpnConnections` and
//! `DescribeAddresses` are not paginated. Launch templates take two list
//! calls and nothing per template: `DescribeLaunchTemplateVersions` with
//! `Versions=[$Default]` and no template id answers the default version of
//! every template of the region. It runs after `DescribeLaunchTemplates`,
//! so a listed template whose default version is missing was deleted in
//! between (`deleted: true`).
//!
//! Resources owned by another account (shared subnets and transit
//! gateways) are skipped; deleted transit gateways, VPN connections and
//! Client VPN endpoints (still listed for a while after deletion) too.
//!
//! # moto
//!
//! moto 5.2.5 does not implement `DescribeClientVpnEndpoints` nor
//! `DescribeVpcBlockPublicAccessOptions`: against it they are gaps and no
//! Client VPN asset is emitted (the VPC Block Public Access property of
//! the region settings is unavailable). Its VPN connections report no
//! `VgwTelemetry` and no tunnel options.

use std::collections::HashMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Address, ClientVpnEndpoint, LaunchTemplate, LaunchTemplateBlockDeviceMapping,
    LaunchTemplateInstanceNetworkInterfaceSpecification, LaunchTemplateVersion, Subnet,
    TransitGateway, VpcEndpoint, VpnConnection,
};
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{PAGE_SIZE, ec2_arn, non_empty, owned_by, tags};
use crate::collectors::opt_timestamp;
use crate::error::CallFailure;
use crate::scan::CollectContext;

/// CloudFormation type of subnets.
pub const SUBNET: &str = "AWS::EC2::Subnet";
/// CloudFormation type of launch templates.
pub const LAUNCH_TEMPLATE: &str = "AWS::EC2::LaunchTemplate";
/// CloudFormation type of transit gateways.
pub const TRANSIT_GATEWAY: &str = "AWS::EC2::TransitGateway";
/// CloudFormation type of site-to-site VPN connections.
pub const VPN_CONNECTION: &str = "AWS::EC2::VPNConnection";
/// CloudFormation type of Client VPN endpoints.
pub const CLIENT_VPN_ENDPOINT: &str = "AWS::EC2::ClientVpnEndpoint";
/// CloudFormation type of Elastic IP addresses.
pub const EIP: &str = "AWS::EC2::EIP";

/// Largest page size of the launch template list calls.
const TEMPLATE_PAGE_SIZE: i32 = 200;

pub(super) async fn collect_subnets(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_subnets()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeSubnets", stream).await else {
        return;
    };
    for subnet in pages.iter().flat_map(|p| p.subnets()) {
        if !owned_by(subnet.owner_id(), ctx.account()) {
            continue;
        }
        if let Some(asset) = subnet_asset(ctx.region(), ctx.account(), subnet) {
            ctx.emit(asset);
        }
    }
}

pub(super) async fn collect_launch_templates(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_launch_templates()
        .max_results(TEMPLATE_PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeLaunchTemplates", stream).await else {
        return;
    };
    let templates: Vec<&LaunchTemplate> = pages.iter().flat_map(|p| p.launch_templates()).collect();
    if templates.is_empty() {
        return;
    }
    // After the template list: a template missing here was deleted since.
    let versions = ctx
        .pages(
            "DescribeLaunchTemplateVersions",
            client
                .describe_launch_template_versions()
                .versions("$Default")
                .max_results(TEMPLATE_PAGE_SIZE)
                .into_paginator()
                .send(),
        )
        .await;
    let defaults: Result<HashMap<&str, &LaunchTemplateVersion>, &CallFailure> = versions
        .as_ref()
        .map(|pages| default_versions(pages.iter().flat_map(|p| p.launch_template_versions())));
    for template in templates {
        let default = match &defaults {
            Ok(map) => Ok(template
                .launch_template_id()
                .and_then(|id| map.get(id).copied())),
            Err(failure) => Err(*failure),
        };
        if let Some(asset) = launch_template_asset(ctx.region(), ctx.account(), template, default) {
            ctx.emit(asset);
        }
    }
}

/// The default version of each template id among `versions`.
pub fn default_versions<'a>(
    versions: impl Iterator<Item = &'a LaunchTemplateVersion>,
) -> HashMap<&'a str, &'a LaunchTemplateVersion> {
    versions
        .filter(|v| v.default_version() != Some(false))
        .filter_map(|v| Some((v.launch_template_id()?, v)))
        .collect()
}

pub(super) async fn collect_transit_gateways(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_transit_gateways()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeTransitGateways", stream).await else {
        return;
    };
    for gateway in pages.iter().flat_map(|p| p.transit_gateways()) {
        if !owned_by(gateway.owner_id(), ctx.account()) {
            continue;
        }
        if let Some(asset) = transit_gateway_asset(ctx.region(), ctx.account(), gateway) {
            ctx.emit(asset);
        }
    }
}

pub(super) async fn collect_vpn_connections(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(out) = ctx
        .call(
            "DescribeVpnConnections",
            client.describe_vpn_connections().send(),
        )
        .await
    else {
        return;
    };
    for connection in out.vpn_connections() {
        if let Some(asset) = vpn_connection_asset(ctx.region(), ctx.account(), connection) {
            ctx.emit(asset);
        }
    }
}

pub(super) async fn collect_client_vpn_endpoints(ctx: &CollectContext<'_>, client: &Client) {
    let stream = client
        .describe_client_vpn_endpoints()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let Ok(pages) = ctx.pages("DescribeClientVpnEndpoints", stream).await else {
        return;
    };
    for endpoint in pages.iter().flat_map(|p| p.client_vpn_endpoints()) {
        if let Some(asset) = client_vpn_endpoint_asset(ctx.region(), ctx.account(), endpoint) {
            ctx.emit(asset);
        }
    }
}

pub(super) async fn collect_addresses(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(out) = ctx
        .call("DescribeAddresses", client.describe_addresses().send())
        .await
    else {
        return;
    };
    for address in out.addresses() {
        if let Some(asset) = address_asset(ctx.region(), ctx.account(), address) {
            ctx.emit(asset);
        }
    }
}

/// A subnet as an `AWS::EC2::Subnet` asset; `None` without an id.
pub fn subnet_asset(region: &str, account: &str, subnet: &Subnet) -> Option<Asset> {
    let id = subnet.subnet_id()?;
    let owner = subnet.owner_id().unwrap_or(account);
    let arn = subnet
        .subnet_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| ec2_arn(region, owner, &format!("subnet/{id}")));
    let properties = json!({
        "subnetId": id,
        "vpcId": subnet.vpc_id(),
        "ownerId": owner,
        "state": subnet.state().map(|v| v.as_str()),
        "cidrBlock": subnet.cidr_block(),
        "ipv6CidrBlocks": subnet
            .ipv6_cidr_block_association_set()
            .iter()
            .filter_map(|c| c.ipv6_cidr_block())
            .collect::<Vec<_>>(),
        "ipv6Native": subnet.ipv6_native(),
        "availabilityZone": subnet.availability_zone(),
        "defaultForAz": subnet.default_for_az(),
        "mapPublicIpOnLaunch": subnet.map_public_ip_on_launch(),
        "mapCustomerOwnedIpOnLaunch": subnet.map_customer_owned_ip_on_launch(),
        "assignIpv6AddressOnCreation": subnet.assign_ipv6_address_on_creation(),
        "availableIpAddressCount": subnet.available_ip_address_count(),
        "outpostArn": subnet.outpost_arn(),
    });
    Some(
        Asset::new(arn, SUBNET, account, region, id, properties)
            .with_tags(tags(subnet.tags()))
            .with_name_tag(),
    )
}

fn template_interface_json(eni: &LaunchTemplateInstanceNetworkInterfaceSpecification) -> Value {
    json!({
        "deviceIndex": eni.device_index(),
        "networkInterfaceId": eni.network_interface_id(),
        "subnetId": eni.subnet_id(),
        "associatePublicIpAddress": eni.associate_public_ip_address(),
        "associateCarrierIpAddress": eni.associate_carrier_ip_address(),
        "interfaceType": eni.interface_type(),
        "groups": eni.groups(),
    })
}

fn template_block_device_json(mapping: &LaunchTemplateBlockDeviceMapping) -> Value {
    json!({
        "deviceName": mapping.device_name(),
        "virtualName": mapping.virtual_name(),
        "noDevice": mapping.no_device(),
        "ebs": mapping.ebs().map(|e| json!({
            "encrypted": e.encrypted(),
            "kmsKeyId": e.kms_key_id(),
            "snapshotId": e.snapshot_id(),
            "volumeSize": e.volume_size(),
            "volumeType": e.volume_type().map(|v| v.as_str()),
            "deleteOnTermination": e.delete_on_termination(),
        })),
    })
}

/// The parts of a launch template version the recommendations read: its
/// network interfaces, metadata options and block device mappings.
pub fn template_version_json(version: &LaunchTemplateVersion) -> Value {
    let data = version.launch_template_data();
    json!({
        "versionNumber": version.version_number(),
        "createTime": opt_timestamp(version.create_time()),
        "imageId": data.and_then(|d| d.image_id()),
        "instanceType": data.and_then(|d| d.instance_type()).map(|v| v.as_str()),
        "networkInterfaces": data
            .map(|d| d.network_interfaces().iter().map(template_interface_json).collect::<Vec<_>>())
            .unwrap_or_default(),
        "metadataOptions": data.and_then(|d| d.metadata_options()).map(|m| json!({
            "httpTokens": m.http_tokens().map(|v| v.as_str()),
            "httpEndpoint": m.http_endpoint().map(|v| v.as_str()),
            "httpPutResponseHopLimit": m.http_put_response_hop_limit(),
        })),
        "blockDeviceMappings": data
            .map(|d| d.block_device_mappings().iter().map(template_block_device_json).collect::<Vec<_>>())
            .unwrap_or_default(),
    })
}

/// A launch template as an `AWS::EC2::LaunchTemplate` asset with
/// `defaultVersion` (its default version's data) and `deleted` (listed, but
/// its default version no longer was); `None` without an id. `default` is
/// the default version (`None`: not listed), or why the versions could not
/// be read (then `defaultVersion` is unavailable).
pub fn launch_template_asset(
    region: &str,
    account: &str,
    template: &LaunchTemplate,
    default: Result<Option<&LaunchTemplateVersion>, &CallFailure>,
) -> Option<Asset> {
    let id = template.launch_template_id()?;
    let (version, deleted) = match default {
        Ok(Some(v)) => (template_version_json(v), json!(false)),
        Ok(None) => (Value::Null, json!(true)),
        Err(_) => (Value::Null, Value::Null),
    };
    let properties = json!({
        "launchTemplateId": id,
        "launchTemplateName": template.launch_template_name(),
        "createTime": opt_timestamp(template.create_time()),
        "createdBy": template.created_by(),
        "defaultVersionNumber": template.default_version_number(),
        "latestVersionNumber": template.latest_version_number(),
        "defaultVersion": version,
        "deleted": deleted,
    });
    let mut asset = Asset::new(
        ec2_arn(region, account, &format!("launch-template/{id}")),
        LAUNCH_TEMPLATE,
        account,
        region,
        template.launch_template_name().unwrap_or(id),
        properties,
    )
    .with_tags(tags(template.tags()));
    if let Err(failure) = default {
        asset.mark_unavailable("defaultVersion", failure.to_string());
        asset.mark_unavailable("deleted", failure.to_string());
    }
    Some(asset)
}

/// A transit gateway as an `AWS::EC2::TransitGateway` asset; `None` without
/// an id or once deleted.
pub fn transit_gateway_asset(
    region: &str,
    account: &str,
    gateway: &TransitGateway,
) -> Option<Asset> {
    let id = gateway.transit_gateway_id()?;
    let state = gateway.state().map(|v| v.as_str());
    if state == Some("deleted") {
        return None;
    }
    let owner = gateway.owner_id().unwrap_or(account);
    let arn = gateway
        .transit_gateway_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| ec2_arn(region, owner, &format!("transit-gateway/{id}")));
    let options = gateway.options().map(|o| {
        json!({
            "amazonSideAsn": o.amazon_side_asn(),
            "autoAcceptSharedAttachments": o.auto_accept_shared_attachments().map(|v| v.as_str()),
            "defaultRouteTableAssociation": o.default_route_table_association().map(|v| v.as_str()),
            "defaultRouteTablePropagation": o.default_route_table_propagation().map(|v| v.as_str()),
            "dnsSupport": o.dns_support().map(|v| v.as_str()),
            "vpnEcmpSupport": o.vpn_ecmp_support().map(|v| v.as_str()),
        })
    });
    let properties = json!({
        "transitGatewayId": id,
        "ownerId": owner,
        "state": state,
        "description": gateway.description(),
        "creationTime": opt_timestamp(gateway.creation_time()),
        "options": options,
    });
    Some(
        Asset::new(arn, TRANSIT_GATEWAY, account, region, id, properties)
            .with_tags(tags(gateway.tags()))
            .with_name_tag(),
    )
}

/// A site-to-site VPN connection as an `AWS::EC2::VPNConnection` asset:
/// tunnel telemetry (`vgwTelemetry`) and tunnel options with their logging
/// (`tunnelOptions[].logOptions`); `None` without an id or once deleted.
pub fn vpn_connection_asset(
    region: &str,
    account: &str,
    connection: &VpnConnection,
) -> Option<Asset> {
    let id = connection.vpn_connection_id()?;
    let state = connection.state().map(|v| v.as_str());
    if state == Some("deleted") {
        return None;
    }
    let telemetry: Vec<Value> = connection
        .vgw_telemetry()
        .iter()
        .map(|t| {
            json!({
                "outsideIpAddress": t.outside_ip_address(),
                "status": t.status().map(|v| v.as_str()),
                "statusMessage": non_empty(t.status_message()),
                "lastStatusChange": opt_timestamp(t.last_status_change()),
            })
        })
        .collect();
    let tunnels: Vec<Value> = connection
        .options()
        .map(|o| o.tunnel_options())
        .unwrap_or_default()
        .iter()
        .map(|t| {
            let logs = t.log_options().and_then(|l| l.cloud_watch_log_options());
            json!({
                "outsideIpAddress": t.outside_ip_address(),
                "ikeVersions": t
                    .ike_versions()
                    .iter()
                    .filter_map(|v| v.value())
                    .collect::<Vec<_>>(),
                "logOptions": {
                    "cloudWatchLogOptions": logs.map(|l| json!({
                        "logEnabled": l.log_enabled(),
                        "logGroupArn": l.log_group_arn(),
                        "logOutputFormat": l.log_output_format(),
                    })),
                },
            })
        })
        .collect();
    let properties = json!({
        "vpnConnectionId": id,
        "state": state,
        "type": connection.r#type().map(|v| v.as_str()),
        "category": connection.category(),
        "customerGatewayId": connection.customer_gateway_id(),
        "vpnGatewayId": connection.vpn_gateway_id(),
        "transitGatewayId": connection.transit_gateway_id(),
        "vgwTelemetry": telemetry,
        "tunnelOptions": tunnels,
    });
    Some(
        Asset::new(
            ec2_arn(region, account, &format!("vpn-connection/{id}")),
            VPN_CONNECTION,
            account,
            region,
            id,
            properties,
        )
        .with_tags(tags(connection.tags()))
        .with_name_tag(),
    )
}

/// A Client VPN endpoint as an `AWS::EC2::ClientVpnEndpoint` asset with
/// its `connectionLogOptions`; `None` without an id or once deleted.
pub fn client_vpn_endpoint_asset(
    region: &str,
    account: &str,
    endpoint: &ClientVpnEndpoint,
) -> Option<Asset> {
    let id = endpoint.client_vpn_endpoint_id()?;
    let status = endpoint.status().and_then(|s| s.code()).map(|v| v.as_str());
    if status == Some("deleted") {
        return None;
    }
    let properties = json!({
        "clientVpnEndpointId": id,
        "description": endpoint.description(),
        "status": status,
        "vpcId": endpoint.vpc_id(),
        "clientCidrBlock": endpoint.client_cidr_block(),
        "splitTunnel": endpoint.split_tunnel(),
        "vpnProtocol": endpoint.vpn_protocol().map(|v| v.as_str()),
        "connectionLogOptions": endpoint.connection_log_options().map(|l| json!({
            "enabled": l.enabled(),
            "cloudwatchLogGroup": l.cloudwatch_log_group(),
            "cloudwatchLogStream": l.cloudwatch_log_stream(),
        })),
    });
    Some(
        Asset::new(
            ec2_arn(region, account, &format!("client-vpn-endpoint/{id}")),
            CLIENT_VPN_ENDPOINT,
            account,
            region,
            id,
            properties,
        )
        .with_tags(tags(endpoint.tags()))
        .with_name_tag(),
    )
}

/// An Elastic IP address as an `AWS::EC2::EIP` asset (named by its
/// address); `None` without an allocation id (EC2-Classic addresses).
/// Empty strings (moto's "none") are `null`.
pub fn address_asset(region: &str, account: &str, address: &Address) -> Option<Asset> {
    let id = address.allocation_id()?;
    let properties = json!({
        "allocationId": id,
        "publicIp": address.public_ip(),
        "domain": address.domain().map(|v| v.as_str()),
        "associationId": non_empty(address.association_id()),
        "instanceId": non_empty(address.instance_id()),
        "networkInterfaceId": non_empty(address.network_interface_id()),
        "networkInterfaceOwnerId": address.network_interface_owner_id(),
        "privateIpAddress": address.private_ip_address(),
        "networkBorderGroup": address.network_border_group(),
        "publicIpv4Pool": address.public_ipv4_pool(),
        "carrierIp": address.carrier_ip(),
        "serviceManaged": address.service_managed().map(|v| v.as_str()),
    });
    Some(
        Asset::new(
            ec2_arn(region, account, &format!("elastic-ip/{id}")),
            EIP,
            account,
            region,
            address.public_ip().unwrap_or(id),
            properties,
        )
        .with_tags(tags(address.tags()))
        .with_name_tag(),
    )
}

/// A VPC endpoint's properties as joined onto its VPC (`vpcEndpoints`).
pub fn vpc_endpoint_json(endpoint: &VpcEndpoint) -> Value {
    json!({
        "vpcEndpointId": endpoint.vpc_endpoint_id(),
        "serviceName": endpoint.service_name(),
        "vpcEndpointType": endpoint.vpc_endpoint_type().map(|v| v.as_str()),
        "state": endpoint.state().map(|v| v.as_str()),
        "privateDnsEnabled": endpoint.private_dns_enabled(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        AutoAcceptSharedAttachmentsValue, ClientVpnEndpointStatus, ClientVpnEndpointStatusCode,
        CloudWatchLogOptions, ConnectionLogResponseOptions, DomainType,
        LaunchTemplateEbsBlockDevice, LaunchTemplateHttpTokensState,
        LaunchTemplateInstanceMetadataOptions, ResponseLaunchTemplateData, State, SubnetState,
        TelemetryStatus, TransitGatewayOptions, TransitGatewayState, TunnelOption, VgwTelemetry,
        VpcEndpointType, VpnConnectionOptions, VpnState, VpnTunnelLogOptions,
    };
    use rampart_model::GapKind;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "eu-west-1";

    #[test]
    fn maps_subnets() {
        let subnet = Subnet::builder()
            .subnet_id("subnet-1")
            .vpc_id("vpc-1")
            .owner_id(ACCOUNT)
            .state(SubnetState::Available)
            .cidr_block("10.0.1.0/24")
            .map_public_ip_on_launch(true)
            .default_for_az(false)
            .ipv6_native(false)
            .build();
        let asset = subnet_asset(REGION, ACCOUNT, &subnet).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-1"
        );
        assert_eq!(asset.resource_type, SUBNET);
        assert_eq!(asset.properties["mapPublicIpOnLaunch"], true);
        assert_eq!(asset.properties["state"], "available");
        assert_eq!(asset.properties["ipv6Native"], false);
        assert!(subnet_asset(REGION, ACCOUNT, &Subnet::builder().build()).is_none());
    }

    fn version(template: &str, default: bool, public_ip: Option<bool>) -> LaunchTemplateVersion {
        LaunchTemplateVersion::builder()
            .launch_template_id(template)
            .version_number(2)
            .default_version(default)
            .launch_template_data(
                ResponseLaunchTemplateData::builder()
                    .network_interfaces(
                        LaunchTemplateInstanceNetworkInterfaceSpecification::builder()
                            .device_index(0)
                            .set_associate_public_ip_address(public_ip)
                            .build(),
                    )
                    .metadata_options(
                        LaunchTemplateInstanceMetadataOptions::builder()
                            .http_tokens(LaunchTemplateHttpTokensState::Required)
                            .build(),
                    )
                    .block_device_mappings(
                        LaunchTemplateBlockDeviceMapping::builder()
                            .device_name("/dev/xvda")
                            .ebs(
                                LaunchTemplateEbsBlockDevice::builder()
                                    .encrypted(true)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    #[test]
    fn maps_launch_templates_with_their_default_version() {
        let template = LaunchTemplate::builder()
            .launch_template_id("lt-1")
            .launch_template_name("web")
            .default_version_number(2)
            .latest_version_number(3)
            .build();
        let versions = [
            version("lt-1", true, Some(true)),
            version("lt-2", false, None),
        ];
        let defaults = default_versions(versions.iter());
        assert_eq!(defaults.len(), 1, "non-default versions are ignored");

        let asset = launch_template_asset(
            REGION,
            ACCOUNT,
            &template,
            Ok(defaults.get("lt-1").copied()),
        )
        .unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:ec2:eu-west-1:123456789012:launch-template/lt-1"
        );
        assert_eq!(asset.name, "web");
        let p = &asset.properties;
        assert_eq!(p["deleted"], false);
        assert_eq!(p["defaultVersion"]["versionNumber"], 2);
        assert_eq!(
            p["defaultVersion"]["networkInterfaces"][0]["associatePublicIpAddress"],
            true
        );
        assert_eq!(
            p["defaultVersion"]["metadataOptions"]["httpTokens"],
            "required"
        );
        assert_eq!(
            p["defaultVersion"]["blockDeviceMappings"][0]["ebs"]["encrypted"],
            true
        );

        let gone = launch_template_asset(REGION, ACCOUNT, &template, Ok(None)).unwrap();
        assert_eq!(gone.properties["deleted"], true);
        assert_eq!(gone.properties["defaultVersion"], Value::Null);

        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("UnauthorizedOperation".into()),
            message: "no".into(),
        };
        let unread = launch_template_asset(REGION, ACCOUNT, &template, Err(&failure)).unwrap();
        assert!(unread.unavailable.contains_key("defaultVersion"));
        assert!(unread.unavailable.contains_key("deleted"));
    }

    #[test]
    fn maps_transit_gateways_and_skips_deleted_ones() {
        let gateway = |state: TransitGatewayState| {
            TransitGateway::builder()
                .transit_gateway_id("tgw-1")
                .owner_id(ACCOUNT)
                .state(state)
                .options(
                    TransitGatewayOptions::builder()
                        .auto_accept_shared_attachments(AutoAcceptSharedAttachmentsValue::Enable)
                        .build(),
                )
                .build()
        };
        let asset =
            transit_gateway_asset(REGION, ACCOUNT, &gateway(TransitGatewayState::Available))
                .unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:ec2:eu-west-1:123456789012:transit-gateway/tgw-1"
        );
        assert_eq!(
            asset.properties["options"]["autoAcceptSharedAttachments"],
            "enable"
        );
        assert!(
            transit_gateway_asset(REGION, ACCOUNT, &gateway(TransitGatewayState::Deleted))
                .is_none()
        );
    }

    #[test]
    fn maps_vpn_connections_with_telemetry_and_tunnel_logging() {
        let connection = VpnConnection::builder()
            .vpn_connection_id("vpn-1")
            .state(VpnState::Available)
            .vgw_telemetry(
                VgwTelemetry::builder()
                    .outside_ip_address("1.1.1.1")
                    .status(TelemetryStatus::Up)
                    .status_message("")
                    .build(),
            )
            .vgw_telemetry(
                VgwTelemetry::builder()
                    .outside_ip_address("2.2.2.2")
                    .status(TelemetryStatus::Down)
                    .build(),
            )
            .options(
                VpnConnectionOptions::builder()
                    .tunnel_options(
                        TunnelOption::builder()
                            .outside_ip_address("1.1.1.1")
                            .log_options(
                                VpnTunnelLogOptions::builder()
                                    .cloud_watch_log_options(
                                        CloudWatchLogOptions::builder()
                                            .log_enabled(true)
                                            .log_group_arn("arn:aws:logs:eu-west-1:1:log-group:vpn")
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .tunnel_options(
                        TunnelOption::builder()
                            .outside_ip_address("2.2.2.2")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let asset = vpn_connection_asset(REGION, ACCOUNT, &connection).unwrap();
        let p = &asset.properties;
        assert_eq!(p["vgwTelemetry"][0]["status"], "UP");
        assert_eq!(p["vgwTelemetry"][0]["statusMessage"], Value::Null);
        assert_eq!(p["vgwTelemetry"][1]["status"], "DOWN");
        assert_eq!(
            p["tunnelOptions"][0]["logOptions"]["cloudWatchLogOptions"]["logEnabled"],
            true
        );
        assert_eq!(
            p["tunnelOptions"][1]["logOptions"]["cloudWatchLogOptions"],
            Value::Null
        );
        let deleted = VpnConnection::builder()
            .vpn_connection_id("vpn-2")
            .state(VpnState::Deleted)
            .build();
        assert!(vpn_connection_asset(REGION, ACCOUNT, &deleted).is_none());
    }

    #[test]
    fn maps_client_vpn_endpoints() {
        let endpoint = |code: ClientVpnEndpointStatusCode| {
            ClientVpnEndpoint::builder()
                .client_vpn_endpoint_id("cvpn-endpoint-1")
                .status(ClientVpnEndpointStatus::builder().code(code).build())
                .connection_log_options(
                    ConnectionLogResponseOptions::builder()
                        .enabled(false)
                        .build(),
                )
                .build()
        };
        let asset = client_vpn_endpoint_asset(
            REGION,
            ACCOUNT,
            &endpoint(ClientVpnEndpointStatusCode::Available),
        )
        .unwrap();
        assert_eq!(asset.properties["status"], "available");
        assert_eq!(asset.properties["connectionLogOptions"]["enabled"], false);
        assert!(
            client_vpn_endpoint_asset(
                REGION,
                ACCOUNT,
                &endpoint(ClientVpnEndpointStatusCode::Deleted)
            )
            .is_none()
        );
    }

    #[test]
    fn maps_elastic_ips() {
        let address = Address::builder()
            .allocation_id("eipalloc-1")
            .public_ip("54.1.2.3")
            .domain(DomainType::Vpc)
            .build();
        let asset = address_asset(REGION, ACCOUNT, &address).unwrap();
        assert_eq!(
            asset.arn,
            "arn:aws:ec2:eu-west-1:123456789012:elastic-ip/eipalloc-1"
        );
        assert_eq!(asset.name, "54.1.2.3");
        assert_eq!(asset.properties["domain"], "vpc");
        assert_eq!(asset.properties["associationId"], Value::Null);
        // moto answers "none" with empty strings.
        let moto_shaped = Address::builder()
            .allocation_id("eipalloc-2")
            .public_ip("54.1.2.5")
            .instance_id("")
            .network_interface_id("")
            .build();
        let asset = address_asset(REGION, ACCOUNT, &moto_shaped).unwrap();
        assert_eq!(asset.properties["instanceId"], Value::Null);
        assert_eq!(asset.properties["networkInterfaceId"], Value::Null);
        let classic = Address::builder().public_ip("54.1.2.4").build();
        assert!(address_asset(REGION, ACCOUNT, &classic).is_none());
    }

    #[test]
    fn maps_vpc_endpoints() {
        let endpoint = VpcEndpoint::builder()
            .vpc_endpoint_id("vpce-1")
            .vpc_id("vpc-1")
            .service_name("com.amazonaws.eu-west-1.ec2")
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .state(State::Available)
            .build();
        let v = vpc_endpoint_json(&endpoint);
        assert_eq!(v["serviceName"], "com.amazonaws.eu-west-1.ec2");
        assert_eq!(v["vpcEndpointType"], "Interface");
        assert_eq!(v["state"], "Available");
    }
}
