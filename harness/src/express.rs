//! The Express fixture app (`fixtures/express-app`: Express 5 + `@clerk/express`): installed with `npm ci`, no
//! build step, started with `node src/server.js` on a free port.
//!
//! The stack's settings come in the names `mock-clerk env` prints (a Next.js app's); [`RENAMES`] renames them to
//! the ones `@clerk/express` reads (`loadApiEnv`/`loadClientEnv` in its `dist/utils-*.mjs`) and the app's own.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::app::{AppError, RunningApp, ensure_npm_ci, fixtures_dir, server_app_env};
use crate::process::FileLock;

/// `fixtures/express-app` of this workspace.
pub fn app_dir() -> PathBuf {
    fixtures_dir().join("express-app")
}

/// The stack's variable names and the Express app's: `@clerk/express` reads `CLERK_*` (no `NEXT_PUBLIC_`), the
/// app reads `API_URL` for the downstream API.
pub const RENAMES: [(&str, &str); 6] = [
    ("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "CLERK_PUBLISHABLE_KEY"),
    ("NEXT_PUBLIC_CLERK_PROXY_URL", "CLERK_PROXY_URL"),
    ("NEXT_PUBLIC_CLERK_SIGN_IN_URL", "CLERK_SIGN_IN_URL"),
    ("NEXT_PUBLIC_CLERK_SIGN_UP_URL", "CLERK_SIGN_UP_URL"),
    ("NEXT_PUBLIC_CLERK_TELEMETRY_DISABLED", "CLERK_TELEMETRY_DISABLED"),
    ("NEXT_PUBLIC_API_URL", "API_URL"),
];

/// Installs dependencies (`npm ci`) unless `node_modules` matches the lockfile; serialised across processes.
pub fn ensure_installed() -> Result<(), AppError> {
    let dir = app_dir();
    let _lock = FileLock::acquire(&dir.join(".install.lock"))?;
    ensure_npm_ci(&dir)
}

/// Installs the app if needed, then starts it on a free port with `env` (the stack's settings, renamed by [`RENAMES`]),
/// and waits until it answers HTTP.
pub async fn start(env: &[(String, String)]) -> Result<RunningApp, AppError> {
    tokio::task::block_in_place(ensure_installed)?;
    let port = RunningApp::port()?;
    let mut command = Command::new("node");
    command
        .arg("src/server.js")
        .current_dir(app_dir())
        // Only the settings given here: nothing Clerk-related leaks in from the caller's environment.
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| !k.starts_with("NEXT_PUBLIC_") && !k.starts_with("CLERK_") && k != "API_URL" && k != "APP_DEFECT"))
        .env("NODE_ENV", "production")
        .env("PORT", port.to_string())
        .envs(server_app_env(env, &RENAMES));
    RunningApp::spawn(command, "express-app", port, "/favicon.ico", Duration::from_secs(30)).await
}
