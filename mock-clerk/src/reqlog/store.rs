//! The request log itself: the newest [`LOG_CAPACITY`] entries. mock-clerk logs every request it answers, so an
//! entry is cheap to make and to drop: a received request is one text (method, path, query, a `name: value` line
//! per header, body) and where each part ends — one allocation, where a [`LoggedRequest`] takes one per header name
//! and value; and no buffer of the connection is kept (a reference to one would keep a whole read buffer alive per
//! entry). It becomes a [`LoggedRequest`] when the log is read.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::http::{HeaderMap, Method, header};

use super::{LoggedRequest, redact_credential_bytes};

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
    entries: VecDeque<Kept>,
    next_seq: u64,
}

/// An entry: its sequence number and answer, and the request.
#[derive(Debug)]
struct Kept {
    seq: u64,
    status: u16,
    delayed_ms: u64,
    request: Request,
}

#[derive(Debug)]
enum Request {
    /// Logged as a [`LoggedRequest`] (the harness's downstream double).
    Logged(Box<LoggedRequest>),
    /// Received by mock-clerk.
    Received(Received),
}

/// A received request in one text, and where its parts end in it.
#[derive(Debug)]
pub struct Received {
    at_ms: i64,
    text: Box<str>,
    /// Ends of the method, the path, the query and the header lines; the body is the rest.
    ends: [u32; 4],
    has_query: bool,
}

impl Received {
    /// A request as the log keeps it: `Authorization` values redacted (`secret_key` is named as such), the query
    /// and the body as given (redacted by the caller).
    pub fn new(at_ms: i64, method: &Method, path: &str, query: Option<&str>, headers: &HeaderMap, body: &str, secret_key: &str) -> Self {
        let header_size: usize = headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 3).sum();
        let size = method.as_str().len() + path.len() + query.map_or(0, str::len) + header_size + body.len();
        let mut text = String::with_capacity(size);
        let mut ends = [0u32; 4];
        let mut mark = |text: &String, i: usize| ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        text.push_str(method.as_str());
        mark(&text, 0);
        text.push_str(path);
        mark(&text, 1);
        text.push_str(query.unwrap_or_default());
        mark(&text, 2);
        for (name, value) in headers {
            text.push_str(name.as_str());
            text.push_str(": ");
            if name == header::AUTHORIZATION {
                text.push_str(&redact_credential_bytes(value.as_bytes(), secret_key));
            } else {
                // HTTP header values hold no line breaks: a line per header.
                text.push_str(&String::from_utf8_lossy(value.as_bytes()));
            }
            text.push('\n');
        }
        mark(&text, 3);
        text.push_str(body);
        Self { at_ms, text: text.into_boxed_str(), ends, has_query: query.is_some() }
    }

    /// `GET`, `POST`, …
    pub fn method(&self) -> &str {
        self.part(0)
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.part(1)
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |e| *e as usize);
        self.text.get(start..end).unwrap_or_default()
    }

    fn shown(&self, seq: u64, status: u16, delayed_ms: u64) -> LoggedRequest {
        LoggedRequest {
            seq,
            at_ms: self.at_ms,
            method: self.part(0).to_owned(),
            path: self.part(1).to_owned(),
            query: self.has_query.then(|| self.part(2).to_owned()),
            headers: self.part(3).lines().filter_map(|line| line.split_once(": ")).map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
            body: self.part(4).to_owned(),
            status,
            delayed_ms,
        }
    }
}

impl Kept {
    fn shown(&self) -> LoggedRequest {
        match &self.request {
            Request::Logged(entry) => LoggedRequest { seq: self.seq, status: self.status, delayed_ms: self.delayed_ms, ..(**entry).clone() },
            Request::Received(received) => received.shown(self.seq, self.status, self.delayed_ms),
        }
    }
}

impl RequestLog {
    /// Appends an entry, assigning (and returning) its sequence number; drops the oldest beyond the capacity.
    pub fn push(&self, entry: LoggedRequest) -> u64 {
        let (status, delayed_ms) = (entry.status, entry.delayed_ms);
        self.keep(status, delayed_ms, Request::Logged(Box::new(entry)))
    }

    /// Appends a received request with its answer.
    pub fn push_received(&self, request: Received, status: u16, delayed_ms: u64) -> u64 {
        self.keep(status, delayed_ms, Request::Received(request))
    }

