//! Rules for efs.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
