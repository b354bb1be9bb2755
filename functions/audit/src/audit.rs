//! `GET /v1/audit`: the event log, newest first.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use relinx_audit::{AuditQuery, Since, StreamPosition};
use relinx_http::openapi::CursorPage;
use relinx_http::respond::CursorList;
use relinx_http::{ApiError, Caller, Platform, QueryParams};
use relinx_model::{Event, EventId, EventName};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
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
    let limit = relinx_http::respond::page_limit(params.limit)?;
    let action = params
        .action
        .as_deref()
        .map(|raw| {
            EventName::parse(raw).ok_or_else(|| {
                ApiError::bad_request(
                    relinx_model::ErrorCode::ValidationFailed,
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

/// How often a live stream looks for new entries.
const POLL: Duration = Duration::from_millis(400);
/// How old an entry must be before a stream sends it (see `stream_page`).
const SETTLE: Duration = Duration::from_millis(1000);
/// The comment sent on an idle stream so proxies keep it open.
const HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Start after this entry id (`evt_…`) or at this RFC 3339 time; without it (and
    /// without `Last-Event-ID`) the stream shows only what comes next.
    since: Option<String>,
    /// End the stream after this many seconds (at most the server's own limit,
    /// `RELINX_AUDIT_STREAM_SECONDS`, default 300): a script or a test reads what
    /// there is and is done.
    #[param(minimum = 1, example = 2)]
    max_seconds: Option<u64>,
}

struct Live {
    platform: Arc<Platform>,
    ctx: relinx_model::Context,
    position: StreamPosition,
    pending: std::collections::VecDeque<Event>,
    deadline: tokio::time::Instant,
}

#[utoipa::path(get, path = "/v1/audit/stream", tag = "audit", params(StreamParams, ("Last-Event-ID" = Option<String>, Header, description = "Continue after this entry id (what a reconnecting EventSource sends)")), responses((status = 200, description = "Server-Sent Events: each entry as `id: <entry id>`, `event: <name>`, `data: <entry JSON>`, oldest first, then new entries as they commit (about a second after); a `: heartbeat` comment every 15 s; the stream ends after its maximum life and the client reconnects with Last-Event-ID", content_type = "text/event-stream", body = String)))]
pub async fn stream(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    headers: HeaderMap,
    QueryParams(params): QueryParams<StreamParams>,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    caller
        .ctx
        .require(relinx_model::Permission::read(
            relinx_model::Resource::Audit,
        ))
        .map_err(relinx_ddb::StoreError::from)?;
    let last_event = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let position = match last_event {
        Some(raw) => StreamPosition::after(&EventId::parse(raw).ok_or_else(|| {
            ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                "Last-Event-ID: must be an audit entry id (evt_…) this stream sent",
            )
        })?),
        None => {
            let since = params
                .since
                .as_deref()
                .map(|raw| Since::parse("since", raw))
                .transpose()?;
            StreamPosition::start(since.as_ref())
        }
    };
    let limit = platform.settings.audit_stream.as_secs();
    let seconds = match params.max_seconds {
        None => limit,
        Some(s) if (1..=limit).contains(&s) => s,
        Some(_) => {
            return Err(ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                format!("max_seconds: must be between 1 and {limit}"),
            ));
        }
    };
    let live = Live {
        platform,
        ctx: caller.ctx,
        position,
        pending: std::collections::VecDeque::new(),
        deadline: tokio::time::Instant::now() + Duration::from_secs(seconds),
    };
    let events = futures::stream::unfold(live, |mut live| async move {
        loop {
            if let Some(entry) = live.pending.pop_front() {
                return Some((Ok(sse_event(&entry)), live));
            }
            if tokio::time::Instant::now() >= live.deadline {
                return None;
            }
            let page = relinx_audit::stream_page(
                &live.platform.store,
                &live.ctx,
                &mut live.position,
                SETTLE,
                100,
            )
            .await;
            match page {
                Ok(entries) if entries.is_empty() => {
                    tokio::time::sleep_until(
                        (tokio::time::Instant::now() + POLL).min(live.deadline),
                    )
                    .await;
                }
                Ok(entries) => live.pending.extend(entries),
                Err(err) => {
                    // The client reconnects with Last-Event-ID and loses nothing.
                    tracing::warn!(error = %err, "audit stream ended early");
                    return None;
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}

fn sse_event(entry: &Event) -> SseEvent {
    let data = serde_json::to_string(entry).unwrap_or_default();
    SseEvent::default()
        .id(entry.id.to_string())
        .event(entry.event.as_str())
        .data(data)
}
