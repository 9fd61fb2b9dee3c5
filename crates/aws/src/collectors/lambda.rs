//! Lambda collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Lambda.
#[derive(Debug)]
pub struct Lambda;

static META: CollectorMeta = CollectorMeta {
    service: "lambda",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::Lambda"],
};

impl Collector for Lambda {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
