//! The client layer in a real browser (`@client` scenarios): accounts made through the Backend API, the app's
//! own sign-in and sign-up pages (Clerk's `<SignIn/>` / `<SignUp/>`), `useUser`'s data, `<UserButton/>`'s and the
//! app's sign-out, and clerk-js keeping the session token fresh. Clerk's controls are found by
//! [`crate::browser::clerk_ui`]; the app's own elements by the profile's `[client]` section. A failing step adds
//! a screenshot, the console, the cookies and the Frontend API calls to the transcript.

use std::time::{Duration, Instant};

use futures_util::FutureExt;
use mock_clerk::store::NewUser;

use super::{Keyword, StepDef, arg, opt};
use crate::browser::{Browser, DEFAULT_WAIT, clerk_ui};
use crate::place_pattern;
use crate::profile::ClientLayer;
use crate::world::{Account, ConformanceWorld, Stay};

/// The password of the accounts the scenarios create.
pub const PASSWORD: &str = "correct-horse-battery-1";
/// A password no account has.
pub const WRONG_PASSWORD: &str = "wrong-password-0";
/// First names given to new accounts, one per scenario in turn.
const FIRST_NAMES: [&str; 4] = ["Ada", "Grace", "Linus", "Margaret"];

fn path_of(url: &str) -> String {
    url::Url::parse(url).map(|u| u.path().to_owned()).unwrap_or_default()
}

impl ConformanceWorld {
    /// This scenario's browser, launched on first use (Chromium from `CHROME` or `PATH`).
    pub(super) async fn browser(&mut self) -> &Browser {
        if self.browser.is_none() {
            match Browser::launch().await {
                Ok(b) => self.browser = Some(b),
                Err(e) => self.fail(&e.to_string()),
            }
        }
        self.browser.as_ref().expect("launched above")
    }

    /// The profile's `[client]` section (the runner skips `@client` scenarios without one).
    pub(super) fn client_layer(&self) -> ClientLayer {
        self.env.profile.client.clone().unwrap_or_else(|| self.fail("the profile has no [client] section"))
    }

    /// A fresh account for this scenario (not yet created at Clerk).
    pub(super) fn new_account(&mut self, password: Option<&str>) -> Account {
        let n = self.marker.bytes().map(usize::from).sum::<usize>();
        let email = format!("{}@example.com", self.marker.to_lowercase().replace('_', "."));
        let account = Account {
            email,
            first_name: FIRST_NAMES[n % FIRST_NAMES.len()].into(),
            password: password.map(str::to_owned),
            session_id: None,
            user_id: None,
        };
        self.account = Some(account.clone());
        account
    }

    pub(super) fn account(&self) -> Account {
        self.account.clone().unwrap_or_else(|| self.fail("the scenario has no account: add `Given I have an account with a password`"))
    }

    /// Runs a browser action, or fails the step with the browser's view.
    pub(super) async fn in_browser<T>(&mut self, what: &str, result: Result<T, crate::browser::BrowserError>) -> T {
        match result {
            Ok(v) => v,
            Err(e) => self.browser_fail(&format!("{what}: {e}")).await,
        }
    }

    /// Opens `path` like a user typing it. A navigation the browser gives up on (too many redirects, a refused
    /// connection) leaves it on its error page, as it would a user; the Then steps judge where it ended.
    pub(super) async fn open_in_browser(&mut self, path: &str) {
        let url = self.url(path);
        if let Err(e) = self.browser().await.goto(&url).await {
            self.transcript.note(format!("opening {path}: {e}"));
        }
    }

    /// Waits until the browser is on `path`; for the sign-in and sign-up pages, anywhere in their flow
    /// (`/auth/sign-in/factor-one` is still the sign-in page).
    pub(super) async fn wait_for_path(&mut self, what: &str, path: &str) {
        let wanted = path_of(&self.url(path));
        let profile = &self.env.profile;
        let flow = [&profile.sign_in_path, &profile.sign_up_path].iter().any(|p| path_of(&self.url(p)) == wanted);
        let under = format!("{}/", wanted.trim_end_matches('/'));
        let result =
            self.browser().await.wait_for_url(what, DEFAULT_WAIT, |u| path_of(u) == wanted || (flow && path_of(u).starts_with(&under))).await;
        self.in_browser(&format!("the browser reaching {what} ({wanted})"), result).await;
    }

