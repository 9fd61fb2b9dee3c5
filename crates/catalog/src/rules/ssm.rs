//! Rules for ssm.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
