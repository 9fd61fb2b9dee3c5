//! Rules for sqs.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
