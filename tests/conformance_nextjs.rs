//! The conformance suite against the real Next.js fixture app, both builds: `middleware.ts` on a development
//! instance and `proxy.ts` on a production instance. Each build gets its own stack (mock-clerk, downstream
//! double, `next start` on a free port), stopped when the run ends. Needs Node 20 and npm; builds are cached.
//!
//! Tag filters pass through: `cargo test --test conformance_nextjs -- --tags @sign-out`. The browser scenarios
//! (`@client`) run in `tests/conformance_browser.rs`, against stacks with a short token lifetime.

use std::process::ExitCode;

use harness::nextjs::Variant;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use harness::stack::{Stack, StackOptions};

fn main() -> ExitCode {
    let args = RunArgs::from_env_and_args();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut ok = true;
    for variant in [Variant::Middleware, Variant::Proxy] {
        ok &= runtime.block_on(run_variant(variant, &args));
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn run_variant(variant: Variant, args: &RunArgs) -> bool {
    let root = clerk_conformance::node::workspace_root();
    let profile_path = root.join(format!("fixtures/targets/nextjs-{}.toml", variant.name()));
    let profile = match Profile::load(&profile_path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("conformance: {e}");
            return false;
        }
    };
    let options = StackOptions { variant, kind: profile.instance, ..StackOptions::default() };
    let stack = match Stack::start(options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: the {} stack did not start: {e}", variant.name());
            return false;
        }
    };
    let (env, app) = stack.into_env(profile);
    let secret = env.secret_key.clone();
    let report = run(env, &args.restricted_to("not @client")).await;
    match report {
        Ok(report) if report.ok() => true,
        Ok(_) => {
            eprintln!("next start output (tail, secrets redacted):\n{}", harness::transcript::redact(&app.output_tail(), &[&secret]));
            false
        }
        Err(e) => {
            eprintln!("conformance: {e}");
            false
        }
    }
}
