//! Organizations for tests in one call: sign in as a member of an organization with a role (created when
//! missing), and the shortcuts the harness's issuer uses locally (create an organization, a role with
//! permissions, a membership; change or remove a membership's role).

use serde::{Deserialize, Serialize};

use crate::store::orgs::{MEMBER_ROLE, NewOrganization, Organization, Role};
use crate::store::{Store, StoreError};

/// The organization a sign-in joins ([`super::ops::SignInRequest::organization`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSignIn {
    /// The organization's slug; it is created (named `name`, else the slug) if there is none.
    pub slug: String,
    /// Its name, when it is created.
    #[serde(default)]
    pub name: Option<String>,
    /// The member's role (`org:admin`; default `org:member`); a role that does not exist yet is created.
    #[serde(default)]
    pub role: Option<String>,
    /// Permissions (`org:reports:read`) the role must have; missing ones are created and granted.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// Makes `user_id` a member of the organization `spec` names, with its role (creating organization, role,
/// permissions and membership as needed, or changing the role of an existing membership). Returns the
/// organization.
pub fn join(store: &mut Store, user_id: &str, spec: &OrgSignIn, now: i64) -> Result<Organization, StoreError> {
    let role = spec.role.clone().unwrap_or_else(|| MEMBER_ROLE.to_owned());
    ensure_role(store, &role, &spec.permissions, now)?;
    let org = match store.organization(&spec.slug) {
        Ok(org) => org.clone(),
        Err(_) => {
            let name = spec.name.clone().unwrap_or_else(|| spec.slug.clone());
            store.create_organization(NewOrganization { name, slug: Some(spec.slug.clone()), ..NewOrganization::default() }, now)?
        }
    };
    match store.membership(&org.id, user_id) {
        Some(m) if m.role == role => {}
        Some(_) => {
            store.update_membership_role(&org.id, user_id, &role, now)?;
        }
        None => {
            store.create_membership(&org.id, user_id, &role, None, None, now)?;
        }
    }
    Ok(org)
}

/// The role `key` with at least `permissions` (each created if missing): created, or extended.
pub fn ensure_role(store: &mut Store, key: &str, permissions: &[String], now: i64) -> Result<Role, StoreError> {
    for p in permissions {
        if store.permission(p).is_err() {
            store.create_permission(p, p, None, now)?;
        }
    }
    if store.role(key).is_err() {
        let name = key.strip_prefix("org:").unwrap_or(key).to_owned();
        return store.create_role(key, &name, None, permissions, now);
    }
    for p in permissions {
        store.add_role_permission(key, p, now)?;
    }
    Ok(store.role(key)?.clone())
}

/// What `mock-clerk token --org … --role … --permission … --feature … --plan … --actor …` puts into a token
/// minted without a stored session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimArgs {
    /// The active organization `(id, slug)`.
    pub org: Option<(String, String)>,
    /// Its role (default `org:member`).
    pub role: Option<String>,
    /// The role's permissions.
    pub permissions: Vec<String>,
    /// Features (`fea`).
    pub features: Vec<String>,
    /// Plans (`pla`).
    pub plans: Vec<String>,
    /// The impersonating user (`act.sub`).
    pub actor: Option<String>,
}

impl ClaimArgs {
    /// The claims (`o`, `fea`, `pla`, `act`), encoded as a session's claims are at mint time.
    ///
    /// ```
    /// use mock_clerk::control::org_ops::ClaimArgs;
    /// let args = ClaimArgs { org: Some(("org_1".into(), "acme".into())), role: Some("org:admin".into()),
    ///     permissions: vec!["org:reports:read".into()], features: vec!["premium".into()], ..ClaimArgs::default() };
    /// let claims = args.claims();
    /// assert_eq!(claims["o"]["rol"], "admin");
    /// assert_eq!(claims["fea"], "o:reports,u:premium");
    /// ```
    pub fn claims(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut claims = serde_json::Map::new();
        let mut fea = Vec::new();
        if let Some((id, slug)) = &self.org {
            let o = crate::store::orgs::OrgClaim::new(id, slug, self.role.as_deref().unwrap_or(MEMBER_ROLE), &self.permissions);
            fea.extend(o.features.iter().map(|f| format!("o:{f}")));
            claims.insert("o".into(), o.o);
        }
        for f in crate::store::orgs::scoped(&self.features) {
            if !fea.contains(&f) {
                fea.push(f);
            }
        }
        if !fea.is_empty() {
            claims.insert("fea".into(), fea.join(",").into());
        }
        if !self.plans.is_empty() {
            claims.insert("pla".into(), crate::store::orgs::scoped(&self.plans).collect::<Vec<_>>().join(",").into());
        }
        if let Some(actor) = &self.actor {
            claims.insert("act".into(), serde_json::json!({"sub": actor}));
        }
        claims
    }
}

/// What `POST /__mock/sessions/{id}/claims` changes on a session (absent fields stay as they are): the claims
/// its next token carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionClaimsUpdate {
    /// The active organization (id or slug; the user must be a member), `""` for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_organization: Option<String>,
    /// Replaces the features (`fea`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Replaces the plans (`pla`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans: Option<Vec<String>>,
    /// Replaces the custom claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Changes the claims a session carries (its next token shows them).
pub fn update_session_claims(store: &mut Store, session_id: &str, update: SessionClaimsUpdate, now: i64) -> Result<(), StoreError> {
    store.session(session_id)?;
    if let Some(org) = &update.active_organization {
        store.set_active_organization(session_id, Some(org), now)?;
    }
    let current = store.session_claims(session_id).cloned().unwrap_or_default();
    let features = update.features.unwrap_or(current.features);
    let plans = update.plans.unwrap_or(current.plans);
    let custom = update.claims.unwrap_or(current.custom);
    store.set_session_claims(session_id, features, plans, custom)
}
