//! `/api/roles` (Datalinx envelope): the built-in roles, read-only, and the org's
//! custom ones.

use axum::extract::State;
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope};
use relinx_http::respond::{Data, DataPage, PageParams};
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform, QueryParams};
use relinx_identity::roles::{self, NewRole, RolePatch};
use relinx_model::{Patch, Role};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "data-engineer", "permissions": ["sources:read", "sources:write", "pipelines:write"], "description": "Builds pipelines"}))]
#[schema(as = RoleCreate)]
pub struct CreateBody {
    /// 2 to 40 lower-case letters, digits, `_` or `-`, starting with a letter.
    #[schema(pattern = "^[a-z][a-z0-9_-]{1,39}$")]
    name: String,
    permissions: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RoleUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    permissions: Option<Vec<String>>,
    /// Text sets it; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    description: Patch<String>,
}

/// A deleted custom role.
#[derive(Serialize, ToSchema)]
pub struct DeletedRole {
    name: String,
    deleted: bool,
}

#[utoipa::path(get, path = "/api/roles", tag = "roles", params(PageParams), responses((status = 200, description = "The built-in roles, then the org's own", body = DataPageEnvelope<Role>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<Role>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(roles::list(&platform.store, &caller.ctx).await?))
}

#[utoipa::path(post, path = "/api/roles", tag = "roles", request_body = CreateBody, responses((status = 201, description = "The role", body = DataEnvelope<Role>)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<Role>, ApiError> {
    let new = NewRole {
        name: body.name,
        permissions: body.permissions,
        description: body.description,
    };
    Ok(Data::created(
        roles::create(&platform.store, &caller.ctx, new).await?,
    ))
}

#[utoipa::path(get, path = "/api/roles/{name}", tag = "roles", params(("name" = String, Path, description = "The role's name")), responses((status = 200, description = "The role", body = DataEnvelope<Role>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<Role>, ApiError> {
    Ok(Data::ok(
        roles::get(&platform.store, &caller.ctx, &name).await?,
    ))
}

#[utoipa::path(put, path = "/api/roles/{name}", tag = "roles", params(("name" = String, Path, description = "The role's name")), request_body = UpdateBody, responses((status = 200, description = "The role after the change; every holder's permissions change with it", body = DataEnvelope<Role>)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<Role>, ApiError> {
    let patch = RolePatch {
        permissions: body.permissions,
        description: body.description,
    };
    Ok(Data::ok(
        roles::update(&platform.store, &caller.ctx, &name, patch).await?,
    ))
}

#[utoipa::path(delete, path = "/api/roles/{name}", tag = "roles", params(("name" = String, Path, description = "The role's name")), responses((status = 200, description = "Deleted (a role still held is a 409)", body = DataEnvelope<DeletedRole>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<DeletedRole>, ApiError> {
    roles::delete(&platform.store, &caller.ctx, &name).await?;
    Ok(Data::ok(DeletedRole {
        name,
        deleted: true,
    }))
}
