//! Rules for dynamodb.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
