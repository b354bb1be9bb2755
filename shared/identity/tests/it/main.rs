//! relinx-identity integration tests against DynamoDB Local: one binary, a module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod caches;
mod two_instances;
mod workspaces;
