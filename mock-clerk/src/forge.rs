//! Deliberately broken session tokens, each breaking exactly one check `@clerk/backend` makes.
//!
//! The expected reasons are those of `verifyToken` in `packages/backend/src/tokens/verify.ts`,
//! `jwt/verifyJwt.ts` and `jwt/assertions.ts` (`github:clerk/javascript`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::keys::{FOREIGN_KEY_PEM, SigningKey};
use crate::tokens::{encode, rs256_header, sign_rs256};

/// One way to break a session token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum BrokenToken {
    /// `exp` two minutes ago (beyond the 5 s clock skew).
    Expired,
    /// `nbf` five minutes ahead.
    NotYetValid,
    /// `iat` five minutes ahead.
    IatInFuture,
    /// Signed with the active key but carrying a `kid` that is not published.
    UnknownKid,
    /// The active key's `kid`, signed with a key that is not the instance's.
    ForeignKey,
    /// `alg: none` and an empty signature.
    AlgNone,
    /// `alg: HS256`, HMAC keyed with the instance's public key PEM (the classic key-confusion attack).
    Hs256PublicKey,
    /// A valid token whose payload was changed afterwards (`sub` swapped).
    TamperedPayload,
    /// Validly signed, without `sub`.
    MissingSub,
    /// Validly signed, without `sid`.
    MissingSid,
    /// Validly signed, `sts: pending` (a session with unfinished tasks).
    StsPending,
    /// Another Clerk instance's token: its own key and `kid`.
    OtherInstance,
}

impl BrokenToken {
    /// Every variant.
    pub const ALL: [BrokenToken; 12] = [
        Self::Expired,
        Self::NotYetValid,
        Self::IatInFuture,
        Self::UnknownKid,
        Self::ForeignKey,
        Self::AlgNone,
        Self::Hs256PublicKey,
        Self::TamperedPayload,
        Self::MissingSub,
        Self::MissingSid,
        Self::StsPending,
        Self::OtherInstance,
    ];

    /// The kebab-case name used by the CLI and the control API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::IatInFuture => "iat-in-future",
            Self::UnknownKid => "unknown-kid",
            Self::ForeignKey => "foreign-key",
            Self::AlgNone => "alg-none",
            Self::Hs256PublicKey => "hs256-public-key",
            Self::TamperedPayload => "tampered-payload",
            Self::MissingSub => "missing-sub",
            Self::MissingSid => "missing-sid",
            Self::StsPending => "sts-pending",
            Self::OtherInstance => "other-instance",
        }
    }

    /// Parses a kebab-case name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The `TokenVerificationErrorReason` `verifyToken` gives, or `None` where `verifyToken` accepts the token
    /// and only a later step refuses it (`sid` is needed by `getToken()`; `sts: pending` counts as signed out).
    pub fn clerk_reason(self) -> Option<&'static str> {
        match self {
            Self::Expired => Some("token-expired"),
            Self::NotYetValid => Some("token-not-active-yet"),
            Self::IatInFuture => Some("token-iat-in-the-future"),
            Self::UnknownKid | Self::OtherInstance => Some("jwk-kid-mismatch"),
            Self::ForeignKey | Self::TamperedPayload => Some("token-invalid-signature"),
            Self::AlgNone | Self::Hs256PublicKey => Some("token-invalid-algorithm"),
            Self::MissingSub => Some("token-verification-failed"),
            Self::MissingSid | Self::StsPending => None,
        }
    }

    /// Builds the broken token from valid `claims` (as `TokenSpec::claims` makes them) and the active key.
    pub fn forge(self, claims: &Map<String, Value>, active: &SigningKey) -> String {
        let mut claims = claims.clone();
        let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or_default();
        let set = |claims: &mut Map<String, Value>, k: &str, v: i64| {
            claims.insert(k.into(), v.into());
        };
        match self {
            Self::Expired => {
                set(&mut claims, "iat", iat.saturating_sub(180));
                set(&mut claims, "nbf", iat.saturating_sub(190));
                set(&mut claims, "exp", iat.saturating_sub(120));
                sign_rs256(active, &claims)
            }
            Self::NotYetValid => {
                set(&mut claims, "nbf", iat.saturating_add(300));
                set(&mut claims, "exp", iat.saturating_add(600));
                sign_rs256(active, &claims)
            }
            Self::IatInFuture => {
                set(&mut claims, "iat", iat.saturating_add(300));
                set(&mut claims, "exp", iat.saturating_add(600));
                sign_rs256(active, &claims)
            }
            Self::UnknownKid => encode(&rs256_header("ins_unknown_kid_not_in_jwks"), &claims, |input| active.sign_rs256(input)),
            Self::ForeignKey => encode(&rs256_header(active.kid()), &claims, |input| foreign_key().sign_rs256(input)),
            Self::OtherInstance => sign_rs256(&foreign_key(), &claims),
            Self::AlgNone => encode(&json!({"alg": "none", "kid": active.kid(), "typ": "JWT"}), &claims, |_| Vec::new()),
            Self::Hs256PublicKey => {
                let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, active.public_key_pem().as_bytes());
                let header = json!({"alg": "HS256", "kid": active.kid(), "typ": "JWT"});
                encode(&header, &claims, |input| aws_lc_rs::hmac::sign(&key, input).as_ref().to_vec())
            }
            Self::TamperedPayload => {
                // The signature of the valid token, on a payload changed afterwards.
                let valid = sign_rs256(active, &claims);
                claims.insert("sub".into(), "user_tampered_by_forger".into());
                let (_, signature) = valid.rsplit_once('.').expect("a JWT has three parts");
                let signature = URL_SAFE_NO_PAD.decode(signature).expect("our own signature is base64url");
                encode(&rs256_header(active.kid()), &claims, |_| signature)
            }
            Self::MissingSub => {
                claims.remove("sub");
                sign_rs256(active, &claims)
            }
            Self::MissingSid => {
                claims.remove("sid");
                sign_rs256(active, &claims)
            }
            Self::StsPending => {
                claims.insert("sts".into(), "pending".into());
                sign_rs256(active, &claims)
            }
        }
    }
}

