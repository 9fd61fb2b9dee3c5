//! Where the access layer's credentials come from.
//!
//! * Federation (the default connector): Rampart mints a web identity token
//!   for the plan's audience ([`TokenSource`]) and exchanges it with STS
//!   `AssumeRoleWithWebIdentity` for the plan's role, as session
//!   `Rampart_<connector>` ([`WebIdentityCredentials`]).
//! * Classic sources for the legacy classic connector: an IAM user's access
//!   keys, or a role assumed with an external id ([`AssumeRoleCredentials`]).
//! * The SDK's default chain or a named profile (the `scan` command's flags).
//!
//! Role credentials are cached and refreshed when less than a margin (five
//! minutes by default) of their lifetime remains; callers arriving during a
//! refresh wait for it instead of starting their own. A refresh that fails
//! while the current credentials are still valid keeps them (with a
//! warning) and is retried after [`REFRESH_RETRY_PAUSE`]; only expired
//! credentials make the failure the caller's. The clock is injected
//! ([`RefreshOptions::clock`]) so tests can move time forward.
//!
//! [`CredentialSource`] names every source; [`AwsSettings::with_credentials`]
//! turns one into settings for [`crate::AwsAccess::load`]. Each plan gets its
//! own provider, so its calls run only as its own role.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_async::time::SharedTimeSource;

use crate::access::{AwsSettings, CallStats, Signing, exchange_sts};
use crate::error::{AccessError, classify};

/// Lifetime asked of STS for role credentials.
pub const SESSION_DURATION: Duration = Duration::from_secs(3600);

/// Credentials are refreshed when less than this remains of their lifetime.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Provider name of static access keys (the classic connector's).
pub const CLASSIC_PROVIDER_NAME: &str = "rampart-classic";

/// Why a [`TokenSource`] could not produce a token. The message must not
/// contain a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(String);

impl TokenError {
    /// A token error with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

/// Produces the web identity token (a JWT for the plan's audience) that
/// STS exchanges for role credentials. Called once per exchange, so each
/// exchange gets a freshly minted token.
pub trait TokenSource: Send + Sync {
    /// A new token.
    fn token(&self) -> Result<String, TokenError>;
}

impl<F> TokenSource for F
where
    F: Fn() -> Result<String, TokenError> + Send + Sync,
{
    fn token(&self) -> Result<String, TokenError> {
        self()
    }
}

/// A role could not be assumed. Never carries a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot assume role `{role_arn}` as session `{session_name}`: {reason}")]
pub struct ExchangeError {
    /// The role's ARN.
    pub role_arn: String,
    /// The role session name asked for.
    pub session_name: String,
    /// What went wrong, one line.
    pub reason: String,
}

/// The [`ExchangeError`] behind a failed call, if credentials were the cause.
pub fn exchange_failure<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a ExchangeError> {
    let mut next = Some(err);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<ExchangeError>() {
            return Some(found);
        }
        next = current.source();
    }
    None
}

/// How role credentials are cached and refreshed.
#[derive(Debug, Clone)]
pub struct RefreshOptions {
    /// Refresh when less than this remains of the credentials' lifetime.
    pub margin: Duration,
    /// Lifetime asked of STS (`DurationSeconds`).
    pub duration: Duration,
    /// The clock deciding when credentials are due for refresh.
    pub clock: SharedTimeSource,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        Self {
            margin: DEFAULT_REFRESH_MARGIN,
            duration: SESSION_DURATION,
            clock: SharedTimeSource::default(),
        }
    }
}

/// Where an [`crate::AwsAccess`]'s credentials come from.
#[derive(Clone)]
pub enum CredentialSource {
    /// The SDK's default chain (environment, shared files, SSO, instance role).
    Default,
    /// A named profile of the shared config files.
    Profile(String),
    /// A plan's role, assumed with a web identity token (federation).
    WebIdentity {
        /// The plan's role ARN.
        role_arn: String,
        /// Role session name, `Rampart_<connector>`.
        session_name: String,
        /// Mints the token for the plan's audience.
        tokens: Arc<dyn TokenSource>,
    },
    /// An IAM user's access keys (classic connector).
    StaticKeys {
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: String,
        /// Session token, for temporary keys.
        session_token: Option<String>,
    },
    /// A cross-account role assumed with an external id (classic connector).
    AssumeRole {
        /// The role's ARN.
        role_arn: String,
        /// The external id the role's trust policy requires.
        external_id: Option<String>,
        /// Role session name.
        session_name: String,
        /// The credentials that sign the `AssumeRole` call.
        base: Box<CredentialSource>,
    },
}

