//! One interface to mock-clerk for the steps: [`Issuer::Local`] wraps the in-process [`MockClerk`] handle,
//! [`Issuer::Remote`] talks to a mock-clerk started elsewhere through its control API (`/__mock/…`) and its
//! Backend API (session status, with the configured secret key). Every operation is `async` and returns
//! `Result<_, IssuerError>`, whichever side answers; an enum (not a trait) for the same reason as
//! [`crate::downstream::DownstreamHandle`].
//!
//! Time: for a target that checks tokens against its own wall clock, "N seconds pass" is
//! [`Issuer::backdate`] (re-mint the token N seconds in the past); [`Issuer::advance_clock`] moves only
//! mock-clerk's own bookkeeping (session expiry).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use harness::issuer::Issuer;
//! let issuer = Issuer::Local(Arc::new(mock_clerk::MockClerk::start().await));
//! let user = issuer.sign_in().await.unwrap();
//! assert_eq!(issuer.session_status(&user.session_id).await.unwrap(), "active");
//! let older = issuer.backdate(&user.token, 61).await.unwrap();
//! let claims = mock_clerk::tokens::decode_unverified(&older).unwrap().claims;
//! assert!(claims["exp"].as_i64().unwrap() < harness::agent::now_secs());
//! # }
//! ```

mod backdate;
mod machines;
mod orgs;
mod remote;
mod tickets;

use std::sync::Arc;
use std::time::Duration;

use mock_clerk::control::ops::KeysView;
use mock_clerk::error::ApiError;
use mock_clerk::fapi::attempts::SentCode;
use mock_clerk::fapi::handshake::HandshakeFormat;
use mock_clerk::store::SessionStatus;
use mock_clerk::{BrokenToken, Fault, InstanceKind, LoggedRequest, MintRequest, MintedToken, MockClerk, SignInRequest, SignedIn};
use reqwest::Method;
use serde_json::{Value, json};

pub use backdate::backdate_request;
pub use remote::{InstanceInfo, RemoteConfig, RemoteIssuer};
pub use tickets::TicketLink;

/// What went wrong talking to mock-clerk.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// mock-clerk (in process) refused the operation.
    #[error("mock-clerk refused: {0}")]
    Api(#[from] ApiError),
    /// The string given as a token is not a JWT with an `iat`.
    #[error("not a session token: {0}")]
    NotAToken(String),
    /// No session with this id.
    #[error("no session {0}")]
    NoSuchSession(String),
    /// A session status that is not `ended`, `removed` or `revoked`.
    #[error("a session can be ended, removed or revoked, not {0:?}")]
    BadSessionStatus(String),
    /// The Backend API needs the secret key, and none was configured.
    #[error("the remote issuer has no secret key configured (needed for the Backend API)")]
    NoSecretKey,
    /// The remote URL is unusable.
    #[error("invalid mock-clerk URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The call failed on the way.
    #[error("{op}: {source}")]
    Http {
        /// The call.
        op: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// mock-clerk answered an error status.
    #[error("{op} answered {status}: {body}")]
    Status {
        /// The call.
        op: String,
        /// The status.
        status: u16,
        /// The body (Clerk's error envelope).
        body: String,
    },
    /// The answer was not what was expected.
    #[error("{op}: cannot decode the answer: {reason}")]
    Decode {
        /// The call.
        op: String,
        /// Why.
        reason: String,
    },
}

/// mock-clerk, in this process or elsewhere.
// One per scenario: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Issuer {
    /// The in-process handle (shared with whoever started it).
    Local(Arc<MockClerk>),
    /// A mock-clerk in another process.
    Remote(RemoteIssuer),
}

fn to_value<T: serde::Serialize>(op: &str, v: &T) -> Result<Value, IssuerError> {
    serde_json::to_value(v).map_err(|e| IssuerError::Decode { op: op.into(), reason: e.to_string() })
}

