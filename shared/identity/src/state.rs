//! Identity's per-instance state: its caches, one set per `Store`.

use crate::api_keys::KeyCredential;
use crate::orgs::OrgRecord;
use crate::roles::RoleRecord;
use relinx_ddb::{CacheSettings, Store, TtlCache};
use relinx_model::{ApiKeyId, OrgId, Workspace};
use std::sync::Arc;

/// How often a principal's `last_sync_at` is written, at most, per instance.
pub(crate) const LAST_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

const CAPACITY: u64 = 10_000;

pub(crate) struct Caches {
    pub keys: TtlCache<ApiKeyId, Arc<KeyCredential>>,
    pub orgs: TtlCache<OrgId, Arc<OrgRecord>>,
    /// An org's workspaces, for resolving headers by id or name.
    pub workspaces: TtlCache<OrgId, Arc<Vec<Workspace>>>,
    /// An org's custom roles; trusted as long as the org itself.
    pub roles: TtlCache<OrgId, Arc<Vec<RoleRecord>>>,
    /// The principals whose `last_sync_at` this instance wrote in the last minute.
    pub synced: TtlCache<(OrgId, String), ()>,
}

impl Caches {
    fn new(settings: &CacheSettings) -> Self {
        Self {
            keys: TtlCache::new(settings.key_ttl, CAPACITY),
            orgs: TtlCache::new(settings.org_ttl, CAPACITY),
            workspaces: TtlCache::new(settings.workspace_ttl, CAPACITY),
            roles: TtlCache::new(settings.org_ttl, CAPACITY),
            synced: TtlCache::new(LAST_SYNC_EVERY, CAPACITY),
        }
    }
}

pub(crate) fn caches(store: &Store) -> Arc<Caches> {
    store.local(Caches::new)
}
