//! Webhook delivery benchmark, printed beside a reference measured in the same run:
//!
//! ```text
//! cargo bench -p mock-clerk --bench webhooks     # ~6 s
//! ```
//!
//! - **subject**: `user.created` events queued at once in mock-clerk ("send this event now", a real user's data),
//!   delivered to a local receiver through the outbox — signed, off the request path, at most 64 attempts at once;
//! - **reference**: the same bodies POSTed unsigned to the same receiver, from this process, by the same HTTP
//!   client (`webhooks::delivery::client`) with the same 64 requests in flight.
//!
//! Printed: deliveries per second of each and their ratio (target ≥ 0.9), and — with changes 2 ms apart, so no
//! backlog — the delay from a state change (a user created in the store) to its delivery's arrival at the
//! receiver (median, p99). Seven rounds alternate subject and reference; the best round of each is compared (on a
//! shared machine a round can lose half its speed to another process), and the median of the rounds' own ratios
//! is printed beside it. Each side's input (the subject's event data, which the caller keeps, and the reference's
//! bodies) is made before its clock starts; each clock stops at the last arrival at the receiver. Without
//! `--bench` (`cargo test --benches`) one short round runs as a smoke test.
//! Benchmarks report; they never assert on timings.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use futures_util::StreamExt;
use mock_clerk::MockClerk;
use mock_clerk::store::NewUser;
use tokio::sync::Notify;

/// Deliveries per second should reach this fraction of the unsigned reference.
const TARGET_RATIO: f64 = 0.9;
/// Requests in flight, as the outbox allows.
const IN_FLIGHT: usize = 64;

/// What the receiver saw: each body's user id with its arrival time, and the bodies.
#[derive(Default)]
struct Seen {
    arrivals: Mutex<Vec<(String, Instant)>>,
    bodies: Mutex<Vec<String>>,
    done: Notify,
    want: Mutex<usize>,
}

async fn receive(State(seen): State<Arc<Seen>>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let text = String::from_utf8_lossy(&body).into_owned();
    let id = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["data"]["id"].as_str().map(str::to_owned)).unwrap_or_default();
    let count = {
        let mut arrivals = seen.arrivals.lock().unwrap();
        arrivals.push((id, at));
        arrivals.len()
    };
    seen.bodies.lock().unwrap().push(text);
    if count >= *seen.want.lock().unwrap() {
        seen.done.notify_one();
    }
    StatusCode::NO_CONTENT
}

/// A receiver on a free port, stopped when dropped: its task ends and what it saw is freed, so that a round does
/// not start with the bodies of the rounds before it still in memory.
struct Receiving {
    url: String,
    seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiving {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receiver() -> Receiving {
    let seen = Arc::new(Seen::default());
    let app = Router::new().route("/hook", post(receive)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("binds");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
    Receiving { url, seen, task }
}

impl Seen {
    fn reset(&self, want: usize) {
        self.arrivals.lock().unwrap().clear();
        self.bodies.lock().unwrap().clear();
        *self.want.lock().unwrap() = want;
    }
    async fn wait(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            if self.arrivals.lock().unwrap().len() >= *self.want.lock().unwrap() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), self.done.notified()).await;
        }
    }
}

/// Creates `n` users in `clerk`'s store (each emits `user.created`), `gap` apart; returns each id and when its
/// change was made.
async fn create_users(clerk: &MockClerk, n: usize, tag: &str, gap: Option<Duration>) -> Vec<(String, Instant)> {
    let mut created = Vec::with_capacity(n);
    for i in 0..n {
        let new = NewUser { email_address: vec![format!("bench-{tag}-{i}@example.com")], ..Default::default() };
        let now = clerk.state().clock().now_ms();
        let user = clerk.state().store().create_user(new, now).expect("creates");
        created.push((user.id.to_string(), Instant::now()));
        if let Some(gap) = gap {
            tokio::time::sleep(gap).await;
        }
    }
    created
}

/// One subject round: `n` events queued at once ("send this event now", with the data of a real user), their
/// signed deliveries awaited. Returns the rate, the CPU time per delivery and the bodies delivered.
async fn subject_round(n: usize, round: usize) -> (f64, f64, Vec<String>) {
    let receiving = receiver().await;
    let seen = &receiving.seen;
    let clerk = MockClerk::builder().webhook_url(&receiving.url).start().await;
    let user = create_users(&clerk, 1, &format!("burst{round}"), None).await;
    let data = serde_json::to_value(clerk.state().store().user(&user[0].0).map(mock_clerk::bapi::views::user_json).expect("the user")).expect("json");
    assert!(seen.wait(Duration::from_secs(10)).await || seen.arrivals.lock().unwrap().len() == 1);
    // The event data is made before the clock starts, as the reference's bodies are; mock-clerk renders each
    // event's body from it (and signs and delivers it) on the clock.
    seen.reset(n);
    let (start, cpu) = (Instant::now(), cpu_time());
    for _ in 0..n {
        clerk.send_webhook("user.created", &data).expect("queues");
    }
    let queued = start.elapsed();
    assert!(seen.wait(Duration::from_secs(120)).await, "mock-clerk delivered {} of {n}", seen.arrivals.lock().unwrap().len());
    let cpu = cpu_per_delivery(cpu, n);
    let last = seen.arrivals.lock().unwrap().iter().map(|(_, at)| *at).max().expect("arrivals");
    let bodies = seen.bodies.lock().unwrap().clone();
    println!(
        "  round {}: {n} events queued in {:.0} ms, the last delivery arrived after {:.0} ms",
        round + 1,
        queued.as_secs_f64() * 1e3,
        (last - start).as_secs_f64() * 1e3
    );
    (n as f64 / (last - start).as_secs_f64(), cpu, bodies)
}

