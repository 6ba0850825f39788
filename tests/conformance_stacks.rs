//! The conformance suite against the fixture apps of other stacks, each on its own stack (mock-clerk, downstream
//! double, the app on a free port) with only its own profile (`fixtures/targets/<app>.toml`), all at once: the
//! Express app (Express 5 + `@clerk/express`) and the Python app (Starlette + `clerk-backend-api`). The browser
//! scenarios (`@client`) are left out: these apps render no Clerk components. Needs Node 20, npm and Python 3.
//!
//! Tag filters pass through: `cargo test --test conformance_stacks -- --tags @sign-out`.

use std::process::ExitCode;

use harness::app::App;
use harness::runner::RunArgs;

fn main() -> ExitCode {
    clerk_conformance::stacks::run_apps(&[App::Express, App::Python], &[RunArgs::from_env_and_args().restricted_to("not @client")], None)
}
