//! The auth function, driven in-process: one binary, a module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod api_keys;
mod identity;
mod start;
