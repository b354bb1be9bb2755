//! The HTTP kit every function shares: the middleware stack (request id, logs,
//! authentication, workspace resolution, rate limits, idempotency), extractors that
//! turn bad input into a 400 naming the field, and each surface's envelopes from one
//! error type.

pub mod auth;
pub mod client;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod respond;
pub mod settings;
pub mod surface;
pub mod telemetry;

pub use error::ApiError;
pub use extract::{Caller, CurrentWorkspace, JsonBody, PathParam, PublicUrl, QueryParams};
pub use settings::{Platform, Settings};
pub use surface::Surface;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;

/// A function's route table: routes registered with their OpenAPI operations
/// (`utoipa_axum::routes!`), so nothing is routed undocumented.
pub type Routes = utoipa_axum::router::OpenApiRouter<Arc<Platform>>;

/// Largest request body accepted (API.md: larger → 400).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Guards a group of routes about `resource`: reads need `<resource>:read`,
/// everything else `<resource>:write`, checked before the request is parsed, and
/// only then `Idempotency-Key` (so a caller without the permission can neither
/// replay nor reserve a key). A function's route table is a list of such groups.
pub fn guarded(resource: relinx_model::Resource, routes: Routes) -> Routes {
    // The last layer added runs first.
    routes
        .route_layer(axum::middleware::from_fn(middleware::idempotency))
        .route_layer(axum::middleware::from_fn_with_state(
            resource,
            middleware::require_permission,
        ))
}

/// Wraps a function's routes in the platform's middleware and fallback. Every
/// function calls this once; the dev server calls it once over all routes merged.
/// (The routes' OpenAPI operations are dropped here: the document is served whole,
/// from `docs/openapi.json`.)
pub fn serve(routes: Routes, platform: Arc<Platform>) -> Router {
    let (routes, _document) = routes.split_for_parts();
    routes
        .fallback(middleware::unknown_route)
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::resolve_workspace,
        ))
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::authenticate,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::front,
        ))
        .with_state(platform)
}
