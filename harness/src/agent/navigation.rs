//! What the agent saw: one [`Hop`] per request, and a [`Navigation`] (the hops of one followed redirect chain).

use serde::de::DeserializeOwned;

/// Statuses a browser follows when there is a `Location`.
pub const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// One request and its response.
///
/// ```
/// use harness::agent::Hop;
/// let hop = Hop { status: 307, location: Some("/auth/sign-in".into()),
///     headers: vec![("x-clerk-auth-reason".into(), "session-token-and-uat-missing".into())], ..Hop::default() };
/// assert!(hop.is_redirect());
/// assert_eq!(hop.auth_reason(), Some("session-token-and-uat-missing"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Hop {
    /// `GET`, `POST`, …
    pub method: String,
    /// The absolute URL requested.
    pub url: String,
    /// Every request header the agent sent (including `Cookie` and `Authorization`).
    pub request_headers: Vec<(String, String)>,
    /// The request body, when there was one.
    pub request_body: Option<String>,
    /// Response status.
    pub status: u16,
    /// The raw `Location` header.
    pub location: Option<String>,
    /// Every `Set-Cookie` line, in order.
    pub set_cookies: Vec<String>,
    /// `Set-Cookie` lines the jar refused, with the reason.
    pub refused_cookies: Vec<String>,
    /// Every response header (lowercase names), in order.
    pub headers: Vec<(String, String)>,
    /// The response body as text (lossy UTF-8).
    pub body: String,
    /// How long the request took, milliseconds.
    pub elapsed_ms: u64,
}

impl Hop {
    /// The first response header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The first request header sent with this name (case-insensitive).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// `x-clerk-auth-reason`.
    pub fn auth_reason(&self) -> Option<&str> {
        self.header("x-clerk-auth-reason")
    }
    /// `x-clerk-auth-status` (`signed-in`, `signed-out`, `handshake`).
    pub fn auth_status(&self) -> Option<&str> {
        self.header("x-clerk-auth-status")
    }
    /// A redirect status with a `Location`.
    pub fn is_redirect(&self) -> bool {
        REDIRECT_STATUSES.contains(&self.status) && self.location.is_some()
    }
    /// The `Set-Cookie` line for this cookie name, if the response set it.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().map(String::as_str).find(|l| l.split_once('=').is_some_and(|(n, _)| n.trim() == name))
    }
    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
    /// The path of the requested URL (empty when it does not parse).
    pub fn path(&self) -> String {
        url::Url::parse(&self.url).map(|u| u.path().to_owned()).unwrap_or_default()
    }
}

/// The hops of one navigation, in order; never empty (the agent only builds it after a response).
///
/// ```
/// use harness::agent::{Hop, Navigation};
/// let nav = Navigation::new(vec![
///     Hop { url: "http://127.0.0.1:3000/".into(), status: 307, location: Some("/auth/sign-in".into()), ..Hop::default() },
///     Hop { url: "http://127.0.0.1:3000/auth/sign-in".into(), status: 200, body: "<html>".into(), ..Hop::default() },
/// ]).unwrap();
/// assert_eq!((nav.status(), nav.final_url(), nav.redirects()), (200, "http://127.0.0.1:3000/auth/sign-in", 1));
/// assert!(nav.visited("/auth/sign-in"));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Navigation {
    hops: Vec<Hop>,
}

impl Navigation {
    /// Wraps hops; `None` when there are none.
    pub fn new(hops: Vec<Hop>) -> Option<Self> {
        (!hops.is_empty()).then_some(Self { hops })
    }
    /// Every hop, in order.
    pub fn hops(&self) -> &[Hop] {
        &self.hops
    }
    /// The first hop (the request made).
    pub fn first(&self) -> &Hop {
        &self.hops[0]
    }
    /// The last hop (the answer the browser shows).
    pub fn last(&self) -> &Hop {
        &self.hops[self.hops.len() - 1]
    }
    /// The final status.
    pub fn status(&self) -> u16 {
        self.last().status
    }
    /// The final body.
    pub fn body(&self) -> &str {
        &self.last().body
    }
    /// The final URL.
    pub fn final_url(&self) -> &str {
        &self.last().url
    }
    /// How many redirects were followed.
    pub fn redirects(&self) -> usize {
        self.hops.len() - 1
    }
    /// Whether any hop's URL path equals `path` or its full URL starts with it.
    pub fn visited(&self, path_or_url: &str) -> bool {
        self.hops.iter().any(|h| h.path() == path_or_url || h.url.starts_with(path_or_url))
    }
    /// Every `Set-Cookie` line of every hop, in order.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.hops.iter().flat_map(|h| h.set_cookies.iter().map(String::as_str)).collect()
    }
    /// The final body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.last().json()
    }
}