impl std::fmt::Display for BrokenToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn foreign_key() -> SigningKey {
    SigningKey::from_pkcs8_pem(FOREIGN_KEY_PEM).expect("the bundled foreign key is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::TEST_KEY_PEM;
    use crate::tokens::{DEFAULT_TOKEN_LIFETIME, TokenSpec, decode_unverified};

    fn forged(variant: BrokenToken) -> (String, SigningKey) {
        let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
        let claims = TokenSpec::new("user_1", "sess_1").claims("https://a.b", DEFAULT_TOKEN_LIFETIME, 1_800_000_000);
        (variant.forge(&claims, &key), key)
    }

    #[test]
    fn names_round_trip() {
        for v in BrokenToken::ALL {
            assert_eq!(BrokenToken::from_name(v.name()), Some(v));
        }
    }

    #[test]
    fn each_variant_breaks_what_it_says() {
        let claim = |v, name: &str| decode_unverified(&forged(v).0).unwrap().claims[name].clone();
        let header = |v, name: &str| decode_unverified(&forged(v).0).unwrap().header[name].clone();
        assert_eq!(claim(BrokenToken::Expired, "exp"), 1_800_000_000 - 120);
        assert_eq!(claim(BrokenToken::NotYetValid, "nbf"), 1_800_000_000 + 300);
        assert_eq!(claim(BrokenToken::IatInFuture, "iat"), 1_800_000_000 + 300);
        assert_eq!(claim(BrokenToken::MissingSub, "sub"), Value::Null);
        assert_eq!(claim(BrokenToken::MissingSid, "sid"), Value::Null);
        assert_eq!(claim(BrokenToken::StsPending, "sts"), "pending");
        assert_eq!(claim(BrokenToken::TamperedPayload, "sub"), "user_tampered_by_forger");
        assert_eq!(header(BrokenToken::AlgNone, "alg"), "none");
        assert!(forged(BrokenToken::AlgNone).0.ends_with('.'));
        assert_eq!(header(BrokenToken::Hs256PublicKey, "alg"), "HS256");
        let (t, key) = forged(BrokenToken::ForeignKey);
        assert_eq!(decode_unverified(&t).unwrap().header["kid"], key.kid());
        let (t, key) = forged(BrokenToken::OtherInstance);
        assert_ne!(decode_unverified(&t).unwrap().header["kid"], key.kid());
        assert_eq!(header(BrokenToken::UnknownKid, "kid"), "ins_unknown_kid_not_in_jwks");
    }
}
