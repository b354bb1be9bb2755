//! `/v1/webhooks`: endpoints, their subscriptions, their secrets.

use axum::Json;
use axum::extract::State;
use relinx_http::openapi::{CursorPage, Deleted};
use relinx_http::respond::{Created, CursorList, CursorParams, idempotent};
use relinx_http::{ApiError, Caller, IdPath, JsonBody, Platform, QueryParams};
use relinx_model::{Patch, WebhookId, WorkspaceId};
use relinx_webhooks::endpoints;
use relinx_webhooks::event_types::EventType;
use relinx_webhooks::{NewWebhook, TargetPolicy, Webhook, WebhookPatch};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookCreate, example = json!({"url": "https://hooks.org.io/relaysync", "events": ["record.synced", "record.conflict"]}))]
pub struct CreateBody {
    /// An http or https URL on a public address.
    url: String,
    /// Event names (e.g. `record.synced`), or `["*"]` for every event.
    events: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    /// Only this workspace's events (a workspace-scoped key's endpoint always is).
    #[serde(default)]
    workspace_id: Option<WorkspaceId>,
    /// `false`: not the events of rows a pipeline run imports (`contact.saved`, …,
    /// whose `request_id` is the run's id), only the run's `pipeline.completed` or
    /// `pipeline.failed`. Default `true`.
    #[serde(default)]
    pipeline_rows: Option<bool>,
}

/// Only fields present change; `"description": null` clears it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookUpdate)]
pub struct UpdateBody {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    description: Patch<String>,
    #[serde(default)]
    enabled: Option<bool>,
    /// Whether it gets the events of rows pipeline runs import.
    #[serde(default)]
    pipeline_rows: Option<bool>,
}

/// An endpoint with its signing secret: shown in this answer only.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookWithSecret)]
pub struct WithSecret {
    #[serde(flatten)]
    webhook: Webhook,
    /// `whsec_…`: verify our `webhook-signature` with it (Standard Webhooks). Shown once.
    secret: String,
}

fn policy(platform: &Platform) -> TargetPolicy {
    TargetPolicy {
        allow_private: platform.settings.allow_private_targets,
    }
}

#[utoipa::path(get, path = "/v1/webhooks/event-types", tag = "webhooks", responses((status = 200, description = "Every event name an endpoint can subscribe to, what it means, and an example of its payload (one page: `next_cursor` is null)", body = CursorPage<EventType>)))]
pub async fn event_types(_caller: Caller) -> CursorList<EventType> {
    CursorList {
        data: relinx_webhooks::event_types::catalogue(),
        next_cursor: None,
    }
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", params(CursorParams), responses((status = 200, description = "The org's webhook endpoints (a scoped caller: its workspace's)", body = CursorPage<Webhook>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<CursorParams>,
) -> Result<CursorList<Webhook>, ApiError> {
    Ok(
        endpoints::list(&platform.store, &caller.ctx, &params.page()?)
            .await?
            .into(),
    )
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateBody, responses((status = 201, description = "The endpoint and its signing secret (shown this once)", body = WithSecret)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Created<WithSecret>, ApiError> {
    let new = NewWebhook::new(body.url, body.events, body.description, body.workspace_id)?
        .with_pipeline_rows(body.pipeline_rows.unwrap_or(true));
    idempotent(
        |(webhook, secret)| Created(WithSecret { webhook, secret }),
        endpoints::create(&platform.store, &caller.ctx, policy(&platform), new),
    )
    .await
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The endpoint id, `wh_…`")), responses((status = 200, description = "The endpoint", body = Webhook)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WebhookId>,
) -> Result<Json<Webhook>, ApiError> {
    Ok(Json(
        endpoints::get(&platform.store, &caller.ctx, &id).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The endpoint id, `wh_…`")), request_body = UpdateBody, responses((status = 200, description = "The endpoint after the change", body = Webhook)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WebhookId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Webhook>, ApiError> {
    let patch = WebhookPatch {
        url: body.url,
        events: body.events,
        description: body.description,
        enabled: body.enabled,
        pipeline_rows: body.pipeline_rows,
    };
    let webhook =
        endpoints::update(&platform.store, &caller.ctx, policy(&platform), &id, patch).await?;
    Ok(Json(webhook))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The endpoint id, `wh_…`")), responses((status = 200, description = "Deleted; its events stay in the log", body = Deleted)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WebhookId>,
) -> Result<Json<Deleted>, ApiError> {
    endpoints::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Json(Deleted {
        id: id.to_string(),
        deleted: true,
    }))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path, description = "The endpoint id, `wh_…`")), responses((status = 200, description = "The endpoint and its new secret (shown this once); the old one keeps signing for 24 h", body = WithSecret)))]
pub async fn rotate_secret(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WebhookId>,
) -> Result<Json<WithSecret>, ApiError> {
    let (webhook, secret) = endpoints::rotate_secret(&platform.store, &caller.ctx, &id).await?;
    Ok(Json(WithSecret { webhook, secret }))
}

/// The answer to a test request.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookTestSent)]
pub struct TestSent {
    /// The `webhook.test` event; its delivery shows in `/deliveries` and `/v1/sync/queue`.
    event_id: relinx_model::EventId,
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path, description = "The endpoint id, `wh_…`")), responses((status = 202, description = "A `webhook.test` event is on its way to this endpoint only", body = TestSent)))]
pub async fn test(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WebhookId>,
) -> Result<(axum::http::StatusCode, Json<TestSent>), ApiError> {
    let event_id = endpoints::send_test(&platform.store, &caller.ctx, &id).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(TestSent { event_id }),
    ))
}

/// An endpoint's attempts.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookDeliveries)]
pub struct Deliveries {
    data: Vec<relinx_webhooks::delivery::Attempt>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i32>,
}

#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path, description = "The endpoint id, `wh_…`"), DeliveriesParams), responses((status = 200, description = "Every attempt to this endpoint, newest first: time, status code, latency, the first 1 KB of the answer, the error", body = Deliveries)))]
pub async fn deliveries(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WebhookId>,
    QueryParams(params): QueryParams<DeliveriesParams>,
) -> Result<Json<Deliveries>, ApiError> {
    let limit = relinx_http::respond::page_limit(params.limit)?;
    let data =
        relinx_webhooks::delivery::deliveries(&platform.store, &caller.ctx, &id, limit).await?;
    Ok(Json(Deliveries { data }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookRecover, example = json!({"since": "2026-11-20T00:00:00Z"}))]
pub struct RecoverBody {
    /// Events since this time (RFC 3339) whose deliveries to this endpoint were
    /// skipped (it was disabled) or died are sent again.
    #[schema(value_type = String, format = DateTime)]
    since: relinx_model::Timestamp,
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/recover", tag = "webhooks", params(("id" = String, Path, description = "The endpoint id, `wh_…`")), request_body = RecoverBody, responses((status = 202, description = "Every skipped or dead delivery since `since` is due again, once", body = relinx_webhooks::jobs::Recovered)))]
pub async fn recover(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<WebhookId>,
    JsonBody(body): JsonBody<RecoverBody>,
) -> Result<
    (
        axum::http::StatusCode,
        Json<relinx_webhooks::jobs::Recovered>,
    ),
    ApiError,
> {
    let recovered =
        relinx_webhooks::jobs::recover(&platform.store, &caller.ctx, &id, body.since).await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(recovered)))
}
