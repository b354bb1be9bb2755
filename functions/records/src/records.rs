//! `/v1/records` (seed 002): records of the workspace the request resolves to, and
//! their change feed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use relinx_http::openapi::CursorPage;
use relinx_http::respond::{Created, CursorList, idempotent, page_limit};
use relinx_http::{ApiError, IdPath, InWorkspace, JsonBody, Platform, QueryParams};
use relinx_model::{RecordId, Timestamp, ValidationError};
use relinx_records::batch as uploads;
use relinx_records::{
    ChangePage, Edit, ListQuery, NewRecord, Record, RecordEdit, RecordPatch, Status, records,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecordCreate, example = json!({"title": "Pressure check", "type": "inspection", "site": "alpha"}))]
pub struct CreateBody {
    /// 1 to 500 characters.
    title: String,
    /// Up to 100 characters.
    #[serde(default, rename = "type")]
    kind: String,
    /// Up to 100 characters.
    #[serde(default)]
    site: String,
    /// Default `queued`.
    #[serde(default)]
    status: Option<Status>,
    /// Free JSON object; the whole record is at most 100 KiB of JSON.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    data: Option<Map<String, Value>>,
}

impl CreateBody {
    fn into_new(self) -> Result<NewRecord, ValidationError> {
        NewRecord::new(
            &self.title,
            &self.kind,
            &self.site,
            self.status,
            self.data.unwrap_or_default(),
        )
    }
}

/// Only fields present change; `data` replaces the whole object.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecordUpdate, example = json!({"status": "synced", "causal": "01JD8Z2X4Q7V3N5K9M2B6C8D0E"}))]
pub struct UpdateBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    site: Option<String>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    data: Option<Map<String, Value>>,
    /// The record's current causal token (or send it as `If-Match`).
    #[serde(default)]
    causal: Option<String>,
}

impl UpdateBody {
    fn into_patch(self) -> Result<(RecordPatch, Option<String>), ValidationError> {
        let patch = RecordPatch::new(
            self.title.as_deref(),
            self.kind.as_deref(),
            self.site.as_deref(),
            self.status,
            self.data,
        )?;
        Ok((patch, self.causal))
    }
}

/// DELETE may carry the causal token in a body instead of `If-Match`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecordDelete)]
pub struct DeleteBody {
    #[serde(default)]
    causal: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only records in this status.
    status: Option<Status>,
    /// Only records of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only records of this site.
    site: Option<String>,
    /// Only records in this queue.
    queue: Option<String>,
    /// Only records changed at or after this time (RFC 3339).
    updated_since: Option<String>,
    /// Include tombstones (deleted records).
    #[serde(default)]
    include_deleted: bool,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i32>,
    /// `next_cursor` of the page before (same filters).
    cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// `next_cursor` of the page before; absent: from the oldest change kept.
    since: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i32>,
}

/// The causal token of `If-Match` (`"…"`, `W/"…"` or bare), if any.
fn if_match(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::IF_MATCH)?.to_str().ok()?.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    Some(raw.trim_matches('"').to_owned()).filter(|v| !v.is_empty())
}

/// The record with its causal token as `ETag`, for clients that use `If-Match`.
fn with_etag(record: &Record, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", record.causal)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

#[utoipa::path(get, path = "/v1/records", tag = "records", params(ListParams), responses((status = 200, description = "The workspace's records, by id (tombstones only with include_deleted)", body = CursorPage<Record>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<CursorList<Record>, ApiError> {
    let updated_since = params
        .updated_since
        .as_deref()
        .map(|raw| {
            Timestamp::parse(raw).ok_or_else(|| {
                ApiError::bad_request(
                    relinx_model::ErrorCode::ValidationFailed,
                    "updated_since: must be an RFC 3339 time, e.g. 2026-11-25T10:00:00Z",
                )
            })
        })
        .transpose()?;
    let query = ListQuery {
        status: params.status,
        kind: params.kind,
        site: params.site,
        queue: params.queue,
        updated_since,
        include_deleted: params.include_deleted,
    };
    let page = records::list(
        &platform.store,
        &ctx,
        &ws,
        &query,
        params.cursor.as_deref(),
        page_limit(params.limit)?,
    )
    .await?;
    Ok(CursorList {
        data: page.items,
        next_cursor: page.next_cursor,
    })
}

#[utoipa::path(post, path = "/v1/records", tag = "records", request_body = CreateBody, responses((status = 201, description = "The record, with its first causal token (also as ETag)", body = Record)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    idempotent(
        |record: Record| with_etag(&record, Created(record.clone())),
        records::create(&platform.store, &ctx, &ws, body.into_new()?),
    )
    .await
}

