//! The middleware stack, outermost first: [`front`] (request id, envelope for bare
//! errors, the request log line), [`authenticate`] (credentials → the caller's
//! `Context`), [`rate_limit`] (every authenticated request counts, found or not),
//! [`resolve_workspace`] (the workspace headers); then, per guarded route group,
//! [`require_permission`] and [`idempotency`], in that order.

use crate::auth;
use crate::error::{Rendered, render};
use crate::extract::ResolvedWorkspace;
use crate::{ApiError, BodyLimit, MAX_BODY_BYTES, Platform, Surface};
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use relinx_ddb::{idempotency as idem, ratelimit};
use relinx_identity::orgs::{self, OrgRecord};
use relinx_identity::workspaces;
use relinx_model::{Context, OrgId, Permission, Resource, Timestamp};
use sha2::Digest;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

use crate::request::REQUEST;
pub use crate::request::{RequestInfo, current_request};

/// The org a response was served for, for the log line.
#[derive(Debug, Clone)]
struct OrgTag(OrgId);

pub const REQUEST_ID: &str = "x-request-id";

pub async fn front(State(platform): State<Arc<Platform>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let surface = Surface::of(req.uri().path());
    let request_id = format!("req_{}", ulid::Ulid::new());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        route = %route,
        ddb_calls = tracing::field::Empty,
        ddb_ms = tracing::field::Empty,
    );
    let info = RequestInfo {
        surface,
        request_id: request_id.clone(),
    };
    // For the per-route layers, which are built without the platform.
    let mut req = req;
    req.extensions_mut().insert(platform.clone());
    let (mut response, ddb) = relinx_ddb::metrics::measure(REQUEST.scope(info, next.run(req)))
        .instrument(span.clone())
        .await;
    span.record("ddb_calls", ddb.calls);
    span.record("ddb_ms", ddb.waiting_ms());

    let status = response.status();
    if (status.is_client_error() || status.is_server_error())
        && response.extensions().get::<Rendered>().is_none()
    {
        // A layer answered with a bare status: give it the surface's envelope.
        let err = ApiError::for_status(status);
        let body = render(&err, surface, &request_id);
        let headers = std::mem::take(response.headers_mut());
        response = (err.status, axum::Json(body)).into_response();
        for (name, value) in headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if platform.settings.server_timing {
        let timing = format!(
            "ddb;dur={:.3};desc=\"calls={}\", rl;desc=\"leases={}\", app;dur={:.3}",
            ddb.waiting_ms(),
            ddb.calls,
            ddb.leases,
            latency_ms
        );
        if let Ok(value) = HeaderValue::from_str(&timing) {
            response.headers_mut().insert("server-timing", value);
        }
    }
    let org = response
        .extensions()
        .get::<OrgTag>()
        .map(|t| t.0.to_string())
        .unwrap_or_default();
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms,
        ddb_calls = ddb.calls,
        ddb_ms = ddb.waiting_ms(),
        org = %org,
        "request"
    );
    response
}

/// Refuses a request whose caller lacks `<resource>:read` (GET, HEAD) or
/// `<resource>:write` (anything else), before its body is even read: a function's
/// route table says which resource each route is about (see [`crate::requires`]).
pub async fn require_permission(
    State(resource): State<Resource>,
    req: Request,
    next: Next,
) -> Response {
    let Some(ctx) = req.extensions().get::<Context>() else {
        return ApiError::unauthorized().into_response();
    };
    let permission = if matches!(*req.method(), Method::GET | Method::HEAD) {
        Permission::read(resource)
    } else {
        Permission::write(resource)
    };
    if !ctx.can(permission) {
        return not_allowed(permission);
    }
    next.run(req).await
}

fn not_allowed(permission: Permission) -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        relinx_model::ErrorCode::Forbidden,
        format!("your role does not allow {permission}"),
    )
    .into_response()
}

/// `require_permission` for routes that read whatever their method.
pub async fn require_read(State(resource): State<Resource>, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<Context>() else {
        return ApiError::unauthorized().into_response();
    };
    let permission = Permission::read(resource);
    if !ctx.can(permission) {
        return not_allowed(permission);
    }
    next.run(req).await
}

/// Routes nobody serves: the surface's 404.
pub async fn unknown_route() -> ApiError {
    ApiError::for_status(StatusCode::NOT_FOUND)
}

