//! What a failing scenario prints: every hop (method, URL, status, `Location`, `Set-Cookie`, Clerk's auth
//! headers), the downstream calls, mock-clerk's requests, notes, and the decoded header and claims of every
//! token seen — with secrets redacted. [`redact`] replaces each secret (the secret key) with
//! `[redacted secret key]` and the signature of every JWT-shaped substring with `[redacted]`, wherever it
//! appears: URLs, query strings, cookies, headers, bodies.
//!
//! ```
//! use harness::transcript::{Transcript, redact};
//! let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJl";
//! assert_eq!(redact(&format!("Bearer {jwt} sk_test_1"), &["sk_test_1"]),
//!     "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.[redacted] [redacted secret key]");
//! let mut t = Transcript::default();
//! t.note(format!("signed in with {jwt}"));
//! let text = t.render(&["sk_test_1"]);
//! assert!(!text.contains(jwt) && text.contains("\"sub\":\"user_1\""));
//! ```

use std::fmt::Write as _;

use mock_clerk::LoggedRequest;
use mock_clerk::tokens::{decode_unverified, jwt_ranges, redact_jwts};
use serde_json::Value;

use crate::agent::{AgentError, Hop, Navigation, now_secs};
use crate::downstream::RecordedRequest;

/// What a secret is replaced with.
pub const REDACTED_SECRET: &str = "[redacted secret key]";
/// Bodies longer than this are cut in the transcript.
pub const MAX_BODY_CHARS: usize = 2000;
/// Response headers shown for each hop (besides `Location` and `Set-Cookie`).
pub const SHOWN_HEADERS: [&str; 4] = ["x-clerk-auth-status", "x-clerk-auth-reason", "x-clerk-auth-message", "content-type"];

/// Every JWT-shaped substring, in order of appearance.
///
/// ```
/// let found = harness::transcript::find_jwts("a=eyJh.eyJw.sig; b=eyJx.eyJy.");
/// assert_eq!(found, ["eyJh.eyJw.sig", "eyJx.eyJy."]);
/// ```
pub fn find_jwts(text: &str) -> Vec<&str> {
    jwt_ranges(text).into_iter().map(|(a, b)| &text[a..b]).collect()
}

/// `text` with each non-empty secret replaced by [`REDACTED_SECRET`] and every JWT's signature redacted.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = redact_jwts(text);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, REDACTED_SECRET);
    }
    out
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A request the agent made.
    Hop(Hop),
    /// A request the downstream double received.
    Downstream(RecordedRequest),
    /// A request mock-clerk received.
    Issuer(LoggedRequest),
    /// Free text from a step.
    Note(String),
}

/// The record of one scenario, rendered (redacted) when it fails.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    entries: Vec<Entry>,
}

impl From<Vec<Entry>> for Transcript {
    fn from(entries: Vec<Entry>) -> Self {
        Self { entries }
    }
}

