//! Webhooks (API.md "Events, audit, webhooks"; seed 002 "Webhooks"): endpoints and
//! their subscriptions, Standard Webhooks signing, and the rules on where a webhook
//! may be delivered. Delivery itself (fan-out from the event log, the queue, retries)
//! builds on this crate.
//!
//! It owns the key prefix `relinx_ddb::keys::webhooks` and follows the rule for a
//! domain (README "Layout").

pub mod endpoints;
pub mod signing;
pub mod target;

pub use endpoints::{NewWebhook, Webhook, WebhookPatch};
pub use signing::Secret;
pub use target::TargetPolicy;