/// Verifies credentials when present. Routes that need a caller ask for one with the
/// `Caller` extractor, which is a 401 without.
pub async fn authenticate(
    State(platform): State<Arc<Platform>>,
    mut req: Request,
    next: Next,
) -> Response {
    let presented = match auth::presented(req.headers()) {
        Ok(Some(presented)) => presented,
        Ok(None) => return next.run(req).await,
        Err(_) => return ApiError::unauthorized().into_response(),
    };
    let ctx = match auth::verify(&platform, presented).await {
        Ok(ctx) => ctx.with_request_id(current_request().map(|r| r.request_id)),
        Err(err) => return err.into_response(),
    };
    // The org (cached) says whether this actor is disabled or its token revoked; the
    // rate limiter reuses it.
    let org_record = match orgs::get(&platform.store, &ctx.org_id).await {
        Ok(org) => org,
        Err(relinx_ddb::StoreError::NotFound(_)) => {
            return ApiError::unauthorized().into_response();
        }
        Err(err) => return ApiError::from(err).into_response(),
    };
    if !org_record.accepts(&ctx.actor.id, ctx.issued_at()) {
        return ApiError::unauthorized().into_response();
    }
    let ctx =
        match relinx_identity::api_keys::cap_to_holder(&platform.store, &org_record, ctx).await {
            Ok(ctx) => ctx,
            Err(err) => return ApiError::from(err).into_response(),
        };
    req.extensions_mut().insert(org_record);
    let org = ctx.org_id.clone();
    req.extensions_mut().insert(ctx);
    with_org(next.run(req).await, org)
}

