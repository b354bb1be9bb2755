//! The event pipeline, run locally the way Lambda's event sources run the dispatcher
//! (ARCHITECTURE.md "Local runs"): the queues of template.yaml are created on the SQS
//! emulator (moto, at `SQS_ENDPOINT`), the event table's stream is read with the
//! DynamoDB Streams API and each batch handed to the dispatcher's stream handler; the
//! delivery queue is long-polled and each batch handed to its queue handler (messages
//! it reports failed stay on the queue, the rest are deleted); the sweep runs every
//! few seconds. The stream position is checkpointed per shard in the jobs table after
//! each batch, so a restarted dev server goes on where it stopped, as Lambda does.

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use dispatcher_fn::Dispatcher;
use relinx_ddb::{Store, Tables};
use relinx_webhooks::delivery::Deliverer;
use relinx_webhooks::{DeliveryQueue, Pipeline, TargetPolicy};
use serde_yaml::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the stream is read when it had nothing new (Lambda polls 4 times a second).
const STREAM_IDLE: Duration = Duration::from_millis(200);
/// How long a received message stays invisible to other pollers. Shorter than the
/// template's (that one covers a Lambda's whole timeout) so a killed dev server's
/// messages come back soon; still longer than a batch takes (attempts time out at 10 s).
const LOCAL_VISIBILITY_SECONDS: i32 = 20;
/// How often the sweep runs locally (every minute in AWS).
const SWEEP_EVERY: Duration = Duration::from_secs(3);
/// Queue pollers working at once (Lambda scales its pollers with the queue).
const QUEUE_POLLERS: usize = 4;
/// Run queue pollers (each works on up to ten runs at once).
const RUN_POLLERS: usize = 2;
/// The partition of the stream checkpoints in the jobs table (local runs only).
const CHECKPOINT: &str = "LOCAL#STREAM";

/// An SQS queue of template.yaml.
struct QueueSpec {
    logical_id: String,
    attributes: Vec<(String, String)>,
    /// The logical id of its dead-letter queue, and after how many receives.
    redrive: Option<(String, u64)>,
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `AWS::SQS::Queue` resources of template.yaml, dead-letter queues first.
fn queue_specs(template: &str) -> Result<Vec<QueueSpec>, String> {
    let doc: Value = serde_yaml::from_str(template).map_err(|e| format!("template.yaml: {e}"))?;
    let resources = doc
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("template.yaml has no Resources")?;
    let mut specs = Vec::new();
    for (name, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::SQS::Queue") {
            continue;
        }
        let logical_id = name.as_str().ok_or("a resource name that is not text")?;
        let mut attributes = Vec::new();
        let mut redrive = None;
        if let Some(props) = resource.get("Properties").and_then(Value::as_mapping) {
            for (key, value) in props {
                let key = key.as_str().unwrap_or_default();
                if key == "RedrivePolicy" {
                    // deadLetterTargetArn: !GetAtt <Queue>.Arn
                    let target = value
                        .get("deadLetterTargetArn")
                        .and_then(|v| match v {
                            Value::Tagged(tagged) => tagged.value.as_str().map(str::to_owned),
                            other => other.as_str().map(str::to_owned),
                        })
                        .and_then(|t| t.strip_suffix(".Arn").map(str::to_owned))
                        .ok_or(format!("{logical_id}: RedrivePolicy needs deadLetterTargetArn: !GetAtt <queue>.Arn"))?;
                    let max = value
                        .get("maxReceiveCount")
                        .and_then(Value::as_u64)
                        .unwrap_or(5);
                    redrive = Some((target, max));
                } else if let Some(text) = scalar(value) {
                    attributes.push((key.to_owned(), text));
                }
            }
        }
        specs.push(QueueSpec {
            logical_id: logical_id.to_owned(),
            attributes,
            redrive,
        });
    }
    specs.sort_by_key(|s| s.redrive.is_some());
    Ok(specs)
}

/// Creates the template's queues (`{prefix}-{LogicalId}`; existing ones are reused)
/// and answers their URLs by logical id.
async fn create_queues(
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
) -> Result<HashMap<String, String>, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let mut urls = HashMap::new();
    let mut arns = HashMap::new();
    for spec in queue_specs(relinx_ddb::schema::TEMPLATE)? {
        let mut request = sqs
            .create_queue()
            .queue_name(format!("{prefix}-{}", spec.logical_id));
        for (name, value) in &spec.attributes {
            request = request.attributes(QueueAttributeName::from(name.as_str()), value);
        }
        if let Some((target, max)) = &spec.redrive {
            let arn: &String = arns.get(target).ok_or(format!(
                "{}: no queue {target} to redrive to",
                spec.logical_id
            ))?;
            let policy = serde_json::json!({
                "deadLetterTargetArn": arn,
                "maxReceiveCount": max,
            });
            request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = request
            .send()
            .await
            .map_err(|e| format!("cannot create queue {}: {}", spec.logical_id, describe(&e)))?
            .queue_url
            .ok_or("the emulator returned no queue URL")?;
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| format!("cannot read queue {}: {}", spec.logical_id, describe(&e)))?
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .ok_or("the emulator returned no queue ARN")?;
        arns.insert(spec.logical_id.clone(), arn);
        urls.insert(spec.logical_id, url);
    }
    Ok(urls)
}

