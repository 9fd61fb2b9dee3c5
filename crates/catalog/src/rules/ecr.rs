//! Rules for ecr.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
