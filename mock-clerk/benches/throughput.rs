//! Throughput and cold-start benchmarks, each printed beside a reference measured in the same run.
//!
//! ```text
//! cargo bench -p mock-clerk --bench throughput            # everything, ~1 min
//! cargo bench -p mock-clerk --bench throughput -- cold    # phases by name: mints, cold, jwks, http-mints
//! ```
//!
//! 1. `mints`: token mints per second on one thread — `tokens::sign_rs256` with claims built once and
//!    `AppState::mint` (claims built per mint) — against `openssl speed -seconds 2 -elapsed rsa2048` (RSA-2048
//!    sign/s, one core); for comparison, `jsonwebtoken::encode`, which re-parses the key on every call. Also a
//!    stored session's mint as every API mints it (`TokenSpec::for_session` under the store's lock, then
//!    `AppState::mint`) with the session's organization claim (`o`, built from the membership at each mint)
//!    against the same for a session without one (target ≥ 0.95).
//! 2. `cold`: cold start of the release binary with an existing key file: spawn → first `200` from
//!    `/.well-known/jwks.json`, 10 runs, median and max.
//! 3. `jwks`: `GET /v1/jwks` from `mock-clerk serve` against nginx serving the same bytes (see `servers`).
//! 4. `http-mints`: `POST /v1/sessions/{id}/tokens` on `mock-clerk serve` against `openssl speed -multi <cores>`,
//!    with mock-clerk's signer alone on as many threads (no HTTP) beside them, and per round the server's user and
//!    system CPU, the load generator's CPU, the machine's idle share and its context switches per mint.
//!
//! Reference and subject alternate round after round, so that a burst of other work on the machine hits both;
//! the best round of each is compared. Benchmarks report; they never assert on timings. A missed target is
//! printed as `MISSED` and the process still exits 0. Run without `--bench` (as `cargo test --benches` does),
//! every phase runs briefly as a smoke test and openssl is skipped. Every child process (mock-clerk, nginx, wrk,
//! openssl) is stopped by its PID when its phase ends, also on failure.

#[path = "servers/mod.rs"]
mod servers;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mock_clerk::MockClerk;
use mock_clerk::keys::{KeyRing, SigningKey, TEST_KEY_PEM};
use mock_clerk::tokens::{self, TokenSpec};
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Mint throughput should reach this fraction of openssl's RSA-2048 sign/s.
const MINT_TARGET_RATIO: f64 = 0.90;
/// Median and max cold start should stay under this.
const COLD_START_TARGET: Duration = Duration::from_millis(10);
/// Concurrent keep-alive connections of the HTTP load generator.
const HTTP_CLIENTS: usize = 16;
/// Upper bound on HTTP requests per phase, whatever the duration.
const HTTP_MAX_REQUESTS: u64 = 5_000_000;
/// Upper bound on iterations of one CPU loop, whatever the duration.
const CPU_MAX_ITERATIONS: u64 = 10_000_000;

/// How long each phase runs.
struct Plan {
    full: bool,
    /// Interleaved rounds of reference and subject; the best round of each is reported.
    rounds: usize,
    openssl_secs: u32,
    mint: Duration,
    jwt: Duration,
    http_warmup: Duration,
    http: Duration,
    /// Seconds of each wrk run.
    http_secs: u32,
    cold_runs: usize,
}

