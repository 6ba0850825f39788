//! The browser-like HTTP client the steps drive the app with.
//!
//! An [`Agent`] holds a browser's cookie jar ([`CookieJar`]: keyed by host and path, ports ignored), sends
//! requests the way a page navigation, a `fetch()` or a Next.js server action would ([`Mode`]), and follows
//! redirects **one hop at a time**, recording every [`Hop`] (method, URL, status, `Location`, `Set-Cookie`,
//! headers, body) into a [`Navigation`]. Redirects follow the Fetch standard: 307/308 keep method and body;
//! 303 turns any method but `HEAD` into `GET`; 301/302 turn `POST` into `GET`. A bearer token
//! ([`Agent::set_bearer`]) and any `Authorization` header are sent only to the origin the navigation started
//! at, as browsers drop `Authorization` on cross-origin redirects.
//!
//! Clones share the jar and the bearer (like tabs of one browser), so concurrent requests are possible.
//!
//! ```no_run
//! # async fn demo() -> Result<(), harness::agent::AgentError> {
//! use harness::agent::{Agent, Mode};
//! let agent = Agent::new()?;
//! let nav = agent.navigate("http://127.0.0.1:3000/schedules", &Mode::Page).await?;
//! if nav.status() == 200 && !nav.visited("/auth/sign-in") {
//!     println!("signed in: {}", nav.body());
//! }
//! # Ok(()) }
//! ```

mod cookie;
mod jar;
mod mode;
mod navigation;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use url::Url;

pub use cookie::{CookieError, SameSite, SetCookie, parse_cookie_date};
pub use jar::{Cookie, CookieJar, Stored, now_secs};
pub use mode::{Mode, USER_AGENT};
pub use navigation::{Hop, Navigation, REDIRECT_STATUSES};

/// Redirects followed before giving up (Chrome allows 20; a sane app needs far fewer).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// What went wrong sending a request. Variants carry the hops already made, for the transcript.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The URL does not parse or is not http(s).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// A method or header that HTTP cannot carry.
    #[error("invalid request {what}: {reason}")]
    InvalidRequest {
        /// The method or header.
        what: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// Connecting, sending or reading the answer failed.
    #[error("{method} {url} failed: {source}")]
    Transport {
        /// Method.
        method: String,
        /// URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
        /// Hops completed before this one.
        hops: Vec<Hop>,
    },
    /// The redirect chain is longer than the limit.
    #[error("more than {max} redirects (last Location: {last:?})")]
    TooManyRedirects {
        /// The limit.
        max: usize,
        /// The last `Location`.
        last: Option<String>,
        /// Every hop made.
        hops: Vec<Hop>,
    },
    /// A `Location` that is not an http(s) URL once resolved.
    #[error("cannot follow redirect to {location:?}: {reason}")]
    BadRedirect {
        /// The `Location`.
        location: String,
        /// Why.
        reason: String,
        /// Every hop made.
        hops: Vec<Hop>,
    },
}

impl AgentError {
    /// The hops made before the error (empty when none were).
    pub fn hops(&self) -> &[Hop] {
        match self {
            AgentError::Transport { hops, .. } | AgentError::TooManyRedirects { hops, .. } | AgentError::BadRedirect { hops, .. } => hops,
            _ => &[],
        }
    }
}

/// Configures an [`Agent`].
///
/// ```
/// let agent = harness::agent::Agent::builder().accept_invalid_certs(true).max_redirects(5).build().unwrap();
/// assert_eq!(agent.max_redirects(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct AgentBuilder {
    accept_invalid_certs: bool,
    max_redirects: usize,
    timeout: Duration,
}

impl Default for AgentBuilder {
    fn default() -> Self {
        Self { accept_invalid_certs: false, max_redirects: DEFAULT_MAX_REDIRECTS, timeout: Duration::from_secs(30) }
    }
}

impl AgentBuilder {
    /// Accept self-signed certificates (mock-clerk's https Frontend API). Off by default.
    pub fn accept_invalid_certs(mut self, yes: bool) -> Self {
        self.accept_invalid_certs = yes;
        self
    }
    /// Redirects followed before [`AgentError::TooManyRedirects`] (default 10).
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }
    /// Timeout of each request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Builds the agent with an empty jar.
    pub fn build(self) -> Result<Agent, AgentError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_danger_accept_invalid_certs(self.accept_invalid_certs)
            .timeout(self.timeout)
            .user_agent(USER_AGENT)
            .build()
            .map_err(AgentError::Client)?;
        Ok(Agent { client, jar: Arc::default(), bearer: Arc::default(), raw_cookie: Arc::default(), max_redirects: self.max_redirects })
    }
}

/// A cookie's name and a raw value that need not be text.
type RawCookie = (String, Vec<u8>);

/// A browser: cookie jar, request modes, one-hop-at-a-time redirects. See the module docs.
#[derive(Debug, Clone)]
pub struct Agent {
    client: reqwest::Client,
    jar: Arc<Mutex<CookieJar>>,
    /// The `Authorization: Bearer` value, as bytes: a test may send one that is not valid text.
    bearer: Arc<Mutex<Option<Vec<u8>>>>,
    /// A cookie sent as raw bytes after the jar's (a browser sends a non-ASCII cookie as UTF-8).
    raw_cookie: Arc<Mutex<Option<RawCookie>>>,
    max_redirects: usize,
}

