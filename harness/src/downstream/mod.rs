//! The recording downstream API double: the app's `NEXT_PUBLIC_API_URL` points at it.
//!
//! It answers any path like a JSON API, each answer carrying a data marker unique to that request
//! ([`data_marker`]: `conformance-data-<seq>`) so a step can tell whether a page or response shows the API's
//! data, and whose: `GET` → 200 `[{"id":"1","title":"<marker>"}]`, `POST` → 201 the body plus `id` and
//! `marker`, `PUT`/`PATCH` → 200 the body plus `id` (the last path segment) and `marker`, `DELETE` → 200
//! `{"id","deleted":true,"marker"}`, a body that is not a JSON object → 400 — records every request (method, path, query, all headers, body, arrival time), and follows a script
//! ([`ScriptRule`]: fail the next N with a status, optionally `Retry-After` and a body; delay the next N).
//! The rule, the plan, the record and the log are mock-clerk's ([`mock_clerk::Fault`],
//! [`mock_clerk::LoggedRequest`]): one type each for both servers; the double scopes rules by the `sid` of the
//! caller's bearer token.
//!
//! Control over HTTP, for a suite in another process: `POST /__downstream/script` (one rule or a list),
//! `GET /__downstream/script`, `DELETE /__downstream/script`, `GET /__downstream/requests`,
//! `POST /__downstream/reset`. Requests under `/__downstream` are never recorded.
//!
//! **Local or remote: an enum, not a trait.** [`DownstreamHandle`] is `Local(Downstream)` or
//! `Remote(RemoteDownstream)` with the same async methods. A trait would need `async fn` in a trait object
//! (not dyn-compatible without boxing), generics through the World, or `async_trait`; the enum is a plain type
//! the World can hold, and a `match` per method is all it costs.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use harness::downstream::{DownstreamHandle, ScriptRule, matching};
//! let double = DownstreamHandle::start().await.unwrap();
//! double.script(ScriptRule::fail("GET", "/schedules", 1, 503).retry_after(1)).await.unwrap();
//! let first = reqwest::get(format!("{}/schedules", double.url())).await.unwrap();
//! assert_eq!((first.status().as_u16(), first.headers()["retry-after"].to_str().unwrap()), (503, "1"));
//! let second = reqwest::get(format!("{}/schedules", double.url())).await.unwrap();
//! assert_eq!(second.status().as_u16(), 200);
//! let seen = double.requests().await.unwrap();
//! assert_eq!(matching(&seen, "GET", "/schedules").len(), 2);
//! # }
//! ```

/// What every data marker starts with; a response holding it carries the API's data.
pub const DATA_MARKER_PREFIX: &str = "conformance-data-";

/// The marker in the double's answer to request number `seq`.
pub fn data_marker(seq: u64) -> String {
    format!("{DATA_MARKER_PREFIX}{seq}-end")
}

mod remote;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// One scripted rule: mock-clerk's fault type (`ScriptRule::fail(..).retry_after(..).for_session(..)`).
pub use mock_clerk::Fault as ScriptRule;
/// One request the double received: mock-clerk's request-log entry (`.is()`, `.bearer()`, `.session()`, …).
pub use mock_clerk::LoggedRequest as RecordedRequest;
pub use mock_clerk::reqlog::{gaps_ms, matching};
pub use remote::RemoteDownstream;
pub use server::{BODY_LIMIT_BYTES, CONTROL_PREFIX};

/// Checks a rule as the double will (mock-clerk's checks), naming the rule in the error.
pub(crate) fn validate(rule: &ScriptRule) -> Result<(), DownstreamError> {
    rule.validate().map_err(|e| DownstreamError::InvalidScript(format!("{} {}: {e}", rule.method.as_deref().unwrap_or("*"), rule.path)))
}

