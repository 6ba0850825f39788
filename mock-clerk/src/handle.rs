//! `MockClerk`: mock-clerk inside a Rust test, on its own port, stopped when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::control::ops::{self, KeysView, MintRequest, MintedToken, SignInRequest, SignedIn};
use crate::error::ApiError;
use crate::faults::Fault;
use crate::forge::BrokenToken;
use crate::instance::{DEFAULT_SECRET_KEY, Instance, InstanceError, InstanceKind};
use crate::keys::{KeyError, KeyRing, SigningKey, TEST_KEY_PEM};
use crate::reqlog::LoggedRequest;
use crate::state::{AppState, ControlAccess, Settings};
use crate::store::{Session, Store};
use crate::tls::TlsIdentity;
use crate::tokens::DEFAULT_TOKEN_LIFETIME;

/// Where the signing key comes from.
#[derive(Debug, Clone, Default)]
pub enum KeySource {
    /// The fixed test key bundled with the crate: instant start, identical in every run (the library default).
    #[default]
    TestKey,
    /// A fresh key generated at start and never written down.
    Ephemeral,
    /// A key file, created with a fresh key if missing (the server's default).
    File(PathBuf),
    /// A PKCS#8 PEM given directly.
    Pem(String),
    /// A ring loaded already (`mock-clerk serve` checks its key file before it binds the port).
    Ring(KeyRing),
}

impl KeySource {
    /// Builds the key ring.
    pub fn load(&self) -> Result<KeyRing, KeyError> {
        match self {
            KeySource::TestKey => Ok(KeyRing::ephemeral(SigningKey::from_pkcs8_pem(TEST_KEY_PEM)?)),
            KeySource::Ephemeral => Ok(KeyRing::ephemeral(SigningKey::generate()?)),
            KeySource::File(path) => KeyRing::load_or_create(path),
            KeySource::Pem(pem) => Ok(KeyRing::ephemeral(SigningKey::from_pkcs8_pem(pem)?)),
            KeySource::Ring(ring) => Ok(ring.clone()),
        }
    }
}

/// Why mock-clerk could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The instance settings are invalid.
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// The key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The state file could not be read or written.
    #[error(transparent)]
    StateFile(#[from] crate::persist::StateFileError),
}

/// Configures a [`MockClerk`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use mock_clerk::{MockClerk, InstanceKind};
/// let clerk = MockClerk::builder().kind(InstanceKind::Production).token_lifetime(std::time::Duration::from_secs(3600)).start().await;
/// assert!(clerk.publishable_key().starts_with("pk_live_"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MockClerkBuilder {
    kind: InstanceKind,
    secret_key: Option<String>,
    key: KeySource,
    token_lifetime: Duration,
    addr: SocketAddr,
    frontend_host: Option<String>,
    control: ControlAccess,
    tls: bool,
    state_file: Option<PathBuf>,
}

impl Default for MockClerkBuilder {
    fn default() -> Self {
        Self {
            kind: InstanceKind::Development,
            secret_key: None,
            key: KeySource::TestKey,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            frontend_host: None,
            control: ControlAccess::LoopbackOnly,
            tls: false,
            state_file: None,
        }
    }
}

impl MockClerkBuilder {
    /// Development (default) or production.
    pub fn kind(mut self, kind: InstanceKind) -> Self {
        self.kind = kind;
        self
    }
    /// The secret key (default: a fixed `sk_test_…`/`sk_live_…` key).
    pub fn secret_key(mut self, key: impl Into<String>) -> Self {
        self.secret_key = Some(key.into());
        self
    }
    /// Where the signing key comes from (default: the bundled test key).
    pub fn key(mut self, key: KeySource) -> Self {
        self.key = key;
        self
    }
    /// Lifetime of minted session tokens (default 60 s, Clerk's).
    pub fn token_lifetime(mut self, ttl: Duration) -> Self {
        self.token_lifetime = ttl;
        self
    }
    /// The address to bind (default `127.0.0.1:0`, a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
    /// The host encoded in the publishable key (default: the bound `ip:port`).
    pub fn frontend_host(mut self, host: impl Into<String>) -> Self {
        self.frontend_host = Some(host.into());
        self
    }
    /// Guards the control API with this token instead of the loopback check: every caller, loopback ones
    /// included, must then send `Authorization: Bearer <token>`, and any caller that does is answered.
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.control = ControlAccess::Token(token.into());
        self
    }

    /// Also answers TLS on the same port with a self-signed certificate, so the SDK's default
    /// `https://<frontend host>` handshake URL works without `NEXT_PUBLIC_CLERK_PROXY_URL`.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Keeps users, clients, sessions and dev browsers in this file (JSON): loaded at start if it exists
    /// (created otherwise), rewritten after every change, so a restart with the same file (and the same key
    /// file, for tokens to keep verifying) carries on where the last run stopped. Default: memory only.
    /// See [`crate::persist`].
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Binds and starts serving. Panics with a clear message on failure (tests want that); see
    /// [`MockClerkBuilder::try_start`] otherwise.
    pub async fn start(self) -> MockClerk {
        self.try_start().await.unwrap_or_else(|e| panic!("mock-clerk failed to start: {e}"))
    }

    /// Binds and starts serving.
    pub async fn try_start(self) -> Result<MockClerk, StartError> {
        let listener = TcpListener::bind(self.addr).await.map_err(|source| StartError::Bind { addr: self.addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: self.addr, source })?;
        let state = self.state_for(addr)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = state.clone();
        let stopped = async {
            let _ = stopped.await;
        };
        let tls = if self.tls {
            let host = state.instance().frontend_host().rsplit_once(':').map_or(state.instance().frontend_host(), |(h, _)| h).to_owned();
            Some(TlsIdentity::self_signed(&host)?)
        } else {
            None
        };
        match tls.clone() {
            Some(identity) => tokio::spawn(async move {
                let _ = crate::tls::serve_dual(listener, serving, identity, stopped).await;
            }),
            None => tokio::spawn(async move {
                let _ = crate::server::serve(listener, serving, stopped).await;
            }),
        };
        Ok(MockClerk { state, addr, stop: Some(stop), tls })
    }

    /// The state a server bound at `addr` would use.
    pub fn state_for(&self, addr: SocketAddr) -> Result<AppState, StartError> {
        let host = self.frontend_host.clone().unwrap_or_else(|| addr.to_string());
        let secret = self.secret_key.clone().unwrap_or_else(|| default_secret_key(self.kind));
        let instance = Instance::new(self.kind, &host, &secret)?;
        let keys = self.key.load()?;
        let settings = Settings { token_lifetime: self.token_lifetime, control: self.control.clone(), base_url: format!("http://{addr}") };
        let store = match &self.state_file {
            None => Store::default(),
            Some(path) => match crate::persist::load(path)? {
                Some(store) => store,
                None => {
                    // Written now, so that an unwritable path fails the start rather than the first change.
                    let store = Store::default();
                    crate::persist::save(path, &store)?;
                    store
                }
            },
        };
        Ok(AppState::with_store(instance, keys, Clock::default(), settings, store, self.state_file.clone()))
    }
}

