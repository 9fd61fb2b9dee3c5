//! `thumbprint` against a local TLS server with certificates made by rcgen.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

/// Serves one TLS handshake with `chain` on a loopback port; returns the URL.
fn serve_once(chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> String {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut conn = ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut socket).is_err() {
                return;
            }
        }
        let _ = conn.complete_io(&mut socket);
    });
    format!("https://127.0.0.1:{port}/rampart")
}

fn sha1_hex(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn thumbprint_of_a_self_signed_certificate() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let der = certified.cert.der().clone();
    let url = serve_once(vec![der.clone()], &certified.signing_key);
    let got = rampart_identity::thumbprint(&url).unwrap();
    assert_eq!(got.len(), 40);
    assert!(
        got.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(got, sha1_hex(&der));
}

#[test]
fn thumbprint_is_of_the_last_certificate_in_the_chain() {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let url = serve_once(vec![leaf.der().clone(), ca.der().clone()], &leaf_key);
    let got = rampart_identity::thumbprint(&url).unwrap();
    assert_eq!(got, sha1_hex(ca.der()));
    assert_ne!(got, sha1_hex(leaf.der()));
}

#[test]
fn a_silent_host_times_out() {
    // Accepts the connection but never answers the ClientHello.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_secs(3));
        drop(socket);
    });
    let started = Instant::now();
    let err = rampart_identity::thumbprint_with_timeout(
        &format!("https://127.0.0.1:{port}"),
        Duration::from_millis(500),
    )
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    hold.join().unwrap();
}

#[test]
fn an_unreachable_host_is_an_error() {
    let port = rampart_testkit::free_port();
    let err = rampart_identity::thumbprint(&format!("https://127.0.0.1:{port}")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read the TLS certificate chain of"),
        "{err}"
    );
}
