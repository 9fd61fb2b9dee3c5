//! Rampart's tokens, validated by PyJWT (not by the code that signs them)
//! against the exported JWKS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rampart_identity::{Issuer, TOKEN_LIFETIME, key_path};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const ISSUER_URL: &str = "https://issuer.example.test/rampart";
const AUDIENCE: &str = "rampart-cspm";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyjwt_verify.py")
}

fn python(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(rampart_testkit::python())
        .arg(script())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pyjwt script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs PyJWT on `(name, token, audience)` cases against the JWKS exported to `site`.
fn verify(site: &Path, cases: &[(&str, &str, &str)]) -> Value {
    let cases: Vec<Value> = cases
        .iter()
        .map(|(name, token, audience)| json!({"name": name, "token": token, "audience": audience}))
        .collect();
    let jwks = site.join(".well-known/jwks.json");
    let out = python(
        &[jwks.to_str().unwrap(), ISSUER_URL],
        &Value::Array(cases).to_string(),
    );
    serde_json::from_str(&out).unwrap()
}

fn assert_rejected(results: &Value, name: &str, error: &str) {
    assert_eq!(results[name]["ok"], false, "{name}: {results}");
    assert_eq!(results[name]["error"], error, "{name}: {results}");
}

#[test]
fn pyjwt_accepts_good_tokens_and_rejects_bad_ones() {
    let keys = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    let issuer = Issuer::init(keys.path(), ISSUER_URL).unwrap();
    issuer.export(site.path()).unwrap();
    let now = OffsetDateTime::now_utc();

    let good = issuer.mint("connector-1", AUDIENCE, now).unwrap();
    let expired = issuer
        .mint("connector-1", AUDIENCE, now - Duration::hours(2))
        .unwrap();
    let other_audience = issuer.mint("connector-1", "rampart-servers", now).unwrap();

    // A different issuer's key, with its own kid…
    let stranger_keys = tempfile::tempdir().unwrap();
    let stranger = Issuer::init(stranger_keys.path(), ISSUER_URL).unwrap();
    let foreign = stranger.mint("connector-1", AUDIENCE, now).unwrap();
    // …and forging our kid in the header (signed by PyJWT with the stranger's key).
    let claims = json!({
        "iss": ISSUER_URL, "sub": "connector-1", "aud": AUDIENCE, "jti": "forged",
        "iat": now.unix_timestamp(), "nbf": now.unix_timestamp(),
        "exp": (now + TOKEN_LIFETIME).unix_timestamp(),
    });
    let stranger_pem = key_path(stranger_keys.path(), stranger.signing_kid());
    let forged = python(
        &[
            "forge",
            stranger_pem.to_str().unwrap(),
            issuer.signing_kid(),
        ],
        &claims.to_string(),
    );
    // A genuine token whose claims were edited after signing.
    let mut parts: Vec<String> = good.token.split('.').map(str::to_owned).collect();
    parts[1] = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
        claims["sub"] = json!("connector-2");
        engine.encode(claims.to_string())
    };
    let tampered = parts.join(".");

    let results = verify(
        site.path(),
        &[
            ("good", &good.token, AUDIENCE),
            ("expired", &expired.token, AUDIENCE),
            ("wrong audience", &good.token, "rampart-servers"),
            ("other plan's token", &other_audience.token, AUDIENCE),
            ("foreign key", &foreign.token, AUDIENCE),
            ("forged kid", &forged, AUDIENCE),
            ("tampered", &tampered, AUDIENCE),
        ],
    );
    assert_eq!(results["good"]["ok"], true, "{results}");
    let claims = &results["good"]["claims"];
    assert_eq!(claims["iss"], ISSUER_URL);
    assert_eq!(claims["sub"], "connector-1");
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["jti"], good.jti.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_rejected(&results, "expired", "ExpiredSignatureError");
    assert_rejected(&results, "wrong audience", "InvalidAudienceError");
    assert_rejected(&results, "other plan's token", "InvalidAudienceError");
    assert_rejected(&results, "foreign key", "InvalidSignatureError");
    assert_rejected(&results, "forged kid", "InvalidSignatureError");
    assert_rejected(&results, "tampered", "InvalidSignatureError");
}

#[test]
fn after_rotation_old_and_new_tokens_both_validate() {
    let keys = tempfile::tempdir().unwrap();
    let mut issuer = Issuer::init(keys.path(), ISSUER_URL).unwrap();
    let now = OffsetDateTime::now_utc();
    let before = issuer.mint("connector-1", AUDIENCE, now).unwrap();
    let old_kid = issuer.signing_kid().to_owned();
    issuer.rotate(now).unwrap();
    let after = issuer.mint("connector-1", AUDIENCE, now).unwrap();
    assert_ne!(before.kid, after.kid);

    // Reopen as a later command would, then publish.
    let reopened = Issuer::open(keys.path()).unwrap();
    let site = tempfile::tempdir().unwrap();
    reopened.export(site.path()).unwrap();
    let results = verify(
        site.path(),
        &[
            ("old key", &before.token, AUDIENCE),
            ("new key", &after.token, AUDIENCE),
        ],
    );
    assert_eq!(results["old key"]["ok"], true, "{results}");
    assert_eq!(results["new key"]["ok"], true, "{results}");

    // Once the old key's tokens have expired it leaves the JWKS, and its
    // tokens no longer validate against the published set.
    let later = now + Duration::hours(2);
    let pruned = Issuer::open_at(keys.path(), later).unwrap();
    assert!(!key_path(keys.path(), &old_kid).exists());
    let jwks = pruned.jwks_at(later);
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join(".well-known")).unwrap();
    std::fs::write(site.path().join(".well-known/jwks.json"), jwks.to_string()).unwrap();
    let fresh = pruned
        .mint("connector-1", AUDIENCE, OffsetDateTime::now_utc())
        .unwrap();
    let results = verify(
        site.path(),
        &[
            ("old key", &before.token, AUDIENCE),
            ("fresh", &fresh.token, AUDIENCE),
        ],
    );
    assert_rejected(&results, "old key", "InvalidSignatureError");
    assert_eq!(results["fresh"]["ok"], true, "{results}");
}
