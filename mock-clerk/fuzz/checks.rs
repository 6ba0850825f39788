//! The checks behind the fuzz targets, shared with the proptest that runs them in CI
//! (`mock-clerk/tests/integration/fuzz_checks.rs` includes this file with `#[path]`). Each check takes arbitrary bytes, may
//! never panic, and returns `Err` with a description when an oracle fails; the fuzz targets panic on `Err`.
//!
//! - [`Jwt`]: `tokens::decode_unverified`, `tokens::verify_signature` (test key ring) and `tokens::redact_jwt` on
//!   the input as a token, and on a valid token edited as the input says: only the unedited token verifies.
//! - [`Handshake`]: the input as the query string of `GET /v1/client/handshake` through `server::app`: never a
//!   5xx; a 307 carrying a nonce (redeemable for directives) or a handshake token (ours) in its `Location` or a
//!   `Set-Cookie`, or a 4xx Clerk envelope. `@TOKEN@`/`@DVB@` in the input stand for a live session's token and dev browser.
//! - [`check_extract`]: `extract::query_pairs` / `query_usize` / `query_all` / `query_one`, and
//!   `extract::parse_json` into every body type the routes take: a 400 or 422, never anything else, on refusal.
//! - [`check_cookies`]: the handshake's `Set-Cookie` directives, and the request log's redaction of passwords and
//!   credentials.

#![allow(dead_code)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mock_clerk::extract::{parse_json, query_all, query_one, query_pairs, query_usize};
use mock_clerk::keys::{KeyRing, SigningKey, TEST_KEY_PEM};
use mock_clerk::state::AppState;
use mock_clerk::tokens::{self, TokenSpec};
use serde_json::Value;
use tower::ServiceExt;

/// Splits the input into `n` strings at `0xFF` bytes (never valid UTF-8, so a natural separator).
pub fn fields(data: &[u8], n: usize) -> Vec<String> {
    let mut out: Vec<String> = data.splitn(n, |b| *b == 0xFF).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    out.resize(n, String::new());
    out
}

// ---------------------------------------------------------------------------------------------------------------
// JWT
// ---------------------------------------------------------------------------------------------------------------

/// The test key ring and a token it signed.
pub struct Jwt {
    pub ring: KeyRing,
    pub valid: String,
}

impl Default for Jwt {
    fn default() -> Self {
        let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).expect("test key");
        let claims = TokenSpec::new("user_fuzz", "sess_fuzz").claims("https://fuzz.test", tokens::DEFAULT_TOKEN_LIFETIME, 1_700_000_000);
        let valid = tokens::sign_rs256(&key, &claims);
        Self { ring: KeyRing::ephemeral(key), valid }
    }
}

impl Jwt {
    /// The input as a token, and the valid token edited by the input.
    pub fn check(&self, data: &[u8]) -> Result<(), String> {
        check_token(&self.ring, &String::from_utf8_lossy(data))?;
        let edited = edit(self.valid.as_bytes(), data);
        let edited = String::from_utf8_lossy(&edited);
        check_token(&self.ring, &edited)?;
        let verified = tokens::verify_signature(&self.ring, &edited).is_some();
        match (edited == self.valid, verified) {
            (true, false) => Err("the valid token no longer verifies".into()),
            (false, true) => Err(format!("an edited token verifies: {edited:?}")),
            _ => Ok(()),
        }
    }
}

/// Applies edits to `base`: the input read as 3-byte instructions `(op, position, byte)`.
pub fn edit(base: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    for op in data.chunks_exact(3) {
        let at = |len: usize| if len == 0 { 0 } else { usize::from(op[1]) * len / 256 };
        match op[0] % 5 {
            0 if !out.is_empty() => {
                let i = at(out.len());
                out[i] = op[2];
            }
            1 => {
                let i = at(out.len() + 1).min(out.len());
                out.insert(i, op[2]);
            }
            2 if !out.is_empty() => {
                out.remove(at(out.len()));
            }
            3 => out.truncate(at(out.len() + 1)),
            4 if !out.is_empty() => {
                // Flip one bit of a base64url character into another base64url character.
                let i = at(out.len());
                let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                if let Some(p) = alphabet.iter().position(|c| *c == out[i]) {
                    out[i] = alphabet[(p ^ (1 << (op[2] % 6))) % 64];
                }
            }
            _ => {}
        }
    }
    out
}

