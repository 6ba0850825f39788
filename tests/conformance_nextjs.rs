//! The conformance suite against the real Next.js fixture app, both builds: `middleware.ts` on a development
//! instance and `proxy.ts` on a production instance. Each build gets its own stack (mock-clerk, downstream
//! double, `next start` on a free port), stopped when the run ends. Needs Node 20 and npm; builds are cached.
//!
//! Tag filters pass through: `cargo test --test conformance_nextjs -- --tags @sign-out`. The browser scenarios
//! (`@client`) run in `tests/conformance_browser.rs`, against stacks with a short token lifetime.

use std::process::ExitCode;

use harness::runner::RunArgs;

fn main() -> ExitCode {
    clerk_conformance::stacks::run_apps(&clerk_conformance::stacks::NEXT_BUILDS, &[RunArgs::from_env_and_args().restricted_to("not @client")], None)
}
