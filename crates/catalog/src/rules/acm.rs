//! Rules for ACM certificates (FSBP ACM.1, ACM.2). Evaluation has no clock:
//! expiry is measured from the scan time the collector recorded on the
//! certificate (`observedAt`).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

use super::{Outcome, Rule};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "acm-certificate-not-expiring",
        check: not_expiring,
    },
    Rule {
        id: "acm-certificate-rsa-2048",
        check: rsa_2048,
    },
];

/// Security Hub's default `daysToExpiration` for ACM.1.
const DAYS_TO_EXPIRATION: i64 = 30;

/// Not applicable to a certificate deleted while the scan ran.
fn deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The certificate was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

fn date(p: &Props<'_>, path: &str) -> Result<Option<OffsetDateTime>, Unreadable> {
    match p.str(path)? {
        None => Ok(None),
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map(Some)
            .map_err(|e| Unreadable {
                path: path.to_owned(),
                error: format!("`{text}` is not an RFC 3339 date: {e}"),
            }),
    }
}

/// ACM.1: the certificate does not expire within 30 days of the scan.
fn not_expiring(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let Some(not_after) = date(p, "notAfter")? else {
        return Ok(Outcome::not_applicable(format!(
            "The certificate has not been issued (status {}), so it has no expiry date.",
            p.str("status")?.unwrap_or("unknown")
        ))
        .with(p.evidence("status")));
    };
    let Some(observed) = date(p, "observedAt")? else {
        return Err(Unreadable {
            path: "observedAt".to_owned(),
            error: "the scan time was not recorded".to_owned(),
        });
    };
    let left = (not_after - observed).whole_days();
    let kind = match p.str("type")? {
        Some("IMPORTED") => "imported",
        Some("PRIVATE") => "private",
        _ => "ACM-issued",
    };
    Ok(if not_after <= observed {
        Outcome::unhealthy(format!(
            "The {kind} certificate expired on {}; renew or replace it.",
            not_after.date()
        ))
    } else if left < DAYS_TO_EXPIRATION {
        Outcome::unhealthy(format!(
            "The {kind} certificate expires on {}, {left} days after the scan (less than {DAYS_TO_EXPIRATION}); renew it.",
            not_after.date()
        ))
    } else {
        Outcome::healthy(format!(
            "The certificate is valid until {}, {left} days after the scan.",
            not_after.date()
        ))
    }
    .with(p.evidence("notAfter"))
    .with(p.evidence("observedAt"))
    .with(p.evidence("type")))
}

/// ACM.2: RSA keys have at least 2,048 bits.
fn rsa_2048(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let Some(algorithm) = p.str("keyAlgorithm")? else {
        return Err(Unreadable {
            path: "keyAlgorithm".to_owned(),
            error: "the API did not return the key algorithm".to_owned(),
        });
    };
    let Some(bits) = algorithm.strip_prefix("RSA_") else {
        return Ok(Outcome::not_applicable(format!(
            "The certificate's key is `{algorithm}`, not RSA."
        ))
        .with(p.evidence("keyAlgorithm")));
    };
    let Ok(bits) = bits.parse::<u32>() else {
        return Err(Unreadable {
            path: "keyAlgorithm".to_owned(),
            error: format!("cannot read the key length of `{algorithm}`"),
        });
    };
    Ok(Outcome::either(
        bits >= 2048,
        format!("The certificate's RSA key has {bits} bits."),
        format!("The certificate's RSA key has only {bits} bits; replace it with a 2,048-bit or stronger key."),
    )
    .with(p.evidence("keyAlgorithm")))
}
