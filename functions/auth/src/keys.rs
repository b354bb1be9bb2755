//! `/v1/api-keys`: list, create, rotate, delete. The key itself appears only in the
//! create and rotate responses.

use axum::Json;
use axum::extract::State;
use relinx_auth::SecretKey;
use relinx_http::respond::{Created, CursorList, CursorParams};
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform, QueryParams};
use relinx_identity::api_keys::{self, CreateKey};
use relinx_model::{ApiKey, ApiKeyId, Name, Timestamp, WorkspaceId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// A key with its secret, as shown once.
pub(crate) fn with_secret(meta: &ApiKey, secret: &SecretKey) -> Value {
    let mut body = serde_json::to_value(meta).unwrap_or_else(|_| json!({}));
    if let Some(map) = body.as_object_mut() {
        map.insert("key".into(), Value::String(secret.expose().to_owned()));
    }
    body
}

fn key_id(raw: &str) -> Result<ApiKeyId, ApiError> {
    ApiKeyId::parse(raw).ok_or_else(|| ApiError::not_found("API key"))
}

pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<CursorParams>,
) -> Result<CursorList<ApiKey>, ApiError> {
    let page = api_keys::list(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    workspace_id: Option<WorkspaceId>,
    #[serde(default)]
    expires_at: Option<Timestamp>,
}

pub async fn create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Created<Value>, ApiError> {
    let request = CreateKey {
        name: Name::parse("name", &body.name)?,
        role: body.role,
        workspace_id: body.workspace_id,
        expires_at: body.expires_at,
    };
    let (meta, secret) = api_keys::create(&platform.store, &caller.ctx, request).await?;
    Ok(Created(with_secret(&meta, &secret)))
}

pub async fn rotate(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Value>, ApiError> {
    let (meta, secret) = api_keys::rotate(&platform.store, &caller.ctx, &key_id(&id)?).await?;
    Ok(Json(with_secret(&meta, &secret)))
}

pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Value>, ApiError> {
    let meta = api_keys::delete(&platform.store, &caller.ctx, &key_id(&id)?).await?;
    Ok(Json(json!({"id": meta.id, "deleted": true})))
}
