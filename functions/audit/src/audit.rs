//! `GET /v1/audit`: the event log, newest first.

use axum::extract::State;
use relinx_audit::{AuditQuery, Since};
use relinx_http::openapi::CursorPage;
use relinx_http::respond::CursorList;
use relinx_http::{ApiError, Caller, Platform, QueryParams};
use relinx_model::{Event, EventName};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries of this actor (`usr_…`, `sa_…`).
    actor: Option<String>,
    /// Only entries of this event (`record.created`).
    action: Option<String>,
    /// Only entries about this resource: its id (`rec_…`) or its type (`record`).
    resource: Option<String>,
    /// Only entries after this entry id (`evt_…`), or at or after this RFC 3339 time.
    since: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i32>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams), responses((status = 200, description = "The org's audit log, newest first (a workspace-scoped caller: its workspace's entries)", body = CursorPage<Event>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<AuditParams>,
) -> Result<CursorList<Event>, ApiError> {
    let limit = match params.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::bad_request(
                "VALIDATION_FAILED",
                "limit: must be between 1 and 200",
            ));
        }
    };
    let action = params
        .action
        .as_deref()
        .map(|raw| {
            EventName::parse(raw).ok_or_else(|| {
                ApiError::bad_request(
                    "VALIDATION_FAILED",
                    format!("action: {raw:?} is not an event name (e.g. record.created)"),
                )
            })
        })
        .transpose()?;
    let since = params
        .since
        .as_deref()
        .map(|raw| Since::parse("since", raw))
        .transpose()?;
    let query = AuditQuery {
        actor: params.actor,
        action,
        resource: params.resource,
        since,
    };
    let page = relinx_audit::list(
        &platform.store,
        &caller.ctx,
        &query,
        params.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(CursorList {
        data: page.entries,
        next_cursor: page.next_cursor,
    })
}
