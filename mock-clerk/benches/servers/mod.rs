//! The release binary against the machine's references, over HTTP, in one run:
//!
//! - `jwks`: `GET /v1/jwks` (with the secret key) from `mock-clerk serve` against nginx serving the same bytes as a
//!   static file (its own config, prefix and free port on 127.0.0.1, run as the current user; skipped with a note
//!   when nginx is missing). Load from `wrk` when installed, else from the in-process load generator.
//! - `http-mints`: `POST /v1/sessions/{id}/tokens` on `mock-clerk serve` against `openssl speed -multi <cores>
//!   rsa2048` (RSA-2048 signatures per second on every core). Beside them, the same signer mock-clerk mints with
//!   (`SigningKey::sign_rs256`, one key shared by one thread per core, as `mock-clerk serve`'s workers share it),
//!   without HTTP: how much of the gap to openssl is the signer and how much is HTTP and the load generator. Each
//!   round also prints where the CPU went per mint (`cpu`): the server's user and system time, the load
//!   generator's, the machine's idle share and its context switches.
//!
//! Each server runs as a child process, stopped by its PID (`ChildGuard`) whatever happens. Reference and subject
//! alternate round after round; the best round of each is compared.

mod cpu;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mock_clerk::keys::{SigningKey, TEST_KEY_PEM};

use super::{BINARY, ChildGuard, Plan, cores, drain, openssl_reference, rate, verdict};

/// JWKS over HTTP should reach this fraction of nginx's rate, mints over HTTP this fraction of openssl's.
const HTTP_TARGET_RATIO: f64 = 0.90;
/// wrk's threads and connections.
const WRK_THREADS: usize = 2;
const WRK_CONNECTIONS: usize = 16;
const NGINX: &str = "/usr/sbin/nginx";

/// A scratch directory, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mock-clerk-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Self(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `mock-clerk serve` on a free loopback port, its stdout and stderr drained, killed by PID when dropped.
struct Served {
    _guard: ChildGuard,
    pid: u32,
    addr: SocketAddr,
    secret: String,
}

impl Served {
    fn spawn(dir: &Path) -> Result<Self, String> {
        let mut command = Command::new(BINARY);
        command.args(["serve", "--addr", "127.0.0.1:0", "--key-file"]).arg(dir.join("keys.pem")).current_dir(dir);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("MOCK_CLERK_") {
                command.env_remove(name);
            }
        }
        // Its log (a line per request, as by default) goes to a file, as nginx's access log does.
        let log = std::fs::File::create(dir.join("mock-clerk.log")).map_err(|e| e.to_string())?;
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log);
        let mut guard = ChildGuard::new(command.spawn().map_err(|e| format!("spawn {BINARY}: {e}"))?);
        let pid = guard.child().id();
        let stdout = guard.child().stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Reads stdout to EOF (the child's death), so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let addr = loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) else {
                let log = std::fs::read_to_string(dir.join("mock-clerk.log")).unwrap_or_default();
                return Err(format!("mock-clerk printed no `listening on` line: {}", log.trim()));
            };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap_or_default().parse().map_err(|_| format!("no address in {line:?}"))?;
            }
        };
        Ok(Self { _guard: guard, pid, addr, secret: mock_clerk::handle::default_secret_key(mock_clerk::InstanceKind::Development) })
    }
}

