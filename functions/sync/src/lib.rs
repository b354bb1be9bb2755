//! The `sync` endpoint group: RelaySync's sync policies (`/v1/policies`, seed 002).
//! The outbound delivery queue (`/v1/sync/queue`, `/v1/sync/retry/{job}`) joins
//! it with the event pipeline.

mod policies;

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
    guarded(Resource::Policies, policy_routes)
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
