//! STS: the account itself (caller identity), one asset per account.

use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::json;

use super::{Collector, CollectorMeta, Scope};
use crate::op;
use crate::scan::CollectContext;

/// Collects the caller identity as the account's asset.
#[derive(Debug)]
pub struct Sts;

static META: CollectorMeta = CollectorMeta {
    service: "sts",
    scope: Scope::Global,
    operations: &[op!("sts", "GetCallerIdentity")],
    resource_types: &[types::ACCOUNT],
};

impl Collector for Sts {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().sts(ctx.region());
            if let Ok(out) = ctx
                .call("GetCallerIdentity", client.get_caller_identity().send())
                .await
            {
                ctx.emit(account_asset(
                    ctx.account(),
                    ctx.region(),
                    out.arn().unwrap_or_default(),
                    out.user_id().unwrap_or_default(),
                ));
            }
        })
    }
}

/// The account asset: who scanned it and from where.
pub fn account_asset(account: &str, home_region: &str, caller_arn: &str, user_id: &str) -> Asset {
    Asset::new(
        setting_id("account", home_region, account, "account"),
        types::ACCOUNT,
        account,
        home_region,
        account,
        json!({ "accountId": account, "callerArn": caller_arn, "callerUserId": user_id }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_caller_identity() {
        let asset = account_asset(
            "123456789012",
            "us-east-1",
            "arn:aws:iam::123456789012:user/x",
            "AID",
        );
        assert_eq!(
            asset.arn,
            "arn:rampart:account:us-east-1:123456789012:account"
        );
        assert_eq!(asset.resource_type, "Rampart::Account");
        assert_eq!(
            asset.properties["callerArn"],
            "arn:aws:iam::123456789012:user/x"
        );
    }
}
