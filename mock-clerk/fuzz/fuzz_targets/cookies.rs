//! The handshake's `Set-Cookie` directives, and the request log's redaction of passwords (JSON bodies) and
//! credentials (`Authorization`).
#![no_main]

#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = checks::check_cookies(data) {
        panic!("{e}");
    }
});
