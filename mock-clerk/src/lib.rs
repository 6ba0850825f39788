//! # mock-clerk
//!
//! A local Clerk issuer that the real, unmodified Clerk SDKs accept: JWKS, RS256 session tokens, users and
//! sessions, and the Backend/Frontend API calls `@clerk/nextjs` makes. Use it as a server (`mock-clerk serve`),
//! a CLI that issues test tokens, or — as here — a library inside Rust tests:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let clerk = mock_clerk::MockClerk::start().await;
//! let signed_in = clerk.sign_in();
//! let jwks: serde_json::Value = reqwest::get(format!("{}/.well-known/jwks.json", clerk.url())).await.unwrap().json().await.unwrap();
//! assert_eq!(jwks["keys"][0]["kid"], clerk.active_kid());
//! assert!(signed_in.cookie_header().starts_with("__session="));
//! # }
//! ```

pub mod bapi;
pub mod clock;
pub mod control;
pub mod cookies;
pub mod env;
pub mod error;
pub mod external;
pub mod extract;
pub mod fapi;
pub mod faults;
pub mod forge;
pub mod ids;
pub mod instance;
pub mod keys;
pub mod logformat;
pub mod logwriter;
pub mod machines;
pub mod mfa;
pub mod persist;
pub mod private_file;
pub mod reqlog;
pub mod seed;
pub mod server;
pub mod serving;
pub mod state;
pub mod store;
pub mod templates;
pub mod tickets;
pub mod tls;
pub mod tokens;
pub mod user_query;
pub mod webhooks;

pub mod handle;

pub use control::ops::{MintRequest, MintedToken, SignInRequest, SignedIn};
pub use faults::Fault;
pub use forge::BrokenToken;
pub use handle::{KeySource, MockClerk, MockClerkBuilder, StartError};
pub use instance::InstanceKind;
pub use reqlog::LoggedRequest;
pub use seed::{Seed, SeedError, SeedUser};