fn describe<E: std::error::Error + 'static>(err: &E) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(err).to_string()
}

/// The queues functions consume.
#[derive(Clone)]
pub struct Queues {
    pub delivery: DeliveryQueue,
    pub runs: DeliveryQueue,
}

/// The template's queues on the SQS emulator at `SQS_ENDPOINT` (created if missing),
/// and the delivery and run queues among them; `None` when no emulator is configured.
pub async fn queues(
    config: &relinx_config::Config,
    prefix: &str,
) -> Result<Option<Queues>, String> {
    if config.aws.sqs_endpoint.is_none() {
        return Ok(None);
    }
    let sqs = DeliveryQueue::client_for(&config.aws).await;
    let urls = create_queues(&sqs, prefix).await?;
    let url = |name: &str| {
        urls.get(name)
            .cloned()
            .ok_or(format!("template.yaml declares no {name}"))
    };
    Ok(Some(Queues {
        delivery: DeliveryQueue::new(sqs.clone(), url("DeliveryQueue")?),
        runs: DeliveryQueue::new(sqs, url("RunQueue")?),
    }))
}

/// Starts the local pipeline when `SQS_ENDPOINT` names an SQS emulator: creates the
/// queues, attaches the delivery queue to the platform's store (so a retry queues its
/// job at once) and spawns the stream reader, the queue pollers and the sweep.
/// Answers the dispatcher, or why there is none (no emulator).
pub async fn start(
    store: &Store,
    tables: &Tables,
    prefix: &str,
    policy: TargetPolicy,
    event_stream: bool,
) -> Result<Result<Arc<Dispatcher>, &'static str>, String> {
    let config = store.config();
    let Some(Queues {
        delivery: queue,
        runs,
    }) = queues(config, prefix).await?
    else {
        return Ok(Err(
            "SQS_ENDPOINT is not set, so webhooks are not delivered and pipelines do not run (scripts/dev starts moto's SQS and sets it)",
        ));
    };
    relinx_webhooks::queue::attach(store, queue.clone());
    relinx_data::run_queue::attach(store, runs.clone());
    let runner = Arc::new(runner_fn::Runner::new(store.clone()));
    let deliverer = Deliverer::new(policy, config.webhooks.retry_schedule.clone())?
        .disable_after(config.webhooks.disable_after);
    let dispatcher = Arc::new(Dispatcher::new(Pipeline::new(
        store.clone(),
        deliverer,
        queue.clone(),
    )));
    let streams = aws_sdk_dynamodbstreams::Client::new(
        &relinx_ddb::sdk_config(&config.aws, config.aws.dynamodb_endpoint.as_deref()).await,
    );
    let stream_arn = store
        .client()
        .describe_table()
        .table_name(&tables.events)
        .send()
        .await
        .map_err(|e| format!("cannot describe {}: {}", tables.events, describe(&e)))?
        .table
        .and_then(|t| t.latest_stream_arn)
        .ok_or(format!("{} has no stream", tables.events))?;
    if event_stream {
        tokio::spawn(read_stream(
            Arc::clone(&dispatcher),
            streams,
            stream_arn,
            store.clone(),
        ));
    }
    for _ in 0..QUEUE_POLLERS {
        let dispatcher = Arc::clone(&dispatcher);
        tokio::spawn(poll_queue(
            queue.clone(),
            LOCAL_VISIBILITY_SECONDS,
            move |batch| {
                let dispatcher = Arc::clone(&dispatcher);
                async move { dispatcher.on_queue(batch).await }
            },
        ));
    }
    // A run's message stays hidden while one invocation works on it, as the
    // template's visibility timeout covers the runner's.
    let run_visibility = i32::try_from(config.data.run_invocation.as_secs() + 10).unwrap_or(60);
    for _ in 0..RUN_POLLERS {
        let runner = Arc::clone(&runner);
        tokio::spawn(poll_queue(runs.clone(), run_visibility, move |batch| {
            let runner = Arc::clone(&runner);
            async move { runner.on_queue(batch).await }
        }));
    }
    tokio::spawn(sweep(Arc::clone(&dispatcher)));
    Ok(Ok(dispatcher))
}

