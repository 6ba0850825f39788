//! The browser scenarios (`@client`: the client layer in a real Chromium, clerk-js and Clerk's UI served by
//! mock-clerk and talking to its Frontend API) against the real Next.js fixture app: the `middleware.ts` build on
//! a development instance (`pk_test_`) and the `proxy.ts` build on a production one (`pk_live_`). Each gets its
//! own stack with a 10 s token lifetime, so that staying on a page for two lifetimes takes 20 s.
//!
//! Needs Chromium (`CHROME` or `PATH`; `apt-get install -y chromium`): without it every scenario fails with that
//! message. Tag filters pass through: `cargo test --test conformance_browser -- --tags @CL-001`.

use std::process::ExitCode;
use std::time::Duration;

use harness::runner::RunArgs;

/// mock-clerk's token lifetime for the browser runs.
const TOKEN_LIFETIME: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    clerk_conformance::nextjs::run_both_builds(&RunArgs::from_env_and_args().restricted_to("@client"), Some(TOKEN_LIFETIME))
}
