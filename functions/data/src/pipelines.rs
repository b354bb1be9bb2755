//! `/api/pipelines`: a source, through a mapping, into contacts, records or a
//! dataset, on demand or on a schedule.

use axum::extract::State;
use relinx_data::Scope;
use relinx_data::pipeline::{Destination, Mode, Pipeline, PipelineView};
use relinx_data::pipelines::{self, NewPipeline, PipelineChange};
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, DatalinxError};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, IdPath, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_model::{MappingId, Name, Patch, PipelineId, SourceId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PipelineCreate, example = json!({"name": "crm import", "source_id": "src_01JD8Z2X4Q7V3N5K9M2B6C8D0E",
    "mapping_id": "map_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "destination": {"kind": "contacts", "key": "emails"}, "mode": "upsert", "schedule": "rate(1 hour)"}))]
pub struct CreateBody {
    name: String,
    source_id: SourceId,
    /// A mapping built on `source_id`, onto the schema the destination takes
    /// (`contact` for contacts, `record` for records, any for a dataset).
    mapping_id: MappingId,
    destination: Destination,
    #[serde(default = "append")]
    mode: Mode,
    /// `rate(N minutes|hours|days)` or a cron expression (UTC).
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn append() -> Mode {
    Mode::Append
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PipelineUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    destination: Option<Destination>,
    #[serde(default)]
    mode: Option<Mode>,
    /// A schedule sets it; `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    schedule: Patch<String>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// A deleted pipeline.
#[derive(Serialize, ToSchema)]
#[schema(as = PipelineDeleted)]
pub struct Deleted {
    id: PipelineId,
    deleted: bool,
}

#[utoipa::path(get, path = "/api/pipelines", tag = "pipelines", params(PageParams),
    responses((status = 200, description = "The workspace's pipelines, oldest first", body = DataPageEnvelope<PipelineView>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<PipelineView>, ApiError> {
    let params = params.validate()?;
    let all = pipelines::list(&platform.store, &ctx, &Scope::of(&ctx, &ws)).await?;
    Ok(params.slice(all.iter().map(Pipeline::view).collect()))
}

#[utoipa::path(post, path = "/api/pipelines", tag = "pipelines", request_body = CreateBody,
    responses(
        (status = 201, description = "The pipeline", body = DataEnvelope<PipelineView>),
        (status = 409, description = "A pipeline with this name exists in the workspace", body = DatalinxError),
        (status = 422, description = "A source or mapping that is not this workspace's, a mapping onto another schema than the destination takes, an upsert without a mapped key, a schedule that does not parse", body = DatalinxError)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<PipelineView>, ApiError> {
    let new = NewPipeline {
        name: Name::parse("name", &body.name)?,
        source_id: body.source_id,
        mapping_id: body.mapping_id,
        destination: body.destination,
        mode: body.mode,
        schedule: body.schedule,
        enabled: body.enabled,
    };
    idempotent(
        |p: Pipeline| Data::created(p.view()),
        pipelines::create(&platform.store, &ctx, &Scope::of(&ctx, &ws), new),
    )
    .await
}

#[utoipa::path(get, path = "/api/pipelines/{id}", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id")),
    responses((status = 200, description = "The pipeline", body = DataEnvelope<PipelineView>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<PipelineId>,
) -> Result<Data<PipelineView>, ApiError> {
    let pipeline = pipelines::get(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(pipeline.view()))
}

#[utoipa::path(put, path = "/api/pipelines/{id}", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id")), request_body = UpdateBody,
    responses(
        (status = 200, description = "The pipeline after the change", body = DataEnvelope<PipelineView>),
        (status = 422, description = "A destination, mode or schedule that does not check", body = DatalinxError)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<PipelineId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<PipelineView>, ApiError> {
    let change = PipelineChange {
        name: body.name.map(|n| Name::parse("name", &n)).transpose()?,
        destination: body.destination,
        mode: body.mode,
        schedule: body.schedule,
        enabled: body.enabled,
    };
    let scope = Scope::of(&ctx, &ws);
    let pipeline = pipelines::update(&platform.store, &ctx, &scope, &id, change).await?;
    Ok(Data::ok(pipeline.view()))
}

#[utoipa::path(delete, path = "/api/pipelines/{id}", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id")),
    responses((status = 200, description = "Deleted", body = DataEnvelope<Deleted>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<PipelineId>,
) -> Result<Data<Deleted>, ApiError> {
    let pipeline = pipelines::delete(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(Deleted {
        id: pipeline.id,
        deleted: true,
    }))
}
