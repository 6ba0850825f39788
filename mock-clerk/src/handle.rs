//! `MockClerk`: mock-clerk inside a Rust test, on its own port, stopped when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::control::ops::{self, KeysView, MintRequest, MintedToken, SignInRequest, SignedIn};
use crate::error::ApiError;
use crate::fapi::handshake::HandshakeFormat;
use crate::faults::Fault;
use crate::forge::BrokenToken;
use crate::instance::{DEFAULT_SECRET_KEY, Instance, InstanceError, InstanceKind};
use crate::keys::{KeyError, KeyRing, SigningKey, TEST_KEY_PEM};
use crate::reqlog::LoggedRequest;
use crate::state::{AppState, ControlAccess, Settings};
use crate::store::{Session, SessionStatus, Store};
use crate::tls::TlsIdentity;
use crate::tokens::DEFAULT_TOKEN_LIFETIME;
use crate::webhooks::outbox::{Endpoint, Message};
use crate::webhooks::routes::NewEndpoint;
use crate::webhooks::signing::Secret;
use crate::webhooks::{DeliveryOptions, OutboxFileError};

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
    /// A webhook URL or secret is invalid.
    #[error("webhooks: {0}")]
    Webhook(String),
    /// The webhook outbox file could not be read or written.
    #[error(transparent)]
    Outbox(#[from] OutboxFileError),
    /// An OAuth provider mock-clerk does not know.
    #[error("--oauth-provider: {0}")]
    OAuthProvider(String),
    /// The seed file cannot be read, or a record in it is invalid.
    #[error("seed: {0}")]
    Seed(#[from] crate::seed::SeedError),
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
    webhook_urls: Vec<String>,
    webhook_secret: Option<String>,
    webhook_delivery: DeliveryOptions,
    oauth_providers: Vec<String>,
    seed: Option<crate::seed::Seed>,
    seed_file: Option<PathBuf>,
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
            webhook_urls: Vec::new(),
            webhook_secret: None,
            webhook_delivery: DeliveryOptions::default(),
            oauth_providers: Vec::new(),
            seed: None,
            seed_file: None,
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

    /// Delivers every event to this URL (repeatable; `--webhook-url`). Checked at start: http(s) only.
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_urls.push(url.into());
        self
    }
    /// The webhook signing secret (`whsec_…`; default: a fixed one, [`crate::webhooks::signing::DEFAULT_SECRET`]).
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }
    /// Multiplies Svix's retry schedule (5 s, 5 min, 30 min, …): 0.001 makes it milliseconds for tests.
    pub fn webhook_retry_scale(mut self, scale: f64) -> Self {
        self.webhook_delivery.retry_scale = scale;
        self
    }
    /// Timeout of one delivery attempt (default 15 s, Svix's).
    pub fn webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhook_delivery.timeout = timeout;
        self
    }

    /// Seeds the instance: the records of `seed` exist from the start ([`crate::seed`]; the same shapes as the
    /// seed file). Checked at start: an invalid record fails it with [`StartError::Seed`].
    pub fn seed(mut self, seed: crate::seed::Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Seeds the instance from a TOML file (`mock-clerk serve --seed`), read when the server starts; an invalid
    /// file fails the start with [`StartError::Seed`] naming the file, line and field. Applied after
    /// [`MockClerkBuilder::seed`].
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_file = Some(path.into());
        self
    }

    /// Enables a social provider on the instance (`google`, `oauth_github`, or a comma list; repeatable):
    /// `<SignIn/>` shows its button, and mock-clerk's consent page plays the provider
    /// ([`crate::fapi::oauth`]). Checked at start: unknown providers fail it.
    pub fn oauth_provider(mut self, provider: impl Into<String>) -> Self {
        self.oauth_providers.push(provider.into());
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
        state.webhooks().start();
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
        let identity = tls.clone();
        tokio::spawn(async move {
            let _ = crate::serving::serve(listener, serving, identity.as_ref(), stopped).await;
        });
        Ok(MockClerk { state, addr, stop: Some(stop), tls })
    }

    /// The state a server bound at `addr` would use.
    pub fn state_for(&self, addr: SocketAddr) -> Result<AppState, StartError> {
        let host = self.frontend_host.clone().unwrap_or_else(|| addr.to_string());
        let secret = self.secret_key.clone().unwrap_or_else(|| default_secret_key(self.kind));
        let mut instance = Instance::new(self.kind, &host, &secret)?;
        if let Some(text) = &self.webhook_secret {
            let secret = Secret::parse(text).map_err(|e| StartError::Webhook(e.to_string()))?;
            instance = instance.with_webhook_secret(secret);
        }
        if !self.webhook_delivery.retry_scale.is_finite() || self.webhook_delivery.retry_scale < 0.0 {
            return Err(StartError::Webhook("the retry scale is a number of at least 0".into()));
        }
        let urls = self
            .webhook_urls
            .iter()
            .map(|u| crate::webhooks::routes::check_url(u).map_err(|e| StartError::Webhook(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let oauth_providers =
            crate::fapi::oauth::parse_providers(self.oauth_providers.iter().map(String::as_str)).map_err(StartError::OAuthProvider)?;
        let keys = self.key.load()?;
        let settings = Settings { token_lifetime: self.token_lifetime, control: self.control.clone(), base_url: format!("http://{addr}") };
        let seeds =
            self.seed.iter().cloned().map(Ok).chain(self.seed_file.iter().map(|p| crate::seed::Seed::load(p))).collect::<Result<Vec<_>, _>>()?;
        let clock = Clock::default();
        let store = match &self.state_file {
            None => seeded(Store::default(), &seeds, &clock)?,
            Some(path) => match crate::persist::load(path)? {
                // A state file that already holds users is not seeded again (its users came from the seed).
                Some(store) if store.user_count(&Default::default()) > 0 => store,
                Some(store) => seeded(store, &seeds, &clock)?,
                None => {
                    // Written now, so that an unwritable path fails the start rather than the first change.
                    let store = seeded(Store::default(), &seeds, &clock)?;
                    crate::persist::save(path, &store)?;
                    store
                }
            },
        };
        let state = AppState::with_store(instance, keys, clock, settings, store, self.state_file.clone());
        state.webhooks().set_options(self.webhook_delivery.clone());
        state.fapi().set_oauth_providers(oauth_providers);
        if let Some(path) = &self.state_file {
            state.webhooks().persist_to(crate::webhooks::outbox_path(path))?;
        }
        for url in urls {
            state.webhooks().add_endpoint(url, Vec::new(), None);
        }
        Ok(state)
    }
}

/// `store` with every seed applied in order.
fn seeded(mut store: Store, seeds: &[crate::seed::Seed], clock: &Clock) -> Result<Store, StartError> {
    for seed in seeds {
        seed.apply(&mut store, clock.now_ms())?;
    }
    Ok(store)
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
    /// Sets the app's sign-in page (absolute URL): where a ticket URL (`/v1/tickets/accept`) sends the browser.
    pub fn set_sign_in_url(&self, url: Option<String>) {
        self.state.fapi().set_sign_in_url(url);
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
    /// A session's status now, as the Backend API reports it (`expired` and `abandoned` follow the clock).
    pub fn session_status(&self, id: &str) -> Option<SessionStatus> {
        let now = self.state.clock().now_ms();
        self.state.store().session(id).ok().map(|s| s.status_at(now))
    }
    /// Ends a session as `ended` (signed out), `removed` or `revoked`.
    pub fn end_session(&self, id: &str, status: SessionStatus) -> Result<(), ApiError> {
        ops::set_session_status(&self.state, id, status)
    }
    /// Moves the virtual clock forward.
    pub fn advance(&self, by: Duration) {
        self.state.clock().advance(by)
    }
    /// How far the virtual clock is ahead of real time.
    pub fn clock_offset(&self) -> Duration {
        self.state.clock().offset()
    }
    /// Publishes a new signing key; the old one stays in the JWKS until retired.
    pub fn rotate_keys(&self) -> KeysView {
        ops::rotate_keys(&self.state).expect("in-memory rotation cannot fail")
    }
    /// Retires one key, or every inactive key when `kid` is `None`.
    pub fn retire_keys(&self, kid: Option<&str>) -> Result<KeysView, ApiError> {
        ops::retire_keys(&self.state, kid)
    }
    /// How the handshake answers.
    pub fn handshake_format(&self) -> HandshakeFormat {
        self.state.handshake_format()
    }
    /// Chooses how the handshake answers (nonce, token, or as the SDK asks).
    pub fn set_handshake_format(&self, format: HandshakeFormat) {
        self.state.set_handshake_format(format)
    }
    /// Injects a fault for the next matching requests (refused when it makes no sense, as by the control API).
    pub fn inject(&self, fault: Fault) -> Result<(), ApiError> {
        Ok(self.state.faults().add(fault)?)
    }
    /// Both JWKS routes answer 503 for the next `times` requests each.
    pub fn jwks_outage(&self, times: u32) -> Result<(), ApiError> {
        ops::jwks_outage(&self.state, times)
    }
    /// The faults not yet used up.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.state.faults().pending()
    }
    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.state.faults().clear()
    }
    /// Every Backend/Frontend API request received so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log().entries()
    }
    /// Requests with this method and path.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<LoggedRequest> {
        self.requests().into_iter().filter(|r| r.method == method && r.path == path).collect()
    }
    /// A user's authenticator secret and the code it shows now, by mock-clerk's clock (`GET /__mock/users/{id}/totp`).
    pub fn totp(&self, user_id: &str) -> Result<crate::mfa::TotpView, ApiError> {
        ops::totp(&self.state, user_id)
    }
    /// The codes mock-clerk "sent" (email and SMS) to `identifier`, oldest first (`GET /__mock/codes`).
    pub fn codes_for(&self, identifier: &str) -> Vec<crate::fapi::attempts::SentCode> {
        self.state.fapi().attempts().codes.iter().filter(|c| c.identifier.eq_ignore_ascii_case(identifier)).cloned().collect()
    }
    /// Forgets the request log only.
    pub fn clear_requests(&self) {
        self.state.log().clear()
    }
    /// Forgets users, sessions, requests, faults, webhook messages and clock offset (endpoints stay).
    pub fn reset(&self) {
        ops::reset(&self.state)
    }

    /// `CLERK_WEBHOOK_SIGNING_SECRET`.
    pub fn webhook_secret(&self) -> &str {
        self.state.webhooks().secret().as_str()
    }
    /// Adds a webhook endpoint (`events` empty: every event).
    pub fn add_webhook_endpoint(&self, url: &str, events: &[&str]) -> Result<Endpoint, ApiError> {
        let new = NewEndpoint { url: url.to_owned(), events: events.iter().map(|e| (*e).to_owned()).collect(), secret: None };
        crate::webhooks::routes::add_endpoint(&self.state, new)
    }
    /// The webhook endpoints.
    pub fn webhook_endpoints(&self) -> Vec<Endpoint> {
        self.state.webhooks().endpoints()
    }
    /// Removes a webhook endpoint; what still waited for it is marked failed.
    pub fn remove_webhook_endpoint(&self, id: &str) -> Result<Endpoint, ApiError> {
        Ok(self.state.webhooks().remove_endpoint(id)?)
    }
    /// Every webhook message in the log, oldest first, with each delivery's attempts.
    pub fn webhook_messages(&self) -> Vec<Message> {
        self.state.webhooks().messages()
    }
    /// Sends a webhook message again now (to one endpoint, or to every endpoint it went to).
    pub fn replay_webhook(&self, message_id: &str, endpoint_id: Option<&str>) -> Result<Message, ApiError> {
        Ok(self.state.webhooks().replay(message_id, endpoint_id)?)
    }
    /// Sends an event now, with `data` as given (the caller keeps it: only the event's body is made from it).
    pub fn send_webhook(&self, event_type: &str, data: &serde_json::Value) -> Result<Message, ApiError> {
        crate::webhooks::routes::send_data(&self.state, event_type, data)
    }
    /// Waits until no webhook delivery is waiting or under way, or `limit` passes (then `false`). Deliveries
    /// scheduled for a retry count as waiting.
    pub async fn webhooks_settled(&self, limit: Duration) -> bool {
        let until = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < until {
            if self.state.webhooks().idle() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.state.webhooks().idle()
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