impl Plan {
    fn full() -> Self {
        Self {
            full: true,
            rounds: 3,
            openssl_secs: 2,
            mint: Duration::from_secs(2),
            jwt: Duration::from_secs(2),
            http_warmup: Duration::from_millis(200),
            http: Duration::from_secs(3),
            http_secs: 3,
            cold_runs: 10,
        }
    }
    fn smoke() -> Self {
        Self {
            full: false,
            rounds: 1,
            openssl_secs: 0,
            mint: Duration::from_millis(100),
            jwt: Duration::from_millis(100),
            http_warmup: Duration::from_millis(20),
            http: Duration::from_millis(100),
            http_secs: 1,
            cold_runs: 2,
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only a quick smoke run.
    // Other arguments select phases by name: `cargo bench -p mock-clerk --bench throughput -- cold`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = if args.iter().any(|a| a == "--bench") { Plan::full() } else { Plan::smoke() };
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let selected = |phase: &str| filters.is_empty() || filters.iter().any(|f| phase.contains(f.as_str()));
    let started = Instant::now();
    check_openssl_parser();
    servers::check_wrk_parser();
    servers::check_proc_parsers();
    println!("mock-clerk throughput benchmark ({} mode)", if plan.full { "full" } else { "smoke-test" });
    println!("machine: {} cores ({}), load average {} (other work on the machine skews every number)", cores(), cpu_model(), load_average());
    println!();

    let mut report = Report::default();
    if selected("mints") {
        report.mints = Some(bench_mints(&plan));
    }
    // Cold start before HTTP: the HTTP phase leaves ~200 MB of freed, fragmented heap behind in this process
    // (mock-clerk's request log, freed on tokio worker threads that are gone), and afterwards the first
    // allocation on a new thread — the cold start's stdout reader — stalls ~50 ms in glibc malloc, which would
    // be charged to mock-clerk's start-up.
    if selected("cold") {
        report.cold = Some(bench_cold_start(&plan));
    }
    if selected("jwks") {
        report.jwks = Some(servers::bench_jwks(&plan));
    }
    if selected("http-mints") {
        report.http_mints = Some(servers::bench_http_mints(&plan));
    }

    println!();
    report.print();
    println!();
    println!("total bench time {:.1} s", started.elapsed().as_secs_f64());
}

#[derive(Default)]
struct Report {
    mints: Option<Mints>,
    cold: Option<ColdStart>,
    jwks: Option<servers::Versus>,
    http_mints: Option<servers::Versus>,
}

// ---------------------------------------------------------------------------------------------------------
// 1. openssl reference

/// Runs `openssl speed` and returns RSA-2048 sign/s.
fn openssl_reference(seconds: u32, first: bool, multi: Option<usize>) -> Result<f64, String> {
    if first {
        match Command::new("openssl").arg("version").output() {
            Ok(out) if out.status.success() => {
                println!("openssl: {}", String::from_utf8_lossy(&out.stdout).trim())
            }
            Ok(out) => return Err(format!("`openssl version` exited with {}", out.status)),
            Err(e) => return Err(format!("openssl not found: {e}")),
        }
    }
    let secs = seconds.to_string();
    let mut args = vec!["speed".to_owned(), "-seconds".into(), secs, "-elapsed".into()];
    if let Some(n) = multi {
        args.extend(["-multi".into(), n.to_string()]);
    }
    args.push("rsa2048".into());
    if first {
        println!("openssl: each round runs `openssl {}` (sign then verify, ~{}s)", args.join(" "), 2 * seconds);
    }
    let child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    let mut guard = ChildGuard::new(child);
    let stdout = drain(guard.child().stdout.take());
    let stderr = drain(guard.child().stderr.take());
    // openssl speed may run more operations on newer versions (encrypt/decrypt): allow generously.
    let deadline = Instant::now() + Duration::from_secs(u64::from(seconds) * 6 + 20);
    let status = loop {
        match guard.child().try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return Err("openssl speed did not finish in time (killed)".into()),
            Err(e) => return Err(format!("waiting for openssl: {e}")),
        }
    };
    let text = format!("{}\n{}", stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    if !status.success() {
        return Err(format!("openssl speed exited with {status}"));
    }
    parse_openssl_sign_per_sec(&text).ok_or_else(|| "no `rsa 2048 bits` sign/s value in openssl's output".into())
}

/// Reads a pipe to the end on a thread (so a chatty child never blocks on a full pipe).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// RSA-2048 sign/s from `openssl speed` output.
///
/// The human table has a header naming the columns (`sign verify sign/s verify/s` in 1.1 and 3.0,
/// `sign verify encrypt decrypt sign/s verify/s encr./s decr./s` in 3.2+) and a row `rsa 2048 bits …` with one
/// value per column: the value under `sign/s` is taken. Machine-readable output (`-mr`,
/// `+F2:<i>:2048:<seconds per sign>:…`) is understood too.
fn parse_openssl_sign_per_sec(text: &str) -> Option<f64> {
    let mut header: Option<Vec<&str>> = None;
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.contains(&"sign/s") {
            header = Some(tokens);
            continue;
        }
        let Some(header) = &header else { continue };
        if tokens.len() > 3 && tokens[0].eq_ignore_ascii_case("rsa") && tokens[1] == "2048" && tokens[2] == "bits" {
            let values = &tokens[3..];
            let column = header.iter().position(|t| *t == "sign/s")?;
            if values.len() == header.len()
                && let Some(v) = values[column].parse::<f64>().ok().filter(|v| *v > 0.0)
            {
                return Some(v);
            }
        }
    }
    text.lines().filter_map(|l| l.trim().strip_prefix("+F2:")).find_map(|rest| {
        let fields: Vec<&str> = rest.split(':').collect();
        let seconds: f64 = fields.get(2).filter(|_| fields.get(1) == Some(&"2048"))?.parse().ok()?;
        (seconds > 0.0).then(|| 1.0 / seconds)
    })
}

/// The parser against the formats of the openssl versions in the wild (a correctness check, not a timing one).
fn check_openssl_parser() {
    let v30 = "version: 3.0.19\n                  sign    verify    sign/s verify/s\n\
               rsa 2048 bits 0.000221s 0.000013s   4535.0  75028.0\n";
    let v32 = "                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s\n\
               rsa   2048 bits 0.000712s 0.000020s 0.000021s 0.000717s   1405.0  49134.1  47130.2   1394.0\n";
    let mr = "+DT:rsa2048:10:2048:10\n+R2:4535:2048:1.00\n+F2:0:2048:0.000250:0.000013\n";
    assert_eq!(parse_openssl_sign_per_sec(v30), Some(4535.0));
    assert_eq!(parse_openssl_sign_per_sec(v32), Some(1405.0));
    assert_eq!(parse_openssl_sign_per_sec(mr), Some(4000.0));
    assert_eq!(parse_openssl_sign_per_sec("rsa 2048 bits 1 2 3 4\n"), None);
}

// ---------------------------------------------------------------------------------------------------------
// 2. token mints

struct Rate {
    per_sec: f64,
    count: u64,
    elapsed: Duration,
}

/// Runs `f` on this thread until `budget` has elapsed (or the iteration cap is hit).
fn rate(budget: Duration, mut f: impl FnMut()) -> Rate {
    // warm-up: caches, allocator, lazy statics
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut count = 0u64;
    while count < CPU_MAX_ITERATIONS {
        f();
        count += 1;
        if start.elapsed() >= budget {
            break;
        }
    }
    let elapsed = start.elapsed();
    Rate { per_sec: count as f64 / elapsed.as_secs_f64(), count, elapsed }
}

/// One round: the openssl reference, then the mint loops, back to back.
struct MintRound {
    openssl: Option<f64>,
    sign_only: Rate,
    app_mint: Rate,
    /// A stored session without an organization, minted as the APIs mint it.
    session_mint: Rate,
    /// The same with an active organization (the `o` claim built from the membership).
    org_mint: Rate,
}

/// A session's mint as the Backend API, the Frontend API and the handshake make it.
fn session_mint(state: &mock_clerk::state::AppState, session_id: &str) -> String {
    let now = state.clock().now_ms();
    let spec = {
        let store = state.store();
        TokenSpec::for_session(store.session(session_id).expect("the session exists"), &store, now)
    };
    state.mint(&spec).token
}

/// Ratio of organization mints to plain session mints to reach.
const ORG_MINT_TARGET_RATIO: f64 = 0.95;

struct Mints {
    /// Why there is no openssl reference, if there is none.
    openssl_unavailable: Option<String>,
    rounds: Vec<MintRound>,
    jwt_pem_per_call: Rate,
    jwt_key_reused: Rate,
    token_len: usize,
}

fn realistic_spec() -> TokenSpec {
    TokenSpec { azp: Some("http://localhost:3000".into()), ..TokenSpec::new("user_2pGfLkW6q0mYzJx3aEoR9tBvN1c", "sess_2pGfMq8sHdKwZ4yU7eXc3rTnA0b") }
}

fn bench_mints(plan: &Plan) -> Mints {
    let addr: SocketAddr = "127.0.0.1:4010".parse().expect("literal address");
    let state = MockClerk::builder().state_for(addr).expect("state for the bundled test key");
    let spec = realistic_spec();
    let key: SigningKey = state.keys().active().clone();
    let claims: Map<String, Value> = state.claims_for(&spec);

    // What is measured must be a valid token: verify one with the published JWK.
    let jwt = tokens::sign_rs256(&key, &claims);
    verify_rs256(&jwt, &key);
    verify_rs256(&state.mint(&spec).token, &key);
    let plain = mock_clerk::control::ops::sign_in(&state, mock_clerk::SignInRequest::default()).expect("signs in");
    let org = mock_clerk::control::org_ops::OrgSignIn {
        slug: "acme".into(),
        role: Some("org:analyst".into()),
        permissions: vec!["org:reports:read".into(), "org:reports:export".into(), "org:billing:read".into()],
        ..Default::default()
    };
    let member = mock_clerk::control::ops::sign_in(&state, mock_clerk::SignInRequest { organization: Some(org), ..Default::default() })
        .expect("signs in as a member");
    let org_jwt = session_mint(&state, &member.session_id);
    verify_rs256(&org_jwt, &key);
    let o = tokens::decode_unverified(&org_jwt).expect("decodes").claims["o"].clone();
    assert_eq!(o["rol"], "analyst", "the organization claim is minted: {o}");

    // Reference and subject alternate, round after round, so that a burst of other work on the machine
    // (builds share these cores) hits both; the best round of each is compared.
    let mut openssl_unavailable = (!plan.full).then(|| "skipped in smoke-test mode".to_owned());
    let mut rounds = Vec::new();
    for round in 1..=plan.rounds {
        let openssl = match openssl_unavailable {
            Some(_) => None,
            None => match openssl_reference(plan.openssl_secs, round == 1, None) {
                Ok(v) => Some(v),
                Err(why) => {
                    println!("openssl reference unavailable ({why}); ratios to it are skipped");
                    openssl_unavailable = Some(why);
                    None
                }
            },
        };
        let sign_only = rate(plan.mint, || {
            std::hint::black_box(tokens::sign_rs256(&key, std::hint::black_box(&claims)));
        });
        let app_mint = rate(plan.mint, || {
            std::hint::black_box(state.mint(std::hint::black_box(&spec)));
        });
        let session_mint_rate = rate(plan.mint, || {
            std::hint::black_box(session_mint(&state, &plain.session_id));
        });
        let org_mint = rate(plan.mint, || {
            std::hint::black_box(session_mint(&state, &member.session_id));
        });
        println!(
            "mint round {round}/{}: openssl {} sign/s, sign_rs256 {:.0}/s, AppState::mint {:.0}/s, session {:.0}/s, session with organization {:.0}/s ({:?} each)",
            plan.rounds,
            openssl.map_or("n/a".into(), |v| format!("{v:.0}")),
            sign_only.per_sec,
            app_mint.per_sec,
            session_mint_rate.per_sec,
            org_mint.per_sec,
            plan.mint
        );
        rounds.push(MintRound { openssl, sign_only, app_mint, session_mint: session_mint_rate, org_mint });
    }

    // The naive approach: jsonwebtoken with the PEM parsed per call.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.kid().to_owned());
    let pem = TEST_KEY_PEM.as_bytes();
    let naive = |encoding_key: &jsonwebtoken::EncodingKey| {
        jsonwebtoken::encode(&header, std::hint::black_box(&claims), encoding_key).expect("jsonwebtoken signs")
    };
    verify_rs256(&naive(&jsonwebtoken::EncodingKey::from_rsa_pem(pem).expect("PEM parses")), &key);
    println!("mint: jsonwebtoken::encode + EncodingKey::from_rsa_pem per call for {:?}…", plan.jwt);
    let jwt_pem_per_call = rate(plan.jwt, || {
        let k = jsonwebtoken::EncodingKey::from_rsa_pem(std::hint::black_box(pem)).expect("PEM parses");
        std::hint::black_box(naive(&k));
    });
    // jsonwebtoken 12 (aws-lc-rs backend) still parses the DER key inside every `encode`.
    let reused = jsonwebtoken::EncodingKey::from_rsa_pem(pem).expect("PEM parses");
    println!("mint: jsonwebtoken::encode with one EncodingKey for {:?}…", plan.jwt);
    let jwt_key_reused = rate(plan.jwt, || {
        std::hint::black_box(naive(&reused));
    });

    Mints { openssl_unavailable, rounds, jwt_pem_per_call, jwt_key_reused, token_len: jwt.len() }
}

fn verify_rs256(jwt: &str, key: &SigningKey) {
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(&key.jwk().n, &key.jwk().e).expect("JWK decodes");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, &dk, &validation).expect("the benchmarked token verifies with the JWK");
}

