//! The run queue (SQS, consumed by the `runner` function): each message names a run
//! to work on (or a deleted dataset's rows to remove); the run itself — its status,
//! counters and checkpoint — stays in the table, so a duplicate message is harmless
//! (the run's checkpoint decides what is left to do).

use relinx_ddb::{Store, StoreError};
use relinx_model::{OrgId, PipelineId, RunId, WorkspaceId};
use relinx_webhooks::DeliveryQueue;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Message {
    /// Work on a run, from its checkpoint.
    Run {
        org: OrgId,
        workspace: WorkspaceId,
        pipeline: PipelineId,
        run: RunId,
    },
    /// Remove a deleted dataset's rows.
    Purge {
        org: OrgId,
        workspace: WorkspaceId,
        dataset: String,
        generation: String,
    },
}

impl Message {
    /// The message in a queue body; `None` for anything else.
    pub fn parse(body: &str) -> Option<Self> {
        serde_json::from_str(body).ok()
    }
}

struct Attached(OnceLock<DeliveryQueue>);

fn slot(store: &Store) -> std::sync::Arc<Attached> {
    store.local(|_| Attached(OnceLock::new()))
}

/// Attaches the run queue to `store` (once per instance).
pub fn attach(store: &Store, queue: DeliveryQueue) {
    let _ = slot(store).0.set(queue);
}

/// Attaches the queue `RUN_QUEUE_URL` names, if it names one.
pub async fn attach_configured(store: &Store) {
    let config = store.config();
    if let Some(url) = config.data.run_queue_url.clone() {
        let client = DeliveryQueue::client_for(&config.aws).await;
        attach(store, DeliveryQueue::new(client, url));
    }
}

/// Sends `message` to the run queue.
pub async fn send(store: &Store, message: &Message) -> Result<(), StoreError> {
    send_after(store, message, Duration::ZERO).await
}

/// Sends `message` to be received after `delay` (up to 15 minutes).
pub async fn send_after(
    store: &Store,
    message: &Message,
    delay: Duration,
) -> Result<(), StoreError> {
    let queue = slot(store).0.get().cloned().ok_or_else(|| {
        StoreError::Internal(
            "no run queue: RUN_QUEUE_URL is not set (template.yaml sets it; scripts/dev starts an SQS emulator)".into(),
        )
    })?;
    let body = serde_json::to_string(message)
        .map_err(|e| StoreError::internal("encode a run message", e))?;
    queue.send_bodies(&[(body, delay)]).await
}
