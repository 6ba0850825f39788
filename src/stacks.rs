//! The suite against the fixture apps: one stack per app (mock-clerk, downstream double, the app, e.g. `next start`),
//! with the app's own profile (`fixtures/targets/<app>.toml`), stopped when the run ends.

use std::process::ExitCode;
use std::time::Duration;

use harness::app::App;
use harness::nextjs::Variant;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use harness::stack::{Stack, StackOptions};

/// The Next.js app's two builds: `middleware.ts` and `proxy.ts`, each on its profile's instance.
pub const NEXT_BUILDS: [App; 2] = [App::Next(Variant::Middleware), App::Next(Variant::Proxy)];

/// Runs each of `shards` (the same arguments restricted to different scenarios) against each of `apps`, each shard
/// and app on its own stack whose mock-clerk mints tokens living `token_lifetime` (Clerk's 60 s when `None`).
///
/// The runs share nothing (each has its own mock-clerk, downstream double, `next start` and browsers), so they all
/// run at the same time: much of a run is waiting (token lifetimes, the browser's timers), and `@serial` scenarios
/// are serial only within their own run. Each run's progress goes to its own file under `target/` (unless
/// `--output` or `--quiet` says otherwise); its verdict, with the failing scenarios' transcripts, is printed when it
/// ends.
pub fn run_apps(apps: &[App], shards: &[RunArgs], token_lifetime: Option<Duration>) -> ExitCode {
    let run_one = |app: App, shard: usize| {
        let mut args = shards[shard].clone();
        if args.output.is_none() && !args.quiet {
            let suffix = if shards.len() > 1 { format!("-{}", shard + 1) } else { String::new() };
            let path = crate::node::workspace_root().join(format!("target/conformance-progress-{}{suffix}.log", app.name()));
            println!("progress of {}{suffix}: {}", app.name(), path.display());
            args.output = Some(path);
        }
        // Runs side by side: one HTML report each, beside the path given (`report-middleware-1.html`, `report-express.html`).
        args.html = args.html.take().map(|p| {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let suffix = if shards.len() > 1 { format!("-{}", shard + 1) } else { String::new() };
            p.with_file_name(format!("{stem}-{}{suffix}.html", app.name()))
        });
        // A runtime per run, on its own thread: a run's futures are not `Send`, and one run's blocking moments
        // (building the app) must not hold up the other.
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        runtime.block_on(run_app(app, &args, token_lifetime))
    };
    let ok = std::thread::scope(|s| {
        let runs: Vec<_> =
            apps.iter().flat_map(|&app| (0..shards.len()).map(move |i| (app, i))).map(|(app, i)| s.spawn(move || run_one(app, i))).collect();
        let results: Vec<bool> = runs.into_iter().map(|run| run.join().unwrap_or(false)).collect();
        results.into_iter().all(|ok| ok)
    });
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Runs the suite as `args` say against `app` on its own stack, with the app's profile; prints the verdict, and the
/// app's output when the run fails.
pub async fn run_app(app: App, args: &RunArgs, token_lifetime: Option<Duration>) -> bool {
    let profile = match Profile::load(app.profile_path()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("conformance: {e}");
            return false;
        }
    };
    let options = StackOptions { app, kind: profile.instance, token_lifetime, ..StackOptions::default() };
    let stack = match Stack::start(options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: the {} stack did not start: {e}", app.name());
            return false;
        }
    };
    let (env, running) = stack.into_env(profile);
    let secret = env.secret_key.clone();
    match run(env, args).await {
        Ok(report) if report.ok() => true,
        Ok(_) => {
            let output = harness::transcript::redact(&running.output_tail(), &[&secret]);
            eprintln!("{} output (tail, secrets redacted):\n{output}", app.name());
            false
        }
        Err(e) => {
            eprintln!("conformance: {e}");
            false
        }
    }
}
