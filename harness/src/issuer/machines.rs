//! Machine tokens through the issuer: M2M tokens (opaque or JWT), API keys and OAuth access tokens, and their
//! revocation. In process through mock-clerk's functions, remotely through the control API
//! (`POST /__mock/machine-tokens`, `POST /__mock/machine-tokens/revoke`): the same code answers both.

use mock_clerk::control::machines::{IssuedMachineToken, MachineTokenKind, MachineTokenRequest, RevokeRequest};
use mock_clerk::machines::TokenFormat;
use reqwest::Method;
use serde_json::Value;

use super::{Issuer, IssuerError, to_value};

impl Issuer {
    /// Issues a machine token as `req` says (the general form of the methods below).
    pub async fn issue_machine_token(&self, req: MachineTokenRequest) -> Result<IssuedMachineToken, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(mock_clerk::control::machines::issue(c.state(), req)?),
            Issuer::Remote(r) => r.control(Method::POST, "machine-tokens", Some(to_value("machine-tokens", &req)?)).await,
        }
    }

    /// An M2M token of the machine named `machine` (created when missing), allowed to talk to the machines named
    /// in `talks_to` (created when missing): Clerk's M2M scopes are machine ids, so the token's `scopes` are
    /// those machines' ids. `format`: opaque (`mt_…`, verified through the Backend API, revocable) or JWT
    /// (verified against the JWKS, not revocable). The answer carries the sending machine's secret key.
    pub async fn create_m2m_token(&self, machine: &str, talks_to: &[&str], format: TokenFormat) -> Result<IssuedMachineToken, IssuerError> {
        self.issue_machine_token(MachineTokenRequest {
            kind: MachineTokenKind::M2mToken,
            format,
            scopes: talks_to.iter().map(|s| (*s).to_owned()).collect(),
            subject: Some(machine.to_owned()),
            claims: None,
            seconds_until_expiration: None,
        })
        .await
    }

    /// An API key (`ak_…`) for a user or organization (`subject`), with free-form `scopes`
    /// (`"reports:read"`) and optional custom `claims`.
    pub async fn create_api_key(&self, subject: &str, scopes: &[&str], claims: Option<Value>) -> Result<IssuedMachineToken, IssuerError> {
        self.issue_machine_token(MachineTokenRequest {
            kind: MachineTokenKind::ApiKey,
            format: TokenFormat::Opaque,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            subject: Some(subject.to_owned()),
            claims,
            seconds_until_expiration: None,
        })
        .await
    }

    /// An OAuth access token for a user with free-form `scopes`: opaque (`oat_…`) or JWT (`typ: at+jwt`).
    pub async fn create_oauth_token(&self, user_id: &str, scopes: &[&str], format: TokenFormat) -> Result<IssuedMachineToken, IssuerError> {
        self.issue_machine_token(MachineTokenRequest {
            kind: MachineTokenKind::OauthToken,
            format,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            subject: Some(user_id.to_owned()),
            claims: None,
            seconds_until_expiration: None,
        })
        .await
    }

    /// Revokes a machine token issued above (opaque forms; a JWT-form M2M token cannot be revoked, as in Clerk:
    /// `IssuerError` with mock-clerk's 404).
    pub async fn revoke_machine_token(&self, token: &IssuedMachineToken) -> Result<(), IssuerError> {
        let req = RevokeRequest { kind: token.kind, id: token.id.clone() };
        match self {
            Issuer::Local(c) => Ok(mock_clerk::control::machines::revoke(c.state(), &req)?),
            Issuer::Remote(r) => {
                r.control::<Value>(Method::POST, "machine-tokens/revoke", Some(to_value("machine-tokens/revoke", &req)?)).await.map(drop)
            }
        }
    }
}
