//! Rules for EC2 (instances, security groups, EBS, VPC).
//!
//! Property shapes are the EC2 collector's (`crates/aws/src/collectors/ec2.rs`):
//! rule protocols are normalized to `-1` (all), `tcp`, `udp`, `icmp`,
//! `icmpv6` or the protocol number; a missing `fromPort`/`toPort` (or a
//! missing network ACL `portRange`) means every port.

use std::collections::{HashMap, HashSet};

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::{AssetRef, Inventory};
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "ec2-instance-imdsv2-required",
        check: instance_imdsv2_required,
    },
    Rule {
        id: "ec2-instance-no-public-ip",
        check: instance_no_public_ip,
    },
    Rule {
        id: "ec2-instance-iam-profile-attached",
        check: instance_iam_profile_attached,
    },
    Rule {
        id: "ec2-instance-single-eni",
        check: instance_single_eni,
    },
    Rule {
        id: "ec2-instance-not-paravirtual",
        check: instance_not_paravirtual,
    },
    Rule {
        id: "ec2-instance-source-dest-check",
        check: instance_source_dest_check,
    },
    Rule {
        id: "ec2-instance-public-management-ports-closed",
        check: instance_public_management_ports_closed,
    },
    Rule {
        id: "ec2-volume-encrypted",
        check: volume_encrypted,
    },
    Rule {
        id: "ec2-snapshot-not-public",
        check: snapshot_not_public,
    },
    Rule {
        id: "ec2-snapshot-encrypted",
        check: snapshot_encrypted,
    },
    Rule {
        id: "ec2-image-not-public",
        check: image_not_public,
    },
    Rule {
        id: "ec2-security-group-default-restricts-all",
        check: security_group_default_restricts_all,
    },
    Rule {
        id: "ec2-security-group-no-world-ssh",
        check: security_group_no_world_ssh,
    },
    Rule {
        id: "ec2-security-group-no-world-rdp",
        check: security_group_no_world_rdp,
    },
    Rule {
        id: "ec2-security-group-no-ipv4-admin-ports",
        check: security_group_no_ipv4_admin_ports,
    },
    Rule {
        id: "ec2-security-group-no-ipv6-admin-ports",
        check: security_group_no_ipv6_admin_ports,
    },
    Rule {
        id: "ec2-security-group-authorized-ports-only",
        check: security_group_authorized_ports_only,
    },
    Rule {
        id: "ec2-security-group-no-world-high-risk-ports",
        check: security_group_no_world_high_risk_ports,
    },
    Rule {
        id: "ec2-security-group-no-world-cifs",
        check: security_group_no_world_cifs,
    },
    Rule {
        id: "ec2-security-group-in-use",
        check: security_group_in_use,
    },
    Rule {
        id: "ec2-network-acl-no-world-admin-ports",
        check: network_acl_no_world_admin_ports,
    },
    Rule {
        id: "ec2-network-acl-in-use",
        check: network_acl_in_use,
    },
    Rule {
        id: "ec2-vpc-flow-logs-enabled",
        check: vpc_flow_logs_enabled,
    },
    Rule {
        id: "ec2-ebs-encryption-by-default",
        check: ebs_encryption_by_default,
    },
    Rule {
        id: "ec2-region-imdsv2-default",
        check: region_imdsv2_default,
    },
    Rule {
        id: "ec2-subnet-no-auto-public-ip",
        check: subnet_no_auto_public_ip,
    },
    Rule {
        id: "ec2-launch-template-no-public-ip",
        check: launch_template_no_public_ip,
    },
    Rule {
        id: "ec2-launch-template-imdsv2-required",
        check: launch_template_imdsv2_required,
    },
    Rule {
        id: "ec2-launch-template-ebs-encrypted",
        check: launch_template_ebs_encrypted,
    },
    Rule {
        id: "ec2-vpc-endpoint-ec2",
        check: vpc_endpoint_ec2,
    },
    Rule {
        id: "ec2-vpc-endpoint-ecr-api",
        check: vpc_endpoint_ecr_api,
    },
    Rule {
        id: "ec2-vpc-endpoint-ecr-dkr",
        check: vpc_endpoint_ecr_dkr,
    },
    Rule {
        id: "ec2-vpc-endpoint-ssm",
        check: vpc_endpoint_ssm,
    },
    Rule {
        id: "ec2-vpc-endpoint-ssm-contacts",
        check: vpc_endpoint_ssm_contacts,
    },
    Rule {
        id: "ec2-vpc-endpoint-ssm-incidents",
        check: vpc_endpoint_ssm_incidents,
    },
    Rule {
        id: "ec2-transit-gateway-no-auto-accept",
        check: transit_gateway_no_auto_accept,
    },
    Rule {
        id: "ec2-vpn-tunnels-up",
        check: vpn_tunnels_up,
    },
    Rule {
        id: "ec2-vpn-tunnel-logging-enabled",
        check: vpn_tunnel_logging_enabled,
    },
    Rule {
        id: "ec2-vpn-ikev2-only",
        check: vpn_ikev2_only,
    },
    Rule {
        id: "ec2-client-vpn-connection-logging",
        check: client_vpn_connection_logging,
    },
    Rule {
        id: "ec2-eip-attached",
        check: eip_attached,
    },
    Rule {
        id: "ec2-vpc-block-public-access",
        check: vpc_block_public_access,
    },
    Rule {
        id: "ec2-snapshot-block-public-access",
        check: snapshot_block_public_access,
    },
];

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Remote administration ports (SSH, RDP).
const ADMIN_PORTS: &[i64] = &[22, 3389];

/// FSBP EC2.19's high-risk ports.
const HIGH_RISK_PORTS: &[i64] = &[
    20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500,
    5601, 8080, 8088, 8888, 9200, 9300,
];

/// FSBP EC2.18's default authorized TCP ports.
const AUTHORIZED_TCP_PORTS: &[i64] = &[80, 443];

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn world(self) -> &'static str {
        match self {
            Self::V4 => "0.0.0.0/0",
            Self::V6 => "::/0",
        }
    }
}

/// The family of a CIDR that covers every address of it (`0.0.0.0/0`,
/// `::/0`, or any other spelling with a `/0` prefix); `None` otherwise.
fn world_family(cidr: &str) -> Option<Family> {
    let (addr, prefix) = cidr.trim().split_once('/')?;
    if prefix.trim().parse::<u8>().ok()? != 0 {
        return None;
    }
    if addr.contains(':') {
        Some(Family::V6)
    } else if addr.contains('.') {
        Some(Family::V4)
    } else {
        None
    }
}

/// Whether a port range (missing bounds: open-ended; both missing: every
/// port) contains `port`.
fn range_contains(from: Option<i64>, to: Option<i64>, port: i64) -> bool {
    match (from, to) {
        // `-1` as a bound is the API's "all" (all-protocol rules).
        (Some(-1), Some(-1)) | (None, None) => true,
        (from, to) => from.is_none_or(|f| f <= port) && to.is_none_or(|t| port <= t),
    }
}

/// Whether a rule for `protocol` over the port range admits `proto` traffic
/// to `port`. Protocol `-1` admits everything, on every port.
fn admits(protocol: &str, from: Option<i64>, to: Option<i64>, proto: &str, port: i64) -> bool {
    protocol == "-1" || (protocol == proto && range_contains(from, to, port))
}

/// One source of a security group ingress rule that is the whole internet.
#[derive(Debug, Clone)]
struct OpenRule {
    /// Index of the rule in `ipPermissions`.
    index: usize,
    protocol: String,
    from: Option<i64>,
    to: Option<i64>,
    family: Family,
}

impl OpenRule {
    fn admits(&self, proto: &str, port: i64) -> bool {
        admits(&self.protocol, self.from, self.to, proto, port)
    }

    fn path(&self) -> String {
        format!("ipPermissions.{}", self.index)
    }
}

/// The ingress rules of a security group that admit the whole internet
/// (one entry per open family), or `None` when the group has no ingress
/// rules at all.
fn world_ingress(p: &Props<'_>) -> Result<Option<Vec<OpenRule>>, Unreadable> {
    let rules = p.array("ipPermissions")?;
    if rules.is_empty() {
        return Ok(None);
    }
    let mut open = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let Some(protocol) = rule.get("ipProtocol").and_then(Node::as_str) else {
            return Err(Unreadable {
                path: format!("ipPermissions.{index}.ipProtocol"),
                error: "the rule has no protocol".to_owned(),
            });
        };
        let from = rule.get("fromPort").and_then(Node::as_i64);
        let to = rule.get("toPort").and_then(Node::as_i64);
        let cidrs = rule
            .get("ipRanges")
            .and_then(Node::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("cidrIp").and_then(Node::as_str))
            .chain(
                rule.get("ipv6Ranges")
                    .and_then(Node::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.get("cidrIpv6").and_then(Node::as_str)),
            );
        let mut families: Vec<Family> = cidrs.filter_map(world_family).collect();
        families.dedup();
        for family in families {
            open.push(OpenRule {
                index,
                protocol: protocol.to_owned(),
                from,
                to,
                family,
            });
        }
    }
    Ok(Some(open))
}

