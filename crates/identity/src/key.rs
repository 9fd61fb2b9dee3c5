//! One RSA signing key: generation, PKCS#8 PEM storage, its public JWK and
//! its key id.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::IdentityError;

/// Size of the keys `init` and `rotate` generate.
pub const KEY_BITS: usize = 2048;
/// The smallest key a stored issuer may use.
const MIN_KEY_BITS: usize = 2048;

const PEM_LABEL: &str = "PRIVATE KEY";

/// An RSA private key with its key id. `Debug` shows the key id and size only.
pub(crate) struct SigningKey {
    kid: String,
    pair: KeyPair,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key of [`KEY_BITS`] bits.
    pub(crate) fn generate() -> Result<Self, IdentityError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| IdentityError::Crypto("RSA key generation failed"))?;
        Self::from_pair(pair).map_err(IdentityError::Crypto)
    }

    /// Parses a PKCS#8 PEM private key.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, &'static str> {
        let der = pem_decode(pem)?;
        let pair = KeyPair::from_pkcs8(&der).map_err(|_| "not an RSA PKCS#8 private key")?;
        let key = Self::from_pair(pair)?;
        if key.bits() < MIN_KEY_BITS {
            return Err("the RSA key is shorter than 2048 bits");
        }
        Ok(key)
    }

    fn from_pair(pair: KeyPair) -> Result<Self, &'static str> {
        let (n, e) = rsa_public_key_components(pair.public_key().as_ref())
            .ok_or("unreadable RSA public key")?;
        let kid = jwk_thumbprint(&n, &e);
        Ok(Self { kid, pair, n, e })
    }

    /// The private key as PKCS#8 PEM (for the key file only).
    pub(crate) fn to_pem(&self) -> Result<String, IdentityError> {
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(&self.pair)
            .map_err(|_| IdentityError::Crypto("cannot serialize the private key"))?;
        Ok(pem_encode(PEM_LABEL, der.as_ref()))
    }

    /// The key id: the RFC 7638 JWK thumbprint (base64url SHA-256).
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// Modulus size in bits.
    pub(crate) fn bits(&self) -> usize {
        let leading = self.n.first().map_or(0, |b| b.leading_zeros() as usize);
        (self.n.len() * 8).saturating_sub(leading)
    }

    /// The public key as a JWK for the JWKS.
    pub(crate) fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
        })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`) over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IdentityError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| IdentityError::Crypto("RS256 signing failed"))?;
        Ok(signature)
    }
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no
/// whitespace, base64url without padding.
fn jwk_thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(e),
        URL_SAFE_NO_PAD.encode(n)
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Reads `n` and `e` (big-endian, no leading zeros) from a DER PKCS#1
/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key_components(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (0x30, body, []) = read_tlv(der)? else {
        return None;
    };
    let (0x02, n, rest) = read_tlv(body)? else {
        return None;
    };
    let (0x02, e, []) = read_tlv(rest)? else {
        return None;
    };
    let strip = |v: &[u8]| -> Vec<u8> {
        let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        v.get(start..).unwrap_or_default().to_vec()
    };
    let (n, e) = (strip(n), strip(e));
    (!n.is_empty() && !e.is_empty()).then_some((n, e))
}

/// One DER tag-length-value: `(tag, value, rest)`.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(count)?;
        let len = bytes
            .iter()
            .fold(0_usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    let (value, rest) = rest.split_at_checked(len)?;
    Some((tag, value, rest))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for (i, c) in body.chars().enumerate() {
        if i > 0 && i % 64 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    out.push_str(&format!("\n-----END {label}-----\n"));
    out
}

fn pem_decode(pem: &str) -> Result<Vec<u8>, &'static str> {
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let (_, after) = pem.split_once(&begin).ok_or("no PKCS#8 PEM header")?;
    let (body, _) = after.split_once(&end).ok_or("no PKCS#8 PEM footer")?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map_err(|_| "the PEM body is not base64")
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failure should stop the test"
    )]

    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_kid_and_the_key() {
        let key = SigningKey::generate().unwrap();
        assert_eq!(key.bits(), KEY_BITS);
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        let again = SigningKey::from_pem(&pem).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.public_jwk(), key.public_jwk());
        assert_eq!(again.sign(b"x").unwrap(), key.sign(b"x").unwrap());
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 7638 §3.1 example key and its published thumbprint.
        let n = URL_SAFE_NO_PAD
            .decode(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            )
            .unwrap();
        let e = URL_SAFE_NO_PAD.decode("AQAB").unwrap();
        assert_eq!(
            jwk_thumbprint(&n, &e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn jwk_has_the_public_members_only() {
        let key = SigningKey::generate().unwrap();
        let jwk = key.public_jwk();
        let mut members: Vec<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        members.sort_unstable();
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["kid"], key.kid());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = SigningKey::generate().unwrap();
        let debug = format!("{key:?}");
        let jwk = key.public_jwk();
        let pem = key.to_pem().unwrap();
        let pem_body: String = pem.lines().nth(1).unwrap().to_owned();
        assert!(debug.contains(key.kid()), "{debug}");
        assert!(!debug.contains(&pem_body[..32]), "{debug}");
        assert!(
            !debug.contains(&jwk["n"].as_str().unwrap()[..32]),
            "{debug}"
        );
        assert!(!debug.to_lowercase().contains("private"), "{debug}");
    }

    #[test]
    fn malformed_pem_and_der_are_refused() {
        assert!(SigningKey::from_pem("nonsense").is_err());
        assert!(
            SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
        assert!(rsa_public_key_components(&[0x30, 0x03, 0x02, 0x01, 0x05]).is_none());
        assert!(rsa_public_key_components(&[0x30, 0x81]).is_none());
        assert_eq!(
            rsa_public_key_components(&[0x30, 0x07, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x01, 0x03]),
            Some((vec![0xc1], vec![0x03]))
        );
    }
}
