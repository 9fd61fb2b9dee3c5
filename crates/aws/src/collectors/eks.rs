//! Eks collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Eks.
#[derive(Debug)]
pub struct Eks;

static META: CollectorMeta = CollectorMeta {
    service: "eks",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for Eks {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