/// The open rules admitting any of `ports` over any of `protocols` from
/// any of `families`, with the first port each admits.
fn exposures<'r>(
    open: &'r [OpenRule],
    ports: &[i64],
    protocols: &[&str],
    families: &[Family],
) -> Vec<(&'r OpenRule, i64)> {
    open.iter()
        .filter(|r| families.contains(&r.family))
        .filter_map(|r| {
            ports
                .iter()
                .copied()
                .find(|port| protocols.iter().any(|proto| r.admits(proto, *port)))
                .map(|port| (r, port))
        })
        .collect()
}

/// A security group check: no rule may admit `ports` over `protocols` from
/// the whole internet of `families`. A group without ingress rules admits
/// nothing and passes: Security Hub's checks (`restricted-ssh`,
/// `restricted-common-ports`, `vpc-sg-*`) assess every security group.
fn security_group_ports_closed(
    p: &Props<'_>,
    ports: &[i64],
    protocols: &[&str],
    families: &[Family],
    what: &str,
) -> Result<Outcome, Unreadable> {
    let Some(open) = world_ingress(p)? else {
        return Ok(Outcome::healthy(
            "The security group has no inbound rules, so it admits no traffic.",
        )
        .with(p.evidence("ipPermissions")));
    };
    let found = exposures(&open, ports, protocols, families);
    let Some((first, port)) = found.first() else {
        return Ok(
            Outcome::healthy(format!("No inbound rule opens {what} to the internet."))
                .with(p.evidence("ipPermissions")),
        );
    };
    let mut outcome = Outcome::unhealthy(format!(
        "An inbound rule allows {what} (port {port}) from `{}`; restrict its source to known address ranges or remove it.",
        first.family.world()
    ));
    let mut seen = Vec::new();
    for (rule, _) in &found {
        if !seen.contains(&rule.index) {
            seen.push(rule.index);
            outcome = outcome.with(p.evidence(&rule.path()));
        }
    }
    Ok(outcome)
}

/// Not applicable for an instance that is being terminated.
pub(super) fn instance_retiring(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("state")? {
        Some(state @ ("shutting-down" | "terminated")) => Some(
            Outcome::not_applicable(format!(
                "The instance is {state}; the check applies to instances that are kept."
            ))
            .with(p.evidence("state")),
        ),
        _ => None,
    })
}

