//! The Next.js fixture app (`fixtures/nextjs-app`): installed with `npm ci`, built once per variant when its
//! sources change, and started with `next start` on a free port — without `-H`, which breaks Clerk's 404
//! rewrite (`shared/spec/observed-nextjs.md` §7).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::app::{AppError, RunningApp, ensure_npm_ci, fixtures_dir, newest_mtime, run_setup};
use crate::process::FileLock;

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

/// `fixtures/nextjs-app` of this workspace.
pub fn app_dir() -> PathBuf {
    fixtures_dir().join("nextjs-app")
}

/// Installs dependencies (`npm ci`) and builds `variant` unless an up-to-date build exists. Serialised across
/// processes with a file lock, so parallel tests build once.
pub fn ensure_built(variant: Variant) -> Result<(), AppError> {
    let dir = app_dir();
    let _lock = FileLock::acquire(&dir.join(".build.lock"))?;
    ensure_npm_ci(&dir)?;
    let sources = ["app", "lib", "next.config.ts", "package-lock.json", "scripts", "tsconfig.json"]
        .iter()
        .map(|p| newest_mtime(&dir.join(p)))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let build_id = dir.join(variant.dist_dir()).join("BUILD_ID");
    if newest_mtime(&build_id) > sources {
        return Ok(());
    }
    run_setup("next build", &dir, Command::new("node").args(["scripts/build.mjs", variant.name()]).env("NEXT_TELEMETRY_DISABLED", "1"))
}

/// Builds `variant` if needed, then starts it with `next start` on a free port with `env` (the Clerk and API
/// settings), and waits until it answers HTTP.
pub async fn start(variant: Variant, env: &[(String, String)]) -> Result<RunningApp, AppError> {
    tokio::task::block_in_place(|| ensure_built(variant))?;
    let port = RunningApp::port()?;
    let mut command = Command::new("node");
    command
        .args(["node_modules/next/dist/bin/next", "start", "-p", &port.to_string()])
        .current_dir(app_dir())
        // Only the settings given here: a stray NEXT_PUBLIC_CLERK_PROXY_URL in the caller's environment
        // would, for example, silently turn the TLS mode back into the proxy mode.
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| !k.starts_with("NEXT_PUBLIC_") && !k.starts_with("CLERK_")))
        .env("NEXT_DIST_DIR", variant.dist_dir())
        .env("NEXT_TELEMETRY_DISABLED", "1")
        .env("NODE_ENV", "production")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    RunningApp::spawn(command, &format!("nextjs-app-{}", variant.name()), port, "/favicon.ico", Duration::from_secs(60)).await
}
