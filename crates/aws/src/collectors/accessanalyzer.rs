//! AccessAnalyzer collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects AccessAnalyzer.
#[derive(Debug)]
pub struct AccessAnalyzer;

static META: CollectorMeta = CollectorMeta {
    service: "accessanalyzer",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::AccessAnalyzer"],
};

impl Collector for AccessAnalyzer {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
