//! The `sync` endpoint group (seed 002): RelaySync's sync policies (`/v1/policies`)
//! and the outbound delivery queue (`/v1/sync/queue`, `/v1/sync/retry/{job}`).

mod policies;
mod queue;

use axum::Router;
use relinx_http::routes;
use relinx_http::{Platform, Routes, guarded};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// `policies:read` / `policies:write`.
pub fn routes() -> Routes {
    let policy_routes = Routes::new()
        .routes(routes!(policies::list, policies::save))
        .routes(routes!(policies::delete));
    // The queue is webhook deliveries: webhooks:read to see it, webhooks:write to retry.
    let queue_routes = Routes::new()
        .routes(routes!(queue::queue))
        .routes(routes!(queue::retry));
    guarded(Resource::Policies, policy_routes).merge(guarded(Resource::Webhooks, queue_routes))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
