//! TLS towards Keystone: the system's trusted certificates plus `cafile`, or no
//! verification at all with `insecure = true` (keystonemiddleware's options).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::config::KeystoneConfigError;

/// The client configuration for `https://` Keystone URLs.
pub(crate) fn client_config(
    cafile: Option<&Path>,
    insecure: bool,
) -> Result<ClientConfig, KeystoneConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| error("cafile", format!("TLS setup failed: {e}")))?;
    if insecure {
        tracing::warn!(
            "[keystone_authtoken] insecure = true: Keystone's certificate is not verified"
        );
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are not fatal: `cafile` may be all there is.
    let native = rustls_native_certs_or_empty();
    roots.add_parsable_certificates(native);
    if let Some(path) = cafile {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| error("cafile", format!("cannot read {}: {e}", path.display())))?
            .collect::<Result<_, _>>()
            .map_err(|e| error("cafile", format!("{} is not PEM: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(error(
                "cafile",
                format!("{} holds no certificate", path.display()),
            ));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                error(
                    "cafile",
                    format!("{}: unusable certificate: {e}", path.display()),
                )
            })?;
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

fn rustls_native_certs_or_empty() -> Vec<CertificateDer<'static>> {
    let result = rustls_native_certs::load_native_certs();
    for e in &result.errors {
        tracing::debug!(error = %e, "skipping unreadable system certificates");
    }
    result.certs
}

fn error(option: &'static str, message: String) -> KeystoneConfigError {
    KeystoneConfigError { option, message }
}

/// `insecure = true`: any certificate is accepted; signatures are still checked so
/// the handshake itself stays sound.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
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
        rustls::crypto::verify_tls12_signature(
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
        rustls::crypto::verify_tls13_signature(
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
