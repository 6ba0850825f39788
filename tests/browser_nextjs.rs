//! The client layer in a real browser: the Next.js fixture app (`fixtures/nextjs-app`, `middleware.ts` build)
//! against mock-clerk, driven in headless Chromium (`harness::browser`), on a development (`pk_test_`) and a
//! production (`pk_live_`) instance. clerk-js and Clerk's UI come from mock-clerk (`NEXT_PUBLIC_CLERK_JS_URL`,
//! `NEXT_PUBLIC_CLERK_UI_URL`), never from a CDN, and talk to mock-clerk's Frontend API.
//!
//! Flows, each in a fresh browser:
//! 1. email + password through the app's own `<SignIn/>` (a user created through the Backend API), landing on
//!    the data page with the first name and email shown by `useUser`; a wrong password first shows Clerk's
//!    error;
//! 2. email code (a user without a password; the code read through the control API);
//! 3. sign-up with email verification;
//! 4. the user menu (`<UserButton/>`) → "Sign out" lands on `/auth/sign-in` and ends the session at Clerk;
//! 5. a short token lifetime: the page stays open past two lifetimes, the app's protected API keeps answering
//!    200 from the page, because clerk-js refreshes `__session` through the Frontend API (no handshake).
//!
//! A failing check panics with the page URL, the browser console, the Frontend API calls the browser made, a
//! screenshot path, and mock-clerk's request log. Needs Chromium (`CHROME` or `PATH`; `apt-get install -y
//! chromium`); without it the test fails saying so.

use std::time::{Duration, Instant};

use harness::browser::{Browser, DEFAULT_WAIT};
use harness::downstream::Downstream;
use harness::nextjs::{NextApp, Variant};
use mock_clerk::{InstanceKind, MockClerk};
use serde_json::{Value, json};

/// The token lifetime of these runs: short, so that staying two lifetimes on a page takes well under a minute.
const TOKEN_TTL: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct-horse-battery-1";

struct Ctx {
    clerk: MockClerk,
    app: NextApp,
    _downstream: Downstream,
    kind: InstanceKind,
    http: reqwest::Client,
}

impl Ctx {
    async fn start(kind: InstanceKind) -> Self {
        let clerk = MockClerk::builder().kind(kind).token_lifetime(TOKEN_TTL).start().await;
        let downstream = Downstream::start().await.expect("downstream double starts");
        let mut env = clerk.env();
        env.push(("NEXT_PUBLIC_API_URL".into(), downstream.url()));
        let app = NextApp::start(Variant::Middleware, &env).await.expect("the Next.js fixture builds and starts");
        Self { clerk, app, _downstream: downstream, kind, http: reqwest::Client::new() }
    }

    async fn browser(&self) -> Browser {
        match Browser::launch().await {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    /// `POST /v1/users` through the Backend API, as an app's admin script would.
    async fn create_user(&self, email: &str, first_name: &str, password: Option<&str>) -> Value {
        let mut body = json!({"email_address": [email], "first_name": first_name, "last_name": "Tester"});
        if let Some(p) = password {
            body["password"] = p.into();
        }
        let r = self.http.post(format!("{}/v1/users", self.clerk.url())).bearer_auth(self.clerk.secret_key()).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 200, "POST /v1/users");
        r.json().await.unwrap()
    }

    async fn codes_for(&self, email: &str) -> Vec<Value> {
        let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("identifier", email).finish();
        let r = self.http.get(format!("{}/__mock/codes?{query}", self.clerk.url())).send().await.unwrap();
        r.json::<Vec<Value>>().await.unwrap()
    }

    /// Panics with everything a reader needs: the browser's view, a screenshot, mock-clerk's log.
    async fn fail(&self, browser: &Browser, flow: &str, what: &str) -> String {
        let shot = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "target/browser-failures/{:?}-{}.png",
            self.kind,
            flow.replace(' ', "-")
        ));
        let shot = match browser.screenshot(&shot).await {
            Ok(p) => p.display().to_string(),
            Err(e) => format!("(no screenshot: {e})"),
        };
        let log: Vec<String> = self.clerk.requests().iter().map(|r| format!("  {} {} -> {}", r.method, r.path, r.status)).collect();
        format!(
            "[{:?}] {flow}: {what}\nscreenshot: {shot}\n{}mock-clerk request log:\n{}\n--- next start (tail) ---\n{}",
            self.kind,
            browser.report(&self.clerk.url()).await,
            log.join("\n"),
            self.app.output_tail()
        )
    }
}

/// `expr` or the failure report.
macro_rules! must {
    ($ctx:expr, $browser:expr, $flow:expr, $result:expr, $($what:tt)+) => {
        match $result {
            Ok(v) => v,
            Err(e) => panic!("{}", $ctx.fail(&$browser, $flow, &format!("{}: {e}", format!($($what)+))).await),
        }
    };
}

fn path_of(url: &str) -> String {
    url::Url::parse(url).map(|u| u.path().to_owned()).unwrap_or_default()
}

