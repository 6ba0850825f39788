//! [`RemoteDownstream`]: the double's control API from another process.

use serde::de::DeserializeOwned;
use url::Url;

use super::DownstreamError;
use super::{RecordedRequest, ScriptRule};

/// A downstream double running elsewhere (started by a stack runner), steered over `/__downstream`.
///
/// ```no_run
/// # async fn demo() -> Result<(), harness::downstream::DownstreamError> {
/// use harness::downstream::{RemoteDownstream, ScriptRule};
/// let remote = RemoteDownstream::new("http://127.0.0.1:4020")?;
/// remote.script(ScriptRule::fail("GET", "/schedules", 1, 503)).await?;
/// let seen = remote.requests().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RemoteDownstream {
    base: Url,
    client: reqwest::Client,
}

impl RemoteDownstream {
    /// A client for the double at `url` (`http://host:port`).
    pub fn new(url: &str) -> Result<Self, DownstreamError> {
        let invalid = |reason: String| DownstreamError::InvalidUrl { url: url.to_owned(), reason };
        let base = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(invalid("expected http://host:port".into()));
        }
        Ok(Self { base, client: reqwest::Client::new() })
    }
    /// The base URL, without a trailing slash.
    pub fn url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }
    /// Every request recorded so far, in arrival order.
    pub async fn requests(&self) -> Result<Vec<RecordedRequest>, DownstreamError> {
        self.call(reqwest::Method::GET, "requests", None).await
    }
    /// Adds a scripted rule (validated here first, and again by the double).
    pub async fn script(&self, rule: ScriptRule) -> Result<(), DownstreamError> {
        super::validate(&rule)?;
        let body = serde_json::to_value(&rule).map_err(|e| DownstreamError::Decode { what: "script".into(), reason: e.to_string() })?;
        self.call::<serde_json::Value>(reqwest::Method::POST, "script", Some(body)).await.map(drop)
    }
    /// The rules not yet used up.
    pub async fn pending_script(&self) -> Result<Vec<ScriptRule>, DownstreamError> {
        self.call(reqwest::Method::GET, "script", None).await
    }
    /// Forgets requests and scripts.
    pub async fn reset(&self) -> Result<(), DownstreamError> {
        self.call::<serde_json::Value>(reqwest::Method::POST, "reset", None).await.map(drop)
    }

    async fn call<T: DeserializeOwned>(&self, method: reqwest::Method, route: &str, body: Option<serde_json::Value>) -> Result<T, DownstreamError> {
        let what = format!("{method} /__downstream/{route}");
        let url = format!("{}/__downstream/{route}", self.url());
        let mut request = self.client.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|source| DownstreamError::Http { what: what.clone(), source })?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|source| DownstreamError::Http { what: what.clone(), source })?;
        if !(200..300).contains(&status) {
            return Err(DownstreamError::Status { what, status, body: text });
        }
        serde_json::from_str(&text).map_err(|e| DownstreamError::Decode { what, reason: e.to_string() })
    }
}
