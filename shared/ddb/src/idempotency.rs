//! `Idempotency-Key` (API.md "Idempotency"): scoped to the org and the credential
//! that sent it, kept 24 h. The first request takes a lock; a repeat with the same
//! body replays the stored response, a repeat with another body is refused, a repeat
//! while the first runs is told so. Stored responses are sealed (AES-GCM under a key
//! derived from the pepper): one may carry a secret shown once (a new API key, an
//! invite URL), and no table holds a secret in the clear.

use crate::codec::{Item, get_n, get_s, key, n, s};
use crate::{Store, StoreError, keys};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use relinx_auth::Sealer;
use relinx_model::{OrgId, Timestamp};

const KEEP_SECONDS: i64 = 24 * 60 * 60;
pub const MAX_KEY_CHARS: usize = 255;

/// Whose record: the org, the credential (`Context::credential_ref`), the key sent.
#[derive(Debug, Clone, Copy)]
pub struct RecordKey<'a> {
    pub org: &'a OrgId,
    pub caller: &'a str,
    pub key: &'a str,
}

impl RecordKey<'_> {
    fn pk(&self) -> String {
        keys::idempotency(self.org, self.caller, self.key)
    }
}

fn sealer(store: &Store) -> Sealer {
    Sealer::new(store.hasher(), "idempotent-response")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// This request holds the key: run it, then `complete` or `abandon`.
    Proceed,
    Replay(StoredResponse),
    /// Same key, another request body.
    Mismatch,
    /// Same key, the first request is still running.
    InFlight,
}

/// The request that holds an idempotency key, while its handler runs (a task-local
/// set by the HTTP middleware). The one transaction that makes the request's change
/// completes the record too, answer included (`Tx::answer`): a crash
/// after the commit leaves the answer to replay, never a key that runs again once
/// its lock lapses.
pub struct Scope {
    pk: String,
    /// This holder's lock: a request whose lock lapsed and was taken over cannot
    /// commit its change any more.
    token: String,
    render: std::sync::Mutex<Option<Render>>,
    completed: std::sync::atomic::AtomicBool,
}

/// Makes the request's answer from what its operation commits (a `&T` of the type
/// the handler declared), or `None` when it is not that type.
pub type Render = Box<dyn Fn(&dyn std::any::Any) -> Option<StoredResponse> + Send + Sync>;

tokio::task_local! {
    static SCOPE: std::sync::Arc<Scope>;
}

