//! Organizations collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Organizations.
#[derive(Debug)]
pub struct Organizations;

static META: CollectorMeta = CollectorMeta {
    service: "organizations",
    scope: Scope::Global,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for Organizations {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
