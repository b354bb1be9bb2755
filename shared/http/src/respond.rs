//! Success bodies, one shape per surface (API.md "The surfaces and their envelopes"),
//! rendered through the envelope types the OpenAPI document describes.

use crate::openapi::{CursorPage, DataEnvelope, DataPageEnvelope, Pagination, RelentaEnvelope};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Runs a domain operation that declares what it commits (`Tx::answer`) and shapes
/// its result with `shape`. Inside a request with an `Idempotency-Key`, the answer
/// `shape` makes is stored in the operation's own transaction, so a change never
/// commits without the answer a retry replays (relinx_ddb::idempotency).
pub async fn idempotent<T, R, E>(
    shape: impl Fn(T) -> R + Clone + Send + Sync + 'static,
    operation: impl Future<Output = Result<T, E>>,
) -> Result<R, crate::ApiError>
where
    T: Clone + 'static,
    R: IntoResponse,
    crate::ApiError: From<E>,
{
    let render = shape.clone();
    relinx_ddb::idempotency::answer_with(Box::new(move |value| {
        let value = value.downcast_ref::<T>()?.clone();
        stored_response(render(value).into_response())
    }));
    Ok(shape(operation.await?))
}

/// A response as the idempotency record keeps it. Bodies made here are whole in
/// memory, so reading one never waits.
fn stored_response(response: Response) -> Option<relinx_ddb::idempotency::StoredResponse> {
    use futures::FutureExt;
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .now_or_never()?
        .ok()?;
    Some(relinx_ddb::idempotency::StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// 201 with the resource itself (platform, Relink).
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// A platform cursor list: `{"data":[…],"next_cursor":…,"has_more":…}`.
pub struct CursorList<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A store page as the platform's list body.
impl<T> From<relinx_ddb::codec::Page<T>> for CursorList<T> {
    fn from(page: relinx_ddb::codec::Page<T>) -> Self {
        Self {
            data: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

impl<T: Serialize> IntoResponse for CursorList<T> {
    fn into_response(self) -> Response {
        Json(CursorPage {
            has_more: self.next_cursor.is_some(),
            data: self.data,
            next_cursor: self.next_cursor,
        })
        .into_response()
    }
}

/// Datalinx: `{"status":"success","data":…}` with the given status.
pub struct Data<T>(pub StatusCode, pub T);

impl<T: Serialize> Data<T> {
    pub fn ok(value: T) -> Self {
        Self(StatusCode::OK, value)
    }

    pub fn created(value: T) -> Self {
        Self(StatusCode::CREATED, value)
    }
}

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        let body = DataEnvelope {
            status: "success",
            data: self.1,
        };
        (self.0, Json(body)).into_response()
    }
}

/// Relenta: `{"status":true,"code":200,"data":…}` (every success is a 200).
pub struct Relenta<T>(pub T);

impl<T: Serialize> IntoResponse for Relenta<T> {
    fn into_response(self) -> Response {
        Json(RelentaEnvelope {
            status: true,
            code: 200,
            data: self.0,
        })
        .into_response()
    }
}

/// Page-numbered list parameters (Datalinx, Relenta): `page` from 1, `page_size` ≤ 200.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// From 1.
    #[serde(default = "first_page")]
    #[param(minimum = 1, default = 1)]
    pub page: u64,
    /// 1 to 200.
    #[serde(default = "default_page_size")]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub page_size: u64,
}

fn first_page() -> u64 {
    1
}

fn default_page_size() -> u64 {
    50
}

pub const MAX_PAGE_SIZE: u64 = 200;
/// Far past the end of any list (a page costs reading every item before it), and
/// small enough that `page × page_size` is no overflow anywhere.
pub const MAX_PAGE: u64 = 1_000_000;

impl PageParams {
    pub fn validate(self) -> Result<Self, crate::ApiError> {
        if self.page == 0 || self.page > MAX_PAGE {
            return Err(crate::ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                format!("page: must be between 1 and {MAX_PAGE}"),
            ));
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(crate::ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                format!("page_size: must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(self)
    }

    /// A page read on its own (`items`), out of `total_items`.
    pub fn page_of<T: Serialize>(self, items: Vec<T>, total_items: u64) -> DataPage<T> {
        DataPage {
            items,
            page: self.page,
            page_size: self.page_size,
            total_items,
            total_pages: total_items.div_ceil(self.page_size),
        }
    }

    /// This page of `all`, with its pagination block.
    pub fn slice<T: Serialize>(self, all: Vec<T>) -> DataPage<T> {
        let total_items = all.len() as u64;
        let total_pages = total_items.div_ceil(self.page_size);
        let skip = (self.page - 1).saturating_mul(self.page_size) as usize;
        let items = all
            .into_iter()
            .skip(skip)
            .take(self.page_size as usize)
            .collect();
        DataPage {
            items,
            page: self.page,
            page_size: self.page_size,
            total_items,
            total_pages,
        }
    }
}

/// Datalinx page list: `{"status":"success","data":[…],"pagination":{…}}`.
pub struct DataPage<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub page_size: u64,
    pub total_items: u64,
    pub total_pages: u64,
}

impl<T: Serialize> IntoResponse for DataPage<T> {
    fn into_response(self) -> Response {
        Json(DataPageEnvelope {
            status: "success",
            data: self.items,
            pagination: Pagination {
                page: self.page,
                page_size: self.page_size,
                total_items: self.total_items,
                total_pages: self.total_pages,
            },
        })
        .into_response()
    }
}

/// Cursor list parameters (platform): `limit` ≤ 200, `cursor`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CursorParams {
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i32>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
}

impl CursorParams {
    /// The page asked for; a `limit` out of range is a 400 naming it.
    pub fn page(self) -> Result<relinx_ddb::codec::PageRequest, crate::ApiError> {
        Ok(relinx_ddb::codec::PageRequest {
            limit: page_limit(self.limit)?,
            cursor: self.cursor,
        })
    }
}

/// A cursor list's `limit` parameter: 1 to 200, default 50.
pub fn page_limit(limit: Option<i32>) -> Result<i32, crate::ApiError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(crate::ApiError::bad_request(
            relinx_model::ErrorCode::ValidationFailed,
            "limit: must be between 1 and 200",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_correct_totals() {
        let page = PageParams {
            page: 2,
            page_size: 2,
        }
        .slice(vec![1, 2, 3, 4, 5]);
        assert_eq!(page.items, vec![3, 4]);
        assert_eq!((page.total_items, page.total_pages), (5, 3));
        let past_end = PageParams {
            page: 9,
            page_size: 2,
        }
        .slice(vec![1, 2, 3]);
        assert!(past_end.items.is_empty());
        assert_eq!(past_end.total_pages, 2);
    }
}
