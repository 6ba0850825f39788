//! Runs the features against a target and reports like a test runner: cucumber's progress per scenario, the
//! failing scenario's transcript, optional JUnit XML and Cucumber JSON files, the profile's expected
//! failures and skips applied, and a closing `N passed, N failed, N skipped` line.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::writer::{self, Coloring};
use cucumber::tag::Ext as _;
use cucumber::{WriterExt as _, event};
use futures_util::FutureExt as _;

use crate::world::{ConformanceWorld, Env, install_env};

/// How to run the suite: flags, each with an environment fallback.
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(name = "conformance", about = "The Clerk conformance suite", ignore_errors = true)]
pub struct RunArgs {
    /// The app under test (default: the built-in reference app, in-process).
    #[arg(long, env = "CONFORMANCE_TARGET_URL")]
    pub target_url: Option<String>,
    /// The target profile (TOML).
    #[arg(long, env = "CONFORMANCE_PROFILE")]
    pub profile: Option<PathBuf>,
    /// A mock-clerk that is already running (else one is started at the profile's `mock_clerk_addr`).
    #[arg(long, env = "MOCK_CLERK_URL")]
    pub mock_clerk_url: Option<String>,
    /// The secret key of that mock-clerk's instance (default: mock-clerk's fixed key for the instance kind).
    #[arg(long, env = "MOCK_CLERK_SECRET_KEY", hide_env_values = true)]
    pub mock_clerk_secret_key: Option<String>,
    /// A downstream double that is already running (else one is started at the profile's `downstream_addr`).
    #[arg(long, env = "DOWNSTREAM_URL")]
    pub downstream_url: Option<String>,
    /// Only scenarios matching this tag expression, e.g. `@sign-out` or `@RP-001 or @RD-002`.
    #[arg(long, short = 't', env = "CONFORMANCE_TAGS")]
    pub tags: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long, env = "CONFORMANCE_JUNIT")]
    pub junit: Option<PathBuf>,
    /// Write a Cucumber JSON report here.
    #[arg(long, env = "CONFORMANCE_JSON")]
    pub json: Option<PathBuf>,
    /// The features directory.
    #[arg(long, env = "CONFORMANCE_FEATURES")]
    pub features: Option<PathBuf>,
    /// How many scenarios run at once.
    #[arg(long, env = "CONFORMANCE_CONCURRENCY", default_value_t = 16)]
    pub concurrency: usize,
    /// Write cucumber's progress (and the failing scenarios' transcripts) to this file instead of stdout.
    #[arg(long, env = "CONFORMANCE_OUTPUT")]
    pub output: Option<PathBuf>,
    /// Print cucumber's progress (default on; `--quiet` for the summary only).
    #[arg(long, env = "CONFORMANCE_QUIET", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub quiet: bool,
}

impl RunArgs {
    /// Flags from the command line (unknown ones, like cargo test's, are ignored), env as fallback.
    pub fn from_env_and_args() -> Self {
        use clap::Parser as _;
        let args: Vec<String> = std::env::args().collect();
        // Keep only our flags (and their values): `cargo test` passes its own.
        let known = ["--target-url", "--profile", "--mock-clerk-url", "--mock-clerk-secret-key", "--downstream-url", "--tags", "-t", "--junit", "--json", "--output", "--features", "--concurrency", "--quiet"];
        let mut kept = vec![args.first().cloned().unwrap_or_default()];
        let mut i = 1;
        while i < args.len() {
            let arg = &args[i];
            let name = arg.split('=').next().unwrap_or_default();
            if known.contains(&name) {
                kept.push(arg.clone());
                if !arg.contains('=') && name != "--quiet" && i + 1 < args.len() {
                    kept.push(args[i + 1].clone());
                    i += 1;
                }
            }
            i += 1;
        }
        Self::try_parse_from(kept).unwrap_or_else(|e| {
            eprintln!("conformance: {e}");
            std::process::exit(2)
        })
    }
}

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step passed.
    Passed,
    /// A step failed, with the message (transcript included, redacted).
    Failed(String),
    /// A step had no definition, or the profile skips it.
    Skipped(String),
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The stable id tag, e.g. `@RP-001` (empty when the scenario has none).
    pub id: String,
    /// The scenario's name.
    pub name: String,
    /// The feature's name.
    pub feature: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether the profile expects it to fail.
    pub expected_to_fail: bool,
}

