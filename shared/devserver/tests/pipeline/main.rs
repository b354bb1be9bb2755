//! The event pipeline end to end, black-box: real `relinx-dev` processes on tables of
//! their own, moto's SQS, receivers on loopback. A binary of its own: these tests
//! start servers and wait on retries, so they do not share the machine with the
//! timing-sensitive tests in `tests/it`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Shared with tests/it, each binary using part of it.
mod delivery;
#[allow(dead_code)]
#[path = "../it/dev_server.rs"]
mod dev_server;
mod recurrence;

/// A number unlikely to repeat across tests and runs (table prefixes, e-mails).
pub fn rand_u64() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64).rotate_left(17) ^ u64::from(std::process::id())
}
