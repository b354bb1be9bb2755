//! Delivery jobs (ARCHITECTURE.md "Events and webhooks"): one per event and
//! subscribed endpoint, in the jobs table. A job's id is derived from its event and
//! endpoint, and it is written only if absent, so fanning out a redelivered batch
//! creates nothing twice. A pending job carries the keys of the due-time index
//! (`due_bucket`, `due_at`), sharded over a few buckets so no partition is hot; the
//! sweep reads them with Queries, never a Scan. Jobs and their attempts are delivery
//! bookkeeping, not changes of the org: they write no event.

use crate::endpoints::{self, Webhook};
use crate::queue::{DeliveryQueue, JobMessage, Wake};
use relinx_ddb::codec::{from_item, get_s, s, to_item};
use relinx_ddb::keys::{self, webhooks as wk};
use relinx_ddb::tx::Cond;
use relinx_ddb::{Compare, Store, StoreError, Table, Written};
use relinx_model::{Event, EventName, JobId, OrgId, Timestamp, WebhookId, WorkspaceId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use utoipa::ToSchema;

/// How many partitions the due-time index spreads pending jobs over.
pub const DUE_BUCKETS: u64 = 8;
/// The retry ladder when `RELINX_RETRY_SCHEDULE` does not say otherwise.
pub use relinx_config::DEFAULT_RETRY_SCHEDULE as DEFAULT_SCHEDULE;
/// How long after its due time a job handed to the queue is still left to the queue.
/// Past that, its message was lost (a crash between the write and the send, an
/// expired lease) and the sweep sends it again. Longer than a lease.
pub const QUEUE_GRACE: Duration = Duration::from_secs(120);
/// How far ahead the sweep looks: jobs due within this are sent with the remaining
/// delay. At least the sweep's period (a minute), so none is late.
pub const SWEEP_LEAD: Duration = Duration::from_secs(90);

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for its first attempt.
    Queued,
    /// Failed at least once; due again at `next_due_at`.
    Retrying,
    Delivered,
    /// Failed on every step of the ladder; `POST /v1/sync/retry/{job}` revives it.
    Dead,
    /// Its endpoint was disabled when it came due; kept so a recovery can send it.
    Skipped,
}

/// A delivery job as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: JobId,
    pub org: OrgId,
    pub workspace: Option<WorkspaceId>,
    pub event_id: relinx_model::EventId,
    pub event: EventName,
    pub endpoint_id: WebhookId,
    pub status: JobStatus,
    pub attempts: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A job as stored: with the body every attempt sends (byte-identical retries). A
/// `user.invited` invite URL stays sealed in it, as in the event log, and is opened
/// only into the request that delivers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredJob {
    #[serde(flatten)]
    pub job: Job,
    pub payload: String,
}

/// Durations and ladders as `RELINX_RETRY_SCHEDULE` writes them (the configuration
/// parses the deployment's; tests and tools build their own).
pub use relinx_config::{parse_duration, parse_schedule};

/// The job of `event` for `endpoint`: its ULID keeps the event's time, its random
/// part is a hash of both ids, so the same pair always makes the same id.
pub fn job_id(event: &relinx_model::EventId, endpoint: &WebhookId) -> JobId {
    let time = event
        .as_str()
        .strip_prefix("evt_")
        .and_then(|u| ulid::Ulid::from_string(u).ok())
        .map_or(0, |u| u.timestamp_ms());
    let digest = Sha256::digest(format!("{event}|{endpoint}").as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    JobId::from_ulid(ulid::Ulid::from_parts(time, u128::from_be_bytes(random)))
}

pub(crate) fn job_sk(id: &JobId) -> String {
    format!("{}{id}", wk::JOB)
}

fn due_bucket(id: &JobId) -> String {
    let digest = Sha256::digest(id.as_str().as_bytes());
    format!("{}{}", wk::DUE_BUCKET, u64::from(digest[0]) % DUE_BUCKETS)
}

/// The due-time index's sort key: milliseconds, zero-padded so text order is time order.
pub(crate) fn due_at(at: Timestamp) -> String {
    format!("{:015}", at.unix_millis().max(0))
}

fn plus(at: Timestamp, wait: Duration) -> Timestamp {
    at.plus_seconds(i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 4))
}

