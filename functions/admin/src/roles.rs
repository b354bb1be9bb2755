//! `/api/roles` (Datalinx envelope): the built-in roles, read-only, and the org's
//! custom ones.

use axum::extract::State;
use relinx_http::respond::{Data, DataPage, PageParams};
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform, QueryParams};
use relinx_identity::roles::{self, NewRole, RolePatch};
use relinx_model::{Patch, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    permissions: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    description: Patch<String>,
}

pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<Role>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(roles::list(&platform.store, &caller.ctx).await?))
}

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

pub async fn get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<Role>, ApiError> {
    Ok(Data::ok(
        roles::get(&platform.store, &caller.ctx, &name).await?,
    ))
}

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

pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<Value>, ApiError> {
    roles::delete(&platform.store, &caller.ctx, &name).await?;
    Ok(Data::ok(json!({"name": name, "deleted": true})))
}
