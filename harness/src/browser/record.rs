//! What a page did, recorded from DevTools events: console messages, uncaught exceptions, browser log
//! entries (failed loads, CORS refusals), and every network request with its status.

use std::sync::{Arc, Mutex};

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::{EventLoadingFailed, EventRequestWillBeSent, EventResponseReceived};
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
use futures_util::StreamExt;
use serde_json::Value;

use super::BrowserError;

/// One console line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLine {
    /// `log`, `warning`, `error`, `exception`, or a browser log level (`log:error` …).
    pub level: String,
    /// The message.
    pub text: String,
}

/// One request the page made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkEntry {
    /// DevTools' request id.
    pub id: String,
    /// `GET`, `POST`, …
    pub method: String,
    /// The full URL.
    pub url: String,
    /// The response status, once answered.
    pub status: Option<i64>,
    /// Why it failed (network error, CORS, blocked), if it did.
    pub failed: Option<String>,
}

impl std::fmt::Display for NetworkEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.url.split('?').next().unwrap_or(&self.url);
        match (&self.status, &self.failed) {
            (_, Some(why)) => write!(f, "{} {} -> failed: {why}", self.method, url),
            (Some(s), None) => write!(f, "{} {} -> {s}", self.method, url),
            (None, None) => write!(f, "{} {} -> (no answer yet)", self.method, url),
        }
    }
}

/// The recording, shared with the event tasks.
#[derive(Debug, Default)]
pub struct Recorder {
    console: Mutex<Vec<ConsoleLine>>,
    network: Mutex<Vec<NetworkEntry>>,
}

impl Recorder {
    /// Console lines so far.
    pub fn console(&self) -> Vec<ConsoleLine> {
        self.console.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Requests so far.
    pub fn network(&self) -> Vec<NetworkEntry> {
        self.network.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    fn push_console(&self, level: impl Into<String>, text: impl Into<String>) {
        self.console.lock().unwrap_or_else(|p| p.into_inner()).push(ConsoleLine { level: level.into(), text: text.into() });
    }
    fn update(&self, id: &str, f: impl FnOnce(&mut NetworkEntry)) {
        let mut net = self.network.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = net.iter_mut().rev().find(|e| e.id == id) {
            f(e);
        }
    }
}

fn render_arg(v: &chromiumoxide::cdp::js_protocol::runtime::RemoteObject) -> String {
    match (&v.value, &v.description) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(other), _) => other.to_string(),
        (None, Some(d)) => d.clone(),
        (None, None) => format!("{:?}", v.r#type),
    }
}

/// Subscribes to the page's events; returns the tasks that record them.
pub async fn start(page: &Page, recorder: Arc<Recorder>) -> Result<Vec<tokio::task::JoinHandle<()>>, BrowserError> {
    let err = |what: &str| {
        let what = what.to_owned();
        move |e: chromiumoxide::error::CdpError| BrowserError::Cdp { action: format!("listening to {what}"), message: e.to_string() }
    };
    page.enable_runtime().await.map_err(err("the runtime"))?;
    page.enable_log().await.map_err(err("the log"))?;
    let mut console = page.event_listener::<EventConsoleApiCalled>().await.map_err(err("the console"))?;
    let mut exceptions = page.event_listener::<EventExceptionThrown>().await.map_err(err("exceptions"))?;
    let mut log = page.event_listener::<EventEntryAdded>().await.map_err(err("the browser log"))?;
    let mut sent = page.event_listener::<EventRequestWillBeSent>().await.map_err(err("requests"))?;
    let mut received = page.event_listener::<EventResponseReceived>().await.map_err(err("responses"))?;
    let mut failed = page.event_listener::<EventLoadingFailed>().await.map_err(err("failed loads"))?;
    let mut tasks = Vec::new();
    let r = recorder.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(e) = console.next().await {
            let text = e.args.iter().map(render_arg).collect::<Vec<_>>().join(" ");
            r.push_console(format!("{:?}", e.r#type).to_lowercase(), text);
        }
    }));
    let r = recorder.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(e) = exceptions.next().await {
            let d = &e.exception_details;
            let text = d.exception.as_ref().and_then(|x| x.description.clone()).unwrap_or_else(|| d.text.clone());
            r.push_console("exception", text);
        }
    }));
    let r = recorder.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(e) = log.next().await {
            let url = e.entry.url.as_deref().map(|u| format!(" ({u})")).unwrap_or_default();
            r.push_console(format!("log:{}", e.entry.level.as_ref()), format!("{}{url}", e.entry.text));
        }
    }));
    let r = recorder.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(e) = sent.next().await {
            let entry = NetworkEntry {
                id: e.request_id.inner().clone(),
                method: e.request.method.clone(),
                url: e.request.url.clone(),
                status: None,
                failed: None,
            };
            r.network.lock().unwrap_or_else(|p| p.into_inner()).push(entry);
        }
    }));
    let r = recorder.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(e) = received.next().await {
            let status = e.response.status;
            r.update(e.request_id.inner(), |n| n.status = Some(status));
        }
    }));
    let r = recorder;
    tasks.push(tokio::spawn(async move {
        while let Some(e) = failed.next().await {
            let why = e.error_text.clone();
            r.update(e.request_id.inner(), |n| n.failed = Some(why));
        }
    }));
    Ok(tasks)
}
