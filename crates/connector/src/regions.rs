//! AWS region codes a connector may name, and the partition each is in.

/// Every AWS region code Rampart knows: the commercial regions, GovCloud
/// (US) and China. A connector's `regions` must be drawn from this list.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// The partitions role ARNs may name.
pub const KNOWN_PARTITIONS: &[&str] = &["aws", "aws-us-gov", "aws-cn"];

/// Whether `region` is in [`KNOWN_REGIONS`].
pub fn is_known_region(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
}

/// The partition a region code belongs to: `aws-us-gov` for GovCloud,
/// `aws-cn` for China, `aws` otherwise.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for region in KNOWN_REGIONS {
            assert!(seen.insert(*region), "`{region}` listed twice");
            let parts: Vec<&str> = region.split('-').collect();
            assert!(parts.len() >= 3, "`{region}`");
            assert!(parts.last().unwrap().parse::<u8>().is_ok(), "`{region}`");
        }
        assert!(is_known_region("us-gov-west-1"));
        assert!(is_known_region("cn-northwest-1"));
        assert!(!is_known_region("us-east-9"));
    }

    #[test]
    fn partitions_follow_the_region_prefix() {
        assert_eq!(partition_of("us-gov-east-1"), "aws-us-gov");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-east-1"), "aws");
        for region in KNOWN_REGIONS {
            assert!(KNOWN_PARTITIONS.contains(&partition_of(region)));
        }
    }
}