impl CredentialSource {
    /// Federation for one plan: its role, session `Rampart_<connector>`, and
    /// the source of its tokens.
    pub fn web_identity(
        role_arn: impl Into<String>,
        session_name: impl Into<String>,
        tokens: Arc<dyn TokenSource>,
    ) -> Self {
        Self::WebIdentity {
            role_arn: role_arn.into(),
            session_name: session_name.into(),
            tokens,
        }
    }

    /// The provider for this source, with clients set up from `settings`.
    /// `None` for [`Self::Default`] and [`Self::Profile`], which the SDK's
    /// own chain resolves.
    async fn provider(
        self,
        settings: &AwsSettings,
    ) -> Result<Option<SharedCredentialsProvider>, AccessError> {
        Ok(match self {
            Self::Default | Self::Profile(_) => None,
            Self::WebIdentity {
                role_arn,
                session_name,
                tokens,
            } => Some(SharedCredentialsProvider::new(
                WebIdentityCredentials::new(
                    settings,
                    role_arn,
                    session_name,
                    tokens,
                    RefreshOptions::default(),
                )
                .await?,
            )),
            Self::StaticKeys {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                if access_key_id.trim().is_empty() || secret_access_key.trim().is_empty() {
                    return Err(AccessError::CredentialSource(
                        "static keys need an access key id and a secret access key".to_owned(),
                    ));
                }
                Some(SharedCredentialsProvider::new(Credentials::new(
                    access_key_id,
                    secret_access_key,
                    session_token,
                    None,
                    CLASSIC_PROVIDER_NAME,
                )))
            }
            Self::AssumeRole {
                role_arn,
                external_id,
                session_name,
                base,
            } => {
                let base_settings = Box::pin(settings.clone().with_credentials(*base)).await?;
                Some(SharedCredentialsProvider::new(
                    AssumeRoleCredentials::new(
                        &base_settings,
                        role_arn,
                        external_id,
                        session_name,
                        RefreshOptions::default(),
                    )
                    .await?,
                ))
            }
        })
    }
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("Default"),
            Self::Profile(name) => f.debug_tuple("Profile").field(name).finish(),
            Self::WebIdentity {
                role_arn,
                session_name,
                ..
            } => f
                .debug_struct("WebIdentity")
                .field("role_arn", role_arn)
                .field("session_name", session_name)
                .finish_non_exhaustive(),
            Self::StaticKeys { access_key_id, .. } => f
                .debug_struct("StaticKeys")
                .field("access_key_id", access_key_id)
                .finish_non_exhaustive(),
            Self::AssumeRole {
                role_arn,
                external_id,
                session_name,
                base,
            } => f
                .debug_struct("AssumeRole")
                .field("role_arn", role_arn)
                .field("external_id", external_id)
                .field("session_name", session_name)
                .field("base", base)
                .finish(),
        }
    }
}

impl AwsSettings {
    /// These settings with credentials from `source`. [`CredentialSource::Default`]
    /// and [`CredentialSource::Profile`] clear explicit credentials (and set
    /// the profile); the others install a provider whose own STS calls use
    /// these settings' endpoint, home region, retries and timeouts.
    /// Does not call AWS.
    pub async fn with_credentials(mut self, source: CredentialSource) -> Result<Self, AccessError> {
        match &source {
            CredentialSource::Default => self.profile = None,
            CredentialSource::Profile(name) => self.profile = Some(name.clone()),
            _ => {}
        }
        self.credentials = source.provider(&self).await?;
        Ok(self)
    }
}

/// What is exchanged with STS for role credentials.
enum Exchange {
    /// A web identity token (`AssumeRoleWithWebIdentity`, unsigned).
    WebIdentity(Arc<dyn TokenSource>),
    /// The base credentials' signature and an external id (`AssumeRole`).
    AssumeRole(Option<String>),
}

