//! AWS Service Catalog: portfolios (`AWS::ServiceCatalog::Portfolio`) and
//! the accounts they are shared with one by one.
//!
//! Per region `ListPortfolios` (paginated), then per portfolio
//! `DescribePortfolioShares` with type `ACCOUNT` (shares to single
//! accounts, as opposed to an organization or organizational unit). A
//! portfolio deleted since it was listed (`ResourceNotFoundException`) gets
//! `"deleted": true`; another failed share read marks `accountShares`
//! unavailable.

use aws_sdk_servicecatalog::types::{
    DescribePortfolioShareType, PortfolioDetail, PortfolioShareDetail,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Service Catalog portfolios.
#[derive(Debug)]
pub struct ServiceCatalog;

/// A Service Catalog portfolio.
pub const PORTFOLIO: &str = "AWS::ServiceCatalog::Portfolio";

static META: CollectorMeta = CollectorMeta {
    service: "servicecatalog",
    scope: Scope::Regional,
    operations: &[
        op!("servicecatalog", "ListPortfolios"),
        op!("servicecatalog", "DescribePortfolioShares"),
    ],
    resource_types: &[PORTFOLIO],
};

impl Collector for ServiceCatalog {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().servicecatalog(ctx.region());
            let client = &client;
            let Ok(pages) = ctx
                .pages(
                    "ListPortfolios",
                    client.list_portfolios().into_paginator().send(),
                )
                .await
            else {
                return;
            };
            let portfolios: Vec<PortfolioDetail> = pages
                .into_iter()
                .flat_map(|p| p.portfolio_details.unwrap_or_default())
                .collect();
            let assets: Vec<Asset> = futures::stream::iter(portfolios)
                .map(|portfolio| async move {
                    let id = portfolio.id().unwrap_or_default().to_owned();
                    let shares = ctx
                        .pages(
                            "DescribePortfolioShares",
                            client
                                .describe_portfolio_shares()
                                .portfolio_id(&id)
                                .r#type(DescribePortfolioShareType::Account)
                                .into_paginator()
                                .send(),
                        )
                        .await
                        .map(|pages| {
                            pages
                                .into_iter()
                                .flat_map(|p| p.portfolio_share_details.unwrap_or_default())
                                .collect::<Vec<_>>()
                        });
                    portfolio_asset(ctx.account(), ctx.region(), &portfolio, shares.as_deref())
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            for asset in assets {
                ctx.emit(asset);
            }
        })
    }
}

/// The `AWS::ServiceCatalog::Portfolio` asset: its names and
/// `accountShares` (`[{principalId, accepted}]`, the single accounts it is
/// shared with).
pub fn portfolio_asset(
    account: &str,
    region: &str,
    portfolio: &PortfolioDetail,
    shares: Result<&[PortfolioShareDetail], &CallFailure>,
) -> Asset {
    let id = portfolio.id().unwrap_or_default();
    let mut asset = Asset::new(
        portfolio.arn().unwrap_or(id),
        PORTFOLIO,
        account,
        region,
        portfolio.display_name().unwrap_or(id),
        json!({
            "id": id,
            "displayName": opt_str(portfolio.display_name()),
            "providerName": opt_str(portfolio.provider_name()),
            "deleted": false,
        }),
    );
    match shares {
        Err(failure) if failure.code.as_deref() == Some("ResourceNotFoundException") => {
            asset.set_property("accountShares", Value::Null);
            asset.set_property("deleted", Value::Bool(true));
        }
        Ok(shares) => asset.set_property(
            "accountShares",
            Value::Array(
                shares
                    .iter()
                    .map(|s| json!({ "principalId": opt_str(s.principal_id()), "accepted": s.accepted() }))
                    .collect(),
            ),
        ),
        Err(failure) => {
            asset.set_property("accountShares", Value::Null);
            asset.mark_unavailable("accountShares", failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_model::GapKind;

    #[test]
    fn maps_a_portfolio() {
        let p = PortfolioDetail::builder()
            .id("port-1")
            .arn("arn:aws:catalog:us-east-1:123456789012:portfolio/port-1")
            .display_name("Golden images")
            .build();
        let share = PortfolioShareDetail::builder()
            .principal_id("210987654321")
            .r#type(DescribePortfolioShareType::Account)
            .accepted(true)
            .build();
        let asset = portfolio_asset("123456789012", "us-east-1", &p, Ok(&[share]));
        assert_eq!(asset.resource_type, PORTFOLIO);
        assert_eq!(asset.name, "Golden images");
        assert_eq!(
            asset.properties["accountShares"],
            json!([{ "principalId": "210987654321", "accepted": true }])
        );
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        };
        let asset = portfolio_asset("123456789012", "us-east-1", &p, Err(&failure));
        assert!(asset.unavailable.contains_key("accountShares"));
    }
}
