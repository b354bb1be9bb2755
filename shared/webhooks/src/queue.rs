//! The delivery queue (SQS): each message names one job, `{"org","job"}`; the job
//! itself (its state, body and attempts) stays in the jobs table, so a message is
//! only a wake-up call and a duplicate is harmless (the lease and the job's state
//! decide whether anything is sent). A wait of up to 15 minutes rides on the message
//! as `DelaySeconds`; longer ones are left to the sweep.

use relinx_ddb::{Store, StoreError};
use relinx_model::{JobId, OrgId};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Duration;

/// The longest delay SQS holds a message for (`DelaySeconds` ≤ 900).
pub const MAX_DELAY: Duration = Duration::from_secs(900);
/// SendMessageBatch takes at most this many entries.
const BATCH: usize = 10;

/// One queue message: the job to attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    pub org: OrgId,
    pub job: JobId,
}

impl JobMessage {
    /// The message in a queue body; `None` for anything else (a stray message).
    pub fn parse(body: &str) -> Option<Self> {
        serde_json::from_str(body).ok()
    }
}

/// A send to the queue: which job, after how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wake {
    pub message: JobMessage,
    pub after: Duration,
}

impl Wake {
    pub fn now(message: JobMessage) -> Self {
        Self {
            message,
            after: Duration::ZERO,
        }
    }
}

/// The SQS delivery queue.
#[derive(Clone)]
pub struct DeliveryQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl DeliveryQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// An SQS client: `SQS_ENDPOINT` points it at a local emulator (moto). Makes no
    /// network call.
    pub async fn client_for(aws: &relinx_config::Aws) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&relinx_ddb::sdk_config(aws, aws.sqs_endpoint.as_deref()).await)
    }

    /// The queue `DELIVERY_QUEUE_URL` names (template.yaml sets it); `None` when it
    /// is not set.
    pub async fn from_config(config: &relinx_config::Config) -> Option<Self> {
        let url = config.webhooks.delivery_queue_url.clone()?;
        Some(Self::new(Self::client_for(&config.aws).await, url))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    /// Sends every wake-up, ten to a request; an error names how many were not
    /// accepted (the sweep finds their jobs later either way).
    pub async fn send(&self, wakes: &[Wake]) -> Result<(), StoreError> {
        let mut messages = Vec::with_capacity(wakes.len());
        for wake in wakes {
            let body = serde_json::to_string(&wake.message)
                .map_err(|e| StoreError::internal("encode a queue message", e))?;
            messages.push((body, wake.after));
        }
        self.send_bodies(&messages).await
    }

    /// Sends each `(body, delay)`, ten to a request (a delay is capped at
    /// [`MAX_DELAY`]): the queue as a plain SQS queue, for other messages than
    /// delivery wake-ups (pipeline runs).
    pub async fn send_bodies(&self, messages: &[(String, Duration)]) -> Result<(), StoreError> {
        for chunk in messages.chunks(BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (index, (body, after)) in chunk.iter().enumerate() {
                // Rounded up: a message that arrived before its job is due would find
                // nothing to do.
                let delay =
                    i32::try_from(after.min(&MAX_DELAY).as_millis().div_ceil(1000)).unwrap_or(0);
                entries.push(
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body.clone())
                        .delay_seconds(delay)
                        .build()
                        .map_err(|e| StoreError::internal("build a queue message", e))?,
                );
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| StoreError::internal("send to a queue", e))?;
            if !out.failed.is_empty() {
                return Err(StoreError::Internal(format!(
                    "the queue refused {} of {} messages",
                    out.failed.len(),
                    chunk.len()
                )));
            }
        }
        Ok(())
    }
}

/// The instance's delivery queue, attached to its store at start-up, so whatever
/// revives a job (a retry, a recovery) sends its wake-up straight away.
struct Attached(OnceLock<DeliveryQueue>);

fn slot(store: &Store) -> std::sync::Arc<Attached> {
    store.local(|_| Attached(OnceLock::new()))
}

/// Attaches `queue` to `store` (once per instance; a second call changes nothing).
pub fn attach(store: &Store, queue: DeliveryQueue) {
    let _ = slot(store).0.set(queue);
}

/// Attaches the delivery queue the store's configuration names, if it names one:
/// what a function that revives jobs does at start, so a revived job's wake-up goes
/// straight to the queue.
pub async fn attach_configured(store: &Store) {
    if let Some(queue) = DeliveryQueue::from_config(store.config()).await {
        attach(store, queue);
    }
}

/// The queue attached to `store`; `None` where there is none (the sweep then sends
/// revived jobs on its next run).
pub fn attached(store: &Store) -> Option<DeliveryQueue> {
    slot(store).0.get().cloned()
}
