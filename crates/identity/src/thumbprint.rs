//! The certificate thumbprint IAM's OIDC provider wants (`ThumbprintList`).

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use url::{Host, Url};

use crate::IdentityError;

/// How long [`thumbprint`] waits for the host (connect, then handshake).
pub const THUMBPRINT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SHA-1 (40 lower-case hex digits) of the last certificate in the chain
/// the host of `url` presents over TLS: what IAM's
/// `CreateOpenIDConnectProvider` takes as `ThumbprintList`.
pub fn thumbprint(url: &str) -> Result<String, IdentityError> {
    thumbprint_with_timeout(url, THUMBPRINT_TIMEOUT)
}

/// [`thumbprint`] with an explicit timeout for the connection and for each
/// read and write of the handshake.
pub fn thumbprint_with_timeout(url: &str, timeout: Duration) -> Result<String, IdentityError> {
    let fail = |reason: String| IdentityError::Thumbprint {
        url: url.to_owned(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| fail(e.to_string()))?;
    let port = parsed.port().unwrap_or(443);
    let (server_name, addrs): (ServerName<'static>, Vec<SocketAddr>) = match parsed.host() {
        Some(Host::Domain(domain)) => (
            ServerName::try_from(domain.to_owned()).map_err(|e| fail(e.to_string()))?,
            (domain, port)
                .to_socket_addrs()
                .map_err(|e| fail(format!("cannot resolve `{domain}`: {e}")))?
                .collect(),
        ),
        Some(Host::Ipv4(ip)) => (ServerName::IpAddress(ip.into()), vec![(ip, port).into()]),
        Some(Host::Ipv6(ip)) => (ServerName::IpAddress(ip.into()), vec![(ip, port).into()]),
        None => return Err(fail("no host".to_owned())),
    };
    let chain = read_chain(server_name, &addrs, timeout).map_err(|e| fail(e.to_string()))?;
    let last = chain
        .last()
        .ok_or_else(|| fail("the host presented no certificate".to_owned()))?;
    Ok(sha1_hex(last))
}

/// SHA-1 of `der`, lower-case hex.
pub(crate) fn sha1_hex(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn read_chain(
    server_name: ServerName<'static>,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> io::Result<Vec<CertificateDer<'static>>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(ChainReader {
        algorithms: provider.signature_verification_algorithms,
    });
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let mut conn =
        ClientConnection::new(Arc::new(config), server_name).map_err(io::Error::other)?;
    let mut socket = connect(addrs, timeout)?;
    socket.set_read_timeout(Some(timeout))?;
    socket.set_write_timeout(Some(timeout))?;
    let deadline = Instant::now() + timeout;
    while conn.is_handshaking() {
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the TLS handshake timed out",
            ));
        }
        let (read, written) = conn.complete_io(&mut socket)?;
        if read == 0 && written == 0 && conn.is_handshaking() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the host closed the connection during the TLS handshake",
            ));
        }
    }
    let chain = conn
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    conn.send_close_notify();
    let _ = conn.complete_io(&mut socket);
    Ok(chain)
}

fn connect(addrs: &[SocketAddr], timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address for the host");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(socket) => return Ok(socket),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A verifier that accepts any certificate chain: the thumbprint is read, not
/// trusted. IAM pins what we print and the operator compares it with the
/// host they control; this connection carries no secret and no decision
/// relies on it. Handshake signatures are still checked, so the host must
/// hold the key of the certificate it presents.
#[derive(Debug)]
struct ChainReader {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ChainReader {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
