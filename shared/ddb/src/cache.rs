//! In-process caches on the request path. Each is bounded in size and in staleness:
//! a change made through this instance drops its entry once the change has
//! committed (`Tx::after_commit`); a change made through another instance is seen
//! within the TTL.
//!
//! A domain keeps its caches in a state struct of its own, created once per
//! [`crate::Store`] by [`crate::Store::local`], so two Store instances (two Lambda
//! instances, or two in one test) never share one.

use mini_moka::sync::Cache;
use std::hash::Hash;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// How long a verified key's record is trusted: the bound on how long a key
    /// revoked or rotated through another instance keeps working.
    pub key_ttl: Duration,
    /// How long an org's plan, limits, disabled members and custom roles are
    /// trusted: the bound on how long a member disabled through another instance
    /// keeps working.
    pub org_ttl: Duration,
    /// How long an org's workspace list (names, read-only flags) is trusted for
    /// resolving headers; writes always re-check `read_only` in their transaction.
    pub workspace_ttl: Duration,
    /// How long a dispatcher instance trusts a webhook endpoint (URL, enabled,
    /// secrets) it delivered to: the bound on how long a change made through another
    /// instance takes to reach its deliveries.
    pub webhook_ttl: Duration,
    /// How long a redirect instance trusts a short link it resolved (its target,
    /// whether it is deleted): the bound on how long a change takes to reach visitors.
    pub link_ttl: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            key_ttl: Duration::from_secs(10),
            org_ttl: Duration::from_secs(10),
            workspace_ttl: Duration::from_secs(5),
            webhook_ttl: Duration::from_secs(2),
            link_ttl: Duration::from_secs(5),
        }
    }
}

impl CacheSettings {
    /// No caching: every request reads DynamoDB (tests of cross-instance behaviour).
    pub fn disabled() -> Self {
        Self {
            key_ttl: Duration::ZERO,
            org_ttl: Duration::ZERO,
            workspace_ttl: Duration::ZERO,
            webhook_ttl: Duration::ZERO,
            link_ttl: Duration::ZERO,
        }
    }
}

/// A bounded cache whose entries live at most `ttl`; a zero TTL caches nothing.
/// Values are cheap to clone (an `Arc`), so a hit is a refcount, not a copy.
pub struct TtlCache<K, V>(Option<Cache<K, V>>);

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        Self((!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build()
        }))
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.0.as_ref().and_then(|c| c.get(key))
    }

    pub fn insert(&self, key: K, value: V) {
        if let Some(cache) = &self.0 {
            cache.insert(key, value);
        }
    }

    pub fn invalidate(&self, key: &K) {
        if let Some(cache) = &self.0 {
            cache.invalidate(key);
        }
    }
}
