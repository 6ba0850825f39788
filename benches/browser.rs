//! Browser-mode wall time: the browser sign-in scenario (`@CL-001`) and every `@client` feature, against the
//! Next.js fixture (`middleware.ts`, `pk_test_`, 10 s tokens), printed beside the same flow driven over plain HTTP
//! (`@RP-001` sent to sign in + `@RP-004` signed in, the data page shows the API's data), all in one run on one
//! stack. Not a test: no time is asserted.
//!
//! ```text
//! cargo bench --bench browser          # release build
//! cargo test --bench browser           # the same in the dev profile (the flows' time is Chromium and Node)
//! ```

use std::time::{Duration, Instant};

use harness::nextjs::Variant;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use harness::stack::{Stack, StackOptions};

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(bench());
}

async fn timed(env: &std::sync::Arc<harness::world::Env>, tags: &str) -> (Duration, String) {
    let args = RunArgs { quiet: true, tags: Some(tags.into()), ..RunArgs::default() };
    let start = Instant::now();
    let report = run(env.clone(), &args).await.expect("the suite runs");
    let verdict = if report.ok() { "ok" } else { "FAILED" };
    (start.elapsed(), format!("{verdict}, {} scenarios", report.results.len()))
}

async fn bench() {
    let profile = Profile::load(clerk_conformance::node::workspace_root().join("fixtures/targets/nextjs-middleware.toml")).expect("profile");
    let options = StackOptions {
        app: harness::app::App::Next(Variant::Middleware),
        kind: profile.instance,
        token_lifetime: Some(Duration::from_secs(10)),
        ..StackOptions::default()
    };
    let stack = Stack::start(options).await.expect("the stack starts");
    let (env, _app) = stack.into_env(profile);
    // Warm-up: Next compiles nothing at run time, but the first page loads fill caches on both sides.
    let _ = timed(&env, "@RP-004").await;
    let (http, http_note) = timed(&env, "@RP-001 or @RP-004").await;
    let (sign_in, sign_in_note) = timed(&env, "@CL-001").await;
    let (all, all_note) = timed(&env, "@client").await;
    let ratio = |d: Duration| d.as_secs_f64() / http.as_secs_f64();
    println!(
        "browser mode, fixtures/nextjs-app middleware build, pk_test_, 10 s tokens, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("  {:44} {:>9.2} s  (reference)  {http_note}", "HTTP: signed out sent to sign in + signed in data", http.as_secs_f64());
    println!("  {:44} {:>9.2} s  {:>7.1}×  {sign_in_note}", "browser: sign-in scenario @CL-001", sign_in.as_secs_f64(), ratio(sign_in));
    println!("  {:44} {:>9.2} s  {:>7.1}×  {all_note}", "browser: every @client feature", all.as_secs_f64(), ratio(all));
}
