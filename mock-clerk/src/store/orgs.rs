//! Organizations, memberships, invitations, roles and permissions (Clerk's B2B data model), and the claims a
//! session carries into every token it mints: its active organization, features, plans and custom claims.
//!
//! Roles and permissions are per instance. Clerk's defaults are `org:admin` (every system permission) and
//! `org:member` (`org:sys_memberships:read`); custom ones (`org:reports:read`) are created through the Backend API.
//! System permissions (`org:sys_…`) never go into a session token (Clerk leaves them out to keep tokens small);
//! custom ones do, encoded as `o.per` / `o.fpm` against the organization features of `fea`
//! (`@clerk/shared` `jwtPayloadParser.ts`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{Store, StoreError, check_metadata};
use crate::ids::new_id;
use crate::webhooks::events::Change;

mod claims;
mod memberships;

pub use claims::{OrgClaim, SessionClaims, scoped};

/// The role every organization's creator gets.
pub const ADMIN_ROLE: &str = "org:admin";
/// The default role of a new member.
pub const MEMBER_ROLE: &str = "org:member";
/// The prefix of system permissions.
pub const SYSTEM_PERMISSION_PREFIX: &str = "org:sys_";
/// How long an invitation stays pending when the request does not say (Clerk's default: 30 days).
const INVITATION_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Id prefixes of this module's records.
mod prefix {
    pub const ORGANIZATION: &str = "org";
    pub const MEMBERSHIP: &str = "orgmem";
    pub const INVITATION: &str = "orginv";
    pub const ROLE: &str = "role";
    pub const PERMISSION: &str = "perm";
}

/// Clerk's system permissions (key, name), as every instance has them.
pub const SYSTEM_PERMISSIONS: &[(&str, &str)] = &[
    ("org:sys_profile:manage", "Manage organization"),
    ("org:sys_profile:delete", "Delete organization"),
    ("org:sys_memberships:read", "Read members"),
    ("org:sys_memberships:manage", "Manage members"),
    ("org:sys_domains:read", "Read domains"),
    ("org:sys_domains:manage", "Manage domains"),
];

/// An organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique per instance: lowercase letters, digits and `-`.
    pub slug: String,
    /// Metadata objects.
    pub public_metadata: Map<String, Value>,
    /// Metadata objects.
    pub private_metadata: Map<String, Value>,
    /// 0: no limit.
    pub max_allowed_memberships: u64,
    /// Whether an admin may delete it through the Frontend API.
    pub admin_delete_enabled: bool,
    /// The user who created it (its first admin).
    pub created_by: Option<String>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// A user's membership in an organization, with one role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    /// `orgmem_…`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// The member.
    pub user_id: String,
    /// A role key (`org:admin`).
    pub role: String,
    /// Metadata objects.
    pub public_metadata: Map<String, Value>,
    /// Metadata objects.
    pub private_metadata: Map<String, Value>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    /// Sent, not answered.
    Pending,
    /// The invited address became a member.
    Accepted,
    /// Withdrawn.
    Revoked,
}

impl InvitationStatus {
    /// Clerk's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
        }
    }
}

/// An invitation to join an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    /// `orginv_…`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// Who is invited.
    pub email_address: String,
    /// The role they get.
    pub role: String,
    /// Pending, accepted or revoked.
    pub status: InvitationStatus,
    /// Who invited them.
    pub inviter_id: Option<String>,
    /// Metadata objects.
    pub public_metadata: Map<String, Value>,
    /// Metadata objects.
    pub private_metadata: Map<String, Value>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
    /// Milliseconds.
    pub expires_at: i64,
}

/// A role: a key and the permission keys it grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// `role_…`.
    pub id: String,
    /// `org:admin`, `org:billing_manager`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Optional text.
    pub description: Option<String>,
    /// Permission keys, in the order they were granted.
    pub permissions: Vec<String>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// A permission (`org:feature:action`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    /// `perm_…`.
    pub id: String,
    /// `org:reports:read`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Text.
    pub description: String,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

impl Permission {
    /// `system` or `user`, as Clerk types them.
    pub fn kind(&self) -> &'static str {
        if self.key.starts_with(SYSTEM_PERMISSION_PREFIX) { "system" } else { "user" }
    }
}

/// Everything organizational, held by the [`Store`] and kept in the state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Orgs {
    organizations: Vec<Organization>,
    memberships: Vec<Membership>,
    invitations: Vec<Invitation>,
    roles: Vec<Role>,
    permissions: Vec<Permission>,
}

