//! Delivering one job: take a short lease on it (so a duplicate queue message never
//! sends twice at once), POST the Standard Webhooks-signed payload with a 10 s
//! timeout, record the attempt, and set what comes next from the retry ladder. The
//! HTTP client connects only to addresses the target rules allow, checked on the
//! address it resolves at connect time (DNS rebinding) and never following a
//! redirect.

use crate::jobs::{Job, JobStatus, StoredJob, body_to_send, due_at, fits_queue, job_sk, sweep_at};
use crate::signing::signature_header;
use crate::target::{self, TargetPolicy};
use relinx_ddb::codec::{n as num, s, to_item};
use relinx_ddb::keys::{self, webhooks as wk};
use relinx_ddb::tx::Cond;
use relinx_ddb::{Store, StoreError, Table, Written};
use relinx_model::{JobId, OrgId, Timestamp, WebhookId};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// How long one attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a lease keeps other consumers off a job: longer than an attempt, short
/// enough that a consumer that died holding it delays the job only briefly.
const LEASE: Duration = Duration::from_secs(20);
/// How much of a receiver's answer an attempt keeps.
const EXCERPT_BYTES: usize = 1024;

/// One attempt, as `/v1/webhooks/{id}/deliveries` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub job_id: JobId,
    pub event: relinx_model::EventName,
    pub attempt: u32,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// The first 1 KB of the receiver's answer.
    pub response: Option<String>,
    pub error: Option<String>,
}

/// What became of a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Failed; due again after this wait.
    RetryIn(Duration),
    /// Failed on the last step of the ladder (or its endpoint is gone).
    Dead,
    /// Its endpoint is disabled: kept as `skipped`.
    Skipped,
    /// Nothing to do: delivered, dead or skipped already (or no such job).
    NotNow,
    /// Another consumer holds its lease for this long yet (it may have died
    /// mid-attempt): look again then.
    Held(Duration),
}

/// Resolves target names to the addresses the rules allow, and nothing else.
struct GuardedResolver(TargetPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| target::refusal(policy, a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{} resolves only to addresses webhooks may not reach",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client that connects only where the target rules allow (the address a
/// name resolves to at connect time: DNS rebinding is refused too), follows no
/// redirect and uses no proxy: for webhooks, and for any URL a user gives (an `http`
/// source). A URL's literal address is checked by [`target::check`] first.
pub fn guarded_client(
    policy: TargetPolicy,
    timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver(policy)))
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment (HTTP(S)_PROXY) would connect in our stead,
        // past the address rules above.
        .no_proxy()
        .timeout(timeout)
        .user_agent(user_agent)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Sends webhooks; one per dispatcher instance (it pools connections).
pub struct Deliverer {
    client: reqwest::Client,
    policy: TargetPolicy,
    schedule: Vec<Duration>,
    disable_after: Duration,
}

impl Deliverer {
    pub fn new(policy: TargetPolicy, schedule: Vec<Duration>) -> Result<Self, String> {
        let client = guarded_client(policy, ATTEMPT_TIMEOUT, "relinx-webhooks/1")?;
        Ok(Self {
            client,
            policy,
            schedule,
            disable_after: crate::endpoints::DISABLE_AFTER,
        })
    }

    /// Disables an endpoint once it has failed for this long without a success.
    pub fn disable_after(mut self, streak: Duration) -> Self {
        self.disable_after = streak;
        self
    }

    /// Attempts job `id` of `org` once, if it is due and nobody else holds it.
    pub async fn deliver(
        &self,
        store: &Store,
        org: &OrgId,
        id: &JobId,
    ) -> Result<Outcome, StoreError> {
        let token = ulid::Ulid::new().to_string();
        let StoredJob { job, payload } = match lease(store, org, id, &token).await? {
            Leased::Taken(stored) => *stored,
            Leased::Held(left) => return Ok(Outcome::Held(left)),
            Leased::Done => return Ok(Outcome::NotNow),
        };
        let endpoint = crate::endpoints::for_delivery(store, org, &job.endpoint_id).await?;
        let Some(endpoint) = endpoint else {
            finish(
                store,
                &job,
                &token,
                Finish::Dead("the endpoint was deleted".into()),
                None,
            )
            .await?;
            return Ok(Outcome::Dead);
        };
        if !endpoint.webhook.enabled {
            finish(store, &job, &token, Finish::Skipped, None).await?;
            return Ok(Outcome::Skipped);
        }
        let now = Timestamp::now();
        let secrets = endpoint.signing_secrets(store, now);
        let started = Instant::now();
        let result = match target::check(self.policy, &endpoint.webhook.url).await {
            Err(err) => Err(format!("refused target: {err}")),
            Ok(url) => match body_to_send(store, org, &endpoint, &payload).await {
                Ok(body) => self.post(&url, &job, &body, &secrets, now).await,
                Err(err) => Err(format!("the body could not be made ready: {err}")),
            },
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let attempt_number = job.attempts + 1;
        let (status_code, response, error) = match &result {
            Ok((code, body)) => (Some(*code), Some(body.clone()), None),
            Err(err) => (None, None, Some(err.clone())),
        };
        let success = status_code.is_some_and(|c| (200..300).contains(&c));
        let attempt = Attempt {
            job_id: job.id.clone(),
            event: job.event,
            attempt: attempt_number,
            at: now,
            status_code,
            latency_ms,
            response,
            error: error.clone().or_else(|| {
                (!success).then(|| format!("the receiver answered {}", status_code.unwrap_or(0)))
            }),
        };
        let next = if success {
            Finish::Delivered
        } else {
            let reason = attempt.error.clone().unwrap_or_default();
            match self
                .schedule
                .get(usize::try_from(job.attempts).unwrap_or(usize::MAX))
            {
                Some(wait) => Finish::Retry(*wait, reason),
                None => Finish::Dead(reason),
            }
        };
        // The endpoint's failing streak (and, after `disable_after` of it, its disabling) is
        // bookkeeping beside the job: a failure to note it must not resend the job.
        if let Err(err) = crate::endpoints::note_outcome(
            store,
            &endpoint.webhook,
            org,
            success,
            now,
            self.disable_after,
        )
        .await
        {
            tracing::warn!(endpoint = %endpoint.webhook.id, error = %err, "could not note the delivery outcome on its endpoint");
        }
        let outcome = match &next {
            Finish::Delivered => Outcome::Delivered,
            Finish::Retry(wait, _) => Outcome::RetryIn(*wait),
            Finish::Dead(_) => Outcome::Dead,
            Finish::Skipped => Outcome::Skipped,
        };
        finish(store, &job, &token, next, Some(&attempt)).await?;
        Ok(outcome)
    }

    async fn post(
        &self,
        url: &str,
        job: &Job,
        body: &str,
        secrets: &[crate::Secret],
        now: Timestamp,
    ) -> Result<(u16, String), String> {
        let msg_id = job.event_id.to_string();
        let signature = signature_header(secrets, &msg_id, now.unix(), body.as_bytes());
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", now.unix().to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let code = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_default();
        let excerpt = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_BYTES)]).into_owned();
        Ok((code, excerpt))
    }
}

