//! The assets of a snapshot as evaluation keeps them: compact, and indexed
//! for rules that look at more than one asset (a trail's bucket, the roles
//! of an account).
//!
//! The inventory owns its assets in a compact form: properties as a
//! [`Doc`], type, account and region interned, tags and unavailable
//! properties as sorted slices. About a kilobyte per typical asset instead
//! of the six a [`rampart_model::Asset`] takes, so a million assets
//! evaluate in under 2 GiB. Rules see an asset as an [`AssetRef`].

use std::any::Any;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use foldhash::HashMap as FastMap;
use hashbrown::HashTable;
use rampart_model::Asset;

use crate::doc::{Doc, DocError, Node};

type Memo = FastMap<&'static str, Arc<dyn Any + Send + Sync>>;

/// Key/value pairs sorted by key.
type Pairs = Box<[(Box<str>, Box<str>)]>;

/// One asset, compact.
#[derive(Debug)]
struct Entry {
    arn: Box<str>,
    name: Box<str>,
    resource_type: u32,
    account: u32,
    region: u32,
    tags: Pairs,
    unavailable: Pairs,
    properties: Doc,
}

/// An asset of the inventory, borrowed: what rules read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssetRef<'a> {
    /// The ARN (or ARN-like identifier).
    pub arn: &'a str,
    /// Resource type, as CloudFormation names it.
    pub resource_type: &'a str,
    /// 12-digit AWS account id.
    pub account: &'a str,
    /// Region code.
    pub region: &'a str,
    /// Human-readable name.
    pub name: &'a str,
    /// The service-specific properties.
    pub properties: Node<'a>,
    tags: &'a [(Box<str>, Box<str>)],
    unavailable: &'a [(Box<str>, Box<str>)],
}

fn lookup<'a>(pairs: &'a [(Box<str>, Box<str>)], key: &str) -> Option<&'a str> {
    pairs
        .binary_search_by(|(k, _)| (**k).cmp(key))
        .ok()
        .and_then(|i| pairs.get(i))
        .map(|(_, v)| &**v)
}

