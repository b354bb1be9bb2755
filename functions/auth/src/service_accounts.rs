//! `/api/service-accounts` (Datalinx envelope): identities for machines and their keys.

use axum::extract::State;
use relinx_http::respond::{Data, DataPage, PageParams};
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform, QueryParams};
use relinx_identity::service_accounts::{self, NewAccountKey, NewServiceAccount};
use relinx_model::{Name, ServiceAccount, ServiceAccountId, Timestamp, WorkspaceId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

fn account_id(raw: &str) -> Result<ServiceAccountId, ApiError> {
    ServiceAccountId::parse(raw).ok_or_else(|| ApiError::not_found("service account"))
}

pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<ServiceAccount>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(service_accounts::list(&platform.store, &caller.ctx).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    role: String,
    #[serde(default)]
    workspace_id: Option<WorkspaceId>,
}

pub async fn create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<ServiceAccount>, ApiError> {
    let new = NewServiceAccount {
        name: Name::parse("name", &body.name)?,
        role: body.role,
        workspace_id: body.workspace_id,
    };
    Ok(Data::created(
        service_accounts::create(&platform.store, &caller.ctx, new).await?,
    ))
}

pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Data<Value>, ApiError> {
    let account = service_accounts::delete(&platform.store, &caller.ctx, &account_id(&id)?).await?;
    Ok(Data::ok(json!({"id": account.id, "deleted": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    expires_at: Option<Timestamp>,
}

/// The key appears in this response only.
pub async fn create_key(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody<KeyBody>,
) -> Result<Data<Value>, ApiError> {
    let name = Name::parse(
        "name",
        body.name.as_deref().unwrap_or("service account key"),
    )?;
    let new = NewAccountKey {
        name,
        role: body.role,
        expires_at: body.expires_at,
    };
    let (meta, secret) =
        service_accounts::create_key(&platform.store, &caller.ctx, &account_id(&id)?, new).await?;
    Ok(Data::created(crate::keys::with_secret(&meta, &secret)))
}
