//! Rules for cloudtrail.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