#[utoipa::path(get, path = "/v1/records/{id}", tag = "records", params(("id" = String, Path, description = "The record id, `rec_…`")), responses((status = 200, description = "The record (a tombstone has deleted: true)", body = Record)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<RecordId>,
) -> Result<Response, ApiError> {
    let record = records::get(&platform.store, &ctx, &ws, &id).await?;
    Ok(with_etag(&record, Json(record.clone())))
}

#[utoipa::path(patch, path = "/v1/records/{id}", tag = "records", params(("id" = String, Path, description = "The record id, `rec_…`"), ("If-Match" = Option<String>, Header, description = "The record's current causal token, if not in the body")), request_body = UpdateBody, responses((status = 200, description = "The record after the change, with a new causal token", body = Record), (status = 428, description = "No causal token was sent", body = relinx_http::openapi::PlatformError)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<RecordId>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Response, ApiError> {
    let (patch, causal) = body.into_patch()?;
    let causal = causal.or_else(|| if_match(&headers));
    let change = RecordEdit {
        id,
        causal,
        change: Edit::Patch(patch),
    };
    let record = records::edit(&platform.store, &ctx, &ws, change).await?;
    Ok(with_etag(&record, Json(record.clone())))
}

#[utoipa::path(delete, path = "/v1/records/{id}", tag = "records", params(("id" = String, Path, description = "The record id, `rec_…`"), ("If-Match" = Option<String>, Header, description = "Optional: the record's current causal token, if not in the body; when sent, a stale one is refused")), request_body(content = DeleteBody, description = "Optional: the causal token, if not sent as If-Match. Without one the record is deleted as it is (seed 002's `curl -X DELETE`)"), responses((status = 200, description = "The tombstone: kept for the retention period and replicated through the change feed", body = Record), (status = 409, description = "The causal token sent is stale: the record as it now is, in `current`", body = relinx_http::openapi::PlatformError)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    IdPath(id): IdPath<RecordId>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<DeleteBody>,
) -> Result<Response, ApiError> {
    let causal = body.causal.or_else(|| if_match(&headers));
    let change = RecordEdit {
        id,
        causal,
        change: Edit::Delete,
    };
    let record = records::edit(&platform.store, &ctx, &ws, change).await?;
    Ok(with_etag(&record, Json(record.clone())))
}

#[utoipa::path(get, path = "/v1/records/changes", tag = "records", params(ChangesParams), responses((status = 200, description = "Every create, update and delete after `since`, in the order of the writes (tombstones included); continue with next_cursor", body = ChangePage), (status = 410, description = "`since` is older than the tombstone retention: resync from a full list", body = relinx_http::openapi::PlatformError)))]
pub async fn changes(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    QueryParams(params): QueryParams<ChangesParams>,
) -> Result<Json<ChangePage>, ApiError> {
    let page = records::changes(
        &platform.store,
        &ctx,
        &ws,
        params.since.as_deref(),
        page_limit(params.limit)?,
    )
    .await?;
    Ok(Json(page))
}

/// One operation of an upload batch, by its `op`.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
#[schema(as = RecordBatchOperation)]
pub enum BatchOperation {
    /// A new record, `body` as POST /v1/records takes it.
    Create {
        /// Unique per operation (a UUID): a replayed op id is answered `duplicate`.
        op_id: String,
        body: CreateBody,
    },
    /// A change, `body` as PATCH takes it; the causal token here or in `body`.
    Patch {
        op_id: String,
        id: String,
        #[serde(default)]
        causal: Option<String>,
        body: UpdateBody,
    },
    /// A deletion; without `causal` the record is deleted as it is.
    Delete {
        op_id: String,
        id: String,
        #[serde(default)]
        causal: Option<String>,
    },
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecordBatch, example = json!({"operations": [
    {"op_id": "7f1c9a52-3d7e-4b8e-9a51-2c6f0d9e8b11", "op": "create", "body": {"title": "Pressure check", "type": "inspection", "site": "alpha"}},
    {"op_id": "0b9d2f6e-81a4-4c3b-9e27-5d1a7c4f3e20", "op": "patch", "id": "rec_01JD8Z2X4Q7V3N5K9M2B6C8D0F", "causal": "01JD8Z2X4Q7V3N5K9M2B6C8D0H", "body": {"status": "synced"}},
    {"op_id": "c2e8a7d1-5f3b-4a69-8d0e-7b6c1f2a9e34", "op": "delete", "id": "rec_01JD8Z2X4Q7V3N5K9M2B6C8D0J", "causal": "01JD8Z2X4Q7V3N5K9M2B6C8D0K"}
]}))]
pub struct BatchBody {
    /// 1 to 100 operations, applied in order, each on its own.
    #[schema(value_type = Vec<BatchOperation>, min_items = 1, max_items = 100)]
    operations: Vec<Value>,
}

