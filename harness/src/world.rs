//! One scenario's state: its own browser (agent), its own user and session at mock-clerk, what it saw, and a
//! transcript printed — secrets redacted — when a step fails. Scenarios share the run's [`Env`] (issuer,
//! downstream double, target) and run concurrently; a scenario only ever looks at its own session's traffic.

use std::sync::Arc;

use mock_clerk::SignedIn;
use url::Url;

use crate::agent::{Agent, Mode, Navigation};
use crate::browser::Browser;
use crate::downstream::{DownstreamHandle, RecordedRequest};
use crate::issuer::Issuer;
use crate::profile::Profile;
use crate::transcript::Transcript;

/// What every scenario of a run shares.
#[derive(Debug)]
pub struct Env {
    /// mock-clerk.
    pub issuer: Issuer,
    /// The app's downstream API double.
    pub downstream: DownstreamHandle,
    /// The app under test, e.g. `http://127.0.0.1:3000`.
    pub target_url: String,
    /// What the suite knows about the target.
    pub profile: Profile,
    /// The instance's secret key, which must never appear in a response.
    pub secret_key: String,
}

tokio::task_local! {
    /// The environment of the run in progress, scoped to the task running it, so runs in parallel (tests)
    /// each see their own.
    static ENV: Arc<Env>;
}

/// Runs `fut` (a suite run) with `env` as the environment its scenarios see.
pub async fn with_env<F: std::future::Future>(env: Arc<Env>, fut: F) -> F::Output {
    ENV.scope(env, fut).await
}

/// The environment of the run in progress.
pub fn env() -> Arc<Env> {
    ENV.try_with(Arc::clone).expect("the conformance runner runs scenarios inside with_env")
}

/// A scenario's world.
pub struct ConformanceWorld {
    /// The run's shared environment.
    pub env: Arc<Env>,
    /// This scenario's browser.
    pub agent: Agent,
    /// Who I am at Clerk, once signed in.
    pub me: Option<SignedIn>,
    /// A second session of mine, when a scenario needs one.
    pub other: Option<SignedIn>,
    /// Forged or malformed tokens this scenario put into play ("the API never received that token").
    pub tokens_in_play: Vec<String>,
    /// Every session token this browser held, oldest first.
    pub tokens_seen: Vec<String>,
    /// My token as it was just before I signed out.
    pub token_before_sign_out: Option<String>,
    /// The token before the last "N seconds pass".
    pub token_before_time_passed: Option<String>,
    /// Every navigation, in order.
    pub navigations: Vec<Navigation>,
    /// The redirect URL of the last "sent to sign in".
    pub way_back: Option<String>,
    /// Marker put in the bodies this scenario sends, so its data can be recognised.
    pub marker: String,
    /// What to print on failure.
    pub transcript: Transcript,
    /// The downstream double's last `seq` when this scenario started: requests after it that nobody can be
    /// identified by (no token, no marker) count as this scenario's too.
    pub downstream_start: u64,
    /// This scenario's real browser (`@client` scenarios), launched by the first browser step.
    pub browser: Option<Browser>,
    /// My account at Clerk, for the browser scenarios.
    pub account: Option<Account>,
    /// What staying on a page for a while showed.
    pub stay: Option<Stay>,
    /// The sign-in link (a sign-in token's URL) made for me, for the ticket scenarios.
    pub sign_in_link: Option<String>,
    /// The webhook deliveries this scenario made (`@webhooks`).
    pub webhooks: crate::steps::webhooks::WebhookCase,
    /// The organization and machine token of this scenario (`@authorization`).
    pub authz: crate::steps::authorization::AuthzCase,
}

/// What "I stay on the data page for N token lifetimes" saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stay {
    /// Each call the page made to the API route: seconds on the page, status, whether the answer carried the
    /// API's data.
    pub calls: Vec<(u64, u16, bool)>,
    /// `__session` when the stay began and when it ended.
    pub tokens: (Option<String>, Option<String>),
    /// Token refreshes through the Frontend API (`POST …/tokens` answered 200) during the stay.
    pub refreshes: usize,
    /// Handshakes mock-clerk served during the stay.
    pub handshakes: usize,
}

