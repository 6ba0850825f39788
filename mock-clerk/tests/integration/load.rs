//! Bounded load and memory runs. Both are `#[ignore]`d: they are not part of the default `cargo test`.
//!
//! ```text
//! cargo test -p mock-clerk --release --test integration load:: -- --ignored --nocapture --test-threads 1
//! MOCK_CLERK_LOAD_SECS=5 MOCK_CLERK_LOAD_CLIENTS=64 cargo test -p mock-clerk --release --test integration load::load_ -- --ignored --nocapture
//! MOCK_CLERK_MEMORY_SESSIONS=100000 cargo test -p mock-clerk --release --test integration load::memory -- --ignored --nocapture
//! ```
//!
//! 1. `load_concurrent_clients_lose_and_duplicate_nothing`: `MOCK_CLERK_LOAD_CLIENTS` (default 256) concurrent
//!    clients against `MockClerk::start()` over loopback HTTP/1.1 keep-alive, for `MOCK_CLERK_LOAD_SECS`
//!    (default 30) seconds. Each client loops: create a user, create a session, mint a token (checked against
//!    the JWKS), revoke the session. Every answer must be the expected 2xx (0 errors); at the end the store must
//!    hold exactly the sessions the clients created (0 lost, 0 duplicated), each revoked. Prints requests/s.
//! 2. `memory_bytes_per_session`: RSS (`/proc/self/statm`) before and after `MOCK_CLERK_MEMORY_SESSIONS`
//!    (default 1,000,000) sessions created directly in a `Store` for a few users; prints bytes per session and
//!    fails above 1 KiB.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mock_clerk::MockClerk;
use mock_clerk::store::{NewUser, SessionStatus, Store};
use serde_json::{Value, json};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Resident set size of this process, in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm (Linux only)");
    let resident_pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("statm field 2");
    // The page size: 4 KiB on every Linux this runs on; read it from the auxiliary vector if not.
    resident_pages * page_size()
}

fn page_size() -> u64 {
    // AT_PAGESZ = 6 in /proc/self/auxv (pairs of native-endian usize).
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    let word = std::mem::size_of::<usize>();
    auxv.chunks_exact(2 * word)
        .find_map(|pair| {
            let key = usize::from_ne_bytes(pair[..word].try_into().ok()?);
            let value = usize::from_ne_bytes(pair[word..].try_into().ok()?);
            (key == 6).then_some(value as u64)
        })
        .unwrap_or(4096)
}

#[test]
#[ignore = "memory run: 1,000,000 sessions; run with --ignored --release"]
fn memory_bytes_per_session() {
    let sessions = env_u64("MOCK_CLERK_MEMORY_SESSIONS", 1_000_000) as usize;
    const USERS: usize = 4;
    let mut store = Store::default();
    let users: Vec<String> = (0..USERS)
        .map(|i| {
            store.create_user(NewUser { email_address: vec![format!("mem{i}@load.test")], ..NewUser::default() }, 1_000).expect("user").id.to_string()
        })
        .collect();
    let before = rss_bytes();
    let started = Instant::now();
    for i in 0..sessions {
        store.create_session(&users[i % USERS], 1_000 + i as i64).expect("session");
    }
    let elapsed = started.elapsed();
    let after = rss_bytes();
    assert_eq!(store.session_count(), sessions);
    let per_session = (after.saturating_sub(before)) as f64 / sessions as f64;
    eprintln!(
        "memory: {sessions} sessions for {USERS} users in {elapsed:.1?}: RSS {:.1} MiB -> {:.1} MiB, {per_session:.0} bytes/session \
         (size_of Session {} bytes)",
        before as f64 / (1 << 20) as f64,
        after as f64 / (1 << 20) as f64,
        std::mem::size_of::<mock_clerk::store::Session>(),
    );
    assert!(per_session <= 1024.0, "{per_session:.0} bytes per session, over the 1 KiB budget");
    drop(store);
}

/// What one client did.
#[derive(Default)]
struct ClientReport {
    requests: u64,
    errors: Vec<String>,
    error_count: u64,
    users: Vec<String>,
    sessions: Vec<String>,
}

impl ClientReport {
    fn error(&mut self, what: String) {
        self.error_count += 1;
        if self.errors.len() < 3 {
            self.errors.push(what);
        }
    }
}

/// One call: `Some(json)` when the status is 200 and the body JSON, else an error is recorded.
async fn call(client: &reqwest::Client, report: &mut ClientReport, url: String, auth: &str, body: Option<Value>) -> Option<Value> {
    report.requests += 1;
    let mut req = client.post(&url).header("authorization", auth).header("content-type", "application/json");
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    match req.send().await {
        Ok(res) if res.status() == 200 => match res.json::<Value>().await {
            Ok(v) => Some(v),
            Err(e) => {
                report.error(format!("POST {url}: body: {e}"));
                None
            }
        },
        Ok(res) => {
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            report.error(format!("POST {url}: {status} {text}"));
            None
        }
        Err(e) => {
            report.error(format!("POST {url}: {e}"));
            None
        }
    }
}

