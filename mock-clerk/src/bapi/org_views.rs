//! JSON renderings of the organization records, with every required property of Clerk's OpenAPI schemas
//! (`bapi/2026-05-12.yml`: `Organization`, `OrganizationMembership`, `OrganizationInvitation`, `Role`,
//! `Permission`) and what `@clerk/backend`'s resources read (`api/resources/Organization*.ts`).

use serde_json::{Value, json};

use crate::store::Store;
use crate::store::orgs::{Invitation, Membership, Organization, Permission, Role};

/// The image every organization shows (mock-clerk stores no logos).
const ORG_IMAGE_URL: &str = "https://img.clerk.com/mock-clerk-default-organization-logo";
/// The image every user shows.
const USER_IMAGE_URL: &str = "https://img.clerk.com/mock-clerk-default-avatar";

/// `Organization`.
pub fn organization_json(store: &Store, org: &Organization) -> Value {
    let members = store.organization_memberships(&org.id, &[], &[]).len();
    let pending = store.invitations(&org.id, Some(crate::store::orgs::InvitationStatus::Pending)).map_or(0, |i| i.len());
    let mut json = json!({
        "object": "organization",
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "image_url": ORG_IMAGE_URL,
        "has_image": false,
        "members_count": members,
        "pending_invitations_count": pending,
        "max_allowed_memberships": org.max_allowed_memberships,
        "admin_delete_enabled": org.admin_delete_enabled,
        "public_metadata": org.public_metadata,
        "private_metadata": org.private_metadata,
        "created_by": org.created_by,
        "created_at": org.created_at,
        "updated_at": org.updated_at,
        "role_set_key": null,
    });
    // The spec types `created_by` as a string, not nullable: an organization without a creator leaves it out.
    if org.created_by.is_none() {
        json.as_object_mut().expect("an object").remove("created_by");
    }
    json
}

/// `OrganizationMembership`, with its organization and the member's public data.
pub fn membership_json(store: &Store, m: &Membership) -> Value {
    let role = store.role(&m.role).ok();
    let user = store.user(&m.user_id).ok();
    json!({
        "object": "organization_membership",
        "id": m.id,
        "role": m.role,
        "role_name": role.map(|r| r.name.as_str()),
        "permissions": role.map(|r| r.permissions.clone()).unwrap_or_default(),
        "public_metadata": m.public_metadata,
        "private_metadata": m.private_metadata,
        "organization": store.organization(&m.organization_id).map(|o| organization_json(store, o)).unwrap_or(Value::Null),
        "public_user_data": {
            "user_id": m.user_id,
            "first_name": user.and_then(|u| u.first_name.as_deref()),
            "last_name": user.and_then(|u| u.last_name.as_deref()),
            "profile_image_url": USER_IMAGE_URL,
            "image_url": USER_IMAGE_URL,
            "has_image": false,
            "identifier": user.and_then(|u| u.email_addresses.first().map(|(_, e)| e.as_str()).or(u.username.as_deref())),
            "username": user.and_then(|u| u.username.as_deref()),
            "banned": false,
            "deprovisioned": false,
        },
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    })
}

/// `OrganizationInvitation`.
pub fn invitation_json(inv: &Invitation) -> Value {
    json!({
        "object": "organization_invitation",
        "id": inv.id,
        "email_address": inv.email_address,
        "role": inv.role,
        "role_name": inv.role.strip_prefix("org:").unwrap_or(&inv.role),
        "organization_id": inv.organization_id,
        "inviter_id": inv.inviter_id,
        "public_inviter_data": null,
        "status": inv.status.as_str(),
        "public_metadata": inv.public_metadata,
        "private_metadata": inv.private_metadata,
        "url": null,
        "expires_at": inv.expires_at,
        "created_at": inv.created_at,
        "updated_at": inv.updated_at,
    })
}

/// `Permission`.
pub fn permission_json(p: &Permission) -> Value {
    json!({
        "object": "permission",
        "id": p.id,
        "name": p.name,
        "key": p.key,
        "description": p.description,
        "type": p.kind(),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}

/// `Role`, its permissions as `Permission` objects.
pub fn role_json(store: &Store, r: &Role) -> Value {
    let permissions: Vec<Value> = r.permissions.iter().filter_map(|k| store.permission(k).ok()).map(permission_json).collect();
    json!({
        "object": "role",
        "id": r.id,
        "name": r.name,
        "key": r.key,
        "description": r.description,
        "is_creator_eligible": r.key == crate::store::orgs::ADMIN_ROLE || r.permissions.iter().any(|p| p == "org:sys_memberships:manage"),
        "permissions": permissions,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

/// `{data, total_count}`, Clerk's paginated list.
pub fn page(data: Vec<Value>, total: usize) -> Value {
    json!({"data": data, "total_count": total})
}
