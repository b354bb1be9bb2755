//! DynamoDB persistence and the domain operations every surface shares.
//!
//! Every change is one `TransactWriteItems` holding the entity, its uniqueness
//! guards and its event ([`tx::Tx`]); every list is a `Query`; the caller's org
//! always comes from the authenticated principal ([`Context`]), never a request body.

mod cache;
mod codec;
mod error;
pub mod idempotency;
pub mod keys;
pub mod metrics;
pub mod ratelimit;
#[cfg(feature = "local")]
pub mod schema;
pub mod tx;

pub mod api_keys;
pub mod events;
pub mod invites;
pub mod orgs;
pub mod roles;
pub mod service_accounts;
pub mod users;
pub mod workspaces;

pub use cache::CacheSettings;
pub use error::StoreError;

use aws_sdk_dynamodb::Client;
use relinx_auth::KeyHasher;
use relinx_model::{Actor, OrgId, Permission, PermissionSet, WorkspaceId};
use std::sync::Arc;

/// The physical names of the three tables (template.yaml "Storage").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub main: String,
    pub events: String,
    pub jobs: String,
}

impl Tables {
    /// `{prefix}-main`, `{prefix}-events`, `{prefix}-jobs`: local runs and tests.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            main: format!("{prefix}-main"),
            events: format!("{prefix}-events"),
            jobs: format!("{prefix}-jobs"),
        }
    }

    /// From `MAIN_TABLE`, `EVENTS_TABLE`, `JOBS_TABLE` (set by template.yaml).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
        };
        Ok(Self {
            main: var("MAIN_TABLE")?,
            events: var("EVENTS_TABLE")?,
            jobs: var("JOBS_TABLE")?,
        })
    }
}

/// Who is acting and on whose behalf: every domain operation takes one, and the
/// org in it is the only org that operation can touch.
#[derive(Debug, Clone)]
pub struct Context {
    pub org_id: OrgId,
    pub actor: Actor,
    pub request_id: Option<String>,
    /// The caller's role by name (built-in or custom), for what it creates.
    pub role: String,
    /// What the caller may do: each operation checks the permission it needs.
    pub permissions: PermissionSet,
    /// Set when the caller's credential is confined to one workspace.
    pub workspace_scope: Option<WorkspaceId>,
}

impl Context {
    /// Refuses unless the caller holds `permission` (403 naming it).
    pub fn require(&self, permission: Permission) -> Result<(), StoreError> {
        if self.permissions.allows(permission) {
            Ok(())
        } else {
            Err(StoreError::forbidden(
                "FORBIDDEN",
                format!("your role does not allow {permission}"),
            ))
        }
    }

    /// Whether the caller may see something confined to `workspace` (or to none): a
    /// scoped credential sees only what is confined to its own workspace.
    pub fn sees_confined(&self, workspace: &Option<WorkspaceId>) -> bool {
        self.workspace_scope.is_none() || *workspace == self.workspace_scope
    }

    /// Whether the caller may see `workspace` at all (a scoped credential sees one).
    pub fn sees_workspace(&self, workspace: &WorkspaceId) -> bool {
        self.workspace_scope
            .as_ref()
            .is_none_or(|scope| scope == workspace)
    }
}

/// A handle on the tables, shared by every request of a function instance.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    tables: Tables,
    hasher: KeyHasher,
    caches: cache::Caches,
}

impl Store {
    pub fn new(client: Client, tables: Tables, hasher: KeyHasher, cache: CacheSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                tables,
                hasher,
                caches: cache::Caches::new(cache),
            }),
        }
    }

    /// A DynamoDB client from the environment. `DYNAMODB_ENDPOINT` (or the SDK's own
    /// `AWS_ENDPOINT_URL`) points it at DynamoDB Local. Makes no network call.
    pub async fn client_from_env() -> Client {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
            loader = loader.endpoint_url(endpoint);
            // DynamoDB Local accepts any credentials; don't make a developer invent some.
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "local",
                    "local",
                    None,
                    None,
                    "relinx-local",
                ));
            }
            if std::env::var_os("AWS_REGION").is_none()
                && std::env::var_os("AWS_DEFAULT_REGION").is_none()
            {
                loader = loader.region(aws_sdk_dynamodb::config::Region::new("us-east-1"));
            }
        }
        let config = aws_sdk_dynamodb::config::Builder::from(&loader.load().await)
            .interceptor(metrics::CallAccounting)
            .build();
        Client::from_conf(config)
    }

    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    pub fn tables(&self) -> &Tables {
        &self.inner.tables
    }

    pub(crate) fn hasher(&self) -> &KeyHasher {
        &self.inner.hasher
    }

    pub(crate) fn caches(&self) -> &cache::Caches {
        &self.inner.caches
    }

    /// One item of the main table, read consistently (a fresh write is always seen).
    pub(crate) async fn get_item(
        &self,
        pk: String,
        sk: impl Into<String>,
    ) -> Result<Option<codec::Item>, StoreError> {
        Ok(self
            .client()
            .get_item()
            .table_name(&self.tables().main)
            .set_key(Some(codec::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await?
            .item)
    }

    /// One item of the main table decoded as `T`, read consistently.
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        sk: impl Into<String>,
    ) -> Result<Option<T>, StoreError> {
        self.get_item(pk, sk)
            .await?
            .map(codec::from_item)
            .transpose()
    }

    /// One page of an org's items whose sort key starts with `prefix`, after
    /// `cursor`, optionally filtered (`filter` names its own placeholders).
    pub(crate) async fn org_page<T: serde::de::DeserializeOwned>(
        &self,
        org: &OrgId,
        prefix: &str,
        cursor: Option<&str>,
        limit: i32,
        filter: Option<tx::Cond>,
    ) -> Result<codec::Page<T>, StoreError> {
        let start = cursor
            .map(|c| codec::decode_cursor(c, prefix))
            .transpose()?;
        let mut query = self
            .client()
            .query()
            .table_name(&self.tables().main)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", codec::s(keys::org(org)))
            .expression_attribute_values(":prefix", codec::s(prefix))
            .set_exclusive_start_key(start.map(|sk| codec::key(keys::org(org), sk)))
            .consistent_read(true)
            .limit(limit);
        if let Some(filter) = filter {
            query = query.filter_expression(filter.expression);
            for (name, value) in filter.names {
                query = query.expression_attribute_names(name, value);
            }
            for (name, value) in filter.values {
                query = query.expression_attribute_values(name, value);
            }
        }
        let out = query.send().await?;
        let next_cursor = out
            .last_evaluated_key
            .as_ref()
            .and_then(|k| codec::get_s(k, keys::SK))
            .map(codec::encode_cursor);
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(codec::from_item)
            .collect::<Result<_, _>>()?;
        Ok(codec::Page { items, next_cursor })
    }

    /// Every item of an org whose sort key starts with `prefix` (for sets that stay
    /// small: an org's workspaces, a member's keys), optionally filtered.
    pub(crate) async fn org_all<T: serde::de::DeserializeOwned>(
        &self,
        org: &OrgId,
        prefix: &str,
        filter: impl Fn() -> Option<tx::Cond>,
    ) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .org_page(org, prefix, cursor.as_deref(), 1000, filter())
                .await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }
}