/// A role's credentials: the exchange, the cache and its single flight.
struct RoleSession {
    role_arn: String,
    session_name: String,
    exchange: Exchange,
    sts: aws_sdk_sts::Client,
    options: RefreshOptions,
    stats: Arc<CallStats>,
    /// The current credentials and the last failed refresh. Held across a
    /// refresh, so concurrent callers share one exchange.
    cached: tokio::sync::Mutex<Cache>,
}

/// What a [`RoleSession`] keeps between calls.
#[derive(Default)]
struct Cache {
    credentials: Option<Credentials>,
    /// When the last refresh failed (on the refresh clock), while the
    /// current credentials were still valid.
    failed_at: Option<SystemTime>,
}

/// After a refresh fails while the current credentials are still valid,
/// how long callers keep using them before the next attempt.
pub const REFRESH_RETRY_PAUSE: Duration = Duration::from_secs(30);

impl RoleSession {
    async fn new(
        settings: &AwsSettings,
        role_arn: String,
        session_name: String,
        exchange: Exchange,
        options: RefreshOptions,
    ) -> Result<Self, AccessError> {
        validate_role_arn(&role_arn)?;
        validate_session_name(&session_name)?;
        let signing = match exchange {
            Exchange::WebIdentity(_) => Signing::Anonymous,
            Exchange::AssumeRole(_) => Signing::Settings,
        };
        let stats = Arc::new(CallStats::default());
        let sts = exchange_sts(settings, signing, stats.clone()).await?;
        Ok(Self {
            role_arn,
            session_name,
            exchange,
            sts,
            options,
            stats,
            cached: tokio::sync::Mutex::new(Cache::default()),
        })
    }

    /// The cached credentials, or new ones when they are due for refresh.
    /// A refresh that fails while the cached credentials are still valid
    /// (they are refreshed ahead of expiry) keeps them, with a warning, and
    /// is tried again after [`REFRESH_RETRY_PAUSE`]; only once they have
    /// expired is the failure the caller's.
    async fn credentials(&self) -> Result<Credentials, ExchangeError> {
        let mut cache = self.cached.lock().await;
        let now = self.options.clock.now();
        let valid = cache
            .credentials
            .clone()
            .filter(|c| Self::lasts_beyond(c, now, Duration::ZERO));
        if let Some(credentials) = &valid {
            let pausing = cache.failed_at.is_some_and(|failed| {
                now.duration_since(failed)
                    .is_ok_and(|since| since < REFRESH_RETRY_PAUSE)
            });
            if Self::lasts_beyond(credentials, now, self.options.margin) || pausing {
                return Ok(credentials.clone());
            }
        }
        match self.exchange().await {
            Ok(credentials) => {
                *cache = Cache {
                    credentials: Some(credentials.clone()),
                    failed_at: None,
                };
                Ok(credentials)
            }
            Err(err) => match valid {
                Some(credentials) => {
                    tracing::warn!(
                        role_arn = %self.role_arn,
                        error = %err,
                        "refreshing role credentials failed; the current ones are used until they expire"
                    );
                    cache.failed_at = Some(now);
                    Ok(credentials)
                }
                None => Err(err),
            },
        }
    }

    /// Whether more than `min` remains of the credentials' lifetime at
    /// `now` (`Duration::ZERO`: not expired; the margin: fresh).
    fn lasts_beyond(credentials: &Credentials, now: SystemTime, min: Duration) -> bool {
        credentials
            .expiry()
            .is_none_or(|expiry| expiry.duration_since(now).is_ok_and(|left| left > min))
    }

    fn error(&self, reason: impl Into<String>) -> ExchangeError {
        ExchangeError {
            role_arn: self.role_arn.clone(),
            session_name: self.session_name.clone(),
            reason: reason.into(),
        }
    }