impl<'a> AssetRef<'a> {
    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&'a str> {
        lookup(self.tags, key)
    }

    /// The tags, by key.
    pub fn tags(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        self.tags.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Why the scan could not read property `key`, if it could not.
    pub fn unavailable(&self, key: &str) -> Option<&'a str> {
        lookup(self.unavailable, key)
    }

    /// Whether the scan failed to read any property of this asset.
    pub fn has_unavailable(&self) -> bool {
        !self.unavailable.is_empty()
    }

    /// The asset as a [`rampart_model::Asset`].
    pub fn to_asset(&self) -> Asset {
        Asset {
            arn: self.arn.to_owned(),
            resource_type: self.resource_type.to_owned(),
            account: self.account.to_owned(),
            region: self.region.to_owned(),
            name: self.name.to_owned(),
            tags: self
                .tags()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            properties: self.properties.to_value(),
            unavailable: self
                .unavailable
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// Interned strings (resource types, accounts, regions).
#[derive(Debug, Default)]
struct Symbols {
    names: Vec<Box<str>>,
    ids: FastMap<Box<str>, u32>,
}

impl Symbols {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }
}

fn pairs(map: &BTreeMap<String, String>) -> Pairs {
    // A `BTreeMap` iterates in key order: the pairs come out sorted.
    map.iter()
        .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
        .collect()
}

/// Assets indexed by type, by type and account, by type, account and
/// region, and by ARN, plus indexes that rules build once and share
/// ([`Inventory::memo`]), so that a rule looking at other assets costs
/// O(1) per subject instead of a scan of the snapshot.
#[derive(Debug, Default)]
pub struct Inventory {
    assets: Vec<Entry>,
    symbols: Symbols,
    /// type → asset numbers, in the order assets were added
    by_type: FastMap<u32, Vec<u32>>,
    /// (type, account) → asset numbers
    by_account: FastMap<(u32, u32), Vec<u32>>,
    /// (type, account, region) → asset numbers
    by_region: FastMap<(u32, u32, u32), Vec<u32>>,
    /// Asset numbers hashed by ARN (the ARN is not stored twice).
    by_arn: HashTable<u32>,
    // A fast, fixed (not DoS-resistant) hash: a million ARNs are hashed on
    // every evaluation.
    hasher: foldhash::fast::FixedState,
    memo: Mutex<Memo>,
}

impl Inventory {
    /// Indexes copies of `assets`.
    pub fn new(assets: &[Asset]) -> Self {
        let mut inv = Self::default();
        inv.assets.reserve(assets.len());
        for asset in assets {
            inv.push(asset);
        }
        inv
    }

    /// Adds a copy of `asset`. An asset whose properties cannot be encoded
    /// (larger than 4 GiB) is kept with its properties marked unavailable,
    /// so its assessments are errors.
    pub fn push(&mut self, asset: &Asset) {
        match Doc::from_value(&asset.properties) {
            Ok(doc) => self.push_with(asset, doc),
            Err(e) => {
                let mut unreadable = asset.clone();
                for key in asset
                    .properties
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.keys())
                {
                    unreadable.mark_unavailable(key, e.to_string());
                }
                self.push_with(&unreadable, Doc::null());
            }
        }
    }

    /// Adds a copy of `asset` whose properties are the JSON text
    /// `properties` (the asset's own `properties` are not read), encoded
    /// straight from the text (as stored) without building a
    /// `serde_json::Value`.
    pub fn push_json(&mut self, asset: &Asset, properties: &str) -> Result<(), DocError> {
        self.push_with(asset, Doc::from_json(properties)?);
        Ok(())
    }

    fn push_with(&mut self, asset: &Asset, properties: Doc) {
        let unavailable = pairs(&asset.unavailable);
        let resource_type = self.symbols.intern(&asset.resource_type);
        let account = self.symbols.intern(&asset.account);
        let region = self.symbols.intern(&asset.region);
        let number = self.assets.len() as u32;
        self.by_type.entry(resource_type).or_default().push(number);
        self.by_account
            .entry((resource_type, account))
            .or_default()
            .push(number);
        self.by_region
            .entry((resource_type, account, region))
            .or_default()
            .push(number);
        let hash = self.hasher.hash_one(asset.arn.as_str());
        let (assets, hasher) = (&self.assets, &self.hasher);
        let same_arn = |&n: &u32| assets.get(n as usize).is_some_and(|e| *e.arn == *asset.arn);
        match self.by_arn.find_mut(hash, same_arn) {
            // A later asset with the same ARN replaces the earlier one in
            // the ARN index (both stay in the type indexes).
            Some(earlier) => *earlier = number,
            None => {
                self.by_arn.insert_unique(hash, number, |&n| {
                    hasher.hash_one(assets.get(n as usize).map_or("", |e| &*e.arn))
                });
            }
        }
        self.assets.push(Entry {
            arn: asset.arn.as_str().into(),
            name: asset.name.as_str().into(),
            resource_type,
            account,
            region,
            tags: pairs(&asset.tags),
            unavailable,
            properties,
        });
        self.memo = Mutex::default();
    }

    /// How many assets.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// The asset added `index`-th (from 0).
    pub fn get(&self, index: usize) -> Option<AssetRef<'_>> {
        self.assets.get(index).map(|e| self.view(e))
    }

    /// Every asset, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = AssetRef<'_>> {
        self.assets.iter().map(|e| self.view(e))
    }

    fn view<'s>(&'s self, e: &'s Entry) -> AssetRef<'s> {
        AssetRef {
            arn: &e.arn,
            resource_type: self.symbols.name(e.resource_type),
            account: self.symbols.name(e.account),
            region: self.symbols.name(e.region),
            name: &e.name,
            properties: e.properties.root(),
            tags: &e.tags,
            unavailable: &e.unavailable,
        }
    }

    fn numbered<'s>(&'s self, numbers: Option<&'s Vec<u32>>) -> Assets<'s> {
        Assets {
            inventory: self,
            numbers: numbers.map_or(&[][..], Vec::as_slice).iter(),
        }
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
    pub fn of_type(&self, resource_type: &str) -> Assets<'_> {
        let ty = self.symbols.id(resource_type);
        self.numbered(ty.and_then(|ty| self.by_type.get(&ty)))
    }

    /// Assets of a type in one account.
    pub fn of_type_in_account(&self, resource_type: &str, account: &str) -> Assets<'_> {
        let key = self.symbols.id(resource_type).zip(self.symbols.id(account));
        self.numbered(key.and_then(|key| self.by_account.get(&key)))
    }

    /// Assets of a type in one account and region.
    pub fn of_type_in_region(
        &self,
        resource_type: &str,
        account: &str,
        region: &str,
    ) -> Assets<'_> {
        let key = (|| {
            Some((
                self.symbols.id(resource_type)?,
                self.symbols.id(account)?,
                self.symbols.id(region)?,
            ))
        })();
        self.numbered(key.and_then(|key| self.by_region.get(&key)))
    }

    /// The asset with this ARN (the last one added, if several share it).
    pub fn by_arn(&self, arn: &str) -> Option<AssetRef<'_>> {
        let hash = self.hasher.hash_one(arn);
        let number = self.by_arn.find(hash, |&n| {
            self.assets.get(n as usize).is_some_and(|e| &*e.arn == arn)
        })?;
        self.get(*number as usize)
    }
}

