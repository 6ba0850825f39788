//! The suite against the Next.js fixture app: one stack per build (mock-clerk, downstream double, `next start`),
//! with the build's profile `fixtures/targets/nextjs-<build>.toml`, stopped when the run ends.

use std::process::ExitCode;
use std::time::Duration;

use harness::nextjs::Variant;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use harness::stack::{Stack, StackOptions};

/// Runs each of `shards` (the same arguments restricted to different scenarios) against both builds
/// (`middleware.ts` on its profile's instance, `proxy.ts` on its own), each shard and build on its own stack whose
/// mock-clerk mints tokens living `token_lifetime` (Clerk's 60 s when `None`).
///
/// The runs share nothing (each has its own mock-clerk, downstream double, `next start` and browsers), so they all
/// run at the same time: much of a run is waiting (token lifetimes, the browser's timers), and `@serial` scenarios
/// are serial only within their own run. Each run's progress goes to its own file under `target/` (unless
/// `--output` or `--quiet` says otherwise); its verdict, with the failing scenarios' transcripts, is printed when it
/// ends.
pub fn run_both_builds(shards: &[RunArgs], token_lifetime: Option<Duration>) -> ExitCode {
    let run_one = |variant: Variant, shard: usize| {
        let mut args = shards[shard].clone();
        if args.output.is_none() && !args.quiet {
            let suffix = if shards.len() > 1 { format!("-{}", shard + 1) } else { String::new() };
            let path = crate::node::workspace_root().join(format!("target/conformance-progress-{}{suffix}.log", variant.name()));
            println!("progress of the {} build{suffix}: {}", variant.name(), path.display());
            args.output = Some(path);
        }
        // A runtime per run, on its own thread: a run's futures are not `Send`, and one run's blocking moments
        // (building the app) must not hold up the other.
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        runtime.block_on(run_build(variant, &args, token_lifetime))
    };
    let ok = std::thread::scope(|s| {
        let runs: Vec<_> = [Variant::Middleware, Variant::Proxy]
            .into_iter()
            .flat_map(|v| (0..shards.len()).map(move |i| (v, i)))
            .map(|(v, i)| s.spawn(move || run_one(v, i)))
            .collect();
        let results: Vec<bool> = runs.into_iter().map(|run| run.join().unwrap_or(false)).collect();
        results.into_iter().all(|ok| ok)
    });
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn run_build(variant: Variant, args: &RunArgs, token_lifetime: Option<Duration>) -> bool {
    let profile = match Profile::load(crate::node::workspace_root().join(format!("fixtures/targets/nextjs-{}.toml", variant.name()))) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("conformance: {e}");
            return false;
        }
    };
    let options = StackOptions { variant, kind: profile.instance, token_lifetime, ..StackOptions::default() };
    let stack = match Stack::start(options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: the {} stack did not start: {e}", variant.name());
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
            eprintln!("conformance: {e}");
            false
        }
    }
}
