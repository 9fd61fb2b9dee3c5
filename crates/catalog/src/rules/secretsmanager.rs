//! Rules for secretsmanager.

use super::Rule;

pub(crate) static RULES: &[Rule] = &[];
