//! Saved queries (`/api/queries`): a name and a query, checked on every save the
//! way a run checks it (the same 422s), kept in the workspace's Datalinx partition
//! with its name unique there (`relinx_data::named`).

use crate::analytics::{self, QueryResult};
use crate::spec::QuerySpec;
use relinx_data::Scope;
use relinx_data::named::Named;
use relinx_ddb::keys::insights as ik;
use relinx_ddb::tx::Tx;
use relinx_ddb::versioned::Changed;
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, EventSubject, Name, Permission, QueryId, Resource, Timestamp,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const WHAT: &str = "query";

/// A saved query as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SavedQuery)]
pub struct SavedQuery {
    pub id: QueryId,
    pub name: String,
    pub query: QuerySpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Named for SavedQuery {
    const PREFIX: &'static str = ik::QUERY;
    const NAME_PREFIX: &'static str = ik::QUERY_NAME;
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: &Name) {
        self.name = name.to_string();
    }
}

impl EventSubject for SavedQuery {
    const KIND: &'static str = "query";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        relinx_model::event::data_of(self)
    }
}

pub async fn create(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    name: Name,
    query: QuerySpec,
) -> Result<SavedQuery, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Queries), WHAT)?;
    analytics::prepare(store, ctx, &scope.workspace, &query).await?;
    let now = Timestamp::now();
    let saved = SavedQuery {
        id: QueryId::generate(),
        name: name.to_string(),
        query,
        created_at: now,
        updated_at: now,
    };
    let mut tx = Tx::new();
    scope.stage_new(&mut tx, store, &saved)?;
    scope.stage_change(&mut tx, store, ctx, EventName::QueryCreated, &saved);
    tx.answer(store, &saved);
    tx.commit(store).await?;
    Ok(saved)
}

/// Every saved query of the workspace, oldest first.
pub async fn list(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
) -> Result<Vec<SavedQuery>, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Queries), WHAT)?;
    scope.all(store).await
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &QueryId,
) -> Result<SavedQuery, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Queries), WHAT)?;
    scope.get(store, id.as_str()).await
}

/// Renames it, or replaces its query (checked first, as on create).
pub async fn update(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &QueryId,
    name: Option<Name>,
    query: Option<QuerySpec>,
) -> Result<SavedQuery, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Queries), WHAT)?;
    if let Some(query) = &query {
        analytics::prepare(store, ctx, &scope.workspace, query).await?;
    }
    scope
        .modify(store, id.as_str(), |mut saved: SavedQuery, mut tx: Tx| {
            let (name, query) = (&name, &query);
            async move {
                if let Some(name) = name {
                    scope.stage_rename(&mut tx, store, &mut saved, name);
                }
                if let Some(query) = query {
                    saved.query = query.clone();
                }
                saved.updated_at = Timestamp::now();
                scope.stage_change(&mut tx, store, ctx, EventName::QueryUpdated, &saved);
                tx.answer(store, &saved);
                Ok(Changed::put(tx, saved.clone(), saved))
            }
        })
        .await
}

pub async fn delete(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &QueryId,
) -> Result<SavedQuery, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Queries), WHAT)?;
    scope
        .modify(
            store,
            id.as_str(),
            |saved: SavedQuery, mut tx: Tx| async move {
                scope.stage_release(&mut tx, store, &saved);
                scope.stage_change(&mut tx, store, ctx, EventName::QueryDeleted, &saved);
                Ok(Changed::delete(tx, saved))
            },
        )
        .await
}

/// `POST /api/queries/{id}/run`: the saved query run now (needs `queries:read` and
/// the read permission of the entity it reads; it writes nothing).
pub async fn run(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &QueryId,
) -> Result<QueryResult, StoreError> {
    let saved = get(store, ctx, scope, id).await?;
    let plan = analytics::prepare(store, ctx, &scope.workspace, &saved.query).await?;
    analytics::execute(store, ctx, &scope.workspace, &plan).await
}