/// A client error in words a person can act on (no internals beyond the cause).
fn describe(err: &reqwest::Error) -> String {
    let mut cause: Option<&dyn std::error::Error> = Some(err);
    let mut deepest = err.to_string();
    while let Some(e) = cause {
        deepest = e.to_string();
        cause = e.source();
    }
    if err.is_timeout() {
        format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
    } else {
        format!("could not deliver: {deepest}")
    }
}

/// What taking a job's lease came to.
enum Leased {
    Taken(Box<StoredJob>),
    /// Pending, but another consumer holds it for this long yet.
    Held(Duration),
    /// Not pending (or not there).
    Done,
}

/// Takes the lease on a pending job.
async fn lease(store: &Store, org: &OrgId, id: &JobId, token: &str) -> Result<Leased, StoreError> {
    let now_ms = Timestamp::now().unix_millis();
    let until = now_ms + i64::try_from(LEASE.as_millis()).unwrap_or(60_000);
    let set = Cond::new("SET lease_until = :until, lease_token = :token")
        .value(":until", num(until))
        .value(":token", s(token));
    // `due_ms`: a wake-up that comes early (a duplicate message) finds the job not
    // yet due and leaves it to the wake-up that is on time.
    let condition = Cond::new(
        "attribute_exists(pk) AND #status IN (:queued, :retrying) AND (attribute_not_exists(lease_until) OR lease_until < :now) AND (attribute_not_exists(due_ms) OR due_ms <= :now)",
    )
    .name("#status", "status")
    .value(":queued", s(JobStatus::Queued.as_str()))
    .value(":retrying", s(JobStatus::Retrying.as_str()))
    .value(":now", num(now_ms));
    let written = store
        .update(Table::Jobs, keys::org(org), job_sk(id), set)
        .when(condition)
        .returning_new()
        .old_on_refusal()
        .send()
        .await?;
    match written {
        Written::Applied(Some(item)) => {
            Ok(Leased::Taken(Box::new(relinx_ddb::codec::from_item(item)?)))
        }
        Written::Applied(None) | Written::Refused(None) => Ok(Leased::Done),
        // Why the condition failed, from the item as it was.
        Written::Refused(Some(item)) => {
            let pending = relinx_ddb::codec::get_s(&item, "status").is_some_and(|s| {
                s == JobStatus::Queued.as_str() || s == JobStatus::Retrying.as_str()
            });
            let held_until = relinx_ddb::codec::get_n(&item, "lease_until");
            Ok(match (pending, held_until) {
                (true, Some(until)) => Leased::Held(Duration::from_millis(
                    u64::try_from(until - now_ms).unwrap_or(0).max(1000),
                )),
                _ => Leased::Done,
            })
        }
    }
}

enum Finish {
    Delivered,
    Retry(Duration, String),
    Dead(String),
    Skipped,
}

fn attempt_sk(endpoint: &WebhookId, at: &ulid::Ulid) -> String {
    format!("{}{endpoint}#{at}", wk::ATTEMPT)
}