/// The run's tally, after the profile's expected failures are applied.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every scenario, in completion order.
    pub results: Vec<ScenarioResult>,
    /// Passed and expected to.
    pub passed: usize,
    /// Failed and not expected to.
    pub failed: usize,
    /// Skipped (no step definition, or skipped by the profile).
    pub skipped: usize,
    /// Failed as the profile expects (a known deviation of the target).
    pub expected_failures: usize,
    /// Passed although the profile expects a failure.
    pub unexpected_passes: usize,
}

impl Report {
    /// Whether anything unexpected happened.
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.unexpected_passes == 0 && !self.results.is_empty()
    }
    /// The ids of scenarios with an unexpected result: failed though not expected to, or passed though
    /// expected to fail.
    pub fn failed_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .results
            .iter()
            .filter(|r| match r.outcome {
                Outcome::Failed(_) => !r.expected_to_fail,
                Outcome::Passed => r.expected_to_fail,
                Outcome::Skipped(_) => false,
            })
            .map(|r| r.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

static RESULTS: Mutex<Vec<ScenarioResult>> = Mutex::new(Vec::new());

fn scenario_id(tags: &[String]) -> String {
    tags.iter()
        .find(|t| {
            let t = t.trim_start_matches('@');
            t.split_once('-').is_some_and(|(a, n)| !a.is_empty() && a.chars().all(|c| c.is_ascii_uppercase()) && n.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|t| format!("@{}", t.trim_start_matches('@')))
        .unwrap_or_default()
}

fn output(path: &Option<PathBuf>) -> std::io::Result<Box<dyn std::io::Write>> {
    Ok(match path {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            Box::new(std::fs::File::create(p)?)
        }
        None => Box::new(std::io::sink()),
    })
}

/// The workspace's `features/` directory.
pub fn default_features_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../features")
}

/// Runs the features against `env`'s target and returns the report (printing progress and the closing line).
pub async fn run(env: Arc<Env>, args: &RunArgs) -> std::io::Result<Report> {
    let started = std::time::Instant::now();
    install_env(env.clone());
    RESULTS.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let features = args.features.clone().unwrap_or_else(default_features_dir);
    let tags = match args.tags.as_deref().map(str::parse::<TagOperation>) {
        Some(Ok(op)) => Some(op),
        Some(Err(e)) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("--tags: {e}"))),
        None => None,
    };
    let skipped_by_profile: BTreeMap<String, String> = env.profile.skip.iter().map(|s| (s.scenario.clone(), s.reason.clone())).collect();
    let progress: Box<dyn std::io::Write> = match (&args.output, args.quiet) {
        (Some(_), _) => output(&args.output)?,
        (None, true) => Box::new(std::io::sink()),
        (None, false) => Box::new(std::io::stdout()),
    };
    let writer = writer::Basic::raw(progress, Coloring::Never, 0)
        .summarized()
        .tee::<ConformanceWorld, _>(writer::JUnit::for_tee(output(&args.junit)?, 0))
        .tee::<ConformanceWorld, _>(writer::Json::for_tee(output(&args.json)?))
        .normalized();
    let mut profile_skips = Vec::new();
    let profile_skip_sink = Arc::new(Mutex::new(Vec::<ScenarioResult>::new()));
    let sink = profile_skip_sink.clone();
    let skips = skipped_by_profile.clone();
    cucumber::Cucumber::<ConformanceWorld, _, _, _, _, _>::new()
        .with_writer(writer)
        .steps(crate::steps::collection())
        .max_concurrent_scenarios(args.concurrency.max(1))
        .after(|feature, _rule, scenario, finished, _world| {
            let outcome = match finished {
                event::ScenarioFinished::StepPassed => Outcome::Passed,
                event::ScenarioFinished::StepSkipped => Outcome::Skipped("a step has no definition".into()),
                event::ScenarioFinished::StepFailed(_, _, err) => Outcome::Failed(err.to_string()),
                event::ScenarioFinished::BeforeHookFailed(info) => Outcome::Failed(format!("before hook failed: {info:?}")),
            };
            let result = ScenarioResult { id: scenario_id(&scenario.tags), name: scenario.name.clone(), feature: feature.name.clone(), outcome, expected_to_fail: false };
            RESULTS.lock().unwrap_or_else(|p| p.into_inner()).push(result);
            async {}.boxed_local()
        })
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .filter_run(features, move |feature, rule, scenario| {
            let all_tags = feature.tags.iter().chain(rule.iter().flat_map(|r| &r.tags)).chain(scenario.tags.iter());
            if tags.as_ref().is_some_and(|op| !op.eval(all_tags)) {
                return false;
            }
            let id = scenario_id(&scenario.tags);
            if let Some(reason) = skips.get(&id) {
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(ScenarioResult {
                    id,
                    name: scenario.name.clone(),
                    feature: feature.name.clone(),
                    outcome: Outcome::Skipped(format!("the profile skips it: {reason}")),
                    expected_to_fail: false,
                });
                return false;
            }
            true
        })
        .await;
    profile_skips.extend(profile_skip_sink.lock().unwrap_or_else(|p| p.into_inner()).drain(..));
    let mut results: Vec<ScenarioResult> = RESULTS.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect();
    results.extend(profile_skips);
    let report = tally(results, &env);
    print_report(&report, &env, args.quiet, started.elapsed());
    Ok(report)
}

