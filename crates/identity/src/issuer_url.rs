//! Validation and normalization of the public issuer URL.

use url::{Host, Url};

use crate::IdentityError;

/// IAM's limit on an OIDC provider URL.
const MAX_LEN: usize = 255;

/// Checks an issuer URL and returns it normalized (no trailing slash).
///
/// IAM requires `https://` with an optional path and no query, fragment or
/// port. `http://` is accepted only for a loopback host (`localhost`,
/// `127.0.0.0/8`, `::1`, any port), for local testing with `rampart serve`:
/// AWS itself never accepts such an issuer.
pub fn normalize_issuer_url(raw: &str) -> Result<String, IdentityError> {
    let refuse = |reason: &str| IdentityError::InvalidIssuerUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| refuse(&e.to_string()))?;
    let host = url.host().ok_or_else(|| refuse("no host"))?;
    match url.scheme() {
        "https" => {
            if url.port().is_some() {
                return Err(refuse("IAM does not accept a port in an OIDC provider URL"));
            }
        }
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(refuse(
                "must use https (http is accepted for localhost only, for testing)",
            ));
        }
        _ => return Err(refuse("must use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not contain user information"));
    }
    if url.query().is_some() {
        return Err(refuse("must not contain a query"));
    }
    if url.fragment().is_some() {
        return Err(refuse("must not contain a fragment"));
    }
    let normalized = url.as_str().trim_end_matches('/').to_owned();
    if normalized.len() > MAX_LEN {
        return Err(refuse("longer than 255 characters"));
    }
    Ok(normalized)
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a failure should stop the test"
    )]

    use super::*;

    #[test]
    fn accepts_and_normalizes_https() {
        for (raw, want) in [
            ("https://id.example.com", "https://id.example.com"),
            ("https://id.example.com/", "https://id.example.com"),
            (
                "https://ID.Example.com/rampart/",
                "https://id.example.com/rampart",
            ),
            (
                "https://id.example.com:443/a/b",
                "https://id.example.com/a/b",
            ),
            ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
            ("http://localhost:9000", "http://localhost:9000"),
        ] {
            assert_eq!(normalize_issuer_url(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn refuses_what_iam_refuses() {
        for (raw, reason) in [
            ("http://id.example.com", "must use https"),
            ("ftp://id.example.com", "must use https"),
            ("https://id.example.com:8443", "port"),
            ("https://id.example.com/?a=1", "query"),
            ("https://id.example.com/#x", "fragment"),
            ("https://u:p@id.example.com", "user information"),
            ("id.example.com", "relative URL"),
        ] {
            let err = normalize_issuer_url(raw).unwrap_err().to_string();
            assert!(err.contains(reason), "{raw}: {err}");
            assert!(err.contains(&format!("`{raw}`")), "{raw}: {err}");
        }
        let long = format!("https://id.example.com/{}", "a".repeat(240));
        assert!(normalize_issuer_url(&long).is_err());
    }
}
