//! Seeded defects in the real fixture apps: `APP_DEFECT=<name>` (read by the app at start) breaks one documented
//! behaviour. For each, the suite runs against the app with its own profile, and the defect counts as caught only
//! when one of the scenarios it names fails at the named step. Prints a kill table per app and the kill rate; each
//! correct app must give no unexpected result.
//!
//! Next.js (`fixtures/nextjs-app`, middleware build): server-side defects run the HTTP scenarios (`not @client`);
//! client-side defects run, in a real Chromium, only the browser scenarios named to catch them (the whole `@client`
//! set against the correct app is `tests/conformance_browser.rs`); the webhook handler's defects run the
//! `@webhooks` scenarios, the authorization defects the `@authorization` ones.
//!
//! Express (`fixtures/express-app`): the app has no client layer; its defects run the HTTP scenarios, those of its
//! webhook handler and authorization the `@webhooks` and `@authorization` ones.
//! Python (`fixtures/python-app`): each defect runs the scenarios named to catch it (its webhook handler's and
//! authorization's included).

use harness::app::App;
use harness::nextjs::Variant;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use harness::stack::{Stack, StackOptions};

/// A seeded defect: its name, and the scenarios (id, part of the failing step) that must catch it.
type Defect = (&'static str, &'static [(&'static str, &'static str)]);

/// The defects fixtures/nextjs-app knows (lib/defect.ts), each with the scenario and (a part of) the step that
/// must catch it.
const DEFECTS: &[Defect] = &[
    ("no-protect", &[("@RP-001", "I am sent to sign in, with a way back to the data page")]),
    ("public-matcher-too-broad", &[("@RP-009", "with a way back to the public-lookalike probe")]),
    ("retries-post", &[("@RT-003", "Then I see an error")]),
    ("sign-out-without-revoke", &[("@SO-001", "my session is revoked at Clerk")]),
    ("sign-out-keeps-cookie", &[("@SO-003", "the __session cookie is deleted")]),
];

/// The client-side defects, caught by browser scenarios.
const CLIENT_DEFECTS: &[Defect] = &[
    (
        "after-sign-out-elsewhere",
        &[("@CL-201", "the browser is on the page after sign-out"), ("@CL-301", "the browser is on the page after sign-out")],
    ),
    ("sign-out-only-local", &[("@CL-301", "my browser session has ended at Clerk")]),
    ("stale-user", &[("@CL-001", "the browser shows my first name and email")]),
    ("sign-in-page-protected", &[("@CL-001", "the browser is on the sign-in page")]),
    ("sso-callback-protected", &[("@CL-701", "I sign in with Google as my email")]),
    ("ignores-act", &[("@CL-602", "the app shows that I am impersonated by the admin")]),
    ("reverification-skipped", &[("@CL-505", "refuses me from the page with Clerk's reverification error")]),
];

/// The webhook handler's defects (app/api/webhooks/clerk), caught by the `@webhooks` scenarios.
const WEBHOOK_DEFECTS: &[Defect] = &[
    ("webhook-unverified", &[("@WH-103", "the app refused it with a 4xx status")]),
    ("webhook-stale", &[("@WH-104", "the app refused it with a 4xx status")]),
    ("webhook-replay", &[("@WH-105", "the app refused it with a 4xx status")]),
    ("webhook-500", &[("@WH-102", "the app refused it with a 4xx status")]),
    ("webhook-applies-first", &[("@WH-102", "the app does not hold that user")]),
    ("webhook-ignores-deleted", &[("@WH-101", "the app does not hold that user"), ("@WH-001", "the app does not hold that user")]),
    ("webhook-wrong-secret", &[("@WH-101", "the app accepted it"), ("@WH-001", "the app holds that user")]),
];

/// The authorization defects (admin page, reports route), caught by the `@authorization` scenarios.
const AUTHZ_DEFECTS: &[Defect] = &[
    ("role-check-missing", &[("@AZ-002", "I am refused for lacking the right")]),
    ("wrong-permission", &[("@AZ-101", "the response status is 200")]),
    ("machine-token-on-user-route", &[("@AZ-203", "refused as the profile says for a signed-out non-page request")]),
    ("role-cached", &[("@AZ-005", "I am refused for lacking the right")]),
    ("plan-check-missing", &[("@AZ-302", "I am refused for lacking the right")]),
];