/// The fixed default secret key for an instance kind.
pub fn default_secret_key(kind: InstanceKind) -> String {
    DEFAULT_SECRET_KEY.replacen("sk_test_", kind.secret_prefix(), 1)
}

/// A running mock-clerk. Dropping it stops the server.
pub struct MockClerk {
    state: AppState,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    tls: Option<TlsIdentity>,
}

impl MockClerk {
    /// A development instance on a free loopback port, with the bundled test key.
    pub async fn start() -> Self {
        Self::builder().start().await
    }
    /// A builder for other settings.
    pub fn builder() -> MockClerkBuilder {
        MockClerkBuilder::default()
    }
    /// `http://127.0.0.1:PORT`: the Backend API URL (`CLERK_API_URL`) and the Frontend API.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The instance.
    pub fn instance(&self) -> &Instance {
        self.state.instance()
    }
    /// `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`.
    pub fn publishable_key(&self) -> &str {
        self.instance().publishable_key()
    }
    /// `CLERK_SECRET_KEY`.
    pub fn secret_key(&self) -> &str {
        self.instance().secret_key()
    }
    /// The env block for an app (`mock-clerk env`). With TLS, no proxy URL: browsers go to
    /// `https://<frontend host>` for the handshake.
    pub fn env(&self) -> Vec<(String, String)> {
        crate::env::env_vars(self.instance(), &self.url(), self.tls.is_none())
    }
    /// The self-signed certificate, PEM, when serving TLS.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(TlsIdentity::cert_pem)
    }
    /// The shared state, for advanced use.
    pub fn state(&self) -> &AppState {
        &self.state
    }
    /// The active signing key's `kid`.
    pub fn active_kid(&self) -> String {
        self.state.keys().active().kid().to_owned()
    }

    /// Signs a new user in; returns the cookies a browser would hold.
    pub fn sign_in(&self) -> SignedIn {
        self.sign_in_with(SignInRequest::default()).expect("signing a new user in cannot fail")
    }
    /// Signs a user in with options.
    pub fn sign_in_with(&self, req: SignInRequest) -> Result<SignedIn, ApiError> {
        ops::sign_in(&self.state, req)
    }
    /// Mints a token.
    pub fn mint(&self, req: MintRequest) -> MintedToken {
        ops::mint(&self.state, req)
    }
    /// Mints a broken token for this user and session.
    pub fn forge(&self, variant: BrokenToken, sub: &str, sid: &str) -> String {
        self.mint(MintRequest { sub: Some(sub.into()), sid: Some(sid.into()), broken: Some(variant), ..MintRequest::default() }).jwt
    }
    /// A session as stored.
    pub fn session(&self, id: &str) -> Option<Session> {
        self.state.store().session(id).ok().cloned()
    }
    /// Moves the virtual clock forward.
    pub fn advance(&self, by: Duration) {
        self.state.clock().advance(by)
    }
    /// Publishes a new signing key; the old one stays in the JWKS until retired.
    pub fn rotate_keys(&self) -> KeysView {
        ops::rotate_keys(&self.state).expect("in-memory rotation cannot fail")
    }
    /// Chooses how the handshake answers (nonce, token, or as the SDK asks).
    pub fn set_handshake_format(&self, format: crate::fapi::handshake::HandshakeFormat) {
        self.state.set_handshake_format(format)
    }
    /// Injects a fault for the next matching requests.
    pub fn inject(&self, fault: Fault) {
        self.state.faults().add(fault)
    }
    /// Every Backend/Frontend API request received so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log().entries()
    }
    /// Requests with this method and path.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<LoggedRequest> {
        self.requests().into_iter().filter(|r| r.method == method && r.path == path).collect()
    }
    /// Forgets users, sessions, requests, faults and clock offset.
    pub fn reset(&self) {
        ops::reset(&self.state)
    }
}

impl Drop for MockClerk {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for MockClerk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockClerk").field("url", &self.url()).field("publishable_key", &self.publishable_key()).finish()
    }
}
