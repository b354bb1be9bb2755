//! `/v1/api-keys`: list, create, rotate, delete. The key itself appears only in the
//! create and rotate responses.

use axum::Json;
use axum::extract::State;
use relinx_auth::SecretKey;
use relinx_http::openapi::{CursorPage, Deleted};
use relinx_http::respond::{Created, CursorList, CursorParams, idempotent};
use relinx_http::{ApiError, Caller, IdPath, JsonBody, Platform, QueryParams};
use relinx_identity::api_keys::{self, CreateKey};
use relinx_model::{ApiKey, ApiKeyId, Name, Timestamp, WorkspaceId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A key with its secret, as shown once (at creation and rotation).
#[derive(Serialize, ToSchema)]
pub struct IssuedKey {
    #[serde(flatten)]
    meta: ApiKey,
    /// The whole key, `{id}.{secret}`: shown in this response only.
    key: String,
}

impl IssuedKey {
    pub(crate) fn new(meta: ApiKey, secret: &SecretKey) -> Self {
        Self {
            meta,
            key: secret.expose().to_owned(),
        }
    }
}

#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", params(CursorParams),
    responses((status = 200, description = "The org's keys (a scoped caller: its workspace's), never their secrets", body = CursorPage<ApiKey>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<CursorParams>,
) -> Result<CursorList<ApiKey>, ApiError> {
    Ok(
        api_keys::list(&platform.store, &caller.ctx, &params.page()?)
            .await?
            .into(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "CI deploys", "role": "operator"}))]
#[schema(as = KeyCreate)]
pub struct CreateBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// A built-in or custom role no higher than the caller's (default: the caller's).
    #[serde(default)]
    role: Option<String>,
    /// Confine the key to one workspace.
    #[serde(default)]
    workspace_id: Option<WorkspaceId>,
    #[serde(default)]
    expires_at: Option<Timestamp>,
}

#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = CreateBody,
    responses((status = 201, description = "The key, with its secret shown once", body = IssuedKey)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Created<IssuedKey>, ApiError> {
    let request = CreateKey {
        name: Name::parse("name", &body.name)?,
        role: body.role,
        workspace_id: body.workspace_id,
        expires_at: body.expires_at,
    };
    idempotent(
        |(meta, secret)| Created(IssuedKey::new(meta, &secret)),
        api_keys::create(&platform.store, &caller.ctx, request),
    )
    .await
}

#[utoipa::path(post, path = "/v1/api-keys/{id}/rotate", tag = "api-keys",
    params(("id" = String, Path, description = "The key's id (the part before the dot)")),
    responses((status = 200, description = "The same key id with a new secret, shown once; the old secret stops working", body = IssuedKey)))]
pub async fn rotate(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<ApiKeyId>,
) -> Result<Json<IssuedKey>, ApiError> {
    idempotent(
        |(meta, secret)| Json(IssuedKey::new(meta, &secret)),
        api_keys::rotate(&platform.store, &caller.ctx, &id),
    )
    .await
}

#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 200, description = "Revoked for good", body = Deleted)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<ApiKeyId>,
) -> Result<Json<Deleted>, ApiError> {
    let meta = api_keys::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Json(Deleted {
        id: meta.id.to_string(),
        deleted: true,
    }))
}
