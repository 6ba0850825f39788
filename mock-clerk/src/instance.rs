//! The Clerk instance mock-clerk impersonates: its kind, keys and frontend host.
//!
//! Key format and cookie suffix follow `packages/shared/src/keys.ts` in `github:clerk/javascript`
//! (`buildPublishableKey`, `isValidDecodedPublishableKey`, `getCookieSuffix`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// The secret key used when none is configured. Fixed so that tests and `.env` files agree.
pub const DEFAULT_SECRET_KEY: &str = "sk_test_mock_clerk_0000000000000000000000";

/// Development (`pk_test_`) or production (`pk_live_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(clap::ValueEnum)]
pub enum InstanceKind {
    /// A development instance: publishable key `pk_test_…`; the SDK demands a dev-browser cookie.
    #[default]
    Development,
    /// A production instance: publishable key `pk_live_…`.
    Production,
}

impl InstanceKind {
    /// The publishable-key prefix of this kind.
    pub fn publishable_prefix(self) -> &'static str {
        match self {
            InstanceKind::Development => "pk_test_",
            InstanceKind::Production => "pk_live_",
        }
    }

    /// The secret-key prefix Clerk uses for this kind.
    pub fn secret_prefix(self) -> &'static str {
        match self {
            InstanceKind::Development => "sk_test_",
            InstanceKind::Production => "sk_live_",
        }
    }
}

/// Why an instance cannot be built from the given settings.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InstanceError {
    /// The SDK rejects a publishable key whose host has no dot (`localhost:4010`).
    #[error("frontend host {0:?} has no dot: Clerk rejects it (use 127.0.0.1:PORT, not localhost)")]
    HostWithoutDot(String),
    /// `$` or whitespace would corrupt the publishable key.
    #[error("frontend host {0:?} contains '$' or whitespace")]
    HostMalformed(String),
    /// Clerk only checks that the secret key is non-empty.
    #[error("the secret key must not be empty")]
    EmptySecretKey,
}

/// The identity of the mocked Clerk instance.
///
/// ```
/// use mock_clerk::instance::{Instance, InstanceKind};
/// let i = Instance::new(InstanceKind::Production, "127.0.0.1:4010", "sk_live_x").unwrap();
/// assert_eq!(i.publishable_key(), "pk_live_MTI3LjAuMC4xOjQwMTAk");
/// assert_eq!(i.issuer(), "https://127.0.0.1:4010");
/// ```
#[derive(Debug, Clone)]
pub struct Instance {
    kind: InstanceKind,
    frontend_host: String,
    secret_key: String,
    publishable_key: String,
    cookie_suffix: String,
    webhook_secret: crate::webhooks::signing::Secret,
}

impl Instance {
    /// Builds the instance for a frontend host such as `127.0.0.1:4010` (no scheme).
    pub fn new(kind: InstanceKind, frontend_host: &str, secret_key: &str) -> Result<Self, InstanceError> {
        if frontend_host.contains('$') || frontend_host.chars().any(char::is_whitespace) {
            return Err(InstanceError::HostMalformed(frontend_host.to_owned()));
        }
        if !frontend_host.contains('.') {
            return Err(InstanceError::HostWithoutDot(frontend_host.to_owned()));
        }
        if secret_key.is_empty() {
            return Err(InstanceError::EmptySecretKey);
        }
        // Standard base64, not base64url: a '_' in the payload would break the SDK's split('_').
        let publishable_key = format!("{}{}", kind.publishable_prefix(), STANDARD_NO_PAD.encode(format!("{frontend_host}$")));
        let cookie_suffix = cookie_suffix(&publishable_key);
        Ok(Self {
            kind,
            frontend_host: frontend_host.to_owned(),
            secret_key: secret_key.to_owned(),
            publishable_key,
            cookie_suffix,
            webhook_secret: crate::webhooks::signing::Secret::default(),
        })
    }

    /// Development or production.
    pub fn kind(&self) -> InstanceKind {
        self.kind
    }
    /// The host (and port) encoded in the publishable key.
    pub fn frontend_host(&self) -> &str {
        &self.frontend_host
    }
    /// `CLERK_SECRET_KEY`.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }
    /// `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`.
    pub fn publishable_key(&self) -> &str {
        &self.publishable_key
    }
    /// The suffix of `__session_<sfx>`, `__client_uat_<sfx>`, `__refresh_<sfx>`.
    pub fn cookie_suffix(&self) -> &str {
        &self.cookie_suffix
    }
    /// The `iss` claim of session tokens: `https://<frontend host>`.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.frontend_host)
    }
    /// The webhook signing secret (`CLERK_WEBHOOK_SIGNING_SECRET`; a fixed `whsec_…` by default).
    pub fn webhook_secret(&self) -> &crate::webhooks::signing::Secret {
        &self.webhook_secret
    }
    /// The same instance with another webhook signing secret.
    pub fn with_webhook_secret(mut self, secret: crate::webhooks::signing::Secret) -> Self {
        self.webhook_secret = secret;
        self
    }
    /// Whether this is a development instance (dev-browser cookie required).
    pub fn is_development(&self) -> bool {
        self.kind == InstanceKind::Development
    }
}

/// First 8 characters of base64url(SHA-1(publishable key)) (`keys.ts` `getCookieSuffix`).
pub fn cookie_suffix(publishable_key: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, publishable_key.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())[..8].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values verified against @clerk/shared in the wire-protocol notes (§1).
    #[test]
    fn cookie_suffix_matches_clerk_shared() {
        assert_eq!(cookie_suffix("pk_live_Y2xlcmsubW9jay5sb2NhbCQ="), "uyEFmJ-_");
        assert_eq!(cookie_suffix("pk_test_Y2xlcmsubW9jay5sb2NhbCQ="), "vLGBwBF6");
        assert_eq!(cookie_suffix("pk_test_MTI3LjAuMC4xOjQwMTAk"), "F74ZAzyw");
    }

    #[test]
    fn publishable_key_is_prefix_and_standard_base64() {
        let i = Instance::new(InstanceKind::Development, "127.0.0.1:4010", "sk_test_x").unwrap();
        assert_eq!(i.publishable_key(), "pk_test_MTI3LjAuMC4xOjQwMTAk");
        assert_eq!(i.publishable_key().split('_').count(), 3);
        assert_eq!(i.cookie_suffix(), "F74ZAzyw");
    }

    #[test]
    fn localhost_is_rejected_like_the_sdk_does() {
        let err = Instance::new(InstanceKind::Development, "localhost:4010", "sk").unwrap_err();
        assert_eq!(err, InstanceError::HostWithoutDot("localhost:4010".into()));
        assert_eq!(Instance::new(InstanceKind::Development, "a.b", "").unwrap_err(), InstanceError::EmptySecretKey);
    }
}
