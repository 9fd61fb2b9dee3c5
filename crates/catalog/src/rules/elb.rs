//! Rules for elb.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
