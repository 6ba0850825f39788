//! Property tests: whatever arrives — any method, path, query, headers or body, on every route and on paths
//! that are no route — mock-clerk answers without panicking, never with a 5xx of its own, always with an exact
//! `Content-Type: application/json`, and every non-2xx answer is Clerk's error envelope
//! (`{"errors":[{code,message,long_message,meta}],"clerk_trace_id"}`). The state is shared across the cases of
//! a property, and a sentinel user and session created before the fuzzing (with ids the cases cannot guess)
//! must survive it.
//!
//! Plus focused tests: body over 1 MiB → 413, the control API refuses non-loopback peers, a control token
//! is required once set, a wrong method on a Backend API route is a 401 before it is a 405, and the request log
//! never shows a password.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::BodyExt;
use mock_clerk::MockClerk;
use mock_clerk::faults::Fault;
use mock_clerk::state::AppState;
use mock_clerk::store::{NewUser, SessionStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt;

const ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 4010);
const LOOPBACK_PEER: ([u8; 4], u16) = ([127, 0, 0, 1], 5555);
const REMOTE_PEER: ([u8; 4], u16) = ([10, 0, 0, 1], 5555);
const CONTROL_TOKEN: &str = "ctl_robustness_token";

/// Placeholders the generated requests carry; replaced at send time by the current playground ids (ids the
/// fuzz may legitimately act on). The sentinel's ids are never handed out. Only characters that neither
/// `form_urlencoded` nor a path encoding changes, so they survive into queries too.
const USER_MARK: &str = "__MK_USER__";
const SESSION_MARK: &str = "__MK_SESSION__";
/// The playground session's refresh token, a session token signed for it, and a fresh handshake nonce.
const REFRESH_MARK: &str = "__MK_REFRESH__";
const TOKEN_MARK: &str = "__MK_TOKEN__";
const NONCE_MARK: &str = "__MK_NONCE__";

const HANDSHAKE_PATH: &str = "/v1/client/handshake";

// ---------------------------------------------------------------------------------------------------------------
// Routes (bapi/mod.rs, fapi/mod.rs, control/mod.rs) and paths that are no route
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Route {
    path: &'static str,
    /// The methods the route answers (biases generation towards them).
    methods: &'static [&'static str],
    /// Body keys the route knows (`deny_unknown_fields` structs).
    keys: &'static [&'static str],
}

const USER_KEYS: &[&str] = &[
    "email_address",
    "first_name",
    "last_name",
    "username",
    "password",
    "external_id",
    "public_metadata",
    "private_metadata",
    "unsafe_metadata",
    "skip_password_checks",
    "skip_password_requirement",
];
const SIGN_IN_KEYS: &[&str] = &["user_id", "email", "first_name", "ttl_seconds", "azp", "claims"];
const MINT_KEYS: &[&str] = &["sub", "sid", "ttl_seconds", "iat", "azp", "claims", "broken"];
const FAULT_KEYS: &[&str] = &["method", "path", "times", "status", "retry_after", "latency_ms", "body", "session"];
const TEMPLATE_KEYS: &[&str] = &["name", "claims", "lifetime", "allowed_clock_skew", "custom_signing_key", "signing_algorithm", "signing_key"];
const API_KEY_KEYS: &[&str] = &["type", "name", "subject", "description", "claims", "scopes", "created_by", "seconds_until_expiration"];
const REFRESH_KEYS: &[&str] = &["expired_token", "refresh_token", "request_origin", "request_originating_ip", "request_headers", "format"];

const ROUTES: &[Route] = &[
    // Backend API
    Route { path: "/v1/jwks", methods: &["GET"], keys: &[] },
    Route { path: "/v1/users", methods: &["GET", "POST"], keys: USER_KEYS },
    Route { path: "/v1/users/count", methods: &["GET"], keys: &[] },
    Route { path: "/v1/users/{id}", methods: &["GET", "DELETE"], keys: &[] },
    Route { path: "/v1/sessions", methods: &["GET", "POST"], keys: &["user_id"] },
    Route { path: "/v1/sessions/{id}", methods: &["GET"], keys: &[] },
    Route { path: "/v1/sessions/{id}/revoke", methods: &["POST"], keys: &[] },
    Route { path: "/v1/sessions/{id}/tokens", methods: &["POST"], keys: &["expires_in_seconds"] },
    Route { path: "/v1/sessions/{id}/tokens/{id}", methods: &["POST"], keys: &["expires_in_seconds"] },
    Route { path: "/v1/sessions/{id}/refresh", methods: &["POST"], keys: REFRESH_KEYS },
    Route { path: "/v1/clients/handshake_payload", methods: &["GET"], keys: &[] },
    // Machine authentication and JWT templates (the machine-token routes also without `/v1`)
    Route { path: "/v1/machines", methods: &["GET", "POST"], keys: &["name", "scoped_machines", "default_token_ttl"] },
    Route { path: "/v1/machines/{id}", methods: &["GET", "DELETE"], keys: &[] },
    Route { path: "/v1/machines/{id}/scopes", methods: &["POST"], keys: &["to_machine_id"] },
    Route { path: "/v1/jwt_templates", methods: &["GET", "POST"], keys: TEMPLATE_KEYS },
    Route { path: "/v1/jwt_templates/{id}", methods: &["GET", "PATCH", "DELETE"], keys: TEMPLATE_KEYS },
    Route {
        path: "/m2m_tokens",
        methods: &["GET", "POST"],
        keys: &["token_format", "seconds_until_expiration", "claims", "min_remaining_ttl_seconds"],
    },
    Route { path: "/m2m_tokens/verify", methods: &["POST"], keys: &["token"] },
    Route { path: "/v1/m2m_tokens/{id}/revoke", methods: &["POST"], keys: &["revocation_reason"] },
    Route { path: "/api_keys", methods: &["GET", "POST"], keys: API_KEY_KEYS },
    Route { path: "/api_keys/verify", methods: &["POST"], keys: &["secret"] },
    Route { path: "/api_keys/{id}/revoke", methods: &["POST"], keys: &["revocation_reason"] },
    Route { path: "/oauth_applications/access_tokens/verify", methods: &["POST"], keys: &["access_token", "secret"] },
    // Frontend API
    Route { path: "/.well-known/jwks.json", methods: &["GET"], keys: &[] },
    Route { path: HANDSHAKE_PATH, methods: &["GET"], keys: &[] },
    // Control API
    Route { path: "/__mock/instance", methods: &["GET"], keys: &[] },
    Route { path: "/__mock/sign-in", methods: &["POST"], keys: SIGN_IN_KEYS },
    Route { path: "/__mock/tokens", methods: &["POST"], keys: MINT_KEYS },
    Route { path: "/__mock/sessions/{id}/end", methods: &["POST"], keys: &["status"] },
    Route { path: "/__mock/clock", methods: &["GET"], keys: &[] },
    Route { path: "/__mock/clock/advance", methods: &["POST"], keys: &["seconds"] },
    Route { path: "/__mock/clock/reset", methods: &["POST"], keys: &[] },
    Route { path: "/__mock/keys", methods: &["GET"], keys: &[] },
    // Generating an RSA key is slow: not biased towards POST, so it is rotated only now and then.
    Route { path: "/__mock/keys/rotate", methods: &[], keys: &[] },
    Route { path: "/__mock/keys/retire", methods: &["POST"], keys: &["kid"] },
    Route { path: "/__mock/faults", methods: &["GET", "POST", "DELETE"], keys: FAULT_KEYS },
    Route { path: "/__mock/faults/jwks-outage", methods: &["POST"], keys: &["times"] },
    Route { path: "/__mock/requests", methods: &["GET", "DELETE"], keys: &[] },
    Route { path: "/__mock/handshake-format", methods: &["GET", "POST"], keys: &["format"] },
    Route {
        path: "/__mock/machine-tokens",
        methods: &["POST"],
        keys: &["kind", "format", "scopes", "subject", "claims", "seconds_until_expiration"],
    },
    Route { path: "/__mock/reset", methods: &[], keys: &[] },
    // No route
    Route { path: "/", methods: &[], keys: &[] },
    Route { path: "", methods: &[], keys: &[] },
    Route { path: "/v1", methods: &[], keys: &[] },
    Route { path: "/v1/", methods: &[], keys: &[] },
    Route { path: "/v2/users", methods: &[], keys: &[] },
    Route { path: "/V1/USERS", methods: &[], keys: &[] },
    Route { path: "/v1//users", methods: &[], keys: &[] },
    Route { path: "/v1/users/", methods: &[], keys: &[] },
    Route { path: "/v1/users/{id}/{id}", methods: &[], keys: &[] },
    Route { path: "/v1/sessions/{id}/tokens/{id}/{id}", methods: &[], keys: &[] },
    Route { path: "/{id}", methods: &[], keys: &[] },
    Route { path: "/{id}/{id}/{id}", methods: &[], keys: &[] },
    Route { path: "/__mock", methods: &[], keys: &[] },
    Route { path: "/__mock/", methods: &[], keys: &[] },
    Route { path: "/__mock/{id}", methods: &[], keys: &[] },
    Route { path: "/.well-known/{id}", methods: &[], keys: &[] },
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const ODD_METHODS: &[&str] = &["TRACE", "CONNECT", "PROPFIND", "FOO"];

const BROKEN_NAMES: &[&str] = &[
    "expired",
    "not-yet-valid",
    "iat-in-future",
    "unknown-kid",
    "foreign-key",
    "alg-none",
    "hs256-public-key",
    "tampered-payload",
    "missing-sub",
    "missing-sid",
    "sts-pending",
    "other-instance",
];

// ---------------------------------------------------------------------------------------------------------------
// Generated requests
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Segment {
    /// The current playground user id.
    User,
    /// The current playground session id.
    Session,
    /// Arbitrary text; `raw` puts it in the path unencoded when that still forms a valid URI.
    Text { text: String, raw: bool },
}

/// Bytes shown as `b"…"` in failure reports.
#[derive(Clone)]
struct Raw(Vec<u8>);

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    /// `Bearer <secret key>`.
    SecretKey,
    /// `Bearer <control token>`.
    ControlToken,
    /// The secret key spelled differently (`bearer`, extra spaces): accepting or refusing are both fine.
    SecretKeyVariant(Raw),
    /// Any other value (wrong keys, other schemes, garbage bytes).
    Other(Raw),
}