impl Default for Orgs {
    /// Clerk's defaults: the system permissions, `org:admin` and `org:member`.
    fn default() -> Self {
        let permissions = SYSTEM_PERMISSIONS
            .iter()
            .map(|(key, name)| Permission {
                id: new_id(prefix::PERMISSION),
                key: (*key).into(),
                name: (*name).into(),
                description: format!("Permission to {}.", name.to_lowercase()),
                created_at: 0,
                updated_at: 0,
            })
            .collect();
        let role = |key: &str, name: &str, permissions: Vec<String>| Role {
            id: new_id(prefix::ROLE),
            key: key.into(),
            name: name.into(),
            description: None,
            permissions,
            created_at: 0,
            updated_at: 0,
        };
        let all = SYSTEM_PERMISSIONS.iter().map(|(k, _)| (*k).to_owned()).collect();
        Self {
            organizations: Vec::new(),
            memberships: Vec::new(),
            invitations: Vec::new(),
            roles: vec![role(ADMIN_ROLE, "Admin", all), role(MEMBER_ROLE, "Member", vec!["org:sys_memberships:read".into()])],
            permissions,
        }
    }
}

impl Orgs {
    /// Forgets a deleted user's memberships.
    pub(super) fn remove_user(&mut self, user_id: &str) {
        self.memberships.retain(|m| m.user_id != user_id);
    }
}

/// What creating an organization takes (`POST /v1/organizations`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// Required.
    pub name: String,
    /// Optional; derived from the name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    /// Becomes the first admin.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Optional.
    #[serde(default)]
    pub public_metadata: Option<Map<String, Value>>,
    /// Optional.
    #[serde(default)]
    pub private_metadata: Option<Map<String, Value>>,
    /// Optional, 0 for no limit.
    #[serde(default)]
    pub max_allowed_memberships: Option<u64>,
    /// Accepted and ignored.
    #[serde(default, skip_serializing)]
    pub created_at: Option<String>,
    /// Accepted and ignored.
    #[serde(default, skip_serializing)]
    pub role_set_key: Option<String>,
}

/// What `PATCH /v1/organizations/{id}` may change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationUpdate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New slug (unique).
    #[serde(default)]
    pub slug: Option<String>,
    /// New limit.
    #[serde(default)]
    pub max_allowed_memberships: Option<u64>,
    /// New flag.
    #[serde(default)]
    pub admin_delete_enabled: Option<bool>,
    /// Accepted and ignored.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Accepted and ignored.
    #[serde(default)]
    pub role_set_key: Option<String>,
}

/// A new invitation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Who to invite.
    pub email_address: String,
    /// The role they will get.
    pub role: String,
    /// Who invites.
    #[serde(default)]
    pub inviter_user_id: Option<String>,
    /// Optional.
    #[serde(default)]
    pub public_metadata: Option<Map<String, Value>>,
    /// Optional.
    #[serde(default)]
    pub private_metadata: Option<Map<String, Value>>,
    /// Accepted and ignored (no emails are sent).
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// Lifetime in days (default 30).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// Accepted and ignored.
    #[serde(default)]
    pub notify: Option<bool>,
}

/// Whether a slug is lowercase letters, digits and single dashes.
fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.len() <= 256 && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A slug from a name: lowercase, runs of other characters become one dash.
fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() { "org".into() } else { trimmed.to_owned() }
}

/// A role or permission key: `org:` then lowercase letters, digits, `_` (and, for permissions, one more `:`).
fn is_valid_key(key: &str, segments: usize) -> bool {
    let parts: Vec<&str> = key.split(':').collect();
    parts.len() == segments
        && parts[0] == "org"
        && parts[1..].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
}

fn not_found(kind: &'static str, id: &str) -> StoreError {
    StoreError::NotFound { kind, id: id.to_owned() }
}

fn name_checked(param: &'static str, name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 256 {
        return Err(StoreError::InvalidParam { param, message: "a name has 1 to 256 characters".into() });
    }
    Ok(name.to_owned())
}

/// Organizations.
impl Store {
    /// An organization by id or slug.
    pub fn organization(&self, id_or_slug: &str) -> Result<&Organization, StoreError> {
        self.orgs.organizations.iter().find(|o| o.id == id_or_slug || o.slug == id_or_slug).ok_or_else(|| not_found("organization", id_or_slug))
    }

