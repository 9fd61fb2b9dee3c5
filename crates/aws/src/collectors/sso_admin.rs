//! IAM Identity Center (global: once per account): the Identity Center
//! instances the account has in the scanned regions, one
//! [`types::IDENTITY_CENTER`] asset per account.
//!
//! `ListInstances` in every scanned region (an organization has one
//! instance, in one region). `instances` lists what was found; when no
//! instance was found and some region could not be read, `instances` is
//! unavailable (the instance may be in that region).

use aws_sdk_ssoadmin::types::InstanceMetadata;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects IAM Identity Center instances.
#[derive(Debug)]
pub struct SsoAdmin;

static META: CollectorMeta = CollectorMeta {
    service: "sso",
    scope: Scope::Global,
    operations: &[op!("sso", "ListInstances")],
    resource_types: &[types::IDENTITY_CENTER],
};

/// One region's answer: its instances, or why it could not be read.
pub type RegionRead = (String, Result<Vec<InstanceMetadata>, CallFailure>);

impl Collector for SsoAdmin {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let reads =
                futures::future::join_all(ctx.scan_regions().iter().map(|region| async move {
                    let client = ctx.access().sso_admin(region);
                    let read = ctx
                        .call_optional_in(
                            region,
                            "ListInstances",
                            &[],
                            client.list_instances().send(),
                        )
                        .await
                        .map(|out| {
                            out.map(|o| o.instances.unwrap_or_default())
                                .unwrap_or_default()
                        });
                    (region.clone(), read)
                }))
                .await;
            ctx.emit(instances_asset(ctx.account(), ctx.home_region(), &reads));
        })
    }
}

/// The [`types::IDENTITY_CENTER`] asset: `instances` (`[{instanceArn,
/// region, ownerAccountId, status}]`) and `regionsRead`.
pub fn instances_asset(account: &str, home_region: &str, reads: &[RegionRead]) -> Asset {
    let mut instances = Vec::new();
    let mut read = Vec::new();
    let mut failure = None;
    for (region, result) in reads {
        match result {
            Ok(list) => {
                read.push(Value::from(region.as_str()));
                instances.extend(list.iter().map(|i| {
                    json!({
                        "instanceArn": opt_str(i.instance_arn()),
                        "region": region,
                        "ownerAccountId": opt_str(i.owner_account_id()),
                        "status": opt_str(i.status().map(|s| s.as_str())),
                    })
                }));
            }
            Err(f) => failure = Some(format!("{region}: {f}")),
        }
    }
    let nothing_read = read.is_empty();
    let mut asset = Asset::new(
        setting_id("sso", home_region, account, "instances"),
        types::IDENTITY_CENTER,
        account,
        home_region,
        "instances",
        json!({ "regionsRead": read }),
    );
    match (instances.is_empty(), failure) {
        (true, Some(failure)) => {
            asset.set_property("instances", Value::Null);
            if nothing_read {
                // No region answered: an empty list would read as data.
                asset.set_property("regionsRead", Value::Null);
                asset.mark_unavailable("regionsRead", failure.clone());
            }
            asset.mark_unavailable("instances", failure);
        }
        _ => asset.set_property("instances", Value::Array(instances)),
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssoadmin::types::InstanceStatus;
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        }
    }

    #[test]
    fn lists_instances_across_regions() {
        let instance = InstanceMetadata::builder()
            .instance_arn("arn:aws:sso:::instance/ssoins-1")
            .owner_account_id("123456789012")
            .status(InstanceStatus::Active)
            .build();
        let reads = vec![
            ("us-east-1".to_owned(), Ok(vec![])),
            ("eu-west-1".to_owned(), Ok(vec![instance])),
            ("ap-south-1".to_owned(), Err(denied())),
        ];
        let asset = instances_asset("123456789012", "us-east-1", &reads);
        assert_eq!(asset.properties["instances"][0]["region"], "eu-west-1");
        assert_eq!(asset.properties["instances"][0]["status"], "ACTIVE");
        assert_eq!(
            asset.properties["regionsRead"],
            json!(["us-east-1", "eu-west-1"])
        );
        assert!(asset.unavailable.is_empty());

        let none = vec![
            ("us-east-1".to_owned(), Ok(vec![])),
            ("ap-south-1".to_owned(), Err(denied())),
        ];
        let asset = instances_asset("123456789012", "us-east-1", &none);
        assert!(asset.unavailable.contains_key("instances"));
        assert!(asset.has_data());
        let denied_everywhere = vec![("us-east-1".to_owned(), Err(denied()))];
        let asset = instances_asset("123456789012", "us-east-1", &denied_everywhere);
        assert!(asset.unavailable.contains_key("regionsRead"));
        assert!(!asset.has_data(), "nothing read is no data");
        let empty = vec![("us-east-1".to_owned(), Ok(vec![]))];
        let asset = instances_asset("123456789012", "us-east-1", &empty);
        assert_eq!(asset.properties["instances"], json!([]));
    }
}
