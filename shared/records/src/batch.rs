//! The upload queue of an offline client, applied so that it can never stall
//! silently (`POST /v1/records/batch`): each operation is applied on its own and
//! answered with a verdict — `applied`, `duplicate`, `conflict` or `rejected` — so
//! the client knows exactly which entries of its queue to drop, merge or fix.
//!
//! An operation's `op_id` makes it idempotent like an `Idempotency-Key` (per org
//! and credential): an applied operation writes a marker holding its result in the
//! same transaction as the change, so it is applied at most once however often the
//! queue is replayed, and a replay answers `duplicate` with the stored result.
//! Markers are kept as long as tombstones.

use crate::applied::{ALREADY_APPLIED, OpKey, applied_before, stage_applied, stored_result};
use crate::record::{NewRecord, Record};
use crate::records::{self, RecordEdit};
use relinx_ddb::tx::Tx;
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, Permission, Resource, ValidationError, WorkspaceId};

/// Most operations in one batch.
pub const MAX_OPERATIONS: usize = 100;
const MAX_OP_ID_CHARS: usize = 255;

/// One operation of a batch, as the handler parsed it (a body that does not parse
/// is already its error, so it is answered `rejected` in its place).
pub struct Operation {
    pub op_id: String,
    pub action: Result<Action, StoreError>,
}

pub enum Action {
    Create(NewRecord),
    Edit(RecordEdit),
}

/// What became of one operation.
pub enum Verdict {
    Applied(Record),
    /// Applied before (by an earlier batch, or earlier in this one): its result then.
    Duplicate(Record),
    /// The causal token was stale: the record as it now is.
    Conflict(StoreError),
    Rejected(StoreError),
}

fn check_op_id(op_id: &str) -> Result<(), StoreError> {
    let valid = !op_id.is_empty()
        && op_id.chars().count() <= MAX_OP_ID_CHARS
        && !op_id.chars().any(char::is_control);
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid(ValidationError::new(
            "op_id",
            "must be 1 to 255 printable characters, unique per operation (a UUID)",
        )))
    }
}

/// Applies `ops` in order, each on its own, and answers one verdict per operation.
/// An op id repeated in the batch after it was applied is a `duplicate`; one whose
/// earlier attempt was refused is simply tried again.
/// Only a failure of the store itself (not of an operation) fails the whole batch;
/// what was applied before it stays applied and answers `duplicate` on replay.
pub async fn apply(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    ops: Vec<Operation>,
) -> Result<Vec<(String, Verdict)>, StoreError> {
    ctx.require(Permission::write(Resource::Records))?;
    if ops.is_empty() || ops.len() > MAX_OPERATIONS {
        return Err(StoreError::Invalid(ValidationError::new(
            "operations",
            format!("must hold 1 to {MAX_OPERATIONS} operations"),
        )));
    }
    let keyed: Vec<(String, OpKey)> = ops
        .iter()
        .filter(|op| check_op_id(&op.op_id).is_ok())
        .map(|op| (op.op_id.clone(), OpKey::new(ctx, &op.op_id)))
        .collect();
    let mut applied = applied_before(store, &keyed).await?;
    let mut verdicts = Vec::with_capacity(ops.len());
    for op in ops {
        let op_id = op.op_id;
        if let Err(err) = check_op_id(&op_id) {
            verdicts.push((op_id, Verdict::Rejected(err)));
            continue;
        }
        if let Some(record) = applied.get(&op_id) {
            verdicts.push((op_id, Verdict::Duplicate(record.clone())));
            continue;
        }
        let marker = OpKey::new(ctx, &op_id);
        let result = match op.action {
            Err(err) => Err(err),
            Ok(Action::Create(new)) => {
                let mut tx = Tx::new();
                match records::stage_create(&mut tx, store, ctx, ws, new).await {
                    Ok(record) => {
                        stage_applied(&mut tx, store, &marker, &record)?;
                        tx.commit(store).await.map(|()| record)
                    }
                    Err(err) => Err(err),
                }
            }
            Ok(Action::Edit(change)) => {
                records::edit_marking(store, ctx, ws, change, Some(&marker)).await
            }
        };
        let verdict = match result {
            Ok(record) => {
                applied.insert(op_id.clone(), record.clone());
                Verdict::Applied(record)
            }
            // Another request applied this op id at the same moment.
            Err(StoreError::Conflict { code, .. }) if code == ALREADY_APPLIED => {
                match stored_result(store, &marker).await? {
                    Some(record) => {
                        applied.insert(op_id.clone(), record.clone());
                        Verdict::Duplicate(record)
                    }
                    None => Verdict::Rejected(StoreError::Stale),
                }
            }
            // Storage failed: the batch stops (its answer would be a guess).
            Err(err @ (StoreError::Internal(_) | StoreError::Dependency { .. })) => {
                return Err(err);
            }
            Err(err) => verdict_of(err),
        };
        verdicts.push((op_id, verdict));
    }
    Ok(verdicts)
}

fn verdict_of(err: StoreError) -> Verdict {
    match err {
        StoreError::ConflictWithCurrent { .. } => Verdict::Conflict(err),
        other => Verdict::Rejected(other),
    }
}
