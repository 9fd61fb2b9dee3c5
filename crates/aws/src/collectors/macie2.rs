//! Amazon Macie: one [`types::MACIE_REGION`] asset per region,
//! `{"status": "ENABLED" | "PAUSED" | "DISABLED", ...}`.
//!
//! Per region one `GetMacieSession`. Macie answers an account that has not
//! enabled it with `AccessDeniedException` "Macie is not enabled" (moto
//! with `ResourceNotFoundException`): both read as `DISABLED`, not as a
//! gap. Any other failure marks `status` unavailable.

use aws_sdk_macie2::operation::get_macie_session::GetMacieSessionOutput;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp};
use crate::error::{CallFailure, classify};
use crate::op;
use crate::scan::CollectContext;

/// Collects Amazon Macie's state.
#[derive(Debug)]
pub struct Macie2;

static META: CollectorMeta = CollectorMeta {
    service: "macie2",
    scope: Scope::Regional,
    operations: &[op!("macie2", "GetMacieSession")],
    resource_types: &[types::MACIE_REGION],
};

/// Whether a failure means "Macie is not enabled" rather than a failed read.
pub fn is_not_enabled(failure: &CallFailure) -> bool {
    match failure.code.as_deref() {
        Some("ResourceNotFoundException") => true,
        Some("AccessDeniedException") => failure.message.contains("Macie is not enabled"),
        _ => false,
    }
}

impl Collector for Macie2 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().macie2(ctx.region());
            let read = match client.get_macie_session().send().await {
                Ok(out) => Ok(Some(out)),
                Err(err) => {
                    let failure = classify(&err);
                    if is_not_enabled(&failure) {
                        Ok(None)
                    } else {
                        ctx.gap("GetMacieSession", &failure);
                        Err(failure)
                    }
                }
            };
            ctx.emit(region_asset(
                ctx.account(),
                ctx.region(),
                read.as_ref().map(Option::as_ref),
            ));
        })
    }
}

/// The [`types::MACIE_REGION`] asset: the session's `status` (`DISABLED`
/// when Macie is not enabled), finding publishing frequency and dates.
pub fn region_asset(
    account: &str,
    region: &str,
    session: Result<Option<&GetMacieSessionOutput>, &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("macie2", region, account, "session"),
        types::MACIE_REGION,
        account,
        region,
        "session",
        json!({}),
    );
    match session {
        Ok(Some(s)) => {
            asset.set_property("status", opt_str(s.status().map(|v| v.as_str())));
            asset.set_property(
                "findingPublishingFrequency",
                opt_str(s.finding_publishing_frequency().map(|v| v.as_str())),
            );
            asset.set_property("createdAt", opt_timestamp(s.created_at()));
        }
        Ok(None) => asset.set_property("status", Value::from("DISABLED")),
        Err(failure) => {
            asset.set_property("status", Value::Null);
            asset.mark_unavailable("status", failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_macie2::types::MacieStatus;
    use rampart_model::GapKind;

    fn failure(code: &str, message: &str) -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some(code.into()),
            message: message.into(),
        }
    }

    #[test]
    fn maps_the_session() {
        let s = GetMacieSessionOutput::builder()
            .status(MacieStatus::Enabled)
            .build();
        let asset = region_asset("123456789012", "us-east-1", Ok(Some(&s)));
        assert_eq!(asset.properties["status"], "ENABLED");
        assert_eq!(asset.resource_type, types::MACIE_REGION);
        let off = region_asset("123456789012", "us-east-1", Ok(None));
        assert_eq!(off.properties["status"], "DISABLED");
        let f = failure(
            "AccessDeniedException",
            "AccessDeniedException: not authorized",
        );
        let asset = region_asset("123456789012", "us-east-1", Err(&f));
        assert!(asset.unavailable.contains_key("status"));
    }

    #[test]
    fn tells_not_enabled_from_denied() {
        assert!(is_not_enabled(&failure(
            "AccessDeniedException",
            "AccessDeniedException: Macie is not enabled."
        )));
        assert!(is_not_enabled(&failure("ResourceNotFoundException", "x")));
        assert!(!is_not_enabled(&failure(
            "AccessDeniedException",
            "AccessDeniedException: User is not authorized to perform macie2:GetMacieSession"
        )));
    }
}
