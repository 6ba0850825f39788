//! The Frontend API over TLS, for apps that keep a plain publishable key: the SDK then sends browsers to
//! `https://<frontend host>/v1/client/handshake` (`packages/backend/src/tokens/handshake.ts`: https is added
//! when the Frontend API value has no scheme). mock-clerk answers TLS and plain HTTP on the same port — the
//! first byte of a connection tells which (0x16 starts a TLS handshake) — so the Backend API stays on
//! `http://` at the same address. The certificate is self-signed and generated at start.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::connect_info::MockConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::server::app;
use crate::state::AppState;

/// The first byte of a TLS ClientHello record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

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

    /// The certificate, PEM: trust it in a browser, or give it to Node with `NODE_EXTRA_CA_CERTS`.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
}

/// Serves `app(state)` on `listener`, speaking TLS to clients that start with a TLS handshake and plain HTTP
/// to the others, until `shutdown` resolves.
pub async fn serve_dual(
    listener: TcpListener,
    state: AppState,
    identity: TlsIdentity,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let router = router.clone();
        let acceptor = identity.acceptor.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, peer, router, acceptor).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    acceptor: TlsAcceptor,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let service = TowerToHyperService::new(router.layer(MockConnectInfo(peer)));
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await?;
    if n == 1 && first[0] == TLS_HANDSHAKE_RECORD {
        let tls = acceptor.accept(stream).await?;
        builder.serve_connection(TokioIo::new(tls), service).await
    } else {
        builder.serve_connection(TokioIo::new(stream), service).await
    }
}
