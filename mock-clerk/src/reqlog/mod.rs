//! The log of every Backend and Frontend API request mock-clerk received, readable through the control API.
//! The secret key never enters it: `Authorization` values are redacted on the way in, and so are the values of
//! JSON body fields named `password`. [`LoggedRequest`] is also the record the harness's downstream API double
//! keeps (`harness::downstream::RecordedRequest`).

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One received request.
///
/// ```
/// use mock_clerk::LoggedRequest;
/// let r = LoggedRequest { method: "GET".into(), path: "/schedules".into(),
///     headers: vec![("authorization".into(), "Bearer eyJabc".into())], ..LoggedRequest::default() };
/// assert_eq!(r.bearer(), Some("eyJabc"));
/// assert_eq!(r.header("Authorization"), Some("Bearer eyJabc"));
/// assert!(r.is("get", "/sched*"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// 1-based arrival order.
    pub seq: u64,
    /// Wall-clock arrival time, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Header names (lowercase) and values, in arrival order (mock-clerk redacts credentials).
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8; mock-clerk redacts `password` values); empty when there was none.
    pub body: String,
    /// The status answered (0 while the answer is still being delayed).
    pub status: u16,
    /// How long a fault delayed the answer, milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delayed_ms: u64,
}

fn is_zero(ms: &u64) -> bool {
    *ms == 0
}

impl LoggedRequest {
    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The token of `Authorization: Bearer <token>`.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
    }
    /// The `sid` claim of the bearer token (decoded, not verified): which Clerk session made the call.
    pub fn session(&self) -> Option<String> {
        let claims = crate::tokens::decode_unverified(self.bearer()?).ok()?.claims;
        claims.get("sid")?.as_str().map(str::to_owned)
    }
    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
    /// Whether this request is `method path` (method case-insensitive; a path ending in `*` matches a prefix).
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && path_matches(path, &self.path)
    }
}

/// A pattern path: exact, or a prefix when it ends with `*`.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

/// The requests that are `method path`, in arrival order.
///
/// ```
/// use mock_clerk::{LoggedRequest, reqlog::matching};
/// let log = vec![
///     LoggedRequest { method: "GET".into(), path: "/schedules".into(), ..Default::default() },
///     LoggedRequest { method: "PUT".into(), path: "/schedules/1".into(), ..Default::default() },
/// ];
/// assert_eq!(matching(&log, "GET", "/schedules").len(), 1);
/// assert_eq!(matching(&log, "put", "/schedules/*").len(), 1);
/// ```
pub fn matching<'a>(requests: &'a [LoggedRequest], method: &str, path: &str) -> Vec<&'a LoggedRequest> {
    requests.iter().filter(|r| r.is(method, path)).collect()
}

/// Milliseconds between consecutive arrivals (one fewer than the requests; never negative).
///
/// ```
/// use mock_clerk::{LoggedRequest, reqlog::gaps_ms};
/// let at = |ms| LoggedRequest { at_ms: ms, ..Default::default() };
/// assert_eq!(gaps_ms(&[at(10), at(310), at(910)]), vec![300, 600]);
/// ```
pub fn gaps_ms<'a>(requests: impl IntoIterator<Item = &'a LoggedRequest>) -> Vec<u64> {
    let times: Vec<i64> = requests.into_iter().map(|r| r.at_ms).collect();
    times.windows(2).map(|w| u64::try_from(w[1].saturating_sub(w[0])).unwrap_or(0)).collect()
}

mod store;
pub use store::{LOG_CAPACITY, Received, RequestLog};

/// Authorization schemes whose name is kept in the log (compared case-insensitively).
const KNOWN_SCHEMES: &[&str] = &["Bearer", "Basic", "Token", "Digest", "Negotiate", "ApiKey"];

/// Redacts a credential header value: `Bearer sk_test_…` → `Bearer [redacted secret key]`. Only a known scheme
/// name is kept: in `sk_test_… x` the first word is the credential, not a scheme (found by the `cookies` fuzz
/// check, which used to see the key in the log).
pub fn redact_credential(value: &str, secret_key: &str) -> String {
    let (scheme, token) = match value.split_once(' ') {
        Some((scheme, token)) if KNOWN_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) => (scheme, token),
        _ => ("", value),
    };
    let what = if token.trim() == secret_key { "[redacted secret key]" } else { "[redacted]" };
    if scheme.is_empty() { what.to_owned() } else { format!("{scheme} {what}") }
}

/// [`redact_credential`] for a header value's bytes: `Bearer <secret key>` (every Backend API call) without an
/// allocation.
pub fn redact_credential_bytes(value: &[u8], secret_key: &str) -> Cow<'static, str> {
    if value.strip_prefix(b"Bearer ") == Some(secret_key.as_bytes()) {
        return Cow::Borrowed(BEARER_SECRET_KEY_REDACTED);
    }
    Cow::Owned(redact_credential(&String::from_utf8_lossy(value), secret_key))
}

/// `Bearer <secret key>`, redacted.
const BEARER_SECRET_KEY_REDACTED: &str = "Bearer [redacted secret key]";

/// What a redacted body field reads as.
pub const REDACTED: &str = "[redacted]";

