//! Sign-in tokens and actor tokens through the issuer: in-process for a local mock-clerk, through the Backend
//! API (`POST /v1/sign_in_tokens`, `POST /v1/actor_tokens`, `…/revoke`) for a remote one.

use mock_clerk::error::ApiError;
use mock_clerk::tickets::{ACTOR_SESSION_MAX_SECS, NewTicket, TicketKind};
use serde_json::{Value, json};

use super::{Issuer, IssuerError};

/// A sign-in or actor token as the Backend API gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketLink {
    /// `sit_…` or `act_…`.
    pub id: String,
    /// The URL that signs a browser in (`…/v1/tickets/accept?ticket=…`).
    pub url: String,
}

fn link_of(op: &str, v: &Value) -> Result<TicketLink, IssuerError> {
    let field = |name: &str| {
        v[name].as_str().map(str::to_owned).ok_or_else(|| IssuerError::Decode { op: op.to_owned(), reason: format!("no {name} in the answer") })
    };
    Ok(TicketLink { id: field("id")?, url: field("url")? })
}

impl Issuer {
    fn issue(&self, new: NewTicket) -> Result<TicketLink, IssuerError> {
        let Issuer::Local(c) = self else { unreachable!("local only") };
        let state = c.state();
        state.store().user(&new.user_id).map_err(ApiError::from)?;
        let now = state.clock().now_ms();
        let record = state.fapi().tickets().issue(new, now);
        Ok(TicketLink { id: record.id, url: mock_clerk::fapi::tickets::ticket_url(state, &record.token) })
    }

    /// Creates a sign-in token for `user_id`, valid `expires_in_secs`.
    pub async fn create_sign_in_token(&self, user_id: &str, expires_in_secs: i64) -> Result<TicketLink, IssuerError> {
        match self {
            Issuer::Local(_) => self.issue(NewTicket {
                kind: TicketKind::SignIn,
                user_id: user_id.to_owned(),
                actor: None,
                expires_in_secs,
                session_max_duration_secs: None,
            }),
            Issuer::Remote(r) => {
                let body = json!({"user_id": user_id, "expires_in_seconds": expires_in_secs});
                link_of("POST /v1/sign_in_tokens", &r.backend_post("/v1/sign_in_tokens", body).await?)
            }
        }
    }

    /// Creates an actor token: `actor_sub` impersonates `user_id`.
    pub async fn create_actor_token(&self, user_id: &str, actor_sub: &str) -> Result<TicketLink, IssuerError> {
        match self {
            Issuer::Local(_) => self.issue(NewTicket {
                kind: TicketKind::Actor,
                user_id: user_id.to_owned(),
                actor: Some(json!({"sub": actor_sub})),
                expires_in_secs: mock_clerk::tickets::ACTOR_TOKEN_LIFETIME_SECS,
                session_max_duration_secs: Some(ACTOR_SESSION_MAX_SECS),
            }),
            Issuer::Remote(r) => {
                let body = json!({"user_id": user_id, "actor": {"sub": actor_sub}});
                link_of("POST /v1/actor_tokens", &r.backend_post("/v1/actor_tokens", body).await?)
            }
        }
    }

    /// Revokes a sign-in token.
    pub async fn revoke_sign_in_token(&self, id: &str) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                c.state()
                    .fapi()
                    .tickets()
                    .revoke(TicketKind::SignIn, id, now)
                    .map(drop)
                    .map_err(|_| ApiError::ResourceNotFound { kind: "sign_in_token", id: id.to_owned() }.into())
            }
            Issuer::Remote(r) => r.backend_post(&format!("/v1/sign_in_tokens/{id}/revoke"), json!({})).await.map(drop),
        }
    }
}
