//! Rules for iam.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
