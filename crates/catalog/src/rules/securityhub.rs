//! Rules for securityhub.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
