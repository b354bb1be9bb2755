//! `/api/service-accounts` (Datalinx envelope): identities for machines and their keys.

use crate::keys::IssuedKey;
use axum::extract::State;
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, Deleted};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, Caller, IdPath, JsonBody, Platform, QueryParams};
use relinx_identity::service_accounts::{self, NewAccountKey, NewServiceAccount};
use relinx_model::{Name, ServiceAccount, ServiceAccountId, Timestamp, WorkspaceId};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/service-accounts", tag = "service-accounts", params(PageParams),
    responses((status = 200, description = "The org's service accounts", body = DataPageEnvelope<ServiceAccount>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<ServiceAccount>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(service_accounts::list(&platform.store, &caller.ctx).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "etl-service", "role": "operator"}))]
#[schema(as = ServiceAccountCreate)]
pub struct CreateBody {
    /// Unique in the org.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    role: String,
    /// Confine the account (and its keys) to one workspace.
    #[serde(default)]
    workspace_id: Option<WorkspaceId>,
}

#[utoipa::path(post, path = "/api/service-accounts", tag = "service-accounts", request_body = CreateBody,
    responses((status = 201, description = "The account", body = DataEnvelope<ServiceAccount>)))]
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
    idempotent(
        Data::created,
        service_accounts::create(&platform.store, &caller.ctx, new),
    )
    .await
}

#[utoipa::path(delete, path = "/api/service-accounts/{id}", tag = "service-accounts",
    params(("id" = String, Path, description = "The account's id, `sa_…`")),
    responses((status = 200, description = "Deleted, with its keys and tokens", body = DataEnvelope<Deleted>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<ServiceAccountId>,
) -> Result<Data<Deleted>, ApiError> {
    let account = service_accounts::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Data::ok(Deleted {
        id: account.id.to_string(),
        deleted: true,
    }))
}

/// Every field is optional: a POST without a body mints a key with the account's role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ServiceAccountKeyCreate)]
pub struct KeyBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    expires_at: Option<Timestamp>,
}

/// The key appears in this response only.
#[utoipa::path(post, path = "/api/service-accounts/{id}/keys", tag = "service-accounts",
    params(("id" = String, Path, description = "The account's id, `sa_…`")),
    request_body(content = Option<KeyBody>, description = "Optional: name, a role no higher than the account's, expiry"),
    responses((status = 201, description = "A key for the account, shown once", body = DataEnvelope<IssuedKey>)))]
pub async fn create_key(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<ServiceAccountId>,
    JsonBody(body): JsonBody<KeyBody>,
) -> Result<Data<IssuedKey>, ApiError> {
    let name = Name::parse(
        "name",
        body.name.as_deref().unwrap_or("service account key"),
    )?;
    let new = NewAccountKey {
        name,
        role: body.role,
        expires_at: body.expires_at,
    };
    idempotent(
        |(meta, secret)| Data::created(IssuedKey::new(meta, &secret)),
        service_accounts::create_key(&platform.store, &caller.ctx, &id, new),
    )
    .await
}