#[derive(Debug, Clone)]
enum ContentLength {
    None,
    Correct,
    Declared(String),
}

#[derive(Debug, Clone)]
enum BodyGen {
    Empty,
    Bytes(Raw),
    /// JSON text (may hold the id placeholders).
    Json(String),
    /// Over the 1 MiB limit by this many bytes.
    Oversize(usize),
    /// `[[[…]]]` this deep.
    Nested(usize),
}

#[derive(Debug, Clone)]
struct Case {
    method: String,
    route: &'static str,
    segments: Vec<Segment>,
    absolute_form: bool,
    query: Option<String>,
    auth: Auth,
    content_type: Option<Raw>,
    content_length: ContentLength,
    extra_header: Option<(String, Raw)>,
    body: BodyGen,
}

/// Everything but RFC 3986 unreserved characters, percent-encoded.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Ids the fuzz may use (and legitimately delete, revoke or end).
#[derive(Debug, Clone)]
struct Playground {
    user: String,
    session: String,
    refresh: String,
    token: String,
}

impl Case {
    fn path(&self, ids: &Playground, raw: bool) -> String {
        let mut segments = self.segments.iter();
        let mut out = String::new();
        let mut rest = self.route;
        while let Some(at) = rest.find("{id}") {
            out.push_str(&rest[..at]);
            match segments.next() {
                Some(Segment::User) | None => out.push_str(&ids.user),
                Some(Segment::Session) => out.push_str(&ids.session),
                Some(Segment::Text { text, raw: r }) => out.push_str(&if raw && *r { text.clone() } else { pct(text) }),
            }
            rest = &rest[at + 4..];
        }
        out.push_str(rest);
        out
    }

    fn uri(&self, ids: &Playground, fill: &dyn Fn(&str) -> String) -> Uri {
        let prefix = if self.absolute_form { "http://127.0.0.1:4010" } else { "" };
        let query = self.query.as_deref().map(fill);
        let with = |path: String, query: Option<&str>| match query {
            Some(q) => format!("{prefix}{path}?{q}"),
            None => format!("{prefix}{path}"),
        };
        let candidates = [
            with(self.path(ids, true), query.as_deref()),
            with(self.path(ids, false), query.as_deref()),
            with(self.path(ids, false), None),
            "/".to_owned(),
        ];
        candidates.iter().find_map(|c| Uri::try_from(c.as_str()).ok()).expect("/ is a valid URI")
    }

    fn body_bytes(&self, fill: &dyn Fn(&str) -> String) -> Vec<u8> {
        match &self.body {
            BodyGen::Empty => Vec::new(),
            BodyGen::Bytes(b) => b.0.clone(),
            BodyGen::Json(text) => fill(text).into_bytes(),
            BodyGen::Oversize(extra) => vec![b' '; mock_clerk::server::BODY_LIMIT_BYTES + extra],
            BodyGen::Nested(depth) => format!("{}{}", "[".repeat(*depth), "]".repeat(*depth)).into_bytes(),
        }
    }

