//! How Rampart reaches a connector's account: web identity tokens minted by
//! the issuer for native connectors, stored keys or a role with an external
//! id for classic ones. Shared by scans, `rampart connector sync`,
//! `rampart connector status` and the server's health checks.

use std::path::Path;
use std::sync::Arc;

use rampart_aws::{AccessError, AwsAccess, AwsSettings, CredentialSource};
use rampart_connector::{ClassicAuthentication, Connector, Plan};
use rampart_health::{HealthOptions, role_credentials};
use rampart_identity::Issuer;
use rampart_store::Store;

use crate::classic::SecretKey;
use crate::{EngineError, Keys};

/// Opens the issuer in use (the store's, else the keys directory's), or
/// says how to create it.
pub fn open_issuer(keys: &Keys) -> Result<Arc<Issuer>, EngineError> {
    keys.issuer()
        .map(Arc::new)
        .map_err(|e| EngineError::NoIssuer(e.to_string()))
}

/// A classic connector's credential source (its stored keys, or its role
/// with an external id signed by the default chain or `profile`). The
/// secret key is loaded from `keys_dir` into `secret_key` when first
/// needed.
pub fn classic_source(
    keys_dir: &Path,
    secret_key: &mut Option<SecretKey>,
    profile: Option<&String>,
    store: &Store,
    connector: &Connector,
    classic: &ClassicAuthentication,
) -> Result<CredentialSource, EngineError> {
    match classic {
        ClassicAuthentication::AwsCreds { access_key_id } => {
            let id = connector.id.to_string();
            let sealed = store
                .classic_secret(&id)?
                .ok_or_else(|| EngineError::NoClassicSecret(connector.name.clone()))?;
            let key = match secret_key {
                Some(key) => key,
                None => secret_key.insert(SecretKey::load(keys_dir)?),
            };
            Ok(CredentialSource::StaticKeys {
                access_key_id: access_key_id.clone(),
                secret_access_key: key.open(&id, &sealed)?,
                session_token: None,
            })
        }
        ClassicAuthentication::AwsAssumeRole {
            role_arn,
            external_id,
        } => Ok(CredentialSource::AssumeRole {
            role_arn: role_arn.clone(),
            external_id: external_id.clone(),
            session_name: Plan::session_name(&connector.name),
            base: Box::new(
                profile
                    .cloned()
                    .map_or(CredentialSource::Default, CredentialSource::Profile),
            ),
        }),
    }
}

/// What a health check of `connector` needs: the AWS settings, the issuer
/// in `keys_dir` (or why there is none) and a classic connector's
/// credential source. Shared by `rampart connector status` and `rampart
/// serve`'s health checks.
pub fn health_options(
    aws: AwsSettings,
    keys_dir: &Path,
    store: &Store,
    connector: &Connector,
) -> Result<HealthOptions, EngineError> {
    let issuer = crate::issuer::find_issuer(keys_dir, store)
        .map(Arc::new)
        .map_err(|e| e.to_string());
    let profile = aws.profile.clone();
    let mut options = HealthOptions::new(aws, issuer);
    if let Some(classic) = &connector.classic {
        options.classic = Some(classic_source(
            keys_dir,
            &mut None,
            profile.as_ref(),
            store,
            connector,
            classic,
        )?);
    }
    Ok(options)
}

/// How one connector's account is reached for its CSPM reads.
#[derive(Debug, Clone)]
pub struct Target {
    /// The connector.
    pub connector: Connector,
    /// Where its credentials come from.
    pub source: CredentialSource,
    /// The STS call that turns the source into credentials, for gaps.
    pub exchange: &'static str,
}

impl Target {
    /// Settings reaching AWS as this target, from `base`.
    pub async fn access(&self, base: &AwsSettings) -> Result<AwsAccess, AccessError> {
        let settings = base
            .clone()
            .for_account(self.connector.account())
            .with_credentials(self.source.clone())
            .await?;
        AwsAccess::load(&settings).await
    }
}

/// Builds the [`Target`] of connectors, opening the issuer and the classic
/// secret key at most once.
#[derive(Debug)]
pub struct Credentials<'a> {
    keys_dir: &'a Path,
    store: &'a Store,
    profile: Option<String>,
    issuer: Option<Arc<Issuer>>,
    secret_key: Option<SecretKey>,
}

impl<'a> Credentials<'a> {
    /// Credentials from the keys in `keys_dir` and the secrets in `store`;
    /// classic roles are assumed from `base`'s profile.
    pub fn new(keys_dir: &'a Path, store: &'a Store, base: &AwsSettings) -> Self {
        Self {
            keys_dir,
            store,
            profile: base.profile.clone(),
            issuer: None,
            secret_key: None,
        }
    }

    /// The credential source of `connector`'s CSPM reads.
    pub fn target(&mut self, connector: &Connector) -> Result<Target, EngineError> {
        if let Some(classic) = &connector.classic {
            let source = classic_source(
                self.keys_dir,
                &mut self.secret_key,
                self.profile.as_ref(),
                self.store,
                connector,
                classic,
            )?;
            let exchange = match classic {
                ClassicAuthentication::AwsCreds { .. } => "GetCallerIdentity",
                ClassicAuthentication::AwsAssumeRole { .. } => "AssumeRole",
            };
            return Ok(Target {
                connector: connector.clone(),
                source,
                exchange,
            });
        }
        let role_arn = connector
            .role_arn(Plan::Cspm)
            .ok_or_else(|| EngineError::NoCspm(connector.name.clone()))?;
        let issuer = match &self.issuer {
            Some(issuer) => issuer.clone(),
            None => {
                let issuer = crate::issuer::find_issuer(self.keys_dir, self.store)
                    .map_err(|e| EngineError::NoIssuer(e.to_string()))?;
                self.issuer.insert(Arc::new(issuer)).clone()
            }
        };
        Ok(Target {
            connector: connector.clone(),
            source: role_credentials(connector, Plan::Cspm, role_arn, issuer),
            exchange: "AssumeRoleWithWebIdentity",
        })
    }
}