/// The public IPv4 address of an instance (top level or on any network
/// interface) and the property path it was found at.
fn public_ipv4(p: &Props<'_>) -> Result<Option<(String, String)>, Unreadable> {
    if let Some(ip) = p.str("publicIpAddress")? {
        return Ok(Some((ip.to_owned(), "publicIpAddress".to_owned())));
    }
    for (i, eni) in p.array("networkInterfaces")?.iter().enumerate() {
        let ip = eni
            .get("association")
            .and_then(|a| a.get("publicIp"))
            .and_then(Node::as_str)
            .filter(|ip| !ip.is_empty());
        if let Some(ip) = ip {
            return Ok(Some((
                ip.to_owned(),
                format!("networkInterfaces.{i}.association.publicIp"),
            )));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------
// Instances
// ---------------------------------------------------------------------------

/// FSBP EC2.8 / CIS 5.7: `metadataOptions.httpTokens` is `required`. Every
/// instance is assessed, as AWS Config's `ec2-imdsv2-check` does: one with
/// the metadata endpoint switched off fails too unless it requires tokens
/// (turning the endpoint back on would otherwise accept IMDSv1).
fn instance_imdsv2_required(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let endpoint = p.str("metadataOptions.httpEndpoint")?;
    let tokens = p.str("metadataOptions.httpTokens")?;
    let unhealthy = if endpoint == Some("disabled") {
        "The metadata endpoint is switched off, but `HttpTokens` is not `required`, so switching it back on would accept IMDSv1 requests; set `HttpTokens` to `required`."
    } else {
        "The instance accepts IMDSv1 requests; set `HttpTokens` to `required`."
    };
    Ok(Outcome::either(
        tokens == Some("required"),
        "The instance requires IMDSv2 session tokens.",
        unhealthy,
    )
    .with(p.evidence("metadataOptions.httpTokens"))
    .with(p.evidence("metadataOptions.httpEndpoint")))
}

/// FSBP EC2.9: no public IPv4 address, neither the instance's
/// `publicIpAddress` nor one associated with any of its network interfaces.
/// Not applicable: an instance being terminated.
fn instance_no_public_ip(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_retiring(p)? {
        return Ok(na);
    }
    Ok(match public_ipv4(p)? {
        Some((ip, path)) => Outcome::unhealthy(format!(
            "The instance has the public IPv4 address {ip}; disassociate it and reach the instance through a load balancer, bastion or Session Manager."
        ))
        .with(p.evidence(&path)),
        None => Outcome::healthy("The instance has no public IPv4 address.")
            .with(p.evidence("publicIpAddress")),
    })
}

/// CIS 1.18: the instance has an IAM instance profile (`iamInstanceProfile`)
/// so software on it gets role credentials instead of stored keys. Not
/// applicable: an instance being terminated.
fn instance_iam_profile_attached(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_retiring(p)? {
        return Ok(na);
    }
    let profile = p.str("iamInstanceProfile.arn")?;
    Ok(Outcome::either(
        profile.is_some(),
        "The instance has an IAM instance profile.",
        "The instance has no IAM instance profile; attach one with a role that grants what the workload needs, instead of storing access keys on it.",
    )
    .with(p.evidence("iamInstanceProfile")))
}

/// FSBP EC2.17: at most one network interface. Not applicable: an instance
/// being terminated, or one that reports no network interface at all.
fn instance_single_eni(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_retiring(p)? {
        return Ok(na);
    }
    let count = p.array("networkInterfaces")?.len();
    if count == 0 {
        return Ok(
            Outcome::not_applicable("The instance reports no network interface.")
                .with(p.evidence("networkInterfaces")),
        );
    }
    Ok(Outcome::either(
        count == 1,
        "The instance uses a single network interface.",
        format!(
            "The instance has {count} network interfaces, which can bridge subnets; detach the interfaces it does not need."
        ),
    )
    .with(p.evidence("networkInterfaces")))
}

/// FSBP EC2.24: `virtualizationType` is not `paravirtual`. Not applicable:
/// an instance being terminated. A missing virtualization type is unknown.
fn instance_not_paravirtual(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_retiring(p)? {
        return Ok(na);
    }
    let Some(kind) = p.str("virtualizationType")? else {
        return Err(Unreadable {
            path: "virtualizationType".to_owned(),
            error: "the instance does not report its virtualization type".to_owned(),
        });
    };
    Ok(Outcome::either(
        kind != "paravirtual",
        format!("The instance uses {kind} virtualization."),
        "The instance uses paravirtual (PV) virtualization; move the workload to an HVM instance type and AMI.",
    )
    .with(p.evidence("virtualizationType")))
}

/// FSBP EC2.180, for the network interfaces attached to an instance: each
/// entry of `networkInterfaces` has `sourceDestCheck` true. An interface
/// that does not report the flag takes the instance's own `sourceDestCheck`
/// if it is the primary one (device index 0, which that flag describes);
/// otherwise the result is unknown. Interfaces not attached to an instance
/// are not assessed. Not applicable: an instance being terminated, or one
/// that reports no network interface.
fn instance_source_dest_check(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_retiring(p)? {
        return Ok(na);
    }
    let interfaces = p.array("networkInterfaces")?;
    if interfaces.is_empty() {
        return Ok(
            Outcome::not_applicable("The instance reports no network interface.")
                .with(p.evidence("networkInterfaces")),
        );
    }
    let mut disabled = Vec::new();
    let mut evidence = Vec::new();
    for (i, eni) in interfaces.iter().enumerate() {
        let mut path = format!("networkInterfaces.{i}.sourceDestCheck");
        let mut check = p.bool(&path)?;
        if check.is_none() && eni.get("deviceIndex").and_then(Node::as_i64) == Some(0) {
            path = "sourceDestCheck".to_owned();
            check = p.bool(&path)?;
        }
        match check {
            Some(true) => {}
            Some(false) => {
                let id = eni
                    .get("networkInterfaceId")
                    .and_then(Node::as_str)
                    .unwrap_or("(unknown id)");
                disabled.push(format!("`{id}`"));
                evidence.push(p.evidence(&path));
            }
            None => {
                return Err(Unreadable {
                    path: format!("networkInterfaces.{i}.sourceDestCheck"),
                    error: "the network interface does not report its source/destination check"
                        .to_owned(),
                });
            }
        }
    }
    if disabled.is_empty() {
        return Ok(Outcome::healthy(format!(
            "Source/destination checking is enabled on all {} network interface(s) of the instance.",
            interfaces.len()
        ))
        .with(p.evidence("networkInterfaces")));
    }
    let mut outcome = Outcome::unhealthy(format!(
        "Source/destination checking is disabled on network interface {}; enable it (`SourceDestCheck`) unless the instance is a NAT, router or firewall appliance that must forward traffic.",
        disabled.join(", ")
    ));
    for e in evidence {
        outcome = outcome.with(e);
    }
    Ok(outcome)
}

/// Defender's "management ports should be closed": an instance with a
/// public IPv4 address must not have a security group that admits SSH or
/// RDP from the internet. Cross-asset: the instance's groups (top level and
/// per network interface) are looked up in the snapshot; a group missing
/// from it makes the result unknown. Not applicable: no public IPv4 address
/// (the internet cannot reach it directly), or an instance being terminated.
fn instance_public_management_ports_closed(
    p: &Props<'_>,
    inv: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_retiring(p)? {
        return Ok(na);
    }
    match instance_world_exposure(p, inv, ADMIN_PORTS)? {
        Exposure::NoPublicAddress => Ok(Outcome::not_applicable(
            "The instance has no public IPv4 address, so its ports are not reachable from the internet directly.",
        )
        .with(p.evidence("publicIpAddress"))),
        Exposure::Open(open) => Ok(Outcome::unhealthy(format!(
            "The instance has the public address {} and its security group `{}` allows port {} from `{}`; close the port to the internet and use Session Manager or a bastion.",
            open.address, open.group, open.port, open.world
        ))
        .with(open.address_evidence)
        .with(open.rule_evidence)),
        Exposure::Closed => Ok(Outcome::healthy(
            "No security group of the instance opens SSH or RDP to the internet.",
        )
        .with(p.evidence("securityGroups"))),
    }
}

/// Whether an EC2 instance's ports are open to the internet.
pub(super) enum Exposure {
    /// No public IPv4 address: not reachable directly.
    NoPublicAddress,
    /// A security group of the instance admits one of the ports from the
    /// whole internet.
    Open(OpenPort),
    /// A public address, and no group admits the ports from the internet.
    Closed,
}

/// The first port found open to the internet, with its evidence.
pub(super) struct OpenPort {
    pub address: String,
    pub group: String,
    pub port: i64,
    pub world: &'static str,
    pub address_evidence: rampart_model::Evidence,
    pub rule_evidence: rampart_model::Evidence,
}

/// Cross-asset: whether the instance `p` has a public IPv4 address and a
/// security group (top level or per network interface, looked up in the
/// snapshot) that admits one of `ports` (TCP or UDP) from `0.0.0.0/0` or
/// `::/0`. A group missing from the snapshot makes the answer unknown.
pub(super) fn instance_world_exposure(
    p: &Props<'_>,
    inv: &Inventory,
    ports: &[i64],
) -> Result<Exposure, Unreadable> {
    let Some((ip, ip_path)) = public_ipv4(p)? else {
        return Ok(Exposure::NoPublicAddress);
    };
    let mut group_ids: Vec<&str> = p
        .array("securityGroups")?
        .iter()
        .filter_map(|g| g.get("groupId").and_then(Node::as_str))
        .collect();
    for eni in p.array("networkInterfaces")? {
        group_ids.extend(
            eni.get("groups")
                .and_then(Node::as_array)
                .into_iter()
                .flatten()
                .filter_map(|g| g.get("groupId").and_then(Node::as_str)),
        );
    }
    group_ids.sort_unstable();
    group_ids.dedup();
    let asset = p.asset();
    for id in group_ids {
        let group = security_group(inv, asset.account, asset.region, id);
        let Some(group) = group else {
            return Err(Unreadable {
                path: "securityGroups".to_owned(),
                error: format!("security group `{id}` is not in the inventory"),
            });
        };
        let gp = Props::of(group);
        let Some(open) = world_ingress(&gp)? else {
            continue;
        };
        let found = exposures(&open, ports, &["tcp", "udp"], &[Family::V4, Family::V6]);
        if let Some((rule, port)) = found.first() {
            return Ok(Exposure::Open(OpenPort {
                address: ip,
                group: id.to_owned(),
                port: *port,
                world: rule.family.world(),
                address_evidence: p.evidence(&ip_path),
                rule_evidence: rampart_model::Evidence {
                    path: format!("securityGroup({id}).{}", rule.path()),
                    value: gp.evidence(&rule.path()).value,
                },
            }));
        }
    }
    Ok(Exposure::Closed)
}

/// Cross-asset: whether security group `id` of `account` and `region`
/// (looked up in the snapshot) has an inbound rule admitting TCP `port`
/// from `0.0.0.0/0` or `::/0`: the open range (`0.0.0.0/0` or `::/0`) and
/// the rule's evidence (path `securityGroup(<id>).ipPermissions.<n>`), or
/// `None`. A group missing from the snapshot makes the answer unknown.
pub(super) fn security_group_world_tcp_port(
    inv: &Inventory,
    account: &str,
    region: &str,
    id: &str,
    port: i64,
) -> Result<Option<(&'static str, rampart_model::Evidence)>, Unreadable> {
    let Some(group) = security_group(inv, account, region, id) else {
        return Err(Unreadable {
            path: format!("securityGroup({id})"),
            error: format!("security group `{id}` is not in the inventory"),
        });
    };
    let gp = Props::of(group);
    let Some(open) = world_ingress(&gp)? else {
        return Ok(None);
    };
    let found = exposures(&open, &[port], &["tcp"], &[Family::V4, Family::V6]);
    Ok(found.first().map(|(rule, _)| {
        (
            rule.family.world(),
            rampart_model::Evidence {
                path: format!("securityGroup({id}).{}", rule.path()),
                value: gp.evidence(&rule.path()).value,
            },
        )
    }))
}

// ---------------------------------------------------------------------------
// EBS volumes, snapshots, AMIs
// ---------------------------------------------------------------------------

/// FSBP EC2.3: an attached volume is encrypted. Not applicable, as in the
/// control (AWS Config's `encrypted-volumes` checks volumes in an attached
/// state): a volume attached to no instance, and a volume being deleted or
/// in error. A missing `encrypted` is unknown.
fn volume_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state @ ("deleting" | "deleted" | "error")) = p.str("state")? {
        return Ok(Outcome::not_applicable(format!(
            "The volume is {state} and holds no usable data."
        ))
        .with(p.evidence("state")));
    }
    if p.array("attachments")?.is_empty() {
        return Ok(Outcome::not_applicable(
            "The volume is attached to no instance; the control assesses attached volumes (EBS encryption by default, EC2.7, covers new ones).",
        )
        .with(p.evidence("attachments")));
    }
    let Some(encrypted) = p.bool("encrypted")? else {
        return Err(Unreadable {
            path: "encrypted".to_owned(),
            error: "the volume does not report whether it is encrypted".to_owned(),
        });
    };
    Ok(Outcome::either(
        encrypted,
        "The volume is encrypted at rest.",
        "The attached volume is not encrypted; snapshot it, copy the snapshot with encryption, and replace the volume with one restored from the copy.",
    )
    .with(p.evidence("encrypted")))
}

/// FSBP EC2.1: the snapshot has no `createVolumePermission` for group
/// `all` (`public`). Not applicable: a snapshot in error (it cannot be
/// restored).
fn snapshot_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("state")? == Some("error") {
        return Ok(Outcome::not_applicable(
            "The snapshot is in error and cannot be restored by anyone.",
        )
        .with(p.evidence("state")));
    }
    let Some(public) = p.bool("public")? else {
        return Err(Unreadable {
            path: "public".to_owned(),
            error: "the snapshot's create-volume permissions are unknown".to_owned(),
        });
    };
    Ok(Outcome::either(
        !public,
        "The snapshot is not restorable by everyone.",
        "Anyone can create a volume from this snapshot; remove the `all` group from its create-volume permissions.",
    )
    .with(p.evidence("createVolumePermissions")))
}

/// The snapshot is encrypted (`encrypted`). Not applicable: a snapshot in
/// error. A missing `encrypted` is unknown.
fn snapshot_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("state")? == Some("error") {
        return Ok(
            Outcome::not_applicable("The snapshot is in error and holds no usable data.")
                .with(p.evidence("state")),
        );
    }
    let Some(encrypted) = p.bool("encrypted")? else {
        return Err(Unreadable {
            path: "encrypted".to_owned(),
            error: "the snapshot does not report whether it is encrypted".to_owned(),
        });
    };
    Ok(Outcome::either(
        encrypted,
        "The snapshot is encrypted.",
        "The snapshot is not encrypted; copy it with encryption enabled and delete the unencrypted original.",
    )
    .with(p.evidence("encrypted")))
}

