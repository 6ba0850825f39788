//! Child processes a test owns: started in their own process group, their output captured to a log file,
//! and the whole group stopped when the guard drops — also when the test panics. Never killed by name.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What went wrong starting or waiting for a child.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The log file could not be created.
    #[error("cannot create log file {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The child exited before it was ready.
    #[error("{program} exited with {status} before it was ready; its output:\n{output}")]
    ExitedEarly {
        /// The program.
        program: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The tail of its log.
        output: String,
    },
    /// The child was not ready in time.
    #[error("{program} was not ready within {timeout:?}; its output:\n{output}")]
    NotReady {
        /// The program.
        program: String,
        /// How long we waited.
        timeout: Duration,
        /// The tail of its log.
        output: String,
    },
}

/// A running child process group, stopped on drop (SIGTERM to the group, then SIGKILL after a grace period).
#[derive(Debug)]
pub struct ChildGuard {
    program: String,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Spawns `command` in a new process group with stdout and stderr appended to `log`.
    pub fn spawn(mut command: Command, log: &Path) -> Result<Self, ProcessError> {
        use std::os::unix::process::CommandExt;
        let program = command.get_program().to_string_lossy().into_owned();
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let out = File::create(log).map_err(|source| ProcessError::Log { path: log.into(), source })?;
        let err = out.try_clone().map_err(|source| ProcessError::Log { path: log.into(), source })?;
        command.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        let child = command.spawn().map_err(|source| ProcessError::Spawn { program: program.clone(), source })?;
        Ok(Self { program, child, log: log.into() })
    }

    /// The child's PID (also its process-group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `max` bytes of the child's output.
    pub fn output_tail(&self, max: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(max);
        let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
        text[start..].to_owned()
    }

    /// Fails if the child has exited.
    pub fn check_running(&mut self) -> Result<(), ProcessError> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(ProcessError::ExitedEarly { program: self.program.clone(), status, output: self.output_tail(4000) }),
            _ => Ok(()),
        }
    }

    /// Waits until `ready()` is true, failing early if the child exits.
    pub async fn wait_until<F, Fut>(&mut self, timeout: Duration, mut ready: F) -> Result<(), ProcessError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        loop {
            self.check_running()?;
            if ready().await {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(ProcessError::NotReady { program: self.program.clone(), timeout, output: self.output_tail(4000) });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the process group: SIGTERM, then SIGKILL if it is still there after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let group = -(self.child.id() as i32);
        // SAFETY: kill(2) with a negative pid signals the process group we created for this child.
        unsafe {
            libc::kill(group, libc::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                // The leader is gone; make sure no grandchild of the group lingers.
                unsafe {
                    libc::kill(group, libc::SIGKILL);
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        unsafe {
            libc::kill(group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}

/// A free TCP port on 127.0.0.1, for programs that cannot be told to bind port 0 and report it.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Holds an exclusive `flock` on a file while alive (serialises builds across test processes).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the lock on `path` is held.
    pub fn acquire(path: &Path) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        // SAFETY: flock on a file descriptor we own; released when the file is closed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_guard_stops_the_whole_group() {
        let log = std::env::temp_dir().join(format!("harness-process-test-{}.log", std::process::id()));
        let mut cmd = Command::new("sh");
        // a child that starts a grandchild, both sleeping
        cmd.args(["-c", "sleep 30 & echo started; wait"]);
        let guard = ChildGuard::spawn(cmd, &log).unwrap();
        let pid = guard.pid() as i32;
        std::thread::sleep(Duration::from_millis(200));
        assert!(guard.output_tail(100).contains("started"));
        assert_eq!(live_members(pid), 2, "sh and its sleep run in their own group");
        drop(guard);
        // no live process is left in the group (an exited grandchild may linger as a zombie until reaped)
        let deadline = Instant::now() + Duration::from_secs(2);
        while live_members(pid) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(live_members(pid), 0, "process group {pid} still has running members");
        let _ = std::fs::remove_file(log);
    }

    /// Processes of process group `pgid` that are not zombies, from /proc.
    fn live_members(pgid: i32) -> usize {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                // "pid (comm) state ppid pgrp …": split after the last ')' as comm may hold spaces
                let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
                let fields: Vec<&str> = rest.split_whitespace().collect();
                fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
            })
            .count()
    }
}