/// Types the identifier (and the password if the first screen shows it) and continues.
async fn sign_in_with_identifier(ctx: &Ctx, b: &Browser, flow: &str, email: &str) {
    must!(ctx, b, flow, b.fill("input[name=identifier]", email).await, "typing the email address");
    must!(ctx, b, flow, b.click(".cl-formButtonPrimary").await, "clicking Continue");
}

async fn enter_password(ctx: &Ctx, b: &Browser, flow: &str, password: &str) {
    must!(ctx, b, flow, b.fill("input[name=password]", password).await, "typing the password");
    must!(ctx, b, flow, b.click(".cl-formButtonPrimary").await, "clicking Continue after the password");
}

async fn enter_code(ctx: &Ctx, b: &Browser, flow: &str, code: &str) {
    // Clerk's OTP field: one input taking the whole code (input-otp), or one input per digit.
    must!(ctx, b, flow, b.fill("input[autocomplete=one-time-code], input[name=code], .cl-otpCodeFieldInput", code).await, "typing the code");
}

async fn expect_signed_in_on(ctx: &Ctx, b: &Browser, flow: &str, path: &str, first_name: &str, email: &str) {
    must!(ctx, b, flow, b.wait_for_url(&format!("the page {path}"), DEFAULT_WAIT, |u| path_of(u) == path).await, "landing on {path}");
    let shown = must!(ctx, b, flow, b.text("[data-testid=user-first-name]", DEFAULT_WAIT).await, "useUser's first name");
    if shown != first_name {
        panic!("{}", ctx.fail(b, flow, &format!("the first name shown is {shown:?}, not {first_name:?}")).await);
    }
    let shown = must!(ctx, b, flow, b.text("[data-testid=user-email]", DEFAULT_WAIT).await, "useUser's email");
    if shown != email {
        panic!("{}", ctx.fail(b, flow, &format!("the email shown is {shown:?}, not {email:?}")).await);
    }
}

async fn flow_password(ctx: &Ctx, email: &str) -> Browser {
    let flow = "password sign-in";
    ctx.create_user(email, "Ada", Some(PASSWORD)).await;
    let b = ctx.browser().await;
    must!(ctx, b, flow, b.goto(&format!("{}/schedules", ctx.app.url())).await, "opening /schedules");
    must!(ctx, b, flow, b.wait_for_url("the sign-in page", DEFAULT_WAIT, |u| path_of(u) == "/auth/sign-in").await, "being sent to sign in");
    sign_in_with_identifier(ctx, &b, flow, email).await;
    // A wrong password first: Clerk's error object, shown by <SignIn/>.
    enter_password(ctx, &b, flow, "wrong-password-0").await;
    let error = must!(ctx, b, flow, b.text(".cl-formFieldErrorText, [id$=-error-feedback]", DEFAULT_WAIT).await, "the wrong-password error");
    if !error.to_lowercase().contains("password") {
        panic!("{}", ctx.fail(&b, flow, &format!("the wrong-password error reads {error:?}")).await);
    }
    enter_password(ctx, &b, flow, PASSWORD).await;
    expect_signed_in_on(ctx, &b, flow, "/schedules", "Ada", email).await;
    let data = must!(ctx, b, flow, b.text("pre#schedules", DEFAULT_WAIT).await, "the data page");
    if !data.contains(harness::downstream::DATA_MARKER_PREFIX) {
        panic!("{}", ctx.fail(&b, flow, &format!("the data page shows {data:?}, not the downstream's schedules")).await);
    }
    b
}

async fn flow_email_code(ctx: &Ctx, email: &str) {
    let flow = "email code sign-in";
    ctx.create_user(email, "Grace", None).await;
    let b = ctx.browser().await;
    must!(ctx, b, flow, b.goto(&format!("{}/auth/sign-in", ctx.app.url())).await, "opening the sign-in page");
    sign_in_with_identifier(ctx, &b, flow, email).await;
    let codes = must!(
        ctx,
        b,
        flow,
        b.wait_until("a code sent to the user", DEFAULT_WAIT, || async {
            let codes = ctx.codes_for(email).await;
            (!codes.is_empty()).then_some(codes)
        })
        .await,
        "the email code"
    );
    let code = codes.last().and_then(|c| c["code"].as_str()).unwrap_or_default().to_owned();
    enter_code(ctx, &b, flow, &code).await;
    expect_signed_in_on(ctx, &b, flow, "/", "Grace", email).await;
    b.close().await;
}

