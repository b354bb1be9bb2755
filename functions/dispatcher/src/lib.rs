//! The dispatcher (ARCHITECTURE.md "Events and webhooks"): one Lambda function with no
//! HTTP and three event sources, one handler each. The event table's stream → fan-out
//! (each event's jobs, their wake-ups queued; a contact's change settled in its
//! workspace's audiences, `relinx_insights::audiences`); the SQS delivery queue → delivery (one
//! attempt per message); an EventBridge schedule → the sweep (webhook jobs, and
//! scheduled pipeline runs). Stream and queue
//! batches report partial failures (ReportBatchItemFailures), so one bad record never
//! replays a whole batch. The rules are `relinx_webhooks::Pipeline`'s; this crate only
//! speaks the event sources' shapes. The dev server feeds these same handlers from
//! its local pollers.

use aws_lambda_events::dynamodb::{Event as StreamBatch, EventRecord};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures::StreamExt;
use relinx_auth::KeyHasher;
use relinx_config::{Config, ConfigError};
use relinx_ddb::{CacheSettings, Store, StoreError};
use relinx_model::Event;
use relinx_webhooks::delivery::Deliverer;
use relinx_webhooks::{DeliveryQueue, JobMessage, Pipeline, TargetPolicy};

/// How many records of one batch are worked on at once (each mostly waits on
/// DynamoDB or a receiver).
const CONCURRENCY: usize = 32;

/// Where a Lambda payload came from.
pub enum Source {
    Stream(StreamBatch),
    Queue(SqsEvent),
    Schedule,
}

impl Source {
    /// Tells the event sources apart by their shape: stream and queue records name
    /// their `eventSource`; a schedule is an EventBridge event from `aws.events`.
    pub fn of(payload: serde_json::Value) -> Result<Self, String> {
        let record_source = payload
            .pointer("/Records/0/eventSource")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        match record_source.as_deref() {
            Some("aws:dynamodb") => serde_json::from_value(payload)
                .map(Self::Stream)
                .map_err(|e| format!("a stream batch that does not parse: {e}")),
            Some("aws:sqs") => serde_json::from_value(payload)
                .map(Self::Queue)
                .map_err(|e| format!("a queue batch that does not parse: {e}")),
            Some(other) => Err(format!("records from {other}, which feeds nothing here")),
            None if payload.get("source").and_then(|v| v.as_str()) == Some("aws.events") => {
                Ok(Self::Schedule)
            }
            None => Err("a payload from no source this function knows".into()),
        }
    }
}

pub struct Dispatcher {
    pipeline: Pipeline,
}

impl Dispatcher {
    pub fn new(pipeline: Pipeline) -> Self {
        Self { pipeline }
    }

