//! Rules for config.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
