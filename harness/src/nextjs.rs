//! The Next.js fixture app (`fixtures/nextjs-app`): installed with `npm ci`, built once per variant when its
//! sources change, and started with `next start` on a free port — without `-H`, which breaks Clerk's 404
//! rewrite (`shared/spec/observed-nextjs.md` §7).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::process::{ChildGuard, FileLock, ProcessError, free_port};

/// Which entry file the app is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// `middleware.ts`: the Edge runtime (unauthenticated non-page requests get 404).
    Middleware,
    /// `proxy.ts`: Next 16's Node runtime (unauthenticated non-page requests get 307).
    Proxy,
}

impl Variant {
    /// `middleware` or `proxy`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Middleware => "middleware",
            Variant::Proxy => "proxy",
        }
    }
    /// Parses `middleware` or `proxy`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "middleware" => Some(Variant::Middleware),
            "proxy" => Some(Variant::Proxy),
            _ => None,
        }
    }
    /// The dist dir of this variant's build.
    pub fn dist_dir(self) -> String {
        format!(".next-{}", self.name())
    }
}

/// What went wrong with the app.
#[derive(Debug, thiserror::Error)]
pub enum NextAppError {
    /// `npm ci` or the build failed.
    #[error("{step} in {dir} failed:\n{output}")]
    Setup {
        /// `npm ci` or `next build`.
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

/// `fixtures/nextjs-app` of this workspace.
pub fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/nextjs-app")
}

fn newest_mtime(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else { return SystemTime::UNIX_EPOCH };
    let mut newest = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest = newest.max(newest_mtime(&entry.path()));
        }
    }
    newest
}

fn run(step: &'static str, dir: &Path, command: &mut Command) -> Result<(), NextAppError> {
    let out = command.current_dir(dir).output()?;
    if out.status.success() {
        return Ok(());
    }
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Err(NextAppError::Setup { step, dir: dir.into(), output })
}

/// Installs dependencies (`npm ci`) and builds `variant` unless an up-to-date build exists. Serialised across
/// processes with a file lock, so parallel tests build once.
pub fn ensure_built(variant: Variant) -> Result<(), NextAppError> {
    let dir = app_dir();
    let _lock = FileLock::acquire(&dir.join(".build.lock"))?;
    let lockfile = newest_mtime(&dir.join("package-lock.json"));
    if newest_mtime(&dir.join("node_modules/.package-lock.json")) < lockfile {
        run("npm ci", &dir, Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]))?;
    }
    let sources = ["app", "lib", "next.config.ts", "package-lock.json", "scripts", "tsconfig.json"]
        .iter()
        .map(|p| newest_mtime(&dir.join(p)))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let build_id = dir.join(variant.dist_dir()).join("BUILD_ID");
    if newest_mtime(&build_id) > sources {
        return Ok(());
    }
    run("next build", &dir, Command::new("node").args(["scripts/build.mjs", variant.name()]).env("NEXT_TELEMETRY_DISABLED", "1"))
}

/// A running `next start`.
#[derive(Debug)]
pub struct NextApp {
    url: String,
    process: ChildGuard,
}

impl NextApp {
    /// Builds if needed, then starts `variant` on a free port with `env` (the Clerk and API settings), and
    /// waits until it answers HTTP.
    pub async fn start(variant: Variant, env: &[(String, String)]) -> Result<Self, NextAppError> {
        tokio::task::block_in_place(|| ensure_built(variant))?;
        let dir = app_dir();
        let port = free_port()?;
        let mut command = Command::new("node");
        command
            .args(["node_modules/next/dist/bin/next", "start", "-p", &port.to_string()])
            .current_dir(&dir)
            // Only the settings given here: a stray NEXT_PUBLIC_CLERK_PROXY_URL in the caller's environment
            // would, for example, silently turn the TLS mode back into the proxy mode.
            .env_clear()
            .envs(std::env::vars().filter(|(k, _)| !k.starts_with("NEXT_PUBLIC_") && !k.starts_with("CLERK_")))
            .env("NEXT_DIST_DIR", variant.dist_dir())
            .env("NEXT_TELEMETRY_DISABLED", "1")
            .env("NODE_ENV", "production")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let log = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/nextjs-app-{}-{port}.log", variant.name()));
        let mut process = ChildGuard::spawn(command, &log)?;
        let url = format!("http://127.0.0.1:{port}");
        let probe = format!("{url}/favicon.ico");
        let client = reqwest::Client::new();
        process
            .wait_until(Duration::from_secs(60), || {
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
