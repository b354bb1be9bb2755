//! `/api/sources`: where rows come from; `POST /api/sources/{id}/rows` stages a file's
//! rows, `GET /api/sources/{id}/sample` shows them.

use axum::extract::State;
use relinx_data::source::{NewSource, SourceChange, SourceView, parse_delimiter};
use relinx_data::sources::{self, MAX_SAMPLE, Sample, Staged, UploadFile};
use relinx_data::{ColumnType, CsvOptions, Scope, Source};
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, DatalinxError};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, FileBody, IdPath, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_model::{Name, SourceId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SourceCreate, example = json!({"name": "crm-export", "kind": "upload"}))]
pub struct CreateBody {
    /// Unique in the workspace (1 to 100 characters).
    name: String,
    /// `upload` (rows pushed to `/rows`), `http` (a URL fetched at run time) or
    /// `relinx` (the platform's own data).
    #[schema(pattern = "^(upload|http|relinx)$")]
    kind: String,
    /// By kind: `upload` `{delimiter?, encoding?}` (defaults for its CSV uploads);
    /// `http` `{url, headers?}` (header values stored sealed, never shown again);
    /// `relinx` `{entity: records|contacts|activities|smartlinks|clicks|events}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    config: serde_json::Value,
}

/// A column whose type a PUT sets (`type: null` goes back to the inferred one).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SourceColumnType)]
pub struct ColumnTypeBody {
    name: String,
    #[serde(rename = "type")]
    column_type: Option<ColumnType>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SourceUpdate, example = json!({"columns": [{"name": "zip", "type": "string"}]}))]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    /// The settings, whole, for the source's kind (an `http` source that names no
    /// `headers` keeps its sealed ones).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    columns: Option<Vec<ColumnTypeBody>>,
}

/// A deleted source.
#[derive(Serialize, ToSchema)]
#[schema(as = SourceDeleted)]
pub struct Deleted {
    id: SourceId,
    deleted: bool,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// A CSV's delimiter: `,` `;` `|` or `tab` (else the source's, else sniffed from
    /// the header).
    delimiter: Option<String>,
    /// A CSV's encoding (`windows-1252`, `iso-8859-1`, …; else the source's, else
    /// detected).
    encoding: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SampleParams {
    /// 1 to 1000 rows (default 20).
    #[param(minimum = 1, maximum = 1000, default = 20)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/sources", tag = "sources", params(PageParams),
    responses((status = 200, description = "The workspace's sources, oldest first", body = DataPageEnvelope<SourceView>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<SourceView>, ApiError> {
    let params = params.validate()?;
    let all = sources::list(&platform.store, &ctx, &Scope::of(&ctx, &ws)).await?;
    Ok(params.slice(all.iter().map(Source::view).collect()))
}

#[utoipa::path(post, path = "/api/sources", tag = "sources", request_body = CreateBody,
    responses(
        (status = 201, description = "The source", body = DataEnvelope<SourceView>),
        (status = 409, description = "A source with this name exists in the workspace", body = DatalinxError)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Data<SourceView>, ApiError> {
    let new = NewSource::new(&body.name, &body.kind, body.config)?;
    idempotent(
        |s: Source| Data::created(s.view()),
        sources::create(&platform.store, &ctx, &Scope::of(&ctx, &ws), new),
    )
    .await
}

#[utoipa::path(get, path = "/api/sources/{id}", tag = "sources",
    params(("id" = SourceId, Path, description = "The source's id")),
    responses((status = 200, description = "The source", body = DataEnvelope<SourceView>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<SourceId>,
) -> Result<Data<SourceView>, ApiError> {
    let source = sources::get(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(source.view()))
}

#[utoipa::path(put, path = "/api/sources/{id}", tag = "sources",
    params(("id" = SourceId, Path, description = "The source's id")), request_body = UpdateBody,
    responses((status = 200, description = "The source after the change", body = DataEnvelope<SourceView>)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<SourceId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<SourceView>, ApiError> {
    let change = SourceChange {
        name: body.name.map(|n| Name::parse("name", &n)).transpose()?,
        config: body.config,
        column_types: body
            .columns
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.name, c.column_type))
            .collect(),
    };
    let source = sources::update(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id, change).await?;
    Ok(Data::ok(source.view()))
}

#[utoipa::path(delete, path = "/api/sources/{id}", tag = "sources",
    params(("id" = SourceId, Path, description = "The source's id")),
    responses((status = 200, description = "Deleted; its staged rows can no longer be read and expire", body = DataEnvelope<Deleted>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<SourceId>,
) -> Result<Data<Deleted>, ApiError> {
    let source = sources::delete(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id).await?;
    Ok(Data::ok(Deleted {
        id: source.id,
        deleted: true,
    }))
}

#[utoipa::path(post, path = "/api/sources/{id}/rows", tag = "sources",
    params(("id" = SourceId, Path, description = "An upload source's id"), UploadParams),
    request_body(description = "A CSV with a header row (RFC 4180; any encoding, see `encoding`), a JSON array of objects, or NDJSON: at most 4 MB and 10,000 rows",
        content(
            (String = "text/csv", example = "email,first_name,zip\nann@example.com,Ann,02134\n"),
            (Vec<Object> = "application/json"),
            (String = "application/x-ndjson", example = "{\"email\":\"ann@example.com\",\"zip\":\"02134\"}\n"))),
    responses(
        (status = 201, description = "The rows are staged (7 days, until a run consumes them); the source's columns now include the file's", body = DataEnvelope<Staged>),
        (status = 400, description = "A malformed file (the message names the line): nothing was staged", body = DatalinxError),
        (status = 413, description = "More than 4 MB or 10,000 rows", body = DatalinxError)))]
pub async fn upload(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<SourceId>,
    QueryParams(params): QueryParams<UploadParams>,
    file: FileBody,
) -> Result<Data<Staged>, ApiError> {
    let csv = CsvOptions {
        delimiter: params
            .delimiter
            .as_deref()
            .map(|d| parse_delimiter("delimiter", d))
            .transpose()?,
        encoding: params.encoding,
    };
    let file = UploadFile {
        content_type: &file.content_type,
        bytes: &file.bytes,
        csv,
    };
    idempotent(
        Data::created,
        sources::stage(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id, file),
    )
    .await
}

#[utoipa::path(get, path = "/api/sources/{id}/sample", tag = "sources",
    params(("id" = SourceId, Path, description = "An upload source's id"), SampleParams),
    responses((status = 200, description = "Its first staged rows, oldest first", body = DataEnvelope<Sample>)))]
pub async fn sample(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<SourceId>,
    QueryParams(params): QueryParams<SampleParams>,
) -> Result<Data<Sample>, ApiError> {
    let limit = params.limit.unwrap_or(20);
    if !(1..=MAX_SAMPLE).contains(&limit) {
        return Err(ApiError::bad_request(
            relinx_model::ErrorCode::ValidationFailed,
            format!("limit: must be between 1 and {MAX_SAMPLE}"),
        ));
    }
    let sample = sources::sample(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id, limit).await?;
    Ok(Data::ok(sample))
}