// ---------------------------------------------------------------------------------------------------------
// 3. JWKS over HTTP

struct HttpRate {
    per_sec: f64,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
}

/// `HTTP_CLIENTS` connections, each sending `GET path` back to back on one keep-alive connection, for the
/// warm-up and then the measured window; bounded by `HTTP_MAX_REQUESTS` and a 5 s timeout per request.
///
/// A minimal HTTP/1.1 client on a tokio `TcpStream` rather than reqwest: on a 2-core machine the client shares
/// the CPU with the server, and the lighter the client, the more the numbers say about the server.
async fn load(addr: SocketAddr, request: Vec<u8>, plan: &Plan) -> HttpRate {
    let request: Arc<[u8]> = request.into();
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let measure_from = Instant::now() + plan.http_warmup;
    let measure_until = measure_from + plan.http;
    let mut tasks = Vec::new();
    for _ in 0..HTTP_CLIENTS {
        let (request, sent, stop) = (request.clone(), sent.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None::<String>);
            let mut conn: Option<tokio::net::TcpStream> = None;
            let mut buf = Vec::with_capacity(4096);
            while !stop.load(Ordering::Relaxed) && sent.fetch_add(1, Ordering::Relaxed) < HTTP_MAX_REQUESTS {
                let now = Instant::now();
                if now >= measure_until {
                    break;
                }
                let counted = now >= measure_from;
                let stream = match conn.as_mut() {
                    Some(s) => s,
                    None => match tokio::net::TcpStream::connect(addr).await {
                        Ok(s) => {
                            let _ = s.set_nodelay(true);
                            conn.insert(s)
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(format!("connect: {e}"));
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                let result = tokio::time::timeout(Duration::from_secs(5), exchange(stream, &request, &mut buf)).await;
                match result {
                    Ok(Ok(200)) => ok += u64::from(counted),
                    Ok(Ok(status)) => {
                        errors += 1;
                        first_error.get_or_insert(format!("status {status}"));
                    }
                    Ok(Err(e)) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                        conn = None;
                    }
                    Err(_) => {
                        errors += 1;
                        first_error.get_or_insert("timeout".into());
                        conn = None;
                    }
                }
            }
            (ok, errors, first_error)
        }));
    }
    let (mut ok, mut errors, mut first_error) = (0, 0, None);
    for task in tasks {
        let (o, e, f) = task.await.expect("client task");
        ok += o;
        errors += e;
        first_error = first_error.or(f);
    }
    stop.store(true, Ordering::Relaxed);
    let window = Instant::now().min(measure_until).saturating_duration_since(measure_from);
    HttpRate { per_sec: ok as f64 / window.as_secs_f64().max(1e-9), ok, errors, first_error }
}

