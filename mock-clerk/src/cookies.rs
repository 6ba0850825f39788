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

/// The `Set-Cookie` with which a production Frontend API hands the handshake result (`__clerk_handshake` or
/// `__clerk_handshake_nonce`) to the app; `domain` is the app's parent domain, or `None` for a host-only cookie
/// (the Frontend API and the app on the same host: cookies ignore ports).
///
/// ```
/// use mock_clerk::cookies::{HANDSHAKE_NONCE, handshake_cookie};
/// assert_eq!(handshake_cookie(HANDSHAKE_NONCE, "nonce_1", None), "__clerk_handshake_nonce=nonce_1; Path=/; SameSite=Lax; HttpOnly");
/// assert_eq!(handshake_cookie(HANDSHAKE_NONCE, "n", Some("example.com")), "__clerk_handshake_nonce=n; Path=/; SameSite=Lax; HttpOnly; Domain=example.com");
/// ```
pub fn handshake_cookie(name: &str, value: &str, domain: Option<&str>) -> String {
    let domain = domain.map(|d| format!("; Domain={d}")).unwrap_or_default();
    format!("{name}={value}; {ATTRIBUTES}; HttpOnly{domain}")
}

/// The directive that deletes the handshake cookie once the app has applied the result (Clerk's production
/// payloads carry `__clerk_handshake=; Path=/; Domain=…; Expires=<epoch>`): without it the browser would replay
/// a spent nonce on every request.
///
/// ```
/// use mock_clerk::cookies::{HANDSHAKE, handshake_cookie_cleared};
/// assert_eq!(handshake_cookie_cleared(HANDSHAKE, None), "__clerk_handshake=; Path=/; SameSite=Lax; HttpOnly; Max-Age=0");
/// ```
pub fn handshake_cookie_cleared(name: &str, domain: Option<&str>) -> String {
    format!("{}; Max-Age=0", handshake_cookie(name, "", domain))
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

/// The `Set-Cookie` directives that sign a browser in: `__session`, `__client_uat` (= the token's `iat`) and, on
/// development instances, `__clerk_db_jwt`; each also suffixed when the SDK asked for suffixed cookies.
/// The dev-browser cookie comes first and `__session` last: the SDK takes the *last* `__session*` directive.
pub fn signed_in_directives(token: &str, iat: i64, dev_browser: Option<&str>, suffix: Option<&str>) -> Vec<String> {
    let mut jar = Vec::new();
    if let Some(dvb) = dev_browser {
        jar.push(Cookie::new(DEV_BROWSER, dvb));
    }
    jar.push(Cookie::new(CLIENT_UAT, iat.to_string()));
    jar.push(Cookie::new(SESSION, token));
    with_suffixed(jar, suffix).iter().map(Cookie::set_cookie).collect()
}

/// The directives that sign a browser out: `__client_uat=0` and a cleared `__session` (plus the dev browser).
pub fn signed_out_directives(dev_browser: Option<&str>, suffix: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(dvb) = dev_browser {
        out.extend(with_suffixed(vec![Cookie::new(DEV_BROWSER, dvb)], suffix).iter().map(Cookie::set_cookie));
    }
    for name in std::iter::once(CLIENT_UAT.to_owned()).chain(suffix.map(|s| suffixed(CLIENT_UAT, s))) {
        out.push(format!("{name}=0; {ATTRIBUTES}"));
    }
    for name in std::iter::once(SESSION.to_owned()).chain(suffix.map(|s| suffixed(SESSION, s))) {
        out.push(format!("{name}=; {ATTRIBUTES}; Max-Age=0"));
    }
    out
}

/// The `__client_uat` directives (plain and suffixed) a production Frontend API sets with each answer: the
/// client's last update in seconds while it has a signed-in session, else `0`. On production instances clerk-js
/// leaves this cookie to the Frontend API (`AuthCookieService.setClientUatCookieForDevelopmentInstances` writes
/// it only on development instances); without it the middleware treats the browser as signed out.
///
/// ```
/// assert_eq!(mock_clerk::cookies::client_uat_directives(0, "sfx"), ["__client_uat_sfx=0; Path=/; SameSite=Lax", "__client_uat=0; Path=/; SameSite=Lax"]);
/// ```
pub fn client_uat_directives(uat: i64, suffix: &str) -> Vec<String> {
    with_suffixed(vec![Cookie::new(CLIENT_UAT, uat.to_string())], Some(suffix)).iter().map(Cookie::set_cookie).collect()
}

fn with_suffixed(jar: Vec<Cookie>, suffix: Option<&str>) -> Vec<Cookie> {
    match suffix {
        None => jar,
        Some(sfx) => jar
            .into_iter()
            .flat_map(|c| {
                let copy = Cookie::new(suffixed(&c.name, sfx), c.value.clone());
                [copy, c]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_directive_comes_last_so_the_sdk_picks_it() {
        let d = signed_in_directives("jwt", 7, Some("dvb_1"), Some("sfx"));
        assert_eq!(d.last().unwrap(), "__session=jwt; Path=/; SameSite=Lax");
        assert!(d.contains(&"__session_sfx=jwt; Path=/; SameSite=Lax".to_owned()));
        assert!(d.contains(&"__client_uat=7; Path=/; SameSite=Lax".to_owned()));
        assert_eq!(d[0], "__clerk_db_jwt_sfx=dvb_1; Path=/; SameSite=Lax");
    }

    #[test]
    fn signed_out_clears_the_session_and_zeroes_client_uat() {
        let d = signed_out_directives(None, None);
        assert_eq!(d, vec!["__client_uat=0; Path=/; SameSite=Lax", "__session=; Path=/; SameSite=Lax; Max-Age=0"]);
    }
}
