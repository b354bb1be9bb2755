//! The whole platform (every Router, one middleware stack), in-process and over HTTP: one binary, a module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod administration;
mod audit;
mod authorization;
mod bodies;
mod call_counts;
mod configuration;
mod crm;
mod datalinx;
mod docs;
// Shared with tests/pipeline, each binary using part of it.
#[allow(dead_code)]
mod dev_server;
mod envelopes;
mod events;
mod idempotency;
mod insights;
mod layering;
mod links;
mod newcomer;
mod openapi;
mod postman;
mod rate_limit;
mod records;
mod runs;
mod secrets;
mod support;
mod webhooks;
