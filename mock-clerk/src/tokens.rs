//! Session tokens as Clerk mints them (v2 claims), and the RS256 signer.
//!
//! Claim names follow `packages/shared/src/jwtPayloadParser.ts` and `packages/backend/src/jwt/verifyJwt.ts`
//! in `github:clerk/javascript`: `sub`, `sid`, `iat`, `nbf`, `exp`, `iss`, `azp`, `v: 2`, `fva`, `sts`, `o`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::keys::SigningKey;

/// Clerk's default session-token lifetime.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// How far before `iat` Clerk puts `nbf`.
pub const NBF_LEEWAY_SECS: i64 = 10;
/// `v` of the v2 session-token format.
pub const SESSION_TOKEN_VERSION: i64 = 2;
/// Claims Clerk sets itself; a session's custom claims may not replace them.
pub const STANDARD_CLAIMS: &[&str] = &["act", "azp", "exp", "fea", "fva", "iat", "iss", "jti", "nbf", "o", "pla", "sid", "sts", "sub", "v"];

/// What a session token should say. Unset times come from the clock at minting.
///
/// ```
/// use mock_clerk::tokens::TokenSpec;
/// let spec = TokenSpec::new("user_1", "sess_1").claim("role", "admin");
/// assert_eq!(spec.extra["role"], "admin");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenSpec {
    /// `sub`: the user id. `None` leaves the claim out.
    pub sub: Option<String>,
    /// `sid`: the session id. `None` leaves the claim out.
    pub sid: Option<String>,
    /// Lifetime (`exp - iat`); `None` for the instance default.
    pub ttl: Option<Duration>,
    /// `iat` in seconds; `None` for now.
    pub iat: Option<i64>,
    /// `azp`: the origin the token was issued to.
    pub azp: Option<String>,
    /// `sts`: the session status (`active`, `pending`).
    pub sts: Option<String>,
    /// `o`: the active organisation claim (`{id, slg, rol, per, fpm}`).
    pub org: Option<Value>,
    /// `act`: the actor of an impersonation session (`{sub, …}`, as the actor token gave it).
    pub act: Option<Value>,
    /// `fva`: minutes since the first and the second factor (`-1`: none); `None` for `[0, -1]`.
    pub fva: Option<[i64; 2]>,
    /// `fea`: features, comma-separated and scoped (`o:reports,u:premium`); `None` leaves the claim out.
    pub fea: Option<String>,
    /// `pla`: plans, comma-separated and scoped (`u:pro`); `None` leaves the claim out.
    pub pla: Option<String>,
    /// Any other claims; they override the standard ones.
    pub extra: Map<String, Value>,
}

impl TokenSpec {
    /// A token for this user and session.
    pub fn new(sub: impl Into<String>, sid: impl Into<String>) -> Self {
        Self { sub: Some(sub.into()), sid: Some(sid.into()), ..Self::default() }
    }

