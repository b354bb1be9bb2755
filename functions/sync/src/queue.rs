//! `/v1/sync/queue` and `/v1/sync/retry/{job}` (seed 002 "Sync queue"): the org's
//! outbound webhook deliveries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relinx_http::openapi::CursorPage;
use relinx_http::respond::CursorList;
use relinx_http::{ApiError, Caller, PathParam, Platform, QueryParams};
use relinx_model::JobId;
use relinx_webhooks::jobs::{self, Job, JobStatus};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// Only jobs in this state.
    status: Option<JobStatus>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i32>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/sync/queue", tag = "sync", params(QueueParams), responses((status = 200, description = "The org's webhook delivery jobs, newest first", body = CursorPage<Job>)))]
pub async fn queue(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<QueueParams>,
) -> Result<CursorList<Job>, ApiError> {
    let limit = relinx_http::respond::page_limit(params.limit)?;
    Ok(jobs::list(
        &platform.store,
        &caller.ctx,
        params.status,
        params.cursor.as_deref(),
        limit,
    )
    .await?
    .into())
}

#[utoipa::path(post, path = "/v1/sync/retry/{job}", tag = "sync", params(("job" = String, Path, description = "The job id, `job_…`")), responses((status = 202, description = "The job is due now (a dead one revives); the dispatcher picks it up", body = Job)))]
pub async fn retry(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    PathParam(job): PathParam,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let id = JobId::parse(&job).ok_or_else(|| ApiError::not_found("job"))?;
    let job = jobs::retry(&platform.store, &caller.ctx, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}
