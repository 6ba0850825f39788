//! The whole test stack for a fixture app: mock-clerk and the downstream double in this process, the app (e.g.
//! `next start`) as an owned child process configured to use both. Dropping the stack stops all three.

use std::net::SocketAddr;
use std::sync::Arc;

use mock_clerk::{InstanceKind, MockClerk};

use crate::app::{App, AppError, RunningApp};
use crate::downstream::Downstream;
use crate::nextjs::Variant;

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Which app (for Next.js, the `middleware.ts` or `proxy.ts` build).
    pub app: App,
    /// Development (`pk_test_`) or production (`pk_live_`) instance.
    pub kind: InstanceKind,
    /// Serve the Frontend API over TLS and give the app no proxy URL (the SDK then uses
    /// `https://<frontend host>` for the handshake). Otherwise `NEXT_PUBLIC_CLERK_PROXY_URL=http://…`.
    pub tls: bool,
    /// Where mock-clerk listens (default: a free loopback port).
    pub mock_clerk_addr: SocketAddr,
    /// Where the downstream double listens (default: a free loopback port).
    pub downstream_addr: SocketAddr,
    /// More environment for the app (e.g. `APP_DEFECT` to seed a defect).
    pub extra_env: Vec<(String, String)>,
    /// mock-clerk's session token lifetime (default: Clerk's 60 s).
    pub token_lifetime: Option<std::time::Duration>,
    /// Social providers enabled on mock-clerk (default: [`DEFAULT_OAUTH_PROVIDERS`]).
    pub oauth_providers: Vec<String>,
}

/// The social providers the stack enables, so that `<SignIn/>` shows them (`@client-social` scenarios).
pub const DEFAULT_OAUTH_PROVIDERS: [&str; 2] = ["google", "github"];

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            app: App::Next(Variant::Middleware),
            kind: InstanceKind::Development,
            tls: false,
            mock_clerk_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            downstream_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            extra_env: Vec::new(),
            token_lifetime: None,
            oauth_providers: DEFAULT_OAUTH_PROVIDERS.map(str::to_owned).to_vec(),
        }
    }
}

/// What went wrong starting the stack.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// mock-clerk did not start.
    #[error("mock-clerk: {0}")]
    MockClerk(#[from] mock_clerk::StartError),
    /// The downstream double did not start.
    #[error("downstream double: {0}")]
    Downstream(#[from] crate::downstream::DownstreamError),
    /// The app did not build or start.
    #[error("the app: {0}")]
    App(#[from] AppError),
}

/// A running stack.
#[derive(Debug)]
pub struct Stack {
    /// The issuer.
    pub clerk: Arc<MockClerk>,
    /// The app's downstream API.
    pub downstream: Downstream,
    /// The app.
    pub app: RunningApp,
    /// The settings the app was started with.
    pub app_env: Vec<(String, String)>,
    /// How it was started.
    pub options: StackOptions,
}

impl Stack {
    /// Sets the app up if needed and starts mock-clerk, the downstream double and the app.
    pub async fn start(options: StackOptions) -> Result<Self, StackError> {
        let mut builder = MockClerk::builder().kind(options.kind).addr(options.mock_clerk_addr).tls(options.tls);
        if let Some(ttl) = options.token_lifetime {
            builder = builder.token_lifetime(ttl);
        }
        for provider in &options.oauth_providers {
            builder = builder.oauth_provider(provider.clone());
        }
        let clerk = builder.try_start().await?;
        let downstream = Downstream::bind(options.downstream_addr).await?;
        let mut app_env = clerk.env();
        app_env.push(("NEXT_PUBLIC_API_URL".into(), downstream.url()));
        app_env.extend(options.extra_env.iter().cloned());
        let app = options.app.start(&app_env).await?;
        // Ticket URLs (sign-in and actor tokens) send the browser to the app's own sign-in page.
        let sign_in_path = app_env.iter().find(|(k, _)| k == "NEXT_PUBLIC_CLERK_SIGN_IN_URL").map_or("/auth/sign-in", |(_, v)| v.as_str());
        clerk.set_sign_in_url(Some(format!("{}{sign_in_path}", app.url())));
        Ok(Self { clerk: Arc::new(clerk), downstream, app, app_env, options })
    }

    /// The conformance suite's environment for this stack (in-process issuer and downstream double), and the
    /// running app, which must be kept alive while the suite runs.
    pub fn into_env(self, profile: crate::profile::Profile) -> (Arc<crate::world::Env>, RunningApp) {
        let env = crate::world::Env {
            secret_key: self.clerk.secret_key().to_owned(),
            issuer: crate::issuer::Issuer::Local(self.clerk),
            downstream: crate::downstream::DownstreamHandle::Local(self.downstream),
            target_url: self.app.url().to_owned(),
            profile,
        };
        (Arc::new(env), self.app)
    }

    /// The variables a conformance run against this stack needs (`CONFORMANCE_TARGET_URL`, `MOCK_CLERK_URL`,
    /// `DOWNSTREAM_URL`, the instance's keys).
    pub fn target_env(&self) -> Vec<(String, String)> {
        vec![
            ("CONFORMANCE_TARGET_URL".into(), self.app.url().to_owned()),
            ("MOCK_CLERK_URL".into(), self.clerk.url()),
            ("MOCK_CLERK_SECRET_KEY".into(), self.clerk.secret_key().to_owned()),
            ("DOWNSTREAM_URL".into(), self.downstream.url()),
        ]
    }
}