/// One request on a fresh connection; returns status and body.
pub fn http_once(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    stream.write_all(body).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no response head")?;
    let (status, length) = super::parse_head(&response[..head_end])?;
    let body = response[head_end + 4..].to_vec();
    if body.len() != length {
        return Err(format!("body is {} bytes, content-length {length}", body.len()));
    }
    Ok((status, body))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

// ---------------------------------------------------------------------------------------------------------
// nginx

struct Nginx {
    _guard: ChildGuard,
    addr: SocketAddr,
    version: String,
}

/// nginx serving `body` as the static file `path`, with `Content-Type: application/json`, as the current user.
fn start_nginx(dir: &Path, path: &str, body: &[u8]) -> Result<Nginx, String> {
    if !Path::new(NGINX).exists() {
        return Err(format!("{NGINX} is not installed"));
    }
    let version = Command::new(NGINX).arg("-v").output().map_err(|e| e.to_string())?;
    let version = String::from_utf8_lossy(&version.stderr).trim().trim_start_matches("nginx version: ").to_owned();
    let root = dir.join("html");
    let file = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().expect("a file under the root")).map_err(|e| e.to_string())?;
    std::fs::write(&file, body).map_err(|e| e.to_string())?;
    let port = free_port()?;
    // As root, nginx would switch its workers to `nobody`: they run as the current user instead.
    let user = if is_root() { "user root;\n" } else { "" };
    let d = dir.display();
    let config = format!(
        "{user}daemon off;\nworker_processes {cores};\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log {d}/access.log;\n  keepalive_requests 1000000;\n  open_file_cache max=16;\n\
         client_body_temp_path {d}/t1; proxy_temp_path {d}/t2; fastcgi_temp_path {d}/t3; uwsgi_temp_path {d}/t4; scgi_temp_path {d}/t5;\n\
         server {{\n    listen 127.0.0.1:{port};\n    root {root};\n    location = {path} {{ default_type application/json; }}\n  }}\n}}\n",
        cores = cores(),
        root = root.display(),
    );
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config).map_err(|e| e.to_string())?;
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawn nginx: {e}"))?;
    let mut guard = ChildGuard::group(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = guard.child().try_wait() {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            return Err(format!("nginx exited with {status}: {}", log.trim()));
        }
        match http_once(addr, "GET", path, &[], b"") {
            Ok((200, served)) if served == body => {
                return Ok(Nginx { _guard: guard, addr, version });
            }
            Ok((200, _)) => return Err("nginx answers 200 but not the same bytes".into()),
            Ok((status, _)) => {
                return Err(format!("nginx answers {status} (can its workers read {}?)", file.display()));
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("nginx does not answer: {e}")),
        }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0")))
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------------------
// load

/// Requests per second from one run of the load generator, every answer checked to be a 2xx.
#[derive(Debug, Clone)]
pub struct Load {
    pub per_sec: f64,
    pub requests: u64,
}

/// What generates the load.
enum Generator {
    Wrk(String),
    InProcess(String),
}

fn generator() -> Generator {
    match Command::new("wrk").arg("--version").output() {
        Ok(out) => {
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            Generator::Wrk(text.lines().next().unwrap_or("wrk").trim().to_owned())
        }
        Err(e) => Generator::InProcess(format!("wrk not found ({e}): the in-process load generator instead")),
    }
}

impl Generator {
    fn describe(&self) -> String {
        match self {
            Generator::Wrk(v) => format!("{v}, -t{WRK_THREADS} -c{WRK_CONNECTIONS}"),
            Generator::InProcess(why) => {
                format!("{why}, {} keep-alive connections", super::HTTP_CLIENTS)
            }
        }
    }

    /// The request on `addr`, for `plan.http_secs` seconds.
    fn run(&self, dir: &Path, addr: SocketAddr, req: &Req<'_>, plan: &Plan) -> Result<Load, String> {
        match self {
            Generator::Wrk(_) => wrk(dir, addr, req, plan.http_secs),
            Generator::InProcess(_) => {
                let mut request = format!("{} {} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n", req.method, req.path, req.body.len());
                for (name, value) in req.headers {
                    request.push_str(&format!("{name}: {value}\r\n"));
                }
                request.push_str("\r\n");
                request.push_str(req.body);
                let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
                let rate = runtime.block_on(super::load(addr, request.into_bytes(), plan));
                match rate.first_error {
                    Some(e) if rate.errors > 0 => Err(format!("{} errors, first: {e}", rate.errors)),
                    _ => Ok(Load { per_sec: rate.per_sec, requests: rate.ok }),
                }
            }
        }
    }
}

/// One request, as the load generator repeats it.
struct Req<'a> {
    method: &'a str,
    path: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: &'a str,
}

