//! Svix / Standard Webhooks signatures, as Clerk's webhooks carry them and `verifyWebhook`
//! (`@clerk/backend/webhooks`, which uses the `standardwebhooks` package) checks them:
//!
//! - `svix-id`: the message id (`msg_…`), the same on every attempt and replay;
//! - `svix-timestamp`: **wall-clock** seconds of this attempt (the verifier refuses anything more than 5 minutes
//!   from its own clock, so mock-clerk's virtual clock must never reach it);
//! - `svix-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret, space-separated.
//!
//! The key is the base64 part of the secret after `whsec_`.

use std::sync::Arc;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The header names (Svix's, which Clerk sends).
pub const ID_HEADER: &str = "svix-id";
/// See [`ID_HEADER`].
pub const TIMESTAMP_HEADER: &str = "svix-timestamp";
/// See [`ID_HEADER`].
pub const SIGNATURE_HEADER: &str = "svix-signature";
/// The fixed default secret: `whsec_` + base64 of the 24 bytes `mock-clerk-webhooks-test`.
pub const DEFAULT_SECRET: &str = "whsec_bW9jay1jbGVyay13ZWJob29rcy10ZXN0";

/// A parsed signing secret (`whsec_<base64>`): the text as given and its HMAC key, keyed once (each signature
/// starts from a copy of the keyed state instead of hashing the key again). Clones share one allocation.
#[derive(Clone)]
pub struct Secret(Arc<Keyed>);

struct Keyed {
    text: String,
    hmac: hmac::Key,
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.text == other.0.text
    }
}

impl Eq for Secret {}

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook signing secret is whsec_ followed by the base64 of 16 to 64 bytes")]
pub struct SecretError;

impl Secret {
    /// Parses `whsec_<base64 of 16..=64 bytes>`.
    ///
    /// ```
    /// use mock_clerk::webhooks::signing::{Secret, DEFAULT_SECRET};
    /// assert!(Secret::parse(DEFAULT_SECRET).is_ok());
    /// assert!(Secret::parse("bW9jay1jbGVyay13ZWJob29rcy10ZXN0").is_err(), "the prefix is required");
    /// assert!(Secret::parse("whsec_%%%").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let b64 = text.strip_prefix(SECRET_PREFIX).ok_or(SecretError)?;
        let key = STANDARD.decode(b64).map_err(|_| SecretError)?;
        if !(16..=64).contains(&key.len()) {
            return Err(SecretError);
        }
        Ok(Self::keyed(text.to_owned(), &key))
    }

    fn keyed(text: String, key: &[u8]) -> Self {
        Self(Arc::new(Keyed { text, hmac: hmac::Key::new(hmac::HMAC_SHA256, key) }))
    }

    /// A fresh random secret (24 bytes, as Svix makes them).
    pub fn generate() -> Self {
        let mut key = vec![0u8; 24];
        aws_lc_rs::rand::fill(&mut key).expect("the system random source works");
        Self::keyed(format!("{SECRET_PREFIX}{}", STANDARD.encode(&key)), &key)
    }

    /// The secret as an app configures it (`CLERK_WEBHOOK_SIGNING_SECRET`).
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut ctx = hmac::Context::with_key(&self.0.hmac);
        ctx.update(msg_id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body);
        let mut signature = String::with_capacity(48);
        signature.push_str("v1,");
        STANDARD.encode_string(ctx.sign().as_ref(), &mut signature);
        signature
    }
}

impl Default for Secret {
    fn default() -> Self {
        Self::parse(DEFAULT_SECRET).expect("the default secret parses")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(whsec_[redacted])")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.text)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The three headers of one delivery attempt, signed with every secret in `secrets` (the first is current;
/// more than one while a secret is being rotated), at wall-clock second `timestamp`.
pub fn headers(secrets: &[Secret], msg_id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
    let mut signature = String::new();
    for secret in secrets {
        if !signature.is_empty() {
            signature.push(' ');
        }
        signature.push_str(&secret.sign(msg_id, timestamp, body));
    }
    [(ID_HEADER, msg_id.to_owned()), (TIMESTAMP_HEADER, timestamp.to_string()), (SIGNATURE_HEADER, signature)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's test vector (standard-webhooks/libraries, `spec/README`).
    #[test]
    fn matches_the_standard_webhooks_test_vector() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn several_secrets_give_space_separated_signatures() {
        let a = Secret::default();
        let b = Secret::generate();
        let [id, ts, sig] = headers(&[a.clone(), b.clone()], "msg_1", 1_700_000_000, b"{}");
        assert_eq!((id.0, id.1.as_str(), ts.1.as_str()), ("svix-id", "msg_1", "1700000000"));
        let parts: Vec<&str> = sig.1.split(' ').collect();
        assert_eq!(parts, vec![a.sign("msg_1", 1_700_000_000, b"{}"), b.sign("msg_1", 1_700_000_000, b"{}")]);
        assert_ne!(parts[0], parts[1]);
        assert!(format!("{a:?}").contains("redacted") && !format!("{a:?}").contains("bW9j"));
    }

    #[test]
    fn bad_secrets_are_refused() {
        for bad in ["", "whsec_", "whsec_AAAA", "sk_test_x", "whsec_not base64!"] {
            assert_eq!(Secret::parse(bad), Err(SecretError), "{bad}");
        }
    }
}
