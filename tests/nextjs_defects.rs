//! Seeded defects in the real Next.js app: `APP_DEFECT=<name>` (read by fixtures/nextjs-app at start) breaks
//! one documented behaviour. For each, the suite runs against the middleware build and the defect counts as
//! caught only when one of the scenarios it names fails at the named step. Prints the kill table and the kill
//! rate; the correct build must give no unexpected result.
//!
//! Server-side defects run the HTTP scenarios (`not @client`); client-side defects run, in a real Chromium, only
//! the browser scenarios named to catch them (the whole `@client` set against the correct app is
//! `tests/conformance_browser.rs`); the webhook handler's defects run the `@webhooks` scenarios.

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

async fn run_against(defect: Option<&str>, profile: &Profile, args: &RunArgs) -> Vec<(String, String)> {
    let extra_env = defect.map(|d| vec![("APP_DEFECT".to_owned(), d.to_owned())]).unwrap_or_default();
    let options = StackOptions { variant: Variant::Middleware, kind: profile.instance, extra_env, ..StackOptions::default() };
    let stack = Stack::start(options).await.unwrap_or_else(|e| panic!("stack for {defect:?}: {e}"));
    let (env, app) = stack.into_env(profile.clone());
    let report = run(env, args).await.expect("the suite runs");
    drop(app);
    report.failures()
}

/// How many stacks run at once: a run is mostly waiting (the app, mock-clerk, the browser); two at a time kept two
/// cores a third busy (`time`: 104 s of CPU in 179 s). Four were no faster than three on a busy machine.
const PARALLEL_RUNS: usize = 3;

/// Runs every job (a defect, or `None` for the correct app, with its restriction) on [`PARALLEL_RUNS`] threads,
/// each with its own runtime (a run's futures are not `Send`); the failures come back in the jobs' order.
fn run_all(profile: &Profile, jobs: &[(Option<&str>, RunArgs)]) -> Vec<Vec<(String, String)>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(vec![Vec::new(); jobs.len()]);
    std::thread::scope(|s| {
        for _ in 0..PARALLEL_RUNS {
            s.spawn(|| {
                let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((defect, args)) = jobs.get(i) else { break };
                    let failures = runtime.block_on(run_against(*defect, profile, args));
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = failures;
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn the_suite_catches_the_seeded_defects_of_the_nextjs_app() {
    let profile = Profile::load(clerk_conformance::node::workspace_root().join("fixtures/targets/nextjs-middleware.toml")).unwrap();
    let args = RunArgs { quiet: true, concurrency: 16, ..RunArgs::default() };
    let http = args.restricted_to("not @client");
    let named = |d: &Defect| {
        let ids: Vec<&str> = d.1.iter().map(|(id, _)| *id).collect();
        args.restricted_to(&ids.join(" or "))
    };
    // The browser runs first: they are the longest (up to a minute), so the short ones fill in around them.
    let defects: Vec<(&Defect, RunArgs)> = CLIENT_DEFECTS
        .iter()
        .map(|d| (d, named(d)))
        .chain(DEFECTS.iter().map(|d| (d, http.clone())))
        .chain(WEBHOOK_DEFECTS.iter().map(|d| (d, args.restricted_to("@webhooks"))))
        .chain(AUTHZ_DEFECTS.iter().map(|d| (d, args.restricted_to("@authorization"))))
        .collect();
    let jobs: Vec<(Option<&str>, RunArgs)> =
        std::iter::once((None, http.clone())).chain(defects.iter().map(|((defect, _), args)| (Some(*defect), args.clone()))).collect();
    let mut results = run_all(&profile, &jobs).into_iter();
    let clean = results.next().unwrap_or_default();
    assert!(clean.is_empty(), "the correct app fails {clean:?}");
    let mut problems = Vec::new();
    println!("\nkill table, fixtures/nextjs-app (middleware build): defect → named scenario that caught it; other failures");
    for (((defect, catchers), _), failures) in defects.iter().zip(results) {
        let caught: Vec<&str> =
            catchers.iter().filter(|(id, step)| failures.iter().any(|(f, s)| f == id && s.contains(step))).map(|(id, _)| *id).collect();
        let mut others: Vec<&str> = failures.iter().map(|(id, _)| id.as_str()).filter(|id| !caught.contains(id)).collect();
        others.dedup();
        println!("  {defect:28} {:16} {}", if caught.is_empty() { "NOT CAUGHT".to_owned() } else { caught.join(" ") }, others.join(" "));
        if caught.len() < catchers.iter().map(|(id, _)| id).collect::<std::collections::BTreeSet<_>>().len() {
            problems.push(format!("{defect}: not caught by every one of {catchers:?}; failures: {failures:?}"));
        }
    }
    let total = DEFECTS.len() + CLIENT_DEFECTS.len() + WEBHOOK_DEFECTS.len() + AUTHZ_DEFECTS.len();
    let killed = total - problems.len();
    println!("kill rate: {killed}/{total} = {:.0} %", 100.0 * killed as f64 / total as f64);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
