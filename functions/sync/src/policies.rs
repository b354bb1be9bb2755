//! `/v1/policies` (seed 002): the org's sync policies.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relinx_http::openapi::Deleted;
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform};
use relinx_records::policies::{self, Policy, PolicyInput};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PolicySave, example = json!({"name": "defer_media", "when": "size>5120", "then": "queue=wifi"}))]
pub struct SaveBody {
    /// 1 to 64 of letters, digits, `_`, `-`, `.`; saving an existing name replaces it.
    name: String,
    /// An expression over the record (`size`, `type`, `site`, `status`, `title`,
    /// `queue`, `priority`, `data.*`) with `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`,
    /// `||`, `!`, parentheses, string and number literals.
    when: String,
    /// `key=value` pairs separated by `,` or `;`: `queue=<name>`, `priority=low|normal|high|urgent`.
    then: String,
    /// Lower runs first (default 100); ties by name.
    #[serde(default)]
    priority: Option<i64>,
}

/// The org's policies, in the order they apply.
#[derive(Serialize, ToSchema)]
#[schema(as = PolicyList)]
pub struct PolicyList {
    data: Vec<Policy>,
}

#[utoipa::path(get, path = "/v1/policies", tag = "policies", responses((status = 200, description = "The org's sync policies, in the order they apply", body = PolicyList)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
) -> Result<Json<PolicyList>, ApiError> {
    let data = policies::list(&platform.store, &caller.ctx).await?;
    Ok(Json(PolicyList { data }))
}

#[utoipa::path(post, path = "/v1/policies", tag = "policies", request_body = SaveBody, responses((status = 201, description = "The policy, created", body = Policy), (status = 200, description = "The policy, replacing the one of that name", body = Policy)))]
pub async fn save(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<SaveBody>,
) -> Result<(StatusCode, Json<Policy>), ApiError> {
    let (policy, created) = policies::save(
        &platform.store,
        &caller.ctx,
        PolicyInput::new(&body.name, &body.when, &body.then, body.priority)?,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(policy)))
}

#[utoipa::path(delete, path = "/v1/policies/{name}", tag = "policies", params(("name" = String, Path, description = "The policy's name")), responses((status = 200, description = "Deleted; its events stay in the log", body = Deleted)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(name): PathParam,
) -> Result<Json<Deleted>, ApiError> {
    policies::delete(&platform.store, &caller.ctx, &name).await?;
    Ok(Json(Deleted {
        id: name,
        deleted: true,
    }))
}
