//! `/api/audiences`: the contacts a condition holds of, kept current from the
//! event stream, rebuilt on demand, their members paged.

use axum::extract::State;
use relinx_data::Scope;
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, DatalinxError};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, IdPath, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_insights::audiences::{self, AudienceView, Member, Refreshed};
use relinx_model::{AudienceId, Name};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AudienceCreate, example = json!({"name": "Acme people", "where": "company == \"Acme\""}))]
pub struct CreateBody {
    /// Unique in the workspace.
    name: String,
    /// A condition in the expression language over the `contact` schema's fields.
    #[serde(rename = "where")]
    condition: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AudienceUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    /// A new condition: the members are rebuilt from every contact.
    #[serde(default, rename = "where")]
    condition: Option<String>,
}

/// A deleted audience.
#[derive(Serialize, ToSchema)]
#[schema(as = AudienceDeleted)]
pub struct Deleted {
    id: AudienceId,
    deleted: bool,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    /// From 1 (default 1).
    #[serde(default = "first")]
    page: u64,
    /// 1 to 200 (default 50).
    #[serde(default = "fifty")]
    page_size: u64,
    /// `true`: the contacts that left, with when they entered and left.
    #[serde(default)]
    exited: bool,
}

fn first() -> u64 {
    1
}

fn fifty() -> u64 {
    50
}

#[utoipa::path(get, path = "/api/audiences", tag = "audiences", params(PageParams),
    responses((status = 200, description = "The workspace's audiences with their sizes, oldest first", body = DataPageEnvelope<AudienceView>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<AudienceView>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(audiences::list(&platform.store, &ctx, &Scope::of(&ctx, &ws)).await?))
}

#[utoipa::path(post, path = "/api/audiences", tag = "audiences", request_body = CreateBody,
    responses(
        (status = 201, description = "The audience, built from every contact of the workspace", body = DataEnvelope<AudienceView>),
        (status = 409, description = "A name taken, or the workspace's 50 audiences reached (TOO_MANY_AUDIENCES)", body = DatalinxError),
        (status = 422, description = "A condition that does not parse over the contact's fields (the column named), or a workspace past the read budget", body = DatalinxError)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<AudienceView>, ApiError> {
    let name = Name::parse("name", &body.name)?;
    idempotent(
        Data::created,
        audiences::create(
            &platform.store,
            &ctx,
            &Scope::of(&ctx, &ws),
            name,
            body.condition,
        ),
    )
    .await
}

#[utoipa::path(get, path = "/api/audiences/{id}", tag = "audiences",
    params(("id" = String, Path, description = "The audience's id")),
    responses((status = 200, description = "The audience and its size now", body = DataEnvelope<AudienceView>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<AudienceId>,
) -> Result<Data<AudienceView>, ApiError> {
    Ok(Data::ok(
        audiences::get(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?,
    ))
}

#[utoipa::path(put, path = "/api/audiences/{id}", tag = "audiences",
    params(("id" = String, Path, description = "The audience's id")), request_body = UpdateBody,
    responses(
        (status = 200, description = "The audience after the change (rebuilt when its condition changed)", body = DataEnvelope<AudienceView>),
        (status = 422, description = "A condition that does not parse", body = DatalinxError)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<AudienceId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<AudienceView>, ApiError> {
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    let scope = Scope::of(&ctx, &ws);
    let audience =
        audiences::update(&platform.store, &ctx, &scope, &id, name, body.condition).await?;
    Ok(Data::ok(audience))
}

#[utoipa::path(delete, path = "/api/audiences/{id}", tag = "audiences",
    params(("id" = String, Path, description = "The audience's id")),
    responses((status = 200, description = "Deleted, with its members", body = DataEnvelope<Deleted>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<AudienceId>,
) -> Result<Data<Deleted>, ApiError> {
    let audience = audiences::delete(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(Deleted {
        id: audience.id,
        deleted: true,
    }))
}

#[utoipa::path(post, path = "/api/audiences/{id}/refresh", tag = "audiences",
    params(("id" = String, Path, description = "The audience's id")),
    responses(
        (status = 200, description = "Every contact judged again: how many entered and left, the size after", body = DataEnvelope<Refreshed>),
        (status = 422, description = "The workspace's contacts are past the read budget", body = DatalinxError)))]
pub async fn refresh(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<AudienceId>,
) -> Result<Data<Refreshed>, ApiError> {
    Ok(Data::ok(
        audiences::refresh(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?,
    ))
}

#[utoipa::path(get, path = "/api/audiences/{id}/members", tag = "audiences",
    params(("id" = String, Path, description = "The audience's id"), MemberParams),
    responses((status = 200, description = "A page of its members by contact id (`total_items` is the size), or with `exited=true` of the contacts that left", body = DataPageEnvelope<Member>)))]
pub async fn members(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<AudienceId>,
    QueryParams(params): QueryParams<MemberParams>,
) -> Result<DataPage<Member>, ApiError> {
    let page = PageParams {
        page: params.page,
        page_size: params.page_size,
    }
    .validate()?;
    let skip =
        usize::try_from((page.page - 1).saturating_mul(page.page_size)).unwrap_or(usize::MAX);
    let take = usize::try_from(page.page_size).unwrap_or(50);
    let (found, size) = audiences::members(
        &platform.store,
        &ctx,
        &Scope::of(&ctx, &ws),
        &id,
        params.exited,
        (skip, take),
    )
    .await?;
    let total = size.unwrap_or_else(|| {
        // Exits are not counted: the total is what this page shows past the skip.
        (skip + found.len()) as u64
    });
    Ok(page.page_of(found, total))
}