    fn organization_mut(&mut self, id: &str) -> Result<&mut Organization, StoreError> {
        self.orgs.organizations.iter_mut().find(|o| o.id == id || o.slug == id).ok_or_else(|| not_found("organization", id))
    }

    fn check_slug_free(&self, slug: &str, except: Option<&str>) -> Result<(), StoreError> {
        if !is_valid_slug(slug) {
            return Err(StoreError::InvalidParam { param: "slug", message: "a slug has only lowercase letters, digits and '-'".into() });
        }
        if self.orgs.organizations.iter().any(|o| o.slug == slug && Some(o.id.as_str()) != except) {
            return Err(StoreError::IdentifierTaken { param: "slug", value: slug.to_owned() });
        }
        Ok(())
    }

    /// Creates an organization; its creator (if any) becomes its first admin.
    pub fn create_organization(&mut self, new: NewOrganization, now: i64) -> Result<Organization, StoreError> {
        let name = name_checked("name", &new.name)?;
        let public_metadata = new.public_metadata.unwrap_or_default();
        let private_metadata = new.private_metadata.unwrap_or_default();
        check_metadata("public_metadata", &public_metadata)?;
        check_metadata("private_metadata", &private_metadata)?;
        if let Some(user) = &new.created_by {
            self.user(user)?;
        }
        let slug = match new.slug {
            Some(slug) => {
                self.check_slug_free(&slug, None)?;
                slug
            }
            None => {
                let base = slugify(&name);
                let mut slug = base.clone();
                let mut n = 1;
                while self.orgs.organizations.iter().any(|o| o.slug == slug) {
                    n += 1;
                    slug = format!("{base}-{n}");
                }
                slug
            }
        };
        let org = Organization {
            id: new_id(prefix::ORGANIZATION),
            name,
            slug,
            public_metadata,
            private_metadata,
            max_allowed_memberships: new.max_allowed_memberships.unwrap_or(0),
            admin_delete_enabled: true,
            created_by: new.created_by.clone(),
            created_at: now,
            updated_at: now,
        };
        self.orgs.organizations.push(org.clone());
        self.org_change("organization.created", crate::bapi::org_views::organization_json(self, &org));
        if let Some(user) = new.created_by {
            self.create_membership(&org.id, &user, ADMIN_ROLE, None, None, now)?;
        }
        Ok(org)
    }

    /// Organizations matching `query` (id exactly; name or slug partly, case-insensitive) and, if any are
    /// given, having one of `user_ids` as a member: the page after `offset` (newest first) and the total.
    pub fn organizations(&self, query: Option<&str>, user_ids: &[String], offset: usize, limit: usize) -> (Vec<&Organization>, usize) {
        let q = query.map(str::to_lowercase);
        let mut found: Vec<&Organization> = self
            .orgs
            .organizations
            .iter()
            .filter(|o| q.as_ref().is_none_or(|q| o.id == *q || o.name.to_lowercase().contains(q.as_str()) || o.slug.contains(q.as_str())))
            .filter(|o| user_ids.is_empty() || self.orgs.memberships.iter().any(|m| m.organization_id == o.id && user_ids.contains(&m.user_id)))
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        let total = found.len();
        (found.into_iter().skip(offset).take(limit).collect(), total)
    }

    /// Changes an organization's name, slug, limit or flags.
    pub fn update_organization(&mut self, id: &str, update: OrganizationUpdate, now: i64) -> Result<Organization, StoreError> {
        let current = self.organization(id)?.id.clone();
        let name = update.name.as_deref().map(|n| name_checked("name", n)).transpose()?;
        if let Some(slug) = &update.slug {
            self.check_slug_free(slug, Some(&current))?;
        }
        let org = self.organization_mut(&current)?;
        if let Some(name) = name {
            org.name = name;
        }
        if let Some(slug) = update.slug {
            org.slug = slug;
        }
        if let Some(max) = update.max_allowed_memberships {
            org.max_allowed_memberships = max;
        }
        if let Some(flag) = update.admin_delete_enabled {
            org.admin_delete_enabled = flag;
        }
        org.updated_at = now;
        let org = org.clone();
        self.org_change("organization.updated", crate::bapi::org_views::organization_json(self, &org));
        Ok(org)
    }