/// Why an operation was not applied.
#[derive(Serialize, ToSchema)]
#[schema(as = RecordBatchError)]
pub struct BatchError {
    /// The status the same request alone would have had.
    status: u16,
    error_code: String,
    message: String,
}

/// What became of an operation: `applied` (with the record), `duplicate` (applied
/// before: the result then), `conflict` (stale causal token: the current record),
/// `rejected` (with the error).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = RecordBatchVerdict)]
pub enum BatchVerdict {
    Applied,
    Duplicate,
    Conflict,
    Rejected,
}

/// What became of one operation, in the order sent.
#[derive(Serialize, ToSchema)]
#[schema(as = RecordBatchResult)]
pub struct BatchResult {
    op_id: String,
    verdict: BatchVerdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<BatchError>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = RecordBatchResults)]
pub struct BatchResults {
    results: Vec<BatchResult>,
}

type StoreErrorOr = Result<uploads::Action, relinx_ddb::StoreError>;

/// One operation's JSON as the domain's operation; what does not parse is its error.
fn parse_operation(index: usize, raw: Value) -> uploads::Operation {
    let op_id = raw
        .get("op_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match serde_json::from_value::<BatchOperation>(raw) {
        Err(err) => uploads::Operation {
            op_id,
            action: Err(relinx_ddb::StoreError::Invalid(ValidationError::new(
                format!("operations[{index}]"),
                err.to_string(),
            ))),
        },
        Ok(op) => uploads::Operation {
            op_id: op.op_id().to_owned(),
            action: action_of(op),
        },
    }
}

impl BatchOperation {
    fn op_id(&self) -> &str {
        match self {
            Self::Create { op_id, .. } | Self::Patch { op_id, .. } | Self::Delete { op_id, .. } => {
                op_id
            }
        }
    }
}

fn action_of(op: BatchOperation) -> StoreErrorOr {
    // A malformed id names no record: the record's 404, as on its own route.
    let record = |id: &str| RecordId::parse(id).ok_or(relinx_ddb::StoreError::NotFound("record"));
    match op {
        BatchOperation::Create { body, .. } => Ok(uploads::Action::Create(body.into_new()?)),
        BatchOperation::Patch {
            id, causal, body, ..
        } => {
            let (patch, body_causal) = body.into_patch()?;
            Ok(uploads::Action::Edit(RecordEdit {
                id: record(&id)?,
                causal: causal.or(body_causal),
                change: Edit::Patch(patch),
            }))
        }
        BatchOperation::Delete { id, causal, .. } => Ok(uploads::Action::Edit(RecordEdit {
            id: record(&id)?,
            causal,
            change: Edit::Delete,
        })),
    }
}

fn error_of(err: relinx_ddb::StoreError) -> (BatchError, Option<Value>) {
    let api = ApiError::from(err);
    (
        BatchError {
            status: api.status.as_u16(),
            error_code: api.code,
            message: api.message,
        },
        api.current.map(|c| *c),
    )
}

#[utoipa::path(post, path = "/v1/records/batch", tag = "records", request_body = BatchBody, responses((status = 200, description = "One verdict per operation, in the order sent", body = BatchResults)))]
pub async fn batch(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(body): JsonBody<BatchBody>,
) -> Result<Json<BatchResults>, ApiError> {
    let operations = body
        .operations
        .into_iter()
        .enumerate()
        .map(|(i, raw)| parse_operation(i, raw))
        .collect();
    let verdicts = uploads::apply(&platform.store, &ctx, &ws, operations).await?;
    let results = verdicts
        .into_iter()
        .map(|(op_id, verdict)| match verdict {
            uploads::Verdict::Applied(record) => BatchResult {
                op_id,
                verdict: BatchVerdict::Applied,
                record: Some(record.to_json()),
                error: None,
            },
            uploads::Verdict::Duplicate(record) => BatchResult {
                op_id,
                verdict: BatchVerdict::Duplicate,
                record: Some(record.to_json()),
                error: None,
            },
            uploads::Verdict::Conflict(err) => {
                let (error, current) = error_of(err);
                BatchResult {
                    op_id,
                    verdict: BatchVerdict::Conflict,
                    record: current,
                    error: Some(error),
                }
            }
            uploads::Verdict::Rejected(err) => BatchResult {
                op_id,
                verdict: BatchVerdict::Rejected,
                record: None,
                error: Some(error_of(err).0),
            },
        })
        .collect();
    Ok(Json(BatchResults { results }))
}
