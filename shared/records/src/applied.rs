//! An upload-batch operation's marker: written in the transaction that applies the
//! operation, holding its result, so a replay of the same `op_id` (per org and
//! credential) is answered from it and applied at most once. Below both the records
//! operations (which stage it) and the batch (which reads it). Kept as long as
//! tombstones.

use crate::record::Record;
use crate::state::retention_seconds;
use relinx_ddb::codec::{from_item, key, to_item};
use relinx_ddb::keys::records::{APPLIED_OP, APPLIED_OP_SK};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The error code of a marker that already exists (another request applied the op).
pub(crate) const ALREADY_APPLIED: relinx_model::ErrorCode =
    relinx_model::ErrorCode::OpAlreadyApplied;

/// Where an applied operation's marker lives.
pub(crate) struct OpKey {
    pub(crate) pk: String,
}

impl OpKey {
    pub(crate) fn new(ctx: &Context, op_id: &str) -> Self {
        Self {
            pk: format!(
                "{APPLIED_OP}{}#{}#{op_id}",
                ctx.org_id,
                ctx.credential_ref()
            ),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Marker {
    record: Record,
    applied_at: Timestamp,
    ttl: i64,
}

/// Stages `op`'s marker, holding `result`, in the transaction that applies it.
pub(crate) fn stage_applied(
    tx: &mut Tx,
    store: &Store,
    op: &OpKey,
    result: &Record,
) -> Result<(), StoreError> {
    let now = Timestamp::now();
    let marker = Marker {
        record: result.clone(),
        applied_at: now,
        ttl: now.unix() + retention_seconds(store),
    };
    tx.put(
        &store.tables().main,
        to_item(&marker, op.pk.clone(), APPLIED_OP_SK.to_owned())?,
        Some(Cond::not_exists()),
        OnFail::Conflict(ALREADY_APPLIED, "this op_id was applied already".into()),
    );
    Ok(())
}

/// The markers of `ops` that exist, by op id: one consistent BatchGetItem.
pub(crate) async fn applied_before(
    store: &Store,
    ops: &[(String, OpKey)],
) -> Result<HashMap<String, Record>, StoreError> {
    let mut found = HashMap::new();
    if ops.is_empty() {
        return Ok(found);
    }
    let by_pk: HashMap<&str, &str> = ops
        .iter()
        .map(|(id, k)| (k.pk.as_str(), id.as_str()))
        .collect();
    let keys = by_pk
        .keys()
        .map(|pk| key((*pk).to_owned(), APPLIED_OP_SK))
        .collect();
    for item in store.get_items(keys).await? {
        let pk = relinx_ddb::codec::get_s(&item, relinx_ddb::keys::PK).map(str::to_owned);
        let marker: Marker = from_item(item)?;
        if let Some(op_id) = pk.as_deref().and_then(|pk| by_pk.get(pk)) {
            found.insert((*op_id).to_owned(), marker.record);
        }
    }
    Ok(found)
}

/// The marker of one operation, read after its transaction found it there.
pub(crate) async fn stored_result(store: &Store, op: &OpKey) -> Result<Option<Record>, StoreError> {
    Ok(store
        .get::<Marker>(op.pk.clone(), APPLIED_OP_SK)
        .await?
        .map(|m| m.record))
}