    /// A token for a stored session at `now_ms` (mock-clerk's clock): its user, its id, its factor ages (`fva`),
    /// for an impersonation session its actor (`act`), and the claims that live on the session
    /// ([`crate::store::orgs::SessionClaims`]): `o` built from the active organization's membership as it is now
    /// (gone with the membership), `fea` (the organization's features, then the session's), `pla`, custom claims.
    /// Every mint of a session's token (Backend API, Frontend API, handshake, control API) starts here.
    pub fn for_session(session: &crate::store::Session, store: &crate::store::Store, now_ms: i64) -> Self {
        let mut spec = Self {
            act: session.actor.as_deref().cloned(),
            fva: Some(crate::mfa::fva(session, now_ms)),
            ..Self::new(session.user_id.as_str(), session.id.as_str())
        };
        let Some(claims) = session.claims.as_deref() else { return spec };
        let org = store.org_claim(&session.user_id, claims);
        let mut fea: Vec<String> = org.as_ref().map(|o| o.features.iter().map(|f| format!("o:{f}")).collect()).unwrap_or_default();
        for f in crate::store::orgs::scoped(&claims.features) {
            if !fea.contains(&f) {
                fea.push(f);
            }
        }
        spec.fea = (!fea.is_empty()).then(|| fea.join(","));
        spec.pla = (!claims.plans.is_empty()).then(|| crate::store::orgs::scoped(&claims.plans).collect::<Vec<_>>().join(","));
        spec.org = org.map(|o| o.o);
        spec.extra = claims.custom.iter().filter(|(k, _)| !STANDARD_CLAIMS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        spec
    }

    /// Adds a custom claim.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// Sets the lifetime.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Sets `iat` (seconds since the epoch).
    pub fn issued_at(mut self, iat: i64) -> Self {
        self.iat = Some(iat);
        self
    }

    /// The claims object, for an issuer, a default lifetime and the current time in seconds.
    pub fn claims(&self, issuer: &str, default_ttl: Duration, now_secs: i64) -> Map<String, Value> {
        let iat = self.iat.unwrap_or(now_secs);
        // Saturating: `iat` and the lifetime come from callers (control API, CLI) and may be anything.
        let ttl = i64::try_from(self.ttl.unwrap_or(default_ttl).as_secs()).unwrap_or(i64::MAX);
        let mut claims = Map::new();
        if let Some(act) = &self.act {
            claims.insert("act".into(), act.clone());
        }
        if let Some(azp) = &self.azp {
            claims.insert("azp".into(), azp.clone().into());
        }
        claims.insert("exp".into(), iat.saturating_add(ttl).into());
        if let Some(fea) = &self.fea {
            claims.insert("fea".into(), fea.clone().into());
        }
        claims.insert("fva".into(), json!(self.fva.unwrap_or([0, crate::mfa::FVA_NEVER])));
        claims.insert("iat".into(), iat.into());
        claims.insert("iss".into(), issuer.into());
        claims.insert("nbf".into(), iat.saturating_sub(NBF_LEEWAY_SECS).into());
        if let Some(org) = &self.org {
            claims.insert("o".into(), org.clone());
        }
        if let Some(pla) = &self.pla {
            claims.insert("pla".into(), pla.clone().into());
        }
        if let Some(sid) = &self.sid {
            claims.insert("sid".into(), sid.clone().into());
        }
        claims.insert("sts".into(), self.sts.clone().unwrap_or_else(|| "active".into()).into());
        if let Some(sub) = &self.sub {
            claims.insert("sub".into(), sub.clone().into());
        }
        claims.insert("v".into(), SESSION_TOKEN_VERSION.into());
        for (k, v) in &self.extra {
            claims.insert(k.clone(), v.clone());
        }
        claims
    }
}

/// The header Clerk puts on session tokens.
pub fn rs256_header(kid: &str) -> Value {
    json!({"alg": "RS256", "kid": kid, "typ": "JWT"})
}

/// `base64url(header).base64url(claims)`.
fn signing_input(header: &Value, claims: &Map<String, Value>) -> String {
    let header = serde_json::to_vec(header).expect("JSON values serialise");
    let claims = serde_json::to_vec(claims).expect("JSON values serialise");
    format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims))
}

/// The one JWT encoder: `base64url(header).base64url(claims).base64url(sign(signing input))`. Session tokens
/// ([`sign_rs256`]), the handshake token and the forger's broken tokens (`alg: none`, HS256, wrong keys) all go
/// through it.
///
/// ```
/// use serde_json::{Map, json};
/// let jwt = mock_clerk::tokens::encode(&json!({"alg": "none"}), &Map::new(), |_| Vec::new());
/// assert_eq!(jwt, "eyJhbGciOiJub25lIn0.e30.");
/// ```
pub fn encode(header: &Value, claims: &Map<String, Value>, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = signing_input(header, claims);
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Signs `claims` as an RS256 JWT with `key` (the key was parsed once, when loaded).
///
/// ```
/// use mock_clerk::{keys::{SigningKey, TEST_KEY_PEM}, tokens};
/// let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
/// let claims = tokens::TokenSpec::new("user_1", "sess_1").claims("https://a.b", tokens::DEFAULT_TOKEN_LIFETIME, 1_700_000_000);
/// let jwt = tokens::sign_rs256(&key, &claims);
/// assert_eq!(jwt.split('.').count(), 3);
/// ```
pub fn sign_rs256(key: &SigningKey, claims: &Map<String, Value>) -> String {
    encode(&rs256_header(key.kid()), claims, |input| key.sign_rs256(input))
}

/// A decoded (not verified) JWT, for logs, reports and assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedJwt {
    /// The header object.
    pub header: Value,
    /// The claims object.
    pub claims: Value,
}

/// Why a string is not a decodable JWT.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Not three dot-separated parts.
    #[error("a JWT has three dot-separated parts")]
    NotThreeParts,
    /// A part is not base64url.
    #[error("JWT {0} is not base64url")]
    NotBase64(&'static str),
    /// A part is not a JSON object.
    #[error("JWT {0} is not a JSON object")]
    NotJsonObject(&'static str),
}

/// Decodes header and claims without verifying anything.
pub fn decode_unverified(jwt: &str) -> Result<DecodedJwt, DecodeError> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, _signature] = parts.as_slice() else {
        return Err(DecodeError::NotThreeParts);
    };
    let part = |text: &str, name: &'static str| -> Result<Value, DecodeError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| DecodeError::NotBase64(name))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(DecodeError::NotJsonObject(name)),
        }
    };
    Ok(DecodedJwt { header: part(header, "header")?, claims: part(claims, "payload")? })
}

/// Decodes a JWT and checks that one of `keys` signed it with RS256 (times are not checked: the Frontend API
/// sees expired tokens on purpose, during the handshake and the refresh).
pub fn verify_signature(keys: &crate::keys::KeyRing, jwt: &str) -> Option<DecodedJwt> {
    let decoded = decode_unverified(jwt).ok()?;
    if decoded.header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return None;
    }
    let key = keys.get(decoded.header.get("kid").and_then(Value::as_str)?)?;
    let (input, signature) = jwt.rsplit_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    key.verify_rs256(input.as_bytes(), &signature).then_some(decoded)
}

