//! The documented Next.js 16 + `@clerk/nextjs` 7 app (`fixtures/nextjs-app`), driven over HTTP like a browser:
//! cookie jar, redirects followed one hop at a time, against mock-clerk and the recording downstream double.
//!
//! One [`Stack`] per (build, instance kind): `middleware.ts` (Edge) and `proxy.ts` (Node) × `pk_test` and
//! `pk_live`. Each test function starts its stack once and runs every flow on it in turn, each flow with a
//! fresh [`Agent`] (a fresh browser) and, where it signs in, its own Clerk session, so flows cannot see each
//! other's cookies, scripts or downstream calls:
//!
//! - unauthenticated page request → (dev-browser handshake on `pk_test`) → 307 to
//!   `/auth/sign-in?redirect_url=<original URL>`; a non-page request → 404 (`middleware.ts`) / 307 (`proxy.ts`);
//! - signed in (control-API cookies) → 200, and the downstream got `Authorization: Bearer <that token>`;
//! - expired token + `__client_uat` → 307 to mock-clerk's handshake → back with a fresh `__session` → 200, for
//!   the nonce and the token handshake formats; and the `__refresh_<suffix>` flow through BAPI refresh;
//! - `currentUser()` (`/api/me`) shows the public metadata set through `@clerk/backend`'s `updateUserMetadata`,
//!   as it is after each change (deep merge, `null` deletes a key);
//! - sign-out → `POST /v1/sessions/{sid}/revoke`, session revoked, 307 to `/auth/sign-in`, `__session` deleted;
//! - the downstream retries (ky `retry.limit: 2`) in the Server Component page and in the route handler,
//!   measured and printed; asserted as observed.
//!
//! Plus the TLS mode (no proxy URL: the SDK sends browsers to `https://127.0.0.1:<mock port>`).
//!
//! Any failed check panics with the hops of the navigation (method, URL, status, `Location`, `Set-Cookie`,
//! `x-clerk-auth-*`), mock-clerk's and the downstream's request logs, and the tail of `next start`'s output.
//! Run with `--nocapture` to see the measurements.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use harness::agent::{Agent, AgentError, Hop, Mode, Navigation};
use harness::app::App;
use harness::downstream::{RecordedRequest, ScriptRule, gaps_ms};
use harness::nextjs::Variant;
use harness::stack::{Stack, StackOptions};
use mock_clerk::fapi::handshake::HandshakeFormat;
use mock_clerk::store::SessionStatus;
use mock_clerk::{BrokenToken, InstanceKind, SignedIn};
use serde_json::{Value, json};

/// The host every cookie of the control API is set on (the jar ignores ports, like a browser).
const HOST: &str = "127.0.0.1";
/// What the downstream double answers to `GET /schedules`.
/// Whether a JSON answer is the downstream double's list (one item whose title is that request's data marker).
fn is_downstream_list(v: Option<Value>) -> bool {
    v.and_then(|v| v[0]["title"].as_str().map(|t| t.starts_with(harness::downstream::DATA_MARKER_PREFIX))).unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------------------
// Checks that print the whole story when they fail
// ---------------------------------------------------------------------------------------------------------

/// Anything that has hops to show in a failure report.
trait AsHops {
    fn as_hops(&self) -> &[Hop];
}
impl AsHops for Navigation {
    fn as_hops(&self) -> &[Hop] {
        self.hops()
    }
}
impl AsHops for Hop {
    fn as_hops(&self) -> &[Hop] {
        std::slice::from_ref(self)
    }
}

/// `check!(ctx, [nav, hop…], condition, "message {}", args…)`: on failure, panics with the hops, the request
/// logs and the app's output.
macro_rules! check {
    ($ctx:expr, [$($hops:expr),* $(,)?], $cond:expr, $($msg:tt)+) => {
        if !$cond {
            $ctx.fail(&format!($($msg)+), &[$($hops.as_hops()),*]);
        }
    };
}

/// `check_eq!(ctx, [hops…], left, right, "message")`.
macro_rules! check_eq {
    ($ctx:expr, [$($hops:expr),* $(,)?], $left:expr, $right:expr, $($msg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    $ctx.fail(&format!("{}\n  left:  {:?}\n  right: {:?}", format!($($msg)+), left, right), &[$($hops.as_hops()),*]);
                }
            }
        }
    };
}

