//! The input as the query string of `GET /v1/client/handshake`, through `server::app` (oneshot): no panic, no
//! 5xx, a 307 whose nonce or token carries the directives, or a 4xx envelope. `@TOKEN@` and `@DVB@` in the input
//! stand for a live session's token and dev browser.
#![no_main]

#[path = "../checks.rs"]
mod checks;

use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;

static HANDSHAKE: Mutex<Option<checks::Handshake>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = HANDSHAKE.lock().unwrap_or_else(|p| p.into_inner());
    let handshake = guard.get_or_insert_with(checks::Handshake::default);
    if let Err(e) = handshake.check(data) {
        panic!("{e}");
    }
});
