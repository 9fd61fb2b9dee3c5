//! Rds collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Rds.
#[derive(Debug)]
pub struct Rds;

static META: CollectorMeta = CollectorMeta {
    service: "rds",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for Rds {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
