//! Webhooks: every state change becomes a Clerk event, signed like Svix and delivered to the configured
//! endpoints off the request path, with Svix's retries.
//!
//! # How a state change emits its event (read this before adding a mutation)
//!
//! There is **one** place: the [`crate::store::Store`] method that makes the change records a
//! [`events::Change`] (`self.changes.push(Change::…)`), with the records as they are after the change. Nothing
//! else has to be called: when the route's [`crate::state::StoreGuard`] is dropped (the store's lock is
//! released), it takes the changes and hands them to [`Webhooks::emit`], which renders each as a Clerk event
//! (`{type, object: "event", data, event_attributes, timestamp, instance_id}`), records it in the outbox for
//! every endpoint whose filter wants it, and wakes the delivery task. So the Backend API, the control API, the
//! Frontend API (sign-ups, sign-outs) and the library handle all emit the same events, in the order of the
//! changes, as long as they change the store through its methods. A new kind of change: add a [`events::Change`]
//! variant (its event type and `data`), and push it from the store method. An email mock-clerk "sends" (a
//! verification code): call [`crate::store::Store::send_email`].
//!
//! # Delivery
//!
//! A background task takes due deliveries from the [`outbox::Outbox`] (bounded: [`outbox::QUEUE_LIMIT`]
//! waiting deliveries), makes at most [`MAX_IN_FLIGHT`] attempts at once ([`delivery::attempt`]: wall-clock
//! `svix-timestamp`, a timeout, at most [`delivery::RESPONSE_EXCERPT_BYTES`] of the answer read), and records
//! each attempt. A non-2xx answer, a redirect, a timeout or a refused connection is a failed attempt; the next
//! follows [`outbox::RETRY_SCHEDULE`] (× the retry scale), and after the eighth the delivery is marked failed.
//! With a state file, the outbox is written next to it (`<state file>` with the extension `webhooks.json`)
//! after every change and loaded at start, so pending deliveries survive a restart.

pub mod delivery;
pub mod events;
pub mod outbox;
pub mod payload;
pub mod routes;
pub mod signing;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::header;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use self::events::{Change, RequestAttributes};
use self::outbox::{Endpoint, Message, Outbox, OutboxError};
use self::signing::Secret;

/// Attempts made at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// Svix's per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The version written in the outbox file.
pub const OUTBOX_FILE_VERSION: u32 = 1;

tokio::task_local! {
    /// The request being answered, for `event_attributes.http_request`.
    static REQUEST: RequestOrigin;
}

/// Who sent the request being answered, kept as it came (turned into [`RequestAttributes`] only when a change
/// makes an event, not on every request).
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    peer: Option<std::net::SocketAddr>,
    user_agent: Option<axum::http::HeaderValue>,
}

impl RequestOrigin {
    /// The caller's address (from `ConnectInfo`) and `User-Agent`.
    pub fn of(req: &Request) -> Self {
        Self {
            peer: req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0),
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
        }
    }

    fn attributes(&self) -> RequestAttributes {
        RequestAttributes {
            client_ip: self.peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            user_agent: self.user_agent.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned(),
        }
    }

    /// Runs `answer` (the request's handling) with this origin as the one of every event it causes.
    pub async fn scope<F: std::future::Future>(self, answer: F) -> F::Output {
        REQUEST.scope(self, answer).await
    }
}

/// How deliveries are made.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOptions {
    /// Multiplies [`outbox::RETRY_SCHEDULE`] (1.0 = Svix's; 0.001 turns 5 s into 5 ms for tests).
    pub retry_scale: f64,
    /// Per attempt.
    pub timeout: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self { retry_scale: 1.0, timeout: DEFAULT_TIMEOUT }
    }
}

/// Why the outbox file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxFileError {
    /// Reading or writing failed.
    #[error("webhook outbox {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not an outbox file this build reads.
    #[error("webhook outbox {path} cannot be read: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Where the outbox of a state file lives: `state.json` → `state.webhooks.json`.
pub fn outbox_path(state_file: &Path) -> PathBuf {
    state_file.with_extension("webhooks.json")
}

#[derive(Serialize)]
struct FileRef<'a> {
    mock_clerk_webhooks: u32,
    outbox: &'a Outbox,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOwned {
    mock_clerk_webhooks: u32,
    outbox: Outbox,
}

