//! The records domain's per-instance state: its settings, the cursor sealer, and the
//! cached policies of each org (one set per `Store`).

use crate::policies::Compiled;
use relinx_auth::Sealer;
use relinx_ddb::{CacheSettings, Store, TtlCache};
use relinx_model::OrgId;
use std::sync::{Arc, PoisonError, RwLock};

const CAPACITY: u64 = 10_000;

/// How long tombstones and change-feed entries are kept, and how old a change must
/// be before the feed lists it: the deployment's (`Config::records`), unless
/// [`configure`] replaces them.
pub use relinx_config::RecordSettings;

pub(crate) struct State {
    pub settings: RwLock<RecordSettings>,
    pub cursors: Sealer,
    /// An org's policies, compiled, in the order they apply.
    pub policies: TtlCache<OrgId, Arc<Vec<Compiled>>>,
}

impl State {
    pub fn settings(&self) -> RecordSettings {
        *self.settings.read().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn state(store: &Store) -> Arc<State> {
    store.local(|cache: &CacheSettings| State {
        settings: RwLock::new(store.config().records),
        cursors: Sealer::new(store.hasher(), "records cursor"),
        policies: TtlCache::new(cache.org_ttl, CAPACITY),
    })
}

/// Replaces this Store's record settings (tests that move time).
pub fn configure(store: &Store, settings: RecordSettings) {
    *state(store)
        .settings
        .write()
        .unwrap_or_else(PoisonError::into_inner) = settings;
}
