//! Helpers shared by the collector test binaries that scan moto: emulator
//! settings, a scan plan, the declared-calls check and assessment lookup.

#![allow(dead_code, reason = "each test binary uses part of these helpers")]

use std::collections::{BTreeMap, BTreeSet};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use rampart_aws::{AwsAccess, AwsSettings, ScanPlan};
use rampart_model::{Assessment, AssessmentStatus};

/// moto's default account.
pub const ACCOUNT: &str = "123456789012";
/// The home region of every plan here.
pub const REGION: &str = "us-east-1";

/// Settings for moto (or the emulator in front of it) at `endpoint`.
pub fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        home_region: Some(REGION.to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        ..AwsSettings::default()
    }
}

/// A plan of `services` in `regions` of moto's account, home [`REGION`].
pub fn plan(regions: &[&str], services: &[&str]) -> ScanPlan {
    ScanPlan {
        account: ACCOUNT.to_owned(),
        home_region: REGION.to_owned(),
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        disabled_regions: vec![],
        services: Some(services.iter().map(|s| (*s).to_owned()).collect()),
        concurrency: 4,
    }
}

/// Asserts that every call made through `access` is declared by a
/// collector; returns the calls, by `(service, operation)`.
pub fn assert_only_declared_calls(access: &AwsAccess) -> BTreeMap<(String, String), u64> {
    let declared: BTreeSet<(&str, &str)> = rampart_aws::collectors::all_operations()
        .map(|op| (op.service, op.name))
        .collect();
    let made = access.stats().snapshot();
    for (service, operation) in made.keys() {
        assert!(
            declared.contains(&(service.as_str(), operation.as_str())),
            "undeclared call {service}:{operation}"
        );
    }
    made
}

/// The status of `recommendation` on the resource named `name`.
pub fn status(assessments: &[Assessment], recommendation: &str, name: &str) -> AssessmentStatus {
    assessments
        .iter()
        .find(|a| a.recommendation == recommendation && a.resource_name == name)
        .unwrap_or_else(|| panic!("no `{recommendation}` assessment of `{name}`"))
        .status
}