/// Shortens every JWT (`eyJ…`) in `text` to its first 16 characters, so hops stay readable.
fn shorten(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("eyJ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).unwrap_or(tail.len());
        if end > 40 {
            out.push_str(&tail[..16]);
            out.push('…');
        } else {
            out.push_str(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn clip(text: &str, max: usize) -> String {
    let text = text.replace('\n', " ");
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}… ({} bytes)", &text[..i], text.len()),
        None => text,
    }
}

/// One hop per block: method, URL, status, time, `Location`, `x-clerk-auth-*`, `Set-Cookie`, the `Cookie`
/// sent, and the start of the body of a non-redirect.
fn format_hops(hops: &[Hop]) -> String {
    let mut out = String::new();
    for (i, h) in hops.iter().enumerate() {
        let _ = writeln!(out, "  #{} {} {} -> {} ({} ms)", i + 1, h.method, shorten(&h.url), h.status, h.elapsed_ms);
        if let Some(l) = &h.location {
            let _ = writeln!(out, "       location: {}", shorten(l));
        }
        if h.auth_status().is_some() || h.auth_reason().is_some() {
            let _ = writeln!(
                out,
                "       x-clerk-auth-status: {} | x-clerk-auth-reason: {}",
                h.auth_status().unwrap_or("-"),
                h.auth_reason().unwrap_or("-")
            );
        }
        if let Some(m) = h.header("x-clerk-auth-message") {
            let _ = writeln!(out, "       x-clerk-auth-message: {}", clip(m, 160));
        }
        for c in &h.set_cookies {
            let _ = writeln!(out, "       set-cookie: {}", shorten(c));
        }
        for c in &h.refused_cookies {
            let _ = writeln!(out, "       REFUSED set-cookie: {}", shorten(c));
        }
        if let Some(c) = h.request_header("cookie") {
            let _ = writeln!(out, "       (sent) cookie: {}", shorten(c));
        }
        if !h.is_redirect() && !h.body.is_empty() {
            let _ = writeln!(out, "       body: {}", clip(&shorten(&h.body), 300));
        }
    }
    out
}

/// `307[reason] → 307 → 200 (123 ms)`: a one-line summary of a navigation for the report.
fn chain(hops: &[Hop]) -> String {
    let steps: Vec<String> = hops
        .iter()
        .map(|h| {
            let origin = if h.url.contains("/v1/client/handshake") { "clerk:" } else { "" };
            match h.auth_reason() {
                Some(r) => format!("{origin}{}[{r}]", h.status),
                None => format!("{origin}{}", h.status),
            }
        })
        .collect();
    let total: u64 = hops.iter().map(|h| h.elapsed_ms).sum();
    format!("{} ({total} ms)", steps.join(" → "))
}

/// The value of a `Set-Cookie` line (`name=value; …` → `value`).
fn cookie_value(line: &str) -> &str {
    line.split_once('=').map_or("", |(_, v)| v.split(';').next().unwrap_or("").trim())
}

/// Where a redirect goes, resolved against the URL of its hop.
fn target(hop: &Hop) -> Option<url::Url> {
    let location = hop.location.as_deref()?;
    url::Url::parse(&hop.url).ok()?.join(location).ok()
}

/// `Some(redirect_url)` when the hop is a redirect to `/auth/sign-in` (`Some(None)`: no `redirect_url`).
fn sign_in_redirect(hop: &Hop) -> Option<Option<String>> {
    let to = target(hop).filter(|_| hop.is_redirect())?;
    (to.path() == "/auth/sign-in").then(|| to.query_pairs().find(|(k, _)| k == "redirect_url").map(|(_, v)| v.into_owned()))
}

fn path_of(url: &str) -> String {
    url::Url::parse(url).map(|u| u.path().to_owned()).unwrap_or_default()
}

fn claims(jwt: &str) -> Value {
    mock_clerk::tokens::decode_unverified(jwt).map(|d| d.claims).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------------------
// One running stack and the test's view of it
// ---------------------------------------------------------------------------------------------------------

struct Ctx {
    stack: Stack,
    label: String,
    report: Mutex<Vec<String>>,
    started: Instant,
}

impl Ctx {
    async fn start(variant: Variant, kind: InstanceKind, tls: bool) -> Self {
        let started = Instant::now();
        let label =
            format!("{} {}{}", variant.name(), if kind == InstanceKind::Development { "pk_test" } else { "pk_live" }, if tls { " tls" } else { "" });
        let stack = Stack::start(StackOptions { app: App::Next(variant), kind, tls, ..StackOptions::default() })
            .await
            .unwrap_or_else(|e| panic!("[{label}] the stack did not start: {e}"));
        let ctx = Self { stack, label, report: Mutex::default(), started };
        ctx.note(format!("stack up in {} ms (app {}, mock-clerk {})", started.elapsed().as_millis(), ctx.stack.app.url(), ctx.stack.clerk.url()));
        ctx
    }

    fn dev(&self) -> bool {
        self.stack.options.kind == InstanceKind::Development
    }

    fn variant(&self) -> Variant {
        match self.stack.options.app {
            App::Next(variant) => variant,
            other => panic!("{} is not a Next.js build", other.name()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.app.url())
    }

    /// Where the SDK sends browsers for the handshake: the http proxy URL, or `https://<pk host>` with TLS.
    fn handshake_url(&self) -> String {
        if self.stack.options.tls {
            format!("https://{HOST}:{}/v1/client/handshake", self.stack.clerk.addr().port())
        } else {
            format!("{}/v1/client/handshake", self.stack.clerk.url())
        }
    }

    /// A fresh browser.
    fn agent(&self) -> Agent {
        Agent::builder().accept_invalid_certs(self.stack.options.tls).build().expect("an agent")
    }

    fn note(&self, line: String) {
        self.report.lock().unwrap().push(line);
    }

    /// Panics with `what`, the hops, the logs of mock-clerk and of the downstream, and the app's output.
    fn fail(&self, what: &str, hops: &[&[Hop]]) -> ! {
        let mut out = format!("[{}] {what}\n", self.label);
        for (i, h) in hops.iter().enumerate() {
            let _ = writeln!(out, "--- navigation {} ---\n{}", i + 1, format_hops(h));
        }
        let _ = writeln!(out, "--- mock-clerk requests (last 25) ---");
        let log = self.stack.clerk.requests();
        for r in log.iter().skip(log.len().saturating_sub(25)) {
            let query = r.query.as_deref().map(|q| format!("?{}", clip(&shorten(q), 120))).unwrap_or_default();
            let _ = writeln!(out, "  {} {}{query} -> {}", r.method, r.path, r.status);
        }
        let _ = writeln!(out, "--- downstream requests (last 15) ---");
        let seen = self.stack.downstream.requests();
        for r in seen.iter().skip(seen.len().saturating_sub(15)) {
            let _ = writeln!(out, "  #{} {} {} -> {} at {} ms, sid {:?}", r.seq, r.method, r.path, r.status, r.at_ms, r.session());
        }
        let _ = writeln!(out, "--- earlier observations ---\n  {}", self.report.lock().map(|r| r.join("\n  ")).unwrap_or_default());
        let _ = writeln!(
            out,
            "--- next start output (tail) ---\n{}",
            harness::transcript::redact(&self.stack.app.output_tail(), &[self.stack.clerk.secret_key()])
        );
        panic!("{out}");
    }

    fn transport_failed(&self, what: &str, e: AgentError) -> ! {
        let hops = e.hops().to_vec();
        self.fail(&format!("{what}: {e}"), &[&hops])
    }

    /// Loads `path` on the app and follows redirects one hop at a time.
    async fn navigate(&self, agent: &Agent, path: &str, mode: &Mode) -> Navigation {
        match agent.navigate(&self.url(path), mode).await {
            Ok(nav) => nav,
            Err(e) => self.transport_failed(&format!("navigating to {path} failed"), e),
        }
    }

    /// One request, redirects not followed.
    async fn get(&self, agent: &Agent, path: &str, mode: &Mode) -> Hop {
        match agent.get(&self.url(path), mode).await {
            Ok(hop) => hop,
            Err(e) => self.transport_failed(&format!("GET {path} failed"), e),
        }
    }

    /// Signs a new user in through the control API and puts the cookies into the agent's jar.
    fn sign_in(&self, agent: &Agent) -> SignedIn {
        let s = self.stack.clerk.sign_in();
        for c in &s.cookies {
            agent.set_cookie(HOST, &c.name, &c.value);
        }
        s
    }

    /// Replaces the session cookie by an expired token of the same session, `__client_uat` = its `iat`
    /// (`__clerk_db_jwt` stays). Returns the expired token.
    fn expire(&self, agent: &Agent, s: &SignedIn) -> String {
        let expired = self.stack.clerk.forge(BrokenToken::Expired, &s.user_id, &s.session_id);
        let iat = claims(&expired)["iat"].as_i64().expect("the forged token has an iat");
        agent.set_cookie(HOST, "__session", &expired);
        agent.set_cookie(HOST, "__client_uat", &iat.to_string());
        expired
    }

    /// The downstream's `GET /schedules` requests made with this bearer token.
    fn downstream_with_token(&self, token: &str) -> Vec<RecordedRequest> {
        self.stack.downstream.requests().into_iter().filter(|r| r.is("GET", "/schedules") && r.bearer() == Some(token)).collect()
    }

    /// The downstream's `GET /schedules` requests made for this Clerk session.
    fn downstream_for_session(&self, sid: &str) -> Vec<RecordedRequest> {
        self.stack.downstream.requests().into_iter().filter(|r| r.is("GET", "/schedules") && r.session().as_deref() == Some(sid)).collect()
    }

    fn print_report(&self) {
        let lines = self.report.lock().unwrap();
        println!("\n===== [{}] ({} ms) =====\n  {}\n", self.label, self.started.elapsed().as_millis(), lines.join("\n  "));
    }
}

// ---------------------------------------------------------------------------------------------------------
// The flows
// ---------------------------------------------------------------------------------------------------------

/// No cookies, document request to `/schedules`: pk_test goes through the dev-browser handshake first; both end
/// with a 307 to `/auth/sign-in?redirect_url=<original URL>` and the sign-in page.
async fn unauthenticated_page(ctx: &Ctx) {
    let agent = ctx.agent();
    let original = ctx.url("/schedules");
    let nav = ctx.navigate(&agent, "/schedules", &Mode::Page).await;
    let hops = nav.hops();
    let first = nav.first();
    let to_sign_in = hops.iter().position(|h| sign_in_redirect(h).is_some());
    check!(ctx, [nav], to_sign_in.is_some(), "an unauthenticated page request must end in a redirect to /auth/sign-in");
    let at = to_sign_in.unwrap_or_default();
    if ctx.dev() {
        check!(
            ctx,
            [nav],
            first.status == 307 && first.location.as_deref().is_some_and(|l| l.starts_with(&format!("{}?", ctx.handshake_url()))),
            "pk_test: the first answer must be a 307 to mock-clerk's handshake {}",
            ctx.handshake_url()
        );
        check_eq!(ctx, [nav], first.auth_reason(), Some("dev-browser-missing"), "pk_test: reason of the handshake");
        check!(
            ctx,
            [nav],
            hops.get(1).is_some_and(|h| h.url.starts_with(&ctx.handshake_url()) && h.is_redirect()),
            "the browser went to the handshake and was sent back"
        );
        check!(ctx, [nav], at >= 2, "pk_test: the sign-in redirect comes after the handshake");
        check!(ctx, [nav], agent.cookie("__clerk_db_jwt").is_some(), "the handshake gave the browser a dev-browser cookie");
    } else {
        check_eq!(ctx, [nav], at, 0, "pk_live: the first answer is the sign-in redirect (no handshake)");
    }
    let hop = &hops[at];
    check_eq!(ctx, [nav], hop.status, 307, "the sign-in redirect is a 307");
    check_eq!(ctx, [nav], sign_in_redirect(hop), Some(Some(original.clone())), "redirect_url is the original URL");
    check_eq!(ctx, [nav], hop.auth_reason(), Some("session-token-and-uat-missing"), "reason of the sign-in redirect");
    check_eq!(ctx, [nav], hop.header("x-clerk-redirect-to"), Some("true"), "x-clerk-redirect-to");
    check_eq!(ctx, [nav], (nav.status(), path_of(nav.final_url())), (200, "/auth/sign-in".to_owned()), "the browser ends on the sign-in page");
    check!(ctx, [nav], ctx.stack.downstream.requests().iter().all(|r| r.bearer().is_some()), "no anonymous downstream call");
    ctx.note(format!("unauthenticated page /schedules: {}", chain(hops)));
}

/// No cookies, non-page (`fetch()`) requests: 404 (`middleware.ts`, protect-rewrite) or 307 to sign-in
/// (`proxy.ts`, whose Node runtime makes `isPagePathAvailable()` true).
async fn unauthenticated_fetch(ctx: &Ctx) {
    let agent = ctx.agent();
    for path in ["/api/schedules", "/schedules"] {
        let hop = ctx.get(&agent, path, &Mode::Fetch).await;
        match ctx.variant() {
            Variant::Middleware => {
                check_eq!(ctx, [hop], hop.status, 404, "middleware.ts: unauthenticated non-page {path}");
                check!(ctx, [hop], hop.auth_reason().is_some_and(|r| r.starts_with("protect-rewrite")), "middleware.ts: reason protect-rewrite");
            }
            Variant::Proxy => {
                check_eq!(ctx, [hop], hop.status, 307, "proxy.ts: unauthenticated non-page {path}");
                check_eq!(ctx, [hop], sign_in_redirect(&hop), Some(Some(ctx.url(path))), "proxy.ts: 307 to sign-in with redirect_url");
            }
        }
        ctx.note(format!("unauthenticated fetch {path}: {}", chain(std::slice::from_ref(&hop))));
    }
}

/// Control-API cookies → the page renders 200 and the downstream got `Authorization: Bearer <that token>`;
/// the route handler answers the downstream JSON.
async fn signed_in(ctx: &Ctx) {
    let agent = ctx.agent();
    let s = ctx.sign_in(&agent);
    let nav = ctx.navigate(&agent, "/schedules", &Mode::Page).await;
    check_eq!(ctx, [nav], (nav.status(), nav.redirects()), (200, 0), "signed in: /schedules renders directly");
    check!(
        ctx,
        [nav],
        nav.body().contains(r#"<pre id="schedules">"#) && nav.body().contains(harness::downstream::DATA_MARKER_PREFIX),
        "the page shows the downstream's schedules"
    );
    let seen = ctx.downstream_with_token(&s.token);
    check_eq!(ctx, [nav], seen.len(), 1, "the downstream got one GET /schedules with the session token");
    check_eq!(ctx, [nav], seen[0].header("authorization"), Some(format!("Bearer {}", s.token).as_str()), "Authorization header");
    ctx.note(format!("signed-in page /schedules: {}", chain(nav.hops())));

    let hop = ctx.get(&agent, "/api/schedules", &Mode::Fetch).await;
    check_eq!(ctx, [hop], hop.status, 200, "signed in: GET /api/schedules");
    check!(ctx, [hop], is_downstream_list(hop.json::<Value>().ok()), "the route handler answers the downstream JSON");
    check_eq!(ctx, [hop], ctx.downstream_with_token(&s.token).len(), 2, "the route handler called the downstream with the same token");
    ctx.note(format!("signed-in fetch /api/schedules: {}", chain(std::slice::from_ref(&hop))));
}

/// `currentUser()` in a route handler (`/api/me`): the user the Backend API has now, so metadata set through the
/// real `@clerk/backend` (`users.updateUserMetadata`, deep-merged at mock-clerk) is what the app reads next.
async fn current_user_metadata(ctx: &Ctx) {
    let agent = ctx.agent();
    let s = ctx.sign_in(&agent);
    let before = ctx.get(&agent, "/api/me", &Mode::Fetch).await;
    check_eq!(ctx, [before], before.status, 200, "signed in: GET /api/me");
    let body = before.json::<Value>().unwrap_or_default();
    check_eq!(
        ctx,
        [before],
        (body["id"].as_str(), &body["publicMetadata"]),
        (Some(s.user_id.as_str()), &json!({})),
        "currentUser() before any metadata"
    );
    let steps = [
        (json!({"plan": "pro", "limits": {"seats": 3}}), json!({"plan": "pro", "limits": {"seats": 3}})),
        (json!({"limits": {"projects": 2}, "plan": null}), json!({"limits": {"seats": 3, "projects": 2}})),
    ];
    for (patch, expected) in steps {
        let r = clerk_conformance::sdk::backend_sdk(
            &ctx.stack.clerk,
            json!([{"op": "updateUserMetadata", "id": s.user_id, "params": {"publicMetadata": patch}}]),
        );
        let set = clerk_conformance::sdk::sdk_ok(&r[0]);
        check_eq!(ctx, [], &set["publicMetadata"], &expected, "updateUserMetadata's answer");
        let hop = ctx.get(&agent, "/api/me", &Mode::Fetch).await;
        let seen = hop.json::<Value>().unwrap_or_default();
        check_eq!(ctx, [hop], (hop.status, &seen["publicMetadata"]), (200, &expected), "currentUser().publicMetadata after updateUserMetadata");
    }
    ctx.note(format!("currentUser() followed updateUserMetadata for {}", s.user_id));
}

/// Expired `__session` + `__client_uat` (+ `__clerk_db_jwt` on pk_test): 307 to mock-clerk's handshake →
/// back to the app with a fresh `__session` in `Set-Cookie` → 200, and the downstream got the fresh token.
async fn expired_token_handshake(ctx: &Ctx, format: HandshakeFormat) {
    let clerk = &ctx.stack.clerk;
    clerk.set_handshake_format(format);
    let agent = ctx.agent();
    let s = ctx.sign_in(&agent);
    let expired = ctx.expire(&agent, &s);
    let payloads_before = clerk.requests_to("GET", "/v1/clients/handshake_payload").len();
    let nav = ctx.navigate(&agent, "/schedules", &Mode::Page).await;
    clerk.set_handshake_format(HandshakeFormat::Auto);
    let hops = nav.hops();
    let first = nav.first();
    check_eq!(ctx, [nav], first.status, 307, "expired token: the app redirects");
    check!(
        ctx,
        [nav],
        first.location.as_deref().is_some_and(|l| l.starts_with(&format!("{}?", ctx.handshake_url()))),
        "to mock-clerk's handshake at {}",
        ctx.handshake_url()
    );
    check!(
        ctx,
        [nav],
        first.location.as_deref().is_some_and(|l| l.contains(&format!("__session={expired}"))),
        "the handshake URL forwards the expired token"
    );
    check_eq!(ctx, [nav], first.auth_status(), Some("handshake"), "x-clerk-auth-status");
    check_eq!(ctx, [nav], first.auth_reason(), Some("session-token-expired-refresh-non-eligible-no-refresh-cookie"), "x-clerk-auth-reason");
    let back = hops.get(1);
    check!(ctx, [nav], back.is_some_and(|h| h.url.starts_with(&ctx.handshake_url()) && h.status == 307), "mock-clerk's handshake answered 307");
    let back_to = back.and_then(target).map(|u| u.to_string()).unwrap_or_default();
    let (carrier, other) = match format {
        HandshakeFormat::Token => ("__clerk_handshake", "__clerk_handshake_nonce"),
        _ => ("__clerk_handshake_nonce", "__clerk_handshake"),
    };
    if ctx.dev() {
        let (param, other) = (format!("{carrier}="), format!("{other}="));
        check!(
            ctx,
            [nav],
            back_to.starts_with(&ctx.url("/schedules?")) && back_to.contains(&param) && !back_to.contains(&other),
            "pk_test: back to the app with {param} in the query"
        );
        check_eq!(ctx, [nav], back.and_then(|h| h.set_cookie(carrier)), None, "pk_test: no {carrier} cookie");
    } else {
        // Clerk's production Frontend API hands the result back as a cookie and redirects to the clean URL.
        check_eq!(ctx, [nav], back_to, ctx.url("/schedules"), "pk_live: back to the clean URL");
        check!(
            ctx,
            [nav],
            back.and_then(|h| h.set_cookie(carrier)).is_some_and(|l| !cookie_value(l).is_empty()),
            "pk_live: mock-clerk set the {carrier} cookie"
        );
        check_eq!(ctx, [nav], agent.cookie(carrier).map(|c| c.value), None, "pk_live: the app's directives deleted the {carrier} cookie");
    }
    // The app's answer to the handshake return carries the directives as Set-Cookie.
    let fresh_hop = hops.iter().skip(2).find(|h| h.set_cookie("__session").is_some_and(|l| !cookie_value(l).is_empty()));
    check!(ctx, [nav], fresh_hop.is_some(), "the app set a fresh __session after the handshake");
    let fresh = fresh_hop.and_then(|h| h.set_cookie("__session")).map(cookie_value).unwrap_or_default().to_owned();
    check!(ctx, [nav], fresh != expired, "the new __session is a new token");
    check_eq!(ctx, [nav], claims(&fresh)["sid"].as_str(), Some(s.session_id.as_str()), "the fresh token is for the same session");
    check_eq!(ctx, [nav], (nav.status(), path_of(nav.final_url())), (200, "/schedules".to_owned()), "the browser ends on the page");
    check!(ctx, [nav], nav.body().contains(harness::downstream::DATA_MARKER_PREFIX), "the page rendered the schedules");
    check_eq!(ctx, [nav], agent.cookie("__session").map(|c| c.value), Some(fresh.clone()), "the jar holds the fresh token");
    check!(ctx, [nav], !ctx.downstream_with_token(&fresh).is_empty(), "the downstream got the fresh token");
    check!(ctx, [nav], ctx.downstream_with_token(&expired).is_empty(), "the downstream never got the expired token");
    let payloads = clerk.requests_to("GET", "/v1/clients/handshake_payload").len() - payloads_before;
    check_eq!(ctx, [nav], payloads, usize::from(carrier.contains("nonce")), "BAPI handshake_payload calls");
    ctx.note(format!("expired token, handshake format {format:?}: {} ; handshake_payload calls: {payloads}", chain(hops)));
}

/// Expired token + `__refresh_<suffix>`: the SDK refreshes through BAPI, no redirect, 200 with a new
/// `__session`.
async fn expired_token_refresh(ctx: &Ctx) {
    let clerk = &ctx.stack.clerk;
    let agent = ctx.agent();
    let s = ctx.sign_in(&agent);
    let expired = ctx.expire(&agent, &s);
    agent.set_cookie(HOST, &s.refresh_cookie.name, &s.refresh_cookie.value);
    let nav = ctx.navigate(&agent, "/schedules", &Mode::Page).await;
    let refresh_path = format!("/v1/sessions/{}/refresh", s.session_id);
    let refreshes = clerk.requests_to("POST", &refresh_path);
    check_eq!(ctx, [nav], refreshes.iter().map(|r| r.status).collect::<Vec<_>>(), vec![200], "mock-clerk got one POST {refresh_path}");
    check_eq!(ctx, [nav], (nav.status(), nav.redirects()), (200, 0), "refreshed in place: 200 without a redirect");
    let fresh = nav.first().set_cookie("__session").map(cookie_value).unwrap_or_default().to_owned();
    check!(ctx, [nav], !fresh.is_empty() && fresh != expired, "the response sets a new __session");
    check_eq!(ctx, [nav], claims(&fresh)["sid"].as_str(), Some(s.session_id.as_str()), "the refreshed token is for the same session");
    check!(ctx, [nav], nav.body().contains(harness::downstream::DATA_MARKER_PREFIX), "the page rendered the schedules");
    check_eq!(ctx, [nav], ctx.downstream_with_token(&fresh).len(), 1, "the downstream got the refreshed token");
    check!(ctx, [nav], ctx.downstream_with_token(&expired).is_empty(), "the downstream never got the expired token");
    ctx.note(format!("expired token + refresh cookie: {} ; BAPI refresh calls: {}", chain(nav.hops()), refreshes.len()));
}

/// `GET /api/auth/sign-out`: revokes the session at BAPI, 307 to `/auth/sign-in`, deletes `__session`.
async fn sign_out(ctx: &Ctx) {
    let clerk = &ctx.stack.clerk;
    let agent = ctx.agent();
    let s = ctx.sign_in(&agent);
    let nav = ctx.navigate(&agent, "/api/auth/sign-out", &Mode::Page).await;
    let first = nav.first();
    let revoke_path = format!("/v1/sessions/{}/revoke", s.session_id);
    let revokes = clerk.requests_to("POST", &revoke_path);
    check_eq!(ctx, [nav], revokes.iter().map(|r| r.status).collect::<Vec<_>>(), vec![200], "mock-clerk got one POST {revoke_path}");
    check_eq!(ctx, [nav], clerk.session(&s.session_id).map(|x| x.status), Some(SessionStatus::Revoked), "the session is revoked");
    check_eq!(ctx, [nav], first.status, 307, "sign-out answers 307");
    check_eq!(
        ctx,
        [nav],
        target(first).map(|u| (u.path().to_owned(), u.query().map(str::to_owned))),
        Some(("/auth/sign-in".to_owned(), None)),
        "to /auth/sign-in"
    );
    let deletion = first.set_cookie("__session").unwrap_or_default();
    check!(
        ctx,
        [nav],
        cookie_value(deletion).is_empty() && (deletion.contains("Expires=Thu, 01 Jan 1970") || deletion.contains("Max-Age=0")),
        "sign-out deletes __session (got {deletion:?})"
    );
    check!(ctx, [nav], agent.cookie("__session").is_none(), "the browser no longer holds __session");
    check_eq!(ctx, [nav], (nav.status(), path_of(nav.final_url())), (200, "/auth/sign-in".to_owned()), "the browser ends on the sign-in page");
    ctx.note(format!("sign-out: {} ; revoke calls: {}", chain(nav.hops()), revokes.len()));

    // Afterwards the protected page sends the browser to sign in again.
    let after = ctx.navigate(&agent, "/schedules", &Mode::Page).await;
    check!(
        ctx,
        [nav, after],
        after.hops().iter().any(|h| sign_in_redirect(h) == Some(Some(ctx.url("/schedules")))),
        "after sign-out /schedules redirects to sign-in"
    );
    check_eq!(ctx, [nav, after], (after.status(), path_of(after.final_url())), (200, "/auth/sign-in".to_owned()), "and ends on the sign-in page");
    ctx.note(format!("after sign-out, page /schedules: {}", chain(after.hops())));
}

/// What one scripted-failure run showed.
#[derive(Debug)]
struct Retry {
    status: u16,
    statuses: Vec<u16>,
    gaps: Vec<u64>,
    elapsed_ms: u128,
    leftover: u32,
    body: String,
}

/// Fails the next `failures` `GET /schedules` of a fresh session with 503 and loads `path`.
async fn measure_retry(ctx: &Ctx, path: &str, mode: &Mode, failures: u32) -> (Hop, Retry) {
    let agent = ctx.agent();
    let s = ctx.sign_in(&agent);
    ctx.stack.downstream.script(ScriptRule::fail("GET", "/schedules", failures, 503).for_session(&s.session_id)).expect("a valid script rule");
    let t = Instant::now();
    let hop = ctx.get(&agent, path, mode).await;
    let elapsed_ms = t.elapsed().as_millis();
    let seen = ctx.downstream_for_session(&s.session_id);
    let leftover =
        ctx.stack.downstream.pending_script().iter().filter(|r| r.session.as_deref() == Some(s.session_id.as_str())).map(|r| r.times).sum();
    let retry = Retry {
        status: hop.status,
        statuses: seen.iter().map(|r| r.status).collect(),
        gaps: gaps_ms(&seen),
        elapsed_ms,
        leftover,
        body: clip(&hop.body, 80),
    };
    (hop, retry)
}

/// ky `retry: {limit: 2, methods: [get, put, delete], statusCodes: [… 503 …]}` in the route handler and in the
/// Server Component page.
async fn retries(ctx: &Ctx) {
    for failures in 1..=3 {
        let (hop, r) = measure_retry(ctx, "/api/schedules", &Mode::Fetch, failures).await;
        ctx.note(format!(
            "route GET /api/schedules, downstream fails {failures}: app {} {} | downstream {} requests {:?}, gaps {:?} ms | {} ms",
            r.status,
            r.body,
            r.statuses.len(),
            r.statuses,
            r.gaps,
            r.elapsed_ms
        ));
        if failures <= 2 {
            // Documented: retried up to twice, so N ≤ 2 failures are hidden from the caller.
            let mut expected = vec![503; failures as usize];
            expected.push(200);
            check_eq!(ctx, [hop], r.statuses, expected, "route handler: {failures} failures → {} downstream requests", failures + 1);
            check_eq!(ctx, [hop], r.status, 200, "route handler: {failures} failures are retried away");
            check!(ctx, [hop], is_downstream_list(hop.json::<Value>().ok()), "route handler body");
        } else {
            check_eq!(ctx, [hop], r.statuses, vec![503, 503, 503], "route handler: 3 failures → 3 requests (1 + 2 retries)");
            check_eq!(ctx, [hop], r.status, 502, "route handler: gives up with 502");
            check_eq!(ctx, [hop], hop.json::<Value>().ok(), Some(json!({"error": "upstream", "status": 503})), "route handler error body");
        }
        check_eq!(ctx, [hop], r.leftover, 0, "every scripted failure was used");
    }
    for failures in 1..=3 {
        let (hop, r) = measure_retry(ctx, "/schedules", &Mode::Page, failures).await;
        ctx.note(format!(
            "page /schedules, downstream fails {failures}: app {} | downstream {} requests {:?}, gaps {:?} ms | {} ms | scripted failures left unused: {}",
            r.status,
            r.statuses.len(),
            r.statuses,
            r.gaps,
            r.elapsed_ms,
            r.leftover
        ));
        // RECORDED DEVIATION (observed-nextjs.md §5g): in a Server Component, Next's request memoisation
        // (dedupe-fetch) hands ky's retries the first, memoised 503, so exactly one request reaches the
        // downstream whatever N is, ky still sleeps through its back-offs, and the page fails with 500.
        // The documented "retry twice" does not happen in the page. If this starts failing, Next or ky changed
        // and the page now really retries: update the observation and the documentation.
        check_eq!(ctx, [hop], r.statuses, vec![503], "page: only one downstream request (Next's fetch dedupe; documented deviation)");
        check_eq!(ctx, [hop], r.status, 500, "page: the render fails after the first 503 (documented deviation)");
        check_eq!(ctx, [hop], r.leftover, failures - 1, "page: the unused scripted failures stay pending");
    }
}

async fn all_flows(variant: Variant, kind: InstanceKind) {
    let ctx = Ctx::start(variant, kind, false).await;
    check!(ctx, [], ctx.stack.app_env.iter().any(|(k, _)| k == "NEXT_PUBLIC_CLERK_PROXY_URL"), "without TLS the app gets an http proxy URL");
    let expected_prefix = if kind == InstanceKind::Development { "pk_test_" } else { "pk_live_" };
    check!(ctx, [], ctx.stack.clerk.publishable_key().starts_with(expected_prefix), "publishable key {expected_prefix}…");
    let t = Instant::now();
    unauthenticated_page(&ctx).await;
    unauthenticated_fetch(&ctx).await;
    signed_in(&ctx).await;
    current_user_metadata(&ctx).await;
    expired_token_handshake(&ctx, HandshakeFormat::Nonce).await;
    expired_token_handshake(&ctx, HandshakeFormat::Token).await;
    expired_token_refresh(&ctx).await;
    sign_out(&ctx).await;
    ctx.note(format!("auth flows took {} ms", t.elapsed().as_millis()));
    let t = Instant::now();
    retries(&ctx).await;
    ctx.note(format!("retry measurements took {} ms", t.elapsed().as_millis()));
    ctx.print_report();
}

#[tokio::test(flavor = "multi_thread")]
async fn middleware_build_with_a_development_instance() {
    all_flows(Variant::Middleware, InstanceKind::Development).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn middleware_build_with_a_production_instance() {
    all_flows(Variant::Middleware, InstanceKind::Production).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_build_with_a_development_instance() {
    all_flows(Variant::Proxy, InstanceKind::Development).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_build_with_a_production_instance() {
    all_flows(Variant::Proxy, InstanceKind::Production).await;
}

/// TLS mode: no proxy URL, so the SDK sends the browser to `https://127.0.0.1:<mock port>` (the host in the
/// publishable key) for the handshake of an expired token; mock-clerk answers TLS with a self-signed
/// certificate on the same port, which the agent must accept.
#[tokio::test(flavor = "multi_thread")]
async fn tls_frontend_api_handshake_of_an_expired_token() {
    let ctx = Ctx::start(Variant::Middleware, InstanceKind::Development, true).await;
    check!(ctx, [], !ctx.stack.app_env.iter().any(|(k, _)| k == "NEXT_PUBLIC_CLERK_PROXY_URL"), "with TLS the app gets no proxy URL");
    check!(ctx, [], ctx.stack.clerk.tls_cert_pem().is_some(), "mock-clerk serves TLS");
    check!(ctx, [], ctx.handshake_url().starts_with("https://"), "the handshake is https");

    // A browser that does not trust the self-signed certificate stops at the handshake.
    let strict = Agent::new().expect("an agent");
    let s = ctx.sign_in(&strict);
    ctx.expire(&strict, &s);
    match strict.navigate(&ctx.url("/schedules"), &Mode::Page).await {
        Err(e @ AgentError::Transport { .. }) => {
            check!(
                ctx,
                [],
                e.hops().len() == 1 && e.hops()[0].location.as_deref().is_some_and(|l| l.starts_with(&ctx.handshake_url())),
                "the strict agent failed at the https handshake"
            );
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            ctx.note(format!("strict agent (self-signed cert not trusted): {} then the https handshake failed: {cause}", chain(e.hops())));
        }
        Err(e) => ctx.transport_failed("unexpected error for the strict agent", e),
        Ok(nav) => ctx.fail("a strict agent must refuse mock-clerk's self-signed certificate", &[nav.hops()]),
    }

    expired_token_handshake(&ctx, HandshakeFormat::Auto).await;
    ctx.print_report();
}
