//! `@clerk/testing` (fixtures/clerk-testing, pinned by its lockfile) against mock-clerk and the Next.js
//! fixture: `clerkSetup()` fetches a testing token from mock-clerk's Backend API, then in the system Chromium
//! (playwright-core, `executablePath`) `setupClerkTestingToken({page})` and `clerk.signIn({page, signInParams})`
//! with the password, email_code and ticket strategies (the ticket from a sign-in token the real
//! `@clerk/backend` creates against mock-clerk) each sign a fresh browser in, and the protected page
//! `/schedules` then renders for that user.
//!
//! The Node script runs in its own process group (with the Chromium it launches), stopped by its PID when the
//! guard drops — also when an assertion fails; mock-clerk and `next start` are stopped by the stack.

use std::time::{Duration, Instant};

use clerk_conformance::node::{ensure_npm_ci, fixture_dir};
use harness::process::{ChildGuard, ProcessError};
use harness::stack::{Stack, StackOptions};
use serde_json::{Value, json};

async fn create_user(stack: &Stack, email: &str, password: Option<&str>) -> String {
    let mut body = json!({"email_address": [email], "first_name": "Ada"});
    if let Some(p) = password {
        body["password"] = p.into();
    }
    let r = reqwest::Client::new()
        .post(format!("{}/v1/users", stack.clerk.url()))
        .bearer_auth(stack.clerk.secret_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Runs `node sign-in.mjs <input file>` in its own process group and returns its JSON line and whole output.
async fn run_script(input: &Value, timeout: Duration) -> (Option<Value>, String) {
    let dir = fixture_dir("clerk-testing");
    ensure_npm_ci(&dir).expect("npm ci for fixtures/clerk-testing");
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = format!("{}-{}", std::process::id(), RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let input_file = target.join(format!("clerk-testing-input-{run}.json"));
    std::fs::write(&input_file, input.to_string()).unwrap();
    let mut command = std::process::Command::new("node");
    command.arg("sign-in.mjs").arg(&input_file).current_dir(&dir);
    let log = target.join(format!("clerk-testing-{run}.log"));
    let mut guard = ChildGuard::spawn(command, &log).expect("node starts");
    let started = Instant::now();
    let output = loop {
        match guard.check_running() {
            Err(ProcessError::ExitedEarly { .. }) => break std::fs::read_to_string(&log).unwrap_or_default(),
            Err(other) => panic!("{other}"),
            Ok(()) if started.elapsed() > timeout => {
                guard.stop(Duration::from_secs(2));
                panic!("node sign-in.mjs did not finish within {timeout:?}:\n{}", guard.output_tail(6000));
            }
            Ok(()) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    drop(guard);
    let _ = std::fs::remove_file(&input_file);
    let line = output.lines().rev().find(|l| l.starts_with('{')).and_then(|l| serde_json::from_str(l).ok());
    (line, output)
}

#[tokio::test(flavor = "multi_thread")]
async fn clerk_testing_signs_in_with_password_email_code_and_ticket() {
    sign_in_three_ways(false).await;
}

/// In mock-clerk's TLS mode the Frontend API is `https://<pk host>`, the only form `setupClerkTestingToken`
/// intercepts: every Frontend API call clerk-js makes then carries the testing token, and mock-clerk accepts it.
/// (The handshake is a page navigation the app's middleware starts, which the helper leaves alone.)
#[tokio::test(flavor = "multi_thread")]
async fn over_tls_every_frontend_api_call_carries_the_testing_token() {
    let stack = sign_in_three_ways(true).await;
    let by_clerk_js = |path: &str| {
        path == "/v1/environment" || path == "/v1/client" || (path.starts_with("/v1/client/") && path != mock_clerk::fapi::handshake::HANDSHAKE_PATH)
    };
    let fapi: Vec<_> = stack.clerk.requests().into_iter().filter(|r| by_clerk_js(&r.path)).collect();
    assert!(fapi.iter().any(|r| r.path.ends_with("/attempt_first_factor")), "{:?}", fapi.iter().map(|r| &r.path).collect::<Vec<_>>());
    let without: Vec<String> = fapi
        .iter()
        .filter(|r| !r.query.as_deref().unwrap_or("").contains("__clerk_testing_token="))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(without.is_empty(), "Frontend API calls without the testing token: {without:?}");
}

async fn sign_in_three_ways(tls: bool) -> Stack {
    let chrome = harness::browser::find_chromium().expect("Chromium is required (CHROME or PATH)");
    let stack = Stack::start(StackOptions { tls, ..StackOptions::default() }).await.expect("stack starts");
    create_user(&stack, "ada@example.com", Some("correct-horse-1")).await;
    create_user(&stack, "grace+clerk_test@example.com", None).await;
    let ticket_user = create_user(&stack, "edsger@example.com", None).await;
    let input = json!({
        "publishableKey": stack.clerk.publishable_key(),
        "secretKey": stack.clerk.secret_key(),
        "apiUrl": stack.clerk.url(),
        "appUrl": stack.app.url(),
        "chrome": chrome,
        "ignoreHttpsErrors": tls,
        "users": {
            "password": {"email": "ada@example.com", "password": "correct-horse-1"},
            "emailCode": {"email": "grace+clerk_test@example.com"},
            "ticket": {"userId": ticket_user, "email": "edsger@example.com"},
        },
    });
    let (out, output) = run_script(&input, Duration::from_secs(240)).await;
    let out = out.unwrap_or_else(|| panic!("no JSON line from sign-in.mjs:\n{output}"));
    println!("{out:#}");

    // clerkSetup() took its testing token from mock-clerk (CLERK_API_URL), not from api.clerk.com.
    assert_eq!(stack.clerk.requests_to("POST", "/v1/testing_tokens").len(), 1, "{output}");
    assert!(out["testingToken"].as_str().is_some_and(|t| t.contains('-')), "{out:#}");
    assert_eq!(out["fapi"], stack.clerk.instance().frontend_host(), "{out:#}");
    let results = out["results"].as_array().unwrap();
    let strategies: Vec<&str> = results.iter().filter_map(|r| r["strategy"].as_str()).collect();
    assert_eq!(strategies, ["password", "email_code", "ticket"]);
    for r in results {
        assert_eq!(r["signedOutUrl"], "/auth/sign-in", "before signing in, /schedules must send the browser to sign in: {r:#}\n{output}");
        assert_eq!(r["ok"], true, "{r:#}\n{output}");
    }
    // The ticket was a sign-in token the real @clerk/backend created, and it was used.
    assert_eq!(stack.clerk.requests_to("POST", "/v1/sign_in_tokens").len(), 1);
    let codes = stack.clerk.state().fapi().attempts().codes.iter().filter(|c| c.identifier == "grace+clerk_test@example.com").count();
    assert_eq!(codes, 1, "the email_code strategy prepared one code");
    stack
}
