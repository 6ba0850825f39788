//! The claims that live on the session (its active organization, features, plans, custom claims) and the `o`
//! claim built from the active organization's membership at every mint (`@clerk/shared` `jwtPayloadParser.ts`:
//! `rol`, `per`, `fpm` against the organization features of `fea`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{SYSTEM_PERMISSION_PREFIX, not_found};
use crate::store::{Store, StoreError};

/// The claims a session carries into every token it mints (`Session::claims`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionClaims {
    /// The active organization (`last_active_organization_id`); its membership decides `o` at every mint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_organization_id: Option<String>,
    /// Features (`fea`): `u:premium`, `o:reports`; a bare name is a user feature.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Plans (`pla`): `u:pro`; a bare name is a user plan.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<String>,
    /// Custom session claims (never the standard ones).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
}

/// The claims that live on the session.
impl Store {
    /// The claims a session carries (none set: `None`).
    pub fn session_claims(&self, session_id: &str) -> Option<&SessionClaims> {
        self.sessions.get(session_id)?.claims.as_deref()
    }

    /// Makes an organization (id or slug) the session's active one, or none (`None`, or an empty string). The
    /// session's user must be a member.
    pub fn set_active_organization(&mut self, session_id: &str, org: Option<&str>, now: i64) -> Result<(), StoreError> {
        let user_id = self.session(session_id)?.user_id.clone();
        let org_id = match org.filter(|o| !o.is_empty()) {
            Some(o) => {
                let id = self.organization(o)?.id.clone();
                if self.membership(&id, &user_id).is_none() {
                    return Err(not_found("organization membership", &user_id));
                }
                Some(id)
            }
            None => None,
        };
        let session = self.sessions.get_mut(session_id).ok_or_else(|| StoreError::SessionNotFound(session_id.to_owned()))?;
        session.claims.get_or_insert_with(Box::default).active_organization_id = org_id;
        session.updated_at = now;
        Ok(())
    }

    /// Replaces the session's features, plans and custom claims (the active organization stays).
    pub fn set_session_claims(
        &mut self,
        session_id: &str,
        features: Vec<String>,
        plans: Vec<String>,
        custom: Map<String, Value>,
    ) -> Result<(), StoreError> {
        let session = self.sessions.get_mut(session_id).ok_or_else(|| StoreError::SessionNotFound(session_id.to_owned()))?;
        let claims = session.claims.get_or_insert_with(Box::default);
        claims.features = features;
        claims.plans = plans;
        claims.custom = custom;
        Ok(())
    }

    /// The `o` claim and the organization features for a session's user in its active organization, built from
    /// the membership as it is now: `None` without an active organization or once the membership is gone.
    pub fn org_claim(&self, user_id: &str, claims: &SessionClaims) -> Option<OrgClaim> {
        let org = self.organization(claims.active_organization_id.as_deref()?).ok()?;
        let membership = self.membership(&org.id, user_id)?;
        let permissions = self.role(&membership.role).map(|r| r.permissions.clone()).unwrap_or_default();
        Some(OrgClaim::new(&org.id, &org.slug, &membership.role, &permissions))
    }
}

/// The `o` claim of a v2 session token and the organization features it is encoded against.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgClaim {
    /// `{id, slg, rol, per, fpm}`.
    pub o: Value,
    /// The organization features (`o:<feature>` in `fea`), in `fpm` order.
    pub features: Vec<String>,
}

impl OrgClaim {
    /// Encodes a membership as Clerk does: `rol` without the `org:` prefix; custom permissions
    /// `org:<feature>:<action>` as the list of actions (`per`) and, per feature, a decimal bit mask over it
    /// (`fpm`, least significant bit = first action). System permissions are left out.
    ///
    /// ```
    /// use mock_clerk::store::orgs::OrgClaim;
    /// let c = OrgClaim::new("org_1", "acme", "org:admin", &["org:reports:read".into(), "org:reports:manage".into(), "org:billing:read".into(), "org:sys_profile:manage".into()]);
    /// assert_eq!(c.o, serde_json::json!({"id": "org_1", "slg": "acme", "rol": "admin", "per": "read,manage", "fpm": "3,1"}));
    /// assert_eq!(c.features, ["reports", "billing"]);
    /// ```
    pub fn new(id: &str, slug: &str, role: &str, permissions: &[String]) -> Self {
        let mut features: Vec<String> = Vec::new();
        let mut actions: Vec<String> = Vec::new();
        let mut grants: Vec<(usize, usize)> = Vec::new();
        for key in permissions.iter().filter(|k| !k.starts_with(SYSTEM_PERMISSION_PREFIX)) {
            let mut parts = key.splitn(3, ':');
            let (Some("org"), Some(feature), Some(action)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let f = features.iter().position(|x| x == feature).unwrap_or_else(|| {
                features.push(feature.to_owned());
                features.len() - 1
            });
            let a = actions.iter().position(|x| x == action).unwrap_or_else(|| {
                actions.push(action.to_owned());
                actions.len() - 1
            });
            grants.push((f, a));
        }
        let masks: Vec<String> =
            (0..features.len()).map(|f| decimal_mask(&grants.iter().filter(|(gf, _)| *gf == f).map(|(_, a)| *a).collect::<Vec<_>>())).collect();
        let mut o = Map::new();
        o.insert("id".into(), id.into());
        o.insert("slg".into(), slug.into());
        o.insert("rol".into(), role.strip_prefix("org:").unwrap_or(role).into());
        if !actions.is_empty() {
            o.insert("per".into(), actions.join(",").into());
            o.insert("fpm".into(), masks.join(",").into());
        }
        Self { o: Value::Object(o), features }
    }
}

/// The decimal string of the number whose set bits are `bits` (any width: Clerk's masks may pass 64 bits).
fn decimal_mask(bits: &[usize]) -> String {
    let top = bits.iter().copied().max().map_or(0, |b| b + 1);
    // Little-endian decimal digits; Horner's rule from the most significant bit.
    let mut digits: Vec<u8> = vec![0];
    for bit in (0..top).rev() {
        let mut carry = u8::from(bits.contains(&bit));
        for d in &mut digits {
            let v = *d * 2 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            digits.push(carry);
        }
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// `fea` / `pla` entries: a bare name gets the user scope (`u:`).
pub fn scoped(names: &[String]) -> impl Iterator<Item = String> + '_ {
    names.iter().map(|n| if n.contains(':') { n.clone() } else { format!("u:{n}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_decimal_at_any_width() {
        assert_eq!(decimal_mask(&[]), "0");
        assert_eq!(decimal_mask(&[0, 1]), "3");
        assert_eq!(decimal_mask(&[1]), "2");
        assert_eq!(decimal_mask(&[64]), "18446744073709551616");
    }
}
