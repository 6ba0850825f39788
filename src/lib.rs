//! Support for the cross-crate tests in `tests/`: running the Node fixtures that hold the real Clerk SDKs.

pub mod node;
