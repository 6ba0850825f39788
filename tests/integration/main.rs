//! The workspace's cross-crate tests, one module per concern, in one test binary (one link instead of one per
//! file): mock-clerk driven by the real Clerk SDKs (`@clerk/backend`, `@clerk/testing`, the Next.js fixture), and
//! the suite's own verdicts and report redaction. `cargo test --test integration <module>::` runs one.

mod clerk_backend_sdk;
mod clerk_testing;
mod handshake_sdk;
mod machine_auth_sdk;
mod nextjs_app;
mod organizations_sdk;
mod report_browser;
mod report_redaction;
mod tickets_sdk;
mod verdicts;
mod webhooks_sdk;
