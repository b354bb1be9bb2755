//! The DynamoDB core every domain crate builds on: the [`Store`] handle, the three
//! tables, one transaction per change carrying its event ([`tx::Tx`]), the one
//! optimistic-update helper ([`versioned::modify`]), the codec, the key registry,
//! bounded per-instance caches, DynamoDB call accounting, rate-limit windows,
//! idempotency records, and (feature `local`) tables created from template.yaml.
//!
//! It knows no domain, and it is the only crate that speaks to DynamoDB: domains read,
//! query and write through [`ops`] (typed Queries, conditional writes that answer
//! whether they applied) and [`tx::Tx`], naming no AWS SDK type. A domain (identity,
//! records, links, crm, …) is its own crate
//! on `relinx-model` + `relinx-ddb`: it registers its key prefixes in [`keys`], keeps
//! its per-instance caches in a state struct reached through [`Store::local`], and
//! exposes operations `(&Store, &Context, input) -> Result<T, StoreError>` that check
//! their permission first. The caller's org always comes from the
//! `relinx_model::Context`, never a request body.

pub mod budget;
mod cache;
pub mod codec;
mod cond;
mod error;
pub mod events;
pub mod idempotency;
pub mod keys;
pub mod metrics;
pub mod oplog;
pub mod ops;
pub mod ratelimit;
#[cfg(feature = "local")]
pub mod schema;
pub mod secrets;
pub mod tx;
pub mod versioned;

pub use budget::ReadBudget;
pub use cache::{CacheSettings, TtlCache};
pub use error::StoreError;
pub use ops::{Compare, Found, Table, Written};

