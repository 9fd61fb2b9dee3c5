//! Rules for rds.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