/// The AMI is not public (`public`). Not applicable: an AMI that cannot be
/// launched (deregistered, disabled, failed).
fn image_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state @ ("deregistered" | "disabled" | "failed" | "error" | "invalid")) =
        p.str("state")?
    {
        return Ok(
            Outcome::not_applicable(format!("The AMI is {state} and cannot be launched."))
                .with(p.evidence("state")),
        );
    }
    let Some(public) = p.bool("public")? else {
        return Err(Unreadable {
            path: "public".to_owned(),
            error: "the AMI's launch permissions are unknown".to_owned(),
        });
    };
    Ok(Outcome::either(
        !public,
        "The AMI is not shared publicly.",
        "The AMI is public, so any AWS account can launch it and read its disks; remove the `all` group from its launch permissions.",
    )
    .with(p.evidence("public")))
}

// ---------------------------------------------------------------------------
// Security groups
// ---------------------------------------------------------------------------

/// FSBP EC2.2 / CIS 5.4 (3.0) / 5.5 (4.0): a VPC's default security group
/// has no inbound and no outbound rule. Not applicable: any other group.
fn security_group_default_restricts_all(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if p.str("groupName")? != Some("default") {
        return Ok(
            Outcome::not_applicable("This is not a VPC's default security group.")
                .with(p.evidence("groupName")),
        );
    }
    let inbound = p.array("ipPermissions")?.len();
    let outbound = p.array("ipPermissionsEgress")?.len();
    if inbound == 0 && outbound == 0 {
        return Ok(Outcome::healthy("The default security group has no rules.")
            .with(p.evidence("ipPermissions"))
            .with(p.evidence("ipPermissionsEgress")));
    }
    let mut outcome = Outcome::unhealthy(format!(
        "The default security group has {inbound} inbound and {outbound} outbound rules; remove them all and attach purpose-made groups instead."
    ));
    if inbound > 0 {
        outcome = outcome.with(p.evidence("ipPermissions"));
    }
    if outbound > 0 {
        outcome = outcome.with(p.evidence("ipPermissionsEgress"));
    }
    Ok(outcome)
}

/// FSBP EC2.13: no TCP access to port 22 from `0.0.0.0/0` or `::/0`.
fn security_group_no_world_ssh(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    security_group_ports_closed(p, &[22], &["tcp"], &[Family::V4, Family::V6], "SSH")
}

/// FSBP EC2.14: no TCP access to port 3389 from `0.0.0.0/0` or `::/0`.
fn security_group_no_world_rdp(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    security_group_ports_closed(p, &[3389], &["tcp"], &[Family::V4, Family::V6], "RDP")
}

/// CIS 5.2 (3.0) / 5.3 (4.0): no TCP, UDP or all-traffic access to 22 or
/// 3389 from `0.0.0.0/0`.
fn security_group_no_ipv4_admin_ports(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    security_group_ports_closed(
        p,
        ADMIN_PORTS,
        &["tcp", "udp"],
        &[Family::V4],
        "remote administration over IPv4",
    )
}

/// CIS 5.3 (3.0) / 5.4 (4.0): no TCP, UDP or all-traffic access to 22 or
/// 3389 from `::/0`.
fn security_group_no_ipv6_admin_ports(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    security_group_ports_closed(
        p,
        ADMIN_PORTS,
        &["tcp", "udp"],
        &[Family::V6],
        "remote administration over IPv6",
    )
}

/// FSBP EC2.19: no TCP (or all-traffic) access from the internet to the
/// control's high-risk ports.
fn security_group_no_world_high_risk_ports(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    security_group_ports_closed(
        p,
        HIGH_RISK_PORTS,
        &["tcp"],
        &[Family::V4, Family::V6],
        "a high-risk service port",
    )
}

/// CIS 5.1.2 (4.0): no TCP, UDP or all-traffic access to CIFS/SMB (445)
/// from the internet.
fn security_group_no_world_cifs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    security_group_ports_closed(
        p,
        &[445],
        &["tcp", "udp"],
        &[Family::V4, Family::V6],
        "CIFS/SMB",
    )
}

/// Whether an open rule admits anything other than the authorized TCP
/// ports (EC2.18: all traffic, any UDP, or TCP beyond 80 and 443). Other
/// protocols (ICMP, ESP, …) have no ports and are out of scope.
fn unauthorized(rule: &OpenRule) -> bool {
    match rule.protocol.as_str() {
        "-1" | "udp" => true,
        "tcp" => !AUTHORIZED_TCP_PORTS
            .iter()
            .any(|port| rule.from == Some(*port) && rule.to == Some(*port)),
        _ => false,
    }
}

/// FSBP EC2.18: rules open to `0.0.0.0/0` or `::/0` only admit the
/// authorized TCP ports (80 and 443, the control's default).
fn security_group_authorized_ports_only(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    let Some(open) = world_ingress(p)? else {
        return Ok(Outcome::healthy(
            "The security group has no inbound rules, so it admits no traffic.",
        )
        .with(p.evidence("ipPermissions")));
    };
    let bad: Vec<&OpenRule> = open.iter().filter(|r| unauthorized(r)).collect();
    let Some(first) = bad.first() else {
        return Ok(
            Outcome::healthy("Rules open to the internet only admit TCP ports 80 and 443.")
                .with(p.evidence("ipPermissions")),
        );
    };
    let ports = match (first.protocol.as_str(), first.from, first.to) {
        ("-1", _, _) => "all traffic".to_owned(),
        (proto, Some(f), Some(t)) if f == t => format!("{proto} port {f}"),
        (proto, Some(f), Some(t)) => format!("{proto} ports {f}-{t}"),
        (proto, _, _) => format!("every {proto} port"),
    };
    let mut outcome = Outcome::unhealthy(format!(
        "An inbound rule allows {ports} from `{}`; only TCP 80 and 443 should be open to the internet, restrict the others to known ranges.",
        first.family.world()
    ));
    let mut seen = Vec::new();
    for rule in bad {
        if !seen.contains(&rule.index) {
            seen.push(rule.index);
            outcome = outcome.with(p.evidence(&rule.path()));
        }
    }
    Ok(outcome)
}

/// The security group `id` of an account and region (index built once per
/// evaluation).
fn security_group<'a>(
    inv: &'a Inventory,
    account: &str,
    region: &str,
    id: &str,
) -> Option<AssetRef<'a>> {
    let index = inv.memo("ec2:security_groups", |inv| {
        let mut index: HashMap<(String, String, String), String> = HashMap::new();
        for g in inv.of_type("AWS::EC2::SecurityGroup") {
            if let Some(gid) = g.properties.get("groupId").and_then(Node::as_str) {
                index.insert(
                    (g.account.to_owned(), g.region.to_owned(), gid.to_owned()),
                    g.arn.to_owned(),
                );
            }
        }
        index
    });
    index
        .get(&(account.to_owned(), region.to_owned(), id.to_owned()))
        .and_then(|arn| inv.by_arn(arn))
}

/// Whether another resource in the snapshot names the group: RDS instances
/// and clusters, EKS clusters, Lambda functions, EC2 instances, load
/// balancers (Application/Network and Classic). This backs up `inUse`
/// (network interfaces), which emulators do not create for every service.
/// The set of referenced groups is built once per evaluation.
fn referenced_by_resource(inv: &Inventory, account: &str, region: &str, id: &str) -> bool {
    let referenced = inv.memo("ec2:referenced_security_groups", |inv| {
        let mut set: HashSet<(String, String, String)> = HashSet::new();
        // A list of group ids or group objects, or one group id.
        let mut add = |a: AssetRef<'_>, value: Option<Node<'_>>| {
            let one = value.filter(|v| v.is_string());
            let list = value.and_then(Node::as_array).into_iter().flatten();
            for item in one.into_iter().chain(list) {
                let gid = item
                    .as_str()
                    .or_else(|| item.get("vpcSecurityGroupId").and_then(Node::as_str))
                    .or_else(|| item.get("groupId").and_then(Node::as_str));
                if let Some(gid) = gid {
                    set.insert((a.account.to_owned(), a.region.to_owned(), gid.to_owned()));
                }
            }
        };
        for t in ["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"] {
            for a in inv.of_type(t) {
                add(a, a.properties.get("vpcSecurityGroups"));
            }
        }
        for a in inv.of_type("AWS::EKS::Cluster") {
            let vpc = a.properties.get("resourcesVpcConfig");
            add(a, vpc.and_then(|v| v.get("securityGroupIds")));
            add(a, vpc.and_then(|v| v.get("clusterSecurityGroupId")));
        }
        for a in inv.of_type("AWS::Lambda::Function") {
            add(
                a,
                a.properties
                    .get("vpcConfig")
                    .and_then(|v| v.get("securityGroupIds")),
            );
        }
        for a in inv.of_type("AWS::EC2::Instance") {
            add(a, a.properties.get("securityGroups"));
            for eni in a
                .properties
                .get("networkInterfaces")
                .and_then(Node::as_array)
                .into_iter()
                .flatten()
            {
                add(a, eni.get("groups"));
            }
        }
        for t in [
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "AWS::ElasticLoadBalancing::LoadBalancer",
        ] {
            for a in inv.of_type(t) {
                add(a, a.properties.get("securityGroups"));
            }
        }
        set
    });
    referenced.contains(&(account.to_owned(), region.to_owned(), id.to_owned()))
}

