//! `/api/organizations` (Datalinx envelope): the caller's one org.

use axum::extract::State;
use relinx_http::respond::{Data, DataPage, PageParams};
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform, QueryParams};
use relinx_model::{Name, OrgId, Plan};
use relinx_store::orgs::{self, OrgPatch, SignupPolicy};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<Value>, ApiError> {
    let params = params.validate()?;
    let org = orgs::get(&platform.store, &caller.ctx.org_id).await?;
    Ok(params.slice(vec![orgs::view(&org)]))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    plan: Option<String>,
}

pub async fn update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<Value>, ApiError> {
    let id = OrgId::parse(&id).ok_or_else(|| ApiError::not_found("organization"))?;
    let patch = OrgPatch {
        name: body
            .name
            .as_deref()
            .map(|n| Name::parse("name", n))
            .transpose()?,
        plan: body
            .plan
            .map(|raw| Plan::parse_field("plan", &raw))
            .transpose()?,
        limits_override: None,
    };
    let policy = SignupPolicy {
        open: platform.settings.signup_open,
        plan_selection: platform.settings.plan_selection,
    };
    let org = orgs::update(&platform.store, &caller.ctx, &id, patch, policy).await?;
    Ok(Data::ok(orgs::view(&org)))
}