/// One client's loop: user, session, token (verified), revoke — until the deadline.
async fn client_loop(n: usize, base: String, secret_key: String, deadline: Instant, key: Arc<DecodingKey>, mints: Arc<AtomicU64>) -> ClientReport {
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).timeout(Duration::from_secs(60)).build().expect("client");
    let auth = format!("Bearer {secret_key}");
    let mut report = ClientReport::default();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    let mut i = 0u64;
    while Instant::now() < deadline {
        i += 1;
        let Some(user) =
            call(&client, &mut report, format!("{base}/v1/users"), &auth, Some(json!({"email_address": [format!("load-{n}-{i}@load.test")]}))).await
        else {
            continue;
        };
        let user_id = user["id"].as_str().unwrap_or_default().to_owned();
        report.users.push(user_id.clone());
        let Some(session) = call(&client, &mut report, format!("{base}/v1/sessions"), &auth, Some(json!({"user_id": user_id}))).await else {
            continue;
        };
        let sid = session["id"].as_str().unwrap_or_default().to_owned();
        report.sessions.push(sid.clone());
        if let Some(token) = call(&client, &mut report, format!("{base}/v1/sessions/{sid}/tokens"), &auth, None).await {
            mints.fetch_add(1, Ordering::Relaxed);
            match jsonwebtoken::decode::<Value>(token["jwt"].as_str().unwrap_or_default(), &key, &validation) {
                Ok(data) if data.claims["sid"] == sid.as_str() && data.claims["sub"] == user_id.as_str() => {}
                Ok(data) => report.error(format!("token for {sid} says {}", data.claims)),
                Err(e) => report.error(format!("token for {sid} does not verify: {e}")),
            }
        }
        if let Some(revoked) = call(&client, &mut report, format!("{base}/v1/sessions/{sid}/revoke"), &auth, None).await
            && revoked["status"] != "revoked"
        {
            report.error(format!("revoke of {sid} answered {revoked}"));
        }
    }
    report
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "load run: 256 clients for 30 s; run with --ignored --release"]
async fn load_concurrent_clients_lose_and_duplicate_nothing() {
    let clients = env_u64("MOCK_CLERK_LOAD_CLIENTS", 256) as usize;
    let secs = env_u64("MOCK_CLERK_LOAD_SECS", 30);
    let clerk = MockClerk::start().await;
    assert!(clerk.addr().ip().is_loopback());
    let jwk = clerk.state().keys().active().jwk().clone();
    let key = Arc::new(DecodingKey::from_rsa_components(&jwk.n, &jwk.e).expect("JWK"));
    let mints = Arc::new(AtomicU64::new(0));
    let rss_before = rss_bytes();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|n| tokio::spawn(client_loop(n, clerk.url(), clerk.secret_key().to_owned(), deadline, key.clone(), mints.clone())))
        .collect();
    let mut reports = Vec::with_capacity(clients);
    for t in tasks {
        reports.push(t.await.expect("client task"));
    }
    let elapsed = started.elapsed();

    let requests: u64 = reports.iter().map(|r| r.requests).sum();
    let errors: u64 = reports.iter().map(|r| r.error_count).sum();
    let created: Vec<&String> = reports.iter().flat_map(|r| &r.sessions).collect();
    let unique: HashSet<&String> = created.iter().copied().collect();
    let users: usize = reports.iter().map(|r| r.users.len()).sum();
    let store = clerk.state().store();
    let in_store = store.session_count();
    let now = clerk.state().clock().now_ms();
    let missing = created.iter().filter(|id| store.session(id).is_err()).count();
    let not_revoked = created.iter().filter(|id| store.session(id).is_ok_and(|s| s.status_at(now) != SessionStatus::Revoked)).count();
    let users_in_store = store.user_count(&Default::default());
    drop(store);
    let rss_after = rss_bytes();

    eprintln!(
        "load: {clients} clients, {:.1?}: {requests} requests ({:.0} req/s), {} tokens minted ({:.0}/s), {errors} errors; \
         sessions created {} (unique {}), in store {in_store}, missing {missing}, not revoked {not_revoked}; users {users} (store {users_in_store}); \
         RSS {:.0} -> {:.0} MiB",
        elapsed,
        requests as f64 / elapsed.as_secs_f64(),
        mints.load(Ordering::Relaxed),
        mints.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        created.len(),
        unique.len(),
        rss_before as f64 / (1 << 20) as f64,
        rss_after as f64 / (1 << 20) as f64,
    );
    let first_errors: Vec<&String> = reports.iter().flat_map(|r| &r.errors).take(5).collect();
    assert_eq!(errors, 0, "errors, first ones: {first_errors:?}");
    assert!(!created.is_empty(), "no session was created");
    assert_eq!(unique.len(), created.len(), "a session id was handed out twice");
    assert_eq!(in_store, created.len(), "sessions in the store vs created by the clients (lost or duplicated)");
    assert_eq!(missing, 0, "sessions lost");
    assert_eq!(not_revoked, 0, "revokes lost");
    assert_eq!(users_in_store, users, "users in the store vs created");
}
