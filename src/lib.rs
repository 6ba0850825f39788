//! Support for the cross-crate tests in `tests/`: running the Node fixtures that hold the real Clerk SDKs, and
//! starting the conformance suite's targets.

pub mod node;
pub mod sdk;
pub mod stacks;
pub mod targets;
