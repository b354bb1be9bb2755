//! The `links` endpoint group: Relink's `/api/v1/smartlink` (seed 001), smartlinks
//! and their settings. The public short links themselves are the `redirect`
//! function's, on the links host.

mod qr;
mod smartlinks;

use axum::Router;
use relinx_http::{Platform, Routes, guarded, routes};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// `links:read` / `links:write`.
pub fn routes() -> Routes {
    let link_routes = Routes::new()
        .routes(routes!(smartlinks::analytics))
        .routes(routes!(smartlinks::qr))
        .routes(routes!(
            smartlinks::get,
            smartlinks::create,
            smartlinks::update,
            smartlinks::delete
        ));
    guarded(Resource::Links, link_routes)
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