/// FSBP EC2.22 (retired from FSBP, kept by Control Tower): the group is
/// attached to a network interface (`inUse`) or named by a resource in the
/// snapshot. Not applicable: a default group (it cannot be deleted).
fn security_group_in_use(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("groupName")? == Some("default") {
        return Ok(Outcome::not_applicable(
            "Default security groups cannot be deleted; EC2.2 covers their rules.",
        )
        .with(p.evidence("groupName")));
    }
    let Some(in_use) = p.bool("inUse")? else {
        return Err(Unreadable {
            path: "inUse".to_owned(),
            error: "the scan does not know whether the group is attached".to_owned(),
        });
    };
    if in_use {
        return Ok(
            Outcome::healthy("The security group is attached to a network interface.")
                .with(p.evidence("networkInterfaceCount")),
        );
    }
    let asset = p.asset();
    let id = p.str("groupId")?.unwrap_or_default();
    if referenced_by_resource(inv, asset.account, asset.region, id) {
        return Ok(
            Outcome::healthy("A resource in the inventory uses the security group.")
                .with(p.evidence("groupId")),
        );
    }
    Ok(Outcome::unhealthy(
        "The security group is not attached to anything; delete it so that it cannot be attached by mistake.",
    )
    .with(p.evidence("inUse"))
    .with(p.evidence("referencedBy")))
}

// ---------------------------------------------------------------------------
// Network ACLs
// ---------------------------------------------------------------------------

/// One network ACL entry, as read.
struct AclEntry<'a> {
    index: usize,
    number: i64,
    egress: bool,
    allow: bool,
    protocol: &'a str,
    from: Option<i64>,
    to: Option<i64>,
    v4: Option<&'a str>,
    v6: Option<&'a str>,
}

fn acl_entries<'a>(p: &Props<'a>) -> Result<Vec<AclEntry<'a>>, Unreadable> {
    let mut out = Vec::new();
    for (index, e) in p.array("entries")?.iter().enumerate() {
        let field = |name: &str| e.get(name).and_then(Node::as_str);
        let (Some(number), Some(protocol), Some(action)) = (
            e.get("ruleNumber").and_then(Node::as_i64),
            field("protocol"),
            field("ruleAction"),
        ) else {
            return Err(Unreadable {
                path: format!("entries.{index}"),
                error: "the entry lacks its number, protocol or action".to_owned(),
            });
        };
        let range = e.get("portRange").filter(|r| !r.is_null());
        out.push(AclEntry {
            index,
            number,
            egress: e.get("egress").and_then(Node::as_bool).unwrap_or(false),
            allow: action.eq_ignore_ascii_case("allow"),
            protocol,
            from: range.and_then(|r| r.get("from")).and_then(Node::as_i64),
            to: range.and_then(|r| r.get("to")).and_then(Node::as_i64),
            v4: field("cidrBlock"),
            v6: field("ipv6CidrBlock"),
        });
    }
    out.sort_by_key(|e| (e.egress, e.number));
    Ok(out)
}

/// For each family and port, the first ingress entry from the whole
/// internet that decides TCP traffic to `port`, when it allows it. Entries
/// for narrower sources do not decide for the whole internet and are
/// skipped; evaluation follows rule numbers, so an earlier world-wide deny
/// closes the port.
fn acl_open<'e, 'a>(entries: &'e [AclEntry<'a>], port: i64) -> Vec<(&'e AclEntry<'a>, Family)> {
    let mut open = Vec::new();
    for family in [Family::V4, Family::V6] {
        let decisive = entries.iter().filter(|e| !e.egress).find(|e| {
            let cidr = match family {
                Family::V4 => e.v4,
                Family::V6 => e.v6,
            };
            cidr.and_then(world_family) == Some(family)
                && admits(e.protocol, e.from, e.to, "tcp", port)
        });
        if let Some(entry) = decisive.filter(|e| e.allow) {
            open.push((entry, family));
        }
    }
    open
}

/// FSBP EC2.21 / CIS 5.1 (3.0) / 5.2 (4.0): no inbound entry lets the whole
/// internet (IPv4 or IPv6) reach TCP 22 or 3389, in rule order. Every
/// network ACL is assessed, default ones and ones associated with no
/// subnet included, as AWS Config's `nacl-no-unrestricted-ssh-rdp` does (an
/// unassociated ACL's entries apply as soon as a subnet is associated).
fn network_acl_no_world_admin_ports(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let entries = acl_entries(p)?;
    let mut found: Vec<(&AclEntry<'_>, Family, i64)> = Vec::new();
    for port in ADMIN_PORTS {
        for (entry, family) in acl_open(&entries, *port) {
            found.push((entry, family, *port));
        }
    }
    let Some((first, family, port)) = found.first() else {
        return Ok(
            Outcome::healthy("No inbound entry admits SSH or RDP from the whole internet.")
                .with(p.evidence("entries")),
        );
    };
    let mut outcome = Outcome::unhealthy(format!(
        "Inbound rule {} allows TCP port {port} from `{}`; add a deny entry for ports 22 and 3389 before it, or narrow its source.",
        first.number,
        family.world()
    ));
    let mut seen = Vec::new();
    for (entry, _, _) in &found {
        if !seen.contains(&entry.index) {
            seen.push(entry.index);
            outcome = outcome.with(p.evidence(&format!("entries.{}", entry.index)));
        }
    }
    Ok(outcome)
}

/// FSBP EC2.16: a network ACL is associated with at least one subnet.
/// Every network ACL is assessed, as AWS Config's
/// `vpc-network-acl-unused-check` does: a default ACL is in use while any
/// subnet of its VPC keeps it; one with no subnet left (every subnet moved
/// to other ACLs, or a VPC without subnets) fails too.
fn network_acl_in_use(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let count = p.array("associations")?.len();
    let unused = if p.bool("isDefault")? == Some(true) {
        "The VPC's default network ACL is associated with no subnet; it cannot be deleted on its own, so associate the VPC's subnets with it or delete the unused VPC."
    } else {
        "The network ACL is associated with no subnet; delete it."
    };
    Ok(Outcome::either(
        count > 0,
        format!("The network ACL is associated with {count} subnet(s)."),
        unused,
    )
    .with(p.evidence("associations")))
}

// ---------------------------------------------------------------------------
// VPCs and region settings
// ---------------------------------------------------------------------------

/// FSBP EC2.6 / CIS 3.7: the VPC has at least one active flow log that
/// captures rejected traffic (Security Hub's `trafficType` parameter is
/// `REJECT`; `ALL` captures rejected traffic too, an `ACCEPT`-only log does
/// not). Flow logs on subnets or interfaces only do not count. Not
/// applicable: a VPC that is not yet available.
fn vpc_flow_logs_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state) = p.str("state")?.filter(|s| *s != "available") {
        return Ok(Outcome::not_applicable(format!(
            "The VPC is {state}; flow logs apply once it is available."
        ))
        .with(p.evidence("state")));
    }
    let logs = p.array("flowLogs")?;
    let is_active = |l: &Node<'_>| {
        l.get("flowLogStatus")
            .and_then(Node::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("active"))
    };
    let captures_rejects = |l: &Node<'_>| {
        l.get("trafficType")
            .and_then(Node::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("REJECT") || t.eq_ignore_ascii_case("ALL"))
    };
    let active = logs.iter().find(|l| is_active(l) && captures_rejects(l));
    Ok(match active {
        Some(log) => {
            let traffic = log
                .get("trafficType")
                .and_then(Node::as_str)
                .unwrap_or("unknown");
            Outcome::healthy(format!(
                "The VPC has an active flow log (traffic type {traffic})."
            ))
            .with(p.evidence("flowLogs"))
        }
        None if logs.is_empty() => Outcome::unhealthy(
            "The VPC has no flow log; create one capturing at least rejected traffic.",
        )
        .with(p.evidence("flowLogs")),
        None if logs.iter().any(|l| is_active(&l)) => Outcome::unhealthy(
            "The VPC's active flow logs capture accepted traffic only; add one with traffic type REJECT or ALL.",
        )
        .with(p.evidence("flowLogs")),
        None => Outcome::unhealthy(
            "None of the VPC's flow logs is active; fix or recreate the flow log.",
        )
        .with(p.evidence("flowLogs")),
    })
}