    /// One STS exchange.
    async fn exchange(&self) -> Result<Credentials, ExchangeError> {
        let seconds = i32::try_from(self.options.duration.as_secs()).unwrap_or(i32::MAX);
        let asked_at = self.options.clock.now();
        let asked_at_wall = SystemTime::now();
        let (sts_credentials, provider_name) = match &self.exchange {
            Exchange::WebIdentity(tokens) => {
                let token = tokens
                    .token()
                    .map_err(|err| self.error(format!("cannot get a web identity token: {err}")))?;
                let out = self
                    .sts
                    .assume_role_with_web_identity()
                    .role_arn(&self.role_arn)
                    .role_session_name(&self.session_name)
                    .web_identity_token(token)
                    .duration_seconds(seconds)
                    .send()
                    .await
                    .map_err(|err| {
                        self.error(format!(
                            "STS AssumeRoleWithWebIdentity failed: {}",
                            classify(&err).message
                        ))
                    })?;
                (out.credentials, "rampart-web-identity")
            }
            Exchange::AssumeRole(external_id) => {
                let out = self
                    .sts
                    .assume_role()
                    .role_arn(&self.role_arn)
                    .role_session_name(&self.session_name)
                    .set_external_id(external_id.clone())
                    .duration_seconds(seconds)
                    .send()
                    .await
                    .map_err(|err| {
                        self.error(format!("STS AssumeRole failed: {}", classify(&err).message))
                    })?;
                (out.credentials, "rampart-assume-role")
            }
        };
        let Some(sts_credentials) = sts_credentials else {
            return Err(self.error("STS answered without credentials"));
        };
        // STS states the expiry on the wall clock. Keep the lifetime it
        // granted (never more than asked), counted from when it was asked on
        // the refresh clock, so an injected clock moves expiry too.
        let granted = SystemTime::try_from(*sts_credentials.expiration())
            .ok()
            .and_then(|expiry| expiry.duration_since(asked_at_wall).ok())
            .map_or(self.options.duration, |left| {
                left.min(self.options.duration)
            });
        if granted <= self.options.margin {
            tracing::warn!(
                role_arn = %self.role_arn,
                granted_seconds = granted.as_secs(),
                "role credentials expire within the refresh margin; check the clock"
            );
        }
        let expiry = asked_at + granted;
        tracing::debug!(
            role_arn = %self.role_arn,
            session_name = %self.session_name,
            "assumed role"
        );
        Ok(Credentials::new(
            sts_credentials.access_key_id(),
            sts_credentials.secret_access_key(),
            Some(sts_credentials.session_token().to_owned()),
            Some(expiry),
            provider_name,
        ))
    }

    fn provide(&self) -> future::ProvideCredentials<'_> {
        future::ProvideCredentials::new(async move {
            self.credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

impl fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleSession")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Credentials of a plan's role, from STS `AssumeRoleWithWebIdentity` with a
/// token from a [`TokenSource`]. The STS call is unsigned. Cheap to clone:
/// clones share the cache.
#[derive(Debug, Clone)]
pub struct WebIdentityCredentials(Arc<RoleSession>);

impl WebIdentityCredentials {
    /// A provider for `role_arn` as session `session_name`; its STS client
    /// uses the endpoint, home region, retries and timeouts of `settings`
    /// (not their credentials). Does not call AWS.
    pub async fn new(
        settings: &AwsSettings,
        role_arn: impl Into<String>,
        session_name: impl Into<String>,
        tokens: Arc<dyn TokenSource>,
        options: RefreshOptions,
    ) -> Result<Self, AccessError> {
        let session = RoleSession::new(
            settings,
            role_arn.into(),
            session_name.into(),
            Exchange::WebIdentity(tokens),
            options,
        )
        .await?;
        Ok(Self(Arc::new(session)))
    }

    /// The role assumed.
    pub fn role_arn(&self) -> &str {
        &self.0.role_arn
    }

    /// The role session name.
    pub fn session_name(&self) -> &str {
        &self.0.session_name
    }

    /// STS calls this provider made (attempts, retries included).
    pub fn stats(&self) -> &CallStats {
        &self.0.stats
    }
}

impl ProvideCredentials for WebIdentityCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide()
    }
}

/// Credentials of a role assumed with STS `AssumeRole` and an external id
/// (the classic cross-account connector). Cheap to clone: clones share the
/// cache.
#[derive(Debug, Clone)]
pub struct AssumeRoleCredentials(Arc<RoleSession>);

impl AssumeRoleCredentials {
    /// A provider for `role_arn`; the `AssumeRole` calls are signed with the
    /// credentials of `settings` and use their endpoint, home region,
    /// retries and timeouts. Does not call AWS.
    pub async fn new(
        settings: &AwsSettings,
        role_arn: impl Into<String>,
        external_id: Option<String>,
        session_name: impl Into<String>,
        options: RefreshOptions,
    ) -> Result<Self, AccessError> {
        let session = RoleSession::new(
            settings,
            role_arn.into(),
            session_name.into(),
            Exchange::AssumeRole(external_id),
            options,
        )
        .await?;
        Ok(Self(Arc::new(session)))
    }