fn wrk(dir: &Path, addr: SocketAddr, req: &Req<'_>, secs: u32) -> Result<Load, String> {
    let script = dir.join("request.lua");
    let mut lua = format!("wrk.method = {:?}\nwrk.body = {:?}\n", req.method, req.body);
    for (name, value) in req.headers {
        lua.push_str(&format!("wrk.headers[{name:?}] = {value:?}\n"));
    }
    std::fs::write(&script, lua).map_err(|e| e.to_string())?;
    let child = Command::new("wrk")
        .args([format!("-t{WRK_THREADS}"), format!("-c{WRK_CONNECTIONS}"), format!("-d{secs}s"), "-s".into()])
        .arg(&script)
        .arg(format!("http://{addr}{}", req.path))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn wrk: {e}"))?;
    let mut guard = ChildGuard::new(child);
    let stdout = drain(guard.child().stdout.take());
    let stderr = drain(guard.child().stderr.take());
    let status = guard.child().wait().map_err(|e| e.to_string())?;
    let text = format!("{}{}", stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    if !status.success() {
        return Err(format!("wrk exited with {status}: {text}"));
    }
    parse_wrk(&text)
}

/// Requests/s and the request count from wrk's report; any non-2xx answer or socket error makes the run invalid.
fn parse_wrk(text: &str) -> Result<Load, String> {
    if let Some(line) = text.lines().find(|l| l.contains("Non-2xx") || l.contains("Socket errors")) {
        return Err(format!("wrk saw failures: {}", line.trim()));
    }
    let per_sec = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's output: {text}"))?;
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .ok_or_else(|| format!("no request count in wrk's output: {text}"))?;
    Ok(Load { per_sec, requests })
}

/// The parser against wrk 4's report (a correctness check, not a timing one).
pub fn check_wrk_parser() {
    let ok = "Running 3s test @ http://127.0.0.1:1/v1/jwks\n  2 threads and 16 connections\n  254151 requests in 3.00s, 150.83MB read\nRequests/sec:  84707.31\nTransfer/sec:     50.27MB\n";
    let load = parse_wrk(ok).expect("parses");
    assert_eq!((load.per_sec, load.requests), (84707.31, 254151));
    assert!(parse_wrk(&format!("{ok}  Non-2xx or 3xx responses: 5\n")).is_err());
    assert!(parse_wrk("  Socket errors: connect 0, read 1, write 0, timeout 0\nRequests/sec: 1\n").is_err());
}

pub use cpu::check_proc_parsers;

// ---------------------------------------------------------------------------------------------------------
// phases

/// Rounds of reference and subject; `None` where a run failed (the reason kept).
pub struct Versus {
    pub generator: String,
    pub reference_name: String,
    pub subject_name: String,
    pub reference: Vec<Result<f64, String>>,
    pub subject: Vec<Result<f64, String>>,
    /// The subject's core work without HTTP, named, per round (`None` when the phase has none): informational.
    pub without_http: Option<(String, Vec<f64>)>,
    /// Where the CPU went per request in each subject round (empty when the phase does not account for it).
    pub cpu: Vec<String>,
    pub note: Option<String>,
}

/// `GET /v1/jwks`: mock-clerk against nginx on the same bytes.
pub fn bench_jwks(plan: &Plan) -> Versus {
    let generator = generator();
    let mut versus = Versus {
        generator: generator.describe(),
        reference_name: "nginx (static file, same bytes)".into(),
        subject_name: "mock-clerk serve GET /v1/jwks".into(),
        reference: Vec::new(),
        subject: Vec::new(),
        without_http: None,
        cpu: Vec::new(),
        note: None,
    };
    let dir = Scratch::new("jwks");
    let served = match Served::spawn(dir.path()) {
        Ok(s) => s,
        Err(e) => {
            versus.note = Some(e);
            return versus;
        }
    };
    let auth = format!("Bearer {}", served.secret);
    let headers = [("authorization", auth.as_str())];
    let body = match http_once(served.addr, "GET", "/v1/jwks", &headers, b"") {
        Ok((200, body)) => body,
        other => {
            versus.note = Some(format!("GET /v1/jwks did not answer 200: {other:?}"));
            return versus;
        }
    };
    let nginx_dir = Scratch::new("nginx");
    let nginx = match start_nginx(nginx_dir.path(), "/v1/jwks", &body) {
        Ok(n) => Some(n),
        Err(e) => {
            versus.note = Some(format!("nginx skipped: {e}"));
            None
        }
    };
    if let Some(n) = &nginx {
        versus.reference_name = format!("nginx {} (static file, same {} bytes)", n.version, body.len());
    }
    let jwks = Req { method: "GET", path: "/v1/jwks", headers: &headers, body: "" };
    println!("jwks: {} rounds of {} s each, nginx then mock-clerk, load: {}", plan.rounds, plan.http_secs, versus.generator);
    for round in 1..=plan.rounds {
        if let Some(n) = &nginx {
            versus.reference.push(generator.run(dir.path(), n.addr, &jwks, plan).map(|l| l.per_sec));
        }
        versus.subject.push(generator.run(dir.path(), served.addr, &jwks, plan).map(|l| l.per_sec));
        println!("jwks round {round}/{}: nginx {}, mock-clerk {}", plan.rounds, show(versus.reference.last()), show(versus.subject.last()));
    }
    versus
}

/// `POST /v1/sessions/{id}/tokens`: mock-clerk over HTTP against `openssl speed -multi <cores> rsa2048`.
pub fn bench_http_mints(plan: &Plan) -> Versus {
    let generator = generator();
    let multi = cores();
    let mut versus = Versus {
        generator: generator.describe(),
        reference_name: format!("openssl speed -multi {multi} rsa2048 sign/s"),
        subject_name: "mock-clerk serve POST /v1/sessions/{id}/tokens".into(),
        reference: Vec::new(),
        subject: Vec::new(),
        without_http: None,
        cpu: Vec::new(),
        note: None,
    };
    let dir = Scratch::new("mints");
    let served = match Served::spawn(dir.path()) {
        Ok(s) => s,
        Err(e) => {
            versus.note = Some(e);
            return versus;
        }
    };
    let session = match http_once(served.addr, "POST", "/__mock/sign-in", &[("content-type", "application/json")], b"{}") {
        Ok((200, body)) => serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["session_id"].as_str().map(str::to_owned)),
        _ => None,
    };
    let Some(session) = session else {
        versus.note = Some("POST /__mock/sign-in gave no session".into());
        return versus;
    };
    let path = format!("/v1/sessions/{session}/tokens");
    let auth = format!("Bearer {}", served.secret);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    match http_once(served.addr, "POST", &path, &headers, b"{}") {
        Ok((200, body)) if String::from_utf8_lossy(&body).contains("\"jwt\":\"ey") => {}
        other => {
            versus.note = Some(format!("POST {path} did not mint: {other:?}"));
            return versus;
        }
    }
    let mint = Req { method: "POST", path: &path, headers: &headers, body: "{}" };
    let signer = format!("SigningKey::sign_rs256 on {multi} threads, no HTTP");
    let mut alone = Vec::with_capacity(plan.rounds);
    println!("http-mints: {} rounds, openssl -multi {multi} then mock-clerk ({} s), load: {}", plan.rounds, plan.http_secs, versus.generator);
    for round in 1..=plan.rounds {
        let openssl =
            if plan.full { openssl_reference(plan.openssl_secs, round == 1, Some(multi)) } else { Err("skipped in smoke-test mode".into()) };
        versus.reference.push(openssl);
        let before = cpu::Snapshot::take(served.pid);
        let load = generator.run(dir.path(), served.addr, &mint, plan);
        let after = cpu::Snapshot::take(served.pid);
        let spent = match (&load, before, after) {
            (Ok(l), Some(b), Some(a)) => cpu::PerRequest::between(&b, &a, l.requests).map(|c| c.to_string()),
            _ => None,
        };
        versus.cpu.push(spent.unwrap_or_else(|| "n/a".into()));
        versus.subject.push(load.map(|l| l.per_sec));
        let signed = signer_alone(multi, Duration::from_secs(plan.http_secs.into()));
        alone.push(signed);
        println!(
            "http-mints round {round}/{}: openssl {}, mock-clerk {} ({} per mint), signer alone {signed:.0}/s",
            plan.rounds,
            show(versus.reference.last()),
            show(versus.subject.last()),
            versus.cpu.last().map_or("n/a", String::as_str),
        );
    }
    versus.without_http = Some((signer, alone));
    versus
}

