//! The log of every Backend and Frontend API request mock-clerk received, readable through the control API.
//! The secret key never enters it: `Authorization` values are redacted on the way in.

use std::sync::Mutex;

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
    /// The body as text (lossy UTF-8); empty when there was none.
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

/// Redacts a credential header value: `Bearer sk_test_…` → `Bearer [redacted secret key]`.
pub fn redact_credential(value: &str, secret_key: &str) -> String {
    let (scheme, token) = value.split_once(' ').unwrap_or(("", value));
    let what = if token == secret_key { "[redacted secret key]" } else { "[redacted]" };
    if scheme.is_empty() { what.to_owned() } else { format!("{scheme} {what}") }
}

/// Append-only, cleared by reset.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
}

impl RequestLog {
    /// Appends an entry, assigning its sequence number.
    pub fn push(&self, mut entry: LoggedRequest) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entry.seq = entries.len() as u64 + 1;
        entries.push(entry);
    }
    /// A copy of every entry.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Forgets everything.
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_is_named_but_not_shown() {
        assert_eq!(redact_credential("Bearer sk_1", "sk_1"), "Bearer [redacted secret key]");
        assert_eq!(redact_credential("Bearer other", "sk_1"), "Bearer [redacted]");
        assert_eq!(redact_credential("sk_1", "sk_1"), "[redacted secret key]");
    }
}
