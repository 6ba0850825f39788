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

/// Without a tag filter, each build's browser scenarios are split in two halves (these features, and the rest), each
/// on its own stack at the same time: the browser features are `@serial` (one Chromium at a time per stack, and
/// `@CL-505` moves its mock-clerk's clock), so one stack per build ran them one by one.
const HALF: &str = "@client-mfa or @client-sign-in or @user-button";

fn main() -> ExitCode {
    let args = RunArgs::from_env_and_args();
    let shards = if args.tags.as_deref().is_some_and(|t| !t.trim().is_empty()) {
        vec![args.restricted_to("@client")]
    } else {
        vec![args.restricted_to(&format!("@client and ({HALF})")), args.restricted_to(&format!("@client and not ({HALF})"))]
    };
    clerk_conformance::stacks::run_apps(&clerk_conformance::stacks::NEXT_BUILDS, &shards, Some(TOKEN_LIFETIME))
}