/// Whether a read failed because the region is not enabled for the account
/// (an opt-in region): AWS answers `OptInRequired`.
fn region_not_enabled(err: &Unreadable) -> bool {
    err.error.starts_with("OptInRequired")
}

/// FSBP EC2.7 / CIS 2.2.1 (3.0) / 5.1.1 (4.0): EBS encryption by default is
/// on in the region. Not applicable: a region that is not enabled for the
/// account (no volume can be created there); any other failure to read the
/// setting is an error.
fn ebs_encryption_by_default(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let enabled = match p.bool("ebsEncryptionByDefault") {
        Ok(value) => value,
        Err(err) if region_not_enabled(&err) => {
            return Ok(Outcome::not_applicable(
                "The region is not enabled for this account, so no EBS volume can be created in it.",
            )
            .with(p.evidence("ebsEncryptionByDefault")));
        }
        Err(err) => return Err(err),
    };
    let Some(enabled) = enabled else {
        return Err(Unreadable {
            path: "ebsEncryptionByDefault".to_owned(),
            error: "the region did not report the setting".to_owned(),
        });
    };
    Ok(Outcome::either(
        enabled,
        "EBS encryption by default is on in this region.",
        "EBS encryption by default is off in this region; turn it on so new volumes and snapshot copies are encrypted.",
    )
    .with(p.evidence("ebsEncryptionByDefault")))
}

/// The region's instance metadata defaults require IMDSv2 for new
/// instances (`instanceMetadataDefaults.httpTokens` = `required`). No
/// account default (`null`) leaves it to each AMI and launch request.
/// Not applicable: the default switches the metadata endpoint off.
fn region_imdsv2_default(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.get("instanceMetadataDefaults")?.is_none() {
        return Err(Unreadable {
            path: "instanceMetadataDefaults".to_owned(),
            error: "the region did not report its instance metadata defaults".to_owned(),
        });
    }
    if p.str("instanceMetadataDefaults.httpEndpoint")? == Some("disabled") {
        return Ok(Outcome::not_applicable(
            "New instances in this region start with the metadata endpoint switched off.",
        )
        .with(p.evidence("instanceMetadataDefaults.httpEndpoint")));
    }
    let tokens = p.str("instanceMetadataDefaults.httpTokens")?;
    Ok(Outcome::either(
        tokens == Some("required"),
        "New instances in this region require IMDSv2 by default.",
        "The region has no IMDSv2 default for new instances; set the account-level instance metadata default `HttpTokens` to `required`.",
    )
    .with(p.evidence("instanceMetadataDefaults.httpTokens")))
}

// ---------------------------------------------------------------------------
// VPC networking: subnets, launch templates, VPC endpoints, transit
// gateways, VPN, Elastic IPs, VPC and snapshot Block Public Access
// ---------------------------------------------------------------------------

/// FSBP EC2.15: the subnet does not assign a public IPv4 address
/// (`mapPublicIpOnLaunch`) to the network interfaces created in it, the
/// one attribute AWS Config's `subnet-auto-assign-public-ip-disabled`
/// checks (`assignIpv6AddressOnCreation` is reported as evidence, not
/// judged). Not applicable: a subnet that is not available yet.
fn subnet_no_auto_public_ip(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state) = p.str("state")?.filter(|s| *s != "available") {
        return Ok(Outcome::not_applicable(format!(
            "The subnet is {state}; the check applies once it is available."
        ))
        .with(p.evidence("state")));
    }
    if p.bool("mapPublicIpOnLaunch")? == Some(true) {
        return Ok(Outcome::unhealthy(
            "The subnet assigns a public IPv4 address to every network interface created in it; turn off auto-assign public IPv4 and give public addresses only where a workload needs one.",
        )
        .with(p.evidence("mapPublicIpOnLaunch")));
    }
    Ok(
        Outcome::healthy("The subnet assigns no public IPv4 address automatically.")
            .with(p.evidence("mapPublicIpOnLaunch"))
            .with(p.evidence("assignIpv6AddressOnCreation")),
    )
}

/// The launch template's default version, or why the rule does not apply
/// (the template was deleted while the scan ran). The version missing
/// without that is unreadable.
fn template_default<'a>(p: &Props<'a>) -> Result<Result<Node<'a>, Outcome>, Unreadable> {
    if p.bool("deleted")? == Some(true) {
        return Ok(Err(Outcome::not_applicable(
            "The launch template was deleted while the scan ran.",
        )
        .with(p.evidence("deleted"))));
    }
    match p.get("defaultVersion")? {
        Some(version) => Ok(Ok(version)),
        None => Err(Unreadable {
            path: "defaultVersion".to_owned(),
            error: "the scan did not read the template's default version".to_owned(),
        }),
    }
}

/// FSBP EC2.25: no network interface of the launch template's default
/// version sets `associatePublicIpAddress` to true (unset leaves it to the
/// subnet, which EC2.15 covers). Not applicable: deleted during the scan.
fn launch_template_no_public_ip(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Err(na) = template_default(p)? {
        return Ok(na);
    }
    let interfaces = p.array("defaultVersion.networkInterfaces")?;
    let public = interfaces.iter().position(|eni| {
        eni.get("associatePublicIpAddress")
            .and_then(Node::as_bool)
            .unwrap_or(false)
    });
    Ok(match public {
        Some(i) => Outcome::unhealthy(format!(
            "Network interface {i} of the template's default version assigns a public IPv4 address; set `AssociatePublicIpAddress` to false in a new default version."
        ))
        .with(p.evidence(&format!("defaultVersion.networkInterfaces.{i}"))),
        None => Outcome::healthy(
            "No network interface of the template's default version assigns a public IPv4 address.",
        )
        .with(p.evidence("defaultVersion.networkInterfaces")),
    })
}

/// FSBP EC2.170: the launch template's default version requires IMDSv2
/// (`metadataOptions.httpTokens` = `required`). Not applicable: deleted
/// during the scan, or the version switches the metadata endpoint off.
fn launch_template_imdsv2_required(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Err(na) = template_default(p)? {
        return Ok(na);
    }
    if p.str("defaultVersion.metadataOptions.httpEndpoint")? == Some("disabled") {
        return Ok(Outcome::not_applicable(
            "Instances launched from the template have the metadata endpoint switched off.",
        )
        .with(p.evidence("defaultVersion.metadataOptions.httpEndpoint")));
    }
    let tokens = p.str("defaultVersion.metadataOptions.httpTokens")?;
    Ok(Outcome::either(
        tokens == Some("required"),
        "The template's default version requires IMDSv2 session tokens.",
        "The template's default version does not require IMDSv2; set `MetadataOptions.HttpTokens` to `required` in a new default version.",
    )
    .with(p.evidence("defaultVersion.metadataOptions.httpTokens")))
}

/// FSBP EC2.181: no EBS volume of the launch template's default version
/// sets `ebs.encrypted` to false. As Security Hub does, only settings the
/// template states explicitly count (not the region's encryption by
/// default, the AMI's mappings or the source snapshot). Not applicable:
/// deleted during the scan, or a default version that states encryption
/// for no EBS volume.
fn launch_template_ebs_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Err(na) = template_default(p)? {
        return Ok(na);
    }
    let mappings = p.array("defaultVersion.blockDeviceMappings")?;
    let stated: Vec<(usize, bool)> = mappings
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            m.get("ebs")
                .and_then(|e| e.get("encrypted"))
                .and_then(Node::as_bool)
                .map(|encrypted| (i, encrypted))
        })
        .collect();
    if stated.is_empty() {
        return Ok(Outcome::not_applicable(
            "The template's default version states encryption for no EBS volume; the AMI's mappings and the region's EBS encryption by default decide.",
        )
        .with(p.evidence("defaultVersion.blockDeviceMappings")));
    }
    Ok(match stated.iter().find(|(_, encrypted)| !encrypted) {
        Some((i, _)) => Outcome::unhealthy(format!(
            "EBS volume {i} of the template's default version is set not to be encrypted; set `Ebs.Encrypted` to true in a new default version."
        ))
        .with(p.evidence(&format!("defaultVersion.blockDeviceMappings.{i}"))),
        None => Outcome::healthy(format!(
            "The {} EBS volume(s) of the template's default version that state encryption are encrypted.",
            stated.len()
        ))
        .with(p.evidence("defaultVersion.blockDeviceMappings")),
    })
}

/// Endpoint states that no longer give the VPC a path to the service.
fn endpoint_gone(state: &str) -> bool {
    ["deleting", "deleted", "failed", "rejected", "expired"]
        .iter()
        .any(|s| state.eq_ignore_ascii_case(s))
}

/// Whether an endpoint service name (`com.amazonaws.<region>.<service>`,
/// `cn.com.amazonaws.…` in China) is `service` in `region`.
fn endpoint_service_is(name: &str, region: &str, service: &str) -> bool {
    ["com.amazonaws.", "cn.com.amazonaws."]
        .iter()
        .any(|prefix| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix(region))
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(service)
        })
}

