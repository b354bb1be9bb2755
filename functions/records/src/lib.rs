//! The `records` endpoint group: RelaySync's `/v1/records` (seed 002) and the
//! change feed offline clients replicate from.

mod records;

use axum::Router;
use relinx_http::routes;
use relinx_http::{Platform, Routes, guarded};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// `records:read` / `records:write`.
pub fn routes() -> Routes {
    let record_routes = Routes::new()
        .routes(routes!(records::list, records::create))
        .routes(routes!(records::changes))
        .routes(routes!(records::batch))
        .routes(routes!(records::get, records::update, records::delete));
    guarded(Resource::Records, record_routes)
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
