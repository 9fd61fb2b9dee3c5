//! Elb collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Elb.
#[derive(Debug)]
pub struct Elb;

static META: CollectorMeta = CollectorMeta {
    service: "elb",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::Elb"],
};

impl Collector for Elb {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
