//! `POST /api/analytics/query`: a query checked ([`prepare`]), then run
//! ([`execute`]): the entity walked by its owner's reader under the read budget
//! (`RELINX_QUERY_READ_BUDGET`), its rows streamed through the aggregation.

use crate::aggregate::Aggregation;
use crate::entity::{self, Entity};
use crate::plan::Plan;
use crate::spec::QuerySpec;
use relinx_ddb::{ReadBudget, Store, StoreError};
use relinx_model::{Context, Permission, Resource, Timestamp, WorkspaceId};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// What a query answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"columns": ["company", "count"], "rows": [["Acme", 2], ["Virtucon", 3]], "stats": {"items_read": 5, "groups": 2, "ms": 4, "computed_at": "2026-12-06T10:00:00.000Z"}}))]
pub struct QueryResult {
    pub columns: Vec<String>,
    /// One array a group: its group values, then its metrics, in `columns` order.
    #[schema(schema_with = any_rows)]
    pub rows: Vec<Vec<Value>>,
    pub stats: QueryStats,
}

/// In the OpenAPI document: arrays of any JSON values (a group value is text, a
/// number, a boolean or null; a metric a number or null).
fn any_rows() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType};
    ArrayBuilder::new()
        .items(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(SchemaType::AnyValue)))
        .build()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryStats {
    /// Items read from the store (those the range or `where` dropped included).
    pub items_read: u64,
    /// Groups found (`rows` holds at most `limit` of them).
    pub groups: usize,
    pub ms: u64,
    /// When the rows were read: a result is as of then.
    pub computed_at: Timestamp,
}

/// The query checked against what its entity offers in workspace `ws`: every 422
/// a run would give for its shape, without reading the data.
pub async fn prepare(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    spec: &QuerySpec,
) -> Result<Plan, StoreError> {
    let entity = Entity::parse(&spec.from)?;
    let fields = entity::fields(store, ctx, ws, &entity).await?;
    Plan::new(spec, entity, fields)
}

/// Runs a checked query.
pub async fn execute(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    plan: &Plan,
) -> Result<QueryResult, StoreError> {
    let started = std::time::Instant::now();
    let computed_at = Timestamp::now();
    let mut budget = ReadBudget::new(store.config().data.query_read_budget);
    let mut aggregation = Aggregation::new(plan);
    let keyed = plan
        .window
        .as_ref()
        .filter(|w| w.keyed)
        .map(|w| (w.from, w.to));
    entity::walk(
        store,
        ctx,
        ws,
        (&plan.entity, &plan.fields),
        keyed,
        &mut budget,
        &mut |row| {
            aggregation.add(&row);
            Ok(())
        },
    )
    .await?;
    let (rows, groups) = aggregation.finish();
    Ok(QueryResult {
        columns: plan.columns(),
        rows,
        stats: QueryStats {
            items_read: budget.read(),
            groups,
            ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            computed_at,
        },
    })
}

/// `POST /api/analytics/query`: needs `analytics:read`, and the read permission of
/// the entity it reads.
pub async fn query(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    spec: &QuerySpec,
) -> Result<QueryResult, StoreError> {
    ctx.require(Permission::read(Resource::Analytics))?;
    let plan = prepare(store, ctx, ws, spec).await?;
    execute(store, ctx, ws, &plan).await
}
