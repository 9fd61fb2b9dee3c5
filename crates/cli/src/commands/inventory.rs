//! `rampart inventory`: the assets of a scan.

use std::io::Write;

use rampart_model::suggest;
use rampart_store::AssetFilter;

use crate::args::{InventoryArgs, ListFormat};
use crate::commands::open_existing_store;
use crate::exit::CliError;
use crate::output::{plural, table};
use crate::posture;

/// Lists assets with the given filters.
pub fn run(args: &InventoryArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.store)?;
    let scan = posture::scan_to_read(&store, args.scan.as_deref())?;
    let scope = posture::scope(&store, &scan, &args.scope)?;
    let filter = AssetFilter {
        resource_type: args.resource_type.clone(),
        region: scope.region,
        account: None,
        accounts: scope.accounts,
        tag: args.tag.as_deref().map(parse_tag).transpose()?,
    };
    let assets = store.assets(&filter)?;
    if assets.is_empty() {
        check_filters(args)?;
    }
    // Assets a narrowed scan kept from an earlier one: the scan that
    // collected each (its age is that scan's).
    let origins = store.asset_origins(&scan.id)?;
    let origin = |a: &rampart_model::Asset| {
        origins
            .get(&(a.resource_type.clone(), a.arn.clone()))
            .filter(|o| **o != scan.id)
    };
    let text = match args.format {
        ListFormat::Json => {
            let mut items = Vec::with_capacity(assets.len());
            for asset in &assets {
                let mut item = serde_json::to_value(asset).map_err(CliError::failure)?;
                if let (Some(from), Some(obj)) = (origin(asset), item.as_object_mut()) {
                    obj.insert("collected_by".into(), from.clone().into());
                }
                items.push(item);
            }
            serde_json::to_string_pretty(&items).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = assets
                .iter()
                .map(|a| {
                    vec![
                        a.resource_type.clone(),
                        a.region.clone(),
                        a.name.clone(),
                        a.arn.clone(),
                    ]
                })
                .collect();
            let mut text = table(&["TYPE", "REGION", "NAME", "ARN"], &rows);
            text.push_str(&format!(
                "{} (scan {})\n",
                plural(assets.len() as u64, "asset", "assets"),
                scan.id
            ));
            let kept = assets.iter().filter(|a| origin(a).is_some()).count();
            if kept > 0 {
                text.push_str(&format!(
                    "{} kept from earlier scans this narrowed scan did not cover (`--format json`: `collected_by`)\n",
                    plural(kept as u64, "asset", "assets"),
                ));
            }
            text
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// When nothing matched: a `--type` no collector emits is a typo — a usage
/// error naming the closest valid values, not an empty list (an unknown
/// `--account`, `--connector` or `--region` is one already: see
/// [`posture::scope`]).
fn check_filters(args: &InventoryArgs) -> Result<(), CliError> {
    if let Some(wanted) = &args.resource_type {
        let types = resource_types();
        if !types.contains(&wanted.as_str()) {
            return Err(CliError::usage(suggest::unknown(
                "resource type",
                wanted,
                &types,
                0,
                Some("see docs/coverage.md for the types Rampart collects"),
            )));
        }
    }
    Ok(())
}

/// Every resource type a collector emits.
pub fn resource_types() -> Vec<&'static str> {
    let mut types: Vec<&'static str> = rampart_aws::collectors::COLLECTORS
        .iter()
        .flat_map(|c| c.meta().resource_types.iter().copied())
        .collect();
    types.sort_unstable();
    types.dedup();
    types
}

/// Parses `KEY` or `KEY=VALUE`.
fn parse_tag(text: &str) -> Result<(String, Option<String>), CliError> {
    let (key, value) = match text.split_once('=') {
        Some((k, v)) => (k, Some(v.to_owned())),
        None => (text, None),
    };
    if key.is_empty() {
        return Err(CliError::usage(format!(
            "malformed tag filter `{text}`: expected KEY or KEY=VALUE"
        )));
    }
    Ok((key.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_filters() {
        assert_eq!(
            parse_tag("env=prod").ok(),
            Some(("env".into(), Some("prod".into())))
        );
        assert_eq!(parse_tag("env").ok(), Some(("env".into(), None)));
        assert_eq!(
            parse_tag("a=b=c").ok(),
            Some(("a".into(), Some("b=c".into())))
        );
        assert!(parse_tag("=x").is_err());
    }
}
