//! The conformance suite (`features/`), as `cargo test --test conformance`.
//!
//! By default every feature runs against the built-in reference app (fixtures/reference-app), with mock-clerk,
//! the downstream double and the app all in this process on port 0. Against a running app:
//!
//! ```text
//! CONFORMANCE_TARGET_URL=http://127.0.0.1:3000 CONFORMANCE_PROFILE=fixtures/targets/nextjs-middleware.toml \
//!   cargo test --test conformance
//! ```
//!
//! The harness then uses the mock-clerk at `MOCK_CLERK_URL` (or starts one at the profile's `mock_clerk_addr`)
//! and the downstream double at `DOWNSTREAM_URL` (or starts one at `downstream_addr`). Tag filters pass
//! through: `cargo test --test conformance -- --tags @sign-out`.

use std::process::ExitCode;

use clerk_conformance::targets::{Running, start_target};
use harness::runner::{RunArgs, run};

fn main() -> ExitCode {
    let args = RunArgs::from_env_and_args();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let running: Running = match start_target(&args).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("conformance: {e}");
                return ExitCode::FAILURE;
            }
        };
        let report = match run(running.env.clone(), &args).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("conformance: {e}");
                return ExitCode::FAILURE;
            }
        };
        drop(running);
        if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
    })
}
