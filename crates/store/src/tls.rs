//! TLS to PostgreSQL, as libpq's `sslmode` and `sslrootcert` say, over
//! rustls (no system OpenSSL).
//!
//! | `sslmode` | encrypted | server certificate |
//! | --- | --- | --- |
//! | `disable` | no | — |
//! | `prefer` (the default) | when the server offers TLS | not checked |
//! | `require` | yes | not checked (checked as `verify-ca` when `sslrootcert` is given, as libpq does) |
//! | `verify-ca` | yes | signed by a root of `sslrootcert` |
//! | `verify-full` | yes | signed by a root of `sslrootcert` and issued for the URL's host |
//!
//! `sslrootcert` is a PEM file of trusted roots, or `system` for the
//! operating system's roots; without it, `verify-ca` and `verify-full` use
//! `~/.postgresql/root.crt` as libpq does. Both parameters are taken out of
//! the URL before it reaches the driver, which knows neither `verify-*`
//! nor `sslrootcert`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::db::DbError;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text.
    Disable,
    /// TLS when the server offers it, certificate unchecked.
    Prefer,
    /// TLS, certificate unchecked.
    Require,
    /// TLS, certificate signed by a trusted root.
    VerifyCa,
    /// TLS, certificate signed by a trusted root and issued for the host.
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<Self, DbError> {
        Ok(match text {
            "disable" => Self::Disable,
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(DbError::Tls(format!(
                    "unknown `sslmode` `{other}` (one of disable, prefer, require, verify-ca, verify-full)"
                )));
            }
        })
    }

    /// What the driver's own `sslmode` must say.
    fn driver(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require | Self::VerifyCa | Self::VerifyFull => "require",
        }
    }
}

/// A connection URL's TLS settings, and the URL as the driver takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The mode.
    pub mode: SslMode,
    /// `sslrootcert`: a PEM file, or `system`.
    pub root_cert: Option<String>,
    /// The URL without `sslrootcert`, with the driver's `sslmode`.
    pub url: String,
}

