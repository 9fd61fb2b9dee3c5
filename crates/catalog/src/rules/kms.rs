//! Rules for kms.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
