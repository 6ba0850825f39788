//! The agent's cookie jar, behaving like a browser's: cookies are keyed by host and path and **ignore ports**
//! (a cookie set by `127.0.0.1:3000` is sent to `127.0.0.1:4010` too), `Max-Age`/`Expires` expire or delete,
//! and a cookie replaces the one with the same name, domain and path.
//!
//! Loopback hosts (`127.0.0.0/8`, `::1`, `localhost`) count as secure contexts, as in browsers, so `Secure`
//! cookies work over plain http there.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use url::Url;

use super::cookie::{CookieError, SameSite, SetCookie};

/// A cookie as the jar holds it.
///
/// ```
/// use harness::agent::CookieJar;
/// let mut jar = CookieJar::default();
/// let url = url::Url::parse("http://127.0.0.1:3000/").unwrap();
/// jar.store(&url, "__client_uat=0; Path=/; SameSite=Lax; HttpOnly").unwrap();
/// let c = jar.get("__client_uat").unwrap();
/// assert_eq!((c.domain.as_str(), c.path.as_str(), c.http_only), ("127.0.0.1", "/", true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// The host (no port) or the `Domain` attribute.
    pub domain: String,
    /// True when no `Domain` was given: sent to exactly this host (any port).
    pub host_only: bool,
    /// The path it applies to.
    pub path: String,
    /// Expiry in Unix seconds; `None` for a session cookie.
    pub expires_at: Option<i64>,
    /// `Secure`.
    pub secure: bool,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite`.
    pub same_site: Option<SameSite>,
    /// The `Set-Cookie` line it came from (empty when set by hand).
    pub raw: String,
    creation: u64,
}

impl Cookie {
    fn expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What storing a `Set-Cookie` line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The cookie was added or replaced.
    Set,
    /// The line expired the cookie (`Max-Age<=0` or `Expires` in the past): any stored copy was removed.
    Deleted,
}

/// A browser-like cookie jar. Methods without `_at` use the wall clock.
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    cookies: Vec<Cookie>,
    next_creation: u64,
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

impl CookieJar {
    /// Applies a `Set-Cookie` line received from `url`.
    ///
    /// ```
    /// use harness::agent::{CookieJar, Stored};
    /// let mut jar = CookieJar::default();
    /// let url = url::Url::parse("http://127.0.0.1:3000/api/auth/sign-out").unwrap();
    /// jar.store(&url, "__session=abc; Path=/").unwrap();
    /// assert_eq!(jar.store(&url, "__session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), Ok(Stored::Deleted));
    /// assert!(jar.get("__session").is_none());
    /// ```
    pub fn store(&mut self, url: &Url, line: &str) -> Result<Stored, CookieError> {
        self.store_at(url, line, now_secs())
    }

    /// [`CookieJar::store`] at a given time (Unix seconds).
    pub fn store_at(&mut self, url: &Url, line: &str, now: i64) -> Result<Stored, CookieError> {
        let parsed = SetCookie::parse(line)?;
        let host = host_of(url).ok_or_else(|| CookieError::NoHost(url.to_string()))?;
        let (domain, host_only) = match parsed.domain {
            None => (host.clone(), true),
            Some(d) if domain_matches(&host, &d) && (d == host || host.parse::<IpAddr>().is_err()) => (d, false),
            Some(d) => return Err(CookieError::DomainMismatch { domain: d, host }),
        };
        if parsed.secure && !is_secure_context(url) {
            return Err(CookieError::SecureOverHttp(parsed.name));
        }
        let expires_at = match (parsed.max_age, parsed.expires) {
            (Some(secs), _) => Some(now.saturating_add(secs)),
            (None, at) => at,
        };
        let path = parsed.path.unwrap_or_else(|| default_path(url.path()));
        let same = |c: &Cookie| c.name == parsed.name && c.domain == domain && c.path == path;
        let previous = self.cookies.iter().position(same);
        let creation = match previous {
            Some(i) => self.cookies.remove(i).creation,
            None => {
                self.next_creation += 1;
                self.next_creation
            }
        };
        if expires_at.is_some_and(|at| at <= now) {
            return Ok(Stored::Deleted);
        }
        self.cookies.push(Cookie {
            name: parsed.name,
            value: parsed.value,
            domain,
            host_only,
            path,
            expires_at,
            secure: parsed.secure,
            http_only: parsed.http_only,
            same_site: parsed.same_site,
            raw: line.to_owned(),
            creation,
        });
        Ok(Stored::Set)
    }

    /// Sets a host-only session cookie with `Path=/` by hand (as `document.cookie` would).
    ///
    /// ```
    /// let mut jar = harness::agent::CookieJar::default();
    /// jar.set("127.0.0.1", "__session", "eyJ...");
    /// let url = url::Url::parse("http://127.0.0.1:4010/v1/client/handshake").unwrap();
    /// assert_eq!(jar.header_for(&url).as_deref(), Some("__session=eyJ..."));
    /// ```
    pub fn set(&mut self, host: &str, name: &str, value: &str) {
        let host = host.trim_start_matches('.').to_ascii_lowercase();
        let position = self.cookies.iter().position(|c| c.name == name && c.domain == host && c.path == "/");
        let creation = match position {
            Some(i) => self.cookies.remove(i).creation,
            None => {
                self.next_creation += 1;
                self.next_creation
            }
        };
        self.cookies.push(Cookie {
            name: name.to_owned(),
            value: value.to_owned(),
            domain: host,
            host_only: true,
            path: "/".into(),
            expires_at: None,
            secure: false,
            http_only: false,
            same_site: None,
            raw: String::new(),
            creation,
        });
    }

    /// The newest live cookie with this name, on any host and path.
    pub fn get(&self, name: &str) -> Option<&Cookie> {
        let now = now_secs();
        self.cookies.iter().filter(|c| c.name == name && !c.expired_at(now)).max_by_key(|c| c.creation)
    }

    /// Removes every cookie with this name; returns how many there were.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.cookies.len();
        self.cookies.retain(|c| c.name != name);
        before - self.cookies.len()
    }

    /// Forgets every cookie.
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Every live cookie, oldest first.
    pub fn all(&self) -> Vec<&Cookie> {
        let now = now_secs();
        let mut live: Vec<&Cookie> = self.cookies.iter().filter(|c| !c.expired_at(now)).collect();
        live.sort_by_key(|c| c.creation);
        live
    }

    /// The cookies a browser would send to `url`: longest path first, then oldest first.
    pub fn cookies_for_at(&self, url: &Url, now: i64) -> Vec<&Cookie> {
        let Some(host) = host_of(url) else { return Vec::new() };
        let secure = is_secure_context(url);
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| !c.expired_at(now))
            .filter(|c| if c.host_only { c.domain == host } else { domain_matches(&host, &c.domain) })
            .filter(|c| path_matches(url.path(), &c.path))
            .filter(|c| secure || !c.secure)
            .collect();
        matching.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.creation.cmp(&b.creation)));
        matching
    }

    /// The `Cookie:` header for `url`, or `None` when no cookie applies.
    pub fn header_for(&self, url: &Url) -> Option<String> {
        self.header_for_at(url, now_secs())
    }

    /// [`CookieJar::header_for`] at a given time (Unix seconds).
    pub fn header_for_at(&self, url: &Url, now: i64) -> Option<String> {
        let cookies = self.cookies_for_at(url, now);
        (!cookies.is_empty()).then(|| cookies.iter().map(|c| format!("{}={}", c.name, c.value)).collect::<Vec<_>>().join("; "))
    }
}