/// The defects fixtures/express-app knows (src/defect.js), caught by the HTTP scenarios.
const EXPRESS_DEFECTS: &[Defect] = &[
    ("no-protect", &[("@RP-001", "I am sent to sign in, with a way back to the data page")]),
    ("public-matcher-too-broad", &[("@RP-009", "with a way back to the public-lookalike probe")]),
    ("retries-post", &[("@RT-003", "Then I see an error")]),
    ("bearer-missing", &[("@BF-001", "each with my bearer token")]),
    ("sign-out-without-revoke", &[("@SO-001", "my session is revoked at Clerk")]),
    ("sign-out-keeps-cookie", &[("@SO-003", "the __session cookie is deleted")]),
];

/// The Express app's webhook handler defects (src/webhooks.js), caught by the `@webhooks` scenarios.
const EXPRESS_WEBHOOK_DEFECTS: &[Defect] = &[
    ("webhook-unverified", &[("@WH-103", "the app refused it with a 4xx status")]),
    ("webhook-replay", &[("@WH-105", "the app refused it with a 4xx status")]),
];

/// The Express app's authorization defects (src/authorization.js), caught by the `@authorization` scenarios.
const EXPRESS_AUTHZ_DEFECTS: &[Defect] = &[
    ("role-check-missing", &[("@AZ-002", "I am refused for lacking the right")]),
    ("wrong-permission", &[("@AZ-101", "the response status is 200")]),
];

/// The defects fixtures/python-app knows (defect.py), each with the scenario and (a part of) the step that must
/// catch it.
const PYTHON_DEFECTS: &[Defect] = &[
    ("no-protect", &[("@RP-001", "I am sent to sign in, with a way back to the data page")]),
    ("retries-post", &[("@RT-003", "Then I see an error")]),
    ("bearer-missing", &[("@BF-001", "the API received 1 call behind the GET API route, each with my bearer token")]),
    ("sign-out-without-revoke", &[("@SO-001", "my session is revoked at Clerk")]),
    ("sign-out-keeps-cookie", &[("@SO-003", "the __session cookie is deleted")]),
    (
        "trusts-is-signed-in",
        &[("@SEC-106", "the API received no request"), ("@SEC-131", "the API received no request"), ("@SEC-132", "the response carries no API data")],
    ),
    ("webhook-unverified", &[("@WH-103", "the app refused it with a 4xx status")]),
    ("webhook-replay", &[("@WH-105", "the app refused it with a 4xx status")]),
    ("role-check-missing", &[("@AZ-002", "I am refused for lacking the right")]),
    ("wrong-permission", &[("@AZ-101", "the response status is 200")]),
    ("plan-check-missing", &[("@AZ-302", "I am refused for lacking the right")]),
];

/// One app's seeded defects: the app, its profile, what its correct build runs, and each defect with what it runs.
struct Suite {
    app: App,
    profile: Profile,
    clean: RunArgs,
    defects: Vec<(&'static Defect, RunArgs)>,
}

/// The scenarios the defect names, and only those.
fn named(args: &RunArgs, defect: &Defect) -> RunArgs {
    let ids: Vec<&str> = defect.1.iter().map(|(id, _)| *id).collect();
    args.restricted_to(&ids.join(" or "))
}

fn load(app: App) -> Profile {
    Profile::load(app.profile_path()).unwrap_or_else(|e| panic!("{}: {e}", app.name()))
}

/// fixtures/nextjs-app, middleware build.
fn nextjs(args: &RunArgs) -> Suite {
    let app = App::Next(Variant::Middleware);
    let http = args.restricted_to("not @client");
    // The browser runs first: they are the longest (up to a minute), so the short ones fill in around them.
    let defects = CLIENT_DEFECTS
        .iter()
        .map(|d| (d, named(args, d)))
        .chain(DEFECTS.iter().map(|d| (d, http.clone())))
        .chain(WEBHOOK_DEFECTS.iter().map(|d| (d, args.restricted_to("@webhooks"))))
        .chain(AUTHZ_DEFECTS.iter().map(|d| (d, args.restricted_to("@authorization"))))
        .collect();
    Suite { app, profile: load(app), clean: http, defects }
}

/// fixtures/express-app: no client layer, so only the HTTP scenarios; its webhook and authorization defects run the
/// `@webhooks` and `@authorization` ones.
fn express(args: &RunArgs) -> Suite {
    let app = App::Express;
    let http = args.restricted_to("not @client");
    let defects = EXPRESS_DEFECTS
        .iter()
        .map(|d| (d, http.clone()))
        .chain(EXPRESS_WEBHOOK_DEFECTS.iter().map(|d| (d, args.restricted_to("@webhooks"))))
        .chain(EXPRESS_AUTHZ_DEFECTS.iter().map(|d| (d, args.restricted_to("@authorization"))))
        .collect();
    Suite { app, profile: load(app), clean: http, defects }
}

/// fixtures/python-app: each defect runs only the scenarios named to catch it (the whole HTTP suite against the
/// correct app is tests/conformance_stacks.rs), and the correct app runs all of them.
fn python(args: &RunArgs) -> Suite {
    let app = App::Python;
    let ids: Vec<&str> = PYTHON_DEFECTS.iter().flat_map(|d| d.1.iter().map(|(id, _)| *id)).collect();
    let clean = args.restricted_to(&ids.join(" or "));
    let defects = PYTHON_DEFECTS.iter().map(|d| (d, named(args, d))).collect();
    Suite { app, profile: load(app), clean, defects }
}

/// A run: an app with a defect, or `None` for the correct app.
struct Job<'a> {
    suite: &'a Suite,
    defect: Option<&'static str>,
    args: RunArgs,
}