    /// The request, with placeholders filled in by `fill` (ids in path segments directly from `ids`).
    fn request(&self, ids: &Playground, fill: &dyn Fn(&str) -> String, secret_key: &str) -> Request<Body> {
        let method = Method::from_bytes(self.method.as_bytes()).expect("generated methods are valid");
        let body = self.body_bytes(fill);
        let mut req = Request::builder().method(method).uri(self.uri(ids, fill));
        let auth = match &self.auth {
            Auth::None => None,
            Auth::SecretKey => Some(format!("Bearer {secret_key}").into_bytes()),
            Auth::ControlToken => Some(format!("Bearer {CONTROL_TOKEN}").into_bytes()),
            Auth::SecretKeyVariant(bytes) | Auth::Other(bytes) => Some(bytes.0.clone()),
        };
        if let Some(v) = auth.and_then(|a| HeaderValue::from_bytes(&a).ok()) {
            req = req.header(header::AUTHORIZATION, v);
        }
        if let Some(v) = self.content_type.as_ref().and_then(|ct| HeaderValue::from_bytes(&ct.0).ok()) {
            req = req.header(header::CONTENT_TYPE, v);
        }
        match &self.content_length {
            ContentLength::None => {}
            ContentLength::Correct => req = req.header(header::CONTENT_LENGTH, body.len()),
            ContentLength::Declared(v) => {
                if let Ok(v) = HeaderValue::from_str(v) {
                    req = req.header(header::CONTENT_LENGTH, v);
                }
            }
        }
        if let Some((name, value)) = &self.extra_header
            && let (Ok(n), Ok(v)) = (header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(&value.0))
        {
            req = req.header(n, v);
        }
        req.body(Body::from(body)).expect("a valid request")
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------------------------

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}|.{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => ".{0,16}",
        2 => "[a-zA-Z0-9_]{0,32}",
        1 => Just(String::new()),
        1 => Just("..".to_owned()),
        1 => Just(".".to_owned()),
        1 => Just("%".to_owned()),
        1 => Just("%zz".to_owned()),
        1 => Just("%2F..%2F".to_owned()),
        1 => Just("a/b".to_owned()),
        1 => Just("sess_2xAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()),
        1 => Just("user_2xAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()),
        1 => Just("ÿ\u{0}\u{7f}💥".to_owned()),
        1 => (1usize..8192).prop_map(|n| "a".repeat(n)),
    ]
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        3 => Just(Segment::User),
        3 => Just(Segment::Session),
        4 => (text(), any::<bool>()).prop_map(|(text, raw)| Segment::Text { text, raw }),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::sample::select(vec![0u64, 1, 10, 60, 3600, 86_400 * 8, 315_360_000, 315_360_001, u32::MAX as u64, u32::MAX as u64 + 1, i64::MAX as u64, u64::MAX])
            .prop_map(Value::from),
        2 => any::<u64>().prop_map(Value::from),
        1 => prop::sample::select(vec![-1i64, i64::MIN, i64::MIN + 1]).prop_map(Value::from),
        1 => Just(json!(1.5)),
        1 => Just(json!(1e300)),
        1 => Just(json!("60")),
    ]
}

fn id_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => Just(json!(USER_MARK)),
        3 => Just(json!(SESSION_MARK)),
        2 => text().prop_map(Value::from),
    ]
}

fn email() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => "[a-z]{1,6}@example\\.com".prop_map(Value::from),
        1 => Just(json!("ada@example.com")),
        1 => Just(json!("ADA@EXAMPLE.COM")),
        1 => text().prop_map(Value::from),
    ]
}

/// A value of roughly the right type for a known key (and now and then any JSON at all).
fn field_value(key: &'static str) -> BoxedStrategy<Value> {
    let typed: BoxedStrategy<Value> = match key {
        "email_address" => prop_oneof![
            3 => prop::collection::vec(email(), 0..3).prop_map(Value::Array),
            1 => email(),
        ]
        .boxed(),
        "email" => email().boxed(),
        "user_id" | "sub" | "sid" | "session" => id_value().boxed(),
        "expires_in_seconds" | "ttl_seconds" | "seconds" | "times" | "retry_after" | "latency_ms" => number().boxed(),
        "iat" => prop_oneof![
            2 => prop::sample::select(vec![0i64, -1, 1_700_000_000, 4_000_000_000, i64::MAX, i64::MIN, i64::MAX - 5, i64::MIN + 5]).prop_map(Value::from),
            1 => any::<i64>().prop_map(Value::from),
        ]
        .boxed(),
        "broken" => prop_oneof![
            4 => prop::sample::select(BROKEN_NAMES).prop_map(Value::from),
            1 => text().prop_map(Value::from),
        ]
        .boxed(),
        "status" => prop_oneof![
            2 => prop::sample::select(vec!["ended", "revoked", "removed", "active", "expired", "pending", ""]).prop_map(Value::from),
            2 => (0u64..1000).prop_map(Value::from),
            1 => prop::sample::select(vec![400u64, 429, 500, 503, 599, 600, 200, 302]).prop_map(Value::from),
        ]
        .boxed(),
        "method" => prop::sample::select(vec!["GET", "get", "POST", "DELETE", "", "💥"]).prop_map(Value::from).boxed(),
        "format" => prop::sample::select(vec!["auto", "nonce", "token", "cookie", "", "NONCE"]).prop_map(Value::from).boxed(),
        "expired_token" => prop_oneof![
            4 => Just(json!(TOKEN_MARK)),
            1 => Just(json!("eyJhbGciOiJSUzI1NiJ9.e30.x")),
            1 => text().prop_map(Value::from),
        ]
        .boxed(),
        "refresh_token" => prop_oneof![4 => Just(json!(REFRESH_MARK)), 1 => text().prop_map(Value::from)].boxed(),
        "request_headers" => prop::collection::hash_map("[a-z-]{1,12}", prop::collection::vec(text(), 0..3), 0..3)
            .prop_map(|m| json!(m))
            .boxed(),
        "path" => prop_oneof![
            3 => prop::sample::select(ROUTES.iter().map(|r| r.path).collect::<Vec<_>>()).prop_map(Value::from),
            1 => prop::sample::select(vec!["/v1/*", "*", "/__mock/*", "", "/.well-known/*"]).prop_map(Value::from),
            1 => text().prop_map(Value::from),
        ]
        .boxed(),
        "public_metadata" | "private_metadata" | "unsafe_metadata" | "claims" => {
            prop::collection::btree_map(
                prop_oneof![Just("iat".to_owned()), Just("exp".to_owned()), Just("sub".to_owned()), Just("sid".to_owned()), "[a-z]{1,6}"],
                any_json(),
                0..4,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect()))
            .boxed()
        }
        "skip_password_checks" | "skip_password_requirement" | "suffixed_cookies" => any::<bool>().prop_map(Value::from).boxed(),
        "password" => "[a-z]{0,12}".prop_map(Value::from).boxed(),
        "username" => prop_oneof!["[a-z_]{0,10}", text()].prop_map(Value::from).boxed(),
        _ => text().prop_map(Value::from).boxed(),
    };
    prop_oneof![6 => typed, 1 => any_json()].boxed()
}

/// A JSON object with some of the route's keys (now and then one it does not know).
fn keyed_object(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    if keys.is_empty() {
        return prop_oneof![Just(json!({})), any_json().prop_map(|v| json!({"unexpected": v}))].boxed();
    }
    let fields = prop::sample::subsequence(keys.to_vec(), 0..=keys.len().min(4))
        .prop_flat_map(|chosen| chosen.into_iter().map(|k| field_value(k).prop_map(move |v| (k, v))).collect::<Vec<_>>());
    let extra = prop::option::weighted(0.1, ("[a-zA-Z_]{1,12}", any_json()));
    (fields, extra)
        .prop_map(|(fields, extra)| {
            let mut object: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            if let Some((k, v)) = extra {
                object.insert(k, v);
            }
            Value::Object(object)
        })
        .boxed()
}

