//! Workspaces on two surfaces: `/v1/workspaces/{id}` (platform envelope) and
//! `/api/workspaces/{name}` (Datalinx envelope). Both call the same operations.

use axum::Json;
use axum::extract::State;
use relinx_http::respond::{Created, CursorList, CursorParams, Data, DataPage, PageParams};
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform, QueryParams};
use relinx_identity::workspaces::{self, NewWorkspace, WorkspacePatch};
use relinx_model::{Name, Patch, Workspace, WorkspaceId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    config: Option<serde_json::Map<String, Value>>,
}

impl CreateBody {
    fn into_new(self) -> Result<NewWorkspace, ApiError> {
        Ok(NewWorkspace {
            name: Name::parse("name", &self.name)?,
            read_only: self.read_only,
            config: self.config.map(Value::Object),
        })
    }
}

/// PUT behaves like PATCH: absent fields stay, `"config": null` clears.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    read_only: Option<bool>,
    #[serde(default)]
    config: Patch<serde_json::Map<String, Value>>,
}

impl UpdateBody {
    fn into_patch(self) -> Result<WorkspacePatch, ApiError> {
        Ok(WorkspacePatch {
            name: self
                .name
                .as_deref()
                .map(|n| Name::parse("name", n))
                .transpose()?,
            read_only: self.read_only,
            config: self.config.map(Value::Object),
        })
    }
}

fn workspace_id(raw: &str) -> Result<WorkspaceId, ApiError> {
    WorkspaceId::parse(raw).ok_or_else(|| ApiError::not_found("workspace"))
}

pub async fn v1_list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<CursorParams>,
) -> Result<CursorList<Workspace>, ApiError> {
    let page = workspaces::list(
        &platform.store,
        &caller.ctx,
        params.cursor.as_deref(),
        params.limit()?,
    )
    .await?;
    Ok(CursorList {
        data: page.items,
        next_cursor: page.next_cursor,
    })
}

pub async fn v1_create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Created<Workspace>, ApiError> {
    let ws = workspaces::create(&platform.store, &caller.ctx, body.into_new()?).await?;
    Ok(Created(ws))
}

pub async fn v1_get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Workspace>, ApiError> {
    Ok(Json(
        workspaces::get(&platform.store, &caller.ctx, &workspace_id(&id)?).await?,
    ))
}

pub async fn v1_update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Workspace>, ApiError> {
    let ws = workspaces::update(
        &platform.store,
        &caller.ctx,
        &workspace_id(&id)?,
        body.into_patch()?,
    )
    .await?;
    Ok(Json(ws))
}

pub async fn v1_delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Value>, ApiError> {
    let ws = workspaces::delete(&platform.store, &caller.ctx, &workspace_id(&id)?).await?;
    Ok(Json(json!({"id": ws.id, "deleted": true})))
}

pub async fn api_list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<Workspace>, ApiError> {
    let params = params.validate()?;
    let all = workspaces::list_all(&platform.store, &caller.ctx).await?;
    Ok(params.slice(all))
}

pub async fn api_create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<Workspace>, ApiError> {
    let ws = workspaces::create(&platform.store, &caller.ctx, body.into_new()?).await?;
    Ok(Data::created(ws))
}

pub async fn api_get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<Workspace>, ApiError> {
    Ok(Data::ok(
        workspaces::get_by_name(&platform.store, &caller.ctx, &name).await?,
    ))
}

pub async fn api_update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<Workspace>, ApiError> {
    let id = workspaces::id_by_name(&platform.store, &caller.ctx, &name).await?;
    let ws = workspaces::update(&platform.store, &caller.ctx, &id, body.into_patch()?).await?;
    Ok(Data::ok(ws))
}

pub async fn api_delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<Value>, ApiError> {
    let id = workspaces::id_by_name(&platform.store, &caller.ctx, &name).await?;
    let ws = workspaces::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Data::ok(
        json!({"id": ws.id, "name": ws.name, "deleted": true}),
    ))
}
