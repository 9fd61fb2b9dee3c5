//! The Servers plan's settings as an asset of the scanned account
//! ([`types::SERVERS_PLAN`]), so the catalog — which sees only assets —
//! can assess them (recommendation `servers-auto-provisioning-enabled`).
//! Written by the connector scan from the connector, not read from AWS.

use rampart_connector::{Connector, Offering, Plan};
use rampart_model::{Asset, setting_id, types};
use serde_json::json;

/// The plan-settings asset of the account `connector` reaches, in
/// `home_region` (the region the scan reads global services from).
pub fn plan_settings_asset(connector: &Connector, home_region: &str) -> Asset {
    let account = connector.account();
    let servers = match connector.offering(Plan::Servers) {
        Some(Offering::DefenderForServersAws(servers)) => Some(servers),
        _ => None,
    };
    Asset::new(
        setting_id("servers", home_region, account, "plan-settings"),
        types::SERVERS_PLAN,
        account,
        home_region,
        "Servers plan",
        json!({
            "connector": connector.name,
            "serversPlanEnabled": servers.is_some(),
            "autoProvisioning": servers.map(|s| s.arc_auto_provisioning.enabled),
            "autoProvisioningRoleArn": servers.map(|s| s.arc_auto_provisioning.cloud_role_arn.clone()),
            "scopeByTags": servers.map(|s| json!(s.scope_by_tags)),
            "agentlessScanning": servers.map(|s| s.vm_scanners.as_ref().is_some_and(|v| v.enabled)),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(plans: &[Plan]) -> Connector {
        Connector::new("prod", "123456789012", plans, vec![], 12, None)
    }

    #[test]
    fn servers_settings_or_plan_off() {
        let mut c = connector(&[Plan::Cspm, Plan::Servers]);
        let asset = plan_settings_asset(&c, "us-east-1");
        assert_eq!(asset.resource_type, types::SERVERS_PLAN);
        assert_eq!(
            asset.arn,
            "arn:rampart:servers:us-east-1:123456789012:plan-settings"
        );
        assert_eq!(asset.properties["serversPlanEnabled"], true);
        assert_eq!(asset.properties["autoProvisioning"], true);
        if let Some(Offering::DefenderForServersAws(s)) = c.offering_mut(Plan::Servers) {
            s.arc_auto_provisioning.enabled = false;
        }
        let asset = plan_settings_asset(&c, "us-east-1");
        assert_eq!(asset.properties["autoProvisioning"], false);

        let asset = plan_settings_asset(&connector(&[Plan::Cspm]), "us-east-1");
        assert_eq!(asset.properties["serversPlanEnabled"], false);
        assert_eq!(
            asset.properties["autoProvisioning"],
            serde_json::Value::Null
        );
    }
}