    /// Sets an organization's metadata objects (given ones only; each already merged or replaced by the caller).
    pub fn set_organization_metadata(
        &mut self,
        id: &str,
        public: Option<Map<String, Value>>,
        private: Option<Map<String, Value>>,
        now: i64,
    ) -> Result<Organization, StoreError> {
        for (param, m) in [("public_metadata", &public), ("private_metadata", &private)] {
            if let Some(m) = m {
                check_metadata(param, m)?;
            }
        }
        let org = self.organization_mut(id)?;
        if let Some(p) = public {
            org.public_metadata = p;
        }
        if let Some(p) = private {
            org.private_metadata = p;
        }
        org.updated_at = now;
        let org = org.clone();
        self.org_change("organization.updated", crate::bapi::org_views::organization_json(self, &org));
        Ok(org)
    }

    /// Deletes an organization with its memberships and invitations; sessions that had it active lose it.
    pub fn delete_organization(&mut self, id: &str) -> Result<Organization, StoreError> {
        let org = self.organization(id)?.clone();
        self.orgs.organizations.retain(|o| o.id != org.id);
        self.orgs.memberships.retain(|m| m.organization_id != org.id);
        self.orgs.invitations.retain(|i| i.organization_id != org.id);
        for s in self.sessions.values_mut() {
            if let Some(c) = s.claims.as_deref_mut()
                && c.active_organization_id.as_deref() == Some(org.id.as_str())
            {
                c.active_organization_id = None;
            }
        }
        let mut data = crate::bapi::views::deleted_json("organization", &org.id);
        data["slug"] = json!(org.slug);
        self.org_change("organization.deleted", data);
        Ok(org)
    }

    fn org_change(&mut self, event: &'static str, data: Value) {
        self.changes.push(Change::Organization { event, data: Box::new(data) });
    }
}

/// Roles and permissions.
impl Store {
    /// A role by key or id.
    pub fn role(&self, key_or_id: &str) -> Result<&Role, StoreError> {
        self.orgs.roles.iter().find(|r| r.key == key_or_id || r.id == key_or_id).ok_or_else(|| not_found("role", key_or_id))
    }

    /// Every role, oldest first.
    pub fn roles(&self) -> &[Role] {
        &self.orgs.roles
    }

    /// A permission by key or id.
    pub fn permission(&self, key_or_id: &str) -> Result<&Permission, StoreError> {
        self.orgs.permissions.iter().find(|p| p.key == key_or_id || p.id == key_or_id).ok_or_else(|| not_found("permission", key_or_id))
    }

    /// Every permission, system ones first.
    pub fn permissions(&self) -> &[Permission] {
        &self.orgs.permissions
    }

    /// Creates a custom permission `org:feature:action`.
    pub fn create_permission(&mut self, key: &str, name: &str, description: Option<&str>, now: i64) -> Result<Permission, StoreError> {
        if !is_valid_key(key, 3) || key.starts_with(SYSTEM_PERMISSION_PREFIX) {
            return Err(StoreError::InvalidParam {
                param: "key",
                message: format!("{key:?}: a permission key is org:<feature>:<action> (lowercase letters, digits, '_'), not org:sys_…"),
            });
        }
        if self.permission(key).is_ok() {
            return Err(StoreError::IdentifierTaken { param: "key", value: key.to_owned() });
        }
        let p = Permission {
            id: new_id(prefix::PERMISSION),
            key: key.to_owned(),
            name: name_checked("name", name)?,
            description: description.unwrap_or_default().to_owned(),
            created_at: now,
            updated_at: now,
        };
        self.orgs.permissions.push(p.clone());
        Ok(p)
    }

