//! Shared test helpers.

pub mod receiver;
