//! Rules for eks.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
