//! How a request looks to the server: a page navigation, a `fetch()`, or a Next.js server action.

use reqwest::Method;
use url::Url;

/// A browser-like user agent (Clerk's SDK treats `Mozilla/…` agents as browsers).
pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) clerk-conformance-harness/0.1";

/// The kind of request a browser makes.
///
/// ```
/// use harness::agent::Mode;
/// let url = url::Url::parse("http://127.0.0.1:3000/schedules").unwrap();
/// let page = Mode::Page.headers(&url);
/// assert!(page.contains(&("sec-fetch-dest", "document".to_owned())));
/// let action = Mode::server_action("7f3a").headers(&url);
/// assert!(action.contains(&("next-action", "7f3a".to_owned())));
/// assert_eq!(Mode::server_action("7f3a").default_method(), reqwest::Method::POST);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A document navigation: `Accept: text/html,…`, `Sec-Fetch-Dest: document`, `Sec-Fetch-Mode: navigate`.
    Page,
    /// A script's `fetch()`: `Accept: */*`, `Sec-Fetch-Dest: empty`, `Sec-Fetch-Mode: cors`, `Origin`.
    Fetch,
    /// A Next.js server action: `POST`, `Accept: text/x-component`, `Next-Action: <id>`, `Next-Url: <path>`,
    /// `Origin`, body `text/plain` (the JSON arguments, `[]` when none). No `Next-Router-State-Tree` is sent.
    ServerAction {
        /// The action id (the `Next-Action` header).
        action_id: String,
    },
}

impl Mode {
    /// A server action with this id.
    pub fn server_action(id: impl Into<String>) -> Self {
        Mode::ServerAction { action_id: id.into() }
    }

    /// `GET`, or `POST` for a server action.
    pub fn default_method(&self) -> Method {
        match self {
            Mode::ServerAction { .. } => Method::POST,
            Mode::Page | Mode::Fetch => Method::GET,
        }
    }

    /// The headers this mode adds to a request for `url` (lowercase names).
    pub fn headers(&self, url: &Url) -> Vec<(&'static str, String)> {
        let origin = url.origin().ascii_serialization();
        match self {
            Mode::Page => vec![
                ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".into()),
                ("sec-fetch-dest", "document".into()),
                ("sec-fetch-mode", "navigate".into()),
                ("sec-fetch-site", "none".into()),
                ("sec-fetch-user", "?1".into()),
                ("upgrade-insecure-requests", "1".into()),
            ],
            Mode::Fetch => vec![
                ("accept", "*/*".into()),
                ("sec-fetch-dest", "empty".into()),
                ("sec-fetch-mode", "cors".into()),
                ("sec-fetch-site", "same-origin".into()),
                ("origin", origin),
            ],
            Mode::ServerAction { action_id } => vec![
                ("accept", "text/x-component".into()),
                ("next-action", action_id.clone()),
                ("next-url", url.path().to_owned()),
                ("sec-fetch-dest", "empty".into()),
                ("sec-fetch-mode", "cors".into()),
                ("sec-fetch-site", "same-origin".into()),
                ("origin", origin),
            ],
        }
    }

    /// The content type of a body sent in this mode.
    pub fn body_content_type(&self) -> &'static str {
        match self {
            Mode::ServerAction { .. } => "text/plain;charset=UTF-8",
            Mode::Page | Mode::Fetch => "application/json",
        }
    }
}