/// FSBP EC2.10 / EC2.55–EC2.60: the VPC has a VPC endpoint for `service`
/// (any endpoint type, not being deleted or failed). Not applicable: a VPC
/// that is not yet available.
fn vpc_has_endpoint(p: &Props<'_>, service: &str, label: &str) -> Result<Outcome, Unreadable> {
    if let Some(state) = p.str("state")?.filter(|s| *s != "available") {
        return Ok(Outcome::not_applicable(format!(
            "The VPC is {state}; endpoints apply once it is available."
        ))
        .with(p.evidence("state")));
    }
    let region = p.asset().region;
    let endpoints = p.array("vpcEndpoints")?;
    let found = endpoints.iter().position(|e| {
        let name = e.get("serviceName").and_then(Node::as_str).unwrap_or("");
        let state = e.get("state").and_then(Node::as_str).unwrap_or("");
        endpoint_service_is(name, region, service) && !endpoint_gone(state)
    });
    Ok(match found {
        Some(i) => Outcome::healthy(format!("The VPC has a VPC endpoint for {label}."))
            .with(p.evidence(&format!("vpcEndpoints.{i}"))),
        None => Outcome::unhealthy(format!(
            "The VPC has no VPC endpoint for {label} (`com.amazonaws.{region}.{service}`); create an interface endpoint so this traffic stays off the internet."
        ))
        .with(p.evidence("vpcEndpoints")),
    })
}

fn vpc_endpoint_ec2(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    vpc_has_endpoint(p, "ec2", "Amazon EC2")
}

fn vpc_endpoint_ecr_api(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    vpc_has_endpoint(p, "ecr.api", "the ECR API")
}

fn vpc_endpoint_ecr_dkr(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    vpc_has_endpoint(p, "ecr.dkr", "the ECR Docker registry")
}

fn vpc_endpoint_ssm(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    vpc_has_endpoint(p, "ssm", "Systems Manager")
}

fn vpc_endpoint_ssm_contacts(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    vpc_has_endpoint(
        p,
        "ssm-contacts",
        "Systems Manager Incident Manager Contacts",
    )
}

fn vpc_endpoint_ssm_incidents(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    vpc_has_endpoint(p, "ssm-incidents", "Systems Manager Incident Manager")
}

/// FSBP EC2.23: the transit gateway does not accept cross-account VPC
/// attachment requests automatically (`options.autoAcceptSharedAttachments`
/// is not `enable`). Not applicable: a gateway being deleted.
fn transit_gateway_no_auto_accept(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state @ "deleting") = p.str("state")? {
        return Ok(
            Outcome::not_applicable(format!("The transit gateway is {state}."))
                .with(p.evidence("state")),
        );
    }
    let auto = p.str("options.autoAcceptSharedAttachments")?;
    Ok(Outcome::either(
        auto != Some("enable"),
        "The transit gateway requires each shared VPC attachment request to be accepted.",
        "The transit gateway accepts VPC attachment requests from other accounts automatically; turn off `AutoAcceptSharedAttachments`.",
    )
    .with(p.evidence("options.autoAcceptSharedAttachments")))
}

/// Not applicable to VPN connections that are not `available` (being
/// created or deleted).
fn vpn_not_available(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(p.str("state")?.filter(|s| *s != "available").map(|state| {
        Outcome::not_applicable(format!(
            "The VPN connection is {state}; the check applies to available connections."
        ))
        .with(p.evidence("state"))
    }))
}

/// FSBP EC2.20: both tunnels of the site-to-site VPN connection are up
/// (every `vgwTelemetry` entry has status `UP`). Not applicable: a
/// connection that is not available.
fn vpn_tunnels_up(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = vpn_not_available(p)? {
        return Ok(na);
    }
    let tunnels = p.array("vgwTelemetry")?;
    if tunnels.is_empty() {
        return Err(Unreadable {
            path: "vgwTelemetry".to_owned(),
            error: "the connection reported no tunnel status".to_owned(),
        });
    }
    let down: Vec<&str> = tunnels
        .iter()
        .filter(|t| {
            !t.get("status")
                .and_then(Node::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("up"))
        })
        .map(|t| {
            t.get("outsideIpAddress")
                .and_then(Node::as_str)
                .unwrap_or("unknown")
        })
        .collect();
    Ok(if down.is_empty() {
        Outcome::healthy(format!(
            "All {} tunnels of the VPN connection are up.",
            tunnels.len()
        ))
    } else {
        Outcome::unhealthy(format!(
            "{} of {} tunnels of the VPN connection are down ({}); fix the customer gateway configuration so both tunnels are up for redundancy.",
            down.len(),
            tunnels.len(),
            down.join(", ")
        ))
    }
    .with(p.evidence("vgwTelemetry")))
}

/// FSBP EC2.171: every tunnel of the site-to-site VPN connection sends its
/// logs to CloudWatch Logs (`tunnelOptions[].logOptions.cloudWatchLogOptions.logEnabled`).
/// Not applicable: a connection that is not available.
fn vpn_tunnel_logging_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = vpn_not_available(p)? {
        return Ok(na);
    }
    let tunnels = p.array("tunnelOptions")?;
    if tunnels.is_empty() {
        return Err(Unreadable {
            path: "tunnelOptions".to_owned(),
            error: "the connection reported no tunnel options".to_owned(),
        });
    }
    let unlogged = tunnels.iter().position(|t| {
        t.pointer("/logOptions/cloudWatchLogOptions/logEnabled")
            .and_then(Node::as_bool)
            != Some(true)
    });
    Ok(match unlogged {
        Some(i) => Outcome::unhealthy(format!(
            "Tunnel {i} of the VPN connection does not send its logs to CloudWatch Logs; turn on tunnel logging for both tunnels."
        ))
        .with(p.evidence(&format!("tunnelOptions.{i}.logOptions"))),
        None => Outcome::healthy("Every tunnel of the VPN connection logs to CloudWatch Logs.")
            .with(p.evidence("tunnelOptions")),
    })
}

/// FSBP EC2.183: every tunnel of the site-to-site VPN connection allows
/// IKEv2 only (`tunnelOptions[].ikeVersions` is exactly `ikev2`; a tunnel
/// that allows IKEv1, or lists no version, fails). Not applicable: a
/// connection that is not available.
fn vpn_ikev2_only(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = vpn_not_available(p)? {
        return Ok(na);
    }
    let tunnels = p.array("tunnelOptions")?;
    if tunnels.is_empty() {
        return Err(Unreadable {
            path: "tunnelOptions".to_owned(),
            error: "the connection reported no tunnel options".to_owned(),
        });
    }
    let loose = tunnels.iter().position(|t| {
        let versions = t
            .get("ikeVersions")
            .and_then(Node::as_array)
            .unwrap_or_default();
        versions.is_empty()
            || versions
                .iter()
                .any(|v| !v.as_str().is_some_and(|v| v.eq_ignore_ascii_case("ikev2")))
    });
    Ok(match loose {
        Some(i) => Outcome::unhealthy(format!(
            "Tunnel {i} of the VPN connection does not restrict IKE to version 2; set its IKE versions to `ikev2` only."
        ))
        .with(p.evidence(&format!("tunnelOptions.{i}.ikeVersions"))),
        None => Outcome::healthy("Every tunnel of the VPN connection allows IKEv2 only.")
            .with(p.evidence("tunnelOptions")),
    })
}

/// FSBP EC2.51: the Client VPN endpoint logs client connections
/// (`connectionLogOptions.enabled`). Not applicable: an endpoint being
/// deleted.
fn client_vpn_connection_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(state @ "deleting") = p.str("status")? {
        return Ok(
            Outcome::not_applicable(format!("The Client VPN endpoint is {state}."))
                .with(p.evidence("status")),
        );
    }
    let enabled = p.bool("connectionLogOptions.enabled")?;
    Ok(Outcome::either(
        enabled == Some(true),
        "The Client VPN endpoint logs client connections to CloudWatch Logs.",
        "The Client VPN endpoint does not log client connections; turn on connection logging to a CloudWatch Logs group.",
    )
    .with(p.evidence("connectionLogOptions")))
}

/// FSBP EC2.12: the Elastic IP address is associated with an instance or a
/// network interface (`associationId`). Not applicable: an EC2-Classic
/// (`standard` domain) address, outside the control's VPC scope.
fn eip_attached(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(domain @ "standard") = p.str("domain")? {
        return Ok(Outcome::not_applicable(format!(
            "The address is in the `{domain}` (EC2-Classic) domain; the check covers VPC addresses."
        ))
        .with(p.evidence("domain")));
    }
    let association = p.str("associationId")?;
    Ok(Outcome::either(
        association.is_some(),
        "The Elastic IP address is associated with an instance or network interface.",
        "The Elastic IP address is not associated with anything; release it if it is not needed (it is billed and can be reused by mistake).",
    )
    .with(p.evidence("associationId")))
}

