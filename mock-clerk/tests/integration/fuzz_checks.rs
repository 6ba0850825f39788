//! The fuzz targets' checks (`mock-clerk/fuzz/checks.rs`, run by `cargo fuzz run jwt|handshake|extract|cookies`)
//! as ordinary property tests, so every `cargo test` exercises them: 11,000 generated cases in all, half raw
//! bytes, half shaped like the real thing (tokens, handshake queries, JSON bodies).

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

fn run<T: std::fmt::Debug>(name: &str, cases: u32, strategy: impl Strategy<Value = T>, check: impl Fn(&T) -> Result<(), String>) {
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let started = std::time::Instant::now();
    let ran = std::cell::Cell::new(0u32);
    let result = runner.run(&strategy, |input| {
        ran.set(ran.get() + 1);
        check(&input).map_err(TestCaseError::fail)
    });
    eprintln!("{name}: {} cases in {:.1?}", ran.get(), started.elapsed());
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn b64_json() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(json!({"alg": "RS256", "kid": "ins_x", "typ": "JWT"})),
        Just(json!({"alg": "none"})),
        Just(json!([1, 2])),
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(|n| json!({"sub": n})),
    ]
    .prop_map(|v| URL_SAFE_NO_PAD.encode(v.to_string()))
}

/// Strings shaped like JWTs: base64url JSON parts, junk parts, any number of dots.
fn token_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![b64_json(), "[A-Za-z0-9_-]{0,40}", any::<String>()];
    proptest::collection::vec(part, 0..5).prop_map(|parts| parts.join("."))
}

#[test]
fn jwt_decode_and_verify() {
    let jwt = checks::Jwt::default();
    // Real tokens, edited: the kid matches, so the RSA verification runs on near-misses.
    let edits = bytes(12).prop_map(|e| (e, true));
    let texts = prop_oneof![token_text().prop_map(String::into_bytes), bytes(200)].prop_map(|b| (b, false));
    run("jwt", 3_000, prop_oneof![edits, texts], |(data, _)| jwt.check(data));
}

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("http://app.test/dashboard?x=1".to_owned()),
        Just("https://app.test/".to_owned()),
        Just("http%3A%2F%2Fapp.test%2Fp%3Fq%3D1%26r%3D2".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("http://".to_owned()),
        Just("//app.test/".to_owned()),
        Just("http://app.test/\r\nSet-Cookie: x=1".to_owned()),
        Just("@TOKEN@".to_owned()),
        Just("@DVB@".to_owned()),
        Just("true".to_owned()),
        Just("token".to_owned()),
        Just("nonce".to_owned()),
        Just(String::new()),
        "[ -~]{0,30}",
        any::<String>(),
    ]
}

fn handshake_query() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        Just("redirect_url"),
        Just("suffixed_cookies"),
        Just("format"),
        Just("__session"),
        Just("__clerk_db_jwt"),
        Just("__session[]"),
        Just("other"),
    ];
    let redirect = prop_oneof![
        4 => prop_oneof![Just("http://app.test/dashboard?x=1"), Just("https://app.test/"), Just("http%3A%2F%2Fapp.test%2Fp%3Fq%3D1")].prop_map(str::to_owned),
        1 => query_value(),
    ];
    let session = proptest::option::weighted(0.6, prop_oneof![3 => Just("@TOKEN@".to_owned()), 1 => query_value()]);
    let dev_browser = proptest::option::weighted(0.4, prop_oneof![Just("@DVB@".to_owned()), query_value()]);
    let extras = proptest::collection::vec((key, query_value()), 0..4);
    (proptest::option::weighted(0.9, redirect), session, dev_browser, extras)
        .prop_flat_map(|(redirect, session, dev_browser, extras)| {
            let mut pairs: Vec<(String, String)> = extras.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            pairs.extend(redirect.map(|r| ("redirect_url".to_owned(), r)));
            pairs.extend(session.map(|s| ("__session".to_owned(), s)));
            pairs.extend(dev_browser.map(|d| ("__clerk_db_jwt".to_owned(), d)));
            Just(pairs).prop_shuffle()
        })
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&").into_bytes())
}

#[test]
fn handshake_query_strings() {
    let handshake = RefCell::new(checks::Handshake::default());
    run("handshake", 2_000, prop_oneof![3 => handshake_query(), 1 => bytes(120)], |data| handshake.borrow_mut().check(data));
    let h = handshake.borrow();
    eprintln!("handshake: {} redirects, {} signed in", h.redirects, h.signed_in);
    assert!(
        h.redirects >= 200 && h.signed_in >= 20,
        "the generated queries rarely get through: {} redirects, {} signed in",
        h.redirects,
        h.signed_in
    );
}

fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::vec((field_name(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    prop_oneof![
        proptest::collection::vec((field_name(), value.clone()), 0..5)
            .prop_map(|kv| Value::Object(kv.into_iter().collect()).to_string().into_bytes()),
        value.prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("password".to_owned()),
        Just("email_address".to_owned()),
        Just("user_id".to_owned()),
        Just("sub".to_owned()),
        Just("ttl_seconds".to_owned()),
        Just("path".to_owned()),
        Just("status".to_owned()),
        Just("claims".to_owned()),
        "[a-z_]{1,10}",
    ]
}

#[test]
fn extract_queries_and_bodies() {
    let query = proptest::collection::vec(("[a-z_\\[\\]%+]{0,8}", "[ -~]{0,10}"), 0..5)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&").into_bytes());
    run("extract", 3_000, prop_oneof![json_body(), query, bytes(100)], |data| checks::check_extract(data));
}

#[test]
fn cookies_and_redaction() {
    let fields = (
        any::<String>(),
        "[A-Za-z0-9_]{0,12}",
        "[A-Za-z0-9]{0,8}",
        "[0-9]{0,3}",
        prop_oneof![Just("Bearer @SK@".to_owned()), Just("@SK@ x".to_owned()), Just("@SK@".to_owned()), "[ -~]{0,20}"],
    )
        .prop_map(|(a, b, c, d, e)| [a, b, c, d, e].join("\u{FFFF}").replace('\u{FFFF}', "\u{0}").into_bytes())
        .prop_map(|v| v.into_iter().map(|b| if b == 0 { 0xFF } else { b }).collect::<Vec<u8>>());
    let escaped_password = Just(br#"{"pass\u0077ord":"hunter22","a":[{"password":{"x":"}"}}]}"#.to_vec());
    run("cookies", 3_000, prop_oneof![fields, json_body(), escaped_password, bytes(100)], |data| checks::check_cookies(data));
}
