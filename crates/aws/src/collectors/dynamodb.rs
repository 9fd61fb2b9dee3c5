//! DynamoDb collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects DynamoDb.
#[derive(Debug)]
pub struct DynamoDb;

static META: CollectorMeta = CollectorMeta {
    service: "dynamodb",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::DynamoDb"],
};

impl Collector for DynamoDb {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
