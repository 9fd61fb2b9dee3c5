//! Rules for sns.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