async fn run_job(job: &Job<'_>) -> Vec<(String, String)> {
    let Suite { app, profile, .. } = job.suite;
    let extra_env = job.defect.map(|d| vec![("APP_DEFECT".to_owned(), d.to_owned())]).unwrap_or_default();
    let options = StackOptions { app: *app, kind: profile.instance, extra_env, ..StackOptions::default() };
    let stack = Stack::start(options).await.unwrap_or_else(|e| panic!("{} stack for {:?}: {e}", app.name(), job.defect));
    let (env, running) = stack.into_env(profile.clone());
    let report = run(env, &job.args).await.expect("the suite runs");
    drop(running);
    report.failures()
}

/// How many stacks run at once: a run is mostly waiting (the app, mock-clerk, the browser); two at a time kept two
/// cores a third busy (`time`: 104 s of CPU in 179 s). Four were no faster than three on a busy machine.
const PARALLEL_RUNS: usize = 3;

/// Runs every job on [`PARALLEL_RUNS`] threads, each with its own runtime (a run's futures are not `Send`); the
/// failures come back in the jobs' order.
fn run_all(jobs: &[Job<'_>]) -> Vec<Vec<(String, String)>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(vec![Vec::new(); jobs.len()]);
    std::thread::scope(|s| {
        for _ in 0..PARALLEL_RUNS {
            s.spawn(|| {
                let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let failures = runtime.block_on(run_job(job));
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = failures;
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Prints the suite's kill table; returns how many defects were caught, and the problems: the correct app failing,
/// or a defect not caught by every scenario it names.
fn kill_table(suite: &Suite, clean: &[(String, String)], results: &[Vec<(String, String)>]) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let mut killed = 0;
    if !clean.is_empty() {
        problems.push(format!("the correct {} app fails {clean:?}", suite.app.name()));
    }
    println!("\nkill table, {}: defect → named scenario that caught it; other failures", suite.profile.name);
    for (((defect, catchers), _), failures) in suite.defects.iter().zip(results) {
        let caught: Vec<&str> =
            catchers.iter().filter(|(id, step)| failures.iter().any(|(f, s)| f == id && s.contains(step))).map(|(id, _)| *id).collect();
        let mut others: Vec<&str> = failures.iter().map(|(id, _)| id.as_str()).filter(|id| !caught.contains(id)).collect();
        others.dedup();
        println!("  {defect:28} {:16} {}", if caught.is_empty() { "NOT CAUGHT".to_owned() } else { caught.join(" ") }, others.join(" "));
        if caught.len() < catchers.iter().map(|(id, _)| id).collect::<std::collections::BTreeSet<_>>().len() {
            problems.push(format!("{} {defect}: not caught by every one of {catchers:?}; failures: {failures:?}", suite.app.name()));
        } else {
            killed += 1;
        }
    }
    (killed, problems)
}

#[test]
fn the_suite_catches_the_seeded_defects_of_every_app() {
    let args = RunArgs { quiet: true, concurrency: 16, ..RunArgs::default() };
    let suites = [nextjs(&args), express(&args), python(&args)];
    let jobs: Vec<Job<'_>> = suites
        .iter()
        .flat_map(|suite| {
            std::iter::once(Job { suite, defect: None, args: suite.clean.clone() }).chain(suite.defects.iter().map(move |(d, args)| Job {
                suite,
                defect: Some(d.0),
                args: args.clone(),
            }))
        })
        .collect();
    let mut results = run_all(&jobs).into_iter();
    let mut problems = Vec::new();
    let (mut total, mut killed) = (0, 0);
    for suite in &suites {
        let clean = results.next().unwrap_or_default();
        let defects: Vec<_> = results.by_ref().take(suite.defects.len()).collect();
        let (caught, found) = kill_table(suite, &clean, &defects);
        problems.extend(found);
        total += suite.defects.len();
        killed += caught;
    }
    println!("kill rate: {killed}/{total} = {:.0} %", 100.0 * killed as f64 / total as f64);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
