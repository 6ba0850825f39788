//! `tokens::decode_unverified`, `tokens::verify_signature` (test key ring), `tokens::redact_jwt`: the input as a
//! token, and a valid token edited by the input (only the unedited one may verify).
#![no_main]

#[path = "../checks.rs"]
mod checks;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static JWT: OnceLock<checks::Jwt> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let jwt = JWT.get_or_init(checks::Jwt::default);
    if let Err(e) = jwt.check(data) {
        panic!("{e}");
    }
});
