//! Rules for s3.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
