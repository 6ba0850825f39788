//! The format of `mock-clerk serve`'s log lines, as `tracing_subscriber`'s default (`Full`) prints them —
//! `2026-12-04T03:20:28.123456Z  INFO mock_clerk::server: request method=GET path=/v1/jwks status=200` (text
//! values unquoted, as `%value` prints them there) — at a
//! fraction of its cost: a line is logged per request, and the default formatter spent more on it (the date
//! computed from scratch, every value through `Debug` and an escaping writer) than the request's route did. The
//! date and time up to the second are formatted once a second; numbers go through `itoa`; text is written as it is
//! unless it holds a control character, which is escaped (so a logged value cannot move the terminal's cursor or
//! colour it).

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The line format; `ansi` colours the level as the default formatter does.
#[derive(Debug, Clone, Copy)]
pub struct LineFormat {
    ansi: bool,
}

impl LineFormat {
    /// The format, with colours or without.
    pub fn new(ansi: bool) -> Self {
        Self { ansi }
    }
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        write_timestamp(&mut w, SystemTime::now())?;
        let meta = event.metadata();
        let (name, colour) = level_style(meta.level());
        if self.ansi {
            write!(w, " \x1b[{colour}m{name}\x1b[0m ")?;
        } else {
            w.write_char(' ')?;
            w.write_str(name)?;
            w.write_char(' ')?;
        }
        w.write_str(meta.target())?;
        w.write_str(": ")?;
        let mut fields = Fields { w: &mut w, first: true, result: Ok(()) };
        event.record(&mut fields);
        fields.result?;
        w.write_char('\n')
    }
}

/// The level, right-aligned to five characters, and its ANSI colour.
fn level_style(level: &Level) -> (&'static str, &'static str) {
    match *level {
        Level::TRACE => ("TRACE", "35"),
        Level::DEBUG => ("DEBUG", "34"),
        Level::INFO => (" INFO", "32"),
        Level::WARN => (" WARN", "33"),
        Level::ERROR => ("ERROR", "31"),
    }
}

thread_local! {
    /// The second last formatted on this thread and its text up to the seconds (`2026-12-04T03:20:28`).
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// RFC 3339 in UTC with microseconds, as the default formatter writes it.
fn write_timestamp(w: &mut impl fmt::Write, now: SystemTime) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != secs {
            text.clear();
            let full = humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(secs)).to_string();
            text.push_str(full.trim_end_matches('Z'));
            *second = secs;
        }
        w.write_str(text)
    })?;
    let micros = since.subsec_micros();
    let mut digits = [b'0'; 6];
    let mut buffer = itoa::Buffer::new();
    let text = buffer.format(micros).as_bytes();
    digits[6 - text.len()..].copy_from_slice(text);
    w.write_char('.')?;
    w.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)?;
    w.write_char('Z')
}

/// Writes an event's fields: the message first as it is, then ` name=value` each.
struct Fields<'a, W: fmt::Write> {
    w: &'a mut W,
    first: bool,
    result: fmt::Result,
}

impl<W: fmt::Write> Fields<'_, W> {
    fn name(&mut self, field: &Field) -> fmt::Result {
        if field.name() == "message" {
            return Ok(());
        }
        if !std::mem::take(&mut self.first) {
            self.w.write_char(' ')?;
        }
        self.w.write_str(field.name())?;
        self.w.write_char('=')
    }

    fn record(&mut self, field: &Field, value: impl FnOnce(&mut Escaping<'_, W>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let message = field.name() == "message";
        self.result = self.name(field).and_then(|()| value(&mut Escaping(self.w)));
        if message {
            self.first = false;
        }
    }
}

impl<W: fmt::Write> Visit for Fields<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // Text as it is (as the default formatter prints `%value`; it would quote a plain `&str`).
        self.record(field, |w| w.write_str(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, |w| write!(w, "{value:?}"));
    }
}

/// Writes text as it is, but control characters escaped (`\u{1b}`).
struct Escaping<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !s.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return self.0.write_str(s);
        }
        for c in s.chars() {
            if c.is_control() { write!(self.0, "{}", c.escape_unicode())? } else { self.0.write_char(c)? }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logwriter::Captured;
    use std::time::Duration;

    #[test]
    fn timestamps_read_as_rfc3339_with_microseconds() {
        let mut text = String::new();
        write_timestamp(&mut text, UNIX_EPOCH + Duration::from_micros(1_764_818_428_000_042)).unwrap();
        assert_eq!(text, "2025-12-04T03:20:28.000042Z");
        text.clear();
        // The same second again (from the cache), then the next one.
        write_timestamp(&mut text, UNIX_EPOCH + Duration::from_micros(1_764_818_428_999_999)).unwrap();
        write_timestamp(&mut text, UNIX_EPOCH + Duration::from_micros(1_764_818_429_100_000)).unwrap();
        assert_eq!(text, "2025-12-04T03:20:28.999999Z2025-12-04T03:20:29.100000Z");
    }

    /// Lines as a subscriber with this format writes them.
    fn logged(ansi: bool, log: impl FnOnce()) -> String {
        let lines = Captured::default();
        let sink = lines.clone();
        let subscriber =
            tracing_subscriber::fmt().with_max_level(Level::DEBUG).event_format(LineFormat::new(ansi)).with_writer(move || sink.clone()).finish();
        tracing::subscriber::with_default(subscriber, log);
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_line_has_the_default_formatters_shape() {
        let method = axum::http::Method::GET;
        let text = logged(false, || tracing::info!(%method, path = %"/v1/jwks", status = 200u16, "request"));
        let (time, rest) = text.split_once(' ').unwrap();
        assert_eq!((time.len(), time.ends_with('Z')), (27, true), "{text}");
        assert_eq!(rest, " INFO mock_clerk::logformat::tests: request method=GET path=/v1/jwks status=200\n");
        let text = logged(false, || tracing::warn!(url = "http://x", attempts = -1i64, ok = true, error = ?Some("e"), "failed"));
        assert!(text.ends_with(" WARN mock_clerk::logformat::tests: failed url=http://x attempts=-1 ok=true error=Some(\"e\")\n"), "{text}");
        let text = logged(false, || tracing::debug!(peer = %"p", "no message first"));
        assert!(text.ends_with("DEBUG mock_clerk::logformat::tests: no message first peer=p\n"), "{text}");
        let text = logged(false, || tracing::error!(path = %"/a"));
        assert!(text.ends_with("ERROR mock_clerk::logformat::tests: path=/a\n"), "{text}");
    }

    #[test]
    fn control_characters_are_escaped_and_colours_only_on_request() {
        let text = logged(false, || tracing::info!(path = %"/a\x1b[31mred\nnext", "request"));
        assert!(text.ends_with("request path=/a\\u{1b}[31mred\\u{a}next\n"), "{text}");
        assert_eq!(text.matches('\n').count(), 1);
        assert!(!text.contains('\x1b'));
        let coloured = logged(true, || tracing::info!("request"));
        assert!(coloured.contains(" \x1b[32m INFO\x1b[0m mock_clerk"), "{coloured:?}");
    }
}
