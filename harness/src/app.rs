//! The fixture apps a stack can run (`fixtures/<app>`), and a running app: an owned child process group answering
//! HTTP on a free loopback port, stopped when dropped.
//!
//! Each app has a module that sets it up (installs its locked dependencies, builds it when its sources changed)
//! and starts it with the stack's settings; this module holds what they share.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::nextjs::Variant;
use crate::process::{ChildGuard, ProcessError, free_port};

/// A fixture app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum App {
    /// `fixtures/nextjs-app`, built with `middleware.ts` or `proxy.ts`.
    Next(Variant),
    /// `fixtures/express-app`: Express 5 + `@clerk/express`.
    Express,
    /// `fixtures/python-app`: Starlette + Clerk's Python SDK.
    Python,
}

impl App {
    /// Every app, in the order `stack --app` lists them.
    pub const ALL: [App; 4] = [App::Next(Variant::Middleware), App::Next(Variant::Proxy), App::Express, App::Python];

    /// The name `stack --app` takes, also used in log file names: `middleware`, `proxy`, `express`, `python`.
    pub fn name(self) -> &'static str {
        match self {
            App::Next(variant) => variant.name(),
            App::Express => "express",
            App::Python => "python",
        }
    }

    /// The app named `name` (see [`App::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|app| app.name() == name)
    }

    /// The names [`App::from_name`] takes, for error messages.
    pub fn names() -> String {
        Self::ALL.map(App::name).join(", ")
    }

    /// The app's profile, `fixtures/targets/<profile name>.toml`.
    pub fn profile_path(self) -> PathBuf {
        let name = match self {
            App::Next(variant) => format!("nextjs-{}", variant.name()),
            App::Express => "express".to_owned(),
            App::Python => "python".to_owned(),
        };
        fixtures_dir().join("targets").join(format!("{name}.toml"))
    }

    /// Sets the app up if needed and starts it with `env` (the stack's Clerk and API settings, in the names
    /// `mock-clerk env` prints, plus `NEXT_PUBLIC_API_URL`), waiting until it answers HTTP.
    pub async fn start(self, env: &[(String, String)]) -> Result<RunningApp, AppError> {
        match self {
            App::Next(variant) => crate::nextjs::start(variant, env).await,
            App::Express => crate::express::start(env).await,
            App::Python => crate::python_app::start(env).await,
        }
    }
}

/// What went wrong setting up or starting an app.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Installing or building the app failed.
    #[error("{step} in {dir} failed:\n{output}")]
    Setup {
        /// E.g. `npm ci` or `next build`.
        step: &'static str,
        /// The app directory.
        dir: PathBuf,
        /// What it printed.
        output: String,
    },
    /// A file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server did not come up.
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// `fixtures/` of this workspace.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The newest modification time under `path` (a file or a directory tree); the epoch when it does not exist.
pub fn newest_mtime(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else { return SystemTime::UNIX_EPOCH };
    let mut newest = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest = newest.max(newest_mtime(&entry.path()));
        }
    }
    newest
}

/// Runs a set-up `step` (e.g. `npm ci`) in `dir`; its output is the error when it fails.
pub fn run_setup(step: &'static str, dir: &Path, command: &mut Command) -> Result<(), AppError> {
    let out = command.current_dir(dir).output()?;
    if out.status.success() {
        return Ok(());
    }
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Err(AppError::Setup { step, dir: dir.into(), output })
}

/// Runs `npm ci` in `dir` unless `node_modules` was installed from the current lockfile.
pub fn ensure_npm_ci(dir: &Path) -> Result<(), AppError> {
    if newest_mtime(&dir.join("node_modules/.package-lock.json")) >= newest_mtime(&dir.join("package-lock.json")) {
        return Ok(());
    }
    run_setup("npm ci", dir, Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]))
}

/// The environment of an app without Clerk's client layer, from the stack's (named as `mock-clerk env` prints them,
/// a Next.js app's, plus `NEXT_PUBLIC_API_URL`): the settings `renames` names get the app's names; the other
/// `NEXT_PUBLIC_*` ones (the browser's: clerk-js bundle URLs) are left out; the rest (`CLERK_SECRET_KEY`,
/// `CLERK_API_URL`, `APP_DEFECT`, …) is kept as it is.
///
/// ```
/// let env = [("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "pk"), ("NEXT_PUBLIC_CLERK_JS_URL", "js"), ("CLERK_API_URL", "api")];
/// let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
/// let mapped = harness::app::server_app_env(&env, &[("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "CLERK_PUBLISHABLE_KEY")]);
/// assert_eq!(mapped, [("CLERK_PUBLISHABLE_KEY".to_string(), "pk".to_string()), ("CLERK_API_URL".into(), "api".into())]);
/// ```
pub fn server_app_env(env: &[(String, String)], renames: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .filter_map(|(k, v)| match renames.iter().find(|(from, _)| from == k) {
            Some((_, to)) => Some(((*to).to_owned(), v.clone())),
            None if k.starts_with("NEXT_PUBLIC_") => None,
            None => Some((k.clone(), v.clone())),
        })
        .collect()
}

/// A running app.
#[derive(Debug)]
pub struct RunningApp {
    url: String,
    process: ChildGuard,
}

impl RunningApp {
    /// A free loopback port for an app to listen on.
    pub fn port() -> Result<u16, AppError> {
        Ok(free_port()?)
    }

    /// Spawns `command` (which must listen on `127.0.0.1:port`) in its own process group, its output in
    /// `target/<log_name>-<port>.log`, and waits up to `timeout` until `GET <ready_path>` gets any HTTP answer.
    pub async fn spawn(command: Command, log_name: &str, port: u16, ready_path: &str, timeout: Duration) -> Result<Self, AppError> {
        let log = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/{log_name}-{port}.log"));
        let mut process = ChildGuard::spawn(command, &log)?;
        let url = format!("http://127.0.0.1:{port}");
        let probe = format!("{url}{ready_path}");
        let client = reqwest::Client::new();
        process
            .wait_until(timeout, || {
                let request = client.get(&probe).timeout(Duration::from_secs(2)).send();
                async move { request.await.is_ok() }
            })
            .await?;
        Ok(Self { url, process })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's recent output, for failure reports.
    pub fn output_tail(&self) -> String {
        self.process.output_tail(8000)
    }
}
