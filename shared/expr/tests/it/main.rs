//! The expression language: parsing and its errors, evaluation, and the printer's
//! round trip (property tests), static types. One binary, a module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
mod common;
mod eval;
mod parse;
mod roundtrip;
mod types;
