//! Seeded defects in the real Next.js app: `APP_DEFECT=<name>` (read by fixtures/nextjs-app at start) breaks
//! one documented behaviour. For each, the suite runs against the middleware build and must fail, only in the
//! scenarios that test that behaviour. Prints the kill table and the kill rate.

use std::collections::BTreeSet;

use harness::nextjs::Variant;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use harness::stack::{Stack, StackOptions};

/// The defects fixtures/nextjs-app knows (lib/defect.ts), with the scenarios that test what each breaks.
const DEFECTS: &[(&str, &[&str])] = &[
    ("no-protect", &["@RP-", "@RD-001", "@RD-004", "@TR-004", "@SO-004", "@SEC-"]),
    ("public-matcher-too-broad", &["@RP-002", "@RP-003", "@RP-008", "@RP-009", "@SEC-"]),
    ("retries-post", &["@RT-003"]),
    // Without a revoke the session stays active, so the handshake after sign-out signs the browser back in (SO-003).
    ("sign-out-without-revoke", &["@SO-001", "@SO-003", "@SO-004", "@SO-005", "@SEC-6"]),
    ("sign-out-keeps-cookie", &["@SO-003", "@SEC-6"]),
];

async fn run_against(defect: Option<&str>, profile: &Profile, args: &RunArgs) -> BTreeSet<String> {
    let extra_env = defect.map(|d| vec![("APP_DEFECT".to_owned(), d.to_owned())]).unwrap_or_default();
    let options = StackOptions { variant: Variant::Middleware, kind: profile.instance, extra_env, ..StackOptions::default() };
    let stack = Stack::start(options).await.unwrap_or_else(|e| panic!("stack for {defect:?}: {e}"));
    let (env, app) = stack.into_env(profile.clone());
    let report = run(env, args).await.expect("the suite runs");
    drop(app);
    report.failed_ids().into_iter().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_suite_catches_the_seeded_defects_of_the_nextjs_app() {
    let profile = Profile::load(clerk_conformance::node::workspace_root().join("fixtures/targets/nextjs-middleware.toml")).unwrap();
    let args = RunArgs { quiet: true, concurrency: 16, ..RunArgs::default() };
    let clean = run_against(None, &profile, &args).await;
    assert!(clean.is_empty(), "the correct app fails {clean:?}");
    let mut problems = Vec::new();
    println!("\nkill table, fixtures/nextjs-app (middleware build):");
    for (defect, relevant) in DEFECTS {
        let caught = run_against(Some(defect), &profile, &args).await;
        let stray: Vec<&String> = caught.iter().filter(|id| !relevant.iter().any(|p| id.starts_with(p))).collect();
        println!("  {defect:28} {}", if caught.is_empty() { "NOT CAUGHT".to_owned() } else { caught.iter().cloned().collect::<Vec<_>>().join(" ") });
        if caught.is_empty() {
            problems.push(format!("{defect}: not caught"));
        } else if !stray.is_empty() {
            problems.push(format!("{defect}: also failed unrelated scenarios {stray:?}"));
        }
    }
    let killed = DEFECTS.len() - problems.iter().filter(|p| p.ends_with("not caught")).count();
    println!("kill rate: {killed}/{} = {:.0} %", DEFECTS.len(), 100.0 * killed as f64 / DEFECTS.len() as f64);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
