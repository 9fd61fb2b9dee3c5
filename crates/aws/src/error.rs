//! Errors of the AWS access layer, and the classification of failed calls
//! into coverage gaps.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rampart_model::GapKind;

/// What can go wrong before a scan starts collecting.
///
/// Messages follow one style: lower case, values in backticks, no trailing
/// period, and say what to do where that is known.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The endpoint URL is not a usable http(s) URL.
    #[error("malformed endpoint URL `{url}`: {reason}")]
    MalformedEndpoint {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A region name is not a region the endpoint knows.
    #[error("unknown region `{region}` (known regions: {known})")]
    UnknownRegion {
        /// The region as given.
        region: String,
        /// Comma-separated list of the regions the endpoint reports.
        known: String,
    },
    /// A region name is not even shaped like one.
    #[error("malformed region `{0}`: expected a region code such as `us-east-1`")]
    MalformedRegion(String),
    /// No credentials could be found or they were rejected.
    #[error("credentials rejected or missing: {0}")]
    Credentials(String),
    /// The endpoint could not be reached at all.
    #[error("cannot reach AWS at `{endpoint}`: {reason}")]
    Unreachable {
        /// The endpoint tried.
        endpoint: String,
        /// The underlying error, one line.
        reason: String,
    },
    /// Region discovery failed.
    #[error("cannot list regions: {0}")]
    RegionDiscovery(String),
    /// A credential source is malformed (role ARN, session name, keys).
    #[error("invalid credential source: {0}")]
    CredentialSource(String),
    /// The named profile does not exist in the shared config files.
    #[error("no profile `{name}` in `{config}` or `{credentials}`{hint}")]
    UnknownProfile {
        /// The profile asked for (`--profile` or AWS_PROFILE).
        name: String,
        /// The config file looked in (AWS_CONFIG_FILE or ~/.aws/config).
        config: String,
        /// The credentials file looked in (AWS_SHARED_CREDENTIALS_FILE or
        /// ~/.aws/credentials).
        credentials: String,
        /// `; did you mean …`, the profiles there are, or that the files
        /// do not exist.
        hint: String,
    },
}

/// A failed AWS call, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    /// Why it failed.
    pub kind: GapKind,
    /// The error code AWS returned, if any (`AccessDenied`, `NoSuchBucketPolicy`).
    pub code: Option<String>,
    /// One line describing the failure.
    pub message: String,
}

impl CallFailure {
    /// Whether the service returned this error code.
    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Error codes meaning the caller is not allowed.
const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "AWSOrganizationsNotInUseException",
];

/// Error codes meaning the region is not enabled for the account.
const REGION_DISABLED_CODES: &[&str] = &["OptInRequired", "SubscriptionRequiredException"];

/// Error codes meaning throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// Classifies a failed SDK call.
pub fn classify<E>(err: &SdkError<E, Response>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // The gap's message is one readable line; the raw error stays
    // available behind `-v`.
    tracing::info!("AWS call failed: {err:?}");
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().map(str::to_owned);
            let status = service.raw().status().as_u16();
            let message = match (code.as_deref(), inner.message()) {
                (Some(code), Some(text)) => one_line(&format!("{code}: {text}")),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                (None, Some(text)) => one_line(&format!("HTTP {status}: {text}")),
                (None, None) => one_line(&format!(
                    "unparseable response (HTTP {status}): {}",
                    error_chain(inner)
                )),
            };
            let html_body = service
                .raw()
                .body()
                .bytes()
                .map(|b| {
                    let head = String::from_utf8_lossy(b.get(..64).unwrap_or(b)).to_lowercase();
                    head.trim_start().starts_with("<!doctype html")
                        || head.trim_start().starts_with("<html")
                })
                .unwrap_or(false);
            if code.is_none() && html_body {
                return CallFailure {
                    kind: if status >= 500 || status == 404 {
                        GapKind::NotImplemented
                    } else {
                        GapKind::Other
                    },
                    code: None,
                    message: format!(
                        "HTTP {status} with an HTML body instead of an AWS error (the endpoint does not implement this call)"
                    ),
                };
            }
            let kind = match code.as_deref() {
                Some(c) if ACCESS_DENIED_CODES.contains(&c) => GapKind::AccessDenied,
                Some(c) if REGION_DISABLED_CODES.contains(&c) => GapKind::RegionDisabled,
                Some(c) if THROTTLING_CODES.contains(&c) => GapKind::Throttled,
                Some("NotImplemented" | "InternalFailure") => GapKind::NotImplemented,
                _ if status == 403 => GapKind::AccessDenied,
                _ if status == 429 => GapKind::Throttled,
                _ if status == 404 || status == 501 => GapKind::NotImplemented,
                _ => GapKind::Other,
            };
            CallFailure {
                kind,
                code,
                message,
            }
        }
        SdkError::TimeoutError(_) => CallFailure {
            kind: GapKind::Timeout,
            code: None,
            message: "timed out".to_owned(),
        },
        SdkError::DispatchFailure(dispatch) => {
            let kind = if dispatch.is_timeout() {
                GapKind::Timeout
            } else {
                GapKind::Unreachable
            };
            CallFailure {
                kind,
                code: None,
                message: one_line(&format!("connection failed: {}", error_chain(err))),
            }
        }
        SdkError::ResponseError(response) => {
            let raw = response.raw();
            let status = raw.status().as_u16();
            let body = raw
                .body()
                .bytes()
                .map(|b| String::from_utf8_lossy(b).to_lowercase())
                .unwrap_or_default();
            let kind = if status == 404
                || status == 501
                || body.contains("not yet implemented")
                || body.contains("notimplemented")
            {
                GapKind::NotImplemented
            } else if status == 429 || status == 503 {
                GapKind::Throttled
            } else if status == 403 {
                GapKind::AccessDenied
            } else {
                GapKind::Other
            };
            CallFailure {
                kind,
                code: None,
                message: format!("unparseable response (HTTP {status})"),
            }
        }
        _ => CallFailure {
            kind: GapKind::Other,
            code: None,
            message: one_line(&error_chain(err)),
        },
    }
}

