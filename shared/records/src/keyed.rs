//! Records found by a field of their `data` (a Datalinx import's upsert key, e.g.
//! `data.sku`): one guard item per key value and workspace, written in the record's
//! own create transaction on the condition that no live record holds the value, so
//! two records never share a key however the imports race. The guard names the
//! record; a deleted record's guard is taken over by the next create.

use crate::record::{NewRecord, Record, RecordPatch};
use crate::records::{self, Edit, RecordEdit};
use relinx_ddb::codec::{s, to_item};
use relinx_ddb::keys::records::{RECORD_KEY, RECORD_KEY_SK};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, ErrorCode, RecordId, ValidationError, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;

/// Lost races with another writer of the same key before the caller is told.
const RETRIES: usize = 4;

#[derive(Debug, Serialize, Deserialize)]
struct KeyGuard {
    record_id: RecordId,
}

fn guard_pk(ctx: &Context, ws: &WorkspaceId, field: &str, value: &Value) -> String {
    let digest = sha2::Sha256::digest(format!("{field}\u{1f}{value}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{RECORD_KEY}{}#{ws}#{hex}", ctx.org_id)
}

/// What an upsert did.
#[derive(Debug, Clone)]
pub enum Upserted {
    Created(Record),
    Updated(Record),
    /// The record held every value given already.
    Unchanged(Record),
}

fn holds(current: &Record, new: &NewRecord) -> bool {
    current.title == new.title
        && current.kind == new.kind
        && current.site == new.site
        && new.status.is_none_or(|s| s == current.status)
        && current.data == new.data
}

/// What an upsert would do, for a dry run (nothing is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Would {
    Create,
    Update,
    KeepAsIs,
}

/// What [`update_by_id`] would do (a 404 for an id the workspace does not have).
pub async fn would_update_by_id(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    id: &RecordId,
    new: &NewRecord,
) -> Result<Would, StoreError> {
    let current = records::get(store, ctx, ws, id).await?;
    if current.deleted {
        return Err(StoreError::NotFound("record"));
    }
    Ok(if holds(&current, new) {
        Would::KeepAsIs
    } else {
        Would::Update
    })
}

/// What [`upsert_by`] would do.
pub async fn would_upsert_by(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    field: &str,
    new: &NewRecord,
) -> Result<Would, StoreError> {
    let Some(value) = new.data.get(field).filter(|v| !v.is_null()) else {
        return Err(StoreError::Invalid(ValidationError::new(
            format!("data.{field}"),
            "is the upsert's key, and the record leaves it empty",
        )));
    };
    let guard: Option<KeyGuard> = store
        .get(guard_pk(ctx, ws, field, value), RECORD_KEY_SK)
        .await?;
    let Some(guard) = guard else {
        return Ok(Would::Create);
    };
    match would_update_by_id(store, ctx, ws, &guard.record_id, new).await {
        Err(StoreError::NotFound(_)) => Ok(Would::Create),
        other => other,
    }
}

/// Writes `new` onto the live record `id` (its title, type, site, status if given,
/// and data): an import upserting on id. A record the workspace does not have (or
/// deleted) is a 404: ids are the platform's to mint.
pub async fn update_by_id(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    id: &RecordId,
    new: NewRecord,
) -> Result<Upserted, StoreError> {
    for _ in 0..RETRIES {
        let current = records::get(store, ctx, ws, id).await?;
        if current.deleted {
            return Err(StoreError::NotFound("record"));
        }
        match patch_onto(store, ctx, ws, &current, &new).await {
            Err(StoreError::ConflictWithCurrent { .. }) => continue,
            other => return other,
        }
    }
    Err(StoreError::conflict(
        ErrorCode::ConcurrentChange,
        format!("record {id} kept changing; retry"),
    ))
}

/// `new`'s values onto `current` under its causal token (unchanged when it holds
/// them all already).
async fn patch_onto(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    current: &Record,
    new: &NewRecord,
) -> Result<Upserted, StoreError> {
    if holds(current, new) {
        return Ok(Upserted::Unchanged(current.clone()));
    }
    let patch = RecordPatch::new(
        Some(&new.title),
        Some(&new.kind),
        Some(&new.site),
        new.status,
        Some(new.data.clone()),
    )?;
    let edit = RecordEdit {
        id: current.id.clone(),
        causal: Some(current.causal.clone()),
        change: Edit::Patch(patch),
    };
    records::edit(store, ctx, ws, edit)
        .await
        .map(Upserted::Updated)
}

/// Writes `new` onto the live record whose `data[field]` equals its own (replacing
/// its title, type, site, status if given, and data), or creates it.
pub async fn upsert_by(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    field: &str,
    new: NewRecord,
) -> Result<Upserted, StoreError> {
    let value = match new.data.get(field) {
        None | Some(Value::Null) => {
            return Err(StoreError::Invalid(ValidationError::new(
                format!("data.{field}"),
                "is the upsert's key, and the record leaves it empty",
            )));
        }
        Some(v) => v.clone(),
    };
    let pk = guard_pk(ctx, ws, field, &value);
    for _ in 0..RETRIES {
        let guard: Option<KeyGuard> = store.get(pk.clone(), RECORD_KEY_SK).await?;
        let current = match &guard {
            Some(g) => match records::get(store, ctx, ws, &g.record_id).await {
                Ok(record) if !record.deleted => Some(record),
                Ok(_) | Err(StoreError::NotFound(_)) => None,
                Err(err) => return Err(err),
            },
            None => None,
        };
        match current {
            Some(current) => match patch_onto(store, ctx, ws, &current, &new).await {
                // Written meanwhile: read it again.
                Err(StoreError::ConflictWithCurrent { .. }) => continue,
                other => return other,
            },
            None => {
                let mut tx = Tx::new();
                let record = records::stage_create(&mut tx, store, ctx, ws, new.clone()).await?;
                let condition = match &guard {
                    Some(stale) => Cond::new("attribute_not_exists(pk) OR record_id = :stale")
                        .value(":stale", s(stale.record_id.to_string())),
                    None => Cond::not_exists(),
                };
                tx.put(
                    &store.tables().main,
                    to_item(
                        &KeyGuard {
                            record_id: record.id.clone(),
                        },
                        pk.clone(),
                        RECORD_KEY_SK.to_owned(),
                    )?,
                    Some(condition),
                    OnFail::Stale,
                );
                tx.answer(store, &record);
                match tx.commit(store).await {
                    Ok(()) => return Ok(Upserted::Created(record)),
                    // Another writer made the key's record first: update that one.
                    Err(StoreError::Stale) => continue,
                    Err(err) => return Err(err),
                }
            }
        }
    }
    Err(StoreError::conflict(
        ErrorCode::ConcurrentChange,
        format!("the record holding data.{field} = {value} kept changing; retry"),
    ))
}
