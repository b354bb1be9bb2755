//! Webhooks (API.md "Events, audit, webhooks"; seed 002 "Webhooks"): endpoints and
//! their subscriptions, Standard Webhooks signing, the rules on where a webhook may be
//! delivered, and delivery itself: jobs fanned out from the event log (one per event
//! and endpoint), attempts, the retry ladder, the due-time sweep. The dispatcher
//! function drives these from the event stream, the queue and a schedule.
//!
//! It owns the key prefix `relinx_ddb::keys::webhooks` and follows the rule for a
//! domain (README "Layout").

pub mod delivery;
pub mod endpoints;
pub mod event_types;
pub mod fetch;
pub mod jobs;
pub mod pipeline;
pub mod queue;
pub mod signing;
pub mod target;

pub use endpoints::{NewWebhook, Webhook, WebhookPatch};
pub use pipeline::Pipeline;
pub use queue::{DeliveryQueue, JobMessage};
pub use signing::Secret;
pub use target::TargetPolicy;
