//! The records domain's per-instance state: its settings, the cursor sealer, and the
//! cached policies of each org (one set per `Store`).

use crate::policies::Compiled;
use relinx_auth::Sealer;
use relinx_ddb::{CacheSettings, Store, TtlCache};
use relinx_model::OrgId;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

const CAPACITY: u64 = 10_000;

/// How long tombstones and change-feed entries are kept, and how old a change must
/// be before the feed lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSettings {
    /// `RELINX_TOMBSTONE_RETENTION_DAYS`, default 30: a feed cursor older than this
    /// is 410 and the client resyncs from a full list.
    pub retention: Duration,
    /// `RELINX_FEED_SETTLE_MS`, default 1000: the feed lists a change once it is this
    /// old, the bound on how long after minting its `causal` a write may commit, so a
    /// reader never moves its cursor past a change still in flight.
    pub feed_settle: Duration,
}

impl Default for RecordSettings {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(30 * 24 * 3600),
            feed_settle: Duration::from_millis(1000),
        }
    }
}

impl RecordSettings {
    /// The defaults, overridden by the environment where it says so.
    pub fn from_env() -> Self {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let defaults = Self::default();
        Self {
            retention: number("RELINX_TOMBSTONE_RETENTION_DAYS")
                .map(|days| Duration::from_secs(days.max(1) * 24 * 3600))
                .unwrap_or(defaults.retention),
            feed_settle: number("RELINX_FEED_SETTLE_MS")
                .map(Duration::from_millis)
                .unwrap_or(defaults.feed_settle),
        }
    }
}

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
        settings: RwLock::new(RecordSettings::from_env()),
        cursors: Sealer::new(store.hasher(), "records cursor"),
        policies: TtlCache::new(cache.org_ttl, CAPACITY),
    })
}

/// Replaces this Store's record settings (tests, and deployments that read them
/// from elsewhere than the environment).
pub fn configure(store: &Store, settings: RecordSettings) {
    *state(store)
        .settings
        .write()
        .unwrap_or_else(PoisonError::into_inner) = settings;
}
