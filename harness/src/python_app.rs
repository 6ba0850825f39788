//! The Python fixture app (`fixtures/python-app`): Starlette on uvicorn with Clerk's Python SDK
//! (`clerk-backend-api`). Set up by the fixture's own `setup.sh` (a virtual environment in `.venv` with the
//! pinned, hashed `requirements.txt`; nothing to do when it is up to date), started with `uvicorn` on a free port.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::app::{AppError, RunningApp, fixtures_dir, run_setup, server_app_env};
use crate::process::FileLock;

/// `fixtures/python-app` of this workspace.
pub fn app_dir() -> PathBuf {
    fixtures_dir().join("python-app")
}

/// Creates the virtual environment unless it was installed from the current `requirements.txt`. Serialised across
/// processes with a file lock, so parallel tests install once.
pub fn ensure_installed() -> Result<(), AppError> {
    let dir = app_dir();
    let _lock = FileLock::acquire(&dir.join(".setup.lock"))?;
    run_setup("setup.sh (python3 -m venv, pip install --require-hashes)", &dir, Command::new("bash").arg("setup.sh"))
}

/// How the stack's settings (named as `mock-clerk env` prints them, plus `NEXT_PUBLIC_API_URL`) are named in the
/// Python app; anything else given (e.g. `APP_DEFECT`) passes as is.
const RENAMED: [(&str, &str); 4] = [
    ("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "CLERK_PUBLISHABLE_KEY"),
    ("NEXT_PUBLIC_CLERK_SIGN_IN_URL", "CLERK_SIGN_IN_URL"),
    ("NEXT_PUBLIC_CLERK_SIGN_UP_URL", "CLERK_SIGN_UP_URL"),
    ("NEXT_PUBLIC_API_URL", "API_URL"),
];

/// Installs the app if needed, then starts it with `uvicorn` on a free port with `env` (the Clerk and API
/// settings), and waits until it answers HTTP.
pub async fn start(env: &[(String, String)]) -> Result<RunningApp, AppError> {
    tokio::task::block_in_place(ensure_installed)?;
    let port = RunningApp::port()?;
    let dir = app_dir();
    let mut command = Command::new(dir.join(".venv/bin/python"));
    command
        .args(["-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--no-access-log", "--log-level", "warning"])
        .current_dir(&dir)
        // Only the settings given here (and what finds programs and the home directory): nothing leaks from the
        // caller's environment.
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| k == "PATH" || k == "HOME"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("APP_ORIGIN", format!("http://127.0.0.1:{port}"))
        .envs(server_app_env(env, &RENAMED));
    RunningApp::spawn(command, "python-app", port, "/robots.txt", Duration::from_secs(60)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_renamed_and_browser_ones_left_out() {
        let given = [
            ("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "pk_test_x"),
            ("CLERK_SECRET_KEY", "sk_test_x"),
            ("NEXT_PUBLIC_CLERK_PROXY_URL", "http://127.0.0.1:1"),
            ("NEXT_PUBLIC_API_URL", "http://127.0.0.1:2"),
            ("APP_DEFECT", "no-protect"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let got = server_app_env(&given, &RENAMED);
        let names: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["CLERK_PUBLISHABLE_KEY", "CLERK_SECRET_KEY", "API_URL", "APP_DEFECT"]);
    }
}