    /// Creates a custom role with permissions (keys or ids, which must exist).
    pub fn create_role(&mut self, key: &str, name: &str, description: Option<&str>, permissions: &[String], now: i64) -> Result<Role, StoreError> {
        if !is_valid_key(key, 2) {
            return Err(StoreError::InvalidParam {
                param: "key",
                message: format!("{key:?}: a role key is org:<name> (lowercase letters, digits, '_')"),
            });
        }
        if self.role(key).is_ok() {
            return Err(StoreError::IdentifierTaken { param: "key", value: key.to_owned() });
        }
        let mut keys = Vec::new();
        for p in permissions {
            let k = self.permission(p)?.key.clone();
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let role = Role {
            id: new_id(prefix::ROLE),
            key: key.to_owned(),
            name: name_checked("name", name)?,
            description: description.map(str::to_owned),
            permissions: keys,
            created_at: now,
            updated_at: now,
        };
        self.orgs.roles.push(role.clone());
        Ok(role)
    }

    /// Grants a role one more permission (the next token of its members carries it).
    pub fn add_role_permission(&mut self, role: &str, permission: &str, now: i64) -> Result<Role, StoreError> {
        let key = self.permission(permission)?.key.clone();
        let role_id = self.role(role)?.id.clone();
        let r = self.orgs.roles.iter_mut().find(|r| r.id == role_id).ok_or_else(|| not_found("role", role))?;
        if !r.permissions.contains(&key) {
            r.permissions.push(key);
            r.updated_at = now;
        }
        Ok(r.clone())
    }

    /// Takes a permission from a role.
    pub fn remove_role_permission(&mut self, role: &str, permission: &str, now: i64) -> Result<Role, StoreError> {
        let key = self.permission(permission)?.key.clone();
        let role_id = self.role(role)?.id.clone();
        let r = self.orgs.roles.iter_mut().find(|r| r.id == role_id).ok_or_else(|| not_found("role", role))?;
        r.permissions.retain(|p| *p != key);
        r.updated_at = now;
        Ok(r.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewUser;

    #[test]
    fn the_o_claim_follows_the_membership() {
        let mut store = Store::default();
        let u = store.create_user(NewUser { email_address: vec!["o@example.com".into()], ..NewUser::default() }, 0).unwrap();
        store.create_permission("org:reports:read", "Read reports", None, 0).unwrap();
        store.create_role("org:analyst", "Analyst", None, &["org:reports:read".into()], 0).unwrap();
        let org = store
            .create_organization(NewOrganization { name: "Acme Inc".into(), created_by: Some(u.id.to_string()), ..Default::default() }, 0)
            .unwrap();
        assert_eq!(org.slug, "acme-inc");
        let s = store.create_session(&u.id, 0).unwrap();
        store.set_active_organization(&s.id, Some("acme-inc"), 0).unwrap();
        let claims = store.session_claims(&s.id).unwrap().clone();
        let admin = store.org_claim(&u.id, &claims).unwrap();
        assert_eq!(admin.o["rol"], "admin");
        assert!(admin.o.get("per").is_none(), "system permissions stay out of the token");
        store.update_membership_role(&org.id, &u.id, "org:analyst", 1).unwrap();
        let analyst = store.org_claim(&u.id, &claims).unwrap();
        assert_eq!((analyst.o["rol"].as_str(), analyst.o["per"].as_str(), analyst.o["fpm"].as_str()), (Some("analyst"), Some("read"), Some("1")));
        assert_eq!(analyst.features, ["reports"]);
        store.delete_membership(&org.id, &u.id).unwrap();
        assert_eq!(store.org_claim(&u.id, &claims), None);
    }

    #[test]
    fn bad_input_is_refused_with_the_field() {
        let mut store = Store::default();
        let org = store.create_organization(NewOrganization { name: "A".into(), slug: Some("acme".into()), ..Default::default() }, 0).unwrap();
        let dup = store.create_organization(NewOrganization { name: "B".into(), slug: Some("acme".into()), ..Default::default() }, 0);
        assert!(matches!(dup, Err(StoreError::IdentifierTaken { param: "slug", .. })), "{dup:?}");
        let bad = store.create_organization(NewOrganization { name: "B".into(), slug: Some("Not A Slug".into()), ..Default::default() }, 0);
        assert!(matches!(bad, Err(StoreError::InvalidParam { param: "slug", .. })), "{bad:?}");
        let mut big = Map::new();
        big.insert("x".into(), "y".repeat(crate::store::METADATA_LIMIT_BYTES).into());
        let over = store.set_organization_metadata(&org.id, Some(big), None, 0);
        assert!(matches!(over, Err(StoreError::MetadataTooLarge { param: "public_metadata", .. })), "{over:?}");
        assert!(matches!(store.create_role("admin", "x", None, &[], 0), Err(StoreError::InvalidParam { param: "key", .. })));
        assert!(matches!(store.create_permission("org:sys_x:read", "x", None, 0), Err(StoreError::InvalidParam { param: "key", .. })));
        assert!(matches!(store.create_membership(&org.id, "user_nope", MEMBER_ROLE, None, None, 0), Err(StoreError::UserNotFound(_))));
    }
}