/// Resolves the `workspaceId` / `X-Workspace` headers of an authenticated request
/// (after the rate limit has counted it: a header naming nothing still costs its
/// request). A header naming a workspace that is not the caller's is a 404.
pub async fn resolve_workspace(
    State(platform): State<Arc<Platform>>,
    mut req: Request,
    next: Next,
) -> Response {
    let (header_id, header_name) = (
        header_text(&req, "workspaceid"),
        header_text(&req, "x-workspace"),
    );
    if header_id.is_none() && header_name.is_none() {
        return next.run(req).await;
    }
    let Some(ctx) = req.extensions().get::<Context>() else {
        return next.run(req).await;
    };
    match workspaces::resolve(
        &platform.store,
        ctx,
        header_id.as_deref(),
        header_name.as_deref(),
    )
    .await
    {
        Ok(ws) => {
            req.extensions_mut().insert(ResolvedWorkspace(ws));
            next.run(req).await
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// A header's value; one that is not text becomes a value no workspace matches.
fn header_text(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("\u{0}").to_owned())
}

fn with_org(mut response: Response, org: OrgId) -> Response {
    response.extensions_mut().insert(OrgTag(org));
    response
}

/// Counts the request against its org's limit (`relinx_ddb::ratelimit`: almost always
/// a local decision on tokens this instance leased). Reads run alongside it (a read
/// refused afterwards has changed nothing); writes wait for the verdict, which costs
/// them a round trip only when the instance must lease (its first request of a
/// second for the org, and a few more in a busy second).
pub async fn rate_limit(
    State(platform): State<Arc<Platform>>,
    req: Request,
    next: Next,
) -> Response {
    // Set by `authenticate`, which loaded it (cached) to vet the caller.
    let Some(org) = req.extensions().get::<Arc<OrgRecord>>().cloned() else {
        return next.run(req).await;
    };
    let org_id = org.id.clone();
    let limits = org.limits();
    let now = Timestamp::now();
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    let local = ratelimit::decide_locally(&platform.store, &org_id, &limits, now);
    let (decision, pending) = match local {
        // Decided from this instance's tokens: a refused request does no work at all.
        Some(decision) => (Ok(decision), Pending::Waiting(req, next)),
        None if safe => {
            let (decision, response) = tokio::join!(
                ratelimit::hit(&platform.store, &org_id, &limits, now),
                next.run(req)
            );
            (decision, Pending::Served(response))
        }
        None => (
            ratelimit::hit(&platform.store, &org_id, &limits, now).await,
            Pending::Waiting(req, next),
        ),
    };
    let decision = match decision {
        Ok(decision) => decision,
        Err(err) => {
            // Counting failed: serve the request rather than fail it on bookkeeping.
            tracing::warn!(error = %err, "rate limit not counted");
            return pending.finish().await;
        }
    };
    let mut response = match decision.retry_after {
        Some(retry_after) => {
            let message = if decision.burst_spent {
                format!(
                    "your organization's burst of {} requests in one second is used up ({} of its {} a minute remain); retry in {retry_after} s",
                    limits.burst, decision.remaining, limits.rate_per_minute
                )
            } else {
                format!(
                    "your organization's rate limit of {} requests per minute is used up; retry in {retry_after} s",
                    limits.rate_per_minute
                )
            };
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                relinx_model::ErrorCode::RateLimited,
                message,
            );
            err.retry_after = Some(retry_after);
            err.into_response()
        }
        None => pending.finish().await,
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", decision.limit.to_string()),
        ("x-ratelimit-remaining", decision.remaining.to_string()),
        ("x-ratelimit-reset", decision.reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// A request either already served (reads) or waiting for the limiter's verdict.
enum Pending {
    Served(Response),
    Waiting(Request, Next),
}

impl Pending {
    async fn finish(self) -> Response {
        match self {
            Pending::Served(response) => response,
            Pending::Waiting(req, next) => next.run(req).await,
        }
    }
}

/// `Idempotency-Key` on an authenticated POST (API.md "Idempotency"), after the
/// route's permission check. A record belongs to the credential that made it (its
/// key and its fingerprint both name it), holds only what the handler answered
/// (never a 401, 403 or 429, nor a 5xx), and is stored sealed.
pub async fn idempotency(req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw_key) = req.headers().get("idempotency-key") else {
        return next.run(req).await;
    };
    let (Some(platform), Some(ctx)) = (
        req.extensions().get::<Arc<Platform>>().cloned(),
        req.extensions().get::<Context>().cloned(),
    ) else {
        return next.run(req).await;
    };
    let idem_key = match raw_key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.chars().count() <= idem::MAX_KEY_CHARS => k.to_owned(),
        _ => {
            return ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                format!(
                    "Idempotency-Key: must be 1 to {} visible ASCII characters",
                    idem::MAX_KEY_CHARS
                ),
            )
            .into_response();
        }
    };
    let limit = req.extensions().get::<crate::BodyLimit>().copied();
    let (parts, body) = req.into_parts();
    let Ok(bytes) =
        axum::body::to_bytes(body, limit.map_or(MAX_BODY_BYTES, |BodyLimit(b)| b)).await
    else {
        return crate::extract::body_too_large(limit).into_response();
    };
    let caller = ctx.credential_ref();
    let fingerprint = {
        let mut hasher = sha2::Sha256::new();
        for part in [
            caller.as_bytes(),
            parts.method.as_str().as_bytes(),
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or_default()
                .as_bytes(),
        ] {
            hasher.update(part);
            hasher.update(b"\n");
        }
        hasher.update(&bytes);
        hex(&hasher.finalize())
    };
    let store = &platform.store;
    let record = idem::RecordKey {
        org: &ctx.org_id,
        caller: &caller,
        key: &idem_key,
    };
    let token = idem::new_token();
    let lock = platform.settings.idempotency_lock;
    let begin =
        match idem::begin(store, &record, &fingerprint, &token, lock, Timestamp::now()).await {
            Ok(begin) => begin,
            Err(err) => return ApiError::from(err).into_response(),
        };
    match begin {
        idem::Begin::Proceed => {}
        idem::Begin::Replay(stored) => return replay(stored),
        idem::Begin::Mismatch => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                relinx_model::ErrorCode::IdempotencyKeyReused,
                "Idempotency-Key was already used with a different request; send a new key for a new request",
            )
            .into_response();
        }
        idem::Begin::InFlight => {
            return ApiError::new(
                StatusCode::CONFLICT,
                relinx_model::ErrorCode::IdempotencyKeyInFlight,
                "a request with this Idempotency-Key is still being processed; retry shortly",
            )
            .into_response();
        }
    }
    // Within the key's scope, the transaction that makes the change also completes
    // the record (`Tx::answer`), so the change and its stored answer are one commit.
    let response = idem::Scope::new(&record, token.clone())
        .run(next.run(Request::from_parts(parts, Body::from(bytes))))
        .await;
    let status = response.status();
    if status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        )
    {
        // Not an outcome to replay: a retry (with more rights, or later) runs afresh.
        if let Err(err) = idem::abandon(store, &record, &token).await {
            tracing::warn!(error = %err, "idempotency key not released");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::internal().into_response();
    };
    let stored = idem::StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    if let Err(err) = idem::complete(store, &record, &token, &stored).await {
        tracing::error!(error = %err, "idempotent response not stored");
    }
    Response::from_parts(parts, Body::from(body))
}

fn replay(stored: idem::StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    if let Some(ct) = stored
        .content_type
        .and_then(|ct| HeaderValue::from_str(&ct).ok())
    {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response.extensions_mut().insert(Rendered);
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
