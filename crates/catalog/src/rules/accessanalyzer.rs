//! Rules for accessanalyzer.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