/// The delay from each state change to its delivery's arrival, with changes `gap` apart (no backlog).
async fn delays(n: usize, gap: Duration) -> Vec<Duration> {
    let receiving = receiver().await;
    let seen = &receiving.seen;
    let clerk = MockClerk::builder().webhook_url(&receiving.url).start().await;
    seen.reset(n);
    let created = create_users(&clerk, n, "paced", Some(gap)).await;
    assert!(seen.wait(Duration::from_secs(60)).await, "mock-clerk delivered every paced change");
    let arrived: std::collections::HashMap<String, Instant> = seen.arrivals.lock().unwrap().iter().cloned().collect();
    let mut delays: Vec<Duration> = created.iter().filter_map(|(id, at)| arrived.get(id).map(|a| a.saturating_duration_since(*at))).collect();
    delays.sort();
    delays
}

/// One reference round: the same bodies POSTed unsigned, `IN_FLIGHT` at once, by the delivery HTTP client.
/// Returns the rate and the CPU time per delivery.
async fn reference_round(bodies: &[String]) -> (f64, f64) {
    let receiving = receiver().await;
    let (url, seen) = (receiving.url.clone(), &receiving.seen);
    seen.reset(bodies.len());
    let client = mock_clerk::webhooks::delivery::client();
    // Each POST's body is made before the clock starts, as the subject's event data is.
    let (bodies, n) = (bodies.to_vec(), bodies.len());
    let (start, cpu) = (Instant::now(), cpu_time());
    // On the runtime's worker threads, in one task, as mock-clerk's delivery task is (not on the thread that
    // drives `block_on`, which would give the reference a thread of its own).
    let posts = futures_util::stream::iter(bodies)
        .map(move |body| {
            let client = client.clone();
            let url = url.clone();
            async move { client.post(&url).header("content-type", "application/json").body(body).send().await.map(|r| r.status()) }
        })
        .buffer_unordered(IN_FLIGHT)
        .for_each(|r| async move {
            r.expect("the receiver answers");
        });
    tokio::spawn(posts).await.expect("the POST loop ends");
    assert!(seen.wait(Duration::from_secs(60)).await, "the receiver got every POST");
    let cpu = cpu_per_delivery(cpu, n);
    // Up to the last arrival, as for the subject.
    let last = seen.arrivals.lock().unwrap().iter().map(|(_, at)| *at).max().expect("arrivals");
    (n as f64 / (last - start).as_secs_f64(), cpu)
}

/// CPU time this process has used (all threads, user and system).
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we pass; RUSAGE_SELF needs nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// CPU time per delivery (µs) the whole process spent since `since` (a [`cpu_time`]): the receiver's share is the
/// same on both sides.
fn cpu_per_delivery(since: Duration, n: usize) -> f64 {
    (cpu_time() - since).as_secs_f64() * 1e6 / n as f64
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, rounds) = if full { (3000, 7) } else { (100, 1) };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    rt.block_on(async {
        println!(
            "mock-clerk webhook delivery benchmark ({} mode): {n} user.created deliveries per round, {rounds} round(s)",
            if full { "full" } else { "smoke-test" }
        );
        let (mut best_subject, mut best_reference) = (0.0f64, 0.0f64);
        let mut paired = Vec::with_capacity(rounds);
        let (mut cpu_subject, mut cpu_reference) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        for round in 0..rounds {
            let (rate, cpu, bodies) = subject_round(n, round).await;
            cpu_subject.push(cpu);
            let (reference, cpu) = reference_round(&bodies).await;
            cpu_reference.push(cpu);
            println!("  round {}: signed via the outbox {rate:.0}/s, unsigned POSTs {reference:.0}/s", round + 1);
            best_subject = best_subject.max(rate);
            best_reference = best_reference.max(reference);
            paired.push(rate / reference);
        }
        paired.sort_by(f64::total_cmp);
        cpu_subject.sort_by(f64::total_cmp);
        cpu_reference.sort_by(f64::total_cmp);
        let gap = Duration::from_millis(2);
        let all_delays = delays(n / 3, gap).await;
        let ratio = best_subject / best_reference;
        let verdict = if ratio >= TARGET_RATIO { "met" } else { "MISSED" };
        println!(
            "deliveries/s: signed {best_subject:.0}, unsigned reference {best_reference:.0}, ratio {ratio:.2} (target >= {TARGET_RATIO}: {verdict}); \
             median of the rounds' own ratios {:.2}",
            paired[paired.len() / 2]
        );
        // CPU time is less disturbed than wall time by other processes: on a busy machine it says where the gap is.
        println!(
            "CPU time per delivery (whole process, median round): signed {:.1} µs, unsigned {:.1} µs",
            cpu_subject[rounds / 2],
            cpu_reference[rounds / 2]
        );
        println!(
            "state change -> arrival at the receiver, changes {} ms apart: median {:.2} ms, p99 {:.2} ms ({} deliveries)",
            gap.as_millis(),
            percentile(&all_delays, 0.5).as_secs_f64() * 1e3,
            percentile(&all_delays, 0.99).as_secs_f64() * 1e3,
            all_delays.len()
        );
    });
}
