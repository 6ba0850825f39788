//! Clerk's webhooks through the issuer: mock-clerk's endpoints, its signer (one signing path: the steps post
//! deliveries — broken ones too — signed by mock-clerk itself), and users deleted at Clerk.

use mock_clerk::webhooks::outbox::Endpoint;
use mock_clerk::webhooks::routes::{NewEndpoint, SignRequest, SignedWebhook};
use reqwest::Method;
use serde_json::Value;

use super::{Issuer, IssuerError};
use mock_clerk::error::ApiError;

impl Issuer {
    /// Signs a delivery as mock-clerk signs its own (`POST /__mock/webhooks/sign`): the instance's secret unless
    /// `req.secret` names another, the wall clock unless `req.timestamp` is given.
    pub async fn sign_webhook(&self, req: SignRequest) -> Result<SignedWebhook, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(mock_clerk::webhooks::routes::sign(c.state(), req)?),
            Issuer::Remote(r) => r.control(Method::POST, "webhooks/sign", Some(serde_json::to_value(req).expect("serialises"))).await,
        }
    }

    /// mock-clerk's instance id (`ins_…`), as its events carry it.
    pub async fn webhook_instance_id(&self) -> Result<String, IssuerError> {
        match self {
            Issuer::Local(c) => Ok(c.state().webhooks().instance_id().to_owned()),
            Issuer::Remote(r) => {
                let overview: Value = r.control(Method::GET, "webhooks", None).await?;
                overview["instance_id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| IssuerError::Decode { op: "GET /__mock/webhooks".into(), reason: "no instance_id".into() })
            }
        }
    }

    /// Makes mock-clerk deliver `events` to `url` (an endpoint already there for that URL is kept as it is).
    pub async fn deliver_webhooks_to(&self, url: &str, events: &[&str]) -> Result<Endpoint, IssuerError> {
        let existing: Vec<Endpoint> = match self {
            Issuer::Local(c) => c.state().webhooks().endpoints(),
            Issuer::Remote(r) => r.control(Method::GET, "webhooks/endpoints", None).await?,
        };
        if let Some(found) = existing.into_iter().find(|e| e.url == url) {
            return Ok(found);
        }
        let new = NewEndpoint { url: url.to_owned(), events: events.iter().map(|e| (*e).to_owned()).collect(), secret: None };
        match self {
            Issuer::Local(c) => Ok(mock_clerk::webhooks::routes::add_endpoint(c.state(), new)?),
            Issuer::Remote(r) => r.control(Method::POST, "webhooks/endpoints", Some(serde_json::to_value(new).expect("serialises"))).await,
        }
    }

    /// Deletes a user at Clerk (`DELETE /v1/users/{id}`), as an admin would.
    pub async fn delete_user(&self, user_id: &str) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                c.state().store().delete_user(user_id, now).map_err(ApiError::from)?;
                Ok(())
            }
            Issuer::Remote(r) => r.delete_user(user_id).await,
        }
    }
}