fn session_status_named(status: &str) -> Result<SessionStatus, IssuerError> {
    match status {
        "ended" => Ok(SessionStatus::Ended),
        "removed" => Ok(SessionStatus::Removed),
        "revoked" => Ok(SessionStatus::Revoked),
        other => Err(IssuerError::BadSessionStatus(other.into())),
    }
}

impl Issuer {
    /// Connects to a remote mock-clerk.
    pub async fn remote(config: RemoteConfig) -> Result<Self, IssuerError> {
        RemoteIssuer::connect(config).await.map(Issuer::Remote)
    }

    /// mock-clerk's base URL (`CLERK_API_URL`).
    pub fn url(&self) -> String {
        match self {
            Issuer::Local(c) => c.url(),
            Issuer::Remote(r) => r.url(),
        }
    }
    /// `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`.
    pub fn publishable_key(&self) -> &str {
        match self {
            Issuer::Local(c) => c.publishable_key(),
            Issuer::Remote(r) => &r.info().publishable_key,
        }
    }
    /// The suffix of `__session_<sfx>`, `__client_uat_<sfx>`, `__refresh_<sfx>`.
    pub fn cookie_suffix(&self) -> &str {
        match self {
            Issuer::Local(c) => c.instance().cookie_suffix(),
            Issuer::Remote(r) => &r.info().cookie_suffix,
        }
    }
    /// Development or production.
    pub fn kind(&self) -> InstanceKind {
        match self {
            Issuer::Local(c) => c.instance().kind(),
            Issuer::Remote(r) => r.info().kind,
        }
    }
    /// The secret key, when known (always in process; by configuration when remote). For redaction too.
    pub fn secret_key(&self) -> Option<&str> {
        match self {
            Issuer::Local(c) => Some(c.secret_key()),
            Issuer::Remote(r) => r.secret_key(),
        }
    }

