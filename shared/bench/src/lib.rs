//! The load generator and the Lambda Runtime API stand-in behind `scripts/bench`.

pub mod load;
pub mod runtime_api;