/// Replaces a JWT's signature with `[redacted]`, keeping header and claims readable.
///
/// ```
/// assert_eq!(mock_clerk::tokens::redact_jwt("a.b.c"), "a.b.[redacted]");
/// ```
pub fn redact_jwt(jwt: &str) -> String {
    match jwt.rsplit_once('.') {
        Some((input, _)) if input.contains('.') => format!("{input}.[redacted]"),
        _ => "[redacted]".into(),
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Byte ranges of JWT-shaped substrings: three base64url segments separated by dots, the header starting
/// `eyJ`, the signature possibly empty (`alg: none`). What precedes `eyJ` does not matter: in
/// `redirect_url=…%3DeyJ…` the token follows a `D`. A token already redacted (`….[redacted]`) is skipped.
///
/// ```
/// let text = "a=eyJh.eyJw.sig; b=eyJx.eyJy.[redacted]";
/// assert_eq!(mock_clerk::tokens::jwt_ranges(text), [(2, 15)]);
/// ```
pub fn jwt_ranges(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let run = |from: usize| from + bytes[from..].iter().take_while(|b| is_b64url(**b)).count();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 3 <= bytes.len() {
        if &bytes[i..i + 3] == b"eyJ" {
            let header_end = run(i);
            if bytes.get(header_end) == Some(&b'.') {
                let payload_end = run(header_end + 1);
                if payload_end > header_end + 1 && bytes.get(payload_end) == Some(&b'.') {
                    let end = run(payload_end + 1);
                    if !(end == payload_end + 1 && bytes[end..].starts_with(b"[redacted]")) {
                        found.push((i, end));
                    }
                    i = end;
                    continue;
                }
            }
        }
        i += 1;
    }
    found
}

/// `text` with the signature of every JWT-shaped substring redacted ([`redact_jwt`]).
pub fn redact_jwts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in jwt_ranges(text) {
        out.push_str(&text[last..start]);
        out.push_str(&redact_jwt(&text[start..end]));
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{SigningKey, TEST_KEY_PEM};
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    #[test]
    fn minted_token_verifies_with_the_published_jwk() {
        let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
        let now = 1_800_000_000;
        let claims = TokenSpec::new("user_1", "sess_1").claims("https://a.b", DEFAULT_TOKEN_LIFETIME, now);
        let jwt = sign_rs256(&key, &claims);
        let dk = DecodingKey::from_rsa_components(&key.jwk().n, &key.jwk().e).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        let data = jsonwebtoken::decode::<Value>(&jwt, &dk, &v).unwrap();
        assert_eq!(data.header.kid.as_deref(), Some(key.kid()));
        assert_eq!(data.claims["exp"], now + 60);
        assert_eq!(data.claims["nbf"], now - 10);
        assert_eq!(data.claims["v"], 2);
        assert_eq!(data.claims["sts"], "active");
    }

    #[test]
    fn extra_claims_override_and_missing_ids_are_left_out() {
        let spec = TokenSpec { sub: None, ..TokenSpec::new("u", "s") }.claim("iss", "x");
        let claims = spec.claims("https://a.b", DEFAULT_TOKEN_LIFETIME, 0);
        assert!(!claims.contains_key("sub"));
        assert_eq!(claims["iss"], "x");
    }

    #[test]
    fn only_own_rs256_signatures_verify() {
        let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
        let ring = crate::keys::KeyRing::ephemeral(key.clone());
        let claims = TokenSpec::new("user_1", "sess_1").claims("https://a.b", DEFAULT_TOKEN_LIFETIME, 1);
        let jwt = sign_rs256(&key, &claims);
        assert!(verify_signature(&ring, &jwt).is_some());
        for broken in crate::forge::BrokenToken::ALL {
            let forged = broken.forge(&claims, &key);
            let signed_by_us = matches!(
                broken,
                crate::forge::BrokenToken::Expired
                    | crate::forge::BrokenToken::NotYetValid
                    | crate::forge::BrokenToken::IatInFuture
                    | crate::forge::BrokenToken::MissingSub
                    | crate::forge::BrokenToken::MissingSid
                    | crate::forge::BrokenToken::StsPending
            );
            assert_eq!(verify_signature(&ring, &forged).is_some(), signed_by_us, "{broken}");
        }
    }

    #[test]
    fn decode_rejects_non_jwts() {
        assert_eq!(decode_unverified("abc"), Err(DecodeError::NotThreeParts));
        assert_eq!(decode_unverified("!.e30.x"), Err(DecodeError::NotBase64("header")));
        assert_eq!(decode_unverified("e30.WzFd.x"), Err(DecodeError::NotJsonObject("payload")));
    }
}
