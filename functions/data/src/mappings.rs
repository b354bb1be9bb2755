//! `/api/mappings`: how a source's columns become a schema's fields; a preview of
//! what a run would write and refuse, and the assistant's suggestion.

use axum::extract::State;
use relinx_data::mapping::{Mapping, MappingField, MappingView};
use relinx_data::mappings::{self, NewMapping, Preview};
use relinx_data::sources::MAX_SAMPLE;
use relinx_data::suggest::Suggestion;
use relinx_data::{SchemaRef, Scope};
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, DatalinxError};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, IdPath, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_model::{MappingId, Name, SourceId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

fn schema_ref(raw: &str) -> Result<SchemaRef, ApiError> {
    SchemaRef::parse(raw).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            relinx_model::ErrorCode::ValidationFailed,
            "schema_id: not a schema id (sch_…), nor contact or record",
        )
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MappingCreate, example = json!({"name": "crm import", "source_id": "src_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "schema_id": "contact",
    "fields": [{"target": "emails", "expr": "lower(trim(`E-mail`))"}, {"target": "first_name", "expr": "fname"}]}))]
pub struct CreateBody {
    name: String,
    source_id: SourceId,
    /// `sch_…`, or `contact` / `record`.
    schema_id: String,
    fields: Vec<MappingField>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MappingUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    /// The fields, whole: checked against the source and schema as they are now,
    /// pinning the schema's current version.
    #[serde(default)]
    fields: Option<Vec<MappingField>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MappingPreviewRequest)]
pub struct PreviewBody {
    /// 1 to 1000 staged rows (default 20).
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MappingSuggestRequest, example = json!({"source_id": "src_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "schema_id": "contact"}))]
pub struct SuggestBody {
    source_id: SourceId,
    schema_id: String,
}

/// A deleted mapping.
#[derive(Serialize, ToSchema)]
#[schema(as = MappingDeleted)]
pub struct Deleted {
    id: MappingId,
    deleted: bool,
}

#[utoipa::path(get, path = "/api/mappings", tag = "mappings", params(PageParams),
    responses((status = 200, description = "The workspace's mappings, oldest first", body = DataPageEnvelope<MappingView>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<MappingView>, ApiError> {
    let params = params.validate()?;
    let all = mappings::list(&platform.store, &ctx, &Scope::of(&ctx, &ws)).await?;
    Ok(params.slice(all.iter().map(Mapping::view).collect()))
}

#[utoipa::path(post, path = "/api/mappings", tag = "mappings", request_body = CreateBody,
    responses(
        (status = 201, description = "The mapping, pinned to the schema's current version", body = DataEnvelope<MappingView>),
        (status = 409, description = "A mapping with this name exists in the workspace", body = DatalinxError),
        (status = 422, description = "A target that is no field, a required field unmapped, a missing column, an expr that does not parse or does not fit its field: the message names the field and the position", body = DatalinxError)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<MappingView>, ApiError> {
    let new = NewMapping {
        name: Name::parse("name", &body.name)?,
        source_id: body.source_id,
        schema: schema_ref(&body.schema_id)?,
        fields: body.fields,
    };
    idempotent(
        |m: Mapping| Data::created(m.view()),
        mappings::create(&platform.store, &ctx, &Scope::of(&ctx, &ws), new),
    )
    .await
}

#[utoipa::path(get, path = "/api/mappings/{id}", tag = "mappings",
    params(("id" = MappingId, Path, description = "The mapping's id")),
    responses((status = 200, description = "The mapping", body = DataEnvelope<MappingView>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<MappingId>,
) -> Result<Data<MappingView>, ApiError> {
    let mapping = mappings::get(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(mapping.view()))
}

#[utoipa::path(put, path = "/api/mappings/{id}", tag = "mappings",
    params(("id" = MappingId, Path, description = "The mapping's id")), request_body = UpdateBody,
    responses(
        (status = 200, description = "The mapping after the change", body = DataEnvelope<MappingView>),
        (status = 422, description = "Fields that do not check (as for a new mapping)", body = DatalinxError)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<MappingId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<MappingView>, ApiError> {
    let name = body.name.map(|n| Name::parse("name", &n)).transpose()?;
    let scope = Scope::of(&ctx, &ws);
    let mapping = mappings::update(&platform.store, &ctx, &scope, &id, name, body.fields).await?;
    Ok(Data::ok(mapping.view()))
}

#[utoipa::path(delete, path = "/api/mappings/{id}", tag = "mappings",
    params(("id" = MappingId, Path, description = "The mapping's id")),
    responses((status = 200, description = "Deleted", body = DataEnvelope<Deleted>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<MappingId>,
) -> Result<Data<Deleted>, ApiError> {
    let mapping = mappings::delete(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(Deleted {
        id: mapping.id,
        deleted: true,
    }))
}

#[utoipa::path(post, path = "/api/mappings/{id}/preview", tag = "mappings",
    params(("id" = MappingId, Path, description = "The mapping's id")), request_body = PreviewBody,
    responses((status = 200, description = "The source's first staged rows mapped, and every value the destination would refuse (needs only read)", body = DataEnvelope<Preview>)))]
pub async fn preview(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<MappingId>,
    JsonBody(body): JsonBody<PreviewBody>,
) -> Result<Data<Preview>, ApiError> {
    let limit = body.limit.unwrap_or(20);
    if !(1..=MAX_SAMPLE).contains(&limit) {
        return Err(ApiError::bad_request(
            relinx_model::ErrorCode::ValidationFailed,
            format!("limit: must be between 1 and {MAX_SAMPLE}"),
        ));
    }
    let scope = Scope::of(&ctx, &ws);
    Ok(Data::ok(
        mappings::preview(&platform.store, &ctx, &scope, &id, limit).await?,
    ))
}

#[utoipa::path(post, path = "/api/mappings/suggest", tag = "mappings", request_body = SuggestBody,
    responses((status = 200, description = "Which column fills which field, how sure and why; the columns left over (needs only read; the same input gives the same answer)", body = DataEnvelope<Suggestion>)))]
pub async fn suggest(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<SuggestBody>,
) -> Result<Data<Suggestion>, ApiError> {
    let schema = schema_ref(&body.schema_id)?;
    let scope = Scope::of(&ctx, &ws);
    Ok(Data::ok(
        mappings::suggest_for(&platform.store, &ctx, &scope, &body.source_id, &schema).await?,
    ))
}
