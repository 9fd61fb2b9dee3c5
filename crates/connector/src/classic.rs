//! Classic (legacy) connectors: access without federation, through an IAM
//! user's access keys or a cross-account role assumed with an external id.
//!
//! Only what is not secret lives here (and so in the connector's JSON): the
//! secret access key is sealed by the CLI and stored apart, encrypted.

use serde::{Deserialize, Serialize};

use crate::connector::{Connector, RoleArn};
use crate::error::ConnectorError;

/// How a classic connector authenticates, in Defender's words
/// (`authenticationType`). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "authenticationType", rename_all_fields = "camelCase")]
pub enum ClassicAuthentication {
    /// An IAM user's access keys; the secret key is stored encrypted apart.
    #[serde(rename = "awsCreds")]
    AwsCreds {
        /// The access key id (not secret).
        access_key_id: String,
    },
    /// A role in the account, assumed with an external id by Rampart's own
    /// credentials (the default chain or `--profile`).
    #[serde(rename = "awsAssumeRole")]
    AwsAssumeRole {
        /// The role's ARN.
        role_arn: String,
        /// The external id the role's trust policy requires.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
    },
}

impl ClassicAuthentication {
    /// `awsCreds` or `awsAssumeRole`.
    pub fn authentication_type(&self) -> &'static str {
        match self {
            Self::AwsCreds { .. } => "awsCreds",
            Self::AwsAssumeRole { .. } => "awsAssumeRole",
        }
    }

    /// Checks the access key id's shape, or that the role ARN is well formed
    /// and in `account`, and the external id's characters.
    pub fn validate(&self, account: &str) -> Result<(), ConnectorError> {
        match self {
            Self::AwsCreds { access_key_id } => {
                let ok = (16..=128).contains(&access_key_id.len())
                    && access_key_id.bytes().all(|b| b.is_ascii_alphanumeric());
                if ok {
                    Ok(())
                } else {
                    Err(ConnectorError::InvalidClassic(format!(
                        "access key id `{access_key_id}` is not 16 to 128 letters or digits"
                    )))
                }
            }
            Self::AwsAssumeRole {
                role_arn,
                external_id,
            } => {
                let parsed = RoleArn::parse(role_arn).ok_or_else(|| {
                    ConnectorError::InvalidClassic(format!(
                        "malformed role ARN `{role_arn}` (expected `arn:<partition>:iam::<12 digits>:role/<name>`)"
                    ))
                })?;
                if parsed.account != account {
                    return Err(ConnectorError::InvalidClassic(format!(
                        "role ARN `{role_arn}` is in account `{}`, not the connector's account `{account}`",
                        parsed.account
                    )));
                }
                if let Some(id) = external_id {
                    let ok = (2..=1224).contains(&id.len())
                        && id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c));
                    if !ok {
                        return Err(ConnectorError::InvalidClassic(format!(
                            "external id `{id}` is not 2 to 1224 letters, digits or `+=,.@:/-_`"
                        )));
                    }
                }
                Ok(())
            }
        }
    }
}

impl Connector {
    /// Whether this is a classic (legacy) connector.
    pub fn is_classic(&self) -> bool {
        self.classic.is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::ClassicAuthentication;
    use crate::{Connector, Plan};

    #[test]
    fn classic_data_round_trips_without_secrets() {
        let mut c = Connector::new("legacy", "123456789012", &[Plan::Cspm], vec![], 12, None);
        c.classic = Some(ClassicAuthentication::AwsAssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/Legacy".into(),
            external_id: Some("ext-1".into()),
        });
        assert_eq!(c.validate(), Ok(()));
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(json["classic"]["authenticationType"], "awsAssumeRole");
        assert_eq!(json["classic"]["externalId"], "ext-1");
        assert_eq!(Connector::from_json(&c.to_json()).unwrap(), c);

        c.classic = Some(ClassicAuthentication::AwsCreds {
            access_key_id: "AKIAEXAMPLE000000001".into(),
        });
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(json["classic"]["accessKeyId"], "AKIAEXAMPLE000000001");
        assert_eq!(json["classic"].as_object().unwrap().len(), 2);

        c.classic = None;
        assert!(!c.to_json().contains("classic"));
    }

    #[test]
    fn classic_data_is_checked() {
        let bad = [
            ClassicAuthentication::AwsCreds {
                access_key_id: "short".into(),
            },
            ClassicAuthentication::AwsAssumeRole {
                role_arn: "arn:aws:iam::999999999999:role/Legacy".into(),
                external_id: None,
            },
            ClassicAuthentication::AwsAssumeRole {
                role_arn: "arn:aws:iam::123456789012:role/Legacy".into(),
                external_id: Some("has space".into()),
            },
        ];
        for auth in bad {
            assert!(auth.validate("123456789012").is_err(), "{auth:?}");
        }
    }
}
