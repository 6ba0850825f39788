//! `extract::query_pairs` / `query_usize` / `query_one` / `query_all`, and `extract::parse_json` into every body
//! type the routes take.
#![no_main]

#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = checks::check_extract(data) {
        panic!("{e}");
    }
});
