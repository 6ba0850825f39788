//! mock-clerk's integration tests, one module per concern, in one test binary: one link and one build of the
//! shared helpers instead of one per file (`cargo test -p mock-clerk --test integration <module>::` runs one).

mod common;

mod auth_table;
mod fapi_client;
mod fapi_mfa;
mod fuzz_checks;
mod inspector;
mod load;
mod machine_auth;
mod oauth_flow;
mod organizations;
mod restart;
mod robustness;
mod snapshots;
mod startup;
mod tickets;
mod tls;
mod webhooks;