/// Oracles for one string taken as a JWT.
pub fn check_token(ring: &KeyRing, jwt: &str) -> Result<(), String> {
    let decoded = tokens::decode_unverified(jwt);
    let verified = tokens::verify_signature(ring, jwt);
    let parts: Vec<&str> = jwt.split('.').collect();
    match &decoded {
        Ok(d) => {
            if parts.len() != 3 {
                return Err(format!("decoded a token of {} parts", parts.len()));
            }
            if !d.header.is_object() || !d.claims.is_object() {
                return Err("decoded header or claims are not objects".into());
            }
        }
        Err(tokens::DecodeError::NotThreeParts) if parts.len() == 3 => return Err("three parts refused as not three".into()),
        Err(_) => {}
    }
    if let Some(v) = &verified {
        if decoded.as_ref().ok() != Some(v) {
            return Err("verify_signature and decode_unverified disagree".into());
        }
        if v.header["alg"] != "RS256" {
            return Err(format!("a token with alg {} verified", v.header["alg"]));
        }
        if v.header["kid"].as_str().and_then(|k| ring.get(k)).is_none() {
            return Err("a token whose kid is not in the ring verified".into());
        }
    }
    let redacted = tokens::redact_jwt(jwt);
    match jwt.rsplit_once('.') {
        Some((input, _)) if input.contains('.') && redacted != format!("{input}.[redacted]") => {
            return Err(format!("redact_jwt kept more than the signing input: {redacted:?}"));
        }
        Some((input, _)) if input.contains('.') => {}
        _ if redacted != "[redacted]" => return Err(format!("redact_jwt of a non-JWT shows it: {redacted:?}")),
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------------------------------

/// An app with a live session, driven in-process.
pub struct Handshake {
    rt: tokio::runtime::Runtime,
    app: Router,
    state: AppState,
    secret_key: String,
    token: String,
    dev_browser: String,
    runs: u64,
    /// Redirects, and redirects that signed the browser in (to see that the oracles are not vacuous).
    pub redirects: u64,
    pub signed_in: u64,
}

/// Store resets: keeps nonces and dev browsers created by the runs from piling up during long fuzzing.
const RESET_EVERY: u64 = 20_000;

impl Default for Handshake {
    fn default() -> Self {
        let state = mock_clerk::MockClerk::builder().state_for(SocketAddr::from(([127, 0, 0, 1], 4010))).expect("state");
        let app = mock_clerk::server::app(state.clone());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let secret_key = state.instance().secret_key().to_owned();
        let mut h = Self { rt, app, state, secret_key, token: String::new(), dev_browser: String::new(), runs: 0, redirects: 0, signed_in: 0 };
        h.seed();
        h
    }
}

impl Handshake {
    fn seed(&mut self) {
        mock_clerk::control::ops::reset(&self.state);
        let signed_in = mock_clerk::control::ops::sign_in(&self.state, Default::default()).expect("sign in");
        self.token = signed_in.token;
        self.dev_browser = signed_in.cookies.iter().find(|c| c.name == "__clerk_db_jwt").map(|c| c.value.clone()).unwrap_or_default();
    }

    /// The input as the handshake's query string.
    pub fn check(&mut self, data: &[u8]) -> Result<(), String> {
        self.runs += 1;
        if self.runs.is_multiple_of(RESET_EVERY) {
            self.seed();
        }
        let text = String::from_utf8_lossy(data).replace("@TOKEN@", &self.token).replace("@DVB@", &self.dev_browser);
        let query = uri_safe(&text);
        let Ok(req) = Request::get(format!("/v1/client/handshake?{query}")).body(Body::empty()) else {
            return Ok(()); // not a request hyper would deliver
        };
        let (status, headers, body) = self.send(req);
        let what = format!("GET /v1/client/handshake?{query} -> {status}");
        if status.is_server_error() {
            return Err(format!("{what}: a 5xx: {body}"));
        }
        let pairs = query_pairs(Some(&query));
        if status == StatusCode::TEMPORARY_REDIRECT {
            let location = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).ok_or(format!("{what}: no Location"))?;
            let location = url::Url::parse(location).map_err(|e| format!("{what}: Location {location:?} is not a URL: {e}"))?;
            if !matches!(location.scheme(), "http" | "https") {
                return Err(format!("{what}: redirect to a {} URL", location.scheme()));
            }
            if query_one(&pairs, "redirect_url").is_none() {
                return Err(format!("{what}: redirected without a redirect_url"));
            }
            // Development: a query parameter; production: a cookie (`name=value; …`).
            let mut params: Vec<(String, String)> = location.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            let cookies = headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='));
            params.extend(cookies.map(|(k, v)| (k.to_owned(), v.to_owned())));
            let directives = if let Some((_, nonce)) = params.iter().rev().find(|(k, _)| k == "__clerk_handshake_nonce") {
                self.redeem(nonce).map_err(|e| format!("{what}: {e}"))?
            } else if let Some((_, jwt)) = params.iter().rev().find(|(k, _)| k == "__clerk_handshake") {
                let keys = self.state.keys();
                let payload = tokens::verify_signature(&keys, jwt).ok_or(format!("{what}: the handshake token is not ours"))?;
                serde_json::from_value::<Vec<String>>(payload.claims["handshake"].clone()).map_err(|e| format!("{what}: handshake claim: {e}"))?
            } else {
                return Err(format!("{what}: neither a nonce nor a handshake token in {location}"));
            };
            if !directives.iter().any(|d| d.starts_with("__client_uat=")) {
                return Err(format!("{what}: no __client_uat directive in {directives:?}"));
            }
            let forwarded = query_one(&pairs, "__session");
            let signed_in = directives.iter().any(|d| d.starts_with("__session=ey"));
            if forwarded.as_deref() == Some(self.token.as_str()) && !signed_in {
                return Err(format!("{what}: the live session's token did not sign the browser in: {directives:?}"));
            }
            self.redirects += 1;
            self.signed_in += u64::from(signed_in);
            return Ok(());
        }
        if !status.is_client_error() {
            return Err(format!("{what}: neither a redirect nor a 4xx: {body}"));
        }
        check_envelope(&body).map_err(|e| format!("{what}: {e}: {body}"))?;
        if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/json") {
            return Err(format!("{what}: Content-Type is not application/json"));
        }
        Ok(())
    }

    fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        self.rt.block_on(async {
            let res = self.app.clone().oneshot(req).await.expect("infallible");
            let (status, headers) = (res.status(), res.headers().clone());
            let bytes = res.into_body().collect().await.expect("body").to_bytes();
            (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        })
    }

    /// `GET /v1/clients/handshake_payload?nonce=…` → the directives; a nonce is good once.
    fn redeem(&self, nonce: &str) -> Result<Vec<String>, String> {
        let uri = format!("/v1/clients/handshake_payload?nonce={}", form_urlencoded::byte_serialize(nonce.as_bytes()).collect::<String>());
        let get = || Request::get(&uri).header(header::AUTHORIZATION, format!("Bearer {}", self.secret_key)).body(Body::empty()).unwrap();
        let (status, _, body) = self.send(get());
        if status != StatusCode::OK {
            return Err(format!("nonce {nonce} not redeemed: {status} {body}"));
        }
        let (again, _, _) = self.send(get());
        if again != StatusCode::NOT_FOUND {
            return Err(format!("nonce {nonce} redeemed twice ({again})"));
        }
        serde_json::from_value(body["directives"].clone()).map_err(|e| format!("directives: {e}"))
    }
}