    /// The role assumed.
    pub fn role_arn(&self) -> &str {
        &self.0.role_arn
    }

    /// STS calls this provider made (attempts, retries included).
    pub fn stats(&self) -> &CallStats {
        &self.0.stats
    }
}

impl ProvideCredentials for AssumeRoleCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide()
    }
}

/// Checks that `arn` is an IAM role ARN (`arn:<partition>:iam::<account>:role/<name>`).
fn validate_role_arn(arn: &str) -> Result<(), AccessError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = matches!(
        parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty())
    );
    if well_formed {
        Ok(())
    } else {
        Err(AccessError::CredentialSource(format!(
            "malformed role ARN `{arn}`: expected `arn:aws:iam::<account>:role/<name>`"
        )))
    }
}

/// Checks a role session name against STS's rules: 2 to 64 characters of
/// letters, digits and `+=,.@_-`.
fn validate_session_name(name: &str) -> Result<(), AccessError> {
    let well_formed = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if well_formed {
        Ok(())
    } else {
        Err(AccessError::CredentialSource(format!(
            "malformed role session name `{name}`: 2 to 64 letters, digits or `+=,.@_-`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        for good in [
            "arn:aws:iam::111111111111:role/RampartCspm",
            "arn:aws-us-gov:iam::123456789012:role/path/Role",
        ] {
            assert!(validate_role_arn(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "arn:aws:iam::111111111111:user/bob",
            "arn:aws:iam::1111:role/x",
            "arn:aws:sts::111111111111:role/x",
            "arn:aws:iam::111111111111:role/",
        ] {
            assert!(validate_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn session_names() {
        assert!(validate_session_name("Rampart_prod-1").is_ok());
        for bad in ["", "x", "Rampart prod", "Rampart/prod", &"a".repeat(65)] {
            assert!(validate_session_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let source = CredentialSource::AssumeRole {
            role_arn: "arn:aws:iam::111111111111:role/Classic".to_owned(),
            external_id: Some("ext".to_owned()),
            session_name: "Rampart_classic".to_owned(),
            base: Box::new(CredentialSource::StaticKeys {
                access_key_id: "AKIAEXAMPLE".to_owned(),
                secret_access_key: "very-secret".to_owned(),
                session_token: Some("session-secret".to_owned()),
            }),
        };
        let text = format!("{source:?}");
        assert!(text.contains("AKIAEXAMPLE"), "{text}");
        assert!(!text.contains("very-secret"), "{text}");
        assert!(!text.contains("session-secret"), "{text}");
        let tokens: Arc<dyn TokenSource> = Arc::new(|| Ok("token-secret".to_owned()));
        let web =
            CredentialSource::web_identity("arn:aws:iam::111111111111:role/R", "Rampart_x", tokens);
        assert!(!format!("{web:?}").contains("token-secret"));
    }

    #[test]
    fn exchange_failure_is_found_behind_credentials_error() {
        let err = CredentialsError::provider_error(ExchangeError {
            role_arn: "arn:aws:iam::111111111111:role/R".to_owned(),
            session_name: "Rampart_x".to_owned(),
            reason: "nope".to_owned(),
        });
        let found = exchange_failure(&err).map(ToString::to_string);
        assert_eq!(
            found.as_deref(),
            Some(
                "cannot assume role `arn:aws:iam::111111111111:role/R` as session `Rampart_x`: nope"
            )
        );
        let other = CredentialsError::not_loaded("no");
        assert!(exchange_failure(&other).is_none());
    }
}
