//! The dispatcher's three steps (ARCHITECTURE.md "Events and webhooks") over one
//! store, one webhook client and the delivery queue: fan-out (an event's jobs, their
//! wake-ups queued), delivery (one attempt; a retry whose wait fits the queue goes
//! back on it with `DelaySeconds`, a longer one is left to the sweep) and the sweep.
//! The dispatcher function and the dev server both drive these, fed by Lambda's
//! event sources or by local pollers.

use crate::delivery::{Deliverer, Outcome};
use crate::jobs::{self, fits_queue};
use crate::queue::{DeliveryQueue, JobMessage, Wake};
use relinx_ddb::{Store, StoreError};
use relinx_model::Event;

pub struct Pipeline {
    store: Store,
    deliverer: Deliverer,
    queue: DeliveryQueue,
}

impl Pipeline {
    pub fn new(store: Store, deliverer: Deliverer, queue: DeliveryQueue) -> Self {
        Self {
            store,
            deliverer,
            queue,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn queue(&self) -> &DeliveryQueue {
        &self.queue
    }

    /// Fan-out: makes the jobs of `event` (none twice) and queues their wake-ups.
    /// Answers how many were queued.
    pub async fn fan_out(&self, event: &Event) -> Result<usize, StoreError> {
        let wakes: Vec<Wake> = jobs::fan_out(&self.store, event)
            .await?
            .into_iter()
            .map(|job| {
                Wake::now(JobMessage {
                    org: event.org.clone(),
                    job,
                })
            })
            .collect();
        self.queue.send(&wakes).await?;
        Ok(wakes.len())
    }

    /// Delivery: attempts the job once; a retry due within the queue's longest
    /// delay is queued again with that delay.
    pub async fn deliver(&self, message: &JobMessage) -> Result<Outcome, StoreError> {
        let outcome = self
            .deliverer
            .deliver(&self.store, &message.org, &message.job)
            .await?;
        // A retry whose wait fits the queue rides on it; a job another consumer holds
        // (it may have died mid-attempt) is looked at again when the lease runs out.
        let again = match outcome {
            Outcome::RetryIn(wait) if fits_queue(wait) => Some(wait),
            Outcome::Held(left) => Some(left),
            _ => None,
        };
        if let Some(after) = again {
            let wake = Wake {
                message: message.clone(),
                after,
            };
            // The job's state is written; a lost send only waits for the sweep.
            if let Err(err) = self.queue.send(&[wake]).await {
                tracing::warn!(job = %message.job, error = %err, "the wake-up was not queued; the sweep will send it");
            }
        }
        Ok(outcome)
    }

    /// The sweep: queues the wake-ups of jobs due soon or lost on the way.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        jobs::sweep(&self.store, &self.queue).await
    }
}
