//! A webhook receiver for tests: an HTTP server on 127.0.0.1:0 that records every request (headers and exact
//! body) and answers from a script (200 "ok" once the script is spent).

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{Notify, oneshot};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The exact body.
    pub body: String,
}

impl Received {
    /// A header.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// How to answer one request.
#[derive(Clone)]
pub enum Answer {
    /// This status, a short body.
    Status(u16),
    /// 200 with a body of this many bytes.
    Huge(usize),
    /// 302 to another URL.
    Redirect,
    /// Wait until notified, then 200.
    Hold(Arc<Notify>),
}

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

/// The running receiver; stopped on drop.
pub struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    _stop: oneshot::Sender<()>,
}

impl Receiver {
    /// Starts on a free port.
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self { addr, shared, _stop: stop }
    }
    /// `http://127.0.0.1:PORT/api/webhooks/clerk`.
    pub fn url(&self) -> String {
        format!("http://{}/api/webhooks/clerk", self.addr)
    }
    /// Answers the next requests like this, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.shared.script.lock().unwrap().extend(answers);
    }
    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
    /// Waits until `n` requests arrived (at most `limit`).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let until = tokio::time::Instant::now() + limit;
        while self.received().len() < n && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.received()
    }
}

async fn answer(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let headers = headers.iter().map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
    shared.received.lock().unwrap().push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    let next = shared.script.lock().unwrap().pop_front();
    match next {
        None => (StatusCode::OK, "ok").into_response(),
        Some(Answer::Status(s)) => (StatusCode::from_u16(s).unwrap(), format!("answer {s}")).into_response(),
        Some(Answer::Huge(n)) => (StatusCode::OK, Body::from(vec![b'x'; n])).into_response(),
        Some(Answer::Redirect) => (StatusCode::FOUND, [(header::LOCATION, "http://127.0.0.1:9/elsewhere")], "moved").into_response(),
        Some(Answer::Hold(release)) => {
            release.notified().await;
            (StatusCode::OK, "released").into_response()
        }
    }
}