/// One request/response on a keep-alive connection; returns the status. Needs `Content-Length` (axum sets it
/// for these bodies) and no pipelining.
async fn exchange(stream: &mut tokio::net::TcpStream, request: &[u8], buf: &mut Vec<u8>) -> Result<u16, String> {
    stream.write_all(request).await.map_err(|e| format!("write: {e}"))?;
    buf.clear();
    loop {
        if let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let (status, length) = parse_head(&buf[..head_end])?;
            let total = head_end + 4 + length;
            while buf.len() < total {
                if stream.read_buf(buf).await.map_err(|e| format!("read: {e}"))? == 0 {
                    return Err("connection closed mid-body".into());
                }
            }
            return Ok(status);
        }
        if stream.read_buf(buf).await.map_err(|e| format!("read: {e}"))? == 0 {
            return Err("connection closed".into());
        }
    }
}

fn parse_head(head: &[u8]) -> Result<(u16, usize), String> {
    let head = std::str::from_utf8(head).map_err(|_| "response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.strip_prefix("HTTP/1.1 "))
        .and_then(|l| l.get(..3)?.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("chunked responses are not supported by this load generator".into());
        }
    }
    Ok((status, length.ok_or("response without content-length")?))
}

// ---------------------------------------------------------------------------------------------------------
// 4. cold start

