//! `/api/queries`: saved analytics queries, checked on save as a run checks them.

use axum::extract::State;
use relinx_data::Scope;
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, DatalinxError};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, IdPath, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_insights::queries::{self, SavedQuery};
use relinx_insights::{QueryResult, QuerySpec};
use relinx_model::{Name, QueryId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = QueryCreate, example = json!({"name": "contacts by company", "query": {"from": "contacts", "group_by": ["company"], "metrics": ["count"]}}))]
pub struct CreateBody {
    /// Unique in the workspace.
    name: String,
    query: QuerySpec,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = QueryUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    query: Option<QuerySpec>,
}

/// A deleted saved query.
#[derive(Serialize, ToSchema)]
#[schema(as = QueryDeleted)]
pub struct Deleted {
    id: QueryId,
    deleted: bool,
}

#[utoipa::path(get, path = "/api/queries", tag = "queries", params(PageParams),
    responses((status = 200, description = "The workspace's saved queries, oldest first", body = DataPageEnvelope<SavedQuery>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<SavedQuery>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(queries::list(&platform.store, &ctx, &Scope::of(&ctx, &ws)).await?))
}

#[utoipa::path(post, path = "/api/queries", tag = "queries", request_body = CreateBody,
    responses(
        (status = 201, description = "The saved query", body = DataEnvelope<SavedQuery>),
        (status = 409, description = "A saved query with this name exists in the workspace", body = DatalinxError),
        (status = 422, description = "The query cannot run (as POST /api/analytics/query would say)", body = DatalinxError)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<SavedQuery>, ApiError> {
    let name = Name::parse("name", &body.name)?;
    idempotent(
        Data::created,
        queries::create(
            &platform.store,
            &ctx,
            &Scope::of(&ctx, &ws),
            name,
            body.query,
        ),
    )
    .await
}

#[utoipa::path(get, path = "/api/queries/{id}", tag = "queries",
    params(("id" = String, Path, description = "The saved query's id")),
    responses((status = 200, description = "The saved query", body = DataEnvelope<SavedQuery>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<QueryId>,
) -> Result<Data<SavedQuery>, ApiError> {
    Ok(Data::ok(
        queries::get(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?,
    ))
}

#[utoipa::path(put, path = "/api/queries/{id}", tag = "queries",
    params(("id" = String, Path, description = "The saved query's id")), request_body = UpdateBody,
    responses(
        (status = 200, description = "The saved query after the change", body = DataEnvelope<SavedQuery>),
        (status = 422, description = "The new query cannot run", body = DatalinxError)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<QueryId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<SavedQuery>, ApiError> {
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    let scope = Scope::of(&ctx, &ws);
    let saved = queries::update(&platform.store, &ctx, &scope, &id, name, body.query).await?;
    Ok(Data::ok(saved))
}

#[utoipa::path(delete, path = "/api/queries/{id}", tag = "queries",
    params(("id" = String, Path, description = "The saved query's id")),
    responses((status = 200, description = "Deleted", body = DataEnvelope<Deleted>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<QueryId>,
) -> Result<Data<Deleted>, ApiError> {
    let saved = queries::delete(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(Deleted {
        id: saved.id,
        deleted: true,
    }))
}

#[utoipa::path(post, path = "/api/queries/{id}/run", tag = "queries",
    params(("id" = String, Path, description = "The saved query's id")),
    responses(
        (status = 200, description = "The query's result now, as POST /api/analytics/query answers it", body = DataEnvelope<QueryResult>),
        (status = 422, description = "Past the read budget, or the query no longer fits its entity (a custom field or dataset column gone)", body = DatalinxError)))]
pub async fn run(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<QueryId>,
) -> Result<Data<QueryResult>, ApiError> {
    Ok(Data::ok(
        queries::run(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?,
    ))
}
