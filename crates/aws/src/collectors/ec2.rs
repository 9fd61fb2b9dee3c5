//! Ec2 collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Ec2.
#[derive(Debug)]
pub struct Ec2;

static META: CollectorMeta = CollectorMeta {
    service: "ec2",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for Ec2 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