/// An account the browser signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Primary email address.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Password, if the account has one.
    pub password: Option<String>,
    /// The session the browser signed in to, once it has.
    pub session_id: Option<String>,
    /// Its user id at Clerk, once created.
    pub user_id: Option<String>,
}

impl std::fmt::Debug for ConformanceWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render_transcript())
    }
}

impl cucumber::World for ConformanceWorld {
    type Error = std::convert::Infallible;
    async fn new() -> Result<Self, Self::Error> {
        let env = env();
        let agent = Agent::builder().accept_invalid_certs(true).build().expect("an HTTP client");
        let downstream_start = env.downstream.requests().await.map(|all| all.iter().map(|r| r.seq).max().unwrap_or(0)).unwrap_or(0);
        Ok(Self {
            env,
            agent,
            me: None,
            other: None,
            tokens_in_play: Vec::new(),
            tokens_seen: Vec::new(),
            token_before_sign_out: None,
            token_before_time_passed: None,
            navigations: Vec::new(),
            way_back: None,
            marker: mock_clerk::ids::new_id("conformance"),
            transcript: Transcript::default(),
            downstream_start,
            browser: None,
            account: None,
            stay: None,
            sign_in_link: None,
            webhooks: Default::default(),
            authz: Default::default(),
        })
    }
}

