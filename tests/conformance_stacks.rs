//! The conformance suite against the fixture apps of other stacks, each on its own stack with only its own profile
//! (`fixtures/targets/<app>.toml`): the Python app (Starlette + `clerk-backend-api`). The browser scenarios
//! (`@client`) are left out: these apps render no Clerk components. Tag filters pass through:
//! `cargo test --test conformance_stacks -- --tags @sign-out`.

use std::process::ExitCode;

use harness::app::App;
use harness::runner::RunArgs;

fn main() -> ExitCode {
    clerk_conformance::stacks::run_apps(&[App::Python], &[RunArgs::from_env_and_args().restricted_to("not @client")], None)
}