fn body(keys: &'static [&'static str]) -> BoxedStrategy<BodyGen> {
    prop_oneof![
        4 => Just(BodyGen::Empty),
        2 => prop::collection::vec(any::<u8>(), 0..256).prop_map(|b| BodyGen::Bytes(Raw(b))),
        3 => any_json().prop_map(|v| BodyGen::Json(v.to_string())),
        8 => keyed_object(keys).prop_map(|v| BodyGen::Json(v.to_string())),
        1 => (1usize..4096).prop_map(BodyGen::Oversize),
        1 => (100usize..300).prop_map(BodyGen::Nested),
    ]
    .boxed()
}

fn auth(secret_weight: u32, control_weight: u32) -> impl Strategy<Value = Auth> {
    let other = |b: &[u8]| Just(Auth::Other(Raw(b.to_vec())));
    let variant = |b: &[u8]| Just(Auth::SecretKeyVariant(Raw(b.to_vec())));
    prop_oneof![
        3 => Just(Auth::None),
        secret_weight => Just(Auth::SecretKey),
        control_weight => Just(Auth::ControlToken),
        1 => other(b"Bearer sk_test_wrong"),
        1 => other(b"sk_test_mock_clerk_0000000000000000000000"),
        1 => other(b"Bearer "),
        1 => other(b"Bearer sk_test_mock_clerk_000000000000000000000"),
        1 => other(format!("Bearer {CONTROL_TOKEN}x").as_bytes()),
        1 => other(b"Basic dXNlcjpwYXNz"),
        1 => variant(b"bearer sk_test_mock_clerk_0000000000000000000000"),
        1 => variant(b"Bearer  sk_test_mock_clerk_0000000000000000000000 "),
        2 => prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| Auth::Other(Raw(b))),
    ]
}

fn content_type() -> impl Strategy<Value = Option<Raw>> {
    let ct = |b: &[u8]| Just(Some(Raw(b.to_vec())));
    prop_oneof![
        2 => Just(None),
        4 => ct(b"application/json"),
        1 => ct(b"application/json; charset=utf-8"),
        1 => ct(b"application/x-www-form-urlencoded"),
        1 => ct(b"text/plain"),
        1 => ct(b"multipart/form-data; boundary=x"),
        1 => prop::collection::vec(any::<u8>(), 0..32).prop_map(|b| Some(Raw(b))),
    ]
}

fn content_length() -> impl Strategy<Value = ContentLength> {
    prop_oneof![
        6 => Just(ContentLength::None),
        3 => Just(ContentLength::Correct),
        1 => prop::sample::select(vec!["0", "1", "5", "1048576", "1048577", "2000000", "18446744073709551616", "-1", "abc", " 12", "1,1"])
            .prop_map(|s| ContentLength::Declared(s.to_owned())),
    ]
}

fn query() -> impl Strategy<Value = Option<String>> {
    let key = prop::sample::select(vec![
        "limit",
        "offset",
        "user_id",
        "client_id",
        "status",
        "paginated",
        "email_address",
        "email_address[]",
        "external_id",
        "redirect_url",
        "format",
        "suffixed_cookies",
        "__session",
        "__clerk_db_jwt",
        "nonce",
        "order_by",
    ]);
    let value = prop_oneof![
        2 => prop::sample::select(vec![
            "0", "1", "10", "500", "501", "-1", "18446744073709551616", "true", "false", "active", "revoked", "nonce", "token",
            USER_MARK, SESSION_MARK, NONCE_MARK, NONCE_MARK, "http://localhost:3000/x", "javascript:alert(1)", "//evil.example", "ada@example.com",
        ])
        .prop_map(str::to_owned),
        1 => text(),
    ];
    let pairs = prop::collection::vec((key, value), 0..5).prop_map(|pairs| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, &v);
        }
        s.finish()
    });
    prop_oneof![
        3 => Just(None),
        4 => pairs.prop_map(Some),
        1 => "[ -~]{0,24}".prop_map(Some),
    ]
}

