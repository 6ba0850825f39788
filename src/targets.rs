//! Where the conformance suite's target comes from: the in-process reference app (default), or an app that
//! is already running (`CONFORMANCE_TARGET_URL`), with mock-clerk and the downstream double started or reached.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use harness::downstream::{Downstream, DownstreamHandle};
use harness::issuer::{Issuer, RemoteConfig};
use harness::profile::Profile;
use harness::runner::RunArgs;
use harness::world::Env;
use mock_clerk::{InstanceKind, MockClerk};
use reference_app::{Config, Defect};

/// What is running for a suite run; dropping it stops what this process started.
pub struct Running {
    /// The suite's environment.
    pub env: Arc<Env>,
    _stop_app: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The reference profile.
pub fn reference_profile_path() -> PathBuf {
    Builtin::Reference.profile_path()
}

/// The built-in targets: the reference app with the documented routes, and the same app with every route moved
/// (`reference_app::Routes::alternative()`), each described only by its own profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `fixtures/targets/reference.toml`.
    Reference,
    /// `fixtures/targets/reference-alt.toml`.
    ReferenceAlt,
}

impl Builtin {
    /// Both, in the order a default run takes them.
    pub const ALL: [Builtin; 2] = [Builtin::Reference, Builtin::ReferenceAlt];

    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Reference => "reference",
            Builtin::ReferenceAlt => "reference-alt",
        }
    }

    /// The built-in target a profile describes, by its name.
    pub fn from_profile(profile: &Profile) -> Option<Builtin> {
        Self::ALL.into_iter().find(|b| b.name() == profile.name)
    }

    /// The profile file.
    pub fn profile_path(self) -> PathBuf {
        crate::node::workspace_root().join(format!("fixtures/targets/{}.toml", self.name()))
    }

    /// The app's routes.
    pub fn routes(self) -> reference_app::Routes {
        match self {
            Builtin::Reference => reference_app::Routes::default(),
            Builtin::ReferenceAlt => reference_app::Routes::alternative(),
        }
    }
}

/// Starts a built-in target (optionally with a seeded defect) with its own profile, mock-clerk and downstream
/// double.
pub async fn start_builtin(target: Builtin, defect: Option<Defect>) -> Result<Running, String> {
    let profile = Profile::load(target.profile_path()).map_err(|e| e.to_string())?;
    start_reference_app(profile, target.routes(), defect).await
}

/// Starts the reference app with the documented routes (optionally with a seeded defect) with its own
/// mock-clerk and downstream double.
pub async fn start_reference(profile: Profile, defect: Option<Defect>) -> Result<Running, String> {
    let routes = Builtin::from_profile(&profile).unwrap_or(Builtin::Reference).routes();
    start_reference_app(profile, routes, defect).await
}

async fn start_reference_app(profile: Profile, routes: reference_app::Routes, defect: Option<Defect>) -> Result<Running, String> {
    let clerk = MockClerk::builder().kind(profile.instance).start().await;
    let downstream = Downstream::start().await.map_err(|e| e.to_string())?;
    let config = Config {
        publishable_key: clerk.publishable_key().to_owned(),
        secret_key: clerk.secret_key().to_owned(),
        clerk_api_url: clerk.url(),
        frontend_api_url: Some(clerk.url()),
        sign_in_url: profile.sign_in_path.clone(),
        sign_up_url: profile.sign_up_path.clone(),
        api_url: downstream.url(),
        routes,
        defect,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let target_url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = reference_app::serve(listener, config, async {
            let _ = stopped.await;
        })
        .await;
    });
    let secret_key = clerk.secret_key().to_owned();
    let env = Env { issuer: Issuer::Local(Arc::new(clerk)), downstream: DownstreamHandle::Local(downstream), target_url, profile, secret_key };
    Ok(Running { env: Arc::new(env), _stop_app: Some(stop) })
}

/// The defect `REFERENCE_APP_DEFECT=<name>` seeds into the built-in targets (see tests/defects.rs).
pub fn defect_from_env() -> Result<Option<Defect>, String> {
    match std::env::var("REFERENCE_APP_DEFECT").ok().filter(|d| !d.is_empty()) {
        Some(name) => Defect::from_name(&name).map(Some).ok_or_else(|| format!("REFERENCE_APP_DEFECT={name}: no such defect")),
        None => Ok(None),
    }
}

/// Whether `args` name no target: the run then drives every built-in target, in-process.
pub fn builtins_only(args: &RunArgs) -> bool {
    args.profile.is_none() && args.target_url.is_none()
}

/// Starts or reaches everything the run needs, as `args` (flags and env) say.
pub async fn start_target(args: &RunArgs) -> Result<Running, String> {
    let profile_path = args.profile.clone().unwrap_or_else(reference_profile_path);
    let profile = Profile::load(&profile_path).map_err(|e| e.to_string())?;
    let Some(target_url) = args.target_url.clone().or_else(|| profile.base_url.clone()) else {
        return start_reference(profile, defect_from_env()?).await;
    };
    let issuer = match &args.mock_clerk_url {
        Some(url) => Issuer::remote(RemoteConfig {
            url: url.clone(),
            secret_key: Some(args.mock_clerk_secret_key.clone().unwrap_or_else(|| mock_clerk::handle::default_secret_key(profile.instance))),
            control_token: None,
            accept_invalid_certs: true,
        })
        .await
        .map_err(|e| format!("mock-clerk at {url}: {e}"))?,
        None => {
            let addr =
                profile.mock_clerk_addr.ok_or("set MOCK_CLERK_URL, or mock_clerk_addr in the profile (the address the app was configured with)")?;
            Issuer::Local(Arc::new(start_clerk(profile.instance, addr).await?))
        }
    };
    let downstream = match &args.downstream_url {
        Some(url) => DownstreamHandle::remote(url).map_err(|e| e.to_string())?,
        None => {
            let addr = profile.downstream_addr.ok_or("set DOWNSTREAM_URL, or downstream_addr in the profile (the app's NEXT_PUBLIC_API_URL)")?;
            DownstreamHandle::Local(Downstream::bind(addr).await.map_err(|e| e.to_string())?)
        }
    };
    let secret_key = issuer.secret_key().map(str::to_owned).unwrap_or_default();
    let env = Env { issuer, downstream, target_url, profile, secret_key };
    Ok(Running { env: Arc::new(env), _stop_app: None })
}

async fn start_clerk(kind: InstanceKind, addr: SocketAddr) -> Result<MockClerk, String> {
    MockClerk::builder().kind(kind).addr(addr).try_start().await.map_err(|e| e.to_string())
}
