//! Shared test helpers.

pub mod openapi;
pub mod receiver;
pub mod served;