/// The lowercase host without port (`[::1]` keeps its brackets).
fn host_of(url: &Url) -> Option<String> {
    url.host_str().map(str::to_ascii_lowercase)
}

fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain || (host.ends_with(domain) && host[..host.len() - domain.len()].ends_with('.'))
}

/// RFC 6265 §5.1.4.
fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path) && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/')))
}

/// RFC 6265 §5.1.4: the directory of the request path.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => request_path[..i].to_owned(),
    }
}

fn is_secure_context(url: &Url) -> bool {
    if url.scheme() == "https" {
        return true;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn ports_are_ignored_like_browsers_do() {
        let mut jar = CookieJar::default();
        jar.store(&url("http://127.0.0.1:3000/"), "__session=t; Path=/").unwrap();
        assert_eq!(jar.header_for(&url("http://127.0.0.1:4010/v1/client/handshake")).as_deref(), Some("__session=t"));
        assert_eq!(jar.header_for(&url("http://127.0.0.2:3000/")), None);
    }

    #[test]
    fn max_age_and_expires_expire_and_delete() {
        let mut jar = CookieJar::default();
        let u = url("http://127.0.0.1:3000/");
        jar.store_at(&u, "a=1; Max-Age=10", 1000).unwrap();
        jar.store_at(&u, "b=2; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Max-Age=5", 1000).unwrap();
        assert_eq!(jar.header_for_at(&u, 1004).as_deref(), Some("a=1; b=2"));
        assert_eq!(jar.header_for_at(&u, 1005).as_deref(), Some("a=1"), "Max-Age wins over Expires");
        assert_eq!(jar.header_for_at(&u, 1010), None);
        jar.store_at(&u, "c=3", 1000).unwrap();
        assert_eq!(jar.store_at(&u, "c=; Max-Age=0", 1000), Ok(Stored::Deleted));
        assert_eq!(jar.header_for_at(&u, 1000).as_deref(), Some("a=1; b=2"), "c is gone, a and b are not yet");
    }

    #[test]
    fn same_name_and_path_replaces_other_path_coexists() {
        let mut jar = CookieJar::default();
        jar.store(&url("http://h.test/"), "a=1; Path=/").unwrap();
        jar.store(&url("http://h.test/"), "a=2; Path=/").unwrap();
        jar.store(&url("http://h.test/"), "a=3; Path=/api").unwrap();
        assert_eq!(jar.header_for(&url("http://h.test/api/x")).as_deref(), Some("a=3; a=2"));
        assert_eq!(jar.header_for(&url("http://h.test/apix")).as_deref(), Some("a=2"));
        jar.store(&url("http://h.test/"), "a=; Path=/api; Max-Age=0").unwrap();
        assert_eq!(jar.header_for(&url("http://h.test/api/x")).as_deref(), Some("a=2"));
    }

    #[test]
    fn default_path_is_the_request_directory() {
        let mut jar = CookieJar::default();
        jar.store(&url("http://h.test/api/auth/sign-out"), "x=1").unwrap();
        assert_eq!(jar.get("x").unwrap().path, "/api/auth");
        assert_eq!(jar.header_for(&url("http://h.test/")), None);
    }

    #[test]
    fn domain_attribute_must_cover_the_host() {
        let mut jar = CookieJar::default();
        assert!(jar.store(&url("http://a.example.test/"), "d=1; Domain=example.test").is_ok());
        assert_eq!(jar.header_for(&url("http://b.example.test/")).as_deref(), Some("d=1"));
        assert!(matches!(jar.store(&url("http://a.example.test/"), "e=1; Domain=other.test"), Err(CookieError::DomainMismatch { .. })));
        assert!(matches!(jar.store(&url("http://127.0.0.1/"), "e=1; Domain=0.0.1"), Err(CookieError::DomainMismatch { .. })));
    }

    #[test]
    fn secure_cookies_need_https_or_loopback() {
        let mut jar = CookieJar::default();
        assert!(jar.store(&url("http://127.0.0.1:3000/"), "s=1; Secure").is_ok());
        assert!(matches!(jar.store(&url("http://app.test/"), "s=1; Secure"), Err(CookieError::SecureOverHttp(_))));
        jar.store(&url("https://app.test/"), "s=2; Secure").unwrap();
        assert_eq!(jar.header_for(&url("http://app.test/")), None);
        assert_eq!(jar.header_for(&url("https://app.test/")).as_deref(), Some("s=2"));
    }

    #[test]
    fn manual_cookies_and_removal() {
        let mut jar = CookieJar::default();
        jar.set("127.0.0.1", "__session", "x");
        jar.set("127.0.0.1", "__session", "y");
        assert_eq!(jar.get("__session").unwrap().value, "y");
        assert_eq!(jar.all().len(), 1);
        assert_eq!(jar.remove("__session"), 1);
        assert!(jar.get("__session").is_none());
    }
}