/// The error and its sources joined with `: `, for people: a part that is
/// a Rust debug dump (`ProviderError { source: … }`) is left out — the
/// raw error is logged at info level (`-v`) by [`classify`].
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let part = next.to_string();
        if !text.contains(&part) && !looks_like_debug(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = next.source();
    }
    text
}

/// Whether `text` reads like `{:?}` output rather than a message:
/// `Name { field: … }`, `Name(…)` or `Some(…)`.
fn looks_like_debug(text: &str) -> bool {
    let text = text.trim();
    let ident_len = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .count();
    let starts_upper = text.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let rest = text.get(ident_len..).unwrap_or_default();
    (starts_upper && ident_len > 0 && (rest.starts_with(" { ") || rest.starts_with('(')))
        || text.contains("Some(")
        || text.contains(": Some")
}

/// Collapses whitespace and newlines into single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(code: &str, status: u16) -> SdkError<GetBucketPolicyError, Response> {
        let meta = ErrorMetadata::builder().code(code).message("nope").build();
        let raw = Response::new(
            StatusCode::try_from(status).unwrap_or_else(|_| StatusCode::try_from(500).unwrap()),
            SdkBody::empty(),
        );
        SdkError::service_error(GetBucketPolicyError::generic(meta), raw)
    }

    #[test]
    fn classifies_service_errors() {
        assert_eq!(
            classify(&service_error("AccessDenied", 403)).kind,
            GapKind::AccessDenied
        );
        assert_eq!(
            classify(&service_error("OptInRequired", 401)).kind,
            GapKind::RegionDisabled
        );
        assert_eq!(
            classify(&service_error("SlowDown", 503)).kind,
            GapKind::Throttled
        );
        assert_eq!(classify(&service_error("Weird", 400)).kind, GapKind::Other);
        let failure = classify(&service_error("AccessDenied", 403));
        assert_eq!(failure.message, "AccessDenied: nope");
        assert!(failure.is_code("AccessDenied"));
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn error_chains_leave_debug_dumps_out() {
        let err = Layer(
            "failed to construct request",
            Some(Box::new(Layer(
                "ProviderError { source: ProfileFileError { path: Some(\"x\") } }",
                Some(Box::new(Layer("no profile named `audit`", None))),
            ))),
        );
        assert_eq!(
            error_chain(&err),
            "failed to construct request: no profile named `audit`"
        );
        assert!(looks_like_debug(
            "DispatchFailure(ConnectorError { kind: Io })"
        ));
        assert!(!looks_like_debug("Connection refused (os error 111)"));
        assert!(!looks_like_debug("AccessDenied: User is not authorized"));
    }

    #[test]
    fn classifies_unparseable_html_500_as_gap_with_status() {
        let raw = Response::new(
            StatusCode::try_from(500).unwrap(),
            SdkBody::from("<html>The method is not yet implemented</html>"),
        );
        let err: SdkError<GetBucketPolicyError, Response> =
            SdkError::response_error("unparseable", raw);
        let failure = classify(&err);
        assert_eq!(failure.kind, GapKind::NotImplemented);
        assert_eq!(failure.message, "unparseable response (HTTP 500)");
    }
}
