//! Time: the real clock plus an offset that tests move forward. Nothing sleeps.
//!
//! mock-clerk's own bookkeeping (session expiry, abandonment, `updated_at`) follows the virtual clock.
//! Session tokens for an app to verify carry *wall* time by default: an app checks `iat`/`exp` against its
//! own clock, and a token stamped in the virtual future would be `token-iat-in-the-future`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The furthest the virtual clock can be moved ahead of real time (1000 years). Larger advances are clamped, so
/// that virtual timestamps — and the expiries computed from them — stay far from `i64` overflow.
pub const MAX_OFFSET_MS: i64 = 1000 * 365 * 24 * 3600 * 1000;

/// A shareable clock. Clones share the offset.
///
/// ```
/// use std::time::Duration;
/// let clock = mock_clerk::clock::Clock::default();
/// let before = clock.now_ms();
/// clock.advance(Duration::from_secs(61));
/// assert!(clock.now_ms() - before >= 61_000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Real time in milliseconds since the Unix epoch.
    pub fn wall_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
    }

    /// Virtual time in milliseconds: real time plus every `advance`.
    pub fn now_ms(&self) -> i64 {
        self.wall_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// How far the virtual clock is ahead of real time.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed).max(0) as u64)
    }

    /// Moves the virtual clock forward (at most [`MAX_OFFSET_MS`] ahead of real time in all).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(MAX_OFFSET_MS);
        self.offset_ms.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| Some(o.saturating_add(ms).min(MAX_OFFSET_MS))).ok();
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}