/// The handshake's own query: a redirect URL (valid or not), the SDK's flags, a session token or dev browser.
fn handshake_query() -> impl Strategy<Value = Option<String>> {
    let redirect = prop_oneof![
        4 => Just("http://localhost:3000/dashboard?x=1".to_owned()),
        1 => Just("https://app.example.com/".to_owned()),
        1 => Just("javascript:alert(1)".to_owned()),
        1 => Just("/relative".to_owned()),
        1 => Just("http://a\u{7f}b/".to_owned()),
        1 => text().prop_map(|t| format!("http://localhost:3000/{t}")),
        1 => text(),
    ];
    (
        redirect,
        prop::option::of(prop::sample::select(vec!["nonce", "token", "", "x"])),
        prop::option::of(any::<bool>()),
        prop::option::of(prop_oneof![Just("eyJhbGciOiJSUzI1NiJ9.e30.x".to_owned()), text()]),
        prop::option::of(prop_oneof![Just("dvb_2xAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()), text()]),
    )
        .prop_map(|(redirect, format, suffixed, session, dev_browser)| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("redirect_url", &redirect);
            if let Some(f) = format {
                q.append_pair("format", f);
            }
            if let Some(b) = suffixed {
                q.append_pair("suffixed_cookies", if b { "true" } else { "false" });
            }
            if let Some(t) = session {
                q.append_pair("__session", &t);
            }
            if let Some(d) = dev_browser {
                q.append_pair("__clerk_db_jwt", &d);
            }
            Some(q.finish())
        })
}

/// One `name=value` pair, value from a few choices.
fn pair(name: &'static str, values: Vec<&'static str>) -> BoxedStrategy<Option<String>> {
    prop::sample::select(values).prop_map(move |v| Some(form_urlencoded::Serializer::new(String::new()).append_pair(name, v).finish())).boxed()
}

/// Queries the route reads, often enough to get past its checks; any query otherwise.
fn route_query(route: &'static Route) -> BoxedStrategy<Option<String>> {
    match route.path {
        HANDSHAKE_PATH => prop_oneof![3 => handshake_query(), 1 => query()].boxed(),
        "/v1/clients/handshake_payload" => prop_oneof![2 => pair("nonce", vec![NONCE_MARK, "", "nonce_x"]), 1 => query()].boxed(),
        "/v1/sessions" => prop_oneof![2 => pair("user_id", vec![USER_MARK, "user_x"]), 1 => query()].boxed(),
        "/v1/sessions/{id}/refresh" => prop_oneof![1 => pair("suffixed_cookies", vec!["true", "false"]), 2 => query()].boxed(),
        _ => query().boxed(),
    }
}

fn method(route: &'static Route) -> BoxedStrategy<String> {
    let any_method = prop_oneof![
        10 => prop::sample::select(METHODS),
        1 => prop::sample::select(ODD_METHODS),
    ];
    if route.methods.is_empty() {
        any_method.prop_map(str::to_owned).boxed()
    } else {
        prop_oneof![3 => prop::sample::select(route.methods), 2 => any_method].prop_map(str::to_owned).boxed()
    }
}

fn extra_header() -> impl Strategy<Value = Option<(String, Raw)>> {
    prop::option::weighted(
        0.15,
        (
            prop::sample::select(vec!["cookie", "origin", "x-forwarded-for", "transfer-encoding", "host", "clerk-api-version", "x-💥"])
                .prop_map(str::to_owned),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(Raw),
        ),
    )
}

/// Any request to any of `routes`, with authorization weights.
fn case(routes: Vec<&'static Route>, secret_weight: u32, control_weight: u32) -> impl Strategy<Value = Case> {
    prop::sample::select(routes).prop_flat_map(move |route| {
        (
            method(route),
            prop::collection::vec(segment(), 3),
            prop::bool::weighted(0.05),
            route_query(route),
            auth(secret_weight, control_weight),
            content_type(),
            content_length(),
            extra_header(),
            body(route.keys),
        )
            .prop_map(move |(method, segments, absolute_form, query, auth, content_type, content_length, extra_header, body)| Case {
                method,
                route: route.path,
                segments,
                absolute_form,
                query,
                auth,
                content_type,
                content_length,
                extra_header,
                body,
            })
    })
}

/// Requests aimed at the JSON bodies of routes that take one: right method, key and content type.
fn body_case() -> impl Strategy<Value = Case> {
    let routes: Vec<&'static Route> = ROUTES.iter().filter(|r| !r.keys.is_empty()).collect();
    prop::sample::select(routes).prop_flat_map(|route| {
        let post = route.methods.iter().find(|m| **m == "POST").copied().unwrap_or("POST");
        (prop::collection::vec(segment(), 3), prop_oneof![9 => keyed_object(route.keys), 1 => any_json()], route_query(route)).prop_map(
            move |(segments, value, query)| Case {
                method: post.to_owned(),
                route: route.path,
                segments,
                absolute_form: false,
                query,
                auth: Auth::SecretKey,
                content_type: Some(Raw(b"application/json".to_vec())),
                content_length: ContentLength::Correct,
                extra_header: None,
                body: BodyGen::Json(value.to_string()),
            },
        )
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The harness: one state and one current-thread runtime per property
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Sentinel {
    user: String,
    session: String,
}

struct Harness {
    rt: tokio::runtime::Runtime,
    app: Router,
    state: AppState,
    secret_key: String,
    /// Loopback peer and no control token: the fuzz may use the control API.
    control_open: bool,
    playground: RefCell<Playground>,
    sentinel: RefCell<Sentinel>,
    resets: RefCell<u32>,
    cases: RefCell<u32>,
    statuses: RefCell<std::collections::BTreeMap<u16, u32>>,
    /// 2xx answers per route template, to see which routes the fuzz got through to.
    successes: RefCell<std::collections::BTreeMap<&'static str, u32>>,
}

/// One answer.
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Harness {
    fn new(peer: ([u8; 4], u16), control_token: Option<&str>) -> Self {
        let mut builder = MockClerk::builder();
        if let Some(t) = control_token {
            builder = builder.control_token(t);
        }
        let state = builder.state_for(SocketAddr::from(ADDR)).expect("state");
        let secret_key = state.instance().secret_key().to_owned();
        let app = mock_clerk::server::app(state.clone()).layer(MockConnectInfo(SocketAddr::from(peer)));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let h = Self {
            rt,
            app,
            state,
            secret_key,
            control_open: control_token.is_none() && peer.0[0] == 127,
            playground: RefCell::new(Playground { user: String::new(), session: String::new(), refresh: String::new(), token: String::new() }),
            sentinel: RefCell::new(Sentinel { user: String::new(), session: String::new() }),
            resets: RefCell::new(0),
            cases: RefCell::new(0),
            statuses: RefCell::new(Default::default()),
            successes: RefCell::new(Default::default()),
        };
        h.seed_sentinel();
        h.seed_playground();
        h
    }

    fn send(&self, req: Request<Body>) -> Answer {
        self.rt.block_on(async {
            let res = self.app.clone().oneshot(req).await.expect("infallible");
            let status = res.status();
            let headers = res.headers().clone();
            let body = res.into_body().collect().await.expect("body").to_bytes().to_vec();
            Answer { status, headers, body }
        })
    }

    fn bapi(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.secret_key))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map(|b| Body::from(b.to_string())).unwrap_or_default())
            .unwrap();
        let a = self.send(req);
        assert_eq!(a.headers[header::CONTENT_TYPE], "application/json");
        (a.status, serde_json::from_slice(&a.body).expect("JSON"))
    }

    /// The sentinel: created through the Backend API; its ids are never given to the fuzz.
    fn seed_sentinel(&self) {
        let (s, user) = self.bapi(Method::POST, "/v1/users", Some(json!({"email_address": ["sentinel@robustness.test"], "first_name": "Sentinel"})));
        assert_eq!(s, StatusCode::OK, "{user}");
        let (s, session) = self.bapi(Method::POST, "/v1/sessions", Some(json!({"user_id": user["id"]})));
        assert_eq!(s, StatusCode::OK, "{session}");
        *self.sentinel.borrow_mut() = Sentinel { user: user["id"].as_str().unwrap().into(), session: session["id"].as_str().unwrap().into() };
    }

    /// A user and an active session the fuzz may act on (reseeded when used up).
    fn seed_playground(&self) {
        let now = self.state.clock().now_ms();
        let mut store = self.state.store();
        let user = store.create_user(NewUser { first_name: Some("Playground".into()), ..NewUser::default() }, now).expect("user");
        let session = store.create_session(&user.id, now).expect("session");
        let refresh = store.refresh_token(&session.id);
        drop(store);
        let token = self.state.mint(&mock_clerk::tokens::TokenSpec::new(&user.id, &session.id)).token;
        *self.playground.borrow_mut() = Playground { user: user.id.into(), session: session.id.into(), refresh, token };
    }

    /// Sends one generated request and checks the answer.
    fn run(&self, case: &Case) -> Result<(), TestCaseError> {
        let ids = self.playground.borrow().clone();
        let fill = |text: &str| -> String {
            if !text.contains("__MK_") {
                return text.to_owned();
            }
            let mut out = text
                .replace(USER_MARK, &ids.user)
                .replace(SESSION_MARK, &ids.session)
                .replace(REFRESH_MARK, &ids.refresh)
                .replace(TOKEN_MARK, &ids.token);
            while out.contains(NONCE_MARK) {
                let nonce = self.state.store().put_nonce(vec!["__session=; Path=/; Max-Age=0".into()]);
                out = out.replacen(NONCE_MARK, &nonce, 1);
            }
            out
        };
        let req = case.request(&ids, &fill, &self.secret_key);
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let faults_pending = !self.state.faults().pending().is_empty();
        let a = self.send(req);
        *self.cases.borrow_mut() += 1;
        *self.statuses.borrow_mut().entry(a.status.as_u16()).or_default() += 1;
        if a.status.is_success() {
            *self.successes.borrow_mut().entry(case.route).or_default() += 1;
        }
        let what = format!("{method} {path} -> {}", a.status);
        let body_text = String::from_utf8_lossy(&a.body);

        // Redirects: only the Frontend API handshake redirects, and it says where to.
        if a.status.is_redirection() {
            prop_assert_eq!(&path, HANDSHAKE_PATH, "{}: unexpected redirect", what);
            prop_assert!(a.headers.contains_key(header::LOCATION), "{}: redirect without Location", what);
            return self.after(case, &path, a.status);
        }

        // A CORS preflight (OPTIONS with an Origin, as clerk-js's browser sends before a Frontend API call) may be
        // answered 204 with no body, as browsers expect; anything else it gets is checked like every answer.
        let preflight = method == Method::OPTIONS && case.extra_header.as_ref().is_some_and(|(n, _)| n.eq_ignore_ascii_case("origin"));
        if preflight && a.status.as_u16() == 204 {
            prop_assert!(a.body.is_empty(), "{}: a preflight answered with a body {}", what, body_text);
            return self.after(case, &path, a.status);
        }

        let types: Vec<&str> = a.headers.get_all(header::CONTENT_TYPE).iter().map(|v| v.to_str().unwrap_or("<not text>")).collect();
        prop_assert_eq!(types, vec!["application/json"], "{}: Content-Type must be exactly application/json; body {}", what, body_text);

        // HEAD: the GET answer's status and headers, no body.
        if method == Method::HEAD {
            prop_assert!(a.body.is_empty(), "{}: HEAD answered with a body: {}", what, body_text);
            // Without a body the code cannot be read: a 5xx is only allowed while an injected fault is pending.
            prop_assert!(!a.status.is_server_error() || faults_pending, "{}: a 5xx with no fault injected", what);
            return self.after(case, &path, a.status);
        }
        let json: Value = match serde_json::from_slice(&a.body) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("{what}: body is not JSON ({e}): {body_text:?}"))),
        };
        // A fault injected with its own `body` answers with that body: it is the fuzz case's, not mock-clerk's.
        let injected_body = faults_pending && json.get("errors").is_none();
        if a.status.is_success() {
            prop_assert!(json.is_object() || json.is_array(), "{}: 2xx body is not an object or array: {}", what, json);
        } else if !injected_body {
            check_envelope(&json).map_err(|e| TestCaseError::fail(format!("{what}: {e}: {json}")))?;
        }
        if a.status.is_server_error() && !injected_body {
            // The only 5xx allowed is one a fuzz case injected through the control API.
            prop_assert_eq!(&json["errors"][0]["code"], "injected_fault", "{}: a 5xx of mock-clerk's own: {}", what, json);
        }

        // Backend API routes never answer 2xx without the secret key.
        let bapi = path.starts_with("/v1/") && path != HANDSHAKE_PATH;
        if bapi && !matches!(case.auth, Auth::SecretKey | Auth::SecretKeyVariant(_)) {
            prop_assert!(!a.status.is_success(), "{}: Backend API answered without the secret key: {}", what, json);
            // Nor does it tell such a caller which methods a route has (the 401 comes before the 405).
            prop_assert_ne!(&json["errors"][0]["code"], "request_method_not_allowed", "{}: a 405 before the 401: {}", what, json);
        }
        // The control API never answers 2xx to a caller it should refuse.
        if path.starts_with("/__mock") && !self.control_open && !matches!(case.auth, Auth::ControlToken) {
            prop_assert!(!a.status.is_success(), "{}: control API answered a refused caller: {}", what, json);
        }
        self.after(case, &path, a.status)
    }

    /// Keeps the run bounded and checks nothing was lost.
    fn after(&self, case: &Case, path: &str, status: StatusCode) -> Result<(), TestCaseError> {
        // Injected faults stay (so their answers are fuzzed too), but without latency and for at most 3 uses.
        let pending = self.state.faults().pending();
        if !pending.is_empty() {
            self.state.faults().clear();
            for f in pending.into_iter().filter(|f| f.status.is_some()) {
                self.state
                    .faults()
                    .add(Fault { latency_ms: None, times: f.times.min(3), ..f })
                    .expect("a fault with a status stays valid without latency");
            }
        }
        let reset = path == "/__mock/reset" && status.is_success();
        if reset {
            *self.resets.borrow_mut() += 1;
            self.seed_sentinel();
        }
        // Nothing but a reset may lose the sentinel or end its session.
        let sentinel = self.sentinel.borrow().clone();
        {
            let store = self.state.store();
            prop_assert!(store.user(&sentinel.user).is_ok(), "sentinel user lost after {:?}", case);
            let session = store.session(&sentinel.session);
            prop_assert!(session.is_ok(), "sentinel session lost after {:?}", case);
            prop_assert_eq!(session.unwrap().status, SessionStatus::Active, "sentinel session status changed by {:?}", case);
        }
        let playground = self.playground.borrow().clone();
        let usable = {
            let store = self.state.store();
            // Active now (a fuzzed clock advance expires it without changing its stored status).
            let now = self.state.clock().now_ms();
            store.user(&playground.user).is_ok() && store.session(&playground.session).is_ok_and(|s| s.status_at(now) == SessionStatus::Active)
        };
        if reset || !usable {
            self.seed_playground();
        }
        Ok(())
    }

    /// After the fuzzing: the sentinel is still there through the Backend API, and still active on real time.
    fn check_sentinel_over_http(&self) {
        self.state.faults().clear();
        if self.control_open {
            let req = Request::post("/__mock/clock/reset").body(Body::empty()).unwrap();
            assert_eq!(self.send(req).status, StatusCode::OK);
        } else {
            self.state.clock().reset();
        }
        let sentinel = self.sentinel.borrow().clone();
        let (s, user) = self.bapi(Method::GET, &format!("/v1/users/{}", sentinel.user), None);
        assert_eq!(s, StatusCode::OK, "{user}");
        assert_eq!(user["email_addresses"][0]["email_address"], "sentinel@robustness.test");
        let (s, session) = self.bapi(Method::GET, &format!("/v1/sessions/{}", sentinel.session), None);
        assert_eq!(s, StatusCode::OK, "{session}");
        assert_eq!(session["status"], "active");
        let (s, token) = self.bapi(Method::POST, &format!("/v1/sessions/{}/tokens", sentinel.session), None);
        assert_eq!(s, StatusCode::OK, "{token}");
    }

    fn report(&self, name: &str, started: Instant) {
        let successes = self.successes.borrow();
        let never: Vec<&str> = ROUTES.iter().filter(|r| !r.methods.is_empty() && !successes.contains_key(r.path)).map(|r| r.path).collect();
        eprintln!("{name}: 2xx per route {successes:?}; routes never answered 2xx: {never:?}");
        eprintln!(
            "{name}: {} cases in {:.1?}, {} resets, statuses {:?}",
            self.cases.borrow(),
            started.elapsed(),
            self.resets.borrow(),
            self.statuses.borrow()
        );
    }
}

