//! The conformance suite (`features/`), as `cargo test --test conformance`.
//!
//! By default every feature runs against both built-in targets — the reference app (fixtures/reference-app)
//! with the documented routes, and the same app with every route moved — each described only by its profile
//! (`fixtures/targets/reference.toml`, `reference-alt.toml`), with mock-clerk, the downstream double and the app
//! all in this process on port 0. Against a running app:
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

use clerk_conformance::targets::{Builtin, Running, builtins_only, defect_from_env, start_builtin, start_target};
use harness::runner::{RunArgs, run};

fn main() -> ExitCode {
    let args = RunArgs::from_env_and_args();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut ok = true;
    if builtins_only(&args) {
        for (i, target) in Builtin::ALL.into_iter().enumerate() {
            // One HTML report per target: the first at the path given, the next beside it (`report-<target>.html`).
            let mut args = args.clone();
            if i > 0 {
                args.html = args.html.map(|p| {
                    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    p.with_file_name(format!("{stem}-{}.html", target.name()))
                });
            }
            ok &= runtime.block_on(run_one(&args, Some(target)));
        }
    } else {
        ok = runtime.block_on(run_one(&args, None));
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn run_one(args: &RunArgs, builtin: Option<Builtin>) -> bool {
    let started: Result<Running, String> = match builtin {
        Some(target) => match defect_from_env() {
            Ok(defect) => start_builtin(target, defect).await,
            Err(e) => Err(e),
        },
        None => start_target(args).await,
    };
    let running = match started {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance: {e}");
            return false;
        }
    };
    match run(running.env.clone(), args).await {
        Ok(report) => report.ok(),
        Err(e) => {
            eprintln!("conformance: {e}");
            false
        }
    }
}
