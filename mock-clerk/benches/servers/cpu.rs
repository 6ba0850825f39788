//! Where the machine's CPU went while a load ran, per request: the server's user and system time
//! (`/proc/<pid>/stat`, all its threads), the load generator's (this process and the children it reaped: `wrk`),
//! the machine's idle share and its context switches (`/proc/stat`). Read before and after the load generator
//! runs; Linux only (elsewhere the accounting is left out).

use std::fmt;

/// Counters at one instant.
pub struct Snapshot {
    /// The server's user and system time, in clock ticks.
    server: (u64, u64),
    /// User and system time of this process and of its reaped children, in microseconds.
    generator: u64,
    /// Every CPU's time, and the idle part of it (idle + iowait), in clock ticks.
    machine: (u64, u64),
    /// Context switches on the machine since boot.
    switches: u64,
}

impl Snapshot {
    /// The counters of process `pid` and of the machine, or `None` where `/proc` cannot be read.
    pub fn take(pid: u32) -> Option<Self> {
        let process = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let machine = std::fs::read_to_string("/proc/stat").ok()?;
        let (total, idle, switches) = parse_machine(&machine)?;
        let generator = cpu_time(libc::RUSAGE_SELF)? + cpu_time(libc::RUSAGE_CHILDREN)?;
        Some(Self { server: parse_process(&process)?, generator, machine: (total, idle), switches })
    }
}

/// What one request cost between two snapshots.
pub struct PerRequest {
    user_us: f64,
    system_us: f64,
    generator_us: f64,
    idle_percent: f64,
    switches: f64,
}

impl PerRequest {
    pub fn between(before: &Snapshot, after: &Snapshot, requests: u64) -> Option<Self> {
        // SAFETY: sysconf only reads a configuration value.
        let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if ticks_per_sec <= 0 || requests == 0 {
            return None;
        }
        let us_per_tick = 1e6 / ticks_per_sec as f64;
        let n = requests as f64;
        let delta = |a: u64, b: u64| b.saturating_sub(a) as f64;
        let total = delta(before.machine.0, after.machine.0);
        Some(Self {
            user_us: delta(before.server.0, after.server.0) * us_per_tick / n,
            system_us: delta(before.server.1, after.server.1) * us_per_tick / n,
            generator_us: delta(before.generator, after.generator) / n,
            idle_percent: if total > 0.0 { 100.0 * delta(before.machine.1, after.machine.1) / total } else { 0.0 },
            switches: delta(before.switches, after.switches) / n,
        })
    }
}

impl fmt::Display for PerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server {:.0} µs user + {:.0} µs system, load generator {:.0} µs, machine idle {:.1} %, {:.2} context switches",
            self.user_us, self.system_us, self.generator_us, self.idle_percent, self.switches
        )
    }
}

/// User plus system time of `who` (`RUSAGE_SELF` or `RUSAGE_CHILDREN`), in microseconds.
fn cpu_time(who: libc::c_int) -> Option<u64> {
    // SAFETY: an all-zero `rusage` is valid, and getrusage only writes into the one it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`.
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return None;
    }
    let us = |t: libc::timeval| u64::try_from(t.tv_sec).ok()?.checked_mul(1_000_000)?.checked_add(u64::try_from(t.tv_usec).ok()?);
    us(usage.ru_utime)?.checked_add(us(usage.ru_stime)?)
}

/// `utime` and `stime` (fields 14 and 15) of `/proc/<pid>/stat`; the command name (field 2) may hold spaces and
/// parentheses, so fields are counted after its last `)`.
fn parse_process(text: &str) -> Option<(u64, u64)> {
    let mut fields = text.rsplit_once(')')?.1.split_whitespace().skip(11);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// All CPUs' time and its idle part (idle + iowait) from the `cpu` line of `/proc/stat`, and the `ctxt` count.
/// Guest time is already inside user time, so only the first eight columns are summed.
fn parse_machine(text: &str) -> Option<(u64, u64, u64)> {
    let cpu: Vec<u64> =
        text.lines().find_map(|l| l.strip_prefix("cpu "))?.split_whitespace().take(8).map(|v| v.parse().ok()).collect::<Option<_>>()?;
    let switches = text.lines().find_map(|l| l.strip_prefix("ctxt "))?.trim().parse().ok()?;
    (cpu.len() == 8).then(|| (cpu.iter().sum(), cpu[3] + cpu[4], switches))
}

/// The parsers against Linux's formats (a correctness check, not a timing one).
pub fn check_proc_parsers() {
    let process = "4242 (mock clerk (x)) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 6 0 100 0 0";
    assert_eq!(parse_process(process), Some((1234, 56)));
    assert_eq!(parse_process("4242 (mock-clerk) S 1"), None);
    let machine = "cpu  100 1 20 300 4 5 6 7 8 9\ncpu0 50 0 10 150 2 2 3 3 4 4\nintr 1 2 3\nctxt 987654\nbtime 1\n";
    assert_eq!(parse_machine(machine), Some((443, 304, 987654)));
    assert_eq!(parse_machine("cpu  1 2 3\nctxt 5\n"), None);
}