/// Replaces the value of every JSON field named `password`, at any depth, with `"[redacted]"`, and leaves every
/// other byte as it was. Works on the text, so a body that is not quite JSON (truncated, numbers serde_json
/// refuses) is still redacted; a key is a string followed by `:`, escapes in it decoded (`"pass\u0077ord"`).
pub fn redact_passwords(body: &str) -> String {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let key_end = string_end(bytes, i);
        let colon = skip_whitespace(bytes, key_end);
        if bytes.get(colon) != Some(&b':') || !is_password_key(&body[i..key_end]) {
            i = key_end;
            continue;
        }
        let value = skip_whitespace(bytes, colon + 1);
        if value == bytes.len() {
            break;
        }
        let value_end = value_end(bytes, value);
        out.push_str(&body[copied..value]);
        out.push('"');
        out.push_str(REDACTED);
        out.push('"');
        copied = value_end;
        i = value_end;
    }
    out.push_str(&body[copied..]);
    out
}

/// The index just past the string that opens at `start` (its closing quote), or the end of the text.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn skip_whitespace(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The index just past the JSON value starting at `start`: a string, an object or array (brackets matched,
/// strings skipped), or a scalar up to the next delimiter. Unterminated values run to the end.
fn value_end(bytes: &[u8], start: usize) -> usize {
    match bytes[start] {
        b'"' => string_end(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = string_end(bytes, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            bytes.len()
        }
        _ => {
            let mut i = start;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']') && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            i
        }
    }
}

/// Whether the quoted string `raw` (quotes included) is `password`, escapes decoded.
/// Body fields whose values are secrets: passwords, and the machine tokens and API keys verified or created
/// (`{"token": "mt_…"}`, `{"secret": "ak_…"}`, `{"access_token": "oat_…"}`, a template's `signing_key`).
const SECRET_KEYS: [&str; 5] = ["password", "token", "secret", "access_token", "signing_key"];

fn is_password_key(raw: &str) -> bool {
    let plain = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"'));
    plain.is_some_and(|k| !k.contains('\\') && SECRET_KEYS.contains(&k))
        || (raw.contains('\\') && serde_json::from_str::<String>(raw).is_ok_and(|k| SECRET_KEYS.contains(&k.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_needs_the_bearer_scheme_and_a_token() {
        let with = |v: &str| LoggedRequest { headers: vec![("authorization".into(), v.into())], ..Default::default() };
        assert_eq!(with("bearer  t ").bearer(), Some("t"));
        assert_eq!(with("Basic dXNlcg==").bearer(), None);
        assert_eq!(with("Bearer").bearer(), None);
        assert_eq!(LoggedRequest::default().bearer(), None);
    }

    #[test]
    fn gaps_work_on_references_and_never_underflow() {
        let log = [LoggedRequest { at_ms: 5, ..Default::default() }, LoggedRequest { at_ms: 3, ..Default::default() }];
        assert_eq!(gaps_ms(log.iter().collect::<Vec<_>>()), vec![0]);
        assert!(gaps_ms(&log[..1]).is_empty());
    }

    #[test]
    fn secret_key_is_named_but_not_shown() {
        assert_eq!(redact_credential("Bearer sk_1", "sk_1"), BEARER_SECRET_KEY_REDACTED);
        for value in ["Bearer sk_1", "Bearer  sk_1", "bearer sk_1", "Bearer sk_12", "sk_1", "Basic c2s6", "Bearer \u{e9}sk_1"] {
            assert_eq!(redact_credential_bytes(value.as_bytes(), "sk_1"), redact_credential(value, "sk_1"), "{value}");
        }
        assert_eq!(redact_credential("Bearer other", "sk_1"), "Bearer [redacted]");
        assert_eq!(redact_credential("sk_1", "sk_1"), "[redacted secret key]");
        assert_eq!(redact_credential("sk_1 x", "sk_1"), "[redacted]", "the key in the scheme's place");
        assert_eq!(redact_credential("Basic c2s6", "sk_1"), "Basic [redacted]");
    }

    #[test]
    fn passwords_are_redacted_at_any_depth() {
        assert_eq!(
            redact_passwords(r#"{"email_address":["a@b.c"],"password":"correct horse"}"#),
            r#"{"email_address":["a@b.c"],"password":"[redacted]"}"#
        );
        assert_eq!(
            redact_passwords(r#"{"a":{"b":[{"password":"x"},{"password" :  "y" }]}}"#),
            r#"{"a":{"b":[{"password":"[redacted]"},{"password" :  "[redacted]" }]}}"#
        );
    }

    #[test]
    fn password_values_of_any_type_are_redacted() {
        for value in ["12345678", "-1.5e3", "true", "null", r#"{"p":"}"}"#, r#"["s","]"]"#, r#""a\"b""#] {
            let body = format!(r#"{{"password":{value},"next":1}}"#);
            assert_eq!(redact_passwords(&body), r#"{"password":"[redacted]","next":1}"#, "{body}");
        }
        assert_eq!(redact_passwords(r#"{"pass\u0077ord":"s"}"#), r#"{"pass\u0077ord":"[redacted]"}"#);
    }

    #[test]
    fn everything_else_is_left_as_it_was() {
        for body in [
            "",
            "not json",
            "{ \"user_id\" : \"user_1\",\n  \"b\": [1, 2] }",
            r#"{"note":"\"password\": hunter2","password_enabled":true,"Password":"shown"}"#,
            r#"["password"]"#,
            r#"{"x":"password"}"#,
        ] {
            assert_eq!(redact_passwords(body), body);
        }
    }

    #[test]
    fn bodies_that_are_not_quite_json_are_redacted_too() {
        assert_eq!(redact_passwords(r#"{"password":"unterminated"#), r#"{"password":"[redacted]""#);
        assert_eq!(redact_passwords(r#"{"password":"s","n":1e400}"#), r#"{"password":"[redacted]","n":1e400}"#);
        assert_eq!(redact_passwords(r#"{"password":"#), r#"{"password":"#);
    }
}
