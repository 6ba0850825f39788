//! Clerk's cookie names and the cookies a browser holds after signing in
//! (`packages/backend/src/constants.ts` `Cookies`, `packages/backend/src/tokens/authenticateContext.ts`).

use serde::{Deserialize, Serialize};

/// The session token.
pub const SESSION: &str = "__session";
/// Seconds of the client's last update; must be ≤ the session token's `iat`.
pub const CLIENT_UAT: &str = "__client_uat";
/// The dev-browser token, required on development instances.
pub const DEV_BROWSER: &str = "__clerk_db_jwt";
/// The refresh-token cookie; only its suffixed form `__refresh_<suffix>` is read.
pub const REFRESH: &str = "__refresh";
/// The handshake token (query parameter or cookie).
pub const HANDSHAKE: &str = "__clerk_handshake";
/// The handshake nonce (query parameter or cookie).
pub const HANDSHAKE_NONCE: &str = "__clerk_handshake_nonce";
/// The SDK's handshake loop counter.
pub const REDIRECT_COUNT: &str = "__clerk_redirect_count";
/// Attributes Clerk puts on the cookies it sets (`__session` is not HttpOnly: clerk-js writes it).
pub const ATTRIBUTES: &str = "Path=/; SameSite=Lax";

/// A cookie as a browser stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

impl Cookie {
    /// A cookie.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into() }
    }

    /// The `Set-Cookie` value Clerk would send for it.
    ///
    /// ```
    /// let c = mock_clerk::cookies::Cookie::new("__client_uat", "0");
    /// assert_eq!(c.set_cookie(), "__client_uat=0; Path=/; SameSite=Lax");
    /// ```
    pub fn set_cookie(&self) -> String {
        format!("{}={}; {ATTRIBUTES}", self.name, self.value)
    }
}

/// A `Cookie:` header for these cookies.
///
/// ```
/// use mock_clerk::cookies::{Cookie, cookie_header};
/// assert_eq!(cookie_header(&[Cookie::new("a", "1"), Cookie::new("b", "2")]), "a=1; b=2");
/// ```
pub fn cookie_header(cookies: &[Cookie]) -> String {
    cookies.iter().map(|c| format!("{}={}", c.name, c.value)).collect::<Vec<_>>().join("; ")
}

/// `name_<suffix>`.
pub fn suffixed(name: &str, suffix: &str) -> String {
    format!("{name}_{suffix}")
}
