//! The admin function, driven in-process: one binary, a module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod workspaces;
