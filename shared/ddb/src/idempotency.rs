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
/// A lock older than this belongs to a request that died; the key may be taken again.
const LOCK_SECONDS: i64 = 60;
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

pub async fn begin(
    store: &Store,
    record: &RecordKey<'_>,
    fingerprint: &str,
    now: Timestamp,
) -> Result<Begin, StoreError> {
    let mut item = key(record.pk(), keys::core::IDEMPOTENCY_SK);
    item.insert("state".into(), s("in_flight"));
    item.insert("fingerprint".into(), s(fingerprint));
    item.insert("lock_until".into(), n(now.unix() + LOCK_SECONDS));
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
            other => {
                return Err(StoreError::internal(
                    "idempotency lock",
                    aws_sdk_dynamodb::error::DisplayErrorContext(&other),
                ));
            }
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

/// Stores the response of the request that held the key.
pub async fn complete(
    store: &Store,
    record: &RecordKey<'_>,
    fingerprint: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    let mut update = store
        .client()
        .update_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(record.pk(), keys::core::IDEMPOTENCY_SK)))
        .update_expression("SET #state = :done, #status = :status, body_sealed = :body, content_type = :ct REMOVE lock_until")
        .condition_expression("fingerprint = :fp")
        .expression_attribute_names("#state", "state")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":done", s("done"))
        .expression_attribute_values(":status", n(response.status))
        .expression_attribute_values(":body", s(sealer(store).seal(&response.body)))
        .expression_attribute_values(":fp", s(fingerprint));
    update = update
        .expression_attribute_values(":ct", s(response.content_type.clone().unwrap_or_default()));
    update.send().await?;
    Ok(())
}

/// Releases the key after a failed (5xx) request, so a retry runs afresh.
pub async fn abandon(
    store: &Store,
    record: &RecordKey<'_>,
    fingerprint: &str,
) -> Result<(), StoreError> {
    store
        .client()
        .delete_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(record.pk(), keys::core::IDEMPOTENCY_SK)))
        .condition_expression("fingerprint = :fp AND #state = :in_flight")
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":fp", s(fingerprint))
        .expression_attribute_values(":in_flight", s("in_flight"))
        .send()
        .await?;
    Ok(())
}
