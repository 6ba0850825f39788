//! Runs the features against a target and reports like a test runner: cucumber's progress per scenario, the
//! failing scenario's transcript, optional JUnit XML and Cucumber JSON files, the profile's signed expected
//! failures and skips applied, and a closing `N passed, N failed, N skipped` line.
//!
//! Runs are strict: an undefined or ambiguous step, a failed hook or a feature file that does not parse fails
//! the run; only a profile's `[[skip]]` (with a reason) skips a scenario.

mod live;
mod record;
mod verdict;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cucumber::WriterExt as _;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Coloring};

pub use record::{Ending, Recorded, Recorder, StepRun, StepStatus, example_row, scenario_id, short_message};
pub use verdict::{Outcome, Report, ScenarioResult};

use crate::world::{ConformanceWorld, Env, with_env};

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
    /// Write a self-contained HTML report here (summary, filters, each scenario's steps, sequence diagram,
    /// tokens and cookies).
    #[arg(long, env = "CONFORMANCE_HTML")]
    pub html: Option<PathBuf>,
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
        let known = [
            "--target-url",
            "--profile",
            "--mock-clerk-url",
            "--mock-clerk-secret-key",
            "--downstream-url",
            "--tags",
            "-t",
            "--junit",
            "--json",
            "--html",
            "--output",
            "--features",
            "--concurrency",
            "--quiet",
        ];
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

impl RunArgs {
    /// These arguments, restricted to scenarios matching `expr` as well (`not @client`, `@client`).
    ///
    /// ```
    /// use harness::runner::RunArgs;
    /// let args = RunArgs { tags: Some("@sign-out".into()), ..RunArgs::default() };
    /// assert_eq!(args.restricted_to("not @client").tags.unwrap(), "(@sign-out) and (not @client)");
    /// assert_eq!(RunArgs::default().restricted_to("@client").tags.unwrap(), "@client");
    /// ```
    pub fn restricted_to(&self, expr: &str) -> Self {
        let tags = match self.tags.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(user) => format!("({user}) and ({expr})"),
            None => expr.to_owned(),
        };
        Self { tags: Some(tags), ..self.clone() }
    }
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

/// Runs the features against `env`'s target and returns the report (printing progress and the verdict).
pub async fn run(env: Arc<Env>, args: &RunArgs) -> std::io::Result<Report> {
    let started = std::time::Instant::now();
    let features = args.features.clone().unwrap_or_else(default_features_dir);
    let tags = match args.tags.as_deref().map(str::parse::<TagOperation>) {
        Some(Ok(op)) => Some(op),
        Some(Err(e)) => {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("--tags: {e}")));
        }
        None => None,
    };
    // The live line goes with the progress on a terminal: not with `--quiet`, nor when the progress goes to a
    // file (runs side by side, as the Next.js builds', each write their own).
    let live = (args.output.is_none() && !args.quiet).then(live::Live::on_terminal).flatten();
    let progress: Box<dyn std::io::Write> = match (&args.output, args.quiet, &live) {
        (Some(_), _, _) => output(&args.output)?,
        (None, true, _) => Box::new(std::io::sink()),
        (None, false, Some(live)) => Box::new(live::Around(live.clone())),
        (None, false, None) => Box::new(std::io::stdout()),
    };
    let recorder = Recorder::default();
    recorder.0.lock().unwrap_or_else(|p| p.into_inner()).live = live.clone();
    let counted = live.clone();
    let writer = writer::Basic::raw(progress, Coloring::Never, 0)
        .summarized()
        .tee::<ConformanceWorld, _>(writer::JUnit::for_tee(output(&args.junit)?, 0))
        .tee::<ConformanceWorld, _>(writer::Json::for_tee(output(&args.json)?))
        .tee::<ConformanceWorld, _>(recorder.clone().discard_stats_writes().discard_arbitrary_writes())
        .fail_on_skipped()
        .normalized();
    // The HTML report draws each scenario from its transcript: keep them (bodies cut) when one is asked for.
    let capture = args.html.is_some().then(|| recorder.0.clone());
    let skipped = Arc::new(Mutex::new(Vec::<Recorded>::new()));
    let sink = skipped.clone();
    let profile = env.profile.clone();
    let cucumber = cucumber::Cucumber::<ConformanceWorld, _, _, _, _, _>::new()
        .with_writer(writer)
        .steps(crate::steps::collection())
        .max_concurrent_scenarios(args.concurrency.max(1))
        .after(move |feature, _rule, scenario, _finished, world| {
            let capture = capture.clone();
            Box::pin(async move {
                if let (Some(record), Some(world)) = (capture, world) {
                    let key = record::Record::key(feature, scenario);
                    let kept = world.transcript.clipped();
                    record.lock().unwrap_or_else(|p| p.into_inner()).captured.insert(key, kept);
                }
            })
        })
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .filter_run(features, move |feature, rule, scenario| {
            let all_tags = feature.tags.iter().chain(rule.iter().flat_map(|r| &r.tags)).chain(scenario.tags.iter());
            if tags.as_ref().is_some_and(|op| !op.eval(all_tags)) {
                return false;
            }
            let (id, example) = (scenario_id(&scenario.tags), example_row(scenario));
            let tags: Vec<String> = feature.tags.iter().chain(rule.iter().flat_map(|r| &r.tags)).chain(scenario.tags.iter()).cloned().collect();
            if profile.skip_reason(&id, &example, &tags).is_some() {
                let location = format!("{}:{}", feature.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(), scenario.position.line);
                let r = Recorded {
                    id,
                    name: scenario.name.clone(),
                    feature: feature.name.clone(),
                    location,
                    example,
                    tags,
                    ending: Ending::Passed,
                    steps: Vec::new(),
                    transcript: None,
                };
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(r);
                return false;
            }
            if let Some(live) = &counted {
                live.add_scenario();
            }
            true
        });
    with_env(env.clone(), cucumber).await;
    if let Some(live) = &live {
        live.clear();
    }
    let (recorded, parse_errors) = {
        let mut record = recorder.0.lock().unwrap_or_else(|p| p.into_inner());
        (std::mem::take(&mut record.scenarios), std::mem::take(&mut record.parse_errors))
    };
    let skipped = std::mem::take(&mut *skipped.lock().unwrap_or_else(|p| p.into_inner()));
    let report = verdict::tally(recorded, skipped, parse_errors, &env.profile);
    let wall_time = started.elapsed();
    verdict::print(&report, &env.target_url, &env.profile, args.quiet, wall_time);
    if let Some(path) = &args.html {
        let info = crate::report::RunInfo {
            target_url: env.target_url.clone(),
            profile: env.profile.name.clone(),
            issuer_url: env.issuer.url(),
            downstream_url: env.downstream.url(),
            wall_time,
            secrets: vec![env.secret_key.clone()],
        };
        crate::report::write(path, &report, &info)?;
        println!("HTML report: {}", path.display());
    }
    Ok(report)
}
