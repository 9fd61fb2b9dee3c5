//! Rules for guardduty.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