/// A shard's checkpoint: the last sequence number handled.
async fn checkpoint(store: &Store, shard: &str) -> Option<String> {
    let out = store
        .client()
        .get_item()
        .table_name(&store.tables().jobs)
        .set_key(Some(relinx_ddb::codec::key(CHECKPOINT.to_owned(), shard)))
        .consistent_read(true)
        .send()
        .await
        .ok()?;
    relinx_ddb::codec::get_s(out.item.as_ref()?, "sequence_number").map(str::to_owned)
}

async fn save_checkpoint(store: &Store, shard: &str, sequence_number: &str) {
    let mut item = relinx_ddb::codec::key(CHECKPOINT.to_owned(), shard);
    item.insert(
        "sequence_number".into(),
        relinx_ddb::codec::s(sequence_number),
    );
    if let Err(err) = store
        .client()
        .put_item()
        .table_name(&store.tables().jobs)
        .set_item(Some(item))
        .send()
        .await
    {
        tracing::warn!(shard, error = %describe(&err), "could not save the stream checkpoint");
    }
}

/// Where a shard is read from next: after its checkpoint, or its oldest record.
async fn shard_iterator(
    streams: &aws_sdk_dynamodbstreams::Client,
    store: &Store,
    stream_arn: &str,
    shard: &str,
    at: Option<&str>,
) -> Option<String> {
    let request = streams
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard);
    let request = match (at, checkpoint(store, shard).await) {
        (Some(sequence_number), _) => request
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(sequence_number),
        (None, Some(done)) => request
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .sequence_number(done),
        (None, None) => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
    };
    match request.send().await {
        Ok(out) => out.shard_iterator,
        Err(err) => {
            tracing::warn!(shard, error = %describe(&err), "no iterator for this shard");
            None
        }
    }
}

/// GetRecords, spoken directly. DynamoDB Local writes an empty map in a stream
/// image as `{}` (DynamoDB itself writes `{"M":{}}`), which the SDK's parser
/// rejects; so this one call is made by hand, the images mended, and the records
/// read straight into Lambda's record type (the Streams API's record shape plus
/// `eventSourceARN`). DynamoDB Local checks no signature; it keeps one database per
/// access key and region, so the request names the same ones the SDK uses.
struct StreamReader {
    http: reqwest::Client,
    endpoint: String,
    authorization: String,
}

impl StreamReader {
    fn new(aws: &relinx_config::Aws) -> Result<Self, String> {
        let endpoint = aws
            .dynamodb_endpoint
            .clone()
            .ok_or("DYNAMODB_ENDPOINT is not set")?;
        let key = aws.access_key_id.as_deref().unwrap_or("local");
        let region = aws.region.as_deref().unwrap_or("us-east-1");
        Ok(Self {
            http: reqwest::Client::new(),
            endpoint,
            authorization: format!(
                "AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
            ),
        })
    }

    async fn get_records(
        &self,
        iterator: &str,
        stream_arn: &str,
    ) -> Result<
        (
            Vec<aws_lambda_events::dynamodb::EventRecord>,
            Option<String>,
        ),
        String,
    > {
        let response = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDBStreams_20120810.GetRecords")
            .header("authorization", &self.authorization)
            .body(serde_json::json!({ "ShardIterator": iterator, "Limit": 100 }).to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let mut body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("GetRecords answered {status}: {body}"));
        }
        let next = body
            .get("NextShardIterator")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let mut records = Vec::new();
        if let Some(list) = body.get_mut("Records").and_then(|r| r.as_array_mut()) {
            for mut record in list.drain(..) {
                if let Some(change) = record.get_mut("dynamodb") {
                    for image in ["Keys", "NewImage", "OldImage"] {
                        if let Some(fields) = change.get_mut(image).and_then(|m| m.as_object_mut())
                        {
                            fields.values_mut().for_each(mend);
                        }
                    }
                }
                record["eventSourceARN"] = serde_json::Value::String(stream_arn.to_owned());
                records.push(serde_json::from_value(record).map_err(|e| e.to_string())?);
            }
        }
        Ok((records, next))
    }
}

/// Writes an untyped empty attribute value (`{}`) as the empty map it is, at any depth.
fn mend(value: &mut serde_json::Value) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    if object.is_empty() {
        object.insert("M".into(), serde_json::json!({}));
        return;
    }
    if let Some(fields) = object.get_mut("M").and_then(|m| m.as_object_mut()) {
        fields.values_mut().for_each(mend);
    }
    if let Some(items) = object.get_mut("L").and_then(|l| l.as_array_mut()) {
        items.iter_mut().for_each(mend);
    }
}

