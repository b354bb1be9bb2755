//! The records domain's per-instance state: its settings and the cursor sealer (one
//! per `Store`; the policies module keeps its own cache).

use relinx_auth::Sealer;
use relinx_ddb::{CacheSettings, Store};
use std::sync::{Arc, PoisonError, RwLock};

/// How long tombstones and change-feed entries are kept, and how old a change must
/// be before the feed lists it: the deployment's (`Config::records`), unless
/// [`configure`] replaces them.
pub use relinx_config::RecordSettings;

pub(crate) struct State {
    pub settings: RwLock<RecordSettings>,
    pub cursors: Sealer,
}

impl State {
    pub fn settings(&self) -> RecordSettings {
        *self.settings.read().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn state(store: &Store) -> Arc<State> {
    store.local(|_: &CacheSettings| State {
        settings: RwLock::new(store.config().records),
        cursors: Sealer::new(store.hasher(), "records cursor"),
    })
}

/// Replaces this Store's record settings (tests that move time).
pub fn configure(store: &Store, settings: RecordSettings) {
    *state(store)
        .settings
        .write()
        .unwrap_or_else(PoisonError::into_inner) = settings;
}

/// How long tombstones, feed entries and applied-op markers are kept, in seconds.
pub(crate) fn retention_seconds(store: &Store) -> i64 {
    i64::try_from(state(store).settings().retention.as_secs()).unwrap_or(i64::MAX / 2)
}