/// `{"errors":[{code,message,long_message,meta}, …],"clerk_trace_id":"trace_…"}` and nothing else.
fn check_envelope(body: &Value) -> Result<(), String> {
    let object = body.as_object().ok_or("not an object")?;
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["clerk_trace_id", "errors"] {
        return Err(format!("envelope keys are {keys:?}"));
    }
    if !body["clerk_trace_id"].as_str().is_some_and(|t| t.starts_with("trace_")) {
        return Err("clerk_trace_id is not a trace id".into());
    }
    let errors = body["errors"].as_array().ok_or("errors is not an array")?;
    if errors.is_empty() {
        return Err("errors is empty".into());
    }
    for e in errors {
        if !e["code"].as_str().is_some_and(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')) {
            return Err("code is not a snake_case string".into());
        }
        if !e["message"].is_string() || !e["long_message"].is_string() {
            return Err("message/long_message are not strings".into());
        }
        if !e["meta"].is_object() {
            return Err("meta is not an object".into());
        }
    }
    Ok(())
}

fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, max_shrink_iters: 256, ..Config::default() }
}

fn run_property(name: &str, harness: &Harness, cases: u32, strategy: impl Strategy<Value = Case>) {
    let started = Instant::now();
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&strategy, |case| harness.run(&case));
    harness.report(name, started);
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    harness.check_sentinel_over_http();
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

