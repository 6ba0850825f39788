//! What the downstream double recorded, and helpers to assert on it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One request the double received.
///
/// ```
/// use harness::downstream::RecordedRequest;
/// let r = RecordedRequest { method: "GET".into(), path: "/schedules".into(),
///     headers: vec![("authorization".into(), "Bearer eyJabc".into())], ..RecordedRequest::default() };
/// assert_eq!(r.bearer(), Some("eyJabc"));
/// assert_eq!(r.header("Authorization"), Some("Bearer eyJabc"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// 1-based arrival order.
    pub seq: u64,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Every header (lowercase names), in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8); empty when there was none.
    pub body: String,
    /// Arrival, milliseconds since the double started (monotonic clock).
    pub at_ms: u64,
    /// Arrival, wall-clock milliseconds since the Unix epoch.
    pub wall_ms: i64,
    /// The status answered (0 while the answer is still being delayed).
    pub status: u16,
    /// How long a script delayed the answer, milliseconds.
    pub delayed_ms: u64,
}

impl RecordedRequest {
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
        let claims = mock_clerk::tokens::decode_unverified(self.bearer()?).ok()?.claims;
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
/// use harness::downstream::{RecordedRequest, matching};
/// let log = vec![
///     RecordedRequest { method: "GET".into(), path: "/schedules".into(), ..Default::default() },
///     RecordedRequest { method: "PUT".into(), path: "/schedules/1".into(), ..Default::default() },
/// ];
/// assert_eq!(matching(&log, "GET", "/schedules").len(), 1);
/// assert_eq!(matching(&log, "put", "/schedules/*").len(), 1);
/// ```
pub fn matching<'a>(requests: &'a [RecordedRequest], method: &str, path: &str) -> Vec<&'a RecordedRequest> {
    requests.iter().filter(|r| r.is(method, path)).collect()
}

/// Milliseconds between consecutive arrivals (one fewer than the requests).
///
/// ```
/// use harness::downstream::{RecordedRequest, gaps_ms};
/// let at = |ms| RecordedRequest { at_ms: ms, ..Default::default() };
/// assert_eq!(gaps_ms(&[at(10), at(310), at(910)]), vec![300, 600]);
/// ```
pub fn gaps_ms<'a>(requests: impl IntoIterator<Item = &'a RecordedRequest>) -> Vec<u64> {
    let times: Vec<u64> = requests.into_iter().map(|r| r.at_ms).collect();
    times.windows(2).map(|w| w[1].saturating_sub(w[0])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_needs_the_bearer_scheme_and_a_token() {
        let with = |v: &str| RecordedRequest { headers: vec![("authorization".into(), v.into())], ..Default::default() };
        assert_eq!(with("bearer  t ").bearer(), Some("t"));
        assert_eq!(with("Basic dXNlcg==").bearer(), None);
        assert_eq!(with("Bearer").bearer(), None);
        assert_eq!(RecordedRequest::default().bearer(), None);
    }

    #[test]
    fn gaps_work_on_references_and_never_underflow() {
        let log = [RecordedRequest { at_ms: 5, ..Default::default() }, RecordedRequest { at_ms: 3, ..Default::default() }];
        assert_eq!(gaps_ms(log.iter().collect::<Vec<_>>()), vec![0]);
        assert!(gaps_ms(&log[..1]).is_empty());
    }
}
