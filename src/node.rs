//! Runs the Node fixtures under `fixtures/` (the real `@clerk/backend`, `@clerk/nextjs`), installing their
//! locked dependencies with `npm ci` on first use.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture directory, e.g. `fixture_dir("clerk-backend")`.
pub fn fixture_dir(name: &str) -> PathBuf {
    workspace_root().join("fixtures").join(name)
}

static NPM: Mutex<()> = Mutex::new(());

/// Runs `npm ci` in `dir` unless its `node_modules` is already installed from the current lockfile; one at a time
/// within this process.
pub fn ensure_npm_ci(dir: &Path) -> Result<(), String> {
    let _one_at_a_time = NPM.lock().unwrap_or_else(|p| p.into_inner());
    harness::app::ensure_npm_ci(dir).map_err(|e| format!("{e} (Node 20 and npm are required)"))
}

/// Runs `node <script>` in `dir` with `input` on stdin and parses the single JSON line it prints.
/// The child is killed (by its handle) if it outlives `timeout`.
pub fn run_json_script(dir: &Path, script: &str, input: &Value, timeout: Duration) -> Result<Value, String> {
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(input.to_string().as_bytes()).map_err(|e| e.to_string())?;
    drop(stdin);
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("node {script} did not finish within {timeout:?}"));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("node {script} printed no JSON (exit {:?}); stderr:\n{stderr}", status.code()))?;
    serde_json::from_str(line).map_err(|e| format!("node {script} printed bad JSON: {e}: {line}"))
}
