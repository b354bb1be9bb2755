//! `/api/schemas`: the shapes rows are mapped onto; `contact` and `record` are
//! built in.

use axum::extract::State;
use relinx_data::schema::{SchemaView, VersionView, schema_name};
use relinx_data::schemas;
use relinx_data::{SchemaRef, Scope};
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, DatalinxError};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, IdPath, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_model::FieldDef;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SchemaCreate, example = json!({"name": "customer", "fields": [
    {"name": "email", "type": "email", "required": true},
    {"name": "postal_code", "type": "string"},
    {"name": "tier", "type": "enum", "enum": ["free", "pro"]}]}))]
pub struct CreateBody {
    /// Unique in the workspace; not `contact` or `record`.
    name: String,
    /// Names `[A-Za-z_][A-Za-z0-9_]*`, at most 200 fields.
    fields: Vec<FieldDef>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SchemaUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    /// Different fields make a new version (mappings keep the one they were built on).
    #[serde(default)]
    fields: Option<Vec<FieldDef>>,
}

/// A deleted schema.
#[derive(Serialize, ToSchema)]
#[schema(as = SchemaDeleted)]
pub struct Deleted {
    id: String,
    deleted: bool,
}

#[utoipa::path(get, path = "/api/schemas", tag = "schemas", params(PageParams),
    responses((status = 200, description = "The built-in schemas (contact, record), then the workspace's own, oldest first", body = DataPageEnvelope<SchemaView>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<SchemaView>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(schemas::list(&platform.store, &ctx, &Scope::of(&ctx, &ws)).await?))
}

#[utoipa::path(post, path = "/api/schemas", tag = "schemas", request_body = CreateBody,
    responses(
        (status = 201, description = "The schema, at version 1", body = DataEnvelope<SchemaView>),
        (status = 409, description = "A schema with this name exists in the workspace", body = DatalinxError)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<SchemaView>, ApiError> {
    let name = schema_name(&body.name)?;
    idempotent(
        |s: relinx_data::schema::Schema| Data::created(s.view()),
        schemas::create(
            &platform.store,
            &ctx,
            &Scope::of(&ctx, &ws),
            name,
            body.fields,
        ),
    )
    .await
}

#[utoipa::path(get, path = "/api/schemas/{id}", tag = "schemas",
    params(("id" = String, Path, description = "The schema's id, or contact / record")),
    responses((status = 200, description = "The schema at its current version", body = DataEnvelope<SchemaView>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(what): IdPath<SchemaRef>,
) -> Result<Data<SchemaView>, ApiError> {
    let resolved = schemas::resolve(&platform.store, &ctx, &Scope::of(&ctx, &ws), &what).await?;
    Ok(Data::ok(resolved.view))
}

#[utoipa::path(put, path = "/api/schemas/{id}", tag = "schemas",
    params(("id" = String, Path, description = "The schema's id")), request_body = UpdateBody,
    responses(
        (status = 200, description = "The schema after the change", body = DataEnvelope<SchemaView>),
        (status = 409, description = "A built-in schema, or a name taken", body = DatalinxError)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(what): IdPath<SchemaRef>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<SchemaView>, ApiError> {
    let name = body.name.as_deref().map(schema_name).transpose()?;
    let scope = Scope::of(&ctx, &ws);
    let schema = schemas::update(&platform.store, &ctx, &scope, &what, name, body.fields).await?;
    Ok(Data::ok(schema.view()))
}

#[utoipa::path(delete, path = "/api/schemas/{id}", tag = "schemas",
    params(("id" = String, Path, description = "The schema's id")),
    responses(
        (status = 200, description = "Deleted", body = DataEnvelope<Deleted>),
        (status = 409, description = "A built-in schema, or one a mapping uses", body = DatalinxError)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(what): IdPath<SchemaRef>,
) -> Result<Data<Deleted>, ApiError> {
    let schema = schemas::delete(&platform.store, &ctx, &Scope::of(&ctx, &ws), &what).await?;
    Ok(Data::ok(Deleted {
        id: schema.id.to_string(),
        deleted: true,
    }))
}

#[utoipa::path(get, path = "/api/schemas/{id}/versions", tag = "schemas",
    params(("id" = String, Path, description = "The schema's id, or contact / record"), PageParams),
    responses((status = 200, description = "Every version of its fields, oldest first", body = DataPageEnvelope<VersionView>)))]
pub async fn versions(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(what): IdPath<SchemaRef>,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<VersionView>, ApiError> {
    let params = params.validate()?;
    let all = schemas::versions(&platform.store, &ctx, &Scope::of(&ctx, &ws), &what).await?;
    Ok(params.slice(all))
}