impl TlsSettings {
    /// Reads `sslmode` and `sslrootcert` out of a `postgres://` URL.
    pub fn of_url(url: &str) -> Result<Self, DbError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = SslMode::Prefer;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            // One pair, decoded as a query string is (`%XX`, `+`).
            let Some((key, value)) = form_urlencoded::parse(pair.as_bytes()).next() else {
                continue;
            };
            match key.as_ref() {
                "sslmode" => mode = SslMode::parse(&value)?,
                "sslrootcert" => root_cert = Some(value.into_owned()),
                _ => kept.push(pair),
            }
        }
        kept.push(match mode.driver() {
            "disable" => "sslmode=disable",
            "prefer" => "sslmode=prefer",
            _ => "sslmode=require",
        });
        // libpq: `require` with a root certificate checks the chain.
        if mode == SslMode::Require && root_cert.is_some() {
            mode = SslMode::VerifyCa;
        }
        Ok(Self {
            mode,
            root_cert,
            url: format!("{base}?{}", kept.join("&")),
        })
    }

    /// The trusted roots for `verify-ca` and `verify-full`.
    fn roots(&self) -> Result<RootCertStore, DbError> {
        let mut roots = RootCertStore::empty();
        if self.root_cert.as_deref() == Some("system") {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A system root rustls cannot parse is skipped, as libpq's
                // OpenSSL would ignore it.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(DbError::Tls(
                    "`sslrootcert=system`: no root certificates found on this system".to_owned(),
                ));
            }
            return Ok(roots);
        }
        let path = match &self.root_cert {
            Some(file) => PathBuf::from(file),
            None => default_root_cert().ok_or_else(|| {
                DbError::Tls(format!(
                    "`sslmode` `{}` needs trusted roots: give `sslrootcert` (a PEM file, or `system`) in the URL",
                    self.mode_name()
                ))
            })?,
        };
        let certs = read_certs(&path)?;
        for cert in certs {
            roots.add(cert).map_err(|e| {
                DbError::Tls(format!(
                    "`sslrootcert` `{}`: unusable certificate: {e}",
                    path.display()
                ))
            })?;
        }
        Ok(roots)
    }

    fn mode_name(&self) -> &'static str {
        match self.mode {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// libpq's default root file, `~/.postgresql/root.crt`, when it exists.
fn default_root_cert() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".postgresql").join("root.crt");
    path.is_file().then_some(path)
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, DbError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        DbError::Tls(format!(
            "cannot read `sslrootcert` `{}`: {e}",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if certs.is_empty() {
        return Err(unreadable(&"no PEM certificate in it"));
    }
    Ok(certs)
}

/// Connects to `url` with the TLS its `sslmode` asks for.
pub(crate) fn connect(url: &str) -> Result<postgres::Client, DbError> {
    let settings = TlsSettings::of_url(url)?;
    if settings.mode == SslMode::Disable {
        return postgres::Client::connect(&settings.url, postgres::NoTls)
            .map_err(|e| DbError::postgres(&e));
    }
    let tls = RustlsConnect::new(&settings)?;
    postgres::Client::connect(&settings.url, tls).map_err(|e| DbError::postgres(&e))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Accepts any certificate (`prefer`, `require`): the connection is
/// encrypted, the server not authenticated. Handshake signatures are still
/// checked.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Checks the chain but not the host name (`verify-ca`).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The driver's TLS connector over rustls.
#[derive(Clone)]
struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
}

impl RustlsConnect {
    fn new(settings: &TlsSettings) -> Result<Self, DbError> {
        let provider = provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| DbError::Tls(format!("tls setup: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match settings.mode {
            SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(Unchecked(provider)),
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let webpki = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(settings.roots()?),
                    provider,
                )
                .build()
                .map_err(|e| DbError::Tls(format!("tls setup: {e}")))?;
                if settings.mode == SslMode::VerifyCa {
                    Arc::new(ChainOnly(webpki))
                } else {
                    webpki
                }
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnector;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnector, Self::Error> {
        Ok(RustlsConnector {
            config: self.config.clone(),
            name: ServerName::try_from(domain.to_owned())?,
        })
    }
}

/// Connects one stream.
pub(crate) struct RustlsConnector {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move {
            let tls = connector.connect(self.name, stream).await?;
            Ok(RustlsStream(Box::new(tls)))
        })
    }
}

/// A TLS stream to the server.
pub(crate) struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM channel binding is not offered; the driver then
        // authenticates without it (its default, `prefer`).
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_parameters_are_read_and_the_driver_gets_a_mode_it_knows() {
        let s = TlsSettings::of_url(
            "postgres://u@db:5432/r?options=-csearch_path%3Dx&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(
            s.url,
            "postgres://u@db:5432/r?options=-csearch_path%3Dx&sslmode=require"
        );
        let plain = TlsSettings::of_url("postgres://u@db/r").unwrap();
        assert_eq!(
            (plain.mode, plain.url.as_str()),
            (SslMode::Prefer, "postgres://u@db/r?sslmode=prefer")
        );
        let disabled = TlsSettings::of_url("postgres://u@db/r?sslmode=disable").unwrap();
        assert_eq!(disabled.mode, SslMode::Disable);
        // libpq: `require` with roots checks the chain.
        let require =
            TlsSettings::of_url("postgres://u@db/r?sslmode=require&sslrootcert=ca.pem").unwrap();
        assert_eq!(require.mode, SslMode::VerifyCa);
        let err = TlsSettings::of_url("postgres://u@db/r?sslmode=sometimes").unwrap_err();
        assert!(
            err.to_string().contains("unknown `sslmode` `sometimes`"),
            "{err}"
        );
    }

    #[test]
    fn verifying_modes_need_readable_roots() {
        let missing = TlsSettings::of_url(
            "postgres://u@db/r?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        )
        .unwrap();
        let err = RustlsConnect::new(&missing).err().unwrap();
        assert!(
            err.to_string()
                .contains("cannot read `sslrootcert` `/nonexistent/ca.pem`"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let url = format!(
            "postgres://u@db/r?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        );
        let err = RustlsConnect::new(&TlsSettings::of_url(&url).unwrap())
            .err()
            .unwrap();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }
}
