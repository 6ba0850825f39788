//! The HTML report and mock-clerk's inspector in a real headless Chromium: the report of a failing run opens
//! without console errors, its filters change what is shown and the failing scenario's sequence diagram is
//! drawn; the inspector shows a signed-in user and ends their session with one click, advances the clock and adds
//! a fault (mock-clerk's state changes each time); neither page holds the secret key or a complete JWT.

use std::time::Duration;

use clerk_conformance::targets::{reference_profile_path, start_reference};
use harness::browser::Browser;
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use mock_clerk::{MockClerk, SignInRequest};
use reference_app::Defect;
use serde_json::{Value, json};

use crate::report_redaction::complete_jwts;

const WAIT: Duration = Duration::from_secs(15);

/// Console lines that are errors: uncaught exceptions, `console.error`, failed loads.
fn console_errors(browser: &Browser) -> Vec<String> {
    browser
        .console()
        .into_iter()
        .filter(|l| l.level == "error" || l.level == "exception" || l.level.ends_with(":error"))
        .map(|l| format!("{}: {}", l.level, l.text))
        .collect()
}

async fn shown(browser: &Browser) -> usize {
    browser.eval::<usize>("document.querySelectorAll('details.scenario:not([hidden])').length").await.unwrap()
}

async fn choose(browser: &Browser, select: &str, value: &str) {
    let js = format!(
        "(() => {{ const s = document.getElementById({select:?}); s.value = {value:?}; s.dispatchEvent(new Event('change')); return s.value; }})()"
    );
    assert_eq!(browser.eval::<String>(&js).await.unwrap(), value, "{select} offers {value}");
}

