//! `/api/pipelines/{id}/run` and `/runs`: queue a run (202; the `runner` function
//! does the work off the request path), follow it, cancel it, and download the rows
//! it rejected as a CSV file to fix and upload again.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relinx_data::Scope;
use relinx_data::run::{Run, RunStatus, RunView, Trigger};
use relinx_data::runs::{self, RunRequest};
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, DatalinxError};
use relinx_http::respond::{Data, DataPage, PageParams, idempotent};
use relinx_http::{ApiError, IdPath, IdPaths, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_model::{PipelineId, RunId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Who asks: the API (default) or the CLI (`"trigger":"cli"`).
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = RunTrigger)]
pub enum AskedBy {
    #[default]
    Api,
    Cli,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RunCreate, example = json!({"dry_run": true}))]
pub struct RunBody {
    /// Map and check every row, say what would be inserted, updated, left unchanged
    /// or rejected, and write nothing.
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    trigger: AskedBy,
}

/// A run just queued.
#[derive(Serialize, ToSchema)]
#[schema(as = RunQueued)]
pub struct Queued {
    run_id: RunId,
    #[schema(value_type = String, example = "queued")]
    status: RunStatus,
    dry_run: bool,
}

#[utoipa::path(post, path = "/api/pipelines/{id}/run", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id")), request_body = RunBody,
    responses(
        (status = 202, description = "The run is queued; follow it at /api/pipelines/{id}/runs/{run_id}", body = DataEnvelope<Queued>),
        (status = 409, description = "RUN_IN_PROGRESS: the pipeline has a run queued or running (the message names it)", body = DatalinxError)))]
pub async fn run(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<PipelineId>,
    JsonBody(body): JsonBody<RunBody>,
) -> Result<Data<Queued>, ApiError> {
    let request = RunRequest {
        dry_run: body.dry_run,
        trigger: match body.trigger {
            AskedBy::Api => Trigger::Api,
            AskedBy::Cli => Trigger::Cli,
        },
    };
    idempotent(
        |run: Run| {
            Data(
                StatusCode::ACCEPTED,
                Queued {
                    run_id: run.id,
                    status: run.status,
                    dry_run: run.dry_run,
                },
            )
        },
        runs::start(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id, request),
    )
    .await
}

#[utoipa::path(get, path = "/api/pipelines/{id}/runs", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id"), PageParams),
    responses((status = 200, description = "The pipeline's runs, newest first", body = DataPageEnvelope<RunView>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<PipelineId>,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<RunView>, ApiError> {
    let params = params.validate()?;
    let scope = Scope::of(&ctx, &ws);
    let (runs, total) = runs::list(
        &platform.store,
        &ctx,
        &scope,
        &id,
        params.page,
        params.page_size,
    )
    .await?;
    Ok(params.page_of(runs.iter().map(Run::view).collect(), total))
}

#[utoipa::path(get, path = "/api/pipelines/{id}/runs/{run_id}", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id"), ("run_id" = RunId, Path, description = "The run's id")),
    responses((status = 200, description = "The run: its status and counters (`rows_read` grows while it runs)", body = DataEnvelope<RunView>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPaths(id, run_id): IdPaths<PipelineId, RunId>,
) -> Result<Data<RunView>, ApiError> {
    let run = runs::get(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id, &run_id).await?;
    Ok(Data::ok(run.view()))
}

#[utoipa::path(post, path = "/api/pipelines/{id}/runs/{run_id}/cancel", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id"), ("run_id" = RunId, Path, description = "The run's id")),
    responses(
        (status = 200, description = "Asked to stop: it stops at its next slice of rows (`cancelled`), keeping what it wrote", body = DataEnvelope<RunView>),
        (status = 409, description = "RUN_FINISHED: the run has already ended", body = DatalinxError)))]
pub async fn cancel(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPaths(id, run_id): IdPaths<PipelineId, RunId>,
) -> Result<Data<RunView>, ApiError> {
    let scope = Scope::of(&ctx, &ws);
    idempotent(
        |run: Run| Data::ok(run.view()),
        runs::cancel(&platform.store, &ctx, &scope, &id, &run_id),
    )
    .await
}

/// The rejected-rows file.
pub struct CsvFile {
    name: String,
    bytes: Vec<u8>,
}

impl IntoResponse for CsvFile {
    fn into_response(self) -> Response {
        let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.name))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (header::CONTENT_DISPOSITION, disposition),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            self.bytes,
        )
            .into_response()
    }
}

#[utoipa::path(get, path = "/api/pipelines/{id}/runs/{run_id}/rejected", tag = "pipelines",
    params(("id" = PipelineId, Path, description = "The pipeline's id"), ("run_id" = RunId, Path, description = "The run's id")),
    responses((status = 200, description = "The rejected rows as a CSV attachment: the original columns, then `_row`, `_field`, `_error`; cells a spreadsheet would run as formulas start with `'`", content_type = "text/csv", body = String)))]
pub async fn rejected(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPaths(id, run_id): IdPaths<PipelineId, RunId>,
) -> Result<CsvFile, ApiError> {
    let bytes =
        runs::rejected_csv(&platform.store, &ctx, &Scope::of(&ctx, &ws), &id, &run_id).await?;
    Ok(CsvFile {
        name: format!("{run_id}-rejected.csv"),
        bytes,
    })
}
