//! The `audit` endpoint group: the org's append-only event log (`GET /v1/audit`,
//! seed 002 "Audit").

mod audit;

use axum::Router;
use relinx_http::{Platform, Routes, guarded, routes};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// `audit:read`.
pub fn routes() -> Routes {
    let audit_routes = Routes::new()
        .routes(routes!(audit::list))
        .routes(routes!(audit::stream));
    guarded(Resource::Audit, audit_routes)
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