/// When the sweep should look at a job due at `due`: a job whose wake-up is on the
/// queue only once the queue has had its grace; any other right when it falls due.
pub(crate) fn sweep_at(due: Timestamp, on_queue: bool) -> Timestamp {
    if on_queue {
        plus(due, QUEUE_GRACE)
    } else {
        due
    }
}

/// Whether a wait rides on the queue (`DelaySeconds`) or is left to the sweep.
pub(crate) fn fits_queue(wait: Duration) -> bool {
    wait <= crate::queue::MAX_DELAY
}

/// The webhook payload as stored (API.md): `{"id","event","workspace","timestamp","data"}`;
/// a pipeline run's end in seed 003's flat form, `workspace` its NAME (API.md "Datalinx
/// data"): `{"id","event","workspace","workspace_id","pipeline_id","run_id","status",
/// "timestamp","data":{counts}}`.
fn payload(event: &Event) -> String {
    if matches!(
        event.event,
        EventName::PipelineCompleted | EventName::PipelineFailed
    ) {
        let field = |name: &str| event.data.get(name).cloned().unwrap_or_default();
        return serde_json::json!({
            "id": event.id,
            "event": event.event,
            "workspace": field("workspace_name"),
            "workspace_id": event.workspace,
            "pipeline_id": field("pipeline_id"),
            "run_id": field("run_id"),
            "status": field("status"),
            "timestamp": event.timestamp.to_string(),
            "data": field("counts"),
        })
        .to_string();
    }
    serde_json::json!({
        "id": event.id,
        "event": event.event,
        "workspace": event.workspace,
        "timestamp": event.timestamp.to_string(),
        "data": event.data,
    })
    .to_string()
}

/// The body a receiver gets: the stored payload, with a `user.invited` event's
/// sealed invite URL opened only for an endpoint whose registrar could itself send
/// that invite now ([`relinx_identity::invites::could_invite`]; docs/security.md);
/// any other endpoint gets the event without it. Every attempt sends the same bytes
/// while the registrar's rights stand.
pub(crate) async fn body_to_send(
    store: &Store,
    org: &relinx_model::OrgId,
    endpoint: &crate::endpoints::WebhookRecord,
    stored: &str,
) -> Result<String, StoreError> {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(stored) else {
        return Ok(stored.to_owned());
    };
    let Some(data) = value.get_mut("data").and_then(|d| d.as_object_mut()) else {
        return Ok(stored.to_owned());
    };
    let Some(sealed) = data.remove("invite_url_sealed") else {
        return Ok(stored.to_owned());
    };
    let role = data
        .get("role")
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    let may_read = match &endpoint.registered_by {
        Some(registrar) => {
            relinx_identity::invites::could_invite(
                store,
                org,
                &registrar.actor,
                registrar.key_id.as_ref(),
                role,
            )
            .await?
        }
        None => false,
    };
    if may_read
        && let Some(url) = sealed
            .as_str()
            .and_then(|s| relinx_identity::invites::sealer(store).open(s))
    {
        data.insert("invite_url".into(), serde_json::Value::String(url));
    }
    Ok(value.to_string())
}

/// The endpoints `event` goes to: every subscriber in its workspace that existed when
/// it happened (a stream read again from its start sends nothing to endpoints made
/// since), disabled ones included (their jobs are kept as `skipped`); or, for
/// `webhook.test`, the one endpoint it names.
async fn recipients(store: &Store, event: &Event) -> Result<Vec<Webhook>, StoreError> {
    if event.event == EventName::WebhookTest {
        let target = event
            .data
            .get("endpoint_id")
            .and_then(|v| v.as_str())
            .and_then(WebhookId::parse);
        let Some(target) = target else {
            return Ok(Vec::new());
        };
        return Ok(endpoints::stored(store, &event.org, &target)
            .await?
            .map(|r| r.webhook)
            .into_iter()
            .collect());
    }
    Ok(
        endpoints::subscribed(store, &event.org, event.event, event.workspace.as_ref())
            .await?
            .into_iter()
            .map(|r| r.webhook)
            .filter(|w| w.created_at <= event.timestamp)
            .filter(|w| w.pipeline_rows || !endpoints::written_by_a_run(event))
            .collect(),
    )
}