/// A region setting read through `path`; not applicable in a region the
/// account has not enabled, unreadable when the region answered nothing.
fn region_setting<'a>(p: &Props<'a>, path: &str) -> Result<Result<Node<'a>, Outcome>, Unreadable> {
    match p.get(path) {
        Ok(Some(node)) => Ok(Ok(node)),
        Ok(None) => Err(Unreadable {
            path: path.to_owned(),
            error: "the region did not report the setting".to_owned(),
        }),
        Err(err) if region_not_enabled(&err) => Ok(Err(Outcome::not_applicable(
            "The region is not enabled for this account, so nothing can be created in it.",
        )
        .with(p.evidence(path)))),
        Err(err) => Err(err),
    }
}

/// FSBP EC2.172: VPC Block Public Access blocks internet gateway traffic
/// in the region (`internetGatewayBlockMode` `block-bidirectional` or
/// `block-ingress`). Not applicable: a region not enabled for the account.
fn vpc_block_public_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let node = match region_setting(p, "vpcBlockPublicAccess")? {
        Ok(node) => node,
        Err(na) => return Ok(na),
    };
    let mode = node
        .get("internetGatewayBlockMode")
        .and_then(Node::as_str)
        .unwrap_or("off");
    Ok(Outcome::either(
        matches!(mode, "block-bidirectional" | "block-ingress"),
        format!("VPC Block Public Access blocks internet gateway traffic in this region ({mode})."),
        "VPC Block Public Access is off in this region; set it to block ingress (or both directions) and exclude only the VPCs or subnets that must reach the internet.",
    )
    .with(p.evidence("vpcBlockPublicAccess.internetGatewayBlockMode")))
}

/// FSBP EC2.182: EBS snapshot Block Public Access blocks all sharing in the
/// region (`snapshotBlockPublicAccess.state` = `block-all-sharing`;
/// `block-new-sharing` leaves already public snapshots public). Not
/// applicable: a region not enabled for the account.
fn snapshot_block_public_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let node = match region_setting(p, "snapshotBlockPublicAccess")? {
        Ok(node) => node,
        Err(na) => return Ok(na),
    };
    let state = node
        .get("state")
        .and_then(Node::as_str)
        .unwrap_or("unblocked");
    Ok(Outcome::either(
        state == "block-all-sharing",
        "EBS snapshot Block Public Access blocks all public sharing in this region.",
        format!(
            "EBS snapshot Block Public Access is `{state}` in this region; set it to `block-all-sharing`."
        ),
    )
    .with(p.evidence("snapshotBlockPublicAccess.state")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use crate::inventory::testing::asset_ref;
    use rampart_model::Asset;
    use serde_json::{Value, json};

    fn sg(rules: Value) -> Asset {
        Asset::new(
            "arn:aws:ec2:us-east-1:1:security-group/sg-1",
            "AWS::EC2::SecurityGroup",
            "1",
            "us-east-1",
            "g",
            json!({ "groupId": "sg-1", "groupName": "g", "ipPermissions": rules }),
        )
    }

    #[test]
    fn endpoint_service_names() {
        assert!(endpoint_service_is(
            "com.amazonaws.us-east-1.ec2",
            "us-east-1",
            "ec2"
        ));
        assert!(endpoint_service_is(
            "cn.com.amazonaws.cn-north-1.ecr.api",
            "cn-north-1",
            "ecr.api"
        ));
        assert!(!endpoint_service_is(
            "com.amazonaws.us-east-1.ec2messages",
            "us-east-1",
            "ec2"
        ));
        assert!(!endpoint_service_is(
            "com.amazonaws.us-west-2.ec2",
            "us-east-1",
            "ec2"
        ));
        assert!(!endpoint_service_is(
            "com.amazonaws.us-east-1.ecr.dkr",
            "us-east-1",
            "ecr.api"
        ));
        assert!(!endpoint_service_is(
            "com.amazonaws.vpce.us-east-1.vpce-svc-0abc",
            "us-east-1",
            "ec2"
        ));
        assert!(endpoint_gone("Deleting"));
        assert!(!endpoint_gone("pendingAcceptance"));
    }

    #[test]
    fn recognizes_world_cidrs() {
        assert_eq!(world_family("0.0.0.0/0"), Some(Family::V4));
        assert_eq!(world_family(" ::/0 "), Some(Family::V6));
        assert_eq!(world_family("::0/0"), Some(Family::V6));
        assert_eq!(world_family("10.0.0.0/0"), Some(Family::V4));
        assert_eq!(world_family("0.0.0.0/1"), None);
        assert_eq!(world_family("10.0.0.0/8"), None);
        assert_eq!(world_family("2001:db8::/32"), None);
        assert_eq!(world_family("0.0.0.0"), None);
        assert_eq!(world_family("pl-123"), None);
    }

    #[test]
    fn port_ranges_and_protocols() {
        assert!(range_contains(None, None, 22));
        assert!(range_contains(Some(-1), Some(-1), 22));
        assert!(range_contains(Some(0), Some(65535), 3389));
        assert!(range_contains(Some(22), Some(22), 22));
        assert!(!range_contains(Some(23), Some(80), 22));
        assert!(range_contains(Some(20), None, 22));
        assert!(admits("-1", None, None, "tcp", 22));
        assert!(admits("-1", Some(443), Some(443), "udp", 22));
        assert!(admits("tcp", Some(1), Some(1024), "tcp", 22));
        assert!(!admits("udp", Some(1), Some(1024), "tcp", 22));
        assert!(!admits("icmp", None, None, "tcp", 22));
    }

    #[test]
    fn finds_world_exposures_by_family() {
        let a = sg(json!([
            {"ipProtocol": "tcp", "fromPort": 0, "toPort": 1000,
             "ipRanges": [{"cidrIp": "10.0.0.0/8"}], "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
            {"ipProtocol": "-1", "fromPort": null, "toPort": null,
             "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": []},
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
             "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}
        ]));
        let p = Props::of(asset_ref(&a));
        let open = world_ingress(&p).unwrap().unwrap();
        assert_eq!(open.len(), 3);
        let v6 = exposures(&open, &[22], &["tcp"], &[Family::V6]);
        assert_eq!(v6.len(), 1);
        assert_eq!(v6[0].0.index, 0);
        let v4 = exposures(&open, &[22, 3389], &["tcp"], &[Family::V4]);
        assert_eq!(v4.len(), 1);
        assert_eq!(v4[0].0.index, 1);
        assert!(
            exposures(&open, &[8443], &["tcp"], &[Family::V4])[0]
                .0
                .index
                == 1
        );
        let bad: Vec<usize> = open
            .iter()
            .filter(|r| unauthorized(r))
            .map(|r| r.index)
            .collect();
        assert_eq!(bad, vec![0, 1]);
        assert!(
            world_ingress(&Props::of(asset_ref(&sg(json!([])))))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn network_acl_rule_order_decides() {
        let acl = |entries: Value| {
            Asset::new(
                "arn:aws:ec2:us-east-1:1:network-acl/acl-1",
                "AWS::EC2::NetworkAcl",
                "1",
                "us-east-1",
                "acl",
                json!({ "entries": entries, "associations": [{"subnetId": "s"}] }),
            )
        };
        let denied_first = acl(json!([
            {"ruleNumber": 50, "egress": false, "ruleAction": "deny", "protocol": "tcp",
             "cidrBlock": "0.0.0.0/0", "portRange": {"from": 22, "to": 22}},
            {"ruleNumber": 100, "egress": false, "ruleAction": "allow", "protocol": "-1",
             "cidrBlock": "0.0.0.0/0", "portRange": null}
        ]));
        let p = Props::of(asset_ref(&denied_first));
        let entries = acl_entries(&p).unwrap();
        assert!(acl_open(&entries, 22).is_empty());
        assert_eq!(acl_open(&entries, 3389).len(), 1);

        let narrow_deny = acl(json!([
            {"ruleNumber": 50, "egress": false, "ruleAction": "deny", "protocol": "tcp",
             "cidrBlock": "203.0.113.0/24", "portRange": {"from": 22, "to": 22}},
            {"ruleNumber": 100, "egress": false, "ruleAction": "allow", "protocol": "tcp",
             "ipv6CidrBlock": "::/0", "portRange": {"from": 1, "to": 65535}},
            {"ruleNumber": 100, "egress": true, "ruleAction": "allow", "protocol": "-1",
             "cidrBlock": "0.0.0.0/0"}
        ]));
        let p = Props::of(asset_ref(&narrow_deny));
        let entries = acl_entries(&p).unwrap();
        let open = acl_open(&entries, 22);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].1, Family::V6);
    }
}