/// Percent-encodes what may not appear in a URI query; `%`, `&`, `=` and `+` stay, so the input shapes the pairs.
pub fn uri_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Clerk's error envelope.
pub fn check_envelope(body: &Value) -> Result<(), String> {
    let object = body.as_object().ok_or("not a JSON object")?;
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["clerk_trace_id", "errors"] {
        return Err(format!("envelope keys are {keys:?}"));
    }
    let e = &body["errors"][0];
    if !e["code"].is_string() || !e["message"].is_string() || !e["long_message"].is_string() || !e["meta"].is_object() {
        return Err("error entry is not {code,message,long_message,meta}".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Extract: query strings and JSON bodies
// ---------------------------------------------------------------------------------------------------------------

pub fn check_extract(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let pairs = query_pairs(Some(&text));
    if let Some((k, _)) = pairs.iter().find(|(k, _)| k.ends_with("[]")) {
        return Err(format!("key {k:?} keeps its [] suffix"));
    }
    // Serialising the pairs and reading them back gives the same pairs.
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        ser.append_pair(k, v);
    }
    let again = query_pairs(Some(&ser.finish()));
    if again != pairs {
        return Err(format!("pairs do not round-trip: {pairs:?} -> {again:?}"));
    }
    let mut names: Vec<&str> = vec!["limit", "offset", "redirect_url", "__session"];
    names.extend(pairs.iter().take(4).map(|(k, _)| k.as_str()));
    for name in names {
        let last = pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if query_one(&pairs, name) != last {
            return Err(format!("query_one({name}) is not the last value"));
        }
        if query_all(&pairs, name).len() != pairs.iter().filter(|(k, _)| k == name).count() {
            return Err(format!("query_all({name}) misses values"));
        }
        match (query_usize(&pairs, name), &last) {
            (Ok(None), None) => {}
            (Ok(Some(n)), Some(v)) if v.parse::<usize>() == Ok(n) => {}
            (Err(e), Some(v)) if v.parse::<usize>().is_err() && e.status() == StatusCode::UNPROCESSABLE_ENTITY => {}
            (got, _) => return Err(format!("query_usize({name}) = {got:?} for {last:?}")),
        }
    }
    check_body::<mock_clerk::store::NewUser>(data)?;
    check_body::<mock_clerk::SignInRequest>(data)?;
    check_body::<mock_clerk::MintRequest>(data)?;
    check_body::<mock_clerk::Fault>(data)?;
    check_body::<serde_json::Map<String, Value>>(data)?;
    Ok(())
}

/// `parse_json::<T>`: accepted only for a JSON object (or an empty body); refused with a 400 (not JSON, not an
/// object) or a 422 (a field), whose envelope never repeats a password.
fn check_body<T: serde::de::DeserializeOwned>(data: &[u8]) -> Result<(), String> {
    let what = std::any::type_name::<T>();
    let as_json =
        if data.iter().all(u8::is_ascii_whitespace) { Ok(Value::Object(Default::default())) } else { serde_json::from_slice::<Value>(data) };
    match parse_json::<T>(data) {
        Ok(_) if as_json.as_ref().is_ok_and(Value::is_object) => Ok(()),
        Ok(_) => Err(format!("{what}: accepted a body that is not a JSON object")),
        Err(e) => {
            let status = e.status();
            let expected = match &as_json {
                Ok(v) if v.is_object() => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            if status != expected {
                return Err(format!("{what}: refused with {status}, expected {expected}: {e:?}"));
            }
            let envelope = e.envelope();
            check_envelope(&envelope)?;
            if let Some(Value::String(password)) = as_json.as_ref().ok().and_then(|v| v.get("password"))
                && password.len() >= 4
                && envelope.to_string().contains(password.as_str())
            {
                return Err(format!("{what}: the refusal repeats the password: {envelope}"));
            }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Cookies and redaction
// ---------------------------------------------------------------------------------------------------------------

pub fn check_cookies(data: &[u8]) -> Result<(), String> {
    use mock_clerk::cookies::{signed_in_directives, signed_out_directives};
    let f = fields(data, 5);
    let (token, dev_browser, suffix) = (&f[0], (!f[1].is_empty()).then_some(f[1].as_str()), (!f[2].is_empty()).then_some(f[2].as_str()));
    let iat = f[3].len() as i64 - 3;
    let copies = if suffix.is_some() { 2 } else { 1 };
    let signed_in = signed_in_directives(token, iat, dev_browser, suffix);
    if signed_in.len() != copies * (2 + usize::from(dev_browser.is_some())) {
        return Err(format!("{} signed-in directives", signed_in.len()));
    }
    if signed_in.last() != Some(&format!("__session={token}; Path=/; SameSite=Lax")) {
        return Err(format!("the last directive is not the unsuffixed __session: {signed_in:?}"));
    }
    if !signed_in.contains(&format!("__client_uat={iat}; Path=/; SameSite=Lax")) {
        return Err("no __client_uat = iat".into());
    }
    let signed_out = signed_out_directives(dev_browser, suffix);
    if signed_out.len() != copies * (2 + usize::from(dev_browser.is_some())) || !signed_out.iter().any(|d| d.starts_with("__session=;")) {
        return Err(format!("signed-out directives: {signed_out:?}"));
    }

    // Credentials: the secret key never shows.
    let secret_key = mock_clerk::instance::DEFAULT_SECRET_KEY;
    let header = f[4].replace("@SK@", secret_key);
    let logged = mock_clerk::reqlog::redact_credential(&header, secret_key);
    if logged.contains(secret_key) {
        return Err(format!("redact_credential({header:?}) shows the secret key: {logged:?}"));
    }

    // Passwords: a JSON body stays JSON, with every `password` value (at any depth) replaced.
    let body = String::from_utf8_lossy(data);
    let redacted = mock_clerk::reqlog::redact_passwords(&body);
    if let Ok(original) = serde_json::from_str::<Value>(&body) {
        let got: Value = serde_json::from_str(&redacted).map_err(|e| format!("redacted JSON is no longer JSON ({e}): {redacted:?}"))?;
        let want = redact_value(original);
        if got != want {
            return Err(format!("redaction of {body:?} gave {redacted:?}"));
        }
    } else if !body.contains("password") && !body.contains('\\') && redacted != body {
        return Err(format!("a body without passwords was changed: {body:?} -> {redacted:?}"));
    }
    Ok(())
}

fn redact_value(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if k == "password" { Value::String(mock_clerk::reqlog::REDACTED.into()) } else { redact_value(v) };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact_value).collect()),
        other => other,
    }
}