/// Makes the jobs of `event` (those that exist already are left as they are) and
/// answers the ids of those to send now, for the delivery queue; a disabled
/// endpoint's job is made `skipped` (a recovery sends it).
pub async fn fan_out(store: &Store, event: &Event) -> Result<Vec<JobId>, StoreError> {
    let endpoints = recipients(store, event).await?;
    if endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let body = payload(event);
    let now = Timestamp::now();
    let mut ids = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let id = job_id(&event.id, &endpoint.id);
        let pending = endpoint.enabled;
        let job = Job {
            id: id.clone(),
            org: event.org.clone(),
            workspace: event.workspace.clone(),
            event_id: event.id.clone(),
            event: event.event,
            endpoint_id: endpoint.id.clone(),
            status: if pending {
                JobStatus::Queued
            } else {
                JobStatus::Skipped
            },
            attempts: 0,
            next_due_at: pending.then_some(now),
            last_attempt_at: None,
            last_status_code: None,
            last_error: None,
            created_at: now,
        };
        let stored = StoredJob {
            job,
            payload: body.clone(),
        };
        let mut item = to_item(&stored, keys::org(&event.org), job_sk(&id))?;
        if pending {
            item.insert("due_bucket".into(), s(due_bucket(&id)));
            item.insert("due_at".into(), s(due_at(sweep_at(now, true))));
            item.insert("due_ms".into(), relinx_ddb::codec::n(now.unix_millis()));
        }
        // Made already (a redelivered stream batch): nothing twice.
        store.put(Table::Jobs, item).if_absent().apply().await?;
        if pending {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A job by its org and id.
pub async fn read(store: &Store, org: &OrgId, id: &JobId) -> Result<Option<Job>, StoreError> {
    store
        .read(Table::Jobs, keys::org(org), job_sk(id))
        .await?
        .map(from_item)
        .transpose()
}

/// A pending job as the due-time index holds it.
#[derive(Debug, Deserialize)]
struct DueEntry {
    org: OrgId,
    id: JobId,
    /// Its sweep time as indexed (the claim's condition).
    due_at: String,
    next_due_at: Option<Timestamp>,
}

/// Pending jobs whose sweep time is by `horizon`, up to `limit` from each bucket.
async fn due_entries(
    store: &Store,
    horizon: Timestamp,
    limit: i32,
) -> Result<Vec<DueEntry>, StoreError> {
    let mut found = Vec::new();
    for bucket in 0..DUE_BUCKETS {
        let page = store
            .query_index(
                Table::Jobs,
                "due",
                "due_bucket",
                format!("{}{bucket}", wk::DUE_BUCKET),
                "due_at",
            )
            .at_most(due_at(horizon))
            .limit(limit)
            .page_items()
            .await?;
        for item in page.items {
            if let Ok(entry) = from_item::<DueEntry>(item) {
                found.push(entry);
            }
        }
    }
    Ok(found)
}

/// Jobs whose sweep time is by `horizon`, from every bucket of the due-time index.
pub async fn due(
    store: &Store,
    horizon: Timestamp,
    limit: i32,
) -> Result<Vec<(OrgId, JobId)>, StoreError> {
    Ok(due_entries(store, horizon, limit)
        .await?
        .into_iter()
        .map(|e| (e.org, e.id))
        .collect())
}

/// Most jobs one sweep takes from each bucket; the rest wait for the next sweep.
const SWEEP_BATCH: i32 = 500;

/// The sweep (every minute): each pending job due within [`SWEEP_LEAD`], or on the
/// queue and overdue past [`QUEUE_GRACE`] (its message was lost), is claimed (its
/// sweep time moved on by the grace, on the condition that it is still the one read,
/// so two sweeps never both send it) and its wake-up sent with the delay that
/// remains. Answers how many were sent.
pub async fn sweep(store: &Store, queue: &DeliveryQueue) -> Result<usize, StoreError> {
    let now = Timestamp::now();
    let mut wakes = Vec::new();
    for entry in due_entries(store, plus(now, SWEEP_LEAD), SWEEP_BATCH).await? {
        let due = entry.next_due_at.unwrap_or(now).max(now);
        let claimed = store
            .update(
                Table::Jobs,
                keys::org(&entry.org),
                job_sk(&entry.id),
                Cond::new("SET due_at = :next").value(":next", s(due_at(sweep_at(due, true)))),
            )
            .when(Cond::new("due_at = :seen").value(":seen", s(&entry.due_at)))
            .apply()
            .await?;
        if !claimed {
            // Another sweep claimed it, or it moved on.
            continue;
        }
        let wait = u64::try_from(due.unix_millis() - now.unix_millis()).unwrap_or(0);
        wakes.push(Wake {
            message: JobMessage {
                org: entry.org,
                job: entry.id,
            },
            after: Duration::from_millis(wait),
        });
    }
    queue.send(&wakes).await?;
    Ok(wakes.len())
}

/// Makes a job due now (a dead or skipped one revives) and sends its wake-up when
/// the store has a queue attached (else the sweep's next run sends it); 404 when the
/// org has none of that id.
pub async fn retry_now(store: &Store, org: &OrgId, id: &JobId) -> Result<Job, StoreError> {
    match revive(store, org, id, Revive::Undelivered).await? {
        Some(job) => Ok(job),
        None => match read(store, org, id).await? {
            Some(_) => Err(StoreError::conflict(
                relinx_model::ErrorCode::JobDelivered,
                "this job was delivered already; nothing to retry",
            )),
            None => Err(StoreError::NotFound("job")),
        },
    }
}

/// Which jobs a revival takes.
#[derive(Clone, Copy)]
enum Revive {
    /// Any not delivered (a retry).
    Undelivered,
    /// Only dead and skipped ones (a recovery: one already revived is left alone).
    Lost,
}

/// Makes a job due now if it is as `which` says, and sends its wake-up; `None` when
/// it is not (or does not exist).
async fn revive(
    store: &Store,
    org: &OrgId,
    id: &JobId,
    which: Revive,
) -> Result<Option<Job>, StoreError> {
    let now = Timestamp::now();
    let queue = crate::queue::attached(store);
    let condition = match which {
        Revive::Undelivered => "attribute_exists(pk) AND #status <> :delivered",
        Revive::Lost => "#status IN (:dead, :skipped)",
    };
    let set = Cond::new(
        "SET #status = :retrying, next_due_at = :now_text, due_ms = :now_ms, due_bucket = :bucket, due_at = :due REMOVE lease_until, lease_token, #ttl",
    )
    .name("#status", "status")
    // Revived, it is kept until it is delivered again.
    .name("#ttl", relinx_ddb::keys::TTL)
    .value(":retrying", s(JobStatus::Retrying.as_str()))
    .value(":now_text", s(now.to_string()))
    .value(":now_ms", relinx_ddb::codec::n(now.unix_millis()))
    .value(":bucket", s(due_bucket(id)))
    .value(":due", s(due_at(sweep_at(now, queue.is_some()))));
    let condition = match which {
        Revive::Undelivered => {
            Cond::new(condition).value(":delivered", s(JobStatus::Delivered.as_str()))
        }
        Revive::Lost => Cond::new(condition)
            .value(":dead", s(JobStatus::Dead.as_str()))
            .value(":skipped", s(JobStatus::Skipped.as_str())),
    };
    let written = store
        .update(Table::Jobs, keys::org(org), job_sk(id), set)
        .when(condition)
        .returning_new()
        .send()
        .await?;
    match written {
        Written::Applied(attributes) => {
            let job: Job = attributes
                .map(from_item)
                .transpose()?
                .ok_or(StoreError::NotFound("job"))?;
            if let Some(queue) = &queue {
                let wake = Wake::now(JobMessage {
                    org: org.clone(),
                    job: id.clone(),
                });
                // The job is due either way: a lost send only waits for the sweep.
                if let Err(err) = queue.send(&[wake]).await {
                    tracing::warn!(job = %id, error = %err, "the revived job's wake-up was not queued; the sweep will send it");
                }
            }
            Ok(Some(job))
        }
        Written::Refused(_) => Ok(None),
    }
}

/// What a recovery re-queued.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recovered {
    pub endpoint_id: WebhookId,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    /// How many skipped or dead jobs were made due again.
    pub requeued: usize,
    pub jobs: Vec<JobId>,
}

/// `POST /v1/webhooks/{id}/recover`: every skipped or dead job of the endpoint for
/// events since `since` is made due again, each once (a job revived already, by an
/// earlier recovery or a retry, is left alone). The endpoint must be enabled, or the
/// jobs would only be skipped again. Reads the org's jobs since then, a page at a time.
pub async fn recover(
    store: &Store,
    ctx: &relinx_model::Context,
    endpoint: &WebhookId,
    since: Timestamp,
) -> Result<Recovered, StoreError> {
    use relinx_model::{Permission, Resource};
    ctx.require(Permission::write(Resource::Webhooks))?;
    let webhook = endpoints::read(store, ctx, endpoint).await?.webhook;
    if !webhook.enabled {
        return Err(StoreError::conflict(
            relinx_model::ErrorCode::WebhookDisabled,
            "this endpoint is disabled: enable it (PATCH {\"enabled\": true}) before recovering what it missed",
        ));
    }
    // Job ids begin with their event's time, so the org's jobs since `since` are a
    // key range.
    let from = JobId::from_ulid(ulid::Ulid::from_parts(
        u64::try_from(since.unix_millis()).unwrap_or(0),
        0,
    ));
    let mut requeued = Vec::new();
    let mut start = None;
    loop {
        let found = store
            .query(Table::Jobs, keys::org(&ctx.org_id))
            .between(job_sk(&from), format!("{}~", wk::JOB))
            .filter_where(
                Cond::new("endpoint_id = :endpoint AND #status IN (:dead, :skipped)")
                    .name("#status", "status")
                    .value(":endpoint", s(endpoint.as_str()))
                    .value(":dead", s(JobStatus::Dead.as_str()))
                    .value(":skipped", s(JobStatus::Skipped.as_str())),
            )
            .only("id")
            .eventually_consistent()
            .after(start)
            .page_items()
            .await?;
        for item in found.items {
            let Some(id) = get_s(&item, "id").and_then(JobId::parse) else {
                continue;
            };
            if revive(store, &ctx.org_id, &id, Revive::Lost)
                .await?
                .is_some()
            {
                requeued.push(id);
            }
        }
        start = found.next;
        if start.is_none() {
            break;
        }
    }
    Ok(Recovered {
        endpoint_id: endpoint.clone(),
        since,
        requeued: requeued.len(),
        jobs: requeued,
    })
}

/// The org's delivery jobs (`GET /v1/sync/queue`), newest first, optionally of one
/// status; a workspace-scoped caller sees its workspace's. The cursor is the last
/// job's id (the partition is always the caller's org).
pub async fn list(
    store: &Store,
    ctx: &relinx_model::Context,
    status: Option<JobStatus>,
    cursor: Option<&str>,
    limit: i32,
) -> Result<relinx_ddb::codec::Page<Job>, StoreError> {
    use relinx_model::{Permission, Resource, ValidationError};
    ctx.require(Permission::read(Resource::Webhooks))?;
    let start = cursor
        .map(|c| {
            JobId::parse(c).ok_or_else(|| {
                StoreError::Invalid(ValidationError::new(
                    "cursor",
                    "is not a cursor this list returned; start again without it",
                ))
            })
        })
        .transpose()?;
    let mut request = store
        .query(Table::Jobs, keys::org(&ctx.org_id))
        .begins_with(wk::JOB)
        .newest_first()
        .limit(limit)
        .after(start.map(|after| relinx_ddb::codec::key(keys::org(&ctx.org_id), job_sk(&after))));
    if let Some(status) = status {
        request = request.filter("status", Compare::Eq, s(status.as_str()));
    }
    if let Some(scope) = &ctx.workspace_scope {
        request = request.filter("workspace", Compare::Eq, s(scope.as_str()));
    }
    let found = request.page::<Job>().await?;
    let next_cursor = found
        .next
        .as_ref()
        .and_then(|k| get_s(k, keys::SK))
        .and_then(|sk| sk.strip_prefix(wk::JOB))
        .map(str::to_owned);
    Ok(relinx_ddb::codec::Page {
        items: found.items,
        next_cursor,
    })
}

/// `POST /v1/sync/retry/{job}`: the caller's job, due now.
pub async fn retry(
    store: &Store,
    ctx: &relinx_model::Context,
    id: &JobId,
) -> Result<Job, StoreError> {
    use relinx_model::{Permission, Resource};
    ctx.require(Permission::write(Resource::Webhooks))?;
    let job = read(store, &ctx.org_id, id)
        .await?
        .ok_or(StoreError::NotFound("job"))?;
    if !ctx.sees_confined(&job.workspace) {
        return Err(StoreError::NotFound("job"));
    }
    retry_now(store, &ctx.org_id, id).await
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
        }
    }
}
