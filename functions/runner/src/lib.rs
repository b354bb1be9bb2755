//! The runner (ARCHITECTURE.md "Events and webhooks"; API.md "Datalinx data"): one
//! Lambda function with no HTTP, fed by the run queue. Each message names a run
//! (`relinx_data::run_queue`); the work — acting as the run's starter, reading its
//! input a slice at a time, checkpointing after each — is `relinx_data::runner`'s;
//! this crate only speaks the queue's shape. A message it fails on is reported
//! (ReportBatchItemFailures) and comes back after its visibility timeout, to go on
//! from the run's checkpoint; after five receives the redrive policy moves it to
//! the dead-letter queue (its alarm fires). The dev server feeds this same handler
//! from its local poller.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::StreamExt;
use relinx_auth::KeyHasher;
use relinx_config::{Config, ConfigError};
use relinx_data::run_queue::{self, Message};
use relinx_data::runner::{self, Outcome};
use relinx_ddb::{CacheSettings, Store};
use std::time::Duration;

/// Messages of one batch worked on at once.
const CONCURRENCY: usize = 4;

pub struct Runner {
    store: Store,
    /// How long one invocation works on a run before it continues in a follow-up.
    budget: Duration,
}

impl Runner {
    pub fn new(store: Store) -> Self {
        let budget = store.config().data.run_invocation;
        Self { store, budget }
    }

    /// From the configuration: the tables, the pepper, the run queue (follow-up
    /// messages go there).
    pub async fn from_config(config: Config) -> Result<Self, ConfigError> {
        let secrets = relinx_ddb::secrets::resolve(&config).await?;
        let hasher = KeyHasher::new(&secrets.key_pepper)
            .map_err(|e| ConfigError::new(format!("{}: {e}", relinx_config::KEY_PEPPER.0)))?;
        if config.data.run_queue_url.is_none() {
            return Err(ConfigError::new(
                "RUN_QUEUE_URL is not set (template.yaml sets it)",
            ));
        }
        let store = Store::configured(
            Store::client_for(&config.aws).await,
            config.require_tables()?,
            hasher,
            CacheSettings::default(),
            config,
        );
        run_queue::attach_configured(&store).await;
        Ok(Self::new(store))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// One queue batch: every message concurrently; the answer names those that
    /// failed (SQS makes them visible again).
    pub async fn on_queue(&self, batch: SqsEvent) -> SqsBatchResponse {
        let failed: Vec<Option<String>> = futures::stream::iter(batch.records)
            .map(|message| async move {
                let id = message.message_id.clone().unwrap_or_default();
                let Some(work) = message.body.as_deref().and_then(Message::parse) else {
                    tracing::error!(message_id = %id, "a run queue message that names no run");
                    return Some(id);
                };
                match runner::work(&self.store, &work, self.budget).await {
                    Ok(outcome) => {
                        if let Outcome::Finished(status) = &outcome {
                            tracing::info!(?work, ?status, "run finished");
                        }
                        None
                    }
                    Err(err) => {
                        tracing::error!(?work, error = %err, "run work failed; the queue sends it again");
                        Some(id)
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut answer = SqsBatchResponse::default();
        for id in failed.into_iter().flatten() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            answer.batch_item_failures.push(failure);
        }
        answer
    }
}
