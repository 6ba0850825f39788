//! The log of every Backend and Frontend API request mock-clerk received, readable through the control API.
//! The secret key never enters it: `Authorization` values are redacted on the way in, and so are the values of
//! JSON body fields named `password`.

use std::sync::Mutex;

use axum::http::{Method, header, request};
use serde::Serialize;

/// One received request.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LoggedRequest {
    /// 1-based arrival order.
    pub seq: u64,
    /// Wall-clock arrival time, milliseconds.
    pub at_ms: i64,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Header names (lowercase) and values, in arrival order; credentials redacted.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), `password` values redacted; empty when there was none.
    pub body: String,
    /// The status mock-clerk answered.
    pub status: u16,
}

impl LoggedRequest {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Authorization schemes whose name is kept in the log (compared case-insensitively).
const KNOWN_SCHEMES: &[&str] = &["Bearer", "Basic", "Token", "Digest", "Negotiate", "ApiKey"];

/// Redacts a credential header value: `Bearer sk_test_…` → `Bearer [redacted secret key]`. Only a known scheme
/// name is kept: in `sk_test_… x` the first word is the credential, not a scheme (found by the `cookies` fuzz
/// check, which used to see the key in the log).
pub fn redact_credential(value: &str, secret_key: &str) -> String {
    let mut out = String::new();
    push_redacted_credential(&mut out, value, secret_key);
    out
}

/// [`redact_credential`], appended to `out`.
fn push_redacted_credential(out: &mut String, value: &str, secret_key: &str) {
    let (scheme, token) = match value.split_once(' ') {
        Some((scheme, token)) if KNOWN_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) => {
            (scheme, token)
        }
        _ => ("", value),
    };
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push(' ');
    }
    out.push_str(if token.trim() == secret_key {
        "[redacted secret key]"
    } else {
        "[redacted]"
    });
}

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
fn is_password_key(raw: &str) -> bool {
    raw == "\"password\"" || (raw.contains('\\') && serde_json::from_str::<String>(raw).is_ok_and(|k| k == "password"))
}

/// A request as the log keeps it, recorded on every request's path with one allocation: its text (credentials and
/// passwords redacted already) in one string, turned into a [`LoggedRequest`] only when the log is read.
///
/// The text is the path and query as received, one `name:value` line per header, a NUL, then the body. Neither a
/// path, nor a header name or value can hold a newline or a NUL (`http` refuses them), so the parts split back
/// unambiguously; a header name cannot hold `:`.
#[derive(Debug, Clone)]
pub struct Captured {
    seq: u64,
    at_ms: i64,
    method: Method,
    status: u16,
    text: String,
}

impl Captured {
    /// Records a request (`status` is set once answered, with [`Captured::answered`]).
    pub fn new(at_ms: i64, parts: &request::Parts, body: &[u8], secret_key: &str) -> Self {
        let (path, query) = (parts.uri.path(), parts.uri.query());
        let headers_len: usize = parts
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 2)
            .sum();
        // `[redacted secret key]` may be longer than the credential it replaces.
        let mut text = String::with_capacity(
            path.len() + query.map_or(0, |q| q.len() + 1) + 1 + headers_len + 24 + 1 + body.len(),
        );
        text.push_str(path);
        if let Some(query) = query {
            text.push('?');
            text.push_str(query);
        }
        text.push('\n');
        for (name, value) in &parts.headers {
            text.push_str(name.as_str());
            text.push(':');
            let value = String::from_utf8_lossy(value.as_bytes());
            if name == header::AUTHORIZATION {
                push_redacted_credential(&mut text, &value, secret_key);
            } else {
                text.push_str(&value);
            }
            text.push('\n');
        }
        text.push('\0');
        if !body.is_empty() {
            text.push_str(&redact_passwords(&String::from_utf8_lossy(body)));
        }
        Self {
            seq: 0,
            at_ms,
            method: parts.method.clone(),
            status: 0,
            text,
        }
    }

    /// Sets the status mock-clerk answered.
    pub fn answered(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        let target = self.text.split('\n').next().unwrap_or_default();
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// The status mock-clerk answered.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The entry as the log is read.
    pub fn to_logged(&self) -> LoggedRequest {
        let (head, body) = self.text.split_once('\0').unwrap_or((&self.text, ""));
        let mut lines = head.lines();
        let target = lines.next().unwrap_or_default();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        LoggedRequest {
            seq: self.seq,
            at_ms: self.at_ms,
            method: self.method.to_string(),
            path: path.to_owned(),
            query,
            headers: lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: body.to_owned(),
            status: self.status,
        }
    }
}

