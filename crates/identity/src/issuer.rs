//! The issuer: its state in the keys directory, its public documents, token
//! minting and key rotation.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::IdentityError;
use crate::files::{PUBLIC_FILE_MODE, write_atomic};
use crate::issuer_url::normalize_issuer_url;
use crate::key::SigningKey;
use crate::storage::{IssuerStorage, KeysDir, StoredIssuer, StoredKey};

/// How long a minted token is valid.
pub const TOKEN_LIFETIME: Duration = Duration::hours(1);
/// Extra time a retired key stays published after its last token expired,
/// for verifiers whose clocks run behind.
pub const CLOCK_SKEW_MARGIN: Duration = Duration::minutes(5);
/// Path of the discovery document, relative to the issuer URL.
pub const DISCOVERY_PATH: &str = ".well-known/openid-configuration";
/// Path of the JWKS, relative to the issuer URL (the discovery document's
/// `jwks_uri` names it).
pub const JWKS_PATH: &str = ".well-known/jwks.json";
/// The issuer's state file in the keys directory.
pub const STATE_FILE: &str = "issuer.json";

const STATE_VERSION: u32 = 1;

/// The state document (`issuer.json` in a keys directory): the URL and the
/// key list. Holds no key material.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    version: u32,
    issuer_url: String,
    keys: Vec<KeyRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRecord {
    kid: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(
        with = "time::serde::rfc3339::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    retired_at: Option<OffsetDateTime>,
    /// A staged key: published in the JWKS, not signing yet
    /// ([`Issuer::stage`], then [`Issuer::activate`]).
    #[serde(default, skip_serializing_if = "is_false")]
    staged: bool,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(value: &bool) -> bool {
    !*value
}

impl KeyRecord {
    /// Whether it signs new tokens.
    fn is_signer(&self) -> bool {
        self.retired_at.is_none() && !self.staged
    }

    /// When the key leaves the JWKS: its last token's expiry plus the margin.
    fn published_until(&self) -> Option<OffsetDateTime> {
        self.retired_at
            .map(|at| at + TOKEN_LIFETIME + CLOCK_SKEW_MARGIN)
    }

    fn is_published(&self, now: OffsetDateTime) -> bool {
        self.published_until().is_none_or(|until| now < until)
    }
}

/// What `rampart issuer show` reports about one key: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Key id (the JWK thumbprint), the `kid` header of its tokens.
    pub kid: String,
    /// When the key was generated.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When a newer key replaced it as the signer; `None` for the signer.
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    /// When it leaves the JWKS (a retired key only).
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_until: Option<OffsetDateTime>,
    /// Whether new tokens are signed with it.
    pub signing: bool,
    /// Whether it is staged: published, signing once activated.
    pub staged: bool,
    /// Modulus size in bits.
    pub bits: usize,
}

/// A signed token and when it stops being valid. `Debug` leaves the token out.
#[derive(Clone)]
pub struct MintedToken {
    /// The compact JWS (`header.payload.signature`).
    pub token: String,
    /// Key id that signed it.
    pub kid: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `iat` and `nbf`.
    pub issued_at: OffsetDateTime,
    /// Its `exp`.
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedToken")
            .field("kid", &self.kid)
            .field("jti", &self.jti)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Rampart's OpenID Connect issuer, loaded from its keys directory or
/// another [`IssuerStorage`].
///
/// `Debug` shows the URL and key ids, never key material.
pub struct Issuer {
    storage: Box<dyn IssuerStorage>,
    /// The kept issuer's generation (`None`: not kept yet).
    generation: Option<i64>,
    state: State,
    /// Same order as `state.keys`.
    keys: Vec<SigningKey>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("storage", &self.storage)
            .field("url", &self.state.issuer_url)
            .field("keys", &self.keys)
            .finish()
    }
}

impl Issuer {
    /// Creates an issuer in `keys_dir` (made owner-only) with one fresh key.
    /// Refuses when an issuer exists there already.
    pub fn init(keys_dir: &Path, issuer_url: &str) -> Result<Self, IdentityError> {
        Self::create_in(Box::new(KeysDir::new(keys_dir)), issuer_url, false)
    }

    /// Like [`Issuer::init`], but replaces an existing issuer and deletes its
    /// keys: tokens they signed stop validating.
    pub fn init_replacing(keys_dir: &Path, issuer_url: &str) -> Result<Self, IdentityError> {
        Self::create_in(Box::new(KeysDir::new(keys_dir)), issuer_url, true)
    }

    /// Creates an issuer with one fresh key in `storage`. Refuses when it
    /// holds one already, unless `replace` (the old keys are deleted and
    /// tokens they signed stop validating).
    pub fn create_in(
        storage: Box<dyn IssuerStorage>,
        issuer_url: &str,
        replace: bool,
    ) -> Result<Self, IdentityError> {
        let url = normalize_issuer_url(issuer_url)?;
        let from = match storage.generation() {
            Ok(Some(_)) if !replace => {
                return Err(IdentityError::AlreadyInitialized(storage.location()));
            }
            Ok(from) => from,
            // A kept issuer that cannot be read is replaced only when asked.
            Err(e) if !replace => return Err(e),
            Err(_) => None,
        };
        let key = SigningKey::generate()?;
        let mut issuer = Self {
            storage,
            generation: from,
            state: State {
                version: STATE_VERSION,
                issuer_url: url,
                keys: vec![KeyRecord {
                    kid: key.kid().to_owned(),
                    created_at: OffsetDateTime::now_utc(),
                    retired_at: None,
                    staged: false,
                }],
            },
            keys: vec![key],
        };
        issuer.save()?;
        tracing::info!(url = %issuer.url(), kid = %issuer.signing_kid(), "issuer created");
        Ok(issuer)
    }

    /// Loads the issuer from `keys_dir`, pruning keys whose tokens have all
    /// expired.
    pub fn open(keys_dir: &Path) -> Result<Self, IdentityError> {
        Self::open_at(keys_dir, OffsetDateTime::now_utc())
    }

    /// [`Issuer::open`] with an explicit clock.
    pub fn open_at(keys_dir: &Path, now: OffsetDateTime) -> Result<Self, IdentityError> {
        Self::open_in(Box::new(KeysDir::new(keys_dir)), now)
    }

    /// Loads the issuer kept in `storage`, pruning keys whose tokens have
    /// all expired at `now`.
    pub fn open_in(
        storage: Box<dyn IssuerStorage>,
        now: OffsetDateTime,
    ) -> Result<Self, IdentityError> {
        let location = storage.location();
        let stored = storage
            .load()?
            .ok_or_else(|| IdentityError::NotInitialized(location.clone()))?;
        let state: State = serde_json::from_str(&stored.state)
            .map_err(|e| IdentityError::corrupt(&location, e.to_string()))?;
        if state.version != STATE_VERSION {
            return Err(IdentityError::corrupt(
                &location,
                format!("unsupported version `{}`", state.version),
            ));
        }
        normalize_issuer_url(&state.issuer_url)
            .map_err(|e| IdentityError::corrupt(&location, e.to_string()))?;
        let signers = state.keys.iter().filter(|r| r.is_signer()).count();
        let staged = state.keys.iter().filter(|r| r.staged).count();
        if staged > 1
            || state
                .keys
                .iter()
                .any(|r| r.staged && r.retired_at.is_some())
        {
            return Err(IdentityError::corrupt(
                &location,
                format!("{staged} staged keys instead of at most one"),
            ));
        }
        if signers != 1 {
            return Err(IdentityError::corrupt(
                &location,
                format!("{signers} signing keys instead of one"),
            ));
        }
        let mut keys = Vec::with_capacity(state.keys.len());
        for record in &state.keys {
            if !valid_kid(&record.kid) {
                return Err(IdentityError::corrupt(
                    &location,
                    format!("malformed key id `{}`", record.kid),
                ));
            }
            let pem = stored
                .keys
                .iter()
                .find(|k| k.kid == record.kid)
                .ok_or_else(|| {
                    IdentityError::corrupt(&location, format!("key `{}` is missing", record.kid))
                })?;
            let key = SigningKey::from_pem(&pem.pem).map_err(|reason| {
                IdentityError::corrupt(&location, format!("key `{}`: {reason}", record.kid))
            })?;
            if key.kid() != record.kid {
                return Err(IdentityError::corrupt(
                    &location,
                    format!("the key stored as `{}` has another id", record.kid),
                ));
            }
            keys.push(key);
        }
        let mut issuer = Self {
            storage,
            generation: stored.generation,
            state,
            keys,
        };
        match issuer.prune(now) {
            Ok(_) => {}
            // Another process changed the issuer since it was read (and
            // pruned it too, or rotated): this one's view is still whole.
            Err(IdentityError::Changed(_)) => {
                tracing::debug!("the issuer changed while pruning; pruned in memory only");
            }
            Err(e) => return Err(e),
        }
        Ok(issuer)
    }

    /// The public issuer URL (the `iss` claim), without a trailing slash.
    pub fn url(&self) -> &str {
        &self.state.issuer_url
    }

    /// Where the issuer is kept, for messages: a quoted keys directory or
    /// "the store".
    pub fn location(&self) -> String {
        self.storage.location()
    }

    /// The keys directory the issuer lives in (`None`: another storage).
    pub fn keys_dir(&self) -> Option<&Path> {
        self.storage.keys_dir()
    }

    /// A copy of the issuer kept in `storage` instead: same URL, keys and
    /// times. Refuses when `storage` holds an issuer already.
    pub fn copy_to(&self, storage: Box<dyn IssuerStorage>) -> Result<Self, IdentityError> {
        if storage.generation()?.is_some() {
            return Err(IdentityError::AlreadyInitialized(storage.location()));
        }
        let mut stored = self.stored()?;
        stored.generation = None;
        storage.save(&stored)?;
        let copy = Self::open_in(storage, OffsetDateTime::now_utc())?;
        tracing::info!(url = %copy.url(), to = %copy.location(), "issuer copied");
        Ok(copy)
    }

    /// The `jwks_uri` the discovery document announces.
    pub fn jwks_uri(&self) -> String {
        format!("{}/{JWKS_PATH}", self.url())
    }

    /// Key id of the key that signs new tokens.
    pub fn signing_kid(&self) -> &str {
        self.signer().map_or("", |(record, _)| record.kid.as_str())
    }

    /// Every stored key, oldest first, without key material.
    pub fn keys(&self) -> Vec<KeyInfo> {
        self.state
            .keys
            .iter()
            .zip(&self.keys)
            .map(|(record, key)| KeyInfo {
                kid: record.kid.clone(),
                created_at: record.created_at,
                retired_at: record.retired_at,
                published_until: record.published_until(),
                signing: record.is_signer(),
                staged: record.staged,
                bits: key.bits(),
            })
            .collect()
    }

    /// The OpenID Connect discovery document (`/.well-known/openid-configuration`).
    pub fn discovery_document(&self) -> Value {
        json!({
            "issuer": self.url(),
            "jwks_uri": self.jwks_uri(),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["aud", "exp", "iat", "iss", "jti", "nbf", "sub"],
        })
    }

    /// The JWKS now: the signing key and every retired key whose tokens may
    /// still be valid.
    pub fn jwks(&self) -> Value {
        self.jwks_at(OffsetDateTime::now_utc())
    }

    /// [`Issuer::jwks`] with an explicit clock.
    pub fn jwks_at(&self, now: OffsetDateTime) -> Value {
        let keys: Vec<Value> = self
            .state
            .keys
            .iter()
            .zip(&self.keys)
            .filter(|(record, _)| record.is_published(now))
            .map(|(_, key)| key.public_jwk())
            .collect();
        json!({ "keys": keys })
    }

    /// The public documents and their paths relative to the issuer URL, for
    /// `export` and for `rampart serve`.
    pub fn documents(&self) -> Vec<(&'static str, Value)> {
        vec![
            (DISCOVERY_PATH, self.discovery_document()),
            (JWKS_PATH, self.jwks()),
        ]
    }

    /// Writes the public documents under `dir`, which is to be served at the
    /// issuer URL: `<dir>/.well-known/openid-configuration` and
    /// `<dir>/.well-known/jwks.json`. Returns the files written.
    pub fn export(&self, dir: &Path) -> Result<Vec<PathBuf>, IdentityError> {
        let mut written = Vec::new();
        for (relative, document) in self.documents() {
            let path = dir.join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| IdentityError::io("create", parent, e))?;
            }
            let mut body = serde_json::to_vec_pretty(&document).map_err(|e| {
                IdentityError::corrupt(format!("`{}`", path.display()), e.to_string())
            })?;
            body.push(b'\n');
            write_atomic(&path, &body, PUBLIC_FILE_MODE)?;
            written.push(path);
        }
        Ok(written)
    }

    /// Mints an RS256 token for `subject` (the connector id) and `audience`
    /// (the plan's audience), valid from `now` for [`TOKEN_LIFETIME`], signed
    /// with the newest key.
    pub fn mint(
        &self,
        subject: &str,
        audience: &str,
        now: OffsetDateTime,
    ) -> Result<MintedToken, IdentityError> {
        if subject.trim().is_empty() {
            return Err(IdentityError::InvalidClaim("empty subject"));
        }
        if audience.trim().is_empty() {
            return Err(IdentityError::InvalidClaim("empty audience"));
        }
        let (record, key) = self.signer().ok_or(IdentityError::NoSigningKey)?;
        let issued_at = now.replace_nanosecond(0).unwrap_or(now);
        let expires_at = issued_at + TOKEN_LIFETIME;
        let jti = uuid::Uuid::new_v4().to_string();
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": record.kid });
        let claims = json!({
            "iss": self.url(),
            "sub": subject,
            "aud": audience,
            "iat": issued_at.unix_timestamp(),
            "nbf": issued_at.unix_timestamp(),
            "exp": expires_at.unix_timestamp(),
            "jti": jti,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = key.sign(signing_input.as_bytes())?;
        let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
        tracing::debug!(kid = %record.kid, %jti, sub = subject, aud = audience, "token minted");
        Ok(MintedToken {
            token,
            kid: record.kid.clone(),
            jti,
            issued_at,
            expires_at,
        })
    }

    /// Generates a new signing key; the previous one is retired at `now` and
    /// stays in the JWKS until every token it signed has expired (plus
    /// [`CLOCK_SKEW_MARGIN`]). Returns the new key id. Same as
    /// [`stage`](Self::stage) then [`activate`](Self::activate) at once.
    pub fn rotate(&mut self, now: OffsetDateTime) -> Result<String, IdentityError> {
        let kid = self.stage(now)?;
        self.activate(now)?;
        Ok(kid)
    }

    /// The first half of a rotation: generates a key and publishes it in
    /// the JWKS without signing with it, so verifiers (AWS) can fetch it
    /// before any token needs it. Returns its key id; a key staged before
    /// is replaced.
    pub fn stage(&mut self, now: OffsetDateTime) -> Result<String, IdentityError> {
        let key = SigningKey::generate()?;
        // One staged key at most: an older one never signed, so it goes
        // (`save` deletes it).
        let mut i = 0;
        while i < self.state.keys.len() {
            if self.state.keys.get(i).is_some_and(|r| r.staged) {
                self.state.keys.remove(i);
                self.keys.remove(i);
            } else {
                i += 1;
            }
        }
        let kid = key.kid().to_owned();
        self.state.keys.push(KeyRecord {
            kid: kid.clone(),
            created_at: now,
            retired_at: None,
            staged: true,
        });
        self.keys.push(key);
        self.save()?;
        tracing::info!(%kid, "issuer signing key staged");
        Ok(kid)
    }

    /// The second half: the staged key signs from `now`; the previous
    /// signer is retired and stays published until its tokens expired.
    /// Returns the new signer's key id; an error when no key is staged.
    pub fn activate(&mut self, now: OffsetDateTime) -> Result<String, IdentityError> {
        let Some(at) = self.state.keys.iter().position(|r| r.staged) else {
            return Err(IdentityError::NothingStaged);
        };
        for record in self.state.keys.iter_mut().filter(|r| r.is_signer()) {
            record.retired_at = Some(now);
        }
        let mut kid = String::new();
        if let Some(record) = self.state.keys.get_mut(at) {
            record.staged = false;
            kid.clone_from(&record.kid);
        }
        self.save()?;
        self.prune(now)?;
        tracing::info!(%kid, "issuer signing key activated");
        Ok(kid)
    }

    /// The staged key's id, if one is staged.
    pub fn staged_kid(&self) -> Option<&str> {
        self.state
            .keys
            .iter()
            .find(|r| r.staged)
            .map(|r| r.kid.as_str())
    }

    /// Deletes retired keys that are no longer published at `now`. Returns
    /// the key ids removed.
    pub fn prune(&mut self, now: OffsetDateTime) -> Result<Vec<String>, IdentityError> {
        let expired: Vec<String> = self
            .state
            .keys
            .iter()
            .filter(|r| !r.is_published(now))
            .map(|r| r.kid.clone())
            .collect();
        if expired.is_empty() {
            return Ok(expired);
        }
        let (records, keys): (Vec<KeyRecord>, Vec<SigningKey>) =
            std::mem::take(&mut self.state.keys)
                .into_iter()
                .zip(std::mem::take(&mut self.keys))
                .filter(|(record, _)| !expired.contains(&record.kid))
                .unzip();
        self.state.keys = records;
        self.keys = keys;
        self.save()?;
        for kid in &expired {
            tracing::info!(%kid, "expired issuer key removed");
        }
        Ok(expired)
    }

    fn signer(&self) -> Option<(&KeyRecord, &SigningKey)> {
        self.state
            .keys
            .iter()
            .zip(&self.keys)
            .rfind(|(record, _)| record.is_signer())
    }

    /// The state and keys as kept.
    fn stored(&self) -> Result<StoredIssuer, IdentityError> {
        let state = serde_json::to_string_pretty(&self.state)
            .map_err(|e| IdentityError::corrupt(self.storage.location(), e.to_string()))?;
        let keys = self
            .keys
            .iter()
            .map(|key| {
                Ok(StoredKey {
                    kid: key.kid().to_owned(),
                    pem: key.to_pem()?,
                })
            })
            .collect::<Result<Vec<_>, IdentityError>>()?;
        Ok(StoredIssuer {
            state,
            keys,
            generation: self.generation,
        })
    }

    /// Keeps the state and keys in the storage, from the generation this
    /// issuer was read at.
    fn save(&mut self) -> Result<(), IdentityError> {
        self.generation = Some(self.storage.save(&self.stored()?)?);
        Ok(())
    }
}

/// The private key file of `kid`.
pub fn key_path(keys_dir: &Path, kid: &str) -> PathBuf {
    keys_dir.join(format!("issuer-{kid}.pem"))
}

/// Whether `kid` is a key id Rampart makes (URL-safe base64), and so safe
/// in a file name.
pub(crate) fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {

    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failure should stop the test"
    )]

    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::files::mode_of;

    const URL: &str = "https://id.example.com/rampart/";

    fn kids(jwks: &Value) -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    fn decode_part(token: &str, index: usize) -> Value {
        let part = token.split('.').nth(index).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn init_writes_owner_only_files_and_the_kid_is_stable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state").join("keys");
        let issuer = Issuer::init(&dir, URL).unwrap();
        assert_eq!(issuer.url(), "https://id.example.com/rampart");
        assert_eq!(mode_of(&dir).unwrap(), 0o700);
        assert_eq!(mode_of(&dir.join(STATE_FILE)).unwrap(), 0o600);
        let kid = issuer.signing_kid().to_owned();
        let pem_path = key_path(&dir, &kid);
        assert_eq!(mode_of(&pem_path).unwrap(), 0o600);
        // No stray temporary files.
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // The state file has no key material.
        let state = fs::read_to_string(dir.join(STATE_FILE)).unwrap();
        assert!(!state.contains("PRIVATE KEY"));

        let reopened = Issuer::open(&dir).unwrap();
        assert_eq!(reopened.signing_kid(), kid);
        assert_eq!(reopened.jwks(), issuer.jwks());
        assert_eq!(kids(&reopened.jwks()), [kid.as_str()]);
        // The kid is a function of the key: recomputed from the PEM on open.
        let key = SigningKey::from_pem(&fs::read_to_string(&pem_path).unwrap()).unwrap();
        assert_eq!(key.kid(), kid);
        assert_eq!(reopened.keys()[0].bits, 2048);
    }

    #[test]
    fn init_refuses_an_existing_issuer_unless_replacing() {
        let tmp = tempfile::tempdir().unwrap();
        let first = Issuer::init(tmp.path(), URL).unwrap();
        let err = Issuer::init(tmp.path(), "https://other.example.com").unwrap_err();
        assert!(matches!(err, IdentityError::AlreadyInitialized(_)), "{err}");
        assert_eq!(Issuer::open(tmp.path()).unwrap().url(), first.url());

        let second = Issuer::init_replacing(tmp.path(), "https://other.example.com").unwrap();
        assert_ne!(second.signing_kid(), first.signing_kid());
        assert!(!key_path(tmp.path(), first.signing_kid()).exists());
        assert_eq!(
            Issuer::open(tmp.path()).unwrap().url(),
            "https://other.example.com"
        );
    }

    #[test]
    fn open_without_an_issuer_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Issuer::open(tmp.path()).unwrap_err();
        assert!(matches!(err, IdentityError::NotInitialized(_)), "{err}");
    }

    #[test]
    fn open_refuses_a_key_file_readable_by_others() {
        let tmp = tempfile::tempdir().unwrap();
        let issuer = Issuer::init(tmp.path(), URL).unwrap();
        let pem = key_path(tmp.path(), issuer.signing_kid());
        fs::set_permissions(&pem, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Issuer::open(tmp.path()).unwrap_err();
        assert!(
            matches!(err, IdentityError::LoosePermissions { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn open_refuses_a_key_that_does_not_match_its_kid() {
        let tmp = tempfile::tempdir().unwrap();
        let issuer = Issuer::init(tmp.path(), URL).unwrap();
        let other = tempfile::tempdir().unwrap();
        let stranger = Issuer::init(other.path(), URL).unwrap();
        fs::copy(
            key_path(other.path(), stranger.signing_kid()),
            key_path(tmp.path(), issuer.signing_kid()),
        )
        .unwrap();
        let err = Issuer::open(tmp.path()).unwrap_err();
        assert!(matches!(err, IdentityError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn init_tightens_an_open_keys_directory() {
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        Issuer::init(tmp.path(), URL).unwrap();
        assert_eq!(mode_of(tmp.path()).unwrap(), 0o700);
    }

    #[test]
    fn discovery_and_jwks_agree_with_the_export_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let issuer = Issuer::init(&tmp.path().join("keys"), URL).unwrap();
        let discovery = issuer.discovery_document();
        assert_eq!(discovery["issuer"], "https://id.example.com/rampart");
        assert_eq!(
            discovery["jwks_uri"],
            "https://id.example.com/rampart/.well-known/jwks.json"
        );
        assert_eq!(
            discovery["id_token_signing_alg_values_supported"],
            json!(["RS256"])
        );
        let jwk = &issuer.jwks()["keys"][0];
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["kid"], issuer.signing_kid());
        assert!(jwk.get("d").is_none() && jwk.get("p").is_none());

        let site = tmp.path().join("site");
        let written = issuer.export(&site).unwrap();
        assert_eq!(
            written,
            [
                site.join(".well-known/openid-configuration"),
                site.join(".well-known/jwks.json")
            ]
        );
        // The JWKS file sits where jwks_uri points, relative to the issuer URL.
        let relative = discovery["jwks_uri"]
            .as_str()
            .unwrap()
            .strip_prefix("https://id.example.com/rampart/")
            .unwrap();
        let jwks: Value = serde_json::from_slice(&fs::read(site.join(relative)).unwrap()).unwrap();
        assert_eq!(jwks, issuer.jwks());
        let exported: Value = serde_json::from_slice(&fs::read(&written[0]).unwrap()).unwrap();
        assert_eq!(exported, discovery);
        assert_eq!(mode_of(&written[1]).unwrap(), 0o644);
        for path in &written {
            assert!(!fs::read_to_string(path).unwrap().contains("PRIVATE"));
        }
    }

    #[test]
    fn minted_token_has_the_issuer_claims() {
        let tmp = tempfile::tempdir().unwrap();
        let issuer = Issuer::init(tmp.path(), URL).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let minted = issuer.mint("conn-1", "rampart-cspm", now).unwrap();
        let header = decode_part(&minted.token, 0);
        assert_eq!(
            header,
            json!({"alg": "RS256", "typ": "JWT", "kid": issuer.signing_kid()})
        );
        let claims = decode_part(&minted.token, 1);
        assert_eq!(claims["iss"], "https://id.example.com/rampart");
        assert_eq!(claims["sub"], "conn-1");
        assert_eq!(claims["aud"], "rampart-cspm");
        assert_eq!(claims["iat"], 1_800_000_000);
        assert_eq!(claims["nbf"], 1_800_000_000);
        assert_eq!(claims["exp"], 1_800_003_600);
        assert_eq!(claims["jti"], minted.jti.as_str());
        assert_eq!(minted.expires_at, now + TOKEN_LIFETIME);
        let again = issuer.mint("conn-1", "rampart-cspm", now).unwrap();
        assert_ne!(again.jti, minted.jti);
        assert!(!format!("{minted:?}").contains(&minted.token));
        assert!(matches!(
            issuer.mint("", "rampart-cspm", now),
            Err(IdentityError::InvalidClaim(_))
        ));
        assert!(matches!(
            issuer.mint("conn-1", " ", now),
            Err(IdentityError::InvalidClaim(_))
        ));
    }

    #[test]
    fn rotation_keeps_the_old_key_until_its_tokens_expire_then_prunes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let mut issuer = Issuer::init(tmp.path(), URL).unwrap();
        let old = issuer.signing_kid().to_owned();
        let t0 = OffsetDateTime::now_utc();
        let new = issuer.rotate(t0).unwrap();
        assert_ne!(new, old);
        assert_eq!(issuer.signing_kid(), new);
        assert_eq!(
            decode_part(&issuer.mint("c", "a", t0).unwrap().token, 0)["kid"],
            new.as_str()
        );
        assert_eq!(kids(&issuer.jwks_at(t0)), [old.clone(), new.clone()]);
        let keys = issuer.keys();
        assert_eq!(keys[0].retired_at, Some(t0));
        assert_eq!(
            keys[0].published_until,
            Some(t0 + TOKEN_LIFETIME + CLOCK_SKEW_MARGIN)
        );
        assert!(!keys[0].signing && keys[1].signing);

        // Just before the last old token (minted at t0) plus the margin runs out.
        let still = t0 + TOKEN_LIFETIME + CLOCK_SKEW_MARGIN - Duration::seconds(1);
        let reopened = Issuer::open_at(tmp.path(), still).unwrap();
        assert_eq!(kids(&reopened.jwks_at(still)), [old.clone(), new.clone()]);
        assert!(key_path(tmp.path(), &old).exists());

        // Then it leaves the JWKS and the disk.
        let later = t0 + TOKEN_LIFETIME + CLOCK_SKEW_MARGIN;
        assert_eq!(kids(&issuer.jwks_at(later)), [new.as_str()]);
        let pruned = Issuer::open_at(tmp.path(), later).unwrap();
        assert_eq!(kids(&pruned.jwks_at(later)), [new.as_str()]);
        assert!(!key_path(tmp.path(), &old).exists());
        assert_eq!(Issuer::open_at(tmp.path(), later).unwrap().keys().len(), 1);
    }

    #[test]
    fn a_second_rotation_prunes_only_expired_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let mut issuer = Issuer::init(tmp.path(), URL).unwrap();
        let first = issuer.signing_kid().to_owned();
        let t0 = OffsetDateTime::now_utc();
        let second = issuer.rotate(t0).unwrap();
        let t1 = t0 + Duration::hours(2);
        let third = issuer.rotate(t1).unwrap();
        assert_eq!(kids(&issuer.jwks_at(t1)), [second, third]);
        assert!(!key_path(tmp.path(), &first).exists());
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let tmp = tempfile::tempdir().unwrap();
        let issuer = Issuer::init(tmp.path(), URL).unwrap();
        let debug = format!("{issuer:?}");
        let pem = fs::read_to_string(key_path(tmp.path(), issuer.signing_kid())).unwrap();
        let jwks = issuer.jwks();
        let n = jwks["keys"][0]["n"].as_str().unwrap();
        assert!(debug.contains(issuer.signing_kid()), "{debug}");
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!debug.contains(line), "{debug}");
        }
        assert!(!debug.contains(&n[..24]), "{debug}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
    }

    #[test]
    fn a_staged_key_is_published_before_it_signs() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let now = OffsetDateTime::now_utc();
        let mut issuer = Issuer::init(&keys, "https://id.example.test/rampart").unwrap();
        let first = issuer.signing_kid().to_owned();
        assert!(matches!(
            issuer.activate(now),
            Err(IdentityError::NothingStaged)
        ));
        let staged = issuer.stage(now).unwrap();
        // Published, not signing; the old key still signs.
        let published = |i: &Issuer| {
            i.jwks_at(now)["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert!(published(&issuer).contains(&staged));
        assert_eq!(issuer.signing_kid(), first);
        assert_eq!(issuer.staged_kid(), Some(staged.as_str()));
        // It survives a reload, and staging again replaces it.
        let reopened = Issuer::open(&keys).unwrap();
        assert_eq!(reopened.staged_kid(), Some(staged.as_str()));
        let info = reopened.keys();
        assert!(
            info.iter()
                .any(|k| k.kid == staged && k.staged && !k.signing)
        );
        let restaged = issuer.stage(now).unwrap();
        assert_ne!(restaged, staged);
        assert!(!published(&issuer).contains(&staged));
        assert!(!key_path(&keys, &staged).exists());
        // Activation: the staged key signs, the old one stays published.
        assert_eq!(issuer.activate(now).unwrap(), restaged);
        assert_eq!(issuer.signing_kid(), restaged);
        assert_eq!(issuer.staged_kid(), None);
        assert!(published(&issuer).contains(&first));
        let reopened = Issuer::open(&keys).unwrap();
        assert_eq!(reopened.signing_kid(), restaged);
    }
}
