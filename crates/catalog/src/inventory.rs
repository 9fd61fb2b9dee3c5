//! The assets of a snapshot, indexed for rules that look at more than one
//! asset (a trail's bucket, the roles of an account).

use std::collections::HashMap;

use rampart_model::Asset;

/// Assets indexed by type and by ARN.
#[derive(Debug, Default)]
pub struct Inventory<'a> {
    by_type: HashMap<&'a str, Vec<&'a Asset>>,
    by_arn: HashMap<&'a str, &'a Asset>,
}

impl<'a> Inventory<'a> {
    /// Indexes `assets`.
    pub fn new(assets: &'a [Asset]) -> Self {
        let mut inv = Self::default();
        for asset in assets {
            inv.by_type
                .entry(asset.resource_type.as_str())
                .or_default()
                .push(asset);
            inv.by_arn.insert(asset.arn.as_str(), asset);
        }
        inv
    }

    /// Indexes assets given by reference.
    pub fn from_refs(assets: impl IntoIterator<Item = &'a Asset>) -> Self {
        let mut inv = Self::default();
        for asset in assets {
            inv.by_type
                .entry(asset.resource_type.as_str())
                .or_default()
                .push(asset);
            inv.by_arn.insert(asset.arn.as_str(), asset);
        }
        inv
    }

    /// Every asset of a type.
    pub fn of_type(&self, resource_type: &str) -> &[&'a Asset] {
        self.by_type.get(resource_type).map_or(&[], Vec::as_slice)
    }

    /// Assets of a type in one account.
    pub fn of_type_in_account<'s>(
        &'s self,
        resource_type: &str,
        account: &'s str,
    ) -> impl Iterator<Item = &'a Asset> + 's {
        self.of_type(resource_type)
            .iter()
            .copied()
            .filter(move |a| a.account == account)
    }

    /// Assets of a type in one account and region.
    pub fn of_type_in_region<'s>(
        &'s self,
        resource_type: &str,
        account: &'s str,
        region: &'s str,
    ) -> impl Iterator<Item = &'a Asset> + 's {
        self.of_type(resource_type)
            .iter()
            .copied()
            .filter(move |a| a.account == account && a.region == region)
    }

    /// The asset with this ARN.
    pub fn by_arn(&self, arn: &str) -> Option<&'a Asset> {
        self.by_arn.get(arn).copied()
    }
}
