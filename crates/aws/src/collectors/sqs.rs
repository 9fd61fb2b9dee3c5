//! Sqs collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Sqs.
#[derive(Debug)]
pub struct Sqs;

static META: CollectorMeta = CollectorMeta {
    service: "sqs",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::Sqs"],
};

impl Collector for Sqs {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