/// The webhook side of an instance; cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    shared: Arc<Shared>,
}

struct Shared {
    instance_id: String,
    clock: crate::clock::Clock,
    secret: Secret,
    options: RwLock<DeliveryOptions>,
    outbox: Mutex<Outbox>,
    file: RwLock<Option<PathBuf>>,
    wake: Arc<Notify>,
    worker: Mutex<Option<tokio::task::JoinHandle<()>>>,
    client: std::sync::OnceLock<reqwest::Client>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The delivery task holds only a weak reference; wake it so it sees it is alone and stops.
        self.wake.notify_one();
    }
}

impl Webhooks {
    /// No endpoints yet, signing with `secret`, events stamped with `instance_id` and `clock`'s (virtual) time.
    pub fn new(instance_id: String, secret: Secret, clock: crate::clock::Clock) -> Self {
        Self {
            shared: Arc::new(Shared {
                instance_id,
                clock,
                secret,
                options: RwLock::new(DeliveryOptions::default()),
                outbox: Mutex::new(Outbox::default()),
                file: RwLock::new(None),
                wake: Arc::new(Notify::new()),
                worker: Mutex::new(None),
                client: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The instance's signing secret.
    pub fn secret(&self) -> &Secret {
        &self.shared.secret
    }
    /// The `instance_id` of every event.
    pub fn instance_id(&self) -> &str {
        &self.shared.instance_id
    }
    /// How deliveries are made.
    pub fn options(&self) -> DeliveryOptions {
        self.shared.options.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Changes how deliveries are made.
    pub fn set_options(&self, options: DeliveryOptions) {
        *self.shared.options.write().unwrap_or_else(|p| p.into_inner()) = options;
    }

    /// Real time (deliveries never follow the virtual clock).
    fn wall_ms(&self) -> i64 {
        self.shared.clock.wall_ms()
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.shared.outbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the outbox in `path`: loads it if it exists (attempts under way when the last run stopped are due
    /// again), writes it now otherwise, and after every change from now on.
    pub fn persist_to(&self, path: PathBuf) -> Result<(), OutboxFileError> {
        let loaded = match std::fs::read(&path) {
            Ok(bytes) => {
                let file: FileOwned =
                    serde_json::from_slice(&bytes).map_err(|e| OutboxFileError::Unreadable { path: path.clone(), reason: e.to_string() })?;
                if file.mock_clerk_webhooks != OUTBOX_FILE_VERSION {
                    return Err(OutboxFileError::Unreadable {
                        path,
                        reason: format!("version {} (this mock-clerk reads version {OUTBOX_FILE_VERSION})", file.mock_clerk_webhooks),
                    });
                }
                Some(file.outbox)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(OutboxFileError::Io { path, source }),
        };
        let mut outbox = self.outbox();
        if let Some(mut loaded) = loaded {
            loaded.resume(self.wall_ms());
            *outbox = loaded;
        }
        write_outbox(&path, &outbox)?;
        *self.shared.file.write().unwrap_or_else(|p| p.into_inner()) = Some(path);
        drop(outbox);
        self.wake();
        Ok(())
    }

    /// Runs `f` on the outbox, then writes it (when persisted) and wakes the delivery task.
    fn change<T>(&self, f: impl FnOnce(&mut Outbox) -> T) -> T {
        self.change_if(|outbox| (f(outbox), true))
    }

    /// [`Webhooks::change`], writing the file only when `f` says the change matters after a restart.
    fn change_if<T>(&self, f: impl FnOnce(&mut Outbox) -> (T, bool)) -> T {
        let mut outbox = self.outbox();
        let (out, persist) = f(&mut outbox);
        if persist {
            self.save(&outbox);
        }
        drop(outbox);
        self.wake();
        out
    }

    /// Writes the outbox to its file, if it has one.
    fn save(&self, outbox: &Outbox) {
        if let Some(path) = self.shared.file.read().unwrap_or_else(|p| p.into_inner()).as_deref()
            && let Err(e) = write_outbox(path, outbox)
        {
            tracing::error!(error = %e, "could not write the webhook outbox");
        }
    }

    /// Turns store changes into events and queues them (called by the store's guard; see the module docs).
    pub fn emit(&self, changes: Vec<Change>) {
        let at_ms = self.shared.clock.now_ms();
        let attributes = REQUEST.try_with(RequestOrigin::attributes).unwrap_or_default();
        // Rendered before the outbox is locked: the delivery task does not wait for JSON.
        let events: Vec<(&'static str, String)> = changes
            .iter()
            .map(|c| (c.event_type(), events::event_body(c.event_type(), &c.data(), &attributes, at_ms, &self.shared.instance_id)))
            .collect();
        let now = self.wall_ms();
        // Events no endpoint wants are logged but not written out: nothing is pending for a restart.
        self.change_if(|outbox| {
            let mut deliveries = 0;
            for (event_type, body) in events {
                deliveries += outbox.enqueue(event_type, body.into(), now, None).deliveries.len();
            }
            ((), deliveries > 0)
        });
    }

    /// Queues an event with this `data` now ("send this event now"), to every endpoint that wants it or to one.
    /// The caller keeps `data`: only the event's body is made from it.
    pub fn send(&self, event_type: &str, data: &serde_json::Value, endpoint_id: Option<&str>) -> Result<Message, OutboxError> {
        let at_ms = self.shared.clock.now_ms();
        let attributes = REQUEST.try_with(RequestOrigin::attributes).unwrap_or_default();
        let body = events::event_body(event_type, data, &attributes, at_ms, &self.shared.instance_id).into();
        let now = self.wall_ms();
        self.change(|outbox| {
            if let Some(id) = endpoint_id
                && !outbox.endpoints.iter().any(|e| e.id == id)
            {
                return Err(OutboxError::EndpointNotFound(id.to_owned()));
            }
            Ok(outbox.enqueue(event_type, body, now, endpoint_id).clone())
        })
    }

    /// Adds an endpoint (the URL must already be checked: [`routes::check_url`]).
    pub fn add_endpoint(&self, url: String, events: Vec<String>, secret: Option<Secret>) -> Endpoint {
        let now = self.wall_ms();
        self.change(|o| o.add_endpoint(url, events, secret, now))
    }
    /// Removes an endpoint.
    pub fn remove_endpoint(&self, id: &str) -> Result<Endpoint, OutboxError> {
        self.change(|o| o.remove_endpoint(id))
    }
    /// The endpoints.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.outbox().endpoints.clone()
    }
    /// The messages in the log, oldest first, with their deliveries and attempts.
    pub fn messages(&self) -> Vec<Message> {
        self.outbox().messages.iter().cloned().collect()
    }
    /// One message.
    pub fn message(&self, id: &str) -> Option<Message> {
        self.outbox().messages.iter().find(|m| m.id == id).cloned()
    }
    /// Finished messages that left the log.
    pub fn evicted(&self) -> u64 {
        self.outbox().evicted
    }
    /// Sends a message again now.
    pub fn replay(&self, id: &str, endpoint_id: Option<&str>) -> Result<Message, OutboxError> {
        let now = self.wall_ms();
        self.change(|o| o.replay(id, endpoint_id, now))
    }
    /// Forgets every message (endpoints stay).
    pub fn clear_messages(&self) {
        self.change(Outbox::clear_messages)
    }
    /// Whether no delivery is waiting or under way.
    pub fn idle(&self) -> bool {
        self.outbox().waiting() == 0
    }

    /// Wakes the delivery task, starting it if it is not running and a Tokio runtime is at hand.
    fn wake(&self) {
        let mut worker = self.shared.worker.lock().unwrap_or_else(|p| p.into_inner());
        if worker.as_ref().is_none_or(|w| w.is_finished())
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            *worker = Some(runtime.spawn(worker::run(Arc::downgrade(&self.shared), self.shared.wake.clone())));
        }
        self.shared.wake.notify_one();
    }

    /// Starts the delivery task (for deliveries loaded from a file before any change).
    pub fn start(&self) {
        self.wake();
    }
}

fn write_outbox(path: &Path, outbox: &Outbox) -> Result<(), OutboxFileError> {
    let bytes = serde_json::to_vec(&FileRef { mock_clerk_webhooks: OUTBOX_FILE_VERSION, outbox })
        .map_err(|e| OutboxFileError::Unreadable { path: path.into(), reason: e.to_string() })?;
    // Endpoint secrets may be in it: owner-only, like the state file.
    crate::private_file::write_private(path, &bytes).map_err(|source| OutboxFileError::Io { path: path.into(), source })
}
