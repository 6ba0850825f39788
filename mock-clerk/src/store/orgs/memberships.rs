//! Memberships (a user's role in an organization) and invitations.

use serde_json::{Map, Value};

use super::{DAY_MS, INVITATION_DAYS, Invitation, InvitationStatus, Membership, NewInvitation, check_metadata, not_found, prefix};
use crate::ids::new_id;
use crate::store::{Store, StoreError};

/// Memberships and invitations.
impl Store {
    /// A membership.
    pub fn membership(&self, org_id: &str, user_id: &str) -> Option<&Membership> {
        self.orgs.memberships.iter().find(|m| m.organization_id == org_id && m.user_id == user_id)
    }

    /// An organization's memberships, oldest first (optionally only these users and roles).
    pub fn organization_memberships(&self, org_id: &str, user_ids: &[String], roles: &[String]) -> Vec<&Membership> {
        self.orgs
            .memberships
            .iter()
            .filter(|m| m.organization_id == org_id)
            .filter(|m| user_ids.is_empty() || user_ids.contains(&m.user_id))
            .filter(|m| roles.is_empty() || roles.contains(&m.role))
            .collect()
    }

    /// A user's memberships, oldest first.
    pub fn user_memberships(&self, user_id: &str) -> Vec<&Membership> {
        self.orgs.memberships.iter().filter(|m| m.user_id == user_id).collect()
    }

    /// Adds a user to an organization with a role. A pending invitation of one of the user's addresses to the
    /// organization is accepted by it.
    pub fn create_membership(
        &mut self,
        org: &str,
        user_id: &str,
        role: &str,
        public: Option<Map<String, Value>>,
        private: Option<Map<String, Value>>,
        now: i64,
    ) -> Result<Membership, StoreError> {
        let org = self.organization(org)?.clone();
        let user = self.user(user_id)?.clone();
        self.role(role)?;
        let public_metadata = public.unwrap_or_default();
        let private_metadata = private.unwrap_or_default();
        check_metadata("public_metadata", &public_metadata)?;
        check_metadata("private_metadata", &private_metadata)?;
        if self.membership(&org.id, user_id).is_some() {
            return Err(StoreError::AlreadyMember { organization_id: org.id, user_id: user_id.to_owned() });
        }
        let count = self.orgs.memberships.iter().filter(|m| m.organization_id == org.id).count();
        if org.max_allowed_memberships > 0 && count as u64 >= org.max_allowed_memberships {
            return Err(StoreError::MembershipQuotaExceeded(org.id));
        }
        let membership = Membership {
            id: new_id(prefix::MEMBERSHIP),
            organization_id: org.id.clone(),
            user_id: user.id.to_string(),
            role: role.to_owned(),
            public_metadata,
            private_metadata,
            created_at: now,
            updated_at: now,
        };
        self.orgs.memberships.push(membership.clone());
        self.org_change("organizationMembership.created", crate::bapi::org_views::membership_json(self, &membership));
        let emails: Vec<&str> = user.email_addresses.iter().map(|(_, e)| e.as_str()).collect();
        let mut accepted = Vec::new();
        for inv in self.orgs.invitations.iter_mut().filter(|i| i.organization_id == org.id && i.status == InvitationStatus::Pending) {
            if emails.iter().any(|e| e.eq_ignore_ascii_case(&inv.email_address)) {
                inv.status = InvitationStatus::Accepted;
                inv.updated_at = now;
                accepted.push(inv.clone());
            }
        }
        for inv in accepted {
            self.org_change("organizationInvitation.accepted", crate::bapi::org_views::invitation_json(&inv));
        }
        Ok(membership)
    }

    /// Gives a member another role (their next token carries it).
    pub fn update_membership_role(&mut self, org: &str, user_id: &str, role: &str, now: i64) -> Result<Membership, StoreError> {
        let org_id = self.organization(org)?.id.clone();
        self.role(role)?;
        let m = self
            .orgs
            .memberships
            .iter_mut()
            .find(|m| m.organization_id == org_id && m.user_id == user_id)
            .ok_or_else(|| not_found("organization membership", user_id))?;
        m.role = role.to_owned();
        m.updated_at = now;
        let m = m.clone();
        self.org_change("organizationMembership.updated", crate::bapi::org_views::membership_json(self, &m));
        Ok(m)
    }