impl Agent {
    /// An agent with the default settings.
    pub fn new() -> Result<Self, AgentError> {
        Self::builder().build()
    }
    /// A builder.
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }
    /// The redirect limit.
    pub fn max_redirects(&self) -> usize {
        self.max_redirects
    }

    /// One request in `mode`'s default method (`GET`, `POST` for server actions); redirects are not followed.
    pub async fn get(&self, url: &str, mode: &Mode) -> Result<Hop, AgentError> {
        self.request(mode.default_method().as_str(), url, mode, None, &[]).await
    }

    /// One request; redirects are not followed. `json` is the body (for a server action: its arguments);
    /// `headers` are added last and replace the mode's headers of the same name.
    pub async fn request(&self, method: &str, url: &str, mode: &Mode, json: Option<&Value>, headers: &[(&str, &str)]) -> Result<Hop, AgentError> {
        let url = parse_url(url)?;
        let method = parse_method(method)?;
        let body = request_body(mode, json);
        self.send(&method, &url, &url, mode, body.as_deref(), headers, &[]).await
    }

    /// One request whose body is sent byte for byte as given (a signed webhook delivery); redirects are not
    /// followed. `headers` replace the mode's headers of the same name.
    pub async fn send_body(&self, method: &str, url: &str, mode: &Mode, body: &str, headers: &[(&str, &str)]) -> Result<Hop, AgentError> {
        let url = parse_url(url)?;
        let method = parse_method(method)?;
        self.send(&method, &url, &url, mode, Some(body), headers, &[]).await
    }

    /// Loads `url` in `mode`'s default method and follows redirects.
    pub async fn navigate(&self, url: &str, mode: &Mode) -> Result<Navigation, AgentError> {
        self.follow(mode.default_method().as_str(), url, mode, None, &[]).await
    }

    /// Like [`Agent::request`], following redirects one hop at a time.
    pub async fn follow(
        &self,
        method: &str,
        url: &str,
        mode: &Mode,
        json: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Navigation, AgentError> {
        let start = parse_url(url)?;
        let mut method = parse_method(method)?;
        let mut body = request_body(mode, json);
        let mut url = start.clone();
        let mut hops: Vec<Hop> = Vec::new();
        loop {
            let hop = self.send(&method, &url, &start, mode, body.as_deref(), headers, &hops).await?;
            let (redirect, location) = (hop.is_redirect(), hop.location.clone());
            hops.push(hop);
            let Some(location) = location.filter(|_| redirect) else {
                return Ok(Navigation::new(hops).expect("one hop was just pushed"));
            };
            if hops.len() > self.max_redirects {
                return Err(AgentError::TooManyRedirects { max: self.max_redirects, last: Some(location), hops });
            }
            url = match url.join(&location) {
                Ok(next) if matches!(next.scheme(), "http" | "https") => next,
                Ok(next) => {
                    let reason = format!("scheme {} is not http(s)", next.scheme());
                    return Err(AgentError::BadRedirect { location, reason, hops });
                }
                Err(e) => return Err(AgentError::BadRedirect { location, reason: e.to_string(), hops }),
            };
            let status = hops.last().map_or(0, |h| h.status);
            if (status == 303 && method != Method::HEAD) || (matches!(status, 301 | 302) && method == Method::POST) {
                method = Method::GET;
                body = None;
            }
        }
    }

    /// Sends one request. `start` is where the navigation began: its origin receives credentials.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        method: &Method,
        url: &Url,
        start: &Url,
        mode: &Mode,
        body: Option<&str>,
        extra: &[(&str, &str)],
        hops: &[Hop],
    ) -> Result<Hop, AgentError> {
        let same_origin = url.origin() == start.origin();
        let mut sent: Vec<(String, Vec<u8>)> = mode.headers(start).into_iter().map(|(n, v)| (n.to_owned(), v.into_bytes())).collect();
        let mut cookie = self.lock_jar().header_for(url).map(String::into_bytes);
        if let Some((name, raw)) = self.raw_cookie.lock().unwrap_or_else(|p| p.into_inner()).clone().filter(|_| same_origin) {
            let mut line = cookie.map(|mut c| {
                c.extend_from_slice(b"; ");
                c
            });
            let line = line.get_or_insert_with(Vec::new);
            line.extend_from_slice(format!("{name}=").as_bytes());
            line.extend_from_slice(&raw);
            cookie = Some(line.clone());
        }
        if let Some(cookie) = cookie {
            sent.push(("cookie".into(), cookie));
        }
        if let Some(token) = self.bearer.lock().unwrap_or_else(|p| p.into_inner()).clone().filter(|_| same_origin) {
            sent.push(("authorization".into(), [b"Bearer ".as_slice(), &token].concat()));
        }
        if body.is_some() {
            sent.push(("content-type".into(), mode.body_content_type().as_bytes().to_vec()));
        }
        for (name, value) in extra {
            let name = name.to_ascii_lowercase();
            if (name == "authorization" && !same_origin) || (name == "content-type" && body.is_none()) {
                continue;
            }
            sent.retain(|(n, _)| *n != name);
            sent.push((name, value.as_bytes().to_vec()));
        }
        let mut header_map = HeaderMap::new();
        for (name, value) in &sent {
            let invalid = |reason: String| AgentError::InvalidRequest { what: format!("header {name}"), reason };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
            let value = HeaderValue::from_bytes(value).map_err(|e| invalid(e.to_string()))?;
            header_map.append(name, value);
        }
        let sent: Vec<(String, String)> = sent.into_iter().map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned())).collect();
        let mut request = self.client.request(method.clone(), url.clone()).headers(header_map);
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let started = Instant::now();
        let transport = |source| AgentError::Transport { method: method.to_string(), url: url.to_string(), source, hops: hops.to_vec() };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Err(transport(e)),
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> =
            response.headers().iter().map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(transport(e)),
        };
        let set_cookies: Vec<String> = headers.iter().filter(|(n, _)| n == "set-cookie").map(|(_, v)| v.clone()).collect();
        let mut refused_cookies = Vec::new();
        {
            let mut jar = self.lock_jar();
            for line in &set_cookies {
                if let Err(e) = jar.store(url, line) {
                    refused_cookies.push(format!("{line}: {e}"));
                }
            }
        }
        Ok(Hop {
            method: method.to_string(),
            url: url.to_string(),
            request_headers: sent,
            request_body: body.map(str::to_owned),
            status,
            location: headers.iter().find(|(n, _)| n == "location").map(|(_, v)| v.clone()),
            set_cookies,
            refused_cookies,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Sets a host-only cookie (`Path=/`) for `host`, on every port, as `document.cookie` would.
    pub fn set_cookie(&self, host: &str, name: &str, value: &str) {
        self.lock_jar().set(host, name, value)
    }
    /// The newest live cookie with this name, on any host.
    pub fn cookie(&self, name: &str) -> Option<Cookie> {
        self.lock_jar().get(name).cloned()
    }
    /// Every live cookie, oldest first.
    pub fn cookies(&self) -> Vec<Cookie> {
        self.lock_jar().all().into_iter().cloned().collect()
    }
    /// The `Cookie:` header the agent would send to `url`.
    pub fn cookie_header_for(&self, url: &str) -> Option<String> {
        Url::parse(url).ok().and_then(|u| self.lock_jar().header_for(&u))
    }
    /// Removes every cookie with this name; returns how many there were.
    pub fn remove_cookie(&self, name: &str) -> usize {
        self.lock_jar().remove(name)
    }
    /// Sends `Authorization: Bearer <token>` on every request (to the navigation's first origin), or stops.
    pub fn set_bearer(&self, token: Option<String>) {
        self.set_bearer_bytes(token.map(String::into_bytes));
    }
    /// Like [`Agent::set_bearer`], with a value that need not be text (sent as raw header bytes).
    pub fn set_bearer_bytes(&self, token: Option<Vec<u8>>) {
        *self.bearer.lock().unwrap_or_else(|p| p.into_inner()) = token;
    }
    /// The bearer token in use (when it is text).
    pub fn bearer(&self) -> Option<String> {
        self.bearer.lock().unwrap_or_else(|p| p.into_inner()).clone().and_then(|b| String::from_utf8(b).ok())
    }
    /// Sends the cookie `name` with this raw value (need not be text) on every request to the navigation's first
    /// origin, after the jar's cookies; `None` stops.
    pub fn set_raw_cookie(&self, name: &str, value: Option<Vec<u8>>) {
        *self.raw_cookie.lock().unwrap_or_else(|p| p.into_inner()) = value.map(|v| (name.to_owned(), v));
    }
    /// Forgets every cookie and the bearer token.
    pub fn clear(&self) {
        self.lock_jar().clear();
        self.set_bearer(None);
        self.set_raw_cookie("", None);
    }

    fn lock_jar(&self) -> MutexGuard<'_, CookieJar> {
        self.jar.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn parse_url(url: &str) -> Result<Url, AgentError> {
    let parsed = Url::parse(url).map_err(|e| AgentError::InvalidUrl { url: url.to_owned(), reason: e.to_string() })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AgentError::InvalidUrl { url: url.to_owned(), reason: "only http and https are supported".into() });
    }
    Ok(parsed)
}

fn parse_method(method: &str) -> Result<Method, AgentError> {
    Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|e| AgentError::InvalidRequest { what: format!("method {method:?}"), reason: e.to_string() })
}

/// The body text: the JSON given, or `[]` for a server action without arguments.
fn request_body(mode: &Mode, json: Option<&Value>) -> Option<String> {
    match (json, mode) {
        (Some(v), _) => Some(v.to_string()),
        (None, Mode::ServerAction { .. }) => Some("[]".into()),
        (None, _) => None,
    }
}

#[cfg(test)]
mod tests;
