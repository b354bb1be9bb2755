//! Operation marks: exactly-once writes for work that is replayed (a pipeline run's
//! chunk delivered again after its process died). The work runs inside [`marked`]
//! with an op id; the one transaction that makes the change — whatever domain
//! operation builds it — also puts the op's marker, on the condition that it does not
//! exist. A replay of the same op id is refused with `OP_ALREADY_APPLIED` before it
//! writes anything, even when the first attempt died between its commit and its
//! caller's checkpoint. Each marker is an item of its own partition (`OP#{op id}`),
//! so marking a run's rows puts no load on any one key. Markers expire.

use crate::codec::{Item, key, n, s};
use crate::keys;
use crate::{Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

tokio::task_local! {
    static MARK: Arc<Mark>;
}

/// The op a piece of work applies.
pub struct Mark {
    op: String,
    /// What the work was (an import's `inserted` or `updated`), kept on the marker
    /// for whoever finds it applied.
    note: String,
    ttl: i64,
    used: AtomicBool,
}

impl Mark {
    /// `op` is unique to the work (e.g. `{run id}#{row}`); its marker expires at `ttl`
    /// (epoch seconds), once no replay can come.
    pub fn new(op: impl Into<String>, note: impl Into<String>, ttl: i64) -> Arc<Self> {
        Arc::new(Self {
            op: op.into(),
            note: note.into(),
            ttl,
            used: AtomicBool::new(false),
        })
    }

    /// Whether a transaction of this work committed its marker.
    pub fn applied(&self) -> bool {
        self.used.load(Ordering::Acquire)
    }
}

/// Runs `work` so that the transaction it commits carries `mark`'s marker.
pub async fn marked<F: Future>(mark: Arc<Mark>, work: F) -> F::Output {
    MARK.scope(mark, work).await
}

fn marker_pk(op: &str) -> String {
    format!("{}{op}", keys::core::OP_MARK)
}

/// The current work's marker, for the transaction about to commit (once per work:
/// its first transaction to commit holds it; `Tx` puts it on the condition that it
/// does not exist). Outside [`marked`], nothing.
pub(crate) fn pending() -> Option<(Item, Arc<Mark>)> {
    let mark = MARK.try_with(Arc::clone).ok()?;
    if mark.applied() {
        return None;
    }
    let mut item = key(marker_pk(&mark.op), keys::core::OP_MARK_SK);
    item.insert(keys::TTL.to_owned(), n(mark.ttl));
    item.insert("op".to_owned(), s(mark.op.clone()));
    item.insert("note".to_owned(), s(mark.note.clone()));
    Some((item, mark))
}

pub(crate) fn committed(mark: &Mark) {
    mark.used.store(true, Ordering::Release);
}

/// Which of `ops` were applied (their markers exist), with each one's note: one
/// consistent read per 100.
pub async fn applied(store: &Store, ops: &[String]) -> Result<Vec<Option<String>>, StoreError> {
    let keys: Vec<_> = ops
        .iter()
        .map(|op| key(marker_pk(op), keys::core::OP_MARK_SK))
        .collect();
    let found = store.get_items(keys).await?;
    let notes: std::collections::HashMap<String, String> = found
        .iter()
        .filter_map(|item| {
            let op = crate::codec::get_s(item, "op")?.to_owned();
            let note = crate::codec::get_s(item, "note")
                .unwrap_or_default()
                .to_owned();
            Some((op, note))
        })
        .collect();
    Ok(ops.iter().map(|op| notes.get(op).cloned()).collect())
}
