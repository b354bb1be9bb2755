//! The `webhooks` endpoint group: `/v1/webhooks` (seed 002 "Webhooks"), the
//! endpoints events are delivered to, with their subscriptions and secrets.

mod webhooks;

use axum::Router;
use relinx_http::{Platform, Routes, guarded, routes};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// `webhooks:read` / `webhooks:write`.
pub fn routes() -> Routes {
    let webhook_routes = Routes::new()
        .routes(routes!(webhooks::event_types))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::recover))
        .routes(routes!(webhooks::deliveries));
    guarded(Resource::Webhooks, webhook_routes)
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