    pub(super) async fn fill(&mut self, what: &str, css: &str, text: &str) {
        let result = self.browser().await.fill(css, text).await;
        self.in_browser(what, result).await;
    }

    /// Types a one-time code (the field submits itself once full), or fails the step with the browser's view.
    pub(super) async fn type_code(&mut self, what: &str, css: &str, code: &str) {
        let result = self.browser().await.type_code(css, code).await;
        self.in_browser(what, result).await;
    }

    pub(super) async fn click(&mut self, what: &str, css: &str) {
        let result = self.browser().await.click(css).await;
        self.in_browser(what, result).await;
    }

    /// Waits until clerk-js holds a session, and records it as mine.
    pub(super) async fn wait_signed_in(&mut self) {
        let browser = self.browser().await;
        let result = browser
            .wait_until("clerk-js to hold a session", DEFAULT_WAIT, || async {
                browser.eval::<String>(clerk_ui::SESSION_ID_JS).await.ok().filter(|sid| !sid.is_empty())
            })
            .await;
        let sid = self.in_browser("signing in", result).await;
        self.transcript.note(format!("the browser signed in: session {sid}"));
        if let Some(a) = self.account.as_mut() {
            a.session_id = Some(sid);
        }
    }

    /// Waits for a code sent to `identifier` and types it.
    pub(super) async fn enter_sent_code(&mut self, identifier: &str) {
        let issuer = self.env.issuer.clone();
        let browser = self.browser().await;
        let result = browser
            .wait_until(&format!("a code sent to {identifier}"), DEFAULT_WAIT, || async {
                issuer.codes_for(identifier).await.ok().and_then(|c| c.last().cloned())
            })
            .await;
        let code = self.in_browser("the verification code", result).await;
        self.type_code("typing the code", clerk_ui::CODE, &code.code).await;
    }

    /// Waits until the element `css` shows `expected`.
    pub(super) async fn expect_text(&mut self, what: &str, css: &str, expected: &str) {
        let browser = self.browser().await;
        let read = format!("(document.querySelector({}) || {{}}).textContent || ''", serde_json::to_string(css).expect("a string serialises"));
        let result = browser
            .wait_until(&format!("{what} to read {expected:?}"), DEFAULT_WAIT, || async {
                browser.eval::<String>(&read).await.ok().filter(|t| t.trim() == expected)
            })
            .await;
        if let Err(e) = result {
            let shown = self.browser().await.eval::<String>(&read).await.ok();
            self.browser_fail(&format!("{what} ({css}) shows {shown:?}, not {expected:?}: {e}")).await;
        }
    }

    /// `fetch` from the page; the status and whether the answer carries the API's data.
    pub(super) async fn fetch_from_page(&mut self, path: &str) -> (u16, bool) {
        let (status, body) = self.fetch_body_from_page(path).await;
        (status, body.contains(crate::downstream::DATA_MARKER_PREFIX))
    }

    /// `fetch` from the page; the status and the body.
    pub(super) async fn fetch_body_from_page(&mut self, path: &str) -> (u16, String) {
        let script = format!(
            "fetch({}, {{headers: {{accept: 'application/json'}}}}).then(async r => [r.status, await r.text()])",
            serde_json::to_string(path).expect("a string serialises")
        );
        let result = self.browser().await.eval::<(u16, String)>(&script).await;
        self.in_browser(&format!("fetching {path} from the page"), result).await
    }

    pub(super) async fn session_cookie(&mut self) -> Option<String> {
        let result = self.browser().await.cookies().await;
        let cookies = self.in_browser("reading the cookies", result).await;
        cookies.into_iter().find(|(name, _, _)| name == mock_clerk::cookies::SESSION).map(|(_, v, _)| v).filter(|v| !v.is_empty())
    }

    pub(super) async fn create_account(&mut self, password: Option<&str>) {
        self.create_account_with(password, NewUser::default()).await;
    }

    /// Creates this scenario's account through the Backend API with what else `extra` gives it (second
    /// factors); its email, names and password are set here. Returns its user id.
    pub(super) async fn create_account_with(&mut self, password: Option<&str>, extra: NewUser) -> String {
        let account = self.new_account(password);
        let new = NewUser {
            email_address: vec![account.email.clone()],
            first_name: Some(account.first_name.clone()),
            last_name: Some("Tester".into()),
            password: account.password.clone(),
            ..extra
        };
        match self.env.issuer.create_user(new).await {
            Ok(id) => {
                if let Some(a) = self.account.as_mut() {
                    a.user_id = Some(id.clone());
                }
                id
            }
            Err(e) => self.fail(&format!("creating {} through the Backend API: {e}", account.email)),
        }
    }

