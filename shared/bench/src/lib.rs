//! The load generator, the import rows and the Lambda Runtime API stand-in behind
//! `scripts/bench`.

pub mod imports;
pub mod load;
pub mod runtime_api;
