//! Shared test helpers.

pub mod receiver;
pub mod served;
