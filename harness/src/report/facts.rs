//! What the report derives from a scenario's transcript besides the diagram: the tokens it mentions (decoded
//! header and claims) and the cookie jar over time (what each hop sent and what its answer set).

use mock_clerk::tokens::decode_unverified;
use serde_json::Value;

use crate::agent::now_secs;
use crate::transcript::{Entry, find_jwts};

/// At most this many tokens are decoded per scenario.
pub const MAX_TOKENS: usize = 40;
/// At most this many hops are listed in the cookie table and the hop table.
pub const MAX_ROWS: usize = 300;
/// Cookie values are shown cut to this many characters.
const SHOWN_VALUE: usize = 18;

/// Every text of an entry the tokens could hide in.
pub fn texts(entry: &Entry) -> Vec<&str> {
    match entry {
        Entry::Hop(h) => {
            let mut t: Vec<&str> = vec![&h.url, &h.body];
            t.extend(h.request_headers.iter().map(|(_, v)| v.as_str()));
            t.extend(h.request_body.as_deref());
            t.extend(h.location.as_deref());
            t.extend(h.set_cookies.iter().map(String::as_str));
            t.extend(h.headers.iter().map(|(_, v)| v.as_str()));
            t
        }
        Entry::Downstream(r) | Entry::Issuer(r) => {
            let mut t: Vec<&str> = vec![&r.path, &r.body];
            t.extend(r.query.as_deref());
            t.extend(r.headers.iter().map(|(_, v)| v.as_str()));
            t
        }
        Entry::Note(n) => vec![n],
    }
}

/// A decoded token.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Its first characters (of the header).
    pub short: String,
    /// Pretty JSON of the header, or why it did not decode.
    pub header: String,
    /// Pretty JSON of the claims.
    pub claims: String,
    /// `iat=… (now-5s) exp=…`.
    pub times: String,
}

/// The distinct tokens of `entries`, in order of appearance (at most [`MAX_TOKENS`]), with the full tokens to
/// number them by.
pub fn tokens(entries: &[Entry]) -> (Vec<String>, Vec<Token>) {
    let mut seen: Vec<String> = Vec::new();
    for e in entries {
        for text in texts(e) {
            for jwt in find_jwts(text) {
                if seen.len() < MAX_TOKENS && !seen.iter().any(|s| s == jwt) {
                    seen.push(jwt.to_owned());
                }
            }
        }
    }
    let decoded = seen.iter().map(|t| decode(t)).collect();
    (seen, decoded)
}

fn decode(token: &str) -> Token {
    let short: String = token.chars().take(24).collect();
    match decode_unverified(token) {
        Ok(jwt) => {
            let now = now_secs();
            let times = ["iat", "nbf", "exp"]
                .iter()
                .filter_map(|n| jwt.claims.get(*n).and_then(Value::as_i64).map(|t| format!("{n}={t} (now{:+}s)", t - now)))
                .collect::<Vec<_>>()
                .join(" ");
            let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
            Token { short, header: pretty(&jwt.header), claims: pretty(&jwt.claims), times }
        }
        Err(e) => Token { short, header: format!("not decodable: {e}"), claims: String::new(), times: String::new() },
    }
}

/// The numbers (1-based) of the tokens an entry carries.
pub fn carried(entry: &Entry, tokens: &[String]) -> Vec<usize> {
    let mut found: Vec<usize> =
        texts(entry).into_iter().flat_map(find_jwts).filter_map(|jwt| tokens.iter().position(|t| t == jwt).map(|i| i + 1)).collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// The cookie jar over time: the cookie names (columns) and, per hop, each cookie's cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Jar {
    /// Cookie names, in order of first appearance.
    pub names: Vec<String>,
    /// `(hop number, cells)`, one cell per name: what was sent, and what the answer set (`→ …`).
    pub rows: Vec<(usize, Vec<String>)>,
}

fn shown(value: &str) -> String {
    if value.is_empty() {
        return "\"\"".into();
    }
    let cut: String = value.chars().take(SHOWN_VALUE).collect();
    if cut.len() < value.len() { format!("{cut}…") } else { cut }
}

/// The jar from the hops of `entries` (the first [`MAX_ROWS`] hops).
pub fn jar(entries: &[Entry]) -> Jar {
    let mut jar = Jar::default();
    let hops = entries.iter().filter_map(|e| if let Entry::Hop(h) = e { Some(h) } else { None });
    let mut raw: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    for (n, hop) in hops.enumerate().take(MAX_ROWS) {
        let mut cells: Vec<(String, String)> = Vec::new();
        for pair in hop.request_header("cookie").unwrap_or_default().split(';').filter(|p| !p.trim().is_empty()) {
            let (name, value) = pair.trim().split_once('=').unwrap_or((pair.trim(), ""));
            cells.push((name.to_owned(), shown(value)));
        }
        for line in &hop.set_cookies {
            let first = line.split(';').next().unwrap_or_default();
            let (name, value) = first.trim().split_once('=').unwrap_or((first.trim(), ""));
            let lower = line.to_ascii_lowercase();
            let deleted = value.is_empty() || lower.contains("max-age=0") || lower.contains("expires=thu, 01 jan 1970");
            let set = if deleted { "→ deleted".to_owned() } else { format!("→ {}", shown(value)) };
            match cells.iter_mut().find(|(n, _)| n == name) {
                Some((_, cell)) => cell.push_str(&format!(" {set}")),
                None => cells.push((name.to_owned(), set)),
            }
        }
        for (name, _) in &cells {
            if !jar.names.contains(name) {
                jar.names.push(name.clone());
            }
        }
        raw.push((n + 1, cells));
    }
    jar.rows = raw
        .into_iter()
        .map(|(n, cells)| {
            let row = jar.names.iter().map(|name| cells.iter().find(|(c, _)| c == name).map(|(_, v)| v.clone()).unwrap_or_default()).collect();
            (n, row)
        })
        .collect();
    jar
}

/// The screenshot a failed browser step left (`browser screenshot: PATH` notes).
pub fn screenshot(entries: &[Entry]) -> Option<String> {
    entries.iter().rev().find_map(|e| match e {
        Entry::Note(n) => n.strip_prefix("browser screenshot: ").map(|rest| rest.lines().next().unwrap_or_default().trim().to_owned()),
        _ => None,
    })
}
