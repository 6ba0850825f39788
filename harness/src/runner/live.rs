//! The live progress line, on a terminal only (stdout is a TTY): `12/240 scenarios, 1 failing, 8 s`, redrawn in
//! place as scenarios finish. Whatever else goes to the terminal (cucumber's progress) first clears it, so lines
//! never mix; a log file or a CI log (not a TTY) never sees it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Erases the current terminal line: carriage return, then ANSI "erase to end of line".
const ERASE: &[u8] = b"\r\x1b[K";

/// The line's state and the terminal it is drawn on.
pub struct Live {
    state: Mutex<State>,
}

struct State {
    out: Box<dyn Write + Send>,
    total: usize,
    done: usize,
    failing: usize,
    started: Instant,
    drawn: bool,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Live")
    }
}

impl Live {
    /// A line drawn on `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Arc<Self> {
        Arc::new(Self { state: Mutex::new(State { out, total: 0, done: 0, failing: 0, started: Instant::now(), drawn: false }) })
    }

    /// A line on stdout when stdout is a terminal, else none.
    pub fn on_terminal() -> Option<Arc<Self>> {
        use std::io::IsTerminal as _;
        std::io::stdout().is_terminal().then(|| Self::new(Box::new(std::io::stdout())))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One more scenario will run.
    pub fn add_scenario(&self) {
        self.state().total += 1;
    }

    /// A scenario finished (failing or not): redraws the line.
    pub fn finished(&self, failing: bool) {
        let mut s = self.state();
        s.done += 1;
        s.failing += usize::from(failing);
        s.draw();
    }

    /// Erases the line (before the verdict is printed).
    pub fn clear(&self) {
        self.state().erase();
    }

    /// The text of the line.
    #[cfg(test)]
    pub fn line(&self) -> String {
        self.state().line()
    }
}

impl State {
    fn line(&self) -> String {
        format!("{}/{} scenarios, {} failing, {} s", self.done, self.total.max(self.done), self.failing, self.started.elapsed().as_secs())
    }
    fn draw(&mut self) {
        let line = self.line();
        let _ = self.out.write_all(ERASE).and_then(|_| self.out.write_all(line.as_bytes())).and_then(|_| self.out.flush());
        self.drawn = true;
    }
    fn erase(&mut self) {
        if self.drawn {
            let _ = self.out.write_all(ERASE).and_then(|_| self.out.flush());
            self.drawn = false;
        }
    }
}

/// A writer for the terminal the line is on: each write first erases the line.
pub struct Around(pub Arc<Live>);

impl Write for Around {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut s = self.0.state();
        s.erase();
        s.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.state().out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_line_is_redrawn_in_place_and_erased_before_other_output() {
        let screen = Shared::default();
        let live = Live::new(Box::new(screen.clone()));
        (0..3).for_each(|_| live.add_scenario());
        live.finished(false);
        live.finished(true);
        let mut around = Around(live.clone());
        around.write_all(b"Feature: x\n").unwrap();
        around.write_all(b"  Scenario: y\n").unwrap();
        live.clear();
        // The seconds are whatever elapsed: not asserted.
        let seconds = |text: &str| {
            let mut parts = text.split(" failing, ");
            let first = parts.next().unwrap_or_default().to_owned();
            parts.fold(first, |acc, part| format!("{acc} failing, T{}", part.trim_start_matches(|c: char| c.is_ascii_digit())))
        };
        let text = seconds(&String::from_utf8(screen.0.lock().unwrap().clone()).unwrap());
        assert_eq!(
            text, "\r\x1b[K1/3 scenarios, 0 failing, T s\r\x1b[K2/3 scenarios, 1 failing, T s\r\x1b[KFeature: x\n  Scenario: y\n",
            "drawn twice in place, erased once before the progress, not drawn again until a scenario finishes"
        );
        assert_eq!(seconds(&live.line()), "2/3 scenarios, 1 failing, T s");
    }
}
