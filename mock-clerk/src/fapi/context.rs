//! Who is calling the Frontend API, and how answers go back.
//!
//! A browser is known by its client. clerk-js sends the dev-browser token as the `__clerk_db_jwt` query
//! parameter when its Frontend API host is one of Clerk's development hosts (`isDevOrStagingUrl`); for any other
//! host (mock-clerk's `127.0.0.1:PORT`) it relies on cookies, as on production: mock-clerk then sets the
//! `__client` cookie (an RS256 JWT naming the client, like Clerk's) on its own host, and clerk-js sends it with
//! `credentials: "include"`. On development instances the dev browser the handshake issued (`__clerk_db_jwt`,
//! a cookie on the same host) is bound to the client too, so a later handshake finds the session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::errors::FapiError;
use crate::cookies;
use crate::error::ok_json;
use crate::extract::{query_one, query_pairs};
use crate::state::AppState;
use crate::tokens::{rs256_header, verify_signature};

/// The client cookie on the Frontend API host.
pub const CLIENT_COOKIE: &str = "__client";
/// How long the client cookie lives (Clerk: about a year... and the client with it).
pub const CLIENT_COOKIE_MAX_AGE: u64 = 365 * 24 * 3600;

/// The caller of a Frontend API route.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    /// Its client, if it has one.
    pub client_id: Option<String>,
    /// The dev-browser token it presented (development instances).
    pub dev_browser: Option<String>,
    /// The page's origin (`Origin`, else the `Referer`'s): the `azp` of the tokens minted for it.
    pub origin: Option<String>,
    /// A client was created while answering: the response sets the client cookie.
    pub new_client: bool,
    /// The client was destroyed while answering: the response clears the client cookie.
    pub cleared: bool,
}

/// The cookies of a request, in order.
pub fn request_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn cookie<'a>(cookies: &'a [(String, String)], name: &str) -> Option<&'a str> {
    cookies.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = FapiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, FapiError> {
        let pairs = query_pairs(parts.uri.query());
        let jar = request_cookies(&parts.headers);
        let dev_browser = if state.instance().is_development() {
            query_one(&pairs, cookies::DEV_BROWSER)
                .filter(|v| !v.is_empty())
                .or_else(|| cookie(&jar, cookies::DEV_BROWSER).map(str::to_owned))
                .or_else(|| cookie(&jar, &cookies::suffixed(cookies::DEV_BROWSER, state.instance().cookie_suffix())).map(str::to_owned))
        } else {
            None
        };
        let from_cookie = cookie(&jar, CLIENT_COOKIE).and_then(|jwt| {
            let keys = state.keys();
            let decoded = verify_signature(&keys, jwt)?;
            decoded.claims.get("id").and_then(Value::as_str).map(str::to_owned)
        });
        let client_id = {
            let store = state.store();
            let from_dev_browser = dev_browser.as_deref().and_then(|d| store.dev_browser(d)?.client_id.clone());
            from_cookie.or(from_dev_browser).filter(|id| store.client(id).is_some())
        };
        let origin = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| *o != "null").map(str::to_owned).or_else(|| {
            let referer = parts.headers.get(header::REFERER)?.to_str().ok()?;
            Some(url::Url::parse(referer).ok()?.origin().ascii_serialization())
        });
        Ok(Self { client_id, dev_browser, origin, new_client: false, cleared: false })
    }
}

impl Browser {
    /// The client, created (and bound to the dev browser) if the browser has none yet.
    pub fn ensure_client(&mut self, state: &AppState) -> String {
        if let Some(id) = &self.client_id {
            return id.clone();
        }
        let now = state.clock().now_ms();
        let mut store = state.store();
        let client = store.create_client(now);
        if let Some(dvb) = &self.dev_browser {
            store.bind_dev_browser(dvb, &client.id, now);
        }
        self.client_id = Some(client.id.to_string());
        self.new_client = true;
        client.id.to_string()
    }

    /// The client, or [`FapiError::SignedOut`].
    pub fn client(&self) -> Result<&str, FapiError> {
        self.client_id.as_deref().ok_or(FapiError::SignedOut)
    }

    /// `{"response": …, "client": …}`, with the client cookie when it changed.
    pub fn answer(&self, state: &AppState, response: Value) -> Response {
        let client = self.client_id.as_deref().map_or(Value::Null, |id| super::views::client_json(state, id, self.origin.as_deref()));
        self.respond(state, json!({"response": response, "client": client}))
    }

    /// `body` as it is, with the client cookie when it changed.
    pub fn respond(&self, state: &AppState, body: Value) -> Response {
        let mut response = ok_json(&body);
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.cleared {
            headers.append(header::SET_COOKIE, HeaderValue::from_static("__client=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
        } else if let (true, Some(id)) = (self.new_client, &self.client_id) {
            let value = format!("{CLIENT_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={CLIENT_COOKIE_MAX_AGE}", client_cookie(state, id));
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.append(header::SET_COOKIE, v);
            }
        }
        if !state.instance().is_development() && (self.cleared || self.client_id.is_some()) {
            let uat = if self.cleared { 0 } else { self.client_uat(state) };
            for directive in cookies::client_uat_directives(uat, state.instance().cookie_suffix()) {
                if let Ok(v) = HeaderValue::from_str(&directive) {
                    headers.append(header::SET_COOKIE, v);
                }
            }
        }
        response
    }

    /// The client's `__client_uat`: its last update in seconds while a session on it is active, else `0`.
    fn client_uat(&self, state: &AppState) -> i64 {
        let Some(id) = self.client_id.as_deref() else { return 0 };
        let now = state.clock().now_ms();
        let store = state.store();
        match store.client(id) {
            // Never after the wall clock, which session tokens' `iat` follows: after `POST /__mock/clock/advance` a
            // virtual `updated_at` would make every token look outdated to the SDK (`client_uat > iat`).
            Some(client) if !store.active_sessions_on_client(id, now).is_empty() => (client.updated_at / 1000).min(state.clock().wall_ms() / 1000),
            _ => 0,
        }
    }
}

/// The `__client` cookie value: an RS256 JWT `{"id": client_id, "rotating_token": …}` signed with the instance key.
pub fn client_cookie(state: &AppState, client_id: &str) -> String {
    let mut claims = Map::new();
    claims.insert("id".into(), client_id.into());
    claims.insert("rotating_token".into(), crate::ids::new_id("rt").into());
    let keys = state.keys();
    let key = keys.active();
    crate::tokens::encode(&rs256_header(key.kid()), &claims, |input| key.sign_rs256(input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_split_and_trimmed() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; __client=x.y.z ;b="));
        let jar = request_cookies(&h);
        assert_eq!(cookie(&jar, "__client"), Some("x.y.z"));
        assert_eq!(cookie(&jar, "b"), None);
    }
}
