//! Rules for lambda.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