fn assert_clean(what: &str, page: &str, secret: &str) {
    assert!(!page.contains(secret), "{what} holds the secret key");
    let jwts = complete_jwts(page);
    assert!(jwts.is_empty(), "{what} holds {} complete JWT(s), e.g. {}", jwts.len(), jwts[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_a_failing_run_reads_in_chromium() {
    let dir = std::env::temp_dir().join(format!("conformance-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("report.html");
    // Two features, one of them failing through the seeded defect.
    let args = RunArgs { tags: Some("@bearer-forwarding or @redirects".into()), html: Some(path.clone()), quiet: true, ..RunArgs::default() };
    let profile = Profile::load(reference_profile_path()).unwrap();
    let running = start_reference(profile, Some(Defect::RendersTokenIntoPage)).await.unwrap();
    let report = run(running.env.clone(), &args).await.unwrap();
    assert_eq!(report.failed_ids(), ["@BF-004"], "the seeded defect fails one scenario");
    let secret = running.env.secret_key.clone();

    let browser = Browser::launch().await.expect("Chromium (apt-get install -y chromium, or CHROME=…)");
    browser.goto(&format!("file://{}", path.display())).await.unwrap();
    let all = browser.eval::<usize>("document.querySelectorAll('details.scenario').length").await.unwrap();
    assert_eq!(all, report.results.len());
    assert_eq!(shown(&browser).await, all, "everything is shown at first");
    assert_eq!(browser.text("#shown", WAIT).await.unwrap(), format!("{all} of {all} scenarios shown"));

    // The failing scenario is open and its diagram drawn: lanes and arrows with a size on the page.
    let drawn: Value = browser
        .eval(
            "(() => { const s = document.querySelector('details.scenario[data-status=\"failed\"]'); const svg = s.querySelector('svg.diagram'); \
             const box = svg.getBoundingClientRect(); return { open: s.open, arrows: svg.querySelectorAll('g.arrow').length, \
             width: box.width, height: box.height, lanes: Array.from(svg.querySelectorAll('text.party')).map(t => t.textContent) }; })()",
        )
        .await
        .unwrap();
    assert_eq!(drawn["open"], true, "{drawn}");
    assert!(
        drawn["arrows"].as_u64().unwrap() >= 4 && drawn["width"].as_f64().unwrap() > 300.0 && drawn["height"].as_f64().unwrap() > 60.0,
        "{drawn}"
    );
    assert_eq!(drawn["lanes"], json!(["browser", "app", "mock-clerk", "downstream API"]));

    // Filters: by status, by feature, by tag.
    choose(&browser, "f-status", "failed").await;
    assert_eq!(shown(&browser).await, 1, "only the failing scenario");
    choose(&browser, "f-status", "").await;
    choose(&browser, "f-feature", "Bearer forwarding").await;
    let bearer = shown(&browser).await;
    assert!(bearer > 1 && bearer < all, "{bearer} of {all}");
    choose(&browser, "f-feature", "").await;
    choose(&browser, "f-tag", "@BF-004").await;
    assert_eq!(shown(&browser).await, 1);
    assert_eq!(browser.text("#shown", WAIT).await.unwrap(), format!("1 of {all} scenarios shown"));

    let errors = console_errors(&browser);
    assert!(errors.is_empty(), "console errors: {errors:?}");
    let page: String = browser.eval("document.documentElement.outerHTML").await.unwrap();
    assert_clean("the report", &page, &secret);
    browser.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_ends_a_session_with_one_click() {
    let mock = MockClerk::builder().start().await;
    let http = reqwest::Client::new();
    let signed = mock
        .sign_in_with(SignInRequest { email: Some("ada@example.com".into()), first_name: Some("Ada".into()), ..SignInRequest::default() })
        .expect("signs in");
    let (user, session) = (signed.user_id, signed.session_id);

    let browser = Browser::launch().await.expect("Chromium (apt-get install -y chromium, or CHROME=…)");
    browser.goto(&format!("{}/__mock/ui", mock.url())).await.unwrap();
    let users = browser.text("#users tbody", WAIT).await.unwrap();
    assert!(users.contains("ada@example.com") && users.contains(&user), "{users}");
    let sessions = browser.text("#sessions tbody", WAIT).await.unwrap();
    assert!(sessions.contains(&session) && sessions.contains("active") && sessions.contains(&format!("sub {user}")), "{sessions}");

    // One click ends it: mock-clerk says so, and so does the page.
    browser.click(&format!("button.end[data-session=\"{session}\"]")).await.unwrap();
    let backend = format!("{}/v1/sessions/{session}", mock.url());
    let status = browser
        .wait_until("the session to end at mock-clerk", WAIT, || async {
            let s: Value = http.get(&backend).bearer_auth(mock.secret_key()).send().await.ok()?.json().await.ok()?;
            (s["status"] != "active").then(|| s["status"].clone())
        })
        .await
        .unwrap();
    assert_eq!(status, "ended");
    browser
        .wait_until("the page to show it ended", WAIT, || async {
            let text: String = browser.eval("document.querySelector('#sessions tbody').innerText").await.ok()?;
            (text.contains("ended") && !text.contains("active")).then_some(())
        })
        .await
        .unwrap();

    // Advance the clock and add a fault (the forms' defaults: 60 s; 503 on GET|any /v1/jwks once).
    browser.click("#advance button").await.unwrap();
    browser.click("#add-fault button").await.unwrap();
    let control = |path: &'static str| {
        let url = format!("{}{path}", mock.url());
        let http = http.clone();
        async move { http.get(url).send().await.ok()?.json::<Value>().await.ok() }
    };
    let offset = browser
        .wait_until("the clock to move", WAIT, || async {
            control("/__mock/clock").await.filter(|c| c["offset_ms"] != 0).map(|c| c["offset_ms"].clone())
        })
        .await
        .unwrap();
    assert_eq!(offset, 60_000);
    let faults = browser.wait_until("the fault", WAIT, || async { control("/__mock/faults").await.filter(|f| f[0].is_object()) }).await.unwrap();
    assert_eq!((faults[0]["path"].as_str(), faults[0]["status"].as_u64()), (Some("/v1/jwks"), Some(503)));

    // "Sign in as" gives a new session and its cookies, shown with signatures redacted.
    browser.click(&format!("button.sign-in[data-user=\"{user}\"]")).await.unwrap();
    let box_text = browser.text("#signed-in", WAIT).await.unwrap();
    assert!(box_text.contains("__session=") && box_text.contains(".[redacted]"), "{box_text}");

    let errors = console_errors(&browser);
    assert!(errors.is_empty(), "console errors: {errors:?}");
    let page: String = browser.eval("document.documentElement.outerHTML").await.unwrap();
    assert_clean("the inspector", &page, mock.secret_key());
    browser.close().await;
}