    /// Sets a membership's metadata objects (given ones only).
    pub fn set_membership_metadata(
        &mut self,
        org: &str,
        user_id: &str,
        public: Option<Map<String, Value>>,
        private: Option<Map<String, Value>>,
        now: i64,
    ) -> Result<Membership, StoreError> {
        let org_id = self.organization(org)?.id.clone();
        for (param, m) in [("public_metadata", &public), ("private_metadata", &private)] {
            if let Some(m) = m {
                check_metadata(param, m)?;
            }
        }
        let m = self
            .orgs
            .memberships
            .iter_mut()
            .find(|m| m.organization_id == org_id && m.user_id == user_id)
            .ok_or_else(|| not_found("organization membership", user_id))?;
        if let Some(p) = public {
            m.public_metadata = p;
        }
        if let Some(p) = private {
            m.private_metadata = p;
        }
        m.updated_at = now;
        let m = m.clone();
        self.org_change("organizationMembership.updated", crate::bapi::org_views::membership_json(self, &m));
        Ok(m)
    }

    /// Removes a member (their next token has no `o` for this organization).
    pub fn delete_membership(&mut self, org: &str, user_id: &str) -> Result<Membership, StoreError> {
        let org_id = self.organization(org)?.id.clone();
        let at = self
            .orgs
            .memberships
            .iter()
            .position(|m| m.organization_id == org_id && m.user_id == user_id)
            .ok_or_else(|| not_found("organization membership", user_id))?;
        let json = crate::bapi::org_views::membership_json(self, &self.orgs.memberships[at]);
        let m = self.orgs.memberships.remove(at);
        self.org_change("organizationMembership.deleted", json);
        Ok(m)
    }

    /// Invites an email address to an organization with a role.
    pub fn create_invitation(&mut self, org: &str, new: NewInvitation, now: i64) -> Result<Invitation, StoreError> {
        let org_id = self.organization(org)?.id.clone();
        if !crate::store::is_plausible_email(&new.email_address) {
            return Err(StoreError::InvalidParam {
                param: "email_address",
                message: format!("{:?} is not a valid email address", new.email_address),
            });
        }
        self.role(&new.role)?;
        if let Some(inviter) = &new.inviter_user_id {
            self.user(inviter)?;
        }
        let public_metadata = new.public_metadata.unwrap_or_default();
        let private_metadata = new.private_metadata.unwrap_or_default();
        check_metadata("public_metadata", &public_metadata)?;
        check_metadata("private_metadata", &private_metadata)?;
        let days = i64::from(new.expires_in_days.unwrap_or(INVITATION_DAYS as u32));
        if !(1..=365).contains(&days) {
            return Err(StoreError::InvalidParam { param: "expires_in_days", message: "expires_in_days is between 1 and 365".into() });
        }
        let inv = Invitation {
            id: new_id(prefix::INVITATION),
            organization_id: org_id,
            email_address: new.email_address,
            role: new.role,
            status: InvitationStatus::Pending,
            inviter_id: new.inviter_user_id,
            public_metadata,
            private_metadata,
            created_at: now,
            updated_at: now,
            expires_at: now.saturating_add(days * DAY_MS),
        };
        self.orgs.invitations.push(inv.clone());
        self.org_change("organizationInvitation.created", crate::bapi::org_views::invitation_json(&inv));
        Ok(inv)
    }

    /// An organization's invitations, newest first, optionally with one status.
    pub fn invitations(&self, org: &str, status: Option<InvitationStatus>) -> Result<Vec<&Invitation>, StoreError> {
        let org_id = self.organization(org)?.id.clone();
        let mut found: Vec<&Invitation> =
            self.orgs.invitations.iter().filter(|i| i.organization_id == org_id && status.is_none_or(|s| i.status == s)).collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(found)
    }

    /// One invitation of an organization.
    pub fn invitation(&self, org: &str, id: &str) -> Result<&Invitation, StoreError> {
        let org_id = self.organization(org)?.id.clone();
        self.orgs.invitations.iter().find(|i| i.id == id && i.organization_id == org_id).ok_or_else(|| not_found("organization invitation", id))
    }

    /// Revokes a pending invitation (an answered one is refused).
    pub fn revoke_invitation(&mut self, org: &str, id: &str, now: i64) -> Result<Invitation, StoreError> {
        let org_id = self.organization(org)?.id.clone();
        let inv = self
            .orgs
            .invitations
            .iter_mut()
            .find(|i| i.id == id && i.organization_id == org_id)
            .ok_or_else(|| not_found("organization invitation", id))?;
        if inv.status != InvitationStatus::Pending {
            return Err(StoreError::InvalidParam {
                param: "invitation_id",
                message: format!("the invitation is {}, not pending", inv.status.as_str()),
            });
        }
        inv.status = InvitationStatus::Revoked;
        inv.updated_at = now;
        let inv = inv.clone();
        self.org_change("organizationInvitation.revoked", crate::bapi::org_views::invitation_json(&inv));
        Ok(inv)
    }
}
