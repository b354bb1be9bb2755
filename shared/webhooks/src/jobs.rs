//! Delivery jobs (ARCHITECTURE.md "Events and webhooks"): one per event and
//! subscribed endpoint, in the jobs table. A job's id is derived from its event and
//! endpoint, and it is written only if absent, so fanning out a redelivered batch
//! creates nothing twice. A pending job carries the keys of the due-time index
//! (`due_bucket`, `due_at`), sharded over a few buckets so no partition is hot; the
//! sweep reads them with Queries, never a Scan. Jobs and their attempts are delivery
//! bookkeeping, not changes of the org: they write no event.

use crate::endpoints::{self, Webhook};
use relinx_ddb::codec::{Item, from_item, get_s, s, to_item};
use relinx_ddb::keys::{self, webhooks as wk};
use relinx_ddb::{Store, StoreError};
use relinx_model::{Event, EventName, JobId, OrgId, Timestamp, WebhookId, WorkspaceId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use utoipa::ToSchema;

/// How many partitions the due-time index spreads pending jobs over.
pub const DUE_BUCKETS: u64 = 8;
/// The retry ladder when `RELINX_RETRY_SCHEDULE` does not say otherwise.
pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

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

/// Parses a retry ladder: comma-separated durations (`5s`, `5m`, `2h`, `1d`).
pub fn parse_schedule(raw: &str) -> Result<Vec<Duration>, String> {
    raw.split(',')
        .map(|step| {
            let step = step.trim();
            let (number, unit) = step.split_at(step.len().saturating_sub(1));
            let value: u64 = number
                .parse()
                .map_err(|_| format!("{step:?} is not a duration like 5s, 5m, 2h or 1d"))?;
            let seconds = match unit {
                "s" => value,
                "m" => value * 60,
                "h" => value * 3600,
                "d" => value * 86_400,
                _ => return Err(format!("{step:?}: the unit must be s, m, h or d")),
            };
            Ok(Duration::from_secs(seconds))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|ladder| {
            if ladder.is_empty() {
                Err("the schedule needs at least one step".into())
            } else {
                Ok(ladder)
            }
        })
}

/// The ladder of `RELINX_RETRY_SCHEDULE`, else the default.
pub fn schedule_from_env() -> Result<Vec<Duration>, String> {
    let raw = std::env::var("RELINX_RETRY_SCHEDULE").unwrap_or_else(|_| DEFAULT_SCHEDULE.into());
    parse_schedule(&raw).map_err(|e| format!("RELINX_RETRY_SCHEDULE: {e}"))
}

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

/// The webhook payload as stored (API.md): `{"id","event","workspace","timestamp","data"}`.
fn payload(event: &Event) -> String {
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
/// sealed invite URL opened (docs/decisions.md "Invites"). Deterministic, so every
/// attempt sends the same bytes.
pub(crate) fn body_to_send(store: &Store, stored: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(stored) else {
        return stored.to_owned();
    };
    let sealed = value
        .pointer("/data/invite_url_sealed")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let (Some(sealed), Some(data)) = (
        sealed,
        value.get_mut("data").and_then(|d| d.as_object_mut()),
    ) else {
        return stored.to_owned();
    };
    data.remove("invite_url_sealed");
    if let Some(url) = relinx_identity::invites::sealer(store).open(&sealed) {
        data.insert("invite_url".into(), serde_json::Value::String(url));
    }
    value.to_string()
}

/// The endpoints `event` goes to: every enabled subscriber in its workspace, or, for
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
            .collect(),
    )
}

/// Makes the jobs of `event` (those that exist already are left as they are) and
/// answers every one of its job ids, for the delivery queue.
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
        let job = Job {
            id: id.clone(),
            org: event.org.clone(),
            workspace: event.workspace.clone(),
            event_id: event.id.clone(),
            event: event.event,
            endpoint_id: endpoint.id.clone(),
            status: JobStatus::Queued,
            attempts: 0,
            next_due_at: Some(now),
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
        item.insert("due_bucket".into(), s(due_bucket(&id)));
        item.insert("due_at".into(), s(due_at(now)));
        let result = store
            .client()
            .put_item()
            .table_name(&store.tables().jobs)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(err) => return Err(err.into()),
        }
        ids.push(id);
    }
    Ok(ids)
}

