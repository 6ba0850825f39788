//! The shared state behind every route: instance, key ring, clock, store, request log and faults.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::fapi::handshake::HandshakeFormat;
use crate::faults::Faults;
use crate::instance::Instance;
use crate::keys::KeyRing;
use crate::reqlog::RequestLog;
use crate::store::Store;
use crate::tokens::{self, TokenSpec};
use crate::webhooks::Webhooks;

/// Who may use the control API (`/__mock/…`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ControlAccess {
    /// Only callers on a loopback address (the default).
    #[default]
    LoopbackOnly,
    /// Anyone presenting `Authorization: Bearer <token>` (explicitly opened).
    Token(String),
}

/// Settings that do not change while running.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lifetime of minted session tokens.
    pub token_lifetime: Duration,
    /// Control API access.
    pub control: ControlAccess,
    /// The base URL mock-clerk is reachable at (`http://127.0.0.1:PORT`).
    pub base_url: String,
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    instance: Instance,
    settings: Settings,
    clock: Clock,
    keys: RwLock<KeyRing>,
    store: Mutex<Store>,
    /// Where the store is written after every change ([`crate::persist`]), if anywhere.
    state_file: Option<PathBuf>,
    log: RequestLog,
    faults: Faults,
    handshake_format: Mutex<HandshakeFormat>,
    /// Endpoints, outbox and delivery: every store change becomes an event ([`crate::webhooks`]).
    webhooks: Webhooks,
    /// The Frontend API's sign-in/sign-up attempts, codes and bundle directory.
    fapi: crate::fapi::attempts::FapiState,
    /// The claims of the last tokens minted, newest last, at most [`RECENT_TOKENS`] (the inspector's "last token"
    /// of a session); claims only, never the token.
    recent_claims: Mutex<std::collections::VecDeque<Map<String, Value>>>,
}

/// How many minted tokens' claims are kept for the inspector.
pub const RECENT_TOKENS: usize = 256;

impl AppState {
    /// Assembles the state, with an empty in-memory store.
    pub fn new(instance: Instance, keys: KeyRing, clock: Clock, settings: Settings) -> Self {
        Self::with_store(instance, keys, clock, settings, Store::default(), None)
    }

    /// Assembles the state around `store`; with a `state_file`, the store is written there after every change
    /// (see [`crate::persist`]; loading it is the caller's part).
    pub fn with_store(instance: Instance, keys: KeyRing, clock: Clock, settings: Settings, store: Store, state_file: Option<PathBuf>) -> Self {
        let webhooks =
            Webhooks::new(crate::webhooks::events::instance_id(instance.publishable_key()), instance.webhook_secret().clone(), clock.clone());
        Self {
            inner: Arc::new(Inner {
                webhooks,
                instance,
                settings,
                clock,
                keys: RwLock::new(keys),
                store: Mutex::new(store),
                state_file,
                log: RequestLog::default(),
                faults: Faults::default(),
                handshake_format: Mutex::new(HandshakeFormat::default()),
                fapi: crate::fapi::attempts::FapiState::default(),
                recent_claims: Mutex::default(),
            }),
        }
    }

    /// The instance.
    pub fn instance(&self) -> &Instance {
        &self.inner.instance
    }
    /// Settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }
    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }
    /// The request log.
    pub fn log(&self) -> &RequestLog {
        &self.inner.log
    }
    /// The fault plan.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }
    /// Webhook endpoints, outbox and delivery.
    pub fn webhooks(&self) -> &Webhooks {
        &self.inner.webhooks
    }

    /// The Frontend API's own state (sign-in/sign-up attempts, codes, bundle directory).
    pub fn fapi(&self) -> &crate::fapi::attempts::FapiState {
        &self.inner.fapi
    }

    /// How handshakes answer (nonce or token).
    pub fn handshake_format(&self) -> HandshakeFormat {
        *self.inner.handshake_format.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Chooses how handshakes answer.
    pub fn set_handshake_format(&self, format: HandshakeFormat) {
        *self.inner.handshake_format.lock().unwrap_or_else(|p| p.into_inner()) = format;
    }

    /// The store, locked. A poisoned lock is recovered: the store holds plain data and stays consistent
    /// because every operation validates before it mutates. With a state file, a guard that was used to change
    /// the store writes it to the file when dropped, before the lock is released.
    pub fn store(&self) -> StoreGuard<'_> {
        StoreGuard {
            guard: self.inner.store.lock().unwrap_or_else(|p| p.into_inner()),
            changed: false,
            state_file: self.inner.state_file.as_deref(),
            webhooks: &self.inner.webhooks,
        }
    }

    /// The state file, if the store is persisted.
    pub fn state_file(&self) -> Option<&Path> {
        self.inner.state_file.as_deref()
    }
    /// The key ring, for reading.
    pub fn keys(&self) -> RwLockReadGuard<'_, KeyRing> {
        self.inner.keys.read().unwrap_or_else(|p| p.into_inner())
    }
    /// The claims of the last token minted for session `sid`, among the last [`RECENT_TOKENS`] minted.
    pub fn last_claims_of(&self, sid: &str) -> Option<Map<String, Value>> {
        let recent = self.inner.recent_claims.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().rev().find(|c| c.get("sid").and_then(Value::as_str) == Some(sid)).cloned()
    }

    /// The key ring, for rotation.
    pub fn keys_mut(&self) -> RwLockWriteGuard<'_, KeyRing> {
        self.inner.keys.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The claims of a session token as mock-clerk would mint it now (wall-clock times).
    pub fn claims_for(&self, spec: &TokenSpec) -> Map<String, Value> {
        let now_secs = self.clock().wall_ms() / 1000;
        spec.claims(&self.instance().issuer(), self.settings().token_lifetime, now_secs)
    }

    /// Mints a session token with the active key: the one mint path (Backend API, handshake, control API).
    pub fn mint(&self, spec: &TokenSpec) -> Minted {
        let claims = self.claims_for(spec);
        let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or_default();
        let token = tokens::sign_rs256(self.keys().active(), &claims);
        let mut recent = self.inner.recent_claims.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= RECENT_TOKENS {
            recent.pop_front();
        }
        recent.push_back(claims);
        Minted { token, iat }
    }
}

/// A session token mock-clerk minted, and its `iat` (what `__client_uat` may be at most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    /// The JWT.
    pub token: String,
    /// Its `iat` claim, seconds.
    pub iat: i64,
}

/// The locked store ([`AppState::store`]). Reading goes through `Deref`; any `&mut` use (`DerefMut`) marks the
/// store as changed, and a changed store is written to the state file, if there is one, when the guard drops.
/// Dropping it also hands the store's recorded changes to the webhooks, still under the lock, so events are
/// queued in the order of the changes ([`crate::webhooks`]).
pub struct StoreGuard<'a> {
    guard: MutexGuard<'a, Store>,
    changed: bool,
    state_file: Option<&'a Path>,
    webhooks: &'a Webhooks,
}

impl Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.guard
    }
}

impl DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.changed = true;
        &mut self.guard
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        if !self.changed {
            return;
        }
        let changes = self.guard.take_changes();
        if let Some(path) = self.state_file
            && let Err(e) = crate::persist::save(path, &self.guard)
        {
            // The in-memory store is still right; the next change tries again.
            tracing::error!(error = %e, "could not write the state file");
        }
        if !changes.is_empty() {
            self.webhooks.emit(changes);
        }
    }
}
