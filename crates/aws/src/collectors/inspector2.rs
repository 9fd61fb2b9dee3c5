//! Amazon Inspector: one [`types::INSPECTOR_REGION`] asset per region with
//! the scan types activated for the scanned account (`ec2`, `ecr`,
//! `lambda`, `lambdaCode`, each an Inspector status such as `ENABLED` or
//! `DISABLED`).
//!
//! Per region one `BatchGetAccountStatus` for the scanned account. AWS
//! reports an account that never activated Inspector with every status
//! `DISABLED`; an answer that lists the account under `failedAccounts`
//! marks the statuses unavailable. An answer that names the account
//! nowhere (moto before `Enable`) is read as nothing activated.

use aws_sdk_inspector2::operation::batch_get_account_status::BatchGetAccountStatusOutput;
use aws_sdk_inspector2::types::State;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Amazon Inspector's activation state.
#[derive(Debug)]
pub struct Inspector2;

static META: CollectorMeta = CollectorMeta {
    service: "inspector2",
    scope: Scope::Regional,
    operations: &[op!("inspector2", "BatchGetAccountStatus")],
    resource_types: &[types::INSPECTOR_REGION],
};

impl Collector for Inspector2 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().inspector2(ctx.region());
            let out = ctx
                .call(
                    "BatchGetAccountStatus",
                    client
                        .batch_get_account_status()
                        .account_ids(ctx.account())
                        .send(),
                )
                .await;
            ctx.emit(region_asset(ctx.account(), ctx.region(), out.as_ref()));
        })
    }
}

/// The scan types and the property each is kept under.
pub const SCAN_TYPES: &[&str] = &["status", "ec2", "ecr", "lambda", "lambdaCode"];

fn status(state: Option<&State>) -> Value {
    Value::from(state.map_or("DISABLED", |s| s.status().as_str()))
}

/// The [`types::INSPECTOR_REGION`] asset of the account in a region.
pub fn region_asset(
    account: &str,
    region: &str,
    out: Result<&BatchGetAccountStatusOutput, &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("inspector2", region, account, "account-status"),
        types::INSPECTOR_REGION,
        account,
        region,
        "account-status",
        json!({}),
    );
    let failure = match out {
        Ok(out) => {
            if let Some(state) = out.accounts().iter().find(|a| a.account_id() == account) {
                let resources = state.resource_state();
                asset.set_property("status", status(state.state()));
                asset.set_property("ec2", status(resources.and_then(|r| r.ec2())));
                asset.set_property("ecr", status(resources.and_then(|r| r.ecr())));
                asset.set_property("lambda", status(resources.and_then(|r| r.lambda())));
                asset.set_property(
                    "lambdaCode",
                    status(resources.and_then(|r| r.lambda_code())),
                );
                return asset;
            }
            match out
                .failed_accounts()
                .iter()
                .find(|a| a.account_id() == account)
            {
                Some(failed) => CallFailure {
                    kind: rampart_model::GapKind::Other,
                    code: Some(failed.error_code().as_str().to_owned()),
                    message: format!(
                        "Inspector could not report the account: {}",
                        failed.error_message()
                    ),
                },
                None => {
                    for key in SCAN_TYPES {
                        asset.set_property(key, Value::from("DISABLED"));
                    }
                    return asset;
                }
            }
        }
        Err(failure) => failure.clone(),
    };
    for key in SCAN_TYPES {
        asset.set_property(key, Value::Null);
        asset.mark_unavailable(key, failure.to_string());
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_inspector2::types::{
        AccountState, ErrorCode, FailedAccount, ResourceState, Status,
    };
    use rampart_model::GapKind;

    fn state(status: Status) -> State {
        State::builder()
            .status(status)
            .error_code(ErrorCode::AlreadyEnabled)
            .error_message("")
            .build()
            .unwrap()
    }

    #[test]
    fn maps_the_account_state() {
        let out = BatchGetAccountStatusOutput::builder()
            .accounts(
                AccountState::builder()
                    .account_id("123456789012")
                    .state(state(Status::Enabled))
                    .resource_state(
                        ResourceState::builder()
                            .ec2(state(Status::Enabled))
                            .ecr(state(Status::Disabled))
                            .lambda(state(Status::Enabled))
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let asset = region_asset("123456789012", "us-east-1", Ok(&out));
        assert_eq!(asset.resource_type, types::INSPECTOR_REGION);
        assert_eq!(
            asset.properties,
            json!({"status": "ENABLED", "ec2": "ENABLED", "ecr": "DISABLED",
                   "lambda": "ENABLED", "lambdaCode": "DISABLED"})
        );
    }

    #[test]
    fn missing_and_failed_accounts() {
        let none = BatchGetAccountStatusOutput::builder()
            .set_accounts(Some(Vec::new()))
            .build()
            .unwrap();
        let asset = region_asset("123456789012", "us-east-1", Ok(&none));
        assert_eq!(asset.properties["ec2"], "DISABLED");
        assert!(asset.unavailable.is_empty());

        let failed = BatchGetAccountStatusOutput::builder()
            .set_accounts(Some(Vec::new()))
            .failed_accounts(
                FailedAccount::builder()
                    .account_id("123456789012")
                    .error_code(ErrorCode::AccessDenied)
                    .error_message("denied")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let asset = region_asset("123456789012", "us-east-1", Ok(&failed));
        assert_eq!(asset.properties["ec2"], Value::Null);
        assert!(asset.unavailable["ec2"].contains("denied"));

        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = region_asset("123456789012", "us-east-1", Err(&failure));
        assert!(asset.unavailable.contains_key("lambdaCode"));
    }
}
