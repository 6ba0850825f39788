//! One `Set-Cookie` line, parsed the way browsers parse it (RFC 6265 §5.2, with the lenient cookie-date
//! algorithm of §5.1.1). Parsing never panics: a line a browser would ignore is a [`CookieError`].

use std::fmt;

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
}

/// Why a `Set-Cookie` line was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    /// The part before the first `;` has no `=` (browsers ignore such lines).
    #[error("no '=' in the name-value pair of {0:?}")]
    NoNameValue(String),
    /// The cookie name is empty.
    #[error("empty cookie name in {0:?}")]
    EmptyName(String),
    /// The `Domain` attribute does not cover the host that set the cookie.
    #[error("Domain={domain} does not match host {host}")]
    DomainMismatch {
        /// The `Domain` attribute.
        domain: String,
        /// The host that answered.
        host: String,
    },
    /// A `Secure` cookie set over plain http from a non-loopback host.
    #[error("Secure cookie {0} set over http by a non-loopback host")]
    SecureOverHttp(String),
    /// The URL has no host to key the cookie by.
    #[error("no host in {0}")]
    NoHost(String),
}

/// A parsed `Set-Cookie` line: what the server asked for, before the jar applies it to a URL.
///
/// ```
/// use harness::agent::{SetCookie, SameSite};
/// let c = SetCookie::parse("__session=abc; Path=/; SameSite=Lax; Max-Age=0").unwrap();
/// assert_eq!((c.name.as_str(), c.value.as_str()), ("__session", "abc"));
/// assert_eq!(c.max_age, Some(0));
/// assert_eq!(c.same_site, Some(SameSite::Lax));
/// assert!(!c.http_only);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// Name.
    pub name: String,
    /// Value, exactly as sent (quotes kept, like browsers).
    pub value: String,
    /// `Max-Age` in seconds (takes precedence over `Expires`); `<= 0` deletes.
    pub max_age: Option<i64>,
    /// `Expires` as Unix seconds; in the past deletes.
    pub expires: Option<i64>,
    /// `Domain`, lowercase, leading dot removed.
    pub domain: Option<String>,
    /// `Path`, when it starts with `/`.
    pub path: Option<String>,
    /// `Secure`.
    pub secure: bool,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite`, when it names a known value.
    pub same_site: Option<SameSite>,
}

impl SetCookie {
    /// Parses one `Set-Cookie` header value.
    pub fn parse(line: &str) -> Result<Self, CookieError> {
        let mut parts = line.split(';');
        let pair = parts.next().unwrap_or_default();
        let (name, value) = pair.split_once('=').ok_or_else(|| CookieError::NoNameValue(line.to_owned()))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(CookieError::EmptyName(line.to_owned()));
        }
        let mut cookie = SetCookie {
            name: name.to_owned(),
            value: value.trim().to_owned(),
            max_age: None,
            expires: None,
            domain: None,
            path: None,
            secure: false,
            http_only: false,
            same_site: None,
        };
        for attribute in parts {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let (key, val) = (key.trim(), val.trim());
            match key.to_ascii_lowercase().as_str() {
                "max-age" => cookie.max_age = parse_max_age(val).or(cookie.max_age),
                "expires" => cookie.expires = parse_cookie_date(val).or(cookie.expires),
                "domain" if !val.is_empty() => {
                    cookie.domain = Some(val.trim_start_matches('.').to_ascii_lowercase());
                }
                "path" => cookie.path = val.starts_with('/').then(|| val.to_owned()),
                "secure" => cookie.secure = true,
                "httponly" => cookie.http_only = true,
                "samesite" => {
                    cookie.same_site = match val.to_ascii_lowercase().as_str() {
                        "strict" => Some(SameSite::Strict),
                        "lax" => Some(SameSite::Lax),
                        "none" => Some(SameSite::None),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        Ok(cookie)
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        })
    }
}

/// `Max-Age`: an optional `-` then digits; anything else is ignored. Huge values saturate.
fn parse_max_age(value: &str) -> Option<i64> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = digits.parse::<i64>().unwrap_or(i64::MAX / 2);
    Some(if negative { -n } else { n })
}

/// A cookie date (RFC 6265 §5.1.1) as Unix seconds: accepts `Thu, 01 Jan 1970 00:00:00 GMT`,
/// `Thursday, 01-Jan-70 00:00:00 GMT`, `Thu Jan  1 00:00:00 1970` and the like.
///
/// ```
/// assert_eq!(harness::agent::parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
/// assert_eq!(harness::agent::parse_cookie_date("Wed, 21-Oct-2015 07:28:00 GMT"), Some(1_445_412_480));
/// assert_eq!(harness::agent::parse_cookie_date("yesterday"), None);
/// ```
pub fn parse_cookie_date(text: &str) -> Option<i64> {
    let is_delimiter = |c: char| matches!(c, '\t' | ' '..='/' | ';'..='@' | '['..='`' | '{'..='~');
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in text.split(is_delimiter).filter(|t| !t.is_empty()) {
        if time.is_none()
            && let Some(t) = parse_time(token)
        {
            time = Some(t);
        } else if day.is_none()
            && let Some((d, _)) = digits(token, 1, 2)
        {
            day = Some(d);
        } else if month.is_none()
            && let Some(m) = parse_month(token)
        {
            month = Some(m);
        } else if year.is_none()
            && let Some((y, _)) = digits(token, 2, 4)
        {
            year = Some(y);
        }
    }
    let (hour, minute, second) = time?;
    let (day, month, mut year) = (day?, month?, year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if year <= 69 {
        year += 2000;
    }
    if year < 1601 || hour > 23 || minute > 59 || second > 59 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `min..=max` leading digits, not followed by another digit; returns the number and the rest.
fn digits(token: &str, min: usize, max: usize) -> Option<(i64, &str)> {
    let count = token.bytes().take_while(u8::is_ascii_digit).count();
    if count < min || count > max {
        return None;
    }
    Some((token[..count].parse().ok()?, &token[count..]))
}

fn parse_time(token: &str) -> Option<(i64, i64, i64)> {
    let (h, rest) = digits(token, 1, 2)?;
    let (m, rest) = digits(rest.strip_prefix(':')?, 1, 2)?;
    let (s, _) = digits(rest.strip_prefix(':')?, 1, 2)?;
    Some((h, m, s))
}

fn parse_month(token: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let prefix = token.get(..3)?.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == prefix).map(|i| i as i64 + 1)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_case_insensitive_and_kept() {
        let c = SetCookie::parse("a=b=c ; HTTPONLY; secure; samesite=strict; path=/x; domain=.Example.COM").unwrap();
        assert_eq!(c.value, "b=c");
        assert!(c.http_only && c.secure);
        assert_eq!(c.same_site, Some(SameSite::Strict));
        assert_eq!(c.path.as_deref(), Some("/x"));
        assert_eq!(c.domain.as_deref(), Some("example.com"));
    }

    #[test]
    fn lines_browsers_ignore_are_errors() {
        assert!(matches!(SetCookie::parse("novalue"), Err(CookieError::NoNameValue(_))));
        assert!(matches!(SetCookie::parse("=v; Path=/"), Err(CookieError::EmptyName(_))));
        assert!(matches!(SetCookie::parse(""), Err(CookieError::NoNameValue(_))));
    }

    #[test]
    fn bad_attribute_values_are_ignored_not_fatal() {
        let c = SetCookie::parse("a=1; Max-Age=soon; Expires=never; Path=relative; SameSite=sideways; Domain=").unwrap();
        assert_eq!((c.max_age, c.expires, c.path, c.same_site, c.domain), (None, None, None, None, None));
        assert_eq!(SetCookie::parse("a=1; Max-Age=-5").unwrap().max_age, Some(-5));
        assert_eq!(SetCookie::parse("a=1; Max-Age=99999999999999999999999").unwrap().max_age, Some(i64::MAX / 2));
    }

    #[test]
    fn cookie_dates_in_every_browser_format() {
        assert_eq!(parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_cookie_date("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parse_cookie_date("Thu, 29 Feb 2024 00:00:00 GMT"), Some(1_709_164_800));
        assert_eq!(parse_cookie_date("Thu, 30 Feb 2024 00:00:00 GMT"), None);
        assert_eq!(parse_cookie_date("Thu, 01 Jan 1970 24:00:00 GMT"), None);
        assert_eq!(parse_cookie_date("Mon, 01 Jan 1500 00:00:00 GMT"), None);
        assert_eq!(parse_cookie_date(""), None);
        assert_eq!(parse_cookie_date("\u{1F36A}, 01 Jan 1970 00:00:00 GMT"), Some(0));
    }
}
