//! A `mock-clerk serve` child process of the real binary, with its address read from its output.

use std::io::{BufRead as _, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The mock-clerk binary cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_mock-clerk");

/// A `mock-clerk serve` child process, killed (by its handle) when dropped.
pub struct Served {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its log (stderr) lines so far, when spawned with [`Served::spawn_logged`].
    log: Option<Arc<Mutex<Vec<String>>>>,
}

impl Served {
    /// Starts `mock-clerk serve ARGS` in `dir`, with no `MOCK_CLERK_*` variables, and waits for its address.
    pub fn spawn(args: &[&str], dir: &Path) -> Self {
        Self::start(args, dir, false)
    }

    /// [`Served::spawn`], keeping its log lines ([`Served::log`]).
    pub fn spawn_logged(args: &[&str], dir: &Path) -> Self {
        Self::start(args, dir, true)
    }

    fn start(args: &[&str], dir: &Path, logged: bool) -> Self {
        let mut command = Command::new(BINARY);
        let stderr = if logged { Stdio::piped() } else { Stdio::null() };
        command.arg("serve").args(args).current_dir(dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(stderr);
        for (name, _) in std::env::vars() {
            if name.starts_with("MOCK_CLERK_") {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().expect("spawn mock-clerk");
        let stdout = child.stdout.take().unwrap();
        let log = child.stderr.take().map(|stderr| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = lines.clone();
            each_line(stderr, move |line| sink.lock().unwrap().push(line));
            lines
        });
        let (tx, rx) = mpsc::channel();
        each_line(stdout, move |line| {
            let _ = tx.send(line);
        });
        let addr = loop {
            let line = match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("no `listening on` line from mock-clerk serve {args:?}");
                }
            };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse::<SocketAddr>().expect("an address");
            }
        };
        Self { child, addr, log }
    }

    /// The log lines it has written so far (empty unless spawned with [`Served::spawn_logged`]).
    pub fn log(&self) -> Vec<String> {
        self.log.as_ref().map(|l| l.lock().unwrap().clone()).unwrap_or_default()
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it like `kill -9` would: no graceful shutdown, nothing flushed on the way out.
    #[allow(dead_code)]
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

/// Hands each line `from` gives to `f`, on a thread of its own, until it ends.
fn each_line(from: impl Read + Send + 'static, mut f: impl FnMut(String) + Send + 'static) {
    std::thread::spawn(move || BufReader::new(from).lines().map_while(Result::ok).for_each(&mut f));
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
