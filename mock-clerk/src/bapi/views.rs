//! JSON renderings of store records, field for field as `packages/backend/src/api/resources/JSON.ts`
//! (`UserJSON`, `SessionJSON`, `EmailAddressJSON`) describes them, with every property Clerk's OpenAPI spec
//! (`bapi/2026-05-12.yml`) requires; `tests/integration/snapshots.rs` checks each answer against that spec.
//!
//! Where the two disagree: the SDK reads `UserJSON.timezone`, which the spec's `User` does not allow
//! (`additionalProperties: false`); it is left out, and the SDK's `User` defaults it to `null` just the same.

use serde_json::{Value, json};

use crate::store::{Session, Store, User};

/// `UserJSON`.
pub fn user_json(user: &User) -> Value {
    let emails: Vec<Value> = user
        .email_addresses
        .iter()
        .map(|(id, address)| {
            json!({
                "id": id,
                "object": "email_address",
                "email_address": address,
                "reserved": false,
                "verification": verification_admin_json(),
                "linked_to": [],
                "created_at": user.created_at,
                "updated_at": user.updated_at,
            })
        })
        .collect();
    let mut user_json = json!({
        "id": user.id,
        "object": "user",
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "image_url": "https://img.clerk.com/mock-clerk-default-avatar",
        "has_image": false,
        "primary_email_address_id": user.email_addresses.first().map(|(id, _)| id),
        "primary_phone_number_id": user.mfa.phone_numbers.first().map(|p| &p.id),
        "primary_web3_wallet_id": null,
        "password_enabled": user.password_enabled,
        "two_factor_enabled": user.mfa.two_factor_enabled(),
        "totp_enabled": user.mfa.totp_enabled(),
        "backup_code_enabled": user.mfa.backup_code_enabled(),
        "email_addresses": emails,
        "phone_numbers": user.mfa.phone_numbers.iter().map(|p| crate::mfa::phone_json(user, p)).collect::<Vec<_>>(),
        "web3_wallets": [],
        "passkeys": [],
        // Filled from the store by [`user_with_memberships`]; the SDK takes `[]` or `null`, the spec only an array.
        "organization_memberships": [],
        "external_accounts": external_accounts_json(user),
        "saml_accounts": [],
        "enterprise_accounts": [],
        // mock-clerk keeps no MFA history: a user with a second factor is taken to have had it since creation.
        "mfa_enabled_at": user.mfa.two_factor_enabled().then_some(user.created_at),
        "mfa_disabled_at": null,
        "password_last_updated_at": null,
        "public_metadata": user.public_metadata,
        "private_metadata": user.private_metadata,
        "unsafe_metadata": user.unsafe_metadata,
    });
    let rest = json!({
        "external_id": user.external_id,
        "last_sign_in_at": user.last_sign_in_at,
        "banned": false,
        "locked": false,
        "deprovisioned": false,
        "lockout_expires_in_seconds": null,
        "verification_attempts_remaining": 100,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_active_at": user.last_sign_in_at,
        "create_organization_enabled": true,
        "create_organizations_limit": null,
        "delete_self_enabled": true,
        "legal_accepted_at": null,
        "locale": null,
    });
    if let (Value::Object(all), Value::Object(rest)) = (&mut user_json, rest) {
        all.extend(rest);
    }
    user_json
}

/// `UserJSON` with the user's organization memberships, oldest first, each a whole `OrganizationMembership`
/// (with its organization and the member's public data), as Clerk's Backend API returns a user:
/// `bapi/2026-05-12.yml` types `User.organization_memberships` as an array of `OrganizationMembership`, and
/// `packages/backend/src/api/resources/JSON.ts` (`UserJSON.organization_memberships: OrganizationMembershipJSON[]
/// | null`) reads the same (the SDK's `User` class does not map it; it is on `user.raw`).
pub fn user_with_memberships(store: &Store, user: &User) -> Value {
    let mut json = user_json(user);
    let memberships: Vec<Value> = store.user_memberships(&user.id).into_iter().map(|m| super::org_views::membership_json(store, m)).collect();
    json["organization_memberships"] = memberships.into();
    json
}

/// The verification of an identifier mock-clerk takes as verified (`verification_admin`: created through the
/// Backend API, or seeded).
pub fn verification_admin_json() -> Value {
    json!({"object": "verification_admin", "status": "verified", "strategy": "admin", "attempts": null, "expire_at": null})
}

/// The user's external accounts (`ExternalAccountWithVerification`), each naming the email address it vouched
/// for as its `identification_id`.
pub fn external_accounts_json(user: &User) -> Vec<Value> {
    user.external_accounts
        .iter()
        .map(|e| {
            let idn = user.email_addresses.iter().find(|(_, a)| a.eq_ignore_ascii_case(&e.email_address)).map(|(id, _)| id.as_str());
            e.bapi_json(idn)
        })
        .collect()
}

/// `SessionJSON`, with the status as of `now`.
pub fn session_json(session: &Session, now: i64) -> Value {
    json!({
        "id": session.id,
        "object": "session",
        "client_id": session.client_id,
        "user_id": session.user_id,
        "status": session.status_at(now).as_str(),
        "last_active_organization_id": session.claims.as_deref().and_then(|c| c.active_organization_id.as_deref()),
        "actor": session.actor.as_deref(),
        "last_active_at": session.last_active_at,
        "expire_at": session.expire_at,
        "abandon_at": session.abandon_at,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    })
}

/// `DeletedObjectJSON`.
pub fn deleted_json(object: &str, id: &str) -> Value {
    json!({"object": object, "id": id, "deleted": true})
}