/// RSA-2048 signatures per second from `threads` threads signing at once with one shared [`SigningKey`] (mock-clerk's
/// signer, as its serving threads share the key), each timed by [`rate`] for `time` (after its warm-up, which also
/// seeds aws-lc's per-thread RNG).
fn signer_alone(threads: usize, time: Duration) -> f64 {
    let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).expect("the test key parses");
    let message = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ";
    let sign = || {
        std::hint::black_box(key.sign_rs256(std::hint::black_box(message)));
    };
    std::thread::scope(|scope| {
        let signers: Vec<_> = (0..threads).map(|_| scope.spawn(|| rate(time, sign).per_sec)).collect();
        signers.into_iter().map(|s| s.join().expect("a signing thread")).sum()
    })
}

fn show(v: Option<&Result<f64, String>>) -> String {
    match v {
        Some(Ok(v)) => format!("{v:.0}/s"),
        Some(Err(e)) => format!("failed ({e})"),
        None => "n/a".into(),
    }
}

impl Versus {
    pub fn print(&self, label: &str) {
        let best = |runs: &[Result<f64, String>]| runs.iter().filter_map(|r| r.as_ref().ok().copied()).reduce(f64::max);
        let list = |runs: &[Result<f64, String>]| {
            runs.iter().map(|r| r.as_ref().map_or("failed".into(), |v| format!("{v:.0}"))).collect::<Vec<_>>().join(" ")
        };
        let n = self.subject.len();
        if let Some(note) = &self.note {
            println!("{label}: {note}");
        }
        let reference = best(&self.reference);
        let subject = best(&self.subject);
        match reference {
            Some(r) => println!(
                "{:<56} {r:>9.0} /s | reference | rounds: {}",
                format!("{label}: {} (best of {n})", self.reference_name),
                list(&self.reference)
            ),
            None => println!("{:<56} {:>9} /s | reference unavailable: ratio skipped", format!("{label}: {}", self.reference_name), "n/a"),
        }
        if let Some(s) = subject {
            let ratio = reference.map_or("ratio n/a".into(), |r| {
                format!("ratio {:.2} (target ≥ {HTTP_TARGET_RATIO:.2}: {})", s / r, verdict(s / r >= HTTP_TARGET_RATIO))
            });
            let per_round: Vec<String> = self
                .reference
                .iter()
                .zip(&self.subject)
                .map(|(r, s)| match (r, s) {
                    (Ok(r), Ok(s)) => format!("{:.2}", s / r),
                    _ => "n/a".into(),
                })
                .collect();
            println!(
                "{:<56} {s:>9.0} /s | {ratio} | rounds: {} (ratios {})",
                format!("{label}: {} (best of {n})", self.subject_name),
                list(&self.subject),
                per_round.join(" ")
            );
        } else {
            println!("{label}: {} failed: {}", self.subject_name, list(&self.subject));
        }
        for failure in self.reference.iter().chain(&self.subject).filter_map(|r| r.as_ref().err()) {
            println!("{label}:   failed run: {failure}");
        }
        if let Some((name, alone)) = &self.without_http
            && let Some(best) = alone.iter().copied().reduce(f64::max)
        {
            let ratio = reference.map_or("ratio n/a".into(), |r| format!("ratio {:.2}, informational", best / r));
            let rounds: Vec<String> = alone.iter().map(|v| format!("{v:.0}")).collect();
            println!("{:<56} {best:>9.0} /s | {ratio} | rounds: {}", format!("{label}:   {name} (best of {n})"), rounds.join(" "));
        }
        for (round, spent) in self.cpu.iter().enumerate() {
            println!("{:<56} round {}: {spent}", format!("{label}:   (CPU per request)"), round + 1);
        }
        println!("{:<56} {}", format!("{label}:   (load)"), self.generator);
    }
}
