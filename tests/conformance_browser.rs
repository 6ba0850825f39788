//! The browser scenarios (`@client`: the client layer in a real Chromium, clerk-js and Clerk's UI served by
//! mock-clerk and talking to its Frontend API) against the real Next.js fixture app: the `middleware.ts` build on
//! a development instance (`pk_test_`) and the `proxy.ts` build on a production one (`pk_live_`). Each gets its
//! own stack with a 10 s token lifetime, so that staying on a page for two lifetimes takes 20 s.
//!
//! Needs Chromium (`CHROME` or `PATH`; `apt-get install -y chromium`): without it every scenario fails with that
//! message. Tag filters pass through: `cargo test --test conformance_browser -- --tags @CL-001`.

use std::process::ExitCode;
use std::time::Duration;

use harness::nextjs::Variant;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use harness::stack::{Stack, StackOptions};

/// mock-clerk's token lifetime for the browser runs.
const TOKEN_LIFETIME: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args = RunArgs::from_env_and_args().restricted_to("@client");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut ok = true;
    for variant in [Variant::Middleware, Variant::Proxy] {
        ok &= runtime.block_on(run_variant(variant, &args));
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn run_variant(variant: Variant, args: &RunArgs) -> bool {
    let root = clerk_conformance::node::workspace_root();
    let profile = match Profile::load(root.join(format!("fixtures/targets/nextjs-{}.toml", variant.name()))) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("conformance_browser: {e}");
            return false;
        }
    };
    let options = StackOptions { variant, kind: profile.instance, token_lifetime: Some(TOKEN_LIFETIME), ..StackOptions::default() };
    let stack = match Stack::start(options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance_browser: the {} stack did not start: {e}", variant.name());
            return false;
        }
    };
    let (env, app) = stack.into_env(profile);
    let secret = env.secret_key.clone();
    match run(env, args).await {
        Ok(report) if report.ok() => true,
        Ok(_) => {
            eprintln!("next start output (tail, secrets redacted):\n{}", harness::transcript::redact(&app.output_tail(), &[&secret]));
            false
        }
        Err(e) => {
            eprintln!("conformance_browser: {e}");
            false
        }
    }
}