/// Every route and no route, from a loopback peer (control API open), any request at all.
#[test]
fn any_request_gets_a_clerk_answer() {
    let h = Harness::new(LOOPBACK_PEER, None);
    run_property("any_request", &h, 12_000, case(ROUTES.iter().collect(), 4, 1));
}

/// Well-formed JSON requests with the right key and content type, so bodies reach the handlers' checks.
#[test]
fn json_bodies_get_a_clerk_answer() {
    let h = Harness::new(LOOPBACK_PEER, None);
    run_property("json_bodies", &h, 6_000, body_case());
}

/// A remote peer against a control API opened with a token: nothing without the token, Clerk answers always.
#[test]
fn control_token_is_required_from_anywhere() {
    let h = Harness::new(REMOTE_PEER, Some(CONTROL_TOKEN));
    let routes: Vec<&'static Route> = ROUTES.iter().filter(|r| r.path.starts_with("/__mock") || r.path.starts_with("/v1/users")).collect();
    run_property("control_token", &h, 2_000, case(routes, 2, 2));
}

// ---------------------------------------------------------------------------------------------------------------
// Focused tests
// ---------------------------------------------------------------------------------------------------------------

fn assert_envelope_answer(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/json");
    let json: Value = serde_json::from_slice(&a.body).expect("JSON");
    check_envelope(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(json["errors"][0]["code"], code, "{json}");
}

#[test]
fn body_over_one_mib_is_a_413_envelope() {
    let h = Harness::new(LOOPBACK_PEER, None);
    let limit = mock_clerk::server::BODY_LIMIT_BYTES;
    assert_eq!(limit, 1 << 20);
    let sk = h.secret_key.clone();
    let post = |bytes: Vec<u8>, declared: Option<usize>| {
        let mut req =
            Request::post("/v1/users").header(header::AUTHORIZATION, format!("Bearer {sk}")).header(header::CONTENT_TYPE, "application/json");
        if let Some(n) = declared {
            req = req.header(header::CONTENT_LENGTH, n);
        }
        h.send(req.body(Body::from(bytes)).unwrap())
    };
    // Streamed without a length, and declared with one.
    assert_envelope_answer(&post(vec![b' '; limit + 1], None), StatusCode::PAYLOAD_TOO_LARGE, "request_body_too_large");
    assert_envelope_answer(&post(vec![b' '; limit + 1], Some(limit + 1)), StatusCode::PAYLOAD_TOO_LARGE, "request_body_too_large");
    assert_envelope_answer(&post(b"{}".to_vec(), Some(5 << 20)), StatusCode::PAYLOAD_TOO_LARGE, "request_body_too_large");
    // Exactly the limit is accepted (and is a valid, if padded, empty object).
    let mut at_limit = vec![b' '; limit];
    at_limit[..2].copy_from_slice(b"{}");
    let a = post(at_limit, None);
    assert_eq!(a.status, StatusCode::OK, "{}", String::from_utf8_lossy(&a.body));
    // The control API has the same limit.
    let a = h.send(Request::post("/__mock/sign-in").body(Body::from(vec![b' '; limit + 1])).unwrap());
    assert_envelope_answer(&a, StatusCode::PAYLOAD_TOO_LARGE, "request_body_too_large");
}

#[test]
fn control_api_refuses_non_loopback_peers() {
    let h = Harness::new(REMOTE_PEER, None);
    let users_before = h.state.store().user_count(&Default::default());
    for (method, path) in [(Method::GET, "/__mock/instance"), (Method::POST, "/__mock/reset"), (Method::POST, "/__mock/sign-in")] {
        let a = h.send(Request::builder().method(method).uri(path).body(Body::empty()).unwrap());
        assert_envelope_answer(&a, StatusCode::FORBIDDEN, "control_api_forbidden");
    }
    // Not even with the secret key.
    let a = h.send(Request::post("/__mock/reset").header(header::AUTHORIZATION, format!("Bearer {}", h.secret_key)).body(Body::empty()).unwrap());
    assert_envelope_answer(&a, StatusCode::FORBIDDEN, "control_api_forbidden");
    assert_eq!(h.state.store().user_count(&Default::default()), users_before, "the refused reset changed nothing");
    // The Backend API itself still answers that peer.
    let (s, _) = h.bapi(Method::GET, "/v1/users/count", None);
    assert_eq!(s, StatusCode::OK);
    // And without any peer address at all (no ConnectInfo), the control API refuses too.
    let state = MockClerk::builder().state_for(SocketAddr::from(ADDR)).unwrap();
    let bare = mock_clerk::server::app(state);
    let res = h.rt.block_on(bare.oneshot(Request::get("/__mock/instance").body(Body::empty()).unwrap())).unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[test]
fn control_token_opens_the_control_api() {
    let h = Harness::new(REMOTE_PEER, Some(CONTROL_TOKEN));
    let get = |auth: Option<&str>| {
        let mut req = Request::get("/__mock/instance");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        h.send(req.body(Body::empty()).unwrap())
    };
    assert_envelope_answer(&get(None), StatusCode::FORBIDDEN, "control_api_forbidden");
    assert_envelope_answer(&get(Some("Bearer wrong")), StatusCode::FORBIDDEN, "control_api_forbidden");
    assert_envelope_answer(&get(Some(CONTROL_TOKEN)), StatusCode::FORBIDDEN, "control_api_forbidden");
    assert_envelope_answer(&get(Some(&format!("Bearer {}", h.secret_key))), StatusCode::FORBIDDEN, "control_api_forbidden");
    let a = get(Some(&format!("Bearer {CONTROL_TOKEN}")));
    assert_eq!(a.status, StatusCode::OK, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/json");
    let json: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(json["kind"], "development");
    // The same token from a loopback peer is also what opens it (the token, not the address, decides).
    let local = Harness::new(LOOPBACK_PEER, Some(CONTROL_TOKEN));
    let a = local.send(Request::get("/__mock/instance").body(Body::empty()).unwrap());
    assert_envelope_answer(&a, StatusCode::FORBIDDEN, "control_api_forbidden");
    let a =
        local.send(Request::get("/__mock/instance").header(header::AUTHORIZATION, format!("Bearer {CONTROL_TOKEN}")).body(Body::empty()).unwrap());
    assert_eq!(a.status, StatusCode::OK);
}

/// Regressions found by the properties above: times at the ends of `i64`/`u64` used to overflow (a panic in debug
/// builds) in token claims (`iat + ttl`, `iat - 10`, the forged variants' offsets) and in the virtual clock.
#[test]
fn extreme_times_are_answered_not_panicked() {
    let h = Harness::new(LOOPBACK_PEER, None);
    // (The control API ignores the bearer `bapi` adds; the peer is loopback.)
    for body in [
        json!({"iat": i64::MAX}),
        json!({"iat": i64::MIN}),
        json!({"ttl_seconds": u64::MAX}),
        json!({"ttl_seconds": i64::MAX as u64, "iat": i64::MAX}),
        json!({"iat": i64::MIN, "broken": "expired"}),
        json!({"iat": i64::MAX, "broken": "not-yet-valid"}),
        json!({"iat": i64::MAX, "broken": "iat-in-future"}),
    ] {
        let (s, minted) = h.bapi(Method::POST, "/__mock/tokens", Some(body.clone()));
        assert_eq!(s, StatusCode::OK, "{body}: {minted}");
        let c = &minted["claims"];
        if body.get("broken").is_none() {
            assert!(c["exp"].as_i64() >= c["iat"].as_i64(), "{body}: exp saturates instead of wrapping: {c}");
            assert!(c["nbf"].as_i64() <= c["iat"].as_i64(), "{body}: nbf saturates instead of wrapping: {c}");
        }
    }
    let (s, signed_in) = h.bapi(Method::POST, "/__mock/sign-in", Some(json!({"ttl_seconds": u64::MAX})));
    assert_eq!(s, StatusCode::OK, "{signed_in}");

    for _ in 0..5 {
        let (s, clock) = h.bapi(Method::POST, "/__mock/clock/advance", Some(json!({"seconds": u64::MAX})));
        assert_eq!(s, StatusCode::OK, "{clock}");
        assert_eq!(clock["offset_ms"], mock_clerk::clock::MAX_OFFSET_MS, "the offset is clamped");
    }
    // Everything that computes from the virtual clock still works, and the sentinel session is now expired.
    let sentinel = h.sentinel.borrow().clone();
    let (s, session) = h.bapi(Method::POST, "/v1/sessions", Some(json!({"user_id": sentinel.user})));
    assert_eq!(s, StatusCode::OK, "{session}");
    assert!(session["abandon_at"].as_i64() > session["created_at"].as_i64());
    let (s, old) = h.bapi(Method::GET, &format!("/v1/sessions/{}", sentinel.session), None);
    assert_eq!((s, old["status"].as_str()), (StatusCode::OK, Some("abandoned")));
    let (s, clock) = h.bapi(Method::POST, "/__mock/clock/reset", None);
    assert_eq!((s, clock["offset_ms"].as_i64()), (StatusCode::OK, Some(0)));
}

/// A wrong method on a Backend API route answers as any Backend API call without the key would (401), so a
/// caller without the secret key cannot map the routes; with the key it is the 405. Frontend API and control
/// paths need no key and answer 405 straight away.
#[test]
fn wrong_method_without_the_secret_key_is_a_401() {
    let h = Harness::new(LOOPBACK_PEER, None);
    let send = |method: &str, path: &str, auth: Option<String>| {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        h.send(req.body(Body::empty()).unwrap())
    };
    let sentinel = h.sentinel.borrow().user.clone();
    for (method, path) in [
        ("PATCH", "/v1/users".to_owned()),
        ("PUT", format!("/v1/users/{sentinel}")),
        ("GET", "/v1/sessions/x/revoke".to_owned()),
        ("OPTIONS", "/v1/jwks".to_owned()),
    ] {
        assert_envelope_answer(&send(method, &path, None), StatusCode::UNAUTHORIZED, "authorization_header_missing");
        assert_envelope_answer(&send(method, &path, Some("Bearer sk_test_wrong".into())), StatusCode::UNAUTHORIZED, "clerk_key_invalid");
        assert_envelope_answer(&send(method, &path, Some("Basic dXNlcjpwYXNz".into())), StatusCode::UNAUTHORIZED, "clerk_key_invalid");
        let with_key = send(method, &path, Some(format!("Bearer {}", h.secret_key)));
        assert_envelope_answer(&with_key, StatusCode::METHOD_NOT_ALLOWED, "request_method_not_allowed");
    }
    for (method, path) in [("POST", "/.well-known/jwks.json"), ("DELETE", HANDSHAKE_PATH), ("PUT", "/__mock/instance")] {
        assert_envelope_answer(&send(method, path, None), StatusCode::METHOD_NOT_ALLOWED, "request_method_not_allowed");
    }
}

/// `POST /v1/users` carries a password; the request log (control API and library) shows it redacted, the rest
/// of the body as sent.
#[test]
fn the_request_log_never_shows_a_password() {
    let h = Harness::new(LOOPBACK_PEER, None);
    let secret = "correct horse battery staple";
    let body = json!({"email_address": ["pw@robustness.test"], "password": secret, "unsafe_metadata": {"password": secret}});
    let (s, user) = h.bapi(Method::POST, "/v1/users", Some(body));
    assert_eq!(s, StatusCode::OK, "{user}");
    assert_eq!(user["password_enabled"], true, "the password itself reached the store");
    let a = h.send(Request::get("/__mock/requests").body(Body::empty()).unwrap());
    assert_eq!(a.status, StatusCode::OK);
    let log: Value = serde_json::from_slice(&a.body).unwrap();
    assert!(!log.to_string().contains(secret), "the password is in the request log: {log}");
    let entry = log.as_array().unwrap().iter().rev().find(|e| e["method"] == "POST" && e["path"] == "/v1/users").expect("logged");
    let logged: Value = serde_json::from_str(entry["body"].as_str().unwrap()).expect("the logged body is still JSON");
    assert_eq!(logged, json!({"email_address": ["pw@robustness.test"], "password": "[redacted]", "unsafe_metadata": {"password": "[redacted]"}}));
    assert!(h.state.log().entries().iter().all(|e| !e.body.contains(secret)));
}