/// Reads every shard of the event table's stream, hands each batch to the
/// dispatcher's stream handler, and checkpoints after it; a reported failure is read
/// again from the failed record, as Lambda does.
async fn read_stream(
    dispatcher: Arc<Dispatcher>,
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    store: Store,
) {
    let reader = match StreamReader::new(&store.config().aws) {
        Ok(reader) => reader,
        Err(err) => {
            tracing::error!(error = %err, "the event stream cannot be read");
            return;
        }
    };
    let mut iterators: HashMap<String, Option<String>> = HashMap::new();
    loop {
        let mut busy = false;
        match streams
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
        {
            Ok(out) => {
                for shard in out
                    .stream_description
                    .and_then(|d| d.shards)
                    .unwrap_or_default()
                {
                    if let Some(id) = shard.shard_id {
                        iterators.entry(id).or_insert(None);
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %describe(&err), "cannot describe the event stream");
            }
        }
        let shards: Vec<String> = iterators.keys().cloned().collect();
        for shard in shards {
            let current = match iterators.get(&shard).cloned().flatten() {
                Some(iterator) => Some(iterator),
                None => shard_iterator(&streams, &store, &stream_arn, &shard, None).await,
            };
            let Some(iterator) = current else {
                continue;
            };
            let (records, next) = match reader.get_records(&iterator, &stream_arn).await {
                Ok(out) => out,
                Err(err) => {
                    // An expired or trimmed iterator: start again from the checkpoint.
                    tracing::debug!(shard, error = %err, "stream read failed");
                    iterators.insert(shard, None);
                    continue;
                }
            };
            if records.is_empty() {
                match next {
                    Some(next) => {
                        iterators.insert(shard, Some(next));
                    }
                    // A closed shard, read to its end.
                    None => {
                        iterators.remove(&shard);
                    }
                }
                continue;
            }
            busy = true;
            let last = records
                .last()
                .and_then(|r| r.change.sequence_number.clone());
            let mut batch = aws_lambda_events::dynamodb::Event::default();
            batch.records = records;
            let answer = dispatcher.on_stream(batch).await;
            match answer
                .batch_item_failures
                .first()
                .and_then(|f| f.item_identifier.clone())
            {
                Some(failed) => {
                    let again =
                        shard_iterator(&streams, &store, &stream_arn, &shard, Some(&failed)).await;
                    iterators.insert(shard, again);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                None => {
                    if let Some(last) = &last {
                        save_checkpoint(&store, &shard, last).await;
                    }
                    iterators.insert(shard, next);
                }
            }
        }
        if !busy {
            tokio::time::sleep(STREAM_IDLE).await;
        }
    }
}

/// Long-polls `queue` and hands each batch to `handle` (a function's queue
/// handler); the messages it did not report failed are deleted.
async fn poll_queue<H, F>(queue: DeliveryQueue, visibility_seconds: i32, handle: H)
where
    H: Fn(aws_lambda_events::sqs::SqsEvent) -> F,
    F: std::future::Future<Output = aws_lambda_events::sqs::SqsBatchResponse>,
{
    loop {
        let received = queue
            .client()
            .receive_message()
            .queue_url(queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(5)
            .visibility_timeout(visibility_seconds)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(err) => {
                tracing::warn!(queue = queue.url(), error = %describe(&err), "cannot receive from a queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let mut receipts = HashMap::new();
        let mut batch = aws_lambda_events::sqs::SqsEvent::default();
        for message in messages {
            let mut record = aws_lambda_events::sqs::SqsMessage::default();
            record.message_id = message.message_id.clone();
            record.receipt_handle = message.receipt_handle.clone();
            record.body = message.body;
            record.event_source = Some("aws:sqs".into());
            if let (Some(id), Some(receipt)) = (message.message_id, message.receipt_handle) {
                receipts.insert(id, receipt);
            }
            batch.records.push(record);
        }
        let answer = handle(batch).await;
        for failure in answer.batch_item_failures {
            receipts.remove(&failure.item_identifier);
        }
        let entries: Vec<_> = receipts
            .into_iter()
            .enumerate()
            .filter_map(|(index, (_, receipt))| {
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(receipt)
                    .build()
                    .ok()
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        if let Err(err) = queue
            .client()
            .delete_message_batch()
            .queue_url(queue.url())
            .set_entries(Some(entries))
            .send()
            .await
        {
            // They come back after their visibility timeout; the jobs' state makes
            // the second handling a no-op.
            tracing::warn!(error = %describe(&err), "could not delete handled messages");
        }
    }
}

/// The sweep, every few seconds.
async fn sweep(dispatcher: Arc<Dispatcher>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(err) = dispatcher.on_schedule().await {
            tracing::warn!(error = %err, "the sweep failed; it runs again shortly");
        }
    }
}