    pub(super) async fn sign_in_with_password(&mut self, password: &str) {
        let account = self.account();
        self.fill("typing the email address", clerk_ui::IDENTIFIER, &account.email).await;
        self.click("clicking Continue", clerk_ui::PRIMARY_BUTTON).await;
        // The first step keeps a hidden password field for autofill: type only once the password step shows.
        let result = self.browser().await.wait_for_url("the password step", DEFAULT_WAIT, |u| path_of(u).ends_with(clerk_ui::FACTOR_ONE_PATH)).await;
        self.in_browser("reaching the password step", result).await;
        self.fill("typing the password", clerk_ui::PASSWORD, password).await;
        self.click("clicking Continue after the password", clerk_ui::PRIMARY_BUTTON).await;
    }

    async fn sign_in_through_the_page(&mut self) {
        self.create_account(Some(PASSWORD)).await;
        let sign_in = self.env.profile.sign_in_path.clone();
        self.open_in_browser(&sign_in).await;
        self.sign_in_with_password(PASSWORD).await;
        self.wait_signed_in().await;
    }

    async fn stay(&mut self, lifetimes: u32) {
        let api = self.place("the GET API route", None).path;
        let data = self.place("the data page", None).path;
        self.open_in_browser(&data).await;
        self.wait_for_path("the data page", &data).await;
        let first = self.session_cookie().await;
        let Some(claims) = first.as_deref().and_then(|t| mock_clerk::tokens::decode_unverified(t).ok()).map(|d| d.claims) else {
            self.browser_fail("the browser holds no session token on the data page").await
        };
        let lifetime = (claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0)).max(1) as u64;
        let fapi = self.env.issuer.url();
        let issuer = self.env.issuer.clone();
        let handshakes = async || issuer.requests_to("GET", mock_clerk::fapi::handshake::HANDSHAKE_PATH).await.map_or(0, |r| r.len());
        let handshakes_before = handshakes().await;
        let refreshes = |b: &Browser| b.requests_to(&fapi).iter().filter(|e| e.url.contains("/tokens") && e.status == Some(200)).count();
        let refreshes_before = refreshes(self.browser().await);
        let (start, until) = (Instant::now(), Duration::from_secs(lifetime * u64::from(lifetimes) + 2));
        let pause = Duration::from_secs((lifetime / 4).clamp(1, 5));
        let mut calls = Vec::new();
        while start.elapsed() < until {
            tokio::time::sleep(pause).await;
            let (status, has_data) = self.fetch_from_page(&api).await;
            calls.push((start.elapsed().as_secs(), status, has_data));
        }
        let last = self.session_cookie().await;
        let refreshes = refreshes(self.browser().await) - refreshes_before;
        let handshakes = handshakes().await.saturating_sub(handshakes_before);
        self.transcript.note(format!(
            "stayed {:?} on {data} (token lifetime {lifetime} s): calls to {api} (second, status, data) {calls:?}; {refreshes} refreshes, {handshakes} handshakes",
            start.elapsed()
        ));
        self.stay = Some(Stay { calls, tokens: (first, last), refreshes, handshakes });
    }

    /// Waits (at most 10 s) until clerk-js holds no session: the sign-out the step started has finished in the
    /// page. A sign-out that never finishes is left to the Then steps to judge; the transcript notes it.
    async fn wait_signed_out(&mut self) {
        let browser = self.browser().await;
        let result = browser
            // Both: clerk-js drops its session first and the `__session` cookie a moment later; a page opened in
            // between would still be served as signed in.
            .wait_until("clerk-js to hold no session and the browser no __session cookie", Duration::from_secs(10), || async {
                let no_session = browser.eval::<String>(clerk_ui::SESSION_ID_JS).await.ok().is_some_and(|s| s.is_empty());
                let cookies = browser.cookies().await.ok()?;
                let no_cookie = !cookies
                    .iter()
                    .any(|(name, value, _)| (name == mock_clerk::cookies::SESSION || name.starts_with("__session_")) && !value.is_empty());
                (no_session && no_cookie).then_some(())
            })
            .await;
        if let Err(e) = result {
            self.transcript.note(format!("after signing out: {e}"));
        }
    }

    fn stayed(&self) -> Stay {
        self.stay
            .clone()
            .unwrap_or_else(|| self.fail("the scenario did not stay on a page: add `When I stay on the data page for 2 token lifetimes, …`"))
    }

    async fn session_ended_at_clerk(&mut self) {
        let Some(sid) = self.account().session_id else { self.fail("the browser never signed in") };
        let issuer = self.env.issuer.clone();
        let browser = self.browser().await;
        let ended = browser
            .wait_until(&format!("session {sid} to end at Clerk"), DEFAULT_WAIT, || async {
                issuer.session_status(&sid).await.ok().filter(|s| matches!(s.as_str(), "ended" | "removed" | "revoked"))
            })
            .await;
        if ended.is_err() {
            let status = self.status_at_clerk(&sid).await;
            self.browser_fail(&format!("session {sid} is {status:?} at Clerk: the browser signed out only locally")).await;
        }
    }
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I have an account (with|without) a password$",
            run: |w, ctx| {
                async move {
                    let password = (arg(&ctx, 1) == "with").then_some(PASSWORD);
                    w.create_account(password).await;
                }
                .boxed_local()
            },
            example: "Given I have an account with a password",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I have no account yet$",
            run: |w, _ctx| {
                async move {
                    w.new_account(Some(PASSWORD));
                }
                .boxed_local()
            },
            example: "Given I have no account yet",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I (?:am signed|sign) in through the sign-in page$",
            run: |w, _ctx| w.sign_in_through_the_page().boxed_local(),
            example: "Given I am signed in through the sign-in page",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I open ", place_pattern!(), " in the browser$"),
            run: |w, ctx| {
                async move {
                    let place = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref());
                    w.open_in_browser(&place.path).await;
                }
                .boxed_local()
            },
            example: "When I open the data page in the browser",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I sign in through the sign-in page with (my email and password|a wrong password)$",
            run: |w, ctx| {
                async move {
                    let wrong = arg(&ctx, 1) == "a wrong password";
                    w.sign_in_with_password(if wrong { WRONG_PASSWORD } else { PASSWORD }).await;
                    if !wrong {
                        w.wait_signed_in().await;
                    }
                }
                .boxed_local()
            },
            example: "When I sign in through the sign-in page with my email and password",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I sign in through the sign-in page with an email code$",
            run: |w, _ctx| {
                async move {
                    let account = w.account();
                    w.fill("typing the email address", clerk_ui::IDENTIFIER, &account.email).await;
                    w.click("clicking Continue", clerk_ui::PRIMARY_BUTTON).await;
                    w.enter_sent_code(&account.email).await;
                    w.wait_signed_in().await;
                }
                .boxed_local()
            },
            example: "When I sign in through the sign-in page with an email code",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I try to sign in through the sign-in page with an email that has no account$",
            run: |w, _ctx| {
                async move {
                    let email = format!("nobody.{}@example.com", w.marker.to_lowercase());
                    w.fill("typing the email address", clerk_ui::IDENTIFIER, &email).await;
                    w.click("clicking Continue", clerk_ui::PRIMARY_BUTTON).await;
                }
                .boxed_local()
            },
            example: "When I try to sign in through the sign-in page with an email that has no account",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I sign up through the sign-up page with my email and a password$",
            run: |w, _ctx| {
                async move {
                    let account = w.account();
                    let sign_up = w.env.profile.sign_up_path.clone();
                    w.open_in_browser(&sign_up).await;
                    w.fill("typing the first name", clerk_ui::FIRST_NAME, &account.first_name).await;
                    w.fill("typing the email address", clerk_ui::EMAIL_ADDRESS, &account.email).await;
                    w.fill("typing the password", clerk_ui::PASSWORD, account.password.as_deref().unwrap_or(PASSWORD)).await;
                    w.click("clicking Continue", clerk_ui::PRIMARY_BUTTON).await;
                    w.enter_sent_code(&account.email).await;
                    w.wait_signed_in().await;
                }
                .boxed_local()
            },
            example: "When I sign up through the sign-up page with my email and a password",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I open the user menu and sign out$",
            run: |w, _ctx| {
                async move {
                    w.click("opening the user menu (<UserButton/>)", clerk_ui::USER_BUTTON).await;
                    w.click("clicking Sign out in the user menu", clerk_ui::USER_MENU_SIGN_OUT).await;
                    w.wait_signed_out().await;
                }
                .boxed_local()
            },
            example: "When I open the user menu and sign out",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I click the app's sign-out button$",
            run: |w, _ctx| {
                async move {
                    let Some(css) = w.client_layer().sign_out_button else { w.fail("the profile's [client] section names no sign_out_button") };
                    w.click("clicking the app's sign-out button", &css).await;
                    w.wait_signed_out().await;
                }
                .boxed_local()
            },
            example: "When I click the app's sign-out button",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I stay on the data page for (\d+) token lifetimes, calling the GET API route from the page$",
            run: |w, ctx| {
                async move {
                    let n = arg(&ctx, 1).parse().unwrap_or(2);
                    w.stay(n).await;
                }
                .boxed_local()
            },
            example: "When I stay on the data page for 2 token lifetimes, calling the GET API route from the page",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: concat!("^the browser is on ", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    let name = arg(&ctx, 1);
                    let place = w.place(&name, opt(&ctx, 2).as_deref());
                    w.wait_for_path(&name, &place.path).await;
                }
                .boxed_local()
            },
            example: "Then the browser is on the sign-in page",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the browser is on the page after sign-out$",
            run: |w, _ctx| {
                async move {
                    let path = w.env.profile.after_sign_out_path().to_owned();
                    w.wait_for_path("the page after sign-out", &path).await;
                }
                .boxed_local()
            },
            example: "Then the browser is on the page after sign-out",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the browser shows my first name and email$",
            run: |w, _ctx| {
                async move {
                    let (client, account) = (w.client_layer(), w.account());
                    w.expect_text("my first name", &client.first_name, &account.first_name).await;
                    w.expect_text("my email address", &client.email, &account.email).await;
                }
                .boxed_local()
            },
            example: "Then the browser shows my first name and email",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the browser shows the API's data$",
            run: |w, _ctx| {
                async move {
                    let browser = w.browser().await;
                    let result = browser
                        .wait_until("the API's data in the page", DEFAULT_WAIT, || async {
                            browser.eval::<String>("document.body.innerText").await.ok().filter(|t| t.contains(crate::downstream::DATA_MARKER_PREFIX))
                        })
                        .await;
                    w.in_browser("the page showing the API's data", result).await;
                }
                .boxed_local()
            },
            example: "Then the browser shows the API's data",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r#"^the sign-in page shows an error mentioning "([^"]+)"$"#,
            run: |w, ctx| {
                async move {
                    let word = arg(&ctx, 1).to_lowercase();
                    let result = w.browser().await.text(clerk_ui::FIELD_ERROR, DEFAULT_WAIT).await;
                    let shown = w.in_browser("Clerk's error on the sign-in page", result).await;
                    if !shown.to_lowercase().contains(&word) {
                        w.browser_fail(&format!("the sign-in page shows {shown:?}, which does not mention {word:?}")).await;
                    }
                }
                .boxed_local()
            },
            example: r#"Then the sign-in page shows an error mentioning "password""#,
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^my browser session has ended at Clerk$",
            run: |w, _ctx| w.session_ended_at_clerk().boxed_local(),
            example: "Then my browser session has ended at Clerk",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^every call from the page succeeded with the API's data$",
            run: |w, _ctx| {
                async move {
                    let stay = w.stayed();
                    let bad: Vec<_> = stay.calls.iter().filter(|(_, status, data)| *status != 200 || !data).collect();
                    if stay.calls.is_empty() || !bad.is_empty() {
                        w.browser_fail(&format!(
                            "calls from the page that did not get the API's data (second, status, data): {bad:?} of {}",
                            stay.calls.len()
                        ))
                        .await;
                    }
                }
                .boxed_local()
            },
            example: "Then every call from the page succeeded with the API's data",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^clerk-js refreshed the session token through the Frontend API, with no handshake$",
            run: |w, _ctx| {
                async move {
                    let stay = w.stayed();
                    if stay.tokens.0 == stay.tokens.1 || stay.refreshes == 0 || stay.handshakes != 0 {
                        let changed = stay.tokens.0 != stay.tokens.1;
                        w.browser_fail(&format!(
                            "__session changed: {changed}; {} refreshes through the Frontend API; {} handshakes",
                            stay.refreshes, stay.handshakes
                        ))
                        .await;
                    }
                }
                .boxed_local()
            },
            example: "Then clerk-js refreshed the session token through the Frontend API, with no handshake",
        },
    ]
}
