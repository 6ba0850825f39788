//! [`RemoteIssuer`]: mock-clerk in another process, through its control API (`/__mock/…`) and, for session
//! status, its Backend API (`GET /v1/sessions/{id}` with the secret key).

use mock_clerk::InstanceKind;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::IssuerError;

/// How to reach a remote mock-clerk.
///
/// ```
/// let config = harness::issuer::RemoteConfig { url: "http://127.0.0.1:4010".into(),
///     secret_key: Some("sk_test_…".into()), ..Default::default() };
/// assert!(config.control_token.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct RemoteConfig {
    /// mock-clerk's base URL (`CLERK_API_URL`).
    pub url: String,
    /// The instance's secret key, for the Backend API (session status); by configuration, never fetched.
    pub secret_key: Option<String>,
    /// The control token, when mock-clerk's control API was opened to non-loopback callers.
    pub control_token: Option<String>,
    /// Accept a self-signed certificate (mock-clerk serving TLS).
    pub accept_invalid_certs: bool,
}

/// `GET /__mock/instance`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InstanceInfo {
    /// Development or production.
    pub kind: InstanceKind,
    /// `pk_test_…` / `pk_live_…`.
    pub publishable_key: String,
    /// The host in the publishable key.
    pub frontend_api: String,
    /// The `iss` of session tokens.
    pub issuer: String,
    /// The Backend API URL.
    pub api_url: String,
    /// The suffix of `__session_<sfx>` and friends.
    pub cookie_suffix: String,
    /// Lifetime of minted session tokens.
    pub token_lifetime_seconds: u64,
}

/// A connected remote mock-clerk; [`RemoteIssuer::connect`] reads its instance once.
///
/// ```no_run
/// # async fn demo() -> Result<(), harness::issuer::IssuerError> {
/// use harness::issuer::{RemoteConfig, RemoteIssuer};
/// let remote = RemoteIssuer::connect(RemoteConfig { url: "http://127.0.0.1:4010".into(), ..Default::default() }).await?;
/// println!("{}", remote.info().publishable_key);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RemoteIssuer {
    base: Url,
    client: reqwest::Client,
    config: RemoteConfig,
    info: InstanceInfo,
}

impl RemoteIssuer {
    /// Checks the URL, then reads `GET /__mock/instance`.
    pub async fn connect(config: RemoteConfig) -> Result<Self, IssuerError> {
        let invalid = |reason: String| IssuerError::InvalidUrl { url: config.url.clone(), reason };
        let base = Url::parse(&config.url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(invalid("expected http(s)://host:port".into()));
        }
        let client = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(config.accept_invalid_certs)
            .build()
            .map_err(|source| IssuerError::Http { op: "build HTTP client".into(), source })?;
        let placeholder = InstanceInfo {
            kind: InstanceKind::Development,
            publishable_key: String::new(),
            frontend_api: String::new(),
            issuer: String::new(),
            api_url: String::new(),
            cookie_suffix: String::new(),
            token_lifetime_seconds: 0,
        };
        let mut remote = Self { base, client, config, info: placeholder };
        remote.info = remote.control(reqwest::Method::GET, "instance", None).await?;
        Ok(remote)
    }
    /// The instance as read at connect time.
    pub fn info(&self) -> &InstanceInfo {
        &self.info
    }
    /// The base URL, without a trailing slash.
    pub fn url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }
    /// The configured secret key.
    pub fn secret_key(&self) -> Option<&str> {
        self.config.secret_key.as_deref()
    }

    /// Calls `/__mock/<route>` and decodes the JSON answer.
    pub async fn control<T: DeserializeOwned>(&self, method: reqwest::Method, route: &str, body: Option<Value>) -> Result<T, IssuerError> {
        let op = format!("{method} /__mock/{route}");
        let mut request = self.client.request(method, format!("{}/__mock/{route}", self.url()));
        if let Some(token) = &self.config.control_token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.answer(op, request).await
    }

    /// `GET /v1/sessions/{id}` → `status`.
    pub async fn session_status(&self, session_id: &str) -> Result<String, IssuerError> {
        let secret = self.config.secret_key.as_deref().ok_or(IssuerError::NoSecretKey)?;
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| IssuerError::InvalidUrl { url: self.config.url.clone(), reason: "cannot have a path".into() })?
            .pop_if_empty()
            .extend(["v1", "sessions", session_id]);
        let session: Value = self.answer(format!("GET /v1/sessions/{session_id}"), self.client.get(url).bearer_auth(secret)).await?;
        session["status"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| IssuerError::Decode { op: format!("GET /v1/sessions/{session_id}"), reason: "no status in the session".into() })
    }

    /// `POST /v1/users` through the Backend API, as an app's admin script would.
    pub async fn create_user(&self, new: &mock_clerk::store::NewUser) -> Result<Value, IssuerError> {
        let secret = self.config.secret_key.as_deref().ok_or(IssuerError::NoSecretKey)?;
        self.answer("POST /v1/users".into(), self.client.post(format!("{}/v1/users", self.url())).bearer_auth(secret).json(new)).await
    }

    /// `POST <path>` on the Backend API with the secret key and a JSON body.
    pub async fn backend_post(&self, path: &str, body: Value) -> Result<Value, IssuerError> {
        let secret = self.config.secret_key.as_deref().ok_or(IssuerError::NoSecretKey)?;
        self.answer(format!("POST {path}"), self.client.post(format!("{}{path}", self.url())).bearer_auth(secret).json(&body)).await
    }

    /// `DELETE /v1/users/{id}` through the Backend API.
    pub async fn delete_user(&self, user_id: &str) -> Result<(), IssuerError> {
        let secret = self.config.secret_key.as_deref().ok_or(IssuerError::NoSecretKey)?;
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| IssuerError::InvalidUrl { url: self.config.url.clone(), reason: "cannot have a path".into() })?
            .pop_if_empty()
            .extend(["v1", "users", user_id]);
        let op = format!("DELETE /v1/users/{user_id}");
        self.answer::<Value>(op, self.client.delete(url).bearer_auth(secret)).await.map(drop)
    }

    /// `GET <path>` on the Backend API (path and query, e.g. `/v1/users?email_address=…`).
    pub async fn backend_get(&self, path: &str) -> Result<Value, IssuerError> {
        let secret = self.config.secret_key.as_deref().ok_or(IssuerError::NoSecretKey)?;
        self.answer(format!("GET {path}"), self.client.get(format!("{}{path}", self.url())).bearer_auth(secret)).await
    }

    /// Calls the Backend API (`/v1/<route>`) with the secret key.
    pub async fn backend<T: DeserializeOwned>(&self, method: reqwest::Method, route: &str, body: Option<Value>) -> Result<T, IssuerError> {
        let secret = self.config.secret_key.as_deref().ok_or(IssuerError::NoSecretKey)?;
        let mut request = self.client.request(method.clone(), format!("{}/v1/{route}", self.url())).bearer_auth(secret);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.answer(format!("{method} /v1/{route}"), request).await
    }

    async fn answer<T: DeserializeOwned>(&self, op: String, request: reqwest::RequestBuilder) -> Result<T, IssuerError> {
        let response = request.send().await.map_err(|source| IssuerError::Http { op: op.clone(), source })?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|source| IssuerError::Http { op: op.clone(), source })?;
        if !(200..300).contains(&status) {
            return Err(IssuerError::Status { op, status, body: text });
        }
        serde_json::from_str(&text).map_err(|e| IssuerError::Decode { op, reason: e.to_string() })
    }
}