    /// From the configuration: the tables, the pepper (secrets and invite URLs are
    /// sealed under it), the delivery queue, the retry ladder, the target rule. Its
    /// one network call is the secrets' read when SSM holds them.
    pub async fn from_config(config: Config) -> Result<Self, ConfigError> {
        let secrets = relinx_ddb::secrets::resolve(&config).await?;
        let hasher = KeyHasher::new(&secrets.key_pepper)
            .map_err(|e| ConfigError::new(format!("{}: {e}", relinx_config::KEY_PEPPER.0)))?;
        let queue = DeliveryQueue::new(
            DeliveryQueue::client_for(&config.aws).await,
            config.require_delivery_queue()?,
        );
        let policy = TargetPolicy {
            allow_private: config.api.allow_private_targets,
        };
        let deliverer = Deliverer::new(policy, config.webhooks.retry_schedule.clone())
            .map_err(ConfigError::new)?
            .disable_after(config.webhooks.disable_after);
        let store = Store::configured(
            Store::client_for(&config.aws).await,
            config.require_tables()?,
            hasher,
            CacheSettings::default(),
            config,
        );
        // Scheduled runs go to the run queue.
        relinx_data::run_queue::attach_configured(&store).await;
        Ok(Self::new(Pipeline::new(store, deliverer, queue)))
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// One Lambda invocation, whichever its source.
    pub async fn handle(&self, payload: serde_json::Value) -> Result<serde_json::Value, String> {
        let answer = match Source::of(payload)? {
            Source::Stream(batch) => serde_json::to_value(self.on_stream(batch).await),
            Source::Queue(batch) => serde_json::to_value(self.on_queue(batch).await),
            Source::Schedule => {
                let sent = self.on_schedule().await.map_err(|e| e.to_string())?;
                Ok(serde_json::json!({ "sent": sent }))
            }
        };
        answer.map_err(|e| e.to_string())
    }

    /// Fan-out of a stream batch. Records are worked on concurrently; the answer names
    /// the first that failed, and Lambda sends the batch again from there (fan-out
    /// makes nothing twice, so records after it are safe to see again).
    pub async fn on_stream(&self, batch: StreamBatch) -> DynamoDbEventResponse {
        let results: Vec<Result<(), StoreError>> =
            futures::stream::iter(batch.records.iter().cloned())
                .map(|record| async move { self.fan_out(&record).await })
                .buffered(CONCURRENCY)
                .collect()
                .await;
        let mut answer = DynamoDbEventResponse::default();
        let first_failure = batch.records.iter().zip(results).find_map(|(record, result)| {
            let err = result.err()?;
            tracing::error!(event = %record.event_id, error = %err, "fan-out failed; the stream sends it again");
            Some(record.change.sequence_number.clone())
        });
        if let Some(sequence_number) = first_failure {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence_number;
            answer.batch_item_failures.push(failure);
        }
        answer
    }

    async fn fan_out(&self, record: &EventRecord) -> Result<(), StoreError> {
        // The event table is append-only: only inserts carry events.
        if record.event_name != "INSERT" {
            return Ok(());
        }
        let event: Event = match decode(record.change.new_image.clone()) {
            Ok(event) => event,
            Err(err) => {
                // Not an event (nothing else is written there): nothing to deliver,
                // and retrying would not make it one.
                tracing::error!(record = %record.event_id, error = %err, "a stream record that is not an event; skipped");
                return Ok(());
            }
        };
        // Audiences first (their own events join the stream); then the event's
        // webhook jobs. Both judge from the stored state, so a redelivered record
        // changes nothing twice.
        relinx_insights::audiences::on_contact_event(self.pipeline.store(), &event).await?;
        self.pipeline.fan_out(&event).await.map(|_| ())
    }

    /// Delivery of a queue batch: every message concurrently; the answer names the
    /// messages that failed (SQS makes them visible again; after a few receives the
    /// redrive policy moves them to the dead-letter queue).
    pub async fn on_queue(&self, batch: SqsEvent) -> SqsBatchResponse {
        let failed: Vec<Option<String>> = futures::stream::iter(batch.records)
            .map(|message| async move {
                let id = message.message_id.clone().unwrap_or_default();
                let Some(job) = message.body.as_deref().and_then(JobMessage::parse) else {
                    tracing::error!(message_id = %id, "a queue message that names no job");
                    return Some(id);
                };
                match self.pipeline.deliver(&job).await {
                    Ok(_) => None,
                    Err(err) => {
                        tracing::error!(job = %job.job, error = %err, "delivery failed; the queue sends it again");
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

    /// The sweep: webhook jobs due or lost, then scheduled pipeline runs due
    /// (`relinx_data::schedule`); answers how many wake-ups and runs it sent.
    pub async fn on_schedule(&self) -> Result<usize, StoreError> {
        let sent = self.pipeline.sweep().await?;
        let runs = relinx_data::schedule::sweep(self.pipeline.store()).await?;
        Ok(sent + runs)
    }
}

/// An event from its stream image.
pub fn decode(image: serde_dynamo::Item) -> Result<Event, serde_dynamo::Error> {
    serde_dynamo::from_item(image)
}