impl Transcript {
    /// Records one hop.
    pub fn push_hop(&mut self, hop: &Hop) {
        self.entries.push(Entry::Hop(hop.clone()));
    }
    /// Records every hop of a navigation.
    pub fn push_navigation(&mut self, nav: &Navigation) {
        nav.hops().iter().for_each(|h| self.push_hop(h));
    }
    /// Records the hops made before an agent error, and the error.
    pub fn push_agent_error(&mut self, error: &AgentError) {
        error.hops().iter().for_each(|h| self.push_hop(h));
        self.note(format!("agent error: {error}"));
    }
    /// Records what the downstream double received.
    pub fn push_downstream(&mut self, requests: &[RecordedRequest]) {
        self.entries.extend(requests.iter().cloned().map(Entry::Downstream));
    }
    /// Records what mock-clerk received.
    pub fn push_issuer(&mut self, requests: &[LoggedRequest]) {
        self.entries.extend(requests.iter().cloned().map(Entry::Issuer));
    }
    /// Adds a note.
    pub fn note(&mut self, text: impl Into<String>) {
        self.entries.push(Entry::Note(text.into()));
    }
    /// Everything recorded, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// A copy with every body cut to [`MAX_BODY_CHARS`] (what a report keeps of a scenario).
    pub fn clipped(&self) -> Self {
        let cut = |body: &mut String| {
            if body.chars().count() > MAX_BODY_CHARS {
                let more = body.chars().count() - MAX_BODY_CHARS;
                *body = format!("{} … ({more} more characters)", body.chars().take(MAX_BODY_CHARS).collect::<String>());
            }
        };
        let mut copy = self.clone();
        for entry in &mut copy.entries {
            match entry {
                Entry::Hop(hop) => {
                    cut(&mut hop.body);
                    hop.request_body.iter_mut().for_each(cut);
                }
                Entry::Downstream(r) | Entry::Issuer(r) => cut(&mut r.body),
                Entry::Note(_) => {}
            }
        }
        copy
    }
    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The transcript as text, with `secrets` and every JWT signature redacted, and the tokens it mentions
    /// decoded at the end.
    pub fn render(&self, secrets: &[&str]) -> String {
        let mut raw = String::new();
        let mut hop_number = 0;
        for entry in &self.entries {
            match entry {
                Entry::Hop(hop) => {
                    hop_number += 1;
                    render_hop(&mut raw, hop_number, hop);
                }
                Entry::Downstream(r) => {
                    let query = r.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
                    let _ = writeln!(raw, "downstream #{} at {} ms: {} {}{} -> {}", r.seq, r.at_ms, r.method, r.path, query, r.status);
                    if let Some(auth) = r.header("authorization") {
                        let _ = writeln!(raw, "    authorization: {auth}");
                    }
                    push_body(&mut raw, &r.body);
                }
                Entry::Issuer(r) => {
                    let query = r.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
                    let _ = writeln!(raw, "mock-clerk #{}: {} {}{} -> {}", r.seq, r.method, r.path, query, r.status);
                }
                Entry::Note(text) => {
                    let _ = writeln!(raw, "note: {text}");
                }
            }
        }
        let mut tokens: Vec<&str> = find_jwts(&raw);
        let mut seen = std::collections::HashSet::new();
        tokens.retain(|t| seen.insert(*t));
        let mut decoded = String::new();
        for (n, token) in tokens.iter().enumerate() {
            render_token(&mut decoded, n + 1, token);
        }
        redact(&(raw + &decoded), secrets)
    }
}

fn render_hop(out: &mut String, n: usize, hop: &Hop) {
    let _ = writeln!(out, "hop {n}: {} {} -> {} ({} ms)", hop.method, hop.url, hop.status, hop.elapsed_ms);
    for name in ["cookie", "authorization", "next-action"] {
        if let Some(value) = hop.request_header(name) {
            let _ = writeln!(out, "    sent {name}: {}", clip(value, MAX_HEADER_CHARS));
        }
    }
    if let Some(location) = &hop.location {
        let _ = writeln!(out, "    location: {location}");
    }
    for name in SHOWN_HEADERS {
        if let Some(value) = hop.header(name) {
            let _ = writeln!(out, "    {name}: {value}");
        }
    }
    for line in &hop.set_cookies {
        let _ = writeln!(out, "    set-cookie: {line}");
    }
    for line in &hop.refused_cookies {
        let _ = writeln!(out, "    refused cookie: {line}");
    }
    if !hop.is_redirect() {
        push_body(out, &hop.body);
    }
}

/// Header values longer than this are cut (a 16 KiB forged cookie would drown the transcript).
const MAX_HEADER_CHARS: usize = 2000;

fn clip(text: &str, max: usize) -> String {
    let cut = text.chars().count().saturating_sub(max);
    if cut == 0 {
        return text.to_owned();
    }
    format!("{} … ({cut} more characters)", text.chars().take(max).collect::<String>())
}

fn push_body(out: &mut String, body: &str) {
    if body.is_empty() {
        return;
    }
    let shown: String = body.chars().take(MAX_BODY_CHARS).collect();
    let cut = body.chars().count().saturating_sub(MAX_BODY_CHARS);
    let more = if cut > 0 { format!(" … ({cut} more characters)") } else { String::new() };
    let _ = writeln!(out, "    body: {}{more}", shown.replace('\n', "\n          "));
}

