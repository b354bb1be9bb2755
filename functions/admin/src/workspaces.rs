//! Workspaces on two surfaces: `/v1/workspaces/{id}` (platform envelope) and
//! `/api/workspaces/{name}` (Datalinx envelope). Both call the same operations.

use axum::Json;
use axum::extract::State;
use relinx_http::openapi::{CursorPage, DataEnvelope, DataPageEnvelope, Deleted};
use relinx_http::respond::{
    Created, CursorList, CursorParams, Data, DataPage, PageParams, idempotent,
};
use relinx_http::{ApiError, Caller, IdPath, JsonBody, PathParam, Platform, QueryParams};
use relinx_identity::workspaces::{self, NewWorkspace, WorkspacePatch};
use relinx_model::{Name, Patch, Workspace, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "my-workspace", "config": {"description": "Production workspace"}}))]
#[schema(as = WorkspaceCreate)]
pub struct CreateBody {
    /// Unique in the org, compared as a person reads it.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[serde(default)]
    read_only: bool,
    /// Free settings (a description, …): any JSON object.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
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
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WorkspaceUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    read_only: Option<bool>,
    /// An object replaces the settings; `null` clears them.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
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

/// A deleted workspace, by name too (Datalinx addresses it by name).
#[derive(Serialize, ToSchema)]
pub struct DeletedWorkspace {
    id: WorkspaceId,
    name: String,
    deleted: bool,
}

#[utoipa::path(get, path = "/v1/workspaces", tag = "workspaces", params(CursorParams), responses((status = 200, description = "The org's workspaces (a scoped caller: its own)", body = CursorPage<Workspace>)))]
pub async fn v1_list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<CursorParams>,
) -> Result<CursorList<Workspace>, ApiError> {
    Ok(
        workspaces::list(&platform.store, &caller.ctx, &params.page()?)
            .await?
            .into(),
    )
}

#[utoipa::path(post, path = "/v1/workspaces", tag = "workspaces", request_body = CreateBody, responses((status = 201, description = "The workspace", body = Workspace)))]
pub async fn v1_create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Created<Workspace>, ApiError> {
    idempotent(
        Created,
        workspaces::create(&platform.store, &caller.ctx, body.into_new()?),
    )
    .await
}

#[utoipa::path(get, path = "/v1/workspaces/{id}", tag = "workspaces", params(("id" = String, Path, description = "The workspace id, `ws_…`")), responses((status = 200, description = "The workspace", body = Workspace)))]
pub async fn v1_get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WorkspaceId>,
) -> Result<Json<Workspace>, ApiError> {
    Ok(Json(
        workspaces::get(&platform.store, &caller.ctx, &id).await?,
    ))
}

#[utoipa::path(put, path = "/v1/workspaces/{id}", tag = "workspaces", params(("id" = String, Path, description = "The workspace id, `ws_…`")), request_body = UpdateBody, responses((status = 200, description = "The workspace after the change (PUT behaves like PATCH)", body = Workspace)))]
pub async fn v1_update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WorkspaceId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Workspace>, ApiError> {
    let ws = workspaces::update(&platform.store, &caller.ctx, &id, body.into_patch()?).await?;
    Ok(Json(ws))
}

#[utoipa::path(delete, path = "/v1/workspaces/{id}", tag = "workspaces", params(("id" = String, Path, description = "The workspace id, `ws_…`")), responses((status = 200, description = "Deleted for good; its events stay in the log", body = Deleted)))]
pub async fn v1_delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WorkspaceId>,
) -> Result<Json<Deleted>, ApiError> {
    let ws = workspaces::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Json(Deleted {
        id: ws.id.to_string(),
        deleted: true,
    }))
}

#[utoipa::path(get, path = "/api/workspaces", tag = "workspaces", params(PageParams), responses((status = 200, description = "The org's workspaces", body = DataPageEnvelope<Workspace>)))]
pub async fn api_list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<Workspace>, ApiError> {
    let params = params.validate()?;
    let all = workspaces::list_all(&platform.store, &caller.ctx).await?;
    Ok(params.slice(all))
}

#[utoipa::path(post, path = "/api/workspaces", tag = "workspaces", request_body = CreateBody, responses((status = 201, description = "The workspace", body = DataEnvelope<Workspace>)))]
pub async fn api_create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<Workspace>, ApiError> {
    idempotent(
        Data::created,
        workspaces::create(&platform.store, &caller.ctx, body.into_new()?),
    )
    .await
}

#[utoipa::path(get, path = "/api/workspaces/{name}", tag = "workspaces", params(("name" = String, Path, description = "The workspace name (seed 003 addresses workspaces by name)")), responses((status = 200, description = "The workspace", body = DataEnvelope<Workspace>)))]
pub async fn api_get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<Workspace>, ApiError> {
    Ok(Data::ok(
        workspaces::get_by_name(&platform.store, &caller.ctx, &name).await?,
    ))
}

#[utoipa::path(put, path = "/api/workspaces/{name}", tag = "workspaces", params(("name" = String, Path, description = "The workspace name")), request_body = UpdateBody, responses((status = 200, description = "The workspace after the change", body = DataEnvelope<Workspace>)))]
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

#[utoipa::path(delete, path = "/api/workspaces/{name}", tag = "workspaces", params(("name" = String, Path, description = "The workspace name")), responses((status = 200, description = "Deleted for good", body = DataEnvelope<DeletedWorkspace>)))]
pub async fn api_delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Data<DeletedWorkspace>, ApiError> {
    let id = workspaces::id_by_name(&platform.store, &caller.ctx, &name).await?;
    let ws = workspaces::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Data::ok(DeletedWorkspace {
        id: ws.id,
        name: ws.name,
        deleted: true,
    }))
}
