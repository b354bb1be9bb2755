//! `POST /api/analytics/query`: one query over an entity of the workspace.

use axum::extract::State;
use relinx_http::openapi::{DataEnvelope, DatalinxError};
use relinx_http::respond::Data;
use relinx_http::{ApiError, InWorkspace, JsonBody, Platform};
use relinx_insights::{QueryResult, QuerySpec, analytics};
use std::sync::Arc;

#[utoipa::path(post, path = "/api/analytics/query", tag = "analytics", request_body = QuerySpec,
    description = "Reads by Query, never a Scan, and stops at the read budget (RELINX_QUERY_READ_BUDGET, default 100,000 items) with a 422 asking for a narrower range. `where` and the expressions in `group_by` and the metrics are the expression language of sync policies and mappings. Fields by entity — contacts: id, dt_created, dt_modified and the `contact` schema's fields (custom fields included: GET /api/schemas/contact); records: id, workspace_id, title, type, site, status, queue, priority, causal, created_at, updated_at, data.*; activities: id, activity_type, label, calendar_id, all_day, dt_created, dt_modified, dt_start, dt_end, rrule, status, author, users, contacts, subject, body; clicks (one row a link and day, from its counters): link_id, link_name, day, clicks, qr_code_scans, fall_backs, bots; events (the audit log of the workspace): id, event, workspace, timestamp, request_id, actor.*, resource.*, data.*; dataset:<name>: its columns. A range is over contacts' dt_created, records' created_at, activities' dt_start, clicks' day, events' timestamp (key conditions for records, clicks and events), or the column range.field names.",
    responses(
        (status = 200, description = "The groups and their metrics", body = DataEnvelope<QueryResult>),
        (status = 422, description = "A part of the query that cannot run (named, with the position in an expression), or a query past the read budget", body = DatalinxError)))]
pub async fn query(
    State(platform): State<Arc<Platform>>,
    InWorkspace { ctx, ws }: InWorkspace,
    JsonBody(spec): JsonBody<QuerySpec>,
) -> Result<Data<QueryResult>, ApiError> {
    Ok(Data::ok(
        analytics::query(&platform.store, &ctx, &ws, &spec).await?,
    ))
}
