//! Webhook delivery against a real receiver on loopback: fan-out, signing, the
//! retry ladder, dead jobs and their revival, the target rules at connect time.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod delivery;