/// What went wrong with the double or its control API.
#[derive(Debug, thiserror::Error)]
pub enum DownstreamError {
    /// The address could not be bound.
    #[error("downstream double cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A script rule that makes no sense.
    #[error("invalid script rule {0}")]
    InvalidScript(String),
    /// The remote double's URL is unusable.
    #[error("invalid downstream URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The control call failed on the way.
    #[error("{what}: {source}")]
    Http {
        /// The call.
        what: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The control API answered an error.
    #[error("{what} answered {status}: {body}")]
    Status {
        /// The call.
        what: String,
        /// The status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The control API's answer was not what was expected.
    #[error("{what}: cannot decode the answer: {reason}")]
    Decode {
        /// The call.
        what: String,
        /// Why.
        reason: String,
    },
}

/// The double running in this process; dropping it stops the server.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let double = harness::downstream::Downstream::start().await.unwrap();
/// assert!(double.url().starts_with("http://127.0.0.1:"));
/// assert!(double.requests().is_empty());
/// # }
/// ```
#[derive(Debug)]
pub struct Downstream {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Downstream {
    /// Starts on a free loopback port (`127.0.0.1:0`).
    pub async fn start() -> Result<Self, DownstreamError> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }
    /// Starts on `addr` (for an app configured with a fixed `NEXT_PUBLIC_API_URL`).
    pub async fn bind(addr: SocketAddr) -> Result<Self, DownstreamError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| DownstreamError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| DownstreamError::Bind { addr, source })?;
        let shared = Arc::new(server::Shared::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let router = server::router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self { shared, addr, stop: Some(stop) })
    }
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Every request recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }
    /// Adds a scripted rule.
    pub fn script(&self, rule: ScriptRule) -> Result<(), DownstreamError> {
        validate(&rule)?;
        self.shared.plan.add(rule).map_err(|e| DownstreamError::InvalidScript(e.to_string()))
    }
    /// The rules not yet used up.
    pub fn pending_script(&self) -> Vec<ScriptRule> {
        self.shared.plan.pending()
    }
    /// Forgets requests and scripts.
    pub fn reset(&self) {
        self.shared.reset()
    }
}

impl Drop for Downstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The double, in this process or elsewhere: one set of async methods for the steps.
#[derive(Debug)]
pub enum DownstreamHandle {
    /// Started by this process.
    Local(Downstream),
    /// Started by another process; steered over HTTP.
    Remote(RemoteDownstream),
}

impl DownstreamHandle {
    /// Starts a local double on a free loopback port.
    pub async fn start() -> Result<Self, DownstreamError> {
        Downstream::start().await.map(DownstreamHandle::Local)
    }
    /// Connects to a double at `url`.
    pub fn remote(url: &str) -> Result<Self, DownstreamError> {
        RemoteDownstream::new(url).map(DownstreamHandle::Remote)
    }
    /// The base URL (what `NEXT_PUBLIC_API_URL` should be).
    pub fn url(&self) -> String {
        match self {
            DownstreamHandle::Local(d) => d.url(),
            DownstreamHandle::Remote(r) => r.url(),
        }
    }
    /// Every request recorded so far.
    pub async fn requests(&self) -> Result<Vec<RecordedRequest>, DownstreamError> {
        match self {
            DownstreamHandle::Local(d) => Ok(d.requests()),
            DownstreamHandle::Remote(r) => r.requests().await,
        }
    }
    /// The recorded requests that are `method path`.
    pub async fn requests_to(&self, method: &str, path: &str) -> Result<Vec<RecordedRequest>, DownstreamError> {
        Ok(self.requests().await?.into_iter().filter(|r| r.is(method, path)).collect())
    }
    /// Adds a scripted rule.
    pub async fn script(&self, rule: ScriptRule) -> Result<(), DownstreamError> {
        match self {
            DownstreamHandle::Local(d) => d.script(rule),
            DownstreamHandle::Remote(r) => r.script(rule).await,
        }
    }
    /// The rules not yet used up.
    pub async fn pending_script(&self) -> Result<Vec<ScriptRule>, DownstreamError> {
        match self {
            DownstreamHandle::Local(d) => Ok(d.pending_script()),
            DownstreamHandle::Remote(r) => r.pending_script().await,
        }
    }
    /// Forgets requests and scripts.
    pub async fn reset(&self) -> Result<(), DownstreamError> {
        match self {
            DownstreamHandle::Local(d) => {
                d.reset();
                Ok(())
            }
            DownstreamHandle::Remote(r) => r.reset().await,
        }
    }
}

#[cfg(test)]
mod tests;
