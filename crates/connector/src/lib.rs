//! Rampart's connector resource (design.md section 8): one AWS account, or an
//! AWS Organization's management account, with the plans (offerings) enabled
//! on it and the IAM role each plan's work runs as.

mod plan;

pub use plan::{Plan, PlanRole};