    fn keep(&self, status: u16, delayed_ms: u64, request: Request) -> u64 {
        let mut log = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if log.entries.capacity() == 0 {
            // The whole ring at once (address space; pages are touched as entries arrive): growing it by doubling
            // would copy every entry kept, under the lock, each time the log doubles on a loaded server.
            log.entries.reserve_exact(LOG_CAPACITY);
        }
        log.next_seq += 1;
        let seq = log.next_seq;
        let dropped = if log.entries.len() >= LOG_CAPACITY { log.entries.pop_front() } else { None };
        log.entries.push_back(Kept { seq, status, delayed_ms, request });
        drop(log);
        // The oldest entry is freed after the lock is released.
        drop(dropped);
        seq
    }

    /// Records the answer of an entry logged before it was answered. A clear in between may have removed the
    /// entry: then there is nothing to update.
    pub fn answered(&self, seq: u64, status: u16, delayed_ms: u64) {
        let mut log = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(kept) = log.entries.iter_mut().rev().find(|k| k.seq == seq) {
            kept.status = status;
            kept.delayed_ms = delayed_ms;
        }
    }

    /// A copy of every entry kept.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).entries.iter().map(Kept::shown).collect()
    }

    /// Forgets everything.
    pub fn clear(&self) {
        *self.entries.lock().unwrap_or_else(|p| p.into_inner()) = Log::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_log_keeps_the_newest_entries_up_to_its_capacity() {
        let log = RequestLog::default();
        let entry = LoggedRequest { method: "GET".into(), path: "/v1/jwks".into(), status: 200, ..LoggedRequest::default() };
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
    fn the_ring_is_reserved_once_and_never_regrown() {
        let log = RequestLog::default();
        let capacity = || log.entries.lock().unwrap().entries.capacity();
        assert_eq!(capacity(), 0, "an unused log reserves nothing");
        log.push(LoggedRequest::default());
        let reserved = capacity();
        assert!(reserved >= LOG_CAPACITY);
        for _ in 0..LOG_CAPACITY + 5 {
            log.push(LoggedRequest::default());
        }
        assert_eq!(capacity(), reserved, "a full log reuses its ring");
    }

    #[test]
    fn an_answer_is_recorded_on_its_entry() {
        let log = RequestLog::default();
        let seq = log.push(LoggedRequest::default());
        log.answered(seq, 503, 20);
        log.answered(seq + 1, 200, 0);
        assert_eq!((log.entries()[0].status, log.entries()[0].delayed_ms), (503, 20));
    }

    #[test]
    fn a_received_request_reads_back_whole_with_credentials_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:4010"));
        headers.append("authorization", HeaderValue::from_static("Bearer sk_1"));
        headers.append("authorization", HeaderValue::from_static("Basic c2s6"));
        headers.insert("x-odd", HeaderValue::from_bytes(b"caf\xe9: a=b").unwrap());
        let log = RequestLog::default();
        let body = "{\"a\":\"line\\nbreak\"}\n: not a header";
        log.push_received(Received::new(7, &Method::POST, "/v1/users", Some("limit=1"), &headers, body, "sk_1"), 201, 3);
        log.push_received(Received::new(8, &Method::GET, "/", None, &HeaderMap::new(), "", "sk_1"), 200, 0);
        log.push_received(Received::new(9, &Method::GET, "/a", Some(""), &HeaderMap::new(), "", "sk_1"), 200, 0);
        let entries = log.entries();
        let headers: Vec<(&str, &str)> = entries[0].headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            headers,
            [
                ("host", "127.0.0.1:4010"),
                ("authorization", "Bearer [redacted secret key]"),
                ("authorization", "Basic [redacted]"),
                ("x-odd", "caf\u{fffd}: a=b")
            ]
        );
        let e = &entries[0];
        assert_eq!((e.seq, e.at_ms, e.method.as_str(), e.path.as_str(), e.query.as_deref()), (1, 7, "POST", "/v1/users", Some("limit=1")));
        assert_eq!((e.body.as_str(), e.status, e.delayed_ms), (body, 201, 3));
        let (bare, empty_query) = (&entries[1], &entries[2]);
        assert_eq!(
            (bare.method.as_str(), bare.path.as_str(), bare.query.as_deref(), bare.headers.len(), bare.body.as_str()),
            ("GET", "/", None, 0, "")
        );
        assert_eq!(empty_query.query.as_deref(), Some(""));
    }
}
