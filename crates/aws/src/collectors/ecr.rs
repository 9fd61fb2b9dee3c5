//! Ecr collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Ecr.
#[derive(Debug)]
pub struct Ecr;

static META: CollectorMeta = CollectorMeta {
    service: "ecr",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::Ecr"],
};

impl Collector for Ecr {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
