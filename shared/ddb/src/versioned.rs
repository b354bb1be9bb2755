//! The one way to change an item that was read first: read it consistently, build
//! the change from what was read, and write it back on the condition that its
//! `version` is still the one read. A lost race re-reads and tries again; after a
//! few lost races the caller gets a 409 it can retry.
//!
//! Every write to a versioned item bumps `version` — the helper's own put, and any
//! `UpdateItem` elsewhere that touches such an item (its `ADD` clause carries
//! [`BUMP`]) — so nothing written in between is ever overwritten from a stale copy,
//! and nothing is ever written from a cached copy.

use crate::codec::{from_item, get_n, n, to_item};
use crate::tx::{Cond, OnFail, Tx};
use crate::{Store, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The attribute holding an item's version (absent on an item never changed).
pub const VERSION: &str = "version";
/// How many times a lost race is retried before the caller is told.
const RETRIES: u32 = 4;

/// The `ADD` action that bumps a versioned item's version: every `UpdateItem` on
/// such an item carries it (`ADD in_use :delta, #version :one`), its placeholders
/// bound by [`bump_values`].
pub const BUMP: &str = "#version :one";

/// Adds the placeholders [`BUMP`] uses to `cond`.
pub fn bump_values(cond: Cond) -> Cond {
    cond.name("#version", VERSION).value(":one", n(1))
}

/// What a change built from the item it read: the transaction (everything else the
/// change writes, its event included), what becomes of the item, and what to answer.
pub struct Changed<T, R> {
    tx: Tx,
    item: Option<T>,
    output: R,
}

impl<T, R> Changed<T, R> {
    /// The item is written back as `item`.
    pub fn put(tx: Tx, item: T, output: R) -> Self {
        Self {
            tx,
            item: Some(item),
            output,
        }
    }

    /// The item is deleted (still only if nobody wrote it since it was read).
    pub fn delete(tx: Tx, output: R) -> Self {
        Self {
            tx,
            item: None,
            output,
        }
    }
}

/// Reads the item at `(pk, sk)` in the main table, hands it to `change` with a fresh
/// transaction, and commits that transaction with the item `change` returns written
/// back (or deleted) under a version condition. `change` stages whatever else belongs to the
/// change (guards, counters, the event, after-commit hooks) and may run more than
/// once, so it must have no effect outside the transaction. A missing item is
/// `missing()`.
///
/// (The transaction is passed by value and handed back, rather than lent, so the
/// change can be a plain `async move` block whose future is `Send`.)
pub async fn modify<T, R, F, Fut>(
    store: &Store,
    pk: String,
    sk: String,
    missing: fn() -> StoreError,
    mut change: F,
) -> Result<R, StoreError>
where
    T: Serialize + DeserializeOwned,
    F: FnMut(T, Tx) -> Fut,
    Fut: Future<Output = Result<Changed<T, R>, StoreError>>,
{
    let mut attempt = 0;
    loop {
        let item = store
            .get_item(pk.clone(), sk.clone())
            .await?
            .ok_or_else(missing)?;
        let version = get_n(&item, VERSION).unwrap_or(0);
        let current: T = from_item(item)?;
        let Changed {
            mut tx,
            item: next,
            output,
        } = change(current, Tx::new()).await?;
        let main = &store.tables().main;
        match next {
            Some(next) => {
                let mut next_item = to_item(&next, pk.clone(), sk.clone())?;
                next_item.insert(VERSION.to_owned(), n(version + 1));
                tx.put(main, next_item, Some(read_version(version)), OnFail::Stale);
            }
            None => {
                tx.delete(
                    main,
                    pk.clone(),
                    sk.clone(),
                    Some(read_version(version)),
                    OnFail::Stale,
                );
            }
        }
        match tx.commit(store).await {
            Err(StoreError::Stale) if attempt < RETRIES => {
                attempt += 1;
                let jitter = u64::from(rand::random::<u8>() % 8);
                tokio::time::sleep(Duration::from_millis((2u64 << attempt) + jitter)).await;
            }
            Err(StoreError::Stale) => {
                return Err(StoreError::conflict(
                    relinx_model::ErrorCode::ConcurrentChange,
                    "the item kept changing while this request ran; retry",
                ));
            }
            other => return other.map(|()| output),
        }
    }
}

/// The item at `(pk, sk)` with its version, read consistently (`None` if missing):
/// for a change elsewhere that is valid only while this item stays as read (pair it
/// with [`stage_unchanged`]).
pub async fn read<T: DeserializeOwned>(
    store: &Store,
    pk: String,
    sk: String,
) -> Result<Option<(T, i64)>, StoreError> {
    let Some(item) = store.get_item(pk, sk).await? else {
        return Ok(None);
    };
    let version = get_n(&item, VERSION).unwrap_or(0);
    Ok(Some((from_item(item)?, version)))
}

/// Stages a check that the item at `(pk, sk)` still has `version`: a change that was
/// validated against it fails as [`StoreError::Stale`] (and is retried by whoever
/// read it) if the item was written since.
pub fn stage_unchanged(tx: &mut Tx, store: &Store, pk: String, sk: String, version: i64) {
    tx.check(
        &store.tables().main,
        pk,
        sk,
        read_version(version),
        OnFail::Stale,
    );
}

/// The item still exists and still has the version that was read.
fn read_version(version: i64) -> Cond {
    if version == 0 {
        Cond::new("attribute_exists(pk) AND attribute_not_exists(#version)")
            .name("#version", VERSION)
    } else {
        Cond::new("attribute_exists(pk) AND #version = :read_version")
            .name("#version", VERSION)
            .value(":read_version", n(version))
    }
}
