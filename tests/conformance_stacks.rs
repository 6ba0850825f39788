//! The conformance suite against the other fixture stacks, each with only its own profile
//! (`fixtures/targets/<app>.toml`): the Express app (Express 5 + `@clerk/express`). Each gets its own stack
//! (mock-clerk, downstream double, the app on a free port), stopped when the run ends. Needs Node 20 and npm.
//!
//! Tag filters pass through: `cargo test --test conformance_stacks -- --tags @sign-out`.

use std::process::ExitCode;

use harness::app::App;
use harness::runner::RunArgs;

fn main() -> ExitCode {
    clerk_conformance::stacks::run_apps(&[App::Express], &[RunArgs::from_env_and_args().restricted_to("not @client")], None)
}
