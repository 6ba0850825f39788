//! External accounts: a user's identity at a social provider (`oauth_google`, `oauth_github`, …), created or
//! linked when the user signs in through mock-clerk's offline consent page ([`crate::fapi::oauth`]), with the
//! provider access token `GET /v1/users/{id}/oauth_access_tokens/{provider}` hands out.
//!
//! Renderings follow `bapi/2026-05-12.yml` (`ExternalAccountWithVerification`, `OAuthAccessToken`) and the
//! Frontend API's `ExternalAccountJSON` (`packages/shared/src/types/json.ts`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The id prefix of external accounts.
pub const PREFIX: &str = "eac";
/// The scopes every mock provider grants.
pub const APPROVED_SCOPES: &str = "email profile openid";
/// How long a provider access token is said to live (Google's: one hour).
pub const ACCESS_TOKEN_LIFETIME_MS: i64 = 3600 * 1000;

/// A user's account at a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalAccount {
    /// `eac_…`.
    pub id: String,
    /// The provider without the `oauth_` prefix: `google`, `github`.
    pub provider: String,
    /// The user's id at the provider (derived from the provider and the email address: stable across sign-ins).
    pub provider_user_id: String,
    /// The email address the provider vouched for.
    pub email_address: String,
    /// From the provider.
    pub first_name: String,
    /// From the provider.
    pub last_name: String,
    /// The provider access token (renewed at every sign-in through the provider).
    pub access_token: String,
    /// Milliseconds.
    pub token_expires_at: i64,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// What a provider says about the person who consented.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// The email address (the provider verified it).
    pub email_address: String,
    /// First name (may be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
}

/// The provider's stable user id for an email address: the same person gets the same id at every sign-in.
pub fn provider_user_id(provider: &str, email: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{provider}\n{}", email.to_ascii_lowercase()).as_bytes());
    digest.as_ref()[..10].iter().map(|b| format!("{b:02x}")).collect()
}

/// A new provider access token (`mock_oauth_<provider>_…`).
pub fn new_access_token(provider: &str) -> String {
    crate::ids::new_id(&format!("mock_oauth_{provider}"))
}

/// How long an OAuth verification may take (Clerk: 10 minutes), shown as its `expire_at`.
const OAUTH_VERIFICATION_WINDOW_MS: i64 = 10 * 60 * 1000;

impl ExternalAccount {
    /// A new external account for `identity` at `provider`, with a fresh access token.
    pub fn new(provider: &str, identity: &Identity, now: i64) -> Self {
        Self {
            id: crate::ids::new_id(PREFIX),
            provider: provider.to_owned(),
            provider_user_id: provider_user_id(provider, &identity.email_address),
            email_address: identity.email_address.clone(),
            first_name: identity.first_name.clone(),
            last_name: identity.last_name.clone(),
            access_token: new_access_token(provider),
            token_expires_at: now + ACCESS_TOKEN_LIFETIME_MS,
            created_at: now,
            updated_at: now,
        }
    }

    /// `oauth_<provider>`.
    pub fn strategy(&self) -> String {
        format!("oauth_{}", self.provider)
    }

    /// The Backend API's `ExternalAccountWithVerification` (`provider` is `oauth_google`); `identification_id`
    /// is the id of the user's email address with the same value, if any.
    pub fn bapi_json(&self, identification_id: Option<&str>) -> Value {
        json!({
            "object": "external_account",
            "id": self.id,
            "provider": self.strategy(),
            "identification_id": identification_id.unwrap_or(&self.id),
            "provider_user_id": self.provider_user_id,
            "approved_scopes": APPROVED_SCOPES,
            "email_address": self.email_address,
            "email_address_verified": true,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "avatar_url": "",
            "image_url": null,
            "username": null,
            "phone_number": null,
            "public_metadata": {},
            "label": null,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "verification": {
                "object": "verification_oauth",
                "status": "verified",
                "strategy": self.strategy(),
                "error": null,
                // Clerk's spec: an integer here (when the OAuth round trip had to finish); not null.
                "expire_at": self.updated_at.saturating_add(OAUTH_VERIFICATION_WINDOW_MS),
                "attempts": null,
            },
        })
    }

    /// The Frontend API's `ExternalAccountJSON` (`provider` is `google`).
    pub fn fapi_json(&self, identification_id: Option<&str>) -> Value {
        let mut v = self.bapi_json(identification_id);
        v["provider"] = self.provider.clone().into();
        v["verification"]["object"] = "verification".into();
        v
    }

    /// One `OAuthAccessToken` entry (`provider` is `oauth_google`; `expires_at` in seconds).
    pub fn access_token_json(&self) -> Value {
        json!({
            "object": "oauth_access_token",
            "external_account_id": self.id,
            "provider_user_id": self.provider_user_id,
            "token": self.access_token,
            "expires_at": self.token_expires_at / 1000,
            "provider": self.strategy(),
            "public_metadata": {},
            "label": null,
            "scopes": APPROVED_SCOPES.split(' ').collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_user_ids_are_stable_per_provider_and_case_blind() {
        assert_eq!(provider_user_id("google", "Ada@Example.com"), provider_user_id("google", "ada@example.com"));
        assert_ne!(provider_user_id("google", "ada@example.com"), provider_user_id("github", "ada@example.com"));
        assert_eq!(provider_user_id("google", "a@b.c").len(), 20);
    }

    #[test]
    fn renderings_name_the_provider_as_each_api_does() {
        let id = Identity { email_address: "ada@example.com".into(), first_name: "Ada".into(), last_name: "L".into() };
        let eac = ExternalAccount::new("google", &id, 1_000);
        assert_eq!(eac.bapi_json(None)["provider"], "oauth_google");
        assert_eq!(eac.fapi_json(None)["provider"], "google");
        assert_eq!(eac.access_token_json()["provider"], "oauth_google");
        assert_eq!(eac.access_token_json()["token"], eac.access_token.as_str());
    }
}