fn tally(mut results: Vec<ScenarioResult>, env: &Env) -> Report {
    let mut report = Report::default();
    for r in &mut results {
        let expected = env.profile.expected_failure(&r.id).is_some();
        r.expected_to_fail = expected;
        match (&r.outcome, expected) {
            (Outcome::Passed, false) => report.passed += 1,
            (Outcome::Passed, true) => report.unexpected_passes += 1,
            (Outcome::Failed(_), false) => report.failed += 1,
            (Outcome::Failed(_), true) => report.expected_failures += 1,
            (Outcome::Skipped(_), _) => report.skipped += 1,
        }
    }
    report.results = results;
    report
}

fn print_report(report: &Report, env: &Env, quiet: bool, wall_time: std::time::Duration) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\nconformance of {} ({}):", env.target_url, env.profile.name);
    for r in &report.results {
        let expected = env.profile.expected_failure(&r.id);
        let line = match (&r.outcome, expected) {
            (Outcome::Failed(_), Some(f)) => format!("expected failure  {} {} — {}", r.id, r.name, f.reason),
            (Outcome::Passed, Some(f)) => format!("UNEXPECTED PASS   {} {} — the profile expects a failure: {}", r.id, r.name, f.reason),
            (Outcome::Failed(why), None) => {
                // Quiet runs print the failing check (the transcript is in cucumber's output and the reports).
                let detail = if quiet { format!("\n      {}", why.lines().find(|l| !l.trim().is_empty()).unwrap_or_default()) } else { String::new() };
                format!("FAILED            {} {}{detail}", r.id, r.name)
            }
            (Outcome::Skipped(why), _) => format!("skipped           {} {} — {why}", r.id, r.name),
            (Outcome::Passed, None) => continue,
        };
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "{} expected failure(s) of this target (counted as skipped below), {} unexpected pass(es) (counted as failed)",
        report.expected_failures, report.unexpected_passes
    );
    let _ = writeln!(out, "suite wall time against {}: {:.2} s", env.profile.name, wall_time.as_secs_f64());
    // The closing line, last, in the plain form test-result readers know.
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        report.passed,
        report.failed + report.unexpected_passes,
        report.skipped + report.expected_failures
    );
}
