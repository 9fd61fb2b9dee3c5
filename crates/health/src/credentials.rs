//! The credentials a plan's work runs as: a web identity token the issuer
//! mints for the connector (`sub`) and the plan's audience (`aud`),
//! exchanged for the plan's role as session `Rampart_<name>`.

use std::sync::Arc;

use rampart_aws::{CredentialSource, TokenError};
use rampart_connector::{Connector, Plan};
use rampart_identity::Issuer;
use time::OffsetDateTime;

/// Federation for one of `plan`'s roles: tokens for the connector and the
/// plan's audience, freshly minted for each exchange.
pub fn role_credentials(
    connector: &Connector,
    plan: Plan,
    role_arn: &str,
    issuer: Arc<Issuer>,
) -> CredentialSource {
    let subject = connector.id.to_string();
    let tokens = move || {
        issuer
            .mint(&subject, plan.audience(), OffsetDateTime::now_utc())
            .map(|minted| minted.token)
            .map_err(|e| TokenError::new(e.to_string()))
    };
    CredentialSource::web_identity(
        role_arn,
        Plan::session_name(&connector.name),
        Arc::new(tokens),
    )
}

/// Whether Rampart itself assumes `plan`'s role at `index` (with a web
/// identity token). The Containers plan's third and fourth roles and the
/// SQL plan's fourth and fifth are assumed by CloudWatch Logs and
/// Firehose, never by Rampart.
pub fn assumed_by_rampart(plan: Plan, index: usize) -> bool {
    !((plan == Plan::Containers && index >= 2) || (plan == Plan::Sql && index >= 3))
}

#[cfg(test)]
mod tests {
    use super::assumed_by_rampart;
    use rampart_connector::Plan;

    #[test]
    fn service_roles_are_not_assumed_by_rampart() {
        let assumed: Vec<&str> = Plan::ALL
            .iter()
            .flat_map(|plan| {
                plan.roles()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| assumed_by_rampart(*plan, *i))
                    .map(|(_, role)| role.default_name)
            })
            .collect();
        assert!(assumed.contains(&"RampartContainersK8s"));
        assert!(assumed.contains(&"RampartContainersDataCollection"));
        assert!(!assumed.contains(&"RampartContainersCloudWatchToKinesis"));
        assert!(!assumed.contains(&"RampartContainersKinesisToS3"));
        assert!(assumed.contains(&"RampartDatabasesProvisioning"));
        assert!(assumed.contains(&"RampartDatabasesThreatDetection"));
        assert!(!assumed.contains(&"RampartDatabasesCloudWatchToKinesis"));
        assert!(!assumed.contains(&"RampartDatabasesKinesisToS3"));
    }
}
