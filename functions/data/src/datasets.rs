//! `/api/datasets`: the named tables pipelines write rows into.

use axum::Json;
use axum::extract::State;
use relinx_data::Scope;
use relinx_data::datasets::{self, Dataset, MAX_PAGE_SIZE, PageAt};
use relinx_http::openapi::{DataEnvelope, DataPageEnvelope, Pagination};
use relinx_http::respond::{Data, DataPage, PageParams};
use relinx_http::{ApiError, InWorkspace, PathParam, Platform, QueryParams};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[utoipa::path(get, path = "/api/datasets", tag = "datasets", params(PageParams),
    responses((status = 200, description = "The workspace's datasets, by name: columns and row count", body = DataPageEnvelope<Dataset>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<Dataset>, ApiError> {
    let params = params.validate()?;
    let all = datasets::list(&platform.store, &ctx, &Scope::of(&ctx, &ws)).await?;
    Ok(params.slice(all))
}

#[utoipa::path(get, path = "/api/datasets/{name}", tag = "datasets",
    params(("name" = String, Path, description = "The dataset's name")),
    responses((status = 200, description = "The dataset", body = DataEnvelope<Dataset>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    PathParam(name): PathParam,
) -> Result<Data<Dataset>, ApiError> {
    let dataset = datasets::get(&platform.store, &ctx, &Scope::of(&ctx, &ws), &name).await?;
    Ok(Data::ok(dataset))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RowParams {
    /// From 1; pages reach 10,000 rows deep (past that, `cursor`).
    #[param(minimum = 1, default = 1)]
    page: Option<u64>,
    /// 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    page_size: Option<u64>,
    /// `next_cursor` of the previous page (then `page` is not given).
    cursor: Option<String>,
}

/// A page of a dataset's rows.
#[derive(Serialize, ToSchema)]
#[schema(as = DatasetRowsEnvelope)]
pub struct RowsEnvelope {
    #[schema(example = "success")]
    status: &'static str,
    #[schema(value_type = Vec<Object>)]
    data: Vec<serde_json::Map<String, serde_json::Value>>,
    pagination: Pagination,
    /// Where the next page starts (absent after the last row).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/datasets/{name}/rows", tag = "datasets",
    params(("name" = String, Path, description = "The dataset's name"), RowParams),
    responses((status = 200, description = "A page of rows, in a stable order (by shard, then key): following `next_cursor` visits every row once", body = RowsEnvelope)))]
pub async fn rows(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    PathParam(name): PathParam,
    QueryParams(params): QueryParams<RowParams>,
) -> Result<Json<RowsEnvelope>, ApiError> {
    let page_size = params.page_size.unwrap_or(50);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::bad_request(
            relinx_model::ErrorCode::ValidationFailed,
            format!("page_size: must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let (at, page) = match (params.cursor, params.page) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                "page: give page or cursor, not both",
            ));
        }
        (Some(cursor), None) => (PageAt::Cursor(cursor), 0),
        (None, page) => {
            let page = page.unwrap_or(1);
            if page == 0 {
                return Err(ApiError::bad_request(
                    relinx_model::ErrorCode::ValidationFailed,
                    "page: pages count from 1",
                ));
            }
            (PageAt::Number(page), page)
        }
    };
    let found = datasets::rows(
        &platform.store,
        &ctx,
        &Scope::of(&ctx, &ws),
        &name,
        at,
        page_size,
    )
    .await?;
    let total_items = found.dataset.row_count;
    Ok(Json(RowsEnvelope {
        status: "success",
        data: found.rows,
        pagination: Pagination {
            page,
            page_size,
            total_items,
            total_pages: total_items.div_ceil(page_size),
        },
        next_cursor: found.next_cursor,
    }))
}

/// A deleted dataset.
#[derive(Serialize, ToSchema)]
#[schema(as = DatasetDeleted)]
pub struct Deleted {
    name: String,
    deleted: bool,
}

#[utoipa::path(delete, path = "/api/datasets/{name}", tag = "datasets",
    params(("name" = String, Path, description = "The dataset's name")),
    responses((status = 200, description = "Deleted: its rows are gone from reads at once, and removed in the background", body = DataEnvelope<Deleted>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    PathParam(name): PathParam,
) -> Result<Data<Deleted>, ApiError> {
    let dataset = datasets::delete(&platform.store, &ctx, &Scope::of(&ctx, &ws), &name).await?;
    Ok(Data::ok(Deleted {
        name: dataset.name,
        deleted: true,
    }))
}
