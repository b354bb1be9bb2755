//! `/api/organizations` (Datalinx envelope): the caller's one org.

use axum::extract::State;
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope};
use relinx_http::respond::{Data, DataPage, PageParams};
use relinx_http::{ApiError, Caller, JsonBody, PathParam, Platform, QueryParams};
use relinx_identity::orgs::{self, OrgPatch, SignupPolicy};
use relinx_model::{Name, Org, OrgId, Plan};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/organizations", tag = "organizations", params(PageParams), responses((status = 200, description = "The caller's one organization", body = DataPageEnvelope<Org>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<Org>, ApiError> {
    let params = params.validate()?;
    let org = orgs::get_view(&platform.store, &caller.ctx).await?;
    Ok(params.slice(vec![org]))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrganizationUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    plan: Option<String>,
}

#[utoipa::path(put, path = "/api/organizations/{id}", tag = "organizations", params(("id" = String, Path, description = "The org id, `org_…`")), request_body = UpdateBody, responses((status = 200, description = "The organization after the change", body = DataEnvelope<Org>)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<Org>, ApiError> {
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
    Ok(Data::ok(
        orgs::update(&platform.store, &caller.ctx, &id, patch, policy).await?,
    ))
}