/// Kills and reaps the child (by its PID, through `Child::kill`) when dropped, also while unwinding.
struct ChildGuard {
    child: Option<Child>,
    /// The child leads its own process group (spawned with `process_group(0)`): the whole group is killed.
    group: bool,
}

impl ChildGuard {
    fn new(child: Child) -> Self {
        Self { child: Some(child), group: false }
    }
    /// For a child spawned with `process_group(0)` whose own children must die with it (nginx's workers outlive a
    /// killed master).
    fn group(child: Child) -> Self {
        Self { child: Some(child), group: true }
    }
    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("child present until drop")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.group
                && let Ok(pgid) = i32::try_from(child.id())
            {
                // SAFETY: killpg only sends a signal; the group is the one this child leads.
                unsafe { libc::killpg(pgid, libc::SIGKILL) };
            } else if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

struct ColdStart {
    binary: PathBuf,
    runs: Vec<Start>,
    failures: Vec<String>,
}

/// The `mock-clerk` binary of this package, built by cargo for this bench (release profile under `cargo bench`).
const BINARY: &str = env!("CARGO_BIN_EXE_mock-clerk");

fn bench_cold_start(plan: &Plan) -> ColdStart {
    let binary = PathBuf::from(BINARY);
    let dir = std::env::temp_dir().join(format!("mock-clerk-bench-{}", std::process::id()));
    let key_file = dir.join("keys.pem");
    let _ = std::fs::remove_dir_all(&dir);
    // The key file the server will find: created by the same code path as `mock-clerk serve`'s first start.
    KeyRing::load_or_create(&key_file).expect("create the key file");
    println!("cold start: {} serve --addr 127.0.0.1:0 --key-file {} ({} runs)…", binary.display(), key_file.display(), plan.cold_runs);
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for _ in 0..plan.cold_runs {
        match cold_start_once(&binary, &key_file) {
            Ok(d) => runs.push(d),
            Err(e) => failures.push(e),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    ColdStart { binary, runs, failures }
}

/// One cold start, each time measured from just before `spawn`.
#[derive(Debug, Clone, Copy)]
struct Start {
    /// `Command::spawn` returned.
    spawned: Duration,
    /// The `listening on` line was read.
    listening: Duration,
    /// The first `200` from the JWKS: the cold start.
    answered: Duration,
}

/// Spawn → the `listening on http://…` line on stdout gives the address → `GET /.well-known/jwks.json`,
/// polled every 1 ms, until a `200`. The child is killed (by PID) when this returns or unwinds.
fn cold_start_once(binary: &Path, key_file: &Path) -> Result<Start, String> {
    let mut command = Command::new(binary);
    command.args(["serve", "--addr", "127.0.0.1:0", "--key-file"]).arg(key_file);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MOCK_CLERK_") {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());

    let t0 = Instant::now();
    let mut guard = ChildGuard::new(command.spawn().map_err(|e| format!("spawn {}: {e}", binary.display()))?);
    let spawned = t0.elapsed();
    let deadline = t0 + Duration::from_secs(5);
    let stdout = guard.child().stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel::<String>();
    // Reads stdout to EOF (the child's death) so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let addr: SocketAddr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).map_err(|_| "no `listening on http://…` line within 5 s".to_string())?;
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            break addr.parse().map_err(|_| format!("cannot parse the address in {line:?}"))?;
        }
    };
    let listening = t0.elapsed();
    loop {
        if jwks_ok(addr) {
            return Ok(Start { spawned, listening, answered: t0.elapsed() });
        }
        if Instant::now() >= deadline {
            return Err("no 200 from /.well-known/jwks.json within 5 s".into());
        }
        if let Ok(Some(status)) = guard.child().try_wait() {
            return Err(format!("mock-clerk exited with {status}"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn jwks_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let request = format!("GET /.well-known/jwks.json HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/1.1 200"
}

// ---------------------------------------------------------------------------------------------------------
// report

impl Report {
    fn print(&self) {
        println!("== results (mints on one thread; ratios against references measured in this run) ==");
        if let Some(mints) = &self.mints {
            self.print_mints(mints);
        }
        if let Some(cold) = &self.cold {
            print_cold(cold);
        }
        if let Some(jwks) = &self.jwks {
            jwks.print("jwks");
        }
        if let Some(mints) = &self.http_mints {
            mints.print("http-mints");
        }
    }

    fn print_mints(&self, mints: &Mints) {
        let n = mints.rounds.len();
        let best = |f: &dyn Fn(&MintRound) -> Option<f64>| mints.rounds.iter().filter_map(f).reduce(f64::max);
        let list = |f: &dyn Fn(&MintRound) -> Option<f64>| {
            mints.rounds.iter().map(|r| f(r).map_or("n/a".into(), |v| format!("{v:.0}"))).collect::<Vec<_>>().join(" ")
        };
        let openssl = best(&|r| r.openssl);
        let label = format!("openssl speed rsa2048 sign/s (best of {n})");
        match (openssl, &mints.openssl_unavailable) {
            (Some(o), _) => println!("{label:<44} {o:>9.0} /s | reference | rounds: {}", list(&|r| r.openssl)),
            (None, why) => println!("{label:<44} {:>9} /s | reference unavailable ({}): ratios skipped", "n/a", why.as_deref().unwrap_or("?")),
        }
        let versus = |v: f64, target: Option<f64>| match openssl {
            Some(o) => {
                let ratio = v / o;
                match target {
                    Some(t) => format!("ratio {ratio:.2} (target ≥ {t:.2}: {})", verdict(ratio >= t)),
                    None => format!("ratio {ratio:.2}"),
                }
            }
            None => "ratio n/a".into(),
        };
        let per_round = |f: &dyn Fn(&MintRound) -> f64| {
            mints
                .rounds
                .iter()
                .map(|r| match r.openssl {
                    Some(o) => format!("{:.2}", f(r) / o),
                    None => "n/a".into(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let sign = best(&|r| Some(r.sign_only.per_sec)).unwrap_or(0.0);
        let mint = best(&|r| Some(r.app_mint.per_sec)).unwrap_or(0.0);
        println!(
            "{:<44} {sign:>9.0} /s | {} | rounds: {} (ratios {})",
            format!("mints: tokens::sign_rs256 (best of {n})"),
            versus(sign, Some(MINT_TARGET_RATIO)),
            list(&|r| Some(r.sign_only.per_sec)),
            per_round(&|r| r.sign_only.per_sec)
        );
        println!(
            "{:<44} {mint:>9.0} /s | {} | rounds: {} (ratios {})",
            format!("mints: AppState::mint (best of {n})"),
            versus(mint, Some(MINT_TARGET_RATIO)),
            list(&|r| Some(r.app_mint.per_sec)),
            per_round(&|r| r.app_mint.per_sec)
        );
        let plain = best(&|r| Some(r.session_mint.per_sec)).unwrap_or(0.0);
        let org = best(&|r| Some(r.org_mint.per_sec)).unwrap_or(0.0);
        println!(
            "{:<44} {plain:>9.0} /s | {} | rounds: {}",
            format!("mints: a stored session (best of {n})"),
            versus(plain, None),
            list(&|r| Some(r.session_mint.per_sec))
        );
        let org_ratio = org / plain.max(1e-9);
        println!(
            "{:<44} {org:>9.0} /s | {org_ratio:.2}× the session without one (target ≥ {ORG_MINT_TARGET_RATIO:.2}: {}) | rounds: {}",
            format!("mints: session with organization (best of {n})"),
            verdict(org_ratio >= ORG_MINT_TARGET_RATIO),
            list(&|r| Some(r.org_mint.per_sec))
        );
        for (label, r) in [
            ("naive: jsonwebtoken + from_rsa_pem per call", &mints.jwt_pem_per_call),
            ("naive: jsonwebtoken, one EncodingKey", &mints.jwt_key_reused),
        ] {
            println!(
                "{label:<44} {:>9.0} /s | {} | {:.2}× sign_rs256 | {} in {:.2} s",
                r.per_sec,
                versus(r.per_sec, None),
                r.per_sec / sign.max(1e-9),
                r.count,
                r.elapsed.as_secs_f64()
            );
        }
        println!("{:<44} {:>9} bytes, one thread, claims: sub sid azp iss iat nbf exp fva sts v", "  (token)", mints.token_len);
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

fn print_cold(cold: &ColdStart) {
    let label = "cold start: spawn → first 200 JWKS";
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if cold.runs.is_empty() {
        println!("{label:<44} every run failed: {:?}", cold.failures);
        return;
    }
    let median_of = |f: fn(&Start) -> Duration| {
        let mut v: Vec<Duration> = cold.runs.iter().map(f).collect();
        v.sort();
        let n = v.len();
        if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2 }
    };
    let median = median_of(|s| s.answered);
    let max = cold.runs.iter().map(|s| s.answered).max().expect("non-empty");
    println!(
        "{label:<44} median {:.1} ms, max {:.1} ms over {} runs (target ≤ {} ms: median {}, max {})",
        ms(median),
        ms(max),
        cold.runs.len(),
        COLD_START_TARGET.as_millis(),
        verdict(median <= COLD_START_TARGET),
        verdict(max <= COLD_START_TARGET),
    );
    let in_order: Vec<String> = cold.runs.iter().map(|s| format!("{:.1}", ms(s.answered))).collect();
    println!("{:<44} runs in order (ms): {}", "", in_order.join(" "));
    println!(
        "{:<44} medians: spawn() returns {:.1} ms, `listening on` line read {:.1} ms, first 200 {:.1} ms",
        "",
        ms(median_of(|s| s.spawned)),
        ms(median_of(|s| s.listening)),
        ms(median)
    );
    if !cold.failures.is_empty() {
        println!("{:<44} {} failed runs: {:?}", "", cold.failures.len(), cold.failures);
    }
    println!("{:<44} {}", "  (binary)", cold.binary.display());
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "n/a".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "CPU model n/a".into())
}