pub use aws_sdk_dynamodb::Client;
use relinx_auth::KeyHasher;
pub use relinx_config::Tables;
use relinx_config::{Aws, Config};
use relinx_model::OrgId;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// A handle on the tables, shared by every request of a function instance.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    tables: Tables,
    hasher: KeyHasher,
    cache: CacheSettings,
    /// The deployment's configuration, for the domains' own settings.
    config: Arc<Config>,
    /// Each domain's per-instance state (its caches), by type.
    locals: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Store {
    /// A store with the default configuration (tests, tools).
    pub fn new(client: Client, tables: Tables, hasher: KeyHasher, cache: CacheSettings) -> Self {
        Self::configured(client, tables, hasher, cache, Config::default())
    }

    /// A store whose domains take their settings (record retention, …) from `config`.
    pub fn configured(
        client: Client,
        tables: Tables,
        hasher: KeyHasher,
        cache: CacheSettings,
        config: Config,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                tables,
                hasher,
                cache,
                config: Arc::new(config),
                locals: RwLock::default(),
            }),
        }
    }

    /// A DynamoDB client: `DYNAMODB_ENDPOINT` (or the SDK's own `AWS_ENDPOINT_URL`)
    /// points it at DynamoDB Local. Makes no network call.
    pub async fn client_for(aws: &Aws) -> Client {
        let shared = sdk_config(aws, aws.dynamodb_endpoint.as_deref()).await;
        let config = aws_sdk_dynamodb::config::Builder::from(&shared)
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

    /// The configuration this store was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The deployment's pepper: key hashes, key-id checks, sealing.
    pub fn hasher(&self) -> &KeyHasher {
        &self.inner.hasher
    }

    /// A domain's per-instance state, created by `init` on first use and shared by
    /// every request this instance serves.
    pub fn local<T: Any + Send + Sync>(&self, init: impl Fn(&CacheSettings) -> T) -> Arc<T> {
        let id = TypeId::of::<T>();
        let found = self
            .inner
            .locals
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        let state = match found {
            Some(state) => state,
            None => self
                .inner
                .locals
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(id)
                .or_insert_with(|| Arc::new(init(&self.inner.cache)))
                .clone(),
        };
        match state.downcast::<T>() {
            Ok(state) => state,
            // Unreachable: the map is keyed by the type it holds.
            Err(_) => Arc::new(init(&self.inner.cache)),
        }
    }

    /// One item of the main table, read consistently (a fresh write is always seen).
    pub async fn get_item(
        &self,
        pk: String,
        sk: impl Into<String>,
    ) -> Result<Option<codec::Item>, StoreError> {
        self.read(Table::Main, pk, sk).await
    }

    /// The items of the main table at `keys` (those that exist, in no particular
    /// order), read consistently: BatchGetItem calls of up to 100 keys, keys left
    /// unprocessed (throttling) asked for again a few times.
    pub async fn get_items(&self, keys: Vec<codec::Item>) -> Result<Vec<codec::Item>, StoreError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let main = &self.tables().main;
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut keys = chunk.to_vec();
            for _ in 0..5 {
                if keys.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::internal("batch get", e))?;
                let out = self
                    .client()
                    .batch_get_item()
                    .request_items(main, request)
                    .send()
                    .await?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(main))
                        .unwrap_or_default(),
                );
                keys = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(main))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !keys.is_empty() {
                return Err(StoreError::Internal(
                    "batch get: keys left unprocessed".into(),
                ));
            }
        }
        Ok(found)
    }

    /// One item of the main table decoded as `T`, read consistently.
    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        sk: impl Into<String>,
    ) -> Result<Option<T>, StoreError> {
        self.get_item(pk, sk)
            .await?
            .map(codec::from_item)
            .transpose()
    }

    /// The caller's org's item at `sk`, if the caller may see it: missing, or
    /// confined (`workspace_of`) to a workspace outside the caller's scope, is the
    /// same `NotFound(what)` (a 404 that says nothing of what exists elsewhere).
    pub async fn get_confined<T: serde::de::DeserializeOwned>(
        &self,
        ctx: &relinx_model::Context,
        sk: impl Into<String>,
        what: &'static str,
        workspace_of: impl Fn(&T) -> &Option<relinx_model::WorkspaceId>,
    ) -> Result<T, StoreError> {
        let item: T = self
            .get(keys::org(&ctx.org_id), sk)
            .await?
            .ok_or(StoreError::NotFound(what))?;
        if ctx.sees_confined(workspace_of(&item)) {
            Ok(item)
        } else {
            Err(StoreError::NotFound(what))
        }
    }

    /// The page `page` asks for of an org's items whose sort key starts with
    /// `prefix`, optionally filtered (`filter` names its own placeholders).
    pub async fn org_page<T: serde::de::DeserializeOwned>(
        &self,
        org: &OrgId,
        prefix: &str,
        page: &codec::PageRequest,
        filter: Option<tx::Cond>,
    ) -> Result<codec::Page<T>, StoreError> {
        let start = page
            .cursor
            .as_deref()
            .map(|c| codec::decode_cursor(c, prefix))
            .transpose()?;
        let mut query = self
            .query(Table::Main, keys::org(org))
            .begins_with(prefix)
            .limit(page.limit)
            .after(start.map(|sk| codec::key(keys::org(org), sk)));
        if let Some(filter) = filter {
            query = query.filter_where(filter);
        }
        let found = query.page::<T>().await?;
        let next_cursor = found
            .next
            .as_ref()
            .and_then(|k| codec::get_s(k, keys::SK))
            .map(codec::encode_cursor);
        let items = found.items;
        Ok(codec::Page { items, next_cursor })
    }

    /// Items `skip .. skip + take` of partition `pk` whose sort key starts with
    /// `prefix`, in sort-key order, read consistently: page-numbered lists (a page
    /// costs reading every item before it, so such lists keep their sets bounded).
    pub async fn partition_slice<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
        prefix: &str,
        skip: usize,
        take: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut found = Vec::new();
        let mut to_skip = skip;
        let mut start = None;
        while found.len() < take {
            let wanted = to_skip.saturating_add(take - found.len()).min(1000);
            let page = self
                .query(Table::Main, pk)
                .begins_with(prefix)
                .limit(i32::try_from(wanted).unwrap_or(1000))
                .after(start)
                .page_items()
                .await?;
            for item in page.items {
                if to_skip > 0 {
                    to_skip -= 1;
                } else if found.len() < take {
                    found.push(codec::from_item(item)?);
                }
            }
            match page.next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok(found)
    }

    /// The last `take` (at most 1,000) items of partition `pk` whose sort key starts
    /// with `prefix`, the last first.
    pub async fn partition_last(
        &self,
        pk: &str,
        prefix: &str,
        take: usize,
    ) -> Result<Vec<codec::Item>, StoreError> {
        Ok(self
            .query(Table::Main, pk)
            .begins_with(prefix)
            .newest_first()
            .limit(i32::try_from(take.min(1000)).unwrap_or(1000))
            .page_items()
            .await?
            .items)
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, read
    /// consistently (for checks over a bounded set, never a request's list).
    pub async fn partition_all(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<codec::Item>, StoreError> {
        self.query(Table::Main, pk)
            .begins_with(prefix)
            .all_items()
            .await
    }

    /// Every item of an org whose sort key starts with `prefix` (for sets that stay
    /// small: an org's workspaces, a member's keys), optionally filtered.
    pub async fn org_all<T: serde::de::DeserializeOwned>(
        &self,
        org: &OrgId,
        prefix: &str,
        filter: impl Fn() -> Option<tx::Cond>,
    ) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        let mut page = codec::PageRequest {
            cursor: None,
            limit: 1000,
        };
        loop {
            let found = self.org_page(org, prefix, &page, filter()).await?;
            all.extend(found.items);
            match found.next_cursor {
                Some(next) => page.cursor = Some(next),
                None => return Ok(all),
            }
        }
    }
}

/// The AWS SDK configuration for any service client. With an `endpoint` (a local
/// emulator: DynamoDB Local, moto's SQS and SSM) the client points there, and gets
/// dummy credentials and a region unless the environment has them: emulators accept
/// any, and a developer should not have to invent some. Makes no network call.
pub async fn sdk_config(aws: &Aws, endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if aws.access_key_id.is_none() {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "relinx-local",
            ));
        }
        if aws.region.is_none() {
            loader = loader.region(aws_sdk_dynamodb::config::Region::new("us-east-1"));
        }
    }
    loader.load().await
}
