//! Organizations through the issuer: an organization, a role with permissions, a membership, and a
//! membership's role changed or removed (the session's next token follows: `o` is built at every mint). In
//! process through mock-clerk's store; remotely through its Backend API, as an admin script would.

use mock_clerk::control::org_ops;
use mock_clerk::error::ApiError;
use mock_clerk::store::orgs::NewOrganization;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Issuer, IssuerError};
use crate::issuer::RemoteIssuer;

fn id_of(op: &str, v: &Value) -> Result<String, IssuerError> {
    v["id"].as_str().map(str::to_owned).ok_or_else(|| IssuerError::Decode { op: op.into(), reason: "no id in the answer".into() })
}

impl RemoteIssuer {
    /// The id of the organization with this id or slug.
    async fn organization_id(&self, org: &str) -> Result<String, IssuerError> {
        let v: Value = self.backend(Method::GET, &format!("organizations/{org}"), None).await?;
        id_of("GET /v1/organizations/{id}", &v)
    }
}

impl Issuer {
    /// Creates an organization (`slug` unique); `created_by` becomes its first admin. Returns its id.
    pub async fn create_organization(&self, name: &str, slug: &str, created_by: Option<&str>) -> Result<String, IssuerError> {
        let new =
            NewOrganization { name: name.into(), slug: Some(slug.into()), created_by: created_by.map(str::to_owned), ..NewOrganization::default() };
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                Ok(c.state().store().create_organization(new, now).map_err(ApiError::from)?.id)
            }
            Issuer::Remote(r) => {
                let org: Value = r.backend(Method::POST, "organizations", Some(serde_json::to_value(&new).expect("serialises"))).await?;
                id_of("POST /v1/organizations", &org)
            }
        }
    }

    /// Makes sure the role `key` (`org:analyst`) exists with at least `permissions` (`org:reports:read`), each
    /// created if missing.
    pub async fn ensure_role(&self, key: &str, permissions: &[&str]) -> Result<(), IssuerError> {
        let permissions: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                org_ops::ensure_role(&mut c.state().store(), key, &permissions, now).map_err(ApiError::from)?;
                Ok(())
            }
            Issuer::Remote(r) => {
                let known: Value = r.backend(Method::GET, "organization_permissions?limit=500", None).await?;
                let mut ids = Vec::new();
                for p in &permissions {
                    let found = known["data"].as_array().and_then(|d| d.iter().find(|x| x["key"] == p.as_str())).cloned();
                    let perm = match found {
                        Some(perm) => perm,
                        None => r.backend(Method::POST, "organization_permissions", Some(json!({"name": p, "key": p}))).await?,
                    };
                    ids.push(id_of("POST /v1/organization_permissions", &perm)?);
                }
                let roles: Value = r.backend(Method::GET, "organization_roles?limit=500", None).await?;
                match roles["data"].as_array().and_then(|d| d.iter().find(|x| x["key"] == key)) {
                    None => {
                        let name = key.strip_prefix("org:").unwrap_or(key);
                        let body = json!({"name": name, "key": key, "permissions": ids});
                        r.backend::<Value>(Method::POST, "organization_roles", Some(body)).await.map(drop)
                    }
                    Some(role) => {
                        let role_id = id_of("GET /v1/organization_roles", role)?;
                        for id in ids {
                            r.backend::<Value>(Method::POST, &format!("organization_roles/{role_id}/permissions/{id}"), None).await?;
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// Makes `user_id` a member of the organization (id or slug) with `role`.
    pub async fn add_membership(&self, org: &str, user_id: &str, role: &str) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                c.state().store().create_membership(org, user_id, role, None, None, now).map_err(ApiError::from)?;
                Ok(())
            }
            Issuer::Remote(r) => {
                let id = r.organization_id(org).await?;
                let body = json!({"user_id": user_id, "role": role});
                r.backend::<Value>(Method::POST, &format!("organizations/{id}/memberships"), Some(body)).await.map(drop)
            }
        }
    }

    /// Gives a member of the organization (id or slug) another role; their session's next token carries it.
    pub async fn set_membership_role(&self, org: &str, user_id: &str, role: &str) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                c.state().store().update_membership_role(org, user_id, role, now).map_err(ApiError::from)?;
                Ok(())
            }
            Issuer::Remote(r) => {
                let id = r.organization_id(org).await?;
                r.backend::<Value>(Method::PATCH, &format!("organizations/{id}/memberships/{user_id}"), Some(json!({"role": role}))).await.map(drop)
            }
        }
    }

    /// Changes what a session's next token carries: its active organization (id or slug, `""` for none), features,
    /// plans, custom claims (`POST /__mock/sessions/{id}/claims`; absent fields stay).
    pub async fn update_session_claims(&self, session_id: &str, update: org_ops::SessionClaimsUpdate) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                let now = c.state().clock().now_ms();
                org_ops::update_session_claims(&mut c.state().store(), session_id, update, now).map_err(ApiError::from)?;
                Ok(())
            }
            Issuer::Remote(r) => {
                let body = serde_json::to_value(&update).expect("serialises");
                r.control::<Value>(Method::POST, &format!("sessions/{session_id}/claims"), Some(body)).await.map(drop)
            }
        }
    }

    /// Removes a member from the organization (id or slug); their session's next token has no `o` for it.
    pub async fn remove_membership(&self, org: &str, user_id: &str) -> Result<(), IssuerError> {
        match self {
            Issuer::Local(c) => {
                c.state().store().delete_membership(org, user_id).map_err(ApiError::from)?;
                Ok(())
            }
            Issuer::Remote(r) => {
                let id = r.organization_id(org).await?;
                r.backend::<Value>(Method::DELETE, &format!("organizations/{id}/memberships/{user_id}"), None).await.map(drop)
            }
        }
    }
}
