//! Keystone behind TLS: a TLS terminator started here (certificate made with the
//! `openssl` command at run time) forwards to the test-bed Keystone. The
//! validator must trust it only through `cafile`, or with `insecure = true`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use glance_auth::keystone::{KeystoneAuth, KeystoneError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::*;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A test CA and a server certificate for 127.0.0.1 signed by it, made with the
/// `openssl` command in `dir`: (ca.pem, server.pem, server-key.pem). (webpki
/// refuses a self-signed CA certificate as the server's own.)
fn test_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the openssl command is needed to make test certificates");
        assert!(status.success(), "openssl {args:?} failed");
    };
    std::fs::write(p("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server-key.pem",
        "-out",
        "server.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ]);
    (p("ca.pem"), p("server.pem"), p("server-key.pem"))
}

/// Terminates TLS on a free port and forwards the plain bytes to Keystone.
async fn tls_front(keystone_url: &str, cert: &Path, key: &Path) -> String {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let target = keystone_url.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let (acceptor, target) = (acceptor.clone(), target.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(inbound).await else {
                    return; // the client refused our certificate
                };
                if let Ok(mut plain) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn https_keystone_is_trusted_through_cafile_or_insecure_only() {
    let url = keystone_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki(dir.path());
    let front = tls_front(&url, &cert, &key).await;
    let user = issue(&url, "demo", Scope::Project("demo")).await;

    // With the certificate in cafile: validated over TLS.
    let trusted = auth_with(&front, &front, |c| c.cafile = Some(ca.clone()));
    let ctx = accept(&trusted, &user.token, None).await;
    assert_eq!(ctx.project_id, user.project_id);

    // Without it the server is unknown: nothing can be validated (503), never 200.
    let untrusted = auth_with(&front, &front, |_| {});
    let err = refuse(&untrusted, &user.token, None).await;
    assert!(matches!(err, KeystoneError::Unavailable(_)), "{err:?}");

    // insecure = true skips verification, as keystonemiddleware's option does.
    let insecure = auth_with(&front, &front, |c| c.insecure = true);
    accept(&insecure, &user.token, None).await;
}

#[tokio::test]
async fn a_bad_cafile_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("junk.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    for cafile in [dir.path().join("missing.pem"), not_pem] {
        let mut c = config("https://127.0.0.1:5000", "https://127.0.0.1:5000");
        c.cafile = Some(cafile.clone());
        let err = KeystoneAuth::new(c)
            .err()
            .expect("started with a bad cafile");
        assert_eq!(err.option, "cafile", "{err}");
        assert!(
            err.to_string().contains(&cafile.display().to_string()),
            "{err}"
        );
    }
}