async fn flow_sign_up(ctx: &Ctx, email: &str) {
    let flow = "sign-up";
    let b = ctx.browser().await;
    must!(ctx, b, flow, b.goto(&format!("{}/auth/sign-up", ctx.app.url())).await, "opening the sign-up page");
    must!(ctx, b, flow, b.fill("input[name=firstName]", "Linus").await, "typing the first name");
    must!(ctx, b, flow, b.fill("input[name=emailAddress]", email).await, "typing the email address");
    must!(ctx, b, flow, b.fill("input[name=password]", PASSWORD).await, "typing the password");
    must!(ctx, b, flow, b.click(".cl-formButtonPrimary").await, "clicking Continue");
    let codes = must!(
        ctx,
        b,
        flow,
        b.wait_until("a verification code", DEFAULT_WAIT, || async {
            let codes = ctx.codes_for(email).await;
            (!codes.is_empty()).then_some(codes)
        })
        .await,
        "the verification code"
    );
    let code = codes.last().and_then(|c| c["code"].as_str()).unwrap_or_default().to_owned();
    enter_code(ctx, &b, flow, &code).await;
    expect_signed_in_on(ctx, &b, flow, "/", "Linus", email).await;
    b.close().await;
}

async fn flow_user_button_sign_out(ctx: &Ctx, b: &Browser) {
    let flow = "user button sign-out";
    let sid: String = must!(ctx, b, flow, b.eval("window.Clerk.session.id").await, "the session id in the page");
    must!(ctx, b, flow, b.click(".cl-userButtonTrigger").await, "opening the user menu");
    must!(ctx, b, flow, b.click(".cl-userButtonPopoverActionButton__signOut").await, "clicking Sign out");
    must!(ctx, b, flow, b.wait_for_url("the sign-in page", DEFAULT_WAIT, |u| path_of(u) == "/auth/sign-in").await, "landing on /auth/sign-in");
    let status = ctx.clerk.session(&sid).map(|s| s.status);
    // clerk-js's signOut() removes the client's sessions (`DELETE /v1/client/sessions`).
    use mock_clerk::store::SessionStatus::{Ended, Removed};
    if !matches!(status, Some(Ended | Removed)) {
        panic!("{}", ctx.fail(b, flow, &format!("session {sid} is {status:?} at mock-clerk, not signed out")).await);
    }
}

async fn flow_token_refresh(ctx: &Ctx, email: &str) {
    let flow = "token refresh";
    let b = flow_password(ctx, email).await;
    let handshakes_before = ctx.clerk.requests_to("GET", "/v1/client/handshake").len();
    let first: String = must!(ctx, b, flow, b.eval("document.cookie").await, "the cookies");
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed() < TOKEN_TTL * 2 + Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_secs(4)).await;
        let status: i64 = must!(
            ctx,
            b,
            flow,
            b.eval("fetch('/api/schedules', {headers: {accept: 'application/json'}}).then(r => r.status)").await,
            "calling the API"
        );
        calls += 1;
        if status != 200 {
            panic!("{}", ctx.fail(&b, flow, &format!("GET /api/schedules answered {status} after {:?} on the page", start.elapsed())).await);
        }
    }
    let last: String = must!(ctx, b, flow, b.eval("document.cookie").await, "the cookies");
    let session = |c: &str| c.split("; ").find(|p| p.starts_with("__session=")).map(str::to_owned);
    if session(&first) == session(&last) {
        panic!("{}", ctx.fail(&b, flow, "__session never changed: clerk-js did not refresh it").await);
    }
    let refreshes = b.requests_to(&ctx.clerk.url()).iter().filter(|e| e.url.contains("/tokens") && e.status == Some(200)).count();
    let handshakes = ctx.clerk.requests_to("GET", "/v1/client/handshake").len() - handshakes_before;
    if refreshes == 0 || handshakes != 0 {
        panic!("{}", ctx.fail(&b, flow, &format!("{refreshes} token refreshes through the Frontend API, {handshakes} handshakes")).await);
    }
    println!("[{:?}] {flow}: {calls} API calls over {:?}, all 200; {refreshes} token refreshes, no handshake", ctx.kind, start.elapsed());
    flow_user_button_sign_out(ctx, &b).await;
    let fapi: Vec<String> = b.requests_to(&ctx.clerk.url()).iter().filter(|e| !e.url.contains("/npm/")).map(|e| e.to_string()).collect();
    println!("[{:?}] Frontend API calls of the password flow, refresh and sign-out:\n  {}", ctx.kind, fapi.join("\n  "));
    b.close().await;
}

async fn run(kind: InstanceKind) {
    let started = Instant::now();
    let ctx = Ctx::start(kind).await;
    let tag = format!("{kind:?}").to_lowercase();
    flow_email_code(&ctx, &format!("grace.{tag}@example.com")).await;
    flow_sign_up(&ctx, &format!("linus.{tag}@example.com")).await;
    flow_token_refresh(&ctx, &format!("ada.{tag}@example.com")).await;
    let unanswered: Vec<String> =
        ctx.clerk.requests().iter().filter(|r| r.status == 404 || r.status == 405).map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(unanswered.is_empty(), "[{kind:?}] Frontend API calls mock-clerk did not answer: {unanswered:?}");
    println!("[{kind:?}] every browser flow passed in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_layer_in_chromium_development_instance() {
    run(InstanceKind::Development).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_layer_in_chromium_production_instance() {
    run(InstanceKind::Production).await;
}