fn render_token(out: &mut String, n: usize, token: &str) {
    let short: String = token.chars().take(24).collect();
    match decode_unverified(token) {
        Ok(jwt) => {
            let now = now_secs();
            let when = |name: &str| jwt.claims.get(name).and_then(Value::as_i64).map(|t| format!(" {name}={t} (now{:+}s)", t - now));
            let times: String = ["iat", "nbf", "exp"].iter().filter_map(|n| when(n)).collect();
            let _ = writeln!(out, "token {n} ({short}…):{times}");
            let _ = writeln!(out, "    header: {}", jwt.header);
            let _ = writeln!(out, "    claims: {}", jwt.claims);
        }
        Err(e) => {
            let _ = writeln!(out, "token {n} ({short}…): not decodable: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_clerk::keys::{SigningKey, TEST_KEY_PEM};
    use mock_clerk::tokens::{TokenSpec, sign_rs256};

    const SECRET: &str = "sk_test_mock_clerk_0000000000000000000000";

    fn jwt(sub: &str) -> String {
        let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
        sign_rs256(&key, &TokenSpec::new(sub, "sess_1").claims("https://127.0.0.1:4010", std::time::Duration::from_secs(60), now_secs()))
    }

    #[test]
    fn redaction_keeps_header_and_payload_only() {
        let t = jwt("user_1");
        let (input, _) = t.rsplit_once('.').unwrap();
        assert_eq!(redact(&t, &[]), format!("{input}.[redacted]"));
        assert_eq!(redact(&redact(&t, &[]), &[]), redact(&t, &[]), "idempotent");
        assert_eq!(redact("no tokens, eyJ alone, eyJa.b, x.y.z", &[""]), "no tokens, eyJ alone, eyJa.b, x.y.z");
        assert_eq!(redact("t%3DeyJa.eyJb.c&x=1", &[]), "t%3DeyJa.eyJb.[redacted]&x=1", "after a percent-encoded =");
        assert_eq!(redact("ünïcödé eyJa.eyJb.c ✓", &[]), "ünïcödé eyJa.eyJb.[redacted] ✓");
    }

    #[test]
    fn no_secret_and_no_complete_jwt_survive_the_transcript() {
        let (session, handshake, downstream_token) = (jwt("user_1"), jwt("user_2"), jwt("user_3"));
        let hop = Hop {
            method: "GET".into(),
            url: format!("http://127.0.0.1:3000/?__clerk_handshake={handshake}&x=1"),
            request_headers: vec![
                ("cookie".into(), format!("__session={session}; __client_uat=1")),
                ("authorization".into(), format!("Bearer {SECRET}")),
            ],
            status: 307,
            location: Some(format!("http://127.0.0.1:4010/v1/client/handshake?redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2F%3Ft%3D{session}")),
            set_cookies: vec![format!("__session={session}; Path=/; SameSite=Lax")],
            headers: vec![("x-clerk-auth-reason".into(), "session-token-expired".into())],
            ..Hop::default()
        };
        let final_hop = Hop { status: 200, body: format!("{{\"token\":\"{session}\",\"key\":\"{SECRET}\"}}"), ..hop.clone() };
        let mut transcript = Transcript::default();
        transcript.push_navigation(&Navigation::new(vec![hop, final_hop]).unwrap());
        transcript.push_downstream(&[RecordedRequest {
            seq: 1,
            method: "GET".into(),
            path: "/schedules".into(),
            headers: vec![("authorization".into(), format!("Bearer {downstream_token}"))],
            status: 200,
            ..RecordedRequest::default()
        }]);
        transcript.note(format!("secret was {SECRET}"));
        let text = transcript.render(&[SECRET]);
        assert!(!text.contains(SECRET), "{text}");
        for token in [&session, &handshake, &downstream_token] {
            assert!(!text.contains(token.as_str()), "a complete JWT survived:\n{text}");
            let (input, _) = token.rsplit_once('.').unwrap();
            assert!(text.contains(&format!("{input}.[redacted]")));
        }
        assert!(text.contains(REDACTED_SECRET));
        for expected in [
            "hop 1: GET",
            "-> 307",
            "location: http://127.0.0.1:4010",
            "x-clerk-auth-reason: session-token-expired",
            "set-cookie: __session=",
            "downstream #1",
            "\"sub\":\"user_3\"",
            "\"kid\":",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(text.contains("token 3 ("), "three distinct tokens are decoded:\n{text}");
    }

    #[test]
    fn long_bodies_are_cut_and_errors_keep_their_hops() {
        let mut t = Transcript::default();
        t.push_hop(&Hop { status: 200, body: "x".repeat(MAX_BODY_CHARS + 5), ..Hop::default() });
        let err = AgentError::TooManyRedirects { max: 1, last: None, hops: vec![Hop { status: 302, location: Some("/a".into()), ..Hop::default() }] };
        t.push_agent_error(&err);
        let text = t.render(&[]);
        assert!(text.contains("(5 more characters)"));
        assert!(text.contains("hop 2:") && text.contains("agent error: more than 1 redirects"), "{text}");
    }
}