    /// Signs a new user in: ids, session token, the cookies a browser holds, the refresh cookie.
    pub async fn sign_in(&self) -> Result<SignedIn, IssuerError> {
        self.sign_in_with(SignInRequest::default()).await
    }
    /// Signs a user in with options (existing user, email, token lifetime, claims).
    pub async fn sign_in_with(&self, req: SignInRequest) -> Result<SignedIn, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.sign_in_with(req)?),
            Issuer::Remote(r) => r.control(Method::POST, "sign-in", Some(to_value("sign-in", &req)?)).await,
        }
    }
    /// Mints a token (valid, or broken as `req.broken` says).
    pub async fn mint(&self, req: MintRequest) -> Result<MintedToken, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.mint(req)),
            Issuer::Remote(r) => r.control(Method::POST, "tokens", Some(to_value("tokens", &req)?)).await,
        }
    }
    /// A token for this user and session, broken in one way.
    pub async fn forge(&self, variant: BrokenToken, sub: &str, sid: &str) -> Result<String, IssuerError> {
        let req = MintRequest { sub: Some(sub.into()), sid: Some(sid.into()), broken: Some(variant), ..MintRequest::default() };
        Ok(self.mint(req).await?.jwt)
    }
    /// `token` re-minted as if issued `secs` seconds earlier (see [`backdate_request`]).
    pub async fn backdate(&self, token: &str, secs: u64) -> Result<String, IssuerError> {
        Ok(self.mint(backdate_request(token, secs)?).await?.jwt)
    }
    /// Moves mock-clerk's virtual clock forward (its bookkeeping only; tokens keep wall time).
    pub async fn advance_clock(&self, secs: u64) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                c.advance(Duration::from_secs(secs));
                Ok(())
            }
            Issuer::Remote(r) => r.control::<Value>(Method::POST, "clock/advance", Some(json!({"seconds": secs}))).await.map(drop),
        }
    }
    /// Creates a user (`POST /v1/users`: emails, names, password) and returns its id.
    pub async fn create_user(&self, new: mock_clerk::store::NewUser) -> Result<String, IssuerError> {
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                let user = c.state().store().create_user(new, now).map_err(ApiError::from)?;
                Ok(user.id.to_string())
            }
            Issuer::Remote(r) => {
                let user = r.create_user(&new).await?;
                user["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| IssuerError::Decode { op: "POST /v1/users".into(), reason: "no id in the user".into() })
            }
        }
    }
    /// The user with this email address as the Backend API shows it (`UserJSON`, with its
    /// `external_accounts`), if there is one.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<Value>, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.state().store().user_by_email(email).map(mock_clerk::bapi::views::user_json)),
            Issuer::Remote(r) => {
                let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("email_address", email).finish();
                let users = r.backend_get(&format!("/v1/users?{query}")).await?;
                Ok(users.as_array().and_then(|u| u.first()).cloned())
            }
        }
    }
    /// A user's access tokens at a provider (`GET /v1/users/{id}/oauth_access_tokens/oauth_<provider>`).
    pub async fn oauth_access_tokens(&self, user_id: &str, provider: &str) -> Result<Vec<Value>, IssuerError> {
        let path = format!("/v1/users/{user_id}/oauth_access_tokens/oauth_{provider}");
        let list = match self {
            Issuer::Local(c) => {
                let store = c.state().store();
                let user = store.user(user_id).map_err(ApiError::from)?;
                user.external_accounts
                    .iter()
                    .filter(|e| e.provider == provider)
                    .map(mock_clerk::external::ExternalAccount::access_token_json)
                    .collect()
            }
            Issuer::Remote(r) => r.backend_get(&path).await?.as_array().cloned().unwrap_or_default(),
        };
        Ok(list)
    }
    /// The verification codes mock-clerk "sent" to `identifier`, oldest first (`GET /__mock/codes`).
    pub async fn codes_for(&self, identifier: &str) -> Result<Vec<SentCode>, IssuerError> {
        match self {
            Issuer::Local(c) => {
                let attempts = c.state().fapi().attempts();
                Ok(attempts.codes.iter().filter(|s| s.identifier.eq_ignore_ascii_case(identifier)).cloned().collect())
            }
            Issuer::Remote(r) => {
                let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("identifier", identifier).finish();
                r.control(Method::GET, &format!("codes?{query}"), None).await
            }
        }
    }
    /// A user's authenticator secret and the code it shows now, by mock-clerk's clock (`GET /__mock/users/{id}/totp`).
    pub async fn totp(&self, user_id: &str) -> Result<mock_clerk::mfa::TotpView, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.totp(user_id)?),
            Issuer::Remote(r) => r.control(Method::GET, &format!("users/{user_id}/totp"), None).await,
        }
    }
    /// Makes the user's first phone number their SMS second factor (`PATCH /v1/phone_numbers/{id}` with
    /// `reserved_for_second_factor`), as an admin would; returns the number.
    pub async fn use_phone_for_second_factor(&self, user_id: &str) -> Result<String, IssuerError> {
        let op = "PATCH /v1/phone_numbers/{id}";
        let no_phone = || IssuerError::Decode { op: op.into(), reason: format!("user {user_id} has no phone number") };
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                let mut store = c.state().store();
                let phone = store.user(user_id).map_err(ApiError::from)?.mfa.phone_numbers.first().cloned().ok_or_else(no_phone)?;
                store.reserve_phone_for_second_factor(&phone.id, true, now).ok_or_else(no_phone)?;
                Ok(phone.phone_number)
            }
            Issuer::Remote(r) => {
                let user: Value = r.backend(Method::GET, &format!("users/{user_id}"), None).await?;
                let phone = &user["phone_numbers"][0];
                let (Some(id), Some(number)) = (phone["id"].as_str(), phone["phone_number"].as_str()) else { return Err(no_phone()) };
                r.backend::<Value>(Method::PATCH, &format!("phone_numbers/{id}"), Some(json!({"reserved_for_second_factor": true}))).await?;
                Ok(number.to_owned())
            }
        }
    }
    /// Ends a session as `ended` (signed out), `removed` or `revoked`.
    pub async fn end_session(&self, session_id: &str, status: &str) -> Result<(), IssuerError> {
        let parsed = session_status_named(status)?;
        match self {
            Issuer::Local(c) => Ok(c.end_session(session_id, parsed)?),
            Issuer::Remote(r) => {
                let route = format!("sessions/{session_id}/end");
                r.control::<Value>(Method::POST, &route, Some(json!({"status": status}))).await.map(drop)
            }
        }
    }
    /// The session's status as the Backend API reports it (`active`, `revoked`, `ended`, `expired`, …).
    pub async fn session_status(&self, session_id: &str) -> Result<String, IssuerError> {
        match self {
            Issuer::Local(c) => {
                let status = c.session_status(session_id).ok_or_else(|| IssuerError::NoSuchSession(session_id.into()))?;
                Ok(status.as_str().to_owned())
            }
            Issuer::Remote(r) => r.session_status(session_id).await,
        }
    }
    /// Every Backend/Frontend API request mock-clerk received (credentials redacted by mock-clerk).
    pub async fn requests(&self) -> Result<Vec<LoggedRequest>, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.requests()),
            Issuer::Remote(r) => r.control(Method::GET, "requests", None).await,
        }
    }
    /// The requests with this method and path.
    pub async fn requests_to(&self, method: &str, path: &str) -> Result<Vec<LoggedRequest>, IssuerError> {
        Ok(self.requests().await?.into_iter().filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path).collect())
    }
    /// How many times the app revoked this session (`POST /v1/sessions/{id}/revoke`).
    pub async fn revoke_calls(&self, session_id: &str) -> Result<usize, IssuerError> {
        Ok(self.requests_to("POST", &format!("/v1/sessions/{session_id}/revoke")).await?.len())
    }
    /// Forgets the request log only.
    pub async fn clear_requests(&self) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                c.clear_requests();
                Ok(())
            }
            Issuer::Remote(r) => r.control::<Value>(Method::DELETE, "requests", None).await.map(drop),
        }
    }
    /// Publishes a new signing key (the old one stays in the JWKS until retired).
    pub async fn rotate_keys(&self) -> Result<KeysView, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.rotate_keys()),
            Issuer::Remote(r) => r.control(Method::POST, "keys/rotate", None).await,
        }
    }
    /// Retires one key, or every inactive key when `kid` is `None`.
    pub async fn retire_keys(&self, kid: Option<&str>) -> Result<KeysView, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.retire_keys(kid)?),
            Issuer::Remote(r) => r.control(Method::POST, "keys/retire", Some(json!({"kid": kid}))).await,
        }
    }
    /// Injects a fault for the next matching requests.
    pub async fn inject(&self, fault: Fault) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.inject(fault)?),
            Issuer::Remote(r) => r.control::<Value>(Method::POST, "faults", Some(to_value("faults", &fault)?)).await.map(drop),
        }
    }
    /// Both JWKS routes answer 503 for the next `times` requests each.
    pub async fn jwks_outage(&self, times: u32) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.jwks_outage(times)?),
            Issuer::Remote(r) => r.control::<Value>(Method::POST, "faults/jwks-outage", Some(json!({"times": times}))).await.map(drop),
        }
    }
    /// Removes every pending fault.
    pub async fn clear_faults(&self) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                c.clear_faults();
                Ok(())
            }
            Issuer::Remote(r) => r.control::<Value>(Method::DELETE, "faults", None).await.map(drop),
        }
    }
    /// Chooses how the handshake answers (nonce, token, or as the SDK asks).
    pub async fn set_handshake_format(&self, format: HandshakeFormat) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                c.set_handshake_format(format);
                Ok(())
            }
            Issuer::Remote(r) => {
                let body = json!({"format": to_value("handshake-format", &format)?});
                r.control::<Value>(Method::POST, "handshake-format", Some(body)).await.map(drop)
            }
        }
    }
    /// Forgets users, sessions, requests, faults and clock offset (keys stay).
    pub async fn reset(&self) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                c.reset();
                Ok(())
            }
            Issuer::Remote(r) => r.control::<Value>(Method::POST, "reset", None).await.map(drop),
        }
    }
}

#[cfg(test)]
mod tests;
mod webhooks;
