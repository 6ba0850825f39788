//! Where `mock-clerk serve` writes its log lines (one per Backend/Frontend API request at the default level):
//! stderr, through a buffer that a background thread writes out. A logged request then costs a copy into memory
//! instead of a `write` system call of its own: the lines that arrive while the thread writes, or within
//! [`COALESCE`] after, go out together. When nothing was logged for a while, a line is written at once.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// After each write the thread waits this long before it looks again, so that under load one write carries many
/// lines. Also the longest a line waits while others are being logged.
pub const COALESCE: Duration = Duration::from_millis(5);
/// With this many bytes waiting, a thread that logs waits for the writer, as it would on a full pipe.
pub const MAX_BUFFERED: usize = 4 << 20;

struct Shared {
    buffer: Mutex<Buffer>,
    /// stderr (a test's buffer in tests).
    sink: Mutex<Box<dyn Write + Send>>,
    /// Signalled when lines arrive while the writer sleeps idle.
    arrived: Condvar,
    /// Signalled when the writer took the buffer.
    taken: Condvar,
}

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// The writer waits for `arrived`: the next line wakes it.
    writer_idle: bool,
    /// No writer any more: lines go to stderr directly.
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Nowhere to report a failed write to: the lines are lost, as with `eprintln!` to a closed stderr.
    fn write_to_sink(&self, bytes: &[u8]) {
        let _ = self.sink.lock().unwrap_or_else(|p| p.into_inner()).write_all(bytes);
    }
}

/// The `MakeWriter` for `tracing_subscriber::fmt().with_writer(…)`.
#[derive(Clone)]
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Writes out what is buffered and stops the writer thread when dropped; later lines go to stderr directly.
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

/// The writer and its guard: keep the guard alive as long as lines should be batched.
pub fn batched_stderr() -> (BatchedStderr, FlushOnDrop) {
    batched(Box::new(std::io::stderr()))
}

fn batched(sink: Box<dyn Write + Send>) -> (BatchedStderr, FlushOnDrop) {
    let shared = Arc::new(Shared { buffer: Mutex::default(), sink: Mutex::new(sink), arrived: Condvar::new(), taken: Condvar::new() });
    let writer = {
        let shared = shared.clone();
        std::thread::Builder::new().name("mock-clerk-log".into()).spawn(move || write_out(&shared))
    };
    match writer {
        Ok(writer) => (BatchedStderr { shared: shared.clone() }, FlushOnDrop { shared, writer: Some(writer) }),
        Err(_) => {
            // No thread: every line is written directly.
            shared.lock().closed = true;
            (BatchedStderr { shared: shared.clone() }, FlushOnDrop { shared, writer: None })
        }
    }
}

fn write_out(shared: &Shared) {
    let mut out = Vec::new();
    loop {
        let closed = {
            let mut buffer = shared.lock();
            while buffer.bytes.is_empty() && !buffer.closed {
                buffer.writer_idle = true;
                buffer = shared.arrived.wait(buffer).unwrap_or_else(|p| p.into_inner());
            }
            buffer.writer_idle = false;
            std::mem::swap(&mut buffer.bytes, &mut out);
            buffer.closed
        };
        shared.taken.notify_all();
        shared.write_to_sink(&out);
        out.clear();
        if closed {
            return;
        }
        std::thread::sleep(COALESCE);
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.arrived.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// One log line's writer.
pub struct Line<'a>(&'a Shared);

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = Line<'a>;
    fn make_writer(&'a self) -> Line<'a> {
        Line(&self.shared)
    }
}

impl Write for Line<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock();
        while buffer.bytes.len() >= MAX_BUFFERED && !buffer.closed {
            buffer = self.0.taken.wait(buffer).unwrap_or_else(|p| p.into_inner());
        }
        if buffer.closed {
            drop(buffer);
            self.0.write_to_sink(line);
            return Ok(line.len());
        }
        buffer.bytes.extend_from_slice(line);
        if buffer.writer_idle {
            buffer.writer_idle = false;
            self.0.arrived.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink a test can read (this module's tests and `logformat`'s).
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_comes_out_whole_and_in_order_and_the_guard_flushes_the_rest() {
        let sink = Captured::default();
        let (writer, guard) = batched(Box::new(sink.clone()));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        writer.make_writer().write_all(format!("thread {t} line {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        writer.make_writer().write_all(b"after the guard\n").unwrap();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4 * 5_000 + 1);
        for t in 0..4 {
            let own: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with(&format!("thread {t} "))).collect();
            let expected: Vec<String> = (0..5_000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(own, expected, "thread {t}");
        }
        assert_eq!(lines.last(), Some(&"after the guard"));
    }
}