/// A job by its org and id.
pub async fn read(store: &Store, org: &OrgId, id: &JobId) -> Result<Option<Job>, StoreError> {
    let out = store
        .client()
        .get_item()
        .table_name(&store.tables().jobs)
        .set_key(Some(relinx_ddb::codec::key(keys::org(org), job_sk(id))))
        .consistent_read(true)
        .send()
        .await?;
    out.item.map(from_item).transpose()
}

/// Jobs due by `horizon`, from every bucket of the due-time index (the sweep).
pub async fn due(
    store: &Store,
    horizon: Timestamp,
    limit: i32,
) -> Result<Vec<(OrgId, JobId)>, StoreError> {
    let mut found = Vec::new();
    for bucket in 0..DUE_BUCKETS {
        let out = store
            .client()
            .query()
            .table_name(&store.tables().jobs)
            .index_name("due")
            .key_condition_expression("due_bucket = :b AND due_at <= :h")
            .expression_attribute_values(":b", s(format!("{}{bucket}", wk::DUE_BUCKET)))
            .expression_attribute_values(":h", s(due_at(horizon)))
            .limit(limit)
            .send()
            .await?;
        for item in out.items.unwrap_or_default() {
            if let Some(pair) = job_of(&item) {
                found.push(pair);
            }
        }
    }
    Ok(found)
}

fn job_of(item: &Item) -> Option<(OrgId, JobId)> {
    Some((
        OrgId::parse(get_s(item, "org")?)?,
        JobId::parse(get_s(item, "id")?)?,
    ))
}

/// Makes a job due now (a dead or skipped one revives); 404 when the org has none
/// of that id.
pub async fn retry_now(store: &Store, org: &OrgId, id: &JobId) -> Result<Job, StoreError> {
    let now = Timestamp::now();
    let out = store
        .client()
        .update_item()
        .table_name(&store.tables().jobs)
        .set_key(Some(relinx_ddb::codec::key(keys::org(org), job_sk(id))))
        .update_expression(
            "SET #status = :retrying, next_due_at = :now_text, due_bucket = :bucket, due_at = :due REMOVE lease_until, lease_token",
        )
        .condition_expression("attribute_exists(pk) AND #status <> :delivered")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":retrying", s(JobStatus::Retrying.as_str()))
        .expression_attribute_values(":delivered", s(JobStatus::Delivered.as_str()))
        .expression_attribute_values(":now_text", s(now.to_string()))
        .expression_attribute_values(":bucket", s(due_bucket(id)))
        .expression_attribute_values(":due", s(due_at(now)))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
        .send()
        .await;
    match out {
        Ok(out) => out
            .attributes
            .map(from_item)
            .transpose()?
            .ok_or(StoreError::NotFound("job")),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            match read(store, org, id).await? {
                Some(_) => Err(StoreError::conflict(
                    "JOB_DELIVERED",
                    "this job was delivered already; nothing to retry",
                )),
                None => Err(StoreError::NotFound("job")),
            }
        }
        Err(err) => Err(err.into()),
    }
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
    let mut filters = Vec::new();
    let mut request = store
        .client()
        .query()
        .table_name(&store.tables().jobs)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":pk", s(keys::org(&ctx.org_id)))
        .expression_attribute_values(":prefix", s(wk::JOB))
        .scan_index_forward(false)
        .consistent_read(true)
        .limit(limit);
    if let Some(status) = status {
        filters.push("#status = :status");
        request = request
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()));
    }
    if let Some(scope) = &ctx.workspace_scope {
        filters.push("workspace = :ws");
        request = request.expression_attribute_values(":ws", s(scope.as_str()));
    }
    if !filters.is_empty() {
        request = request.filter_expression(filters.join(" AND "));
    }
    if let Some(after) = start {
        request = request.set_exclusive_start_key(Some(relinx_ddb::codec::key(
            keys::org(&ctx.org_id),
            job_sk(&after),
        )));
    }
    let out = request.send().await?;
    let next_cursor = out
        .last_evaluated_key
        .as_ref()
        .and_then(|k| get_s(k, keys::SK))
        .and_then(|sk| sk.strip_prefix(wk::JOB))
        .map(str::to_owned);
    let items = out
        .items
        .unwrap_or_default()
        .into_iter()
        .map(from_item)
        .collect::<Result<_, _>>()?;
    Ok(relinx_ddb::codec::Page { items, next_cursor })
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
