//! In-process caches on the request path. Each is bounded in size and in staleness:
//! a change made through this instance invalidates its entry at once; a change made
//! through another instance is seen within the TTL.

use mini_moka::sync::Cache;
use relinx_model::{ApiKeyId, Org, OrgId, Workspace};
use std::sync::Arc;
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
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            key_ttl: Duration::from_secs(10),
            org_ttl: Duration::from_secs(10),
            workspace_ttl: Duration::from_secs(5),
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
        }
    }
}

pub(crate) struct Caches {
    pub keys: Option<Cache<ApiKeyId, Arc<crate::api_keys::KeyCredential>>>,
    pub orgs: Option<Cache<OrgId, Arc<Org>>>,
    pub workspaces: Option<Cache<OrgId, Arc<Vec<Workspace>>>>,
    /// An org's custom roles; trusted as long as the org itself.
    pub roles: Option<Cache<OrgId, Arc<Vec<crate::roles::RoleRecord>>>>,
}

fn build<K, V>(ttl: Duration, capacity: u64) -> Option<Cache<K, V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    (!ttl.is_zero()).then(|| {
        Cache::builder()
            .max_capacity(capacity)
            .time_to_live(ttl)
            .build()
    })
}

impl Caches {
    pub fn new(settings: CacheSettings) -> Self {
        Self {
            keys: build(settings.key_ttl, 10_000),
            orgs: build(settings.org_ttl, 10_000),
            workspaces: build(settings.workspace_ttl, 10_000),
            roles: build(settings.org_ttl, 10_000),
        }
    }
}