/// When what is kept for the delivery retention from `now` expires (DynamoDB TTL:
/// epoch seconds).
fn expiry(store: &Store, now: Timestamp) -> i64 {
    let retention = store.config().webhooks.delivery_retention;
    now.plus_seconds(i64::try_from(retention.as_secs()).unwrap_or(i64::MAX / 4))
        .unix()
}

/// Records the attempt, and the job's next state on the condition that the lease is
/// still ours.
async fn finish(
    store: &Store,
    job: &Job,
    token: &str,
    next: Finish,
    attempt: Option<&Attempt>,
) -> Result<(), StoreError> {
    let now = Timestamp::now();
    let attempts = job.attempts + u32::from(attempt.is_some());
    let (status, due, error) = match &next {
        Finish::Delivered => (JobStatus::Delivered, None, None),
        Finish::Retry(wait, why) => (
            JobStatus::Retrying,
            Some(now.plus_seconds(i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 4))),
            Some(why.clone()),
        ),
        Finish::Dead(why) => (JobStatus::Dead, None, Some(why.clone())),
        Finish::Skipped => (JobStatus::Skipped, None, None),
    };
    let mut set = vec![
        "#status = :status",
        "attempts = :attempts",
        "last_attempt_at = :at",
    ];
    let mut remove = vec!["lease_until", "lease_token"];
    // Delivered and skipped jobs, and every attempt, go with the delivery
    // retention; a job that may still be sent (retrying, dead) stays.
    let expires = expiry(store, now);
    let mut update = Cond::new("")
        .name("#status", "status")
        .value(":status", s(status.as_str()))
        .value(":attempts", num(i64::from(attempts)))
        .value(":at", s(now.to_string()));
    match (due, &next) {
        (Some(due), Finish::Retry(wait, _)) => {
            set.extend(["next_due_at = :next", "due_ms = :due_ms", "due_at = :due"]);
            update = update
                .value(":next", s(due.to_string()))
                .value(":due_ms", num(due.unix_millis()))
                .value(":due", s(due_at(sweep_at(due, fits_queue(*wait)))));
        }
        _ => remove.extend(["next_due_at", "due_ms", "due_bucket", "due_at"]),
    }
    if let Some(code) = attempt.and_then(|a| a.status_code) {
        set.push("last_status_code = :code");
        update = update.value(":code", num(i64::from(code)));
    }
    match error {
        Some(error) => {
            set.push("last_error = :error");
            update = update.value(":error", s(error));
        }
        None => remove.push("last_error"),
    }
    if matches!(next, Finish::Delivered | Finish::Skipped) {
        set.push("#ttl = :ttl");
        update = update.name("#ttl", keys::TTL).value(":ttl", num(expires));
    } else {
        remove.push("#ttl");
        update = update.name("#ttl", keys::TTL);
    }
    update.expression = format!("SET {} REMOVE {}", set.join(", "), remove.join(", "));
    let job_write = async {
        let written = store
            .update(Table::Jobs, keys::org(&job.org), job_sk(&job.id), update)
            .when(Cond::new("lease_token = :token").value(":token", s(token)))
            .apply()
            .await?;
        if written {
            Ok(())
        } else {
            Err(StoreError::Internal(
                "the job's lease was taken by another consumer meanwhile".into(),
            ))
        }
    };
    // The attempt happened whatever becomes of the job's update (a consumer that lost
    // its lease still made it), so it is written on its own, beside the update: two
    // single-item writes cost half a transaction of both.
    let attempt_write = async {
        let Some(attempt) = attempt else {
            return Ok(());
        };
        let mut item = to_item(
            attempt,
            keys::org(&job.org),
            attempt_sk(&job.endpoint_id, &ulid::Ulid::new()),
        )?;
        item.insert(keys::TTL.into(), num(expires));
        store.put(Table::Jobs, item).apply().await.map(|_| ())
    };
    let (job_written, attempt_written) = tokio::join!(job_write, attempt_write);
    attempt_written?;
    job_written?;
    Ok(())
}

/// The endpoint's delivery attempts, newest first (`/v1/webhooks/{id}/deliveries`).
pub async fn deliveries(
    store: &Store,
    ctx: &relinx_model::Context,
    id: &WebhookId,
    limit: i32,
) -> Result<Vec<Attempt>, StoreError> {
    ctx.require(relinx_model::Permission::read(
        relinx_model::Resource::Webhooks,
    ))?;
    // Another org's endpoint, or one outside a scoped caller's workspace: its 404.
    crate::endpoints::read(store, ctx, id).await?;
    attempts(store, &ctx.org_id, id, limit).await
}

/// An endpoint's attempts, newest first (`/v1/webhooks/{id}/deliveries`).
pub async fn attempts(
    store: &Store,
    org: &OrgId,
    endpoint: &WebhookId,
    limit: i32,
) -> Result<Vec<Attempt>, StoreError> {
    Ok(store
        .query(Table::Jobs, keys::org(org))
        .begins_with(format!("{}{endpoint}#", wk::ATTEMPT))
        .newest_first()
        .limit(limit)
        .page::<Attempt>()
        .await?
        .items)
}