/// How many entries the log keeps; older ones are dropped (a long-running or loaded mock-clerk must not grow
/// without bound). Sequence numbers keep counting, so a gap shows that entries were dropped.
pub const LOG_CAPACITY: usize = 100_000;

/// Append-only (up to [`LOG_CAPACITY`] entries), cleared by reset.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    entries: std::collections::VecDeque<Captured>,
    next_seq: u64,
}

impl RequestLog {
    /// Appends an entry, assigning its sequence number; drops the oldest beyond the capacity (outside the lock).
    pub fn push(&self, mut entry: Captured) {
        let dropped = {
            let mut log = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            log.next_seq += 1;
            entry.seq = log.next_seq;
            let dropped = if log.entries.len() == LOG_CAPACITY {
                log.entries.pop_front()
            } else {
                None
            };
            log.entries.push_back(entry);
            dropped
        };
        drop(dropped);
    }
    /// A copy of every entry kept.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .iter()
            .map(Captured::to_logged)
            .collect()
    }
    /// Forgets everything.
    pub fn clear(&self) {
        *self.entries.lock().unwrap_or_else(|p| p.into_inner()) = Log::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &[u8])]) -> request::Parts {
        let mut builder = axum::http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, axum::http::HeaderValue::from_bytes(value).unwrap());
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_captured_request_reads_back_as_received_with_credentials_and_passwords_redacted() {
        let headers: &[(&str, &[u8])] = &[
            ("host", b"127.0.0.1:4010"),
            ("authorization", b"Bearer sk_1"),
            ("x-many", b"one"),
            ("x-many", b"two: with a colon? and a query mark"),
            ("x-latin1", b"caf\xe9\tend"),
            ("x-empty", b""),
        ];
        let body = br#"{"password":"hunter2","a":"\u0000 and\nlines"}"#;
        let captured = Captured::new(
            1_700,
            &parts("POST", "/v1/users?limit=2&q=a:b?c", headers),
            body,
            "sk_1",
        )
        .answered(201);
        assert_eq!(
            (
                captured.method().as_str(),
                captured.path(),
                captured.status()
            ),
            ("POST", "/v1/users", 201)
        );
        let logged = captured.to_logged();
        let expected = LoggedRequest {
            seq: 0,
            at_ms: 1_700,
            method: "POST".into(),
            path: "/v1/users".into(),
            query: Some("limit=2&q=a:b?c".into()),
            headers: vec![
                ("host".into(), "127.0.0.1:4010".into()),
                (
                    "authorization".into(),
                    "Bearer [redacted secret key]".into(),
                ),
                ("x-many".into(), "one".into()),
                (
                    "x-many".into(),
                    "two: with a colon? and a query mark".into(),
                ),
                ("x-latin1".into(), "caf\u{fffd}\tend".into()),
                ("x-empty".into(), "".into()),
            ],
            body: r#"{"password":"[redacted]","a":"\u0000 and\nlines"}"#.into(),
            status: 201,
        };
        assert_eq!(logged, expected);
        // An empty query is not no query; no headers and no body read back as none.
        let bare = Captured::new(0, &parts("GET", "/x?", &[]), b"", "sk_1").to_logged();
        assert_eq!(
            (
                bare.path.as_str(),
                bare.query.as_deref(),
                bare.headers.len(),
                bare.body.as_str()
            ),
            ("/x", Some(""), 0, "")
        );
        let body_with_nul = Captured::new(0, &parts("PUT", "/y", &[]), b"a\0b", "sk_1").to_logged();
        assert_eq!(
            (body_with_nul.query, body_with_nul.body.as_str()),
            (None, "a\0b")
        );
    }

    #[test]
    fn the_log_keeps_the_newest_entries_up_to_its_capacity() {
        let log = RequestLog::default();
        let entry = Captured::new(0, &parts("GET", "/v1/jwks", &[]), b"", "sk_1").answered(200);
        for _ in 0..LOG_CAPACITY + 5 {
            log.push(entry.clone());
        }
        let kept = log.entries();
        assert_eq!(kept.len(), LOG_CAPACITY);
        assert_eq!((kept[0].seq, kept.last().unwrap().seq), (6, LOG_CAPACITY as u64 + 5));
        log.clear();
        log.push(entry);
        assert_eq!(log.entries()[0].seq, 1);
    }

    #[test]
    fn secret_key_is_named_but_not_shown() {
        assert_eq!(redact_credential("Bearer sk_1", "sk_1"), "Bearer [redacted secret key]");
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