impl FromIterator<Asset> for Inventory {
    fn from_iter<I: IntoIterator<Item = Asset>>(assets: I) -> Self {
        let mut inv = Self::default();
        for asset in assets {
            inv.push(&asset);
        }
        inv
    }
}

/// Assets of an index, in the order they were added.
#[derive(Debug, Clone)]
pub struct Assets<'a> {
    inventory: &'a Inventory,
    numbers: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for Assets<'a> {
    type Item = AssetRef<'a>;

    fn next(&mut self) -> Option<AssetRef<'a>> {
        let n = *self.numbers.next()?;
        self.inventory.get(n as usize)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.numbers.size_hint()
    }
}

impl ExactSizeIterator for Assets<'_> {}

/// Helpers for tests of rules.
#[cfg(test)]
pub(crate) mod testing {
    use super::{AssetRef, Inventory};
    use rampart_model::Asset;

    /// `asset` as rules see it, in an inventory that lives until the test
    /// ends.
    pub(crate) fn asset_ref(asset: &Asset) -> AssetRef<'static> {
        let inv: &'static Inventory =
            Box::leak(Box::new(Inventory::new(std::slice::from_ref(asset))));
        inv.get(0).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn asset(arn: &str, ty: &str, account: &str, region: &str) -> Asset {
        Asset::new(arn, ty, account, region, arn, json!({"arn": arn}))
    }

    #[test]
    fn indexes_by_type_account_region_and_arn() {
        let mut tagged = asset("arn:b", "T", "1", "r1");
        tagged.tags.insert("env".into(), "prod".into());
        tagged.tags.insert("app".into(), "web".into());
        tagged.mark_unavailable("policy", "AccessDenied");
        let inv = Inventory::new(&[
            asset("arn:a", "T", "1", "r1"),
            tagged.clone(),
            asset("arn:c", "T", "2", "r1"),
            asset("arn:d", "U", "1", "r2"),
            asset("arn:a", "U", "1", "r2"),
        ]);
        fn arns(it: Assets<'_>) -> Vec<&str> {
            it.map(|a| a.arn).collect()
        }
        assert_eq!(inv.len(), 5);
        assert_eq!(arns(inv.of_type("T")), ["arn:a", "arn:b", "arn:c"]);
        assert_eq!(arns(inv.of_type("V")), Vec::<&str>::new());
        assert_eq!(arns(inv.of_type_in_account("T", "1")), ["arn:a", "arn:b"]);
        assert_eq!(arns(inv.of_type_in_account("T", "3")), Vec::<&str>::new());
        assert_eq!(
            arns(inv.of_type_in_region("U", "1", "r2")),
            ["arn:d", "arn:a"]
        );
        assert_eq!(
            arns(inv.of_type_in_region("U", "1", "r1")),
            Vec::<&str>::new()
        );
        assert_eq!(inv.by_arn("arn:a").map(|a| a.resource_type), Some("U"));
        assert_eq!(inv.by_arn("arn:d").map(|a| a.region), Some("r2"));
        assert!(inv.by_arn("arn:x").is_none());
        let b = inv.by_arn("arn:b").unwrap();
        assert_eq!(b.tag("env"), Some("prod"));
        assert_eq!(b.tag("app"), Some("web"));
        assert_eq!(b.tag("x"), None);
        assert_eq!(b.unavailable("policy"), Some("AccessDenied"));
        assert!(b.has_unavailable());
        assert_eq!(b.to_asset(), tagged);
        assert_eq!(
            b.properties.get("arn").and_then(Node::as_str),
            Some("arn:b")
        );
    }

    #[test]
    fn memo_builds_once() {
        let inv = Inventory::new(&[asset("arn:a", "T", "1", "r1")]);
        let mut builds = 0;
        for _ in 0..3 {
            let n = inv.memo("count", |inv| {
                builds += 1;
                inv.of_type("T").len()
            });
            assert_eq!(*n, 1);
        }
        assert_eq!(builds, 1);
    }
}