impl ConformanceWorld {
    /// The absolute URL of a path on the target.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.env.target_url.trim_end_matches('/'), path)
    }

    /// The target's origin (`http://127.0.0.1:3000`).
    pub fn target_origin(&self) -> String {
        Url::parse(&self.env.target_url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| self.env.target_url.clone())
    }

    /// The target's host (cookies are set for it).
    pub fn target_host(&self) -> String {
        Url::parse(&self.env.target_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "127.0.0.1".into())
    }

    /// My signed-in session, or a failure.
    pub fn me(&self) -> &SignedIn {
        self.me.as_ref().unwrap_or_else(|| self.fail("the scenario has no signed-in user: add `Given I am signed in`"))
    }

    /// The session token my browser holds now (`__session` cookie, or the bearer it sends).
    pub fn current_token(&self) -> Option<String> {
        self.agent.bearer().or_else(|| self.agent.cookie(mock_clerk::cookies::SESSION).map(|c| c.value).filter(|v| !v.is_empty()))
    }

    /// The session token my browser holds now, or a failure.
    pub fn require_token(&self) -> String {
        self.current_token().unwrap_or_else(|| self.fail("my browser holds no session token"))
    }

    /// A session's status at mock-clerk, or a failure.
    pub async fn status_at_clerk(&self, sid: &str) -> String {
        match self.env.issuer.session_status(sid).await {
            Ok(status) => status,
            Err(e) => self.fail(&format!("cannot read {sid}: {e}")),
        }
    }

    /// Records a token as seen.
    pub fn saw_token(&mut self, token: &str) {
        if !token.is_empty() && !self.tokens_seen.iter().any(|t| t == token) {
            self.tokens_seen.push(token.to_owned());
        }
    }

    /// Makes `signed_in` my session: its cookies go into my jar and it becomes [`Self::me`].
    pub fn become_me(&mut self, signed_in: SignedIn) {
        self.hold(&signed_in);
        self.me = Some(signed_in);
    }

    /// Puts a signed-in browser's cookies into my jar.
    pub fn hold(&mut self, signed_in: &SignedIn) {
        let host = self.target_host();
        for cookie in &signed_in.cookies {
            self.agent.set_cookie(&host, &cookie.name, &cookie.value);
        }
        self.saw_token(&signed_in.token.clone());
    }

    /// Follows a request like a browser and records it.
    pub async fn go(&mut self, method: &str, path: &str, mode: Mode) -> &Navigation {
        let url = self.url(path);
        let body = matches!(method, "POST" | "PUT" | "PATCH").then(|| serde_json::json!({"title": self.marker}));
        match self.agent.follow(method, &url, &mode, body.as_ref(), &[]).await {
            Ok(nav) => {
                self.transcript.push_navigation(&nav);
                for cookie in nav.set_cookies().iter().filter_map(|l| l.strip_prefix("__session=")) {
                    let value = cookie.split(';').next().unwrap_or_default().to_owned();
                    self.saw_token(&value);
                }
                self.navigations.push(nav);
                self.navigations.last().expect("just pushed")
            }
            // A redirect to another host that does not answer (this machine has no network): like a browser, the
            // navigation ended at that redirect, and the steps judge where it was sent.
            Err(crate::agent::AgentError::Transport { url, hops, source, .. })
                if !hops.is_empty() && Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_owned)) != Some(self.target_host()) =>
            {
                self.transcript.note(format!("the browser was sent to {url}, which did not answer: {source}"));
                let nav = Navigation::new(hops).expect("hops is not empty");
                self.transcript.push_navigation(&nav);
                self.navigations.push(nav);
                self.navigations.last().expect("just pushed")
            }
            Err(e) => {
                self.transcript.push_agent_error(&e);
                self.fail(&format!("{method} {path} did not complete: {e}"))
            }
        }
    }

    /// The last navigation, or a failure.
    pub fn last(&self) -> &Navigation {
        self.navigations.last().unwrap_or_else(|| self.fail("no request was made yet"))
    }

    /// The downstream requests that are mine: made with one of my sessions' tokens, or carrying the marker this
    /// scenario puts in the bodies it sends, or — since this scenario started — identifying nobody (no session
    /// token, no marker). A correct app never calls its API without a token, so anonymous calls only happen
    /// when something is broken, and then every scenario running at that moment sees them.
    pub async fn my_api_requests(&mut self) -> Vec<RecordedRequest> {
        let mine: Vec<String> = self.me.iter().chain(self.other.iter()).map(|s| s.session_id.clone()).collect();
        let all = match self.env.downstream.requests().await {
            Ok(all) => all,
            Err(e) => self.fail(&format!("cannot read the downstream double's log: {e}")),
        };
        let requests: Vec<RecordedRequest> = all
            .into_iter()
            .filter(|r| match r.session() {
                Some(sid) => mine.contains(&sid),
                None => r.body.contains(&self.marker) || (r.seq > self.downstream_start && !r.body.contains("conformance_")),
            })
            .collect();
        self.transcript.push_downstream(&requests);
        requests
    }

    /// Resolves a place named in a step (`the data page`, `/x`), or fails with what the profile lacks.
    pub fn place(&self, name: &str, query: Option<&str>) -> crate::profile::Place {
        self.env.profile.place(name, query).unwrap_or_else(|e| self.fail(&e))
    }

    /// The transcript with secrets redacted.
    pub fn render_transcript(&self) -> String {
        let secret = self.env.secret_key.as_str();
        self.transcript.render(&[secret])
    }

    /// Fails the step with `message` and the scenario's transcript.
    pub fn fail(&self, message: &str) -> ! {
        let message = crate::transcript::redact(message, &[self.env.secret_key.as_str()]);
        panic!("{message}\n\n{}", self.render_transcript())
    }

    /// Fails a browser step with `message`, the browser's view (URL, console, cookies, the Frontend API calls it
    /// made) and a screenshot written under `target/conformance-browser/`, then the transcript.
    pub async fn browser_fail(&mut self, message: &str) -> ! {
        if let Some(browser) = &self.browser {
            let shot = std::path::PathBuf::from("target/conformance-browser").join(format!("{}.png", self.marker));
            let shot = match browser.screenshot(&shot).await {
                Ok(p) => std::fs::canonicalize(&p).unwrap_or(p).display().to_string(),
                Err(e) => format!("(none: {e})"),
            };
            let report = browser.report(&self.env.issuer.url()).await;
            self.transcript.note(format!("browser screenshot: {shot}\n{report}"));
        }
        self.fail(message)
    }

    /// Fails unless `condition`.
    pub fn check(&self, condition: bool, message: impl FnOnce() -> String) {
        if !condition {
            self.fail(&message())
        }
    }
}
