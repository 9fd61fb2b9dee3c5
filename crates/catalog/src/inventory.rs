//! The assets of a snapshot, indexed for rules that look at more than one
//! asset (a trail's bucket, the roles of an account).

use std::any::Any;
use std::sync::{Arc, Mutex};

use foldhash::HashMap as FastMap;
use rampart_model::Asset;

type Memo = FastMap<&'static str, Arc<dyn Any + Send + Sync>>;

/// Assets indexed by type, by type and account, by type, account and
/// region, and by ARN, plus indexes that rules build once and share
/// ([`Inventory::memo`]), so that a rule looking at other assets costs
/// O(1) per subject instead of a scan of the snapshot.
#[derive(Debug, Default)]
pub struct Inventory<'a> {
    // Keyed by strings the inventory borrows, with a fast (not
    // DoS-resistant) hash: a million assets are indexed on every evaluation.
    by_type: FastMap<&'a str, Vec<&'a Asset>>,
    /// (type, account) → assets
    by_account: FastMap<(&'a str, &'a str), Vec<&'a Asset>>,
    /// (type, account, region) → assets
    by_region: FastMap<(&'a str, &'a str, &'a str), Vec<&'a Asset>>,
    by_arn: FastMap<&'a str, &'a Asset>,
    memo: Mutex<Memo>,
}

impl<'a> Inventory<'a> {
    /// Indexes `assets`.
    pub fn new(assets: &'a [Asset]) -> Self {
        Self::from_refs(assets)
    }

    /// Indexes assets given by reference.
    pub fn from_refs(assets: impl IntoIterator<Item = &'a Asset>) -> Self {
        let mut inv = Self::default();
        let assets = assets.into_iter();
        inv.by_arn.reserve(assets.size_hint().0);
        for asset in assets {
            let ty = asset.resource_type.as_str();
            inv.by_type.entry(ty).or_default().push(asset);
            let (account, region) = (asset.account.as_str(), asset.region.as_str());
            inv.by_account.entry((ty, account)).or_default().push(asset);
            inv.by_region
                .entry((ty, account, region))
                .or_default()
                .push(asset);
            inv.by_arn.insert(asset.arn.as_str(), asset);
        }
        inv
    }

    /// A shared index, built by `build` the first time `key` is asked for
    /// and reused by every later call (one evaluation builds each index
    /// once). The index owns its data (keys and ARNs as `String`s; look
    /// assets up again with [`by_arn`](Self::by_arn)).
    pub fn memo<T: Any + Send + Sync>(
        &self,
        key: &'static str,
        build: impl FnOnce(&Self) -> T,
    ) -> Arc<T> {
        let cached = self
            .memo
            .lock()
            .ok()
            .and_then(|m| m.get(key).cloned())
            .and_then(|v| v.downcast::<T>().ok());
        if let Some(v) = cached {
            return v;
        }
        // Built outside the lock: a builder may use other memos.
        let value = Arc::new(build(self));
        if let Ok(mut m) = self.memo.lock() {
            m.insert(key, value.clone());
        }
        value
    }

    /// Every asset of a type.
    pub fn of_type(&self, resource_type: &str) -> &[&'a Asset] {
        self.by_type.get(resource_type).map_or(&[], Vec::as_slice)
    }

    /// Assets of a type in one account.
    pub fn of_type_in_account<'s>(
        &'s self,
        resource_type: &'s str,
        account: &'s str,
    ) -> impl Iterator<Item = &'a Asset> + 's {
        self.by_account
            .get(&(resource_type, account))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
    }

    /// Assets of a type in one account and region.
    pub fn of_type_in_region<'s>(
        &'s self,
        resource_type: &'s str,
        account: &'s str,
        region: &'s str,
    ) -> impl Iterator<Item = &'a Asset> + 's {
        self.by_region
            .get(&(resource_type, account, region))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
    }

    /// The asset with this ARN.
    pub fn by_arn(&self, arn: &str) -> Option<&'a Asset> {
        self.by_arn.get(arn).copied()
    }
}
