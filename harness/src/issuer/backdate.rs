//! Back-dating: how "N seconds pass" is done for a real target that checks tokens against its own wall clock.
//! The token is re-minted with the same claims and `iat`, `nbf`, `exp` all shifted N seconds into the past.

use mock_clerk::MintRequest;
use mock_clerk::tokens::decode_unverified;
use serde_json::Value;

use super::IssuerError;

/// The mint request that re-issues `token` as if it had been issued `secs` seconds earlier.
///
/// Every claim is kept (they override mock-clerk's defaults), so only the three times change. A token without
/// `sub` or `sid` gets mock-clerk's placeholder ids, and the new token is signed with the active key.
///
/// ```
/// use mock_clerk::tokens::{TokenSpec, sign_rs256};
/// use mock_clerk::keys::{SigningKey, TEST_KEY_PEM};
/// let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
/// let jwt = sign_rs256(&key, &TokenSpec::new("user_1", "sess_1").claims("https://x.y", std::time::Duration::from_secs(60), 1_000));
/// let req = harness::issuer::backdate_request(&jwt, 61).unwrap();
/// assert_eq!((req.iat, req.claims["exp"].as_i64(), req.claims["nbf"].as_i64()), (Some(939), Some(999), Some(929)));
/// assert_eq!(req.sub.as_deref(), Some("user_1"));
/// ```
pub fn backdate_request(token: &str, secs: u64) -> Result<MintRequest, IssuerError> {
    let decoded = decode_unverified(token).map_err(|e| IssuerError::NotAToken(e.to_string()))?;
    let Value::Object(mut claims) = decoded.claims else {
        return Err(IssuerError::NotAToken("claims are not an object".into()));
    };
    let shift = i64::try_from(secs).unwrap_or(i64::MAX);
    let time = |claims: &serde_json::Map<String, Value>, name: &str| claims.get(name).and_then(Value::as_i64);
    let iat = time(&claims, "iat").ok_or_else(|| IssuerError::NotAToken("no numeric iat claim".into()))?;
    let exp = time(&claims, "exp");
    for name in ["iat", "nbf", "exp"] {
        if let Some(t) = time(&claims, name) {
            claims.insert(name.into(), t.saturating_sub(shift).into());
        }
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(MintRequest {
        sub: text("sub"),
        sid: text("sid"),
        azp: text("azp"),
        iat: Some(iat.saturating_sub(shift)),
        ttl_seconds: exp.map(|e| e.saturating_sub(iat).max(0) as u64),
        claims,
        broken: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_tokens_are_refused() {
        assert!(matches!(backdate_request("abc", 1), Err(IssuerError::NotAToken(_))));
        // header {"alg":"none"}, claims {"sub":"u"}: no iat.
        assert!(matches!(backdate_request("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.", 1), Err(IssuerError::NotAToken(_))));
    }

    #[test]
    fn custom_claims_survive_and_huge_shifts_saturate() {
        // claims {"iat":10,"exp":70,"role":"admin"}
        let req = backdate_request("eyJhbGciOiJub25lIn0.eyJpYXQiOjEwLCJleHAiOjcwLCJyb2xlIjoiYWRtaW4ifQ.", u64::MAX).unwrap();
        assert_eq!(req.claims["role"], "admin");
        assert_eq!(req.claims["iat"].as_i64(), Some(10 - i64::MAX));
        assert_eq!(req.ttl_seconds, Some(60));
        assert!(!req.claims.contains_key("nbf"));
    }
}