impl Scope {
    /// The scope of the request that `begin` let proceed with `token`.
    pub fn new(record: &RecordKey<'_>, token: String) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            pk: record.pk(),
            token,
            render: std::sync::Mutex::new(None),
            completed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Runs the request's handler within this scope.
    pub async fn run<F: Future>(self: std::sync::Arc<Self>, handler: F) -> F::Output {
        SCOPE.scope(self, handler).await
    }
}

/// Declares how this request's answer is made from what its operation commits. A
/// no-op outside an idempotent request.
pub fn answer_with(render: Render) {
    let _ = SCOPE.try_with(|scope| {
        if let Ok(mut slot) = scope.render.lock() {
            *slot = Some(render);
        }
    });
}

/// The update that completes the scope's record with the answer `value` renders to,
/// for the transaction that commits `value`; `None` outside an idempotent request,
/// once it is completed, or when no answer was declared for this type.
pub(crate) fn completion(
    store: &Store,
    value: &dyn std::any::Any,
) -> Option<(crate::cond::UpdateSpec, std::sync::Arc<Scope>)> {
    let scope = SCOPE.try_with(std::sync::Arc::clone).ok()?;
    if scope.completed.load(std::sync::atomic::Ordering::Acquire) {
        return None;
    }
    let answer = {
        let slot = scope.render.lock().ok()?;
        let render = slot.as_ref()?;
        match render(value) {
            Some(answer) => answer,
            None => {
                tracing::error!("the idempotent answer declared is not of the type committed");
                return None;
            }
        }
    };
    let spec = crate::cond::UpdateSpec {
        pk: scope.pk.clone(),
        sk: keys::core::IDEMPOTENCY_SK.to_owned(),
        set: crate::cond::Cond::new(
            "SET #state = :done, #status = :status, body_sealed = :body, content_type = :ct REMOVE lock_until",
        )
        .name("#state", "state")
        .name("#status", "status")
        .value(":done", s("done"))
        .value(":status", n(answer.status))
        .value(":body", s(sealer(store).seal(&answer.body)))
        .value(":ct", s(answer.content_type.unwrap_or_default())),
        condition: Some(
            crate::cond::Cond::new("lock_token = :token AND #state = :in_flight")
                .value(":token", s(scope.token.clone()))
                .value(":in_flight", s("in_flight")),
        ),
    };
    Some((spec, scope))
}

impl Scope {
    /// The record was completed by a committed transaction.
    pub(crate) fn mark_completed(&self) {
        self.completed
            .store(true, std::sync::atomic::Ordering::Release);
    }
}

/// A fresh lock token (128 random bits).
pub fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub async fn begin(
    store: &Store,
    record: &RecordKey<'_>,
    fingerprint: &str,
    token: &str,
    lock: std::time::Duration,
    now: Timestamp,
) -> Result<Begin, StoreError> {
    let mut item = key(record.pk(), keys::core::IDEMPOTENCY_SK);
    item.insert("state".into(), s("in_flight"));
    item.insert("fingerprint".into(), s(fingerprint));
    item.insert("lock_token".into(), s(token));
    // A lock older than this belongs to a request that died (or lost it by being
    // slow): the key may be taken again.
    let lock_seconds = i64::try_from(lock.as_secs()).unwrap_or(i64::MAX);
    item.insert(
        "lock_until".into(),
        n(now.unix().saturating_add(lock_seconds)),
    );
    item.insert(keys::TTL.into(), n(now.unix() + KEEP_SECONDS));
    let result = store
        .client()
        .put_item()
        .table_name(&store.tables().main)
        .set_item(Some(item))
        .condition_expression(
            "attribute_not_exists(pk) OR (#state = :in_flight AND lock_until < :now)",
        )
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":in_flight", s("in_flight"))
        .expression_attribute_values(":now", n(now.unix()))
        .return_values_on_condition_check_failure(
            aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
        )
        .send()
        .await;
    let existing = match result {
        Ok(_) => return Ok(Begin::Proceed),
        Err(err) => match err.into_service_error() {
            PutItemError::ConditionalCheckFailedException(failed) => match failed.item {
                Some(item) => item,
                None => read(store, record).await?.ok_or_else(|| {
                    StoreError::Internal("idempotency record vanished while being read".into())
                })?,
            },
            other => return Err(StoreError::failed("idempotency lock", other)),
        },
    };
    judge(store, &existing, fingerprint)
}

fn judge(store: &Store, existing: &Item, fingerprint: &str) -> Result<Begin, StoreError> {
    if get_s(existing, "fingerprint") != Some(fingerprint) {
        return Ok(Begin::Mismatch);
    }
    if get_s(existing, "state") != Some("done") {
        return Ok(Begin::InFlight);
    }
    let body = sealer(store)
        .open(get_s(existing, "body_sealed").unwrap_or_default())
        .ok_or_else(|| {
            StoreError::Internal("a stored idempotent response cannot be opened".into())
        })?;
    Ok(Begin::Replay(StoredResponse {
        status: get_n(existing, "status")
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200),
        content_type: get_s(existing, "content_type").map(str::to_owned),
        body,
    }))
}

async fn read(store: &Store, record: &RecordKey<'_>) -> Result<Option<Item>, StoreError> {
    store
        .get_item(record.pk(), keys::core::IDEMPOTENCY_SK)
        .await
}

/// Stores the response of the request that held the key (again, where its
/// transaction stored the answer already: the same answer, as sent).
pub async fn complete(
    store: &Store,
    record: &RecordKey<'_>,
    token: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    let mut update = store
        .client()
        .update_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(record.pk(), keys::core::IDEMPOTENCY_SK)))
        .update_expression("SET #state = :done, #status = :status, body_sealed = :body, content_type = :ct REMOVE lock_until")
        .condition_expression("lock_token = :token")
        .expression_attribute_names("#state", "state")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":done", s("done"))
        .expression_attribute_values(":status", n(response.status))
        .expression_attribute_values(":body", s(sealer(store).seal(&response.body)))
        .expression_attribute_values(":token", s(token));
    update = update
        .expression_attribute_values(":ct", s(response.content_type.clone().unwrap_or_default()));
    update.send().await?;
    Ok(())
}

/// Releases the key after a failed (5xx) request, so a retry runs afresh; not when
/// its change committed (its transaction completed the record), which stays to
/// replay.
pub async fn abandon(store: &Store, record: &RecordKey<'_>, token: &str) -> Result<(), StoreError> {
    store
        .client()
        .delete_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(record.pk(), keys::core::IDEMPOTENCY_SK)))
        .condition_expression("lock_token = :token AND #state = :in_flight")
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":token", s(token))
        .expression_attribute_values(":in_flight", s("in_flight"))
        .send()
        .await?;
    Ok(())
}
