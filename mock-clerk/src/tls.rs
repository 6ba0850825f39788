//! The Frontend API over TLS, for apps that keep a plain publishable key: the SDK then sends browsers to
//! `https://<frontend host>/v1/client/handshake` (`packages/backend/src/tokens/handshake.ts`: https is added
//! when the Frontend API value has no scheme). mock-clerk answers TLS and plain HTTP on the same port — the
//! first byte of a connection tells which ([`crate::serving`]) — so the Backend API stays on `http://` at the
//! same address. The certificate is self-signed and generated at start.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("cannot generate the self-signed certificate: {0}")]
    CertificateGeneration(String),
    /// rustls refused the configuration.
    #[error("TLS configuration rejected: {0}")]
    Config(String),
}

/// A self-signed certificate and the acceptor that presents it.
#[derive(Clone)]
pub struct TlsIdentity {
    cert_pem: String,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A certificate for `host` (the frontend host without port) plus `127.0.0.1` and `localhost`.
    pub fn self_signed(host: &str) -> Result<Self, TlsError> {
        let mut names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        if !names.iter().any(|n| n == host) {
            names.push(host.to_owned());
        }
        let certified = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::CertificateGeneration(e.to_string()))?;
        let cert_pem = certified.cert.pem();
        let cert = CertificateDer::from(certified.cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { cert_pem, acceptor: TlsAcceptor::from(Arc::new(config)) })
    }

    /// The acceptor presenting the certificate (`serving` uses it for connections that start a TLS handshake).
    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// The certificate, PEM: trust it in a browser, or give it to Node with `NODE_EXTRA_CA_CERTS`.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
}
