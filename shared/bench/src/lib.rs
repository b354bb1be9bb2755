//! The load generator, the import and insights rows and the Lambda Runtime API stand-in behind
//! `scripts/bench`.

pub mod imports;
pub mod insights;
pub mod load;
pub mod runtime_api;
